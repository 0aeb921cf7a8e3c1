"""The transition system to Z3: state copies per step, transitions, properties, traces.

One copy of every state location per step.  Step ``k -> k+1`` chooses exactly one
action instance (an action with values for its enumerated parameters) or a stutter
step, through a selector; the chosen instance's guard (and any ``assume`` in its body)
must hold, and every location of step ``k+1`` is an ``if-then-else`` chain over the
instances that assign it, defaulting to its value at step ``k`` (the frame condition).
Chosen parameters are fresh variables per step and action.

Action bodies are executed symbolically over concrete instances: enumerated parameters
and loop variables are numbers, so most map indices are concrete and a map read is one
variable; a symbolic index (``m[ino[f]]``) becomes an ``if-then-else`` chain over the
keys.  Init uses the fixpoint semantics of :mod:`fusever.interpret`: ``x_0 == init(x_0)``.

Representation:

=============  =================================================================
BoolType       Bool
BitVecType     BitVec(width): wraps; comparisons signed only on a signed type
SortType       BitVec(ceil(log2 size)) (at least 1), ``< size`` at step 0 when needed
EnumType       BitVec(ceil(log2 members)), the member's position
IntType        Z3 Int, or (``ghost="bv"``) an exact signed bit-vector: see below
=============  =================================================================

Ghost integers as bit-vectors (``EncodeOptions.ghost``): every integer *expression* is
a signed bit-vector wide enough to hold its exact value (``a + b`` is one bit wider
than its wider operand, ``a * b`` as wide as both together), so guards and properties
compute exactly.  Only an integer *location* has a fixed width ``ghost_width``; a store
that does not fit sets the step's overflow flag (:meth:`Encoding.overflow`).  The engine
forbids overflow on every step before the current depth and checks, at each depth, that
no overflow is reachable there; if one is, it widens and starts again.  So every path of
the integer system up to the bound is a path of the bit-vector encoding with the same
values, and conversely.  This needs a ghost integer's initial value to be a constant and
no chosen parameter of type ``int`` (:func:`ghost_bv_applicable`); otherwise Z3 integers
are used.  It lets the whole problem be pure bit-vectors, for Z3's incremental
bit-blasting solver (``SolverFor("QF_BV")``).

Operator semantics live in one table, :data:`BINARY` and :data:`UNARY`, the mirror of
:mod:`fusever.interpret`'s.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, assert_never

import z3

from fusever.ts import (
    Action,
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    BoolType,
    Cast,
    EnumType,
    Expr,
    ForAll,
    If,
    IntType,
    Ite,
    Key,
    Lit,
    Local,
    Property,
    PropKind,
    Quant,
    Quantifier,
    SortType,
    StateVar,
    Step,
    Stmt,
    Trace,
    TransitionSystem,
    Type,
    Unary,
    UnOp,
    Value,
    Var,
    elements,
    instances,
    keys,
)

__all__ = [
    "BINARY",
    "UNARY",
    "Backend",
    "BitwuzlaBackend",
    "EncodeOptions",
    "Encoding",
    "EncodingBug",
    "Model",
    "Z3Backend",
    "bitwuzla_available",
    "ghost_bv_applicable",
    "new_backend",
]


class EncodingBug(Exception):
    """The encoder and the interpreter disagree: a bug in fusever, never a finding."""


MapEncoding = Literal["expand", "array"]
SelectorEncoding = Literal["binary", "onehot"]
GhostEncoding = Literal["auto", "int", "bv"]
StutterEncoding = Literal["anywhere", "tail"]
SolverKind = Literal["auto", "smt", "qf_bv", "bitwuzla"]
PorEncoding = Literal["off", "adjacent", "lex"]


@dataclass(frozen=True, slots=True)
class EncodeOptions:
    """How to encode; the defaults are the fastest measured (bench/bench.py on
    bench/seedlike.fv: 1 serialized fud, 2 openers, 2 notifications, u64 counters)."""

    # maps expanded into one variable per key, so indices stay concrete: Z3 arrays did
    # not finish depth 10 in 120 s, expanded maps take 0.5 s (Z3 QF_BV, binary selector)
    maps: MapEncoding = "expand"
    # the action instance of a step: one Bool per instance (exactly one) or a binary
    # number; one-hot measured faster: depth 30 with Bitwuzla 8.3 s against 9.9 s,
    # depth 20 with Z3 QF_BV 7.5 s against 11.1 s
    selector: SelectorEncoding = "onehot"
    # ghost ints: "auto" is "bv" when ghost_bv_applicable, else Z3 Int.  Z3 Int needs
    # Z3's SMT core: depth 10 in 4.9 s against 0.5 s as bit-vectors (10x)
    ghost: GhostEncoding = "auto"
    ghost_width: int = 16
    # "tail": once a step stutters, every later one does (no stutter between real
    # steps); "anywhere" was 3x slower at depth 16 (13.8 s against 4.5 s, Z3)
    stutter: StutterEncoding = "tail"
    # "auto": Bitwuzla when it is installed, else Z3's incremental bit-blasting solver
    # (QF_BV).  spec/fuse_v2.fv, every property, depth 24: Bitwuzla 10.9 s, Z3 QF_BV
    # 211 s; bench/seedlike.fv depth 30: 6.8 s against 11.7 s.  Both need everything
    # to be bit-vectors; with Z3 ints or arrays it is Z3's SMT solver.
    solver: SolverKind = "auto"
    # partial-order reduction (see Encoding.order).  Depth 30, Bitwuzla, one-hot:
    # off 21.1 s, adjacent 8.3 s, lex 10.1 s.  On this spec lex admits no fewer runs
    # (depth 7: 2738 runs without POR, 160 with either, for 138 final states)
    por: PorEncoding = "adjacent"


# ---- the operator table ----------------------------------------------------------

# z3 ships no type information: every term is Any to mypy; Z names what is meant.
Z: TypeAlias = Any


def _swidth(v: int) -> int:
    """Bits of the smallest two's complement representation of ``v``."""
    return (v if v >= 0 else ~v).bit_length() + 1


def _sext(a: Z, width: int) -> Z:
    n = width - a.size()
    return a if n == 0 else z3.SignExt(n, a)


def _exact(t: Type, a: Z) -> bool:
    """An ``int`` value held as an exact signed bit-vector (ghost="bv")."""
    return isinstance(t, IntType) and z3.is_bv(a)


