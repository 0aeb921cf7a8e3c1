"""Hand-built transition systems and results for the report, CLI and regress tests:
they pin the formats without depending on the engine's search."""

from __future__ import annotations

from fusever.ts import (
    BOOL,
    Action,
    BitVecType,
    EnumType,
    Lit,
    Param,
    Property,
    PropKind,
    SortType,
    StateVar,
    Step,
    Trace,
    TransitionSystem,
    Value,
)
from fusever.verdict import Result, Verdict

FUD = SortType("Fud", 2)
PHASE = EnumType("Phase", ("IDLE", "OPEN"))
TRUE = Lit(True, BOOL)
# no_wrap fails in every state, so the fake counterexample replays (fusever.claims)
FALSE = Lit(False, BOOL)


def fake_ts(name: str = "counter", path: str = "spec/counter.fv") -> TransitionSystem:
    return TransitionSystem(
        name=name,
        path=path,
        description=None,
        lineage=(name,),
        settings=(("FUDS", 2), ("W", 3)),
        sorts=(FUD,),
        enums=(PHASE,),
        vars=(
            StateVar("x", (), BitVecType(3)),
            StateVar("seq", (FUD,), BitVecType(8)),
            StateVar("phase", (), PHASE),
            StateVar("pair", (FUD, FUD), BOOL),
        ),
        init=(),
        actions=(
            Action("inc", (Param("d", FUD),), TRUE, (), actor="daemon", actor_param="d"),
            Action(
                "reply",
                (Param("w", FUD), Param("f", FUD)),
                TRUE,
                (),
                actor="writer",
                actor_param="w",
            ),
            Action("tick", (), TRUE, ()),
        ),
        properties=(
            Property("no_wrap", PropKind.INVARIANT, FALSE, "x never wraps"),
            Property("monotonic", PropKind.TRANSITION, TRUE),
            Property("opens", PropKind.COVER, TRUE, covers="no_wrap"),
        ),
        depth=10,
    )


def state(
    x: int, s0: int, s1: int, phase: str = "IDLE", p01: bool = False
) -> dict[str, dict[tuple[Value, ...], Value]]:
    return {
        "x": {(): x},
        "seq": {(0,): s0, (1,): s1},
        "phase": {(): phase},
        "pair": {(0, 0): False, (0, 1): p01, (1, 0): False, (1, 1): False},
    }


def fake_trace() -> Trace:
    return Trace(
        (
            Step(None, (), state(0, 0, 0)),
            Step("inc", (("d", 1),), state(1, 0, 1)),
            Step("reply", (("w", 0), ("f", 1)), state(1, 3, 4, "OPEN", True)),
            Step("tick", (), state(1, 3, 4, "OPEN", True)),
        )
    )


def result(
    prop: str,
    kind: PropKind,
    verdict: Verdict,
    *,
    spec: str = "counter",
    step: int | None = None,
    complete: bool = False,
    bound: int = 10,
    trace: Trace | None = None,
    instance: tuple[tuple[str, Value], ...] = (),
    reason: str | None = None,
    seconds: float = 0.25,
    description: str | None = None,
) -> Result:
    return Result(
        spec=spec,
        file=f"spec/{spec}.fv",
        settings=(("FUDS", 2), ("W", 3)),
        property=prop,
        kind=kind,
        verdict=verdict,
        complete=complete,
        bound=bound,
        step=step,
        engine="bmc",
        seconds=seconds,
        trace=trace,
        instance=instance,
        reason=reason,
        description=description,
    )


def fake_results(spec: str = "counter") -> tuple[Result, ...]:
    """One of each: a violation with a trace, a proof, a covered goal."""
    return (
        result(
            "no_wrap",
            PropKind.INVARIANT,
            Verdict.VIOLATED,
            spec=spec,
            step=3,
            trace=fake_trace(),
            instance=(("f", 1),),
            description="x never wraps",
        ),
        result("monotonic", PropKind.TRANSITION, Verdict.PROVED, spec=spec),
        result("opens", PropKind.COVER, Verdict.COVERED, spec=spec, step=3, trace=fake_trace()),
    )
