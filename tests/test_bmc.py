"""The bounded engine: known answers, shortest traces, replay, timeouts, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
import tsbuild as B

from fusever import bmc, decode, encode, engines, interpret, load, solvers
from fusever.encode import EncodeOptions, EncodingBug
from fusever.job import Job
from fusever.ts import SortType, Trace, TransitionSystem
from fusever.verdict import Engine, Options, Progress, Result, Verdict

BITWUZLA = pytest.mark.skipif(not solvers.bitwuzla_available(), reason="bitwuzla not installed")
ENCODINGS = [
    EncodeOptions(),
    EncodeOptions(solver="qf_bv"),
    pytest.param(EncodeOptions(solver="bitwuzla"), marks=BITWUZLA),
    EncodeOptions(por="lex"),
    EncodeOptions(maps="array"),
    EncodeOptions(selector="onehot", stutter="anywhere"),
    EncodeOptions(ghost="int"),
]


def by_name(results: tuple[Result, ...]) -> dict[str, Result]:
    return {r.property: r for r in results}


@pytest.mark.parametrize("enc", ENCODINGS)
def test_counter_wraps_at_exactly_step_8(enc: EncodeOptions) -> None:
    ts = B.counter(3)
    r = by_name(bmc.run(Job.resolve(ts, Options()), encode=enc).results)
    assert r["no_wrap"].verdict is Verdict.VIOLATED
    assert r["no_wrap"].step == 8
    assert r["no_wrap"].trace is not None
    assert [s.action for s in r["no_wrap"].trace.steps[1:]] == ["inc"] * 8
    assert r["increments"].verdict is Verdict.PROVED
    assert r["increments"].bound == 12 and not r["increments"].complete
    assert r["reaches_top"].verdict is Verdict.COVERED and r["reaches_top"].step == 7


@pytest.mark.parametrize("enc", ENCODINGS)
def test_lost_update_at_the_first_depth_it_can(enc: EncodeOptions) -> None:
    ts = B.lost_update(2)
    r = by_name(bmc.run(Job.resolve(ts, Options()), encode=enc).results)
    lost = r["all_counted"]
    assert lost.verdict is Verdict.VIOLATED and lost.step == 4 and lost.bound == 4
    assert lost.trace is not None
    actions = [s.action for s in lost.trace.steps[1:]]
    assert sorted(actions) == ["load", "load", "store", "store"]
    assert lost.trace.steps[-1].state["c"][()] == 1


def test_lost_update_is_not_found_below_its_depth() -> None:
    r = by_name(bmc.run(Job.resolve(B.lost_update(2), Options(depth=3))).results)
    assert r["all_counted"].verdict is Verdict.PROVED
    assert r["all_counted"].bound == 3


@pytest.mark.parametrize("enc", ENCODINGS)
def test_dead_action_cover_is_unreachable(enc: EncodeOptions) -> None:
    r = by_name(bmc.run(Job.resolve(B.dead_action(), Options()), encode=enc).results)
    assert r["never_fires"].verdict is Verdict.UNREACHABLE
    assert r["never_fires"].bound == 10 and r["never_fires"].trace is None
    assert r["bounded"].verdict is Verdict.PROVED


def test_invariant_checked_at_step_0() -> None:
    t = B.u(2)
    ts = B.system(
        "bad_start",
        vars=[B.var("x", t)],
        init=[B.assign("x", B.n(3, t))],
        actions=[],
        properties=[B.invariant("small", B.lt(B.v("x", t), B.n(3, t)))],
    )
    (r,) = bmc.run(Job.resolve(ts, Options())).results
    assert r.verdict is Verdict.VIOLATED and r.step == 0 and r.bound == 0
    assert r.trace is not None and len(r.trace) == 1


def test_failing_instance_is_reported() -> None:
    W = SortType("Writer", 2)
    t = B.u(2)
    w = B.loc("w", W)
    x = B.loc("x", W)
    ts = B.system(
        "inst",
        sorts=[W],
        vars=[B.var("m", t, W)],
        init=[B.for_all("w", W, [B.assign("m", B.n(0, t), w)])],
        actions=[
            B.action(
                "bump",
                [B.assign("m", B.add(B.v("m", t, w), B.n(1, t)), w)],
                params=[B.param("w", W)],
                guard=B.eq(w, B.n(1, W)),
            )
        ],
        properties=[B.invariant("zero", B.forall("x", W, B.eq(B.v("m", t, x), B.n(0, t))))],
    )
    (r,) = bmc.run(Job.resolve(ts, Options())).results
    assert r.verdict is Verdict.VIOLATED and r.instance == (("x", 1),)
    assert r.trace is not None and r.trace.steps[1].args == (("w", 1),)


def test_chosen_parameter_and_symbolic_index() -> None:
    F = SortType("File", 3)
    N = SortType("Inode", 2)
    t = B.u(8)
    f = B.loc("f", F)
    val = B.loc("val", t)
    ts = B.system(
        "sym",
        sorts=[F, N],
        vars=[B.var("ino", N, F), B.var("m", t, N)],
        init=[
            B.for_all("f", F, [B.assign("ino", None, f)]),  # any inode
            B.for_all("i", N, [B.assign("m", B.n(0, t), B.loc("i", N))]),
        ],
        actions=[
            B.action(
                "write",
                [B.assign("m", val, B.v("ino", N, f))],
                params=[B.param("f", F), B.param("val", t, chosen=True)],
                guard=B.lt(B.n(200, t), val),
            )
        ],
        properties=[
            B.cover(
                "shared",
                B.and_(
                    B.eq(B.v("ino", N, B.n(0, F)), B.v("ino", N, B.n(2, F))),
                    B.eq(B.v("m", t, B.v("ino", N, B.n(0, F))), B.n(222, t)),
                ),
            )
        ],
    )
    (r,) = bmc.run(Job.resolve(ts, Options())).results
    assert r.verdict is Verdict.COVERED and r.step == 1
    assert r.trace is not None
    assert dict(r.trace.steps[1].args)["val"] == 222


def test_ghost_overflow_widens() -> None:
    g = B.v("g", B.INT)
    ts = B.system(
        "ghost",
        vars=[B.var("g", B.INT, ghost=True)],
        init=[B.assign("g", B.n(1, B.INT))],
        actions=[B.action("double", [B.assign("g", B.add(g, g))])],
        properties=[B.invariant("small", B.lt(g, B.n(1 << 40, B.INT)))],
        depth=45,
    )
    out = bmc.run(Job.resolve(ts, Options()), encode=EncodeOptions(ghost="bv", ghost_width=8))
    (r,) = out.results
    assert r.verdict is Verdict.VIOLATED and r.step == 40
    assert out.ghost_width is not None and out.ghost_width > 40


def test_free_ghost_start_uses_z3_ints() -> None:
    g = B.v("g", B.INT)
    ts = B.system(
        "free_ghost",
        vars=[B.var("g", B.INT, ghost=True)],
        init=[B.assign("g", None)],
        actions=[],
        properties=[B.invariant("small", B.lt(g, B.n(1 << 100, B.INT)))],
    )
    assert not encode.ghost_bv_applicable(ts)
    (r,) = bmc.run(Job.resolve(ts, Options())).results
    assert r.verdict is Verdict.VIOLATED
    assert r.trace is not None and r.trace.steps[0].state["g"][()] >= 1 << 100  # type: ignore[operator]


def test_timeout_gives_unknown() -> None:
    (r, *_) = bmc.run(Job.resolve(B.lost_update(3), Options(timeout=0.0))).results
    assert r.verdict is Verdict.UNKNOWN
    assert r.reason is not None and "timeout" in r.reason


def test_progress_reports_each_depth() -> None:
    seen: list[Progress] = []
    bmc.run(Job.resolve(B.dead_action(), Options(depth=4)), seen.append)
    assert [p.depth for p in seen] == [0, 1, 2, 3, 4]
    assert seen[-1].open_properties == 2


def test_property_selection_keeps_spec_order() -> None:
    ts = B.counter(3)
    rs = engines.prove(ts, Options(properties=("reaches_top", "no_wrap"), engine=Engine.BMC))
    assert [r.property for r in rs] == ["no_wrap", "reaches_top"]
    with pytest.raises(ValueError, match="no property named nope"):
        engines.prove(ts, Options(properties=("nope",)))


def test_unknown_engine() -> None:
    with pytest.raises(ValueError, match="unknown engine magic"):
        engines.prove(B.counter(3), Options(engine="magic"))


def test_a_trace_that_does_not_replay_is_an_encoding_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    real = decode.trace

    def corrupt(enc: encode.Encoding, model: object, k: int) -> Trace:
        tr = real(enc, model, k)
        last = tr.steps[-1]
        bad = {**last.state, "c": {(): (last.state["c"][()] + 1) % 8}}  # type: ignore[operator]
        return Trace((*tr.steps[:-1], type(last)(last.action, last.args, bad)))

    monkeypatch.setattr(decode, "trace", corrupt)
    with pytest.raises(EncodingBug, match=r"does not replay: step \d+: inc\(\): c: expected"):
        bmc.run(Job.resolve(B.counter(3), Options()))


def test_every_returned_trace_replays() -> None:
    for ts in (B.counter(3), B.lost_update(2), B.lost_update(3)):
        for r in bmc.run(Job.resolve(ts, Options())).results:
            if r.trace is not None:
                interpret.replay(ts, r.trace, ts.property(r.property))


# ---- from spec text, through the front end ---------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def load_text(tmp_path: Path, text: str, sets: tuple[str, ...] = ()) -> TransitionSystem:
    path = tmp_path / "spec.fv"
    path.write_text(text)
    (ts,) = load.load_specs([path], sets)
    return ts


def test_examples_from_spec_text() -> None:
    counter, lost = load.load_specs([EXAMPLES / "counter.fv", EXAMPLES / "lost_update.fv"])
    r = by_name(engines.prove(counter, Options(engine=Engine.BMC)))
    assert (r["no_wrap"].verdict, r["no_wrap"].step) == (Verdict.VIOLATED, 8)
    assert r["counts_up"].verdict is Verdict.PROVED
    assert (r["wraps"].verdict, r["wraps"].step) == (Verdict.COVERED, 8)
    r = by_name(engines.prove(lost, Options(engine=Engine.BMC)))
    assert (r["no_lost_update"].verdict, r["no_lost_update"].step) == (Verdict.VIOLATED, 4)
    assert (r["both_done"].verdict, r["both_done"].step) == (Verdict.COVERED, 4)


def test_counter_width_from_the_command_line() -> None:
    (ts,) = load.load_specs([EXAMPLES / "counter.fv"], ["W=4"])
    r = by_name(engines.prove(ts, Options(depth=20, engine=Engine.BMC)))
    assert (r["no_wrap"].verdict, r["no_wrap"].step) == (Verdict.VIOLATED, 16)


def test_dead_guard_from_spec_text(tmp_path: Path) -> None:
    ts = load_text(
        tmp_path,
        """
