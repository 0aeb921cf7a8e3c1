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

from fusever import decode, interpret
from fusever.encode import EncodeOptions, Encoding, EncodingBug
from fusever.job import Job
from fusever.solvers import Backend, Status
from fusever.ts import IntType, Property, PropKind, Trace, Value
from fusever.verdict import Interrupted, Progress, Result, Verdict

__all__ = ["BmcOutcome", "run"]

ENGINE = "bmc"
CHUNK = 3  # bench/seedlike.fv depth 30: 8.9 s with 1, 6.8 s with 3, 6.6 s with 10


@dataclass(frozen=True, slots=True)
class BmcOutcome:
    results: tuple[Result, ...]
    # the last solver's statistics (conflicts, decisions, memory ...) and ours
    statistics: tuple[tuple[str, float], ...]
    backend: str  # which solver: "bitwuzla", "z3-qf_bv", "z3-smt"
    ghost_width: int | None  # the ghost int width used, None for Z3 ints


_OVERFLOW = "#overflow"  # the goal "a ghost int store overflows", beside the properties


class _Widen(Exception):
    """A ghost int store overflowed its width within the bound: encode wider."""


def run(
    job: Job,
    progress: Callable[[Progress], None] | None = None,
    encode: EncodeOptions | None = None,
    chunk: int = CHUNK,
) -> BmcOutcome:
    """Check every property of the job up to its bound, until its deadline; one Result
    each, in spec order.

    ``chunk``: how many depths one solver call covers when nothing is found (their goals
    as one disjunction); only a satisfiable chunk is then checked depth by depth, so
    the counterexamples are still the shortest."""
    ts, props, depth = job.ts, job.properties, job.bound
    if encode is None:
        encode = EncodeOptions()
    run = _Run(job, progress, time.monotonic(), max(1, chunk))
    while True:
        enc = Encoding(ts, encode)
        try:
            run.attempt(enc, [p for p in props if p.name not in run.done], depth)
            break
        except _Widen:
            encode = replace(encode, ghost="bv", ghost_width=2 * enc.ghost_width)
        except KeyboardInterrupt as e:
            if isinstance(e, Interrupted):
                raise
            # what was decided stands (a trace is replayed before it is kept)
            partial = tuple(
                run.done.get(p.name)
                or run._result(p, Verdict.UNKNOWN, bound=0, reason="interrupted")
                for p in props
            )
            raise Interrupted(partial) from None
    results = tuple(run.done[p.name] for p in props)
    has_ints = any(isinstance(v.type, IntType) for v in ts.vars)
    width = enc.ghost_width if enc.ghost_bv and has_ints else None
    return BmcOutcome(results, run.statistics, run.backend, width)


class _Run:
    def __init__(
        self,
        job: Job,
        progress: Callable[[Progress], None] | None,
        start: float,
        chunk: int,
    ) -> None:
        self.ts = job.ts
        self.job = job
        self.progress = progress
        self.start = start
        self.done: dict[str, Result] = {}
        self.statistics: tuple[tuple[str, float], ...] = ()
        self.backend = ""
        self.chunk = chunk
        self._reason = ""
        self._lit = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def attempt(self, enc: Encoding, props: list[Property], depth: int) -> None:
        solver = enc.new_backend(self.job.seed)
        try:
            self._attempt(enc, solver, props, depth)
        finally:
            self.statistics = (*solver.statistics(), ("seconds", self.elapsed()))
            self.backend = solver.name

    def _attempt(self, enc: Encoding, solver: Backend, props: list[Property], depth: int) -> None:
        open_: dict[str, Property] = {p.name: p for p in props}
        reached = -1  # the deepest depth fully checked
        # goals of the depths not checked yet (a chunk), each depth's overflow included
        pending: dict[int, dict[str, z3.ExprRef]] = {}
        for k in range(depth + 1):
            if not open_:
                break
            if self.job.expired():
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
            if enc.ghost_bv:
                goals[_OVERFLOW] = enc.overflow(k)
            pending[k] = goals
            if len(pending) < self.chunk and k < depth:
                continue
            # one call for the whole chunk; only when it is satisfiable, depth by depth
            everything = [g for gs in pending.values() for g in gs.values()]
            status, reason = (
                self._check(solver, z3.Or(*everything)) if everything else ("unsat", "")
            )
            if status == "unknown":
                self._unknown(open_, reached, reason)
                return
            for j, all_gs in pending.items():
                # a property closed at a shallower depth of this chunk has no goal here
                gs = {n: g for n, g in all_gs.items() if n in open_ or n == _OVERFLOW}
                if status == "sat" and not self._settle(enc, solver, j, gs, open_):
                    self._unknown(open_, reached, self._reason)
                    return
                for g in gs.values():
                    solver.add(z3.Not(g))  # holds at depth j on every run: a lemma
                reached = j
                if self.progress is not None:
                    self.progress(Progress(self.ts.name, j, self.elapsed(), len(open_)))
            pending = {}
        for name, p in open_.items():
            verdict = Verdict.UNREACHABLE if p.kind is PropKind.COVER else Verdict.PROVED
            self.done[name] = self._result(p, verdict, bound=reached)

    def _settle(
        self,
        enc: Encoding,
        solver: Backend,
        k: int,
        goals: dict[str, z3.ExprRef],
        open_: dict[str, Property],
    ) -> bool:
        """Check depth ``k``'s goals (after every shallower depth is settled): close each
        property with a witness there, drop it from ``goals``.  False on unknown.  The
        solver may hold more steps than ``k``: they can all stutter."""
        while goals:
            status, reason = self._check(solver, z3.Or(*goals.values()))
            if status == "unsat":
                return True
            if status == "unknown":
                self._reason = reason
                return False
            model = solver.model()
            if _OVERFLOW in goals and z3.is_true(model.eval(goals[_OVERFLOW])):
                raise _Widen()
            hit = [n for n, g in goals.items() if z3.is_true(model.eval(g))]
            if not hit:
                raise EncodingBug(f"{self.ts.name}: depth {k}: a model satisfies no goal")
            trace = decode.trace(enc, model, k)
            for n in hit:
                self.done[n] = self._found(open_.pop(n), trace, k)
                del goals[n]
        return True

    def _check(self, solver: Backend, goal: z3.ExprRef) -> tuple[Status, str]:
        """One solver call on ``goal`` under a fresh assumption literal, within the budget."""
        self._lit += 1
        lit = z3.Bool(f"goal#{self._lit}", goal.ctx)
        solver.add(z3.Implies(lit, goal))
        return solver.check(lit, self.job.deadline)

    def _found(self, p: Property, trace: Trace, k: int) -> Result:
        try:
            instance = interpret.replay(self.ts, trace, p)
        except interpret.ReplayError as e:
            raise EncodingBug(
                f"{self.ts.name}: the solver's trace for {p.name} at depth {k} does not replay: {e}"
            ) from e
        match p.kind:
            case PropKind.INVARIANT | PropKind.TRANSITION | PropKind.LEMMA:
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
        return Result.about(
            self.ts, p, verdict, engine=ENGINE, seconds=self.elapsed(), bound=bound,
            step=step, trace=trace, instance=instance, reason=reason,
        )  # fmt: skip
