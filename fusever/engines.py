"""The engines behind ``fusever prove``: one entry point, :func:`prove`.

- ``bmc`` (:mod:`fusever.bmc`): bounded; shortest, replayed counterexamples.
- ``kind`` (:mod:`fusever.kind`): k-induction, for all depths; BMC is its base case.
- ``chc`` (:mod:`fusever.chc`): Z3's Spacer; an invariant in spec syntax.
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

import multiprocessing
import multiprocessing.context
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fusever import bmc, chc, kind
from fusever.certificate import Certificate
from fusever.encode import EncodingBug
from fusever.ts import TransitionSystem
from fusever.verdict import Options, Progress, Result, Verdict

__all__ = ["ENGINES", "UNBOUNDED", "Outcome", "prove", "prove_certified"]

ENGINES = ("bmc", "kind", "chc", "auto")
# what auto's unbounded side runs, in order, each on the properties still open, after
# asking whether every run ends within the bound (kind.longest_run).  When they do,
# kind alone: the base case to that length settles every property (every spec/
# configuration but w4; fuse_v2's default in 40 s, the re-check included).  When runs
# go on (w4's other writes, a wrapping counter): k-induction to k = 2 first (cheap,
# and its "k-inductive at k=1" reads better than any invariant), then Spacer (it
# proved w4's no_early_return in 15 s, where k-induction over the ghost clock gets
# nowhere), then k-induction to the bound.  Each gets an equal share of what is left.
UNBOUNDED: tuple[tuple[str, int | None], ...] = (("kind", 2), ("chc", None), ("kind", None))
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
    proofs/ and re-check with :func:`fusever.certificate.recheck`)."""
    match options.engine:
        case "bmc":
            return Outcome(bmc.run(ts, options, progress).results, ())
        case "kind":
            k = kind.run(ts, options, progress)
            return Outcome(k.results, k.certificates)
        case "chc":
            c = chc.run(ts, options, progress)
            return Outcome(c.results, c.certificates)
        case "auto":
            return _auto(ts, options, progress)
        case other:
            raise ValueError(f"unknown engine {other}; one of {', '.join(ENGINES)}")


def unbounded(ts: TransitionSystem, options: Options) -> Outcome:
    """The unbounded engines in turn (:data:`UNBOUNDED`), each on what is still open
    and with what is left of the time; a property none proves is ``unknown``."""
    start = time.monotonic()
    names = [p.name for p in bmc.select_properties(ts, options.properties)]
    bound = ts.depth if options.depth is None else options.depth
    deadline = None if options.timeout is None else start + options.timeout / 2
    longest = kind.longest_run(ts, bound, deadline, options.seed)
    if longest.steps is not None:
        k = kind.run(ts, options, bounded=False, longest=longest)
        return Outcome(k.results, k.certificates)
    done: dict[str, Result] = {}
    last: dict[str, Result] = {}
    certs: list[Certificate] = []
    for i, (engine, most) in enumerate(UNBOUNDED):
        open_ = tuple(n for n in names if n not in done)
        if not open_:
            break
        timeout = None
        if options.timeout is not None:
            left = options.timeout - (time.monotonic() - start)
            if left <= 0:
                break
            timeout = left / (len(UNBOUNDED) - i)  # an equal share of what is left
        o = replace(options, properties=open_, timeout=timeout, engine=engine)
        got: chc.ChcOutcome | kind.KindOutcome
        if engine == "chc":
            got = chc.run(ts, o)
        elif most is not None and most < bound:
            got = kind.run(ts, replace(o, depth=most), bounded=False)
        else:
            got = kind.run(ts, o, bounded=False, longest=longest)
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
        ts, p, Verdict.UNKNOWN, engine="auto", seconds=time.monotonic() - start, bound=0,
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
) -> tuple[Result, ...]:
    """Auto's fixed rule, per property (see the module docstring)."""
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
        elif u is not None and _conclusive_bmc(u):
            out.append(u)  # beyond BMC's bound: chc's failure, traced by its own BMC run
        elif b is not None:
            out.append(b)
        elif u is not None:
            out.append(u)
        else:
            out.append(timed_out(n))
    return tuple(out)


