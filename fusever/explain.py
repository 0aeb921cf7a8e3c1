"""What a trace shows a reader: the facts behind the compact trace and the diagrams.

Plain data computed with :mod:`fusever.interpret`, no formatting (that is
:mod:`fusever.report` and :mod:`fusever.report_trace`):

- the *default* initial state: init run from all-default values (``false``, ``0``,
  an enum's first member, a sort's first element) with ``any`` keeping them and
  ``assume`` skipped, so a location a trace starts with differently is worth showing;
- what each step reads of its pre-state (guard and body) and what it changes;
- the initial locations that matter: later changed, read by a step or by the failing
  property, or different from the default;
- why the property fails at its instance: the property's body evaluated at the
  instance, through ``&&`` (the first false conjunct) and nested ``forall`` (the
  first failing binding) down to an implication (premise and conclusion apart), with
  every location read and its value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from fusever.interpret import evaluate, normalize
from fusever.ts import (
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    BoolType,
    EnumType,
    Expr,
    ForAll,
    If,
    IntType,
    Key,
    PropKind,
    Quant,
    Quantifier,
    SortType,
    State,
    Stmt,
    Trace,
    TransitionSystem,
    Type,
    Value,
    elements,
    keys,
)

Loc = tuple[str, Key]


@dataclass(frozen=True, slots=True)
class Read:
    """A location read and the value it held (``primed``: in the post-state)."""

    name: str
    key: Key
    value: Value
    primed: bool = False
    ghost: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    key: Key
    old: Value | None  # None: the earlier state lacks the location
    new: Value
    ghost: bool = False


@dataclass(frozen=True, slots=True)
class StepFacts:
    index: int
    action: str | None  # None for step 0
    args: tuple[tuple[str, Value], ...]
    changes: tuple[Change, ...]  # step 0: none
    reads: tuple[Loc, ...]  # guard and body reads of the pre-state (step 0: none)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why the last state violates (or, for a cover goal, satisfies) the property.
    ``premise`` is empty unless the failing part is an implication; then ``premise``
    holds and ``conclusion`` does not.  ``instance`` extends the result's instance
    with the bindings of nested ``forall`` the explanation went through."""

    property: str
    kind: PropKind
    instance: tuple[tuple[str, Value], ...]
    premise: tuple[Read, ...]
    conclusion: tuple[Read, ...]


@dataclass(frozen=True, slots=True)
class TraceFacts:
    initial: tuple[Read, ...]  # the initial locations that matter, declaration order
    hidden_initial: int  # initial locations left out (not ghost-filtered)
    steps: tuple[StepFacts, ...]
    failure: Failure | None


# ---- the default initial state -------------------------------------------------------


def _zero(t: Type) -> Value:
    match t:
        case BoolType():
            return False
        case BitVecType() | IntType():
            return 0
        case SortType() | EnumType():
            return elements(t)[0]
        case _:
            assert_never(t)


def _run(
    body: Sequence[Stmt],
    state: dict[str, dict[Key, Value]],
    env: Mapping[str, Value],
    types: Mapping[str, Type],
    log: list[Loc],
) -> None:
    """Statements as :mod:`fusever.interpret` runs them, every read logged; ``assume``
    is skipped (the traces explained here were replayed already)."""
    seen = _Recording(state, log)
    for s in body:
        match s:
            case Assign(name=name, args=args, value=value):
                if value is not None:
                    key = tuple(evaluate(a, seen, env) for a in args)
                    state[name][key] = normalize(types[name], evaluate(value, seen, env))
            case If(cond=c, then=t, else_=f):
                _run(t if evaluate(c, seen, env) else f, state, env, types, log)
            case ForAll(var=x, sort=sort, where=where, body=b):
                for v in elements(sort):
                    inner = {**env, x: v}
                    if where is None or evaluate(where, seen, inner):
                        _run(b, state, inner, types, log)
            case Assume():
                pass
            case _:
                assert_never(s)


