"""The operator table: every operator's facts in one place.

One row per operator (:data:`TABLE`): its arity and family, the types it takes and
gives (the checker's typing rule), its precedence and associativity (the grammar's
levels, read by every printer), its symbol, its concrete semantics on values (the
interpreter and the explicit engine) and on constants (the checker's folding).  The
solver terms are the one fact that cannot live here (only the encoder imports z3):
``encode.BINARY`` and ``encode.UNARY`` hold them, keyed by the same operators, and
tests check that every operator has a row in each and that the two agree on random
operands.

Semantics worth knowing (docs/language.md, "Expressions" and "Constants"):

- bit-vector arithmetic wraps; comparisons, ``%`` and ``>>`` are signed on ``i<W>``;
- ``a % b`` is the remainder of truncating division (its sign is ``a``'s), and
  ``a % 0`` is ``a`` (SMT-LIB's ``bvurem``/``bvsrem``; the same on ``int``);
- a shift by the width or more gives 0 (``>>`` on ``i<W>``: the sign, repeated);
  the shift amount is read unsigned;
- a constant expression is folded exactly, on mathematical integers, and the result
  must fit the type its context asks for (``pow2(N)`` is 2 to the N there).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, assert_never

from fusever.ts import BitVecType, BoolType, EnumType, IntType, SortType, Type, Value
from fusever.vocabulary import BinOp, UnOp

__all__ = [
    "ATOM_PRECEDENCE",
    "CONST_FUNCS",
    "OPERAND_PRECEDENCE",
    "TABLE",
    "Family",
    "FoldError",
    "Kind",
    "Operator",
    "kind",
    "normalize",
    "number",
]

Op = BinOp | UnOp
Kind = Literal["bool", "bv", "int", "sort", "enum"]
Const = int | bool  # a constant's value


class Family(enum.Enum):
    LOGICAL = "logical"  # bool operands, bool result
    EQUALITY = "equality"  # any operands of one type, bool result
    ORDER = "order"  # numbers or sort elements, bool result
    ARITH = "arithmetic"  # numbers, the operand type (wraps on bit-vectors)
    BITWISE = "bitwise"  # bit-vectors, the operand type
    SHIFT = "shift"  # bit-vectors, the operand type


class FoldError(ValueError):
    """A constant expression that has no value (the message says why)."""


# ---- values -------------------------------------------------------------------------


def normalize(t: Type, v: Value) -> Value:
    """``v`` as a value of ``t``: bit-vectors wrap to ``[0, 2**width)``."""
    match t:
        case BitVecType(width=w):
            assert isinstance(v, int) and not isinstance(v, bool), v
            return v % (1 << w)
        case IntType():
            assert isinstance(v, int) and not isinstance(v, bool), v
            return v
        case BoolType():
            assert isinstance(v, bool), v
            return v
        case SortType() | EnumType():
            return v
        case _:
            assert_never(t)


def number(t: Type, v: Value) -> int:
    """The number a comparison sees: signed bit-vectors in two's complement, enums by position."""
    match t:
        case BitVecType(width=w, signed=s):
            assert isinstance(v, int)
            return v - (1 << w) if s and v >= (1 << (w - 1)) else v
        case IntType() | SortType():
            assert isinstance(v, int)
            return v
        case EnumType(members=members):
            assert isinstance(v, str)
            return members.index(v)
        case BoolType():
            assert isinstance(v, bool)
            return int(v)
        case _:
            assert_never(t)


def kind(t: Type) -> Kind:
    match t:
        case BoolType():
            return "bool"
        case BitVecType():
            return "bv"
        case IntType():
            return "int"
        case SortType():
            return "sort"
        case EnumType():
            return "enum"
        case _:
            assert_never(t)


def remainder(a: int, b: int) -> int:
    """Truncating division's remainder (the sign of ``a``); ``a % 0`` is ``a``."""
    if b == 0:
        return a
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


# ---- concrete semantics ----------------------------------------------------------------

Concrete = Callable[[Type, Sequence[Value]], Value]
Fold = Callable[[Sequence[Const]], Const]

MAX_SHIFT = 1 << 16  # a constant shift or power beyond this is surely a mistake


def _ints(xs: Sequence[Value]) -> tuple[int, ...]:
    assert all(isinstance(x, int) and not isinstance(x, bool) for x in xs), xs
    return tuple(int(x) for x in xs)


def _bools(xs: Sequence[Value]) -> tuple[bool, ...]:
    assert all(isinstance(x, bool) for x in xs), xs
    return tuple(bool(x) for x in xs)


def _logical(f: Callable[[bool, bool], bool]) -> Concrete:
    return lambda t, xs: f(*_bools(xs))


def _order(f: Callable[[int, int], bool]) -> Concrete:
    return lambda t, xs: f(number(t, xs[0]), number(t, xs[1]))


