"""Transition-system expressions and statements compiled to closures over slot tuples.

The explicit engine's successor function is made of these: each action instance
(enumerated parameters fixed) is compiled into closures over a state held as a flat
tuple of small integers (:mod:`fusever.layout`), with the constants folded, the
quantifiers and ``for all`` loops unrolled, and the locations that keep their initial
value on every run read as constants.  No spec text is evaluated.  An expression
compiles to a :data:`Node`: a folded constant, or a function of the pre- and
post-state; a statement to :data:`Exec` closures that update a state in place, raising
:class:`Blocked` where an ``assume`` does not hold.  Operators have the semantics of
the one operator table (:mod:`fusever.operators`), as in :mod:`fusever.interpret`.

In a ghost integer group kept as its order (:mod:`fusever.ghosts`), an increment is
compiled with its check: it raises :class:`OrderBroken` when it is not applied to the
group's largest value.  Nothing is refused here (the callers refuse with
:class:`Unsupported`), and nothing prints.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import assert_never

from fusever import interpret
from fusever.ghosts import Order
from fusever.layout import Layout, S, enc, signed
from fusever.operators import TABLE as OPERATORS
from fusever.ts import (
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    Cast,
    Expr,
    ForAll,
    If,
    IntType,
    Ite,
    Lit,
    Local,
    Quant,
    Quantifier,
    Stmt,
    Type,
    Unary,
    UnOp,
    Var,
    elements,
)

__all__ = [
    "Blocked",
    "Compiler",
    "Exec",
    "Fn",
    "Node",
    "OrderBroken",
    "Unsupported",
    "binary_fn",
    "cast",
    "first_eq",
    "junction",
    "lift",
    "seq",
    "unary",
]

Fn = Callable[[S, S], int]
Node = int | Fn  # a folded constant, or a function of (pre, post)
Exec = Callable[[list[int]], None]


class Unsupported(Exception):
    """The configuration cannot be searched explicitly (the message says why)."""


class Blocked(Exception):
    """An ``assume`` in an action's body does not hold: the step is not enabled."""


class OrderBroken(Exception):
    """An increment of a ghost integer that is not its group's largest value."""

    def __init__(self, group: int) -> None:
        super().__init__(group)
        self.group = group


# ---- expressions to closures -----------------------------------------------------------


def _not(a: Node) -> Node:
    if isinstance(a, int):
        return int(not a)
    r = _SLOTS.get(a)
    if r is not None:
        j = r[0]
        return (lambda s, t: not t[j]) if r[1] else (lambda s, t: not s[j])
    fa = a
    return lambda s, t: not fa(s, t)


def lift(n: Node) -> Fn:
    if isinstance(n, int):
        c = n
        return lambda s, t: c
    return n


# What the compiler knows of the closures it made, read while compiling only; weak, so
# a compiled system's closures go with it.  A conjunction (True) or disjunction's parts:
_PARTS: weakref.WeakKeyDictionary[Fn, tuple[bool, tuple[Fn, ...]]] = weakref.WeakKeyDictionary()


def junction(conj: bool, nodes: Sequence[Node]) -> Node:
    """``all`` (``conj``) or ``any`` of ``nodes``, left to right, constants folded and
    nested junctions of the same kind spliced in, so one call runs the whole chain."""
    fs: list[Fn] = []
    for n in nodes:
        if isinstance(n, int):
            if bool(n) != conj:
                return int(not conj)
            continue
        got = _PARTS.get(n)
        if got is not None and got[0] == conj:
            fs.extend(got[1])
        else:
            fs.append(n)
    if not fs:
        return int(conj)
    if len(fs) == 1:
        return fs[0]
    f: Fn
    if conj:
        if len(fs) == 2:
            a, b = fs
            f = lambda s, t: a(s, t) and b(s, t)  # noqa: E731
        elif len(fs) == 3:
            a, b, c = fs
            f = lambda s, t: a(s, t) and b(s, t) and c(s, t)  # noqa: E731
        else:
            items = tuple(fs)

            def f(s: S, t: S) -> int:
                for g in items:  # noqa: SIM110 (a plain loop: no generator per call)
                    if not g(s, t):
                        return False
                return True
    else:
        if len(fs) == 2:
            a, b = fs
            f = lambda s, t: a(s, t) or b(s, t)  # noqa: E731
        elif len(fs) == 3:
            a, b, c = fs
            f = lambda s, t: a(s, t) or b(s, t) or c(s, t)  # noqa: E731
        else:
            items = tuple(fs)

            def f(s: S, t: S) -> int:
                for g in items:  # noqa: SIM110 (a plain loop: no generator per call)
                    if g(s, t):
                        return True
                return False

    _PARTS[f] = (conj, tuple(fs))
    return f


