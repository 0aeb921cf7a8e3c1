"""``fusever diff A B``: the shortest action sequence after which two specs' observations differ.

The two specs run in lockstep: one *product* transition system (plain data, built
here at the :mod:`fusever.ts` level, no Z3) whose state is A's variables renamed
``a.x`` and B's renamed ``b.x`` (spec names have no dots, so the two halves cannot
clash), whose actions are the pairs of actions with the same name (or paired with
``--map A=B``) and the same parameter types, and whose one invariant says that every
observable common to both specs has equal values.  The existing engines check it: a
violation at step ``n`` is a shortest distinguishing sequence, replayed afterwards in
A and in B with :mod:`fusever.interpret`; no violation up to the bound means no
difference up to the bound (or at all, when an unbounded engine proves it).

Two choices, documented in docs/exploring.md:

- **enabledness** (``enabled="differ"``, the default): a step enabled in one spec and
  not in the other is itself a difference (the product step is taken when either side
  is enabled, and the flag ``lockstep.blocked`` records a disagreement).  With
  ``enabled="both"`` a product step needs both guards, so only the observables count.
- **the start**: a variable of the same name and type that both specs leave free
  (``x := any`` in init) starts with the same value on both sides; everything else
  starts as each spec says.

Nothing here formats output: :mod:`fusever.report_explore` renders a :class:`DiffResult`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Literal, TypeVar, assert_never

from fusever import engines, interpret
from fusever.ts import (
    BOOL,
    Action,
    Assign,
    Assume,
    Binary,
    BinOp,
    Cast,
    EnumType,
    Expr,
    ForAll,
    If,
    Ite,
    Key,
    Lit,
    Local,
    Property,
    PropKind,
    Quant,
    Quantifier,
    SortType,
    State,
    StateVar,
    Step,
    Stmt,
    Trace,
    TransitionSystem,
    Unary,
    UnOp,
    Value,
    Var,
    keys,
)
from fusever.verdict import Engine, Options, Verdict

__all__ = [
    "BLOCKED",
    "PROPERTY",
    "DiffError",
    "DiffResult",
    "Lockstep",
    "LockstepStep",
    "Move",
    "Observation",
    "diff",
    "lockstep",
    "observe",
    "parse_map",
]

A, B = "a.", "b."
_N = TypeVar("_N")
BLOCKED = "lockstep.blocked"  # a step enabled on one side only (enabled="differ")
PROPERTY = "observations_agree"
Enabled = Literal["differ", "both"]
Pairing = Literal["name", "effect"]


class DiffError(ValueError):
    """The two specs cannot be compared (a user's mistake: no common observable, a
    sort of the same name with different sizes, a bad ``--map``)."""


# ---- renaming ---------------------------------------------------------------------


def _rename_expr(e: Expr, prefix: str, locals_: Mapping[str, str]) -> Expr:
    def go(x: Expr) -> Expr:
        return _rename_expr(x, prefix, locals_)

    match e:
        case Lit():
            return e
        case Var(name=name, args=args):
            return replace(e, name=prefix + name, args=tuple(go(a) for a in args))
        case Local(name=name):
            return replace(e, name=locals_.get(name, name))
        case Unary(arg=arg):
            return replace(e, arg=go(arg))
        case Cast(arg=arg):
            return replace(e, arg=go(arg))
        case Binary(lhs=lhs, rhs=rhs):
            return replace(e, lhs=go(lhs), rhs=go(rhs))
        case Ite(cond=c, then=t, else_=f):
            return replace(e, cond=go(c), then=go(t), else_=go(f))
        case Quant(var=var, body=body):
            inner = {k: v for k, v in locals_.items() if k != var}
            return replace(e, body=_rename_expr(body, prefix, inner))
        case _:
            assert_never(e)


def _rename_stmts(
    body: Sequence[Stmt], prefix: str, locals_: Mapping[str, str]
) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for st in body:
        match st:
            case Assign(name=name, args=args, value=value):
                out.append(
                    replace(
                        st,
                        name=prefix + name,
                        args=tuple(_rename_expr(a, prefix, locals_) for a in args),
                        value=None if value is None else _rename_expr(value, prefix, locals_),
                    )
                )
            case If(cond=c, then=t, else_=f):
                out.append(
                    replace(
                        st,
                        cond=_rename_expr(c, prefix, locals_),
                        then=_rename_stmts(t, prefix, locals_),
                        else_=_rename_stmts(f, prefix, locals_),
                    )
                )
            case ForAll(var=var, where=where, body=inner):
                scope = {k: v for k, v in locals_.items() if k != var}
                out.append(
                    replace(
                        st,
                        where=None if where is None else _rename_expr(where, prefix, scope),
                        body=_rename_stmts(inner, prefix, scope),
                    )
                )
            case Assume(cond=c):
                out.append(replace(st, cond=_rename_expr(c, prefix, locals_)))
            case _:
                assert_never(st)
    return tuple(out)


# ---- the product ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Move:
    """What one product action is: A's action (None: A stays) and B's, each with its
    arguments as (the product's parameter, the side's parameter)."""

    a: str | None
    b: str | None
    a_args: tuple[tuple[str, str], ...]
    b_args: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Lockstep:
    """The product of A and B, and how its names map back to theirs."""

    product: TransitionSystem
    pairs: tuple[tuple[str, str], ...]  # (A's action, B's action); the product action has A's name
    only_a: tuple[str, ...]  # actions of A with no partner in B (never taken in lockstep)
    only_b: tuple[str, ...]
    mismatched: tuple[tuple[str, str], ...]  # (action, why): same name, different parameters
    observables: tuple[str, ...]  # compared
    unobserved_a: tuple[str, ...]  # observables of A only (not compared)
    unobserved_b: tuple[str, ...]
    shared_start: tuple[str, ...]  # variables both leave free, started equal
    enabled: Enabled
    # every product action: which action each side takes, and with which arguments
    moves: tuple[tuple[str, Move], ...] = ()
    pairing: Pairing = "name"
    silent_a: tuple[
        str, ...
    ] = ()  # with pairing="effect": A's unpaired steps that change no observable
    silent_b: tuple[str, ...] = ()
    by_effect: tuple[tuple[str, str], ...] = ()  # (A's action, B's action) paired by effect


def parse_map(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``--map A=B`` arguments as pairs; raises DiffError on a malformed one."""
    out: list[tuple[str, str]] = []
    for item in items:
        a, eq, b = item.partition("=")
        if not eq or not a.strip() or not b.strip():
            raise DiffError(f"--map `{item}` is not A_ACTION=B_ACTION")
        out.append((a.strip(), b.strip()))
    return tuple(out)


