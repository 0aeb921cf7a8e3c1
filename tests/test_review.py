"""``fusever review``: a one-page review of a spec from proofs/ (where each property
holds and fails, its shortest counterexample as a race diagram, which compared
variants fix it), and the committed docs/review-fuse_v2.txt kept current."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_findings import SPEC, _rec

from fusever import cli, regress, report_review, review
from fusever.check import check
from fusever.parse import parse_text
from fusever.verdict import Verdict

ROOT = Path(__file__).resolve().parent.parent
REVIEW = ROOT / "docs" / "review-fuse_v2.txt"
AGAINST = ("fuse_pre", "fuse_v1", "fuse_le", "fuse_wrapsafe", "fuse_connseq", "fuse_connseq_max")


def _held(rec: regress.Recording, spec: str) -> regress.Recording:
    (p,) = rec.properties
    proved = replace(p, verdict=Verdict.PROVED, step=None, actions=())
    return replace(rec, spec=spec, properties=(proved,))


def test_a_variant_fixes_what_holds_wherever_the_spec_fails() -> None:
    ts = check([parse_text(SPEC, "lost.fv")])
    mine = [_rec(), _rec("big")]
    fixed = [_held(_rec(), "fixed"), _held(_rec("big"), "fixed")]
    partly = [_held(_rec(), "partly"), replace(_rec("big"), spec="partly")]
    rv = review.review("lost", [*mine, *fixed, *partly], {"lost": ts}, ["fixed", "partly"])
    (p,) = rv.properties
    assert p.fails == (("default", 4), ("big", 4)) and p.holds == ()
    assert [(a.spec, a.fixes, a.held, a.of) for a in p.against] == [
        ("fixed", True, 2, 2),
        ("partly", False, 1, 2),
    ]
    # the shortest counterexample is the recorded one, replayed (never made up)
    assert p.shortest is not None and p.shortest.trace is not None
    assert [s.action for s in p.shortest.trace.steps[1:]] == ["load", "store", "load", "store"]
    text = report_review.render_review(rv, "spec/lost.fv")
    assert "fixed by: fixed; holds in some of them: partly (1 of 2)" in text
    assert "shortest counterexample: default, 4 steps:" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_a_spec_with_no_recordings_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "proofs").mkdir()
    code = cli.main(
        ["review", str(ROOT / "spec" / "fuse_v2.fv"), "--proofs", str(tmp_path / "proofs")]
    )
    assert code == 2
    assert "no recorded proofs" in capsys.readouterr().err


def test_the_committed_review_of_fuse_v2_is_current_and_one_page(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    args = ["review", "spec/fuse_v2.fv", "--against", *(f"spec/{s}.fv" for s in AGAINST)]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert REVIEW.read_text(encoding="utf-8") == text, (
        f"docs/review-fuse_v2.txt is stale: run `fusever {' '.join(args)} "
        "--output docs/review-fuse_v2.txt`"
    )
    lines = text.splitlines()
    assert len(lines) <= report_review.BUDGET
    assert all(len(line) <= 80 for line in lines)
    # every property of fuse_v2 is in the table, and at least one race is drawn
    for name in ("monotonic", "no_stale_escape", "no_early_return", "no_stale_return"):
        assert any(line.startswith(name + " ") for line in lines), name
    assert "shortest counterexample:" in text and ": fuse_" in text