# a plain read of one location: (slot, primed)
_SLOTS: weakref.WeakKeyDictionary[Fn, tuple[int, bool]] = weakref.WeakKeyDictionary()
# a test ``location == constant`` (pre-state): (slot, value)
_EQS: weakref.WeakKeyDictionary[Fn, tuple[int, int]] = weakref.WeakKeyDictionary()

_FUSED = {
    BinOp.EQ: (lambda j, c: lambda s, t: s[j] == c, lambda i, j: lambda s, t: s[i] == s[j]),
    BinOp.NE: (lambda j, c: lambda s, t: s[j] != c, lambda i, j: lambda s, t: s[i] != s[j]),
    BinOp.LT: (lambda j, c: lambda s, t: s[j] < c, lambda i, j: lambda s, t: s[i] < s[j]),
    BinOp.LE: (lambda j, c: lambda s, t: s[j] <= c, lambda i, j: lambda s, t: s[i] <= s[j]),
    BinOp.GT: (lambda j, c: lambda s, t: s[j] > c, lambda i, j: lambda s, t: s[i] > s[j]),
    BinOp.GE: (lambda j, c: lambda s, t: s[j] >= c, lambda i, j: lambda s, t: s[i] >= s[j]),
}
_FUSED_POST = {
    BinOp.EQ: (lambda j, c: lambda s, t: t[j] == c, lambda i, j: lambda s, t: t[i] == t[j]),
    BinOp.NE: (lambda j, c: lambda s, t: t[j] != c, lambda i, j: lambda s, t: t[i] != t[j]),
    BinOp.LT: (lambda j, c: lambda s, t: t[j] < c, lambda i, j: lambda s, t: t[i] < t[j]),
    BinOp.LE: (lambda j, c: lambda s, t: t[j] <= c, lambda i, j: lambda s, t: t[i] <= t[j]),
    BinOp.GT: (lambda j, c: lambda s, t: t[j] > c, lambda i, j: lambda s, t: t[i] > t[j]),
    BinOp.GE: (lambda j, c: lambda s, t: t[j] >= c, lambda i, j: lambda s, t: t[i] >= t[j]),
}
_FLIP = {BinOp.EQ: BinOp.EQ, BinOp.NE: BinOp.NE, BinOp.LT: BinOp.GT, BinOp.LE: BinOp.GE,
         BinOp.GT: BinOp.LT, BinOp.GE: BinOp.LE}  # fmt: skip


def _fused(op: BinOp, ty: Type, a: Node, b: Node) -> Node | None:
    """A comparison of plain reads and constants as one closure, or None."""
    if op not in _FLIP or (isinstance(ty, BitVecType) and ty.signed):
        return None
    ra = None if isinstance(a, int) else _SLOTS.get(a)
    rb = None if isinstance(b, int) else _SLOTS.get(b)
    if ra is None and rb is not None and isinstance(a, int):
        return _fused(_FLIP[op], ty, b, a)
    if ra is None:
        return None
    table = _FUSED_POST if ra[1] else _FUSED
    if isinstance(b, int):
        f = table[op][0](ra[0], b)
        if op is BinOp.EQ and not ra[1]:
            _EQS[f] = (ra[0], b)
        return f
    if rb is not None and rb[1] == ra[1]:
        return table[op][1](ra[0], rb[0])
    return None


