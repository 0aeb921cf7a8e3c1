"""Dead locations by control state: what the explicit engine may forget in a state.

The cone of influence (:meth:`fusever.explicit_system.System.cone`) resets a location
that nothing can ever read.  This is the state-dependent form (SPIN's dead variable
reduction, there per process and control location): a location ``x`` is *dead* in a
state when every run from that state writes ``x`` before it reads it, so two states
that differ only in ``x`` have the same futures, step for step, and the search may
keep one of them (``x`` reset to 0).  A writer's ``w_file`` after its reply completed
is the typical case: set when the next write enters, read only while one is in
progress.

How it is decided, for each location ``x`` no goal reads (:meth:`Analysis.dead`):

- its *readers*: the action instances whose guard or body may read ``x``;
- its *controls* ``C``: the small finite locations (program counters, kinds, flags)
  that every reader's guard reads;
- per instance, the values of ``C`` at which its guard may hold: the guard compiled
  with ``C`` fixed to each tuple of values, and left out where it folds to false (so
  this is exact for every state, reachable or not); and where the instance may leave
  ``C``: a component it does not write stays, one it assigns a constant to at top
  level takes that constant, any other write may take any value;
- a *kill* of ``x``: an instance that assigns ``x`` at top level, unconditionally,
  and does not read it;
- the tuples from which a reader can be reached through steps that do not kill
  ``x`` (a backward closure over that graph from the readers' tuples) are live; the
  rest are dead.

Soundness: take a state whose ``C`` is a dead tuple, and a run from it that reads
``x``; let ``r`` be its first reader, so ``C`` is a reader's tuple when ``r`` runs.
If no step before ``r`` killed ``x``, every step before it that moved ``C`` is an
edge of the graph that does not kill ``x`` (steps that do not write ``C`` leave it in
place), so the dead tuple reaches a reader's tuple without a kill: it would be live.
So ``x`` is written before it is read, on every run.  Each reset is justified by the
state it is made in, so resets made one after another are sound as well.  Tested, not
only argued: ``tests/test_deadness.py`` perturbs every dead location of sampled
reachable states and checks that the same steps are enabled and lead to the same
states up to that location, until it is written; and that the search finds the same
verdicts at the same steps with and without this reduction on every configuration.

Nothing prints; the analysis refuses nothing (a location it cannot show dead stays).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from fusever.closures import Compiler
from fusever.layout import Layout, domain, enc
from fusever.liveness import expr_reads, stmt_flows, stmt_writes
from fusever.ts import (
    Action,
    Assign,
    Assume,
    Binary,
    BinOp,
    BoolType,
    EnumType,
    Expr,
    ForAll,
    If,
    Quant,
    Quantifier,
    SortType,
    Stmt,
    elements,
)

__all__ = ["CONTROL_TUPLES", "CONTROL_VALUES", "Analysis", "Dead", "after"]

CONTROL_VALUES = 16  # a control location has at most this many values
CONTROL_TUPLES = 64  # the controls of one location have at most this many tuples of values

_ANY = -1  # an instance's write of a control location that may leave any value

# where an instance may be enabled (tuples of the controls' values), and per control
# the values it may leave there (empty: it does not write it)
_Edges = tuple[frozenset[tuple[int, ...]], tuple[set[int], ...]]


@dataclass(frozen=True, slots=True)
class Dead:
    """Reset ``slots`` to 0 in a state whose ``controls`` hold one of ``tuples``."""

    controls: tuple[int, ...]
    tuples: frozenset[tuple[int, ...]]
    slots: tuple[int, ...]

    @property
    def slots_set(self) -> frozenset[int]:
        return frozenset(self.slots)


@dataclass(frozen=True, slots=True)
class _Inst:
    guard_reads: frozenset[int]
    # the guard's conjuncts, ``forall`` unrolled: each with its environment and reads
    conjuncts: tuple[tuple[Expr, Mapping[str, int], frozenset[int]], ...]
    reads: frozenset[int]  # guard and body
    writes: frozenset[int]  # every location it may write
    sets: Mapping[int, int]  # top-level unconditional assignments: slot -> constant or _ANY


class Analysis:
    """The analysis of one transition system's instances, kept across the searches of
    one run (what it learns does not depend on the goals)."""

    def __init__(
        self, lay: Layout, plain: Compiler, envs: Sequence[tuple[Action, dict[str, int]]]
    ) -> None:
        self.lay, self.plain = lay, plain
        summaries = [(a, env, _summary(plain, a, env)) for a, env in envs]
        self.insts = [(a, env, s) for a, env, s in summaries if s is not None]
        self.graphs: dict[tuple[int, ...], list[_Edges]] = {}
        self._folded: dict[object, bool] = {}

    def dead(self, candidates: Sequence[int]) -> tuple[Dead, ...]:
        """The locations among ``candidates`` that are dead under a tuple of control
        locations (any small finite location that is not a constant), grouped by their
        controls and dead tuples, in slot order."""
        lay, insts = self.lay, self.insts
        controls = frozenset(
            j for j in range(lay.size) if j not in self.plain.fixed and _small(lay, j)
        )
        found: dict[tuple[tuple[int, ...], frozenset[tuple[int, ...]]], list[int]] = {}
        for x in candidates:
            readers = [k for k, (_, _, s) in enumerate(insts) if x in s.reads]
            if not readers:
                continue
            common = controls - {x}
            for k in readers:
                common &= insts[k][2].guard_reads
            cs = _choose(lay, sorted(common))
            if not cs:
                continue
            dead = _dead(lay, cs, self._graph(cs), insts, readers, x)
            if dead:
                found.setdefault((cs, dead), []).append(x)
        ordered = sorted(found.items(), key=_first)
        return _in_order([Dead(cs, dead, tuple(xs)) for (cs, dead), xs in ordered])

    def _graph(self, cs: tuple[int, ...]) -> list[_Edges]:
        got = self.graphs.get(cs)
        if got is None:
            got = self.graphs[cs] = [self._edges(s, cs) for _, _, s in self.insts]
        return got

    def _edges(self, s: _Inst, cs: tuple[int, ...]) -> _Edges:
        """Where an instance may be enabled, as tuples of the controls ``cs`` (its
        guard's conjuncts that read them compiled with them fixed: one folding to false
        rules the tuple out), and per control the values it may leave there."""
        lay = self.lay
        doms = [range(domain(lay.types[lay.slot_var[j]]) or 0) for j in cs]
        some = [(e, local, [k for k, j in enumerate(cs) if j in reads])
                for e, local, reads in s.conjuncts if not reads.isdisjoint(cs)]  # fmt: skip
        pre = frozenset(
            t for t in itertools.product(*doms)
            if not any(self._false(e, local, tuple((cs[k], t[k]) for k in ks)) for e, local, ks in some)
        )  # fmt: skip
        posts: list[set[int]] = []
        for j, dom in zip(cs, doms, strict=True):
            if j not in s.writes:
                posts.append(set())
            elif s.sets.get(j, _ANY) == _ANY:
                posts.append(set(dom))
            else:
                posts.append({s.sets[j]})
        return pre, tuple(posts)

    def _false(self, e: Expr, env: Mapping[str, int], at: tuple[tuple[int, int], ...]) -> bool:
        """Whether ``e`` folds to false with the locations ``at`` fixed (memoised: the
        same conjunct comes back under every tuple of controls that includes them)."""
        key = (id(e), tuple(sorted(env.items())), at)
        got = self._folded.get(key)
        if got is None:
            n = Compiler(self.lay, fixed={**self.plain.fixed, **dict(at)}).expr(e, env)
            got = self._folded[key] = isinstance(n, int) and not n
        return got


def _in_order(entries: list[Dead]) -> tuple[Dead, ...]:
    """``entries`` with each one after those that reset one of its controls (so that
    applying them once, in this order, leaves every one applied; kept in slot order
    otherwise, and where they depend on each other in a cycle)."""
    out: list[Dead] = []
    left = list(entries)
    while left:
        free = [
            d for d in left
            if not any(e is not d and not e.slots_set.isdisjoint(d.controls) for e in left)
        ]  # fmt: skip
        pick = free[0] if free else left[0]
        out.append(pick)
        left.remove(pick)
    return tuple(out)


def after(entries: Sequence[Dead], writes: frozenset[int]) -> tuple[Dead, ...]:
    """The entries a step that writes ``writes`` must apply again, in their order: those
    it writes a control or a location of, and those whose controls those reset."""
    out: list[Dead] = []
    changed = set(writes)
    for d in entries:
        if not changed.isdisjoint(d.controls) or not changed.isdisjoint(d.slots):
            out.append(d)
            changed.update(d.slots)
    return tuple(out)


def _first(item: tuple[tuple[tuple[int, ...], frozenset[tuple[int, ...]]], list[int]]) -> int:
    return item[1][0]


def _small(lay: Layout, j: int) -> bool:
    t = lay.types[lay.slot_var[j]]
    if not isinstance(t, BoolType | EnumType | SortType):
        return False
    n = domain(t)
    return n is not None and 2 <= n <= CONTROL_VALUES


def _choose(lay: Layout, common: Sequence[int]) -> tuple[int, ...]:
    """The first controls, in slot order, whose tuples of values stay within
    :data:`CONTROL_TUPLES`."""
    out: list[int] = []
    size = 1
    for j in common:
        n = domain(lay.types[lay.slot_var[j]]) or 0
        if size * n <= CONTROL_TUPLES:
            out.append(j)
            size *= n
    return tuple(out)


def _summary(plain: Compiler, a: Action, env: dict[str, int]) -> _Inst | None:
    g = plain.expr(a.guard, env)
    if isinstance(g, int) and not g:
        return None  # never enabled
    conjuncts: list[tuple[Expr, Mapping[str, int], frozenset[int]]] = []
    for e, local in _conjuncts(a.guard, env):
        got: set[int] = set()
        expr_reads(plain, e, local, got)
        conjuncts.append((e, local, frozenset(got)))
    guard_reads = set().union(*(r for _, _, r in conjuncts))
    reads = set(guard_reads)
    flows: list[tuple[frozenset[int], frozenset[int]]] = []
    stmt_flows(plain, a.body, env, frozenset(), reads, flows)
    for _, deps in flows:
        reads |= deps
    writes = stmt_writes(plain, a.body, env)
    return _Inst(
        frozenset(guard_reads), tuple(conjuncts), frozenset(reads), frozenset(writes),
        _sets(plain, a.body, env),
    )  # fmt: skip


def _conjuncts(e: Expr, env: Mapping[str, int]) -> list[tuple[Expr, Mapping[str, int]]]:
    if isinstance(e, Binary) and e.op is BinOp.AND:
        return _conjuncts(e.lhs, env) + _conjuncts(e.rhs, env)
    if isinstance(e, Quant) and e.quantifier is Quantifier.FORALL:
        out: list[tuple[Expr, Mapping[str, int]]] = []
        for v in elements(e.sort):
            out += _conjuncts(e.body, {**env, e.var: enc(e.sort, v)})
        return out
    return [(e, env)]


def _sets(c: Compiler, body: Sequence[Stmt], env: Mapping[str, int]) -> dict[int, int]:
    """The locations every run of ``body`` assigns at top level, with the constant the
    last such assignment leaves (``_ANY`` when it is not constant, or when a nested
    statement may write the location after it)."""
    out: dict[int, int] = {}
    for st in body:
        match st:
            case Assign(name=name, args=args, value=value):
                if value is None:
                    continue
                nodes = [c.expr(a, env) for a in args]
                if all(isinstance(n, int) for n in nodes):
                    j = c.layout.slot(name, [n for n in nodes if isinstance(n, int)])
                    v = c.expr(value, env)
                    out[j] = v if isinstance(v, int) else _ANY
                else:
                    for j in c.layout.slots(name):
                        if j in out:
                            out[j] = _ANY
            case If() | ForAll():
                for j in stmt_writes(c, (st,), env):
                    if j in out:
                        out[j] = _ANY
            case Assume():
                pass
            case _:
                assert_never(st)
    return out


def _dead(
    lay: Layout,
    cs: tuple[int, ...],
    graph: Sequence[_Edges],
    insts: Sequence[tuple[Action, dict[str, int], _Inst]],
    readers: Sequence[int],
    x: int,
) -> frozenset[tuple[int, ...]]:
    """The tuples of ``cs`` from which no reader of ``x`` can be reached without a
    step that kills ``x`` first."""
    live: set[tuple[int, ...]] = set()
    for k in readers:
        live |= graph[k][0]
    back: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
    for k, (pre, posts) in enumerate(graph):
        s = insts[k][2]
        if x in s.sets and x not in s.reads:
            continue  # a kill: nothing after it reads the old value
        if not any(posts):
            continue  # leaves the controls as they are
        for t in pre:
            for u in itertools.product(*(p if p else {v} for p, v in zip(posts, t, strict=True))):
                back.setdefault(u, set()).add(t)
    todo = list(live)
    while todo:
        u = todo.pop()
        for t in back.get(u, ()):
            if t not in live:
                live.add(t)
                todo.append(t)
    doms = [range(domain(lay.types[lay.slot_var[j]]) or 0) for j in cs]
    return frozenset(t for t in itertools.product(*doms) if t not in live)
