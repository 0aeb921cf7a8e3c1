"""Runs that end: a ranking function found by the solver and checked in one step.

When every run of a spec ends within ``N`` steps, BMC to ``N`` decides every
property for all depths.  Asking "is there a run of ``N + 1`` steps" as an unrolling
(:func:`fusever.kind.longest_run`) is as hard as the search itself; this module asks
instead for a *measure* that every step strictly lowers:

    M(s) = sum over control terms t of  w_t * #t(s)

where a control term is a (state variable, value) pair of an enum or bool variable of
the kernel state (an actor's pc, a notification's state, a flag) and ``#t(s)`` is how
many of the variable's cells hold that value in ``s``: "how many openers are still
idle", "how many notifications are unsent".  The integer weights are found by
counterexample-guided search: a candidate from :class:`z3.Optimize` over the steps
seen so far, then one query over *every* step from *any* state (not only reachable
ones) asking for a step that does not lower ``M``; its step joins the samples, until
no such step exists (a ranking function) or no weights fit the samples (none over
these terms: runs may go on, or the argument needs more than control state).

The bound: every step lowers ``M`` by at least 1 and ``M`` never goes below its
minimum over all states, so a run from ``s0`` has at most ``M(s0) - min M`` steps;
``N`` is that over every initial state (the solver's maximum over ``init``).

:func:`check` re-checks a ranking function from its text alone, by a fresh plain Z3
solver: the one-step query, and the bound recomputed.  It is what a certificate
holds, so a proof that rests on "runs end" rests on a check, not on a search.  The
kernel projection (:func:`fusever.ts.kernel_projection`) has every run of the spec,
so its ranking bounds the spec's runs.  Nothing here prints.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from fusever import solvers
from fusever.encode import EncodeOptions, Encoding, Slot
from fusever.ts import (
    BoolType,
    EnumType,
    Key,
    SortType,
    TransitionSystem,
    Value,
    kernel_projection,
    keys,
)

__all__ = [
    "Found",
    "Instance",
    "Ranking",
    "Term",
    "budget",
    "check",
    "find",
    "one_step",
    "parse",
    "ranges",
    "terms",
    "well_formed",
]

Z = Any  # z3 terms carry no types mypy can use

MAX_WEIGHT = 64  # |w| at most this: the bound stays small and the search finite
MAX_ROUNDS = 400  # counterexamples taken before giving up


@dataclass(frozen=True, slots=True, order=True)
class Term:
    """How many cells of ``var`` hold ``value`` (a member name, or True/False)."""

    var: str
    value: Value

    def __str__(self) -> str:
        v = "true" if self.value is True else "false" if self.value is False else self.value
        return f"#({self.var} == {v})"


@dataclass(frozen=True, slots=True)
class Ranking:
    """A measure every step lowers, and the bound it gives: no run is longer."""

    weights: tuple[tuple[Term, int], ...]  # nonzero weights, in term order
    bound: int

    def text(self) -> str:
        """The measure as text :func:`parse` reads back (stored in certificates)."""
        return " + ".join(f"{w}*{t}" for t, w in self.weights) or "0"


@dataclass(frozen=True, slots=True)
class Found:
    """:func:`find`'s answer: a ranking function, or None and why not."""

    ranking: Ranking | None
    reason: str
    rounds: int  # counterexamples taken


def parse(text: str) -> tuple[tuple[Term, int], ...]:
    """The weights of :meth:`Ranking.text`; ValueError on anything else."""
    out: list[tuple[Term, int]] = []
    if text.strip() == "0":
        return ()
    for part in text.split(" + "):
        w, sep, rest = part.strip().partition("*#(")
        if not sep or not rest.endswith(")") or " == " not in rest:
            raise ValueError(f"ranking: cannot read `{part.strip()}`")
        var, _, value = rest[:-1].partition(" == ")
        val: Value = True if value == "true" else False if value == "false" else value
        try:
            out.append((Term(var, val), int(w)))
        except ValueError:
            raise ValueError(f"ranking: weight `{w}` is not an integer") from None
    return tuple(out)


# ---- locations in range ----------------------------------------------------------