def _binop(op: BinOp, ty: Type, a: Node, b: Node) -> Node:
    """``a op b`` on operands of type ``ty``; the same table as interpret.BINARY."""
    if op is BinOp.AND:
        return junction(True, (a, b))
    if op is BinOp.OR:
        return junction(False, (a, b))
    if op is BinOp.IMPLIES:
        return junction(False, (_not(a), b))
    fused = _fused(op, ty, a, b)
    if fused is not None:
        return fused
    f = binary_fn(op, ty)
    if isinstance(a, int) and isinstance(b, int):
        return int(f(a, b))
    # the common shapes without the generic indirection
    if op is BinOp.EQ:
        if isinstance(b, int) and not isinstance(a, int):
            fa, cb = a, b
            return lambda s, t: fa(s, t) == cb
        if isinstance(a, int) and not isinstance(b, int):
            ca, fb = a, b
            return lambda s, t: ca == fb(s, t)
        fa2, fb2 = lift(a), lift(b)
        return lambda s, t: fa2(s, t) == fb2(s, t)
    if op is BinOp.NE:
        if isinstance(b, int) and not isinstance(a, int):
            fa, cb = a, b
            return lambda s, t: fa(s, t) != cb
        fa2, fb2 = lift(a), lift(b)
        return lambda s, t: fa2(s, t) != fb2(s, t)
    la, lb, ff = lift(a), lift(b), f
    return lambda s, t: ff(la(s, t), lb(s, t))


def binary_fn(op: BinOp, ty: Type) -> Callable[[int, int], int]:
    """``op`` on two values of type ``ty`` (not ``&&``, ``||`` or ``==>``): signed
    bit-vectors compared as signed, ``+ - *`` wrapped to a bit-vector's width, the rest
    by the operator table's semantics."""
    f: Callable[[int, int], int]
    conv: Callable[[int], int] | None = None
    if isinstance(ty, BitVecType) and ty.signed:
        conv = signed(ty.width)
    mask = (1 << ty.width) - 1 if isinstance(ty, BitVecType) else None
    match op:
        case BinOp.EQ:
            f = lambda x, y: x == y  # noqa: E731
            conv = None
        case BinOp.NE:
            f = lambda x, y: x != y  # noqa: E731
            conv = None
        case BinOp.LT:
            f = lambda x, y: x < y  # noqa: E731
        case BinOp.LE:
            f = lambda x, y: x <= y  # noqa: E731
        case BinOp.GT:
            f = lambda x, y: x > y  # noqa: E731
        case BinOp.GE:
            f = lambda x, y: x >= y  # noqa: E731
        case BinOp.ADD | BinOp.SUB | BinOp.MUL:
            conv = None
            if op is BinOp.ADD:
                g: Callable[[int, int], int] = lambda x, y: x + y  # noqa: E731
            elif op is BinOp.SUB:
                g = lambda x, y: x - y  # noqa: E731
            else:
                g = lambda x, y: x * y  # noqa: E731
            if mask is not None:
                m = mask
                f = lambda x, y: g(x, y) & m  # noqa: E731
            else:
                f = g
        case _:  # %, bitwise, shifts: the operator table's semantics (values are the interpreter's)
            conv = None
            conc, t0 = OPERATORS[op].concrete, ty
            f = lambda x, y: int(conc(t0, (x, y)))  # noqa: E731
    if conv is not None:
        c, f0 = conv, f
        f = lambda x, y: f0(c(x), c(y))  # noqa: E731
    return f


