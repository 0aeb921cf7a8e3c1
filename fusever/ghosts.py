"""The ghost order: ghost integers kept as their relative order, for the explicit engine.

Ghost integers (timestamps from a ghost clock) would make the explicit search's state
space the size of a run's history.  :func:`int_groups` checks on the transition system
that each group of ghost integers that meet in a comparison or an assignment is only
compared with itself and constants, copied, or incremented by a positive constant;
such a group's values above its largest constant can then be replaced by their ranks
(:func:`layer`, and :func:`layer_step` after one step from a canonical state).  Only
the order of the pairs that can matter is kept: those compared (in a guard, a
condition or a property), closed under copies.

The increment is only order-preserving when it is applied to the group's largest
value (a clock); :mod:`fusever.closures` checks that on every step taken, and
:mod:`fusever.explicit` restarts the search without normalising the group at the first
step where it does not hold.  A group that does any other arithmetic is never
normalised: :func:`int_groups` says why, by group.  Nothing here compiles or searches
a state, and nothing prints.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import assert_never

from fusever.ts import (
    Assign,
    Assume,
    Binary,
    BinOp,
    Cast,
    Expr,
    ForAll,
    If,
    IntType,
    Ite,
    Lit,
    Local,
    Property,
    Quant,
    Stmt,
    TransitionSystem,
    Unary,
    Var,
    walk,
)

__all__ = ["Groups", "Order", "getter", "int_groups", "layer", "layer_step"]

_CMP = frozenset({BinOp.EQ, BinOp.NE, BinOp.LT, BinOp.LE, BinOp.GT, BinOp.GE})


@dataclass(frozen=True, slots=True)
class Order:
    """The ghost integer groups kept as their relative order."""

    group_of: dict[str, int]  # variable -> group (normalised groups only)
    cmax: dict[int, int]  # the group's largest constant: values above it are ranked
    slots: dict[int, tuple[int, ...]]  # the group's live slots
    names: dict[int, tuple[str, ...]]  # the group's variables
    # per live slot of the group (by position), the positions whose order with it matters
    near: dict[int, tuple[tuple[int, ...], ...]]


@dataclass(frozen=True, slots=True)
class Groups:
    group: dict[str, int]  # ghost int variable -> its group
    consts: dict[int, set[int]]  # the constants each group meets
    members: dict[int, list[str]]
    why: dict[int, str]  # why a group cannot be normalised
    # pairs of variables whose relative order can matter (compared, directly or
    # through copies): the order of any other pair is forgotten
    pairs: frozenset[tuple[str, str]]


def int_groups(ts: TransitionSystem, props: Sequence[Property]) -> Groups:
    """Group the ghost integer variables that meet in a comparison or an assignment;
    say which groups do anything but compare with each other and constants, copy, and
    add a positive constant (then they are not normalised: the reason by group).

    Also the pairs of variables whose order matters: those compared (in a guard, a
    condition or a property; primed and unprimed alike), closed under copies (when
    ``x := y`` and ``x`` is compared with ``z``, the order of ``y`` and ``z`` at the
    copy decides that comparison later)."""
    ints = [v.name for v in ts.vars if isinstance(v.type, IntType)]
    walker = _Meetings(ints)
    walker.stmts(ts.init)
    for act in ts.actions:
        walker.visit(act.guard)
        walker.stmts(act.body)
    for p in props:
        walker.visit(p.expr)
    return walker.groups(ints)


class _Meetings:
    """The walk of :func:`int_groups`: a union-find of the ghost integer variables that
    meet, the constants each meets, why one cannot be normalised (the first reason
    found), the pairs compared and the copies (``x := y (+ k)``)."""

    def __init__(self, ints: Sequence[str]) -> None:
        self.parent = {n: n for n in ints}
        self.consts: dict[str, set[int]] = {n: set() for n in ints}
        self.bad: dict[str, str] = {}
        self.pairs: set[tuple[str, str]] = set()
        self.flows: set[tuple[str, str]] = set()  # (x, y): x := y (+ k)

    def find(self, n: str) -> str:
        parent = self.parent
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def union(self, names: Sequence[str]) -> None:
        for a, b in itertools.pairwise(names):
            ra, rb = self.find(a), self.find(b)
            if ra != rb:
                self.parent[max(ra, rb)] = min(ra, rb)

    def spoil(self, e: Expr, why: str) -> None:
        for n in [x.name for x in walk(e) if isinstance(x, Var) and x.name in self.parent]:
            self.bad.setdefault(n, why)

    def atoms(self, e: Expr) -> list[str | int] | None:
        match e:
            case Var(name=name, args=args) if isinstance(e.type, IntType):
                for a in args:
                    self.visit(a)
                return [name]
            case Lit(value=v) if isinstance(e.type, IntType):
                assert isinstance(v, int)
                return [v]
            case Ite(cond=c, then=th, else_=el) if isinstance(e.type, IntType):
                self.visit(c)
                xs, ys = self.atoms(th), self.atoms(el)
                return None if xs is None or ys is None else xs + ys
            case _:
                return None

    def meet(self, found: list[str | int]) -> None:
        names = [x for x in found if isinstance(x, str)]
        self.union(names)
        if names:
            self.consts[names[0]].update(x for x in found if isinstance(x, int))

    def visit(self, e: Expr) -> None:
        if isinstance(e, Binary) and e.op in _CMP and isinstance(e.lhs.type, IntType):
            self.compare(e)
            return
        if isinstance(e.type, IntType):
            self.spoil(e, f"a ghost integer used other than in a comparison at {e.span}")
            return
        match e:
            case Lit() | Local():
                pass
            case Var(args=args):
                for a in args:
                    self.visit(a)
            case Unary(arg=a) | Cast(arg=a):
                self.visit(a)
            case Binary(lhs=lhs, rhs=rhs):
                self.visit(lhs)
                self.visit(rhs)
            case Ite(cond=c, then=th, else_=el):
                self.visit(c)
                self.visit(th)
                self.visit(el)
            case Quant(body=b):
                self.visit(b)

    def compare(self, e: Binary) -> None:
        """A comparison of ghost integers: its sides meet, and each pair compared matters."""
        xs, ys = self.atoms(e.lhs), self.atoms(e.rhs)
        if xs is None or ys is None:
            self.spoil(e, f"arithmetic in a comparison at {e.span}")
            for x in walk(e):
                if x is not e and isinstance(x, Var):
                    for arg in x.args:
                        self.visit(arg)
            return
        self.meet(xs + ys)
        for u in xs:
            for w in ys:
                if isinstance(u, str) and isinstance(w, str):
                    self.pairs.add((u, w))
                    self.pairs.add((w, u))

    def visit_inside(self, e: Expr) -> None:
        for x in walk(e):
            if isinstance(x, Var):
                for a in x.args:
                    self.visit(a)

    def stmts(self, body: Sequence[Stmt]) -> None:
        for st in body:
            match st:
                case Assign():
                    self.assign(st)
                case If(cond=c, then=th, else_=el):
                    self.visit(c)
                    self.stmts(th)
                    self.stmts(el)
                case ForAll(where=wh, body=b):
                    if wh is not None:
                        self.visit(wh)
                    self.stmts(b)
                case Assume(cond=c):
                    self.visit(c)
                case _:
                    assert_never(st)

    def assign(self, st: Assign) -> None:
        name, value = st.name, st.value
        for a in st.args:
            self.visit(a)
        if name not in self.parent:
            if value is not None:
                self.visit(value)
            return
        if value is None:
            return  # a free ghost integer: refused at init
        found = self.atoms(value)
        if found is None and isinstance(value, Binary) and value.op is BinOp.ADD:
            y, k = (value.lhs, value.rhs)
            if isinstance(y, Lit):
                y, k = k, y
            if (
                isinstance(y, Var)
                and isinstance(k, Lit)
                and isinstance(k.value, int)
                and k.value > 0
            ):
                found = self.atoms(y)
        if found is None:
            self.bad.setdefault(name, f"arithmetic assigned at {st.span}")
            self.spoil(value, f"arithmetic assigned at {st.span}")
            self.visit_inside(value)
            return
        self.meet([name, *found])
        self.flows.update((name, y) for y in found if isinstance(y, str))

    def groups(self, ints: Sequence[str]) -> Groups:
        """The groups found, numbered in the order of their first variable."""
        roots = sorted({self.find(n) for n in ints}, key=ints.index)
        ids = {r: i for i, r in enumerate(roots)}
        group = {n: ids[self.find(n)] for n in ints}
        gconsts: dict[int, set[int]] = {i: set() for i in ids.values()}
        members: dict[int, list[str]] = {i: [] for i in ids.values()}
        why: dict[int, str] = {}
        for n in ints:
            gconsts[group[n]] |= self.consts[n]
            members[group[n]].append(n)
            if n in self.bad:
                why.setdefault(group[n], self.bad[n])
        pairs = self.pairs
        changed = True
        while changed:
            changed = False
            for x, y in sorted(self.flows):
                for a, z in sorted(pairs):
                    if a == x and (y, z) not in pairs:
                        pairs.update({(y, z), (z, y)})
                        changed = True
        return Groups(group, gconsts, members, why, frozenset(pairs))


# ---- the layering: a group's values above its largest constant, ranked --------------------


def layer(m: list[int], c: int, slots: tuple[int, ...], near: tuple[tuple[int, ...], ...]) -> None:
    """Replace the group's values above ``c`` by the longest chain below them in the
    order of the pairs that matter (``near``): a function of those pairs' order alone,
    which it keeps (equal stays equal, less stays less); values at most ``c`` stay."""
    vals = [m[j] for j in slots]
    n = len(vals)
    idx = sorted(range(n), key=vals.__getitem__)
    out = list(vals)
    i = 0
    while i < n:
        v = vals[idx[i]]
        k = i + 1
        while k < n and vals[idx[k]] == v:
            k += 1
        if v > c:
            block = idx[i:k]
            for x in block:
                best = c + 1
                for y in near[x]:
                    w = vals[y]
                    if c < w < v and out[y] >= best:
                        best = out[y] + 1
                out[x] = best
            if k - i > 1:  # equal values whose order matters share one value
                again = True
                while again:
                    again = False
                    for x in block:
                        for y in near[x]:
                            if vals[y] == v and out[y] != out[x]:
                                out[x] = out[y] = max(out[x], out[y])
                                again = True
        i = k
    for x in range(n):
        m[slots[x]] = out[x]


def getter(slots: tuple[int, ...]) -> Callable[[Sequence[int]], tuple[int, ...]]:
    """The values at ``slots``, as a tuple (one C call)."""
    if len(slots) == 1:
        j = slots[0]
        return lambda m: (m[j],)
    return itemgetter(*slots)


def layer_step(
    m: list[int],
    pre: Sequence[int],
    c: int,
    slots: tuple[int, ...],
    near: tuple[tuple[int, ...], ...],
    nslots: tuple[tuple[int, ...], ...],
    written: tuple[int, ...],
) -> bool:
    """:func:`layer` after one step from the canonical ``pre`` that wrote at most the
    positions ``written``, when it only moved values to the new largest one or to at
    most ``c``, and no unchanged value above ``c`` had a changed one below or equal to
    it (an equal one may share its layer; one equal to the old largest is redone):
    then the unchanged values keep their layers and only the new largest ones get
    theirs.  False (nothing done) otherwise.  ``nslots``: ``near`` as slots."""
    changed = [x for x in written if m[slots[x]] != pre[slots[x]]]
    if not changed:
        return True
    olds = [pre[j] for j in slots]
    oldtop = max(olds)
    news = [m[slots[x]] for x in changed]
    top = max(news)
    if top < oldtop:
        top = max([m[j] for j in slots])
    moved = set(changed)
    left_top = False  # a value moved away from the old largest one
    for x, new in zip(changed, news, strict=True):
        old = olds[x]
        if new > c and new != top:
            return False
        if old > c:
            if old == oldtop:
                left_top = True
                continue  # nothing above it; those equal to it are redone below
            for y in near[x]:
                if y not in moved and olds[y] >= old:
                    return False
    if left_top and oldtop > c:
        # the unchanged values equal to the old largest may have shared its layer
        block = [y for y, v in enumerate(olds) if v == oldtop and y not in moved]
        if block:
            _relayer(m, c, slots, near, nslots, block, oldtop)
            moved.update(block)
    if top <= c:
        return True
    if top <= oldtop:
        for x, v in enumerate(olds):
            if v == top and x not in moved:
                return False  # an unchanged value equals the new largest one
    tops = [x for x, v in zip(changed, news, strict=True) if v == top]
    _relayer(m, c, slots, near, nslots, tops, top)
    return True


def _relayer(
    m: list[int],
    c: int,
    slots: tuple[int, ...],
    near: tuple[tuple[int, ...], ...],
    nslots: tuple[tuple[int, ...], ...],
    block: list[int],
    value: int,
) -> None:
    """Give ``block`` (positions holding ``value``, above every value their layers
    depend on) the layer just above their near neighbours' below them; near ones in
    the block share theirs."""
    out: dict[int, int] = {}
    for x in block:
        best = max([v for k in nslots[x] if (v := m[k]) < value], default=c) + 1
        out[x] = best if best > c else c + 1
    if len(block) > 1:
        again = True
        while again:
            again = False
            for x in block:
                for y in near[x]:
                    if y in out and out[y] != out[x]:
                        out[x] = out[y] = max(out[x], out[y])
                        again = True
    for x, v in out.items():
        m[slots[x]] = v