def _same_named_types(
    a: TransitionSystem, b: TransitionSystem
) -> tuple[tuple[SortType, ...], tuple[EnumType, ...]]:
    sorts = {s.name: s for s in a.sorts}
    for s in b.sorts:
        if s.name in sorts and sorts[s.name] != s:
            raise DiffError(
                f"sort {s.name} has {sorts[s.name].size} elements in {a.key} and {s.size} in {b.key};"
                " compare them under configurations where it agrees"
            )
        sorts.setdefault(s.name, s)
    enums = {e.name: e for e in a.enums}
    for e in b.enums:
        enums.setdefault(e.name, e)  # an enum that differs is renamed apart (_split_enums)
    return tuple(sorts.values()), tuple(enums.values())


def _retype(node: _N, renamed: Mapping[EnumType, EnumType]) -> _N:
    """``node`` (a transition system or any part of one) with every enum type in
    ``renamed`` replaced: a rebuilt tree, the rest shared."""
    if isinstance(node, EnumType):
        return renamed.get(node, node)  # type: ignore[return-value]
    if isinstance(node, tuple):
        return tuple(_retype(x, renamed) for x in node)  # type: ignore[return-value]
    if not is_dataclass(node) or isinstance(node, type):
        return node
    changes = {}
    for f in fields(node):
        old = getattr(node, f.name)
        new = _retype(old, renamed)
        if new is not old:
            changes[f.name] = new
    return replace(node, **changes) if changes else node


def _split_enums(
    a: TransitionSystem, b: TransitionSystem
) -> tuple[TransitionSystem, TransitionSystem, dict[str, tuple[EnumType, EnumType]]]:
    """An enum of the same name with different members (an ``extend enum`` variant and
    its base) becomes two enums of the product, ``a.E`` and ``b.E``: a member B adds is
    a value A never has, and A's parameters and quantifiers keep ranging over A's
    members only.  Returns both systems retyped and, by enum name, the two types."""
    b_enums = {e.name: e for e in b.enums}
    split = {
        e.name: (e, b_enums[e.name]) for e in a.enums if e.name in b_enums and b_enums[e.name] != e
    }
    if not split:
        return a, b, {}
    ra = {ea: EnumType(A + n, ea.members) for n, (ea, _) in split.items()}
    rb = {eb: EnumType(B + n, eb.members) for n, (_, eb) in split.items()}
    return _retype(a, ra), _retype(b, rb), {n: (ra[ea], rb[eb]) for n, (ea, eb) in split.items()}


