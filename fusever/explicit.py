"""Explicit-state model checking: breadth-first over the reachable states.

For a configuration whose initial states can be enumerated (every free initial
location of a finite type or a narrow bit-vector), :func:`run` visits the reachable
states level by level and checks every selected invariant, transition property and
cover goal of the configuration in that single pass.  A goal first failing (or
covered) at level ``n`` has no shorter trace: the trace returned is a shortest one,
and it is replayed through :mod:`fusever.interpret` before it is returned.  When the
reachable set is exhausted, whatever still holds is ``proved (all depths)``: the
state count is the certificate.

The successor function is built once from the transition system
(:mod:`fusever.explicit_system`): each action instance (enumerated parameters fixed)
is generated as Python code over a state held as a flat tuple of small integers, one
slot per location (:mod:`fusever.codegen` on :mod:`fusever.layout`), with the
constants folded, the quantifiers and ``for all`` loops unrolled and the instances
whose guard folds to false dropped; each successor is made canonical in line, by
code generated the same way.  No spec text is evaluated.  Two reductions map
each state to a canonical one, so the reduced search reaches the same verdicts at the
same depths: the locations outside the goals' cone of influence are reset
(:mod:`fusever.liveness`), and ghost integers are kept as their relative order
(:mod:`fusever.ghosts`).  When that order is broken (an increment of a value that is
not its group's largest), the search starts again without normalising that group;
when goals are settled and the goals left have a smaller cone of influence, it goes on
without them: every state found so far is mapped onto the smaller quotient (its
canonical form there), and the search continues from the last level's.

What the engine refuses (an ``unknown`` result that says why): a free initial value
of a wide type (a 64-bit counter's free start, a free ghost integer), a ``choose`` of
such a type, too many initial states; past the state limit or the deadline, every
open goal is ``unknown``.  Nothing prints: progress goes to the caller's callback.

References: Holzmann, "The SPIN Model Checker", ch. on state compression and dead
variable reduction; Clarke, Grumberg, Peled, "Model Checking", ch. 2 (explicit-state
search).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from fusever import interpret
from fusever.closures import Fn, OrderBroken, Unsupported
from fusever.explicit_system import CHECK_EVERY, System
from fusever.job import Job
from fusever.layout import S
from fusever.ts import Property, PropKind, Step, Trace, TransitionSystem
from fusever.verdict import Progress, Result, Verdict

__all__ = [
    "DEFAULT_STATE_LIMIT",
    "ENGINE",
    "ExplicitBug",
    "ExplicitOutcome",
    "Unsupported",
    "compile_system",
    "run",
]

ENGINE = "explicit"
DEFAULT_STATE_LIMIT = 4_000_000  # the four_writers of fuse_v1, v2 and wrapsafe: 3,031,951


class ExplicitBug(Exception):
    """A trace the interpreter does not replay: a bug in this engine, never a finding."""


class _Restart(Exception):
    """Goals settled, and without them more locations are dead: go on without them,
    from ``search``'s states mapped onto the smaller quotient."""

    def __init__(self, results: dict[str, Result], search: _Search) -> None:
        super().__init__(len(results))
        self.results = results
        self.search = search


@dataclass(frozen=True, slots=True)
class ExplicitOutcome:
    results: tuple[Result, ...]
    states: int  # distinct (canonical) states visited
    transitions: int  # steps taken from them
    levels: int  # breadth-first levels completed (the longest shortest path)
    seconds: float
    exhausted: bool  # the reachable set was exhausted
    reductions: tuple[str, ...]  # what was reduced, in words
    visited: int = 0  # states visited by every search (restarts included)


def compile_system(ts: TransitionSystem, props: Sequence[Property] | None = None) -> System:
    """The compiled successor function of ``ts`` (for benchmarks and tests)."""
    return System(ts, ts.properties if props is None else props)


