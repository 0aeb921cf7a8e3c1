"""``fusever explore BASE [VARIANT ...]``: every variant x every configuration x every property.

The rows are the base spec and every spec deriving from it (its lineage names the base),
or the variants named, each under its default configuration and every named one; the
columns are the properties (the union over the rows, in order of first appearance).
Each row is one :func:`fusever.engines.prove` call, run in parallel processes.

A row is cached under ``.fusever-cache/explore/`` keyed by a hash of the text of every
file of its lineage, the configuration, the ``--set`` overrides, the depth, the engine
and the fusever version: a row whose inputs did not change is not checked again.  An
entry is JSON (never pickle: a cache shipped in a cloned tree must not run code),
``{"format": 1, "sha256": ..., "results": [...]}``, the checksum over the canonical
text of the results, traces included.  It is a cache, so anything wrong with an entry
(unreadable, another format, a checksum or a value that does not fit) is a miss and the
row is checked again; a cache directory that cannot be written turns the cache off for
the run, with one warning (:attr:`Matrix.warnings`).  Entries are written whole, by a
rename (:func:`fusever.files.write_atomic`).

Nothing here formats output: :mod:`fusever.report_explore` renders a :class:`Matrix`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fusever import __version__, engines, files, load, provenance
from fusever.diagnostics import SpecError
from fusever.executor import Runner, in_order, runner, sequential
from fusever.parse import header
from fusever.ts import PropKind, Step, Trace, TransitionSystem, Value
from fusever.verdict import Engine, Options, Result, Verdict
from fusever.verdict import Interrupted as EngineInterrupted

__all__ = [
    "CACHE_DIR",
    "DEFAULT",
    "ENGINES",
    "EXPLICIT_THEN_BMC",
    "Matrix",
    "Row",
    "cache_key",
    "explore",
    "select",
]

CACHE_DIR = Path(".fusever-cache")
CACHE_FORMAT = 1  # an entry of another format is a miss
# the default engine: the explicit search (complete verdicts where the reachable states
# are exhausted, shortest traces), then BMC to the depth for what it left unknown (a free
# start of a wide counter, which it refuses; more states than the limit)
EXPLICIT_THEN_BMC = "explicit+bmc"
ENGINES = (EXPLICIT_THEN_BMC, *(e.value for e in Engine))
# the explicit search's state limit in a row, as `regress --record`'s (the largest shipped
# configurations it exhausts, the four_writers of fuse_v1, fuse_v2 and fuse_wrapsafe,
# have 3,031,951 states)
STATE_LIMIT = 4_000_000
DEFAULT = "default"  # the name --config uses for a spec's default configuration


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
    warnings: tuple[str, ...] = ()  # e.g. the cache could not be written


def _texts(directory: Path) -> dict[str, str]:
    """Spec name -> file text, for every spec file under ``directory``."""
    out: dict[str, str] = {}
    for p in load.discover(directory):
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        name = header(text)
        if name is not None:
            out.setdefault(name, text)
    return out


def cache_key(
    ts: TransitionSystem,
    lineage_texts: Sequence[str],
    sets: Sequence[str],
    depth: int | None,
    engine: str,
) -> str:
    """A cache row's key: :func:`fusever.provenance.explore_key` (the texts, the
    options and the engines' code)."""
    return provenance.explore_key(lineage_texts, ts.config, sets, depth, engine, __version__)


def _path_of(name_or_path: str, directory: Path) -> Path:
    try:
        return load.resolve(name_or_path, directory)
    except SpecError as e:
        raise ValueError(e.diagnostics[0].message) from None


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


def _row_name(args: tuple[TransitionSystem, Options, bool]) -> str:
    return args[0].key


def _prove(args: tuple[TransitionSystem, Options, bool]) -> tuple[tuple[Result, ...], float]:
    """One row: ``engines.prove``; with ``then_bmc``, the properties it left unknown (the
    explicit search refused, passed its state limit or its time) by BMC to the depth,
    in what is left of the row's time."""
    ts, options, then_bmc = args
    start = time.monotonic()
    results = engines.prove(ts, options)
    open_ = tuple(r.property for r in results if r.verdict is Verdict.UNKNOWN)
    if then_bmc and open_:
        spent = time.monotonic() - start
        left = None if options.timeout is None else max(options.timeout - spent, 0.0)
        bmc = replace(options, engine=Engine.BMC, properties=open_, timeout=left, state_limit=None)
        by_name = {r.property: r for r in engines.prove(ts, bmc)}
        results = tuple(by_name.get(r.property, r) for r in results)
    return results, time.monotonic() - start