def _free_in_init(ts: TransitionSystem) -> set[str]:
    """Variables assigned ``any`` as a whole at the top level of init."""
    return {
        st.name for st in ts.init if isinstance(st, Assign) and st.value is None and not st.args
    }


def _equal_everywhere(name_a: str, name_b: str, v: StateVar, tag: str) -> Expr:
    """``forall k. name_a[k] == name_b[k]`` over ``v``'s index."""
    locs = tuple(Local(f"{tag}#{i}", t) for i, t in enumerate(v.index))
    body: Expr = Binary(BinOp.EQ, Var(name_a, locs, v.type), Var(name_b, locs, v.type), BOOL)
    for loc in reversed(locs):
        body = Quant(Quantifier.FORALL, loc.name, loc.type, body)
    return body


def _and(xs: Sequence[Expr]) -> Expr:
    if not xs:
        return Lit(True, BOOL)
    out = xs[0]
    for x in xs[1:]:
        out = Binary(BinOp.AND, out, x, BOOL)
    return out


def _any(xs: Iterable[Expr]) -> Expr:
    out: Expr = Lit(False, BOOL)
    for i, x in enumerate(xs):
        out = x if i == 0 else Binary(BinOp.OR, out, x, BOOL)
    return out


def lockstep(
    a: TransitionSystem,
    b: TransitionSystem,
    mapping: Sequence[tuple[str, str]] = (),
    enabled: Enabled = "differ",
    pairing: Pairing = "name",
) -> Lockstep:
    """The product of ``a`` and ``b``; raises :class:`DiffError` when they cannot be
    compared.  ``pairing="effect"``: the actions left unpaired by name are paired by
    their effect on the observables (see :func:`_by_effect`)."""
    a, b, split = _split_enums(a, b)
    sorts, enums = _same_named_types(a, b)
    enums = (
        *(e for e in enums if e.name not in split),
        *(t for pair in split.values() for t in pair),
    )
    a_actions = {x.name: x for x in a.actions}
    b_actions = {x.name: x for x in b.actions}
    partner = _partners(a, b, mapping)
    a_obs = {o.name: o for o in a.observables}
    b_obs = {o.name: o for o in b.observables}
    common, agree = _agreement(a, b)

    vars_ = [replace(v, name=A + v.name) for v in a.vars] + [
        replace(v, name=B + v.name) for v in b.vars
    ]
    init = [*_rename_stmts(a.init, A, {}), *_rename_stmts(b.init, B, {})]
    shared = _shared_start(a, b)
    for n in shared:
        init.append(Assume(_equal_everywhere(A + n, B + n, a.var(n), "start")))
    if enabled == "differ":
        vars_.append(StateVar(BLOCKED, (), BOOL, ghost=True))
        init.append(Assign(BLOCKED, (), Lit(False, BOOL)))
        agree.insert(0, Unary(UnOp.NOT, Var(BLOCKED, (), BOOL), BOOL))

    actions, pairs, mismatched = _paired(a_actions, b_actions, partner, enabled)
    paired_b = {y for _, y in pairs} | {partner[x] for x, _ in mismatched}
    moves = [
        (x, Move(x, y, tuple((p.name, p.name) for p in a_actions[x].params),
                 tuple((p.name, q.name) for p, q in zip(a_actions[x].params, b_actions[y].params, strict=True))))
        for x, y in pairs
    ]  # fmt: skip
    silent_a: tuple[str, ...] = ()
    silent_b: tuple[str, ...] = ()
    by_effect: tuple[tuple[str, str], ...] = ()
    if pairing == "effect":
        left_a = [x for x in a_actions if x not in partner]
        left_b = [y for y in b_actions if y not in paired_b]
        extra, extra_moves, silent_a, silent_b, by_effect = _by_effect(
            a, b, common, [a_actions[x] for x in left_a], [b_actions[y] for y in left_b]
        )
        actions += extra
        moves += extra_moves
        partner = {**partner, **dict(by_effect), **{x: "" for x in silent_a}}
        paired_b |= {y for _, y in by_effect} | set(silent_b)
    prop = Property(PROPERTY, PropKind.INVARIANT, _and(agree), "every common observable is equal")
    product = TransitionSystem(
        name=f"{a.name}_vs_{b.name}",
        path=a.path,
        description=f"{a.key} and {b.key} in lockstep",
        lineage=(f"{a.name}_vs_{b.name}",),
        settings=(),
        sorts=sorts,
        enums=enums,
        vars=tuple(vars_),
        init=tuple(init),
        actions=tuple(actions),
        properties=(prop,),
        depth=max(a.depth, b.depth),
    )
    return Lockstep(
        product=product,
        pairs=tuple(pairs),
        only_a=tuple(n for n in a_actions if n not in partner),
        only_b=tuple(n for n in b_actions if n not in paired_b),
        mismatched=tuple(mismatched),
        observables=tuple(common),
        unobserved_a=tuple(n for n in a_obs if n not in b_obs),
        unobserved_b=tuple(n for n in b_obs if n not in a_obs),
        shared_start=tuple(shared),
        enabled=enabled,
        moves=tuple(moves),
        pairing=pairing,
        silent_a=silent_a,
        silent_b=silent_b,
        by_effect=by_effect,
    )


