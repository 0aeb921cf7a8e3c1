"""A free wide start, narrowed: the checks, and what decides the narrow system; print JSON.

    .venv/bin/python bench/narrow.py                          # every spec's w64_free
    .venv/bin/python bench/narrow.py spec/fuse_v2.fv --configs w64_free
    .venv/bin/python bench/narrow.py --wide                   # and BMC at 64 bits too
    .venv/bin/python bench/narrow.py --no-runs                # the budget's route only
    .venv/bin/python bench/narrow.py --no-runs --direct       # and the check without lemmas

For each spec configuration with a free wide start, two narrowings:

- by a *budget* (how often the wide values move): ``find_seconds`` (the budget's search,
  :func:`fusever.ranking.find` with ``growing``), its bound ``moves`` and ``width``,
  ``check_seconds`` (:func:`fusever.narrow.check`, every obligation; with
  ``--direct`` also ``direct_check_seconds``, the same check with every atom asked
  directly rather than as a lemma's instance, the baseline), then the explicit
  search of the narrow system (``explicit_seconds``, ``states``: what ``--engine
  explicit`` runs);
- by the runs' bound (the ranking's, ``bound``): its width, ``check_seconds``, then BMC
  to the bound on the narrow system (``narrow_bmc_seconds``, what k-induction's
  runs-end route runs) and, with ``--wide``, on the wide one, the route it replaces
  (fuse_wrapsafe's takes tens of minutes: give it a ``--timeout``).

Every side's verdicts and steps are printed so a reader can see they agree.  No
assertions: numbers only; CPU seconds beside wall ones (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from fusever import bmc, explicit, kind, load, narrow, ranking
from fusever.job import Job
from fusever.ts import BitVecType, TransitionSystem
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


def measure(
    ts: TransitionSystem, wide: bool, runs_too: bool, timeout: float | None, direct: bool = False
) -> dict[str, object]:
    row: dict[str, object] = {"spec": ts.name, "config": ts.config or "default"}
    found = narrow.wide_free(ts)
    if found is None:
        row["narrowed"] = False
        return row
    row["budget"] = by_budget(ts, found[0], timeout, direct)
    if runs_too:
        row["runs"] = by_runs(ts, wide, timeout)
    return row


def by_budget(
    ts: TransitionSystem, width: int, timeout: float | None, direct: bool = False
) -> dict[str, object]:
    growing = frozenset(
        v.name for v in ts.vars if isinstance(v.type, BitVecType) and v.type.width == width
    )
    got, wall, cpu = _timed(lambda: ranking.find(ts, growing=growing))
    out: dict[str, object] = {"find_seconds": wall, "find_cpu": cpu}
    if got.ranking is None:
        return out | {"found": False, "why": got.reason}
    budget = got.ranking
    out |= {"moves": budget.bound, "budget": budget.text()}
    found, wall, cpu = _timed(narrow.check, ts, budget)
    out |= {"check_seconds": wall, "check_cpu": cpu}
    if direct:
        # the baseline, in this process: every atom asked directly, no lemma
        lemma, proved = narrow._Solver._lemma, dict(narrow._PROVED)
        narrow._Solver._lemma = lambda self, x, y: False  # type: ignore[method-assign]
        narrow._PROVED.clear()
        try:
            same, wall, cpu = _timed(narrow.check, ts, budget)
        finally:
            narrow._Solver._lemma = lemma  # type: ignore[method-assign]
            narrow._PROVED.update(proved)
        out |= {"direct_check_seconds": wall, "direct_check_cpu": cpu}
        out["direct_check_same"] = same == found
    if not isinstance(found, narrow.Narrowing):
        return out | {"narrowed": False}
    out |= {"narrowed": True, "width": found.width}
    job = Job.resolve(found.system, Options(engine=Engine.EXPLICIT, timeout=timeout))
    res, wall, cpu = _timed(explicit.run, job)
    return out | {
        "explicit_seconds": wall,
        "explicit_cpu": cpu,
        "states": res.states,
        "exhausted": res.exhausted,
        "explicit": _verdicts(res.results),
    }


def by_runs(ts: TransitionSystem, wide: bool, timeout: float | None) -> dict[str, object]:
    runs = kind.runs_end(ts, ts.depth, None, 0)
    row: dict[str, object] = {"bound": runs.steps}
    if runs.steps is None:
        return row | {"narrowed": False}
    found, wall, cpu = _timed(narrow.check, ts, runs.steps)
    row |= {"check_seconds": wall, "check_cpu": cpu}
    if not isinstance(found, narrow.Narrowing):
        return row | {"narrowed": False}
    row |= {"narrowed": True, "width": found.width, "free": found.free}
    job = Job.resolve(found.system, Options(engine=Engine.BMC, depth=runs.steps, timeout=timeout))
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
    ap.add_argument("--no-runs", action="store_true", help="the budget's route only")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per search")
    ap.add_argument(
        "--direct",
        action="store_true",
        help="also the budget's check with every atom asked directly (no lemma): the baseline",
    )
    args = ap.parse_args()
    paths = args.specs or [str(p) for p in sorted((ROOT / "spec").glob("*.fv"))]
    rows = []
    for path in paths:
        (base,) = load.load_specs([path])
        for name in args.configs.split(","):
            if name != "default" and name not in dict(base.configs):
                continue
            (ts,) = load.load_specs([path], config=None if name == "default" else name)
            rows.append(measure(ts, args.wide, not args.no_runs, args.timeout, args.direct))
            print(json.dumps(rows[-1]), file=sys.stderr)
    info = {"machine": platform.machine(), "python": platform.python_version()}
    print(json.dumps({"info": info, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
