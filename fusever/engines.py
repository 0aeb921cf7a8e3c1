"""The engines behind ``fusever prove``: one entry point, :func:`prove`.

``bmc`` (:mod:`fusever.bmc`) is the bounded engine.  ``auto`` is the best engine
available: for now that is ``bmc``.  The unbounded engines (k-induction, Z3's CHC
engine) will live in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable

from fusever import bmc, chc, kind
from fusever.ts import TransitionSystem
from fusever.verdict import Options, Progress, Result

__all__ = ["ENGINES", "prove"]

ENGINES = ("bmc", "kind", "chc", "auto")


def prove(
    ts: TransitionSystem,
    options: Options,
    progress: Callable[[Progress], None] | None = None,
) -> tuple[Result, ...]:
    """One Result per selected property, in spec order.  Never prints.

    Raises ValueError for an engine that does not exist yet or an unknown property name;
    :class:`fusever.encode.EncodingBug` when a trace does not replay (a bug in fusever).
    """
    match options.engine:
        case "bmc" | "auto":
            return bmc.run(ts, options, progress).results
        case "kind":
            return kind.run(ts, options, progress).results
        case "chc":
            return chc.run(ts, options, progress).results
        case other:
            raise ValueError(f"unknown engine {other}; one of bmc, kind, chc, auto")
