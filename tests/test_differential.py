"""The interpreter and the encoding agree, both ways, on random small systems.

- A run the interpreter takes is satisfiable in the encoding with its actions,
  arguments and initial state forced, and the encoding then admits no other states.
- Every trace the solver returns replays (bmc replays each one; a failure raises
  EncodingBug), and a violation the interpreter finds within the bound, BMC finds too.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace
from typing import Any

import tsbuild as B
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusever import bmc, interpret
from fusever.encode import EncodeOptions, Encoding
from fusever.job import Job
from fusever.operators import TABLE, kind
from fusever.ts import (
    BOOL,
    BinOp,
    EnumType,
    Expr,
    Property,
    PropKind,
    SortType,
    Stmt,
    TransitionSystem,
    Type,
    Unary,
    UnOp,
    Value,
    keys,
)
from fusever.verdict import Options, Verdict

S = SortType("S", 3)
E = EnumType("E", ("p", "q", "r"))
U3 = B.u(3)
I3 = B.i(3)
INT = B.INT
# the state every random system has: scalars of each type, a map, a sort-valued index
VARS = {"a": U3, "b": I3, "f": BOOL, "e": E, "s": S, "g": INT}
MAPS = {"m": U3}  # m: S -> u3

Locals = dict[str, Type]


def lits(t: Type) -> st.SearchStrategy[Value]:
    if t in (U3, I3):
        return st.integers(0, 7)
    if t == BOOL:
        return st.booleans()
    if t == S:
        return st.integers(0, 2)
    if t == E:
        return st.sampled_from(E.members)
    return st.integers(-3, 3)


def typed_ops(ops: type[BinOp] | type[UnOp], t: Type) -> list[Any]:
    """The operators (from the operator table) that take and give ``t``."""
    return [op for op in ops if kind(t) in TABLE[op].operands and not TABLE[op].boolean]


@st.composite
def expr(draw: st.DrawFn, t: Type, env: Locals, depth: int) -> Expr:
    leaves: list[Expr] = [B.n(draw(lits(t)), t)]
    leaves += [B.v(name, vt) for name, vt in VARS.items() if vt == t]
    leaves += [B.loc(name, lt) for name, lt in env.items() if lt == t]
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        if t in MAPS.values() and draw(st.booleans()):
            return B.v("m", t, draw(expr(S, env, 0)))
        return draw(st.sampled_from(leaves))
    sub = lambda u: expr(u, env, depth - 1)  # noqa: E731
    if t == BOOL:
        kind = draw(st.integers(0, 5))
        if kind == 0:
            ct = draw(st.sampled_from([U3, I3, INT, S, E, BOOL]))
            op = draw(st.sampled_from([BinOp.EQ, BinOp.NE, BinOp.LT, BinOp.LE, BinOp.GT, BinOp.GE]))
            if ct == BOOL:
                op = draw(st.sampled_from([BinOp.EQ, BinOp.NE]))
            return B.b(op, draw(sub(ct)), draw(sub(ct)))
        if kind == 1:
            op = draw(st.sampled_from([BinOp.AND, BinOp.OR, BinOp.IMPLIES]))
            return B.b(op, draw(sub(BOOL)), draw(sub(BOOL)))
        if kind == 2:
            return B.not_(draw(sub(BOOL)))
        if kind == 3:
            q = draw(st.sampled_from([B.forall, B.exists]))
            name = f"q{depth}"
            return q(name, S, draw(expr(BOOL, {**env, name: S}, depth - 1)))
        return B.ite(draw(sub(BOOL)), draw(sub(BOOL)), draw(sub(BOOL)))
    if t in (U3, I3, INT):
        kind = draw(st.integers(0, 4))
        if kind <= 1:
            op = draw(st.sampled_from(typed_ops(BinOp, t)))
            return B.b(op, draw(sub(t)), draw(sub(t)))
        if kind == 2:
            uop = draw(st.sampled_from(typed_ops(UnOp, t)))
            return Unary(uop, draw(sub(t)), t)
        if kind == 3:
            if t == INT:
                return B.to_int(draw(sub(draw(st.sampled_from([U3, I3])))))
            other = I3 if t == U3 else U3
            return B.cast(draw(sub(other)), t)
        return B.ite(draw(sub(BOOL)), draw(sub(t)), draw(sub(t)))
    if draw(st.booleans()):
        return B.ite(draw(sub(BOOL)), draw(sub(t)), draw(sub(t)))
    return draw(st.sampled_from(leaves))


@st.composite
def stmts(draw: st.DrawFn, env: Locals, depth: int) -> list[Stmt]:
    out: list[Stmt] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 6 if depth > 0 else 3))
        if kind <= 2:
            name = draw(st.sampled_from([*VARS, "m"]))
            if name == "m":
                out.append(B.assign("m", draw(expr(U3, env, 2)), draw(expr(S, env, 1))))
            else:
                out.append(B.assign(name, draw(expr(VARS[name], env, 2))))
        elif kind == 3:
            out.append(B.assign("m", draw(expr(U3, env, 1)), draw(expr(S, env, 0))))
        elif kind == 4:
            out.append(
                B.if_(
                    draw(expr(BOOL, env, 2)),
                    draw(stmts(env, depth - 1)),
                    draw(stmts(env, depth - 1)) if draw(st.booleans()) else [],
                )
            )
        elif kind == 5:
            name = f"z{depth}"
            inner = {**env, name: S}
            where = draw(expr(BOOL, inner, 1)) if draw(st.booleans()) else None
            out.append(B.for_all(name, S, draw(stmts(inner, depth - 1)), where=where))
        else:
            out.append(B.assume(draw(expr(BOOL, env, 1))))
    return out


@st.composite
def systems(draw: st.DrawFn) -> TransitionSystem:
    init: list[Stmt] = []
    for name, t in VARS.items():
        if name == "g" or draw(st.booleans()):
            free = (name != "g" and draw(st.booleans())) or (
                name == "g" and draw(st.integers(0, 4)) == 0
            )
            init.append(B.assign(name, None if free else B.n(draw(lits(t)), t)))
    init.append(B.assign("t", B.n(0, U3)))
    init.append(B.for_all("i", S, [B.assign("m", B.n(draw(lits(U3)), U3), B.loc("i", S))]))
    if draw(st.booleans()):
        init.append(B.assume(draw(expr(BOOL, {}, 1))))
    actions = []
    for k in range(draw(st.integers(1, 3))):
        env: Locals = {}
        params = []
        if draw(st.booleans()):
            params.append(B.param("x", S))
            env["x"] = S
        if draw(st.integers(0, 2)) == 0:
            params.append(B.param("k", U3, chosen=True))
            env["k"] = U3
        tick = B.assign("t", B.add(B.v("t", U3), B.n(1, U3)))
        actions.append(
            B.action(
                f"act{k}",
                [*draw(stmts(env, 2)), tick],
                params=params,
                guard=draw(expr(BOOL, env, 2)) if draw(st.booleans()) else B.TRUE,
            )
        )
    return B.system(
        "random",
        sorts=[S],
        enums=[E],
        vars=[
            *(B.var(n, t, ghost=(n == "g")) for n, t in VARS.items()),
            B.var("m", U3, S),
            B.var("t", U3),  # steps taken: properties look at later steps
        ],
        init=init,
        actions=actions,
        depth=3,
    )


ENCODINGS = [
    EncodeOptions(),
    EncodeOptions(solver="qf_bv", por="lex"),
    EncodeOptions(maps="array"),
    EncodeOptions(ghost="int", selector="onehot", stutter="anywhere"),
]
SETTINGS = settings(
    max_examples=int(os.environ.get("FUSEVER_DIFF_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(systems(), st.integers(0, 2**32), st.sampled_from(ENCODINGS))
def test_interpreter_runs_are_encoding_runs(
    ts: TransitionSystem, seed: int, options: EncodeOptions
) -> None:
    rng = random.Random(seed)
    try:
        run = interpret.random_run(ts, 3, rng)
    except ValueError:
        return  # no initial state found by sampling
    enc = Encoding(ts, options)
    s = z3.Solver(ctx=enc.ctx)
    s.add(*enc.init())
    n = len(run.steps) - 1
    for k in range(n):
        s.add(*enc.step(k))
    forced: list[z3.ExprRef] = []
    for v in ts.vars:
        for key in keys(v.index):
            forced.append(
                enc.location(0, v.name, key) == enc.stored(v.type, run.steps[0].state[v.name][key])
            )
    for k, step in enumerate(run.steps[1:]):
        assert step.action is not None
        args = dict(step.args)
        action = ts.action(step.action)
        inst = tuple((p.name, args[p.name]) for p in action.params if not p.chosen)
        s.add(enc.selected(k, enc.instances.index((action, inst))))
        for p in action.params:
            if p.chosen:
                s.add(enc._chosen[k][(action.name, p.name)] == enc.const(p.type, args[p.name]))
    s.add(*forced)
    assert s.check() == z3.sat, "the encoding refuses a run the interpreter takes"
    differs = [
        enc.location(k, v.name, key) != enc.stored(v.type, st_.state[v.name][key])
        for k, st_ in enumerate(run.steps)
        for v in ts.vars
        for key in keys(v.index)
    ]
    s.add(z3.Or(*differs))
    assert s.check() == z3.unsat, "the encoding allows another state after the same steps"


@st.composite
def system_and_property(draw: st.DrawFn) -> tuple[TransitionSystem, Property]:
    ts = draw(systems())
    kind = draw(st.sampled_from([PropKind.INVARIANT, PropKind.COVER, PropKind.TRANSITION]))
    e = draw(expr(BOOL, {}, 2))
    later = B.le(B.n(draw(st.integers(0, 3)), U3), B.v("t", U3))
    e = B.and_(later, e) if kind is PropKind.COVER else B.implies(later, e)
    if kind is PropKind.TRANSITION:
        e = B.b(BinOp.OR, e, B.eq(B.p("a", U3), B.v("a", U3)))
        e = B.b(BinOp.AND, e, B.le(B.p("m", U3, B.n(1, S)), B.v("m", U3, B.p("s", S))))
    prop = Property("p", kind, e)
    return ts, prop


@SETTINGS
@given(system_and_property(), st.sampled_from(ENCODINGS), st.integers(0, 2**32))
def test_solver_traces_replay_and_interpreter_findings_are_found(
    case: tuple[TransitionSystem, Property], options: EncodeOptions, seed: int
) -> None:
    ts0, prop = case
    ts = replace(ts0, properties=(prop,), depth=3)
    (r,) = bmc.run(
        Job.resolve(ts, Options()), encode=options
    ).results  # replays any trace it returns
    assert r.verdict is not Verdict.UNKNOWN
    # a run the interpreter finds within the bound must not contradict the verdict
    rng = random.Random(seed)
    try:
        run = interpret.random_run(ts, 3, rng)
    except ValueError:
        return
    states = [s.state for s in run.steps]
    for j in range(len(states)):
        if prop.two_state:
            if j == 0:
                continue
            ok, _ = interpret.holds(ts, prop, states[j - 1], states[j])
        else:
            ok, _ = interpret.holds(ts, prop, states[j])
        interesting = ok if prop.kind is PropKind.COVER else not ok
        if interesting:
            assert r.verdict in (Verdict.VIOLATED, Verdict.COVERED), (
                f"the interpreter reaches {prop.kind.value} {prop.name} at step {j}; bmc says {r.verdict}"
            )
            assert r.step is not None and r.step <= j
            break


@SETTINGS
@given(system_and_property())
def test_partial_order_reduction_keeps_verdicts_and_depths(
    case: tuple[TransitionSystem, Property],
) -> None:
    ts0, prop = case
    ts = replace(ts0, properties=(prop,), depth=4)
    seen = set()
    for por in ("off", "adjacent", "lex"):
        (r,) = bmc.run(Job.resolve(ts, Options()), encode=EncodeOptions(por=por)).results  # type: ignore[arg-type]
        seen.add((r.verdict, r.step))
    assert len(seen) == 1, seen
