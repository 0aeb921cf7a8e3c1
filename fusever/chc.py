"""Constrained Horn clauses for Z3's CHC engine (Spacer): proofs with an invariant.

One uninterpreted predicate ``Inv`` over every state location (maps expanded, one
argument per key; bit-vectors as they are; ghost ints as Z3 integers) and three clauses:

    init(x)                          => Inv(x)
    Inv(x) /\\ T(x, x')              => Inv(x')
    Inv(x) /\\ not P(x)              => false      (a transition property: over T(x, x'))

``T`` is :meth:`fusever.encode.Encoding.step` of one step (every action instance or a
stutter, no partial-order reduction).  When the clauses are satisfiable, the
interpretation of ``Inv`` is an inductive invariant that implies ``P``; it is turned into
a :class:`fusever.certificate.Certificate` (SMT-LIB over the step-0 names, and spec text
over the spec's own names, e.g. ``write_seq[0] <= 3``) and re-checked by fresh plain
queries before ``proved (all depths)`` is reported.  When they are unsatisfiable the
property fails at some depth: BMC, from the spec's depth and deeper, finds the shortest
trace and replays it (the reason says so).

Cover goals are "never covered" (:func:`fusever.certificate.negated`).

Z3 has two CHC interfaces with opposite answers: ``Solver`` over the HORN logic says
*sat* when the clauses have a model (the property holds), ``Fixedpoint.query`` says
*sat* when the query is derivable (the property fails).  :func:`horn_answer` is the one
place that reads them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import z3

from fusever import bmc, solvers
from fusever.certificate import Certificate, Recheck, encode_options, negated, recheck_status
from fusever.encode import Encoding
from fusever.job import Job
from fusever.operators import TABLE as OPERATORS
from fusever.solvers import stop_if_interrupted
from fusever.ts import (
    BinOp,
    BitVecType,
    BoolType,
    EnumType,
    IntType,
    Property,
    PropKind,
    SortType,
    TransitionSystem,
    Type,
    UnOp,
    elements,
)
from fusever.verdict import Progress, Result, Verdict

__all__ = ["ENGINE", "Answer", "ChcOutcome", "horn_answer", "pretty", "run"]

ENGINE = "chc"
REASON_CHARS = 400  # a longer invariant is cut in Result.reason; the certificate has it all

Z = Any
Answer = Literal["holds", "fails", "unknown"]


def horn_answer(interface: Literal["solver", "fixedpoint"], result: Z) -> Answer:
    """THE reading of a CHC answer.  ``solver``: ``z3.SolverFor("HORN").check()``, sat
    means the clauses have a model (an invariant: the property holds).  ``fixedpoint``:
    ``z3.Fixedpoint.query(bad)``, sat means ``bad`` is derivable (the property fails)."""
    if result == z3.unknown:
        return "unknown"
    sat = result == z3.sat
    if interface == "solver":
        return "holds" if sat else "fails"
    return "fails" if sat else "holds"


@dataclass(frozen=True, slots=True)
class ChcOutcome:
    results: tuple[Result, ...]
    certificates: tuple[Certificate, ...]


def run(job: Job, progress: Callable[[Progress], None] | None = None) -> ChcOutcome:
    """One Result per property of the job, in spec order; never prints."""
    start = time.monotonic()
    ts, props, depth = job.ts, job.properties, job.bound
    results: list[Result] = []
    certs: list[Certificate] = []
    for i, p in enumerate(props):
        # each property an equal share of what is left, so one hard property cannot
        # starve the easy ones after it (fuse_pre's cover goal takes 2.5 s)
        share = job.share(1 / (len(props) - i))
        answer, inv, why = _solve(ts, p, share, job.seed)
        if progress is not None:
            progress(Progress(ts.name, 0, time.monotonic() - start, len(props) - i - 1))
        if answer == "holds":
            assert inv is not None
            smt, text = inv
            cert = Certificate(ENGINE, ts.name, p.name, invariant=text, smtlib=smt)
            status = recheck_status(ts, cert, job.deadline)
            if status is Recheck.PASSED:
                certs.append(cert)
                verdict = Verdict.UNREACHABLE if p.kind is PropKind.COVER else Verdict.PROVED
                shown = text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"
                results.append(
                    _result(
                        ts, p, verdict, depth, start, complete=True, reason=f"invariant: {shown}"
                    )
                )
                continue
            why = (
                "the invariant's re-check ran out of time (timeout; try a larger --timeout)"
                if status is Recheck.UNDECIDED
                else "the invariant's re-check failed"
            )
            answer = "unknown"
        if answer == "fails":
            results.append(_bmc_trace(job.only([p.name]).by(share), start))
            continue
        results.append(_result(ts, p, Verdict.UNKNOWN, 0, start, reason=why))
    return ChcOutcome(tuple(results), tuple(certs))


def _result(
    ts: TransitionSystem,
    p: Property,
    verdict: Verdict,
    bound: int,
    start: float,
    *,
    complete: bool = False,
    reason: str | None = None,
) -> Result:
    return Result.about(
        ts,
        p,
        verdict,
        engine=ENGINE,
        seconds=time.monotonic() - start,
        bound=bound,
        complete=complete,
        reason=reason,
    )


def _bmc_trace(job: Job, start: float) -> Result:
    """Spacer says the job's one property fails: BMC finds the shortest trace, from
    the job's bound deeper, within the job's deadline."""
    ts, (p,) = job.ts, job.properties
    d = max(job.bound, 1)
    last: Result | None = None
    while not job.expired():
        (r,) = bmc.run(job.to(d)).results
        last = r
        if r.verdict in (Verdict.VIOLATED, Verdict.COVERED):
            return replace(
                r,
                engine=ENGINE,
                seconds=round(time.monotonic() - start, 3),
                reason="chc: fails; the trace is bmc's shortest",
            )
        if r.verdict is Verdict.UNKNOWN:
            break
        d *= 2
    bound = 0 if last is None else last.bound
    return _result(
        ts,
        p,
        Verdict.UNKNOWN,
        bound,
        start,
        reason=f"chc: fails, but bmc found no trace within {bound} steps (timeout)",
    )


def clauses(ts: TransitionSystem, p: Property) -> tuple[Encoding, Z, list[Z]]:
    """The encoding, the predicate ``Inv`` and the Horn clauses (universally closed)."""
    enc = Encoding(ts, encode_options(ts, "off"))
    p = negated(p)
    init = enc.init()
    step = enc.step(0)
    x0 = [enc.state(0)[s] for s in enc.slots]
    x1 = [enc.state(1)[s] for s in enc.slots]
    inv = z3.Function("Inv", *(v.sort() for v in x0), z3.BoolSort(enc.ctx))
    if p.two_state:
        bad = z3.And(inv(*x0), *step, z3.Not(enc.prop(p, 1)), z3.Not(enc.stutter(1)))
    else:
        bad = z3.And(inv(*x0), z3.Not(enc.prop(p, 0)))
    false = z3.BoolVal(False, enc.ctx)
    out = [
        _close(z3.Implies(z3.And(*init) if init else z3.BoolVal(True, enc.ctx), inv(*x0))),
        _close(z3.Implies(z3.And(inv(*x0), *step), inv(*x1))),
        _close(z3.Implies(bad, false)),
    ]
    return enc, inv, out


def _close(clause: Z) -> Z:
    """``clause`` universally quantified over its free constants (not ``Inv``)."""
    seen: dict[int, Z] = {}
    stack = [clause]
    visited: set[int] = set()
    while stack:
        t = stack.pop()
        if t.get_id() in visited:
            continue
        visited.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen[t.get_id()] = t
            continue
        stack.extend(t.children())
    consts = list(seen.values())
    return z3.ForAll(consts, clause) if consts else clause


def _solve(
    ts: TransitionSystem, p: Property, deadline: float | None, seed: int
) -> tuple[Answer, tuple[str, str] | None, str]:
    """Spacer's answer for ``p``: the invariant (SMT-LIB, spec text) when it holds."""
    enc, inv, cs = clauses(ts, p)
    s = solvers.horn(enc.ctx, seed)
    if not solvers.set_deadline(s, deadline):
        return "unknown", None, "timeout"
    s.add(*cs)
    answer = horn_answer("solver", s.check())
    if answer == "unknown":
        stop_if_interrupted(str(s.reason_unknown()))
        late = deadline is not None and time.monotonic() >= deadline
        return "unknown", None, "timeout" if late else f"chc: {s.reason_unknown()}"
    if answer == "fails":
        return "fails", None, ""
    x0 = [enc.state(0)[slot] for slot in enc.slots]
    # model_completion=True would read a missing entry as true: Inv's own definition
    # is what counts (its "else" body over Var(i), the arguments)
    interp = s.model()[inv]
    if interp is None:
        return "unknown", None, "chc: no interpretation for the invariant"
    if isinstance(interp, z3.FuncInterp):
        if interp.num_entries() > 0:
            return "unknown", None, "chc: the invariant is a table, not a formula"
        body = z3.substitute_vars(interp.else_value(), *x0)
    else:
        body = z3.substitute_vars(interp.body(), *x0)
    body = z3.simplify(body)
    return "holds", (body.sexpr(), pretty(enc, body)), ""


