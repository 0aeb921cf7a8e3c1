"""load: where a variant's base is found, and how a spec is named on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import cli
from fusever.diagnostics import SpecError
from fusever.load import load_specs, resolve

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "spec"
VARIANT = 'variant mine of fuse_v2 "a variant kept outside spec/"\nset W = 4\n'


def test_a_variant_outside_spec_finds_its_base_in_spec(tmp_path: Path) -> None:
    (tmp_path / "my.fv").write_text(VARIANT)
    (mine,) = load_specs([tmp_path / "my.fv"], library=LIBRARY)
    assert mine.lineage == ("mine", "fuse_v2")
    assert dict(mine.settings)["W"] == 4


def test_a_base_beside_the_variant_comes_before_the_library(tmp_path: Path) -> None:
    (tmp_path / "my.fv").write_text(VARIANT)
    (tmp_path / "base.fv").write_text("spec fuse_v2\nconst W = 8\nvar x: u<W>\ninit { x := 0 }\n")
    (mine,) = load_specs([tmp_path / "my.fv"], library=LIBRARY)
    assert [v.name for v in mine.vars] == ["x"]


def test_a_named_base_finds_its_own_base(tmp_path: Path) -> None:
    """fuse_connseq_max's base fuse_connseq is named with it; fuse_connseq's base,
    fuse_v2, is not, and is found beside it (it was looked up only for the first)."""
    chain = [LIBRARY / "fuse_connseq_max.fv", LIBRARY / "fuse_connseq.fv"]
    for paths in (chain, chain[::-1]):
        systems = load_specs(paths, library=None)
        assert sorted(ts.lineage for ts in systems) == [
            ("fuse_connseq", "fuse_v2"),
            ("fuse_connseq_max", "fuse_connseq", "fuse_v2"),
        ]


def test_without_a_library_the_base_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "my.fv").write_text(VARIANT)
    with pytest.raises(SpecError) as e:
        load_specs([tmp_path / "my.fv"], library=None)
    assert "unknown base spec `fuse_v2`" in e.value.diagnostics[0].message


def test_a_spec_is_a_path_or_a_name() -> None:
    assert resolve("fuse_v2", LIBRARY) == LIBRARY / "fuse_v2.fv"
    assert resolve("fuse_wrapsafe", LIBRARY) == LIBRARY / "fuse_wrapsafe.fv"
    assert resolve("x/y.fv", LIBRARY) == Path("x/y.fv")  # a path, even if missing: load says so
    assert resolve("nothere.fv", LIBRARY) == Path("nothere.fv")
    with pytest.raises(SpecError) as e:
        resolve("fuse_v3", LIBRARY)
    assert e.value.diagnostics[0].message.startswith(
        f"no spec named `fuse_v3` under {LIBRARY}/; did you mean `fuse_v2`?"
    )


def test_every_command_takes_a_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert cli.main(["check", "fuse_v2", "spec/fuse_wrapsafe.fv"]) == 0
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()[:-1]] == [
        "fuse_v2",
        "fuse_wrapsafe",
    ]
    assert cli.main(["check", "fuse_v9"]) == 2
    assert "no spec named `fuse_v9` under spec/" in capsys.readouterr().err
