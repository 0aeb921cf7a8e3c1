"""fusever mutate: a tiny spec whose every mutant's verdict is known by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import cli, load, mutate
from fusever.mutate import expr_text

SPEC = """spec m
var x: u4
var y: u4                      // not observed, not in a property
init { x := 0  y := 0 }
action inc() when x < 3 {
  x := x + 1
  y := y + 1
}
invariant bounded: x <= 3
observe x: x
depth 6
"""

# (kind, mutation, status, killing property, step): worked out by hand
EXPECTED = [
    ("operator", "x < 3 → x <= 3", "killed", "bounded", 4),
    ("constant", "3 → 4", "killed", "bounded", 4),
    ("constant", "3 → 2", "survived", None, 3),  # inc disabled one step earlier
    ("drop-assign", "x := x + 1 → (removed)", "survived", None, 1),
    ("swap", "x := x + 1; y := y + 1 → y := y + 1; x := x + 1", "equivalent", None, None),
    ("constant", "1 → 2", "killed", "bounded", 2),
    ("constant", "1 → 0", "survived", None, 1),
    ("drop-assign", "y := y + 1 → (removed)", "equivalent", None, None),  # y is not observed
    ("constant", "1 → 2", "equivalent", None, None),
    ("constant", "1 → 0", "equivalent", None, None),
]


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    p = tmp_path / "m.fv"
    p.write_text(SPEC, encoding="utf-8")
    return p


def test_mutants_and_verdicts(spec: Path) -> None:
    (ts,) = load.load_specs([spec])
    ms = mutate.mutants(ts)
    assert [(m.kind, f"{m.original} → {m.mutated}") for m in ms] == [e[:2] for e in EXPECTED]
    assert str(ms[0].span) == f"{spec}:5:19"
    _, results = mutate.run(ts, ms, jobs=2)
    got = [(r.kind, f"{r.original} → {r.mutated}", r.status, r.killed_by, r.step) for r in results]
    assert got == EXPECTED
    assert mutate.score(results) == (3, 6, 0.5)


def test_ghost_assignments_are_not_mutated_by_default(spec: Path) -> None:
    text = SPEC.replace("var y: u4", "var y: u4\nghost g: int").replace(
        "y := 0 }", "y := 0  g := 0 }"
    )
    spec.write_text(text.replace("y := y + 1", "y := y + 1\n  g := g + 1"), encoding="utf-8")
    (ts,) = load.load_specs([spec])
    assert len(mutate.mutants(ts)) == len(EXPECTED)
    assert {m.original for m in mutate.mutants(ts, ghosts=True)} >= {"g := g + 1"}


def test_limit_is_spread_and_deterministic(spec: Path) -> None:
    (ts,) = load.load_specs([spec])
    picked = [m.index for m in mutate.mutants(ts, limit=3)]
    assert picked == [0, 3, 6] == [m.index for m in mutate.mutants(ts, limit=3)]
    with pytest.raises(ValueError, match="no action `nope`"):
        mutate.mutants(ts, ["nope"])


def test_expr_text_parenthesizes_by_precedence(spec: Path) -> None:
    text = SPEC.replace("x < 3", "(x < 3 || y == 0) && !(x + 1 == 2)")
    spec.write_text(text, encoding="utf-8")
    (ts,) = load.load_specs([spec])
    assert expr_text(ts.action("inc").guard) == "(x < 3 || y == 0) && !(x + 1 == 2)"


def test_cli(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mutate", str(spec), "--limit", "4"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "score: 2/3 killed = 67%  (1 equivalent and 0 undecided left out)" in out
    assert f"{spec}:5:23: in inc: 3  →  2" in out
    assert cli.main(["mutate", str(spec), "--actions", "nope"]) == cli.EXIT_USAGE


DEAD = SPEC.replace(
    "invariant bounded",
    "action never() when x > 9 {\n  y := y + 2\n}\ninvariant bounded",
)


def test_mutants_of_never_enabled_actions_are_not_exercised_not_equivalent(spec: Path) -> None:
    spec.write_text(DEAD, encoding="utf-8")
    (ts,) = load.load_specs([spec])
    ms = mutate.mutants(ts)
    dead = mutate.dead_actions(ts, [m.action for m in ms], ts.depth)
    assert dead == frozenset({"never"})
    _, results = mutate.run(ts, ms, dead=dead)
    by_action = {(r.action, r.kind, r.original): r.status for r in results}
    # `y := y + 2` and its constant: the action never runs within the depth
    assert by_action[("never", "drop-assign", "y := y + 2")] == "unexercised"
    assert by_action[("never", "constant", "2")] == "unexercised"
    # a guard mutant may enable it: it is checked, and here the action stays disabled
    assert by_action[("never", "operator", "x > 9")] == "unexercised"
    assert "equivalent" not in {s for (a, _, _), s in by_action.items() if a == "never"}
    assert mutate.score(results) == (3, 6, 0.5)  # the same as without the dead action
    # the limit goes to exercised mutants first
    live = [m for m in ms if mutate.exercised(m, dead)]
    picked = mutate.mutants(ts, limit=len(live), dead=dead)
    assert all(mutate.exercised(m, dead) for m in picked)


def test_fail_under_sets_the_exit_policy(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec.write_text(DEAD, encoding="utf-8")
    assert cli.main(["mutate", str(spec), "--fail-under", "40"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "not exercised by this configuration (never is never enabled within 6 steps)" in out
    assert "score: 3/6 killed = 50%  (4 equivalent, 6 not exercised by this configuration" in out
    assert cli.main(["mutate", str(spec), "--fail-under", "60%"]) == cli.EXIT_FINDING
    capsys.readouterr()
    assert cli.main(["mutate", str(spec), "--fail-under", "101"]) == cli.EXIT_USAGE
