"""The CI fuzz runner (tests/fuzz_run.py): a crash fails the run with its seed and input."""

from __future__ import annotations

import fuzz_run
import pytest


def test_a_crash_fails_the_run_and_prints_the_seed_and_the_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crash(files: object, prove: bool = False) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(fuzz_run.fuzz, "_allowed", crash)
    code = fuzz_run.main(["--seed", "7", "--checks", "2", "--proves", "1", "--limit", "30"])
    out = capsys.readouterr().out
    assert code == 1
    assert "fuzz: FAILED check: generated specs with seed 7: RecursionError" in out
    assert "python tests/fuzz_run.py --seed 7" in out
    assert "Failing test case: generated_specs(\n    files={" in out  # the input, shrunk


def test_a_clean_run_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert fuzz_run.main(["--seed", "7", "--checks", "3", "--proves", "1"]) == 0
    assert capsys.readouterr().out.count(": ok in ") == 3
