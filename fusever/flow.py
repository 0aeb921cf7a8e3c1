"""The flow pass: init and actions to :mod:`fusever.ts` statements, ghost flow checked.

It takes the :class:`~fusever.lineage.Merged` spec and the
:class:`~fusever.resolve.Resolver` holding its declarations and gives the system's
init (a statement list) and actions (parameters, chosen values, guard, body,
description).  Besides resolving each statement it checks where state may flow:
ghost state never into kernel state (through a value, an index, an enclosing
condition, an ``assume`` or a guard); ``any`` and ``assume`` only in init,
``choose`` only first in an action; every state variable initialised; an action's
description template names its parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from fusever import syntax as s
from fusever import template, ts
from fusever.diagnostics import Note, did_you_mean
from fusever.diags import Diags, name_at, within
from fusever.lineage import Merged
from fusever.resolve import Ctx, Resolver

__all__ = ["Flow", "Stmts", "ghost_read", "resolve_actions", "resolve_init"]


def ghost_read(e: ts.Expr, ghosts: Mapping[str, ts.StateVar]) -> ts.Var | None:
    for x in ts.walk(e):
        if isinstance(x, ts.Var) and x.name in ghosts and ghosts[x.name].ghost:
            return x
    return None


def _read_at(d: Diags, g: ts.Var, where: s.Span) -> tuple[s.Span, tuple[Note, ...]]:
    """Where to report the ghost read ``g`` of the text at ``where``: at the read itself,
    or, when it was inlined from a def's body, at ``where`` with a note at the read."""
    if within(g.span, where):
        return g.span, ()
    return where, (d.note(g.span, f"`{g.name}` is read here"),)


def _state_read(e: ts.Expr, kernel: bool, vars_: Mapping[str, ts.StateVar]) -> ts.Var | None:
    for x in ts.walk(e):
        if isinstance(x, ts.Var) and x.name in vars_ and vars_[x.name].ghost != kernel:
            return x
    return None


@dataclass(frozen=True, slots=True)
class Flow:
    """Statement context: init or an action, and the first ghost read in enclosing conditions."""

    init: bool
    ghost_cond: tuple[ts.Var, s.Span] | None = None


