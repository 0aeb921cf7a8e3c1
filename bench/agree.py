"""Two engines, one verdict, on every spec x configuration; print JSON.

    .venv/bin/python bench/agree.py                  # every spec under spec/, bound 8
    .venv/bin/python bench/agree.py spec/fuse_v2.fv --bound 10

Explicit's search to the bound against BMC to the same depth
(:func:`fusever.engines.disagreements`): per configuration whether they agree on
every goal's verdict and shortest step (``null`` where explicit refuses a free start
of a wide counter), what differs, and the seconds.  The test suite runs a
representative set (tests/test_explicit.py); this runs them all (about 15 minutes on
2 cores).  No assertions: the exit code is 1 when any configuration disagrees.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from fusever import engines, load

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "specs", nargs="*", default=sorted(str(p) for p in (ROOT / "spec").glob("*.fv"))
    )
    ap.add_argument("--bound", type=int, default=8)
    args = ap.parse_args()
    rows = []
    for path in args.specs:
        (base,) = load.load_specs([path])
        for name in [None, *(c for c, _ in base.configs)]:
            (ts,) = load.load_specs([path], config=name)
            start = time.monotonic()
            found = engines.disagreements(ts, args.bound)
            rows.append(
                {
                    "config": ts.key,
                    "agree": None if found is None else not found,
                    "differences": list(found or ()),
                    "seconds": round(time.monotonic() - start, 3),
                }
            )
    summary = {
        "bound": args.bound,
        "configurations": len(rows),
        "agree": sum(r["agree"] is True for r in rows),
        "refused": sum(r["agree"] is None for r in rows),
        "disagree": sum(r["agree"] is False for r in rows),
    }
    json.dump({"summary": summary, "rows": rows}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 1 if summary["disagree"] else 0


if __name__ == "__main__":
    sys.exit(main())
