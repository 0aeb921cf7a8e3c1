"""The explicit-state engine: known answers, refusals, limits, determinism, and the
two-engines-one-verdict check against BMC on the specs under spec/.

Agreement (issue 11, item 5): at a bound K, explicit's search to K steps and BMC to
depth K must give every goal the same verdict and the same (shortest) step.  Every
spec x configuration is compared at bound 5; a representative set (one per variant,
covering serialized and concurrent writers, a narrow wrapping counter, the create path
and a daemon without OPEN) at bound 8, which ``bench/agree.py`` runs everywhere.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from unbounded import by_name, spec

from fusever import bmc, cli, engines, explicit, ghosts, interpret, load, narrow
from fusever.job import Job
from fusever.verdict import Options, Result, Verdict

ROOT = Path(__file__).resolve().parent.parent
SMALL_BOUND = 5  # every configuration (fuse_v2's no_stale_escape is violated at step 5)
BOUND = 8  # deep enough for fuse_v2's no_early_return (step 8) and every cover but one

FAST = (
    ("fuse_v2", None),
    ("fuse_v2", "w4"),
    ("fuse_pre", None),
    ("fuse_v1", "create"),
    ("fuse_connseq", "three_writers"),
    ("fuse_wrapsafe", "no_open"),
)


def _load(name: str, config: str | None):  # type: ignore[no-untyped-def]
    (ts,) = load.load_specs([ROOT / "spec" / f"{name}.fv"], config=config)
    return ts


@pytest.mark.parametrize(("name", "config"), FAST, ids=lambda x: str(x))
def test_explicit_and_bmc_agree(name: str, config: str | None) -> None:
    """A few configurations at bound 8 (every one at bound 5 below; bench/agree.py runs
    every one at bound 8)."""
    assert engines.disagreements(_load(name, config), BOUND) == ()


def _every_configuration() -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for path in sorted((ROOT / "spec").glob("*.fv")):
        (base,) = load.load_specs([path])
        out += [(path.stem, c) for c in (None, *(c for c, _ in base.configs))]
    return out


@pytest.mark.parametrize(("name", "config"), _every_configuration(), ids=lambda x: str(x))
def test_explicit_and_bmc_agree_on_every_configuration(name: str, config: str | None) -> None:
    """Every spec x configuration where both engines apply, at a bound that holds the
    staleness violations (fuse_v2's no_stale_escape: step 5): a free start of a 64-bit
    counter (w64_free; connseq's w64_free and two_fuds_free with the unread per-fud
    counters pinned) searched narrowed, against BMC at 64 bits; explicit refuses only
    two free starts that are both read (the other specs' two_fuds_free), where nothing
    is compared.  Bound 8 is bench/agree.py's."""
    ts = _load(name, config)
    found = engines.disagreements(ts, SMALL_BOUND)
    if found is None:
        assert config == "two_fuds_free" and narrow.wide_free(ts) is None
    else:
        assert found == ()


def test_a_refused_configuration_has_nothing_to_compare() -> None:
    assert engines.disagreements(_load("fuse_v2", "two_fuds_free"), BOUND) is None


def test_exhausted_means_proved_for_all_depths_with_the_state_count() -> None:
    r = by_name(explicit.run(Job.resolve(spec("ends"), Options())).results)
    assert r["never9"].verdict is Verdict.PROVED and r["never9"].complete
    assert r["ghost_small"].verdict is Verdict.PROVED and r["ghost_small"].complete
    assert "4 states" in (r["never9"].reason or "")
    assert r["not7"].verdict is Verdict.VIOLATED and r["not7"].step == 3
    assert r["done"].verdict is Verdict.COVERED and r["done"].step == 3
    assert r["beyond"].verdict is Verdict.UNREACHABLE and r["beyond"].complete


def test_a_violation_is_a_shortest_replayed_trace() -> None:
    ts = spec("ends")
    r = by_name(explicit.run(Job.resolve(ts, Options())).results)["not7"]
    assert r.trace is not None and len(r.trace) == 4
    interpret.replay(ts, r.trace, ts.property("not7"))


def test_a_free_wide_start_is_refused_cleanly() -> None:
    ts = _load("fuse_v2", "w64_free")
    for r in explicit.run(Job.resolve(ts, Options())).results:
        assert r.verdict is Verdict.UNKNOWN and not r.complete
        assert "starts free over u64" in (r.reason or ""), r.reason


def test_a_choice_over_a_wide_type_is_refused_cleanly() -> None:
    (ts,) = load.load_specs([ROOT / "tests" / "fixtures" / "rich.fv"])
    results = explicit.run(Job.resolve(ts, Options())).results
    assert results and all(r.verdict is Verdict.UNKNOWN for r in results)
    assert "does not apply" in (results[0].reason or "")


def test_past_the_state_limit_open_goals_are_unknown() -> None:
    ts = _load("fuse_v2", None)
    r = by_name(explicit.run(Job.resolve(ts, Options(state_limit=500))).results)
    assert r["monotonic"].verdict is Verdict.UNKNOWN
    assert "state limit 500" in (r["monotonic"].reason or "")
    assert r["monotonic_cover"].verdict is Verdict.COVERED  # found before the limit


def test_the_deadline_is_honoured() -> None:
    ts = _load("fuse_v2", "two_fuds")
    out = explicit.run(Job.resolve(ts, Options(timeout=0.5)))
    assert out.seconds < 5
    assert any(r.verdict is Verdict.UNKNOWN and "timeout" in (r.reason or "") for r in out.results)


def test_deterministic() -> None:
    ts = _load("fuse_pre", None)

    def key(rs: tuple[Result, ...]) -> list[object]:
        return [(r.property, r.verdict, r.step, r.trace) for r in rs]

    a = explicit.run(Job.resolve(ts, Options()), bound=BOUND).results
    b = explicit.run(Job.resolve(ts, Options()), bound=BOUND).results
    assert key(a) == key(b)


def test_through_engines_prove() -> None:
    ts = spec("ends")
    r = by_name(engines.prove(ts, Options(engine="explicit")))
    assert r["never9"].engine == "explicit" and r["never9"].complete


def test_the_incremental_order_normalisation_is_the_full_one() -> None:
    """Along a breadth-first walk of fuse_v2 (three_writers), every post-state normalised
    from its canonical pre-state equals the full normalisation (the locations dead by
    the cone of influence and by their control locations reset, every ghost group
    layered): so the reduced search is
    a function of the state alone (canonical), whichever path reached it.  This is also
    the claim the per-group memo of the layering rests on (a group's layering is a
    function of its values alone), so the walk must take most steps from the memo."""
    ts = _load("fuse_v2", "three_writers")
    system = explicit.compile_system(ts)
    o = system.order
    todo = [c for c, _ in system.initial()]
    seen = set(todo)
    checked = 0
    while todo and checked < 3000:
        s = todo.pop(0)
        for inst in system.insts:
            m = inst.step(s)
            if m is None:
                continue
            full = list(m)
            for j in system.dead:
                full[j] = 0
            for d in system.by_control:  # in their order: each after those resetting its controls
                if tuple(full[c] for c in d.controls) in d.tuples:
                    for j in d.slots:
                        full[j] = 0
            for grp in o.slots:
                ghosts.layer(full, o.cmax[grp], o.slots[grp], o.near[grp])
            t = inst.canon(list(m), s)
            assert t == tuple(full), (inst.action, inst.args)
            assert system.canonical(m) == t  # the whole normalisation, with no pre-state
            checked += 1
            if t not in seen:
                seen.add(t)
                todo.append(t)
        # the generated successor function with the canonical forms made in line
        assert system.canonical_successors is not None
        assert system.canonical_successors(s) == [
            (i, system.insts[i].canon(m, s)) for i, m in system.successors(s)
        ]
    assert checked >= 3000
    computed = sum(len(memo) for memo in system._memo.values())
    assert 0 < computed < checked // 2, (computed, checked)  # most steps were served by the memo


@pytest.mark.parametrize(("name", "config"), [("fuse_v2", None), ("fuse_v1", "no_open")], ids=str)
def test_searching_again_without_settled_goals_changes_no_verdict(
    name: str, config: str | None
) -> None:
    """Once goals are settled, what only they read leaves the cone of influence and the
    search starts again on a smaller quotient: the verdicts and steps stay the same."""
    ts = _load(name, config)
    again = explicit.run(Job.resolve(ts, Options()))
    once = explicit.run(Job.resolve(ts, Options()), restart=False)
    assert again.exhausted and once.exhausted
    assert [(r.verdict, r.step, r.complete) for r in again.results] == [
        (r.verdict, r.step, r.complete) for r in once.results
    ]
    assert again.states < once.states


@pytest.mark.parametrize(
    ("name", "config"), [("fuse_v2", "three_writers"), ("fuse_pre", "w4")], ids=str
)
def test_going_on_from_the_states_mapped_is_searching_again(name: str, config: str | None) -> None:
    """When goals are settled the search goes on from its states mapped onto the
    smaller quotient, not from the initial states: the same verdicts, steps and
    complete flags, and the same number of states in the last quotient (each state's
    form there does not depend on the finer form it was found in), with fewer
    states visited in all."""
    ts = _load(name, config)
    mapped = explicit.run(Job.resolve(ts, Options()))
    again = explicit.run(Job.resolve(ts, Options()), project=False)
    assert mapped.exhausted and again.exhausted
    assert any("went on without the goals settled first" in r for r in mapped.reductions)
    assert [(r.verdict, r.step, r.complete) for r in mapped.results] == [
        (r.verdict, r.step, r.complete) for r in again.results
    ]
    assert mapped.states == again.states
    assert mapped.visited < again.visited


def test_a_ghost_int_with_arithmetic_is_kept_as_values_and_the_limit_says_why(
    tmp_path: Path,
) -> None:
    spec_file = tmp_path / "inf.fv"
    spec_file.write_text(
        'spec inf "a ghost counter doing arithmetic"\n'
        "var x: bool\nghost t: int\n"
        "init { x := false  t := 0 }\n"
        "action tick() by cpu when true { t := t * 2 + 1  x := !x }\n"
        "invariant small: t >= 0\ndepth 4\n"
    )
    (ts,) = load.load_specs([spec_file])
    (r,) = explicit.run(Job.resolve(ts, Options(state_limit=200))).results
    assert r.verdict is Verdict.UNKNOWN and not r.complete
    assert "state limit 200 passed" in (r.reason or "")
    assert "ghost t kept as values" in (r.reason or "") and "may be infinite" in (r.reason or "")


def test_a_disagreement_between_the_engines_is_raised() -> None:
    ts = spec("ends")
    found = explicit.run(Job.resolve(ts, Options())).results
    bounded = bmc.run(Job.resolve(ts, Options(depth=4))).results
    engines.cross_check(ts, found, bounded, 4)  # they agree
    wrong = tuple(replace(r, step=2) if r.property == "not7" else r for r in bounded)
    with pytest.raises(engines.Disagreement, match="not7: explicit says violated at step 3"):
        engines.cross_check(ts, found, wrong, 4)


def test_cli_cross_check(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = str(ROOT / "tests" / "fixtures" / "unbounded_ends.fv")
    code = cli.main(["prove", fixture, "--engine", "explicit", "--cross-check"])
    out = capsys.readouterr().out
    assert code == 1 and "violated at step 3" in out  # not7: a finding, not a disagreement
    assert cli.main(["prove", fixture, "--engine", "bmc", "--cross-check"]) == 2


def test_cli_disagreement_exits_4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = bmc.run

    def off_by_one(job, *args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(job, *args, **kwargs)
        bent = tuple(replace(r, step=2) if r.property == "not7" else r for r in out.results)
        return replace(out, results=bent)

    monkeypatch.setattr(bmc, "run", off_by_one)
    fixture = str(ROOT / "tests" / "fixtures" / "unbounded_ends.fv")
    assert cli.main(["prove", fixture, "--engine", "explicit", "--cross-check"]) == 4
    assert "Disagreement" in capsys.readouterr().err
