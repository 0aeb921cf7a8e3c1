"""k-induction with the simple-path strengthening: properties for all depths.

For ``k = 1, 2, ...`` up to the bound, the *inductive step* asks for a path of ``k + 1``
pairwise distinct states (``s_0`` unconstrained), with the property holding on the first
``k`` and failing at the last.  When there is none, and no state reachable within
``k - 1`` steps violates the property (the *base case*, :mod:`fusever.bmc` to depth
``k - 1``), the property holds for all depths: a shortest run to a violation has
distinct states, all good but the last, so its last ``k + 1`` states would be such a
path.  A transition property is an invariant over pairs: the step's pre-states are
distinct, the property holds on the ``k - 1`` steps before the last.

- **Lemmas** (``lemma NAME: expr``) are proved first, in spec order, each assuming the
  ones before it; every property's inductive step then assumes them on all its states
  (they hold on every reachable state, and the path above is reachable).
- **Cover goals** are "never covered" proved this way (``unreachable (all depths)``);
  otherwise the base case's witness (replayed) or a bounded verdict.
- **Ghost ints** are Z3 integers here (:func:`fusever.certificate.encode_options`):
  the bit-vector trick of :mod:`fusever.encode` is exact only up to a bound.
- **Partial-order reduction** (``order(k)``, "adjacent": never an independent pair
  ``b a`` with ``a < b``) is kept in the inductive step.  Sound: among the shortest runs
  to a violation take the one whose action sequence is lexicographically least.
  Swapping an adjacent independent pair ``b a`` changes only the state between them
  and gives a lexicographically smaller run of the same length to the same final state
  (and the same final step, when the swap is not the last step of a transition
  property's run); its new middle state cannot violate the property or repeat an earlier
  state, or a shorter run to a violation would exist.  So that least run has no such
  pair, and its suffix satisfies the reduction.  The reduction is off on the last
  step of a transition property, as in BMC.
- **Runs that end** (the other half of Sheeran, Singh and Stålmarck's algorithm: no
  initialized path of length ``n + 1``): when no run of the spec is longer than ``n <=
  bound`` steps, every reachable state is reached within ``n``, so the base case to
  ``n`` proves every property it does not break, for all depths.  Checked first, on the
  kernel projection (:func:`fusever.ts.kernel_projection`: ghost state dropped, which
  never disables a step) with the reduction on; a model with a bounded number of
  opens, writes and notifications ends, so this is what proves the patch models.
- Every proof is a :class:`fusever.certificate.Certificate`, re-checked by fresh
  queries before it is reported (see there); one that fails its re-check is ``unknown``.

Reference: Sheeran, Singh, Stålmarck, "Checking Safety Properties Using Induction and a
SAT-Solver" (FMCAD 2000); Eén, Sörensson, "Temporal Induction by Incremental SAT
Solving" (BMC 2003); the structure follows pySMT's ``examples/model_checking.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from fusever import bmc, narrow, ranking
from fusever.certificate import (
    Certificate,
    Recheck,
    distinct,
    encode_options,
    negated,
    ranges,
    recheck_status,
    recheck_statuses,
    with_narrowing,
)
from fusever.encode import EncodeOptions, Encoding
from fusever.job import Job
from fusever.solvers import Backend, Status
from fusever.ts import Property, PropKind, TransitionSystem, kernel_projection
from fusever.verdict import Progress, Result, Verdict

__all__ = ["ENGINE", "KindOutcome", "Longest", "longest_run", "run", "runs_end"]

ENGINE = "kind"
POR = "adjacent"


@dataclass(frozen=True, slots=True)
class KindOutcome:
    results: tuple[Result, ...]
    certificates: tuple[Certificate, ...]  # one per property proved for all depths


@dataclass(frozen=True, slots=True)
class _Step:
    """The inductive step's outcome for one property: the k that closed it, or why not."""

    k: int | None
    reason: str  # when k is None: "not k-inductive up to k=N", "timeout", ...


@dataclass(frozen=True, slots=True)
class Longest:
    """The longest run of a spec, when it is at most the bound: ``steps`` (no run has
    ``steps + 1``), or None and why not."""

    steps: int | None
    reason: str
    ranking: str | None = None  # the ranking function that bounds the runs, if one did


