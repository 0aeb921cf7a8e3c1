"""Dead locations by control state (fusever.deadness): the reduction is checked.

The explicit engine resets a location where its control locations make it dead (every
run writes it before reading it).  A wrong analysis would merge states with different
futures and could turn a violation into a "proved".  So:

- on sampled reachable states of the specs' concurrent configurations, every dead
  location is set to other values, and every step is taken from both states: the
  same steps are enabled, the goals see the same, and the successors agree everywhere
  but there, where the location is either written or still dead (the relation is
  preserved by every step: a bisimulation, checked one step at a time);
- the search gives the same verdicts at the same steps with and without it;
- on small specs written here, what it must find and what it must not;
- on random two-thread systems (hypothesis), the same verdicts at the same steps with
  and without it, and BMC's.

The same random systems, with cover goals that settle early, also check the explicit
engine's other quotient change: once goals are settled it goes on from its states
mapped onto the smaller quotient, and that must be what a search from the initial
states finds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from pathlib import Path

import hypothesis
import pytest
import tsbuild as B
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusever import engines, explicit, load
from fusever.closures import OrderBroken
from fusever.deadness import Dead
from fusever.explicit_system import System
from fusever.job import Job
from fusever.layout import domain
from fusever.ts import (
    BOOL,
    Action,
    Assign,
    EnumType,
    Expr,
    ForAll,
    If,
    Lit,
    SortType,
    Stmt,
    TransitionSystem,
)
from fusever.verdict import Engine, Options

ROOT = Path(__file__).resolve().parent.parent

CONCURRENT = (
    ("fuse_v2", "four_writers"),
    ("fuse_v2", "two_fuds"),
    ("fuse_le", "restart"),
    ("fuse_pre", "three_writers"),
    ("fuse_wrapsafe", "two_fuds"),
)


def _load(name: str, config: str | None) -> TransitionSystem:
    (ts,) = load.load_specs([ROOT / "spec" / f"{name}.fv"], config=config)
    return ts


def _sample(system: System, most: int) -> list[tuple[int, ...]]:
    """Reachable states of ``system`` (breadth-first, its own reductions)."""
    seen: dict[tuple[int, ...], None] = {}
    todo = deque(canon for canon, _ in system.initial())
    while todo and len(seen) < most:
        s = todo.popleft()
        if s in seen:
            continue
        seen[s] = None
        for i, m in system.successors(s):
            todo.append(system.insts[i].canon(m, s))
    return list(seen)


def _values(system: System, j: int, now: int) -> list[int]:
    n = domain(system.layout.types[system.layout.slot_var[j]])
    pool = range(n) if n is not None and n <= 8 else (0, 1, 2, 7, -1)
    return [v for v in pool if v != now][:5]


def _step(system: System, i: int, s: list[int]) -> list[int] | str | None:
    try:
        return system.insts[i].step(s)
    except OrderBroken:
        return "order broken"


def _dead_in(d: Dead, s: list[int] | tuple[int, ...]) -> bool:
    return tuple(s[c] for c in d.controls) in d.tuples


def _check_one(system: System, s: tuple[int, ...], d: Dead, x: int, v: int) -> None:
    t = list(s)
    t[x] = v
    name = system.layout.name(x)
    for g in system.goals:
        if not g.prop.two_state:
            assert g.check is not None
            assert bool(g.check(s, s)) == bool(g.check(t, t)), (g.prop.name, name)
    for i, inst in enumerate(system.insts):
        a, b = _step(system, i, list(s)), _step(system, i, list(t))
        assert (a is None) == (b is None), (inst.action, inst.args, name)
        assert isinstance(a, str) == isinstance(b, str), (inst.action, inst.args, name)
        if not isinstance(a, list) or not isinstance(b, list):
            continue
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        assert diff in ([], [x]), (
            inst.action,
            inst.args,
            name,
            [system.layout.name(k) for k in diff],
        )
        if diff:
            assert _dead_in(d, a), (inst.action, inst.args, name)
        for g in system.goals:
            if g.prop.two_state and g.check is not None:
                assert bool(g.check(s, a)) == bool(g.check(t, b)), (g.prop.name, name)
            if g.post is not None:
                assert bool(g.post(s, a)) == bool(g.post(t, b)), (g.prop.name, name)


@pytest.mark.parametrize(("name", "config"), CONCURRENT, ids=str)
def test_a_dead_location_never_changes_what_happens_next(name: str, config: str) -> None:
    ts = _load(name, config)
    unordered: frozenset[int] = frozenset()
    while (
        True
    ):  # as the search does: a ghost group whose order an increment breaks is kept as values
        plain = System(ts, ts.properties, unordered, by_control=False)
        try:
            sample = _sample(plain, 400)
            break
        except OrderBroken as b:
            unordered |= {b.group}
    reduced = System(ts, ts.properties, unordered)
    assert reduced.by_control, "nothing found dead: the check below would be vacuous"
    checked = 0
    for s in sample[::4]:
        for d in reduced.by_control:
            if not _dead_in(d, s):
                continue
            for x in d.slots:
                for v in _values(plain, x, s[x]):
                    _check_one(plain, s, d, x, v)
                    checked += 1
    assert checked > 100


def _outcome(ts: TransitionSystem, by_control: bool, bound: int | None) -> explicit.ExplicitOutcome:
    job = Job.resolve(ts, Options(engine=Engine.EXPLICIT, state_limit=3_000_000))
    return explicit.run(job, bound=bound, by_control=by_control)


def _verdicts(out: explicit.ExplicitOutcome) -> list[tuple[str, str, int | None, bool]]:
    return [(r.property, r.verdict.value, r.step, r.complete) for r in out.results]


@pytest.mark.parametrize(
    ("name", "config"),
    [("fuse_v2", "three_writers"), ("fuse_le", "three_writers"), ("fuse_v1", "create_hit")],
    ids=str,
)  # fmt: skip
def test_the_same_complete_verdicts_with_fewer_states(name: str, config: str) -> None:
    ts = _load(name, config)
    on, off = _outcome(ts, True, None), _outcome(ts, False, None)
    assert on.exhausted and off.exhausted
    assert _verdicts(on) == _verdicts(off)
    assert on.states <= off.states
    if config == "three_writers":  # a writer's fields after its write: 25,831 -> 11,516 on fuse_v2
        assert on.states < off.states


@pytest.mark.parametrize(("name", "config"), CONCURRENT[:3], ids=str)
def test_the_same_verdicts_to_a_bound(name: str, config: str) -> None:
    ts = _load(name, config)
    on, off = _outcome(ts, True, 9), _outcome(ts, False, 9)
    assert _verdicts(on) == _verdicts(off)
    assert on.states <= off.states


def _spec(tmp_path: Path, text: str) -> TransitionSystem:
    path = tmp_path / "dv.fv"
    path.write_text(text)
    (ts,) = load.load_specs([path])
    return ts


def test_a_register_is_dead_before_its_load_and_after_its_store() -> None:
    ts = load.load_specs([ROOT / "docs" / "examples" / "lost_update.fv"])[0]
    system = System(ts, ts.properties)
    lay = system.layout
    reg0 = lay.slot("reg", [0])
    (d,) = [d for d in system.by_control if reg0 in d.slots]
    assert d.controls == (lay.slot("pc", [0]),)
    # Pc { start, loaded, done }: loaded is the one value where reg is read
    assert d.tuples == {(0,), (2,)}


def test_a_location_read_again_without_a_write_stays(tmp_path: Path) -> None:
    ts = _spec(
        tmp_path,
        """
