"""The encoder: its operator table against the interpreter's, init, steps, traces."""

from __future__ import annotations

import pytest
import tsbuild as B
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from fusever import decode, encode, interpret, operators
from fusever.encode import EncodeOptions, Encoding
from fusever.ts import BOOL, BinOp, BitVecType, EnumType, SortType, Type, UnOp

TYPES: list[Type] = [
    B.u(3),
    B.i(3),
    B.u(8),
    B.i(8),
    B.INT,
    BOOL,
    SortType("S", 3),
    EnumType("E", ("a", "b", "c")),
]
ORDER = {BinOp.LT, BinOp.LE, BinOp.GT, BinOp.GE}


def test_operator_table_covers_every_operator() -> None:
    assert set(encode.BINARY) == set(BinOp)
    assert set(encode.UNARY) == set(UnOp)


def values(t: Type) -> st.SearchStrategy[object]:
    match t:
        case BitVecType(width=w):
            return st.integers(0, (1 << w) - 1)
        case SortType(size=n):
            return st.integers(0, n - 1)
        case EnumType(members=m):
            return st.sampled_from(m)
        case _ if t == BOOL:
            return st.booleans()
        case _:
            return st.integers(-300, 300)


def applicable(op: BinOp, t: Type) -> bool:
    """The operator table's typing rule (order also on enums: both tables have it)."""
    if op in ORDER:
        return t != BOOL
    return operators.kind(t) in operators.TABLE[op].operands


CASES = [(op, t) for op in BinOp for t in TYPES if applicable(op, t)]


@st.composite
def binary_case(draw: st.DrawFn) -> tuple[BinOp, Type, object, object, bool]:
    op, t = draw(st.sampled_from(CASES))
    return op, t, draw(values(t)), draw(values(t)), draw(st.booleans())


@settings(max_examples=400, deadline=None)
@given(binary_case())
def test_binary_tables_agree(case: tuple[BinOp, Type, object, object, bool]) -> None:
    op, t, a, b, ghost_bv = case
    enc = Encoding(B.counter(3), EncodeOptions(ghost="bv" if ghost_bv else "int"))
    got = z3.simplify(encode.BINARY[op](t, enc.const(t, a), enc.const(t, b)))  # type: ignore[arg-type]
    want = interpret.BINARY[op](t, a, b)  # type: ignore[arg-type]
    result_t = BOOL if isinstance(want, bool) else t
    assert enc.value(result_t, got) == want


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([B.u(3), B.i(3), B.INT]), st.integers(-20, 20), st.booleans())
def test_neg_and_casts_agree(t: Type, x: int, ghost_bv: bool) -> None:
    enc = Encoding(B.counter(3), EncodeOptions(ghost="bv" if ghost_bv else "int"))
    v = x if t == B.INT else x % 8
    s = {"x": {(): v}}
    env: dict[str, z3.ExprRef] = {}
    for e in (B.neg(B.v("x", t)), B.to_int(B.v("x", t)), B.cast(B.v("x", t), B.u(5))):
        if e.type == t == B.INT and isinstance(e, B.Cast):
            continue
        want = interpret.evaluate(e, s, {})
        sym = _ConstSym(enc, {"x": enc.const(t, v)})
        got = z3.simplify(enc.expr(e, sym, env))  # type: ignore[arg-type]
        assert enc.value(e.type, got) == want


class _ConstSym:
    """A stand-in symbolic state whose scalars are constants."""

    def __init__(self, enc: Encoding, values: dict[str, z3.ExprRef]) -> None:
        self.values = values

    def read(self, name: str, args: object) -> z3.ExprRef:
        return self.values[name]


def _all_models(enc: Encoding, terms: list[z3.ExprRef], limit: int = 50) -> set[tuple[int, ...]]:
    s = z3.Solver(ctx=enc.ctx)
    s.add(*enc.init())
    out: set[tuple[int, ...]] = set()
    while s.check() == z3.sat and len(out) < limit:
        m = s.model()
        vals = tuple(m.eval(t, model_completion=True).as_long() for t in terms)
        out.add(vals)
        s.add(z3.Or(*(t != x for t, x in zip(terms, vals, strict=True))))
    return out