# ---- cache entries: results as checksummed JSON ---------------------------------------


def _canonical(doc: object) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _pairs(pairs: Sequence[tuple[str, Value]]) -> list[list[object]]:
    return [[k, v] for k, v in pairs]


def _result_doc(r: Result) -> dict[str, object]:
    trace = None
    if r.trace is not None:
        trace = [
            {
                "action": s.action,
                "args": _pairs(s.args),
                "state": {
                    name: [[list(key), v] for key, v in table.items()]
                    for name, table in s.state.items()
                },
            }
            for s in r.trace.steps
        ]
    return {
        "spec": r.spec, "file": r.file, "settings": _pairs(r.settings), "property": r.property,
        "kind": r.kind.value, "verdict": r.verdict.value, "complete": r.complete,
        "bound": r.bound, "step": r.step, "engine": r.engine, "seconds": r.seconds,
        "trace": trace, "instance": _pairs(r.instance), "reason": r.reason,
        "description": r.description, "config": r.config,
    }  # fmt: skip


def dump_results(results: Sequence[Result]) -> str:
    """A cache entry: the results as JSON with the format and a checksum."""
    body = [_result_doc(r) for r in results]
    digest = hashlib.sha256(_canonical(body).encode()).hexdigest()
    return _canonical({"format": CACHE_FORMAT, "sha256": digest, "results": body}) + "\n"


class _Bad(Exception):
    pass


def _of(value: Any, kind: type | tuple[type, ...], none: bool = False) -> Any:
    if value is None and none:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Bad
    return value


def _value(v: Any) -> Value:
    return _of(v, (bool, int, str))  # type: ignore[no-any-return]


def _pairs_of(doc: Any) -> tuple[tuple[str, Value], ...]:
    out = []
    for item in _of(doc, list):
        name, v = _of(item, list)
        out.append((_of(name, str), _value(v)))
    return tuple(out)


def _result_of(d: Any) -> Result:
    _of(d, dict)
    trace = None
    if d["trace"] is not None:
        steps = []
        for s in _of(d["trace"], list):
            state: dict[str, dict[tuple[Value, ...], Value]] = {}
            for name, table in _of(s["state"], dict).items():
                state[name] = {
                    tuple(_value(k) for k in _of(key, list)): _value(v)
                    for key, v in (_of(pair, list) for pair in _of(table, list))
                }
            steps.append(Step(_of(s["action"], str, True), _pairs_of(s["args"]), state))
        trace = Trace(tuple(steps))
    settings = tuple((k, v) for k, v in _pairs_of(d["settings"]) if not isinstance(v, str))
    return Result(
        spec=_of(d["spec"], str), file=_of(d["file"], str), settings=settings,
        property=_of(d["property"], str), kind=PropKind(d["kind"]),
        verdict=Verdict(d["verdict"]), complete=_of(d["complete"], bool),
        bound=_of(d["bound"], int), step=_of(d["step"], int, True),
        engine=_of(d["engine"], str), seconds=float(_of(d["seconds"], (int, float))),
        trace=trace, instance=_pairs_of(d["instance"]), reason=_of(d["reason"], str, True),
        description=_of(d["description"], str, True), config=_of(d["config"], str, True),
    )  # fmt: skip


def load_results(text: str) -> tuple[Result, ...] | None:
    """A cache entry's results, or None when anything about it is wrong (a miss)."""
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
            return None
        body = doc["results"]
        if doc.get("sha256") != hashlib.sha256(_canonical(body).encode()).hexdigest():
            return None
        return tuple(_result_of(d) for d in _of(body, list))
    except (_Bad, KeyError, TypeError, ValueError, RecursionError):
        return None


def _read_cache(path: Path) -> tuple[Result, ...] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, RuntimeError):  # a cache: unreadable is a miss
        return None
    return load_results(text)


