"""The concrete interpreter: operator semantics, statements, init, properties, replay."""

from __future__ import annotations

import random

import pytest
import tsbuild as B

from fusever import interpret
from fusever.interpret import ReplayError
from fusever.ts import BOOL, BinOp, SortType, Step, Trace, UnOp


def state(
    **tables: dict[tuple[object, ...], object],
) -> dict[str, dict[tuple[object, ...], object]]:
    return dict(tables)


def test_operator_table_covers_every_operator() -> None:
    assert set(interpret.BINARY) == set(BinOp)
    assert set(interpret.UNARY) == set(UnOp)


@pytest.mark.parametrize(
    ("op", "t", "a", "b", "want"),
    [
        (BinOp.ADD, B.u(3), 7, 1, 0),
        (BinOp.SUB, B.u(3), 0, 1, 7),
        (BinOp.MUL, B.u(4), 5, 5, 9),
        (BinOp.LT, B.u(4), 15, 0, False),
        (BinOp.LT, B.i(4), 15, 0, True),  # 15 is -1 as i4
        (BinOp.GE, B.i(4), 7, 8, True),  # 8 is -8
        (BinOp.ADD, B.INT, 7, 1, 8),
        (BinOp.SUB, B.INT, 0, 1, -1),
        (BinOp.IMPLIES, BOOL, False, False, True),
        (BinOp.EQ, B.u(2), 3, 3, True),
    ],
)
def test_binary(op: BinOp, t: object, a: int, b: int, want: object) -> None:
    assert interpret.BINARY[op](t, a, b) == want  # type: ignore[arg-type]


def test_cast_reads_signedness() -> None:
    x = B.v("x", B.i(4))
    y = B.v("y", B.u(4))
    s = state(x={(): 15}, y={(): 15})
    assert interpret.evaluate(B.to_int(x), s, {}) == -1
    assert interpret.evaluate(B.to_int(y), s, {}) == 15
    assert interpret.evaluate(B.cast(B.neg(B.n(1, B.INT)), B.u(4)), s, {}) == 15
    assert interpret.evaluate(B.neg(y), s, {}) == 1


def test_counter_wraps_at_step_8() -> None:
    ts = B.counter(3)
    s: interpret.State = {"c": {(): 0}, "moved": {(): False}}
    assert interpret.is_initial(ts, s)
    for _ in range(8):
        s = interpret.step(ts, s, "inc", {})
    assert s["c"][()] == 0
    ok, _ = interpret.holds(ts, ts.property("no_wrap"), s)
    assert not ok


def test_not_initial() -> None:
    ts = B.counter(3)
    assert not interpret.is_initial(ts, {"c": {(): 1}, "moved": {(): False}})
    assert not interpret.is_initial(ts, {"c": {(): 0}})  # missing a variable
    assert not interpret.is_initial(ts, {"c": {(): 9}, "moved": {(): False}})  # out of range


def _free_init_system() -> B.TransitionSystem:
    t = B.u(4)
    return B.system(
        "free",
        vars=[B.var("x", t), B.var("y", t)],
        init=[B.assign("x", None), B.assume(B.lt(B.v("x", t), B.n(4, t)))],
        actions=[],
    )


def test_any_and_assume_in_init() -> None:
    ts = _free_init_system()
    # x is free below 4; y is never assigned: free
    assert interpret.is_initial(ts, {"x": {(): 3}, "y": {(): 11}})
    assert not interpret.is_initial(ts, {"x": {(): 4}, "y": {(): 0}})


def test_statements_are_sequential() -> None:
    t = B.u(4)
    S = SortType("S", 3)
    a, b = B.v("a", t), B.v("b", t)
    cnt = B.v("cnt", t)
    x = B.loc("x", S)
    ts = B.system(
        "seq",
        sorts=[S],
        vars=[B.var("a", t), B.var("b", t), B.var("cnt", t), B.var("hit", BOOL, S)],
        init=[],
        actions=[
            B.action("swap", [B.assign("a", b), B.assign("b", a)]),
            B.action(
                "walk",
                [B.assign("cnt", B.add(cnt, B.n(1, t))), B.assign("hit", B.TRUE, x)],
                params=[],
            ),
            B.action(
                "loop",
                [
                    B.for_all(
                        "x",
                        S,
                        [B.assign("cnt", B.add(cnt, B.n(1, t))), B.assign("hit", B.TRUE, x)],
                        where=B.lt(cnt, B.n(2, t)),
                    )
                ],
            ),
        ],
    )
    s0: interpret.State = {
        "a": {(): 1},
        "b": {(): 2},
        "cnt": {(): 0},
        "hit": {(0,): False, (1,): False, (2,): False},
    }
    s1 = interpret.step(ts, s0, "swap", {})
    assert (s1["a"][()], s1["b"][()]) == (2, 2)
    s2 = interpret.step(ts, s0, "loop", {})
    # where is tested before each iteration against the updated cnt
    assert s2["hit"] == {(0,): True, (1,): True, (2,): False}
    assert s2["cnt"][()] == 2


