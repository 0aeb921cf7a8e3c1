"""What `fusever conform` costs on the fixture kernel tree; print JSON.

    .venv/bin/python bench/conform.py                    # every configuration, 5 walks each
    .venv/bin/python bench/conform.py --traces 20 --kernel-tree DIR

Per configuration: the traces replayed (proofs/'s and the random walks), their steps,
the seconds, and the divergences; then the totals, with the time to load the specs,
extract the functions and build the harness apart (the build is cached by hash: the
first run compiles, later ones load).  No assertions: exit 1 when anything diverges.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from fusever import load, regress
from fusever.conform_data import load_mapping, mapping_path
from fusever.conform_run import Conformance

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=str(ROOT / "spec" / "fuse_v2.fv"))
    ap.add_argument("--kernel-tree", default=str(ROOT / "tests" / "fixtures" / "kernel"))
    ap.add_argument("--traces", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    start = time.monotonic()
    (base,) = load.load_specs([args.spec])
    systems = [base, *(load.load_specs([args.spec], config=c)[0] for c, _ in base.configs)]
    recordings = regress.read_dir(ROOT / "proofs", [base.name])
    loaded = time.monotonic()
    checker = Conformance(load_mapping(mapping_path(args.spec)), args.kernel_tree)
    for w in sorted({int(dict(ts.settings).get("W", 64)) for ts in systems}):
        checker.harness(w)
    built = time.monotonic()
    rows = []
    for ts in systems:
        t0 = time.monotonic()
        rep = checker.run([ts], recordings, args.traces, args.seed)
        rows.append(
            {
                "config": ts.config or "default",
                "traces": len(rep.traces),
                "steps": sum(len(t.actions) for t in rep.traces),
                "diverging": len(rep.divergent),
                "seconds": round(time.monotonic() - t0, 2),
            }
        )
    out = {
        "spec": base.name,
        "kernel_tree": args.kernel_tree,
        "walks_per_config": args.traces,
        "load_seconds": round(loaded - start, 2),
        "extract_build_seconds": round(built - loaded, 2),
        "replay_seconds": round(sum(r["seconds"] for r in rows), 2),
        "traces": sum(r["traces"] for r in rows),
        "steps": sum(r["steps"] for r in rows),
        "diverging": sum(r["diverging"] for r in rows),
        "configs": rows,
    }
    json.dump(out, sys.stdout, indent=1)
    print()
    return 1 if out["diverging"] else 0


if __name__ == "__main__":
    sys.exit(main())
