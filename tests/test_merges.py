"""Step merges checked against their unmerged forms (fusever/merges.py, `fusever merges`,
regress's rule that a "holds" never rests on a merge that does not agree)."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import replace
from pathlib import Path

import pytest
import test_codegen_ops as ops
import test_differential as diff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusever import cli, interpret, merges, regress, regress_merges
from fusever.layout import Layout, domain
from fusever.load import load_specs
from fusever.ts import Binary, PropKind, SortType, TransitionSystem, walk
from fusever.verdict import Options, Verdict
from fusever.vocabulary import BinOp

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "tests" / "fixtures" / "merge_counter.fv"
SPEC = ROOT / "spec"


def test_a_merge_that_hides_a_lost_update_disagrees() -> None:
    c = merges.check(COUNTER, None, "atomic_inc", Options(engine="bmc"))
    assert c.used and c.changes == (("SPLIT", False, True),)
    assert c.verdict == "disagree"
    (row,) = c.disagreements
    assert row.name == "no_lost_update"
    assert (row.merged, row.unmerged) == (Verdict.PROVED, Verdict.VIOLATED)
    # the unmerged form gets the merge's extra steps on top of the configuration's depth
    assert (c.merged_bound, c.unmerged_bound) == (4, 6)


def test_the_same_merge_agrees_under_the_lock() -> None:
    c = merges.check(COUNTER, "locked", "atomic_inc", Options(engine="bmc"))
    assert c.verdict == "agree"
    assert all(r.agree for r in c.rows)
    # both property rows and every observation goal were compared
    assert {r.name for r in c.rows} >= {"no_lost_update", "both_done"}
    assert sum(r.name.startswith(merges.OBSERVATION) for r in c.rows) == 4


ORDER = ROOT / "tests" / "fixtures" / "index_order.fv"


def test_an_index_order_over_actors_that_differ_disagrees() -> None:
    """A symmetry reduction is a merge like any other: the ordered form against the
    unordered one.  Where the actors are not interchangeable (the last job is the
    urgent one), starting them in index order hides the run that breaks the property."""
    c = merges.check(ORDER, None, "index_order", Options(engine="explicit"))
    assert c.changes == (("ORDERED", True, False),)
    assert c.verdict == "disagree" and c.complete
    (row,) = c.disagreements
    assert row.name == "urgent_not_first"
    assert (row.merged, row.unmerged) == (Verdict.PROVED, Verdict.VIOLATED)


def test_an_index_order_over_interchangeable_actors_agrees_for_all_depths() -> None:
    c = merges.check(ORDER, "alike", "index_order", Options(engine="explicit"))
    assert c.verdict == "agree" and c.complete
    assert {r.name for r in c.rows} >= {"urgent_not_first", "all_started"}


def test_the_fuse_specs_index_order_is_checked_and_agrees() -> None:
    """fuse_v2's writers, openers and notifications act in index order (ORDERED); the
    merge index_order gives the unordered form, and the check exhausts both."""
    c = merges.check(SPEC / "fuse_v2.fv", None, "index_order", Options(engine="explicit"))
    assert c.changes == (("ORDERED", True, False),)
    assert c.verdict == "agree" and c.complete and c.engine == "explicit"
    assert len(c.rows) >= 12


def _sort_orders(ts: TransitionSystem) -> set[tuple[str, int]]:
    """Where ``ts`` compares sort elements by their order (``<``, ``<=``, ``>``,
    ``>=``), after its constants are folded: each comparison's sort and line."""
    found: set[tuple[str, int]] = set()

    def visit(x: object) -> None:
        if isinstance(x, Binary) and x.op in _ORDERS and isinstance(x.lhs.type, SortType):
            found.add((x.lhs.type.name, x.span.line))
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            for f in dataclasses.fields(x):
                visit(getattr(x, f.name))
        elif isinstance(x, tuple):
            for y in x:
                visit(y)

    visit(merges.folded_stmts(ts.init))
    for a in ts.actions:
        visit(merges.folded(a.guard))
        visit(merges.folded_stmts(a.body))
    visit(tuple(merges.folded(p.expr) for p in ts.properties))
    return found