def _partners(
    a: TransitionSystem, b: TransitionSystem, mapping: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """Each action of A taken in lockstep with its partner in B: as ``--map`` pairs them
    (checked), else the action of the same name that no ``--map`` took."""
    a_actions = {x.name for x in a.actions}
    b_actions = {x.name for x in b.actions}
    for x, y in mapping:
        if x not in a_actions:
            raise DiffError(f"--map {x}={y}: {a.key} has no action `{x}`")
        if y not in b_actions:
            raise DiffError(f"--map {x}={y}: {b.key} has no action `{y}`")
    partner = dict(mapping)
    mapped_b = set(partner.values())
    for act in a.actions:
        name = act.name
        if name not in partner and name in b_actions and name not in mapped_b:
            partner[name] = name
    return partner


def _agreement(a: TransitionSystem, b: TransitionSystem) -> tuple[list[str], list[Expr]]:
    """The observables both specs declare, and for each that its values agree (A's
    variables and parameters named on both sides); raises :class:`DiffError` when
    there is none or one's shape differs."""
    a_obs = {o.name: o for o in a.observables}
    b_obs = {o.name: o for o in b.observables}
    common = [n for n in a_obs if n in b_obs]
    if not common:
        raise DiffError(
            f"{a.key} and {b.key} declare no observable in common"
            " (`observe NAME[x: Sort]: expr` in the spec; see docs/language.md)"
        )
    agree: list[Expr] = []
    for n in common:
        oa, ob = a_obs[n], b_obs[n]
        pa, pb = [p.type for p in oa.params], [p.type for p in ob.params]
        if pa != pb:
            raise DiffError(
                f"observable {n} is indexed by ({', '.join(map(str, pa))}) in {a.key} and by "
                f"({', '.join(map(str, pb))}) in {b.key}"
                + (": an enum a variant extends has more values on one side, so the two"
                   " specs observe different instances" if any(
                       isinstance(x, EnumType) and isinstance(y, EnumType) and x.name[2:] == y.name[2:]
                       for x, y in zip(pa, pb, strict=False)) else "")
            )  # fmt: skip
        rn = {q.name: p.name for p, q in zip(oa.params, ob.params, strict=True)}
        ea, eb = _rename_expr(oa.expr, A, {}), _rename_expr(ob.expr, B, rn)
        ta, tb = oa.expr.type, ob.expr.type
        body: Expr
        if ta == tb:
            body = Binary(BinOp.EQ, ea, eb, BOOL)
        elif isinstance(ta, EnumType) and isinstance(tb, EnumType) and ta.name[2:] == tb.name[2:]:
            # the same enum split apart: equal when both are the same member (a member
            # one side has alone equals nothing on the other)
            body = _any(
                Binary(BinOp.AND, Binary(BinOp.EQ, ea, Lit(m, ta), BOOL),
                       Binary(BinOp.EQ, eb, Lit(m, tb), BOOL), BOOL)
                for m in ta.members if m in tb.members
            )  # fmt: skip
        else:
            raise DiffError(f"observable {n} is a {ta} in {a.key} and a {tb} in {b.key}")
        for p in reversed(oa.params):
            body = Quant(Quantifier.FORALL, p.name, p.type, body)
        agree.append(body)
    return common, agree


def _shared_start(a: TransitionSystem, b: TransitionSystem) -> list[str]:
    """The variables of the same name, index and type that both specs leave free in
    init: they start equal on both sides."""
    b_vars = {v.name: v for v in b.vars}
    return sorted(
        n
        for n in _free_in_init(a) & _free_in_init(b)
        if (a.var(n).index, a.var(n).type) == (b_vars[n].index, b_vars[n].type)
    )


def _paired(
    a_actions: Mapping[str, Action],
    b_actions: Mapping[str, Action],
    partner: Mapping[str, str],
    enabled: Enabled,
) -> tuple[list[Action], list[tuple[str, str]], list[tuple[str, str]]]:
    """The product's actions, in A's order; the pairs of names they join; and the
    partners left out because their parameters differ, each with why."""
    actions: list[Action] = []
    pairs: list[tuple[str, str]] = []
    mismatched: list[tuple[str, str]] = []
    for name, act_a in a_actions.items():
        if name not in partner:
            continue
        act_b = b_actions[partner[name]]
        if [(p.type, p.chosen) for p in act_a.params] != [(p.type, p.chosen) for p in act_b.params]:
            why = "the parameters differ: " + _sig(act_a) + " and " + _sig(act_b)
            for p, q in zip(act_a.params, act_b.params, strict=False):
                if (
                    isinstance(p.type, EnumType)
                    and isinstance(q.type, EnumType)
                    and p.type != q.type
                ):
                    extra = [m for m in q.type.members if m not in p.type.members]
                    if p.type.name[len(A) :] == q.type.name[len(B) :] and extra:
                        why += (f" (B extends enum {q.type.name[len(B):]} with {', '.join(extra)}: "
                                f"B's {q.name} can be a value A's {p.name} never is)")  # fmt: skip
            mismatched.append((name, why))
            continue
        actions.append(_product_action(act_a, act_b, enabled))
        pairs.append((name, act_b.name))
    return actions, pairs, mismatched


def _reads(e: object) -> set[str]:
    """The state variables an expression (or anything holding expressions) reads."""
    out: set[str] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, Var):
            out.add(x.name)
        if isinstance(x, tuple):
            todo.extend(x)
        elif is_dataclass(x) and not isinstance(x, type):
            todo.extend(getattr(x, f.name) for f in fields(x))
    return out