def _align(a: Z, b: Z, width: int | None = None) -> tuple[Z, Z]:
    w = max(a.size(), b.size()) if width is None else width
    return _sext(a, w), _sext(b, w)


def _eq(t: Type, a: Z, b: Z) -> Z:
    if _exact(t, a):
        a, b = _align(a, b)
    return a == b


def _order(signed: Callable[[Z, Z], Z], unsigned: Callable[[Z, Z], Z]) -> Callable[[Type, Z, Z], Z]:
    def op(t: Type, a: Z, b: Z) -> Z:
        match t:
            case IntType():
                return signed(*_align(a, b)) if z3.is_bv(a) else signed(a, b)
            case BitVecType(signed=s):
                return signed(a, b) if s else unsigned(a, b)
            case SortType() | EnumType():
                return unsigned(a, b)
            case BoolType():
                one, zero = z3.BitVecVal(1, 1, a.ctx), z3.BitVecVal(0, 1, a.ctx)
                return unsigned(z3.If(a, one, zero), z3.If(b, one, zero))
            case _:
                assert_never(t)

    return op


def _arith(f: Callable[[Z, Z], Z], grow: Callable[[int, int], int]) -> Callable[[Type, Z, Z], Z]:
    def op(t: Type, a: Z, b: Z) -> Z:
        if _exact(t, a):
            a, b = _align(a, b, grow(a.size(), b.size()))
        return f(a, b)

    return op


def _signed(
    signed: Callable[[Z, Z], Z], unsigned: Callable[[Z, Z], Z]
) -> Callable[[Type, Z, Z], Z]:
    return lambda t, a, b: (
        signed(a, b) if isinstance(t, BitVecType) and t.signed else unsigned(a, b)
    )


def _rem(t: Type, a: Z, b: Z) -> Z:
    """Truncating division's remainder, ``a % 0 == a`` (SMT-LIB's bvurem and bvsrem)."""
    if isinstance(t, BitVecType):
        return z3.SRem(a, b) if t.signed else z3.URem(a, b)
    if z3.is_bv(a):  # an exact int: signed, and never overflows at the common width
        return z3.SRem(*_align(a, b))
    m = a % b  # Z3's int mod: 0 <= m < |b| (b != 0)
    trunc = z3.If(z3.Or(a >= 0, m == 0), m, m - z3.If(b >= 0, b, -b))
    return z3.If(b == 0, a, trunc)


# The solver terms of the operators (every other fact about them is in
# fusever/operators.py): (operand type, lhs, rhs) -> term.  Z3's ``<`` on bit-vectors is
# signed, so unsigned types use ULT/ULE/UGT/UGE.  Bit-vector arithmetic wraps; exact
# ints grow (one bit for + and -, the sum of the widths for *).
BINARY: dict[BinOp, Callable[[Type, Z, Z], Z]] = {
    BinOp.IMPLIES: lambda t, a, b: z3.Implies(a, b),
    BinOp.OR: lambda t, a, b: z3.Or(a, b),
    BinOp.AND: lambda t, a, b: z3.And(a, b),
    BinOp.EQ: _eq,
    BinOp.NE: lambda t, a, b: z3.Not(_eq(t, a, b)),
    BinOp.LT: _order(lambda a, b: a < b, z3.ULT),
    BinOp.LE: _order(lambda a, b: a <= b, z3.ULE),
    BinOp.GT: _order(lambda a, b: a > b, z3.UGT),
    BinOp.GE: _order(lambda a, b: a >= b, z3.UGE),
    BinOp.ADD: _arith(lambda a, b: a + b, lambda x, y: max(x, y) + 1),
    BinOp.SUB: _arith(lambda a, b: a - b, lambda x, y: max(x, y) + 1),
    BinOp.MUL: _arith(lambda a, b: a * b, lambda x, y: x + y),
    BinOp.MOD: _rem,
    BinOp.BAND: lambda t, a, b: a & b,
    BinOp.BOR: lambda t, a, b: a | b,
    BinOp.XOR: lambda t, a, b: a ^ b,
    BinOp.SHL: lambda t, a, b: a << b,
    BinOp.SHR: _signed(lambda a, b: a >> b, z3.LShR),
}


def _neg(t: Type, a: Z) -> Z:
    if _exact(t, a):
        a = _sext(a, a.size() + 1)
    return -a


UNARY: dict[UnOp, Callable[[Type, Z], Z]] = {
    UnOp.NOT: lambda t, a: z3.Not(a),
    UnOp.NEG: _neg,
    UnOp.BNOT: lambda t, a: ~a,
}


# ---- solvers ------------------------------------------------------------------------
#
# The engines talk to a Backend: assertions and goals are Z3 terms (the encoding is
# built once, with Z3's API), and a backend either hands them to a Z3 solver or
# translates them to Bitwuzla.  Seed and timeout are set here, in one place.

Status = Literal["sat", "unsat", "unknown"]

# What Z3 says when SIGINT reached it inside a check: it cancels the check and swallows
# the signal (Python never sees it), so an unknown with this reason is the interrupt.
INTERRUPTED = "interrupted from keyboard"


def stop_if_interrupted(reason: str) -> None:
    """Raise KeyboardInterrupt when a solver's unknown was an interrupt (SIGINT, or
    SIGTERM forwarded as SIGINT by the CLI): the run stops, never reads it as a timeout."""
    if reason == INTERRUPTED:
        raise KeyboardInterrupt


class Model:
    """A satisfying assignment: ``eval`` gives the Z3 numeral of a term."""

    def __init__(self, evaluate: Callable[[Z], Z]) -> None:
        self._evaluate = evaluate

    def eval(self, term: Z, model_completion: bool = True) -> Z:
        assert model_completion
        return self._evaluate(term)


class Backend:
    """An incremental solver: ``add`` for good, ``check`` under one assumption literal."""

    name = "?"

    def add(self, *constraints: Z) -> None:
        raise NotImplementedError

    def check(self, assumption: Z, deadline: float | None) -> tuple[Status, str]:
        """sat / unsat, or unknown with a reason ("timeout" when ``deadline`` passed)."""
        raise NotImplementedError

    def model(self) -> Model:
        raise NotImplementedError

    def statistics(self) -> tuple[tuple[str, float], ...]:
        raise NotImplementedError


