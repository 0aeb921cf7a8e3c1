"""A free wide counter, decided at a narrow width: an offset bisimulation, checked.

A configuration like ``w64_free`` starts one 64-bit counter anywhere (``write_seq :=
any``) so that a bounded trace can reach its wrap.  The SMT engines then reason about
64-bit carries across a whole unrolling; on fuse_wrapsafe, whose wrap-safe comparison
``signed(a - b) < 0`` holds, that takes most of an hour.  Yet a run that ends within
``N`` steps only ever holds values of two kinds in its wide locations: the start ``X``
plus a small offset (the counter and the copies taken of it), or a small constant (what
init and resets store).  Whether a comparison of two such values holds depends only
on where ``X`` lies relative to the wraps (near 0, near the half-way point ``2^(W-1)``,
in the lower or upper half, and how near), and a narrow counter can lie in the same
place: the same system with every ``W``-bit type made ``V`` bits wide, ``V`` the
smallest with ``2^(V-1) > 4N + 4``, takes the same steps with the same goal values.

That is a claim, and :func:`check` has the solver prove it, in one step, over every
state (reachable or not).  The relation between a wide state ``s`` and a narrow ``s'``:

- ``C(X, X')``: the starts lie alike (``X`` within ``m = 2N + 1`` of 0 exactly when
  ``X'`` is, and then at the same signed distance; the same near half-way; the same
  half);
- ``R_b``: every non-wide location equal, and every wide location either
  ``X``-based (``s - X == s' - X'``, the offset at most ``b``) or a constant (``s ==
  s'``, at most ``b``).

The obligations, each an unsat query to a fresh plain Z3 solver:

1. **Starts**: for every ``X`` the narrow start ``f(X)`` is related (``C(X, f(X))``),
   and for every ``X'`` the wide ``g(X')``; from every wide initial state the narrow one
   with the start ``f(X)`` is initial and ``R_0``-related, and conversely with ``g``.
2. **Steps**: under ``C`` and ``R_b`` with ``b <= N``, each action instance is enabled
   in both states or in neither, and every property and cover goal has the same value;
   for ``b < N``, an instance's successors are ``R_(b+1)``-related and every two-state
   property agrees on the step.

What bounds the offsets is one of two things:

- a ranking function proving that no wide run is longer than ``N`` steps
  (:mod:`fusever.ranking`); induction on the run gives: every wide run of ``n <= N``
  steps has a narrow run of the same actions, related at every step, and conversely;
- or a *budget* (:func:`fusever.ranking.find` with the wide variables ``growing``): a
  measure ``B`` over the same control terms, at most ``N`` initially, that no step
  raises and every step that moves a wide value lowers.  Then ``R_b`` with ``b + B(s)
  <= N`` is kept however long the run (successors are ``R_(b + B - B')``), so the
  bisimulation holds on every run, and the narrow system is finite and small.

So every property and cover goal gets the same verdict, at the same step, in both
systems.  :mod:`fusever.kind` decides the narrow one by BMC to ``N`` (bit-blasting 8
bits rather than 64); :func:`explicit_search` searches it whole, state by state, when
the budget bounds the moves.  Every trace found there is *lifted* (:func:`lift`: the
wide start lying alike, then the same steps by the interpreter) and replayed against
its goal in the wide system; a different answer there is an internal error.  A proof's
certificate carries the narrowing, and its re-check proves it again
(:mod:`fusever.certificate`).  A spec whose wide values do anything else (multiply,
cast to an integer, start two counters anywhere) fails an obligation, and the engines
take the wide system as before.

Most of the step obligations are "this atom (a comparison of counters) has the same
value on both sides".  Each is asked as an instance of a *lemma*
(:func:`generalized`): the atom with each wide location put by a fresh pair of
related variables, and what the two sides share by a fresh variable, proved from
``C`` and that relation alone.  Forty-odd atoms come down to a dozen or so lemmas,
each asked once; an atom no lemma covers is asked directly.  Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import z3

from fusever import explicit, interpret, ranking, solvers
from fusever.encode import EncodeOptions, Encoding, Slot
from fusever.job import Job
from fusever.ranking import Instance, Ranking, one_step
from fusever.terms import mentioned
from fusever.ts import (
    BOOL,
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    Expr,
    ForAll,
    If,
    IntType,
    Lit,
    State,
    Step,
    Stmt,
    Trace,
    TransitionSystem,
    Var,
    walk,
)
from fusever.verdict import Progress, Result, Verdict

__all__ = [
    "MIN_WIDE",
    "Generalized",
    "Narrowing",
    "NarrowingBug",
    "check",
    "decider",
    "explicit_search",
    "generalized",
    "lift",
    "lifted",
    "narrow_width",
    "narrowed",
    "pinned",
    "plan",
    "refused",
    "start",
    "starting",
    "unread",
    "wide_free",
]

Z = Any  # z3 terms carry no types mypy can use

MIN_WIDE = 16  # a free start of fewer bits is small enough to leave alone


@dataclass(frozen=True, slots=True)
class Narrowing:
    """``ts``'s ``wide``-bit types made ``width`` bits: checked to take the same steps
    with the same goal values on every run of at most ``bound`` steps."""

    wide: int
    width: int
    bound: int  # no wide value moves further than this from where it started
    system: TransitionSystem  # the narrow system
    slot: Slot  # the free start's location
    # what bounds the moves: a budget (a measure no step raises and every step that
    # moves a wide value lowers, ``bound`` its range), or None: runs of ``bound`` steps
    budget: Ranking | None = None

    @property
    def free(self) -> str:
        """The free start's location, for people: ``write_seq[0]``."""
        return _name(self.slot)

    def text(self) -> str:
        out = f"{self.free} narrowed from {self.wide} to {self.width} bits"
        if self.budget is not None:
            out += f" (it moves at most {self.bound} times: {self.budget.text()})"
        return out


