"""Jobs on the workers of a Dask scheduler (``--scheduler ADDRESS``): :class:`DaskPool`.

The optional extra ``fusever[dask]`` brings Dask distributed; without it
:func:`connect` raises :class:`ClusterError` saying how to install it.

- **Who may run a job.**  Dask ships work as pickles: the scheduler and its workers
  are trusted parties.  A plain ``tcp://`` address that is not a loopback one is
  refused unless the user confirms it (``--allow-plain-tcp``); ``tls://`` uses Dask's
  security configuration (its certificates; docs/cluster.md).  Every worker must run
  the client's fusever: the same version, the same engine fingerprints
  (:func:`fusever.provenance.engine_fingerprint`, so no worker records a verdict with
  another engine's code) and the same code of the jobs themselves
  (:func:`identity`).  :func:`connect` refuses a cluster with a worker that differs,
  and each job checks its worker again (a worker that joins later).
- **What a job carries.**  Its arguments (a transition system is compiled on the
  client) and the texts of the spec files it reads, not paths: a worker needs only
  fusever installed.
- **How it runs.**  On the worker, each job runs in a process of its own, forked for
  it (:func:`_isolated`): Z3 in one process at a time, memory returned at its end,
  and a job whose future is cancelled (Ctrl-C on the client, or a client gone) is
  killed, so nothing keeps running on the workers.  A worker lost mid-job has the
  job run again elsewhere (the scheduler's own rescheduling); a job's process that
  dies is retried once.
- **Faults on the client.**  A scheduler that does not answer for
  :data:`LOST_AFTER` seconds stops the run with :class:`SchedulerLost`, an interrupt:
  what was decided stands, as with SIGINT.

Results go back to the client, which alone writes files.  Nothing here prints.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import ipaddress
import logging
import os
import pickle
import select
import shutil
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fusever.executor import POLL, Executor, Sink, SpecFiles, Status, Task

__all__ = [
    "INSTALL",
    "LOST_AFTER",
    "Cluster",
    "ClusterError",
    "DaskPool",
    "SchedulerLost",
    "WorkerRefused",
    "check_address",
    "connect",
    "identity",
]

_T = TypeVar("_T")

INSTALL = "pip install 'fusever[dask]'"
# seconds the client waits for a worker to join before it gives up (a scheduler alone)
WORKER_WAIT = 30.0
# seconds without the scheduler before the run stops (exit 3, what was decided kept)
LOST_AFTER = 10.0
# the modules whose code a job runs on a worker, beyond the engines' (what the
# fingerprints cover): the policy of regress, merges, explore and mutate
JOB_MODULES = ("cluster", "regression", "explore", "mutate")
# how often the progress line asks the scheduler what runs where
STATUS_EVERY = 1.0


class ClusterError(Exception):
    """The cluster cannot be used: Dask missing, an address refused, no scheduler or
    no worker there, or a worker that runs another fusever (a usage error, exit 2)."""


class WorkerRefused(ClusterError):
    """A worker runs another fusever than the client's (its message says how)."""


