"""Loading specs from files: read, parse, find each variant's base, check.

This is the front end's entry point for the rest of fusever::

    systems = load_specs(["spec/seed.fv"], sets=["W=8"])

A variant's base is found by spec name among the files named, the ``*.fv`` files in
the variant's own directory, then the specs under ``spec/`` (so a variant kept
anywhere finds a shipped base).  :func:`resolve` turns what a user typed, a path or a
bare spec name, into a path.  Every problem in every file is collected
and raised as one :class:`SpecError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from fusever import syntax as s
from fusever.check import SUFFIX, Variation, check, sorted_diagnostics, variations
from fusever.diagnostics import Diagnostic, Note, SpecError, did_you_mean
from fusever.parse import header, parse_text, source_line
from fusever.ts import ForAll, Quant, TransitionSystem, elements

# Quantifiers and `for all` loops are expanded over their sorts by the encoder and the
# interpreter; nested, the instances multiply.  Past this many on one path it is a
# located error instead of an encoding that never finishes (2^16 takes seconds a step).
MAX_INSTANCES = 1 << 16

__all__ = ["SPEC_DIR", "SUFFIX", "discover", "load_specs", "pools", "resolve"]

SPEC_DIR = Path("spec")  # the library of specs, relative to the working directory

# the header, after comments: `spec NAME` or `variant NAME of BASE`


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
            self.errors.append(
                Diagnostic(None, f"{shown}: not UTF-8 text ({e.reason} at byte {e.start})")
            )
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
    """The spec name a file declares, read cheaply (its first two tokens)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return header(text)


def _shown(path: Path) -> str:
    return str(path)


def _folders(path: Path, library: Path | None) -> list[list[Path]]:
    """Where a base is looked for, in order: the variant's own folder, then the library."""
    out = [sorted(p for p in path.parent.glob(f"*{SUFFIX}") if p.is_file())]
    if library is not None and library.is_dir() and library.resolve() != path.parent.resolve():
        out.append(discover(library))
    return out


def _candidates(
    named: Sequence[tuple[Path, s.SpecFile]], lib: _Library, library: Path | None
) -> list[s.SpecFile]:
    """The specs the base chains of the ``named`` files (the first one's first) may
    come from: the named files, then the files beside each variant, then the library
    (``spec/``); the first place that has the base is the one used (every file there
    that declares it, so a duplicate is an error).  A named file's own base is looked
    up too: ``fuse_connseq_max`` names ``fuse_connseq`` as its base, which names
    ``fuse_v2``, which is found beside it even when only the first two are named."""
    out = [spec for _, spec in named]
    seen = {f.name for f in out}
    todo = [(path, spec) for path, spec in reversed(named)]
    while todo:
        cur_path, cur = todo.pop()
        base = cur.base
        if base is None or base in seen:
            continue
        for folder in _folders(cur_path, library):
            for p in folder:
                if p.resolve() != cur_path.resolve() and _header_name(p) == base:
                    found = lib.load(p, _shown(p))
                    if found is not None and found.name == base:
                        out.append(found)
                        seen.add(base)
                        todo.append((p, found))
            if base in seen:
                break
    return out


