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

Each operator's term is :mod:`fusever.terms`'s; solvers are made in
:mod:`fusever.solvers`, the partial-order reduction is :mod:`fusever.por`'s, and a
model becomes a trace in :mod:`fusever.decode`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, assert_never

import z3

from fusever.por import PorEncoding, Reduction, independence
from fusever.solvers import Backend, BackendKind, bitwuzla_available, new_backend
from fusever.terms import BINARY, UNARY, align, all_of, any_of, exact, mentioned, sext, swidth
from fusever.ts import (
    Action,
    Assign,
    Assume,
    Binary,
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
    Stmt,
    TransitionSystem,
    Type,
    Unary,
    Value,
    Var,
    elements,
    instances,
    keys,
)

__all__ = [
    "BINARY",
    "UNARY",
    "EncodeOptions",
    "Encoding",
    "EncodingBug",
    "ghost_bv_applicable",
]


class EncodingBug(Exception):
    """The encoder and the interpreter disagree: a bug in fusever, never a finding."""


MapEncoding = Literal["expand", "array"]
SelectorEncoding = Literal["binary", "onehot"]
GhostEncoding = Literal["auto", "int", "bv"]
StutterEncoding = Literal["anywhere", "tail"]
SolverKind = Literal["auto", "smt", "qf_bv", "bitwuzla"]


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


# z3 ships no type information: every term is Any to mypy; Z names what is meant.
Z: TypeAlias = Any


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
                    self.ghost_width = max(self.ghost_width, swidth(stmt_lit.value) + 1)
        kind = options.solver
        pure_bv = self.ghost_bv and options.maps == "expand"  # no Z3 ints, no arrays
        if kind == "auto":
            kind = "bitwuzla" if bitwuzla_available() else "qf_bv"
        if kind == "bitwuzla" and not bitwuzla_available():
            raise ValueError("solver bitwuzla: the bitwuzla package is not installed")
        if not pure_bv:
            kind = "smt"  # the bit-vector solvers take no Z3 ints and no arrays
        self.solver_kind: BackendKind = kind
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
        # the partial-order reduction, made by the first step (from its footprints)
        self._reduction: Reduction | None = None

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
                    z3.BitVecVal(v, swidth(v), self.ctx)
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
                if exact(e.type, tt):
                    tt, ff = align(tt, ff)
                return z3.If(self.expr(c, pre, env, post), tt, ff)
            case Quant(quantifier=q, var=x, sort=s, body=b):
                parts = [self.expr(b, pre, {**env, x: self.const(s, v)}, post) for v in elements(s)]
                match q:
                    case Quantifier.FORALL:
                        return all_of(self.ctx, parts)
                    case Quantifier.EXISTS:
                        return any_of(self.ctx, parts)
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
            return sext(value, w)
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
            self._overflow.append(any_of(self.ctx, overflow))
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

    def chosen(self, k: int, action: str, param: str) -> Z:
        """The value step ``k -> k+1`` chooses for ``action``'s chosen parameter."""
        return self._chosen[k][(action, param)]

    def overflow(self, k: int) -> Z:
        """Whether a ghost store overflowed on the way into step ``k`` (0: init)."""
        return self._overflow[k]

    def step(self, k: int) -> list[Z]:
        """Constraints of the transition from step ``k`` to step ``k + 1``."""
        assert len(self._selector) + len(self._onehot) == k, "steps are added in order"
        out = self._select(k)
        chosen = self._chosen[k]
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
            out.append(z3.Implies(sel_i, all_of(self.ctx, [guard, *assumes])))
            if ovf:
                overflow.append(z3.And(sel_i, any_of(self.ctx, ovf)))
            for slot, term in sym.writes.items():
                updates.setdefault(slot, []).append((sel_i, term))
            if self._reduction is None:
                reads = self._reads(k, [guard, *assumes, *ovf, *sym.writes.values()])
                footprints.append((reads, frozenset(sym.writes)))
        if self._reduction is None:
            independent = independence(footprints)
            self._reduction = Reduction(self.options.por, self.ctx, self.selected, independent)
        pre_st, post_st = self.state(k), self.state(k + 1)
        for slot in self.slots:
            nxt = pre_st[slot]
            for sel_i, term in reversed(updates.get(slot, [])):
                nxt = z3.If(sel_i, term, nxt)
            out.append(post_st[slot] == nxt)
        self._overflow.append(any_of(self.ctx, overflow))
        return out

    def _select(self, k: int) -> list[Z]:
        """Step ``k -> k+1``'s selector (exactly one instance, or the stutter step) and
        its chosen parameters, with their constraints."""
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
        return out

    def _reads(self, k: int, terms: Sequence[Z]) -> frozenset[Slot]:
        """The slots of step ``k`` that ``terms`` mention."""
        slot_of = {t.get_id(): slot for slot, t in self.state(k).items()}
        return frozenset(mentioned(terms, slot_of))

    def order(self, k: int) -> Z:
        """The partial-order reduction's constraint on step ``k -> k+1`` (``k >= 1``),
        given the steps before it (:class:`fusever.por.Reduction`)."""
        assert self._reduction is not None, "the first step makes the reduction"
        return self._reduction.order(k)

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
            out.append((key, all_of(self.enc.ctx, conds) if conds else None))
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
