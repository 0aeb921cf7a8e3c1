"""A free wide start, narrowed: the check and the bounded half at both widths; print JSON.

    .venv/bin/python bench/narrow.py                          # every spec's w64_free
    .venv/bin/python bench/narrow.py spec/fuse_v2.fv --configs w64_free
    .venv/bin/python bench/narrow.py --wide                   # and BMC at 64 bits too

For each spec configuration with a free wide start: the runs' bound (the ranking's),
the narrow width, ``check_seconds`` (:func:`fusever.narrow.check`, every obligation,
its queries and whether it proved them), then BMC to the bound on the narrow system
(``narrow_bmc_seconds``, what k-induction's runs-end route runs) and, with ``--wide``,
on the wide one, the route it replaces (fuse_wrapsafe's takes tens of minutes: give it
a ``--timeout``).  Both sides' verdicts and steps are printed so a reader can see they
agree.  No assertions: numbers only; CPU seconds beside wall ones (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from fusever import bmc, kind, load, narrow
from fusever.job import Job
from fusever.ts import TransitionSystem
from fusever.verdict import Engine, Options

ROOT = Path(__file__).resolve().parent.parent


def _timed(f: Any, *args: Any) -> tuple[Any, float, float]:
    wall, cpu = time.monotonic(), time.process_time()
    value = f(*args)
    return value, round(time.monotonic() - wall, 3), round(time.process_time() - cpu, 3)


def _verdicts(results: Any) -> dict[str, str]:
    return {
        r.property: f"{r.verdict.value}" + (f" at {r.step}" if r.step is not None else "")
        for r in results
    }


def measure(ts: TransitionSystem, wide: bool, timeout: float | None) -> dict[str, object]:
    row: dict[str, object] = {"spec": ts.name, "config": ts.config or "default"}
    runs = kind.runs_end(ts, ts.depth, None, 0)
    row["bound"] = runs.steps
    if runs.steps is None or narrow.wide_free(ts) is None:
        row["narrowed"] = False
        return row
    found, wall, cpu = _timed(narrow.check, ts, runs.steps)
    row |= {"check_seconds": wall, "check_cpu": cpu}
    if not isinstance(found, narrow.Narrowing):
        row["narrowed"] = False
        return row
    row |= {"narrowed": True, "width": found.width, "free": found.free}
    nts = found.system
    job = Job.resolve(nts, Options(engine=Engine.BMC, depth=runs.steps, timeout=timeout))
    out, wall, cpu = _timed(bmc.run, job)
    row |= {"narrow_bmc_seconds": wall, "narrow_bmc_cpu": cpu, "narrow": _verdicts(out.results)}
    if wide:
        job = Job.resolve(ts, Options(engine=Engine.BMC, depth=runs.steps, timeout=timeout))
        out, wall, cpu = _timed(bmc.run, job)
        row |= {"wide_bmc_seconds": wall, "wide_bmc_cpu": cpu, "wide": _verdicts(out.results)}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="*", help="default: every spec under spec/")
    ap.add_argument("--configs", default="w64_free", help="comma-separated (default w64_free)")
    ap.add_argument("--wide", action="store_true", help="also BMC on the wide system")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per BMC run")
    args = ap.parse_args()
    paths = args.specs or [str(p) for p in sorted((ROOT / "spec").glob("*.fv"))]
    rows = []
    for path in paths:
        (base,) = load.load_specs([path])
        for name in args.configs.split(","):
            if name != "default" and name not in dict(base.configs):
                continue
            (ts,) = load.load_specs([path], config=None if name == "default" else name)
            rows.append(measure(ts, args.wide, args.timeout))
            print(json.dumps(rows[-1]), file=sys.stderr)
    info = {"machine": platform.machine(), "python": platform.python_version()}
    print(json.dumps({"info": info, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
