"""Time `fusever regress`, one configuration at a time; print JSON lines, then a summary.

    .venv/bin/python bench/regress.py                   # every spec in spec/
    .venv/bin/python bench/regress.py spec/fuse_v2.fv --jobs 2

For each recorded spec configuration: the engine proofs/ recorded it with, the wall
and CPU seconds of its re-check (what `fusever regress` runs for it: the certificates
re-checked, or the recorded engine run again), and whether its verdicts changed.
Each line is printed as its configuration finishes (slowest last, in a pool), so a
long run shows where the time goes while it runs.  The summary: total and median
seconds per engine, and the sum of CPU seconds (the wall time on N cores is at
least that over N).  No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from fusever import load, regress, regression
from fusever.ts import TransitionSystem

ROOT = Path(__file__).resolve().parent.parent


def _one(ts: TransitionSystem, rec: regress.Recording) -> dict[str, object]:
    wall, cpu = time.monotonic(), time.process_time()
    check = regression.check(ts, rec, rerun=True)  # timed: always run
    return {
        "config": ts.key,
        "engine": rec.engine,
        "depth": rec.depth,
        "wall_s": round(time.monotonic() - wall, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
        "certificates_rechecked": check.rechecked,
        "properties_searched": check.searched,
        "changes": [str(c) for c in check.changes],
    }


def _configurations(paths: list[Path]) -> list[TransitionSystem]:
    """Each spec under its default and every named configuration, as regress loads them."""
    out: list[TransitionSystem] = []
    for ts in load.load_specs(paths):
        out.append(ts)
        for name, _ in ts.configs:
            out.extend(load.load_specs([ts.path], (), name))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("specs", nargs="*", type=Path)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--proofs", type=Path, default=ROOT / "proofs")
    ap.add_argument("--config", dest="configs", action="append", default=[])
    args = ap.parse_args(argv)
    paths = args.specs or load.discover(ROOT / "spec")
    systems = _configurations(list(paths))
    if args.configs:
        systems = [ts for ts in systems if (ts.config or "default") in args.configs]
    recorded = regress.read_dir(args.proofs)
    work = [(ts, recorded[ts.key]) for ts in systems if ts.key in recorded]
    start = time.monotonic()
    rows: list[dict[str, object]] = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(_one, ts, rec) for ts, rec in work]
        for f in as_completed(futures):
            row = f.result()
            rows.append(row)
            print(json.dumps(row), flush=True)
    by_engine: dict[str, list[float]] = {}
    for r in rows:
        by_engine.setdefault(str(r["engine"]), []).append(float(str(r["wall_s"])))
    summary = {
        "configurations": len(rows),
        "jobs": args.jobs,
        "wall_s": round(time.monotonic() - start, 1),
        "cpu_s_sum": round(sum(float(str(r["cpu_s"])) for r in rows), 1),
        "by_engine": {
            e: {
                "count": len(v),
                "total_s": round(sum(v), 1),
                "median_s": round(statistics.median(v), 2),
            }
            for e, v in sorted(by_engine.items())
        },
        "slowest": sorted(rows, key=lambda r: -float(str(r["wall_s"])))[:10],
        "changed": [r["config"] for r in rows if r["changes"]],
        "peak_rss_mb_parent": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