class Stmts:
    def __init__(self, r: Resolver) -> None:
        self.r = r
        self.d = r.d

    def block(self, body: Sequence[s.Stmt], ctx: Ctx, flow: Flow) -> tuple[ts.Stmt, ...]:
        out: list[ts.Stmt] = []
        for st in body:
            out.extend(self.stmt(st, ctx, flow))
        return tuple(out)

    def stmt(self, st: s.Stmt, ctx: Ctx, flow: Flow) -> Iterator[ts.Stmt]:
        d, r = self.d, self.r
        match st:
            case s.Assign():
                yield from self.assign(st, ctx, flow)
            case s.If(cond=c, then=then, else_=else_, span=span):
                cond = r.cond(c, ctx, "`if` condition")
                inner = self.guarded(cond, c.span, flow)
                a = self.block(then, ctx, inner)
                b = self.block(else_, ctx, inner)
                if cond is not None:
                    yield ts.If(cond, a, b, span)
            case s.ForAll():
                yield from self.for_all(st, ctx, flow)
            case s.Assume():
                yield from self.assume(st, ctx, flow)
            case s.Choose(span=span):
                if flow.init:
                    d.error(
                        span, "`choose` is only allowed in an action body; in init write `x := any`"
                    )
                else:
                    d.error(
                        span,
                        "`choose` must come first in the action body, before any other statement",
                    )
            case s.Skip():
                return
            case s.CallStmt():  # pragma: no cover - inlined by the expand pass
                raise AssertionError(f"proc call left after expansion: {st!r}")
            case _:
                assert_never(st)

    def for_all(self, st: s.ForAll, ctx: Ctx, flow: Flow) -> Iterator[ts.Stmt]:
        """``for all x in Sort where c { ... }``: the body with ``x`` bound, guarded by
        ``c`` (whose ghost reads count as an enclosing condition's)."""
        r = self.r
        var, sort, where, span = st.var, st.sort, st.where, st.span
        t = r.finite(sort, name_at(st.sort_span, span))
        ok = r.check_local(var, name_at(st.var_span, span), ctx)
        if t is None or not ok:
            return
        inner_ctx = ctx.bind(var, t)
        w = None if where is None else r.cond(where, inner_ctx, "`where` condition")
        inner = self.guarded(w, where.span if where is not None else span, flow)
        b = self.block(st.body, inner_ctx, inner)
        if where is not None and w is None:
            return
        yield ts.ForAll(var, t, w, b, span)

    def assume(self, st: s.Assume, ctx: Ctx, flow: Flow) -> Iterator[ts.Stmt]:
        """``assume c``: init only, and not relating ghost state to kernel state."""
        d, r = self.d, self.r
        c, span = st.cond, st.span
        if not flow.init:
            d.error(
                span,
                "`assume` is only allowed in init; put the condition in the action's `when` guard",
            )
            return
        x = r.cond(c, dataclasses.replace(ctx, state=True), "`assume` condition")
        if x is None:
            return
        g = ghost_read(x, r.vars)
        k = _state_read(x, True, r.vars)
        if g is not None and k is not None:
            at_read, notes = _read_at(d, g, c.span)
            d.error(
                at_read,
                f"ghost state `{g.name}` flows into kernel state `{k.name}` through this `assume`",
                notes,
            )
            return
        yield ts.Assume(x, span)

    def guarded(self, cond: ts.Expr | None, span: s.Span, flow: Flow) -> Flow:
        if cond is None or flow.ghost_cond is not None:
            return flow
        g = ghost_read(cond, self.r.vars)
        return flow if g is None else dataclasses.replace(flow, ghost_cond=(g, g.span))

    def assign(self, st: s.Assign, ctx: Ctx, flow: Flow) -> Iterator[ts.Stmt]:
        d, r = self.d, self.r
        at = s.Span(
            st.span.file, st.span.line, st.span.col, st.span.line, st.span.col + len(st.name)
        )
        v = r.vars.get(st.name)
        if v is None:
            self.not_assignable(st, at, ctx)
            return
        whole = not st.args and bool(v.index)
        args: tuple[ts.Expr, ...] | None = ()
        if not whole:
            args = r.indices(v, st.args, at, ctx)
        value: ts.Expr | None
        if isinstance(st.value, s.Any):
            if not flow.init:
                d.error(
                    st.value.span,
                    "`any` is only allowed in init; in an action write `choose v: T` first",
                )
                return
            value = None
        else:
            value = r.typed(
                st.value,
                ctx,
                v.type,
                lambda found: (
                    f"type mismatch: cannot assign {found} to `{v.name}` of type {v.type}"
                ),
            )
            if value is None:
                return
        if args is None:
            return
        if not v.ghost and self.ghost_flows(st, v, args, value, at, flow):
            return
        if not whole:
            yield ts.Assign(v.name, args, value, st.span)
            return
        yield self.every_location(st, v, value)

    def not_assignable(self, st: s.Assign, at: s.Span, ctx: Ctx) -> None:
        """The error for an assignment to a name that is no state variable (none when
        it is one whose declaration has an error)."""
        d, r = self.d, self.r
        if st.name in r.m.vars:
            return  # the declaration has an error
        if st.name in ctx.locals:
            d.error(at, f"cannot assign to `{st.name}`: it is a local value, not state")
        elif st.name in r.m.kinds:
            d.error(
                at,
                f"cannot assign to the {r.m.kinds[st.name][0]} `{st.name}`; only state variables can be assigned",
            )
        else:
            d.error(at, f"unknown state variable `{st.name}`" + did_you_mean(st.name, r.m.vars))

    def ghost_flows(
        self,
        st: s.Assign,
        v: ts.StateVar,
        args: tuple[ts.Expr, ...],
        value: ts.Expr | None,
        at: s.Span,
        flow: Flow,
    ) -> bool:
        """Whether (with an error) ghost state flows into the kernel variable ``v``
        through an index, the value or an enclosing condition."""
        d, r = self.d, self.r
        sources = list(zip(args, st.args, strict=True))
        if value is not None and not isinstance(st.value, s.Any):
            sources.append((value, st.value))
        for x, text in sources:
            g = ghost_read(x, r.vars)
            if g is not None:
                at_read, notes = _read_at(d, g, text.span)
                d.error(
                    at_read, f"ghost state `{g.name}` flows into kernel state `{v.name}`", notes
                )
                return True
        if flow.ghost_cond is not None:
            g, gspan = flow.ghost_cond
            d.error(
                at,
                f"ghost state `{g.name}` flows into kernel state `{v.name}` through an enclosing condition",
                (d.note(gspan, f"`{g.name}` is read here"),),
            )
            return True
        return False

    def every_location(self, st: s.Assign, v: ts.StateVar, value: ts.Expr | None) -> ts.Stmt:
        """``m := e`` on a map: every location, as nested loops over its index sorts."""
        names = [self.r.fresh_local(v.name) for _ in v.index]
        stmt: ts.Stmt = ts.Assign(
            v.name,
            tuple(ts.Local(n, t, st.span) for n, t in zip(names, v.index, strict=True)),
            value,
            st.span,
        )
        for n, t in reversed(list(zip(names, v.index, strict=True))):
            assert ts.is_finite(t)
            stmt = ts.ForAll(n, t, None, (stmt,), st.span)
        return stmt


