"""The one operator table: every operator has every entry, the grammar agrees with its
precedence, and the interpreter, constant folding and both solver backends agree with
it on random operands."""

from __future__ import annotations

import itertools

import pytest
import tsbuild as B
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from fusever import chc, encode, interpret, mutate, solvers
from fusever import syntax as s
from fusever.encode import EncodeOptions, Encoding
from fusever.operators import CONST_FUNCS, TABLE, Family, FoldError, kind
from fusever.parse import parse_text
from fusever.ts import BOOL, BinOp, BitVecType, IntType, Type, UnOp, Value

OPS = [*BinOp, *UnOp]


def test_every_operator_has_every_entry() -> None:
    assert set(TABLE) == set(OPS)
    for op, info in TABLE.items():
        assert info.op is op
        assert info.arity == (2 if isinstance(op, BinOp) else 1)
        assert isinstance(info.family, Family)
        assert 1 <= info.precedence <= 12
        assert info.operands and info.needs and info.symbol
        assert callable(info.concrete)
        assert info.fold is not None or info.fold_why, op  # folds, or says why not
        assert info.assoc in ("left", "right", "none")
        assert info.slip is None or TABLE[info.slip].family is info.family
    # every consumer covers every operator
    assert set(encode.BINARY) == set(BinOp) and set(encode.UNARY) == set(UnOp)
    assert set(interpret.BINARY) == set(BinOp) and set(interpret.UNARY) == set(UnOp)
    assert set(chc._Z3_BINARY.values()) | {BinOp.NE} == set(BinOp)  # `!=`: Not(==) or distinct
    assert set(chc._Z3_UNARY.values()) | {UnOp.NOT} == set(UnOp)  # `!` is printed on its own
    assert set(mutate.SWAP_OP) == {op for op in BinOp if TABLE[op].slip is not None}


# ---- the grammar agrees with the table ---------------------------------------------------


def _expr(text: str) -> s.Expr:
    spec = parse_text(f"spec t\ninvariant p: {text}\n", "t.fv")
    (item,) = spec.decls
    assert isinstance(item, s.PropertyDecl)
    return item.expr


def test_every_symbol_parses_to_its_operator() -> None:
    for op in BinOp:
        e = _expr(f"a {op.value} b")
        assert isinstance(e, s.Binary) and e.op is op
    for uop in UnOp:
        e = _expr(f"{uop.value}a")
        assert isinstance(e, s.Unary) and e.op is uop


@pytest.mark.parametrize(("op1", "op2"), list(itertools.product(BinOp, BinOp)))
def test_grammar_groups_by_the_table(op1: BinOp, op2: BinOp) -> None:
    p1, p2 = TABLE[op1].precedence, TABLE[op2].precedence
    text = f"a {op1.value} b {op2.value} c"
    if p1 == p2 and TABLE[op1].assoc == "none":
        with pytest.raises(Exception):  # noqa: B017 (a syntax error: comparisons do not chain)
            _expr(text)
        return
    e = _expr(text)
    assert isinstance(e, s.Binary)
    left_first = p1 > p2 or (p1 == p2 and TABLE[op1].assoc == "left")
    if left_first:
        assert e.op is op2 and isinstance(e.lhs, s.Binary) and e.lhs.op is op1, text
    else:
        assert e.op is op1 and isinstance(e.rhs, s.Binary) and e.rhs.op is op2, text


@pytest.mark.parametrize(("uop", "op"), list(itertools.product(UnOp, BinOp)))
def test_prefix_operators_group_by_the_table(uop: UnOp, op: BinOp) -> None:
    e = _expr(f"{uop.value}a {op.value} b")
    if TABLE[uop].precedence > TABLE[op].precedence:
        assert isinstance(e, s.Binary) and isinstance(e.lhs, s.Unary), (uop, op)
    else:
        assert isinstance(e, s.Unary) and isinstance(e.arg, s.Binary), (uop, op)


