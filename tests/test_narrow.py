"""fusever.narrow: a free wide counter decided at a narrow width.

What a wrong narrowing would break:
- the verdicts and steps of k-induction on the narrowed system against BMC's on the
  wide one, to the runs' bound (every run is that long at most, so both are complete);
- random runs of the wide system from starts near every wrap, taken step by step in
  the narrow one from the start lying alike: the same steps enabled, every goal equal;
- the refusals: a spec whose wide values do anything but move by small offsets and get
  compared is not narrowed;
- the certificate: it names the width, and a wrong width fails its re-check.
"""

from __future__ import annotations

import functools
import random
from dataclasses import replace
from pathlib import Path

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from fusever import bmc, certificate, engines, explicit, interpret, kind, load, narrow, ranking
from fusever.job import Job
from fusever.ts import (
    Assume,
    Binary,
    BinOp,
    BitVecType,
    Expr,
    IntType,
    Lit,
    State,
    TransitionSystem,
    elements,
    walk,
)
from fusever.verdict import Engine, Options, Verdict

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str, config: str | None = None) -> TransitionSystem:
    (ts,) = load.load_specs([FIXTURES / name], config=config)
    return ts


def _job(ts: TransitionSystem, engine: Engine, depth: int) -> Job:
    return Job.resolve(ts, Options(engine=engine, depth=depth))


def _longest(ts: TransitionSystem) -> int:
    runs = kind.runs_end(ts, ts.depth, None, 0)
    assert runs.steps is not None
    return runs.steps


@pytest.mark.parametrize("name", ["narrow_wrap.fv", "free_start.fv"])
def test_narrowed_kind_agrees_with_wide_bmc(name: str) -> None:
    ts = _load(name)
    n = _longest(ts)
    narrowing = narrow.plan(ts, n)
    assert narrowing is not None and narrowing.budget is not None
    assert narrowing.bound <= n and narrowing.width == narrow.narrow_width(narrowing.bound) < 64
    proved = kind.run(_job(ts, Engine.KIND, ts.depth)).results
    wide = bmc.run(_job(ts, Engine.BMC, n)).results
    for k, b in zip(proved, wide, strict=True):
        assert k.complete or k.verdict in (Verdict.VIOLATED, Verdict.COVERED), k.property
        assert k.verdict is b.verdict, (k.property, k.verdict, b.verdict)
        assert k.step == b.step, (k.property, k.step, b.step)
        if k.trace is None:
            assert "narrowed from 64 to" in (k.reason or "")
        else:  # lifted to the wide system: a run of it, with a 64-bit start
            interpret.replay(ts, k.trace, ts.property(k.property))


def test_the_narrowing_finds_the_wrap_bugs() -> None:
    """The fixture's unsigned comparison fails across a wrap, the signed one holds:
    the narrow system tells them apart as the wide one does."""
    ts = _load("narrow_wrap.fv")
    got = {r.property: r for r in kind.run(_job(ts, Engine.KIND, ts.depth)).results}
    assert got["unsigned_right"].verdict is Verdict.VIOLATED
    assert got["signed_right"].verdict is Verdict.PROVED and got["signed_right"].complete
    assert got["wrapped"].verdict is Verdict.COVERED
    trace = got["unsigned_right"].trace
    assert trace is not None
    start = trace.steps[0].state["seq"][()]
    assert isinstance(start, int) and start >= 1 << 32  # the wide start, near its wrap