class Z3Backend(Backend):
    def __init__(self, kind: Literal["smt", "qf_bv"], seed: int, ctx: z3.Context) -> None:
        self.name = f"z3-{kind}"
        self.solver = z3.SolverFor("QF_BV", ctx=ctx) if kind == "qf_bv" else z3.Solver(ctx=ctx)
        self.solver.set("random_seed", seed)

    def add(self, *constraints: Z) -> None:
        self.solver.add(*constraints)

    def check(self, assumption: Z, deadline: float | None) -> tuple[Status, str]:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "unknown", "timeout"
            self.solver.set("timeout", max(1, int(remaining * 1000)))
        r = self.solver.check(assumption)
        if r == z3.sat:
            return "sat", ""
        if r == z3.unsat:
            return "unsat", ""
        reason = str(self.solver.reason_unknown())
        stop_if_interrupted(reason)
        late = deadline is not None and time.monotonic() >= deadline
        return "unknown", "timeout" if late or reason in ("timeout", "canceled") else reason

    def model(self) -> Model:
        m = self.solver.model()
        return Model(lambda t: m.eval(t, model_completion=True))

    def statistics(self) -> tuple[tuple[str, float], ...]:
        st = self.solver.statistics()
        out: list[tuple[str, float]] = []
        for key in st.keys():  # noqa: SIM118 (iterating Statistics gives mangled names)
            v = st.get_key_value(key)
            if isinstance(v, int | float):
                out.append((str(key).replace(" ", "-"), float(v)))
        return tuple(out)


def bitwuzla_available() -> bool:
    return importlib.util.find_spec("bitwuzla") is not None


class BitwuzlaBackend(Backend):
    """Bitwuzla (CaDiCaL underneath) behind the same Z3-built terms: each term is
    translated once, bottom-up, with a cache.  Bit-vector and Boolean terms only."""

    name = "bitwuzla"

    def __init__(self, seed: int) -> None:
        bw: Any = importlib.import_module("bitwuzla")  # optional: no stubs, no hard dependency
        self.bw = bw
        self.tm = bw.TermManager()
        opts = bw.Options()
        opts.set(bw.Option.PRODUCE_MODELS, True)
        opts.set(bw.Option.SEED, seed)
        self.solver = bw.Bitwuzla(self.tm, opts)
        self._cache: dict[int, Any] = {}
        self._keep: list[Z] = []  # translated Z3 terms stay alive, so their ids stay theirs
        self._ops: dict[int, Any] = {
            z3.Z3_OP_AND: bw.Kind.AND,
            z3.Z3_OP_OR: bw.Kind.OR,
            z3.Z3_OP_NOT: bw.Kind.NOT,
            z3.Z3_OP_IMPLIES: bw.Kind.IMPLIES,
            z3.Z3_OP_XOR: bw.Kind.XOR,
            z3.Z3_OP_EQ: bw.Kind.EQUAL,
            z3.Z3_OP_DISTINCT: bw.Kind.DISTINCT,
            z3.Z3_OP_ITE: bw.Kind.ITE,
            z3.Z3_OP_BADD: bw.Kind.BV_ADD,
            z3.Z3_OP_BSUB: bw.Kind.BV_SUB,
            z3.Z3_OP_BMUL: bw.Kind.BV_MUL,
            z3.Z3_OP_BNEG: bw.Kind.BV_NEG,
            z3.Z3_OP_ULT: bw.Kind.BV_ULT,
            z3.Z3_OP_ULEQ: bw.Kind.BV_ULE,
            z3.Z3_OP_UGT: bw.Kind.BV_UGT,
            z3.Z3_OP_UGEQ: bw.Kind.BV_UGE,
            z3.Z3_OP_SLT: bw.Kind.BV_SLT,
            z3.Z3_OP_SLEQ: bw.Kind.BV_SLE,
            z3.Z3_OP_SGT: bw.Kind.BV_SGT,
            z3.Z3_OP_SGEQ: bw.Kind.BV_SGE,
            z3.Z3_OP_CONCAT: bw.Kind.BV_CONCAT,
            z3.Z3_OP_BNOT: bw.Kind.BV_NOT,
            z3.Z3_OP_BAND: bw.Kind.BV_AND,
            z3.Z3_OP_BOR: bw.Kind.BV_OR,
            z3.Z3_OP_BXOR: bw.Kind.BV_XOR,
            z3.Z3_OP_BUREM: bw.Kind.BV_UREM,
            z3.Z3_OP_BSREM: bw.Kind.BV_SREM,
            z3.Z3_OP_BSHL: bw.Kind.BV_SHL,
            z3.Z3_OP_BLSHR: bw.Kind.BV_SHR,
            z3.Z3_OP_BASHR: bw.Kind.BV_ASHR,
        }
        self._indexed: dict[int, Any] = {
            z3.Z3_OP_SIGN_EXT: bw.Kind.BV_SIGN_EXTEND,
            z3.Z3_OP_ZERO_EXT: bw.Kind.BV_ZERO_EXTEND,
            z3.Z3_OP_EXTRACT: bw.Kind.BV_EXTRACT,
        }
        # binary in Bitwuzla, n-ary in Z3: folded left
        self._fold = {z3.Z3_OP_BADD, z3.Z3_OP_BMUL, z3.Z3_OP_BAND, z3.Z3_OP_BOR, z3.Z3_OP_BXOR}

    def _sort(self, s: z3.SortRef) -> Any:
        if s.kind() == z3.Z3_BOOL_SORT:
            return self.tm.mk_bool_sort()
        if s.kind() == z3.Z3_BV_SORT:
            return self.tm.mk_bv_sort(s.size())
        raise ValueError(f"Bitwuzla backend: unsupported sort {s}")

    def term(self, root: Z) -> Any:
        """The Bitwuzla term of a Z3 term."""
        cache = self._cache
        stack: list[tuple[Z, bool]] = [(root, False)]
        while stack:
            t, ready = stack.pop()
            i = t.get_id()
            if i in cache:
                continue
            kids = t.children()
            if not ready:
                stack.append((t, True))
                stack.extend((c, False) for c in kids if c.get_id() not in cache)
                continue
            cache[i] = self._node(t, [cache[c.get_id()] for c in kids])
            self._keep.append(t)
        return cache[root.get_id()]

    def _node(self, t: Z, args: list[Any]) -> Any:
        tm = self.tm
        k = t.decl().kind()
        if k == z3.Z3_OP_TRUE:
            return tm.mk_true()
        if k == z3.Z3_OP_FALSE:
            return tm.mk_false()
        if k == z3.Z3_OP_BNUM:
            return tm.mk_bv_value(self._sort(t.sort()), t.as_long())
        if k == z3.Z3_OP_UNINTERPRETED and not args:
            return tm.mk_const(self._sort(t.sort()), t.decl().name())
        if k in self._indexed:
            return tm.mk_term(self._indexed[k], args, t.params())
        if k in (z3.Z3_OP_AND, z3.Z3_OP_OR) and len(args) < 2:
            # Z3 allows And()/Or() of one or no argument; Bitwuzla does not
            if args:
                return args[0]
            return tm.mk_true() if k == z3.Z3_OP_AND else tm.mk_false()
        if k in self._ops:
            if k in self._fold and len(args) > 2:
                out = args[0]
                for a in args[1:]:
                    out = tm.mk_term(self._ops[k], [out, a])
                return out
            return tm.mk_term(self._ops[k], args)
        raise ValueError(f"Bitwuzla backend: unsupported operator {t.decl()}")

    def add(self, *constraints: Z) -> None:
        for c in constraints:
            self.solver.assert_formula(self.term(c))

    def check(self, assumption: Z, deadline: float | None) -> tuple[Status, str]:
        bw = self.bw
        if deadline is not None and time.monotonic() >= deadline:
            return "unknown", "timeout"
        # Bitwuzla runs Python only in its terminator, where a KeyboardInterrupt would be
        # printed and lost; during the check SIGINT only sets a flag the terminator
        # reads, and the interrupt is raised again once the check has stopped
        interrupted = [False]

        def on_sigint(signum: int, frame: object) -> None:
            interrupted[0] = True

        def terminate() -> bool:
            return interrupted[0] or (deadline is not None and time.monotonic() >= deadline)

        try:
            old = signal.signal(signal.SIGINT, on_sigint)
        except ValueError:  # not the main thread: no signals here anyway
            old = None
        try:
            self.solver.configure_terminator(terminate)
            r = self.solver.check_sat(self.term(assumption))
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
        if interrupted[0]:
            raise KeyboardInterrupt
        if r == bw.Result.SAT:
            return "sat", ""
        if r == bw.Result.UNSAT:
            return "unsat", ""
        late = deadline is not None and time.monotonic() >= deadline
        return "unknown", "timeout" if late else "unknown"

    def model(self) -> Model:
        def evaluate(t: Z) -> Z:
            v = self.solver.get_value(self.term(t))
            if t.sort().kind() == z3.Z3_BOOL_SORT:
                return z3.BoolVal(bool(v.value()), t.ctx)
            return z3.BitVecVal(int(v.value(10)), t.sort().size(), t.ctx)

        return Model(evaluate)

    def statistics(self) -> tuple[tuple[str, float], ...]:
        out: list[tuple[str, float]] = []
        for key, v in sorted(self.solver.statistics().items()):
            try:
                out.append((str(key), float(v)))
            except (TypeError, ValueError):
                continue
        return tuple(out)


