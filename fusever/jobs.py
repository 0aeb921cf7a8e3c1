"""Running many checks: in parallel processes, and stopped cleanly by a signal.

Shared by ``prove``, ``regress`` and ``merges``: :func:`parallel` runs one function on
each of many jobs, where a :class:`fusever.executor.Runner` says (this process, local
worker processes, or a Dask cluster's workers), with results in the jobs' order and
the progress in the runner's sink (the command line's status line, when a terminal
is attached); :func:`parallel_partial` ends at an interrupt
with the jobs finished so far; :func:`prove_all` is ``prove``'s run, an unfinished
spec's properties ``unknown (interrupted)``.  :func:`signals` makes SIGTERM stop a run
as SIGINT does, within a Z3 check too, so every worker is stopped and the command
exits 3 with what was decided.

The work itself is here as functions a worker process can run (:func:`prove`,
:func:`prove_certified`, :func:`check_merge`); they import the engines when called, so
importing this module runs no solver.  Nothing here prints but the status line.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from fusever.executor import Local, Runner, Sink, SpecFiles, Status, runner, sequential
from fusever.ts import TransitionSystem
from fusever.verdict import Interrupted, Options, Progress, Result, Verdict

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

    from fusever.engines import Outcome
    from fusever.merges import MergeCheck

__all__ = [
    "MergeJob",
    "Proved",
    "check_merge",
    "interrupted",
    "parallel",
    "parallel_partial",
    "prove",
    "prove_all",
    "prove_certified",
    "signals",
]

_A = TypeVar("_A")
_B = TypeVar("_B")

# a step merge to check: its name, the options and the `--set` overrides
MergeJob = tuple[str, Options, tuple[str, ...]]


# ---- the work a worker runs --------------------------------------------------------


def prove(
    ts: TransitionSystem, options: Options, progress: Callable[[Progress], None] | None = None
) -> tuple[Result, ...]:
    """The compiled explicit search (:func:`compiled`) where it is asked for, else
    :func:`fusever.deepen.prove`: the engines, and auto's bounded verdicts decided past
    the depth where runs end (imported when called)."""
    from fusever import cexplicit, deepen

    if options.engine == "explicit" and cexplicit.backend() == "c":
        return compiled(ts, options, progress).results
    return deepen.prove(ts, options, progress)


def prove_certified(ts: TransitionSystem, options: Options) -> Outcome:
    """:func:`fusever.engines.prove_certified` (imported when called), or the compiled
    explicit search (:func:`compiled`)."""
    from fusever import cexplicit, engines

    if options.engine == "explicit" and cexplicit.backend() == "c":
        return compiled(ts, options)
    return engines.prove_certified(ts, options)


def compiled(
    ts: TransitionSystem, options: Options, progress: Callable[[Progress], None] | None = None
) -> Outcome:
    """``--engine explicit --backend c``: what :func:`fusever.engines.run` does for the
    explicit engine, with the compiled search (:func:`fusever.cexplicit.explicit_search`;
    the Python one where C does not apply).  Here, not in engines: the engines' code is
    fingerprinted by the proof store, and this backend is opt-in."""
    from fusever import bmc, cexplicit, engines
    from fusever.job import Job

    job = Job.resolve(ts, options)
    found = cexplicit.explicit_search(job, progress)
    if job.cross_check:
        engines.cross_check(job.ts, found, bmc.run(job).results, job.bound)
    return engines.Outcome(found, ())


def _prove_in_worker(ts: TransitionSystem, options: Options) -> tuple[Result, ...]:
    return prove(ts, options)


def check_merge(ts: TransitionSystem, job: MergeJob) -> MergeCheck:
    """One step merge of ``ts``'s configuration checked (:func:`fusever.merges.check`)."""
    from fusever import merges

    name, options, sets = job
    return merges.check(ts.path, ts.config, name, options, sets)


# ---- runs of many jobs -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proved:
    """``prove``'s run: every property's result, in the specs' order, and whether an
    interrupt cut it short (the properties it left ``unknown (interrupted)``)."""

    results: tuple[Result, ...]
    interrupted: bool


def prove_all(work: Sequence[tuple[TransitionSystem, Options]], workers: int | Runner) -> Proved:
    """Check each spec with its options, in parallel processes when asked.  An
    interrupt ends the run with the specs finished, a cut spec's results decided
    before it, and ``unknown (interrupted)`` for the rest.  A ``ValueError`` (an
    engine that does not exist) is raised."""
    cut: list[tuple[Result, ...]] = []

    def partial(rs: tuple[Result, ...]) -> tuple[Result, ...]:
        cut.append(rs)
        return rs

    runs = parallel_partial(_prove_in_worker, work, workers, local=prove, partial=partial)
    results = tuple(
        r
        for (ts, options), rs in zip(work, runs, strict=True)
        for r in (rs if rs is not None else interrupted(ts, options))
    )
    return Proved(results, bool(cut) or any(r is None for r in runs))


