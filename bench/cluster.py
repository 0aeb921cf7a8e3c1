"""Time `fusever regress --record` of one spec three ways, in one run; print JSON lines.

    .venv/bin/python bench/cluster.py                          # fuse_le, every configuration
    .venv/bin/python bench/cluster.py fuse_le --config default --config no_open
    .venv/bin/python bench/cluster.py --overhead     # the local pool's cost per job

1. the local pool, ``--jobs 2``;
2. a Dask scheduler on loopback with one ``dask worker --nthreads 1``, ``--scheduler``;
3. the same scheduler with a second worker.

Each records into a fresh copy of proofs/ in a temporary directory (the real proofs/ is
never written) without the step merges (``--no-merges``), and its files are compared
with the local pool's: ``same_bytes`` must be true.  One line per run (wall seconds,
the client's CPU seconds), then the cluster's start-up time.  No assertions: numbers
only (the figures are in docs/performance.md).  Needs ``pip install 'fusever[dask]'``.

``--overhead``: the local default's own cost, N trivial jobs through ``jobs.parallel``
on two processes (:class:`fusever.executor.LocalPool`) against a bare
``ProcessPoolExecutor.map`` of the same jobs (what the pool cost before the interface).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _record(tmp: Path, name: str, spec: str, configs: list[str], where: list[str]) -> Path:
    out = tmp / name
    shutil.copytree(ROOT / "proofs", out)
    argv = [sys.executable, "-m", "fusever", "regress", "--record", "--no-merges"]
    argv += ["--proofs", str(out), spec, *(x for c in configs for x in ("--config", c)), *where]
    wall, cpu = time.monotonic(), _children_cpu()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    line = {
        "run": name,
        "wall_s": round(time.monotonic() - wall, 2),
        "client_cpu_s": round(_children_cpu() - cpu, 2),
        "exit": done.returncode,
    }
    if done.returncode != 0:
        line["stderr"] = done.stderr[-2000:]
    print(json.dumps(line), flush=True)
    return out


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask(tmp: Path, name: str, *argv: str) -> subprocess.Popen[bytes]:
    log = (tmp / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *argv, "--no-dashboard"],
        cwd=tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _workers(address: str, n: int) -> None:
    import distributed

    with distributed.Client(address, timeout=60, set_as_default=False) as c:  # type: ignore[no-untyped-call]
        c.wait_for_workers(n, timeout=300)


def _echo(ts: object, x: int) -> int:
    return x


def _echo_one(x: int) -> int:
    return x


def overhead(n: int) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from fusever import jobs
    from fusever.executor import Local

    for _ in range(2):  # the second round: warm
        t = time.monotonic()
        with ProcessPoolExecutor(max_workers=2) as pool:
            bare = list(pool.map(_echo_one, range(n)))
        bare_s = time.monotonic() - t
        t = time.monotonic()
        ours = jobs.parallel(_echo, [(None, i) for i in range(n)], Local(2))  # type: ignore[misc]
        ours_s = time.monotonic() - t
    assert ours == bare
    print(json.dumps({
        "jobs": n, "bare_pool_s": round(bare_s, 3), "jobs_parallel_local_s": round(ours_s, 3),
        "per_job_ms": {"bare": round(1000 * bare_s / n, 3), "ours": round(1000 * ours_s / n, 3)},
        "load_average_1min": round(os.getloadavg()[0], 2),
    }))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("spec", nargs="?", default="fuse_le")
    ap.add_argument("--config", dest="configs", action="append", default=[])
    ap.add_argument("--overhead", type=int, nargs="?", const=400, metavar="N")
    args = ap.parse_args(argv)
    if args.overhead:
        overhead(args.overhead)
        return 0
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="fusever-bench-cluster-") as d:
        tmp = Path(d)
        try:
            local = _record(tmp, "local --jobs 2", args.spec, args.configs, ["--jobs", "2"])
            port = _port()
            address = f"tcp://127.0.0.1:{port}"
            start = time.monotonic()
            procs.append(
                _dask(tmp, "scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port))
            )
            time.sleep(1)
            procs.append(
                _dask(tmp, "w1", "worker", address, "--nthreads", "1", "--host", "127.0.0.1")
            )
            _workers(address, 1)
            up = time.monotonic() - start
            runs = {"local --jobs 2": local}
            for n in (1, 2):
                if n == 2:
                    procs.append(
                        _dask(
                            tmp, "w2", "worker", address, "--nthreads", "1", "--host", "127.0.0.1"
                        )
                    )
                    _workers(address, 2)
                name = f"dask, {n} worker(s)"
                runs[name] = _record(tmp, name, args.spec, args.configs, ["--scheduler", address])
            reference = _tree(local)
            print(json.dumps({
                "scheduler_and_one_worker_up_s": round(up, 2),
                "same_bytes": {k: _tree(v) == reference for k, v in runs.items()},
                "cpus": os.cpu_count(),
                "load_average_1min": round(os.getloadavg()[0], 2),
            }))  # fmt: skip
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
