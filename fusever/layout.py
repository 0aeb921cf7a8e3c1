"""The explicit engine's state: one slot per location, each value a small integer.

A state is a flat tuple of integers (:data:`S`), one slot per location (a variable,
or one cell of an indexed one; :class:`Layout` numbers them in declaration order, an
indexed variable's cells row by row); booleans, enum members and sort elements are
held as their positions, bit-vectors and integers as themselves (:func:`enc`,
:func:`dec`).  :func:`domain` says how many values a free location of a type has, or
None when too many to enumerate (a bit-vector wider than :data:`WIDEST` bits, an
integer): the explicit engine refuses a free start or a ``choose`` over those.
Nothing here refuses or prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import assert_never

from fusever.ts import (
    BitVecType,
    BoolType,
    EnumType,
    IntType,
    SortType,
    TransitionSystem,
    Type,
    Value,
    elements,
    keys,
)

__all__ = ["WIDEST", "Layout", "S", "dec", "domain", "enc", "signed"]

WIDEST = 8  # a free bit-vector location (initial value or choice) wider than this is refused

S = Sequence[int]


# ---- values ------------------------------------------------------------------------


def enc(t: Type, v: Value) -> int:
    match t:
        case BoolType():
            return int(bool(v))
        case EnumType(members=members):
            assert isinstance(v, str)
            return members.index(v)
        case BitVecType() | IntType() | SortType():
            assert isinstance(v, int) and not isinstance(v, bool)
            return v
        case _:
            assert_never(t)


def dec(t: Type, x: int) -> Value:
    match t:
        case BoolType():
            return bool(x)
        case EnumType(members=members):
            return members[x]
        case BitVecType() | IntType() | SortType():
            return int(x)
        case _:
            assert_never(t)


def domain(t: Type) -> int | None:
    """How many values a free location of ``t`` has; None when too many to enumerate."""
    match t:
        case BoolType():
            return 2
        case EnumType(members=members):
            return len(members)
        case SortType(size=size):
            return size
        case BitVecType(width=w):
            return 1 << w if w <= WIDEST else None
        case IntType():
            return None
        case _:
            assert_never(t)


def signed(w: int) -> Callable[[int], int]:
    """A ``w``-bit value read as two's complement."""
    half, full = 1 << (w - 1), 1 << w
    return lambda x: x - full if x >= half else x


# ---- the layout: one slot per location -----------------------------------------------


class Layout:
    """The slots of ``ts``'s locations: where each variable's cells start, their
    strides, and each slot's variable and index."""

    def __init__(self, ts: TransitionSystem) -> None:
        self.ts = ts
        self.base: dict[str, int] = {}
        self.strides: dict[str, tuple[int, ...]] = {}
        self.types: dict[str, Type] = {}
        self.slot_var: list[str] = []
        self.slot_key: list[tuple[Value, ...]] = []
        for v in ts.vars:
            self.base[v.name] = len(self.slot_var)
            sizes = [len(elements(t)) for t in v.index]
            strides: list[int] = []
            acc = 1
            for n in reversed(sizes):
                strides.append(acc)
                acc *= n
            self.strides[v.name] = tuple(reversed(strides))
            self.types[v.name] = v.type
            for k in keys(v.index):
                self.slot_var.append(v.name)
                self.slot_key.append(k)
        self.size = len(self.slot_var)

    def slots(self, name: str) -> range:
        n = 1
        for t in self.ts.var(name).index:
            n *= len(elements(t))
        return range(self.base[name], self.base[name] + n)

    def slot(self, name: str, key: Sequence[int]) -> int:
        return self.base[name] + sum(k * s for k, s in zip(key, self.strides[name], strict=True))

    def decode(self, state: S) -> dict[str, dict[tuple[Value, ...], Value]]:
        out: dict[str, dict[tuple[Value, ...], Value]] = {v.name: {} for v in self.ts.vars}
        for j, x in enumerate(state):
            name = self.slot_var[j]
            out[name][self.slot_key[j]] = dec(self.types[name], x)
        return out

    def name(self, j: int) -> str:
        k = self.slot_key[j]
        return f"{self.slot_var[j]}[{', '.join(map(str, k))}]" if k else self.slot_var[j]