class NarrowingBug(Exception):
    """The narrow and the wide system disagree on a step: a bug in fusever (exit 4)."""


class _Undecided(Exception):
    """A query ran out of time or came back unknown."""


# ---- the narrow system ---------------------------------------------------------------


def narrow_width(bound: int) -> int:
    """The smallest width ``V`` whose wraps are far enough apart for runs of ``bound``
    steps: ``2^(V-1) > 4 * bound + 4`` (the two margins of ``2 * bound + 1`` around 0 and
    around half-way, and a value between them on either side)."""
    v = 2
    while (1 << (v - 1)) <= 4 * bound + 4:
        v += 1
    return v


def narrowed(ts: TransitionSystem, wide: int, width: int) -> TransitionSystem:
    """``ts`` with every ``wide``-bit type ``width`` bits wide (literals cut to it)."""

    def go(x: Any) -> Any:
        if isinstance(x, BitVecType):
            return BitVecType(width, x.signed) if x.width == wide else x
        if isinstance(x, Lit) and isinstance(x.type, BitVecType) and x.type.width == wide:
            t = BitVecType(width, x.type.signed)
            assert isinstance(x.value, int)
            v = x.value % (1 << width)
            if t.signed and v >= 1 << (width - 1):
                v -= 1 << width
            return Lit(v, t, x.span)
        if isinstance(x, tuple):
            return tuple(go(y) for y in x)
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            return dataclasses.replace(
                x, **{f.name: go(getattr(x, f.name)) for f in dataclasses.fields(x) if f.init}
            )
        return x

    out = go(ts)
    assert isinstance(out, TransitionSystem)
    return out


def _options(ts: TransitionSystem) -> EncodeOptions:
    """Exact for every state: ghost ints as Z3 integers (no overflow to relate)."""
    ints = any(isinstance(v.type, IntType) for v in ts.vars)
    return EncodeOptions(ghost="int" if ints else "bv", por="off", selector="onehot")


def _wide_slots(enc: Encoding, wide: int) -> list[Slot]:
    return [
        s
        for s in enc.slots
        if isinstance(t := enc.vars[s[0]].type, BitVecType) and t.width == wide and s[1] is not None
    ]


def unread(ts: TransitionSystem) -> frozenset[str]:
    """The state variables no step, property or condition depends on: read by no
    guard, no property or cover goal, no ``if``, ``where`` or ``assume`` condition, and
    by no assignment except to a variable in this set (a cone of influence, computed
    from the checked system's syntax).  Their values never decide what is enabled,
    what is assigned elsewhere, or any goal: every run with them dropped is a run of
    the system without them, whatever values they start from."""
    needed: set[str] = set()
    flows: list[tuple[str, set[str]]] = []  # (assigned variable, what the assignment reads)

    def reads(*es: Expr | None) -> set[str]:
        return {x.name for e in es if e is not None for x in walk(e) if isinstance(x, Var)}

    def body(stmts: Sequence[Stmt]) -> None:
        for st in stmts:
            match st:
                case Assign(name=name, args=args, value=value):
                    flows.append((name, reads(*args, value)))
                case If(cond=c, then=t, else_=f):
                    needed.update(reads(c))
                    body(t)
                    body(f)
                case ForAll(where=w, body=b):
                    needed.update(reads(w))
                    body(b)
                case Assume(cond=c):
                    needed.update(reads(c))

    body(ts.init)
    for a in ts.actions:
        needed.update(reads(a.guard))
        body(a.body)
    needed.update(*(reads(q.expr) for q in ts.properties))
    grown = True
    while grown:
        before = len(needed)
        for name, r in flows:
            if name in needed:
                needed.update(r)
        grown = len(needed) > before
    return frozenset(v.name for v in ts.vars) - needed


