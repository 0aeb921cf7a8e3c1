"""The compiled explicit engine against the Python one, side by side; print JSON.

    .venv/bin/python bench/cexplicit.py                     # fuse_v2 four_writers
    .venv/bin/python bench/cexplicit.py --spec spec/fuse_v2.fv --config two_fuds
    .venv/bin/python bench/cexplicit.py --cold              # C compiled from nothing too
    .venv/bin/python bench/cexplicit.py --proofs            # every explicit recording in proofs/

Side by side: each backend searches the configuration in a process of its own (so each
one's peak memory is its own), after the spec is loaded: ``wall`` and ``cpu`` seconds
of the search (the system's analysis, generation and, for C, loading the library
included; the C compiler's own CPU as ``compile_cpu``, from the cache when warm),
``states`` (the last search's), ``visited`` (every search's), ``transitions``,
``states_per_cpu_second`` (visited over the search's CPU, compiling excluded),
``peak_mb`` (the process's maximum resident set), and each goal's verdict and step.
C runs twice, the first time to fill the cache (reported as ``c_first``); with
``--cold`` the first run starts from an empty cache.  ``ratio_cpu`` and ``ratio_wall``
are Python's over C's (warm); ``agree`` says whether the two gave the same outcome
(verdicts, steps, counts).

With ``--proofs``: every configuration proofs/ records as decided by the explicit
engine, run with the C backend as ``regress`` runs it (its depth and state limit),
compared with the recording (verdicts, steps, bounds, completeness, counterexample
actions): how many agree, the differences, and the total time.  The machine is shared:
run it under ``nice``.  No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(backend: str, spec: str, config: str | None) -> dict[str, object]:
    from fusever import cexplicit, explicit, load
    from fusever.job import Job
    from fusever.verdict import Options

    (ts,) = load.load_specs([spec], config=config)
    job = Job.resolve(ts, Options(engine="explicit"))
    timing = cexplicit._Timing()
    t0, c0 = time.perf_counter(), time.process_time()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = cexplicit.run(job, timing=timing) if backend == "c" else explicit.run(job)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    compile_cpu = (kids.ru_utime - kids0.ru_utime) + (kids.ru_stime - kids0.ru_stime)
    return {
        "backend": backend,
        "wall": round(wall, 3),
        "cpu": round(cpu, 3),
        "compile_cpu": round(compile_cpu, 3),
        "libraries_compiled": timing.compiled,
        "generate_seconds": round(timing.generate, 3),
        "states": out.states,
        "visited": out.visited,
        "transitions": out.transitions,
        "levels": out.levels,
        "exhausted": out.exhausted,
        "states_per_cpu_second": round(out.visited / cpu) if cpu else None,
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "goals": [[r.property, r.verdict.value, r.step, r.complete, r.reason] for r in out.results],
    }


def _run_child(
    backend: str, spec: str, config: str | None, env: dict[str, str]
) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", backend, "--spec", spec]
    if config:
        cmd += ["--config", config]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"backend": backend, "error": proc.stderr.strip().splitlines()[-3:]}
    got: dict[str, object] = json.loads(proc.stdout)
    got["process_wall"] = round(time.perf_counter() - t0, 3)
    return got


def _side_by_side(spec: str, config: str | None, cold: bool) -> dict[str, object]:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        first_env = {**env, "XDG_CACHE_HOME": tmp} if cold else env
        c_first = _run_child("c", spec, config, first_env)
        c = _run_child("c", spec, config, first_env)
    py = _run_child("python", spec, config, env)
    out: dict[str, object] = {"spec": spec, "config": config or "default", "python": py,
                              "c": c, "c_first": c_first}  # fmt: skip
    if "error" not in py and "error" not in c:
        out["ratio_cpu"] = round(float(py["cpu"]) / float(c["cpu"]), 1)  # type: ignore[arg-type]
        out["ratio_wall"] = round(float(py["wall"]) / float(c["wall"]), 1)  # type: ignore[arg-type]
        keys = ("states", "visited", "transitions", "levels", "exhausted", "goals")
        out["agree"] = all(py[k] == c[k] for k in keys)
    out["load"] = os.getloadavg()
    return out


def _proofs(only: list[str]) -> dict[str, object]:
    from fusever import cexplicit, load, regress
    from fusever.job import Job
    from fusever.regression import RECORD_STATE_LIMIT
    from fusever.verdict import Options

    recorded = regress.read_dir(ROOT / "proofs")
    rows = []
    t0, c0 = time.perf_counter(), time.process_time()
    # the largest populations last: what is done first is the most of the count
    for key, rec in sorted(recorded.items(), key=lambda kv: ("four_writers" in kv[0], kv[0])):
        if rec.engine != "explicit" or (only and key not in only):
            continue
        (ts,) = load.load_specs([ROOT / rec.file], config=rec.config)
        options = Options(depth=rec.depth, engine="explicit", state_limit=RECORD_STATE_LIMIT)
        s0 = time.perf_counter()
        results = cexplicit.explicit_search(Job.resolve(ts, options))
        now = regress.record(ts, results, "explicit", rec.depth, ())
        changes = regress.compare(rec, now)
        rows.append({
            "key": key, "seconds": round(time.perf_counter() - s0, 2),
            "agree": not changes, "changes": [str(c) for c in changes][:5],
        })  # fmt: skip
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {
        "configurations": len(rows),
        "agree": sum(1 for r in rows if r["agree"]),
        "disagree": [r for r in rows if not r["agree"]],
        "wall": round(time.perf_counter() - t0, 1),
        "cpu": round(time.process_time() - c0, 1),
        "rows": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "spec" / "fuse_v2.fv"))
    ap.add_argument("--config", default="four_writers")
    ap.add_argument("--cold", action="store_true", help="C's first run from an empty cache")
    ap.add_argument("--proofs", action="store_true", help="every explicit recording in proofs/")
    ap.add_argument("--only", action="append", default=[], help="with --proofs: this key")
    ap.add_argument("--child", choices=("c", "python"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    config = None if args.config in ("", "default") else args.config
    if args.child:
        print(json.dumps(_child(args.child, args.spec, config)))
        return
    if args.proofs:
        print(json.dumps(_proofs(args.only), indent=1))
        return
    print(json.dumps(_side_by_side(args.spec, config, args.cold), indent=1))


if __name__ == "__main__":
    main()