def longest_run(ts: TransitionSystem, bound: int, deadline: float | None, seed: int) -> Longest:
    """The smallest ``n <= bound`` such that no run of ``ts`` has ``n + 1`` steps.

    One incremental solver over the kernel projection: at depth ``k`` is there a run
    whose ``k``-th step is not a stutter (stutter comes only at the end, so its first
    ``k`` steps are all real)?  The adjacent reduction is on: a run and its reordering
    have the same length."""
    enc = Encoding(kernel_projection(ts), EncodeOptions(por="adjacent"))
    solver = enc.new_backend(seed)
    solver.add(*enc.init())
    for k in range(1, bound + 2):
        if deadline is not None and time.monotonic() >= deadline:
            return Longest(None, "timeout")
        solver.add(*enc.step(k - 1))
        if k >= 2:
            solver.add(enc.order(k - 1))
        status, reason = _check(solver, z3.Not(enc.stutter(k)), k, deadline)
        if status == "unsat":
            return Longest(k - 1, "")
        if status == "unknown":
            return Longest(None, f"{reason} looking for a run of {k} steps")
    return Longest(None, f"some run is longer than {bound} steps")


def runs_end(ts: TransitionSystem, bound: int, deadline: float | None, seed: int) -> Longest:
    """How long runs are at most: a ranking function's bound when one is found
    (:mod:`fusever.ranking`: checked in one step, and it may exceed ``bound``), else
    :func:`longest_run`'s unrolling to ``bound``."""
    found = ranking.find(ts, deadline)
    if found.ranking is not None:
        return Longest(found.ranking.bound, "", found.ranking.text())
    return longest_run(ts, bound, deadline, seed)


def run(
    job: Job,
    progress: Callable[[Progress], None] | None = None,
    bounded: bool = True,
    longest: Longest | None = None,
) -> KindOutcome:
    """One Result per property of the job, in spec order; never prints.

    ``bounded=False`` (``auto``, where BMC runs beside it): the base case only to the
    depth the proofs need; a property whose inductive step did not close is ``unknown``
    with the reason, not searched to the bound.  ``longest``: :func:`longest_run`'s
    answer for this spec and bound, when the caller already asked."""
    start = time.monotonic()
    ts, props, bound = job.ts, job.properties, job.bound
    # the inductive steps get half the budget, so the base case (BMC) still has time to
    # find the violations and give bounded verdicts
    steps_deadline = job.share(0.5, start)

    # 0. when every run ends within the bound, the base case to its length is complete
    if longest is None:
        longest = runs_end(ts, bound, steps_deadline, job.seed)
    if longest.steps is not None:
        return _complete(job, longest, start, progress)

    # 1. lemmas, in spec order, each assuming the proved ones before it
    lemmas, lemma_steps = _lemmas(job, steps_deadline)
    assumed = tuple(lm for lm, _ in lemmas)

    # 2. the inductive step of every selected property, the lemmas assumed
    others = [p for p in props if p.kind is not PropKind.LEMMA]
    steps = {**lemma_steps, **_induct(ts, others, assumed, bound, steps_deadline, job.seed)}
    if progress is not None:
        progress(Progress(ts.name, 0, time.monotonic() - start, len(props)))

    # 3. the base case: BMC to the depth the proofs need, the bound for the rest
    need = [steps[p.name].k for p in props]
    depth = bound if bounded and None in need else max([0, *(k - 1 for k in need if k)])
    base = bmc.run(job.to(depth), progress)
    by_name = {r.property: r for r in base.results}

    # 4. each property's verdict: a proof only once its certificate re-checks
    judged = [
        _judge(ts, p, by_name[p.name], steps[p.name], lemmas, bounded, job.deadline) for p in props
    ]
    return KindOutcome(
        tuple(replace(r, seconds=round(time.monotonic() - start, 3)) for r, _ in judged),
        tuple(c for _, c in judged if c is not None),
    )


def _lemmas(
    job: Job, steps_deadline: float | None
) -> tuple[list[tuple[Property, int]], dict[str, _Step]]:
    """The lemmas proved (each with its k), in spec order, each assuming the proved ones
    before it; and every lemma's inductive step."""
    lemmas: list[tuple[Property, int]] = []
    steps: dict[str, _Step] = {}
    ts = job.ts
    for lemma in (p for p in ts.properties if p.kind is PropKind.LEMMA):
        st = _induct(
            ts, [lemma], tuple(lm for lm, _ in lemmas), job.bound, steps_deadline, job.seed
        )
        step = st[lemma.name]
        steps[lemma.name] = step
        if step.k is not None and _base_holds(job, lemma, step.k):
            lemmas.append((lemma, step.k))
    return lemmas, steps