spec dead
var x: u4
var fired: bool
init { x := 0  fired := false }
action tick() when x < 5 { x := x + 1 }
action never() when x > 7 { fired := true }
cover fires: fired
invariant bounded: x <= 5
depth 10
""",
    )
    r = by_name(engines.prove(ts, Options(engine=Engine.BMC)))
    assert r["fires"].verdict is Verdict.UNREACHABLE and r["fires"].bound == 10
    assert r["bounded"].verdict is Verdict.PROVED


def test_symbolic_start_and_chosen_value_from_spec_text(tmp_path: Path) -> None:
    ts = load_text(
        tmp_path,
        """
spec wrap64
sort Fud = 2
var seq: Fud -> u64
ghost writes: int
init { seq := any  writes := 0 }
action write(d: Fud) { seq[d] := seq[d] + 1  writes := writes + 1 }
action jump(d: Fud) { choose v: u64 where v > seq[d]  seq[d] := v }
invariant no_wrap: forall d: Fud. seq[d] != 0 || writes == 0
cover jumped: writes == 0 && seq[0] == 0xffffffffffffffff
depth 4
""",
    )
    r = by_name(engines.prove(ts, Options(engine=Engine.BMC)))
    bad = r["no_wrap"]
    assert bad.verdict is Verdict.VIOLATED and bad.step == 1
    assert bad.trace is not None and bad.trace.steps[1].action == "write"
    ((name, d),) = bad.instance
    assert name == "d" and bad.trace.steps[1].state["seq"][(d,)] == 0
    assert r["jumped"].verdict is Verdict.COVERED


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 20])
def test_chunks_keep_the_shortest_counterexample(chunk: int) -> None:
    r = by_name(bmc.run(Job.resolve(B.counter(3), Options()), chunk=chunk).results)
    assert (r["no_wrap"].verdict, r["no_wrap"].step, r["no_wrap"].bound) == (Verdict.VIOLATED, 8, 8)
    assert (r["reaches_top"].verdict, r["reaches_top"].step) == (Verdict.COVERED, 7)
    assert (r["increments"].verdict, r["increments"].bound) == (Verdict.PROVED, 12)
    r = by_name(bmc.run(Job.resolve(B.lost_update(3), Options()), chunk=chunk).results)
    assert (r["all_counted"].verdict, r["all_counted"].step) == (Verdict.VIOLATED, 6)


@pytest.mark.parametrize("solver", ["qf_bv", pytest.param("bitwuzla", marks=BITWUZLA)])
def test_a_timeout_during_solving_gives_unknown(solver: str) -> None:
    (ts,) = load.load_specs([Path(__file__).resolve().parent.parent / "bench" / "seedlike.fv"])
    rs = by_name(
        bmc.run(
            Job.resolve(ts, Options(depth=60, timeout=0.5)), encode=EncodeOptions(solver=solver)
        ).results  # type: ignore[arg-type]
    )
    r = rs["no_stale_open_escapes"]
    assert r.verdict is Verdict.UNKNOWN and r.reason is not None and "timeout" in r.reason
    assert r.bound < 60
