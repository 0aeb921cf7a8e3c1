"""Whole-file writes and writability checked up front (a read-only checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_fakes import fake_results, fake_ts
from test_cli import FakeEngine, Run, run  # noqa: F401  (the `run` fixture)

from fusever import cli, files


def test_write_atomic_replaces_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.json"
    files.write_atomic(path, "old\n")
    assert path.read_text() == "old\n"

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomic(path, "new\n" * 100_000)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


def test_unwritable_names_the_directory(tmp_path: Path) -> None:
    assert files.unwritable(tmp_path / "new" / "dir") is None
    (tmp_path / "afile").write_text("")
    why = files.unwritable(tmp_path / "afile")
    assert why is not None and why.startswith(f"{tmp_path / 'afile'} is not writable: ")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    monkeypatch.chdir(tmp_path)
    return FakeEngine([fake_ts()], {"counter": fake_results()}).install(monkeypatch)


def test_record_into_an_unwritable_place_fails_before_solving(
    project: FakeEngine,
    run: Run,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "ro").write_text("a file where the proofs directory should be")
    code, out, err = run("regress", "--record", "--proofs", "ro")
    assert code == cli.EXIT_USAGE and out == ""
    assert err.startswith("fusever: error: regress --record: ro is not writable: ")
    assert project.options == []  # nothing was solved
    assert project.loaded == []  # nor loaded (issue 28: it took 37 s of loading first)


def test_findings_write_and_trace_dir_unwritable_fail_up_front(
    project: FakeEngine,
    run: Run,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "ro").write_text("")
    code, _, err = run("findings", "--write", "ro/README.md")
    assert code == cli.EXIT_USAGE and "findings --write: ro is not writable" in err
    code, _, err = run("prove", "spec/counter.fv", "--trace-dir", "ro/traces")
    assert code == cli.EXIT_USAGE and "--trace-dir: ro/traces is not writable" in err
    assert project.options == []


def test_prove_output_is_written_whole(project: FakeEngine, run: Run, tmp_path: Path) -> None:  # noqa: F811
    code, out, _ = run("prove", "spec/counter.fv", "--format", "json", "--output", "r.json")
    assert code == 1 and out == ""
    assert (tmp_path / "r.json").read_text().startswith('{"fusever"') or (
        tmp_path / "r.json"
    ).read_text().lstrip().startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