# ---- the invariant in spec syntax ---------------------------------------------------

# Z3's operators as the spec's (their symbols from the operator table); Z3's int
# ``mod`` is not the spec's ``%`` (that one is encoded as an if-then-else)
_Z3_BINARY: dict[int, BinOp] = {
    z3.Z3_OP_EQ: BinOp.EQ,
    z3.Z3_OP_LE: BinOp.LE,
    z3.Z3_OP_LT: BinOp.LT,
    z3.Z3_OP_GE: BinOp.GE,
    z3.Z3_OP_GT: BinOp.GT,
    z3.Z3_OP_ULEQ: BinOp.LE,
    z3.Z3_OP_ULT: BinOp.LT,
    z3.Z3_OP_UGEQ: BinOp.GE,
    z3.Z3_OP_UGT: BinOp.GT,
    z3.Z3_OP_SLEQ: BinOp.LE,
    z3.Z3_OP_SLT: BinOp.LT,
    z3.Z3_OP_SGEQ: BinOp.GE,
    z3.Z3_OP_SGT: BinOp.GT,
    z3.Z3_OP_ADD: BinOp.ADD,
    z3.Z3_OP_SUB: BinOp.SUB,
    z3.Z3_OP_MUL: BinOp.MUL,
    z3.Z3_OP_BADD: BinOp.ADD,
    z3.Z3_OP_BSUB: BinOp.SUB,
    z3.Z3_OP_BMUL: BinOp.MUL,
    z3.Z3_OP_BUREM: BinOp.MOD,
    z3.Z3_OP_BSREM: BinOp.MOD,
    z3.Z3_OP_BAND: BinOp.BAND,
    z3.Z3_OP_BOR: BinOp.BOR,
    z3.Z3_OP_BXOR: BinOp.XOR,
    z3.Z3_OP_BSHL: BinOp.SHL,
    z3.Z3_OP_BLSHR: BinOp.SHR,
    z3.Z3_OP_BASHR: BinOp.SHR,
    z3.Z3_OP_AND: BinOp.AND,
    z3.Z3_OP_OR: BinOp.OR,
    z3.Z3_OP_IMPLIES: BinOp.IMPLIES,
}
_Z3_UNARY: dict[int, UnOp] = {
    z3.Z3_OP_BNEG: UnOp.NEG,
    z3.Z3_OP_UMINUS: UnOp.NEG,
    z3.Z3_OP_BNOT: UnOp.BNOT,
}
_INFIX = {k: OPERATORS[op].symbol for k, op in _Z3_BINARY.items()}
_PREFIX = {k: OPERATORS[op].symbol for k, op in _Z3_UNARY.items()}