def new_backend(kind: Literal["smt", "qf_bv", "bitwuzla"], seed: int, ctx: z3.Context) -> Backend:
    """THE place where a solver is made and seeded (the timeout is set per check)."""
    if kind == "bitwuzla":
        return BitwuzlaBackend(seed)
    return Z3Backend(kind, seed, ctx)


# ---- values -----------------------------------------------------------------------


def _bits(n: int) -> int:
    return max(1, (n - 1).bit_length())


Slot = tuple[str, Key | None]  # (name, key); key None: the whole map (array encoding)


def ghost_bv_applicable(ts: TransitionSystem) -> bool:
    """Whether ghost ints can be exact bit-vectors: no chosen ``int`` parameter, and
    every ghost int location starts from a constant."""
    if any(isinstance(p.type, IntType) for a in ts.actions for p in a.params):
        return False
    probe = Encoding(ts, EncodeOptions(ghost="int", maps="expand"))
    for slot, term in probe.init_terms().items():
        name, _ = slot
        if isinstance(ts.var(name).type, IntType) and not z3.is_int_value(z3.simplify(term)):
            return False
    return True


class Encoding:
    """The unrolled transition system, built one step at a time."""

    def __init__(self, ts: TransitionSystem, options: EncodeOptions | None = None) -> None:
        options = EncodeOptions() if options is None else options
        self.ts = ts
        self.options = options
        # a context of its own: terms, ids and so the solver's choices depend only on
        # this encoding, never on what else ran in the process (determinism)
        self.ctx = z3.Context()
        ghost = options.ghost
        if ghost == "auto":
            ghost = "bv" if ghost_bv_applicable(ts) else "int"
        self.ghost_bv = ghost == "bv"
        self.ghost_width = options.ghost_width
        if self.ghost_bv:
            for stmt_lit in _literals(ts):
                if isinstance(stmt_lit.type, IntType):
                    assert isinstance(stmt_lit.value, int)
                    self.ghost_width = max(self.ghost_width, _swidth(stmt_lit.value) + 1)
        kind = options.solver
        pure_bv = self.ghost_bv and options.maps == "expand"  # no Z3 ints, no arrays
        if kind == "auto":
            kind = "bitwuzla" if bitwuzla_available() else "qf_bv"
        if kind == "bitwuzla" and not bitwuzla_available():
            raise ValueError("solver bitwuzla: the bitwuzla package is not installed")
        if not pure_bv:
            kind = "smt"  # the bit-vector solvers take no Z3 ints and no arrays
        self.solver_kind: Literal["smt", "qf_bv", "bitwuzla"] = kind
        self.vars: dict[str, StateVar] = {v.name: v for v in ts.vars}
        self.instances: tuple[tuple[Action, tuple[tuple[str, Value], ...]], ...] = tuple(
            (a, inst) for a in ts.actions for inst in instances(a)
        )
        self.slots: tuple[Slot, ...] = tuple(self._slots())
        self._state: list[dict[Slot, Z]] = []
        self._selector: list[Z] = []  # the selector of step k -> k+1 (binary)
        self._onehot: list[tuple[Z, ...]] = []
        self._chosen: list[dict[tuple[str, str], Z]] = []
        self._overflow: list[Z] = []  # overflow on the way into step k (0: init)
        # the instances independent of each instance (made by the first step)
        self._indep: tuple[frozenset[int], ...] | None = None
        # _blocked[k][a]: instance a may not be the step after step k -> k+1 (lex)
        self._blocked: list[tuple[Z, ...]] = []
        self._order: dict[int, Z] = {}

    # ---- types and values ----

    def sort(self, t: Type) -> z3.SortRef:
        match t:
            case BoolType():
                return z3.BoolSort(self.ctx)
            case BitVecType(width=w):
                return z3.BitVecSort(w, self.ctx)
            case IntType():
                return (
                    z3.BitVecSort(self.ghost_width, self.ctx)
                    if self.ghost_bv
                    else z3.IntSort(self.ctx)
                )
            case SortType(size=n):
                return z3.BitVecSort(_bits(n), self.ctx)
            case EnumType(members=m):
                return z3.BitVecSort(_bits(len(m)), self.ctx)
            case _:
                assert_never(t)

    def const(self, t: Type, v: Value) -> Z:
        """The numeral for a Python value of ``t``."""
        match t:
            case BoolType():
                assert isinstance(v, bool)
                return z3.BoolVal(v, self.ctx)
            case BitVecType(width=w):
                assert isinstance(v, int)
                return z3.BitVecVal(v % (1 << w), w, self.ctx)
            case IntType():
                assert isinstance(v, int)
                return (
                    z3.BitVecVal(v, _swidth(v), self.ctx)
                    if self.ghost_bv
                    else z3.IntVal(v, self.ctx)
                )
            case SortType(size=n):
                assert isinstance(v, int)
                return z3.BitVecVal(v, _bits(n), self.ctx)
            case EnumType(members=m):
                assert isinstance(v, str)
                return z3.BitVecVal(m.index(v), _bits(len(m)), self.ctx)
            case _:
                assert_never(t)

    def stored(self, t: Type, v: Value) -> Z:
        """The numeral for a value as a state location of type ``t`` holds it."""
        if self.ghost_bv and isinstance(t, IntType):
            assert isinstance(v, int)
            return z3.BitVecVal(v, self.ghost_width, self.ctx)
        return self.const(t, v)

    def value(self, t: Type, term: Z) -> Value:
        """The Python value of a numeral of ``t`` (from a model)."""
        match t:
            case BoolType():
                assert z3.is_true(term) or z3.is_false(term), term
                return bool(z3.is_true(term))
            case BitVecType():
                assert z3.is_bv_value(term), term
                return int(term.as_long())
            case IntType():
                if z3.is_bv_value(term):
                    return int(term.as_signed_long())
                assert z3.is_int_value(term), term
                return int(term.as_long())
            case SortType():
                assert z3.is_bv_value(term), term
                return int(term.as_long())
            case EnumType(members=m):
                assert z3.is_bv_value(term), term
                return m[int(term.as_long())]
            case _:
                assert_never(t)

    def _concrete(self, t: Type, term: Z) -> Value | None:
        """The value of ``term`` when it simplifies to a numeral, else None."""
        if not (z3.is_bv_value(term) or z3.is_true(term) or z3.is_false(term)):
            term = z3.simplify(term)
        if z3.is_bv_value(term) or z3.is_true(term) or z3.is_false(term) or z3.is_int_value(term):
            v = self.value(t, term)
            if isinstance(t, SortType) and not (isinstance(v, int) and v < t.size):
                return None
            return v
        return None

    def _range(self, t: Type, term: Z) -> Z | None:
        """The range constraint a term of ``t`` needs, or None."""
        match t:
            case SortType(size=n) if n < (1 << _bits(n)):
                return z3.ULT(term, z3.BitVecVal(n, _bits(n), self.ctx))
            case EnumType(members=m) if len(m) < (1 << _bits(len(m))):
                return z3.ULT(term, z3.BitVecVal(len(m), _bits(len(m)), self.ctx))
            case _:
                return None

    # ---- state copies ----

    def _slots(self) -> list[Slot]:
        out: list[Slot] = []
        for v in self.ts.vars:
            if v.index and self.options.maps == "array":
                out.append((v.name, None))
            else:
                out.extend((v.name, k) for k in keys(v.index))
        return out

    def _slot_sort(self, slot: Slot) -> z3.SortRef:
        v = self.vars[slot[0]]
        if slot[1] is None:
            return z3.ArraySort(*(self.sort(t) for t in v.index), self.sort(v.type))
        return self.sort(v.type)

    def state(self, k: int) -> Mapping[Slot, Z]:
        """The variables of step ``k`` (made on first use)."""
        while len(self._state) <= k:
            j = len(self._state)
            self._state.append(
                {
                    slot: z3.Const(f"{_slot_name(slot)}@{j}", self._slot_sort(slot))
                    for slot in self.slots
                }
            )
        return self._state[k]

    def location(self, k: int, name: str, key: Key) -> Z:
        """The term of location ``name[key]`` at step ``k``."""
        st = self.state(k)
        if (name, key) in st:
            return st[(name, key)]
        v = self.vars[name]
        arr = st[(name, None)]
        return z3.Select(arr, *(self.const(t, x) for t, x in zip(v.index, key, strict=True)))

    # ---- expressions ----

    def expr(self, e: Expr, pre: _Sym, env: Mapping[str, Z], post: _Sym | None = None) -> Z:
        match e:
            case Lit(value=v, type=t):
                return self.const(t, v)
            case Local(name=name):
                return env[name]
            case Var(name=name, args=args, primed=primed):
                where = pre
                if primed:
                    assert post is not None, f"primed read of {name} without a post-state"
                    where = post
                return where.read(name, [self.expr(a, pre, env, post) for a in args])
            case Unary(op=op, arg=a):
                return UNARY[op](e.type, self.expr(a, pre, env, post))
            case Binary(op=op, lhs=lhs, rhs=rhs):
                return BINARY[op](
                    lhs.type, self.expr(lhs, pre, env, post), self.expr(rhs, pre, env, post)
                )
            case Ite(cond=c, then=t, else_=f):
                tt, ff = self.expr(t, pre, env, post), self.expr(f, pre, env, post)
                if _exact(e.type, tt):
                    tt, ff = _align(tt, ff)
                return z3.If(self.expr(c, pre, env, post), tt, ff)
            case Quant(quantifier=q, var=x, sort=s, body=b):
                parts = [self.expr(b, pre, {**env, x: self.const(s, v)}, post) for v in elements(s)]
                match q:
                    case Quantifier.FORALL:
                        return _all(self.ctx, parts)
                    case Quantifier.EXISTS:
                        return _any(self.ctx, parts)
                    case _:
                        assert_never(q)
            case Cast(arg=a, type=t):
                return self._cast(a.type, t, self.expr(a, pre, env, post))
            case _:
                assert_never(e)

    def _cast(self, src: Type, dst: Type, a: Z) -> Z:
        match dst:
            case BitVecType(width=w):
                if isinstance(src, IntType):
                    if not z3.is_bv(a):
                        return z3.Int2BV(a, w)
                    n = a.size()
                    return z3.Extract(w - 1, 0, a) if n >= w else z3.SignExt(w - n, a)
                return a  # same width, another reading
            case IntType():
                if isinstance(src, BitVecType):
                    if self.ghost_bv:
                        return a if src.signed else z3.ZeroExt(1, a)
                    return z3.BV2Int(a, is_signed=src.signed)
                return a
            case _:
                return a

    def fit(self, t: Type, value: Z, pc: Z, overflow: list[Z]) -> Z:
        """``value`` as stored in a location of type ``t``: an exact int is cut to the
        ghost width, and a store that does not fit is recorded in ``overflow``."""
        if not (self.ghost_bv and isinstance(t, IntType)):
            return value
        n = value.size()
        w = self.ghost_width
        if n <= w:
            return _sext(value, w)
        cut = z3.Extract(w - 1, 0, value)
        overflow.append(z3.And(pc, z3.SignExt(n - w, cut) != value))
        return cut

    # ---- statements ----

    def exec(
        self,
        body: Sequence[Stmt],
        sym: _Sym,
        env: Mapping[str, Z],
        pc: Z,
        assumes: list[Z],
        overflow: list[Z],
    ) -> None:
        for s in body:
            match s:
                case Assign(name=name, args=args, value=value):
                    if value is None:
                        continue
                    idx = [self.expr(a, sym, env) for a in args]
                    v = self.fit(self.vars[name].type, self.expr(value, sym, env), pc, overflow)
                    sym.write(name, idx, v)
                case If(cond=c, then=t, else_=f):
                    self._branch(self.expr(c, sym, env), t, f, sym, env, pc, assumes, overflow)
                case ForAll(var=x, sort=sort, where=where, body=b):
                    for v in elements(sort):
                        inner = {**env, x: self.const(sort, v)}
                        if where is None:
                            self.exec(b, sym, inner, pc, assumes, overflow)
                        else:
                            cond = self.expr(where, sym, inner)
                            self._branch(cond, b, (), sym, inner, pc, assumes, overflow)
                case Assume(cond=c):
                    assumes.append(z3.Implies(pc, self.expr(c, sym, env)))
                case _:
                    assert_never(s)

    def _branch(
        self,
        cond: Z,
        then: Sequence[Stmt],
        else_: Sequence[Stmt],
        sym: _Sym,
        env: Mapping[str, Z],
        pc: Z,
        assumes: list[Z],
        overflow: list[Z],
    ) -> None:
        known = self._concrete(BoolType(), cond)
        if known is not None:
            self.exec(then if known else else_, sym, env, pc, assumes, overflow)
            return
        other = sym.copy()
        self.exec(then, sym, env, z3.And(pc, cond), assumes, overflow)
        self.exec(else_, other, env, z3.And(pc, z3.Not(cond)), assumes, overflow)
        sym.merge(cond, other)

    # ---- init and steps ----

    def init_terms(self) -> dict[Slot, Z]:
        """What running init from the step-0 variables gives, per slot."""
        sym = _Sym(self, 0)
        self.exec(self.ts.init, sym, {}, z3.BoolVal(True, self.ctx), [], [])
        return {slot: sym.get(slot) for slot in self.slots}

    def init(self) -> list[Z]:
        """Constraints on step 0: the fixpoint of init, assumptions, ranges."""
        sym = _Sym(self, 0)
        assumes: list[Z] = []
        overflow: list[Z] = []
        self.exec(self.ts.init, sym, {}, z3.BoolVal(True, self.ctx), assumes, overflow)
        out = [*assumes]
        st = self.state(0)
        for slot in self.slots:
            t = sym.get(slot)
            if not t.eq(st[slot]):
                out.append(st[slot] == t)
        for v in self.ts.vars:
            for k in keys(v.index):
                r = self._range(v.type, self.location(0, v.name, k))
                if r is not None:
                    out.append(r)
        if len(self._overflow) == 0:
            self._overflow.append(_any(self.ctx, overflow))
        return out

    def new_backend(self, seed: int) -> Backend:
        return new_backend(self.solver_kind, seed, self.ctx)

    def selected(self, k: int, i: int) -> Z:
        """Whether step ``k -> k+1`` takes instance ``i`` (``len(instances)``: stutter)."""
        if self.options.selector == "onehot":
            return self._onehot[k][i]
        sel = self._selector[k]
        return sel == z3.BitVecVal(i, sel.size(), self.ctx)

    def stutter(self, k: int) -> Z:
        """Whether the step into step ``k`` (``k >= 1``) is a stutter step."""
        return self.selected(k - 1, len(self.instances))

    def overflow(self, k: int) -> Z:
        """Whether a ghost store overflowed on the way into step ``k`` (0: init)."""
        return self._overflow[k]

    def step(self, k: int) -> list[Z]:
        """Constraints of the transition from step ``k`` to step ``k + 1``."""
        assert len(self._selector) + len(self._onehot) == k, "steps are added in order"
        n = len(self.instances)
        out: list[Z] = []
        if self.options.selector == "onehot":
            bits = tuple(z3.Bool(f"sel{i}@{k}", self.ctx) for i in range(n + 1))
            self._onehot.append(bits)
            # exactly one: at least one, and no two (clauses every backend takes)
            out.append(z3.Or(*bits))
            out.extend(z3.Or(z3.Not(x), z3.Not(y)) for x, y in itertools.combinations(bits, 2))
        else:
            w = _bits(n + 1)
            sel = z3.BitVec(f"act@{k}", w, self.ctx)
            self._selector.append(sel)
            if n + 1 < (1 << w):
                out.append(z3.ULE(sel, z3.BitVecVal(n, w, self.ctx)))
        if self.options.stutter == "tail" and k > 0:
            out.append(z3.Implies(self.selected(k - 1, n), self.selected(k, n)))
        chosen: dict[tuple[str, str], Z] = {}
        for a in self.ts.actions:
            for p in a.params:
                if p.chosen:
                    c = z3.Const(f"{a.name}.{p.name}@{k}", self.sort(p.type))
                    chosen[(a.name, p.name)] = c
                    r = self._range(p.type, c)
                    if r is not None:
                        out.append(r)
        self._chosen.append(chosen)
        updates: dict[Slot, list[tuple[Z, Z]]] = {}
        overflow: list[Z] = []
        footprints: list[tuple[frozenset[Slot], frozenset[Slot]] | None] = []
        for i, (action, inst) in enumerate(self.instances):
            sel_i = self.selected(k, i)
            env: dict[str, Z] = {}
            pvals = dict(inst)
            for p in action.params:
                env[p.name] = (
                    chosen[(action.name, p.name)] if p.chosen else self.const(p.type, pvals[p.name])
                )
            pre = _Sym(self, k)
            guard = self.expr(action.guard, pre, env)
            if z3.is_false(self._concrete_or_same(guard)):
                out.append(z3.Not(sel_i))
                footprints.append(None)
                continue
            sym = _Sym(self, k)
            assumes: list[Z] = []
            ovf: list[Z] = []
            self.exec(action.body, sym, env, z3.BoolVal(True, self.ctx), assumes, ovf)
            out.append(z3.Implies(sel_i, _all(self.ctx, [guard, *assumes])))
            if ovf:
                overflow.append(z3.And(sel_i, _any(self.ctx, ovf)))
            for slot, term in sym.writes.items():
                updates.setdefault(slot, []).append((sel_i, term))
            if self._indep is None:
                reads = self._reads(k, [guard, *assumes, *ovf, *sym.writes.values()])
                footprints.append((reads, frozenset(sym.writes)))
        if self._indep is None:
            self._indep = _independence(footprints)
        if self.options.por == "lex":
            out.extend(self._block(k))
        pre_st, post_st = self.state(k), self.state(k + 1)
        for slot in self.slots:
            nxt = pre_st[slot]
            for sel_i, term in reversed(updates.get(slot, [])):
                nxt = z3.If(sel_i, term, nxt)
            out.append(post_st[slot] == nxt)
        self._overflow.append(_any(self.ctx, overflow))
        return out

    def _reads(self, k: int, terms: Sequence[Z]) -> frozenset[Slot]:
        """The slots of step ``k`` that ``terms`` mention."""
        slot_of = {t.get_id(): slot for slot, t in self.state(k).items()}
        seen: set[int] = set()
        out: set[Slot] = set()
        stack = list(terms)
        while stack:
            t = stack.pop()
            i = t.get_id()
            if i in seen:
                continue
            seen.add(i)
            if z3.is_const(t):
                if i in slot_of:
                    out.add(slot_of[i])
                continue
            stack.extend(t.children())
        return frozenset(out)

    def _block(self, k: int) -> list[Z]:
        """Define ``_blocked[k]``: instance ``a`` is blocked after step ``k -> k+1`` when
        some earlier step took a higher-numbered instance independent of ``a``, and
        every step since then was independent of ``a`` too (a sleep set)."""
        assert self._indep is not None and len(self._blocked) == k
        out: list[Z] = []
        row: list[Z] = []
        false = z3.BoolVal(False, self.ctx)
        for a, indep in enumerate(self._indep):
            if not indep:
                row.append(false)
                continue
            b = z3.Bool(f"blocked{a}@{k}", self.ctx)
            fresh = [self.selected(k, x) for x in sorted(indep) if x > a]
            passing = _any(self.ctx, [self.selected(k, x) for x in sorted(indep)])
            kept = z3.And(self._blocked[k - 1][a], passing) if k > 0 else false
            out.append(b == _any(self.ctx, [*fresh, kept]))
            row.append(b)
        self._blocked.append(tuple(row))
        return out

    def order(self, k: int) -> Z:
        """Partial-order reduction on the step ``k -> k+1`` (``k >= 1``), given the
        steps before it.  Two action instances are independent when neither writes a
        slot the other reads or writes; swapping two independent neighbours changes
        only the state between them.  ``"lex"`` admits only runs in lexicographic
        normal form (no factor ``b u a`` with ``a < b`` and ``a`` independent of ``b``
        and of all of ``u``; Anisimov and Knuth, "Inhomogeneous sorting", 1979): one
        run per equivalence class, of the same length and final state.  ``"adjacent"``
        forbids only ``b a`` (peephole POR: Wang, Yang, Kahlon, Gupta, TACAS 2008).
        Every state reachable in ``n`` steps stays reachable in ``n`` steps; the
        engine drops the constraint on a run's last step for two-state goals."""
        assert k >= 1 and self._indep is not None
        if k in self._order:
            return self._order[k]
        parts: list[Z] = []
        match self.options.por:
            case "lex":
                for a, blocked in enumerate(self._blocked[k - 1]):
                    if not z3.is_false(blocked):
                        parts.append(z3.Implies(self.selected(k, a), z3.Not(blocked)))
            case "adjacent":
                for i, indep in enumerate(self._indep):
                    later = [z3.Not(self.selected(k, j)) for j in sorted(indep) if j < i]
                    if later:
                        parts.append(z3.Implies(self.selected(k - 1, i), _all(self.ctx, later)))
            case "off":
                pass
            case _:
                assert_never(self.options.por)
        self._order[k] = _all(self.ctx, parts)
        return self._order[k]

    def _concrete_or_same(self, b: Z) -> Z:
        known = self._concrete(BoolType(), b)
        return b if known is None else z3.BoolVal(bool(known), self.ctx)

    # ---- properties ----

    def prop(self, p: Property, k: int) -> Z:
        """The property's body at step ``k`` (two-state: over steps ``k-1`` and ``k``)."""
        if p.two_state:
            assert k >= 1
            return self.expr(p.expr, _Sym(self, k - 1), {}, _Sym(self, k))
        return self.expr(p.expr, _Sym(self, k), {})

    def goal(self, p: Property, k: int) -> Z | None:
        """What a counterexample (or a cover witness) at depth ``k`` satisfies; None
        when there can be none (a two-state property at depth 0)."""
        if p.two_state and k == 0:
            return None
        body = self.prop(p, k)
        match p.kind:
            case PropKind.INVARIANT | PropKind.TRANSITION | PropKind.LEMMA:
                g = z3.Not(body)
            case PropKind.COVER:
                g = body
            case _:
                assert_never(p.kind)
        return z3.And(g, z3.Not(self.stutter(k))) if p.two_state else g

    # ---- traces ----

    def trace(self, model: Model, k: int) -> Trace:
        """The run of depth ``k`` in ``model``, stutter steps dropped."""
        steps = [Step(None, (), self._model_state(model, 0))]
        n = len(self.instances)
        for j in range(k):
            chosen_i = None
            for i in range(n + 1):
                if z3.is_true(model.eval(self.selected(j, i), model_completion=True)):
                    chosen_i = i
                    break
            if chosen_i is None:
                raise EncodingBug(f"step {j}: no action instance selected in the model")
            if chosen_i == n:
                continue
            action, inst = self.instances[chosen_i]
            pvals = dict(inst)
            args: list[tuple[str, Value]] = []
            for p in action.params:
                if p.chosen:
                    term = model.eval(self._chosen[j][(action.name, p.name)], model_completion=True)
                    args.append((p.name, self.value(p.type, term)))
                else:
                    args.append((p.name, pvals[p.name]))
            steps.append(Step(action.name, tuple(args), self._model_state(model, j + 1)))
        return Trace(tuple(steps))

    def _model_state(self, model: Model, k: int) -> dict[str, dict[Key, Value]]:
        out: dict[str, dict[Key, Value]] = {}
        for v in self.ts.vars:
            out[v.name] = {
                key: self.value(
                    v.type, model.eval(self.location(k, v.name, key), model_completion=True)
                )
                for key in keys(v.index)
            }
        return out


