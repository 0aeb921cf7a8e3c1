"""SIGINT and SIGTERM stop a run quickly: every worker process is gone, the results
decided so far are printed with `unknown (interrupted)` for the rest, exit 3."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _session(sid: int) -> list[int]:
    """Every live process of session ``sid`` (zombies excluded)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def _children_appear(pid: int, want: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if len(_session(pid)) >= want:
            return True
        time.sleep(0.1)
    return False


def _ignore_sigint() -> None:
    # what a non-interactive shell does to a command it starts in the background
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see the workers")
@pytest.mark.parametrize(
    ("sig", "argv", "background"),
    [
        (
            signal.SIGTERM,
            ["prove", "spec/fuse_v2.fv", "spec/fuse_v1.fv", "--config", "w64_free", "--jobs", "2"],
            False,
        ),
        (
            signal.SIGINT,
            # two free 64-bit starts, both read: explicit refuses, and auto's SMT side
            # runs in two workers (one free start is decided by the narrowed search
            # alone, before any worker starts)
            ["prove", "spec/fuse_v2.fv", "--config", "two_fuds_free", "--engine", "auto"],
            False,
        ),
        (
            signal.SIGINT,
            # two free 64-bit starts, both read: explicit refuses, and auto's SMT side
            # runs in two workers (one free start is decided by the narrowed search
            # alone, before any worker starts)
            ["prove", "spec/fuse_v2.fv", "--config", "two_fuds_free", "--engine", "auto"],
            True,
        ),
        (
            signal.SIGTERM,
            [
                "regress",
                "spec/fuse_v2.fv",
                "spec/fuse_v1.fv",
                "--jobs",
                "2",
                "--config",
                "four_writers",
                "--rerun",
            ],
            False,
        ),
        (
            signal.SIGINT,
            ["explore", "fuse_v2", "fuse_v1", "--config", "w64_free", "--jobs", "2", "--no-cache"],
            False,
        ),
    ],
    ids=[
        "prove-jobs-term",
        "prove-auto-int",
        "prove-auto-int-background",
        "regress-jobs-term",
        "explore-jobs-int",
    ],
)
def test_an_interrupt_stops_every_worker(
    sig: signal.Signals, argv: list[str], background: bool
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fusever", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ignore_sigint if background else None,
    )
    try:
        assert _children_appear(proc.pid, 3, 60), "the run never started its workers"
        time.sleep(1.0)  # solving
        start = time.monotonic()
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 5
    while _session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session(proc.pid) == [], "a worker outlived the run"
    assert proc.returncode == 3, (out, err)
    assert took < 10, took
    assert "Traceback" not in err, err
    assert "interrupted" in err
    if argv[0] == "prove":  # a row each, or (issue 28) one line for those not started
        assert "unknown (interrupted)" in out or "not started (interrupted)" in out
    if argv[0] == "explore":  # the matrix is printed, its unfinished rows unknown
        assert "fuse_v2" in out and "fuse_v1" in out, out


def _nap(ts: object, seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pytest.mark.parametrize("runner", ["jobs", "in_order"])
def test_a_flagged_interrupt_stops_a_wait_on_the_pool(runner: str) -> None:
    """``_thread.interrupt_main`` (what a KeyboardInterrupt lost in a destructor is
    turned into) only flags SIGINT and wakes no blocked wait; so is a SIGINT that lands
    between the main thread's last check and its wait.  The main thread waiting on its
    workers must see the flag at its next poll, not when a minute-long job ends
    (before, that was a run SIGTERM could not stop until a job finished)."""
    import _thread
    import threading

    from fusever import engines, jobs

    # as during a run (jobs.signals); an earlier test may have left SIGINT otherwise,
    # and interrupt_main does nothing unless Python handles SIGINT
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    try:
        if runner == "jobs":
            out = jobs.parallel_partial(_nap, [(None, 60.0), (None, 60.0)], 2)  # type: ignore[list-item]
            assert out == [None, None]
        else:
            got: list[float] = []
            with (
                pytest.raises(KeyboardInterrupt),
                engines.worker_pool(2) as pool,
            ):
                got.extend(engines.in_order(pool, _nap_one, [60.0, 60.0]))
            assert got == []
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
    assert time.monotonic() - start < 30  # not the jobs' minute


def _nap_one(seconds: float) -> float:
    return _nap(None, seconds)


def test_bmc_hands_over_what_it_decided_when_interrupted() -> None:
    from fusever import bmc, load
    from fusever.job import Job
    from fusever.verdict import Interrupted, Options, Verdict

    (ts,) = load.load_specs([ROOT / "docs" / "examples" / "counter.fv"])

    def progress(p: object) -> None:
        if getattr(p, "depth", 0) >= 9:  # the wrap at step 8 is found by then
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as e:
        bmc.run(Job.resolve(ts, Options(depth=20)), progress)
    got = {r.property: (r.verdict, r.reason) for r in e.value.results}
    assert got == {
        "no_wrap": (Verdict.VIOLATED, None),
        "counts_up": (Verdict.UNKNOWN, "interrupted"),
        "wraps": (Verdict.COVERED, None),
    }


EXAMPLES = ROOT / "docs" / "examples"


def _whole(tree: Path) -> list[str]:
    """Every file regress --record and explore write, read back: a proofs/ file must
    parse, a cache entry must be JSON; a leftover temporary file is a problem too."""
    import json

    from fusever import regress

    problems = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.parent == tree / "spec":
            continue
        text = path.read_text(encoding="utf-8")
        try:
            if path.name.endswith(".tmp"):
                problems.append(f"{path}: a temporary file left behind")
            elif path.parent.name == "proofs":
                regress.loads(text, str(path))
            elif path.suffix == ".json" or ".fusever-cache" in path.parts:
                json.loads(text)
        except Exception as e:  # any failure to read back is what this test looks for
            problems.append(f"{path}: {type(e).__name__}: {e}")
    return problems


@pytest.mark.parametrize(
    "argv",
    [
        ["regress", "--record", "--engine", "bmc", "--jobs", "2"],
        ["explore", "counter", "--jobs", "2", "--depth", "12"],
    ],
    ids=["regress-record", "explore"],
)
def test_an_interrupt_at_any_moment_leaves_every_file_whole(
    tmp_path: Path, argv: list[str]
) -> None:
    import random

    (tmp_path / "spec").mkdir()
    for name in ("counter.fv", "lost_update.fv"):
        (tmp_path / "spec" / name).write_text((EXAMPLES / name).read_text())
    # a variant, so explore has several rows; wider, so the runs take a moment
    (tmp_path / "spec" / "wide.fv").write_text(
        'variant wide of counter "a wider counter"\n'
        'config w5 "five bits" {\n    set W = 5\n    depth 34\n}\n'
    )

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "fusever", *argv], cwd=tmp_path, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip

    t0 = time.monotonic()
    first = start()
    out, err = first.communicate(timeout=300)
    whole_run = time.monotonic() - t0
    assert first.returncode in (0, 1), (out, err)
    assert _whole(tmp_path) == []
    rng = random.Random(7)  # the same moments every run
    for trial in range(4):
        if "explore" in argv:  # a cold cache, so the interrupt can fall in a write
            for p in (tmp_path / ".fusever-cache").rglob("*.json"):
                p.unlink()
        proc = start()
        time.sleep(rng.uniform(0.05, whole_run))
        os.kill(proc.pid, signal.SIGTERM if trial % 2 else signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        assert "Traceback" not in err, err
        assert _whole(tmp_path) == [], (trial, out, err)


def test_an_interrupt_while_the_command_line_is_imported_is_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import builtins

    from fusever import __main__

    real = builtins.__import__

    def interrupted(name: str, *args: object, **kwargs: object) -> object:
        if name == "fusever.cli":
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as e:
        __main__.run()
    assert e.value.code == 3
    assert capsys.readouterr().err == "fusever: interrupted\n"


def test_only_z3_finalizer_noise_is_dropped_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupt that reaches a Z3 object's __del__ at shutdown printed "Exception
    ignored ... Traceback" after a complete report (seen under load in the tests above);
    that is dropped, anything else still reaches Python's own hook."""
    import types

    import z3

    from fusever.__main__ import _quiet_solver_finalizers

    seen: list[object] = []
    monkeypatch.setattr(sys, "__unraisablehook__", seen.append)

    def unraisable(obj: object) -> object:
        return types.SimpleNamespace(
            object=obj, exc_type=AttributeError, exc_value=AttributeError("ctx"),
            exc_traceback=None, err_msg=None,
        )  # fmt: skip

    _quiet_solver_finalizers(unraisable(z3.AstRef.__del__))
    assert seen == []
    other = unraisable(_session)
    _quiet_solver_finalizers(other)
    assert seen == [other]