def _variant(tmp_path: Path, old: str, new: str) -> TransitionSystem:
    text = (FIXTURES / "narrow_wrap.fv").read_text().replace(old, new)
    assert text != (FIXTURES / "narrow_wrap.fv").read_text()
    path = tmp_path / "narrow_wrap.fv"
    path.write_text(text)
    (ts,) = load.load_specs([path])
    return ts


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a value that is no offset of the start: twice the counter
        ("  inval := seq\n", "  inval := seq + seq\n"),
        # a constant far from 0 compared with the counter
        ("noted := false  inval := 0", "noted := false  inval := 1000"),
        # a comparison with a constant far from 0 (cut to another value when narrow)
        (
            "action note() by daemon when !noted {",
            "action note() by daemon when !noted && seq != 1000 {",
        ),
        # a second free start: the two starts' distance matters too
        ("rec := 0  noted", "rec := any  noted"),
    ],
)
def test_what_is_not_an_offset_is_not_narrowed(tmp_path: Path, old: str, new: str) -> None:
    ts = _variant(tmp_path, old, new)
    assert narrow.check(ts, _longest(ts)) is False
    assert narrow.plan(ts, _longest(ts)) is None
    for r in kind.run(_job(ts, Engine.KIND, ts.depth)).results:
        assert "narrowed" not in (r.reason or "")


def test_too_narrow_a_width_is_refused() -> None:
    ts = _load("narrow_wrap.fv")
    n = _longest(ts)
    assert narrow.check(ts, n, narrow.narrow_width(n) - 1) is False
    assert narrow.check(ts, n, 64) is False


def test_the_narrow_system_changes_only_widths() -> None:
    ts = _load("narrow_wrap.fv")
    nts = narrow.narrowed(ts, 64, 6)
    widths = {
        e.type.width for p in nts.properties for e in walk(p.expr) if isinstance(e.type, BitVecType)
    }
    assert 64 not in widths and 6 in widths
    assert [v.name for v in nts.vars] == [v.name for v in ts.vars]
    assert narrow.narrowed(ts, 64, 64) == ts


def test_the_lifted_start_is_the_obligations_g() -> None:
    """:func:`fusever.narrow.start` (Python, for lifting traces) is the ``g`` the
    solver checked, on every narrow start."""
    ts = _load("narrow_wrap.fv")
    n = _longest(ts)
    found = narrow.plan(ts, n)
    assert found is not None
    pair = narrow._Pair(ts, 64, found.width)
    m = 2 * found.bound + 1
    for xn in range(1 << found.width):
        g = z3.simplify(pair.g(z3.BitVecVal(xn, found.width, pair.ctx), m))
        assert g.as_long() == narrow.start(found, xn), xn


def test_the_certificate_names_the_width_and_a_wrong_one_fails() -> None:
    ts = _load("narrow_wrap.fv")
    out = kind.run(_job(ts, Engine.KIND, ts.depth))
    (cert,) = [c for c in out.certificates if c.property == "signed_right"]
    assert cert.moves == 3 and cert.budget  # two replies and a notification
    assert cert.narrowed == narrow.narrow_width(cert.moves)
    assert certificate.from_dict(certificate.as_dict(cert)) == cert
    assert certificate.recheck_status(ts, cert) is certificate.Recheck.PASSED
    for wrong in (
        replace(cert, narrowed=(cert.narrowed or 0) - 1),
        replace(cert, moves=cert.moves - 1),  # the initial budget is 3
        replace(cert, budget="0"),  # lowered by no step that moves the counter
        replace(cert, budget="1*#(nonsense == true)"),
    ):
        assert certificate.recheck_status(ts, wrong) is certificate.Recheck.FAILED, wrong


def test_the_budget_counts_the_moves_not_the_steps() -> None:
    """narrow_wrap's runs take 5 steps (two replies, a notification, two finishes);
    the counter moves on 3 of them: the budget's bound, which the check proves, and
    no smaller one passes."""
    ts = _load("narrow_wrap.fv")
    assert _longest(ts) == 5
    found = ranking.find(ts, growing=frozenset({"seq", "rec", "inval"}))
    assert found.ranking is not None and found.ranking.bound == 3
    assert isinstance(narrow.check(ts, found.ranking), narrow.Narrowing)
    assert narrow.check(ts, replace(found.ranking, bound=2)) is False
    assert narrow.check(ts, ranking.Ranking((), 3)) is False