def _writes(body: Sequence[Stmt]) -> set[str]:
    out: set[str] = set()
    for st in body:
        match st:
            case Assign(name=name):
                out.add(name)
            case If(then=then, else_=else_):
                out |= _writes(then) | _writes(else_)
            case ForAll(body=inner):
                out |= _writes(inner)
            case Assume():
                pass
            case _:
                assert_never(st)
    return out


def _by_effect(
    a: TransitionSystem,
    b: TransitionSystem,
    common: Sequence[str],
    left_a: Sequence[Action],
    left_b: Sequence[Action],
) -> tuple[
    list[Action],
    list[tuple[str, Move]],
    tuple[str, ...],
    tuple[str, ...],
    tuple[tuple[str, str], ...],
]:
    """The actions no name pairs, paired by their effect on the observables.

    An action's *effect* is the set of common observables whose state it writes.  One
    with no effect is *silent*: it runs alone, the other spec standing still (a step
    one spec splits in two, a new phase of a writer).  Two with the same effect, one
    of A's and one of B's, are one product step with both parameter lists (B's
    renamed ``b.p``), taken when both guards hold; an observable-changing action with
    no such partner is never taken, and the header says so."""
    obs_a = {o.name: _reads(o.expr) for o in a.observables if o.name in common}
    obs_b = {o.name: _reads(o.expr) for o in b.observables if o.name in common}

    def effect(act: Action, obs: Mapping[str, set[str]]) -> frozenset[str]:
        w = _writes(act.body)
        return frozenset(n for n, r in obs.items() if r & w)

    actions: list[Action] = []
    moves: list[tuple[str, Move]] = []
    silent_a = tuple(x.name for x in left_a if not effect(x, obs_a))
    silent_b = tuple(y.name for y in left_b if not effect(y, obs_b))
    for x in left_a:
        if x.name in silent_a:
            actions.append(
                replace(
                    x,
                    name=A + x.name,
                    guard=_rename_expr(x.guard, A, {}),
                    body=_rename_stmts(x.body, A, {}),
                )
            )
            moves.append(
                (A + x.name, Move(x.name, None, tuple((p.name, p.name) for p in x.params), ()))
            )
    for y in left_b:
        if y.name in silent_b:
            rn = {q.name: B + q.name for q in y.params}
            params = tuple(replace(q, name=rn[q.name]) for q in y.params)
            actions.append(
                replace(
                    y,
                    name=B + y.name,
                    params=params,
                    guard=_rename_expr(y.guard, B, rn),
                    body=_rename_stmts(y.body, B, rn),
                    actor_param=None,
                )
            )
            moves.append(
                (B + y.name, Move(None, y.name, (), tuple((rn[q.name], q.name) for q in y.params)))
            )
    pairs: list[tuple[str, str]] = []
    taken_b: set[str] = set()
    for x in left_a:
        ex = effect(x, obs_a)
        if not ex:
            continue
        found = [z for z in left_b if z.name not in taken_b and effect(z, obs_b) == ex]
        if not found:
            continue
        y = found[0]
        taken_b.add(y.name)
        rn = {q.name: B + q.name for q in y.params}
        params = (*x.params, *(replace(q, name=rn[q.name]) for q in y.params))
        guard = Binary(BinOp.AND, _rename_expr(x.guard, A, {}), _rename_expr(y.guard, B, rn), BOOL)
        body = (*_rename_stmts(x.body, A, {}), *_rename_stmts(y.body, B, rn))
        name = f"{x.name}+{y.name}"
        actions.append(replace(x, name=name, params=params, guard=guard, body=body))
        moves.append(
            (
                name,
                Move(
                    x.name,
                    y.name,
                    tuple((p.name, p.name) for p in x.params),
                    tuple((rn[q.name], q.name) for q in y.params),
                ),
            )
        )
        pairs.append((x.name, y.name))
    return actions, moves, silent_a, silent_b, tuple(pairs)  # fmt: skip