@pytest.mark.parametrize(("op1", "op2"), list(itertools.product(BinOp, BinOp)))
def test_printed_expressions_reparse_to_themselves(op1: BinOp, op2: BinOp) -> None:
    # mutate's printer parenthesizes by the table: printing then parsing is the identity
    t = BitVecType(8)
    a, b, c = (B.v(x, t) for x in "abc")
    for tree in (B.b(op2, B.b(op1, a, b), c), B.b(op1, a, B.b(op2, b, c))):
        text = mutate.expr_text(tree)
        assert _shape(_expr(text)) == _shape_ts(tree), text


def _shape(e: s.Expr) -> object:
    match e:
        case s.Binary(op=op, lhs=lhs, rhs=rhs):
            return (op, _shape(lhs), _shape(rhs))
        case s.Ref(name=name):
            return name
        case _:
            raise AssertionError(e)


def _shape_ts(e: object) -> object:
    from fusever import ts

    match e:
        case ts.Binary(op=op, lhs=lhs, rhs=rhs):
            return (op, _shape_ts(lhs), _shape_ts(rhs))
        case ts.Var(name=name):
            return name
        case _:
            raise AssertionError(e)


# ---- the semantics agree -----------------------------------------------------------------

TYPES: list[Type] = [B.u(3), B.i(3), B.u(8), B.i(8), B.INT]


def _values(t: Type) -> st.SearchStrategy[int]:
    if isinstance(t, BitVecType):
        return st.integers(0, (1 << t.width) - 1)
    return st.integers(-40, 40)


CASES = [(op, t) for op in OPS for t in [*TYPES, BOOL] if kind(t) in TABLE[op].operands]


def _backends(enc: Encoding, z3_ints: bool) -> list[solvers.Backend]:
    """Z3's SMT solver; the bit-vector ones (Z3's and Bitwuzla) when no Z3 int is in play."""
    out: list[solvers.Backend] = [solvers.Z3Backend("smt", 0, enc.ctx)]
    if not z3_ints:
        out.append(solvers.Z3Backend("qf_bv", 0, enc.ctx))
        if solvers.bitwuzla_available():
            out.append(solvers.BitwuzlaBackend(0))
    return out


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CASES), st.data(), st.booleans())
def test_interpreter_and_solvers_agree(
    case: tuple[BinOp | UnOp, Type], data: st.DataObject, ghost_bv: bool
) -> None:
    """Every operator on random operands: the interpreter's value is the only one the
    encoding allows, in Z3 (SMT and bit-blasting) and in Bitwuzla (terms unsimplified)."""
    op, t = case
    vals: list[Value] = [
        data.draw(st.booleans() if t == BOOL else _values(t)) for _ in range(TABLE[op].arity)
    ]
    enc = Encoding(B.counter(3), EncodeOptions(ghost="bv" if ghost_bv else "int"))
    args = [enc.const(t, v) for v in vals]
    if isinstance(op, BinOp):
        term = encode.BINARY[op](t, *args)
        want = interpret.BINARY[op](t, vals[0], vals[1])
    else:
        term = encode.UNARY[op](t, *args)
        want = interpret.UNARY[op](t, vals[0])
    result_t = BOOL if TABLE[op].boolean else t
    if isinstance(result_t, IntType) and z3.is_bv(term):
        wanted = z3.BitVecVal(want, term.size(), enc.ctx)  # an exact int: signed, wide enough
        assert isinstance(want, int) and -(1 << (term.size() - 1)) <= want < 1 << (term.size() - 1)
    else:
        wanted = enc.const(result_t, want)
    differs = z3.Not(term == wanted)
    for backend in _backends(enc, isinstance(t, IntType) and not enc.ghost_bv):
        status, _ = backend.check(differs, None)
        assert status == "unsat", (backend.name, op, t, vals, want)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([op for op in OPS if TABLE[op].fold is not None and not TABLE[op].boolean]),
       st.integers(0, 60), st.integers(0, 12))  # fmt: skip
