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


# rows: spec x configuration; cells: small, top.  Worked out by hand.  The default
# engine (explicit, then BMC for what it leaves) exhausts these runs: complete verdicts.
EXPECTED = {
    ("b", "default"): ["proved all depths", "covered at 3"],
    ("b", "tight"): ["proved all depths", "unreachable ever"],
    ("loose", "default"): ["VIOLATED at 4", "covered at 3"],
    ("loose", "tight"): ["proved all depths", "unreachable ever"],  # the configuration's set wins
}
# BMC alone: the same verdicts, to the depth only
EXPECTED_BMC = {
    ("b", "default"): ["proved 5", "covered at 3"],
    ("b", "tight"): ["proved 5", "UNREACHABLE 5"],
    ("loose", "default"): ["VIOLATED at 4", "covered at 3"],
    ("loose", "tight"): ["proved 5", "UNREACHABLE 5"],
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


def test_bmc_alone_gives_the_same_verdicts_to_the_depth(project: Path) -> None:
    systems = explore.select("b", [], Path("spec"))
    m = explore.explore(systems, "b", Path("spec"), engine="bmc", cache=None)
    assert cells(m) == EXPECTED_BMC
    assert {r.engine for row in m.rows for r in row.results} == {"bmc"}


def test_what_the_explicit_search_leaves_goes_to_bmc(project: Path) -> None:
    """A free start of a 64-bit counter: the explicit search refuses the row (unknown),
    so BMC decides it, to the depth; a row explicit exhausts keeps its complete verdicts."""
    (project / "spec" / "wide.fv").write_text(
        "variant wide of b\nvar big: u64\ninit { big := any }\n"
        "action bump() when big == 18446744073709551615 { big := 0 }\n"
        "cover wraps: big == 0\n",
        encoding="utf-8",
    )
    systems = explore.select("b", ["wide"], Path("spec"), configs=["default"])
    m = explore.explore(systems, "b", Path("spec"), cache=None)
    (row,) = [row for row in m.rows if row.system.name == "wide"]
    by = {r.property: r for r in row.results}
    assert {r.engine for r in row.results} == {"bmc"}, [(r.property, r.reason) for r in row.results]
    assert report_explore.cell_text(by["small"]) == "proved 5"
    assert report_explore.cell_text(by["wraps"]) == "covered at 0"
    (base,) = [row for row in m.rows if row.system.name == "b"]
    assert {r.engine for r in base.results} == {"explicit"}
    assert {r.property: r.complete for r in base.results}["small"]


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


def test_cache_entries_are_checksummed_json_and_corrupt_ones_are_misses(project: Path) -> None:
    systems = explore.select("b", [], Path("spec"), configs=["default"])
    first = explore.explore(systems, "b", Path("spec"))
    entries = sorted((project / ".fusever-cache" / "explore").iterdir())
    assert len(entries) == 2
    doc = json.loads(entries[0].read_text())
    assert doc["format"] == explore.CACHE_FORMAT and len(doc["sha256"]) == 64
    # every result, traces included, round-trips
    for row in first.rows:
        assert explore.load_results(explore.dump_results(row.results)) == row.results
    # the entry with a proof in it (entries are named by their key, so in no set order)
    entries.sort(key=lambda e: '"proved"' not in e.read_text())
    good = entries[0].read_text()
    assert '"proved"' in good
    corrupt = [
        b"\x80\x04garbage",  # a pickle, or binary garbage
        good.replace('"proved"', '"violated"', 1).encode(),  # checksum no longer fits
        good.replace('"format":1', '"format":2').encode(),  # another format
        good[: len(good) // 2].encode(),  # truncated
        b"[" * 100000,  # nested too deep
    ]
    for data in corrupt:
        entries[0].write_bytes(data)
        again = explore.explore(systems, "b", Path("spec"))
        assert [row.cached for row in again.rows].count(False) == 1, data[:20]
        assert cells(again) == cells(first)
    # a directory where an entry should be is a miss too
    entries[1].unlink()
    entries[1].mkdir()
    assert cells(explore.explore(systems, "b", Path("spec"))) == cells(first)


def test_read_only_cache_is_no_cache_with_one_warning(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    cache = project / ".fusever-cache"
    cache.mkdir()
    cache.chmod(0o555)
    try:
        if os.access(cache, os.W_OK):  # root writes anywhere: a file in the way instead
            cache.rmdir()
            cache.write_text("not a directory")
        assert cli.main(["explore", "b"]) == cli.EXIT_FINDING
        err = capsys.readouterr().err
        assert err.count("fusever: warning: cannot write the cache") == 1, err
    finally:
        if cache.is_dir():
            cache.chmod(0o755)


def test_the_compact_matrix_fits_80_columns_with_a_key_and_a_legend() -> None:
    from dataclasses import replace as _replace

    from report_fakes import fake_ts, result

    from fusever.ts import PropKind
    from fusever.verdict import Verdict

    names = [f"property_number_{i}" for i in range(16)]
    verdicts = [
        dict(verdict=Verdict.PROVED, complete=True),
        dict(verdict=Verdict.PROVED, bound=20),
        dict(verdict=Verdict.VIOLATED, step=13),
        dict(verdict=Verdict.COVERED, step=5),
        dict(verdict=Verdict.UNREACHABLE, complete=True),
        dict(verdict=Verdict.UNKNOWN),
    ]
    rows = []
    for j, config in enumerate((None, "no_presend_wait", "two_fuds_free")):
        ts = _replace(fake_ts("fuse_connseq_max"), config=config)
        results = tuple(
            result(n, PropKind.INVARIANT, spec="fuse_connseq_max", **verdicts[(i + j) % 6])  # type: ignore[arg-type]
            for i, n in enumerate(names)
        )
        rows.append(explore.Row(ts, results, cached=False, seconds=1.0))
    m = explore.Matrix("fuse_connseq_max", tuple(rows), tuple(names), None, "auto", 3.0)
    text = report_explore.render_matrix_compact(m)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    # the first row's cells, in the first table: ok, <=20, X13, c5, NEVER, ?
    first = next(line for line in lines if line.startswith("fuse_connseq_max "))
    assert first.split()[1:7] == ["ok", "<=20", "X13", "c5", "NEVER", "?"]
    assert "fuse_connseq_max.two_fuds_free" in text
    assert "  1  property_number_0" in lines and " 16  property_number_15" in lines
    assert any(line.startswith("ok: holds for all depths") for line in lines)