_ORDERS = (BinOp.LT, BinOp.LE, BinOp.GT, BinOp.GE)


@pytest.mark.parametrize(
    ("name", "config"),
    [(p.stem, None) for p in sorted(SPEC.glob("*.fv"))]
    + [("fuse_v2", "restart"), ("fuse_v2", "four_writers")],
)
def test_every_order_over_actors_in_the_specs_is_one_index_order_removes(
    name: str, config: str | None
) -> None:
    """The specs break their actors' symmetry only where the merge index_order can
    check it: its unordered form compares no sort elements by their order, so no
    verdict rests on an order the tool does not check.  (Not vacuous: the ordered
    form has the openers' and notifications' orders, four_writers the writers' and
    restart the first fud's.)"""
    (ordered,) = load_specs([SPEC / f"{name}.fv"], (), config)
    (unordered,) = load_specs([SPEC / f"{name}.fv"], (), config, unmerge="index_order")
    sorts = {s for s, _ in _sort_orders(ordered)}
    expected = {"File", "Note"} | {"four_writers": {"Writer"}, "restart": {"Fud"}}.get(
        config or "", set()
    )
    assert sorts >= expected
    assert _sort_orders(unordered) == set()


def test_a_merge_that_changes_nothing_is_unused() -> None:
    c = merges.check(COUNTER, "split", "atomic_inc", Options(engine="bmc"))
    assert not c.used and c.verdict == "unused" and c.rows == ()


def test_unknown_on_either_side_is_no_agreement() -> None:
    row = merges.Row("p", PropKind.INVARIANT, Verdict.PROVED, Verdict.UNKNOWN)
    c = merges.MergeCheck("s", None, "m", None, (("X", False, True),), rows=(row,))
    assert not row.agree and c.verdict == "unknown"


def test_observation_goals_enumerate_joint_valuations() -> None:
    (ts,) = load_specs([COUNTER])
    covers = merges.observation_covers(ts)
    assert len(covers) == 4 and all(c.kind is PropKind.COVER for c in covers)
    assert covers[0].name == "observation {finished[0]=false, finished[1]=false}"


def test_the_check_catches_connseqs_serial_merge_with_two_fuds() -> None:
    """Issue 10: fuse_connseq recorded "holds" with two fuds under the one-step write.
    The merge check finds that the unmerged form (writes serialized per fud only)
    lets a stale open escape, so that "holds" can no longer be recorded."""
    c = merges.check(
        SPEC / "fuse_connseq.fv",
        None,
        "serial_write",
        Options(engine="explicit", properties=("no_stale_escape",)),
        sets=["FUDS=2"],
        observations=False,
    )
    assert c.verdict == "disagree" and c.complete  # for all depths, both forms exhausted
    (row,) = c.rows
    assert (row.merged, row.unmerged) == (Verdict.PROVED, Verdict.VIOLATED)
    assert row.unmerged_step == 11
    # BMC shows it too once the merged bound reaches the unmerged counterexample's length
    b = merges.check(
        SPEC / "fuse_connseq.fv", None, "serial_write",
        Options(engine="bmc", depth=11, properties=("no_stale_escape",)),
        sets=["FUDS=2"], observations=False,
    )  # fmt: skip
    assert b.verdict == "disagree" and not b.complete


def test_a_bounded_check_counts_only_what_its_bounds_show() -> None:
    past = merges.Row(
        "p", PropKind.INVARIANT, Verdict.PROVED, Verdict.VIOLATED, None, 9, 8, complete=False
    )
    within = merges.Row(
        "p", PropKind.INVARIANT, Verdict.PROVED, Verdict.VIOLATED, None, 8, 8, complete=False
    )
    lost = merges.Row(
        "p", PropKind.COVER, Verdict.COVERED, Verdict.UNREACHABLE, 3, None, 8, complete=False
    )
    assert past.agree and not within.agree and not lost.agree
    assert not merges.Row(
        "p", PropKind.INVARIANT, Verdict.PROVED, Verdict.VIOLATED, None, 9, 8
    ).agree