@functools.lru_cache(maxsize=16)
def pinned(ts: TransitionSystem) -> TransitionSystem:
    """``ts`` with each variable nothing reads (:func:`unread`) frozen: no step assigns
    it, and a wide one that init leaves free starts at 0.  Every run of ``ts`` has one
    here of the same steps, with the same values in every other location and so the
    same goal values (nothing reads the difference), and conversely: the verdicts and
    steps are those of ``ts``, and a run found here is taken again on ``ts`` by the
    interpreter (:func:`lift`).  fuse_connseq declares the base's per-fud
    ``write_seq`` free in ``w64_free`` but counts with ``conn_seq`` alone: pinned, it
    has one free start, which :func:`check` can narrow."""
    nothing_reads = unread(ts)
    if not nothing_reads:
        return ts
    wide = {
        v.name: v.type
        for v in ts.vars
        if v.name in nothing_reads and isinstance(v.type, BitVecType) and v.type.width >= MIN_WIDE
    }

    def body(stmts: tuple[Stmt, ...], start: bool) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for st in stmts:
            match st:
                case Assign(name=name, value=None) if start and name in wide:
                    out.append(dataclasses.replace(st, value=Lit(0, wide[name], st.span)))
                case Assign(name=name) if not start and name in nothing_reads:
                    pass
                case If(then=t, else_=f):
                    out.append(dataclasses.replace(st, then=body(t, start), else_=body(f, start)))
                case ForAll(body=b):
                    out.append(dataclasses.replace(st, body=body(b, start)))
                case _:
                    out.append(st)
        return tuple(out)

    actions = tuple(dataclasses.replace(a, body=body(a.body, False)) for a in ts.actions)
    out = dataclasses.replace(ts, init=body(ts.init, True), actions=actions)
    return ts if out == ts else out


def wide_free(ts: TransitionSystem) -> tuple[int, Slot] | None:
    """The width and location of ``ts``'s one free wide start: the only location of a
    bit-vector type of at least :data:`MIN_WIDE` bits whose initial value init leaves
    free, once those of variables nothing reads are pinned (:func:`pinned`).  None
    when there is none, or more than one such location (two counters starting
    anywhere: their distance matters too), or more than one width."""
    return _wide_free(pinned(ts))


def _wide_free(ts: TransitionSystem) -> tuple[int, Slot] | None:
    """:func:`wide_free` of a system already pinned."""
    widths = {
        v.type.width for v in ts.vars if isinstance(v.type, BitVecType) and v.type.width >= MIN_WIDE
    }
    if len(widths) != 1:
        return None
    (wide,) = widths
    enc = Encoding(ts, _options(ts))
    st = enc.state(0)
    init = enc.init_terms()
    free = [s for s in _wide_slots(enc, wide) if init[s].eq(st[s])]
    return (wide, free[0]) if len(free) == 1 else None


def _name(slot: Slot) -> str:
    name, key = slot
    return name + ("[" + ", ".join(str(k) for k in key) + "]" if key else "")


