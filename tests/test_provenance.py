"""What a recorded verdict depends on: an engine's code, found by its imports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fusever import provenance


def test_each_engine_closure_holds_what_it_runs_and_no_presentation() -> None:
    explicit = provenance.closure("explicit")
    bmc = provenance.closure("bmc")
    assert {"explicit", "interpret", "ts"} <= set(explicit) and "encode" not in explicit
    assert {"bmc", "encode", "interpret"} <= set(bmc) and "explicit" not in bmc
    for engine in provenance.ENGINE_MODULES.values():
        assert not {"cli", "report", "findings", "regress"} & set(provenance.closure(engine))


def test_the_fingerprint_follows_the_source_of_every_module_in_the_closure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "fusever"
    shutil.copytree(provenance.PACKAGE, copy)

    def fresh() -> dict[str, str]:
        provenance.closure.cache_clear()
        provenance.engine_fingerprint.cache_clear()
        return {e: provenance.engine_fingerprint(e) for e in ("explicit", "bmc")}

    monkeypatch.setattr(provenance, "PACKAGE", copy)
    before = fresh()
    assert before == fresh() and before["explicit"] != before["bmc"]
    # the encoder is BMC's, not explicit's
    (copy / "encode.py").write_text((copy / "encode.py").read_text() + "\n# changed\n")
    after = fresh()
    assert after["explicit"] == before["explicit"] and after["bmc"] != before["bmc"]
    # the interpreter (every trace's replay) is both engines'
    (copy / "interpret.py").write_text((copy / "interpret.py").read_text() + "\n# changed\n")
    last = fresh()
    assert last["explicit"] != after["explicit"] and last["bmc"] != after["bmc"]
    # a merge check's fingerprint adds the merges module's own source
    assert provenance.engine_fingerprint("explicit", "merges") != last["explicit"]
    monkeypatch.undo()
    fresh()


def test_a_spec_s_words_are_not_its_meaning(tmp_path: Path) -> None:
    """The transition system's fingerprint (what a recording stands for) ignores the
    descriptions of the spec, its actions, properties and merges; a changed guard or
    a changed property is a changed meaning."""
    from fusever import load, ts

    src = (Path(__file__).resolve().parent / "fixtures" / "merge_counter.fv").read_text()

    def fp(text: str) -> str:
        path = tmp_path / "merge_counter.fv"
        path.write_text(text)
        (system,) = load.load_specs([path])
        return ts.fingerprint(system)

    base = fp(src)
    described = [
        line
        for line in src.splitlines()
        if line.startswith(
            ("spec ", "action ", "merge ", "invariant ", "cover ", "observe ", "config ")
        )
    ]
    assert described, "the fixture describes something"
    reworded = src
    for line in described:
        if '"' in line:
            head, _quoted, tail = line.split('"', 2)
            reworded = reworded.replace(line, f'{head}"said otherwise"{tail}')
    assert reworded != src
    assert fp(reworded) == base
    assert fp(src.replace("depth ", "depth 1 + ", 1)) != base
