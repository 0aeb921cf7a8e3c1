"""The compiled explicit engine: the explicit search of :mod:`fusever.explicit`, in C.

:func:`run` is :func:`fusever.explicit.run` with the search moved into a library
generated for the system (:mod:`fusever.cgen`) and compiled (:mod:`fusever.cload`):
the same system (:class:`~fusever.cgen.Folded`, the Python engine's analysis), the
same initial states (enumerated here, in Python), the same breadth-first levels, the
same order of successors and so the same parents, the same goal checks at the same
points, the same restarts (goals settled and a smaller cone of influence: the states
found so far mapped onto the smaller quotient, in C; a ghost order broken: from the
start without it).  So the results are the Python engine's: verdicts, shortest steps,
state and transition counts, completeness.  Each counterexample comes back as the
path of instances that reached it, and is replayed from its concrete initial state by
closures and then through :mod:`fusever.interpret`, as the Python engine's are.

The states live in C as packed bytes in an open-addressing hash set; Python holds one
handle per search.  Where C cannot run this system (no compiler, or ghost integer
arithmetic beyond 64 bits), :class:`Fallback` says why and the caller runs the Python
engine.  A compile error is :class:`~fusever.cload.CompileError`.  Nothing prints.
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from fusever import cgen, cload, interpret, narrow
from fusever.closures import OrderBroken, Unsupported
from fusever.deadness import Analysis
from fusever.explicit import (
    DEFAULT_STATE_LIMIT,
    ENGINE,
    ExplicitBug,
    ExplicitOutcome,
    _merged,
    _refused,
)
from fusever.explicit_system import Base
from fusever.job import Job
from fusever.ts import Property, PropKind, Step, Trace
from fusever.verdict import Progress, Result, Verdict

__all__ = ["BACKENDS", "BACKEND_ENV", "Fallback", "available", "backend", "explicit_search", "run"]

# the explicit engine's backends: the search in Python (the default), or compiled C
BACKENDS = ("python", "c")
# the backend, as the CLI's --backend sets it for this process and its workers (an
# environment variable: Options and Job are fingerprinted as they are)
BACKEND_ENV = "FUSEVER_EXPLICIT_BACKEND"


def backend() -> str:
    """The explicit engine's backend for this process: ``python`` unless set."""
    got = os.environ.get(BACKEND_ENV, "python")
    return got if got in BACKENDS else "python"


_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_I64P = ctypes.POINTER(ctypes.c_int64)
_SIGS: dict[str, tuple[object, list[object]]] = {
    "fv_new": (_P, [ctypes.c_int]),
    "fv_free": (None, [_P]),
    "fv_nslots": (ctypes.c_int, []),
    "fv_sbytes": (_I64, [_P]),
    "fv_err_code": (ctypes.c_int, []),
    "fv_broken_group": (ctypes.c_int, []),
    "fv_count": (_I64, [_P]),
    "fv_transitions": (_I64, [_P]),
    "fv_set_transitions": (None, [_P, _I64]),
    "fv_nsettled": (_I64, [_P]),
    "fv_hit": (None, [_P, _I64, _I64P]),
    "fv_parent": (ctypes.c_int32, [_P, _I64]),
    "fv_via": (ctypes.c_int32, [_P, _I64]),
    "fv_state": (None, [_P, _I64, _I64P]),
    "fv_add_initial": (_I64, [_P, _I64P]),
    "fv_check_initial": (None, [_P, _I64]),
    "fv_expand": (ctypes.c_int, [_P, _I64, _I64, ctypes.c_int32, _I64, _I64, ctypes.c_double]),
    "fv_project": (ctypes.c_int, [_P, _P, _P, _I64, _I64, ctypes.c_double, _I64P, _I64P]),
}
_LIMIT = (1 << 31) - 2  # parents are 32-bit


class Fallback(Exception):
    """The compiled engine does not run this system (the message says why, in one
    line): the caller runs the Python engine."""


