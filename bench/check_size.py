"""Time `fusever check` (parse and check, no solver) on generated specs of growing
size; print JSON.  Checking must stay linear in the spec's size (issue 14: a 1.5 MB
spec with thousands of actions did not finish in 60 s, from a line lookup per
declaration that scanned the text from its start).

    .venv/bin/python bench/check_size.py --actions 1000,4000,16000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from fusever import load


def generated(n: int) -> str:
    """A spec with ``n`` constants and ``n`` actions, each guarded by its constant."""
    lines = ["spec many", "const W = 8"]
    lines += [f"const K{i} = {i % 7}" for i in range(n)]
    lines += ["var x: u<W>", "var b: bool", "init { x := 0\n  b := false }"]
    lines += [f"action a{i}() when x != K{i} {{ x := x + K{i}\n  b := !b }}" for i in range(n)]
    lines += ["invariant p: x == x", "depth 3"]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actions", default="1000,4000", help="comma-separated sizes")
    args = ap.parse_args()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.actions.split(",")):
            path = Path(tmp) / f"many{n}.fv"
            path.write_text(generated(n))
            start = time.perf_counter()
            (ts,) = load.load_specs([path])
            seconds = time.perf_counter() - start
            out.append(
                {"actions": len(ts.actions), "bytes": path.stat().st_size,
                 "seconds": round(seconds, 3)}
            )  # fmt: skip
    print(json.dumps({"check_size": out}, indent=1))


if __name__ == "__main__":
    main()