def _all(ctx: z3.Context, xs: Sequence[Z]) -> Z:
    """Conjunction, without a one-argument ``and`` (some SMT-LIB readers reject it)."""
    return xs[0] if len(xs) == 1 else z3.And(*xs) if xs else z3.BoolVal(True, ctx)


def _any(ctx: z3.Context, xs: Sequence[Z]) -> Z:
    return xs[0] if len(xs) == 1 else z3.Or(*xs) if xs else z3.BoolVal(False, ctx)


def _independence(
    footprints: Sequence[tuple[frozenset[Slot], frozenset[Slot]] | None],
) -> tuple[frozenset[int], ...]:
    """For each instance, the instances independent of it (Bernstein: neither writes a
    slot the other reads or writes).  Dead instances (guard false) never fire and are
    independent of none."""
    out: list[set[int]] = [set() for _ in footprints]
    for i, fi in enumerate(footprints):
        for j in range(i):
            fj = footprints[j]
            if fi is None or fj is None:
                continue
            (ri, wi), (rj, wj) = fi, fj
            if not (wi & (rj | wj)) and not (wj & ri):
                out[i].add(j)
                out[j].add(i)
    return tuple(frozenset(x) for x in out)


def _slot_name(slot: Slot) -> str:
    name, key = slot
    return f"{name}[{','.join(map(str, key))}]" if key else name