def ranges(enc: Encoding, k: int) -> list[Z]:
    """Step ``k``'s sort and enum locations hold one of their type's values (the
    encoding's bit-vectors may be wider); init states it at step 0 only."""
    out: list[Z] = []
    for v in enc.ts.vars:
        match v.type:
            case SortType(size=n):
                size = n
            case EnumType(members=m):
                size = len(m)
            case _:
                continue
        for key in keys(v.index):
            loc = enc.location(k, v.name, key)
            if size < (1 << loc.size()):
                out.append(z3.ULT(loc, z3.BitVecVal(size, loc.size(), enc.ctx)))
    return out


# ---- the terms and the measure ----------------------------------------------------


def terms(ts: TransitionSystem) -> tuple[Term, ...]:
    """Every control term of ``ts``'s kernel state, in declaration order."""
    out: list[Term] = []
    for v in ts.vars:
        if v.ghost:
            continue
        match v.type:
            case EnumType(members=members):
                out.extend(Term(v.name, m) for m in members)
            case BoolType():
                out.extend((Term(v.name, True), Term(v.name, False)))
            case _:
                pass
    return tuple(out)


def _width(ts: TransitionSystem) -> int:
    """Bits that hold any measure with weights up to MAX_WEIGHT, signed."""
    cells = sum(len(keys(v.index)) * 2 for v in ts.vars if not v.ghost)
    return (cells * MAX_WEIGHT).bit_length() + 2


def _counts(
    enc: Encoding, cell: Callable[[str, Key], Z], ts: Sequence[Term], width: int
) -> list[Z]:
    """``#t`` for each term over the state whose locations ``cell`` gives, as
    bit-vectors of ``width`` (one theory with the rest of the step, so Z3's
    bit-blaster takes the query)."""
    one, zero = z3.BitVecVal(1, width, enc.ctx), z3.BitVecVal(0, width, enc.ctx)
    out = []
    for t in ts:
        v = enc.vars[t.var]
        cells = [cell(t.var, key) for key in keys(v.index)]
        hits = [z3.If(c == enc.const(v.type, t.value), one, zero) for c in cells]
        out.append(hits[0] if len(hits) == 1 else z3.Sum(*hits))
    return out


def _measure(counts: Sequence[Z], weights: Sequence[int], width: int, ctx: z3.Context) -> Z:
    zero = z3.BitVecVal(0, width, ctx)
    parts = [c * z3.BitVecVal(w, width, ctx) for c, w in zip(counts, weights, strict=True) if w]
    return z3.Sum(zero, *parts)


def _floor(ts: TransitionSystem, weights: dict[Term, int]) -> int:
    """The least value the measure takes over all states: per variable, every cell at
    its lowest-weighted value."""
    total = 0
    for v in ts.vars:
        match v.type:
            case EnumType(members=members):
                values: tuple[Value, ...] = members
            case BoolType():
                values = (True, False)
            case _:
                continue
        cells = len(keys(v.index))
        total += cells * min(weights.get(Term(v.name, x), 0) for x in values)
    return total


def budget(enc: Encoding, state: Mapping[Slot, Z], weights: Sequence[tuple[Term, int]]) -> Z:
    """The measure of ``weights`` minus its floor, over ``state`` (a term per location of
    ``enc``, maps expanded): a signed bit-vector of :func:`_width` bits, at least 0 in
    every state."""
    width = _width(enc.ts)
    counts = _counts(enc, lambda name, key: state[(name, key)], [t for t, _ in weights], width)
    floor = z3.BitVecVal(_floor(enc.ts, dict(weights)), width, enc.ctx)
    return _measure(counts, [w for _, w in weights], width, enc.ctx) - floor


def _encoding(ts: TransitionSystem) -> Encoding:
    return Encoding(kernel_projection(ts), EncodeOptions(por="off", selector="onehot"))


class Unsplit(Exception):
    """The step's constraints are not in the form :func:`_split` reads (a change in
    :mod:`fusever.encode`): no ranking is found or accepted, rather than a wrong one."""


@dataclass(frozen=True, slots=True)
class Instance:
    """One action instance's step from any state: when it may be taken, and what it
    writes (a term over step 0 per location it may change)."""

    guard: tuple[Z, ...]
    writes: tuple[tuple[Slot, Z], ...]
    index: int = -1  # its position in ``enc.instances``