def interrupted(ts: TransitionSystem, options: Options) -> tuple[Result, ...]:
    """``unknown (interrupted)`` for each property of a spec the run did not finish."""
    props = [p for p in ts.properties if options.properties is None or p.name in options.properties]
    bound = ts.depth if options.depth is None else options.depth
    return tuple(
        Result.about(
            ts,
            p,
            Verdict.UNKNOWN,
            engine=options.engine,
            seconds=0.0,
            bound=bound,
            reason="interrupted",
        )
        for p in props
    )


def parallel(
    work: Callable[[TransitionSystem, _A], _B],
    jobs: Sequence[tuple[TransitionSystem, _A]],
    workers: int | Runner,
    local: Callable[[TransitionSystem, _A, Callable[[Progress], None] | None], _B] | None = None,
    files: bool = False,
) -> list[_B]:
    """``work`` on each job, where ``workers`` says (a number of local processes, or a
    :class:`fusever.executor.Runner`); results in ``jobs``' order, with the progress
    in the runner's sink.  ``local``: ``work`` that also takes a progress callback,
    used when the jobs run in this process (the status line then follows each job's
    depth too).  ``files``: each job reads its spec's files (a worker on another
    machine gets their texts).  An interrupt stops every worker and is raised."""
    out = parallel_partial(work, jobs, workers, local, files=files)
    if any(o is None for o in out):
        raise KeyboardInterrupt
    return [o for o in out if o is not None]


def parallel_partial(
    work: Callable[[TransitionSystem, _A], _B],
    jobs: Sequence[tuple[TransitionSystem, _A]],
    workers: int | Runner,
    local: Callable[[TransitionSystem, _A, Callable[[Progress], None] | None], _B] | None = None,
    partial: Callable[[tuple[Result, ...]], _B] | None = None,
    files: bool = False,
) -> list[_B | None]:
    """:func:`parallel`, but an interrupt (SIGINT, or SIGTERM, see :func:`signals`;
    or a cluster's scheduler gone, :class:`fusever.cluster.SchedulerLost`) ends it
    with the jobs finished so far and None for the others; every job is cancelled
    first (a local worker process killed), so none outlives the run.  ``partial``:
    how a job's results decided before an interrupt
    (:class:`fusever.verdict.Interrupted`) stand for it."""
    run = runner(workers)
    view = run.sink() if run.sink is not None else None
    with view if view is not None else nullcontext():
        if view is not None and len(jobs) > 1:
            view.status(Status(str(getattr(run, "address", "local")), 0, 0, len(jobs)))
        if sequential(run, len(jobs)):
            done = _in_process(work, jobs, view, local, partial)
        else:
            done = _in_executor(work, jobs, run, view, partial, files)
        return [done.get(i) for i in range(len(jobs))]


def _in_process(
    work: Callable[[TransitionSystem, _A], _B],
    jobs: Sequence[tuple[TransitionSystem, _A]],
    view: Sink | None,
    local: Callable[[TransitionSystem, _A, Callable[[Progress], None] | None], _B] | None,
    partial: Callable[[tuple[Result, ...]], _B] | None,
) -> dict[int, _B]:
    """The jobs one after the other in this process, until an interrupt."""
    done: dict[int, _B] = {}
    i = 0
    try:
        for i, (ts, arg) in enumerate(jobs):
            if local is not None:
                done[i] = local(ts, arg, view.update if view else None)
            else:
                done[i] = work(ts, arg)
            if view:
                view.status(Status("local", 1, i + 1, len(jobs), last=ts.key))
    except KeyboardInterrupt as e:
        if partial is not None and isinstance(e, Interrupted):
            done[i] = partial(e.results)  # what the engine decided before it
    return done


def _in_executor(
    work: Callable[[TransitionSystem, _A], _B],
    jobs: Sequence[tuple[TransitionSystem, _A]],
    run: Runner,
    view: Sink | None,
    partial: Callable[[tuple[Result, ...]], _B] | None,
    files: bool,
) -> dict[int, _B]:
    """The jobs on the runner's executor (local worker processes or a cluster's
    workers), until an interrupt (which cancels them)."""
    done: dict[int, _B] = {}
    texts = _SpecTexts() if files and not isinstance(run, Local) else None
    try:
        with run.open(len(jobs)) as pool:
            tasks = []
            for ts, arg in jobs:
                if texts is not None:
                    moved, carried = texts.carried(ts)
                    tasks.append(pool.submit(work, moved, arg, name=_name(ts), files=carried))
                else:
                    tasks.append(pool.submit(work, ts, arg, name=_name(ts)))
            index = {id(t): i for i, t in enumerate(tasks)}
            if view:
                view.status(pool.status(tasks, 0))
            for task in pool.completed(tasks):
                try:
                    done[index[id(task)]] = task.result()
                except Interrupted as e:  # a worker stopped by SIGINT (Ctrl-C's group)
                    if partial is not None:
                        done[index[id(task)]] = partial(e.results)
                    raise
                if view:
                    view.status(pool.status(tasks, len(done), task.name))
    except KeyboardInterrupt:
        pass  # every job is cancelled: what finished is returned
    return done