spec dv "a register that keeps its value between rounds"
sort T = 1
enum Pc { idle, busy }
var pc: T -> Pc
var r: T -> u8
var out: u8
init { pc := idle  r := 0  out := 0 }
action start(t: T) by th(t) when pc[t] == idle { r[t] := r[t] + 1  pc[t] := busy }
action finish(t: T) by th(t) when pc[t] == busy { out := r[t]  pc[t] := idle }
invariant small "out stays small": out < 200
depth 4
""",
    )
    system = System(ts, ts.properties)
    assert not any(system.layout.slot("r", [0]) in d.slots for d in system.by_control)


def test_a_location_a_goal_reads_stays(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "examples" / "lost_update.fv").read_text()
    ts = _spec(tmp_path, text + '\ninvariant reg_small "a goal that reads reg": reg[0] < 250\n')
    system = System(ts, ts.properties)
    assert not any(system.layout.slot("reg", [0]) in d.slots for d in system.by_control)


def test_the_search_says_what_it_reset() -> None:
    ts = _load("fuse_v2", "three_writers")
    out = _outcome(ts, True, None)
    assert any("control locations make them dead" in n for n in out.reductions)


# ---- random systems shaped like the specs: threads with a program counter ------------

T = SortType("T", 2)
PC = EnumType("PC", ("p", "q", "r"))
U2 = B.u(2)
X = B.loc("x", T)


def _pc(x: Expr = X) -> Expr:
    return B.v("pc", PC, x)


@st.composite
def _value(draw: st.DrawFn) -> Expr:
    """A u2 value a thread computes: from its register, the shared cell, a literal."""
    leaves = [B.v("reg", U2, X), B.v("c", U2), B.n(draw(st.integers(0, 3)), U2)]
    a = draw(st.sampled_from(leaves))
    if draw(st.booleans()):
        return B.add(a, draw(st.sampled_from(leaves)))
    return a


@st.composite
def _thread_action(draw: st.DrawFn, k: int) -> Action:
    conj: list[Expr] = [B.eq(_pc(), B.n(draw(st.sampled_from(PC.members)), PC))]
    if draw(st.integers(0, 3)) == 0:
        conj.append(B.eq(B.v("kind", BOOL, X), B.n(draw(st.booleans()), BOOL)))
    if draw(st.integers(0, 3)) == 0:
        conj.append(B.lt(draw(_value()), B.n(draw(st.integers(1, 3)), U2)))
    body: list[Stmt] = []
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(["reg", "c", "out", "kind"]))
        if target == "kind":
            flag = (
                B.lt(draw(_value()), B.n(2, U2))
                if draw(st.booleans())
                else B.n(draw(st.booleans()), BOOL)
            )
            st_: Stmt = B.assign("kind", flag, X)
        elif target == "reg":
            st_ = B.assign("reg", draw(_value()), X)
        else:
            st_ = B.assign(target, draw(_value()))
        if draw(st.integers(0, 2)) == 0:
            st_ = B.if_(B.eq(B.v("kind", BOOL, X), B.n(True, BOOL)), [st_])
        body.append(st_)
    if draw(st.integers(0, 4)) > 0:
        to: Expr = B.n(draw(st.sampled_from(PC.members)), PC)
        if draw(st.integers(0, 2)) == 0:  # a program counter set from the state
            other = B.n(draw(st.sampled_from(PC.members)), PC)
            to = B.ite(B.lt(draw(_value()), B.n(2, U2)), to, other)
        body.append(B.assign("pc", to, X))
    return B.action(f"a{k}", body, params=[B.param("x", T)], guard=B.and_(*conj))


@st.composite
def _threads(draw: st.DrawFn) -> TransitionSystem:
    actions = [draw(_thread_action(k)) for k in range(draw(st.integers(2, 5)))]
    reads_reg = draw(st.integers(0, 5)) == 0  # a goal that reads a register: never reset
    goal = B.ne(B.v("out", U2), B.n(draw(st.integers(0, 3)), U2))
    if reads_reg:
        goal = B.or_(goal, B.eq(B.v("reg", U2, B.n(0, T)), B.n(1, U2)))
    kind = draw(st.sampled_from([B.invariant, B.cover]))
    variables = [B.var("pc", PC, T), B.var("reg", U2, T), B.var("kind", BOOL, T)]
    init: list[Stmt] = []
    for t in (0, 1):
        i = B.n(t, T)
        init += [B.assign("pc", B.n("p", PC), i), B.assign("reg", B.n(0, U2), i)]
        init.append(B.assign("kind", B.n(False, BOOL), i))
    init += [B.assign("c", B.n(0, U2)), B.assign("out", B.n(0, U2))]
    return B.system(
        "threads",
        sorts=[T],
        enums=[PC],
        vars=[*variables, B.var("c", U2), B.var("out", U2)],
        init=init,
        actions=actions,
        properties=[kind("goal", goal)],
        depth=12,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_threads())
def test_random_threads_the_same_verdicts_and_steps(ts: TransitionSystem) -> None:
    """On random two-thread systems whose registers are written and read at program
    counters: every dead location of every reachable state changes nothing (as in
    :func:`test_a_dead_location_never_changes_what_happens_next`); with and without the reduction, the same verdict at the same step (for
    all depths where the reachable set is exhausted), and BMC agrees to the depth."""
    reduced = System(ts, ts.properties)
    hypothesis.assume(reduced.by_control)
    plain = System(ts, ts.properties, by_control=False)
    for s in _sample(plain, 3000):  # every reachable state: a bisimulation, step by step
        for d in reduced.by_control:
            if _dead_in(d, s):
                for x in d.slots:
                    for v in _values(plain, x, s[x]):
                        _check_one(plain, s, d, x, v)
    on, off = _outcome(ts, True, None), _outcome(ts, False, None)
    assert _verdicts(on) == _verdicts(off)
    assert on.exhausted == off.exhausted
    if on.exhausted:
        assert on.states <= off.states
    assert engines.disagreements(ts, ts.depth) == ()


@st.composite
def _threads_with_covers(draw: st.DrawFn) -> TransitionSystem:
    """:func:`_threads` with two cover goals first, on the shared cell and on a
    program counter: settled early, they leave the rest a smaller cone of influence."""
    ts = draw(_threads())
    at = B.n(draw(st.sampled_from(PC.members)), PC)
    see = B.action(  # a thread passing a program counter, seen by nothing but a cover
        "see", [B.assign("seen", B.n(True, BOOL))], params=[B.param("x", T)], guard=B.eq(_pc(), at)
    )
    covers = [
        B.cover("seen_it", B.eq(B.v("seen", BOOL), B.n(True, BOOL))),
        B.cover("c_reached", B.eq(B.v("c", U2), B.n(draw(st.integers(1, 3)), U2))),
    ]
    return replace(
        ts,
        vars=(*ts.vars, B.var("seen", BOOL)),
        init=(*ts.init, B.assign("seen", B.n(False, BOOL))),
        actions=(*ts.actions, see),
        properties=(*covers, *ts.properties),
    )


@settings(max_examples=100, deadline=None)
@given(_threads_with_covers())
def test_random_threads_going_on_from_the_states_mapped(ts: TransitionSystem) -> None:
    """On random two-thread systems with goals settled early: going on from the states
    found so far, mapped onto the smaller quotient, gives the verdicts and steps of a
    search from the initial states, and the same final state count where the
    reachable set is exhausted, never visiting more states."""
    mapped = explicit.run(Job.resolve(ts, Options()))
    again = explicit.run(Job.resolve(ts, Options()), project=False)
    went_on = any("went on without the goals settled first" in r for r in mapped.reductions)
    hypothesis.event(f"went on: {went_on}")
    assert _verdicts(mapped) == _verdicts(again)
    assert mapped.exhausted == again.exhausted
    if mapped.exhausted:
        assert mapped.states == again.states
    assert mapped.visited <= again.visited


# fuse_v2's init fixes what an idle writer carries (its fud, loaded value, kind, file,
# notification, instance) instead of choosing it, "so that they do not multiply the
# initial states": a claim that nothing reads them before the next write sets them
IDLE_VALUES = ("w_fud", "w_tmp", "w_kind", "w_file", "w_nt", "w_inst")


@pytest.mark.parametrize(
    ("name", "config"),
    [("fuse_v2", None), ("fuse_v2", "four_writers"), ("fuse_connseq", "three_writers"),
     ("fuse_v2", "w4")],
    ids=str,
)  # fmt: skip
def test_the_idle_values_the_spec_fixes_are_forgotten_in_every_initial_state(
    name: str, config: str | None
) -> None:
    """Every other value of an idle writer's fields gives the same canonical initial
    state: the analysis above (checked by the tests above) shows each written before
    it is read, so fixing them hides no run."""
    ts = _load(name, config)
    system = System(ts, ts.properties, frozenset())
    lay = system.layout
    slots = [j for j in range(lay.size) if lay.name(j).split("[")[0] in IDLE_VALUES]
    writers = next(s.size for s in ts.sorts if s.name == "Writer")
    assert len(slots) == len(IDLE_VALUES) * writers
    checked = 0
    for canon, concrete in system.initial():
        for x in slots:
            n = domain(lay.types[lay.slot_var[x]])
            for v in range(n) if n is not None and n <= 8 else (1, 7, -1):
                t = list(concrete)
                t[x] = v
                assert system.canonical(tuple(t)) == canon, lay.name(x)
                checked += 1
    assert checked > len(slots)  # beside its own value, at least one other for some


def _placed(stmts: tuple[Stmt, ...], values: dict[str, int]) -> tuple[Stmt, ...]:
    """``stmts`` with each constant an init assigns to a location of ``values``'
    variables replaced by the value given there."""
    out: list[Stmt] = []
    for s in stmts:
        if isinstance(s, Assign) and s.name in values and isinstance(s.value, Lit):
            s = replace(s, value=Lit(values[s.name], s.value.type))
        elif isinstance(s, ForAll):
            s = replace(s, body=_placed(s.body, values))
        elif isinstance(s, If):
            s = replace(s, then=_placed(s.then, values), else_=_placed(s.else_, values))
        out.append(s)
    return tuple(out)


@pytest.mark.parametrize(
    ("config", "values"),
    [
        ("two_fuds", {"f_fud": 1, "n_fud": 1, "w_fud": 1, "n_seq": 5}),
        ("new_gen", {"f_inst": 1, "n_inst": 1, "w_inst": 1, "n_seq": 5}),
        ("evict", {"f_inst": 1, "n_inst": 1, "w_inst": 1}),
    ],
    ids=str,
)  # fmt: skip
def test_the_placeholders_fuse_v2_starts_files_and_notifications_with_decide_nothing(
    config: str, values: dict[str, int]
) -> None:
    """An opener's instance and fud, a notification's fud, instance and number start
    at 0 in fuse_v2's init, "set when it opens" (or when it is processed): goals read
    them, so the analysis above does not show them dead, and this compares instead.
    With the other element of a 2-element sort (which is all of them) and another
    number, every verdict, step and completeness is the same."""
    ts = _load("fuse_v2", config)
    other = replace(ts, init=_placed(ts.init, values))
    assert other.init != ts.init

    def verdicts(t: TransitionSystem) -> list[tuple[str, str, int | None, bool]]:
        results = engines.prove(t, Options(engine=Engine.EXPLICIT))
        assert any(r.complete and r.verdict.value == "proved" for r in results)
        assert all(r.verdict.value != "unknown" for r in results)
        return sorted((r.property, r.verdict.value, r.step, r.complete) for r in results)

    assert verdicts(ts) == verdicts(other)
