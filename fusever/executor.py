"""Where many independent jobs run: one interface, :class:`Executor`.

(The process plumbing itself, :func:`fusever.engines.child_process_setup` and
:func:`fusever.engines.finished`, stays in :mod:`fusever.engines`: a merge check's
fingerprint covers everything :mod:`fusever.merges` imports, engines among them, so
moving code out of it would run every recorded merge check again.)

A job is a function of fusever's and its arguments (a transition system, options);
its result comes back to the client, which alone writes files.  Two implementations:

- :class:`LocalPool`: this machine's processes (:class:`concurrent.futures.ProcessPoolExecutor`),
  the default, with nothing to install;
- :class:`fusever.cluster.DaskPool`: the workers of a Dask scheduler (``--scheduler``,
  the optional extra ``fusever[dask]``).

Callers say where with a :class:`Runner`: a number of local processes
(:class:`Local`, what ``--jobs N`` means) or a connected cluster
(:class:`fusever.cluster.Cluster`); both open an :class:`Executor` for a batch of
jobs, and carry the progress sink the command line chose (:class:`Sink`), so that no
stage imports the report.  Every wait polls (:data:`POLL`), so that a signal stops a
run at once (see :func:`finished`), and an exception or an interrupt in the body of
``with executor:`` cancels every job: queued ones are dropped, running ones killed.

Nothing here runs a solver or prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from fusever.verdict import Progress

__all__ = [
    "POLL",
    "Executor",
    "Local",
    "LocalPool",
    "Runner",
    "Sink",
    "Status",
    "Task",
    "in_order",
    "runner",
    "sequential",
]

_A = TypeVar("_A")
_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)

# how long the main thread waits on jobs before it looks at signals again (as
# fusever.engines.finished does for the local pool)
POLL = 0.2

# the spec files a job reads from disk on its worker (a merge check loads its two
# forms from the spec's path): the path as the client names it, and the file's text
SpecFiles = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Status:
    """What a batch of jobs is doing, for the progress line: where it runs (``local``
    or the scheduler's address), the workers there, the jobs finished of the total,
    the names of those running (configuration keys), the number queued and the name
    of the last one finished."""

    where: str
    workers: int
    finished: int
    total: int
    running: tuple[str, ...] = ()
    queued: int = 0
    last: str = ""


class Sink(Protocol):
    """Where progress goes (the command line's status line, :class:`fusever.report.ProgressView`)."""

    def __enter__(self) -> Sink: ...

    def __exit__(self, *exc: object) -> None: ...

    def update(self, p: Progress) -> None:
        """One engine's progress (jobs run in this process)."""

    def status(self, s: Status) -> None:
        """A batch's progress."""


class Task(Protocol[_T_co]):
    """A submitted job."""

    @property
    def name(self) -> str: ...

    def result(self) -> _T_co:
        """Its result, or its exception raised; only once it is done."""
        ...

    def running(self) -> bool: ...


class Executor:
    """Jobs submitted, collected as they complete, cancelled.  Use as a context
    manager: leaving it by an exception (an interrupt) cancels every job."""

    where = "local"

    def submit(
        self, fn: Callable[..., _T], *args: Any, name: str = "", files: SpecFiles = ()
    ) -> Task[_T]:
        """Run ``fn(*args)``; ``name`` is shown in the progress line; ``files`` are the
        spec files the job reads (a worker on another machine has no copy)."""
        raise NotImplementedError

    def completed(self, tasks: Sequence[Task[_T]]) -> Iterator[Task[_T]]:
        """``tasks`` as they finish (in submission order among those that finish
        together), never blocking longer than :data:`POLL` without looking at signals."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Every job: the queued dropped, the running stopped."""
        raise NotImplementedError

    def status(self, tasks: Sequence[Task[Any]], finished: int, last: str = "") -> Status:
        raise NotImplementedError

    def close(self) -> None:
        """Wait for nothing: release what this executor holds."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.cancel()
        self.close()


class Runner(Protocol):
    """Where a command's jobs run, and where their progress goes."""

    @property
    def parallel(self) -> bool:
        """Whether batches go to an executor (else they run in this process)."""
        ...

    @property
    def sink(self) -> Callable[[], Sink] | None: ...

    def open(self, jobs: int) -> Executor:
        """An executor for a batch of ``jobs`` jobs."""
        ...


@dataclass(frozen=True, slots=True)
class Local:
    """``--jobs N``: N processes of this machine (one: the jobs run in this process)."""

    jobs: int = 1
    sink: Callable[[], Sink] | None = None

    @property
    def parallel(self) -> bool:
        return self.jobs > 1

    def open(self, jobs: int) -> Executor:
        return LocalPool(max(1, min(self.jobs, jobs)))


def runner(where: int | Runner) -> Runner:
    """A number of local processes (what ``--jobs`` says) as a :class:`Local` runner."""
    return Local(where) if isinstance(where, int) else where


# ---- this machine's processes ------------------------------------------------------------


class _LocalTask(Generic[_T]):
    __slots__ = ("future", "name")

    def __init__(self, future: Future[_T], name: str) -> None:
        self.future = future
        self.name = name

    def result(self) -> _T:
        return self.future.result()

    def running(self) -> bool:
        return self.future.running()


class LocalPool(Executor):
    """A process pool whose workers die with the run: cancelling kills them at once
    (``shutdown`` alone waits for the running jobs, which may solve for minutes), and
    each is set up by :func:`child_process_setup`."""

    def __init__(self, workers: int) -> None:
        from fusever.engines import child_process_setup

        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=child_process_setup)

    def submit(
        self, fn: Callable[..., _T], *args: Any, name: str = "", files: SpecFiles = ()
    ) -> Task[_T]:
        return _LocalTask(self.pool.submit(fn, *args), name)

    def completed(self, tasks: Sequence[Task[_T]]) -> Iterator[Task[_T]]:
        from fusever.engines import finished

        by_future = {t.future: (i, t) for i, t in enumerate(tasks) if isinstance(t, _LocalTask)}
        for future in finished({f: i for f, (i, _) in by_future.items()}):
            yield by_future[future][1]

    def cancel(self) -> None:
        for p in list((getattr(self.pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError):
                p.kill()

    def status(self, tasks: Sequence[Task[Any]], finished: int, last: str = "") -> Status:
        running = tuple(t.name for t in tasks if t.running())
        return Status("local", self.workers, finished, len(tasks), running, 0, last)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def in_order(
    pool: Executor,
    fn: Callable[[_A], _T],
    items: Iterable[_A],
    names: Callable[[_A], str] | None = None,
    sink: Sink | None = None,
) -> Iterator[_T]:
    """``fn`` on each of ``items`` in ``pool``, the results in ``items``' order, each
    one as soon as it and those before it are done (:func:`fusever.engines.in_order`
    on an :class:`Executor`); ``names`` names each job for ``sink``'s status line."""
    ready: dict[int, _T] = {}
    nxt = 0
    tasks = [pool.submit(fn, x, name=names(x) if names else "") for x in items]
    index = {id(t): i for i, t in enumerate(tasks)}
    if sink is not None:
        sink.status(pool.status(tasks, 0))
    for n, t in enumerate(pool.completed(tasks)):
        ready[index[id(t)]] = t.result()
        if sink is not None:
            sink.status(pool.status(tasks, n + 1, t.name))
        while nxt in ready:
            yield ready.pop(nxt)
            nxt += 1


def sequential(where: Runner, jobs: int) -> bool:
    """Whether a batch of ``jobs`` jobs runs in this process: one local process, or a
    single job (a cluster takes even one: its workers may be larger machines)."""
    return not where.parallel or (jobs <= 1 and isinstance(where, Local))