def _name(ts: TransitionSystem) -> str:
    """A job's name in the progress line: its configuration's key."""
    return str(getattr(ts, "key", ""))


class _SpecTexts:
    """The spec files a job reads from disk, as texts it carries to a worker that has
    none (:func:`check_merge` loads the spec by its path): the spec's file, the files
    beside it and the library under ``spec/`` (where :mod:`fusever.load` looks for a
    variant's base), each named relative to this directory (or, outside it, under
    ``_abs/``); the job's system names its file so too."""

    def __init__(self) -> None:
        self.cache: dict[str, SpecFiles] = {}

    @staticmethod
    def _name(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(Path("_abs") / path.resolve().relative_to(path.resolve().anchor))

    def carried(self, ts: TransitionSystem) -> tuple[TransitionSystem, SpecFiles]:
        from fusever.load import SPEC_DIR, SUFFIX, discover

        path = Path(ts.path)
        if ts.path not in self.cache:
            paths = {path, *path.parent.glob(f"*{SUFFIX}")}
            if SPEC_DIR.is_dir():
                paths.update(discover(SPEC_DIR))
            self.cache[ts.path] = tuple(
                (self._name(p), p.read_text(encoding="utf-8")) for p in sorted(paths) if p.is_file()
            )
        return replace(ts, path=self._name(path)), self.cache[ts.path]


# ---- signals ---------------------------------------------------------------------


# While :func:`signals` is in force: a child forked then would inherit SIGTERM handled
# by this process's handler and its wakeup pipe, so a SIGTERM sent to that child before
# it reset them (auto's sides, started after the deadline, are stopped at once) would
# land in this process's pipe and read as this process's own SIGTERM: an interrupt
# nobody sent (issue 28).  SIGTERM is held while the fork happens and, in the child, both
# are reset before it is let through (a SIGTERM sent meanwhile then ends the child).
class _ForkGuard:
    active = False
    mask: ClassVar[set[int | signal.Signals]] = set()


def _before_fork() -> None:
    if _ForkGuard.active and threading.current_thread() is threading.main_thread():
        _ForkGuard.mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _after_fork_in_parent() -> None:
    if _ForkGuard.active and threading.current_thread() is threading.main_thread():
        signal.pthread_sigmask(signal.SIG_SETMASK, _ForkGuard.mask)


def _after_fork_in_child() -> None:
    if not _ForkGuard.active:
        return
    _ForkGuard.active = False
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with suppress(ValueError):
        signal.set_wakeup_fd(-1)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
)


def _interrupt_main_soon() -> None:
    time.sleep(0.05)
    _thread.interrupt_main()


@contextmanager
def signals() -> Iterator[None]:
    """SIGTERM stops a run as SIGINT does.  Python runs a signal handler only between
    bytecodes, so while Z3 solves (in C) SIGTERM would wait for the check to end; a
    watcher thread, woken through ``signal.set_wakeup_fd`` the moment a signal
    arrives, sends SIGINT, which Z3 turns into an interrupted check (and
    :func:`fusever.solvers.stop_if_interrupted` into a KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        old_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except ValueError:  # pragma: no cover - only the main thread may, checked above
        os.close(r)
        os.close(w)
        yield
        return
    old_term = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    _ForkGuard.active = True
    # a process started in the background by a non-interactive shell inherits SIGINT
    # ignored, and then neither Python nor the forwarding below would stop anything
    old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    old_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(old_hook)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(r, stop), name="fusever-signals", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        _ForkGuard.active = False
        stop.set()
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        sys.unraisablehook = old_hook
        with suppress(OSError):
            os.write(w, b"\0")
        watcher.join(timeout=1)
        os.close(w)
        os.close(r)


def _unraisable(
    old_hook: Callable[[UnraisableHookArgs], object],
) -> Callable[[UnraisableHookArgs], None]:
    """A KeyboardInterrupt raised inside a destructor (a Z3 term's ``__del__``) is
    printed as "Exception ignored" and lost: this hook raises it again in the main
    thread instead, and hands anything else to ``old_hook``."""

    def unraisable(u: UnraisableHookArgs) -> None:
        if u.exc_type is not None and issubclass(u.exc_type, KeyboardInterrupt):
            # from another thread, a moment later: here it would interrupt this hook
            # itself (and threading.Thread.start waits, so a raw thread)
            _thread.start_new_thread(_interrupt_main_soon, ())
            return
        old_hook(u)

    return unraisable


def _watch(r: int, stop: threading.Event) -> None:
    """The watcher thread: a SIGTERM's byte on the wakeup pipe ``r`` sends SIGINT."""
    while not stop.is_set():
        try:
            data = os.read(r, 64)
        except OSError:
            return
        if not data or stop.is_set():
            return
        if signal.SIGTERM in data:
            os.kill(os.getpid(), signal.SIGINT)