def available() -> bool:
    """A C compiler is there."""
    return cload.compiler() is not None


class _Lib:
    """A compiled system's library: its functions, typed."""

    def __init__(self, source: str) -> None:
        self.dll, self.cached = cload.build(source)
        for name, (res, args) in _SIGS.items():
            f = getattr(self.dll, name)
            f.restype = res
            f.argtypes = args
        self.nslots = int(self.dll.fv_nslots())


@dataclass
class _Timing:
    generate: float = 0.0
    compile: float = 0.0
    compiled: int = 0  # libraries compiled (not from the cache)
    analysis: float = 0.0  # the systems' analysis (cgen.Folded)
    search: float = 0.0  # CPU seconds in the compiled search (levels and projections)
    project: float = 0.0  # of which mapping states onto a smaller quotient
    projected: int = 0  # states mapped


class _Restart(Exception):
    def __init__(self, results: dict[str, Result], search: _Search) -> None:
        super().__init__(len(results))
        self.results = results
        self.search = search


def run(
    job: Job,
    progress: Callable[[Progress], None] | None = None,
    *,
    bound: int | None = None,
    restart: bool = True,
    by_control: bool = True,
    project: bool = True,
    timing: _Timing | None = None,
) -> ExplicitOutcome:
    """:func:`fusever.explicit.run`, searched in C: the same arguments, the same
    outcome.  Raises :class:`Fallback` where C does not apply and
    :class:`~fusever.cload.CompileError` on a compile error."""
    if cload.compiler() is None:
        raise Fallback("no C compiler found: the Python explicit engine ran")
    timing = _Timing() if timing is None else timing
    if sys.getrecursionlimit() < cgen.RECURSION_LIMIT:  # the analyses recurse (as parse)
        sys.setrecursionlimit(cgen.RECURSION_LIMIT)
    start = time.monotonic()
    ts, props = job.ts, job.properties
    limit = DEFAULT_STATE_LIMIT if job.state_limit is None else job.state_limit
    limit = min(limit, _LIMIT)
    unordered: frozenset[int] = frozenset()
    settled: dict[str, Result] = {}
    left = tuple(props)
    visited = 0
    deadness: Analysis | None = None
    base: Base | None = None
    before: _Search | None = None
    try:
        while True:
            try:
                t_a = time.process_time()
                system = cgen.Folded(ts, left, unordered, by_control, deadness, base)
                timing.analysis += time.process_time() - t_a
                deadness, base = system.deadness, system.base

                def smaller(rest: tuple[Property, ...], now: cgen.Folded = system) -> bool:
                    return len(now.cone(rest)) + len(now.dead) < now.layout.size

                t0 = time.process_time()
                src = cgen.source(system)
                timing.generate += time.process_time() - t0
                t1 = time.monotonic()
                lib = _Lib(src)
                timing.compile += time.monotonic() - t1
                timing.compiled += not lib.cached
                search = _Search(
                    system, lib, start, job.deadline, limit, progress, bound,
                    smaller if restart else None, timing,
                )  # fmt: skip
                try:
                    out = search.run(before if project else None)
                finally:
                    if before is not None:
                        before.release()
                        before = None
                result = _merged(out, props, settled, visited - search.projected, project)
                search.release()
                return result
            except _Restart as r:
                settled.update(r.results)
                left = tuple(p for p in props if p.name not in settled)
                visited += r.search.count() - r.search.projected
                before = r.search
            except Unsupported as e:
                return _refused(ts, props, start, e)
            except OrderBroken as b:
                unordered = unordered | {b.group}
                if before is not None:
                    before.release()
                before = None
    finally:
        if before is not None:
            before.release()


