"""What a recorded verdict was computed by: every fingerprint scheme of the proof store.

A verdict in proofs/ is a function of the transition system checked, the engine's
options as recorded (depth, state limit) and the code that decided it.  This module
hashes that code, and names every other fingerprint the store keeps, so that there is
one place that says what "the same computation" means:

- :func:`engine_fingerprint`: an engine's code and the solver libraries' versions;
- a merge check's: both forms' system fingerprints and :func:`engine_fingerprint` of
  the deciding engine with the merge check's own module (:data:`MERGE_CHECK`), put
  together by :func:`fusever.merges.fingerprint`;
- :func:`explore_key`: a row of ``fusever explore``'s cache (the specs' texts, the
  options and the engines' code);
- the system's own fingerprint is :func:`fusever.ts.fingerprint` (a hash of the
  checked system's ``repr``).

(The last two move here at the next re-recording of proofs/: moving them changes the
code of ``ts`` and ``merges``, and so every fingerprint of the engines that import them.)

**How code is hashed.** A module's *digest* is a hash of its syntax tree with its
docstrings dropped (comments and layout never reach the tree) and every import of a
fusever module replaced by that module's digest, with the imported and bound names;
so it covers, bottom-up, everything the module imports, directly or not.  Paths and
module names never enter it: moving a module into a subpackage, or reformatting it, or
rewording its comments, changes no fingerprint, while any change to what a module
does, or to anything it imports, changes its digest and its importers'.  Importing a
module runs its packages' ``__init__`` too, so those that run anything (more than a
docstring) are among its imports.

**It fails closed.** Every ``fusever`` import, absolute or relative, is resolved to
its file; one that cannot be (a module that is not there, a name that is neither a
module nor defined in a package's ``__init__``) raises :class:`ProvenanceError`
instead of being dropped, and so does an import cycle among the modules hashed.

Two imports are hashed by what they are for, not by their code (:data:`OPAQUE`):
this module (the hasher is not part of what it hashes) and :mod:`fusever.load` (what
it builds is the system checked, whose own fingerprint stands beside the code's, so
a change to it that matters is a changed system).

While the system's fingerprint and the engine's are both unchanged, running the
engine again computes the same verdicts (the engines are deterministic, a property
the test suite checks), so ``fusever regress`` keeps the recorded ones.  Presentation
code (reports, the command line) is outside every engine's imports.

Nothing here runs a solver or prints, and nothing here imports another fusever module.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "ENGINE_MODULES",
    "OPAQUE",
    "PACKAGE",
    "ProvenanceError",
    "clear",
    "closure",
    "digest",
    "engine_fingerprint",
    "explore_key",
]

PACKAGE = Path(__file__).resolve().parent
ROOT_NAME = "fusever"

# the module that decides an engine's verdicts (auto is recorded as the engines it ran)
ENGINE_MODULES: dict[str, str] = {
    "explicit": "fusever.explicit",
    # on a free start of a wide counter, explicit searches a narrowed system
    "explicit-narrowed": "fusever.narrow",
    "bmc": "fusever.bmc",
    "kind": "fusever.kind",
    "chc": "fusever.chc",
    "auto": "fusever.engines",
}

# a merge check's own code, beside the engine that decided both forms
MERGE_CHECK = "fusever.merges"

# imports hashed by their role, not their code (see the module's docstring)
OPAQUE: dict[str, str] = {
    "fusever.provenance": "the proof store's hasher",
    "fusever.load": "the system builder (its output is fingerprinted as the system)",
}


class ProvenanceError(Exception):
    """A fusever import that cannot be resolved to a file, or an import cycle: the
    fingerprint would not cover what the code runs, so none is given."""


def _module_file(name: str, root: Path) -> Path | None:
    """The file of the dotted module ``name`` under the package directory ``root``
    (which is the package ``fusever``), or None."""
    parts = name.split(".")
    if parts[0] != ROOT_NAME:
        return None
    base = root.joinpath(*parts[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if len(parts) > 1 and base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _is_package(name: str, root: Path) -> bool:
    f = _module_file(name, root)
    return f is not None and f.name == "__init__.py"


def _parents(name: str) -> list[str]:
    """The packages whose ``__init__`` importing ``name`` runs first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _strip_docstrings(tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]


