"""Loading specs from files: read, parse, find each variant's base, check.

This is the front end's entry point for the rest of fusever::

    systems = load_specs(["spec/seed.fv"], sets=["W=8"])

A variant's base is found by spec name among the files named and the ``*.fv``
files in the variant's own directory.  Every problem in every file is collected
and raised as one :class:`SpecError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from fusever import syntax as s
from fusever.check import SUFFIX, check, sorted_diagnostics
from fusever.diagnostics import Diagnostic, SpecError
from fusever.parse import parse_text
from fusever.ts import TransitionSystem

__all__ = ["SUFFIX", "discover", "load_specs"]

# the header, after comments: `spec NAME` or `variant NAME of BASE`
_HEADER = re.compile(r"\s*(?:spec|variant)\s+([A-Za-z_][A-Za-z0-9_]*)")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def discover(directory: str | Path) -> list[Path]:
    """Every ``*.fv`` file under ``directory``, sorted."""
    return sorted(p for p in Path(directory).rglob(f"*{SUFFIX}") if p.is_file())


class _Library:
    """Parsed spec files by path, read at most once each."""

    def __init__(self) -> None:
        self.files: dict[Path, s.SpecFile | None] = {}
        self.errors: list[Diagnostic] = []
        self.broken: set[str] = set()  # spec names (from the header) of files that did not parse

    def load(self, path: Path, shown: str) -> s.SpecFile | None:
        key = path.resolve()
        if key in self.files:
            return self.files[key]
        self.files[key] = None
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.errors.append(Diagnostic(None, f"{shown}: no such file"))
            return None
        except IsADirectoryError:
            self.errors.append(Diagnostic(None, f"{shown}: is a directory, not a {SUFFIX} spec"))
            return None
        except UnicodeDecodeError as e:
            self.errors.append(Diagnostic(None, f"{shown}: not UTF-8 text ({e.reason} at byte {e.start})"))
            return None
        except OSError as e:
            self.errors.append(Diagnostic(None, f"{shown}: cannot read: {e.strerror or e}"))
            return None
        try:
            spec = parse_text(text, shown)
        except SpecError as e:
            self.errors.extend(e.diagnostics)
            name = _header_name(path)
            if name is not None:
                self.broken.add(name)
            return None
        self.files[key] = spec
        return spec


def _header_name(path: Path) -> str | None:
    """The spec name a file declares, read cheaply (without parsing the file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    m = _HEADER.match(_COMMENTS.sub(" ", text))
    return m.group(1) if m else None


def _shown(path: Path) -> str:
    return str(path)


def _candidates(spec: s.SpecFile, path: Path, named: Sequence[s.SpecFile], lib: _Library) -> list[s.SpecFile]:
    """The specs ``spec``'s base chain may come from: the named files and its neighbours'."""
    out = list(named)
    seen = {f.name for f in out}
    todo = [(spec, path)]
    while todo:
        cur, cur_path = todo.pop()
        base = cur.base
        if base is None or base in seen:
            continue
        for p in sorted(cur_path.parent.glob(f"*{SUFFIX}")):
            if p.is_file() and p.resolve() != cur_path.resolve() and _header_name(p) == base:
                found = lib.load(p, _shown(p))
                if found is not None and found.name == base:
                    out.append(found)
                    seen.add(base)
                    todo.append((found, p))
    return out


def _needs_broken(spec: s.SpecFile, pool: Sequence[s.SpecFile], broken: set[str]) -> bool:
    by_name = {f.name: f for f in pool}
    seen: set[str] = set()
    cur: s.SpecFile | None = spec
    while cur is not None and cur.base is not None and cur.name not in seen:
        seen.add(cur.name)
        if cur.base not in by_name:
            return cur.base in broken
        cur = by_name[cur.base]
    return False


def load_specs(
    paths: Sequence[str | Path], sets: Sequence[str] = (), config: str | None = None
) -> tuple[TransitionSystem, ...]:
    """Read, parse and check every spec in ``paths`` (in that order), under the
    configuration ``config`` (None: the default) and with ``--set`` overrides.

    ``sets`` are ``NAME=VALUE`` strings as given on the command line.  Raises one
    :class:`SpecError` with every problem in every file.
    """
    lib = _Library()
    loaded: list[tuple[Path, s.SpecFile]] = []
    for raw in paths:
        path = Path(raw)
        spec = lib.load(path, str(raw))
        if spec is not None and all(spec is not other for _, other in loaded):
            loaded.append((path, spec))
    named = [spec for _, spec in loaded]
    out: list[TransitionSystem] = []
    errors = list(lib.errors)
    for path, spec in loaded:
        pool = _candidates(spec, path, [spec, *(f for f in named if f is not spec)], lib)
        if _needs_broken(spec, pool, lib.broken):
            continue  # a base did not parse: its own errors say why
        try:
            out.append(check(pool, sets, config))
        except SpecError as e:
            errors.extend(e.diagnostics)
    errors.extend(d for d in lib.errors if d not in errors)
    if errors:
        raise SpecError(sorted_diagnostics(errors))
    return tuple(out)