def resolve(name_or_path: str | Path, library: Path = SPEC_DIR) -> Path:
    """A spec as a user names it: a path (it has a suffix, holds a ``/`` or exists),
    or a bare spec name (``fuse_v2``), the spec of that name under ``library``."""
    raw = str(name_or_path)
    p = Path(raw)
    if p.suffix or "/" in raw or p.exists():  # spec names have no dots
        return p
    names: dict[str, Path] = {}
    for q in discover(library) if library.is_dir() else []:
        name = _header_name(q)
        if name is not None:
            names.setdefault(name, q)
    if raw in names:
        return names[raw]
    raise SpecError([Diagnostic(
        None, f"no spec named `{raw}` under {library}/" + did_you_mean(raw, names)
        + f" (a spec is a {SUFFIX} path or the name of a spec under {library}/)",
    )])  # fmt: skip


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
    paths: Sequence[str | Path],
    sets: Sequence[str] = (),
    config: str | None = None,
    unmerge: str | None = None,
    library: Path | None = SPEC_DIR,
    all_configs: bool = False,
) -> tuple[TransitionSystem, ...]:
    """Read, parse and check every spec in ``paths`` (in that order), under the
    configuration ``config`` (None: the default) and with ``--set`` overrides;
    ``unmerge`` names a step merge whose unmerged form is wanted instead.  A variant's
    base is looked for among the files named, beside the variant, then under ``library``.

    ``sets`` are ``NAME=VALUE`` strings as given on the command line.  Raises one
    :class:`SpecError` with every problem in every file.  ``all_configs`` (``fusever
    check``): every named configuration is checked too.  A configuration that makes
    the spec invalid (``set W = 0`` for a width, ``depth -1``) is reported at its
    ``set`` or ``depth`` line, naming the configuration, not at every use of the
    constant.
    """
    lib = _Library()
    loaded: list[tuple[Path, s.SpecFile]] = []
    for raw in paths:
        path = Path(raw)
        spec = lib.load(path, str(raw))
        if spec is not None and all(spec is not other for _, other in loaded):
            loaded.append((path, spec))
    out: list[TransitionSystem] = []
    errors = list(lib.errors)
    for path, spec in loaded:
        others = [(p, f) for p, f in loaded if f is not spec]
        pool = _candidates([(path, spec), *others], lib, library)
        if _needs_broken(spec, pool, lib.broken):
            continue  # a base did not parse: its own errors say why
        try:
            ts = check(pool, sets, config, unmerge)
        except SpecError as e:
            if config is not None and _valid(pool, sets, None):
                errors.extend(_blame(pool, sets, config, e))
            else:
                errors.extend(e.diagnostics)
            continue
        if all_configs and config is None:
            errors.extend(_every_variation(ts, pool, sets, unmerge))
        too_many = _expansion(ts, {f.path: f.text for f in pool})
        if too_many is not None:
            errors.append(too_many)
            continue
        out.append(ts)
    errors.extend(d for d in lib.errors if d not in errors)
    if errors:
        raise SpecError(sorted_diagnostics(errors))
    return tuple(out)


def pools(paths: Sequence[str | Path], library: Path | None = SPEC_DIR) -> list[list[s.SpecFile]]:
    """For each file in ``paths``, the parsed file followed by the specs its base chain
    may come from (as :func:`load_specs` finds them), without checking anything:
    what :mod:`fusever.pins` reads.  Raises :class:`SpecError` when a file does not
    parse."""
    lib = _Library()
    loaded: list[tuple[Path, s.SpecFile]] = []
    for raw in paths:
        path = Path(raw)
        spec = lib.load(path, str(raw))
        if spec is not None and all(spec is not other for _, other in loaded):
            loaded.append((path, spec))
    out = []
    for path, spec in loaded:
        others = [(p, f) for p, f in loaded if f is not spec]
        out.append(_candidates([(path, spec), *others], lib, library))
    if lib.errors:
        raise SpecError(sorted_diagnostics(lib.errors))
    return out


def _every_variation(
    ts: TransitionSystem, pool: Sequence[s.SpecFile], sets: Sequence[str], unmerge: str | None
) -> list[Diagnostic]:
    """Every configuration and every step merge's unmerged form checked (``fusever
    check``), each error at the ``set`` or ``depth`` item that causes it.  Those that
    give the spec the same constants and depth check alike: each distinct one is
    checked once (:func:`fusever.check.variations`)."""
    named: list[tuple[str | None, str | None]] = [(c, unmerge) for c, _ in ts.configs]
    if unmerge is None:
        named += [(None, m) for m, _ in ts.merges]
    keys = variations(pool, sets, named)
    passed: dict[Variation, SpecError | None] = {(ts.settings, ts.depth): None}
    errors: list[Diagnostic] = []
    for (cname, mname), key in zip(named, keys, strict=True):
        if key is not None and key in passed:
            failed = passed[key]
        else:
            try:
                check(pool, sets, cname, mname)
                failed = None
            except SpecError as e:
                failed = e
            if key is not None:
                passed[key] = failed
        if failed is not None:
            if cname is not None:
                errors.extend(_blame(pool, sets, cname, failed))
            else:
                assert mname is not None
                errors.extend(_blame(pool, sets, mname, failed, merge=True))
    return errors