def test_constant_folding_agrees_where_it_fits(op: BinOp | UnOp, a: int, b: int) -> None:
    """A folded constant is exact; on operands and results that fit, it is the type's value."""
    info = TABLE[op]
    assert info.fold is not None
    xs = (a, b)[: info.arity]
    try:
        folded = info.fold(xs)
    except FoldError:
        return
    t = BitVecType(16, signed=op is UnOp.NEG)
    if not isinstance(folded, int) or not -(1 << 15) <= folded < 1 << 15:
        return
    concrete = info.concrete(t, xs)
    assert folded % (1 << 16) == concrete


def test_pow2_and_its_mistakes() -> None:
    assert CONST_FUNCS["pow2"](10) == 1024
    for bad in (-1, 1 << 20):
        with pytest.raises(FoldError):
            CONST_FUNCS["pow2"](bad)


# ---- through the checker -----------------------------------------------------------------


def test_constants_and_context_typing() -> None:
    from fusever import ts
    from fusever.check import check

    text = """spec ctx
const BITS = 3
const TOP = pow2(BITS + 4)
const MASK = (1 << BITS) - 1
const R = 0 - 7 % 3
var x: u8
var y: i8
init { x := 0  y := 0 }
action a() when ~MASK & x == 0 { x := (MASK ^ 3) | x  y := y >> 1 }
invariant p: x < TOP && y % 3 != 2
"""
    t = check([parse_text(text, "ctx.fv")], ())
    assert dict(t.settings) == {"BITS": 3, "TOP": 128, "MASK": 7, "R": 0 - (7 % 3)}
    guard = t.action("a").guard
    assert isinstance(guard, ts.Binary) and isinstance(guard.lhs, ts.Binary)
    lhs = guard.lhs.lhs  # ~MASK, typed by its partner x
    assert isinstance(lhs, ts.Unary) and lhs.op is UnOp.BNOT and lhs.type == BitVecType(8)
    (assign, _) = t.action("a").body
    assert isinstance(assign, ts.Assign) and isinstance(assign.value, ts.Binary)
    xor = assign.value.lhs
    assert isinstance(xor, ts.Binary) and xor.op is BinOp.XOR and xor.type == BitVecType(8)
    assert interpret.evaluate(xor, {}, {}) == 4


def test_negative_constant_remainder_truncates() -> None:
    from fusever.check import check

    t = check(
        [
            parse_text(
                "spec r\nconst A = (0 - 7) % 3\nconst B = 7 % (0 - 3)\nconst C = 5 % 0\n", "r.fv"
            )
        ],
        (),
    )
    assert dict(t.settings) == {"A": -1, "B": 1, "C": 5}


OPS_SPEC = """spec ops
var x: u3
var y: i3
ghost g: int
init { x := 3  y := 1  g := 7 }
action mod(k: bool) { x := x % (if k then 3 else 0)  y := y % 2  g := g % 3 }
action bits() { x := (x & 6) | (x ^ 1)  y := ~y }
action shifts(k: bool) { x := x << (if k then 1 else 4)  y := y >> 1 }
invariant x_not_6: x != 6
invariant y_not_min: y != 0 - 4
invariant g_small: g % 4 != 2
cover x_is_4: x == 4 && y == 0 - 1
"""


def test_explicit_and_bmc_agree_on_every_operator() -> None:
    """The explicit engine compiles the new operators from the same table: same verdicts
    and depths as BMC on a spec that uses each of them, its traces replayed."""
    from fusever import bmc, explicit
    from fusever.check import check
    from fusever.job import Job
    from fusever.verdict import Options

    ts = check([parse_text(OPS_SPEC, "ops.fv")], ())
    ex = explicit.run(Job.resolve(ts, Options(state_limit=100_000)), bound=6)
    bm = bmc.run(Job.resolve(ts, Options(depth=6))).results
    assert [(e.verdict.value, e.step) for e in ex.results] == [
        ("violated", 1),
        ("proved", None),
        ("proved", None),
        ("covered", 2),
    ]
    for e, b in zip(ex.results, bm, strict=True):
        assert (e.property, e.verdict, e.step) == (b.property, b.verdict, b.step), (
            e.reason,
            b.reason,
        )
        if e.trace is not None:
            interpret.replay(ts, e.trace, ts.property(e.property))
