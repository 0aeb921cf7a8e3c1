"""The engines behind ``fusever prove``: one entry point, :func:`prove`.

- ``bmc`` (:mod:`fusever.bmc`): bounded; shortest, replayed counterexamples.
- ``kind`` (:mod:`fusever.kind`): k-induction, for all depths; BMC is its base case.
- ``chc`` (:mod:`fusever.chc`): Z3's Spacer; an invariant in spec syntax.
- ``explicit`` (:mod:`fusever.explicit`): breadth-first over the reachable states, for
  configurations whose initial states can be enumerated; for all depths once the
  reachable set is exhausted (the state count is the certificate, so no
  :class:`~fusever.certificate.Certificate` is stored).
- ``auto``: BMC for counterexamples and the unbounded engines for proofs, side by side
  in two processes (two cores), each property decided by a fixed rule so the verdict
  never depends on which process finished first: a violation or witness is BMC's
  replayed trace; a proof for all depths is an unbounded engine's re-checked
  certificate; otherwise BMC's bounded verdict.  When one side has settled every
  property (BMC: all violated or covered; the unbounded side: all proved for all
  depths) the other is stopped.  Inside a daemonic process (no children allowed) the
  two run one after the other.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.context
import os
import queue
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any, TypeVar, assert_never

from fusever import bmc, chc, kind, narrow
from fusever.certificate import Certificate
from fusever.encode import EncodingBug
from fusever.job import Engine, Job
from fusever.narrow import refused
from fusever.ts import TransitionSystem
from fusever.verdict import Interrupted, Options, Progress, Result, Verdict

_A = TypeVar("_A")
_T = TypeVar("_T")

__all__ = [
    "ENGINES", "UNBOUNDED", "Disagreement", "Outcome", "child_process_setup", "cross_check",
    "disagreements", "finished", "in_order",
    "prove", "prove_certified", "run", "worker_pool",
]  # fmt: skip

ENGINES = tuple(e.value for e in Engine)
# what auto's unbounded side runs, in order, each on the properties still open, after
# asking whether every run ends (kind.runs_end: a ranking function checked in one step,
# else an unrolling to the bound).  When they do, kind alone: BMC to that length
# settles every property (every shipped spec/configuration but w4 and the other-writes
# ones, whose counters wrap).  When runs
# go on (w4's other writes, a wrapping counter): k-induction to k = 2 first (cheap,
# and its "k-inductive at k=1" reads better than any invariant), then Spacer (it
# proved w4's no_early_return in 15 s, where k-induction over the ghost clock gets
# nowhere), then k-induction to the bound.  Each gets an equal share of what is left.
UNBOUNDED: tuple[tuple[Engine, int | None], ...] = (
    (Engine.KIND, 2), (Engine.CHC, None), (Engine.KIND, None),
)  # fmt: skip
GRACE = 5.0  # seconds past the timeout before a process that does not stop is killed
# auto without --timeout: the unbounded side's budget; past it BMC's bounded verdicts stand
UNBOUNDED_BUDGET = 300.0


@dataclass(frozen=True, slots=True)
class Outcome:
    results: tuple[Result, ...]
    # one per result proved (or unreachable) for all depths: what proves it, re-checked
    certificates: tuple[Certificate, ...]


def prove(
    ts: TransitionSystem,
    options: Options,
    progress: Callable[[Progress], None] | None = None,
) -> tuple[Result, ...]:
    """One Result per selected property, in spec order.  Never prints.

    Raises ValueError for an engine that does not exist or an unknown property name;
    :class:`fusever.encode.EncodingBug` when a trace does not replay (a bug in fusever).
    """
    return prove_certified(ts, options, progress).results


def prove_certified(
    ts: TransitionSystem,
    options: Options,
    progress: Callable[[Progress], None] | None = None,
) -> Outcome:
    """:func:`prove`, with the certificate of every proof for all depths (to store in
    proofs/ and re-check with :func:`fusever.certificate.recheck`).  ``options`` is
    resolved here, once, into the :class:`~fusever.job.Job` every engine runs from."""
    return run(Job.resolve(ts, options), progress)


def run(job: Job, progress: Callable[[Progress], None] | None = None) -> Outcome:
    """The job, by its engine."""
    match job.engine:
        case Engine.BMC:
            return Outcome(bmc.run(job, progress).results, ())
        case Engine.KIND:
            k = kind.run(job, progress)
            return Outcome(k.results, k.certificates)
        case Engine.CHC:
            c = chc.run(job, progress)
            return Outcome(c.results, c.certificates)
        case Engine.EXPLICIT:
            found = narrow.explicit_search(job, progress)
            if job.cross_check:
                cross_check(job.ts, found, bmc.run(job).results, job.bound)
            return Outcome(found, ())
        case Engine.AUTO:
            return _auto(job, progress)
        case _:
            assert_never(job.engine)


class Disagreement(Exception):
    """Two engines disagree on a verdict: a bug in fusever, never a finding (exit 4)."""


def cross_check(
    ts: TransitionSystem, found: Sequence[Result], bounded: Sequence[Result], depth: int
) -> None:
    """Explicit's results (unbounded) against BMC's to ``depth``: a trace within the
    depth must be BMC's too, at the same step; none within it, BMC must find none.
    Unknowns on either side are skipped.  Raises :class:`Disagreement`."""
    for e, b in zip(found, bounded, strict=True):
        if Verdict.UNKNOWN in (e.verdict, b.verdict):
            continue
        if e.step is not None and e.step <= depth:
            ok = (e.verdict, e.step) == (b.verdict, b.step)
        else:
            ok = b.verdict in (Verdict.PROVED, Verdict.UNREACHABLE)
        if not ok:

            def said(r: Result) -> str:
                return r.verdict.value + ("" if r.step is None else f" at step {r.step}")

            raise Disagreement(
                f"{ts.key}: {e.property}: explicit says {said(e)}, "
                f"bmc to depth {depth} says {said(b)}"
            )


def disagreements(
    ts: TransitionSystem, bound: int, state_limit: int = 1_000_000
) -> tuple[str, ...] | None:
    """Two engines, one verdict: explicit's search to ``bound`` steps against BMC to
    depth ``bound``.  Every goal must get the same verdict and the same (shortest)
    step, explicit must decide every goal within the bound, and each of its traces
    must replay.  Explicit searches a free 64-bit start narrowed
    (:func:`fusever.narrow.explicit_search`), against BMC on the 64-bit system.
    Returns what differs (empty: they agree), or None when explicit refuses the
    configuration (two free starts of wide counters): nothing to compare."""
    from fusever import interpret

    job = Job.resolve(ts, Options(depth=bound, state_limit=state_limit))
    ex = narrow.explicit_search(job, bound=bound)
    if refused(ex):
        return None
    bm = bmc.run(job).results
    out: list[str] = []
    for e, b in zip(ex, bm, strict=True):
        if e.verdict is Verdict.UNKNOWN:
            out.append(f"{e.property}: explicit undecided ({e.reason})")
        elif (e.verdict, e.step) != (b.verdict, b.step):
            out.append(
                f"{e.property}: explicit {e.verdict.value} at {e.step}, bmc {b.verdict.value} at {b.step}"
            )
        elif e.trace is not None:
            if len(e.trace) - 1 != e.step:
                out.append(
                    f"{e.property}: explicit's trace has {len(e.trace) - 1} steps, not {e.step}"
                )
            try:
                interpret.replay(ts, e.trace, ts.property(e.property))
            except interpret.ReplayError as err:
                out.append(f"{e.property}: explicit's trace does not replay ({err})")
    return tuple(out)


def unbounded(job: Job) -> Outcome:
    """The unbounded engines in turn (:data:`UNBOUNDED`), each on what is still open
    and with an equal share of what is left of the time; a property none proves is
    ``unknown``."""
    start = time.monotonic()
    ts, names, bound = job.ts, job.names, job.bound
    longest = kind.runs_end(ts, bound, job.share(0.5, start), job.seed)
    if longest.steps is not None:
        k = kind.run(job, bounded=False, longest=longest)
        return Outcome(k.results, k.certificates)
    done: dict[str, Result] = {}
    last: dict[str, Result] = {}
    certs: list[Certificate] = []
    for i, (engine, most) in enumerate(UNBOUNDED):
        open_ = tuple(n for n in names if n not in done)
        if not open_ or job.expired():
            break
        sub = job.only(open_).on(engine).by(job.share(1 / (len(UNBOUNDED) - i)))
        got: chc.ChcOutcome | kind.KindOutcome
        if engine is Engine.CHC:
            got = chc.run(sub)
        elif most is not None and most < bound:
            got = kind.run(sub.to(most), bounded=False)
        else:
            got = kind.run(sub, bounded=False, longest=longest)
        certs.extend(got.certificates)
        for r in got.results:
            last[r.property] = r
            if r.complete or r.verdict in (Verdict.VIOLATED, Verdict.COVERED):
                done[r.property] = r
    out: list[Result] = []
    for n in names:
        found = done[n] if n in done else last.get(n)
        out.append(found if found is not None else _unknown(ts, n, start, "timeout"))
    return Outcome(tuple(out), tuple(certs))


def _unknown(ts: TransitionSystem, name: str, start: float, reason: str) -> Result:
    p = ts.property(name)
    return Result.about(
        ts,
        p,
        Verdict.UNKNOWN,
        engine="auto",
        seconds=time.monotonic() - start,
        bound=0,
        reason=reason,
    )


def _conclusive_bmc(r: Result) -> bool:
    return r.verdict in (Verdict.VIOLATED, Verdict.COVERED)


def _conclusive_proof(r: Result) -> bool:
    return r.complete and r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE)


def merge(
    names: Sequence[str],
    bounded: dict[str, Result],
    proofs: dict[str, Result],
    timed_out: Callable[[str], Result],
    within: int | None = None,
) -> tuple[Result, ...]:
    """Auto's fixed rule, per property (see the module docstring).  With ``within``
    (the user's ``--depth``), no trace longer than it is taken from the unbounded side:
    BMC's bounded verdict to that depth stands instead."""
    out: list[Result] = []
    for n in names:
        b, u = bounded.get(n), proofs.get(n)
        if b is not None and _conclusive_bmc(b):
            if u is not None and _conclusive_proof(u):
                raise EncodingBug(
                    f"{b.spec}: {n}: bmc finds a trace at step {b.step}, "
                    f"{u.engine} proves it for all depths ({u.reason})"
                )
            out.append(b)
        elif u is not None and _conclusive_proof(u):
            out.append(u)
        elif u is not None and _conclusive_bmc(u) and (within is None or (u.step or 0) <= within):
            out.append(u)  # beyond BMC's bound: chc's failure, traced by its own BMC run
        elif b is not None:
            out.append(b)
        elif u is not None:
            out.append(u)
        else:
            out.append(timed_out(n))
    return tuple(out)


# auto's first try: the explicit engine, up to this many states; what it decides
# (complete verdicts, shortest traces) stands, and only the rest goes to the SMT side.
# A free 64-bit start searched narrowed takes 514,708 (fuse_wrapsafe's w64_free, 40 of
# its 64 narrow starts); the four_writers configurations (1.1 to 3 million) stay the
# SMT side's
AUTO_STATE_LIMIT = 1_000_000


def _auto(job: Job, progress: Callable[[Progress], None] | None) -> Outcome:
    start = time.monotonic()
    names = job.names
    # the user's --depth bounds the search for traces on every side (explicit stops
    # there unless the reachable set ends first); a proof for all depths still counts
    first_job = replace(
        job.on(Engine.EXPLICIT).by(job.share(1 / 3, start)),
        state_limit=job.state_limit or AUTO_STATE_LIMIT,
    )
    first = narrow.explicit_search(first_job, progress, bound=job.within)
    decided = {r.property: r for r in first if _decided(r)}
    if len(decided) == len(names):
        return Outcome(first, ())
    rest = [n for n in names if n not in decided]
    out = _auto_smt(job.only(rest), progress)
    # why the explicit search did not decide them (refused, its state limit, its share
    # of the time) goes first in the reason of a result it left to the SMT side
    not_explicit = {r.property: r.reason for r in first if r.verdict is Verdict.UNKNOWN}
    smt = {
        r.property: r
        if r.complete
        or r.verdict not in (Verdict.PROVED, Verdict.UNREACHABLE)
        or not r.reason
        or not not_explicit.get(r.property)
        else replace(r, reason=f"explicit: {not_explicit[r.property]}; {r.reason}")
        for r in out.results
    }
    by_name = {**decided, **smt}
    return Outcome(tuple(by_name[n] for n in names), out.certificates)


def _decided(r: Result) -> bool:
    """What auto takes from explicit without asking the SMT side: a trace, or a verdict
    for all depths (a bounded "holds", with --depth, may still be proved for all)."""
    return r.verdict is not Verdict.UNKNOWN and (
        r.complete or r.verdict in (Verdict.VIOLATED, Verdict.COVERED)
    )


def _auto_smt(job: Job, progress: Callable[[Progress], None] | None) -> Outcome:
    """auto's SMT side: BMC for counterexamples beside the unbounded engines."""
    start = time.monotonic()
    ts, names = job.ts, job.names
    bmc_job = job.on(Engine.BMC)

    def timed_out(n: str) -> Result:
        return _unknown(ts, n, start, "timeout")

    # the unbounded side's time: the user's timeout, or a budget of its own
    u_job = job if job.deadline is not None else job.by(start + UNBOUNDED_BUDGET)
    budget = u_job.left(start) or 0.0

    ctx = _context()
    if ctx is None:
        b = {r.property: r for r in bmc.run(bmc_job, progress).results}
        open_ = tuple(n for n in names if not _conclusive_bmc(b[n]))
        u = Outcome((), ())
        if open_:
            u = unbounded(u_job.only(open_))
    else:
        try:
            b, u = _side_by_side(ctx, u_job, bmc_job, progress)
        except _SidesInterrupted as e:
            # the sides that finished (BMC, often) are what was decided; the rest open
            def interrupted(n: str) -> Result:
                return _unknown(ts, n, start, "interrupted")

            b = {r.property: r for r in e.bmc.results}
            unb = {r.property: r for r in e.unbounded.results}
            merged = merge(names, b, unb, interrupted, within=job.within)
            raise Interrupted(merged) from None
    unbounded_by_name = {r.property: r for r in u.results}
    results = merge(names, b, unbounded_by_name, timed_out, within=job.within)
    results = tuple(_why_bounded(r, unbounded_by_name.get(r.property), budget) for r in results)
    proved = {r.property for r in results if _conclusive_proof(r)}
    return Outcome(results, tuple(c for c in u.certificates if c.property in proved))


def _why_bounded(r: Result, unbounded: Result | None, budget: float) -> Result:
    """A bounded "holds" (BMC's, where the unbounded engines did not decide) says so,
    and what to try next: auto never lets a bound read like a proof."""
    if r.complete or r.verdict not in (Verdict.PROVED, Verdict.UNREACHABLE):
        return r
    why = unbounded.reason if unbounded is not None and unbounded.reason else "no answer"
    return replace(
        r,
        reason=f"BMC to depth {r.bound} only: k-induction and Spacer did not decide it within "
        f"their budget of {budget:.3g} s ({why}); try a larger --timeout, or --engine kind / chc",
    )


PARTIAL_GRACE = 1.5  # seconds an interrupted side has to hand over what it decided


def _collect_partial(procs: dict[str, Any], got: dict[str, Outcome], q: Any) -> None:
    """After an interrupt: SIGINT to each side still running, so that it stops its
    solver and hands over what it had decided (:class:`Interrupted`), for a moment;
    whatever does not come by then is lost (the caller terminates the sides)."""
    for name, p in procs.items():
        if name not in got and p.is_alive() and p.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(p.pid, signal.SIGINT)
    end = time.monotonic() + PARTIAL_GRACE
    while len(got) < len(procs) and time.monotonic() < end:
        try:
            side, kind_, payload = q.get(timeout=max(0.05, end - time.monotonic()))
        except queue.Empty:
            if not any(p.is_alive() for n, p in procs.items() if n not in got):
                return
            continue
        if kind_ == "results":
            got[side] = payload
        elif kind_ == "error" and isinstance(payload, Interrupted):
            got[side] = Outcome(payload.results, ())


class _SidesInterrupted(KeyboardInterrupt):
    def __init__(self, bmc: Outcome, unbounded: Outcome) -> None:
        super().__init__()
        self.bmc = bmc
        self.unbounded = unbounded


def _context() -> multiprocessing.context.BaseContext | None:
    """Fork where there is one (cheap; no threads of ours to lose), else spawn; None
    where this process may have no children (a daemonic pool worker)."""
    if multiprocessing.current_process().daemon:
        return None
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _side_by_side(
    ctx: multiprocessing.context.BaseContext,
    u_job: Job,
    bmc_job: Job,
    progress: Callable[[Progress], None] | None,
) -> tuple[dict[str, Result], Outcome]:
    q: Any = ctx.Queue()
    procs = {
        "bmc": ctx.Process(target=_worker, args=("bmc", bmc_job, q), daemon=True),  # type: ignore[attr-defined]
        "unbounded": ctx.Process(target=_worker, args=("unbounded", u_job, q), daemon=True),  # type: ignore[attr-defined]
    }
    for p in procs.values():
        p.start()
    got: dict[str, Outcome] = {}
    # BMC has no deadline unless the user gave one; the unbounded side always has one
    deadline = None if bmc_job.deadline is None else bmc_job.deadline + GRACE
    error: BaseException | None = None
    interrupted = False
    try:
        while len(got) < len(procs):
            wait = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                side, kind_, payload = q.get(timeout=wait)
            except queue.Empty:
                if not any(p.is_alive() for n, p in procs.items() if n not in got):
                    break  # a side died without a word (killed): it has no results
                continue
            if kind_ == "progress":
                if progress is not None:
                    progress(payload)
                continue
            if kind_ == "error":
                error = payload
                if isinstance(payload, Interrupted):  # a side stopped by SIGINT: what it decided
                    got[side] = Outcome(payload.results, ())
                break
            got[side] = payload
            if _settles_all(side, payload):
                break  # the other side has nothing left to add
    except KeyboardInterrupt:
        interrupted = True
        _collect_partial(procs, got, q)
    finally:
        _stop(procs, q)
    if interrupted or isinstance(error, KeyboardInterrupt):
        raise _SidesInterrupted(
            got.get("bmc", Outcome((), ())), got.get("unbounded", Outcome((), ()))
        )
    if error is not None:
        raise error
    b = got.get("bmc", Outcome((), ()))
    return {r.property: r for r in b.results}, got.get("unbounded", Outcome((), ()))


def _settles_all(side: str, out: Outcome) -> bool:
    """One side's outcome decides every property: BMC found every violation and
    witness, or the unbounded side proved everything."""
    if side == "bmc":
        return all(_conclusive_bmc(r) for r in out.results)
    return all(_conclusive_proof(r) for r in out.results)


def _stop(procs: Mapping[str, Any], q: Any) -> None:
    """Both sides gone: terminated, then killed after :data:`GRACE` seconds."""
    for p in procs.values():
        if p.is_alive():
            p.terminate()
    for p in procs.values():
        p.join(timeout=GRACE)
        if p.is_alive():
            p.kill()
            p.join()
    q.close()


def child_process_setup() -> None:
    """In a worker process: SIGTERM kills it at once (the parent's handler, inherited
    by fork, would keep it solving), its signals no longer wake the parent's watcher,
    and on Linux it dies with its parent, so no worker outlives an interrupted run."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(ValueError):  # not the main thread: nothing inherited
        signal.set_wakeup_fd(-1)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers die with the run: an exception or an interrupt
    in the body kills them at once (``shutdown`` alone waits for the running jobs,
    which may solve for minutes), and each is set up by :func:`child_process_setup`."""
    pool = ProcessPoolExecutor(max_workers=workers, initializer=child_process_setup)
    try:
        yield pool
    except BaseException:
        for p in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError):
                p.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# how long the main thread waits on a pool before it looks at signals again
