"""``fusever review``: what proofs/ records about one spec, against the variants it
is compared with, as data for a one-page review (formatted by
:mod:`fusever.report_review`).

Per property of the spec (cover goals aside): the configurations where it holds and
where it fails (with each counterexample's step), its shortest counterexample that
replays (:func:`fusever.claims.replayed`: the recorded actions run again by the
interpreter, never a made-up trace), and for each compared variant whether it holds
in every configuration where the spec fails (it fixes it), in some (it helps), or in
none.  Nothing here runs a solver: it reads recordings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fusever.claims import replayed
from fusever.regress import Recording
from fusever.ts import PropKind, TransitionSystem
from fusever.verdict import Result, Verdict


@dataclass(frozen=True, slots=True)
class Against:
    """A compared variant on one property: in how many of the configurations where
    the reviewed spec fails it holds (``held`` of ``of``); ``recorded`` is how many
    of those it has recordings for."""

    spec: str
    held: int
    of: int
    recorded: int

    @property
    def fixes(self) -> bool:
        return self.of > 0 and self.held == self.of


@dataclass(frozen=True, slots=True)
class PropertyReview:
    name: str
    description: str | None
    holds: tuple[str, ...]  # configurations where it holds (to a bound or for all depths)
    complete: int  # of those, how many for all depths
    fails: tuple[tuple[str, int], ...]  # (configuration, step), shortest first
    undecided: tuple[str, ...]
    shortest: Result | None  # the shortest counterexample that replays
    shortest_config: str | None
    shortest_ts: TransitionSystem | None  # the system it replays in (for its race diagram)
    against: tuple[Against, ...]


@dataclass(frozen=True, slots=True)
class Review:
    spec: str
    description: str | None
    configurations: int
    properties: tuple[PropertyReview, ...]
    compared: tuple[str, ...]
    vacuous: tuple[tuple[str, tuple[str, ...]], ...]  # (configuration, unreached cover goals)


def _config(rec: Recording) -> str:
    return rec.config or "default"


def review(
    spec: str,
    recordings: Sequence[Recording],
    systems: Mapping[str, TransitionSystem],
    against: Sequence[str] = (),
) -> Review:
    """The review of ``spec`` from ``recordings`` (every spec's; ``systems`` maps a
    recording's key to its transition system, for replaying counterexamples)."""
    mine = sorted(
        (r for r in recordings if r.spec == spec), key=lambda r: (r.config is not None, r.config)
    )
    if not mine:
        raise KeyError(spec)
    names = list(
        dict.fromkeys(p.name for r in mine for p in r.properties if p.kind is not PropKind.COVER)
    )
    base = systems.get(mine[0].key)
    props: list[PropertyReview] = []
    for name in names:
        cells = [(r, p) for r in mine for p in r.properties if p.name == name]
        held = [(r, p) for r, p in cells if p.verdict is Verdict.PROVED]
        failed = sorted(
            ((r, p) for r, p in cells if p.verdict is Verdict.VIOLATED),
            key=lambda x: (x[1].step or 0, x[0].config is not None, x[0].config or ""),
        )
        shortest: Result | None = None
        shortest_config: str | None = None
        shortest_ts: TransitionSystem | None = None
        for r, p in failed:
            ts = systems.get(r.key)
            if ts is None:
                continue
            shortest = replayed(r, p, ts)
            if shortest is not None:
                shortest_config, shortest_ts = _config(r), ts
                break
        failing = {_config(r) for r, _ in failed}
        compared = []
        for other in against:
            theirs = {
                _config(r): p
                for r in recordings
                if r.spec == other
                for p in r.properties
                if p.name == name
            }
            ok = sum(1 for c in failing if c in theirs and theirs[c].verdict is Verdict.PROVED)
            compared.append(Against(other, ok, len(failing), sum(c in theirs for c in failing)))
        description = None
        if base is not None:
            try:
                description = base.property(name).description
            except KeyError:
                description = None
        props.append(
            PropertyReview(
                name=name,
                description=description,
                holds=tuple(_config(r) for r, _ in held),
                complete=sum(1 for _, p in held if p.complete),
                fails=tuple((_config(r), p.step or 0) for r, p in failed),
                undecided=tuple(_config(r) for r, p in cells if p.verdict is Verdict.UNKNOWN),
                shortest=shortest,
                shortest_config=shortest_config,
                shortest_ts=shortest_ts,
                against=tuple(compared),
            )
        )
    vacuous = tuple(
        (_config(r), goals)
        for r in mine
        if (
            goals := tuple(
                p.name
                for p in r.properties
                if p.kind is PropKind.COVER and p.verdict is Verdict.UNREACHABLE
            )
        )
    )
    return Review(
        spec=spec,
        description=base.description if base is not None else None,
        configurations=len(mine),
        properties=tuple(props),
        compared=tuple(against),
        vacuous=vacuous,
    )