def defaults(ts: TransitionSystem) -> State:
    """Init run from all-default values; ``any`` keeps the default, ``assume`` is skipped."""
    state: dict[str, dict[Key, Value]] = {
        v.name: {k: _zero(v.type) for k in keys(v.index)} for v in ts.vars
    }
    _run(ts.init, state, {}, {v.name: v.type for v in ts.vars}, [])
    return state


# ---- reads ------------------------------------------------------------------------------


class _Table(Mapping[Key, Value]):
    def __init__(self, table: Mapping[Key, Value], name: str, log: list[Loc]) -> None:
        self._table, self._name, self._log = table, name, log

    def __getitem__(self, key: Key) -> Value:
        loc = (self._name, key)
        if loc not in self._log:
            self._log.append(loc)
        return self._table[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


class _Recording(Mapping[str, Mapping[Key, Value]]):
    """A state that logs every location :func:`fusever.interpret.evaluate` reads."""

    def __init__(self, state: State, log: list[Loc]) -> None:
        self._state, self._log = state, log

    def __getitem__(self, name: str) -> Mapping[Key, Value]:
        return _Table(self._state[name], name, self._log)

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)


def reads(
    e: Expr, pre: State, env: Mapping[str, Value], post: State | None = None
) -> tuple[Value, list[Loc], list[Loc]]:
    """``e``'s value and the locations it reads, in the pre-state and the post-state."""
    pre_log: list[Loc] = []
    post_log: list[Loc] = []
    value = evaluate(
        e, _Recording(pre, pre_log), env, None if post is None else _Recording(post, post_log)
    )
    return value, pre_log, post_log


# ---- the failing instance ----------------------------------------------------------------


def _read_values(
    ts: TransitionSystem, pre: State, post: State | None, pre_log: list[Loc], post_log: list[Loc]
) -> tuple[Read, ...]:
    ghosts = {v.name for v in ts.vars if v.ghost}
    out = [Read(n, k, pre[n][k], False, n in ghosts) for n, k in pre_log]
    if post is not None:
        out += [Read(n, k, post[n][k], True, n in ghosts) for n, k in post_log]
    return tuple(out)


def _why_false(
    ts: TransitionSystem,
    e: Expr,
    pre: State,
    post: State | None,
    env: dict[str, Value],
    bound: list[tuple[str, Value]],
) -> tuple[tuple[Read, ...], tuple[Read, ...]]:
    """``e`` is false at ``env``: the reads of its premise and of its false conclusion."""
    match e:
        case Binary(op=BinOp.AND, lhs=lhs, rhs=rhs):
            part = lhs if not evaluate(lhs, pre, env, post) else rhs
            return _why_false(ts, part, pre, post, env, bound)
        case Quant(quantifier=Quantifier.FORALL, var=x, sort=s, body=b):
            for v in elements(s):
                inner = {**env, x: v}
                if not evaluate(b, pre, inner, post):
                    bound.append((x, v))
                    return _why_false(ts, b, pre, post, inner, bound)
        case Binary(op=BinOp.IMPLIES, lhs=lhs, rhs=rhs):
            _, a_pre, a_post = reads(lhs, pre, env, post)
            _, b_pre, b_post = reads(rhs, pre, env, post)
            premise = _read_values(ts, pre, post, a_pre, a_post)
            seen = {(r.name, r.key, r.primed) for r in premise}
            conclusion = tuple(
                r
                for r in _read_values(ts, pre, post, b_pre, b_post)
                if (r.name, r.key, r.primed) not in seen
            )
            return premise, conclusion
        case _:
            pass
    _, e_pre, e_post = reads(e, pre, env, post)
    return (), _read_values(ts, pre, post, e_pre, e_post)