class _Search:
    """explicit._Search, with the states in C."""

    def __init__(
        self,
        system: cgen.Folded,
        lib: _Lib,
        start: float,
        deadline: float | None,
        limit: int,
        progress: Callable[[Progress], None] | None,
        bound: int | None,
        smaller: Callable[[tuple[Property, ...]], bool] | None,
        timing: _Timing,
    ) -> None:
        self.sys, self.lib, self.ts = system, lib, system.ts
        self.timing = timing
        self.start, self.deadline, self.limit = start, deadline, limit
        self.progress, self.bound, self.smaller = progress, bound, smaller
        self.goals = system.cgoals
        ctx = lib.dll.fv_new(len(self.goals))
        if not ctx:
            raise MemoryError("the compiled search could not start")
        self.ctx: int | None = ctx
        self.concrete_init: dict[int, tuple[int, ...]] = {}
        self.found: dict[str, tuple[int, int, int]] = {}
        self.projected = 0
        self.initial = 0
        self.frontier = 0
        self.level = 0
        self.timed_out = False

    # -- the C side

    def count(self) -> int:
        return int(self.lib.dll.fv_count(self.ctx)) if self.ctx else 0

    def release(self) -> None:
        if self.ctx:
            self.lib.dll.fv_free(self.ctx)
            self.ctx = None

    def _sync(self) -> None:
        """The goals settled in C since the last look, into ``found``."""
        dll = self.lib.dll
        n = int(dll.fv_nsettled(self.ctx))
        buf = (ctypes.c_int64 * 4)()
        for k in range(len(self.found), n):
            dll.fv_hit(self.ctx, k, buf)
            g, state, inst, step = (int(x) for x in buf)
            self.found[self.goals[g].prop.name] = (state, inst, step)

    def _open(self) -> bool:
        """An open goal is still checked (explicit._Search's one, edges or post)."""
        for g in self.goals:
            if g.prop.name in self.found:
                continue
            if not g.prop.two_state or (g.check is not None) or g.post is not None:
                return True
        return False

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _deadline(self) -> float:
        return math.inf if self.deadline is None else self.deadline

    def _stopped(self) -> None:
        """fv_expand stopped: why."""
        err = int(self.lib.dll.fv_err_code())
        if err == 1:
            raise OrderBroken(int(self.lib.dll.fv_broken_group()))
        if err == 2:
            raise Fallback(
                "ghost integer arithmetic beyond 64 bits: the Python explicit engine ran"
            )
        raise MemoryError("the compiled search ran out of memory")

    # -- the search

    def run(self, before: _Search | None) -> ExplicitOutcome:
        if before is None or not self._project(before):
            self._initial_states()
            self.initial, self.frontier, self.level = self.count(), 0, 0
        if self.timed_out:
            return self._outcome("timeout", False, self.level)
        if not self.count():
            raise Unsupported("no initial state satisfies init")
        dll = self.lib.dll
        initial = self.initial
        level_start, level_end, level = self.frontier, self.count(), self.level
        stop = ""
        settled_before = len(self.found)
        while level_start < level_end and self._open():
            if self.bound is not None and level >= self.bound:
                stop = "bound"
                break
            if self.progress is not None:
                open_ = sum(
                    1 for g in self.goals if g.prop.name not in self.found and (
                        not g.prop.two_state or g.check is not None or g.post is not None)
                )  # fmt: skip
                self.progress(Progress(self.ts.name, level, self.elapsed(), open_))
            c0 = time.process_time()
            code = dll.fv_expand(
                self.ctx, level_start, level_end, level + 1, initial, self.limit, self._deadline()
            )
            self.timing.search += time.process_time() - c0
            self._sync()
            if code == 3:
                self._stopped()
            if code:
                stop = "timeout" if code == 1 else "state limit"
                break
            level_start, level_end, level = level_end, self.count(), level + 1
            self.frontier, self.level = level_start, level
            if len(self.found) > settled_before and self.smaller is not None:
                self._restart_if_smaller(self.smaller, level_start, level_end)
            settled_before = len(self.found)
        exhausted = not stop and level_start >= level_end
        return self._outcome(stop, exhausted, level)

    def _initial_states(self) -> None:
        dll = self.lib.dll
        n = self.lib.nslots
        buf = (ctypes.c_int64 * n)()
        one = any(not g.prop.two_state for g in self.goals)
        for canon, concrete in self.sys.initial(self.deadline):
            for j, x in enumerate(canon):
                buf[j] = x
            k = int(dll.fv_add_initial(self.ctx, buf))
            if k == -2:
                raise MemoryError("the compiled search ran out of memory")
            if k < 0:
                continue
            self.concrete_init[k] = concrete
            if one:
                dll.fv_check_initial(self.ctx, k)
        self._sync()
        self.timed_out = self.sys.timed_out

    def _project(self, before: _Search) -> bool:
        keys = [(inst.action, inst.args) for inst in self.sys.kept]
        if keys != [(inst.action, inst.args) for inst in before.sys.kept]:
            return False
        out = (ctypes.c_int64 * 3)()
        where = (ctypes.c_int64 * max(before.initial, 1))()
        src_state = ctypes.cast(before.lib.dll.fv_state, ctypes.c_void_p)
        c0 = time.process_time()
        code = self.lib.dll.fv_project(
            self.ctx, before.ctx, src_state, before.initial, before.frontier, self._deadline(),
            out, where,
        )  # fmt: skip
        self.timing.search += time.process_time() - c0
        self.timing.project += time.process_time() - c0
        self.timing.projected += before.count()
        if code:
            raise MemoryError("the compiled search could not map the states found")
        self.initial, self.frontier = int(out[0]), int(out[1])
        if out[2]:
            self.timed_out = True
        for o in range(before.initial):
            k = int(where[o])
            if k >= 0 and k not in self.concrete_init:
                self.concrete_init[k] = before.concrete_init[o]
        self.level, self.projected = before.level, self.count()
        before.release()
        return True

    def _restart_if_smaller(
        self, smaller: Callable[[tuple[Property, ...]], bool], level_start: int, level_end: int
    ) -> None:
        rest = tuple(g.prop for g in self.goals if g.prop.name not in self.found)
        if rest and level_start < level_end and smaller(rest):
            by_name = {g.prop.name: g.prop for g in self.goals}
            done = {n: self._found(by_name[n], *h) for n, h in self.found.items()}
            raise _Restart(done, self)

    def _outcome(self, stop: str, exhausted: bool, level: int) -> ExplicitOutcome:
        sysm = self.sys
        results: list[Result] = []
        states = self.count()
        transitions = int(self.lib.dll.fv_transitions(self.ctx))
        count = f"{states} states, {transitions} transitions"
        for g in self.goals:
            p = g.prop
            hit = self.found.get(p.name)
            if hit is not None:
                results.append(self._found(p, *hit))
                continue
            if exhausted:
                verdict = Verdict.UNREACHABLE if p.kind is PropKind.COVER else Verdict.PROVED
                results.append(Result.about(
                    self.ts, p, verdict, engine=ENGINE, seconds=self.elapsed(), bound=max(level - 1, 0),
                    complete=True, reason=f"reachable set exhausted: {count}",
                ))  # fmt: skip
                continue
            if stop == "bound":
                verdict = Verdict.UNREACHABLE if p.kind is PropKind.COVER else Verdict.PROVED
                results.append(Result.about(
                    self.ts, p, verdict, engine=ENGINE, seconds=self.elapsed(), bound=level,
                    reason=f"every state within {level} steps checked: {count}",
                ))  # fmt: skip
                continue
            why = "timeout" if stop == "timeout" else f"state limit {self.limit} passed"
            unbounded = [n for n in sysm.notes if "kept as values" in n]
            if stop != "timeout" and unbounded:
                why += f"; {unbounded[0]}, so the state space may be infinite"
            results.append(Result.about(
                self.ts, p, Verdict.UNKNOWN, engine=ENGINE, seconds=self.elapsed(),
                bound=max(level - 1, 0), reason=f"{why} (every state within {max(level - 1, 0)} steps checked; {count})",
            ))  # fmt: skip
        return ExplicitOutcome(
            tuple(results), states, transitions, level, self.elapsed(), exhausted,
            tuple(sysm.notes),
        )  # fmt: skip

    def _path(self, n: int) -> list[int]:
        dll = self.lib.dll
        out: list[int] = []
        while (p := int(dll.fv_parent(self.ctx, n))) >= 0:
            out.append(int(dll.fv_via(self.ctx, n)))
            n = p
        out.append(n)
        return out[::-1]

    def _found(self, p: Property, n: int, last: int, step: int) -> Result:
        """explicit._Search._found: the path to state ``n`` (then instance ``last``)
        replayed from its concrete initial state, then through the interpreter."""
        sysm = self.sys
        path = self._path(n)
        root, moves = path[0], path[1:] + ([last] if last >= 0 else [])
        cur: list[int] = list(self.concrete_init[root])
        lay = sysm.layout
        steps = [Step(None, (), lay.decode(cur))]
        for i in moves:
            inst = sysm.kept[i]
            nxt = sysm.replay_step(i, cur)
            if nxt is None:
                raise ExplicitBug(
                    f"{self.ts.name}: {inst.action} is not enabled on the concrete trace"
                )
            steps.append(Step(inst.action, inst.args, lay.decode(nxt)))
            cur = nxt
        trace = Trace(tuple(steps))
        if len(trace) - 1 != step:
            raise ExplicitBug(
                f"{self.ts.name}: {p.name}: a trace of {len(trace) - 1} steps for step {step}"
            )
        try:
            instance = interpret.replay(self.ts, trace, p)
        except interpret.ReplayError as e:
            raise ExplicitBug(
                f"{self.ts.name}: the trace for {p.name} at step {step} does not replay: {e}"
            ) from e
        verdict = Verdict.COVERED if p.kind is PropKind.COVER else Verdict.VIOLATED
        return Result.about(
            self.ts, p, verdict, engine=ENGINE, seconds=self.elapsed(), bound=step, step=step,
            trace=trace, instance=instance,
        )  # fmt: skip