def test_regress_refuses_a_holds_resting_on_a_disagreeing_merge(tmp_path: Path) -> None:
    c = merges.check(COUNTER, None, "atomic_inc", Options(engine="bmc"))
    rec = regress_merges.record_merges("merge_counter", None, [c])
    assert regress_merges.loads_merges(regress_merges.dumps_merges(rec)) == rec
    (ts,) = load_specs([COUNTER])
    from fusever import engines

    proofs = regress.record(ts, engines.prove(ts, Options(engine="bmc")), "bmc", ts.depth)
    changes = regress_merges.compare_merges(rec, rec, proofs)
    assert any(ch.fatal and "rest on merge(s) that do not agree" in ch.message for ch in changes)
    # with the lock the merge agrees, and nothing is said
    (locked,) = load_specs([COUNTER], config="locked")
    ok = regress_merges.record_merges(
        "merge_counter",
        "locked",
        [merges.check(COUNTER, "locked", "atomic_inc", Options(engine="bmc"))],
    )
    proofs_locked = regress.record(
        locked, engines.prove(locked, Options(engine="bmc")), "bmc", locked.depth
    )
    assert regress_merges.compare_merges(ok, ok, proofs_locked) == []


def test_a_proof_for_all_depths_cannot_rest_on_a_merge_checked_to_a_bound() -> None:
    bounded = regress_merges.MergeRecording(
        "s", None, (regress_merges.RecordedMerge("m", "agree", "bmc", False, 4, 6),)
    )
    complete = regress_merges.MergeRecording(
        "s", None, (regress_merges.RecordedMerge("m", "agree", "kind", True, 4, 6),)
    )
    (ts,) = load_specs([COUNTER], config="locked")
    from fusever import engines

    held = [
        r for r in engines.prove(ts, Options(engine="explicit"))
        if r.verdict is Verdict.PROVED and r.complete
    ]  # fmt: skip
    assert held
    proofs = regress.record(ts, held, "explicit", ts.depth)
    (change,) = regress_merges.compare_merges(bounded, bounded, proofs)
    assert change.fatal
    assert "rest on merge(s) checked only to a bound: m agree (to depths 4 / 6)" in change.message
    assert regress_merges.compare_merges(complete, complete, proofs) == []
    # a bounded "holds" may rest on a bounded agreement: both are to a bound
    to_bound = [replace(r, complete=False) for r in held]
    assert (
        regress_merges.compare_merges(bounded, bounded, regress.record(ts, to_bound, "bmc", 4))
        == []
    )


def test_a_changed_merge_verdict_is_a_change() -> None:
    agree = regress_merges.MergeRecording(
        "s", None, (regress_merges.RecordedMerge("m", "agree", "bmc", False, 4, 6),)
    )
    now = regress_merges.MergeRecording(
        "s", None, (regress_merges.RecordedMerge("m", "disagree", "bmc", False, 4, 6),)
    )
    (change,) = [
        c for c in regress_merges.compare_merges(agree, now, None) if c.property == "merge m"
    ]
    assert change.fatal and 'recorded "agree (to depths 4 / 6)"' in change.message


def test_cli_merges(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["merges", str(COUNTER)])
    out = capsys.readouterr().out
    assert code == cli.EXIT_FINDING
    assert "merge_counter.locked  atomic_inc  agree" in out
    assert "no_lost_update: merged proved (4 steps), unmerged violated at step 4" in out
    assert cli.main(["merges", str(COUNTER), "--config", "locked"]) == cli.EXIT_OK
    capsys.readouterr()
    assert cli.main(["merges", str(COUNTER), "--merge", "atomic"]) == cli.EXIT_USAGE
    assert "did you mean `atomic_inc`" in capsys.readouterr().err