def _judge(
    ts: TransitionSystem,
    p: Property,
    r: Result,
    step: _Step,
    lemmas: list[tuple[Property, int]],
    bounded: bool,
    deadline: float | None,
) -> tuple[Result, Certificate | None]:
    """One property's verdict from its base case ``r`` and inductive ``step``: a
    violation or witness as found; a proof for all depths with its certificate, once
    re-checked; otherwise the bounded verdict (``bounded``) or unknown, with why."""
    if r.verdict in (Verdict.VIOLATED, Verdict.COVERED):
        return replace(r, engine=ENGINE), None
    if step.k is None:
        # not k-inductive, and the runs do not end within the bound either
        why = r.reason if r.verdict is Verdict.UNKNOWN and r.reason else step.reason
        verdict = r.verdict if bounded else Verdict.UNKNOWN
        return replace(r, engine=ENGINE, verdict=verdict, reason=why), None
    if r.verdict is Verdict.UNKNOWN or r.bound < step.k - 1:
        return replace(r, engine=ENGINE), None
    proved_lemmas = [lm.name for lm, _ in lemmas]
    if p.kind is PropKind.LEMMA and p.name not in proved_lemmas:
        return replace(r, engine=ENGINE, reason=step.reason), None
    # a lemma assumes the lemmas before it; anything else, all of them
    upto = proved_lemmas.index(p.name) if p.kind is PropKind.LEMMA else len(lemmas)
    used = tuple((lm.name, k) for lm, k in lemmas[:upto])
    cert = Certificate(ENGINE, ts.name, p.name, k=step.k, lemmas=used, por=POR)
    status = recheck_status(ts, cert, deadline)
    if status is not Recheck.PASSED:
        why = f"k-inductive at k={step.k}, but " + _recheck_why(status)
        return replace(r, engine=ENGINE, verdict=Verdict.UNKNOWN, reason=why), None
    why = f"k-inductive at k={step.k}"
    if used:
        why += " with lemmas " + ", ".join(n for n, _ in used)
    return replace(r, engine=ENGINE, complete=True, reason=why), cert


def _complete(
    job: Job, runs: Longest, start: float, progress: Callable[[Progress], None] | None
) -> KindOutcome:
    """Every run ends within ``runs.steps`` steps: BMC to it decides every property."""
    assert runs.steps is not None
    longest = runs.steps
    why = f"every run ends within {longest} steps" + (
        " (a ranking function every step lowers)" if runs.ranking is not None else ""
    )
    ts = job.ts
    narrowing = narrow.plan(ts, longest, job.share(0.25))
    if narrowing is not None:
        base = _narrowed_base(job, narrowing, longest, progress)
        why += f", and {narrowing.text()} (an offset bisimulation, checked)"
    else:
        base = bmc.run(job.to(longest), progress).results
    held = [
        r for r in base
        if r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE) and r.bound >= longest
    ]  # fmt: skip
    certs = [
        with_narrowing(
            Certificate(ENGINE, ts.name, r.property, longest=longest, ranking=runs.ranking),
            narrowing,
        )
        for r in held
    ]
    statuses = recheck_statuses(ts, certs, job.deadline)
    passed = dict(zip([c.property for c in certs], statuses, strict=True))
    results: list[Result] = []
    for r in base:
        seconds = round(time.monotonic() - start, 3)
        status = passed.get(r.property)
        if status is None:
            results.append(replace(r, engine=ENGINE, seconds=seconds))
            continue
        ok = status is Recheck.PASSED
        what = "reaches it" if r.verdict is Verdict.UNREACHABLE else "breaks it"
        results.append(
            replace(
                r,
                engine=ENGINE,
                seconds=seconds,
                complete=ok,
                verdict=r.verdict if ok else Verdict.UNKNOWN,
                reason=(f"{why}, and none {what}" if ok else f"{why}, but " + _recheck_why(status)),
            )
        )
    return KindOutcome(
        tuple(results), tuple(c for c in certs if passed[c.property] is Recheck.PASSED)
    )


