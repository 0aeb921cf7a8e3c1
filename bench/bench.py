"""Time the bounded engine on the shipped specs; print JSON.

    /work/venv/bin/python bench/bench.py                       # spec/*.fv and bench/*.fv
    /work/venv/bin/python bench/bench.py bench/seedlike.fv --depths 10,20,30 --reps 3
    /work/venv/bin/python bench/bench.py --encodings default,array,int,onehot

For each spec, encoding and depth: the median wall-clock seconds of ``reps`` runs of
:func:`fusever.bmc.run` (every property of the spec, one unrolling), the verdicts, and
Z3's statistics of the last run (conflicts, decisions, memory).  ``peak_rss_mb`` is the
process's peak resident memory (``getrusage``) at the end.  No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

from fusever import bmc, load
from fusever.encode import EncodeOptions
from fusever.job import Job
from fusever.verdict import Options

ROOT = Path(__file__).resolve().parent.parent

# named encodings, so one process can compare them
ENCODINGS: dict[str, EncodeOptions] = {
    "default": EncodeOptions(),
    "z3": EncodeOptions(solver="qf_bv"),  # Z3's incremental bit-blaster instead of Bitwuzla
    "array": EncodeOptions(maps="array"),
    "int": EncodeOptions(ghost="int"),  # ghost ints as Z3 Int: the general SMT solver
    "smt": EncodeOptions(solver="smt"),  # all bit-vectors, but the general SMT solver
    "onehot": EncodeOptions(selector="onehot"),
    "anywhere": EncodeOptions(stutter="anywhere"),
    "no-por": EncodeOptions(por="off"),
    "lex-por": EncodeOptions(por="lex"),
}

STATS = (
    "conflicts", "sat-conflicts", "decisions", "sat-decisions", "max-memory", "memory",  # z3
    "solving_context::max_memory",  # bitwuzla (bytes)
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("specs", nargs="*", type=Path)
    ap.add_argument("--depths", default="10,20,30,40")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--encodings", default="default")
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=600.0, help="per run; past it: unknown")
    args = ap.parse_args(argv)
    paths = args.specs or [*load.discover(ROOT / "spec"), *sorted((ROOT / "bench").glob("*.fv"))]
    depths = [int(d) for d in args.depths.split(",")]
    encodings = args.encodings.split(",")
    rows = []
    for ts in load.load_specs(paths, args.sets):
        for name in encodings:
            enc = ENCODINGS[name]
            for depth in depths:
                times = []
                out = None
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    out = bmc.run(
                        Job.resolve(ts, Options(depth=depth, timeout=args.timeout)), encode=enc
                    )
                    times.append(time.perf_counter() - t0)
                assert out is not None
                stats = dict(out.statistics)
                row = {
                    "spec": ts.name,
                    "encoding": name,
                    "depth": depth,
                    "median_seconds": round(statistics.median(times), 3),
                    "seconds": [round(t, 3) for t in times],
                    "verdicts": {
                        r.property: r.verdict.value + (f"@{r.step}" if r.step is not None else "")
                        for r in out.results
                    },
                    "ghost_width": out.ghost_width,
                    "backend": out.backend,
                    "solver": {k: stats[k] for k in STATS if k in stats},
                }
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"results": rows, "peak_rss_mb": round(peak, 1)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
