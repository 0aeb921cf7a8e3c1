"""Issue 28: `fusever check` checks every configuration's and every step merge's values,
not only those of the configuration a later run selects."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import cli
from fusever.diagnostics import SpecError
from fusever.load import load_specs

HEAD = """spec c
const W = 8
var x: u<W>
init { x := 0 }
action a() { x := x + 1 }
invariant p: x == x
"""


def _errors(path: Path) -> list[tuple[int, str]]:
    with pytest.raises(SpecError) as e:
        load_specs([path], all_configs=True)
    return [(d.span.line if d.span else 0, d.message) for d in e.value.diagnostics]


def test_every_merge_is_checked_at_its_own_item(tmp_path: Path) -> None:
    path = tmp_path / "c.fv"
    path.write_text(
        HEAD + "merge wide { set W = 4097 }\nmerge neg { depth -1 }\nmerge ok { set W = 4 }\n"
    )
    assert _errors(path) == [
        (7, "merge `wide`: bit width must be between 1 and 4096, not 4097"),
        (8, "merge `neg`: a merge's depth adds steps; it cannot be negative (-1)"),
    ]


def test_check_of_one_configuration_still_checks_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.fv"
    path.write_text(HEAD + "config ok { set W = 4 }\nconfig zero { set W = 0 }\n")
    assert cli.main(["check", "--config", "ok", str(path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{path}:8:15: error: configuration `zero`: bit width must be between 1 and 4096" in err


def test_many_configurations_each_checked(tmp_path: Path) -> None:
    """3,000 configurations (16 distinct sets of values: each checked once), one of them
    wrong: its error, at its line, and no other."""
    configs = "".join(f"config c{i} {{ set W = {i % 16 + 1} }}\n" for i in range(3000))
    path = tmp_path / "c.fv"
    path.write_text(HEAD + configs + "config bad { set W = 4097 }\nconfig late { set W = 16 }\n")
    assert _errors(path) == [
        (3007, "configuration `bad`: bit width must be between 1 and 4096, not 4097")
    ]
    path.write_text(HEAD + configs)
    (ts,) = load_specs([path], all_configs=True)
    assert len(ts.configs) == 3000