def _arith(f: Callable[[int, int], int]) -> Concrete:
    """On the numbers (signed reading on ``i<W>``), wrapped back to the type."""
    return lambda t, xs: normalize(t, f(number(t, xs[0]), number(t, xs[1])))


def _bits(f: Callable[[int, int, int], int]) -> Concrete:
    """On the raw bits ``[0, 2**width)`` and the width."""

    def op(t: Type, xs: Sequence[Value]) -> Value:
        assert isinstance(t, BitVecType), t
        a, b = _ints(xs)
        return normalize(t, f(a, b, t.width))

    return op


def _shr(t: Type, xs: Sequence[Value]) -> Value:
    assert isinstance(t, BitVecType), t
    a, b = _ints(xs)
    if t.signed:
        return normalize(t, number(t, a) >> min(b, t.width))
    return a >> b if b < t.width else 0


def _not(t: Type, xs: Sequence[Value]) -> Value:
    (a,) = _bools(xs)
    return not a


def _neg(t: Type, xs: Sequence[Value]) -> Value:
    (a,) = _ints(xs)
    return normalize(t, -a)


def _bnot(t: Type, xs: Sequence[Value]) -> Value:
    assert isinstance(t, BitVecType), t
    (a,) = _ints(xs)
    return normalize(t, ~a)


# ---- constant folding (exact, on mathematical integers) --------------------------------


def _fold_shift(xs: Sequence[Const], left: bool) -> Const:
    a, b = int(xs[0]), int(xs[1])
    if b < 0:
        raise FoldError(f"a shift by a negative amount ({b})")
    if b > MAX_SHIFT:
        raise FoldError(f"a shift by {b} (at most {MAX_SHIFT})")
    return a << b if left else a >> b


def pow2(n: int) -> int:
    if n < 0:
        raise FoldError(f"`pow2` of a negative number ({n})")
    if n > MAX_SHIFT:
        raise FoldError(f"`pow2({n})` is too large (at most pow2({MAX_SHIFT}))")
    return 1 << n


# functions of constants only, folded by the checker: name -> semantics (one argument)
CONST_FUNCS: Mapping[str, Callable[[int], int]] = {"pow2": pow2}


# ---- the table ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operator:
    """Everything about one operator but its solver term (``encode.BINARY``/``UNARY``)."""

    op: Op
    family: Family
    # binding strength, one per grammar level (higher binds tighter); printers
    # parenthesize by it, and tests/test_operators.py checks the grammar agrees
    precedence: int
    assoc: Literal["left", "right", "none"]
    operands: frozenset[Kind]  # the types it takes (both operands of one type)
    needs: str  # those types in words: "`<op>` needs {needs}, found T"
    boolean: bool  # the result is bool (else: the operand type)
    concrete: Concrete  # (operand type, operand values) -> value
    # constant folding: (operand values) -> value, on int (or bool) constants; None
    # when the operator has no constant meaning (``fold_why`` says why)
    fold: Fold | None
    fold_kind: Literal["bool", "int", "any"]
    fold_why: str = ""
    # the likely slip of a spec author's pen, tried by `fusever mutate` (None: none tried)
    slip: BinOp | None = None

    @property
    def symbol(self) -> str:
        return str(self.op.value)

    @property
    def arity(self) -> int:
        return 1 if isinstance(self.op, UnOp) else 2


_BOOL = frozenset[Kind]({"bool"})
_NUM = frozenset[Kind]({"bv", "int"})
_BV = frozenset[Kind]({"bv"})
_ORD = frozenset[Kind]({"bv", "int", "sort"})
_ALL = frozenset[Kind]({"bool", "bv", "int", "sort", "enum"})
NUMBERS = "numbers (u<W>, i<W> or int)"
BITVECS = "bit-vectors (u<W> or i<W>)"

# grammar levels, loosest first: ==> || && ! comparisons | ^ & shifts + - * % unary
IMPLIES, OR, AND, NOT, CMP, BOR, XOR, BAND, SHIFT, SUM, PRODUCT, PREFIX = range(1, 13)


def _bin(
    op: BinOp, family: Family, prec: int, operands: frozenset[Kind], needs: str,
    concrete: Concrete, fold: Fold | None, *, assoc: Literal["left", "right", "none"] = "left",
    why: str = "", slip: BinOp | None = None,
) -> Operator:  # fmt: skip
    boolean = family in (Family.LOGICAL, Family.EQUALITY, Family.ORDER)
    fold_kind: Literal["bool", "int", "any"] = (
        "bool" if family is Family.LOGICAL else "any" if family is Family.EQUALITY else "int"
    )
    return Operator(
        op, family, prec, assoc, operands, needs, boolean, concrete, fold, fold_kind, why, slip
    )


def _un(op: UnOp, family: Family, prec: int, operands: frozenset[Kind], needs: str,
        concrete: Concrete, fold: Fold | None, why: str = "") -> Operator:  # fmt: skip
    boolean = family is Family.LOGICAL
    fold_kind: Literal["bool", "int", "any"] = "bool" if boolean else "int"
    return Operator(
        op, family, prec, "none", operands, needs, boolean, concrete, fold, fold_kind, why
    )