def test_prove_says_what_holds_rests_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A "holds" from prove takes the spec's merges as given; the report says which,
    and whether proofs/merges/ records a check of each for this very system (a --set
    makes another system: nothing recorded applies to it)."""
    monkeypatch.chdir(ROOT)
    assert cli.main(["prove", "spec/fuse_v2.fv"]) == cli.EXIT_FINDING  # no_early_return
    out = capsys.readouterr().out
    assert "what holds rests on the spec's merges" in out
    assert (
        "  fuse_v2: serial_write agree (for all depths), presend_wait agree (for all depths),"
        " return_step agree (for all depths), index_order agree (for all depths)\n" in out
    )
    assert "lookup_lock" not in out  # recorded unused in this configuration
    assert cli.main(["prove", "spec/fuse_v2.fv", "--set", "NOTES=1"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "index_order no check recorded for this system" in out
    assert "`fusever merges` with the same --config and --set checks them" in out


def test_reliance_is_the_record_only_for_the_system_it_checked(tmp_path: Path) -> None:
    (ts,) = load_specs([SPEC / "fuse_v2.fv"], (), "restart")
    rel = regress_merges.reliance(ts, ROOT / "proofs")
    recorded = dict(rel.merges)
    assert recorded.keys() == {
        "serial_write",
        "lookup_lock",
        "presend_wait",
        "return_step",
        "index_order",
    }
    order = recorded["index_order"]
    assert order is not None and order.verdict == "agree" and order.complete
    # no proofs/ there, or a system with another constant: nothing applies
    assert all(r is None for _, r in regress_merges.reliance(ts, tmp_path).merges)
    (other,) = load_specs([SPEC / "fuse_v2.fv"], ("NOTES=1",), "restart")
    again = regress_merges.reliance(other, ROOT / "proofs")
    assert all(r is None for _, r in again.merges)


def test_unmerge_unknown_is_a_located_usage_error() -> None:
    from fusever.diagnostics import SpecError

    with pytest.raises(SpecError) as e:
        load_specs([COUNTER], unmerge="atomic")
    assert "--unmerge: spec `merge_counter` has no merge `atomic`" in str(
        e.value.diagnostics[0].message
    )


def test_regress_records_merges_and_keeps_them_while_both_forms_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "spec").mkdir()
    spec = tmp_path / "spec" / "merge_counter.fv"
    # the lock on by default: the merge agrees in every configuration that uses it
    spec.write_text(COUNTER.read_text().replace("const LOCKED = false", "const LOCKED = true"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["regress", "--record", "--engine", "explicit"]) == cli.EXIT_OK
    stored = regress_merges.read_merges(Path("proofs"))
    assert stored["merge_counter"].merges[0].verdict == "agree"
    assert stored["merge_counter.split"].merges[0].verdict == "unused"
    capsys.readouterr()
    assert cli.main(["regress"]) == cli.EXIT_OK
    assert "ok: 3 spec configuration(s) match proofs/" in capsys.readouterr().out
    # the lock dropped: the merge's forms changed, so it is checked again, disagrees,
    # and the recorded "holds" of no_lost_update rests on it
    spec.write_text(COUNTER.read_text())
    assert cli.main(["regress"]) == cli.EXIT_FINDING
    out = capsys.readouterr().out
    assert (
        'merge_counter/merge atomic_inc: recorded "agree (for all depths)" now "disagree (for all depths)"'
        in out
    )
    assert "rest on merge(s) that do not agree: atomic_inc disagree" in out


def test_a_merge_recorded_by_bmc_is_checked_again_explicit_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once recorded with BMC, a merge check went on inheriting BMC, to the whole
    configuration's depth; where a merge's declared extra steps are too few, that
    reads a merged failure the unmerged form reaches only later as a disagreement
    (fuse_v2.w4's serial_write).  Checked again, it starts from explicit."""
    (tmp_path / "spec").mkdir()
    spec = tmp_path / "spec" / "merge_counter.fv"
    spec.write_text(COUNTER.read_text().replace("const LOCKED = false", "const LOCKED = true"))
    monkeypatch.chdir(tmp_path)
    assert (
        # BMC's verdicts to a bound: a proof for all depths could not rest on a merge
        # that BMC checked to a bound
        cli.main(["regress", "--record", "--engine", "bmc", "--merge-engine", "bmc"]) == cli.EXIT_OK
    )
    (first,) = regress_merges.read_merges(Path("proofs"))["merge_counter"].merges
    assert (first.engine, first.complete) == ("bmc", False)
    # unchanged, it is kept, as regress keeps it
    assert cli.main(["regress", "--record", "--merges-only"]) == cli.EXIT_OK
    assert regress_merges.read_merges(Path("proofs"))["merge_counter"].merges == (first,)
    assert cli.main(["regress", "--record", "--merges-only", "--recheck-merges"]) == cli.EXIT_OK
    (again,) = regress_merges.read_merges(Path("proofs"))["merge_counter"].merges
    assert (again.verdict, again.engine, again.complete) == ("agree", "explicit", True)


