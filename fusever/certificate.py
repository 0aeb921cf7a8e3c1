"""Certificates: why an unbounded proof holds, re-checked by fresh, independent queries.

No engine reports ``proved (all depths)`` (or ``unreachable (all depths)``) before its
certificate passes :func:`recheck`, which builds a fresh :class:`fusever.encode.Encoding`
(ghost state as Z3 integers, so nothing is bounded), asks a fresh plain Z3 solver
(never the engine's solver; the one exception, the bounded half of a runs-end proof,
is below), and needs every query to be ``unsat``; ``sat`` is a failed re-check, while ``unknown`` or running out of time
leaves it undecided (:class:`Recheck`): a timeout says nothing against the proof,
and is reported as ``unknown``, never as a failure.

- A **k-induction** certificate (``engine="kind"``) names ``k`` and the lemmas assumed.
  Re-checked: every lemma's own certificate first (in order, each assuming the ones
  before it); the base case (no state reachable within ``k - 1`` steps violates the
  property: one query, since a run may stutter at its end); the inductive step (no
  path of ``k + 1`` pairwise distinct states, the lemmas holding on all of them and the
  property on the first ``k``, violates it at the last).
- A **runs-end** certificate (``engine="kind"`` with ``longest``): no run is longer
  than ``longest`` steps.  Re-checked: no run of ``longest + 1`` steps on the kernel
  projection (:func:`fusever.ts.kernel_projection`; it has every run of the spec, ghost
  state dropped), and none within ``longest`` violates the property.  Both are bounded
  unrollings from the initial states, so ghost ints are exact bit-vectors there (an
  overflow of their width within the unrolling counts as a failed re-check).  "None
  violates it" is a bounded model check of its own: a fresh solver (Bitwuzla where it
  is installed, as BMC's; the engine's solver family, not its run), one query per
  depth, no partial-order reduction, no chunks of depths.  It re-checks BMC's
  reduction and its incremental bookkeeping, not the solver: Bitwuzla is checked
  against Z3 and the interpreter operator by operator (tests/test_operators.py), and
  BMC against the explicit engine on every configuration (tests/test_explicit.py).
  Plain Z3 took 37 s on fuse_v2 w64_free to 22 steps (Bitwuzla 12 s) and did not
  finish in 11 minutes on its unmerged form to 34 (Bitwuzla 88 s), which kept those
  configurations bounded.  Certificates of one spec with the same ``longest`` share
  their queries (:func:`recheck_many`).
  With a ``ranking`` (:mod:`fusever.ranking`), "no run is longer" is re-checked
  instead by the ranking function: every step from any state lowers it, and its
  range from the initial states bounds the runs by ``longest`` (one query per action
  instance, no unrolling).
  With ``narrowed`` (a width, :mod:`fusever.narrow`): the spec's one free wide start
  was decided at that width.  Re-checked: the narrowing's one-step obligations (an
  offset bisimulation for runs of ``longest`` steps, or, with a ``budget``, for runs
  whose wide values move at most ``moves`` times) by fresh queries, then "none
  violates it" on the narrow system.
- An **invariant** certificate (``engine="chc"``) holds the invariant as an SMT-LIB
  term over the step-0 location names (``write_seq[0]@0``) and as spec text.
  Re-checked: initiation (``init => Inv``), consecution (``Inv /\\ T => Inv'``, over one
  step of every action, no partial-order reduction) and safety (``Inv => P``; for a
  transition property ``Inv /\\ T => P``).

Cover goals are certified through their negation (:func:`negated`): "never covered".
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import z3

from fusever import narrow, ranking, solvers
from fusever.encode import EncodeOptions, Encoding, ghost_bv_applicable
from fusever.ranking import ranges
from fusever.solvers import stop_if_interrupted
from fusever.ts import (
    BOOL,
    IntType,
    Property,
    PropKind,
    TransitionSystem,
    Unary,
    UnOp,
    kernel_projection,
)

__all__ = [
    "Certificate",
    "Recheck",
    "as_dict",
    "distinct",
    "encode_options",
    "from_dict",
    "negated",
    "ranges",
    "recheck",
    "recheck_many",
    "recheck_status",
    "recheck_statuses",
]

Z = Any  # z3 terms carry no types mypy can use


class Recheck(enum.Enum):
    """How a certificate's re-check ended."""

    PASSED = "passed"  # every query unsat: the proof stands
    FAILED = "failed"  # a query sat, or the certificate does not fit the spec
    UNDECIDED = "undecided"  # the solver said unknown or the deadline passed