L, E, R, A, W, S = (
    Family.LOGICAL,
    Family.EQUALITY,
    Family.ORDER,
    Family.ARITH,
    Family.BITWISE,
    Family.SHIFT,
)
_XOR_WHY = "`^` is bitwise xor, not a power: write pow2(N) for 2 to the N"

TABLE: Mapping[Op, Operator] = {
    o.op: o
    for o in (
        _bin(BinOp.IMPLIES, L, IMPLIES, _BOOL, "bool operands", _logical(lambda a, b: (not a) or b),
             lambda xs: (not xs[0]) or xs[1], assoc="right"),
        _bin(BinOp.OR, L, OR, _BOOL, "bool operands", _logical(lambda a, b: a or b),
             lambda xs: xs[0] or xs[1]),
        _bin(BinOp.AND, L, AND, _BOOL, "bool operands", _logical(lambda a, b: a and b),
             lambda xs: xs[0] and xs[1]),
        _bin(BinOp.EQ, E, CMP, _ALL, "operands of one type", lambda t, xs: xs[0] == xs[1],
             lambda xs: xs[0] == xs[1], assoc="none", slip=BinOp.NE),
        _bin(BinOp.NE, E, CMP, _ALL, "operands of one type", lambda t, xs: xs[0] != xs[1],
             lambda xs: xs[0] != xs[1], assoc="none", slip=BinOp.EQ),
        _bin(BinOp.LT, R, CMP, _ORD, "numbers or sort elements", _order(lambda a, b: a < b),
             lambda xs: xs[0] < xs[1], assoc="none", slip=BinOp.LE),
        _bin(BinOp.LE, R, CMP, _ORD, "numbers or sort elements", _order(lambda a, b: a <= b),
             lambda xs: xs[0] <= xs[1], assoc="none", slip=BinOp.LT),
        _bin(BinOp.GT, R, CMP, _ORD, "numbers or sort elements", _order(lambda a, b: a > b),
             lambda xs: xs[0] > xs[1], assoc="none", slip=BinOp.GE),
        _bin(BinOp.GE, R, CMP, _ORD, "numbers or sort elements", _order(lambda a, b: a >= b),
             lambda xs: xs[0] >= xs[1], assoc="none", slip=BinOp.GT),
        _bin(BinOp.BOR, W, BOR, _BV, BITVECS, _bits(lambda a, b, w: a | b),
             lambda xs: int(xs[0]) | int(xs[1]), slip=BinOp.BAND),
        _bin(BinOp.XOR, W, XOR, _BV, BITVECS, _bits(lambda a, b, w: a ^ b), None, why=_XOR_WHY),
        _bin(BinOp.BAND, W, BAND, _BV, BITVECS, _bits(lambda a, b, w: a & b),
             lambda xs: int(xs[0]) & int(xs[1]), slip=BinOp.BOR),
        _bin(BinOp.SHL, S, SHIFT, _BV, BITVECS, _bits(lambda a, b, w: a << b if b < w else 0),
             lambda xs: _fold_shift(xs, True), slip=BinOp.SHR),
        _bin(BinOp.SHR, S, SHIFT, _BV, BITVECS, _shr, lambda xs: _fold_shift(xs, False), slip=BinOp.SHL),
        _bin(BinOp.ADD, A, SUM, _NUM, NUMBERS, _arith(lambda a, b: a + b),
             lambda xs: int(xs[0]) + int(xs[1])),
        _bin(BinOp.SUB, A, SUM, _NUM, NUMBERS, _arith(lambda a, b: a - b),
             lambda xs: int(xs[0]) - int(xs[1])),
        _bin(BinOp.MUL, A, PRODUCT, _NUM, NUMBERS, _arith(lambda a, b: a * b),
             lambda xs: int(xs[0]) * int(xs[1])),
        _bin(BinOp.MOD, A, PRODUCT, _NUM, NUMBERS, _arith(remainder),
             lambda xs: remainder(int(xs[0]), int(xs[1]))),
        _un(UnOp.NOT, L, NOT, _BOOL, "a bool", _not, lambda xs: not xs[0]),
        _un(UnOp.NEG, A, PREFIX, _NUM, "a number (u<W>, i<W> or int)", _neg, lambda xs: -int(xs[0])),
        _un(UnOp.BNOT, W, PREFIX, _BV, "a bit-vector (u<W> or i<W>)", _bnot, None,
            "`~` needs a bit-vector, and a constant is an int: use it where a u<W> or i<W> is expected"),
    )
}  # fmt: skip

# a prefix operator's operand, as printed, binds at least this tightly (parenthesized otherwise)
OPERAND_PRECEDENCE = PREFIX
ATOM_PRECEDENCE = PREFIX + 1  # names, literals, calls, parenthesized expressions

assert set(TABLE) == set(BinOp) | set(UnOp), "every operator has a row"
