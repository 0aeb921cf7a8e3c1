"""proofs/ cannot carry a claim nobody decided (fusever.claims): every corruption the
robustness review made of a recording that kept both fingerprints intact, and that
`regress` then kept, now fails the run; so does a forged file (its claims digest made
anew) whose trace does not replay or whose numbers no engine writes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from test_regress import EXAMPLES, FIXTURES, _spec_dir, run  # noqa: F401 (a fixture)

from fusever import claims, cli, regress, regress_merges
from fusever.diagnostics import SpecError
from fusever.load import load_specs

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Run) -> Path:  # noqa: F811
    """docs/examples/counter.fv recorded (by k-induction: a violation at step 8, a proof
    for all depths with its certificate, a cover witness); the file's path."""
    _spec_dir(tmp_path, monkeypatch, EXAMPLES / "counter.fv")
    code, out, _ = run("regress", "--record", "--engine", "kind")
    assert code == 0, out
    path = tmp_path / "proofs" / "counter.toml"
    assert regress.loads(path.read_text()).attested
    return path


def _edit(path: Path, pattern: str, repl: str, *, forge: bool = False) -> None:
    text = path.read_text()
    new = re.sub(pattern, repl, text, count=1, flags=re.M)
    assert new != text, pattern
    path.write_text(regress.dumps(regress.loads(new)) if forge else new)


EDITS = [
    # (what, pattern, replacement)
    ("violated -> proved", r'^verdict = "violated"$', 'verdict = "proved"'),
    ("proved -> violated", r'^verdict = "proved"$', 'verdict = "violated"'),
    ("covered -> unreachable", r'^verdict = "covered"$', 'verdict = "unreachable"'),
    ("a shorter step", r"^step = 8$", "step = 7"),
    ("a negative step", r"^step = 8$", "step = -8"),
    ("a huge bound", r"^bound = 10$", "bound = 100000000000000000000"),
    ("a property deleted", r"^\[properties\.counts_up\]\n(?:.*\n)*?(?=\[properties\.wraps\])", ""),
    ("a property added", r"^\[properties\.wraps\]$", '[properties.extra]\nkind = "invariant"\nverdict = "proved"\ncomplete = false\nbound = 10\n\n[properties.wraps]'),
]  # fmt: skip


@pytest.mark.parametrize(("what", "pattern", "repl"), EDITS, ids=[e[0] for e in EDITS])
def test_a_hand_edited_recording_fails_regress(
    recorded: Path,
    run: Run,  # noqa: F811
    what: str,
    pattern: str,
    repl: str,
) -> None:
    _edit(recorded, pattern, repl)
    code, out, _ = run("regress")
    assert code == 1, (what, out)
    assert out.startswith("counter: the recorded claims do not match their digest"), out
    # and nothing publishes it
    code = cli.main(["findings"])
    assert code == cli.EXIT_USAGE


FORGED = [
    ("the counterexample shortened", r"^step = 8$\nactions = \[\n(    \"tick\(\)\",\n){8}\]", 'step = 7\nactions = [\n' + '    "tick()",\n' * 7 + "]", "does not replay"),
    ("violated without its trace", r'^step = 8$\nactions = \[\n(    "tick\(\)",\n){8}\]', "", "no step is recorded"),
    ("a step past the bound", r'^bound = 8\nstep = 8$', "bound = 7\nstep = 8", "not between 0 and the bound 7"),
    ("a property added", r"^\[properties\.wraps\]$", '[properties.extra]\nkind = "invariant"\nverdict = "proved"\ncomplete = false\nbound = 10\n\n[properties.wraps]', "the spec has no such property"),
    ("another kind", r'^kind = "transition"$', 'kind = "invariant"', "the spec's is a transition"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "pattern", "repl", "message"), FORGED, ids=[f[0] for f in FORGED])
def test_a_forged_recording_is_checked_against_its_spec(
    recorded: Path,
    run: Run,  # noqa: F811
    what: str,
    pattern: str,
    repl: str,
    message: str,
) -> None:
    """The digest made anew (as anyone can): what the file claims is still checked
    against the spec, and the configuration decided again."""
    _edit(recorded, pattern, repl, forge=True)
    assert regress.loads(recorded.read_text()).attested
    code, out, _ = run("regress")
    assert code == 1, (what, out)
    assert message in out, out
    assert "not run again" not in out  # decided again, not kept


def test_every_recording_in_proofs_stands() -> None:
    """The shipped proofs/: each file's claims match their digest, and each claim fits
    its spec (the counterexamples replayed where the initial states are enumerable)."""
    root = Path(__file__).resolve().parent.parent
    recordings = regress.read_dir(root / "proofs", {"fuse_v2"})
    merges = regress_merges.read_merges(root / "proofs")
    assert all(r.attested for r in regress.read_dir(root / "proofs").values())
    assert merges and all(m.attested for m in merges.values())
    spec = root / "spec" / "fuse_v2.fv"
    (base,) = load_specs([spec])
    systems = [base, *(load_specs([spec], (), name)[0] for name, _ in base.configs)]
    checked = 0
    for ts in systems:
        rec = recordings[ts.key]
        assert claims.problems(rec, ts) == (), ts.key
        checked += claims.replayable(ts)
    assert checked >= 10  # most configurations replay every trace


def test_a_merge_check_edited_by_hand_runs_again_and_fails(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run: Run,  # noqa: F811
) -> None:
    _spec_dir(tmp_path, monkeypatch, FIXTURES / "merge_counter.fv")
    run("regress", "--record")  # exit 1: the default configuration's merge disagrees
    path = tmp_path / "proofs" / "merges" / "merge_counter.locked.toml"
    text = path.read_text()
    assert regress_merges.loads_merges(text).attested
    assert run("regress", "--config", "locked")[0] == 0
    # a bound no check writes is malformed (exit 2), not kept
    path.write_text(re.sub(r"(?m)^merged_bound = \d+$", "merged_bound = -1", text, count=1))
    with pytest.raises(SpecError, match="merged_bound"):
        regress_merges.read_merges(tmp_path / "proofs")
    # a bound edited: the check runs again, and the run fails
    path.write_text(re.sub(r"(?m)^unmerged_bound = 6$", "unmerged_bound = 9", text, count=1))
    assert not regress_merges.loads_merges(path.read_text()).attested
    code, out, _ = run("regress", "--config", "locked")
    assert code == 1, out
    assert "merges/merge_counter.locked: the recorded claims do not match" in out, out
