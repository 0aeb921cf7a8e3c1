"""``--scheduler``: the checks on a Dask cluster decide what the local pool decides,
byte for byte, and a cluster's faults stop or heal a run as docs/cluster.md says.

Dask is in the test extra (CI installs it): these tests fail, never skip, without it.
The clusters are on loopback: an in-process ``LocalCluster`` (2 worker processes), and
a real ``dask scheduler`` with two ``dask worker`` processes started in an empty
directory (so a job that reads a spec must carry its text), stopped at the end."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import distributed
import pytest

from fusever import cli, cluster, jobs, load
from fusever.executor import Local
from fusever.verdict import Engine, Options, Result

ROOT = Path(__file__).resolve().parent.parent
SPECS = ("fuse_le", "fuse_pre")  # regress --record --config default of these: a few seconds each
UP = 120.0  # seconds a cluster may take to start on a busy machine


def _fusever(*argv: str) -> list[str]:
    return [sys.executable, "-m", "fusever", *argv]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Real:
    """A ``dask scheduler`` and its ``dask worker`` processes (each in a session of
    its own, so that stopping one stops what it started)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]

    def client(self) -> distributed.Client:
        return distributed.Client(self.address, timeout=30, set_as_default=False)  # type: ignore[no-untyped-call]


def _start(tmp: Path, workers: int) -> Real:
    tmp.mkdir(parents=True, exist_ok=True)
    empty = tmp / "empty"  # the workers' directory: no spec/ there
    empty.mkdir(exist_ok=True)
    address = f"tcp://127.0.0.1:{_port()}"

    def spawn(name: str, *argv: str) -> subprocess.Popen[bytes]:
        log = (tmp / f"{name}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *argv, "--no-dashboard"],
            cwd=empty, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    port = address.rsplit(":", 1)[1]
    sched = spawn("scheduler", "scheduler", "--host", "127.0.0.1", "--port", port)
    real = Real(address, sched, [])
    try:
        end = time.monotonic() + UP
        while time.monotonic() < end:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", int(port))) == 0:
                    break
            time.sleep(0.2)
        for i in range(workers):
            real.workers.append(
                spawn(f"worker{i}", "worker", address, "--nthreads", "1", "--host", "127.0.0.1")
            )
        with real.client() as c:
            c.wait_for_workers(workers, timeout=UP)
    except BaseException:
        _stop(real)
        raise
    return real


def _stop(real: Real) -> None:
    procs = [*real.workers, real.scheduler]
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    r = _start(tmp_path_factory.mktemp("cluster"), 2)
    try:
        yield r
    finally:
        _stop(r)


@pytest.fixture(scope="module")
def local_record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``regress --record --config default`` of :data:`SPECS` by the local pool
    (``--jobs 2``), into a copy of proofs/."""
    out = tmp_path_factory.mktemp("local") / "proofs"
    shutil.copytree(ROOT / "proofs", out)
    done = _record(out)
    assert done.returncode == 0, done.stderr
    return out


def _record(proofs: Path, *where: str) -> subprocess.CompletedProcess[str]:
    argv = ["regress", "--record", "--config", "default", "--proofs", str(proofs), *SPECS]
    return subprocess.run(
        _fusever(*argv, *(where or ("--jobs", "2"))),
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _timeless(rs: tuple[Result, ...]) -> tuple[Result, ...]:
    return tuple(replace(r, seconds=0.0) for r in rs)


# ---- no cluster needed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tcp://localhost:8786", "tcp://[::1]:8786",
                "tls://10.0.0.7:8786", "inproc://x"],
)  # fmt: skip
def test_loopback_and_tls_addresses_are_accepted(address: str) -> None:
    cluster.check_address(address, allow_plain=False)


def test_plain_tcp_to_another_machine_is_refused_unless_confirmed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = cli.main(["prove", "spec/fuse_le.fv", "--scheduler", "tcp://10.0.0.7:8786"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert "--allow-plain-tcp" in err and "tls://" in err and "Traceback" not in err
    # the environment variable is --scheduler's default
    monkeypatch.setenv("FUSEVER_SCHEDULER", "10.0.0.7:8786")
    assert cli.main(["merges", "fuse_le", "--config", "default"]) == cli.EXIT_USAGE
    assert "--allow-plain-tcp" in capsys.readouterr().err
    cluster.check_address("tcp://10.0.0.7:8786", allow_plain=True)


def test_tls_without_certificates_says_what_to_configure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("CA_FILE", "CLIENT__CERT", "CLIENT__KEY"):
        monkeypatch.delenv(f"DASK_DISTRIBUTED__COMM__TLS__{var}", raising=False)
    code = cli.main(["prove", "spec/fuse_le.fv", "--scheduler", "tls://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE, err
    assert "DASK_DISTRIBUTED__COMM__TLS__CA_FILE" in err and "Traceback" not in err


def test_the_status_line_shows_the_cluster() -> None:
    from fusever import report
    from fusever.executor import Status

    running = ("fuse_v2.w4", "fuse_v1.w4", "fuse_le.w4")
    s = Status("tls://h:8786", 3, 4, 10, running, 3, "fuse_v2")
    text = report.status_text(s, 12.0)
    assert text.startswith("tls://h:8786: 3 worker(s), 3 running, 3 queued | [")
    assert "4/10" in text and "running fuse_v2.w4, fuse_v1.w4, 1 more" in text
    assert "last fuse_v2" in text
    # the local pool's line is as before
    assert report.status_text(replace(s, where="local"), 12.0) == report.progress_text(
        4, 10, 12.0, "fuse_v2", ("fuse_v2.w4", "fuse_v1.w4", "1 more")
    )


def test_without_dask_scheduler_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    code = cli.main(["regress", "fuse_le", "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert "pip install 'fusever[dask]'" in err and "Traceback" not in err


def test_a_worker_with_other_code_refuses_the_job() -> None:
    other = tuple((k, "0" * 32 if k == "engine bmc" else v) for k, v in cluster.identity())
    with pytest.raises(cluster.WorkerRefused, match=r"another fusever .*engine bmc"):
        cluster._remote(sum, ([1, 2],), (), other)
    assert cluster._remote(sum, ([1, 2],), (), cluster.identity()) == 3  # in a forked process


# ---- an in-process LocalCluster ------------------------------------------------------------


def test_a_local_cluster_decides_as_the_local_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    systems = load.load_specs([ROOT / "spec" / f"{s}.fv" for s in SPECS])
    work = [(ts, Options(engine=Engine.EXPLICIT)) for ts in systems]
    here = jobs.prove_all(work, Local(2))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as lc,
        cluster.connect(lc.scheduler_address) as c,
    ):
        assert len(c.workers) == 2
        there = jobs.prove_all(work, c)
        assert not there.interrupted
        assert _timeless(there.results) == _timeless(here.results)
        # a worker whose fusever differs (here: the client's identity altered) is refused
        mine = cluster.identity()
        monkeypatch.setattr(cluster, "identity", lambda: (*mine[:-1], ("jobs' code", "x")))
        with (
            pytest.raises(cluster.WorkerRefused, match=r"refused worker\(s\) tcp://.*jobs' code"),
            cluster.connect(lc.scheduler_address),
        ):
            pass


# ---- a real scheduler and two worker processes ----------------------------------------------


def test_regress_record_on_a_cluster_writes_the_local_pools_bytes(
    real: Real, local_record: Path, tmp_path: Path
) -> None:
    out = tmp_path / "proofs"
    shutil.copytree(ROOT / "proofs", out)
    done = _record(out, "--scheduler", real.address)
    assert done.returncode == 0, done.stderr
    assert _tree(out) == _tree(local_record)


def test_merge_checks_carry_their_spec_texts(real: Real, tmp_path: Path) -> None:
    """The workers run in an empty directory: a merge check loads its spec's two forms
    from the texts the job carries (here a variant and its base, from a directory of
    their own), and its check is the local one's.  (lookup_lock changes nothing in
    fuse_le's default configuration: its check compares the two forms without a
    solver, so this stays quick; regress --record's merge checks are the same calls.)"""
    mine = tmp_path / "specs"
    mine.mkdir()
    for name in ("fuse_le", "fuse_v2"):
        shutil.copy(ROOT / "spec" / f"{name}.fv", mine)
    argv = ["merges", str(mine / "fuse_le.fv"), "--config", "default", "--merge", "lookup_lock"]

    def table(*where: str) -> str:
        done = subprocess.run(
            _fusever(*argv, *where), cwd=ROOT, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return re.sub(r" +\d+\.\d+$", "", done.stdout, flags=re.M)  # the seconds column

    there = table("--scheduler", real.address)
    assert "fuse_le  lookup_lock  unused" in there
    assert there == table("--jobs", "2")


def _running(client: distributed.Client, seconds: float) -> dict[str, tuple[str, ...]]:
    """The workers running a job of ours, once one does."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        busy = {w: ks for w, ks in client.processing().items() if ks}
        if busy:
            return busy
        time.sleep(0.2)
    raise AssertionError("no job started on the cluster")


def test_a_killed_worker_s_job_runs_again_with_the_same_result(
    real: Real, local_record: Path, tmp_path: Path
) -> None:
    out = tmp_path / "proofs"
    shutil.copytree(ROOT / "proofs", out)
    argv = ["regress", "--record", "--config", "default", "--proofs", str(out), *SPECS]
    with real.client() as client:
        run = subprocess.Popen(
            _fusever(*argv, "--scheduler", real.address),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            victim = sorted(_running(client, UP))[0]
            pid = client.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)  # the worker process (its nanny starts another)
            _, err = run.communicate(timeout=600)
        finally:
            if run.poll() is None:
                run.kill()
        assert run.returncode == 0, err
        assert _tree(out) == _tree(local_record)
        client.wait_for_workers(2, timeout=UP)  # the nanny's new worker, for the tests after


def _job_processes(client: distributed.Client) -> int:
    """The processes the workers' jobs run in (each worker's children)."""
    import psutil

    counts = client.run(lambda: len(psutil.Process().children()))
    return sum(counts.values())


def test_ctrl_c_cancels_the_cluster_s_jobs(real: Real) -> None:
    argv = ["prove", "spec/fuse_v2.fv", "--config", "four_writers", "--engine", "explicit"]
    with real.client() as client:
        before = _job_processes(client)
        run = subprocess.Popen(
            _fusever(*argv, "--scheduler", real.address),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _running(client, UP)
            # the job's own process (forked once the worker has checked its identity,
            # which may be a moment after the scheduler counts the job as running)
            started = time.monotonic() + UP
            while _job_processes(client) <= before:
                assert time.monotonic() < started, "the job's process never started"
                time.sleep(0.2)
            run.send_signal(signal.SIGINT)
            out, err = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
        assert run.returncode == cli.EXIT_UNKNOWN, err
        assert "unknown (interrupted)" in out and "Traceback" not in err
        end = time.monotonic() + 30
        while (client.processing() and any(client.processing().values())) or _job_processes(
            client
        ) > before:
            assert time.monotonic() < end, "a job still runs on the cluster after Ctrl-C"
            time.sleep(0.2)


def test_a_lost_scheduler_stops_the_run_with_exit_3(tmp_path: Path) -> None:
    mortal = _start(tmp_path, 1)
    try:
        argv = ["prove", "spec/fuse_v2.fv", "--config", "four_writers", "--engine", "explicit"]
        run = subprocess.Popen(
            _fusever(*argv, "--scheduler", mortal.address),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            with mortal.client() as client:
                _running(client, UP)
            os.killpg(mortal.scheduler.pid, signal.SIGKILL)
            out, err = run.communicate(timeout=cluster.LOST_AFTER + 60)
        finally:
            if run.poll() is None:
                run.kill()
        assert run.returncode == cli.EXIT_UNKNOWN, err
        assert f"the scheduler at {mortal.address} went away" in err
        assert "unknown (interrupted)" in out and "Traceback" not in err
    finally:
        _stop(mortal)