def failure(
    ts: TransitionSystem,
    trace: Trace,
    prop_name: str,
    instance: Sequence[tuple[str, Value]],
) -> Failure | None:
    """Why the trace's last state violates (or covers) the property at ``instance``;
    None when the property or its instance does not fit this spec."""
    try:
        prop = ts.property(prop_name)
    except KeyError:
        return None
    if not trace.steps or (prop.two_state and len(trace.steps) < 2):
        return None
    post: State | None = None
    pre = trace.steps[-1].state
    if prop.two_state:
        pre, post = trace.steps[-2].state, trace.steps[-1].state
    wanted = Quantifier.EXISTS if prop.kind is PropKind.COVER else Quantifier.FORALL
    body, env = prop.expr, dict(instance)
    while isinstance(body, Quant) and body.quantifier is wanted and body.var in env:
        body = body.body
    try:
        value = bool(evaluate(body, pre, env, post))
    except (KeyError, AssertionError):  # an instance or a state from another spec
        return None
    bound = list(instance)
    if (prop.kind is PropKind.COVER and not value) or (prop.kind is not PropKind.COVER and value):
        return None  # the trace does not end where the result says
    if prop.kind is PropKind.COVER:
        _, e_pre, e_post = reads(body, pre, env, post)
        return Failure(
            prop.name, prop.kind, tuple(bound), (), _read_values(ts, pre, post, e_pre, e_post)
        )
    premise, conclusion = _why_false(ts, body, pre, post, env, bound)
    return Failure(prop.name, prop.kind, tuple(bound), premise, conclusion)


# ---- the whole trace ----------------------------------------------------------------------


def _changes(ts: TransitionSystem, before: State, after: State) -> tuple[Change, ...]:
    out: list[Change] = []
    for v in ts.vars:
        if v.name not in after:
            continue
        old_table = before.get(v.name, {})
        for k in keys(v.index):
            new = after[v.name].get(k)
            if new is None:
                continue
            old = old_table.get(k)
            if old is None or old != new or type(old) is not type(new):
                out.append(Change(v.name, k, old, new, v.ghost))
    return tuple(out)


def _step_reads(
    ts: TransitionSystem, action: str, args: Mapping[str, Value], pre: State
) -> list[Loc]:
    """What the step reads of its pre-state: its guard, then its body (a location the
    body assigned before reading it is not a read of the pre-state)."""
    try:
        a = ts.action(action)
        _, log, _ = reads(a.guard, pre, args)
        state = {name: dict(table) for name, table in pre.items()}
        body_log: list[Loc] = []
        _run(a.body, state, args, {v.name: v.type for v in ts.vars}, body_log)
    except (KeyError, AssertionError):  # a trace of another spec
        return []
    return log + [loc for loc in body_log if loc not in log]


def facts(
    ts: TransitionSystem,
    trace: Trace,
    prop: str | None = None,
    instance: Sequence[tuple[str, Value]] = (),
) -> TraceFacts:
    """Everything :mod:`fusever.report` and :mod:`fusever.report_trace` show of a trace."""
    steps: list[StepFacts] = []
    for i, s in enumerate(trace.steps):
        if i == 0 or s.action is None:
            steps.append(StepFacts(i, s.action, s.args, (), ()))
            continue
        before = trace.steps[i - 1].state
        changed = _changes(ts, before, s.state)
        guard = tuple(_step_reads(ts, s.action, dict(s.args), before))
        steps.append(StepFacts(i, s.action, s.args, changed, guard))
    why = failure(ts, trace, prop, instance) if prop is not None and trace.steps else None
    matter: set[Loc] = set()
    for st in steps:
        matter.update((c.name, c.key) for c in st.changes)
        matter.update(st.reads)
    if why is not None:
        matter.update((r.name, r.key) for r in (*why.premise, *why.conclusion))
    initial: list[Read] = []
    hidden = 0
    if trace.steps:
        first = trace.steps[0].state
        default = defaults(ts)
        for v in ts.vars:
            if v.name not in first:
                continue
            for k in keys(v.index):
                if k not in first[v.name]:
                    continue
                value = first[v.name][k]
                if (v.name, k) in matter or default[v.name][k] != value:
                    initial.append(Read(v.name, k, value, False, v.ghost))
                else:
                    hidden += 1
    return TraceFacts(tuple(initial), hidden, tuple(steps), why)
