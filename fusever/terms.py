"""The operators as Z3 terms: the encoder's half of the operator table.

Every other fact about an operator (arity, family, typing, precedence, symbol, concrete
semantics) is in :mod:`fusever.operators`; here is only the term each one builds, over
the encoder's representation of its operand type (see :mod:`fusever.encode`):
bit-vectors wrap, and an ``int`` held as an exact signed bit-vector (ghost ints,
``ghost="bv"``) grows instead, so it never wraps.  ``tests/test_operators.py`` checks
every entry against the interpreter on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeAlias, TypeVar, assert_never

import z3

from fusever.ts import BinOp, BitVecType, BoolType, EnumType, IntType, SortType, Type, UnOp

__all__ = [
    "BINARY",
    "UNARY",
    "align",
    "all_of",
    "any_of",
    "exact",
    "mentioned",
    "sext",
    "swidth",
]

# z3 ships no type information: every term is Any to mypy; Z names what is meant.
Z: TypeAlias = Any
T = TypeVar("T", bound=Hashable)


def all_of(ctx: z3.Context, xs: Sequence[Z]) -> Z:
    """Conjunction: ``true`` when empty, the term itself when alone (without a
    one-argument ``and``: some SMT-LIB readers reject it)."""
    return xs[0] if len(xs) == 1 else z3.And(*xs) if xs else z3.BoolVal(True, ctx)


def any_of(ctx: z3.Context, xs: Sequence[Z]) -> Z:
    """Disjunction: ``false`` when empty, the term itself when alone."""
    return xs[0] if len(xs) == 1 else z3.Or(*xs) if xs else z3.BoolVal(False, ctx)


def mentioned(terms: Sequence[Z], owner: Mapping[int, T]) -> list[T]:
    """What ``owner`` maps the subterms of ``terms`` to (by term id: a location's
    constant to its location), each once, in the order a depth-first walk meets them."""
    out: dict[T, None] = {}
    seen: set[int] = set()
    stack = list(reversed(terms))
    while stack:
        t = stack.pop()
        i = t.get_id()
        if i in seen:
            continue
        seen.add(i)
        if i in owner:
            out[owner[i]] = None
        else:
            stack.extend(reversed(t.children()))
    return list(out)


def swidth(v: int) -> int:
    """Bits of the smallest two's complement representation of ``v``."""
    return (v if v >= 0 else ~v).bit_length() + 1


def sext(a: Z, width: int) -> Z:
    n = width - a.size()
    return a if n == 0 else z3.SignExt(n, a)


def exact(t: Type, a: Z) -> bool:
    """An ``int`` value held as an exact signed bit-vector (ghost="bv")."""
    return isinstance(t, IntType) and z3.is_bv(a)


def align(a: Z, b: Z, width: int | None = None) -> tuple[Z, Z]:
    w = max(a.size(), b.size()) if width is None else width
    return sext(a, w), sext(b, w)


def _eq(t: Type, a: Z, b: Z) -> Z:
    if exact(t, a):
        a, b = align(a, b)
    return a == b


def _order(signed: Callable[[Z, Z], Z], unsigned: Callable[[Z, Z], Z]) -> Callable[[Type, Z, Z], Z]:
    def op(t: Type, a: Z, b: Z) -> Z:
        match t:
            case IntType():
                return signed(*align(a, b)) if z3.is_bv(a) else signed(a, b)
            case BitVecType(signed=s):
                return signed(a, b) if s else unsigned(a, b)
            case SortType() | EnumType():
                return unsigned(a, b)
            case BoolType():
                one, zero = z3.BitVecVal(1, 1, a.ctx), z3.BitVecVal(0, 1, a.ctx)
                return unsigned(z3.If(a, one, zero), z3.If(b, one, zero))
            case _:
                assert_never(t)

    return op


def _arith(f: Callable[[Z, Z], Z], grow: Callable[[int, int], int]) -> Callable[[Type, Z, Z], Z]:
    def op(t: Type, a: Z, b: Z) -> Z:
        if exact(t, a):
            a, b = align(a, b, grow(a.size(), b.size()))
        return f(a, b)

    return op


def _signed(
    signed: Callable[[Z, Z], Z], unsigned: Callable[[Z, Z], Z]
) -> Callable[[Type, Z, Z], Z]:
    return lambda t, a, b: (
        signed(a, b) if isinstance(t, BitVecType) and t.signed else unsigned(a, b)
    )


def _rem(t: Type, a: Z, b: Z) -> Z:
    """Truncating division's remainder, ``a % 0 == a`` (SMT-LIB's bvurem and bvsrem)."""
    if isinstance(t, BitVecType):
        return z3.SRem(a, b) if t.signed else z3.URem(a, b)
    if z3.is_bv(a):  # an exact int: signed, and never overflows at the common width
        return z3.SRem(*align(a, b))
    m = a % b  # Z3's int mod: 0 <= m < |b| (b != 0)
    trunc = z3.If(z3.Or(a >= 0, m == 0), m, m - z3.If(b >= 0, b, -b))
    return z3.If(b == 0, a, trunc)


# The solver terms of the operators (every other fact about them is in
# fusever/operators.py): (operand type, lhs, rhs) -> term.  Z3's ``<`` on bit-vectors is
# signed, so unsigned types use ULT/ULE/UGT/UGE.  Bit-vector arithmetic wraps; exact
# ints grow (one bit for + and -, the sum of the widths for *).
BINARY: dict[BinOp, Callable[[Type, Z, Z], Z]] = {
    BinOp.IMPLIES: lambda t, a, b: z3.Implies(a, b),
    BinOp.OR: lambda t, a, b: z3.Or(a, b),
    BinOp.AND: lambda t, a, b: z3.And(a, b),
    BinOp.EQ: _eq,
    BinOp.NE: lambda t, a, b: z3.Not(_eq(t, a, b)),
    BinOp.LT: _order(lambda a, b: a < b, z3.ULT),
    BinOp.LE: _order(lambda a, b: a <= b, z3.ULE),
    BinOp.GT: _order(lambda a, b: a > b, z3.UGT),
    BinOp.GE: _order(lambda a, b: a >= b, z3.UGE),
    BinOp.ADD: _arith(lambda a, b: a + b, lambda x, y: max(x, y) + 1),
    BinOp.SUB: _arith(lambda a, b: a - b, lambda x, y: max(x, y) + 1),
    BinOp.MUL: _arith(lambda a, b: a * b, lambda x, y: x + y),
    BinOp.MOD: _rem,
    BinOp.BAND: lambda t, a, b: a & b,
    BinOp.BOR: lambda t, a, b: a | b,
    BinOp.XOR: lambda t, a, b: a ^ b,
    BinOp.SHL: lambda t, a, b: a << b,
    BinOp.SHR: _signed(lambda a, b: a >> b, z3.LShR),
}


def _neg(t: Type, a: Z) -> Z:
    if exact(t, a):
        a = sext(a, a.size() + 1)
    return -a


UNARY: dict[UnOp, Callable[[Type, Z], Z]] = {
    UnOp.NOT: lambda t, a: z3.Not(a),
    UnOp.NEG: _neg,
    UnOp.BNOT: lambda t, a: ~a,
}