def starting(nts: TransitionSystem, slot: Slot, width: int, m: int) -> TransitionSystem:
    """The narrow system ``nts`` with its free start only where a wide one's related
    start lies (the obligations' ``f``): within ``m`` of 0 or of half-way, or at a
    quarter point for the rest of each half.  Every wide start has its narrow one
    there (the starts' obligation proves it of this system), and fewer starts are
    fewer states to search: 40 of 64 at 6 bits."""
    name, key = slot
    assert key is not None
    v = next(x for x in nts.vars if x.name == name)
    assert isinstance(v.type, BitVecType)
    full, half = 1 << width, 1 << (width - 1)
    values = sorted(
        {d % full for d in range(-m, m + 1)}
        | {(half + d) % full for d in range(-m, m + 1)}
        | {half // 2, 3 * half // 2}
    )
    place = Var(name, tuple(Lit(k, t) for k, t in zip(key, v.index, strict=True)), v.type)
    cond: Expr | None = None
    for x in values:
        value = x - full if v.type.signed and x >= half else x
        eq = Binary(BinOp.EQ, place, Lit(value, v.type), BOOL)
        cond = eq if cond is None else Binary(BinOp.OR, cond, eq, BOOL)
    assert cond is not None
    return dataclasses.replace(nts, init=(*nts.init, Assume(cond)))


# ---- the check ---------------------------------------------------------------------


class _Pair:
    """The wide and the narrow encoding in one Z3 context (the wide one's): the narrow
    terms are translated into it.  A location of the same name and sort is the same
    constant in both (every non-wide location, the chosen values): that is ``R_b``'s
    equality on them.  Wide locations differ in width, so they stay apart."""

    def __init__(
        self, ts: TransitionSystem, wide: int, width: int, narrow_ts: TransitionSystem | None = None
    ) -> None:
        self.narrow_ts = narrowed(ts, wide, width) if narrow_ts is None else narrow_ts
        self.w = Encoding(ts, _options(ts))
        self.n = Encoding(self.narrow_ts, _options(self.narrow_ts))
        self.ctx = self.w.ctx
        self.wide, self.width = wide, width
        self.slots = _wide_slots(self.w, wide)
        self.x = z3.BitVec("narrow#X", wide, self.ctx)
        self.xn = z3.BitVec("narrow#Xn", width, self.ctx)
        self.b = z3.BitVec("narrow#band", width, self.ctx)
        if [s for s in self.n.slots] != list(self.w.slots):
            raise AssertionError("the narrow system's locations differ")

    def tr(self, t: Z) -> Z:
        return t.translate(self.ctx)

    def ext(self, t: Z) -> Z:
        return z3.ZeroExt(self.wide - self.width, t)

    def related(self, sw: Z, sn: Z, band: Z) -> tuple[Z, Z]:
        """(``X``-based, constant): the two ways a wide and a narrow value relate."""
        based = z3.And(sw - self.x == self.ext(sn - self.xn), z3.ULE(sn - self.xn, band))
        const = z3.And(sw == self.ext(sn), z3.ULE(sn, band))
        return based, const

    def lie_alike(self, x: Z, xn: Z, m: int) -> Z:
        """``C(X, X')``: the starts lie alike relative to the wraps."""
        W, V = self.wide, self.width
        half, halfn = (
            z3.BitVecVal(1 << (W - 1), W, self.ctx),
            z3.BitVecVal(1 << (V - 1), V, self.ctx),
        )

        def near(v: Z, width: int) -> Z:
            return z3.And(
                v >= z3.BitVecVal(-m, width, self.ctx), v <= z3.BitVecVal(m, width, self.ctx)
            )

        return z3.And(
            near(x, W) == near(xn, V),
            z3.Implies(near(x, W), x == z3.SignExt(W - V, xn)),
            near(x - half, W) == near(xn - halfn, V),
            z3.Implies(near(x - half, W), x - half == z3.SignExt(W - V, xn - halfn)),
            z3.ULT(x, half) == z3.ULT(xn, halfn),
        )

    def f(self, x: Z, m: int) -> Z:
        """A narrow start lying as ``x`` does."""
        W, V = self.wide, self.width
        half = z3.BitVecVal(1 << (W - 1), W, self.ctx)
        halfn = z3.BitVecVal(1 << (V - 1), V, self.ctx)
        lo, hi = z3.BitVecVal(-m, W, self.ctx), z3.BitVecVal(m, W, self.ctx)
        cut = functools.partial(z3.Extract, V - 1, 0)
        return z3.If(
            z3.And(x >= lo, x <= hi),
            cut(x),
            z3.If(
                z3.And(x - half >= lo, x - half <= hi),
                halfn + cut(x - half),
                z3.If(
                    z3.ULT(x, half),
                    z3.BitVecVal(1 << (V - 2), V, self.ctx),
                    z3.BitVecVal(3 << (V - 2), V, self.ctx),
                ),
            ),
        )

    def g(self, xn: Z, m: int) -> Z:
        """A wide start lying as ``xn`` does."""
        W, V = self.wide, self.width
        half = z3.BitVecVal(1 << (W - 1), W, self.ctx)
        halfn = z3.BitVecVal(1 << (V - 1), V, self.ctx)
        lo, hi = z3.BitVecVal(-m, V, self.ctx), z3.BitVecVal(m, V, self.ctx)
        return z3.If(
            z3.And(xn >= lo, xn <= hi),
            z3.SignExt(W - V, xn),
            z3.If(
                z3.And(xn - halfn >= lo, xn - halfn <= hi),
                half + z3.SignExt(W - V, xn - halfn),
                z3.If(
                    z3.ULT(xn, halfn),
                    z3.BitVecVal(1 << (W - 2), W, self.ctx),
                    z3.BitVecVal(3 << (W - 2), W, self.ctx),
                ),
            ),
        )


def _unsat(ctx: z3.Context, constraints: Sequence[Z], deadline: float | None) -> bool:
    """A fresh plain Z3 solver: its default one (the bit-blasting tactic took half as
    long again on these small queries)."""
    s = solvers.plain(ctx, bv=False)
    if not solvers.set_deadline(s, deadline):
        raise _Undecided
    s.add(*constraints)
    r = s.check()
    if r == z3.unknown:
        raise _Undecided
    return bool(r == z3.unsat)


def check(
    ts: TransitionSystem,
    limit: int | Ranking,
    width: int | None = None,
    deadline: float | None = None,
) -> Narrowing | Literal[False] | None:
    """The narrowing of ``ts``'s free wide start, to ``width`` bits (default
    :func:`narrow_width`), with every obligation of the module docstring proved, for
    runs of at most ``limit`` steps, or (a :class:`~fusever.ranking.Ranking` used as a
    budget) for every run, the wide values moving at most ``limit.bound`` times;
    False when one fails or ``ts`` has no single free wide start; None when a query
    ran out of time."""
    ts = pinned(ts)
    found = _wide_free(ts)
    if found is None:
        return False
    wide, free = found
    budget = limit if isinstance(limit, Ranking) else None
    bound = limit.bound if isinstance(limit, Ranking) else limit
    if budget is not None and not ranking.well_formed(ts, budget):
        return False
    width = narrow_width(bound) if width is None else width
    if width >= wide or (1 << (width - 1)) <= 4 * bound + 4:
        return False
    key = (ts, bound, width, budget)
    if key in _PROVED:  # the same queries, asked again (a certificate's re-check)
        return _PROVED[key]
    system = starting(narrowed(ts, wide, width), free, width, 2 * bound + 1)
    try:
        ok = _proved(_Pair(ts, wide, width, system), free, bound, budget, deadline)
    except _Undecided:
        return None
    if not ok:
        return False
    out = Narrowing(wide, width, bound, system, free, budget)
    _PROVED[key] = out
    return out


# narrowings proved in this process: asking the same queries again gives the same
# answers (a certificate re-checked right after its proof, a merge's two checks)
_PROVED: dict[tuple[TransitionSystem, int, int, Ranking | None], Narrowing] = {}


def _proved(
    p: _Pair, free: Slot, bound: int, budget: Ranking | None, deadline: float | None
) -> bool:
    m = 2 * bound + 1
    # 0. the budget: at most ``bound`` in every initial state
    if budget is not None:
        b0 = ranking.budget(p.w, p.w.state(0), budget.weights)
        top = z3.BitVecVal(bound, b0.size(), p.ctx)
        if not _unsat(p.ctx, [*p.w.init(), b0 > top], deadline):
            return False
    # 1. the starts: f and g give related ones, and init relates them
    if not _unsat(p.ctx, [z3.Not(p.lie_alike(p.x, p.f(p.x, m), m))], deadline):
        return False
    if not _unsat(p.ctx, [z3.Not(p.lie_alike(p.g(p.xn, m), p.xn, m))], deadline):
        return False
    if not (_init(p, free, m, deadline, wide_first=True) and _init(p, free, m, deadline, False)):
        return False
    # 2. the steps, from every related pair of states
    return _steps(p, bound, budget, m, deadline)


def _init(p: _Pair, free: Slot, m: int, deadline: float | None, wide_first: bool) -> bool:
    """From every initial state of one side, the other side's state with the related
    start (and every other wide location cut or extended) is initial and related."""
    sw, sn = p.w.state(0), {s: p.tr(t) for s, t in p.n.state(0).items()}
    init_w = p.w.init()
    init_n = [p.tr(c) for c in p.n.init()]
    zero = z3.BitVecVal(0, p.width, p.ctx)
    if wide_first:
        x = sw[free]
        sub = [(sn[free], p.f(x, m))]
        sub += [(sn[s], z3.Extract(p.width - 1, 0, sw[s])) for s in p.slots if s != free]
        xn = p.f(x, m)
        given, other = init_w, [z3.substitute(c, *sub) for c in init_n]
        narrow_of = {s: z3.substitute(sn[s], *sub) for s in p.slots}
        wide_of = dict((s, sw[s]) for s in p.slots)
    else:
        xn = sn[free]
        sub = [(sw[free], p.g(xn, m))]
        sub += [(sw[s], p.ext(sn[s])) for s in p.slots if s != free]
        x = p.g(xn, m)
        given, other = init_n, [z3.substitute(c, *sub) for c in init_w]
        narrow_of = dict((s, sn[s]) for s in p.slots)
        wide_of = {s: z3.substitute(sw[s], *sub) for s in p.slots}
    rel = [
        z3.And(wide_of[s] - x == p.ext(narrow_of[s] - xn))
        if s == free
        else z3.And(wide_of[s] == p.ext(narrow_of[s]), narrow_of[s] == zero)
        for s in p.slots
    ]
    goal = z3.And(*other, *rel) if other or rel else z3.BoolVal(True, p.ctx)
    return _unsat(p.ctx, [*given, z3.Not(goal)], deadline)


def _steps(p: _Pair, bound: int, budget: Ranking | None, m: int, deadline: float | None) -> bool:
    shared_w, steps_w = one_step(p.w)
    shared_n, steps_n = one_step(p.n)
    pre_w, post_w = p.w.state(0), p.w.state(1)
    pre_n = {s: p.tr(t) for s, t in p.n.state(0).items()}
    post_n = {s: p.tr(t) for s, t in p.n.state(1).items()}
    band = p.b
    relation: dict[Slot, Z] = {}
    for s in p.slots:
        based, const = p.related(pre_w[s], pre_n[s], band)
        relation[s] = z3.If(_based(p.ctx, _name(s)), based, const)
    starts = [p.lie_alike(p.x, p.xn, m), z3.ULE(band, z3.BitVecVal(bound, p.width, p.ctx))]
    common = [*shared_w, *(p.tr(c) for c in shared_n), *starts]
    owner = {t.get_id(): s for s in p.slots for t in (pre_w[s], pre_n[s])}
    solver = _Solver(p.ctx, common, relation, owner, deadline, starts)
    # the assumptions must admit states, or every obligation holds vacuously
    if solver.unsat(z3.And(*relation.values())):
        return False
    # guards and state goals: the same under R_b, b <= N
    same: list[tuple[Z, Z]] = []
    for q in p.w.ts.properties:
        if not q.two_state:
            same.append((p.w.prop(q, 0), p.tr(p.n.prop(p.n.ts.property(q.name), 0))))
    for iw, inn in zip(steps_w, steps_n, strict=True):
        same.append((_guard(p.ctx, iw), _guard(p.ctx, inn, p.tr)))
    if not all(solver.agree(a, b) for a, b in same):
        return False
    # successors: R_(b+1), and the two-state goals, for b < N; with a budget B,
    # R_(b + B - B') for b + B <= N, where no step raises B
    if budget is None:
        solver.restrict(z3.ULT(band, z3.BitVecVal(bound, p.width, p.ctx)))
    else:
        b_pre = ranking.budget(p.w, pre_w, budget.weights)
        if b_pre.size() <= p.width:
            return False
        top = z3.BitVecVal(bound, b_pre.size(), p.ctx)
        solver.restrict(z3.ZeroExt(b_pre.size() - p.width, band) + b_pre <= top)
    two_state = [
        (p.w.prop(q, 1), p.tr(p.n.prop(p.n.ts.property(q.name), 1)))
        for q in p.w.ts.properties
        if q.two_state
    ]
    for iw, inn in zip(steps_w, steps_n, strict=True):
        if iw is None or inn is None:
            continue  # never enabled on either side (same guards, shown above)
        tw = dict(iw.writes)
        tn = {s: p.tr(t) for s, t in inn.writes}
        guard = _guard(p.ctx, iw)
        if budget is None:
            nxt = band + 1
        else:
            b_post = ranking.budget(
                p.w, {s: tw.get(s, pre_w[s]) for s in p.w.slots}, budget.weights
            )
            if not solver.unsat(z3.And(guard, b_post > b_pre)):
                return False
            nxt = band + z3.Extract(p.width - 1, 0, b_pre - b_post)
        # a location neither side writes stays related: R_b implies R_(b+1)
        for s in dict.fromkeys([*tw, *tn]):
            a, b = tw.get(s, pre_w[s]), tn.get(s, pre_n[s])
            if s in relation:
                based, const = p.related(a, b, nxt)
                if not solver.unsat(z3.And(guard, z3.Not(z3.Or(based, const)))):
                    return False
            elif not solver.agree(a, b, guard):
                return False
        sub_w = [(post_w[s], tw.get(s, pre_w[s])) for s in p.w.slots]
        sub_n = [(post_n[s], tn.get(s, pre_n[s])) for s in p.w.slots]
        for qw, qn in two_state:
            if not solver.agree(z3.substitute(qw, *sub_w), z3.substitute(qn, *sub_n), guard):
                return False
    return True


class _Solver:
    """The related pre-states, asked about one claim at a time.

    :meth:`agree` splits the claim "the wide and the narrow term are equal" down their
    common structure to the atoms that read wide values (a comparison of two
    counters), and shows each atom equal on its own:

    - first as an instance of a *lemma* (:meth:`_lemma`): the atom with every wide
      location replaced by a fresh pair of variables related as the locations are, and
      every other subterm the two sides share by a fresh variable of its sort, shown
      equal from ``C`` and that relation alone.  The pre-states' assumptions imply the
      lemma's, so its instance holds; and the forty-odd atoms of a spec come down to
      a dozen or so lemmas, each asked once;
    - else directly, under the relation for the wide locations it reads (dropping an
      assumption only admits more states, so an unsat answer still stands), and under
      the step's guard when it fails without.

    An atom shown equal from every related pair of states is not asked again under
    another guard.  Both maps keep the terms they are keyed by alive: Z3 reuses the id
    of a term Python has dropped."""

    def __init__(
        self,
        ctx: z3.Context,
        common: Sequence[Z],
        relation: dict[Slot, Z],
        owner: dict[int, Slot],
        deadline: float | None,
        starts: Sequence[Z],
    ) -> None:
        self.ctx = ctx
        self.common = list(common)
        self.relation = relation
        self.owner = owner
        self.deadline = deadline
        self.starts = list(starts)
        self.known: dict[tuple[int, int], tuple[Z, Z]] = {}
        self.lemmas: dict[tuple[int, ...], tuple[list[Z], bool]] = {}

    def restrict(self, c: Z) -> None:
        """Assume ``c`` from now on (it only narrows what was shown before)."""
        self.common.append(c)

    def unsat(self, claim: Z) -> bool:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _Undecided
        read = mentioned([claim], self.owner)
        cs = [*self.common, *(self.relation[s] for s in read), claim]
        return _unsat(self.ctx, cs, self.deadline)

    def agree(self, a: Z, b: Z, under: Z | None = None) -> bool:
        atoms: list[tuple[Z, Z]] = []
        _atoms(a, b, atoms, set())
        for x, y in atoms:
            key = (x.get_id(), y.get_id())
            if key in self.known:
                continue
            if self._lemma(x, y) or self.unsat(x != y):
                self.known[key] = (x, y)
            elif under is None or not self.unsat(z3.And(under, x != y)):
                return False
        return True

    def _lemma(self, x: Z, y: Z) -> bool:
        """``x == y`` as an instance of a lemma proved (now or before), or False.  The
        lemma's assumptions are the pre-states' (``C`` and ``b <= N``, and each wide
        location's relation), renamed as :func:`generalized` renames the atom."""
        g = generalized(x, y, self.owner, self.ctx)
        if g is None:
            return False
        rel = [
            z3.substitute(
                self.relation[slot], *sub, (_based(self.ctx, _name(slot)), _based(self.ctx, str(k)))
            )
            for k, (slot, sub) in enumerate(g.pairs)
        ]
        terms = [g.x, g.y, *rel]
        key = tuple(t.get_id() for t in terms)
        if key not in self.lemmas:
            claim = [*self.starts, *rel, g.x != g.y]
            self.lemmas[key] = (terms, _unsat(self.ctx, claim, self.deadline))
        return self.lemmas[key][1]


@dataclass(frozen=True, slots=True)
class Generalized:
    """Two terms made general: the originals are ``x`` and ``y`` with each of
    ``sigma``'s variables put back by its term.  ``pairs``: per wide location, in
    order, its two constants (wide, narrow), each with the variable put for it;
    ``shared``: (variable, term) for what the two sides share."""

    x: Z
    y: Z
    pairs: tuple[tuple[Slot, tuple[tuple[Z, Z], tuple[Z, Z]]], ...]
    shared: tuple[tuple[Z, Z], ...]

    @property
    def sigma(self) -> tuple[tuple[Z, Z], ...]:
        """(variable, term) for every variable put."""
        located = ((v, t) for _, wn in self.pairs for t, v in wn)
        return (*located, *self.shared)


def generalized(x: Z, y: Z, owner: dict[int, Slot], ctx: z3.Context) -> Generalized | None:
    """``x`` and ``y`` with each wide location's constant (``owner``: by term id) put
    by a variable of its width, one pair per location, and each maximal subterm that
    reads no wide location and is no literal put by a variable of its sort, the same
    term by the same variable on both sides; None when a location is read on one side
    only.  A lemma about the result is one about every instance, ``x`` and ``y``
    among them."""
    done: dict[int, Z] = {}  # a subterm that reads a wide location, generalized
    same: dict[int, tuple[Z, Z]] = {}  # a subterm that does not: (variable, term)
    pairs: dict[Slot, dict[int, tuple[Z, Z]]] = {}  # a location's (variable, term), by width

    def general(t: Z) -> tuple[Z, bool]:
        """``t`` generalized, and whether it reads a wide location."""
        i = t.get_id()
        if i in done:
            return done[i], True
        slot = owner.get(i)
        if slot is not None:
            pair = pairs.setdefault(slot, {})
            name = f"narrow#{list(pairs).index(slot)}:{t.size()}"
            done[i] = z3.BitVec(name, t.size(), ctx)
            pair[t.size()] = (done[i], t)
            return done[i], True
        if not z3.is_app(t) or t.num_args() == 0:
            return t, False
        kids = [general(c) for c in t.children()]
        if not any(w for _, w in kids):
            return t, False
        done[i] = t.decl()(*(k if w or _value(k) else shared(k) for k, w in kids))
        return done[i], True

    def shared(t: Z) -> Z:
        i = t.get_id()
        if i not in same:
            same[i] = (z3.Const(f"narrow#u{len(same)}", t.sort()), t)
        return same[i][0]

    gx, gy = general(x)[0], general(y)[0]
    if any(len(p) != 2 for p in pairs.values()):
        return None
    # (term, variable): the wide constant first
    wide_narrow = {
        slot: ((p[w][1], p[w][0]), (p[n][1], p[n][0]))
        for slot, p in pairs.items()
        for w, n in [sorted(p, reverse=True)]
    }
    return Generalized(gx, gy, tuple(wide_narrow.items()), tuple(same.values()))


def _based(ctx: z3.Context, name: str) -> Z:
    """Which way a wide location relates (``X``-based or a constant): free, as the
    relation is a disjunction."""
    return z3.Bool(f"narrow#based {name}", ctx)


def _value(t: Z) -> bool:
    return bool(z3.is_bv_value(t) or z3.is_true(t) or z3.is_false(t) or z3.is_int_value(t))


def _atoms(a: Z, b: Z, out: list[tuple[Z, Z]], seen: set[tuple[int, int]]) -> None:
    """The pairs whose equality makes ``a == b``: the terms' common structure (the same
    operator over children of the same sorts) followed down to where they differ."""
    key = (a.get_id(), b.get_id())
    if key in seen or a.eq(b):
        return
    seen.add(key)
    n = a.num_args()
    same_op = (
        n > 0
        and n == b.num_args()
        and a.decl().kind() == b.decl().kind()
        and a.decl().kind() != z3.Z3_OP_UNINTERPRETED
        and a.decl().params() == b.decl().params()
        and all(a.arg(i).sort().eq(b.arg(i).sort()) for i in range(n))
    )
    if not same_op:
        out.append((a, b))
        return
    for i in range(n):
        _atoms(a.arg(i), b.arg(i), out, seen)


def _guard(ctx: z3.Context, inst: Instance | None, tr: Any = None) -> Z:
    if inst is None:
        return z3.BoolVal(False, ctx)
    parts = [t if tr is None else tr(t) for t in inst.guard]
    return z3.And(*parts) if parts else z3.BoolVal(True, ctx)


def start(n: Narrowing, xn: int) -> int:
    """The wide start lying as the narrow start ``xn`` does (the obligations' ``g``)."""
    W, V, m = n.wide, n.width, 2 * n.bound + 1

    def signed(v: int, w: int) -> int:
        v %= 1 << w
        return v - (1 << w) if v >= 1 << (w - 1) else v

    if -m <= signed(xn, V) <= m:
        return signed(xn, V) % (1 << W)
    if -m <= signed(xn - (1 << (V - 1)), V) <= m:
        return ((1 << (W - 1)) + signed(xn - (1 << (V - 1)), V)) % (1 << W)
    return (1 << (W - 2)) if xn % (1 << V) < 1 << (V - 1) else 3 << (W - 2)


def lift(n: Narrowing, ts: TransitionSystem, trace: Trace) -> Trace:
    """A run of the narrow system as a run of the wide ``ts``: the wide start lying as
    the narrow one does, then the same steps, taken by the interpreter
    (:class:`fusever.interpret.ReplayError` if one is not enabled: the narrowing is
    wrong).  The caller replays it against its goal."""
    first = trace.steps[0].state
    name, key = n.slot
    assert key is not None
    init = {v: dict(vals) for v, vals in first.items()}
    xn = init[name][key]
    assert isinstance(xn, int)
    init[name][key] = start(n, xn)
    steps = [Step(None, (), init)]
    state: State = init
    for st in trace.steps[1:]:
        assert st.action is not None
        state = interpret.step(ts, state, st.action, dict(st.args))
        steps.append(Step(st.action, st.args, state))
    return Trace(tuple(steps))


def lifted(n: Narrowing, ts: TransitionSystem, r: Result) -> Result:
    """A result found on the narrow system, as one of the wide ``ts``: its trace (a
    violation or a witness) lifted (:func:`lift`) and replayed against its goal; one
    that does not replay contradicts the narrowing: :class:`NarrowingBug`."""
    if r.trace is None or r.verdict not in (Verdict.VIOLATED, Verdict.COVERED):
        return r
    try:
        trace = lift(n, ts, r.trace)
        instance = interpret.replay(ts, trace, ts.property(r.property))
    except interpret.ReplayError as e:
        raise NarrowingBug(
            f"{ts.name}: {r.property}'s trace at step {r.step}, with {n.text()}, "
            f"is no run of the wide system: {e}"
        ) from e
    return dataclasses.replace(r, trace=trace, instance=instance)


def refused(results: Sequence[Result]) -> bool:
    """The explicit engine refused the configuration: its initial states cannot be
    enumerated (a free start of a wide counter), so it decided nothing."""
    return bool(results) and all(
        r.verdict is Verdict.UNKNOWN and "does not apply" in (r.reason or "") for r in results
    )


def explicit_search(
    job: Job, progress: Callable[[Progress], None] | None = None, bound: int | None = None
) -> tuple[Result, ...]:
    """The explicit search (:func:`fusever.explicit.run`).  Where it is refused for a
    free start of a wide counter, the search of the system narrowed to a few bits
    (:func:`plan` with a budget: how often the wide values move, however long the
    run), once the solver has proved the narrowing; its traces are lifted to the wide
    system and replayed there (:func:`lifted`)."""
    start = time.monotonic()
    out = explicit.run(job, progress, bound=bound).results
    if not refused(out) or wide_free(job.ts) is None:
        return out
    n = plan(job.ts, None, job.deadline)
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
            lifted(n, job.ts, r),
            seconds=round(r.seconds + checked, 3),
            reason=f"{r.reason}, {why}" if r.reason else r.reason,
        )
        for r in explicit.run(njob, progress, bound=bound).results
    )