def test_holds_gives_the_failing_instance() -> None:
    S = SortType("S", 3)
    t = B.u(2)
    f = B.loc("f", S)
    prop = B.invariant("zero", B.forall("f", S, B.eq(B.v("m", t, f), B.n(0, t))))
    ts = B.system("h", sorts=[S], vars=[B.var("m", t, S)], init=[], actions=[], properties=[prop])
    s = {"m": {(0,): 0, (1,): 2, (2,): 3}}
    assert interpret.holds(ts, prop, s) == (False, (("f", 1),))
    c = B.cover("some", B.exists("f", S, B.eq(B.v("m", t, f), B.n(3, t))))
    assert interpret.holds(ts, c, s) == (True, (("f", 2),))


def _trace(*steps: tuple[str | None, dict[str, object]]) -> Trace:
    return Trace(
        tuple(
            Step(a, (), {"c": {(): st["c"]}, "moved": {(): st["moved"]}})  # type: ignore[dict-item]
            for a, st in steps
        )
    )


def test_replay_accepts_the_wrap() -> None:
    ts = B.counter(3)
    steps = [(None, {"c": 0, "moved": False})]
    steps += [("inc", {"c": (i + 1) % 8, "moved": True}) for i in range(8)]
    assert interpret.replay(ts, _trace(*steps), ts.property("no_wrap")) == ()


def test_replay_names_the_wrong_location() -> None:
    ts = B.counter(3)
    tr = _trace((None, {"c": 0, "moved": False}), ("inc", {"c": 2, "moved": True}))
    with pytest.raises(ReplayError, match=r"step 1: inc\(\): c: expected 1, got 2"):
        interpret.replay(ts, tr, ts.property("no_wrap"))


def test_replay_rejects_a_non_initial_start() -> None:
    ts = B.counter(3)
    tr = _trace((None, {"c": 3, "moved": False}))
    with pytest.raises(ReplayError, match=r"step 0: not an initial state: c: expected 0, got 3"):
        interpret.replay(ts, tr, ts.property("no_wrap"))


def test_replay_rejects_a_false_guard() -> None:
    ts = B.dead_action()
    tr = Trace(
        (
            Step(None, (), {"x": {(): 0}, "fired": {(): False}}),
            Step("never", (), {"x": {(): 0}, "fired": {(): True}}),
        )
    )
    with pytest.raises(ReplayError, match=r"step 1: the guard of never\(\) is false"):
        interpret.replay(ts, tr, ts.property("never_fires"))


def test_replay_rejects_a_trace_that_does_not_violate() -> None:
    ts = B.counter(3)
    tr = _trace((None, {"c": 0, "moved": False}), ("inc", {"c": 1, "moved": True}))
    with pytest.raises(ReplayError, match=r"step 1: the final state does not violate no_wrap"):
        interpret.replay(ts, tr, ts.property("no_wrap"))
    with pytest.raises(ReplayError, match=r"does not satisfy cover reaches_top"):
        interpret.replay(ts, tr, ts.property("reaches_top"))


def test_replay_checks_arguments() -> None:
    ts = B.lost_update()
    s0 = {"c": {(): 0}, "tmp": {(0,): 0, (1,): 0}, "pc": {(0,): "idle", (1,): "idle"}}
    bad = Trace((Step(None, (), s0), Step("load", (("w", 5),), s0)))
    with pytest.raises(ReplayError, match=r"argument w = 5 is not a Writer"):
        interpret.replay(ts, bad, ts.property("all_counted"))


def test_random_run_replays_its_own_steps() -> None:
    ts = B.lost_update(3)
    rng = random.Random(1)
    for _ in range(20):
        tr = interpret.random_run(ts, 6, rng)
        state = tr.steps[0].state
        assert interpret.is_initial(ts, state)
        for s in tr.steps[1:]:
            assert s.action is not None
            assert interpret.enabled(ts, state, s.action, dict(s.args))
            state = interpret.step(ts, state, s.action, dict(s.args))
            assert state == s.state