class SchedulerLost(KeyboardInterrupt):
    """The scheduler went away mid-run: the run stops as at an interrupt."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---- who may run a job --------------------------------------------------------------------


@functools.cache
def identity() -> tuple[tuple[str, str], ...]:
    """What a worker must share with the client: fusever's version, every engine's
    fingerprint (alone and with a merge check's module) and the digest of the jobs'
    own code (:func:`fusever.provenance.digest`: everything they import)."""
    from fusever import __version__
    from fusever.provenance import ENGINE_MODULES, MERGE_CHECK, digest, engine_fingerprint

    out = [("version", __version__)]
    for engine in sorted(ENGINE_MODULES):
        out.append((f"engine {engine}", engine_fingerprint(engine)))
        out.append((f"merges by {engine}", engine_fingerprint(engine, MERGE_CHECK)))
    h = hashlib.sha256()
    for m in JOB_MODULES:
        h.update(f"\0{digest(m)}".encode())
    out.append(("jobs' code", h.hexdigest()[:32]))
    return tuple(out)


def _identity() -> tuple[tuple[str, str], ...]:
    """:func:`identity`, as a worker runs it (by reference: the worker's own)."""
    return identity()


def differences(mine: Sequence[tuple[str, str]], theirs: Sequence[tuple[str, str]]) -> str:
    """What differs between the client's identity ``mine`` and a worker's, for a message."""
    a, b = dict(mine), dict(theirs)
    parts = [
        f"{k} {b.get(k, 'absent')[:12]} (the client's {a.get(k, 'absent')[:12]})"
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]
    return ", ".join(parts[:4]) + (f" and {len(parts) - 4} more" if len(parts) > 4 else "")


def _refusal(
    workers: Sequence[str],
    theirs: Sequence[tuple[str, str]],
    client: Sequence[tuple[str, str]] | None = None,
) -> str:
    """Why ``workers``, whose identity is ``theirs``, are refused by a client whose
    identity is ``client`` (this process's by default)."""
    ours = identity() if client is None else client
    return (
        f"refused worker(s) {', '.join(workers)}: another fusever than the client's runs there "
        f"({differences(ours, theirs)}), and no verdict may be decided by other code: "
        "install this fusever on every worker"
    )


def check_address(address: str, allow_plain: bool) -> None:
    """Refuse a plain (unencrypted, unauthenticated) connection to another machine
    unless ``allow_plain``: anyone who reaches it can run code on the client and the
    workers (Dask ships pickles).  ``tls://`` and ``wss://`` are encrypted;
    ``inproc://`` stays in this process."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    scheme = scheme.lower()
    if scheme in ("tls", "wss", "inproc"):
        return
    host = _host(rest)
    if allow_plain or _loopback(host):
        return
    raise ClusterError(
        f"--scheduler {address}: plain {scheme}:// to another machine is neither encrypted nor "
        "authenticated, and Dask runs what it is sent (pickles): use tls:// with certificates "
        "(docs/cluster.md), or confirm with --allow-plain-tcp on a network you trust"
    )


def _host(rest: str) -> str:
    """The host of ``host:port`` (``[v6]:port`` too)."""
    if rest.startswith("["):
        return rest[1 : rest.find("]")]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a[4][0]).is_loopback for a in found)


# ---- the client's side --------------------------------------------------------------------


@dataclass
class Cluster:
    """A connected scheduler: a :class:`fusever.executor.Runner` whose batches go to
    its workers.  ``lost``: why the scheduler was given up (set by a batch)."""

    address: str
    client: Any
    sink: Callable[[], Sink] | None = None
    lost: str | None = None
    workers: tuple[str, ...] = field(default=())

    @property
    def parallel(self) -> bool:
        return True

    def open(self, jobs: int) -> Executor:
        return DaskPool(self)


@contextlib.contextmanager
def connect(
    address: str, *, allow_plain: bool = False, sink: Callable[[], Sink] | None = None
) -> Iterator[Cluster]:
    """A :class:`Cluster` on the scheduler at ``address``, once at least one worker is
    there and every worker runs this fusever.  Raises :class:`ClusterError`."""
    check_address(address, allow_plain)
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"--scheduler needs Dask distributed: {INSTALL}") from None
    # Dask logs a lost connection with a traceback, from its own thread and after the
    # run too; fusever says what happened itself (SchedulerLost, ClusterError), so
    # this process's Dask log keeps to critical errors from now on
    for name in ("distributed", "distributed.client", "distributed.core"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    with _connected(distributed, address, sink) as c:
        yield c


@contextlib.contextmanager
def _connected(
    distributed: Any, address: str, sink: Callable[[], Sink] | None
) -> Iterator[Cluster]:
    security = distributed.Security()  # Dask's configuration: its files and environment
    if address.lower().startswith("tls://") and not (
        security.tls_ca_file and security.tls_client_cert
    ):
        raise ClusterError(
            f"--scheduler {address}: tls:// needs Dask's TLS configuration, the cluster's CA "
            "and this client's certificate and key (DASK_DISTRIBUTED__COMM__TLS__CA_FILE, "
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and ..._KEY, or "
            "~/.config/dask/distributed.yaml; docs/cluster.md)"
        )
    try:
        client = distributed.Client(address, timeout=10, set_as_default=False, security=security)
    except OSError as e:  # TimeoutError too
        raise ClusterError(f"--scheduler {address}: no scheduler answers there ({e})") from None
    except (ValueError, TypeError) as e:  # a security configuration that is wrong
        raise ClusterError(f"--scheduler {address}: {e}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise ClusterError(
                f"--scheduler {address}: no worker joined within {WORKER_WAIT:g} s"
            ) from None
        theirs = client.run(_identity)
        odd: dict[tuple[tuple[str, str], ...], list[str]] = {}
        for w, i in sorted(theirs.items()):
            got = tuple(tuple(x) for x in i)
            if got != identity():
                odd.setdefault(got, []).append(w)
        if odd:
            raise WorkerRefused("; ".join(_refusal(ws, i) for i, ws in odd.items()))
        yield Cluster(address, client, sink, workers=tuple(sorted(theirs)))
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)


class _DaskTask:
    __slots__ = ("future", "name")

    def __init__(self, future: Any, name: str) -> None:
        self.future = future
        self.name = name

    def result(self) -> Any:
        return self.future.result()

    def running(self) -> bool:
        return False


class DaskPool(Executor):
    """A batch of jobs on a :class:`Cluster`'s workers."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.where = cluster.address
        self.futures: list[Any] = []
        self._names: dict[str, str] = {}
        self._asked = 0.0
        self._last: Status | None = None

    def submit(
        self, fn: Callable[..., _T], *args: Any, name: str = "", files: SpecFiles = ()
    ) -> Task[_T]:
        key = f"fusever {name or getattr(fn, '__name__', 'job')} {uuid.uuid4().hex[:12]}"
        future = self.cluster.client.submit(
            _remote, fn, args, files, identity(), key=key, pure=False, retries=1
        )
        self.futures.append(future)
        self._names[key] = name
        return _DaskTask(future, name)

    def completed(self, tasks: Sequence[Task[_T]]) -> Iterator[Task[_T]]:
        pending = list(tasks)
        gone_since: float | None = None
        while pending:
            done = [t for t in pending if isinstance(t, _DaskTask) and t.future.done()]
            if any(t.future.status == "cancelled" for t in done):
                connected = self.cluster.client.status == "running"
                self._lost(
                    "it cancelled this run's jobs" if connected else "the connection is lost"
                )
            if self.cluster.client.status != "running":
                now = time.monotonic()
                gone_since = now if gone_since is None else gone_since
                if now - gone_since > LOST_AFTER:
                    self._lost(f"no answer for {LOST_AFTER:g} s")
            else:
                gone_since = None
            if done:
                pending = [t for t in pending if t not in done]
                yield from done
            else:
                time.sleep(POLL)

    def _lost(self, why: str) -> None:
        message = f"the scheduler at {self.cluster.address} went away: {why}"
        self.cluster.lost = message
        raise SchedulerLost(message)

    def cancel(self) -> None:
        with contextlib.suppress(Exception):
            self.cluster.client.cancel(self.futures, force=True)

    def status(self, tasks: Sequence[Task[Any]], finished: int, last: str = "") -> Status:
        """The workers, the jobs running there (by configuration) and those queued;
        asked of the scheduler at most every :data:`STATUS_EVERY` seconds."""
        now = time.monotonic()
        if self._last is not None and now - self._asked < STATUS_EVERY:
            s = self._last
            return Status(s.where, s.workers, finished, len(tasks), s.running, s.queued, last)
        self._asked = now
        client = self.cluster.client
        try:
            workers = len(client.scheduler_info().get("workers", {}))
            running_keys = {k for keys in client.processing().values() for k in keys}
        except Exception:  # the scheduler is slow or gone: completed() decides that
            workers, running_keys = 0, set()
        running = tuple(self._names[k] for k in sorted(running_keys) if k in self._names)
        open_ = sum(1 for t in tasks if isinstance(t, _DaskTask) and not t.future.done())
        self._last = Status(
            self.where, workers, finished, len(tasks), running, max(0, open_ - len(running)), last
        )
        return self._last


# ---- the worker's side --------------------------------------------------------------------


def _remote(
    fn: Callable[..., _T], args: tuple[Any, ...], files: SpecFiles, expected: tuple[Any, ...]
) -> _T:
    """A job on a worker: refused unless this worker runs the client's fusever, then
    run in a process of its own."""
    mine = identity()
    client: tuple[tuple[str, str], ...] = tuple((str(k), str(v)) for k, v in expected)
    if client != mine:
        raise WorkerRefused(_refusal([_worker_address()], mine, client))
    _warm()
    return _isolated(fn, args, files)


@functools.cache
def _warm() -> None:
    """The engines imported once in the worker's process, so that each job's forked
    process starts with them (as a local pool's worker keeps them between jobs)
    instead of importing Z3 and the engines again: seconds per job."""
    import fusever.engines  # noqa: F401


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "(not a Dask worker)"


def _cancelled() -> Callable[[], bool]:
    """Whether this job's future is cancelled or its worker is closing."""
    try:
        from distributed import get_worker
        from distributed.worker import thread_state  # type: ignore[attr-defined]

        worker = get_worker()
        key = thread_state.key
    except (ImportError, ValueError, AttributeError):
        return lambda: False

    def cancelled() -> bool:
        state = worker.state.tasks.get(key)
        closing = str(getattr(worker, "status", "")).split(".")[-1] in ("closing", "closed")
        return closing or state is None or state.state in ("cancelled", "released", "forgotten")

    return cancelled


class JobProcessDied(Exception):
    """A job's process ended without a result (killed, out of memory)."""


def _isolated(fn: Callable[..., _T], args: tuple[Any, ...], files: SpecFiles) -> _T:
    """``fn(*args)`` in a forked process, in a directory holding ``files`` when any;
    killed when the job is cancelled.  Its exception is raised here."""
    cancelled = _cancelled()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its result is what the tests compare
        os.close(r)
        _child(fn, args, files, w)
    os.close(w)
    chunks: list[bytes] = []
    killed = False
    try:
        while True:
            ready, _, _ = select.select([r], [], [], POLL)
            if ready:
                chunk = os.read(r, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            elif cancelled():
                killed = True
                break
    finally:
        os.close(r)
        if killed or not chunks:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if killed:
        raise JobProcessDied("cancelled")
    if not chunks:
        raise JobProcessDied(f"the job's process ended without a result (wait status {status})")
    kind, payload = pickle.loads(b"".join(chunks))
    if kind == "error":
        raise payload
    return payload  # type: ignore[no-any-return]


def _child(fn: Callable[..., Any], args: tuple[Any, ...], files: SpecFiles, w: int) -> None:
    """The job's process: runs it, writes ``("ok", result)`` or ``("error", exc)``
    pickled to ``w`` and exits."""
    try:
        from fusever.engines import child_process_setup

        child_process_setup()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        here = tempfile.mkdtemp(prefix="fusever-job-") if files else None
        try:
            if here is not None:
                for name, text in files:
                    target = Path(here) / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
                os.chdir(here)
            out: tuple[str, Any] = ("ok", fn(*args))
        finally:
            if here is not None:
                os.chdir("/")
                shutil.rmtree(here, ignore_errors=True)
    except BaseException as e:
        out = ("error", e)
    try:
        data = pickle.dumps(out)
    except Exception as e:
        data = pickle.dumps(("error", RuntimeError(f"a job's result could not be sent: {e!r}")))
    with contextlib.suppress(OSError):
        view = memoryview(data)
        while view:
            n = os.write(w, view)
            view = view[n:]
    os._exit(0)