class _Undecided(Exception):
    """A query (or building it) ran out of time or got ``unknown``."""


def _tick(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise _Undecided


@dataclass(frozen=True, slots=True)
class Certificate:
    """What makes one property hold for all depths; storable (plain strings and ints)."""

    engine: str  # "kind" or "chc"
    spec: str
    property: str
    k: int | None = None  # kind: the induction depth
    # kind: the lemmas assumed, in the order they were proved, each with its own k
    lemmas: tuple[tuple[str, int], ...] = ()
    por: str = "off"  # kind: the partial-order reduction used in the inductive step
    invariant: str | None = None  # chc: the invariant in spec syntax (for people)
    smtlib: str | None = None  # chc: the invariant as an SMT-LIB term over step-0 names
    longest: int | None = None  # kind: no run is longer (the base case to it is complete)
    # kind with longest: the ranking function that bounds the runs (fusever.ranking's
    # text), re-checked in one step instead of unrolling to longest + 1
    ranking: str | None = None
    # kind with longest: the free wide start was decided at this width (fusever.narrow)
    narrowed: int | None = None
    # ... its moves bounded by this budget (fusever.ranking's text) to ``moves``; None:
    # by the runs' length, ``longest``
    budget: str | None = None
    moves: int | None = None


def with_narrowing(cert: Certificate, n: narrow.Narrowing | None) -> Certificate:
    """``cert`` resting on the narrowing ``n`` too (None: on none)."""
    if n is None:
        return cert
    if n.budget is None:
        return replace(cert, narrowed=n.width)
    return replace(cert, narrowed=n.width, budget=n.budget.text(), moves=n.bound)


def as_dict(cert: Certificate) -> dict[str, object]:
    """Plain data for a proofs/ file (TOML or JSON); None fields left out."""
    out: dict[str, object] = {"engine": cert.engine, "spec": cert.spec, "property": cert.property}
    if cert.k is not None:
        out["k"] = cert.k
        out["lemmas"] = [[name, k] for name, k in cert.lemmas]
        out["por"] = cert.por
    if cert.longest is not None:
        out["longest"] = cert.longest
    if cert.ranking is not None:
        out["ranking"] = cert.ranking
    if cert.narrowed is not None:
        out["narrowed"] = cert.narrowed
    if cert.budget is not None:
        out["budget"] = cert.budget
        out["moves"] = cert.moves
    if cert.invariant is not None:
        out["invariant"] = cert.invariant
    if cert.smtlib is not None:
        out["smtlib"] = cert.smtlib
    return out


def from_dict(data: dict[str, object]) -> Certificate:
    """The inverse of :func:`as_dict`; ValueError on anything malformed."""

    def text(key: str, default: str | None = None) -> str | None:
        v = data.get(key, default)
        if v is not None and not isinstance(v, str):
            raise ValueError(f"certificate: {key} must be a string")
        return v

    engine, spec, prop = text("engine"), text("spec"), text("property")
    if engine is None or spec is None or prop is None:
        raise ValueError("certificate: engine, spec and property are required")

    def number(key: str) -> int | None:
        v = data.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise ValueError(f"certificate: {key} must be an integer")
        return v

    k, longest = number("k"), number("longest")
    lemmas: list[tuple[str, int]] = []
    raw = data.get("lemmas", [])
    if not isinstance(raw, list):
        raise ValueError("certificate: lemmas must be a list")
    for item in raw:
        if not (
            isinstance(item, list | tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], int)
        ):
            raise ValueError("certificate: each lemma is [name, k]")
        lemmas.append((item[0], item[1]))
    return Certificate(
        engine,
        spec,
        prop,
        k=k,
        lemmas=tuple(lemmas),
        por=text("por", "off") or "off",
        invariant=text("invariant"),
        smtlib=text("smtlib"),
        longest=longest,
        ranking=text("ranking"),
        narrowed=number("narrowed"),
        budget=text("budget"),
        moves=number("moves"),
    )


def encode_options(ts: TransitionSystem, por: str = "off") -> EncodeOptions:
    """Exact for all depths: ghost ints as Z3 integers.  A spec without ghost int
    locations stays pure bit-vectors (an int *expression* is then an exact, wide
    enough bit-vector, and no store can overflow), so Bitwuzla can take it."""
    has_ints = any(isinstance(v.type, IntType) for v in ts.vars)
    assert por in ("off", "adjacent", "lex")
    return EncodeOptions(ghost="int" if has_ints else "bv", por=por)  # type: ignore[arg-type]


