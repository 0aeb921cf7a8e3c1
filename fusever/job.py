"""One check, resolved once: what every engine runs from.

:class:`fusever.verdict.Options` is a request as a user states it (a depth or the
spec's, property names or all, a timeout in seconds from now).  :meth:`Job.resolve`
turns it into a :class:`Job` at the moment the check starts: the transition system,
the selected properties in spec order, the bound, an *absolute* deadline
(``time.monotonic()`` seconds, or None), the solver's seed and an :class:`Engine`.
From there down to the solver call the budget has this one form: an engine narrows a
job (:meth:`Job.only`, :meth:`Job.to`, :meth:`Job.by`) and passes it on, and
:func:`fusever.solvers.set_deadline` alone turns the deadline into Z3's milliseconds.
No engine reads a timeout in seconds or rebuilds options.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from fusever.ts import Property, TransitionSystem
from fusever.verdict import Engine, Options

__all__ = ["Engine", "Job", "select_properties"]


def select_properties(ts: TransitionSystem, names: Iterable[str] | None) -> tuple[Property, ...]:
    """The properties ``names`` selects, in spec order; every one of them when None.
    ValueError for a name the spec does not have."""
    if names is None:
        return ts.properties
    wanted = set(names)
    known = {p.name for p in ts.properties}
    for n in sorted(wanted - known):
        raise ValueError(f"{ts.name} has no property named {n}")
    return tuple(p for p in ts.properties if p.name in wanted)


@dataclass(frozen=True, slots=True)
class Job:
    """One check of ``properties`` of ``ts``: up to ``bound`` steps, by ``engine``,
    until ``deadline`` (``time.monotonic()`` seconds; None: no limit)."""

    ts: TransitionSystem
    properties: tuple[Property, ...]  # selected, in spec order
    bound: int  # the depth searched (the user's --depth, else the spec's)
    deadline: float | None
    engine: Engine = Engine.AUTO
    seed: int = 0  # the solver's random seed: fixed, so runs are deterministic
    # the user's --depth, None when the spec's depth is the bound: auto takes no trace
    # longer than it from an unbounded engine, and explicit stops there
    within: int | None = None
    state_limit: int | None = None  # explicit engine: states visited at most
    cross_check: bool = False  # explicit engine: also BMC to the bound

    @classmethod
    def resolve(cls, ts: TransitionSystem, options: Options, now: float | None = None) -> Job:
        """``options`` as a job starting ``now`` (default: this moment).  ValueError for
        an unknown engine or property, or a negative depth."""
        start = time.monotonic() if now is None else now
        bound = ts.depth if options.depth is None else options.depth
        if bound < 0:
            raise ValueError(f"depth must be at least 0, not {bound}")
        return cls(
            ts=ts,
            properties=select_properties(ts, options.properties),
            bound=bound,
            deadline=None if options.timeout is None else start + options.timeout,
            engine=Engine.named(options.engine),
            seed=options.seed,
            within=options.depth,
            state_limit=options.state_limit,
            cross_check=options.cross_check,
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.properties)

    def only(self, names: Iterable[str]) -> Job:
        """This job on the properties named (kept in spec order)."""
        return replace(self, properties=select_properties(self.ts, names))

    def to(self, bound: int) -> Job:
        """This job up to ``bound`` steps."""
        if bound < 0:
            raise ValueError(f"depth must be at least 0, not {bound}")
        return replace(self, bound=bound)

    def by(self, deadline: float | None) -> Job:
        """This job with ``deadline``, never later than its own."""
        if self.deadline is not None and (deadline is None or deadline > self.deadline):
            deadline = self.deadline
        return replace(self, deadline=deadline)

    def on(self, engine: Engine) -> Job:
        return replace(self, engine=engine)

    def left(self, now: float | None = None) -> float | None:
        """Seconds until the deadline (0 once passed); None without one."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - (time.monotonic() if now is None else now))

    def expired(self, now: float | None = None) -> bool:
        left = self.left(now)
        return left is not None and left <= 0.0

    def share(self, fraction: float, now: float | None = None) -> float | None:
        """The deadline of ``fraction`` of the time left (None without a deadline)."""
        start = time.monotonic() if now is None else now
        left = self.left(start)
        return None if left is None else start + left * fraction