def _auto(
    ts: TransitionSystem, options: Options, progress: Callable[[Progress], None] | None
) -> Outcome:
    start = time.monotonic()
    names = [p.name for p in bmc.select_properties(ts, options.properties)]
    bmc_options = replace(options, engine="bmc")

    def timed_out(n: str) -> Result:
        return _unknown(ts, n, start, "timeout")

    # the unbounded side's time: the user's timeout, or a budget of its own
    budget = UNBOUNDED_BUDGET if options.timeout is None else options.timeout
    u_options = replace(options, timeout=budget)

    ctx = _context()
    if ctx is None:
        b = {r.property: r for r in bmc.run(ts, bmc_options, progress).results}
        open_ = tuple(n for n in names if not _conclusive_bmc(b[n]))
        u = Outcome((), ())
        if open_:
            left = max(0.001, budget - (time.monotonic() - start))
            u = unbounded(ts, replace(options, properties=open_, timeout=left))
    else:
        b, u = _side_by_side(ctx, ts, u_options, bmc_options, progress)
    results = merge(names, b, {r.property: r for r in u.results}, timed_out)
    proved = {r.property for r in results if _conclusive_proof(r)}
    return Outcome(results, tuple(c for c in u.certificates if c.property in proved))


def _context() -> multiprocessing.context.BaseContext | None:
    """Fork where there is one (cheap; no threads of ours to lose), else spawn; None
    where this process may have no children (a daemonic pool worker)."""
    if multiprocessing.current_process().daemon:
        return None
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _side_by_side(
    ctx: multiprocessing.context.BaseContext,
    ts: TransitionSystem,
    u_options: Options,
    bmc_options: Options,
    progress: Callable[[Progress], None] | None,
) -> tuple[dict[str, Result], Outcome]:
    q: Any = ctx.Queue()
    procs = {
        "bmc": ctx.Process(target=_worker, args=("bmc", ts, bmc_options, q), daemon=True),  # type: ignore[attr-defined]
        "unbounded": ctx.Process(target=_worker, args=("unbounded", ts, u_options, q), daemon=True),  # type: ignore[attr-defined]
    }
    for p in procs.values():
        p.start()
    got: dict[str, Outcome] = {}
    # BMC has no deadline unless the user gave one; the unbounded side always has one
    deadline = (
        None if bmc_options.timeout is None else time.monotonic() + bmc_options.timeout + GRACE
    )
    error: BaseException | None = None
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
                break
            got[side] = payload
            # one side settled everything: the other has nothing left to add
            if side == "bmc" and all(_conclusive_bmc(r) for r in payload.results):
                break
            if side == "unbounded" and all(_conclusive_proof(r) for r in payload.results):
                break
    finally:
        for p in procs.values():
            if p.is_alive():
                p.terminate()
        for p in procs.values():
            p.join(timeout=GRACE)
            if p.is_alive():
                p.kill()
                p.join()
        q.close()
    if error is not None:
        raise error
    b = got.get("bmc", Outcome((), ()))
    return {r.property: r for r in b.results}, got.get("unbounded", Outcome((), ()))


def _worker(side: str, ts: TransitionSystem, options: Options, q: Any) -> None:
    """One side of auto, in its own process: its results (or its exception) on ``q``."""
    try:
        if side == "bmc":

            def forward(p: Progress) -> None:
                q.put((side, "progress", p))

            out = Outcome(bmc.run(ts, options, forward).results, ())
        else:
            out = unbounded(ts, options)
        q.put((side, "results", out))
    except BaseException as e:  # handed to the parent, which raises it
        q.put((side, "error", e))