def resolve_init(m: Merged, r: Resolver) -> tuple[ts.Stmt, ...]:
    """The init blocks, in order, as one statement list; a state variable init never
    assigns is an error."""
    d, st = r.d, Stmts(r)
    init_ctx = Ctx(
        {},
        state=False,
        primes=False,
        no_state="init cannot read state `{name}` here (only constants, literals and loop variables); use `assume` to relate initial values",
    )
    init: list[ts.Stmt] = []
    for block in m.inits:
        init.extend(st.block(block.body, init_ctx, Flow(init=True)))
    for name, var in m.vars.items():
        if name in r.vars and not _init_mentions(m.inits, name):
            d.error(
                var.span,
                f"state `{name}` has no initial value; assign it in init, or `{name} := any` to leave it free",
            )
    return tuple(init)


def resolve_actions(m: Merged, r: Resolver) -> tuple[ts.Action, ...]:
    """Every action that checked, in declaration order (one with an error is left out)."""
    st = Stmts(r)
    return tuple(
        a for a in (_action(e.decl, e.span, r, st) for e in m.actions.values()) if a is not None
    )


def _init_mentions(inits: Sequence[s.InitDecl], name: str) -> bool:
    """Whether init assigns ``name`` at all (an erroneous assignment still counts)."""

    def walk(body: Sequence[s.Stmt]) -> bool:
        for st in body:
            match st:
                case s.Assign(name=n) if n == name:
                    return True
                case s.If(then=a, else_=b) if walk(a) or walk(b):
                    return True
                case s.ForAll(body=b) if walk(b):
                    return True
                case _:
                    pass
        return False

    return any(walk(i.body) for i in inits)


def _action(a: s.ActionDecl, at: s.Span, r: Resolver, st: Stmts) -> ts.Action | None:
    d = r.d
    ctx = Ctx(
        {},
        state=True,
        primes=False,
        no_state="",
    )
    params, ctx, ok = _params(a, r, ctx)
    actor_param, actor_ok = _actor_param(a, d)
    ok = ok and actor_ok
    guard = _guard(a, at, r, ctx)
    chosen = _choices(a, r, ctx)
    ok = ok and chosen.ok
    params += chosen.params
    stmts = st.block(chosen.body, chosen.ctx, Flow(init=False))
    if not ok or guard is None:
        return None
    for w in chosen.wheres:
        guard = (
            w
            if isinstance(guard, ts.Lit) and guard.value is True
            else ts.Binary(s.BinOp.AND, guard, w, ts.BOOL, w.span)
        )
    if a.description is not None:
        for why in _description_problems(a.description, {p.name: p.type for p in params}):
            d.error(name_at(a.name_span, a.span), f"the description of action `{a.name}` {why}")
            ok = False
    if not ok:
        return None
    return ts.Action(
        a.name,
        tuple(params),
        guard,
        stmts,
        None if a.actor is None else a.actor.label,
        actor_param,
        a.span,
        a.description,
    )


def _params(a: s.ActionDecl, r: Resolver, ctx: Ctx) -> tuple[list[ts.Param], Ctx, bool]:
    """The action's parameters, each bound in ``ctx`` (a wrong one as broken, and False)."""
    d = r.d
    ok = True
    params: list[ts.Param] = []
    for p in a.params:
        pspan = s.Span(p.span.file, p.span.line, p.span.col, p.span.line, p.span.col + len(p.name))
        fresh = r.check_local(p.name, pspan, ctx)
        t = r.value_type(p.type) if not isinstance(p.type, s.MapType) else None
        if isinstance(p.type, s.MapType):
            d.error(p.type.span, "a parameter cannot be a map")
        if t is not None and not ts.is_finite(t):
            d.error(
                p.type.span,
                f"parameter `{p.name}` must have a finite type (a sort, an enum or bool) to be enumerated, not {t}; for a free value write `choose {p.name}: {t}` in the body",
            )
            t = None
        if t is None or not fresh:
            ok = False
            ctx = ctx.bind_broken(p.name)
            continue
        ctx = ctx.bind(p.name, t)
        params.append(ts.Param(p.name, t, False, p.span))
    return params, ctx, ok


def _actor_param(a: s.ActionDecl, d: Diags) -> tuple[str | None, bool]:
    """The parameter of ``by actor(p)``, if any; False when it is no parameter."""
    if a.actor is None or a.actor.param is None:
        return None, True
    actor_param = a.actor.param
    if actor_param not in {p.name for p in a.params}:
        d.error(
            name_at(a.actor.param_span, a.actor.span),
            f"the actor `{actor_param}` must be a parameter of action `{a.name}`"
            + did_you_mean(actor_param, [p.name for p in a.params]),
        )
        return actor_param, False
    return actor_param, True


