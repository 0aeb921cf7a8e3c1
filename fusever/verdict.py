"""What an engine concludes about one property: plain data, no Z3.

Engines return :class:`Result` values; :mod:`fusever.report` formats them.
"""

from __future__ import annotations

import builtins
import enum
from dataclasses import dataclass

from fusever.ts import Property, PropKind, Trace, TransitionSystem, Value, config_key


class Verdict(enum.Enum):
    PROVED = "proved"  # invariant/transition: no violation (``complete`` says for all depths)
    VIOLATED = "violated"  # invariant/transition: a replayed counterexample
    COVERED = "covered"  # cover goal: a replayed witness
    UNREACHABLE = (
        "unreachable"  # cover goal: no witness (within ``bound``, or ever if ``complete``)
    )
    UNKNOWN = "unknown"  # timeout or the solver gave up


@dataclass(frozen=True, slots=True)
class Result:
    spec: str
    file: str
    settings: tuple[tuple[str, int | bool], ...]
    property: str
    kind: PropKind
    verdict: Verdict
    complete: bool  # True: holds (or is unreachable) for all depths
    bound: int  # the depth searched
    step: int | None  # the violating/covering step, when there is a trace
    engine: str
    seconds: float
    trace: Trace | None = None
    # the quantified variables at which the property fails, e.g. (("f", 1),)
    instance: tuple[tuple[str, Value], ...] = ()
    reason: str | None = None  # why unknown, or what proved it (k, invariant)
    description: str | None = None
    config: str | None = None  # the configuration (``--config``), None for the default

    @builtins.property  # plain `property` is the field above
    def key(self) -> str:
        """``spec`` or ``spec.config``, as :attr:`fusever.ts.TransitionSystem.key`."""
        return config_key(self.spec, self.config)

    @classmethod
    def about(
        cls,
        ts: TransitionSystem,
        p: Property,
        verdict: Verdict,
        *,
        engine: str,
        seconds: float,
        bound: int,
        complete: bool = False,
        step: int | None = None,
        trace: Trace | None = None,
        instance: tuple[tuple[str, Value], ...] = (),
        reason: str | None = None,
    ) -> Result:
        """A result on property ``p`` of ``ts``: the spec's identity (name, file,
        settings, configuration) and the property's (name, kind, description) are
        copied here, in one place, for every engine."""
        return cls(
            spec=ts.name,
            file=ts.path,
            settings=ts.settings,
            property=p.name,
            kind=p.kind,
            verdict=verdict,
            complete=complete,
            bound=bound,
            step=step,
            engine=engine,
            seconds=round(seconds, 3),
            trace=trace,
            instance=instance,
            reason=reason,
            description=p.description,
            config=ts.config,
        )


class Engine(enum.StrEnum):
    """The engines :func:`fusever.engines.prove` runs (see its module docstring)."""

    BMC = "bmc"
    KIND = "kind"
    CHC = "chc"
    EXPLICIT = "explicit"
    AUTO = "auto"

    @classmethod
    def named(cls, name: str) -> Engine:
        """The engine called ``name``; ValueError naming the engines for any other."""
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(e.value for e in cls)
            raise ValueError(f"unknown engine {name}; one of {known}") from None


@dataclass(frozen=True, slots=True)
class Options:
    """How to check one spec; ``None`` means the spec's own default."""

    depth: int | None = None
    properties: tuple[str, ...] | None = None  # None: every property
    timeout: float | None = None  # seconds for the whole spec; past it, open properties are unknown
    engine: Engine = Engine.AUTO  # as the command line's default
    seed: int = 0  # the solver's random seed: fixed, so runs are deterministic
    state_limit: int | None = None  # explicit engine: states visited at most (None: its default)
    cross_check: bool = False  # explicit engine: also BMC to the depth; a disagreement is a bug


@dataclass(frozen=True, slots=True)
class Progress:
    """Sent by an engine as it works (the CLI shows it on stderr); engines never print."""

    spec: str
    depth: int
    seconds: float
    open_properties: int


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped an engine: ``results`` holds what it had decided, and
    ``unknown`` with reason ``interrupted`` for the rest (one per selected property).
    Still a KeyboardInterrupt, so whoever does not look at the results stops too."""

    def __init__(self, results: tuple[Result, ...]) -> None:
        super().__init__(results)
        self.results = results

    def __reduce__(self) -> tuple[type[Interrupted], tuple[tuple[Result, ...]]]:
        return (Interrupted, (self.results,))