def _narrowed_base(
    job: Job,
    narrowing: narrow.Narrowing,
    longest: int,
    progress: Callable[[Progress], None] | None,
) -> tuple[Result, ...]:
    """BMC to the runs' bound on the narrow system, every trace it finds lifted to the
    wide system and replayed there (:func:`fusever.narrow.lifted`)."""
    nts = narrowing.system
    njob = replace(job, ts=nts, properties=tuple(nts.property(p.name) for p in job.properties))
    found = bmc.run(njob.to(longest), progress).results
    return tuple(narrow.lifted(narrowing, job.ts, r) for r in found)


def _recheck_why(status: Recheck) -> str:
    """Why a proof found is not reported: a failed re-check is a doubt about the proof,
    an undecided one only a budget spent (rerun with a larger ``--timeout``)."""
    if status is Recheck.UNDECIDED:
        return "the certificate's re-check ran out of time (timeout; try a larger --timeout)"
    return "the certificate's re-check failed"


def _base_holds(job: Job, p: Property, k: int) -> bool:
    (r,) = bmc.run(job.only([p.name]).to(k - 1)).results
    return r.verdict is Verdict.PROVED and r.bound >= k - 1


def _check(solver: Backend, goal: z3.ExprRef, n: int, deadline: float | None) -> tuple[Status, str]:
    lit = z3.Bool(f"kind#{n}", goal.ctx)
    solver.add(z3.Implies(lit, goal))
    return solver.check(lit, deadline)


def _step_query(
    enc: Encoding, p: Property, k: int, hyp: z3.ExprRef, distinct_last: list[z3.ExprRef]
) -> z3.ExprRef:
    """The inductive step's question at ``k`` (``p`` negated): under the hypothesis,
    ``p`` fails at ``k``; for a state property, ``s_k`` is new and its step is in
    reduced order."""
    goal = enc.goal(p, k)
    assert goal is not None
    parts = [hyp, goal]
    if not p.two_state:
        parts.extend(distinct_last)
        if k >= 2:
            parts.append(enc.order(k - 1))
    return z3.And(*parts)


def _induct(
    ts: TransitionSystem,
    props: list[Property],
    lemmas: tuple[Property, ...],
    bound: int,
    deadline: float | None,
    seed: int,
) -> dict[str, _Step]:
    """The smallest ``k <= max(bound, 1)`` at which each property's inductive step is
    unsat (one incremental solver for all of them: each property's hypotheses sit
    under a literal of its own)."""
    out: dict[str, _Step] = {}
    if not props:
        return out
    enc = Encoding(ts, encode_options(ts, POR))
    solver = enc.new_backend(seed)
    solver.add(*ranges(enc, 0))
    solver.add(*(enc.prop(lm, 0) for lm in lemmas))
    checked = {p.name: negated(p) for p in props}
    hyp = {name: z3.Bool(f"hyp:{name}", enc.ctx) for name in checked}
    n = 0
    for k in range(1, max(bound, 1) + 1):
        open_ = {name: p for name, p in checked.items() if name not in out}
        if not open_:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        solver.add(*enc.step(k - 1), *ranges(enc, k))
        solver.add(*(enc.prop(lm, k) for lm in lemmas))
        if k >= 2:
            # s_{k-1} differs from every earlier state: every property's pre-states
            solver.add(*(distinct(enc, k - 1, j) for j in range(k - 1)))
        if k >= 3:
            solver.add(enc.order(k - 2))  # reduction on all but the last step
        last_distinct = [distinct(enc, k, j) for j in range(k)]
        for name, p in open_.items():
            # the hypothesis: p on the first k states (steps, for a transition property)
            if k >= 2 or not p.two_state:
                solver.add(z3.Implies(hyp[name], enc.prop(p, k - 1)))
            n += 1
            query = _step_query(enc, p, k, hyp[name], last_distinct)
            status, reason = _check(solver, query, n, deadline)
            if status == "unsat":
                out[name] = _Step(k, "")
            elif status == "unknown":
                out[name] = _Step(None, f"{reason} in the inductive step at k={k}")
    for name in checked:
        if name not in out:
            late = deadline is not None and time.monotonic() >= deadline
            out[name] = _Step(
                None, "timeout" if late else f"not k-inductive up to k={max(bound, 1)}"
            )
    return out