def _guard(a: s.ActionDecl, at: s.Span, r: Resolver, ctx: Ctx) -> ts.Expr | None:
    """The ``when`` guard (true without one); None when it has an error or reads ghost
    state."""
    if a.guard is None:
        return ts.Lit(True, ts.BOOL, at)
    chosen = frozenset(c.name for c in a.body if isinstance(c, s.Choose))
    guard = r.cond(a.guard, dataclasses.replace(ctx, reserved=chosen), "the guard")
    if guard is not None and _ghost_guard(guard, a.guard.span, a, r):
        return None
    return guard


def _ghost_guard(x: ts.Expr, text: s.Span, a: s.ActionDecl, r: Resolver) -> bool:
    """Whether (with an error) ghost state flows into the guard of action ``a`` through
    ``x``, the text at ``text``."""
    g = ghost_read(x, r.vars)
    if g is None:
        return False
    at_read, notes = _read_at(r.d, g, text)
    r.d.error(at_read, f"ghost state `{g.name}` flows into the guard of action `{a.name}`", notes)
    return True


@dataclass(frozen=True, slots=True)
class _Choices:
    """An action's ``choose`` statements (those at the top of its body) resolved."""

    body: tuple[s.Stmt, ...]  # the rest of the body
    ctx: Ctx  # with the chosen values bound
    params: tuple[ts.Param, ...]  # the chosen values, as parameters
    wheres: tuple[ts.Expr, ...]  # their `where` conditions, part of the guard
    ok: bool


def _choices(a: s.ActionDecl, r: Resolver, ctx: Ctx) -> _Choices:
    """Chosen values: the ``choose`` statements at the top of the body."""
    d = r.d
    ok = True
    params: list[ts.Param] = []
    body = list(a.body)
    wheres: list[ts.Expr] = []
    while body and isinstance(body[0], s.Choose):
        c = body.pop(0)
        assert isinstance(c, s.Choose)
        cspan = name_at(c.name_span, c.span)
        fresh = r.check_local(c.name, cspan, ctx)
        t = None
        if isinstance(c.type, s.MapType):
            d.error(c.type.span, "`choose` needs a value type, not a map")
        else:
            t = r.value_type(c.type)
        if t is None or not fresh:
            ok = False
            ctx = ctx.bind_broken(c.name)
            continue
        ctx = ctx.bind(c.name, t)
        params.append(ts.Param(c.name, t, True, c.span))
        if c.where is not None:
            w = r.cond(c.where, ctx, "`where` condition")
            if w is None or _ghost_guard(w, c.where.span, a, r):
                ok = False
                continue
            wheres.append(w)
    return _Choices(tuple(body), ctx, tuple(params), tuple(wheres), ok)


def _description_problems(text: str, params: Mapping[str, ts.Type]) -> list[str]:
    """What is wrong with an action's description (a template: fusever/template.py)."""
    try:
        pieces = template.parse(text)
    except template.TemplateError as e:
        return [f"has a malformed hole: {e}"]
    out: list[str] = []
    for hole in template.holes(pieces):
        name = hole.name
        if name not in params:
            out.append(f"names `{{{name}}}`, which is not a parameter" + did_you_mean(name, params))
            continue
        if not isinstance(hole, template.Choice):
            continue
        t = params[name]
        if hole.value is None:
            if t != ts.BOOL:
                out.append(
                    f"chooses by `{name}`, a {t}, not a bool: write `{{{name} == v ? ... : ...}}`"
                )
            continue
        why = _template_value(hole.value, t)
        if why is not None:
            out.append(f"compares `{name}` with `{hole.value}`, {why}")
    return out


def _template_value(v: str, t: ts.Type) -> str | None:
    """Why ``v`` is not a value of ``t`` as a description shows it; None when it is."""
    match t:
        case ts.BoolType():
            return None if v in ("true", "false") else "not a bool (true or false)"
        case ts.EnumType(members=members):
            return None if v in members else f"not a member of {t}" + did_you_mean(v, members)
        case ts.SortType(size=n):
            ok = v.isdigit() and int(v) < n
            return None if ok else f"not an element of sort {t} (0 .. {n - 1})"
        case ts.BitVecType(width=w):
            ok = v.isdigit() and int(v) < 2**w
            return (
                None if ok else f"not a value of {t} as shown (0 .. {2**w - 1}, its bits unsigned)"
            )
        case ts.IntType():
            return None if v.lstrip("-").isdigit() else "not an int"
        case _:
            assert_never(t)