POLL = 0.2


def finished(futures: Mapping[Future[_T], int]) -> Iterator[Future[_T]]:
    """``futures`` as they finish (ordered by their values among those that finish
    together).  Never one wait without a timeout: CPython runs a signal's handler when
    a blocked wait returns, and a signal that is only flagged, not delivered to the
    waiting thread (``_thread.interrupt_main``), or that arrives between the last check
    and the wait, would otherwise wait for a job to end, which may take minutes."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=POLL, return_when=FIRST_COMPLETED)
        yield from sorted(done, key=futures.__getitem__)


def in_order(
    pool: ProcessPoolExecutor, fn: Callable[[_A], _T], items: Iterable[_A]
) -> Iterator[_T]:
    """``pool.map(fn, items)``, its results in ``items``' order, each one as soon as
    it and those before it are done, waiting as :func:`finished` does."""
    futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
    ready: dict[int, _T] = {}
    nxt = 0
    for future in finished(futures):
        ready[futures[future]] = future.result()
        while nxt in ready:
            yield ready.pop(nxt)
            nxt += 1


def _worker(side: str, job: Job, q: Any) -> None:
    """One side of auto, in its own process: its results (or its exception) on ``q``."""
    child_process_setup()
    try:
        if side == "bmc":

            def forward(p: Progress) -> None:
                q.put((side, "progress", p))

            out = Outcome(bmc.run(job, forward).results, ())
        else:
            out = unbounded(job)
        q.put((side, "results", out))
    except BaseException as e:  # handed to the parent, which raises it
        q.put((side, "error", e))