def _product_action(act_a: Action, act_b: Action, enabled: Enabled) -> Action:
    """One step of both: with ``enabled="both"`` when both guards hold, else when either
    does, each side moving only when its own guard holds and ``lockstep.blocked``
    recording a disagreement."""
    rn = {q.name: p.name for p, q in zip(act_a.params, act_b.params, strict=True)}
    ga = _rename_expr(act_a.guard, A, {})
    gb = _rename_expr(act_b.guard, B, rn)
    ba = _rename_stmts(act_a.body, A, {})
    bb = _rename_stmts(act_b.body, B, rn)
    if enabled == "both":
        guard: Expr = Binary(BinOp.AND, ga, gb, BOOL)
        body_: tuple[Stmt, ...] = (*ba, *bb)
    else:
        guard = Binary(BinOp.OR, ga, gb, BOOL)
        body_ = (
            Assign(BLOCKED, (), Binary(BinOp.NE, ga, gb, BOOL)),
            If(ga, ba, ()),
            If(gb, bb, ()),
        )
    return replace(act_a, guard=guard, body=body_)


def _sig(act: Action) -> str:
    return f"{act.name}(" + ", ".join(f"{p.name}: {p.type}" for p in act.params) + ")"


# ---- observations and the result -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observation:
    """One observed value that differs: ``name[key]`` is ``a`` in A and ``b`` in B."""

    name: str
    key: Key
    a: Value
    b: Value


def observe(ts: TransitionSystem, state: State) -> dict[tuple[str, Key], Value]:
    """Every observable's value in ``state``, one per element of its parameters."""
    out: dict[tuple[str, Key], Value] = {}
    for o in ts.observables:
        for key in keys(tuple(p.type for p in o.params)):
            env = {p.name: v for p, v in zip(o.params, key, strict=True)}
            out[(o.name, key)] = interpret.evaluate(o.expr, state, env)
    return out


@dataclass(frozen=True, slots=True)
class LockstepStep:
    """One step of the distinguishing sequence, as each spec saw it.  ``a_state`` /
    ``b_state`` are None when that side could not take the step (its guard is false)."""

    action_a: str | None
    action_b: str | None
    args_a: tuple[tuple[str, Value], ...]
    args_b: tuple[tuple[str, Value], ...]
    a_state: State | None
    b_state: State | None