class _Hasher:
    """Digests of the modules of one package tree, computed bottom-up and memoized."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done: dict[str, str] = {}
        self.deps: dict[str, tuple[str, ...]] = {}
        self.active: list[str] = []

    def _where(self, module: str, node: ast.stmt) -> str:
        f = _module_file(module, self.root)
        return f"{f}:{node.lineno}" if f is not None else module

    def _absolute(self, module: str, node: ast.ImportFrom) -> str:
        """The absolute dotted name ``from <...> import`` refers to."""
        if node.level == 0:
            return node.module or ""
        package = module if _is_package(module, self.root) else module.rpartition(".")[0]
        parts = package.split(".")
        if node.level - 1 >= len(parts):
            raise ProvenanceError(
                f"{self._where(module, node)}: relative import beyond the package {ROOT_NAME}"
            )
        base = ".".join(parts[: len(parts) - (node.level - 1)])
        return f"{base}.{node.module}" if node.module else base

    def _target(self, module: str, node: ast.stmt, name: str) -> str:
        """``name`` itself when it is a fusever module (resolved), else an error."""
        if name in OPAQUE or _module_file(name, self.root) is not None:
            return name
        raise ProvenanceError(
            f"{self._where(module, node)}: cannot resolve the import of {name!r}: "
            "no such module in the package, so its code cannot be fingerprinted"
        )

    def _has_name(self, package: str, attr: str) -> bool:
        """Whether ``package``'s ``__init__`` binds ``attr`` at its top level."""
        f = _module_file(package, self.root)
        if f is None:
            return False
        for node in ast.parse(f.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound = {node.name}
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                bound = {t.id for t in targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.Import | ast.ImportFrom):
                bound = {(a.asname or a.name).split(".")[0] for a in node.names}
            else:
                continue
            if attr in bound:
                return True
        return False

    def _empty(self, package: str) -> bool:
        """Whether ``package``'s ``__init__`` runs nothing (a docstring at most): such
        a package is only a folder, and moving a module into it changes nothing."""
        f = _module_file(package, self.root)
        if f is None:
            return True
        tree = ast.parse(f.read_text(encoding="utf-8"))
        _strip_docstrings(tree)
        return all(isinstance(node, ast.Pass) for node in tree.body)

    def _marker(self, target: str, what: str) -> ast.stmt:
        tag = OPAQUE.get(target)
        ident = f"opaque: {tag}" if tag is not None else self.digest(target)
        return ast.Expr(ast.Constant(f"import {ident} {what}"))

    def _rewrite(self, module: str, tree: ast.Module) -> list[str]:
        """Replace the fusever imports in ``tree`` by markers; the modules imported."""
        rewrite = _Rewrite(self, module)
        rewrite.visit(tree)
        # The module's own top-level imports of ours, in any order, bind the same names
        # (the modules are acyclic and run nothing but definitions), so they are hashed
        # as a sorted set: a move that re-sorts the import block is no change.  Where
        # two of them bind one name, the order decides which wins, and is kept.
        markers = [n for n in tree.body if id(n) in rewrite.markers]
        bound = [rewrite.markers[id(n)] for n in markers]
        if len(set(bound)) == len(bound):
            rest = [n for n in tree.body if id(n) not in rewrite.markers]
            tree.body = sorted(markers, key=ast.dump) + rest
        return rewrite.found

    def digest(self, module: str) -> str:
        """The digest of the dotted ``module`` (see the module docstring)."""
        if module in self.done:
            return self.done[module]
        if module in self.active:
            cycle = " -> ".join([*self.active[self.active.index(module) :], module])
            raise ProvenanceError(f"import cycle among fingerprinted modules: {cycle}")
        f = _module_file(module, self.root)
        if f is None:
            raise ProvenanceError(f"no module {module!r} under {self.root}")
        self.active.append(module)
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
            _strip_docstrings(tree)
            found = self._rewrite(module, tree)
            parents = [self.digest(p) for p in _parents(module) if not self._empty(p)]
        finally:
            self.active.pop()
        h = hashlib.sha256()
        for p in parents:
            h.update(f"package {p}\n".encode())
        h.update(ast.dump(tree, annotate_fields=False, include_attributes=False).encode())
        self.done[module] = h.hexdigest()
        self.deps[module] = tuple(
            sorted(set(found) | {p for p in _parents(module) if not self._empty(p)})
        )
        return self.done[module]


def _ours(name: str) -> bool:
    return name == ROOT_NAME or name.startswith(ROOT_NAME + ".")


class _Rewrite(ast.NodeTransformer):
    """One module's fusever imports replaced by markers naming their targets' digests
    (:meth:`_Hasher._marker`); ``found`` collects the modules imported."""

    def __init__(self, hasher: _Hasher, module: str) -> None:
        self.hasher = hasher
        self.module = module
        self.found: list[str] = []
        self.markers: dict[int, str] = {}  # id of each marker made -> the name it binds

    def _import(self, target: str, what: str) -> ast.stmt:
        self.found.append(target)
        marker = self.hasher._marker(target, what)
        self.markers[id(marker)] = what.rpartition(" as ")[2]
        return marker

    def visit_Import(self, node: ast.Import) -> list[ast.stmt] | ast.Import:
        if not any(_ours(a.name) for a in node.names):
            return node
        return [
            self._import(
                self.hasher._target(self.module, node, a.name), f"module as {a.asname or a.name}"
            )
            if _ours(a.name)
            else ast.Import(names=[a])
            for a in node.names
        ]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> list[ast.stmt] | ast.ImportFrom:
        h = self.hasher
        base = h._absolute(self.module, node)
        if not _ours(base):
            return node
        out: list[ast.stmt] = []
        for a in node.names:
            sub = f"{base}.{a.name}"
            bound = a.asname or a.name
            if sub in OPAQUE or _module_file(sub, h.root) is not None:
                out.append(self._import(sub, f"module as {bound}"))
                continue
            target = h._target(self.module, node, base)
            if (
                target not in OPAQUE
                and _is_package(target, h.root)
                and not h._has_name(target, a.name)
            ):
                raise ProvenanceError(
                    f"{h._where(self.module, node)}: cannot resolve {a.name!r} from "
                    f"{base!r}: neither a module nor a name its package defines"
                )
            out.append(self._import(target, f"{a.name} as {bound}"))
        return out


@functools.cache
def _hasher(root: Path) -> _Hasher:
    return _Hasher(root)


def clear() -> None:
    """Forget every digest computed (for a tree whose files changed since)."""
    _hasher.cache_clear()


def _full(module: str) -> str:
    """``module`` as a dotted name: ``"merges"`` is ``"fusever.merges"``."""
    return module if module.startswith(ROOT_NAME) else f"{ROOT_NAME}.{module}"


def digest(module: str, root: Path | None = None) -> str:
    """The digest of ``module`` (dotted, or a name in the package) in the package tree
    ``root`` (default: this installation's)."""
    return _hasher(root or PACKAGE).digest(_full(module))


def closure(module: str, root: Path | None = None) -> tuple[str, ...]:
    """``module`` and every fusever module its digest covers, transitively; sorted."""
    h = _hasher(root or PACKAGE)
    h.digest(_full(module))
    seen: set[str] = set()
    todo = [_full(module)]
    while todo:
        m = todo.pop()
        if m not in seen and m not in OPAQUE:
            seen.add(m)
            todo.extend(h.deps.get(m, ()))
    return tuple(sorted(seen))


def _solvers() -> str:
    """The solver libraries' versions (as installed: no solver is loaded here)."""
    from importlib import metadata

    out = []
    for dist in ("z3-solver", "bitwuzla"):
        try:
            out.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            out.append(f"{dist} absent")
    return ", ".join(out)


def engine_fingerprint(engine: str, *extra: str, root: Path | None = None) -> str:
    """A hash of what decides ``engine``'s verdicts: the digest of its module (so of
    every fusever module it imports), of the modules ``extra`` (a merge check's own
    module), and the solvers' versions.  An unknown engine name hashes its name only
    (never a match for a real engine)."""
    h = hashlib.sha256(f"engine {engine}\n{_solvers()}\n".encode())
    module = ENGINE_MODULES.get(engine)
    for m in (*((module,) if module is not None else ()), *extra):
        h.update(f"\0{digest(m, root)}".encode())
    return h.hexdigest()[:32]


def explore_key(
    lineage_texts: Sequence[str],
    config: str | None,
    sets: Sequence[str],
    depth: int | None,
    engine: str,
    version: str,
) -> str:
    """A row of ``fusever explore``'s cache: the texts of the spec and its bases, the
    configuration, the options, fusever's version and the code of every engine (auto
    dispatches to all of them), so that an engine edit leaves no stale row."""
    doc = {
        "lineage": list(lineage_texts),
        "config": config,
        "sets": list(sets),
        "depth": depth,
        "engine": engine,
        "fusever": version,
        "code": engine_fingerprint("auto"),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