class Compiler:
    """Transition-system expressions and statements to closures over slot tuples."""

    def __init__(
        self, layout: Layout, order: Order | None = None, fixed: Mapping[int, int] | None = None
    ) -> None:
        self.layout = layout
        # locations that keep their initial value on every run: read as constants
        self.fixed: Mapping[int, int] = {} if fixed is None else fixed
        # the ghost order: normalised group of each ghost int variable
        self.groups: dict[str, int] = {} if order is None else order.group_of
        self.order = order

    def tick(
        self, g: int, where: int | Callable[[S], int], value: Binary, env: Mapping[str, int]
    ) -> Exec:
        """``x := y + k`` in a normalised group: only order-preserving when ``y`` is the
        group's largest value and at least its largest constant (checked here)."""
        assert self.order is not None
        lhs, rhs = self.expr(value.lhs, env), self.expr(value.rhs, env)
        if isinstance(lhs, int):
            lhs, rhs = rhs, lhs
        assert isinstance(rhs, int) and not isinstance(lhs, int), "checked by ghosts.int_groups"
        fy, k = lhs, rhs
        cmax = self.order.cmax[g]
        live = self.order.slots[g]
        biggest = _max_of(live)
        if isinstance(where, int):
            j = where

            def tick_at(m: list[int]) -> None:
                y = fy(m, m)
                if y < cmax or biggest(m) > y:
                    raise OrderBroken(g)
                m[j] = y + k

            return tick_at
        fw = where

        def tick_dyn(m: list[int]) -> None:
            y = fy(m, m)
            if y < cmax or biggest(m) > y:
                raise OrderBroken(g)
            m[fw(m)] = y + k

        return tick_dyn

    def expr(self, e: Expr, env: Mapping[str, int]) -> Node:
        match e:
            case Lit(value=v, type=t):
                return enc(t, interpret.normalize(t, v))
            case Local(name=name):
                return env[name]
            case Var(name=name, args=args, primed=primed):
                return self.read(name, tuple(self.expr(a, env) for a in args), primed)
            case Unary(op=op, arg=a):
                return unary(op, e.type, self.expr(a, env))
            case Binary(op=op, lhs=lhs, rhs=rhs):
                return _binop(op, lhs.type, self.expr(lhs, env), self.expr(rhs, env))
            case Ite(cond=c, then=th, else_=el):
                cc = self.expr(c, env)
                if isinstance(cc, int):
                    return self.expr(th if cc else el, env)
                fc, ft, fe = cc, lift(self.expr(th, env)), lift(self.expr(el, env))
                return lambda s, t: ft(s, t) if fc(s, t) else fe(s, t)
            case Quant(quantifier=q, var=x, sort=sort, body=body):
                parts = [self.expr(body, {**env, x: enc(sort, v)}) for v in elements(sort)]
                return junction(q is Quantifier.FORALL, parts)
            case Cast(arg=a, type=dst):
                return cast(a.type, dst, self.expr(a, env))
            case _:
                assert_never(e)

    def read(self, name: str, args: tuple[Node, ...], primed: bool) -> Node:
        lay = self.layout
        if all(isinstance(a, int) for a in args):
            j = lay.slot(name, [a for a in args if isinstance(a, int)])
            if j in self.fixed:
                return self.fixed[j]
            f: Fn = (lambda s, t: t[j]) if primed else (lambda s, t: s[j])
            _SLOTS[f] = (j, primed)
            return f
        base, strides = lay.base[name], lay.strides[name]
        fs = [lift(a) for a in args]
        if len(fs) == 1:
            f0, st0 = fs[0], strides[0]
            if primed:
                return lambda s, t: t[base + f0(s, t) * st0]
            return lambda s, t: s[base + f0(s, t) * st0]
        pairs = tuple(zip(fs, strides, strict=True))

        def index(s: S, t: S) -> int:
            return base + sum(f(s, t) * k for f, k in pairs)

        if primed:
            return lambda s, t: t[index(s, t)]
        return lambda s, t: s[index(s, t)]

    def target(self, name: str, args: tuple[Node, ...]) -> int | Callable[[S], int]:
        lay = self.layout
        if all(isinstance(a, int) for a in args):
            return lay.slot(name, [a for a in args if isinstance(a, int)])
        base, strides = lay.base[name], lay.strides[name]
        pairs = tuple(zip((lift(a) for a in args), strides, strict=True))
        return lambda m: base + sum(f(m, m) * k for f, k in pairs)

    def stmts(self, body: Sequence[Stmt], env: Mapping[str, int], init: bool = False) -> list[Exec]:
        out: list[Exec] = []
        for st in body:
            out.extend(self.stmt(st, env, init))
        return out

    def stmt(self, st: Stmt, env: Mapping[str, int], init: bool) -> list[Exec]:
        match st:
            case Assign():
                return self.assign(st, env, init)
            case If(cond=c, then=th, else_=el):
                cc = self.expr(c, env)
                if isinstance(cc, int):
                    return self.stmts(th if cc else el, env, init)
                fc, run_t, run_e = (
                    cc,
                    seq(self.stmts(th, env, init)),
                    seq(self.stmts(el, env, init)),
                )

                def branch(m: list[int]) -> None:
                    (run_t if fc(m, m) else run_e)(m)

                return [branch]
            case ForAll(var=x, sort=sort, where=wh, body=b):
                out: list[Exec] = []
                for v in elements(sort):
                    inner = {**env, x: enc(sort, v)}
                    run = seq(self.stmts(b, inner, init))
                    cond = 1 if wh is None else self.expr(wh, inner)
                    if isinstance(cond, int):
                        if cond:
                            out.append(run)
                        continue
                    out.append(_when(cond, run))
                return out
            case Assume(cond=c):
                return _assume(self.expr(c, env))
            case _:
                assert_never(st)

    def assign(self, st: Assign, env: Mapping[str, int], init: bool) -> list[Exec]:
        name, value = st.name, st.value
        if value is None:
            return []  # `any`: the location keeps its (free) value
        where = self.target(name, tuple(self.expr(a, env) for a in st.args))
        g = self.groups.get(name)
        if not init and g is not None and isinstance(value, Binary) and value.op is BinOp.ADD:
            return [self.tick(g, where, value, env)]
        rhs = self.expr(value, env)
        if isinstance(where, int):
            j = where
            if isinstance(rhs, int):
                c = rhs
                return [lambda m: m.__setitem__(j, c)]
            fr = rhs
            return [lambda m: m.__setitem__(j, fr(m, m))]
        fw, fr2 = where, lift(rhs)

        def put(m: list[int]) -> None:
            m[fw(m)] = fr2(m, m)

        return [put]


