"""Golden error tests: each tests/errors/*.fv carries its expected output inline.

A case's header holds ``// expect: <line>`` comments, the exact text that
:func:`fusever.report.render_diagnostics` prints for it (message, source line,
caret), and optionally ``// set: NAME=VALUE`` lines passed as ``--set``.  A file
without ``// expect:`` lines is a helper (the base of a variant case), not a case.
Cases are loaded from inside tests/errors/, so paths print as bare file names.

After a deliberate change to a message, rewrite the expectations with
``FUSEVER_REGOLD=1 pytest tests/test_errors.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fusever.diagnostics import SpecError
from fusever.load import load_specs
from fusever.report import render_diagnostics

HERE = Path(__file__).parent / "errors"
EXPECT = "// expect: "
SET = "// set: "


HELPER = "// not a test case"


def _cases() -> list[Path]:
    """Files with expectations; when regenerating, every file that is not a helper."""
    regold = bool(os.environ.get("FUSEVER_REGOLD"))
    return sorted(
        p
        for p in HERE.glob("*.fv")
        if EXPECT in p.read_text() or (regold and not p.read_text().startswith(HELPER))
    )


def _run(path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    sets = [line[len(SET) :] for line in path.read_text().splitlines() if line.startswith(SET)]
    monkeypatch.chdir(HERE)
    try:
        load_specs([path.name], sets, all_configs=True)  # as `fusever check` does
    except SpecError as e:
        return render_diagnostics(e.diagnostics)
    return "(no error)"


def _expected(text: str) -> str:
    return "\n".join(line[len(EXPECT) :] for line in text.splitlines() if line.startswith(EXPECT))


def _regold(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(4):  # the header's length moves the lines below it: iterate to a fixpoint
        text = path.read_text()
        body = [line for line in text.splitlines() if not line.startswith(EXPECT)]
        out = _run(path, monkeypatch)
        new = "\n".join([*(EXPECT + line for line in out.splitlines()), *body]) + "\n"
        if new == text:
            return
        path.write_text(new)


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.stem)
def test_error_output(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.environ.get("FUSEVER_REGOLD"):
        _regold(path, monkeypatch)
    assert _run(path, monkeypatch) == _expected(path.read_text())


def test_every_case_has_expectations() -> None:
    helpers = [p.name for p in HERE.glob("*.fv") if EXPECT not in p.read_text()]
    assert all(HERE.joinpath(h).read_text().startswith(HELPER) for h in helpers), helpers
    assert len(_cases()) >= 30


def test_fusever_check_reports_a_broken_configuration_at_its_set_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fusever import cli

    monkeypatch.chdir(HERE)
    assert cli.main(["check", "config_bad_width.fv"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("config_bad_width.fv:13:25: error: configuration `zz`: bit width")
    assert cli.main(["prove", "config_negative_depth.fv", "--config", "neg"]) == cli.EXIT_USAGE
    assert "configuration `neg`: depth must be at least 1" in capsys.readouterr().err
