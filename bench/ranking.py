"""Runs that end: the ranking function per spec configuration; print JSON.

    .venv/bin/python bench/ranking.py                      # every spec under spec/, every configuration
    .venv/bin/python bench/ranking.py spec/fuse_v2.fv --configs default,w64_free
    .venv/bin/python bench/ranking.py spec/fuse_v2.fv --longest   # and the unrolling's answer

For each spec configuration: whether :func:`fusever.ranking.find` found a ranking
function, its ``bound`` (no run is longer), the counterexample ``rounds`` it took,
``find_seconds`` and ``check_seconds`` (the re-check from the text alone, what a
certificate costs), CPU seconds beside them (the machine is shared), and the reason
when there is none.  ``--longest`` also times :func:`fusever.kind.longest_run`, the
unrolling it replaces, to the same bound (the exact longest run, when it ends).
No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from fusever import kind, load, ranking
from fusever.ts import TransitionSystem

ROOT = Path(__file__).resolve().parent.parent


def _systems(paths: list[str], configs: list[str] | None) -> list[TransitionSystem]:
    out: list[TransitionSystem] = []
    for path in paths:
        (base,) = load.load_specs([path])
        names = configs or ["default", *(c for c, _ in base.configs)]
        for name in names:
            config = None if name == "default" else name
            out += load.load_specs([path], config=config)
    return out


def _timed(f, *args):  # type: ignore[no-untyped-def]
    wall, cpu = time.monotonic(), time.process_time()
    value = f(*args)
    return value, round(time.monotonic() - wall, 3), round(time.process_time() - cpu, 3)


def measure(ts: TransitionSystem, longest: bool) -> dict[str, object]:
    found, wall, cpu = _timed(ranking.find, ts)
    row: dict[str, object] = {
        "config": ts.key,
        "depth": ts.depth,
        "ranked": found.ranking is not None,
        "bound": None if found.ranking is None else found.ranking.bound,
        "rounds": found.rounds,
        "find_seconds": wall,
        "find_cpu_seconds": cpu,
        "reason": found.reason or None,
    }
    if found.ranking is not None:
        ok, wall, cpu = _timed(ranking.check, ts, found.ranking)
        row |= {"checks": ok, "check_seconds": wall, "check_cpu_seconds": cpu}
        row["terms"] = len(found.ranking.weights)
    if longest:
        bound = found.ranking.bound if found.ranking is not None else ts.depth
        got, wall, cpu = _timed(kind.longest_run, ts, bound, None, 0)
        row |= {"longest_run": got.steps, "longest_seconds": wall, "longest_cpu_seconds": cpu}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "specs", nargs="*", default=sorted(str(p) for p in (ROOT / "spec").glob("*.fv"))
    )
    ap.add_argument("--configs", help="comma-separated (default: every configuration)")
    ap.add_argument("--longest", action="store_true", help="also time kind.longest_run")
    args = ap.parse_args()
    configs = args.configs.split(",") if args.configs else None
    rows = [measure(ts, args.longest) for ts in _systems(args.specs, configs)]
    json.dump(
        {
            "machine": {"python": platform.python_version(), "cpu": platform.processor()},
            "ranking": rows,
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
