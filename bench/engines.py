"""Time each engine on each spec configuration; print JSON.

    /work/venv/bin/python bench/engines.py                  # spec/*.fv, default configs, all engines
    /work/venv/bin/python bench/engines.py --configs all --reps 3
    /work/venv/bin/python bench/engines.py spec/fuse_pre.fv --configs default,two_fuds --engines bmc,kind
    /work/venv/bin/python bench/engines.py tests/fixtures/unbounded_ends.fv --depth 6 --timeout 60
    .venv/bin/python bench/engines.py spec/fuse_v2.fv --configs all --engines explicit,bmc,auto --totals fuse_v2

Reports the time each engine takes on each spec.  For each spec, configuration
(``default``: the spec without one; ``all``: the default and every ``config`` block, in
spec order) and engine, in the order given: the median wall-clock seconds of ``reps``
runs of :func:`fusever.engines.prove` on every property, and per property the verdict,
``complete``, ``bound``, ``step``, ``engine`` and ``reason`` of the last run.  ``counts``
tallies the properties complete (proved or unreachable for all depths), bounded (only
within the bound), violated, covered and unknown (a run past ``--timeout`` leaves its
open properties unknown); ``states`` is the explicit search's state count where its
results say it (null for the other engines).  ``cpu_seconds`` includes child processes: ``auto`` runs BMC
and the unbounded engines side by side in two processes, so its wall clock can be below
its CPU time.  The ``summary`` has each engine's total seconds and, per spec
configuration, each engine's seconds divided by bmc's in the same process (bmc is the
baseline; the ratios are null when bmc did not run) and by the fastest engine's
(``best``).  With ``--totals BASE,...``: ``fusever explore BASE --no-cache`` for each
base and ``fusever regress``, each timed as a fresh process with ``--jobs``.  ``peak_rss_mb`` is this process's
peak resident memory (``getrusage``), ``peak_rss_children_mb`` the largest child's.
No assertions: numbers only.  Bad arguments, a spec that does not load or an unknown
configuration: a message on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from fusever import engines, load, report
from fusever.diagnostics import SpecError
from fusever.ts import TransitionSystem
from fusever.verdict import Options, Result, Verdict

ROOT = Path(__file__).resolve().parent.parent
PROG = "bench/engines.py"
BASELINE = "bmc"
COUNTS = ("complete", "bounded", "violated", "covered", "unknown")
N = TypeVar("N", int, float)
STATES = re.compile(r"(\d+) states")


def _positive(kind: Callable[[str], N]) -> Callable[[str], N]:
    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def _names(text: str) -> list[str]:
    """``a,b,,a`` -> ``[a, b]``: comma-separated, in order, without repeats."""
    return list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def _cpu() -> float:
    """CPU seconds of this process and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _spec_error(e: SpecError) -> str:
    """fusever's rendering of the diagnostics, each error line under this program's name."""
    text = report.render_diagnostics(e.diagnostics)
    text = re.sub(r"(?m)^fusever: ", f"{PROG}: ", text)
    return re.sub(r"(?m)^(\S+:\d+:\d+): error: ", rf"{PROG}: error: \1: ", text)


def _systems(paths: list[Path], configs: list[str]) -> list[TransitionSystem]:
    """Every spec configuration asked for, loaded before anything is timed."""
    out: list[TransitionSystem] = []
    for path in paths:
        ts = load.load_specs([path])[0]
        names = [c for c in configs if c != "all"]
        if "all" in configs:
            names = list(dict.fromkeys(["default", *names, *(c for c, _ in ts.configs)]))
        for name in names:
            out.append(ts if name == "default" else load.load_specs([path], [], name)[0])
    return out


def _row(
    ts: TransitionSystem, engine: str, args: argparse.Namespace
) -> tuple[dict[str, object], float]:
    """The row of one spec configuration and engine, and its unrounded median seconds."""
    options = Options(engine=engine, timeout=args.timeout, depth=args.depth)
    walls: list[float] = []
    cpus: list[float] = []
    results: tuple[Result, ...] = ()
    for _ in range(args.reps):
        c0, t0 = _cpu(), time.perf_counter()
        results = engines.prove(ts, options)
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    counts = dict.fromkeys(COUNTS, 0)
    for r in results:
        if r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE):
            counts["complete" if r.complete else "bounded"] += 1
        else:
            counts[r.verdict.value] += 1
    median = statistics.median(walls)
    # the explicit search's states, where a result says them ("... N states, M transitions")
    counted = [int(m.group(1)) for r in results if (m := STATES.search(r.reason or ""))]
    row: dict[str, object] = {
        "spec": ts.name,
        "config": ts.config or "default",
        "engine": engine,
        "depth": args.depth or ts.depth,
        "median_seconds": round(median, 3),
        "seconds": [round(t, 3) for t in walls],
        "median_cpu_seconds": round(statistics.median(cpus), 3),
        "counts": counts,
        "states": max(counted) if counted else None,
        "properties": {
            r.property: {
                "verdict": r.verdict.value,
                "complete": r.complete,
                "bound": r.bound,
                "step": r.step,
                "engine": r.engine,
                "reason": r.reason,
            }
            for r in results
        },
    }
    return row, median