@pytest.mark.parametrize("name", ["narrow_wrap.fv", "free_start.fv"])
def test_the_explicit_engine_searches_the_narrowed_system(name: str) -> None:
    """Explicit, which cannot enumerate a 64-bit start, searches the narrowed system:
    every verdict complete, each the same, at the same step, as BMC's on the wide
    system to the runs' bound, and every trace a run of the wide system."""
    ts = _load(name)
    found = engines.prove(ts, Options(engine=Engine.EXPLICIT))
    wide = bmc.run(_job(ts, Engine.BMC, _longest(ts))).results
    for e, b in zip(found, wide, strict=True):
        assert (e.verdict, e.step) == (b.verdict, b.step), (e.property, e.verdict, b.verdict)
        if e.trace is None:
            assert e.complete and "narrowed from 64 to" in (e.reason or ""), e
        else:
            interpret.replay(ts, e.trace, ts.property(e.property))


# ---- the claim itself, on random runs (not through the solver) ---------------------


def _f(x: int, n: int, width: int) -> int:
    """The narrow start lying as ``x`` does (the obligations' ``f``)."""
    m, W, V = 2 * n + 1, 64, width

    def signed(v: int, w: int) -> int:
        v %= 1 << w
        return v - (1 << w) if v >= 1 << (w - 1) else v

    if -m <= signed(x, W) <= m:
        return x % (1 << V)
    if -m <= signed(x - (1 << 63), W) <= m:
        return ((1 << (V - 1)) + signed(x - (1 << 63), W)) % (1 << V)
    return (1 << (V - 2)) if x < 1 << 63 else 3 << (V - 2)


def _start(ts: TransitionSystem, x: int) -> State:
    (s,) = list(interpret.initial_states(ts))[:1]
    return {**{k: dict(v) for k, v in s.items()}, "seq": {(): x}}


def _goals(ts: TransitionSystem, pre: State, post: State | None) -> tuple[bool, ...]:
    return tuple(
        interpret.holds(ts, p, pre, post)[0]
        for p in ts.properties
        if p.two_state == (post is not None)
    )


_TS = _load("narrow_wrap.fv")
_N = _longest(_TS)
_MOVES = 3  # the budget's bound (test_the_budget_counts_the_moves_not_the_steps)
# (the offsets' bound, the width): by the runs' length, and by the budget
_BOUNDS = ((_N, narrow.narrow_width(_N)), (_MOVES, narrow.narrow_width(_MOVES)))
_EDGES = (0, 1 << 63, 1 << 64)


@settings(max_examples=150, deadline=None)
@given(
    edge=st.sampled_from(_EDGES),
    off=st.integers(-3 * _N, 3 * _N) | st.integers(-(1 << 62), 1 << 62),
    seed=st.integers(0, 2**32),
    bounds=st.sampled_from(_BOUNDS),
)
def test_random_runs_take_the_same_steps_at_both_widths(
    edge: int, off: int, seed: int, bounds: tuple[int, int]
) -> None:
    n, width = bounds
    nts = narrow.narrowed(_TS, 64, width)
    x = (edge + off) % (1 << 64)
    wide, thin = _start(_TS, x), _start(nts, _f(x, n, width))
    assert _goals(_TS, wide, None) == _goals(nts, thin, None)
    rng = random.Random(seed)
    for _ in range(_N + 1):
        ws = sorted((a, args) for a, args, _ in interpret.successors(_TS, wide))
        ns = sorted((a, args) for a, args, _ in interpret.successors(nts, thin))
        assert ws == ns, (x, ws, ns)
        if not ws:
            break
        action, args = rng.choice(ws)
        w2 = interpret.step(_TS, wide, action, dict(args))
        n2 = interpret.step(nts, thin, action, dict(args))
        assert _goals(_TS, w2, None) == _goals(nts, n2, None), (x, action)
        assert _goals(_TS, wide, w2) == _goals(nts, thin, n2), (x, action)
        wide, thin = w2, n2
    else:
        pytest.fail("a run longer than the ranking's bound")