@dataclass(frozen=True, slots=True)
class DiffResult:
    spec_a: str  # keys: spec or spec.config
    spec_b: str
    verdict: Verdict  # VIOLATED: a difference; PROVED: none (``complete``: at any depth); UNKNOWN
    complete: bool
    bound: int
    engine: str
    seconds: float
    lock: Lockstep
    steps: tuple[LockstepStep, ...] = ()  # step 0 is the initial state
    differences: tuple[Observation, ...] = ()  # at the last step
    blocked: str | None = None  # "a" or "b": the side that could not take the last step
    reason: str | None = None  # why unknown

    @property
    def trace_a(self) -> Trace:
        return _side_trace(self.steps, "a")

    @property
    def trace_b(self) -> Trace:
        return _side_trace(self.steps, "b")


def _side_trace(steps: Sequence[LockstepStep], side: str) -> Trace:
    out: list[Step] = []
    for s in steps:
        state = s.a_state if side == "a" else s.b_state
        if state is None:
            break
        action = s.action_a if side == "a" else s.action_b
        args = s.args_a if side == "a" else s.args_b
        out.append(Step(action, args, state))
    return Trace(tuple(out))


def _project(state: State, prefix: str) -> dict[str, dict[Key, Value]]:
    return {k[len(prefix) :]: dict(v) for k, v in state.items() if k.startswith(prefix)}


def _replay(
    a: TransitionSystem, b: TransitionSystem, lock: Lockstep, trace: Trace
) -> tuple[tuple[LockstepStep, ...], tuple[Observation, ...], str | None]:
    """The product trace replayed in A and in B separately (never trusted as is)."""
    moves = dict(lock.moves)
    first = trace.steps[0].state
    sa: State | None = _project(first, A)
    sb: State | None = _project(first, B)
    steps = [LockstepStep(None, None, (), (), sa, sb)]
    blocked: str | None = None
    for st in trace.steps[1:]:
        if st.action is None:
            continue
        move = moves[st.action]
        name_a, name_b = move.a, move.b
        args = dict(st.args)
        args_a = tuple((mine, args[ours]) for ours, mine in move.a_args)
        args_b = tuple((mine, args[ours]) for ours, mine in move.b_args)
        assert sa is not None and sb is not None
        na = sa if name_a is None else (
            interpret.step(a, sa, name_a, dict(args_a))
            if interpret.enabled(a, sa, name_a, dict(args_a))
            else None
        )  # fmt: skip
        nb = sb if name_b is None else (
            interpret.step(b, sb, name_b, dict(args_b))
            if interpret.enabled(b, sb, name_b, dict(args_b))
            else None
        )  # fmt: skip
        assert na is not None or nb is not None, "the product took a step neither spec can take"
        steps.append(LockstepStep(name_a, name_b, args_a, args_b, na, nb))
        if na is None or nb is None:
            blocked = "a" if na is None else "b"
            break
        sa, sb = na, nb
    differences: tuple[Observation, ...] = ()
    if blocked is None:
        assert sa is not None and sb is not None
        oa, ob = observe(a, sa), observe(b, sb)
        differences = tuple(
            Observation(n, k, oa[(n, k)], ob[(n, k)])
            for (n, k) in oa
            if n in lock.observables and oa[(n, k)] != ob[(n, k)]
        )
        assert differences, "the product's violation does not replay as a difference"
    return tuple(steps), differences, blocked


def diff(
    a: TransitionSystem,
    b: TransitionSystem,
    depth: int | None = None,
    mapping: Sequence[tuple[str, str]] = (),
    enabled: Enabled = "differ",
    engine: str = "bmc",
    timeout: float | None = None,
    pairing: Pairing = "name",
) -> DiffResult:
    """Search for the shortest distinguishing sequence of ``a`` and ``b``."""
    start = time.monotonic()
    lock = lockstep(a, b, mapping, enabled, pairing)
    options = Options(depth=depth, timeout=timeout, engine=Engine.named(engine))
    (result,) = engines.prove(lock.product, options)
    out = DiffResult(
        spec_a=a.key,
        spec_b=b.key,
        verdict=result.verdict,
        complete=result.complete,
        bound=result.bound,
        engine=result.engine,
        seconds=0.0,
        lock=lock,
        reason=result.reason,
    )
    if result.verdict is Verdict.VIOLATED:
        assert result.trace is not None
        steps, differences, blocked = _replay(a, b, lock, result.trace)
        out = replace(out, steps=steps, differences=differences, blocked=blocked)
    return replace(out, seconds=time.monotonic() - start)