def run(
    job: Job,
    progress: Callable[[Progress], None] | None = None,
    *,
    bound: int | None = None,
    restart: bool = True,
    by_control: bool = True,
    project: bool = True,
) -> ExplicitOutcome:
    """Search the reachable states of the job's system breadth-first; one Result per
    property of the job, in spec order.  The job's bound is not a bound here: the
    search goes on until the reachable set is exhausted, every goal is settled, the
    job's state limit (default :data:`DEFAULT_STATE_LIMIT`) or its deadline.  With
    ``bound`` (auto passes the user's ``--depth``) it stops
    after the states ``bound`` steps away (as BMC to that depth: what holds there is
    proved within ``bound`` steps, not complete, unless the set was exhausted first).

    With ``restart``, when goals are settled at a level and the goals left have a
    smaller cone of influence (what only the settled ones read is dead), the search
    goes on without them: their results stand (shortest, replayed), and the rest are
    decided on the smaller quotient, with the same verdicts and steps.  The states
    found so far are mapped onto that quotient (each one's canonical form there) and
    the search continues from the last level's; without ``project`` it starts again
    from the initial states instead (for tests that compare the two).  Without
    ``by_control``, locations are not reset where their control locations make them
    dead (:mod:`fusever.deadness`): for tests that compare the two."""
    start = time.monotonic()
    ts, props = job.ts, job.properties
    limit = DEFAULT_STATE_LIMIT if job.state_limit is None else job.state_limit
    unordered: frozenset[int] = frozenset()
    settled: dict[str, Result] = {}
    left = tuple(props)
    visited = 0
    deadness, base = None, None  # what every search's system has alike: built once
    before: _Search | None = None  # the search the goals were settled in
    while True:
        try:
            system = System(ts, left, unordered, by_control, deadness, base)
            deadness, base = system.deadness, system.base

            def smaller(rest: tuple[Property, ...], now: System = system) -> bool:
                return len(now.cone(rest)) + len(now.dead) < now.layout.size

            search = _Search(
                system, start, job.deadline, limit, progress, bound, smaller if restart else None
            )
            out = search.run(before if project else None)
            return _merged(out, props, settled, visited - search.projected, project)
        except _Restart as r:
            settled.update(r.results)
            left = tuple(p for p in props if p.name not in settled)
            visited += len(r.search.states) - r.search.projected
            before = r.search
        except Unsupported as e:
            return _refused(ts, props, start, e)
        except OrderBroken as b:
            unordered = unordered | {b.group}
            before = None  # the values the order stood for are gone: from the start


def _merged(
    out: ExplicitOutcome,
    props: Sequence[Property],
    settled: dict[str, Result],
    visited: int,
    projected: bool,
) -> ExplicitOutcome:
    """The last search's outcome, with the results of the goals settled before it
    went on (``visited`` states found before, not mapped into it)."""
    if not settled:
        return replace(out, visited=out.states)
    by_name = {**settled, **{r.property: r for r in out.results}}
    how = (
        "each state found so far mapped onto the smaller quotient" if projected
        else "searched again from the initial states"
    )  # fmt: skip
    note = (
        f"went on without the goals settled first ({visited + out.states} states visited "
        f"in all; {how}): what only those goals read is outside the cone of influence"
    )
    return ExplicitOutcome(
        tuple(by_name[p.name] for p in props), out.states, out.transitions, out.levels,
        out.seconds, out.exhausted, (*out.reductions, note), visited + out.states,
    )  # fmt: skip


def _refused(
    ts: TransitionSystem, props: Sequence[Property], start: float, e: Unsupported
) -> ExplicitOutcome:
    """Every goal ``unknown``: the explicit search does not apply (``e`` says why)."""
    results = tuple(
        Result.about(ts, p, Verdict.UNKNOWN, engine=ENGINE, seconds=time.monotonic() - start,
                     bound=0, reason=f"explicit search does not apply: {e}")
        for p in props
    )  # fmt: skip
    return ExplicitOutcome(results, 0, 0, 0, time.monotonic() - start, False, ())


