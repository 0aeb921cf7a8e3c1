"""What a recorded verdict depends on: an engine's code, found by its imports."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from fusever import provenance


def test_each_engine_closure_holds_what_it_runs_and_no_presentation() -> None:
    explicit = provenance.closure("explicit")
    bmc = provenance.closure("bmc")
    assert {"fusever.explicit", "fusever.interpret", "fusever.ts"} <= set(explicit)
    assert "fusever.encode" not in explicit
    assert {"fusever.bmc", "fusever.encode", "fusever.interpret"} <= set(bmc)
    assert "fusever.explicit" not in bmc
    presentation = {"fusever.cli", "fusever.report", "fusever.findings", "fusever.regress"}
    front_end = {"fusever.parse", "fusever.check", "fusever.load", "fusever.expand"}
    for engine in (*provenance.ENGINE_MODULES.values(), provenance.MERGE_CHECK):
        assert not (presentation | front_end) & set(provenance.closure(engine)), engine


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "fusever"
    shutil.copytree(provenance.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _fingerprints(root: Path) -> dict[str, str]:
    provenance.clear()
    out = {e: provenance.engine_fingerprint(e, root=root) for e in provenance.ENGINE_MODULES}
    out["merge check"] = provenance.engine_fingerprint("explicit", "merges", root=root)
    return out


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def test_the_fingerprint_follows_the_code_of_every_module_in_the_closure(
    tmp_path: Path,
) -> None:
    copy = _copy(tmp_path)
    before = _fingerprints(copy)
    assert before == _fingerprints(copy) and before["explicit"] != before["bmc"]
    assert before["merge check"] != before["explicit"]
    # the encoder is BMC's, not explicit's
    _append(copy / "encode.py", "CHANGED = 1")
    after = _fingerprints(copy)
    assert after["explicit"] == before["explicit"] and after["bmc"] != before["bmc"]
    assert after["kind"] != before["kind"]  # through bmc, two imports away
    # the interpreter (every trace's replay) is every engine's
    _append(copy / "interpret.py", "CHANGED = 1")
    last = _fingerprints(copy)
    assert all(last[e] != after[e] for e in last)
    # a merge check's fingerprint follows the merges module's own code
    _append(copy / "merges.py", "CHANGED = 1")
    assert _fingerprints(copy)["merge check"] != last["merge check"]
    provenance.clear()


def test_comments_docstrings_and_layout_are_not_code(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = _fingerprints(copy)
    source = (copy / "explicit.py").read_text()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    assert doc is not None
    reworded = source.replace(doc.splitlines()[0], "Reworded, and nothing else.", 1)
    (copy / "explicit.py").write_text("# a new comment\n" + reworded.replace("\n\n\n", "\n\n\n\n"))
    assert _fingerprints(copy) == before
    provenance.clear()


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def _move(copy: Path, module: str, package: str) -> None:
    """Move fusever/<module>.py into the subpackage fusever/<package>/, rewriting every
    import of it so that the names it binds stay the same."""
    (copy / package).mkdir(exist_ok=True)
    (copy / package / "__init__.py").write_text(f'"""The {package} package."""\n')
    (copy / f"{module}.py").rename(copy / package / f"{module}.py")
    for f in copy.rglob("*.py"):
        text = f.read_text()
        new = text.replace(
            f"from fusever.{module} import", f"from fusever.{package}.{module} import"
        )
        new = re.sub(
            rf"^(\s*)from fusever import (.*)\b{module}\b(.*)$",
            lambda m: _split_import(m, module, package),
            new,
            flags=re.M,
        )
        if new != text:
            f.write_text(new)


def _move_back(copy: Path, module: str, package: str) -> None:
    (copy / package / f"{module}.py").rename(copy / f"{module}.py")
    for f in copy.rglob("*.py"):
        text = f.read_text()
        new = text.replace(
            f"from fusever.{package}.{module} import", f"from fusever.{module} import"
        )
        new = new.replace(
            f"from fusever.{package} import {module}", f"from fusever import {module}"
        )
        if new != text:
            f.write_text(new)


def _split_import(m: re.Match[str], module: str, package: str) -> str:
    indent, head, tail = m.group(1), m.group(2), m.group(3)
    names = [n.strip() for n in (head + module + tail).split(",") if n.strip()]
    rest = [n for n in names if n != module]
    lines = [f"{indent}from fusever.{package} import {module}"]
    if rest:
        lines.insert(0, f"{indent}from fusever import {', '.join(rest)}")
    return "\n".join(lines)


def test_a_move_into_a_subpackage_and_back_changes_no_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's simulation: six SMT modules moved into a subpackage.  The old
    scheme (module names and raw bytes, subpackages silently dropped) lost them from
    every closure; this one neither notices the move nor loses a module."""
    copy = _copy(tmp_path)
    before = _fingerprints(copy)
    sizes = {e: len(provenance.closure(m, copy)) for e, m in provenance.ENGINE_MODULES.items()}
    moved = ("bmc", "encode", "solvers", "terms", "por", "decode")
    for module in moved:
        _move(copy, module, "smt")
    assert not any((copy / f"{m}.py").exists() for m in moved)
    monkeypatch.setitem(provenance.ENGINE_MODULES, "bmc", "fusever.smt.bmc")
    assert _fingerprints(copy) == before
    # no module lost (the new package's __init__ runs nothing, so it is not one)
    after = {e: len(provenance.closure(m, copy)) for e, m in provenance.ENGINE_MODULES.items()}
    assert after == sizes
    # the dependents still follow the moved code
    _append(copy / "smt" / "encode.py", "CHANGED = 1")
    changed = _fingerprints(copy)
    assert changed["kind"] != before["kind"] and changed["explicit"] == before["explicit"]
    # and back
    (copy / "smt" / "encode.py").write_text((provenance.PACKAGE / "encode.py").read_text())
    for module in moved:
        _move_back(copy, module, "smt")
    monkeypatch.setitem(provenance.ENGINE_MODULES, "bmc", "fusever.bmc")
    assert _fingerprints(copy) == before
    provenance.clear()


