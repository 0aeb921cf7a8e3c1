"""Incremental bounded model checking: one solver, a new step per depth.

At depth ``k`` (step 0 is the initial state) the solver holds init and the first ``k``
transitions; every still-open property's goal at ``k`` (an invariant's negation at
step ``k``, a transition property's negation over ``k-1, k``, a cover goal at ``k``) is
checked under an assumption literal, so what the solver learnt is kept for the next
depth.  The goals of one depth are checked as one disjunction first: when it is
unsatisfiable (the usual case) one call settles them all; when it is satisfiable, the
model's trace settles every goal true in it, and the rest are checked again.

A goal first satisfiable at depth ``k`` gives the shortest counterexample (or witness),
and its trace is replayed through :mod:`fusever.interpret` before it is returned; one
that does not replay raises :class:`fusever.encode.EncodingBug`.  A goal unsatisfiable
at ``k`` is then asserted negated (the property holds at step ``k`` on every run of
length ``k``), which helps the deeper checks and loses nothing.

References: Biere, Cimatti, Clarke, Zhu, "Symbolic Model Checking without BDDs"
(TACAS 1999); Eén, Sörensson, "Temporal Induction by Incremental SAT Solving" (BMC 2003)
for the assumption-literal incremental scheme.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import assert_never

import z3

from fusever import interpret
from fusever.encode import EncodeOptions, Encoding, EncodingBug
from fusever.ts import IntType, Property, PropKind, Trace, TransitionSystem, Value
from fusever.verdict import Options, Progress, Result, Verdict

__all__ = ["BmcOutcome", "run", "select_properties"]

ENGINE = "bmc"


@dataclass(frozen=True, slots=True)
class BmcOutcome:
    results: tuple[Result, ...]
    # Z3's statistics of the last solver (conflicts, decisions, memory ...) and ours
    statistics: tuple[tuple[str, float], ...]
    ghost_width: int | None  # the ghost int width used, None for Z3 ints


class _Widen(Exception):
    """A ghost int store overflowed its width within the bound: encode wider."""


def select_properties(ts: TransitionSystem, names: tuple[str, ...] | None) -> tuple[Property, ...]:
    """The properties ``names`` selects, in spec order; every one of them when None."""
    if names is None:
        return ts.properties
    known = {p.name for p in ts.properties}
    for n in names:
        if n not in known:
            raise ValueError(f"{ts.name} has no property named {n}")
    return tuple(p for p in ts.properties if p.name in names)


def run(
    ts: TransitionSystem,
    options: Options,
    progress: Callable[[Progress], None] | None = None,
    encode: EncodeOptions | None = None,
) -> BmcOutcome:
    """Check every selected property of ``ts`` up to the depth; one Result each, in spec order."""
    props = select_properties(ts, options.properties)
    depth = ts.depth if options.depth is None else options.depth
    if depth < 0:
        raise ValueError(f"depth must be at least 0, not {depth}")
    if encode is None:
        encode = EncodeOptions()
    run = _Run(ts, options, progress, time.monotonic())
    while True:
        enc = Encoding(ts, encode)
        try:
            run.attempt(enc, [p for p in props if p.name not in run.done], depth)
            break
        except _Widen:
            encode = replace(encode, ghost="bv", ghost_width=2 * enc.ghost_width)
    results = tuple(run.done[p.name] for p in props)
    has_ints = any(isinstance(v.type, IntType) for v in ts.vars)
    width = enc.ghost_width if enc.ghost_bv and has_ints else None
    return BmcOutcome(results, run.statistics, width)


class _Run:
    def __init__(
        self,
        ts: TransitionSystem,
        options: Options,
        progress: Callable[[Progress], None] | None,
        start: float,
    ) -> None:
        self.ts = ts
        self.options = options
        self.progress = progress
        self.start = start
        self.deadline = None if options.timeout is None else start + options.timeout
        self.done: dict[str, Result] = {}
        self.statistics: tuple[tuple[str, float], ...] = ()
        self._lit = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def attempt(self, enc: Encoding, props: list[Property], depth: int) -> None:
        solver = enc.new_solver(self.options.seed)
        try:
            self._attempt(enc, solver, props, depth)
        finally:
            self.statistics = (*_statistics(solver), ("seconds", self.elapsed()))

    def _attempt(self, enc: Encoding, solver: z3.Solver, props: list[Property], depth: int) -> None:
        open_: dict[str, Property] = {p.name: p for p in props}
        reached = -1  # the deepest depth fully checked
        for k in range(depth + 1):
            if not open_:
                break
            if self._timed_out():
                self._unknown(open_, reached, "timeout")
                return
            solver.add(*(enc.init() if k == 0 else enc.step(k - 1)))
            # partial-order reduction on the last two steps: sound for one-state goals
            # only (it may reorder the last step), so it is part of their goals at this
            # depth, and asserted for good once the next step exists
            order = enc.order(k - 1) if enc.options.por != "off" and k >= 2 else None
            if order is not None and k >= 3:
                solver.add(enc.order(k - 2))
            goals: dict[str, z3.ExprRef] = {}
            for name, p in open_.items():
                g = enc.goal(p, k)
                if g is not None:
                    goals[name] = g if p.two_state or order is None else z3.And(g, order)
            overflow = enc.overflow(k) if enc.ghost_bv else z3.BoolVal(False, enc.ctx)
            while goals or not z3.is_false(overflow):
                status, reason = self._check(solver, z3.Or(*goals.values(), overflow))
                if status == z3.unsat:
                    break
                if status == z3.unknown:
                    self._unknown(open_, reached, reason)
                    return
                model = solver.model()
                if z3.is_true(model.eval(overflow, model_completion=True)):
                    raise _Widen()
                hit = [
                    n for n, g in goals.items() if z3.is_true(model.eval(g, model_completion=True))
                ]
                if not hit:
                    raise EncodingBug(f"{self.ts.name}: depth {k}: a model satisfies no goal")
                trace = enc.trace(model, k)
                for n in hit:
                    self.done[n] = self._found(open_.pop(n), trace, k)
                    del goals[n]
            for g in goals.values():
                solver.add(z3.Not(g))  # holds at depth k on every run: a lemma for deeper ones
            solver.add(z3.Not(overflow))
            reached = k
            if self.progress is not None:
                self.progress(Progress(self.ts.name, k, self.elapsed(), len(open_)))
        for name, p in open_.items():
            verdict = Verdict.UNREACHABLE if p.kind is PropKind.COVER else Verdict.PROVED
            self.done[name] = self._result(p, verdict, bound=reached)

    def _check(self, solver: z3.Solver, goal: z3.ExprRef) -> tuple[z3.CheckSatResult, str]:
        """One solver call on ``goal`` under a fresh assumption literal, within the budget."""
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return z3.unknown, "timeout"
            solver.set("timeout", max(1, int(remaining * 1000)))
        self._lit += 1
        lit = z3.Bool(f"goal#{self._lit}", solver.ctx)
        solver.add(z3.Implies(lit, goal))
        status = solver.check(lit)
        if status == z3.sat or status == z3.unsat:
            return status, ""
        if status == z3.unknown:
            reason = solver.reason_unknown()
            if reason in ("timeout", "canceled") or self._timed_out():
                reason = "timeout"
            return status, reason
        raise AssertionError(f"unexpected solver answer {status}")

    def _timed_out(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _found(self, p: Property, trace: Trace, k: int) -> Result:
        try:
            instance = interpret.replay(self.ts, trace, p)
        except interpret.ReplayError as e:
            raise EncodingBug(
                f"{self.ts.name}: the solver's trace for {p.name} at depth {k} does not replay: {e}"
            ) from e
        match p.kind:
            case PropKind.INVARIANT | PropKind.TRANSITION:
                verdict = Verdict.VIOLATED
            case PropKind.COVER:
                verdict = Verdict.COVERED
            case _:
                assert_never(p.kind)
        return self._result(
            p, verdict, bound=k, step=len(trace) - 1, trace=trace, instance=instance
        )

    def _unknown(self, open_: Mapping[str, Property], reached: int, reason: str) -> None:
        why = f"{reason} (checked to depth {reached})" if reached >= 0 else reason
        for name, p in open_.items():
            self.done[name] = self._result(p, Verdict.UNKNOWN, bound=max(reached, 0), reason=why)

    def _result(
        self,
        p: Property,
        verdict: Verdict,
        *,
        bound: int,
        step: int | None = None,
        trace: Trace | None = None,
        instance: tuple[tuple[str, Value], ...] = (),
        reason: str | None = None,
    ) -> Result:
        return Result(
            spec=self.ts.name,
            file=self.ts.path,
            settings=self.ts.settings,
            property=p.name,
            kind=p.kind,
            verdict=verdict,
            complete=False,
            bound=bound,
            step=step,
            engine=ENGINE,
            seconds=round(self.elapsed(), 3),
            trace=trace,
            instance=instance,
            reason=reason,
            description=p.description,
            config=self.ts.config,
        )


def _statistics(solver: z3.Solver) -> tuple[tuple[str, float], ...]:
    st = solver.statistics()
    out: list[tuple[str, float]] = []
    for key in st.keys():  # noqa: SIM118 (iterating z3 Statistics gives pairs with mangled names)
        v = st.get_key_value(key)
        if isinstance(v, int | float):
            out.append((str(key), float(v)))
    return tuple(out)
