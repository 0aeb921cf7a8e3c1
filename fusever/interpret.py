"""A concrete executor of a transition system, in plain Python (no Z3).

It is the independent second opinion on every trace the solver produces: the engines
replay each counterexample and witness through :func:`replay` before returning it, and
a trace that does not replay is a bug in the encoder, never a finding.

Semantics (the encoder in :mod:`fusever.encode` mirrors them):

- Statements run in order; an assignment's index arguments and right-hand side are
  evaluated in the current, partially updated state.  ``for all x in S where c`` runs
  the body for each element of ``S`` in order, testing ``c`` just before each iteration
  against the current state.  ``assume c`` must hold at its point.
- A step of action ``a`` with arguments ``args`` (every parameter, chosen ones included)
  is enabled when the guard holds in the pre-state and every ``assume`` in the body
  holds where it is reached.
- Init is a fixpoint: a state ``s`` is initial iff running the init statements starting
  from ``s`` gives ``s`` back and every ``assume`` holds; ``x := any`` leaves ``x`` as it
  is, and a location init never assigns is free.  The checker guarantees that init
  right-hand sides never read state, so this is exactly the image of init.

Operator semantics live in the one operator table, :mod:`fusever.operators`
(:data:`BINARY` and :data:`UNARY` are its views).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import assert_never

from fusever.operators import TABLE, normalize, number
from fusever.ts import (
    Action,
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    BoolType,
    Cast,
    EnumType,
    Expr,
    ForAll,
    If,
    IntType,
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
    Stmt,
    Trace,
    TransitionSystem,
    Type,
    Unary,
    UnOp,
    Value,
    Var,
    elements,
    instances,
    is_finite,
    keys,
)

__all__ = [
    "BINARY",
    "UNARY",
    "Env",
    "ReplayError",
    "enabled",
    "evaluate",
    "holds",
    "initial_states",
    "is_initial",
    "normalize",
    "random_run",
    "replay",
    "step",
    "successors",
]

Env = Mapping[str, Value]
MutState = dict[str, dict[Key, Value]]
Instance = tuple[tuple[str, Value], ...]


class ReplayError(Exception):
    """A trace that the transition system does not allow, with where and why."""


# ---- values --------------------------------------------------------------------


def in_type(t: Type, v: Value) -> bool:
    """Whether ``v`` is a well-formed value of ``t`` (as the trace format says)."""
    match t:
        case BoolType():
            return isinstance(v, bool)
        case BitVecType(width=w):
            return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < (1 << w)
        case IntType():
            return isinstance(v, int) and not isinstance(v, bool)
        case SortType(size=n):
            return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n
        case EnumType(members=members):
            return isinstance(v, str) and v in members
        case _:
            assert_never(t)


def _binary(f: Callable[[Type, Sequence[Value]], Value]) -> Callable[[Type, Value, Value], Value]:
    return lambda t, a, b: f(t, (a, b))


def _unary(f: Callable[[Type, Sequence[Value]], Value]) -> Callable[[Type, Value], Value]:
    return lambda t, a: f(t, (a,))


# The operators' semantics, from the one operator table (fusever/operators.py):
# (operand type, operands) -> value.  Arithmetic wraps on bit-vectors (the operand
# type is also the result type); comparisons are signed on a signed bit-vector.
BINARY: dict[BinOp, Callable[[Type, Value, Value], Value]] = {
    op: _binary(TABLE[op].concrete) for op in BinOp
}
UNARY: dict[UnOp, Callable[[Type, Value], Value]] = {op: _unary(TABLE[op].concrete) for op in UnOp}


def _cast(src: Type, dst: Type, v: Value) -> Value:
    """Reinterpretation between bit-vectors of one width, bit-vector to ``int``, ``int`` to bit-vector."""
    match dst:
        case BitVecType():
            assert isinstance(v, int)
            return normalize(dst, v)
        case IntType():
            return number(src, v)
        case _:
            assert src == dst, (src, dst)
            return v


# ---- expressions -----------------------------------------------------------------


def evaluate(e: Expr, pre: State, env: Env, post: State | None = None) -> Value:
    """The value of ``e``; unprimed reads see ``pre``, primed ones ``post``."""
    match e:
        case Lit(value=v, type=t):
            return normalize(t, v)
        case Local(name=name):
            return env[name]
        case Var(name=name, args=args, primed=primed):
            key = tuple(evaluate(a, pre, env, post) for a in args)
            if primed:
                assert post is not None, f"primed read of {name} without a post-state"
                return post[name][key]
            return pre[name][key]
        case Unary(op=op, arg=a):
            return UNARY[op](e.type, evaluate(a, pre, env, post))
        case Binary(op=op, lhs=lhs, rhs=rhs):
            return BINARY[op](
                lhs.type, evaluate(lhs, pre, env, post), evaluate(rhs, pre, env, post)
            )
        case Ite(cond=c, then=t, else_=f):
            return evaluate(t if evaluate(c, pre, env, post) else f, pre, env, post)
        case Quant(quantifier=q, var=x, sort=s, body=b):
            vals = (bool(evaluate(b, pre, {**env, x: v}, post)) for v in elements(s))
            match q:
                case Quantifier.FORALL:
                    return all(vals)
                case Quantifier.EXISTS:
                    return any(vals)
                case _:
                    assert_never(q)
        case Cast(arg=a, type=t):
            return _cast(a.type, t, evaluate(a, pre, env, post))
        case _:
            assert_never(e)


# ---- statements ------------------------------------------------------------------


class _Blocked(Exception):
    """An ``assume`` that does not hold where it is reached."""

    def __init__(self, stmt: Assume) -> None:
        super().__init__(str(stmt.span))
        self.stmt = stmt


def _copy(state: State) -> MutState:
    return {name: dict(table) for name, table in state.items()}


def _types(ts: TransitionSystem) -> dict[str, Type]:
    return {v.name: v.type for v in ts.vars}


def _exec(
    ts: TransitionSystem, body: Sequence[Stmt], state: MutState, env: Env, types: Mapping[str, Type]
) -> None:
    for s in body:
        match s:
            case Assign(name=name, args=args, value=value):
                key = tuple(evaluate(a, state, env) for a in args)
                if value is not None:
                    state[name][key] = normalize(types[name], evaluate(value, state, env))
            case If(cond=c, then=t, else_=f):
                _exec(ts, t if evaluate(c, state, env) else f, state, env, types)
            case ForAll(var=x, sort=sort, where=where, body=b):
                for v in elements(sort):
                    inner = {**env, x: v}
                    if where is None or evaluate(where, state, inner):
                        _exec(ts, b, state, inner, types)
            case Assume(cond=c):
                if not evaluate(c, state, env):
                    raise _Blocked(s)
            case _:
                assert_never(s)


def _check_state(ts: TransitionSystem, state: State, where: str) -> None:
    for v in ts.vars:
        if v.name not in state:
            raise ReplayError(f"{where}: state variable {v.name} is missing")
        table = state[v.name]
        for k in keys(v.index):
            if k not in table:
                raise ReplayError(f"{where}: location {_loc(v.name, k)} is missing")
            if not in_type(v.type, table[k]):
                raise ReplayError(
                    f"{where}: location {_loc(v.name, k)} = {table[k]!r} is not a {v.type}"
                )


def _loc(name: str, key: Key) -> str:
    return f"{name}[{', '.join(map(str, key))}]" if key else name


def _first_difference(ts: TransitionSystem, expected: State, got: State) -> str | None:
    for v in ts.vars:
        for k in keys(v.index):
            if expected[v.name][k] != got[v.name][k]:
                return (
                    f"{_loc(v.name, k)}: expected {expected[v.name][k]!r}, got {got[v.name][k]!r}"
                )
    return None


def is_initial(ts: TransitionSystem, state: State) -> bool:
    """Whether ``state`` is an initial state (the fixpoint semantics in the module doc)."""
    try:
        _initial_check(ts, state)
    except ReplayError:
        return False
    return True


def _initial_check(ts: TransitionSystem, state: State) -> None:
    _check_state(ts, state, "step 0")
    after = _copy(state)
    try:
        _exec(ts, ts.init, after, {}, _types(ts))
    except _Blocked as b:
        raise ReplayError(
            f"step 0: initial state violates the assumption at {b.stmt.span}"
        ) from None
    diff = _first_difference(ts, after, state)
    if diff is not None:
        raise ReplayError(f"step 0: not an initial state: {diff} (init gives the first)")


def _check_args(action: Action, args: Mapping[str, Value], where: str) -> None:
    names = {p.name for p in action.params}
    extra = set(args) - names
    if extra:
        raise ReplayError(f"{where}: {action.name} has no parameter {sorted(extra)[0]}")
    for p in action.params:
        if p.name not in args:
            raise ReplayError(f"{where}: {action.name} is missing argument {p.name}")
        if not in_type(p.type, args[p.name]):
            raise ReplayError(f"{where}: argument {p.name} = {args[p.name]!r} is not a {p.type}")


def _run(ts: TransitionSystem, state: State, action_name: str, args: Env, where: str) -> MutState:
    try:
        action = ts.action(action_name)
    except KeyError:
        raise ReplayError(f"{where}: no action named {action_name}") from None
    _check_args(action, args, where)
    if not evaluate(action.guard, state, args):
        raise ReplayError(f"{where}: the guard of {action_name}{_fmt_args(args)} is false")
    after = _copy(state)
    try:
        _exec(ts, action.body, after, args, _types(ts))
    except _Blocked as b:
        raise ReplayError(
            f"{where}: {action_name}{_fmt_args(args)} is blocked by the assumption at {b.stmt.span}"
        ) from None
    return after


def _fmt_args(args: Env) -> str:
    return "(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


def enabled(ts: TransitionSystem, state: State, action_name: str, args: Env) -> bool:
    """Whether the action instance can take a step from ``state``."""
    try:
        _run(ts, state, action_name, args, "step")
    except ReplayError:
        return False
    return True


def step(ts: TransitionSystem, state: State, action_name: str, args: Env) -> State:
    """The state after the action instance; :class:`ReplayError` when it is not enabled."""
    return _run(ts, state, action_name, args, "step")


# ---- properties ----------------------------------------------------------------


def holds(
    ts: TransitionSystem, prop: Property, pre: State, post: State | None = None
) -> tuple[bool, Instance]:
    """Whether ``prop`` holds (one state: ``pre``; two: ``pre`` and ``post``).

    The instance is, for an invariant or transition property that fails, the first
    binding (in canonical order) of its top-level ``forall`` variables at which the
    body fails; for a cover goal that holds, the first binding of its top-level
    ``exists`` variables at which the body holds; ``()`` otherwise.
    """
    if prop.two_state and post is None:
        raise ValueError(f"{prop.name} is a two-state property: it needs a post-state")
    looking_for = Quantifier.EXISTS if prop.kind is PropKind.COVER else Quantifier.FORALL
    binders: list[tuple[str, Type]] = []
    body = prop.expr
    while isinstance(body, Quant) and body.quantifier is looking_for:
        binders.append((body.var, body.sort))
        body = body.body
    for combo in itertools.product(*(elements(t) for _, t in binders)):
        env = {x: v for (x, _), v in zip(binders, combo, strict=True)}
        value = bool(evaluate(body, pre, env, post))
        instance = tuple(env.items())
        if prop.kind is PropKind.COVER and value:
            return True, instance
        if prop.kind is not PropKind.COVER and not value:
            return False, instance
    return prop.kind is not PropKind.COVER, ()


# ---- traces ------------------------------------------------------------------------


def replay(ts: TransitionSystem, trace: Trace, prop: Property) -> Instance:
    """Check that ``trace`` is a run of ``ts`` that ends violating ``prop`` (or, for a
    cover goal, satisfying it); return the failing (witnessing) instance.

    Raises :class:`ReplayError` naming the step and the location that differs.
    """
    if not trace.steps:
        raise ReplayError("the trace is empty")
    first = trace.steps[0]
    if first.action is not None:
        raise ReplayError(f"step 0: has action {first.action}; the initial step has none")
    _initial_check(ts, first.state)
    state = first.state
    prev = state
    for n, s in enumerate(trace.steps[1:], start=1):
        where = f"step {n}"
        if s.action is None:
            raise ReplayError(f"{where}: no action")
        after = _run(ts, state, s.action, dict(s.args), where)
        _check_state(ts, s.state, where)
        diff = _first_difference(ts, after, s.state)
        if diff is not None:
            raise ReplayError(f"{where}: {s.action}{_fmt_args(dict(s.args))}: {diff}")
        prev, state = state, s.state
    if prop.two_state:
        if len(trace.steps) < 2:
            raise ReplayError(f"{prop.name} is a two-state property; the trace has no step")
        ok, instance = holds(ts, prop, prev, state)
    else:
        ok, instance = holds(ts, prop, state)
    n = len(trace.steps) - 1
    if prop.kind is PropKind.COVER and not ok:
        raise ReplayError(f"step {n}: the final state does not satisfy cover {prop.name}")
    if prop.kind is not PropKind.COVER and ok:
        raise ReplayError(f"step {n}: the final state does not violate {prop.name}")
    return instance


# ---- exploration helpers (tests) ---------------------------------------------------


def _chosen_values(t: Type, rng: random.Random | None) -> tuple[Value, ...]:
    if is_finite(t):
        return elements(t)
    match t:
        case BitVecType(width=w):
            top = (1 << w) - 1
            small = (0, 1, 2, top, top - 1)
            extra = (rng.randrange(1 << w),) if rng is not None else ()
            return tuple(dict.fromkeys(v for v in (*small, *extra) if 0 <= v <= top))
        case IntType():
            extra_i = (rng.randrange(-100, 100),) if rng is not None else ()
            return tuple(dict.fromkeys((0, 1, -1, 2, *extra_i)))
        case _:
            raise AssertionError(t)


def successors(
    ts: TransitionSystem, state: State, rng: random.Random | None = None
) -> Iterator[tuple[str, Instance, State]]:
    """Enabled steps from ``state``: every enumerated instance; chosen parameters of
    infinite type are sampled (a few boundary values, plus one random one with ``rng``)."""
    for action in ts.actions:
        chosen = [p for p in action.params if p.chosen]
        choices = itertools.product(*(_chosen_values(p.type, rng) for p in chosen))
        for combo in choices:
            for inst in instances(action):
                args = dict(inst) | {p.name: v for p, v in zip(chosen, combo, strict=True)}
                ordered = tuple((p.name, args[p.name]) for p in action.params)
                try:
                    after = _run(ts, state, action.name, args, "step")
                except ReplayError:
                    continue
                yield action.name, ordered, after


def initial_states(ts: TransitionSystem, rng: random.Random | None = None) -> Iterator[State]:
    """Some initial states: run init from an all-default state, and from random ones with ``rng``."""
    seeds: list[MutState] = [_default_state(ts, None)]
    if rng is not None:
        seeds += [_default_state(ts, rng) for _ in range(3)]
    types = _types(ts)
    for s in seeds:
        try:
            _exec(ts, ts.init, s, {}, types)
        except _Blocked:
            continue
        if is_initial(ts, s):
            yield s


def _default_state(ts: TransitionSystem, rng: random.Random | None) -> MutState:
    out: MutState = {}
    for v in ts.vars:
        vals = _chosen_values(v.type, rng)
        out[v.name] = {k: (rng.choice(vals) if rng is not None else vals[0]) for k in keys(v.index)}
    return out


def random_run(ts: TransitionSystem, length: int, rng: random.Random) -> Trace:
    """A random run of at most ``length`` steps (shorter when no step is enabled)."""
    from fusever.ts import Step

    starts = list(initial_states(ts, rng))
    if not starts:
        raise ValueError(f"{ts.name}: found no initial state")
    state: State = rng.choice(starts)
    steps = [Step(None, (), state)]
    for _ in range(length):
        succ = list(successors(ts, state, rng))
        if not succ:
            break
        name, args, state = rng.choice(succ)
        steps.append(Step(name, args, state))
    return Trace(tuple(steps))