def _literals(ts: TransitionSystem) -> list[Lit]:
    from fusever.ts import walk

    out: list[Lit] = []

    def stmts(body: Sequence[Stmt]) -> None:
        for s in body:
            match s:
                case Assign(args=args, value=value):
                    for a in (*args, *(() if value is None else (value,))):
                        out.extend(x for x in walk(a) if isinstance(x, Lit))
                case If(cond=c, then=t, else_=f):
                    out.extend(x for x in walk(c) if isinstance(x, Lit))
                    stmts(t)
                    stmts(f)
                case ForAll(where=w, body=b):
                    if w is not None:
                        out.extend(x for x in walk(w) if isinstance(x, Lit))
                    stmts(b)
                case Assume(cond=c):
                    out.extend(x for x in walk(c) if isinstance(x, Lit))
                case _:
                    assert_never(s)

    stmts(ts.init)
    return out


class _Sym:
    """A symbolic state: the variables of step ``k`` overlaid with the writes so far."""

    __slots__ = ("enc", "k", "writes")

    def __init__(self, enc: Encoding, k: int, writes: dict[Slot, Z] | None = None) -> None:
        self.enc = enc
        self.k = k
        self.writes: dict[Slot, Z] = {} if writes is None else writes

    def copy(self) -> _Sym:
        return _Sym(self.enc, self.k, dict(self.writes))

    def get(self, slot: Slot) -> Z:
        t = self.writes.get(slot)
        return self.enc.state(self.k)[slot] if t is None else t

    def _candidates(self, v: StateVar, args: Sequence[Z]) -> list[tuple[Key, Z | None]]:
        """Keys ``args`` may denote, each with the condition (None: certainly)."""
        concrete = [self.enc._concrete(t, a) for t, a in zip(v.index, args, strict=True)]
        choices = [
            elements(t) if c is None else (c,) for t, c in zip(v.index, concrete, strict=True)
        ]
        out: list[tuple[Key, Z | None]] = []
        for key in itertools.product(*choices):
            conds = [
                a == self.enc.const(t, x)
                for t, a, c, x in zip(v.index, args, concrete, key, strict=True)
                if c is None
            ]
            out.append((key, _all(self.enc.ctx, conds) if conds else None))
        return out

    def read(self, name: str, args: Sequence[Z]) -> Z:
        v = self.enc.vars[name]
        if not v.index:
            return self.get((name, ()))
        if (name, None) in self.enc.state(self.k):
            return z3.Select(self.get((name, None)), *args)
        cands = self._candidates(v, args)
        last_key, _ = cands[-1]
        out = self.get((name, last_key))
        for key, cond in reversed(cands[:-1]):
            assert cond is not None
            out = z3.If(cond, self.get((name, key)), out)
        return out

    def write(self, name: str, args: Sequence[Z], value: Z) -> None:
        v = self.enc.vars[name]
        if not v.index:
            self.writes[(name, ())] = value
            return
        if (name, None) in self.enc.state(self.k):
            self.writes[(name, None)] = z3.Store(self.get((name, None)), *args, value)
            return
        for key, cond in self._candidates(v, args):
            slot = (name, key)
            self.writes[slot] = value if cond is None else z3.If(cond, value, self.get(slot))

    def merge(self, cond: Z, other: _Sym) -> None:
        """``self`` becomes ``if cond then self else other``."""
        for slot in dict.fromkeys([*self.writes, *other.writes]):
            a, b = self.get(slot), other.get(slot)
            if not a.eq(b):
                self.writes[slot] = z3.If(cond, a, b)
