"""A configuration's depth bounds traces, never completeness (issue 29).

``auto`` (:func:`fusever.engines.prove`) decides a property for all depths where the
explicit search exhausts the reachable states, or where every run ends within the
bound (BMC to the longest run is then complete).  A configuration's ``depth`` is
sized for the spec it was written for; a variant whose runs are a few steps longer
would get a bounded "holds (to 16)" where a complete verdict is in reach.  So
:func:`prove`, on what auto left bounded, asks how long runs are past the depth
(:func:`fusever.kind.longest_run`, up to :data:`FACTOR` times it) and, where they
end, proves those properties again to that length: complete verdicts, and any
trace up to it.  Where the runs end but the second run still leaves a property
bounded, its reason names the depth that would decide it.

It wraps the engines instead of changing :mod:`fusever.engines`, whose code every
recorded merge check is fingerprinted with.  Used by ``fusever prove`` (through
:mod:`fusever.jobs`); an explicit ``--depth`` or another engine than auto is left as
asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from fusever import engines, kind
from fusever.ts import TransitionSystem
from fusever.verdict import Engine, Options, Progress, Result, Verdict

__all__ = ["FACTOR", "MOST", "prove"]

FACTOR = 4  # how far past the depth runs are measured: this many times it
MOST = 200  # and at most this many steps


def _bounded(r: Result) -> bool:
    return not r.complete and r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE)


def prove(
    ts: TransitionSystem, options: Options, progress: Callable[[Progress], None] | None = None
) -> tuple[Result, ...]:
    """:func:`fusever.engines.prove`, and with ``auto`` and no ``--depth``, what it
    left bounded decided again past the depth where every run ends."""
    start = time.monotonic()
    results = engines.prove(ts, options, progress)
    if options.engine is not Engine.AUTO or options.depth is not None:
        return results
    open_ = tuple(r.property for r in results if _bounded(r))
    if not open_:
        return results
    deadline = None if options.timeout is None else start + options.timeout
    left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
    if left == 0.0:
        return results
    limit = min(max(ts.depth * FACTOR, ts.depth + 1), max(MOST, ts.depth + 1))
    longest = kind.longest_run(
        ts, limit, None if left is None else time.monotonic() + left / 2, options.seed
    )
    if longest.steps is None or longest.steps <= ts.depth:
        return results
    steps = longest.steps
    # the explicit search already left these open: straight to the SMT side
    again = engines.prove(
        ts,
        replace(options, depth=steps, properties=open_, state_limit=1,
                timeout=None if left is None else left / 2),
        progress,
    )  # fmt: skip
    by_name = {r.property: r for r in again}
    hint = f"every run ends within {steps} steps: --depth {steps} decides it for all depths"
    out: list[Result] = []
    for r in results:
        if r.property not in by_name:
            out.append(r)
            continue
        n = by_name[r.property]
        if _bounded(n):
            n = replace(n, reason=f"{n.reason}; {hint}" if n.reason else hint)
        out.append(n)
    return tuple(out)