def test_the_narrow_starts_are_where_wide_ones_lie() -> None:
    """The narrow system starts only where ``f`` puts a wide start (within m of 0 or
    of half-way, or a quarter point): 8 * bound + 8 starts, 32 of 64 here; the check
    proves every wide start has its narrow one there, and fails once the bands are
    one too narrow or a quarter point is missing."""
    ts = _load("narrow_wrap.fv")
    found = narrow.plan(ts, _longest(ts))
    assert found is not None and found.budget is not None
    system = explicit.compile_system(found.system)
    lay = system.layout
    seq = next(j for j in range(lay.size) if lay.name(j) == "seq")
    starts = {concrete[seq] for _, concrete in system.initial()}
    assert len(starts) == 8 * found.bound + 8 == 32 and found.width == 6
    assert {16, 48} <= starts and not {10, 20, 44, 54} & starts
    found_free = narrow.wide_free(ts)
    assert found_free is not None
    wide, free = found_free
    m = 2 * found.bound + 1
    plain = narrow.narrowed(ts, wide, found.width)
    assert narrow._proved(
        narrow._Pair(ts, wide, found.width, narrow.starting(plain, free, found.width, m)),
        free, found.bound, found.budget, None,
    )  # fmt: skip
    bad = narrow.starting(plain, free, found.width, m - 1)
    assert not narrow._proved(
        narrow._Pair(ts, wide, found.width, bad), free, found.bound, found.budget, None
    )
    # the same starts without the quarter points (16 and 48): an upper-half start far
    # from both wraps has no narrow start lying alike
    good = narrow.starting(plain, free, found.width, m)
    *rest, assume = good.init
    assert isinstance(assume, Assume)

    def without_quarters(e: Expr) -> Expr | None:
        if isinstance(e, Binary) and e.op is BinOp.OR:
            lhs, rhs = without_quarters(e.lhs), without_quarters(e.rhs)
            if lhs is None or rhs is None:
                return lhs or rhs
            return replace(e, lhs=lhs, rhs=rhs)
        assert isinstance(e, Binary) and isinstance(e.rhs, Lit)
        return None if e.rhs.value in (16, 48) else e

    cond = without_quarters(assume.cond)
    assert cond is not None and cond != assume.cond
    quarterless = replace(good, init=(*rest, replace(assume, cond=cond)))
    assert not narrow._proved(
        narrow._Pair(ts, wide, found.width, quarterless), free, found.bound, found.budget, None
    )