class _Search:
    def __init__(
        self,
        system: System,
        start: float,
        deadline: float | None,
        limit: int,
        progress: Callable[[Progress], None] | None,
        bound: int | None = None,
        smaller: Callable[[tuple[Property, ...]], bool] | None = None,
    ) -> None:
        self.bound = bound
        self.smaller = smaller  # whether the goals left have a smaller cone of influence
        self.sys = system
        self.ts = system.ts
        self.start = start
        self.deadline = deadline
        self.limit = limit
        self.progress = progress
        self.states: list[tuple[int, ...]] = []
        self.parent: list[int] = []  # -1 for an initial state
        self.via: list[int] = []  # the instance taken from the parent (-1 initially)
        self.concrete_init: dict[int, tuple[int, ...]] = {}
        self.index: dict[tuple[int, ...], int] = {}
        self.found: dict[str, tuple[int, int, int]] = {}  # goal -> (state, instance or -1, step)
        self.transitions = 0
        self.projected = 0  # states mapped from the search before (see _project)
        self.initial = 0  # the states before this index are initial
        self.frontier = 0  # the search stopped (or was stopped) with this level to expand
        self.level = 0  # that level's number

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _late(self) -> bool:
        """Past the deadline (asked every :data:`CHECK_EVERY` states)."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    def run(self, before: _Search | None = None) -> ExplicitOutcome:
        """Breadth-first from the initial states, or on from ``before``'s states."""
        sysm = self.sys
        self.one = [g for g in sysm.goals if not g.prop.two_state]
        # the two-state goals' checks, as (name, check, cover): on every step
        self.edges: list[tuple[str, Fn, bool]] = [
            (g.prop.name, g.check, g.cover) for g in sysm.goals
            if g.prop.two_state and g.check is not None
        ]  # fmt: skip
        self.post = [g for g in sysm.goals if g.post is not None]
        if before is None or not self._project(before):
            self._initial_states()
            self.initial, self.frontier, self.level = len(self.states), 0, 0
        if sysm.timed_out:
            return self._outcome("timeout", False, self.level)  # levels mapped: searched
        if not self.states:
            raise Unsupported("no initial state satisfies init")
        initial = self.initial
        level_start, level_end, level = self.frontier, len(self.states), self.level
        stop = ""
        settled_before = len(self.found)
        while level_start < level_end and (self.one or self.edges or self.post):
            if self.bound is not None and level >= self.bound:
                stop = "bound"
                break
            if self.progress is not None:
                open_ = len(
                    {*(g.prop.name for g in (*self.one, *self.post)), *(e[0] for e in self.edges)}
                )
                self.progress(Progress(self.ts.name, level, self.elapsed(), open_))
            stop = self._expand(level_start, level_end, level + 1, initial)
            if stop:
                break
            level_start, level_end, level = level_end, len(self.states), level + 1
            self.frontier, self.level = level_start, level
            if len(self.found) > settled_before and self.smaller is not None:
                self._restart_if_smaller(self.smaller, level_start, level_end)
            settled_before = len(self.found)
        exhausted = not stop and level_start >= level_end
        return self._outcome(stop, exhausted, level)

    def _initial_states(self) -> None:
        """The canonical initial states, each once, the one-state goals checked on each."""
        states, index = self.states, self.index
        for canon, concrete in self.sys.initial(self.deadline):
            if canon in index:
                continue
            n = len(states)
            index[canon] = n
            states.append(canon)
            self.parent.append(-1)
            self.via.append(-1)
            self.concrete_init[n] = concrete
            if self.one:
                self._check_initial(n)

    def _project(self, before: _Search) -> bool:
        """The states of ``before`` (a search of the same system, with goals since
        settled: this quotient is coarser), each as its canonical form here, in
        ``before``'s order; each form kept once, where it first comes, with its first
        representative's parent and step.  That is the set, and the levels, a search
        from the initial states would reach here up to ``before``'s last level (a
        state's forms agree: ``tests/test_explicit.py`` compares the two).  The
        search goes on from the forms first met on that level.  False (nothing
        mapped) where the two systems' instances differ."""
        keys = [(inst.action, inst.args) for inst in self.sys.insts]
        if keys != [(inst.action, inst.args) for inst in before.sys.insts]:
            return False
        canon = self.sys.canonical
        states, index, parent, via = self.states, self.index, self.parent, self.via
        where: list[int] = []  # before's state -> its form's index here
        for o, s in enumerate(before.states):
            if o == before.initial:
                self.initial = len(states)
            if o == before.frontier:
                self.frontier = len(states)
            if o % CHECK_EVERY == 0 and self._late():
                self.sys.timed_out = True
                break
            t = canon(s)
            k = index.get(t)
            if k is None:
                k = len(states)
                index[t] = k
                states.append(t)
                p = before.parent[o]
                parent.append(-1 if p < 0 else where[p])
                via.append(before.via[o])
                if p < 0:
                    self.concrete_init[k] = before.concrete_init[o]
            where.append(k)
        self.level, self.projected = before.level, len(states)
        self.transitions = before.transitions
        before.release()
        return True

    def release(self) -> None:
        """Drop the states (another search has mapped them): the memory is the next
        search's.  The results settled here were made before."""
        self.states, self.index, self.parent, self.via = [], {}, [], []
        self.concrete_init = {}

    def _expand(self, level_start: int, level_end: int, step: int, initial: int) -> str:
        """Every step from the states ``level_start`` to ``level_end`` (one level; the
        states before ``initial`` are the initial ones), the goals checked on each step
        and each new state; why it stopped early ("timeout", "state limit") or ""."""
        states, index, found = self.states, self.index, self.found
        insts, affected = self.sys.insts, self.sys.affected
        successors, canonical = self.sys.successors, self.sys.canonical_successors
        add, get = states.append, index.get
        parent, via = self.parent.append, self.via.append
        for n in range(level_start, level_end):
            if n % CHECK_EVERY == 0 and self._late():
                return "timeout"
            s = states[n]
            if self.edges or canonical is None:  # a step's goals see the post-state as made
                nexts = []
                for i, m in successors(s):
                    for name, check, cover in self.edges:  # (settling replaces the list)
                        if bool(check(s, m)) == cover:
                            self._settle(name, (n, i, step))
                    nexts.append((i, insts[i].canon(m, s)))
            else:
                nexts = canonical(s)
            self.transitions += len(nexts)
            for i, t in nexts:
                k = get(t)
                if k is None:
                    k = len(states)
                    index[t] = k
                    add(t)
                    parent(n)
                    via(i)
                    if self.one:  # the one-state goals' parts the step can have changed
                        for name, f, cover in affected[i]:
                            if name not in found and bool(f(t, t)) == cover:
                                self._settle(name, (k, -1, step))
                    if self.post:
                        self._check_post(n, i, t, step, n < initial)
                elif k < initial and self.post:
                    self._check_post(n, i, t, step, True)  # first reached by a step here
            if len(states) > self.limit:
                return "state limit"
        return ""

    def _restart_if_smaller(
        self, smaller: Callable[[tuple[Property, ...]], bool], level_start: int, level_end: int
    ) -> None:
        """Goals were settled at the level just done: when the goals left have a smaller
        cone of influence, raise :class:`_Restart` with the settled goals' results."""
        sysm = self.sys
        rest = tuple(g.prop for g in sysm.goals if g.prop.name not in self.found)
        if rest and level_start < level_end and smaller(rest):
            done = {
                n: self._found(sysm.goals[self._goal_index(n)].prop, *h)
                for n, h in self.found.items()
            }
            raise _Restart(done, self)

    def _goal_index(self, name: str) -> int:
        for i, g in enumerate(self.sys.goals):
            if g.prop.name == name:
                return i
        raise KeyError(name)

    def _settle(self, name: str, hit: tuple[int, int, int]) -> None:
        if name in self.found:
            return
        self.found[name] = hit
        self.one = [g for g in self.one if g.prop.name != name]
        self.edges = [e for e in self.edges if e[0] != name]
        self.post = [g for g in self.post if g.prop.name != name]

    def _check_initial(self, n: int) -> None:
        """The one-state goals on initial state ``n``, whole.  (On a state reached by a
        step, :meth:`_expand` checks only the parts the step can have changed: the
        state it came from held every open goal, or had not reached it.)"""
        s = self.states[n]
        for g in list(self.one):
            assert g.check is not None
            if bool(g.check(s, s)) == g.cover:
                self._settle(g.prop.name, (n, -1, 0))

    def _check_post(self, n: int, i: int, post: S, step: int, full: bool) -> None:
        """Transition properties' post-state parts after step ``i`` from ``n``: all of
        them when ``full`` (``n`` is initial: they were never checked on it), else the
        parts that read what the step wrote."""
        s = self.states[n]
        if full:
            for g in list(self.post):
                assert g.post is not None
                if not g.post(s, post):
                    self._settle(g.prop.name, (n, i, step))
            return
        found = self.found
        for name, f, cover in self.sys.affected_post[i]:
            if name not in found and bool(f(s, post)) == cover:
                self._settle(name, (n, i, step))

    def _outcome(self, stop: str, exhausted: bool, level: int) -> ExplicitOutcome:
        sysm = self.sys
        results: list[Result] = []
        count = f"{len(self.states)} states, {self.transitions} transitions"
        for g in sysm.goals:
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
            tuple(results), len(self.states), self.transitions, level, self.elapsed(),
            exhausted, tuple(sysm.notes),
        )  # fmt: skip

    def _path(self, n: int) -> list[int]:
        out: list[int] = []
        while self.parent[n] >= 0:
            out.append(self.via[n])
            n = self.parent[n]
        out.append(n)  # the initial state's own index, last
        return out[::-1]

    def _found(self, p: Property, n: int, last: int, step: int) -> Result:
        """Replay the path to state ``n`` (then instance ``last``) from its concrete
        initial state, and through the interpreter."""
        sysm = self.sys
        path = self._path(n)
        root, moves = path[0], path[1:] + ([last] if last >= 0 else [])
        cur = list(self.concrete_init[root])
        lay = sysm.layout
        steps = [Step(None, (), lay.decode(cur))]
        for i in moves:
            inst = sysm.insts[i]
            nxt = inst.step(cur)
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
