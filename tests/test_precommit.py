"""The pre-commit hooks (.pre-commit-hooks.yaml), run by pre-commit itself in a scratch
git repository.  pre-commit would install this repository into a virtual environment
of its own (``language: python``); here the same hooks run as ``language: system``
with this interpreter's fusever, so the test needs no network and checks what the
manifest decides: which files each hook gets, and what the commands do with them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # pre-commit's own dependency (pre-commit is in the test extra)

from fusever import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"


def _run(tree: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tree.parent / "pre-commit-home")}
    return subprocess.run(
        list(argv), cwd=tree, capture_output=True, text=True, timeout=600, env=env, check=False
    )


def test_the_hooks_check_staged_specs_and_their_recorded_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed for pre-commit")
    tree = tmp_path / "tree"
    (tree / "spec").mkdir(parents=True)
    spec = tree / "spec" / "counter.fv"
    spec.write_text((EXAMPLES / "counter.fv").read_text())
    (tree / "notes.txt").write_text("not a spec\n")
    monkeypatch.chdir(tree)

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["fusever-check", "fusever-regress"]
    for h in hooks:
        assert h["entry"].startswith("fusever ") and h["language"] == "python"
        h["entry"] = f"{sys.executable} -m {h['entry']}"
        h["language"] = "system"
    config = {"repos": [{"repo": "local", "hooks": hooks}]}
    (tree / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    for argv in (["git", "init", "-q"], ["git", "add", "-A"]):
        assert _run(tree, *argv).returncode == 0

    # the first run, before anything is recorded: told to record, not that a recorded
    # verdict changed
    done = _run(tree, sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "proofs/ holds no recorded verdicts yet: run `fusever regress --record`" in (done.stdout)
    assert "a recorded verdict changed" not in done.stdout and "Traceback" not in done.stdout

    assert cli.main(["regress", "--record", "--engine", "bmc"]) == 0
    capsys.readouterr()
    assert _run(tree, "git", "add", "-A").returncode == 0
    done = _run(tree, sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fusever check" in done.stdout and "fusever regress" in done.stdout

    # a spec that no longer parses: located error from the check hook
    spec.write_text(spec.read_text().replace("const W = 3", "const W = = 3"))
    done = _run(tree, sys.executable, "-m", "pre_commit", "run", "--files", "spec/counter.fv")
    assert done.returncode == 1
    assert "spec/counter.fv:" in done.stdout and "^" in done.stdout
    assert "Traceback" not in done.stdout

    # a spec that means something else: the regress hook fails on the changed verdicts
    spec.write_text((EXAMPLES / "counter.fv").read_text().replace("const W = 3", "const W = 4"))
    done = _run(tree, sys.executable, "-m", "pre_commit", "run", "--files", "spec/counter.fv")
    assert done.returncode == 1
    assert 'counter/no_wrap: recorded "violated at step 8" now' in done.stdout
    # a file that is no spec goes to neither hook
    done = _run(tree, sys.executable, "-m", "pre_commit", "run", "--files", "notes.txt")
    assert done.returncode == 0 and "(no files to check)" in done.stdout