def _expansion(ts: TransitionSystem, texts: dict[str, str]) -> Diagnostic | None:
    """The first quantifier or ``for all`` whose nesting expands past
    :data:`MAX_INSTANCES` instances, as a located error (iterative: any depth)."""
    roots: list[object] = [*ts.init, *ts.actions, *ts.properties]
    todo: list[tuple[object, int]] = [(r, 1) for r in roots]
    while todo:
        node, n = todo.pop()
        if isinstance(node, tuple):
            todo.extend((x, n) for x in node)
            continue
        names = _fields_of(type(node))
        if not names:
            continue
        if isinstance(node, Quant | ForAll):
            n *= max(1, len(elements(node.sort)))
            if n > MAX_INSTANCES:
                sp = node.span
                line = source_line(texts.get(sp.file, ""), sp.line) or None
                what = "quantifiers" if isinstance(node, Quant) else "`for all` loops"
                return Diagnostic(
                    sp,
                    f"nested {what} expand to more than {MAX_INSTANCES} instances here; "
                    "use smaller sorts or fewer nested binders",
                    line,
                )
        todo.extend((getattr(node, name), n) for name in names)
    return None


_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields_of(cls: type) -> tuple[str, ...]:
    """The fields :func:`_expansion` walks into, by class, found once: none for
    anything but the system's dataclasses (a span, a type, a value).  ``regress``
    checks this on 600 systems: the reflection per node was a third of its time."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = (
            ()
            if not dataclasses.is_dataclass(cls) or issubclass(cls, s.Span)
            else tuple(f.name for f in dataclasses.fields(cls))
        )
    return names


_PROBE = "__fusever_probe__"  # a configuration of one item, to find which item is wrong


def _valid(pool: Sequence[s.SpecFile], sets: Sequence[str], config: str | None) -> bool:
    try:
        check(pool, sets, config)
    except SpecError:
        return False
    return True


def _blame(
    pool: Sequence[s.SpecFile],
    sets: Sequence[str],
    cname: str,
    e: SpecError,
    merge: bool = False,
) -> list[Diagnostic]:
    """The errors of configuration ``cname`` (the default one being valid), each at
    the ``set``/``depth`` item that causes it (found by checking each item alone),
    with where it fails as a note; at the ``config`` line when only items together
    fail."""
    found = [
        (f, decl)
        for f in pool
        for decl in f.decls
        if isinstance(decl, s.ConfigDecl) and decl.name == cname and decl.merge == merge
    ]
    what = "merge" if merge else "configuration"
    if not found:
        return list(e.diagnostics)
    home, decl = found[0]
    out: list[Diagnostic] = []

    def located(span: s.Span, why: Diagnostic) -> Diagnostic:
        notes = () if why.span == span else (Note(why.span, "it fails here", why.line_text),)
        line = source_line(home.text, span.line) or None
        return Diagnostic(span, f"{what} `{cname}`: {why.message}", line, notes)

    for item in decl.items:
        probe = s.ConfigDecl(_PROBE, None, (item,), decl.span, merge=merge)
        target = dataclasses.replace(pool[0], decls=(*pool[0].decls, probe))
        try:
            if merge:
                check([target, *pool[1:]], sets, None, _PROBE)
            else:
                check([target, *pool[1:]], sets, _PROBE)
        except SpecError as pe:
            out.append(located(item.span, pe.diagnostics[0]))
    if not out:
        out.append(located(decl.span, e.diagnostics[0]))
    return out