def negated(p: Property) -> Property:
    """A cover goal as the property "it never happens" (an invariant or, with primes,
    a transition property); any other property unchanged."""
    if p.kind is not PropKind.COVER:
        return p
    kind = PropKind.TRANSITION if p.two_state else PropKind.INVARIANT
    return Property(p.name, kind, Unary(UnOp.NOT, p.expr, BOOL), p.description, None, p.span)


def distinct(enc: Encoding, i: int, j: int) -> Z:
    """States ``i`` and ``j`` differ in some location."""
    a, b = enc.state(i), enc.state(j)
    return z3.Or(*(a[s] != b[s] for s in enc.slots)) if enc.slots else z3.BoolVal(False, enc.ctx)


def _holds(enc: Encoding, p: Property, k: int) -> Z:
    """``p`` holds at step ``k`` (a transition property: on the step into ``k``)."""
    return enc.prop(p, k)


def _unsat(enc: Encoding, constraints: list[Z], deadline: float | None, bv: bool = False) -> bool:
    """A fresh plain Z3 solver: True on unsat, False on sat; unknown and a timeout
    raise :class:`_Undecided`.
    ``bv``: all bit-vectors, so Z3's bit-blasting solver (the ``qfbv`` tactic), which is
    4x faster than its default solver here and just as plain."""
    s = solvers.plain(enc.ctx, bv)
    if not solvers.set_deadline(s, deadline):
        raise _Undecided
    s.add(*constraints)
    r = s.check()
    if r == z3.unknown:
        stop_if_interrupted(str(s.reason_unknown()))
        raise _Undecided
    return bool(r == z3.unsat)


def recheck(ts: TransitionSystem, cert: Certificate, deadline: float | None = None) -> bool:
    """Whether ``cert`` proves its property of ``ts`` for all depths, by fresh queries."""
    return recheck_many(ts, [cert], deadline)[0]


def recheck_status(
    ts: TransitionSystem, cert: Certificate, deadline: float | None = None
) -> Recheck:
    """:func:`recheck`, telling a failure from running out of time."""
    return recheck_statuses(ts, [cert], deadline)[0]


def recheck_many(
    ts: TransitionSystem, certs: list[Certificate], deadline: float | None = None
) -> tuple[bool, ...]:
    """:func:`recheck` of each, in order (see :func:`recheck_statuses`)."""
    return tuple(r is Recheck.PASSED for r in recheck_statuses(ts, certs, deadline))


def _decide(query: Callable[..., bool], *args: Any) -> Recheck:
    try:
        return Recheck.PASSED if query(*args) else Recheck.FAILED
    except _Undecided:
        return Recheck.UNDECIDED


def recheck_statuses(
    ts: TransitionSystem,
    certs: list[Certificate],
    deadline: float | None = None,
    *,
    bounded: bool = True,
) -> tuple[Recheck, ...]:
    """How the re-check of each ended, in order; runs-end certificates with the same
    bound share their queries (and are re-checked one by one only when the shared
    base case fails).

    ``bounded=False`` re-checks only what makes a runs-end proof unbounded (that no run
    is longer than ``longest``), not that none within it violates the property: that
    half is a bounded model check, which ``fusever regress`` keeps, as it keeps every
    BMC verdict, while the system and the code that decided it are unchanged
    (:mod:`fusever.provenance`); so is a narrowing's check, which asks the same
    queries of the same system.  Every other certificate is re-checked whole."""
    out: dict[int, Recheck] = {}
    groups: dict[tuple[int, str | None, tuple[int | str | None, ...]], list[int]] = {}
    for i, cert in enumerate(certs):
        if cert.engine == "kind" and cert.longest is not None and cert.k is None:
            narrowing = (cert.narrowed, cert.budget, cert.moves)
            groups.setdefault((cert.longest, cert.ranking, narrowing), []).append(i)
        else:
            out[i] = _decide(_recheck_one, ts, cert, deadline)
    for (longest, measure, (width, _, _)), members in groups.items():
        props = [_named(ts, certs[i]) for i in members]
        if any(p is None for p in props) or longest < 0:
            out.update((i, Recheck.FAILED) for i in members)
            continue
        if measure is None:
            ends = _decide(_runs_end, ts, longest, deadline)
        else:
            ends = _decide(_ranked_end, ts, measure, longest, deadline)
        system = ts
        if ends is Recheck.PASSED and width is not None and bounded:
            # the narrowing is kept with the bounded half: a function of the system
            # and of kind's code, as BMC's verdicts are (fusever.provenance)
            ends, system = _narrowing(ts, longest, certs[members[0]], deadline)
        if ends is not Recheck.PASSED or not bounded:
            out.update((i, ends) for i in members)
            continue
        known = [p for p in (_named(system, certs[i]) for i in members) if p is not None]
        together = _decide(_none_violated, system, known, longest, deadline)
        if together is not Recheck.FAILED:
            out.update((i, together) for i in members)
        else:
            for i, p in zip(members, known, strict=True):
                out[i] = _decide(_none_violated, system, [p], longest, deadline)
    return tuple(out[i] for i in range(len(certs)))