def _summary(by_key: dict[str, dict[str, float]], engine_names: list[str]) -> dict[str, object]:
    """Totals per engine; per spec configuration (``spec`` or ``spec.config``), each
    engine's seconds over the baseline's and over the fastest engine's (its ``best``)."""
    ratios: dict[str, dict[str, float | None]] = {}
    best: dict[str, dict[str, object]] = {}
    for key, times in by_key.items():
        base = times.get(BASELINE)
        ratios[key] = {e: round(t / base, 3) if base else None for e, t in times.items()}
        fastest = min(times, key=times.__getitem__)
        low = times[fastest]
        best[key] = {
            "best": fastest,
            "vs_best": {e: round(t / low, 3) if low else None for e, t in times.items()},
        }
    totals = {e: round(sum(t.get(e, 0.0) for t in by_key.values()), 3) for e in engine_names}
    return {"baseline": BASELINE, "total_seconds": totals, "vs_baseline": ratios, "best": best}


def _totals(bases: list[str], jobs: int) -> dict[str, object]:
    """``fusever explore BASE --no-cache`` for each base and ``fusever regress`` (nothing
    rerun that did not change), each a fresh process with ``--jobs``: wall seconds and
    exit codes, as a user would see them."""
    fusever = [sys.executable, "-m", "fusever"]
    runs: dict[str, list[str]] = {
        f"explore {b}": [
            *fusever,
            "explore",
            b,
            "--no-cache",
            "--jobs",
            str(jobs),
            "--format",
            "json",
        ]
        for b in bases
    }
    runs["regress"] = [*fusever, "regress", "--jobs", str(jobs)]
    out: dict[str, object] = {}
    for name, cmd in runs.items():
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        out[name] = {
            "command": " ".join(cmd[2:]),
            "seconds": round(time.perf_counter() - t0, 3),
            "exit": done.returncode,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("specs", nargs="*", type=Path, help="default: every spec under spec/")
    ap.add_argument("--configs", default="default", help="comma-separated; `all`: every one")
    ap.add_argument("--engines", default=",".join(engines.ENGINES), help="comma-separated")
    ap.add_argument("--reps", type=_positive(int), default=1, help="runs per cell; the median")
    ap.add_argument("--timeout", type=_positive(float), default=300.0, help="seconds per run")
    ap.add_argument("--depth", type=_positive(int), help="default: each spec's own")
    ap.add_argument(
        "--totals", default="", metavar="BASE,...",
        help="also time `fusever explore BASE --no-cache` for each BASE and `fusever regress`",
    )  # fmt: skip
    ap.add_argument("--jobs", type=_positive(int), default=2, help="--totals' processes")
    args = ap.parse_args(argv)
    engine_names = _names(args.engines)
    configs = _names(args.configs)
    unknown = [e for e in engine_names if e not in engines.ENGINES]
    if unknown or not engine_names:
        named = f"unknown engine `{unknown[0]}`" if unknown else "no engine named"
        ap.error(f"--engines: {named}; one or more of {', '.join(engines.ENGINES)}")
    if not configs:
        ap.error("--configs: no configuration named")
    paths: dict[Path, Path] = {}  # each file once, as it was named
    for path in args.specs or load.discover(ROOT / "spec"):
        paths.setdefault(path.resolve(), path)
    try:
        systems = _systems(list(paths.values()), configs)
    except SpecError as e:
        print(_spec_error(e), file=sys.stderr)
        return 2
    rows: list[dict[str, object]] = []
    medians: dict[str, dict[str, float]] = {}  # ts.key -> engine -> seconds, unrounded
    for ts in systems:
        for engine in engine_names:
            row, median = _row(ts, engine, args)
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
            medians.setdefault(ts.key, {})[engine] = median
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = {
        "results": rows,
        "summary": _summary(medians, engine_names),
        "totals": _totals(_names(args.totals), args.jobs) if args.totals else None,
        "peak_rss_mb": round(peak, 1),
        "peak_rss_children_mb": round(peak_kids, 1),
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
