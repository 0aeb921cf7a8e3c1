"""The pytest plugin: proofs/ collected as items, in a scratch tree, by a real pytest
(the entry point as installed, in a subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fusever import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def _pytest(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "proofs", *args],
        cwd=tree, capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip


def test_pytest_collects_each_recorded_property_and_fails_on_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "spec").mkdir()
    spec = tmp_path / "spec" / "counter.fv"
    spec.write_text((EXAMPLES / "counter.fv").read_text())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["regress", "--record", "--engine", "bmc"]) == 0
    capsys.readouterr()

    done = _pytest(tmp_path, "--collect-only")
    ids = [line for line in done.stdout.splitlines() if line.startswith("proofs/")]
    assert ids == [
        "proofs/counter.toml::no_wrap",
        "proofs/counter.toml::counts_up",
        "proofs/counter.toml::wraps",
    ], done.stdout
    done = _pytest(tmp_path)
    assert done.returncode == 0 and "3 passed" in done.stdout, done.stdout
    # the project's addopts = "-q" and the user's -q: pytest's -qq drops its own
    # last line, and the plugin writes one
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-q"\n')
    done = _pytest(tmp_path)
    assert done.returncode == 0, done.stdout
    assert re.fullmatch(r"3 passed in \d+\.\d\ds", done.stdout.strip().splitlines()[-1]), (
        done.stdout
    )
    (tmp_path / "pyproject.toml").unlink()
    done = _pytest(tmp_path, "-k", "no_wrap", "--fusever-rerun")
    assert done.returncode == 0 and "1 passed, 2 deselected" in done.stdout, done.stdout

    # a deliberate change: a 4-bit counter no longer wraps within the depth
    spec.write_text(spec.read_text().replace("const W = 3", "const W = 4"))
    done = _pytest(tmp_path)
    assert done.returncode == 1, done.stdout
    assert "3 failed" in done.stdout  # the settings changed: every item of the configuration
    assert 'counter/no_wrap: recorded "violated at step 8" now "proved (10 steps)"' in done.stdout
    assert "if deliberate, run `fusever regress --record`" in done.stdout