def test_init_fixpoint_leaves_any_and_unassigned_free() -> None:
    t = B.u(4)
    ts = B.system(
        "free",
        vars=[B.var("x", t), B.var("y", t), B.var("z", t)],
        init=[
            B.assign("x", None),
            B.assume(B.lt(B.v("x", t), B.n(4, t))),
            B.assign("z", B.n(9, t)),
        ],
        actions=[],
    )
    enc = Encoding(ts)
    st0 = enc.state(0)
    xs = _all_models(enc, [st0[("x", ())], st0[("z", ())]])
    assert xs == {(0, 9), (1, 9), (2, 9), (3, 9)}
    ys = _all_models(enc, [st0[("y", ())]], limit=100)
    assert len(ys) == 16


def test_sort_ranges_are_enforced() -> None:
    S = SortType("S", 3)
    ts = B.system("r", sorts=[S], vars=[B.var("s", S)], init=[], actions=[])
    enc = Encoding(ts)
    assert _all_models(enc, [enc.state(0)[("s", ())]]) == {(0,), (1,), (2,)}


@pytest.mark.parametrize("maps", ["expand", "array"])
def test_step_is_the_interpreters_step(maps: str) -> None:
    ts = B.lost_update(2)
    enc = Encoding(ts, EncodeOptions(maps=maps))  # type: ignore[arg-type]
    s = z3.Solver(ctx=enc.ctx)
    s.add(*enc.init(), *enc.step(0), *enc.step(1))
    # force load(1) then store(1)
    s.add(enc.selected(0, enc.instances.index((ts.action("load"), (("w", 1),)))))
    s.add(enc.selected(1, enc.instances.index((ts.action("store"), (("w", 1),)))))
    assert s.check() == z3.sat
    tr = decode.trace(enc, s.model(), 2)
    assert [x.action for x in tr.steps] == [None, "load", "store"]
    assert tr.steps[2].state == {
        "c": {(): 1},
        "tmp": {(0,): 0, (1,): 0},
        "pc": {(0,): "idle", (1,): "done"},
    }


def test_stutter_steps_are_dropped_from_traces() -> None:
    ts = B.counter(3)
    enc = Encoding(ts, EncodeOptions(stutter="anywhere"))
    s = z3.Solver(ctx=enc.ctx)
    s.add(*enc.init(), *enc.step(0), *enc.step(1), *enc.step(2))
    s.add(enc.stutter(1), z3.Not(enc.stutter(2)), z3.Not(enc.stutter(3)))
    assert s.check() == z3.sat
    tr = decode.trace(enc, s.model(), 3)
    assert [x.action for x in tr.steps] == [None, "inc", "inc"]
    assert tr.steps[-1].state["c"][()] == 2


def test_tail_stutter_forbids_a_step_after_a_stutter() -> None:
    enc = Encoding(B.counter(3), EncodeOptions(stutter="tail"))
    s = z3.Solver(ctx=enc.ctx)
    s.add(*enc.init(), *enc.step(0), *enc.step(1))
    s.add(enc.stutter(1), z3.Not(enc.stutter(2)))
    assert s.check() == z3.unsat


def test_ghost_bv_needs_constant_start() -> None:
    g = B.v("g", B.INT)
    base = dict(
        vars=[B.var("g", B.INT, ghost=True)],
        actions=[B.action("t", [B.assign("g", B.add(g, B.n(1, B.INT)))])],
    )
    assert encode.ghost_bv_applicable(B.system("a", init=[B.assign("g", B.n(0, B.INT))], **base))  # type: ignore[arg-type]
    assert not encode.ghost_bv_applicable(B.system("b", init=[], **base))  # type: ignore[arg-type]
    assert not encode.ghost_bv_applicable(B.system("c", init=[B.assign("g", None)], **base))  # type: ignore[arg-type]
    enc = Encoding(B.system("a", init=[B.assign("g", B.n(0, B.INT))], **base))  # type: ignore[arg-type]
    assert enc.ghost_bv and enc.solver_kind in ("qf_bv", "bitwuzla")


def test_the_kernel_projection_drops_ghost_state_and_keeps_every_step() -> None:
    from pathlib import Path

    from fusever import load
    from fusever.ts import kernel_projection

    (ts,) = load.load_specs([Path(__file__).parent / "fixtures" / "unbounded_ends.fv"])
    proj = kernel_projection(ts)
    assert [v.name for v in proj.vars] == ["x", "y"] and proj.properties == ()
    (up,) = proj.actions
    assert up.guard == ts.action("up").guard and len(up.body) == 2