def _narrowing(
    ts: TransitionSystem, longest: int, cert: Certificate, deadline: float | None
) -> tuple[Recheck, TransitionSystem]:
    """``cert``'s narrowing (its width, and budget and moves when it has them)
    re-checked (:func:`fusever.narrow.check`), and the system the bounded half is then
    asked of: the narrow one."""
    limit: int | ranking.Ranking = longest
    if cert.budget is not None:
        if cert.moves is None:
            return Recheck.FAILED, ts
        try:
            limit = ranking.Ranking(ranking.parse(cert.budget), cert.moves)
        except ValueError:
            return Recheck.FAILED, ts
    found = narrow.check(ts, limit, cert.narrowed, deadline)
    if found is None:
        return Recheck.UNDECIDED, ts
    if found is False:
        return Recheck.FAILED, ts
    return Recheck.PASSED, found.system


def _named(ts: TransitionSystem, cert: Certificate) -> Property | None:
    if cert.spec != ts.name:
        return None
    try:
        return negated(ts.property(cert.property))
    except KeyError:
        return None


def _bounded_encoding(ts: TransitionSystem) -> Encoding:
    """An unrolling from the initial states: ghost ints as bit-vectors when they can be
    (overflow is then part of every query), no reduction."""
    ghost: Any = "bv" if ghost_bv_applicable(ts) else "int"
    return Encoding(ts, EncodeOptions(ghost=ghost, por="off"))


def _runs_end(ts: TransitionSystem, longest: int, deadline: float | None) -> bool:
    """No run of the kernel projection has ``longest + 1`` steps."""
    enc = _bounded_encoding(kernel_projection(ts))
    cs = enc.init()
    for j in range(longest + 1):
        _tick(deadline)
        cs.extend(enc.step(j))
    return _unsat(enc, [*cs, z3.Not(enc.stutter(longest + 1))], deadline, bv=enc.ghost_bv)


def _ranked_end(ts: TransitionSystem, measure: str, longest: int, deadline: float | None) -> bool:
    """The ranking function ``measure`` proves that no run is longer than ``longest``
    (:func:`fusever.ranking.check`: one step from any state, and the bound)."""
    try:
        weights = ranking.parse(measure)
    except ValueError:
        return False
    ok = ranking.check(ts, ranking.Ranking(weights, longest), deadline)
    if ok is None:
        raise _Undecided
    return ok


def _none_violated(
    ts: TransitionSystem, props: list[Property], longest: int, deadline: float | None
) -> bool:
    """No run of ``longest`` steps violates any of ``props`` (nor overflows a ghost).

    One fresh incremental solver of the encoding's kind (module docstring), a depth
    at a time: the goals of depth ``j`` under an assumption literal, then, once unsat,
    their negation asserted for good (true on every run, and it helps the deeper
    queries); no reduction.  One query over the whole unrolling did not finish in 10
    minutes on fuse_v2 w64_free to 22 steps."""
    enc = _bounded_encoding(ts)
    solver = enc.new_backend(0)
    solver.add(*enc.init())
    for j in range(longest + 1):
        _tick(deadline)
        if j:
            solver.add(*enc.step(j - 1))
        bad = [g for p in props if (g := enc.goal(p, j)) is not None]
        if enc.ghost_bv:
            bad.append(enc.overflow(j))
        if not bad:
            continue
        lit = z3.Bool(f"none_violated#{j}", enc.ctx)
        solver.add(z3.Implies(lit, z3.Or(*bad)))
        status, _ = solver.check(lit, deadline)
        if status == "sat":
            return False
        if status == "unknown":
            raise _Undecided
        solver.add(z3.Not(z3.Or(*bad)))
    return True


def _recheck_one(ts: TransitionSystem, cert: Certificate, deadline: float | None) -> bool:
    p = _named(ts, cert)
    if p is None:
        return False
    match cert.engine:
        case "kind":
            if cert.longest is not None:
                return False  # a runs-end certificate carries no k
            return _recheck_kind(ts, cert, p, deadline)
        case "chc":
            return _recheck_invariant(ts, cert, p, deadline)
        case _:
            return False


