"""``fusever mutate SPEC``: how strong are the spec's properties?

Small mutants of the spec's actions are generated at the :mod:`fusever.ts` level, the
slips a reviewer worries about:

- ``operator``: a comparison swapped (``<`` and ``<=``, ``>`` and ``>=``, ``==`` and ``!=``);
- ``drop-assign``: one assignment removed;
- ``drop-conjunct``: one conjunct of a guard removed;
- ``swap``: two adjacent statements of a block exchanged;
- ``constant``: a number one more, or one less.

Each mutant is checked against the spec's properties with BMC.  It is **killed** when
some property gives a finding the original does not (a violation, or a cover goal
becoming unreachable), with the shortest such trace; otherwise it is checked against
the original with :func:`fusever.diff.diff`: no distinguishing trace up to the bound
makes it **equivalent** (reported apart and left out of the score), else it
**survived**.  ``score = killed / (killed + survived)``; mutants whose check was
undecided (a timeout) are reported as ``unknown`` and left out too.  A mutant of an
action the configuration never enables within the depth (outside its guard) is
**unexercised**: "not exercised by this configuration", which says nothing about the
properties (it is not equivalent), left out of the score; ``limit`` spends its
mutants on exercised actions first.

The order of mutants is deterministic (actions in spec order, nodes in source order);
``limit`` keeps an evenly spread, still deterministic, subset.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Literal, assert_never

from fusever import diff, engines
from fusever.executor import Runner, in_order, runner, sequential
from fusever.operators import ATOM_PRECEDENCE, OPERAND_PRECEDENCE
from fusever.operators import TABLE as OPERATORS
from fusever.ts import (
    Action,
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    Cast,
    Expr,
    ForAll,
    If,
    IntType,
    Ite,
    Lit,
    Local,
    Observable,
    Param,
    Property,
    PropKind,
    Quant,
    Quantifier,
    Stmt,
    TransitionSystem,
    Unary,
    Var,
    is_finite,
)
from fusever.verdict import Engine, Options, Result, Verdict
from fusever.vocabulary import NOWHERE, Span

__all__ = [
    "KINDS",
    "Mutant",
    "MutantResult",
    "Status",
    "dead_actions",
    "exercised",
    "expr_text",
    "mutants",
    "run",
    "score",
    "stmt_text",
]

Kind = Literal["operator", "drop-assign", "drop-conjunct", "swap", "constant"]
KINDS: tuple[Kind, ...] = ("operator", "drop-assign", "drop-conjunct", "swap", "constant")
Status = Literal["killed", "survived", "equivalent", "unexercised", "unknown"]

# each operator's likely slip, from the operator table (`<` for `<=`, `&` for `|` ...)
SWAP_OP: dict[BinOp, BinOp] = {
    op: info.slip
    for op, info in OPERATORS.items()
    if isinstance(op, BinOp) and info.slip is not None
}


# ---- spec syntax of checked terms (for describing a mutation) --------------------------


def _lit_text(e: Lit) -> str:
    if isinstance(e.value, bool):
        return "true" if e.value else "false"
    return str(e.value)


def _prec(e: Expr) -> int:
    """How tightly ``e``'s outermost operator binds (the operator table's precedence)."""
    match e:
        case Binary(op=op) | Unary(op=op):
            return OPERATORS[op].precedence
        case Ite() | Quant():
            return 0
        case _:
            return ATOM_PRECEDENCE


def _sub(e: Expr, need: int) -> str:
    t = expr_text(e)
    return f"({t})" if _prec(e) < need else t


def expr_text(e: Expr) -> str:
    """A checked expression in spec syntax (constants appear as their values)."""
    match e:
        case Lit():
            return _lit_text(e)
        case Var(name=name, args=args, primed=primed):
            idx = f"[{', '.join(expr_text(a) for a in args)}]" if args else ""
            prime = "'" if primed else ""
            return f"{name}{prime}{idx}"
        case Local(name=name):
            return name
        case Unary(op=op, arg=arg):
            return f"{op.value}{_sub(arg, OPERAND_PRECEDENCE)}"
        case Binary(op=op, lhs=lhs, rhs=rhs):
            info = OPERATORS[op]
            p = info.precedence
            # left-associative, except ==> (right); comparisons do not chain
            left = p if info.assoc == "left" else p + 1
            right = p if info.assoc == "right" else p + 1
            return f"{_sub(lhs, left)} {op.value} {_sub(rhs, right)}"
        case Ite(cond=c, then=t, else_=f):
            return f"if {expr_text(c)} then {expr_text(t)} else {expr_text(f)}"
        case Quant(quantifier=q, var=var, sort=sort, body=body):
            return f"{q.value} {var}: {sort}. {expr_text(body)}"
        case Cast(arg=arg, type=t):
            signed = isinstance(t, BitVecType) and t.signed
            fn = "int" if isinstance(t, IntType) else "signed" if signed else "unsigned"
            return f"{fn}({expr_text(arg)})"
        case _:
            assert_never(e)


def stmt_text(st: Stmt) -> str:
    """One line of spec syntax (a nested block is shown as ``{ … }``)."""
    match st:
        case Assign(name=name, args=args, value=value):
            idx = f"[{', '.join(expr_text(a) for a in args)}]" if args else ""
            return f"{name}{idx} := {'any' if value is None else expr_text(value)}"
        case If(cond=c, else_=f):
            return f"if {expr_text(c)} {{ … }}" + (" else { … }" if f else "")
        case ForAll(var=var, sort=sort, where=where):
            w = "" if where is None else f" where {expr_text(where)}"
            return f"for all {var} in {sort}{w} {{ … }}"
        case Assume(cond=c):
            return f"assume {expr_text(c)}"
        case _:
            assert_never(st)


# ---- generating mutants ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mutant:
    index: int  # position in the full, deterministic list
    action: str
    kind: Kind
    span: Span  # where in the spec (the node mutated)
    original: str  # spec syntax
    mutated: str
    system: TransitionSystem
    in_guard: bool = False  # the mutation is in the action's guard


Edit = tuple[Kind, Span, str, str]  # kind, where, before, after


def _expr_mutants(e: Expr) -> Iterator[tuple[Expr, Edit]]:
    """Each single mutation of ``e`` (operators and constants), in source order."""
    match e:
        case Lit(value=v, type=t):
            if isinstance(t, BitVecType | IntType) and not isinstance(v, bool):
                assert isinstance(v, int)
                for delta in (1, -1):
                    n = v + delta
                    if isinstance(t, BitVecType):
                        n %= 2**t.width
                    elif n < 0 and v >= 0:
                        continue
                    if delta == -1 and v == 0:
                        continue
                    yield replace(e, value=n), ("constant", e.span, _lit_text(e), str(n))
        case Var(args=args):
            for i, a in enumerate(args):
                for m, edit in _expr_mutants(a):
                    yield replace(e, args=(*args[:i], m, *args[i + 1 :])), edit
        case Local():
            pass
        case Unary(arg=arg) | Cast(arg=arg):
            for m, edit in _expr_mutants(arg):
                yield replace(e, arg=m), edit
        case Binary(op=op, lhs=lhs, rhs=rhs):
            for m, edit in _expr_mutants(lhs):
                yield replace(e, lhs=m), edit
            if op in SWAP_OP:
                swapped = replace(e, op=SWAP_OP[op])
                yield swapped, ("operator", e.span, expr_text(e), expr_text(swapped))
            for m, edit in _expr_mutants(rhs):
                yield replace(e, rhs=m), edit
        case Ite(cond=c, then=t, else_=f):
            for m, edit in _expr_mutants(c):
                yield replace(e, cond=m), edit
            for m, edit in _expr_mutants(t):
                yield replace(e, then=m), edit
            for m, edit in _expr_mutants(f):
                yield replace(e, else_=m), edit
        case Quant(body=body):
            for m, edit in _expr_mutants(body):
                yield replace(e, body=m), edit
        case _:
            assert_never(e)


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Binary) and e.op is BinOp.AND:
        return _conjuncts(e.lhs) + _conjuncts(e.rhs)
    return [e]


def _conj(xs: Sequence[Expr]) -> Expr:
    out = xs[0]
    for x in xs[1:]:
        out = Binary(BinOp.AND, out, x, out.type)
    return out


def _ghostly(st: Stmt, ghosts: frozenset[str]) -> bool:
    return isinstance(st, Assign) and st.name in ghosts


def _block_mutants(
    body: tuple[Stmt, ...], ghosts: frozenset[str]
) -> Iterator[tuple[tuple[Stmt, ...], Edit]]:
    """Each single mutation of a block: statements dropped or swapped, and inside them.
    Assignments to ``ghosts`` are left alone (they instrument the spec, not the system)."""
    for i, st in enumerate(body):
        if _ghostly(st, ghosts):
            continue
        if isinstance(st, Assign):
            yield (*body[:i], *body[i + 1 :]), ("drop-assign", st.span, stmt_text(st), "(removed)")
        if i + 1 < len(body) and body[i + 1] != st and not _ghostly(body[i + 1], ghosts):
            nxt = body[i + 1]
            yield (
                (*body[:i], nxt, st, *body[i + 2 :]),
                (
                    "swap",
                    st.span,
                    f"{stmt_text(st)}; {stmt_text(nxt)}",
                    f"{stmt_text(nxt)}; {stmt_text(st)}",
                ),
            )
        for m, edit in _stmt_mutants(st, ghosts):
            yield (*body[:i], m, *body[i + 1 :]), edit


def _stmt_mutants(st: Stmt, ghosts: frozenset[str]) -> Iterator[tuple[Stmt, Edit]]:
    match st:
        case Assign(args=args, value=value):
            for i, a in enumerate(args):
                for m, edit in _expr_mutants(a):
                    yield replace(st, args=(*args[:i], m, *args[i + 1 :])), edit
            if value is not None:
                for m, edit in _expr_mutants(value):
                    yield replace(st, value=m), edit
        case If(cond=c, then=t, else_=f):
            for m, edit in _expr_mutants(c):
                yield replace(st, cond=m), edit
            for b, edit in _block_mutants(t, ghosts):
                yield replace(st, then=b), edit
            for b, edit in _block_mutants(f, ghosts):
                yield replace(st, else_=b), edit
        case ForAll(where=where, body=body):
            if where is not None:
                for m, edit in _expr_mutants(where):
                    yield replace(st, where=m), edit
            for b, edit in _block_mutants(body, ghosts):
                yield replace(st, body=b), edit
        case Assume(cond=c):
            for m, edit in _expr_mutants(c):
                yield replace(st, cond=m), edit
        case _:
            assert_never(st)


def _action_mutants(a: Action, ghosts: frozenset[str]) -> Iterator[tuple[Action, Edit, bool]]:
    parts = _conjuncts(a.guard)
    if len(parts) > 1:
        for i, part in enumerate(parts):
            if isinstance(part, Lit):
                continue  # a folded constant (`SERIAL && ...`): dropping it changes nothing
            rest = parts[:i] + parts[i + 1 :]
            edit: Edit = ("drop-conjunct", part.span, expr_text(part), "(removed)")
            yield replace(a, guard=_conj(rest)), edit, True
    for m, edit in _expr_mutants(a.guard):
        yield replace(a, guard=m), edit, True
    for b, edit in _block_mutants(a.body, ghosts):
        yield replace(a, body=b), edit, False


def exercised(m: Mutant, dead: frozenset[str]) -> bool:
    """Whether a mutant can change a run: its action is enabled within the depth, or
    the mutation is in its guard (which may enable it)."""
    return m.action not in dead or m.in_guard or m.kind == "drop-conjunct"


def mutants(
    ts: TransitionSystem,
    actions: Sequence[str] | None = None,
    limit: int | None = None,
    ghosts: bool = False,
    dead: frozenset[str] = frozenset(),
) -> tuple[Mutant, ...]:
    """The mutants of ``ts``'s actions (of ``actions`` only, when given), deterministic;
    at most ``limit``, evenly spread over the exercised ones (``dead``: the actions
    never enabled, see :func:`dead_actions`), then over the rest.  Assignments to ghost
    state are not mutated unless ``ghosts``.  Raises ValueError for an unknown action
    name."""
    ghost_names = frozenset() if ghosts else frozenset(v.name for v in ts.vars if v.ghost)
    names = [a.name for a in ts.actions]
    for n in actions or ():
        if n not in names:
            raise ValueError(f"{ts.name} has no action `{n}`")
    out: list[Mutant] = []
    for k, act in enumerate(ts.actions):
        if actions and act.name not in actions:
            continue
        for new, (kind, span, before, after), in_guard in _action_mutants(act, ghost_names):
            system = replace(ts, actions=(*ts.actions[:k], new, *ts.actions[k + 1 :]))
            where = span if span != NOWHERE and span.line else act.span
            out.append(Mutant(len(out), act.name, kind, where, before, after, system, in_guard))
    if limit is not None and limit < len(out):
        live = [m for m in out if exercised(m, dead)]
        rest = [m for m in out if not exercised(m, dead)]
        picked = _spread(live, limit) + _spread(rest, max(0, limit - len(live)))
        out = sorted(picked, key=lambda m: m.index)
    return tuple(out)


def _spread(ms: list[Mutant], limit: int) -> list[Mutant]:
    if limit >= len(ms):
        return ms
    return [ms[i * len(ms) // limit] for i in range(limit)]


# ---- checking them ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MutantResult:
    index: int
    action: str
    kind: Kind
    span: Span
    original: str
    mutated: str
    status: Status
    killed_by: str | None = None  # the property, for killed
    step: int | None = None  # killed: the shortest trace's length; survived: the distinguishing one
    seconds: float = 0.0
    reason: str | None = None  # unknown: why


def _is_finding(r: Result) -> bool:
    if r.kind is PropKind.COVER:
        return r.verdict is Verdict.UNREACHABLE
    return r.verdict is Verdict.VIOLATED


def _observable(ts: TransitionSystem) -> TransitionSystem:
    """``ts`` with every state variable observable, when it declares no observable."""
    if ts.observables:
        return ts
    obs = []
    for v in ts.vars:
        params = tuple(Param(f"i{j}", t) for j, t in enumerate(v.index))
        locs = tuple(Local(p.name, p.type) for p in params)
        obs.append(Observable(v.name, params, Var(v.name, locs, v.type)))
    return replace(ts, observables=tuple(obs))


def check_one(
    original: TransitionSystem,
    baseline: frozenset[str],
    m: Mutant,
    depth: int,
    timeout: float | None,
    dead: bool = False,
) -> MutantResult:
    """Kill, or else compare with the original.  ``baseline``: the properties that
    already give a finding on the original (they cannot kill); ``dead``: the mutated
    action is never enabled in the original within ``depth``."""
    start = time.monotonic()
    base = MutantResult(m.index, m.action, m.kind, m.span, m.original, m.mutated, "unknown")
    if dead and m.action in dead_actions(m.system, [m.action], depth):
        # the configuration never runs the action, mutated or not: the properties are
        # not tested by this mutant at all, which is not the same as equivalent
        reason = f"{m.action} is never enabled within {depth} steps, mutated or not"
        return replace(base, status="unexercised", reason=reason, seconds=time.monotonic() - start)
    results = engines.prove(m.system, Options(depth=depth, timeout=timeout, engine=Engine.BMC))
    killers = [r for r in results if _is_finding(r) and r.property not in baseline]
    if killers:
        best = min(killers, key=lambda r: r.step if r.step is not None else depth + 1)
        return replace(
            base,
            status="killed",
            killed_by=best.property,
            step=best.step,
            seconds=time.monotonic() - start,
        )
    if any(r.verdict is Verdict.UNKNOWN for r in results):
        why = next(r.reason for r in results if r.verdict is Verdict.UNKNOWN)
        return replace(base, reason=why or "unknown", seconds=time.monotonic() - start)
    d = diff.diff(_observable(original), _observable(m.system), depth=depth, timeout=timeout)
    seconds = time.monotonic() - start
    match d.verdict:
        case Verdict.PROVED:
            why = f"no observable difference within {depth} steps"
            return replace(base, status="equivalent", reason=why, seconds=seconds)
        case Verdict.VIOLATED:
            return replace(base, status="survived", step=len(d.steps) - 1, seconds=seconds)
        case _:
            return replace(base, reason=d.reason or "unknown", seconds=seconds)


def dead_actions(ts: TransitionSystem, names: Sequence[str], depth: int) -> frozenset[str]:
    """The actions among ``names`` never enabled within ``depth`` steps (one BMC run with a
    cover goal per action).  An action with a chosen parameter of an infinite type is
    assumed live."""
    covers: list[Property] = []
    for name in dict.fromkeys(names):
        act = ts.action(name)
        if any(not is_finite(p.type) for p in act.params):
            continue
        body: Expr = act.guard
        for p in reversed(act.params):
            body = Quant(Quantifier.EXISTS, p.name, p.type, body)
        covers.append(Property(name, PropKind.COVER, body))
    if not covers:
        return frozenset()
    results = engines.prove(
        replace(ts, properties=tuple(covers)), Options(depth=depth, engine=Engine.BMC)
    )
    return frozenset(r.property for r in results if r.verdict is Verdict.UNREACHABLE)


def _mutant_name(
    args: tuple[TransitionSystem, frozenset[str], Mutant, int, float | None, bool],
) -> str:
    m = args[2]
    return f"{m.action} #{m.index}"


def _check_in_worker(
    args: tuple[TransitionSystem, frozenset[str], Mutant, int, float | None, bool],
) -> MutantResult:
    return check_one(*args)


def run(
    ts: TransitionSystem,
    ms: Sequence[Mutant],
    depth: int | None = None,
    jobs: int | Runner = 1,
    timeout: float | None = None,
    done: Callable[[int, int], None] | None = None,
    dead: frozenset[str] | None = None,
) -> tuple[tuple[Result, ...], tuple[MutantResult, ...]]:
    """The original's results and each mutant's, in ``ms``' order (``dead``: the
    actions never enabled within ``depth``, computed when not given)."""
    depth = ts.depth if depth is None else depth
    original = engines.prove(ts, Options(depth=depth, timeout=timeout, engine=Engine.BMC))
    baseline = frozenset(
        r.property for r in original if _is_finding(r) or r.verdict is Verdict.UNKNOWN
    )
    if dead is None:
        dead = dead_actions(ts, [m.action for m in ms], depth)
    out: list[MutantResult] = []
    work = []
    for m in ms:
        if not exercised(m, dead):
            out.append(
                MutantResult(
                    m.index,
                    m.action,
                    m.kind,
                    m.span,
                    m.original,
                    m.mutated,
                    "unexercised",
                    reason=f"{m.action} is never enabled within {depth} steps",
                )
            )
        else:
            work.append((ts, baseline, m, depth, timeout, m.action in dead))
    trivial = {r.index: r for r in out}
    out = []
    where = runner(jobs)
    if sequential(where, len(work)):
        for w in work:
            out.append(_check_in_worker(w))
            if done:
                done(len(out), len(work))
    else:
        view = where.sink() if where.sink is not None else None
        with where.open(len(work)) as pool, view if view is not None else nullcontext():
            for r in in_order(pool, _check_in_worker, work, _mutant_name, view):
                out.append(r)
                if done:
                    done(len(out), len(work))
    checked = {r.index: r for r in out}
    return original, tuple(trivial.get(m.index) or checked[m.index] for m in ms)


def score(results: Sequence[MutantResult]) -> tuple[int, int, float | None]:
    """``(killed, non-equivalent decided, killed / that)``; None when nothing counts."""
    killed = sum(r.status == "killed" for r in results)
    counted = sum(r.status in ("killed", "survived") for r in results)
    return killed, counted, (killed / counted if counted else None)
