"""The explicit-state engine against BMC and against the interpreter; print JSON.

    .venv/bin/python bench/explicit.py                        # spec/fuse_v2.fv, default configuration
    .venv/bin/python bench/explicit.py spec/*.fv --configs all --bmc-depth 8
    .venv/bin/python bench/explicit.py spec/fuse_v2.fv --configs default,two_fuds --no-bmc

For each spec configuration: the explicit engine's ``states`` (distinct canonical
states of its last search), ``visited`` (every search's states: it searches again
without the goals settled first), ``transitions``, ``levels`` (breadth-first depth),
``seconds`` and ``cpu_seconds`` (the whole run, compiling included; the machine is
shared, so CPU seconds are the steadier figure), ``states_per_second`` (visited) and
whether the reachable set was ``exhausted``, with its verdict counts and the reductions
it applied; ``explicit_one_search``: the same with one search over every goal
(``restart=False``), the whole configuration's reduced state space; BMC's seconds to
``--bmc-depth`` (default: the spec's depth) with its counts; and the interpreter's
``states_per_second``: a breadth-first search over :func:`fusever.interpret.successors`
without any reduction, stopped after ``--interp-states`` states (what an explicit
engine on the interpreter would do).  The ``agree`` field says whether the two engines
agree on every goal both settled within the BMC depth (verdict and step).  No
assertions: numbers only.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import sys
import time
from pathlib import Path

from fusever import bmc, explicit, interpret, load
from fusever.job import Job
from fusever.ts import State, TransitionSystem
from fusever.verdict import Options, Result, Verdict


def _systems(paths: list[str], configs: list[str]) -> list[TransitionSystem]:
    out: list[TransitionSystem] = []
    for path in paths:
        (ts,) = load.load_specs([path])
        names = list(configs)
        if "all" in names:
            names = ["default", *(c for c, _ in ts.configs)]
        for name in names:
            out.append(ts if name == "default" else load.load_specs([path], [], name)[0])
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return str(line.split(":", 1)[1].strip())
    except OSError:
        pass
    return platform.machine()


def _counts(results: tuple[Result, ...]) -> dict[str, int]:
    c: collections.Counter[str] = collections.Counter()
    for r in results:
        if r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE):
            c["complete" if r.complete else "bounded"] += 1
        else:
            c[r.verdict.value] += 1
    return dict(sorted(c.items()))


def _freeze(s: State) -> tuple[object, ...]:
    return tuple((n, tuple(sorted(t.items()))) for n, t in sorted(s.items()))


def _interpreter_rate(ts: TransitionSystem, most: int) -> dict[str, object]:
    t0, c0 = time.perf_counter(), time.process_time()
    # the initial states as the explicit engine enumerates them (interpret.initial_states
    # only tries a few seeds), concrete: no reduction
    system = explicit.compile_system(ts)
    start: list[State] = [system.layout.decode(c) for _, c in system.initial()]
    seen = {_freeze(s) for s in start}
    todo = collections.deque(start)
    edges = 0
    while todo and len(seen) < most:
        s = todo.popleft()
        for _, _, t in interpret.successors(ts, s):
            edges += 1
            k = _freeze(t)
            if k not in seen:
                seen.add(k)
                todo.append(t)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"states": len(seen), "transitions": edges, "seconds": round(dt, 3),
            "states_per_second": round(len(seen) / dt) if dt else None,
            "states_per_cpu_second": round(len(seen) / cpu) if cpu else None}  # fmt: skip


def _agree(e: Result, b: Result, depth: int) -> bool:
    """Explicit's goal ``e`` (unbounded) against BMC's ``b`` to ``depth``: a trace within
    the depth is BMC's too, at the same step; none within it, BMC finds none either."""
    if Verdict.UNKNOWN in (e.verdict, b.verdict):
        return True
    if e.step is not None and e.step <= depth:
        return (e.verdict, e.step) == (b.verdict, b.step)
    return b.verdict in (Verdict.PROVED, Verdict.UNREACHABLE)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/explicit.py", description=__doc__.split("\n")[0])
    ap.add_argument("specs", nargs="*", default=["spec/fuse_v2.fv"])
    ap.add_argument("--configs", default="default", help="comma-separated; `all`: every one")
    ap.add_argument("--bmc-depth", type=int, default=None, help="default: the spec's depth")
    ap.add_argument("--no-bmc", action="store_true")
    ap.add_argument("--interp-states", type=int, default=2000, help="0: skip the interpreter")
    ap.add_argument("--state-limit", type=int, default=explicit.DEFAULT_STATE_LIMIT)
    ap.add_argument("--timeout", type=float, default=None, help="seconds per engine run")
    args = ap.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    rows: list[dict[str, object]] = []
    for ts in _systems(args.specs, configs):
        row: dict[str, object] = {"spec": ts.name, "config": ts.config or "default"}
        t0, c0 = time.perf_counter(), time.process_time()
        ex = explicit.run(
            Job.resolve(ts, Options(timeout=args.timeout, state_limit=args.state_limit))
        )
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        row["explicit"] = {
            "states": ex.states, "visited": ex.visited, "transitions": ex.transitions,
            "levels": ex.levels, "seconds": round(dt, 3), "cpu_seconds": round(cpu, 3),
            "states_per_second": round(ex.visited / dt) if dt and ex.visited else None,
            "states_per_cpu_second": round(ex.visited / cpu) if cpu and ex.visited else None,
            "exhausted": ex.exhausted, "counts": _counts(ex.results),
            "reductions": list(ex.reductions),
            "refused": ex.results[0].reason if ex.states == 0 and ex.results else None,
        }  # fmt: skip
        if ex.states:
            # one search over every goal, never started again: the state space of the
            # whole configuration, and the successor function's rate on it
            t0, c0 = time.perf_counter(), time.process_time()
            one = explicit.run(
                Job.resolve(ts, Options(timeout=args.timeout, state_limit=args.state_limit)),
                restart=False,
            )
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            row["explicit_one_search"] = {
                "states": one.states, "transitions": one.transitions, "levels": one.levels,
                "seconds": round(dt, 3), "cpu_seconds": round(cpu, 3),
                "states_per_second": round(one.states / dt) if dt else None,
                "states_per_cpu_second": round(one.states / cpu) if cpu else None,
                "exhausted": one.exhausted,
            }  # fmt: skip
        if not args.no_bmc:
            depth = ts.depth if args.bmc_depth is None else args.bmc_depth
            t0, c0 = time.perf_counter(), time.process_time()
            bm = bmc.run(Job.resolve(ts, Options(depth=depth, timeout=args.timeout))).results
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            agree = all(_agree(e, b, depth) for e, b in zip(ex.results, bm, strict=True))
            row["bmc"] = {"depth": depth, "seconds": round(dt, 3), "cpu_seconds": round(cpu, 3),
                          "counts": _counts(bm),
                          "agree": agree}  # fmt: skip
        if args.interp_states:
            row["interpreter"] = _interpreter_rate(ts, args.interp_states)
        rows.append(row)
        # each row also on stderr as it is done, so a long run that is stopped keeps them
        print(json.dumps(row), file=sys.stderr, flush=True)
    out = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{_cpu_model()}, {os.cpu_count()} cores, python {platform.python_version()}",
        "rows": rows,
    }
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