def decider(engine: str, ts: TransitionSystem) -> str:
    """The name (:data:`fusever.provenance.ENGINE_MODULES`) of the code that decides
    ``engine``'s verdicts on ``ts``: the explicit engine on a free wide start decides
    through :func:`explicit_search` and this module."""
    if engine == "explicit" and wide_free(ts) is not None:
        return "explicit-narrowed"
    return engine


def plan(
    ts: TransitionSystem, bound: int | None, deadline: float | None = None
) -> Narrowing | None:
    """:func:`check` at the default width, None unless every obligation is proved: with
    a budget when the solver finds one (:func:`fusever.ranking.find` with the wide
    variables ``growing``) that bounds the moves by ``bound`` at most (it holds for
    runs of any length), else for runs of at
    most ``bound`` steps (None: with a budget only)."""
    found = wide_free(ts)
    if found is None:
        return None
    wide = frozenset(
        v.name for v in ts.vars if isinstance(v.type, BitVecType) and v.type.width == found[0]
    )
    moves = ranking.find(ts, deadline, growing=wide).ranking
    if moves is not None and (bound is None or moves.bound <= bound):
        out = check(ts, moves, None, deadline)
        if isinstance(out, Narrowing) or out is None:
            return out or None
    out = check(ts, bound, None, deadline) if bound is not None else None
    return out if isinstance(out, Narrowing) else None
