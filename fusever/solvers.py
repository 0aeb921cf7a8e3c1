"""The one door to the solvers: every solver fusever uses is made, seeded and given its
time budget here, and nowhere else.

- :class:`Backend`: the incremental solvers of the unrolling engines (BMC,
  k-induction), behind one interface: assertions and goals are Z3 terms (the encoding
  is built once, with Z3's API), and a backend either hands them to a Z3 solver or
  translates them to Bitwuzla (:func:`new_backend`).
- :func:`plain`: a fresh, non-incremental plain Z3 solver (the certificates' re-checks,
  the ranking function's one-step queries).
- :func:`horn`: Z3's CHC solver (Spacer), :func:`optimizer`: Z3's ``Optimize``.

A time budget is always an absolute deadline (``time.monotonic()`` seconds, or None
for none); :func:`set_deadline` turns it into the milliseconds Z3 wants, at the
moment of the call.  Seeds are fixed by the caller (0 unless ``--seed`` says), so runs
are deterministic.
"""

from __future__ import annotations

import importlib
import importlib.util
import signal
import time
from collections.abc import Callable
from typing import Any, Literal

import z3

__all__ = [
    "INTERRUPTED",
    "Backend",
    "BackendKind",
    "BitwuzlaBackend",
    "Model",
    "Status",
    "Z3Backend",
    "bitwuzla_available",
    "horn",
    "new_backend",
    "optimizer",
    "plain",
    "set_deadline",
    "set_work_limit",
    "stop_if_interrupted",
]

Z = Any  # z3 terms carry no types mypy can use

BackendKind = Literal["smt", "qf_bv", "bitwuzla"]


def set_deadline(solver: Any, deadline: float | None) -> bool:
    """Give a Z3 solver (or optimizer) what is left until ``deadline`` as its timeout
    (1 ms once it has passed, so a check still asked answers unknown at once); False
    when it has passed, and the caller may answer unknown without asking."""
    if deadline is None:
        return True
    remaining = deadline - time.monotonic()
    solver.set("timeout", max(1, int(remaining * 1000)))
    return remaining > 0


def set_work_limit(solver: Any, rlimit: int) -> None:
    """A deterministic budget: Z3's resource count (``rlimit``), the same on any
    machine, where a timeout would make the answer depend on the machine's speed."""
    solver.set("rlimit", rlimit)


def plain(ctx: z3.Context, bv: bool, seed: int = 0) -> Any:
    """A fresh plain Z3 solver: Z3's bit-blaster (the ``qfbv`` tactic) when every term
    is a bit-vector or a Boolean (4x faster than its default solver on the specs'
    one-step and unrolled queries, and just as plain), else its default solver."""
    s = z3.Tactic("qfbv", ctx=ctx).solver() if bv else z3.Solver(ctx=ctx)
    s.set("random_seed", seed)
    return s


def horn(ctx: z3.Context, seed: int) -> Any:
    """Z3's solver for constrained Horn clauses (Spacer)."""
    s = z3.SolverFor("HORN", ctx=ctx)
    s.set("random_seed", seed)
    return s


def optimizer(ctx: z3.Context, seed: int = 0) -> Any:
    """Z3's ``Optimize``."""
    o = z3.Optimize(ctx=ctx)
    o.set("random_seed", seed)
    return o


# ---- incremental backends ----------------------------------------------------------

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
        if not set_deadline(self.solver, deadline):
            return "unknown", "timeout"
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


def new_backend(kind: BackendKind, seed: int, ctx: z3.Context) -> Backend:
    """THE place where a solver is made and seeded (the timeout is set per check)."""
    if kind == "bitwuzla":
        return BitwuzlaBackend(seed)
    return Z3Backend(kind, seed, ctx)