def test_a_lemma_is_its_atom_generalized(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each atom the check asks as a lemma's instance comes back from the lemma by
    putting every variable back: the wide and narrow constants of one location get
    one pair, what both sides share one variable; so the lemma, proved, covers the
    atom.  And many atoms come down to few lemmas."""
    (ts,) = load.load_specs([Path("spec/fuse_v1.fv")], config="w64_free")
    seen: list[tuple[z3.ExprRef, z3.ExprRef, dict[int, object], narrow.Generalized]] = []
    real = narrow.generalized

    def recorded(x: z3.ExprRef, y: z3.ExprRef, owner: dict[int, object], ctx: z3.Context) -> object:
        g = real(x, y, owner, ctx)  # type: ignore[arg-type]
        assert g is not None, (x, y)
        seen.append((x, y, owner, g))
        return g

    monkeypatch.setattr(narrow, "generalized", recorded)
    monkeypatch.setattr(narrow, "_PROVED", {})  # asked afresh, not remembered
    plan = narrow.plan(ts, None)
    assert plan is not None and plan.width == 6
    shapes = set()
    for x, y, owner, g in seen:
        assert z3.substitute(g.x, *g.sigma).eq(x) and z3.substitute(g.y, *g.sigma).eq(y)
        for slot, ((wt, wv), (nt, nv)) in g.pairs:
            assert owner[wt.get_id()] == owner[nt.get_id()] == slot
            assert (wt.size(), nt.size()) == (wv.size(), nv.size()) == (64, 6)
        variables = [v.get_id() for v, _ in g.sigma]
        assert len(set(variables)) == len(variables)
        shapes.add((g.x.get_id(), g.y.get_id()))
    assert len(seen) > 2 * len(shapes) > 0


def test_a_location_read_on_one_side_only_is_no_lemma() -> None:
    (ts,) = load.load_specs([Path("spec/fuse_v1.fv")], config="w64_free")
    found = narrow.wide_free(ts)
    assert found is not None
    pair = narrow._Pair(ts, found[0], 6)
    pre_w, pre_n = pair.w.state(0), {s: pair.tr(t) for s, t in pair.n.state(0).items()}
    owner = {t.get_id(): s for s in pair.slots for t in (pre_w[s], pre_n[s])}
    a, b = pair.slots[0], pair.slots[-1]
    assert a != b
    zero_w = z3.BitVecVal(0, 64, pair.ctx)
    zero_n = z3.BitVecVal(0, 6, pair.ctx)
    assert (
        narrow.generalized(z3.ULT(pre_w[a], zero_w), z3.ULT(pre_n[b], zero_n), owner, pair.ctx)
        is None
    )


def test_lemmas_decide_as_direct_queries_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check with every atom asked directly (no lemma) proves the same narrowing,
    and with a band one too narrow in the starts fails the same way."""
    ts = _load("narrow_wrap.fv")
    found = narrow.plan(ts, _longest(ts))
    assert found is not None and found.budget is not None
    found_free = narrow.wide_free(ts)
    assert found_free is not None
    wide, free = found_free
    m = 2 * found.bound + 1
    plain = narrow.narrowed(ts, wide, found.width)
    asked = []
    real = narrow._Solver._lemma

    def counted(self: narrow._Solver, x: z3.ExprRef, y: z3.ExprRef) -> bool:
        asked.append(real(self, x, y))
        return asked[-1]

    for lemma in (counted, lambda self, x, y: False):
        monkeypatch.setattr(narrow._Solver, "_lemma", lemma)
        for band, holds in ((m, True), (m - 1, False)):
            system = narrow.starting(plain, free, found.width, band)
            got = narrow._proved(
                narrow._Pair(ts, wide, found.width, system), free, found.bound, found.budget, None
            )
            assert got is holds, (lemma, band)
    assert any(asked)


_UNREAD = """
spec unread "what no step, goal or condition reads"
sort T = 2
var a: u8         // read by a guard
var b: u64        // read only by its own assignment
var c: u8         // assigned from a, read by nothing
var e: u64        // read only by b's assignment (b is unread)
var g: u8         // read by a goal
var h: bool       // read by an if's condition
var k: u8         // read by the assignment of g (g is read)
var arr: T -> u8  // indexed by a, read by nothing
init { a := 0  b := any  c := 0  e := 0  g := 0  h := false  k := 0  arr := 0 }
action step(t: T) when a < 3 {
  a := a + 1
  b := b + 1 + e
  c := a
  arr[t] := a
  if h { g := k } else { g := 1 }
}
invariant small "g stays small": g < 100
cover grown for small "a reaches 3": a == 3
depth 4
"""


def test_unread_is_the_cone_of_influence(tmp_path: Path) -> None:
    spec = tmp_path / "unread.fv"
    spec.write_text(_UNREAD)
    (ts,) = load.load_specs([spec])
    assert narrow.unread(ts) == {"b", "c", "e", "arr"}
    # b is 64 bits, free and unread: pinned to 0, the spec has no free wide start left
    assert narrow.wide_free(ts) is None
    pinned = narrow.pinned(ts)
    assert pinned != ts and narrow.pinned(pinned) == pinned
    (start,) = list(interpret.initial_states(pinned))
    assert start["b"] == {(): 0} and interpret.is_initial(ts, start)


_CONNSEQ = load.load_specs([Path("spec/fuse_connseq.fv")], config="w64_free")[0]


@functools.cache
def _connseq_initial() -> State:
    """An initial state of pinned fuse_connseq, from random seeds (init's assumptions
    reject most)."""
    rng = random.Random(1)
    for _ in range(200):
        for state in interpret.initial_states(narrow.pinned(_CONNSEQ), rng):
            return state
    pytest.fail("no initial state from 200 random seeds")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), x=st.integers(0, (1 << 64) - 1))