# signed readings: on an unsigned location they print as signed(...)
_SIGNED = {z3.Z3_OP_SLEQ, z3.Z3_OP_SLT, z3.Z3_OP_SGEQ, z3.Z3_OP_SGT, z3.Z3_OP_BSREM, z3.Z3_OP_BASHR}


def pretty(enc: Encoding, term: Z) -> str:
    """Best effort: a Z3 term over step-0 locations as spec text over the spec's names
    (``write_seq[0]``, enum members by name); what has no spec syntax stays SMT-LIB."""
    types: dict[int, Type] = {}
    names: dict[int, str] = {}
    for slot, c in enc.state(0).items():
        name, key = slot
        v = enc.vars[name]
        types[c.get_id()] = v.type
        names[c.get_id()] = f"{name}[{', '.join(map(str, key or ()))}]" if key else name
    return _pretty(_members(enc, term, types), types, names, None)


def _locations(term: Z, types: dict[int, Type]) -> set[int]:
    out: set[int] = set()
    seen: set[int] = set()
    stack = [term]
    while stack:
        t = stack.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if t.get_id() in types:
            out.add(t.get_id())
        else:
            stack.extend(t.children())
    return out


def _members(enc: Encoding, term: Z, types: dict[int, Type]) -> Z:
    """Boolean subterms over one enum or sort location only (Spacer likes the bits of
    an enum: ``Extract(1, 1, opc[0]) == 1``) become the members they allow, as
    ``opc[0] == a || opc[0] == b`` (or ``!=`` of the ones they exclude, if fewer)."""
    by_id = {c.get_id(): c for c in enc.state(0).values()}
    cache: dict[int, Z] = {}

    def go(t: Z) -> Z:
        if t.get_id() in cache:
            return cache[t.get_id()]
        out = t
        if z3.is_bool(t) and z3.is_app(t) and t.children():
            locs = _locations(t, types)
            ty = types.get(next(iter(locs))) if len(locs) == 1 else None
            if isinstance(ty, EnumType | SortType) and not _plain(t, types):
                c = by_id[next(iter(locs))]
                allowed: list[Z] = []
                denied: list[Z] = []
                for v in elements(ty):
                    val = enc.const(ty, v)
                    r = z3.simplify(z3.substitute(t, (c, val)))
                    (allowed if z3.is_true(r) else denied).append(val)
                if len(allowed) <= len(denied):
                    out = _any(enc, [c == v for v in allowed])
                else:
                    out = _all(enc, [c != v for v in denied])
            else:
                kids = [go(k) for k in t.children()]
                out = t.decl()(*kids) if kids else t
        cache[t.get_id()] = out
        return out

    return go(term)


