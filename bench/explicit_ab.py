"""The explicit engine of an earlier revision against this checkout's; print JSON.

    .venv/bin/python bench/explicit_ab.py 494e5b0                  # fuse_v2 default, three_writers, w4
    .venv/bin/python bench/explicit_ab.py HEAD~3 --configs default --runs 7

The revision is checked out into a temporary git worktree; each run is a fresh
Python process (this checkout's or the worktree's on ``PYTHONPATH``), the two taking
turns, so both see the same moments of a noisy machine.  A run loads the spec with
its own code and times ``explicit.run`` alone in CPU seconds, once as ``prove`` runs
it and once as one search over every goal (``restart=False``).  Reported per
configuration and search: each side's states (they must agree, or the revision
searched a different space), median CPU seconds, and before / after as ``ratio``.
No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# one run, in a fresh process: states and CPU seconds, as JSON on stdout
ONE_RUN = """
import json, sys, time
from fusever import explicit, load
from fusever.verdict import Options
spec, config, restart = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
(ts,) = load.load_specs([spec], config=None if config == "default" else config)
try:  # the engines take a resolved Job since issue 12's run budget
    from fusever.job import Job
    args = (Job.resolve(ts, Options()),)
except ImportError:
    args = (ts, Options())
start = time.process_time()
out = explicit.run(*args, restart=restart)
print(json.dumps({"states": out.states, "visited": out.visited,
                  "cpu_seconds": time.process_time() - start, "code": explicit.__file__}))
"""


def _run(tree: Path, spec: str, config: str, restart: bool) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", ONE_RUN, spec, config, "1" if restart else "0"],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    got = json.loads(out.stdout)
    if not got.pop("code").startswith(str(tree)):  # the other side's code was imported
        raise SystemExit(f"{tree}: fusever was not imported from this tree")
    return dict(got)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", help="a git revision")
    ap.add_argument("--spec", default="spec/fuse_v2.fv")
    ap.add_argument("--configs", default="default,three_writers,w4")
    ap.add_argument("--runs", type=int, default=5, help="runs per side (median)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(old), args.before],
            cwd=ROOT, check=True,
        )  # fmt: skip
        try:
            for config in args.configs.split(","):
                for restart in (True, False):
                    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
                    for _ in range(args.runs):
                        runs["before"].append(_run(old, args.spec, config, restart))
                        runs["after"].append(_run(ROOT, args.spec, config, restart))
                    b, a = (statistics.median(r["cpu_seconds"] for r in runs[k]) for k in runs)
                    last = runs["after"][-1]
                    rows.append({
                        "config": config,
                        "search": "as prove runs it" if restart else "one over every goal",
                        "states": {k: (runs[k][-1]["states"], runs[k][-1]["visited"]) for k in runs},
                        "before_cpu_seconds": round(b, 3),
                        "after_cpu_seconds": round(a, 3),
                        "ratio": round(b / a, 2),
                        "states_per_cpu_second_after": round((last["visited"] or last["states"]) / a),
                    })  # fmt: skip
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False
            )
    print(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}",
        "before": args.before,
        "rows": rows,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
