"""``fusever explore BASE [VARIANT ...]``: every variant x every configuration x every property.

The rows are the base spec and every spec deriving from it (its lineage names the base),
or the variants named, each under its default configuration and every named one; the
columns are the properties (the union over the rows, in order of first appearance).
Each row is one :func:`fusever.engines.prove` call, run in parallel processes.

A row is cached under ``.fusever-cache/explore/`` keyed by a hash of the text of every
file of its lineage, the configuration, the ``--set`` overrides, the depth, the engine
and the fusever version: a row whose inputs did not change is not checked again.  The
cache holds the results (traces included) pickled; it is a cache, so anything wrong
with an entry (unreadable, from another version) is a miss, never an error.

Nothing here formats output: :mod:`fusever.report_explore` renders a :class:`Matrix`.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fusever import __version__, engines, load
from fusever.ts import TransitionSystem
from fusever.verdict import Options, Result

__all__ = ["CACHE_DIR", "DEFAULT", "Matrix", "Row", "cache_key", "explore", "select"]

CACHE_DIR = Path(".fusever-cache")
DEFAULT = "default"  # the name --config uses for a spec's default configuration

_HEADER = re.compile(r"\s*(?:spec|variant)\s+([A-Za-z_][A-Za-z0-9_]*)")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Row:
    system: TransitionSystem
    results: tuple[Result, ...]
    cached: bool
    seconds: float  # of the check (0 when cached)

    @property
    def key(self) -> str:
        return self.system.key


@dataclass(frozen=True, slots=True)
class Matrix:
    base: str
    rows: tuple[Row, ...]
    properties: tuple[str, ...]  # the columns
    depth: int | None  # None: each spec's own
    engine: str
    seconds: float  # wall time of the whole run


def _texts(directory: Path) -> dict[str, str]:
    """Spec name -> file text, for every spec file under ``directory``."""
    out: dict[str, str] = {}
    for p in load.discover(directory):
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        m = _HEADER.match(_COMMENTS.sub(" ", text))
        if m:
            out.setdefault(m.group(1), text)
    return out


def cache_key(
    ts: TransitionSystem,
    lineage_texts: Sequence[str],
    sets: Sequence[str],
    depth: int | None,
    engine: str,
) -> str:
    doc = {
        "lineage": list(lineage_texts),
        "config": ts.config,
        "sets": list(sets),
        "depth": depth,
        "engine": engine,
        "fusever": __version__,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _path_of(name_or_path: str, directory: Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == load.SUFFIX or p.exists():
        return p
    for q in load.discover(directory):
        try:
            text = q.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        m = _HEADER.match(_COMMENTS.sub(" ", text))
        if m and m.group(1) == name_or_path:
            return q
    raise ValueError(f"no spec named `{name_or_path}` under {directory}/")


def select(
    base: str,
    variants: Sequence[str],
    directory: Path,
    sets: Sequence[str] = (),
    configs: Sequence[str] = (),
) -> list[TransitionSystem]:
    """The rows: the base and its derived specs (or the variants named), each under its
    default configuration and every named one (or only ``configs``; ``default`` names
    the default).  Raises ValueError for an unknown name, SpecError for a bad spec."""
    base_path = _path_of(base, directory)
    (base_ts,) = load.load_specs([base_path], sets)
    if variants:
        paths = [base_path, *(_path_of(v, directory) for v in variants)]
    else:
        paths = [base_path]
        for p in load.discover(directory):
            if p.resolve() != base_path.resolve():
                paths.append(p)
    loaded = load.load_specs(paths, sets)
    if variants:
        for v, ts in zip(variants, loaded[1:], strict=False):
            if base_ts.name not in ts.lineage:
                raise ValueError(f"{v} does not derive from {base_ts.name}")
        systems = list(loaded)
    else:
        systems = [ts for ts in loaded if base_ts.name in ts.lineage]
    out: list[TransitionSystem] = []
    for ts in systems:
        names = [DEFAULT, *(n for n, _ in ts.configs)]
        for c in configs:
            if c not in names:
                raise ValueError(
                    f"{ts.name} has no configuration `{c}` (it has {', '.join(names)})"
                )
        for n in names:
            if configs and n not in configs:
                continue
            if n == DEFAULT:
                out.append(ts)
            else:
                out.extend(load.load_specs([Path(ts.path)], sets, n))
    return out


def _prove(args: tuple[TransitionSystem, Options]) -> tuple[tuple[Result, ...], float]:
    start = time.monotonic()
    results = engines.prove(*args)
    return results, time.monotonic() - start


def _read_cache(path: Path) -> tuple[Result, ...] | None:
    try:
        data = pickle.loads(path.read_bytes())
    except Exception:  # a cache: anything wrong with it is a miss
        return None
    if isinstance(data, tuple) and all(isinstance(r, Result) for r in data):
        return data
    return None


def explore(
    systems: Sequence[TransitionSystem],
    base: str,
    directory: Path,
    sets: Sequence[str] = (),
    depth: int | None = None,
    engine: str = "bmc",
    timeout: float | None = None,
    jobs: int = 1,
    cache: Path | None = CACHE_DIR,
    done: Callable[[int, int], None] | None = None,
) -> Matrix:
    """Check every row (cached ones from the cache); rows in ``systems``' order."""
    start = time.monotonic()
    texts = _texts(directory)
    keys = [
        cache_key(ts, [texts.get(n, "") for n in ts.lineage], sets, depth, engine) for ts in systems
    ]
    rows: dict[int, Row] = {}
    todo: list[int] = []
    for i, (ts, k) in enumerate(zip(systems, keys, strict=True)):
        hit = _read_cache(cache / "explore" / k) if cache is not None else None
        if hit is not None:
            rows[i] = Row(ts, hit, True, 0.0)
        else:
            todo.append(i)
    work = [(systems[i], Options(depth=depth, timeout=timeout, engine=engine)) for i in todo]

    def finish(n: int, results: tuple[Result, ...], seconds: float) -> None:
        i = todo[n]
        rows[i] = Row(systems[i], results, False, seconds)
        if cache is not None:  # at once: an interrupted run keeps what it finished
            try:
                (cache / "explore").mkdir(parents=True, exist_ok=True)
                (cache / "explore" / keys[i]).write_bytes(pickle.dumps(results))
            except OSError:
                pass  # a cache that cannot be written only costs time
        if done:
            done(n + 1, len(work))

    if jobs <= 1 or len(work) <= 1:
        for n, w in enumerate(work):
            finish(n, *_prove(w))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            for n, out in enumerate(pool.map(_prove, work)):
                finish(n, *out)
    ordered = tuple(rows[i] for i in range(len(systems)))
    props = tuple(dict.fromkeys(r.property for row in ordered for r in row.results))
    return Matrix(base, ordered, props, depth, engine, time.monotonic() - start)