# ---- a merge whose switch meets only constants changes nothing --------------------


def test_a_switch_that_only_meets_a_deciding_constant_is_no_change() -> None:
    """fuse_v2's serial_write sets UNSERIAL, read only as ``SERIAL && !UNSERIAL``
    (and the like): where SERIAL is false (four_writers) the two forms differ in a
    literal and in nothing else, so no verdict rests on the merge; where SERIAL is
    true (the default) the unmerged form has other steps."""
    path = ROOT / "spec" / "fuse_v2.fv"
    for config, differs in (("four_writers", False), ("three_writers", False), (None, True)):
        (merged,) = load_specs([path], config=config)
        unmerged = merges.unmerged_form(path, config, "serial_write")
        assert merges._differ(merged, unmerged) is differs, config
        assert repr(merged.actions) != repr(unmerged.actions)  # not equal before folding


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ops.expressions(), seed=st.integers(0, 2**32 - 1))
def test_folding_keeps_every_value(tmp_path_factory: object, text: str, seed: int) -> None:
    """merges.folded on random expressions (tests/test_codegen_ops.py's, with boolean
    literals among their leaves): the same value as the expression in random states."""
    folder = Path(tmp_path_factory.mktemp("fold"))  # type: ignore[attr-defined]
    spec_file = folder / "fold.fv"
    spec_file.write_text(ops.SPEC.format(expr=f"({text}) && (true || {text}) && !(false && p)"))
    (ts,) = load_specs([spec_file])
    lay = Layout(ts)
    rng = random.Random(seed)
    for e in walk(ts.properties[0].expr):
        if e.type is None:
            continue
        f = merges.folded(e)
        for _ in range(5):
            state = [
                rng.randrange(n) if (n := domain(lay.types[lay.slot_var[j]])) is not None
                else rng.randint(-400, 400)
                for j in range(lay.size)
            ]  # fmt: skip
            decoded = lay.decode(state)
            assert interpret.evaluate(f, decoded, {}) == interpret.evaluate(e, decoded, {}), str(e)


def _freeze(state: dict[str, dict[object, object]]) -> tuple[object, ...]:
    # by key alone (keys are unique): repr of a value can exceed Python's 4,300-digit
    # int-to-str limit once a random system has multiplied a few times
    return tuple(
        (n, tuple(sorted(t.items(), key=lambda kv: repr(kv[0])))) for n, t in sorted(state.items())
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ts=diff.systems(), seed=st.integers(0, 2**32 - 1))
def test_folding_keeps_every_step(ts: TransitionSystem, seed: int) -> None:
    """merges.folded_stmts on random systems (tests/test_differential.py's: ``if``,
    ``for all``, ``assume``, literal conditions among the drawn ones): along a random
    run, every state has the same successors, in the same order, with every guard,
    body and init folded as ``_differ`` folds them.  A merge called unused on the
    strength of this fold is never checked, so the fold is the claim."""
    same = replace(
        ts,
        init=merges.folded_stmts(ts.init),
        actions=tuple(
            replace(a, guard=merges.folded(a.guard), body=merges.folded_stmts(a.body))
            for a in ts.actions
        ),
    )
    rng = random.Random(seed)
    try:
        run = interpret.random_run(ts, 3, rng)
    except ValueError:
        return
    assert interpret.is_initial(same, run.steps[0].state)
    for step in run.steps:
        want = [(n, a, _freeze(t)) for n, a, t in interpret.successors(ts, step.state)]
        got = [(n, a, _freeze(t)) for n, a, t in interpret.successors(same, step.state)]
        assert got == want