def _plain(t: Z, types: dict[int, Type]) -> bool:
    """``loc == value`` (or its negation): already in spec form."""
    if z3.is_not(t):
        t = t.children()[0]
    if not z3.is_app_of(t, z3.Z3_OP_EQ):
        return False
    a, b = t.children()
    return (a.get_id() in types and z3.is_bv_value(b)) or (
        b.get_id() in types and z3.is_bv_value(a)
    )


def _any(enc: Encoding, xs: list[Z]) -> Z:
    return xs[0] if len(xs) == 1 else z3.Or(*xs) if xs else z3.BoolVal(False, enc.ctx)


def _all(enc: Encoding, xs: list[Z]) -> Z:
    return xs[0] if len(xs) == 1 else z3.And(*xs) if xs else z3.BoolVal(True, enc.ctx)


def _value(t: Type | None, term: Z) -> str:
    match t:
        case EnumType(members=m) if term.as_long() < len(m):
            return m[int(term.as_long())]
        case BitVecType(signed=True):
            return str(term.as_signed_long())
        case BitVecType() | SortType() | IntType() | BoolType() | EnumType() | None:
            return str(term.as_long())


def _pretty(term: Z, types: dict[int, Type], names: dict[int, str], hint: Type | None) -> str:
    if z3.is_true(term):
        return "true"
    if z3.is_false(term):
        return "false"
    if term.get_id() in names:
        return names[term.get_id()]
    if z3.is_bv_value(term) or z3.is_int_value(term):
        return _value(hint, term)
    if not z3.is_app(term):
        return str(term.sexpr())
    kids = term.children()
    k = term.decl().kind()
    # a location's type names the numerals it is compared with (enum members)
    kid_hint = next((types[c.get_id()] for c in kids if c.get_id() in types), hint)

    def sub(c: Z) -> str:
        s = _pretty(c, types, names, kid_hint)
        return s if z3.is_const(c) or not c.children() else f"({s})"

    if k == z3.Z3_OP_NOT:
        (a,) = kids
        if z3.is_app_of(a, z3.Z3_OP_EQ):
            x, y = a.children()
            return f"{sub(x)} != {sub(y)}"
        return f"!{sub(a)}"
    if k in _PREFIX and len(kids) == 1:
        return f"{_PREFIX[k]}{sub(kids[0])}"
    if k == z3.Z3_OP_DISTINCT and len(kids) == 2:
        return f"{sub(kids[0])} != {sub(kids[1])}"
    if k == z3.Z3_OP_ITE:
        c, a, b = kids
        return f"if {sub(c)} then {sub(a)} else {sub(b)}"
    if k in _INFIX and len(kids) >= 2:
        parts = [sub(c) for c in kids]
        if k in _SIGNED and isinstance(kid_hint, BitVecType) and not kid_hint.signed:
            parts = [f"signed({x})" for x in parts]  # a signed reading of unsigned bits
        return f" {_INFIX[k]} ".join(parts)
    if k in (z3.Z3_OP_AND, z3.Z3_OP_OR) and len(kids) == 1:
        return sub(kids[0])
    return str(term.sexpr())