def one_step(
    enc: Encoding, control: set[str] | None = None
) -> tuple[list[Z], list[Instance | None]]:
    """One step from any state, per action instance of ``enc.instances`` (None where
    the guard is false whatever the state): the constraints every instance shares
    (every location and chosen value in its type's range) and each instance's guard
    and writes to the locations of ``control`` (None: every location), read off
    :meth:`Encoding.step` (one-hot selectors: ``Implies(sel_i, guard_i)``,
    ``Not(sel_i)`` for a disabled one, and ``post == If(sel_a, t_a, If(sel_b, t_b,
    ... pre))`` per location)."""
    n = len(enc.instances)
    step = enc.step(0)
    sel = {enc.selected(0, i).get_id(): i for i in range(n + 1)}
    pre, post = enc.state(0), enc.state(1)
    post_slot = {post[slot].get_id(): slot for slot in enc.slots}
    shared: list[Z] = list(ranges(enc, 0))
    guards: list[list[Z]] = [[] for _ in range(n)]
    disabled: set[int] = set()
    writes: list[dict[Slot, Z]] = [{} for _ in range(n)]
    for c in step:
        if z3.is_eq(c) and c.arg(0).get_id() in post_slot:
            slot = post_slot[c.arg(0).get_id()]
            if control is None or slot[0] in control:
                _chain(c.arg(1), pre[slot], sel, slot, writes)
        elif z3.is_implies(c) and c.arg(0).get_id() in sel:
            guards[sel[c.arg(0).get_id()]].append(c.arg(1))
        elif z3.is_not(c) and c.arg(0).get_id() in sel:
            disabled.add(sel[c.arg(0).get_id()])
        elif not _mentions(c, sel):
            shared.append(c)  # a chosen value's range
        # the rest ties the selectors together (exactly one): fixed per instance here
    out = [
        None if i in disabled else Instance(tuple(guards[i]), tuple(writes[i].items()), i)
        for i in range(n)
    ]
    return shared, out


def _split(
    enc: Encoding, terms_: Sequence[Term], growing: frozenset[str] = frozenset()
) -> tuple[list[Z], list[Instance]]:
    """:func:`one_step`'s enabled instances and their writes to control locations (and
    to ``growing``'s, which no measure weighs).  Dropping the writes to other locations
    only adds steps, so a measure they all lower is lowered by the real ones too."""
    shared, steps = one_step(enc, {t.var for t in terms_} | growing)
    return shared, [x for x in steps if x is not None]


def _grows(enc: Encoding, inst: Instance, growing: frozenset[str]) -> bool:
    """Whether the instance writes a location of ``growing`` with a value other than a
    location's or a constant (``seq + 1``, not ``seq`` or ``0``): read off its terms,
    to choose which steps a budget must lower (what rests on it is checked apart)."""
    pre = {t.get_id() for t in enc.state(0).values()}

    def copied(t: Z) -> bool:
        if z3.is_app_of(t, z3.Z3_OP_ITE):
            return copied(t.arg(1)) and copied(t.arg(2))
        return t.get_id() in pre or z3.is_bv_value(t) or z3.is_int_value(t)

    return any(slot[0] in growing and not copied(t) for slot, t in inst.writes)


def _chain(e: Z, pre: Z, sel: dict[int, int], slot: Slot, writes: list[dict[Slot, Z]]) -> None:
    while not e.eq(pre):
        if not (z3.is_app_of(e, z3.Z3_OP_ITE) and e.arg(0).get_id() in sel):
            raise Unsplit(f"the update of {slot[0]} is not a chain over the selectors")
        i = sel[e.arg(0).get_id()]
        writes[i].setdefault(slot, e.arg(1))
        e = e.arg(2)


def _mentions(c: Z, sel: dict[int, int]) -> bool:
    stack, seen = [c], set()
    while stack:
        t = stack.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if t.get_id() in sel:
            return True
        stack.extend(t.children())
    return False


def _weigher(enc: Encoding, weights: dict[Term, int], width: int) -> dict[str, list[tuple[Z, Z]]]:
    """Per variable, each weighted value's constant with its weight (built once per
    candidate: z3's Python constructors dominate otherwise)."""
    out: dict[str, list[tuple[Z, Z]]] = {}
    for t, w in weights.items():
        if w:
            value = enc.const(enc.vars[t.var].type, t.value)
            out.setdefault(t.var, []).append((value, z3.BitVecVal(w, width, enc.ctx)))
    return out