def explore(
    systems: Sequence[TransitionSystem],
    base: str,
    directory: Path,
    sets: Sequence[str] = (),
    depth: int | None = None,
    engine: str = EXPLICIT_THEN_BMC,
    timeout: float | None = None,
    jobs: int | Runner = 1,
    cache: Path | None = CACHE_DIR,
    done: Callable[[int, int], None] | None = None,
) -> Matrix:
    """Check every row (cached ones from the cache); rows in ``systems``' order.
    ``engine`` is an engine's name or :data:`EXPLICIT_THEN_BMC`; ValueError for
    another."""
    start = time.monotonic()
    texts = _texts(directory)
    keys = [
        cache_key(ts, [texts.get(n, "") for n in ts.lineage], sets, depth, engine) for ts in systems
    ]
    rows, todo = _cached(systems, keys, cache)
    warnings: list[str] = []
    then_bmc = engine == EXPLICIT_THEN_BMC
    options = Options(
        depth=depth, timeout=timeout,
        engine=Engine.EXPLICIT if then_bmc else Engine.named(engine),
        state_limit=STATE_LIMIT if then_bmc else None,
    )  # fmt: skip
    work = [(systems[i], options, then_bmc) for i in todo]

    writable = cache is not None

    def finish(n: int, results: tuple[Result, ...], seconds: float) -> None:
        nonlocal writable
        i = todo[n]
        rows[i] = Row(systems[i], results, False, seconds)
        if cache is not None and writable:  # at once: an interrupted run keeps what it finished
            warning = _store(cache, keys[i], results)
            if warning is not None:  # a cache that cannot be written only costs time
                writable = False
                warnings.append(warning)
        if done:
            done(n + 1, len(work))

    current = 0  # the row this process is checking, when jobs run here
    where = runner(jobs)
    here = sequential(where, len(work))
    try:
        if here:
            for current, w in enumerate(work):
                finish(current, *_prove(w))
        else:
            view = where.sink() if where.sink is not None else None
            with where.open(len(work)) as pool, view if view is not None else nullcontext():
                for n, out in enumerate(in_order(pool, _prove, work, _row_name, view)):
                    finish(n, *out)
    except KeyboardInterrupt as e:
        # the rows finished stand (and are cached); the row an engine in this process
        # was on keeps what that engine had decided; the others are unknown
        decided = e.results if isinstance(e, EngineInterrupted) and here else ()
        for n, i in enumerate(todo):
            if i in rows:
                continue
            partial = decided if n == current else ()
            rows[i] = Row(systems[i], _interrupted(systems[i], engine, partial), False, 0.0)
        raise Interrupted(_matrix(base, systems, rows, depth, engine, start, warnings)) from None
    return _matrix(base, systems, rows, depth, engine, start, warnings)


def _cached(
    systems: Sequence[TransitionSystem], keys: Sequence[str], cache: Path | None
) -> tuple[dict[int, Row], list[int]]:
    """The rows the cache holds, by their index in ``systems``, and the indices of
    those left to check."""
    rows: dict[int, Row] = {}
    todo: list[int] = []
    for i, (ts, k) in enumerate(zip(systems, keys, strict=True)):
        hit = _read_cache(cache / "explore" / k) if cache is not None else None
        if hit is not None:
            rows[i] = Row(ts, hit, True, 0.0)
        else:
            todo.append(i)
    return rows, todo


def _store(cache: Path, key: str, results: tuple[Result, ...]) -> str | None:
    """A row's results written to the cache; the warning to show when they cannot be
    (the run goes on without the cache)."""
    try:
        (cache / "explore").mkdir(parents=True, exist_ok=True)
        files.write_atomic(cache / "explore" / key, dump_results(results))
    except OSError as e:
        return (
            f"cannot write the cache in {cache}/ ({e.strerror or e}); "
            "running without it (--no-cache says so)"
        )
    return None


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped an exploration: ``matrix`` holds every row, those not
    finished with their properties ``unknown`` (reason ``interrupted``) except what an
    engine had decided before it stopped."""

    def __init__(self, matrix: Matrix) -> None:
        super().__init__()
        self.matrix = matrix


def _interrupted(
    ts: TransitionSystem, engine: str, decided: tuple[Result, ...]
) -> tuple[Result, ...]:
    by_name = {r.property: r for r in decided}
    return tuple(
        by_name.get(p.name)
        or Result.about(
            ts, p, Verdict.UNKNOWN, engine=engine, seconds=0.0, bound=0, reason="interrupted"
        )
        for p in ts.properties
    )


def _matrix(
    base: str,
    systems: Sequence[TransitionSystem],
    rows: dict[int, Row],
    depth: int | None,
    engine: str,
    start: float,
    warnings: list[str],
) -> Matrix:
    ordered = tuple(rows[i] for i in range(len(systems)))
    props = tuple(dict.fromkeys(r.property for row in ordered for r in row.results))
    return Matrix(base, ordered, props, depth, engine, time.monotonic() - start, tuple(warnings))