def explicit_search(
    job: Job, progress: Callable[[Progress], None] | None = None, bound: int | None = None
) -> tuple[Result, ...]:
    """:func:`fusever.narrow.explicit_search` with the compiled search: where it is
    refused for a free start of a wide counter, the narrowed system's search, its
    traces lifted and replayed.  Where C does not apply (:class:`Fallback`), the
    Python engine's results, each reason saying so (no compiler: the caller says it
    once instead)."""
    try:
        return _search(job, progress, bound)
    except Fallback as e:
        out = narrow.explicit_search(job, progress, bound)
        if not available():
            return out
        return tuple(
            dataclasses.replace(r, reason=f"{r.reason}; {e}" if r.reason else str(e)) for r in out
        )


def _search(
    job: Job, progress: Callable[[Progress], None] | None, bound: int | None
) -> tuple[Result, ...]:
    start = time.monotonic()
    out = run(job, progress, bound=bound).results
    if not narrow.refused(out) or narrow.wide_free(job.ts) is None:
        return out
    n = narrow.plan(job.ts, None, job.deadline)
    if n is None:
        return out
    nts = n.system
    njob = dataclasses.replace(
        job, ts=nts, properties=tuple(nts.property(p.name) for p in job.properties)
    )
    why = f"{n.text()}: an offset bisimulation, checked"
    checked = time.monotonic() - start
    return tuple(
        dataclasses.replace(
            narrow.lifted(n, job.ts, r),
            seconds=round(r.seconds + checked, 3),
            reason=f"{r.reason}, {why}" if r.reason else r.reason,
        )
        for r in run(njob, progress, bound=bound).results
    )