def _change(enc: Encoding, inst: Instance, weigher: dict[str, list[tuple[Z, Z]]], width: int) -> Z:
    """How much the instance's step changes the measure (post minus pre)."""
    zero = z3.BitVecVal(0, width, enc.ctx)

    def weight(name: str, term: Z) -> Z:
        out = zero
        for value, w in weigher.get(name, ()):
            out = z3.If(term == value, w, out)
        return out

    pre = enc.state(0)
    parts = [
        weight(slot[0], term) - weight(slot[0], pre[slot])
        for slot, term in inst.writes
        if slot[0] in weigher
    ]
    return z3.Sum(zero, *parts) if parts else zero


@dataclass(frozen=True, slots=True)
class _Verdict:
    """Whether every step lowers a measure: ``failing`` holds a (model, instance) per
    instance with a step that does not (all of them, or the first with ``first``);
    ``unknown`` the solver's reason when it did not say."""

    failing: tuple[tuple[Any, Instance], ...] = ()
    unknown: str | None = None

    @property
    def lowered(self) -> bool:
        return not self.failing and self.unknown is None


def _not_lowered(
    enc: Encoding,
    shared: Sequence[Z],
    steps: Sequence[Instance],
    weights: dict[Term, int],
    width: int,
    deadline: float | None,
    first: bool = False,
    strict: frozenset[int] | None = None,
) -> _Verdict:
    """One query per action instance: a step from any state, in range and past the
    guard, that does not lower the measure (with ``strict``, the instances that must
    lower it, by :attr:`Instance.index`: the others need only not raise it)."""
    weigher = _weigher(enc, weights, width)
    zero = z3.BitVecVal(0, width, enc.ctx)
    failing: list[tuple[Any, Instance]] = []
    for inst in steps:
        change = _change(enc, inst, weigher, width)
        lower = strict is None or inst.index in strict
        if z3.is_true(z3.simplify(change < zero if lower else change <= zero)):
            continue  # lowers it whatever the state
        s = _solver(enc, deadline)
        s.add(*shared, *inst.guard)
        s.add(change >= 0 if lower else change > 0)
        status = s.check()
        if status == z3.sat:
            failing.append((s.model(), inst))
            if first:
                break
        elif status != z3.unsat:
            return _Verdict(tuple(failing), str(s.reason_unknown()))
    return _Verdict(tuple(failing))


def _solver(enc: Encoding, deadline: float | None) -> Any:
    """A fresh plain Z3 solver: the bit-blaster (``qfbv``) when the step is all
    bit-vectors, as the kernel projection is in every shipped spec."""
    s = solvers.plain(enc.ctx, enc.solver_kind != "smt")
    solvers.set_deadline(s, deadline)
    return s


def _value(model: Any, term: Z) -> int:
    return int(model.eval(term, model_completion=True).as_signed_long())


def _init_top(enc: Encoding, m: Z, deadline: float | None) -> int | None:
    """The largest measure ``m`` (a term over step 0) over the initial states; None
    when the solver does not say."""
    s = _solver(enc, deadline)
    s.add(*enc.init())
    best: int | None = None
    while True:
        status = s.check()
        if status == z3.unsat:
            return best
        if status != z3.sat:
            return None
        best = _value(s.model(), m)
        s.add(m > z3.BitVecVal(best, m.size(), enc.ctx))


# ---- finding and checking -----------------------------------------------------------


