"""The last pass: a checked transition system is well formed, or the checker has a bug.

:func:`validate` takes the :class:`~fusever.ts.TransitionSystem` the passes before it
built and asserts what every later stage relies on (names bound, types agree, ghost
state never flows into kernel state); it gives nothing back.  A failure here is a
bug in fusever, never a user's mistake: an ``AssertionError``, not a diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import assert_never

from fusever import syntax as s
from fusever import ts
from fusever.flow import ghost_read
from fusever.operators import TABLE as OPERATORS
from fusever.operators import kind

__all__ = ["validate"]


def validate(system: ts.TransitionSystem) -> None:
    """Assert the transition system is well formed (names bound, types agree)."""
    vars_ = {v.name: v for v in system.vars}
    assert len(vars_) == len(system.vars)
    for v in system.vars:
        assert all(ts.is_finite(t) for t in v.index), v
        assert v.ghost or not isinstance(v.type, ts.IntType), v
    _stmts(system.init, vars_, {}, True)
    names = [a.name for a in system.actions]
    assert len(set(names)) == len(names)
    for a in system.actions:
        scope = {p.name: p.type for p in a.params}
        assert len(scope) == len(a.params)
        assert all(p.chosen or ts.is_finite(p.type) for p in a.params), a
        _expr(a.guard, vars_, scope, False)
        assert a.guard.type == ts.BOOL and ghost_read(a.guard, vars_) is None, a
        _stmts(a.body, vars_, scope, False)
    pnames = {p.name: p for p in system.properties}
    assert len(pnames) == len(system.properties)
    for p in system.properties:
        _expr(p.expr, vars_, {}, p.kind not in (s.PropKind.INVARIANT, s.PropKind.LEMMA))
        assert p.expr.type == ts.BOOL
        if p.covers is not None:
            assert pnames[p.covers].kind is not s.PropKind.COVER
    assert len({o.name for o in system.observables}) == len(system.observables)
    for o in system.observables:
        assert all(ts.is_finite(p.type) and not p.chosen for p in o.params), o
        _expr(o.expr, vars_, {p.name: p.type for p in o.params}, False)
    assert system.depth >= 1


def _expr(
    e: ts.Expr, vars_: Mapping[str, ts.StateVar], scope: Mapping[str, ts.Type], primes: bool
) -> None:
    """``e`` well typed over the state ``vars_`` and the locals ``scope`` (primed reads
    only where ``primes``)."""
    match e:
        case ts.Lit(value=value, type=t):
            _assert_value(value, t)
        case ts.Var(name=name, args=args, type=t, primed=primed):
            v = vars_[name]
            assert t == v.type and len(args) == len(v.index), e
            assert primes or not primed, e
            for a, it in zip(args, v.index, strict=True):
                assert a.type == it, e
                _expr(a, vars_, scope, primes)
        case ts.Local(name=name, type=t):
            assert scope.get(name) == t, e
        case ts.Unary(op=op, arg=arg, type=t):
            _expr(arg, vars_, scope, primes)
            assert arg.type == t, e
            assert kind(t) in OPERATORS[op].operands, e
        case ts.Binary(op=op, lhs=lhs, rhs=rhs, type=t):
            _expr(lhs, vars_, scope, primes)
            _expr(rhs, vars_, scope, primes)
            assert lhs.type == rhs.type and kind(lhs.type) in OPERATORS[op].operands, e
            assert t == (ts.BOOL if OPERATORS[op].boolean else lhs.type), e
        case ts.Ite(cond=c, then=a, else_=b, type=t):
            for x in (c, a, b):
                _expr(x, vars_, scope, primes)
            assert c.type == ts.BOOL and a.type == t == b.type, e
        case ts.Quant(var=var, sort=sort, body=body):
            assert ts.is_finite(sort) and var not in scope, e
            _expr(body, vars_, {**scope, var: sort}, primes)
            assert body.type == ts.BOOL, e
        case ts.Cast(arg=arg):
            _expr(arg, vars_, scope, primes)
            assert isinstance(arg.type, ts.BitVecType), e
        case _:
            assert_never(e)


def _stmts(
    body: Sequence[ts.Stmt],
    vars_: Mapping[str, ts.StateVar],
    scope: Mapping[str, ts.Type],
    init: bool,
) -> None:
    """Statements well formed: assignments typed, ``any`` and ``assume`` in init only,
    no ghost value assigned to kernel state."""
    for st in body:
        match st:
            case ts.Assign(name=name, args=args, value=value):
                v = vars_[name]
                assert len(args) == len(v.index), st
                for a in args:
                    _expr(a, vars_, scope, False)
                if value is None:
                    assert init, st
                else:
                    _expr(value, vars_, scope, False)
                    assert value.type == v.type, st
                    if not v.ghost:
                        assert ghost_read(value, vars_) is None, st
            case ts.If(cond=c, then=a, else_=b):
                _expr(c, vars_, scope, False)
                _stmts(a, vars_, scope, init)
                _stmts(b, vars_, scope, init)
            case ts.ForAll(var=var, sort=sort, where=where, body=b):
                inner = {**scope, var: sort}
                if where is not None:
                    _expr(where, vars_, inner, False)
                _stmts(b, vars_, inner, init)
            case ts.Assume(cond=c):
                assert init, st
                _expr(c, vars_, scope, False)
            case _:
                assert_never(st)


def _assert_value(value: ts.Value, t: ts.Type) -> None:
    match t:
        case ts.BoolType():
            assert isinstance(value, bool)
        case ts.BitVecType(width=w):
            assert isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**w
        case ts.IntType():
            assert isinstance(value, int) and not isinstance(value, bool)
        case ts.SortType(size=n):
            assert isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n
        case ts.EnumType(members=members):
            assert value in members
        case _:
            assert_never(t)