def _recheck_kind(
    ts: TransitionSystem, cert: Certificate, p: Property, deadline: float | None
) -> bool:
    if cert.k is None or cert.k < 1 or cert.por not in ("off", "adjacent"):
        return False
    assumed: list[Property] = []
    for name, k in cert.lemmas:
        try:
            lemma = ts.property(name)
        except KeyError:
            return False
        if lemma.kind is not PropKind.LEMMA or not kind_obligations_hold(
            ts, lemma, k, tuple(assumed), cert.por, deadline
        ):
            return False
        assumed.append(lemma)
    return kind_obligations_hold(ts, p, cert.k, tuple(assumed), cert.por, deadline)


def kind_obligations_hold(
    ts: TransitionSystem,
    p: Property,
    k: int,
    lemmas: tuple[Property, ...],
    por: str,
    deadline: float | None,
) -> bool:
    """Base case and inductive step of ``p`` at ``k``, the (proved) ``lemmas`` assumed."""
    # base: nothing within k - 1 steps (a run may stutter at its end, so one query at
    # depth k - 1 covers every shorter run; a transition property: any of its steps)
    base = Encoding(ts, encode_options(ts, "off"))
    cs = base.init()
    for j in range(k - 1):
        _tick(deadline)
        cs.extend(base.step(j))
    goals = [g for j in range(k) if (g := base.goal(p, j)) is not None]
    if goals and not _unsat(base, [*cs, z3.Or(*goals)], deadline):
        return False
    # step: k + 1 states, pairwise distinct (the pre-states only, for a transition
    # property), lemmas on all, the property on the first k, violated at the last
    enc = Encoding(ts, encode_options(ts, por))
    cs = [*ranges(enc, 0)]
    for j in range(k):
        _tick(deadline)
        cs.extend(enc.step(j))
        cs.extend(ranges(enc, j + 1))
    for j in range(k + 1):
        cs.extend(enc.prop(lemma, j) for lemma in lemmas)
    two = p.two_state
    last = k - 1 if two else k  # the last state that must differ from the others
    for i in range(last + 1):
        cs.extend(distinct(enc, i, j) for j in range(i))
    for j in range(1 if two else 0, k):
        cs.append(_holds(enc, p, j))
    if por != "off":
        # the reduction on every step pair but, for a transition property, the last
        cs.extend(enc.order(j) for j in range(1, k - 1 if two else k))
    goal = enc.goal(p, k)
    assert goal is not None
    cs.append(goal)
    return _unsat(enc, cs, deadline)


def _recheck_invariant(
    ts: TransitionSystem, cert: Certificate, p: Property, deadline: float | None
) -> bool:
    if cert.smtlib is None:
        return False
    enc = Encoding(ts, encode_options(ts, "off"))
    try:
        inv0 = parse_invariant(enc, cert.smtlib, 0)
        inv1 = parse_invariant(enc, cert.smtlib, 1)
    except z3.Z3Exception:
        return False
    init = enc.init()
    step = enc.step(0)
    rng0, rng1 = ranges(enc, 0), ranges(enc, 1)
    prop0 = _holds(enc, p, 1) if p.two_state else _holds(enc, p, 0)
    safety_cs = [*rng0, inv0, *(step if p.two_state else []), z3.Not(prop0)]
    if p.two_state:
        safety_cs.append(z3.Not(enc.stutter(1)))
    return (
        _unsat(enc, [*init, z3.Not(inv0)], deadline)
        and _unsat(enc, [*rng0, inv0, *step, *rng1, z3.Not(inv1)], deadline)
        and _unsat(enc, safety_cs, deadline)
    )


def location_names(enc: Encoding, k: int) -> dict[str, Z]:
    """Step ``k``'s location constants by the name they have at step 0 (``x[1]@0``)."""
    out: dict[str, Z] = {}
    for slot, term in enc.state(k).items():
        out[str(enc.state(0)[slot])] = term
    return out


def parse_invariant(enc: Encoding, smtlib: str, k: int) -> Z:
    """The invariant (SMT-LIB over step-0 names) over step ``k``'s locations."""
    names = location_names(enc, 0)
    decls = {name: term.decl() for name, term in names.items()}
    parsed = z3.parse_smt2_string(f"(assert {smtlib})", decls=decls, ctx=enc.ctx)
    term = z3.And(*parsed) if len(parsed) != 1 else parsed[0]
    if k == 0:
        return term
    at_k = location_names(enc, k)
    return z3.substitute(term, *((names[n], at_k[n]) for n in names))
