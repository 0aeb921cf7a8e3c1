"""What a recorded verdict was computed by: the engine's code and the solvers' versions.

A verdict in proofs/ is a function of the transition system checked (its
fingerprint, :func:`fusever.ts.fingerprint`), the engine's options as recorded (depth,
state limit) and the code that decided it.  :func:`engine_fingerprint` hashes that
code: the source of the engine's module and of every fusever module it imports,
directly or not (found statically, from the ``import`` statements), with the
installed solver libraries' versions.  While the system's fingerprint and this one are both
unchanged, running the engine again computes the same verdicts (the engines are
deterministic, a property the test suite checks), so ``fusever regress`` keeps the
recorded ones; a change to the spec, to the engine or to anything it imports runs it
again.  Presentation code (reports, the command line) is outside every closure.

Nothing here runs a solver or prints.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

__all__ = ["ENGINE_MODULES", "closure", "engine_fingerprint"]

PACKAGE = Path(__file__).resolve().parent

# the module that decides an engine's verdicts (auto is recorded as the engines it ran)
ENGINE_MODULES: dict[str, str] = {
    "explicit": "explicit",
    # on a free start of a wide counter, explicit searches a narrowed system
    "explicit-narrowed": "narrow",
    "bmc": "bmc",
    "kind": "kind",
    "chc": "chc",
    "auto": "engines",
}


def _imports(module: str) -> set[str]:
    """The fusever modules ``module`` imports anywhere in its source."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            if node.module == "fusever":
                out.update(a.name for a in node.names)
            elif node.module.startswith("fusever."):
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("fusever."))
    return {m for m in out if (PACKAGE / f"{m}.py").is_file()}


@functools.cache
def closure(*roots: str) -> tuple[str, ...]:
    """``roots`` and every fusever module they import, transitively; sorted."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(_imports(m) - seen)
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


@functools.cache
def engine_fingerprint(engine: str, *extra: str) -> str:
    """A hash of what decides ``engine``'s verdicts: its module closure's source (and
    that of the modules ``extra``, alone: a merge check's own module), and the
    solvers' versions.  Unknown engine names hash their name only (never a match for
    a real engine)."""
    h = hashlib.sha256(f"engine {engine}\n{_solvers()}\n".encode())
    root = ENGINE_MODULES.get(engine)
    modules = (*closure(root), *extra) if root is not None else extra
    for m in modules:
        h.update(f"\0{m}\0".encode())
        h.update((PACKAGE / f"{m}.py").read_bytes())
    return h.hexdigest()[:32]
