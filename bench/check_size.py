"""Time `fusever check` (parse and check, no solver) on generated specs of growing
size; print JSON.  Checking must stay linear in the spec's size (issue 14: a 1.5 MB
spec with thousands of actions did not finish in 60 s, from a line lookup per
declaration that scanned the text from its start; issue 28: long chains of terms,
constants each defined by the next, many variables, statements, properties and
configurations, each to check in under 10 s).

    .venv/bin/python bench/check_size.py --actions 1000,4000,16000
    .venv/bin/python bench/check_size.py --shapes all --sizes 50000

Each case runs ``fusever check`` in a child process with a time limit (``--limit``,
seconds): a case past it reads ``"seconds": null, "outcome": "over the limit"``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PRELUDE = "spec many\nconst W = 8\nvar x: u<W>\nvar b: bool\ninit { x := 0\n  b := false }\n"
STEP = "action a() { x := x + 1\n  b := !b }\n"


def generated(n: int) -> str:
    """A spec with ``n`` constants and ``n`` actions, each guarded by its constant."""
    lines = ["spec many", "const W = 8"]
    lines += [f"const K{i} = {i % 7}" for i in range(n)]
    lines += ["var x: u<W>", "var b: bool", "init { x := 0\n  b := false }"]
    lines += [f"action a{i}() when x != K{i} {{ x := x + K{i}\n  b := !b }}" for i in range(n)]
    lines += ["invariant p: x == x", "depth 3"]
    return "\n".join(lines) + "\n"


def const_chain(n: int) -> str:
    """``const C0 = C1 + 1``, ``const C1 = C2 + 1``, ... each defined by the next."""
    consts = "".join(f"const C{i} = C{i + 1} + 1\n" for i in range(n)) + f"const C{n} = 0\n"
    return PRELUDE + consts + STEP + "invariant p: C0 >= 0\n"


def plus_chain(n: int) -> str:
    """``1 + 1 + ...`` of ``n`` literal terms (left-associated: no nesting)."""
    return PRELUDE + STEP + "invariant p: " + " + ".join(["1"] * n) + " > 0\n"


def implies_chain(n: int) -> str:
    """``b ==> b ==> ...`` of ``n`` terms (right-associated)."""
    return PRELUDE + STEP + "invariant p: " + " ==> ".join(["b"] * n) + "\n"


def variables(n: int) -> str:
    """``n`` variables, each given its initial value."""
    decls = "".join(f"var v{i}: u8\n" for i in range(n))
    init = "".join(f"  v{i} := {i % 256}\n" for i in range(n))
    return f"spec many\n{decls}init {{\n{init}}}\naction a() {{ v0 := v0 + 1 }}\ninvariant p: v0 >= 0\n"


def statements(n: int) -> str:
    """One action of ``n`` statements."""
    body = "".join("  x := x + 1\n" for _ in range(n))
    return PRELUDE + f"action a() {{\n{body}}}\ninvariant p: x >= 0\n"


def properties(n: int) -> str:
    """``n`` invariants."""
    return PRELUDE + STEP + "".join(f"invariant p{i}: x != {i % 256} || b\n" for i in range(n))


def configs(n: int) -> str:
    """``n`` configurations, each setting the width."""
    return (
        PRELUDE
        + STEP
        + "invariant p: x >= 0\n"
        + "".join(f"config c{i} {{ set W = {i % 16 + 1} }}\n" for i in range(n))
    )


SHAPES: dict[str, Callable[[int], str]] = {
    "actions": generated,
    "const_chain": const_chain,
    "plus_chain": plus_chain,
    "implies_chain": implies_chain,
    "variables": variables,
    "statements": statements,
    "properties": properties,
    "configs": configs,
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(path: Path, limit: float) -> dict[str, object]:
    """Wall seconds and the child's CPU seconds (steadier on a shared machine)."""
    cpu = _cpu()
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fusever", "check", str(path)],
            capture_output=True, text=True, timeout=limit, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"seconds": None, "outcome": "over the limit"}
    seconds = round(time.perf_counter() - start, 3)
    outcome = "checked" if done.returncode == 0 else f"exit {done.returncode}"
    out: dict[str, object] = {
        "seconds": seconds, "cpu_seconds": round(_cpu() - cpu, 3), "outcome": outcome
    }  # fmt: skip
    if done.returncode != 0:
        out["stderr"] = done.stderr[-400:]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actions", default=None, help="comma-separated sizes (the actions shape)")
    ap.add_argument("--shapes", default="actions", help="comma-separated shapes, or all")
    ap.add_argument("--sizes", default="1000,4000", help="comma-separated sizes")
    ap.add_argument("--limit", type=float, default=60.0, help="seconds per case")
    args = ap.parse_args()
    shapes = list(SHAPES) if args.shapes == "all" else args.shapes.split(",")
    sizes = args.actions or args.sizes
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in shapes:
            for n in (int(x) for x in sizes.split(",")):
                path = Path(tmp) / f"{shape}{n}.fv"
                path.write_text(SHAPES[shape](n))
                row = {"shape": shape, "n": n, "bytes": path.stat().st_size}
                out.append(row | _time(path, args.limit))
    print(json.dumps({"check_size": out}, indent=1))


if __name__ == "__main__":
    main()
