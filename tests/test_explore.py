"""fusever explore: a tiny lineage whose matrix is known by hand, and its cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fusever import cli, explore, report_explore

BASE = """spec b
const LIMIT = 3
var x: u4
init { x := 0 }
action inc() when x < LIMIT { x := x + 1 }
invariant small: x <= 3
cover top for small: x == 3
depth 5
config tight "stops at 1" { set LIMIT = 1 }
"""
LOOSE = "variant loose of b\nset LIMIT = 5\n"  # reaches 4: small violated at step 4
OTHER = "spec other\nvar y: bool\ninit { y := false }\ninvariant ok: !y\n"  # not in the lineage


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "b.fv").write_text(BASE, encoding="utf-8")
    (spec / "loose.fv").write_text(LOOSE, encoding="utf-8")
    (spec / "other.fv").write_text(OTHER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# rows: spec x configuration; cells: small, top.  Worked out by hand.
EXPECTED = {
    ("b", "default"): ["proved 5", "covered at 3"],
    ("b", "tight"): ["proved 5", "UNREACHABLE 5"],
    ("loose", "default"): ["VIOLATED at 4", "covered at 3"],
    ("loose", "tight"): ["proved 5", "UNREACHABLE 5"],  # the configuration's set wins
}


def cells(m: explore.Matrix) -> dict[tuple[str, str], list[str]]:
    return {
        (row.system.name, row.system.config or "default"): [
            report_explore.cell_text(r) for r in row.results
        ]
        for row in m.rows
    }


def test_matrix_and_cache(project: Path) -> None:
    systems = explore.select("b", [], Path("spec"))
    m = explore.explore(systems, "b", Path("spec"), jobs=2)
    assert m.properties == ("small", "top")
    assert cells(m) == EXPECTED
    assert not any(row.cached for row in m.rows)
    again = explore.explore(systems, "b", Path("spec"))
    assert all(row.cached for row in again.rows) and cells(again) == EXPECTED
    # a changed variant text misses the cache for its rows only
    (project / "spec" / "loose.fv").write_text(LOOSE + "// touched\n", encoding="utf-8")
    third = explore.explore(explore.select("b", [], Path("spec")), "b", Path("spec"))
    assert [row.cached for row in third.rows] == [True, True, False, False]
    # another depth is another key
    deeper = explore.explore(systems[:1], "b", Path("spec"), depth=4)
    assert not deeper.rows[0].cached


def test_named_variants_and_configs(project: Path) -> None:
    systems = explore.select("spec/b.fv", ["loose"], Path("spec"), configs=["default"])
    assert [s.key for s in systems] == ["b", "loose"]
    with pytest.raises(ValueError, match="does not derive from b"):
        explore.select("b", ["other"], Path("spec"))
    with pytest.raises(ValueError, match="no configuration `nope`"):
        explore.select("b", [], Path("spec"), configs=["nope"])


def test_cli_formats_and_trace_links(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["explore", "b", "--format", "json", "--trace-dir", "traces", "--no-cache"])
    assert code == cli.EXIT_FINDING
    doc = json.loads(capsys.readouterr().out)
    cell = doc["rows"][2]["cells"]["small"]
    assert (cell["verdict"], cell["step"]) == ("violated", 4)
    assert cell["trace_file"] == "traces/loose.small.itf.json"
    assert (project / "traces" / "loose.small.itf.json").is_file()
    assert cli.main(["explore", "b", "--format", "markdown", "--trace-dir", "traces"]) == 1
    assert "**[VIOLATED at 4](traces/loose.small.itf.json)**" in capsys.readouterr().out
    assert cli.main(["explore", "nope"]) == cli.EXIT_USAGE