def find(
    ts: TransitionSystem, deadline: float | None = None, *, growing: frozenset[str] = frozenset()
) -> Found:
    """A ranking function over ``ts``'s control terms, or why there is none.

    With ``growing`` (variable names), a *budget* instead: a measure no step raises and
    every step that grows a location of those variables lowers (:func:`_grows`); its
    bound is then how many such steps a run takes at most, however long the run.  It
    is a search: :mod:`fusever.narrow` proves of it what it uses, in its own queries."""
    all_terms = terms(ts)
    if not all_terms:
        return Found(None, "no control state (enum or bool variables) to rank by", 0)
    enc = _encoding(ts)
    width = _width(ts)
    try:
        shared, steps = _split(enc, all_terms, growing)
    except Unsplit as e:
        return Found(None, str(e), 0)
    strict = frozenset(x.index for x in steps if _grows(enc, x, growing)) if growing else None
    pre = _counts(enc, functools.partial(enc.location, 0), all_terms, width)
    init_counts = _init_counts(enc, pre, deadline)
    wctx = z3.Context()
    w = [z3.Int(f"w{i}", wctx) for i in range(len(all_terms))]
    weigh = _Weights(wctx)
    weigh.add(*[c for x in w for c in (x >= -MAX_WEIGHT, x <= MAX_WEIGHT)])
    objective, side = _objective(ts, all_terms, w, init_counts, wctx)
    weigh.add(*side)
    weigh.opt.minimize(objective)
    if growing:  # then the smallest weights (a budget is read by people, in the reason)
        weigh.opt.minimize(z3.Sum(*[z3.If(x >= 0, x, -x) for x in w]))
    for rounds in range(MAX_ROUNDS):
        if deadline is not None and time.monotonic() > deadline:
            return Found(None, "timeout", rounds)
        try:
            model = weigh.next(deadline)
        except _GaveUp:
            return Found(None, "timeout", rounds)
        if model is None:
            return Found(None, _none_fits(rounds), rounds)
        weights = [model.eval(x, model_completion=True).as_long() for x in w]
        by_term = dict(zip(all_terms, weights, strict=True))
        verdict = _not_lowered(enc, shared, steps, by_term, width, deadline, strict=strict)
        if verdict.lowered:
            return _ranked(ts, enc, all_terms, weights, pre, init_counts, rounds, deadline)
        if verdict.unknown is not None:
            return Found(None, f"the solver gave up ({verdict.unknown})", rounds)
        for m, inst in verdict.failing:
            delta = _delta(enc, m, inst, all_terms)
            lower = strict is None or inst.index in strict
            if not any(delta):
                return Found(None, "a step changes no control state: it can repeat", rounds)
            weigh.add(z3.Sum(*[x * d for x, d in zip(w, delta, strict=True) if d]) >= int(lower))
    return Found(None, f"no ranking function after {MAX_ROUNDS} rounds", MAX_ROUNDS)


# the work one optimizing candidate may take (Z3's resource count: deterministic, unlike
# seconds); past it, any weights that fit.  fuse_v2's candidates take 10,000-60,000;
# its create configuration's first took 32,000,000 (3 s) and 90 s to finish.
OPTIMIZE_RLIMIT = 2_000_000


class _GaveUp(Exception):
    """The weights' solver did not answer (a timeout)."""


class _Weights:
    """The candidate weights: the smallest bound that fits the steps seen
    (:class:`z3.Optimize`), or, once optimizing a candidate takes more work than
    :data:`OPTIMIZE_RLIMIT`, any weights that fit (a plain solver over the same
    constraints): still a ranking function once every step lowers it, only with a
    looser bound.  A resource count, not seconds, so the same spec gets the same
    ranking on any machine."""

    def __init__(self, ctx: z3.Context) -> None:
        self.opt = solvers.optimizer(ctx)
        self.plain = solvers.plain(ctx, bv=False)
        self.optimizing = True

    def add(self, *constraints: Z) -> None:
        self.opt.add(*constraints)
        self.plain.add(*constraints)

    def next(self, deadline: float | None) -> Any:
        """A model of the weights, or None when no weights fit; :class:`_GaveUp` when
        the deadline passes first."""
        if not (
            solvers.set_deadline(self.opt, deadline) and solvers.set_deadline(self.plain, deadline)
        ):
            raise _GaveUp
        if self.optimizing:
            solvers.set_work_limit(self.opt, OPTIMIZE_RLIMIT)
            status = self.opt.check()
            if status == z3.sat:
                return self.opt.model()
            if status == z3.unsat:
                return None
            if deadline is not None and time.monotonic() >= deadline:
                raise _GaveUp
            self.optimizing = False  # from here on, feasibility only
        status = self.plain.check()
        if status == z3.unknown:
            raise _GaveUp
        return self.plain.model() if status == z3.sat else None


def _delta(enc: Encoding, m: Any, inst: Instance, all_terms: Sequence[Term]) -> list[int]:
    """Each term's count before the step in model ``m`` minus after it."""
    delta = [0] * len(all_terms)
    pre = enc.state(0)
    for slot, term in inst.writes:
        before, after = m.eval(pre[slot], True), m.eval(term, True)
        for i, t in enumerate(all_terms):
            if t.var == slot[0]:
                value = enc.const(enc.vars[t.var].type, t.value)
                was = z3.is_true(z3.simplify(before == value))
                now = z3.is_true(z3.simplify(after == value))
                delta[i] += int(was) - int(now)
    return delta


