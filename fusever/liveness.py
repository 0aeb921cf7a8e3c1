"""What the explicit engine's compiled code reads and writes, location by location.

The analyses behind the explicit engine's liveness reduction and its constants, on
the compiled form (:mod:`fusever.closures`: indices folded where the parameters fix
them, an ``if`` folded where its condition is constant), each as a set of slots:

- the locations an expression, an ``assume`` or an assignment reads, and each
  assignment's possible targets with what flows into them (its value, its index and
  the conditions it is under): :mod:`fusever.explicit_system` closes those into the
  goals' cone of influence and resets every location outside it (SPIN's zeroing of
  dead locals, in its static form: the free initial choices that nothing reads, the
  writers' state when writes are serialized, ...);
- the locations init sets to one value whatever the start (:func:`determined_slots`),
  and those no enabled step ever writes (:func:`fixed_slots`): read as constants;
- each action's instances: its enumerated and chosen parameters, encoded
  (:func:`instance_envs`).

It refuses (:class:`~fusever.closures.Unsupported`) a ``choose`` over too many values
to enumerate and an init whose conditions read the state.  Nothing prints.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import assert_never

from fusever.closures import Compiler, Unsupported, seq
from fusever.layout import Layout, domain, enc
from fusever.ts import (
    Action,
    Assign,
    Assume,
    Binary,
    Cast,
    Expr,
    ForAll,
    If,
    Ite,
    Lit,
    Local,
    Quant,
    Stmt,
    TransitionSystem,
    Type,
    Unary,
    Var,
    elements,
    instances,
    is_finite,
)

__all__ = [
    "assume_reads",
    "determined_slots",
    "expr_reads",
    "fixed_slots",
    "instance_envs",
    "stmt_flows",
    "stmt_writes",
]


def assume_reads(c: Compiler, body: Sequence[Stmt], env: Mapping[str, int], out: set[int]) -> None:
    for st in body:
        match st:
            case Assume(cond=cond):
                expr_reads(c, cond, env, out)
            case If(then=th, else_=el):
                assume_reads(c, th, env, out)
                assume_reads(c, el, env, out)
            case ForAll(var=x, sort=sort, body=b):
                for v in elements(sort):
                    assume_reads(c, b, {**env, x: enc(sort, v)}, out)
            case Assign():
                pass


def determined_slots(ts: TransitionSystem, lay: Layout) -> dict[int, int]:
    """The locations init sets to one value whatever the start (the rest are free)."""
    unset = -(1 << 70)
    probe = [unset] * lay.size
    try:
        seq(Compiler(lay).stmts(_no_assumes(ts.init), {}, init=True))(probe)
    except (IndexError, TypeError):
        raise Unsupported("the initial state's conditions read the state") from None
    return {j: x for j, x in enumerate(probe) if x != unset}


def fixed_slots(
    ts: TransitionSystem, lay: Layout, envs: Sequence[tuple[Action, dict[str, int]]]
) -> dict[int, int]:
    """Locations no step can change: a greatest fixpoint.  Start from every location
    init determines; drop those written by an instance whose guard is not false when
    the rest keep their initial values; repeat.  At the fixpoint the instances left out
    are never enabled on a reachable state (each step taken writes no fixed location,
    so they keep their values, so those guards stay false)."""
    fixed = determined_slots(ts, lay)
    while True:
        comp = Compiler(lay, fixed=fixed)
        written: set[int] = set()
        for a, env in envs:
            g = comp.expr(a.guard, env)
            if isinstance(g, int) and not g:
                continue
            written |= stmt_writes(comp, a.body, env)
        smaller = {j: x for j, x in fixed.items() if j not in written}
        if len(smaller) == len(fixed):
            return fixed
        fixed = smaller


def _no_assumes(body: Sequence[Stmt]) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for st in body:
        match st:
            case Assume():
                pass
            case If(cond=c, then=th, else_=el):
                out.append(If(c, _no_assumes(th), _no_assumes(el), st.span))
            case ForAll(var=x, sort=sort, where=wh, body=b):
                out.append(ForAll(x, sort, wh, _no_assumes(b), st.span))
            case Assign():
                out.append(st)
    return tuple(out)


def instance_envs(a: Action) -> Iterator[dict[str, int]]:
    chosen = [p for p in a.params if p.chosen]
    for p in chosen:
        if not is_finite(p.type) and domain(p.type) is None:
            raise Unsupported(
                f"action {a.name} chooses {p.name} over {p.type}: too many values to enumerate"
            )
    choices = itertools.product(*(range(domain(p.type) or 0) for p in chosen))
    for combo in choices:
        for inst in instances(a):
            env = {name: enc(_ptype(a, name), v) for name, v in inst}
            for p, x in zip(chosen, combo, strict=True):
                env[p.name] = x
            yield env


def _ptype(a: Action, name: str) -> Type:
    for p in a.params:
        if p.name == name:
            return p.type
    raise KeyError(name)


def _all_slots(lay: Layout, name: str) -> range:
    return lay.slots(name)


def expr_reads(c: Compiler, e: Expr, env: Mapping[str, int], out: set[int]) -> None:
    match e:
        case Lit() | Local():
            pass
        case Var(name=name, args=args):
            nodes = [c.expr(a, env) for a in args]
            if all(isinstance(n, int) for n in nodes):
                out.add(c.layout.slot(name, [n for n in nodes if isinstance(n, int)]))
            else:
                out.update(_all_slots(c.layout, name))
            for a in args:
                expr_reads(c, a, env, out)
        case Unary(arg=a) | Cast(arg=a):
            expr_reads(c, a, env, out)
        case Binary(lhs=lhs, rhs=rhs):
            expr_reads(c, lhs, env, out)
            expr_reads(c, rhs, env, out)
        case Ite(cond=cond, then=th, else_=el):
            k = c.expr(cond, env)
            if isinstance(k, int):
                expr_reads(c, th if k else el, env, out)
                return
            expr_reads(c, cond, env, out)
            expr_reads(c, th, env, out)
            expr_reads(c, el, env, out)
        case Quant(var=x, sort=sort, body=b):
            for v in elements(sort):
                expr_reads(c, b, {**env, x: enc(sort, v)}, out)
        case _:
            assert_never(e)


def stmt_flows(
    c: Compiler,
    body: Sequence[Stmt],
    env: Mapping[str, int],
    under: frozenset[int],
    seeds: set[int],
    out: list[tuple[frozenset[int], frozenset[int]]],
) -> None:
    """Each assignment's possible targets with what it reads (its value, its index and
    the conditions it is under: ``under``); an ``assume``'s reads go to ``seeds``."""
    for st in body:
        match st:
            case Assign(name=name, args=args, value=value):
                if value is None:
                    continue
                reads: set[int] = set(under)
                for a in args:
                    expr_reads(c, a, env, reads)
                expr_reads(c, value, env, reads)
                nodes = [c.expr(a, env) for a in args]
                if all(isinstance(n, int) for n in nodes):
                    targets = frozenset(
                        {c.layout.slot(name, [n for n in nodes if isinstance(n, int)])}
                    )
                else:
                    targets = frozenset(_all_slots(c.layout, name))
                out.append((targets, frozenset(reads)))
            case If(cond=cond, then=th, else_=el):
                k = c.expr(cond, env)
                if isinstance(k, int):
                    stmt_flows(c, th if k else el, env, under, seeds, out)
                    continue
                more: set[int] = set(under)
                expr_reads(c, cond, env, more)
                stmt_flows(c, th, env, frozenset(more), seeds, out)
                stmt_flows(c, el, env, frozenset(more), seeds, out)
            case ForAll(var=x, sort=sort, where=wh, body=b):
                for v in elements(sort):
                    inner = {**env, x: enc(sort, v)}
                    more = set(under)
                    if wh is not None:
                        expr_reads(c, wh, inner, more)
                    stmt_flows(c, b, inner, frozenset(more), seeds, out)
            case Assume(cond=cond):
                expr_reads(c, cond, env, seeds)
                seeds.update(under)
            case _:
                assert_never(st)


def stmt_writes(c: Compiler, body: Sequence[Stmt], env: Mapping[str, int]) -> set[int]:
    out: set[int] = set()
    for st in body:
        match st:
            case Assign(name=name, args=args, value=value):
                if value is None:
                    continue
                nodes = [c.expr(a, env) for a in args]
                if all(isinstance(n, int) for n in nodes):
                    out.add(c.layout.slot(name, [n for n in nodes if isinstance(n, int)]))
                else:
                    out.update(_all_slots(c.layout, name))
            case If(cond=cond, then=th, else_=el):
                k = c.expr(cond, env)
                if isinstance(k, int):
                    out |= stmt_writes(c, th if k else el, env)
                else:
                    out |= stmt_writes(c, th, env) | stmt_writes(c, el, env)
            case ForAll(var=x, sort=sort, body=b):
                for v in elements(sort):
                    out |= stmt_writes(c, b, {**env, x: enc(sort, v)})
            case Assume():
                pass
            case _:
                assert_never(st)
    return out
