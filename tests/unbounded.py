"""Shared helpers for the unbounded engines' tests: the tests/fixtures/unbounded_*.fv specs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fusever import load
from fusever.ts import PropKind, TransitionSystem
from fusever.verdict import Result

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def spec(name: str) -> TransitionSystem:
    (ts,) = load.load_specs([FIXTURES / f"unbounded_{name}.fv"])
    return ts


def without_lemmas(ts: TransitionSystem) -> TransitionSystem:
    return replace(ts, properties=tuple(p for p in ts.properties if p.kind is not PropKind.LEMMA))


def by_name(results: tuple[Result, ...]) -> dict[str, Result]:
    return {r.property: r for r in results}