def _none_fits(rounds: int) -> str:
    return (
        f"no weights over the control state (pcs, flags) fit the {rounds} steps seen: "
        "some run may go on for ever, or ending depends on more than control state"
    )


def _init_counts(enc: Encoding, pre: Sequence[Z], deadline: float | None) -> list[int] | None:
    """The terms' counts in the initial state when init fixes them all, else None."""
    s = _solver(enc, deadline)
    s.add(*enc.init())
    if s.check() != z3.sat:
        return None
    m = s.model()
    values = [_value(m, c) for c in pre]
    s.add(
        z3.Or(*[c != z3.BitVecVal(v, c.size(), enc.ctx) for c, v in zip(pre, values, strict=True)])
    )
    return values if s.check() == z3.unsat else None


def _objective(
    ts: TransitionSystem,
    all_terms: Sequence[Term],
    w: Sequence[Z],
    init_counts: Sequence[int] | None,
    ctx: z3.Context,
) -> tuple[Z, list[Z]]:
    """What the search keeps small, with its side constraints: the bound itself when
    init fixes the control state (M(s0) minus the floor, each variable's floor its
    cells times a ``low`` at most each of its weights), else the weights' size."""
    if init_counts is None:
        return z3.Sum(*[z3.If(x >= 0, x, -x) for x in w]), []
    side: list[Z] = []
    floor: list[Z] = []
    for v in ts.vars:
        mine = [x for t, x in zip(all_terms, w, strict=True) if t.var == v.name]
        if not mine:
            continue
        low = z3.Int(f"low_{v.name}", ctx)
        side.extend(low <= x for x in mine)
        floor.append(len(keys(v.index)) * low)
    start = z3.Sum(z3.IntVal(0, ctx), *[x * c for x, c in zip(w, init_counts, strict=True) if c])
    return start - z3.Sum(z3.IntVal(0, ctx), *floor), side


def _ranked(
    ts: TransitionSystem,
    enc: Encoding,
    all_terms: Sequence[Term],
    weights: Sequence[int],
    pre: Sequence[Z],
    init_counts: Sequence[int] | None,
    rounds: int,
    deadline: float | None,
) -> Found:
    """The ranking with its bound; when init fixes the control state the top of the
    measure is its value there (no second solve), else the solver's maximum."""
    if init_counts is not None:
        top: int | None = sum(w * c for w, c in zip(weights, init_counts, strict=True))
    else:
        top = _init_top(enc, _measure(pre, weights, _width(ts), enc.ctx), deadline)
    if top is None:
        return Found(None, "the solver did not bound the measure over the initial states", rounds)
    by_term = {t: x for t, x in zip(all_terms, weights, strict=True) if x}
    bound = max(0, top - _floor(ts, by_term))
    return Found(Ranking(tuple(sorted(by_term.items())), bound), "", rounds)


def well_formed(ts: TransitionSystem, ranking: Ranking) -> bool:
    """Whether every term of ``ranking`` is one of ``ts``'s and every weight in range
    (a certificate's text may name anything)."""
    known = set(terms(ts))
    return all(t in known and abs(x) <= MAX_WEIGHT for t, x in ranking.weights)


def check(ts: TransitionSystem, ranking: Ranking, deadline: float | None = None) -> bool | None:
    """Whether ``ranking`` proves that no run of ``ts`` is longer than its bound: every
    step from any state lowers the measure, and the measure's range from the initial
    states down to its floor is at most the bound.  None: undecided (a timeout or an
    unknown answer)."""
    if not well_formed(ts, ranking):
        return False
    weights = dict(ranking.weights)
    enc = _encoding(ts)
    width = _width(ts)
    try:
        shared, steps = _split(enc, list(terms(ts)))
    except Unsplit:
        return None  # cannot be checked here: undecided, not refuted
    verdict = _not_lowered(enc, shared, steps, weights, width, deadline, first=True)
    if not verdict.lowered:
        return False if verdict.failing else None
    all_terms = [t for t, _ in ranking.weights]
    pre = _counts(enc, functools.partial(enc.location, 0), all_terms, width)
    top = _init_top(enc, _measure(pre, [x for _, x in ranking.weights], width, enc.ctx), deadline)
    if top is None:
        return None
    return top - _floor(ts, weights) <= ranking.bound