def test_an_unresolvable_import_is_an_error_not_a_smaller_closure(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _append(copy / "encode.py", "from fusever.nowhere import thing")
    provenance.clear()
    with pytest.raises(provenance.ProvenanceError, match="nowhere"):
        provenance.engine_fingerprint("bmc", root=copy)
    # the explicit engine does not import the encoder, so it still has a fingerprint
    assert provenance.engine_fingerprint("explicit", root=copy)
    _edit(copy / "encode.py", "from fusever.nowhere import thing", "from fusever import thing")
    provenance.clear()
    with pytest.raises(provenance.ProvenanceError, match="thing"):
        provenance.engine_fingerprint("bmc", root=copy)
    provenance.clear()


def test_relative_imports_resolve_like_absolute_ones(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = _fingerprints(copy)
    _edit(copy / "explicit.py", "from fusever.layout import S", "from .layout import S")
    _edit(copy / "explicit.py", "from fusever import interpret", "from . import interpret")
    assert _fingerprints(copy) == before
    provenance.clear()


def test_an_import_cycle_among_hashed_modules_is_an_error(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _append(copy / "layout.py", "from fusever import explicit")
    provenance.clear()
    with pytest.raises(provenance.ProvenanceError, match="cycle"):
        provenance.engine_fingerprint("explicit", root=copy)
    provenance.clear()


def test_every_recording_in_proofs_is_of_the_code_as_it_is() -> None:
    """The fingerprints proofs/ records are this tree's: a change to an engine's code
    that lands without re-recording would make CI's regress run everything again."""
    proofs = provenance.PACKAGE.parent / "proofs"
    if not proofs.is_dir():  # an installed copy, not the repository
        return
    current = {provenance.engine_fingerprint(e) for e in provenance.ENGINE_MODULES}
    merges = {provenance.engine_fingerprint(e, "merges")[:16] for e in provenance.ENGINE_MODULES}
    recorded = re.findall(r'^engine_fingerprint = "(\w+)"', _texts(proofs), flags=re.M)
    assert recorded and set(recorded) <= current
    checks = re.findall(r'^fingerprint = "(\w{48})"', _texts(proofs / "merges"), flags=re.M)
    assert checks and {c[32:] for c in checks} <= merges


def _texts(directory: Path) -> str:
    return "\n".join(f.read_text() for f in sorted(directory.glob("*.toml")))


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