def unary(op: UnOp, ty: Type, x: Node) -> Node:
    """``op x``, ``x`` of (and the result of) type ``ty``."""
    match op:
        case UnOp.NOT:
            return _not(x)
        case UnOp.NEG:
            if isinstance(ty, BitVecType):
                mask = (1 << ty.width) - 1
                if isinstance(x, int):
                    return -x & mask
                fx = x
                return lambda s, t: -fx(s, t) & mask
            if isinstance(x, int):
                return -x
            fy = x
            return lambda s, t: -fy(s, t)
        case UnOp.BNOT:
            assert isinstance(ty, BitVecType)
            full = (1 << ty.width) - 1
            if isinstance(x, int):
                return x ^ full
            fz = x
            return lambda s, t: fz(s, t) ^ full
        case _:
            assert_never(op)


def cast(src: Type, dst: Type, x: Node) -> Node:
    """``x`` of type ``src`` as a ``dst``."""
    conv: Callable[[int], int]
    if isinstance(dst, BitVecType):
        mask = (1 << dst.width) - 1
        if isinstance(src, BitVecType) and src.signed:
            sg = signed(src.width)
            conv = lambda v: sg(v) & mask  # noqa: E731
        else:
            conv = lambda v: v & mask  # noqa: E731
    elif isinstance(dst, IntType) and isinstance(src, BitVecType) and src.signed:
        conv = signed(src.width)
    else:
        return x
    if isinstance(x, int):
        return conv(x)
    fz = x
    return lambda s, t: conv(fz(s, t))


def _assume(cond: Node) -> list[Exec]:
    """``assume cond``: nothing when it folds to true; else raise :class:`Blocked`
    where it does not hold."""
    if isinstance(cond, int):
        if cond:
            return []
        return [_blocked]
    fc = cond

    def check(m: list[int]) -> None:
        if not fc(m, m):
            raise Blocked()

    return [check]


def _blocked(m: list[int]) -> None:
    raise Blocked()


def _when(cond: Fn, run: Exec) -> Exec:
    def go(m: list[int]) -> None:
        if cond(m, m):
            run(m)

    return go


def seq(fs: Sequence[Exec]) -> Exec:
    if not fs:
        return lambda m: None
    if len(fs) == 1:
        return fs[0]
    if len(fs) == 2:
        a, b = fs

        def two(m: list[int]) -> None:
            a(m)
            b(m)

        return two
    items = tuple(fs)

    def many(m: list[int]) -> None:
        for f in items:
            f(m)

    return many


def _max_of(slots: Sequence[int]) -> Callable[[S], int]:
    if not slots:
        return lambda m: -(1 << 62)
    if len(slots) == 1:
        j = slots[0]
        return lambda m: m[j]
    get = itemgetter(*slots)
    return lambda m: max(get(m))


def first_eq(g: Node) -> tuple[int, int] | None:
    """The test ``location == constant`` (pre-state) that guard ``g`` is, or that is
    the first of its conjuncts to be one, as (slot, value); None if there is none."""
    if isinstance(g, int):
        return None
    if g in _EQS:
        return _EQS[g]
    got = _PARTS.get(g)
    if got is not None and got[0]:
        for f in got[1]:
            if f in _EQS:
                return _EQS[f]
    return None