def test_unread_values_decide_nothing(seed: int, x: int) -> None:
    """fuse_connseq ``w64_free``: a run of the spec from a start with every unread
    location at random values, and the same steps in the pinned system (unread
    locations at 0, never assigned), enable the same steps, give every goal the same
    value and hold the same values everywhere else, step by step."""
    ts, rng = _CONNSEQ, random.Random(seed)
    pts = narrow.pinned(ts)
    unread = narrow.unread(ts)
    assert "write_seq" in unread and "conn_seq" not in unread and pts != ts
    base = {k: dict(v) for k, v in _connseq_initial().items()} | {"conn_seq": {(): x}}
    other = {k: dict(v) for k, v in base.items()}
    for name in unread:
        var = next(v for v in ts.vars if v.name == name)
        if isinstance(var.type, BitVecType):
            other[name] = {k: rng.randrange(1 << var.type.width) for k in other[name]}
        elif isinstance(var.type, IntType):
            other[name] = {k: rng.randrange(-99, 100) for k in other[name]}
        else:
            other[name] = {k: rng.choice(elements(var.type)) for k in other[name]}
    assert interpret.is_initial(pts, base) and interpret.is_initial(ts, base)
    pinned, spec = base, other

    def kept(state: State) -> dict[str, object]:
        return {k: v for k, v in state.items() if k not in unread}

    for _ in range(30):
        s1 = sorted((a, args) for a, args, _ in interpret.successors(pts, pinned))
        s2 = sorted((a, args) for a, args, _ in interpret.successors(ts, spec))
        assert s1 == s2
        assert _goals(pts, pinned, None) == _goals(ts, spec, None)
        if not s1:
            return
        action, args = rng.choice(s1)
        n1 = interpret.step(pts, pinned, action, dict(args))
        n2 = interpret.step(ts, spec, action, dict(args))
        assert _goals(pts, pinned, n1) == _goals(ts, spec, n2)
        assert kept(n1) == kept(n2)
        assert {k: n1[k] for k in unread} == {k: base[k] for k in unread}  # frozen
        pinned, spec = n1, n2


def test_an_unread_free_start_is_pinned_and_the_engines_agree(tmp_path: Path) -> None:
    """narrow_wrap.fv with a second free 64-bit counter that only its own steps read:
    pinned, the spec has one free start and is narrowed; k-induction and the explicit
    engine on it agree with BMC at 64 bits (verdicts and steps), their traces replay
    on the spec as written, and a proof's certificate re-checks the narrowing."""
    text = (FIXTURES / "narrow_wrap.fv").read_text()
    text = text.replace("var noted: bool\n", "var noted: bool\nvar junk: u64  // never read\n")
    text = text.replace("init {\n  seq := any", "init {\n  junk := any  seq := any")
    text = text.replace("  noted := true\n", "  noted := true\n  junk := junk + seq\n")
    spec = tmp_path / "junk.fv"
    spec.write_text(text)
    (ts,) = load.load_specs([spec])
    assert narrow.unread(ts) == {"junk"}
    found = narrow.wide_free(ts)
    assert found is not None and found[1] == ("seq", ())
    n = _longest(ts)
    wide = bmc.run(_job(ts, Engine.BMC, n)).results
    got = engines.prove_certified(ts, Options(engine=Engine.KIND, depth=ts.depth))
    searched = narrow.explicit_search(_job(ts, Engine.EXPLICIT, ts.depth))
    for k, e, b in zip(got.results, searched, wide, strict=True):
        assert (k.verdict, k.step) == (e.verdict, e.step) == (b.verdict, b.step), k.property
        for r in (k, e):
            if r.trace is not None:
                assert r.trace.steps[0].state["junk"] == {(): 0}
                interpret.replay(ts, r.trace, ts.property(r.property))
    assert got.certificates and all(c.narrowed for c in got.certificates)
    assert all(certificate.recheck(ts, c) for c in got.certificates)
