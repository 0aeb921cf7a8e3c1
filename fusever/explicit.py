"""Explicit-state model checking: breadth-first over the reachable states.

For a configuration whose initial states can be enumerated (every free initial
location of a finite type or a narrow bit-vector), :func:`run` visits the reachable
states level by level and checks every selected invariant, transition property and
cover goal of the configuration in that single pass.  A goal first failing (or
covered) at level ``n`` has no shorter trace: the trace returned is a shortest one,
and it is replayed through :mod:`fusever.interpret` before it is returned.  When the
reachable set is exhausted, whatever still holds is ``proved (all depths)``: the
state count is the certificate.

The successor function is built once from the transition system: each action
instance (enumerated parameters fixed) is compiled into closures over a state held as
a flat tuple of small integers (one slot per location; booleans, enum members and
sort elements as their positions), with the constants folded, the quantifiers and
``for all`` loops unrolled and the instances whose guard folds to false dropped.  No
spec text is evaluated.

Two reductions keep the state space the size of the problem, not of its history;
each maps a state to a canonical one that every later guard, assignment and property
sees alike, so the reduced search reaches the same verdicts at the same depths:

- **liveness**: a location that no guard, assignment, ``for all`` condition or
  selected property can ever read is reset to a canonical value (SPIN's zeroing of
  dead locals, in its static form: here the free initial choices that nothing reads,
  the writers' state when writes are serialized, ...).  A location is also dead in a
  state where every read of it is behind a guard on a *control* location (a finite
  location, e.g. a program counter) whose value, from the current one, cannot reach a
  reading value without passing an action that overwrites the location first (the
  worker's ``pass_began`` outside its walked phase, say).  See :func:`_liveness`.
- **ghost order**: ghost integers (timestamps from a ghost clock) are kept only as
  their relative order.  :func:`_int_classes` checks on the transition system that
  each group of ghost integers that meet in a comparison or an assignment is only
  compared with itself and constants, copied, or incremented by a positive constant;
  such a group's values above its largest constant are then replaced by their ranks.
  The increment is only order-preserving when it is applied to the group's largest
  value (a clock); that is checked on every step taken, and the first step where it
  does not hold restarts the search without normalising that group.  A group that
  does any other arithmetic is never normalised.

What the engine refuses (an ``unknown`` result that says why): a free initial value
of a wide type (a 64-bit counter's free start, a free ghost integer), a ``choose`` of
such a type, too many initial states; past the state limit or the deadline, every
open goal is ``unknown``.

References: Holzmann, "The SPIN Model Checker", ch. on state compression and dead
variable reduction; Clarke, Grumberg, Peled, "Model Checking", ch. 2 (explicit-state
search).
"""

from __future__ import annotations

import itertools
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import assert_never

from fusever import interpret
from fusever.operators import TABLE as OPERATORS
from fusever.ts import (
    Action,
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    BoolType,
    Cast,
    EnumType,
    Expr,
    ForAll,
    If,
    IntType,
    Ite,
    Lit,
    Local,
    Property,
    PropKind,
    Quant,
    Quantifier,
    SortType,
    Step,
    Stmt,
    Trace,
    TransitionSystem,
    Type,
    Unary,
    UnOp,
    Value,
    Var,
    elements,
    instances,
    is_finite,
    keys,
    walk,
)
from fusever.verdict import Options, Progress, Result, Verdict

__all__ = [
    "DEFAULT_STATE_LIMIT",
    "ENGINE",
    "ExplicitBug",
    "ExplicitOutcome",
    "Unsupported",
    "compile_system",
    "run",
]

ENGINE = "explicit"
DEFAULT_STATE_LIMIT = 2_000_000
WIDEST = 8  # a free bit-vector location (initial value or choice) wider than this is refused
INIT_LIMIT = 1_000_000  # candidate initial states enumerated at most
CHECK_EVERY = 512  # states between two looks at the clock

S = Sequence[int]
Fn = Callable[[S, S], int]
Node = int | Fn  # a folded constant, or a function of (pre, post)
Exec = Callable[[list[int]], None]


class ExplicitBug(Exception):
    """A trace the interpreter does not replay: a bug in this engine, never a finding."""


class Unsupported(Exception):
    """The configuration cannot be searched explicitly (the message says why)."""


class _Blocked(Exception):
    """An ``assume`` in an action's body does not hold: the step is not enabled."""


class _Restart(Exception):
    """Goals settled, and without them more locations are dead: search again."""

    def __init__(self, results: dict[str, Result], states: int) -> None:
        super().__init__(len(results))
        self.results = results
        self.states = states


class _OrderBroken(Exception):
    """An increment of a ghost integer that is not its group's largest value."""

    def __init__(self, group: int) -> None:
        super().__init__(group)
        self.group = group


@dataclass(frozen=True, slots=True)
class ExplicitOutcome:
    results: tuple[Result, ...]
    states: int  # distinct (canonical) states visited
    transitions: int  # steps taken from them
    levels: int  # breadth-first levels completed (the longest shortest path)
    seconds: float
    exhausted: bool  # the reachable set was exhausted
    reductions: tuple[str, ...]  # what was reduced, in words
    visited: int = 0  # states visited by every search (restarts included)


# ---- values ------------------------------------------------------------------------


def _enc(t: Type, v: Value) -> int:
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


def _dec(t: Type, x: int) -> Value:
    match t:
        case BoolType():
            return bool(x)
        case EnumType(members=members):
            return members[x]
        case BitVecType() | IntType() | SortType():
            return int(x)
        case _:
            assert_never(t)


def _domain(t: Type) -> int | None:
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


def _signed(w: int) -> Callable[[int], int]:
    half, full = 1 << (w - 1), 1 << w
    return lambda x: x - full if x >= half else x


# ---- the layout: one slot per location -----------------------------------------------


class _Layout:
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
            out[name][self.slot_key[j]] = _dec(self.types[name], x)
        return out

    def name(self, j: int) -> str:
        k = self.slot_key[j]
        return f"{self.slot_var[j]}[{', '.join(map(str, k))}]" if k else self.slot_var[j]


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


def _lift(n: Node) -> Fn:
    if isinstance(n, int):
        c = n
        return lambda s, t: c
    return n


# What the compiler knows of the closures it made, read while compiling only; weak, so
# a compiled system's closures go with it.  A conjunction (True) or disjunction's parts:
_PARTS: weakref.WeakKeyDictionary[Fn, tuple[bool, tuple[Fn, ...]]] = weakref.WeakKeyDictionary()


def _junction(conj: bool, nodes: Sequence[Node]) -> Node:
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
        return _junction(True, (a, b))
    if op is BinOp.OR:
        return _junction(False, (a, b))
    if op is BinOp.IMPLIES:
        return _junction(False, (_not(a), b))
    fused = _fused(op, ty, a, b)
    if fused is not None:
        return fused
    f: Callable[[int, int], int]
    conv: Callable[[int], int] | None = None
    if isinstance(ty, BitVecType) and ty.signed:
        conv = _signed(ty.width)
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
        fa2, fb2 = _lift(a), _lift(b)
        return lambda s, t: fa2(s, t) == fb2(s, t)
    if op is BinOp.NE:
        if isinstance(b, int) and not isinstance(a, int):
            fa, cb = a, b
            return lambda s, t: fa(s, t) != cb
        fa2, fb2 = _lift(a), _lift(b)
        return lambda s, t: fa2(s, t) != fb2(s, t)
    la, lb, ff = _lift(a), _lift(b), f
    return lambda s, t: ff(la(s, t), lb(s, t))


class _Compiler:
    """Transition-system expressions and statements to closures over slot tuples."""

    def __init__(
        self, layout: _Layout, order: _Order | None = None, fixed: Mapping[int, int] | None = None
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
        assert isinstance(rhs, int) and not isinstance(lhs, int), "checked by _int_groups"
        fy, k = lhs, rhs
        cmax = self.order.cmax[g]
        live = self.order.slots[g]
        biggest = _max_of(live)
        if isinstance(where, int):
            j = where

            def tick_at(m: list[int]) -> None:
                y = fy(m, m)
                if y < cmax or biggest(m) > y:
                    raise _OrderBroken(g)
                m[j] = y + k

            return tick_at
        fw = where

        def tick_dyn(m: list[int]) -> None:
            y = fy(m, m)
            if y < cmax or biggest(m) > y:
                raise _OrderBroken(g)
            m[fw(m)] = y + k

        return tick_dyn

    def expr(self, e: Expr, env: Mapping[str, int]) -> Node:
        match e:
            case Lit(value=v, type=t):
                return _enc(t, interpret.normalize(t, v))
            case Local(name=name):
                return env[name]
            case Var(name=name, args=args, primed=primed):
                return self.read(name, tuple(self.expr(a, env) for a in args), primed)
            case Unary(op=op, arg=a):
                x = self.expr(a, env)
                match op:
                    case UnOp.NOT:
                        return _not(x)
                    case UnOp.NEG:
                        ty = e.type
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
                        assert isinstance(e.type, BitVecType)
                        full = (1 << e.type.width) - 1
                        if isinstance(x, int):
                            return x ^ full
                        fz = x
                        return lambda s, t: fz(s, t) ^ full
                    case _:
                        assert_never(op)
            case Binary(op=op, lhs=lhs, rhs=rhs):
                return _binop(op, lhs.type, self.expr(lhs, env), self.expr(rhs, env))
            case Ite(cond=c, then=th, else_=el):
                cc = self.expr(c, env)
                if isinstance(cc, int):
                    return self.expr(th if cc else el, env)
                fc, ft, fe = cc, _lift(self.expr(th, env)), _lift(self.expr(el, env))
                return lambda s, t: ft(s, t) if fc(s, t) else fe(s, t)
            case Quant(quantifier=q, var=x, sort=sort, body=body):
                parts = [self.expr(body, {**env, x: _enc(sort, v)}) for v in elements(sort)]
                return _junction(q is Quantifier.FORALL, parts)
            case Cast(arg=a, type=dst):
                x = self.expr(a, env)
                src = a.type
                conv: Callable[[int], int]
                if isinstance(dst, BitVecType):
                    mask = (1 << dst.width) - 1
                    if isinstance(src, BitVecType) and src.signed:
                        sg = _signed(src.width)
                        conv = lambda v: sg(v) & mask  # noqa: E731
                    else:
                        conv = lambda v: v & mask  # noqa: E731
                elif isinstance(dst, IntType) and isinstance(src, BitVecType) and src.signed:
                    conv = _signed(src.width)
                else:
                    return x
                if isinstance(x, int):
                    return conv(x)
                fz = x
                return lambda s, t: conv(fz(s, t))
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
        fs = [_lift(a) for a in args]
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
        pairs = tuple(zip((_lift(a) for a in args), strides, strict=True))
        return lambda m: base + sum(f(m, m) * k for f, k in pairs)

    def stmts(self, body: Sequence[Stmt], env: Mapping[str, int], init: bool = False) -> list[Exec]:
        out: list[Exec] = []
        for st in body:
            out.extend(self.stmt(st, env, init))
        return out

    def stmt(self, st: Stmt, env: Mapping[str, int], init: bool) -> list[Exec]:
        match st:
            case Assign(name=name, args=args, value=value):
                if value is None:
                    return []  # `any`: the location keeps its (free) value
                where = self.target(name, tuple(self.expr(a, env) for a in args))
                g = self.groups.get(name)
                if (
                    not init
                    and g is not None
                    and isinstance(value, Binary)
                    and value.op is BinOp.ADD
                ):
                    return [self.tick(g, where, value, env)]
                rhs = self.expr(value, env)
                if isinstance(where, int):
                    j = where
                    if isinstance(rhs, int):
                        c = rhs
                        return [lambda m: m.__setitem__(j, c)]
                    fr = rhs
                    return [lambda m: m.__setitem__(j, fr(m, m))]
                fw, fr2 = where, _lift(rhs)

                def put(m: list[int]) -> None:
                    m[fw(m)] = fr2(m, m)

                return [put]
            case If(cond=c, then=th, else_=el):
                cc = self.expr(c, env)
                if isinstance(cc, int):
                    return self.stmts(th if cc else el, env, init)
                fc, run_t, run_e = (
                    cc,
                    _seq(self.stmts(th, env, init)),
                    _seq(self.stmts(el, env, init)),
                )

                def branch(m: list[int]) -> None:
                    (run_t if fc(m, m) else run_e)(m)

                return [branch]
            case ForAll(var=x, sort=sort, where=wh, body=b):
                out: list[Exec] = []
                for v in elements(sort):
                    inner = {**env, x: _enc(sort, v)}
                    run = _seq(self.stmts(b, inner, init))
                    cond = 1 if wh is None else self.expr(wh, inner)
                    if isinstance(cond, int):
                        if cond:
                            out.append(run)
                        continue
                    out.append(_when(cond, run))
                return out
            case Assume(cond=c):
                cc = self.expr(c, env)
                if isinstance(cc, int):
                    if cc:
                        return []
                    return [_blocked]
                fc = cc

                def check(m: list[int]) -> None:
                    if not fc(m, m):
                        raise _Blocked()

                return [check]
            case _:
                assert_never(st)


def _blocked(m: list[int]) -> None:
    raise _Blocked()


def _when(cond: Fn, run: Exec) -> Exec:
    def go(m: list[int]) -> None:
        if cond(m, m):
            run(m)

    return go


def _seq(fs: Sequence[Exec]) -> Exec:
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


# ---- the analyses ------------------------------------------------------------------------

_CMP = frozenset({BinOp.EQ, BinOp.NE, BinOp.LT, BinOp.LE, BinOp.GT, BinOp.GE})


@dataclass(frozen=True, slots=True)
class _Order:
    """The ghost integer groups kept as their relative order."""

    group_of: dict[str, int]  # variable -> group (normalised groups only)
    cmax: dict[int, int]  # the group's largest constant: values above it are ranked
    slots: dict[int, tuple[int, ...]]  # the group's live slots
    names: dict[int, tuple[str, ...]]  # the group's variables
    # per live slot of the group (by position), the positions whose order with it matters
    near: dict[int, tuple[tuple[int, ...], ...]]


@dataclass(frozen=True, slots=True)
class _Groups:
    group: dict[str, int]  # ghost int variable -> its group
    consts: dict[int, set[int]]  # the constants each group meets
    members: dict[int, list[str]]
    why: dict[int, str]  # why a group cannot be normalised
    # pairs of variables whose relative order can matter (compared, directly or
    # through copies): the order of any other pair is forgotten
    pairs: frozenset[tuple[str, str]]


def _int_groups(ts: TransitionSystem, props: Sequence[Property]) -> _Groups:
    """Group the ghost integer variables that meet in a comparison or an assignment;
    say which groups do anything but compare with each other and constants, copy, and
    add a positive constant (then they are not normalised: the reason by group).

    Also the pairs of variables whose order matters: those compared (in a guard, a
    condition or a property; primed and unprimed alike), closed under copies (when
    ``x := y`` and ``x`` is compared with ``z``, the order of ``y`` and ``z`` at the
    copy decides that comparison later)."""
    ints = [v.name for v in ts.vars if isinstance(v.type, IntType)]
    parent = {n: n for n in ints}
    consts: dict[str, set[int]] = {n: set() for n in ints}
    bad: dict[str, str] = {}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def union(names: Sequence[str]) -> None:
        for a, b in itertools.pairwise(names):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

    def int_vars(e: Expr) -> list[str]:
        return [x.name for x in walk(e) if isinstance(x, Var) and x.name in parent]

    def spoil(e: Expr, why: str) -> None:
        for n in int_vars(e):
            bad.setdefault(n, why)

    def atoms(e: Expr) -> list[str | int] | None:
        match e:
            case Var(name=name, args=args) if isinstance(e.type, IntType):
                for a in args:
                    visit(a)
                return [name]
            case Lit(value=v) if isinstance(e.type, IntType):
                assert isinstance(v, int)
                return [v]
            case Ite(cond=c, then=th, else_=el) if isinstance(e.type, IntType):
                visit(c)
                xs, ys = atoms(th), atoms(el)
                return None if xs is None or ys is None else xs + ys
            case _:
                return None

    pairs: set[tuple[str, str]] = set()
    flows: set[tuple[str, str]] = set()  # (x, y): x := y (+ k)

    def meet(found: list[str | int]) -> None:
        names = [x for x in found if isinstance(x, str)]
        union(names)
        if names:
            consts[names[0]].update(x for x in found if isinstance(x, int))

    def visit(e: Expr) -> None:
        if isinstance(e, Binary) and e.op in _CMP and isinstance(e.lhs.type, IntType):
            xs, ys = atoms(e.lhs), atoms(e.rhs)
            if xs is None or ys is None:
                spoil(e, f"arithmetic in a comparison at {e.span}")
                for x in walk(e):
                    if x is not e and isinstance(x, Var):
                        for arg in x.args:
                            visit(arg)
                return
            meet(xs + ys)
            for u in xs:
                for w in ys:
                    if isinstance(u, str) and isinstance(w, str):
                        pairs.add((u, w))
                        pairs.add((w, u))
            return
        if isinstance(e.type, IntType):
            spoil(e, f"a ghost integer used other than in a comparison at {e.span}")
            return
        match e:
            case Lit() | Local():
                pass
            case Var(args=args):
                for a in args:
                    visit(a)
            case Unary(arg=a) | Cast(arg=a):
                visit(a)
            case Binary(lhs=lhs, rhs=rhs):
                visit(lhs)
                visit(rhs)
            case Ite(cond=c, then=th, else_=el):
                visit(c)
                visit(th)
                visit(el)
            case Quant(body=b):
                visit(b)

    def stmts(body: Sequence[Stmt]) -> None:
        for st in body:
            match st:
                case Assign(name=name, args=args, value=value):
                    for a in args:
                        visit(a)
                    if name not in parent:
                        if value is not None:
                            visit(value)
                        continue
                    if value is None:
                        continue  # a free ghost integer: refused at init
                    found = atoms(value)
                    if found is None and isinstance(value, Binary) and value.op is BinOp.ADD:
                        y, k = (value.lhs, value.rhs)
                        if isinstance(y, Lit):
                            y, k = k, y
                        if (
                            isinstance(y, Var)
                            and isinstance(k, Lit)
                            and isinstance(k.value, int)
                            and k.value > 0
                        ):
                            found = atoms(y)
                    if found is None:
                        bad.setdefault(name, f"arithmetic assigned at {st.span}")
                        spoil(value, f"arithmetic assigned at {st.span}")
                        visit_inside(value)
                        continue
                    meet([name, *found])
                    flows.update((name, y) for y in found if isinstance(y, str))
                case If(cond=c, then=th, else_=el):
                    visit(c)
                    stmts(th)
                    stmts(el)
                case ForAll(where=wh, body=b):
                    if wh is not None:
                        visit(wh)
                    stmts(b)
                case Assume(cond=c):
                    visit(c)
                case _:
                    assert_never(st)

    def visit_inside(e: Expr) -> None:
        for x in walk(e):
            if isinstance(x, Var):
                for a in x.args:
                    visit(a)

    stmts(ts.init)
    for act in ts.actions:
        visit(act.guard)
        stmts(act.body)
    for p in props:
        visit(p.expr)
    roots = sorted({find(n) for n in ints}, key=ints.index)
    ids = {r: i for i, r in enumerate(roots)}
    group = {n: ids[find(n)] for n in ints}
    gconsts: dict[int, set[int]] = {i: set() for i in ids.values()}
    members: dict[int, list[str]] = {i: [] for i in ids.values()}
    why: dict[int, str] = {}
    for n in ints:
        gconsts[group[n]] |= consts[n]
        members[group[n]].append(n)
        if n in bad:
            why.setdefault(group[n], bad[n])
    changed = True
    while changed:
        changed = False
        for x, y in sorted(flows):
            for a, z in sorted(pairs):
                if a == x and (y, z) not in pairs:
                    pairs.update({(y, z), (z, y)})
                    changed = True
    return _Groups(group, gconsts, members, why, frozenset(pairs))


# ---- the compiled system ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Inst:
    action: str
    args: tuple[tuple[str, Value], ...]  # every parameter, as a trace shows it
    guard: Node
    body: Exec
    # the post-state made canonical, given the (canonical) pre-state, or None
    canon: Callable[[list[int], S | None], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class _Goal:
    """A goal's checks.  A one-state goal: ``check`` on each new state.  A two-state
    one: ``check`` on each step; a transition property's top-level conjuncts that read
    only the post-state are split off as ``post``, checked once per state reached by a
    step (the first step into a state is at the lowest level: the same shortest step)."""

    prop: Property
    check: Fn | None  # true: holds (invariant, transition) / reached (cover)
    post: Fn | None = None
    # ``check`` (one-state) or ``post`` as its top-level conjuncts (a cover: disjuncts),
    # quantifiers unrolled, each with the locations it reads: after a step only those
    # reading a location the step wrote can change (the rest had the same value before)
    parts: tuple[tuple[Fn, frozenset[int]], ...] = ()


def _split(e: Expr, env: Mapping[str, int], conj: bool) -> list[tuple[Expr, dict[str, int]]]:
    """The top-level conjuncts (``conj``) or disjuncts of ``e``, quantifiers unrolled."""
    q = Quantifier.FORALL if conj else Quantifier.EXISTS
    op = BinOp.AND if conj else BinOp.OR
    if isinstance(e, Quant) and e.quantifier is q:
        out: list[tuple[Expr, dict[str, int]]] = []
        for v in elements(e.sort):
            out += _split(e.body, {**env, e.var: _enc(e.sort, v)}, conj)
        return out
    if isinstance(e, Binary) and e.op is op:
        return _split(e.lhs, env, conj) + _split(e.rhs, env, conj)
    return [(e, dict(env))]


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Binary) and e.op is BinOp.AND:
        return _conjuncts(e.lhs) + _conjuncts(e.rhs)
    return [e]


def _post_only(e: Expr) -> bool:
    return all(x.primed for x in walk(e) if isinstance(x, Var))


class _System:
    """The successor function and goals of one transition system, built once."""

    def __init__(
        self,
        ts: TransitionSystem,
        props: Sequence[Property],
        unordered: frozenset[int] = frozenset(),
    ) -> None:
        self.ts = ts
        lay = self.layout = _Layout(ts)
        envs = [(a, env) for a in ts.actions for env in _envs(a)]
        self.fixed = _fixed(ts, lay, envs)
        plain = _Compiler(lay, fixed=self.fixed)
        # liveness, as a cone of influence: what a guard, an `assume` or a goal reads,
        # and what flows into that (an assignment's right-hand side, index and the
        # conditions it is under, when it may write a location in the cone)
        self._plain, self._envs = plain, envs
        live = self.cone(props)
        self.dead = tuple(j for j in range(lay.size) if j not in live)
        # the ghost order
        groups = _int_groups(ts, props)
        gconsts, members, why = groups.consts, groups.members, groups.why
        self.notes: list[str] = []
        self.timed_out = False  # the initial states' enumeration passed the deadline
        normal: dict[str, int] = {}
        cmax: dict[int, int] = {}
        gslots: dict[int, tuple[int, ...]] = {}
        names: dict[int, tuple[str, ...]] = {}
        near: dict[int, tuple[tuple[int, ...], ...]] = {}
        for g, ms in members.items():
            if g in why:
                self.notes.append(f"ghost {', '.join(ms)} kept as values: {why[g]}")
                continue
            if g in unordered:
                self.notes.append(
                    f"ghost {', '.join(ms)} kept as values: an increment of a value that is not the group's largest"
                )
                continue
            for n in ms:
                normal[n] = g
            cmax[g] = max(gconsts[g], default=0)
            gslots[g] = tuple(j for n in ms for j in lay.slots(n) if j in live)
            names[g] = tuple(ms)
            vs = [lay.slot_var[j] for j in gslots[g]]
            near[g] = tuple(
                tuple(k for k, b in enumerate(vs) if k != i and (a, b) in groups.pairs)
                for i, a in enumerate(vs)
            )
            self.notes.append(f"ghost {', '.join(ms)} kept as their order")
        self.order = _Order(normal, cmax, gslots, names, near)
        # per group: its values after a step -> the locations its layering moves, with
        # their new values (the layering is a function of the group's values alone)
        self._memo: dict[int, dict[tuple[int, ...], tuple[tuple[int, int], ...]]] = {}
        if self.dead:
            self.notes.insert(
                0,
                f"{len(self.dead)} of {lay.size} locations outside the goals' cone of influence: reset",
            )
        if self.fixed:
            self.notes.insert(
                0, f"{len(self.fixed)} of {lay.size} locations keep their initial value: constants"
            )
        comp = _Compiler(lay, self.order, self.fixed)
        self.insts: list[_Inst] = []
        self._writes: list[frozenset[int]] = []
        dead = set(self.dead)
        for a, env in envs:
            guard = comp.expr(a.guard, env)
            if isinstance(guard, int) and not guard:
                continue
            writes = _stmt_writes(comp, a.body, env)
            resets = tuple(sorted(j for j in writes if j in dead))
            touched = tuple(
                sorted({normal[lay.slot_var[j]] for j in writes if lay.slot_var[j] in normal})
            )
            args = tuple((p.name, _dec(p.type, env[p.name])) for p in a.params)
            body = _seq(comp.stmts(a.body, env))
            self.insts.append(
                _Inst(a.name, args, guard, body, self._canon(resets, touched, frozenset(writes)))
            )
            self._writes.append(frozenset(writes))
        self.goals: list[_Goal] = []

        def pieces(es: Sequence[Expr], conj: bool) -> tuple[tuple[Fn, frozenset[int]], ...]:
            out: list[tuple[Fn, frozenset[int]]] = []
            for e in es:
                for part, env in _split(e, {}, conj):
                    node = plain.expr(part, env)
                    if isinstance(node, int):
                        if bool(node) != conj:  # decided without reading anything
                            out.append((_lift(node), frozenset()))
                        continue
                    reads: set[int] = set()
                    _expr_reads(plain, part, env, reads)
                    out.append((node, frozenset(reads)))
            return tuple(out)

        for p in props:
            if p.kind is not PropKind.TRANSITION:
                check = _lift(plain.expr(p.expr, {}))
                parts = () if p.two_state else pieces([p.expr], p.kind is not PropKind.COVER)
                self.goals.append(_Goal(p, check, None, parts))
                continue
            cs = _conjuncts(p.expr)
            edge = [plain.expr(c, {}) for c in cs if not _post_only(c)]
            post = [plain.expr(c, {}) for c in cs if _post_only(c)]
            e, q = _junction(True, edge), _junction(True, post)
            self.goals.append(_Goal(
                p, None if e == 1 else _lift(e), None if q == 1 else _lift(q),
                pieces([c for c in cs if _post_only(c)], True),
            ))  # fmt: skip
        # the instances by the first `location == value` test of their guard (a program
        # counter, usually): a state looks up only those whose test holds
        tables: dict[int, dict[int, list[int]]] = {}
        rest: list[int] = []
        for i, inst in enumerate(self.insts):
            test = _first_eq(inst.guard)
            if test is None:
                rest.append(i)
            else:
                tables.setdefault(test[0], {}).setdefault(test[1], []).append(i)
        self.lookup = tuple(
            (j, {v: tuple(ix) for v, ix in table.items()}) for j, table in tables.items()
        )
        self.always = rest
        # per instance, per one-state goal (``affected``) or post-state part of a
        # transition property (``affected_post``): the parts that read what the
        # instance writes, as one closure, and whether it settles the goal when true (a
        # cover) or when false
        self.affected: list[tuple[tuple[str, Fn, bool], ...]] = []
        self.affected_post: list[tuple[tuple[str, Fn, bool], ...]] = []
        for inst_writes in self._writes:
            ones: list[tuple[str, Fn, bool]] = []
            posts: list[tuple[str, Fn, bool]] = []
            for goal in self.goals:
                fns = [f for f, reads in goal.parts if reads & inst_writes]
                if fns:
                    cover = goal.prop.kind is PropKind.COVER
                    row = (goal.prop.name, _lift(_junction(not cover, fns)), cover)
                    (ones if goal.post is None else posts).append(row)
            self.affected.append(tuple(ones))
            self.affected_post.append(tuple(posts))
        self._init_code = _seq(plain.stmts(ts.init, {}, init=True))
        self._canon_all = self._canon(self.dead, tuple(sorted(cmax)))

    def cone(self, props: Sequence[Property]) -> set[int]:
        """The locations in the cone of influence of the guards, assumptions and ``props``."""
        plain = self._plain
        live: set[int] = set()
        flows: list[tuple[frozenset[int], frozenset[int]]] = []
        for a, env in self._envs:
            g = plain.expr(a.guard, env)
            if isinstance(g, int) and not g:
                continue
            _expr_reads(plain, a.guard, env, live)
            _stmt_flows(plain, a.body, env, frozenset(), live, flows)
        for p in props:
            _expr_reads(plain, p.expr, {}, live)
        changed = True
        while changed:
            changed = False
            for targets, deps in flows:
                if not deps <= live and not targets.isdisjoint(live):
                    live |= deps
                    changed = True
        return live

    def _canon(
        self, resets: tuple[int, ...], groups: tuple[int, ...], writes: frozenset[int] | None = None
    ) -> Callable[[list[int], S | None], tuple[int, ...]]:
        o = self.order
        order = [
            (o.cmax[g], o.slots[g], o.near[g],
             tuple(tuple(o.slots[g][k] for k in ks) for ks in o.near[g]),
             tuple(x for x, j in enumerate(o.slots[g]) if writes is None or j in writes))
            for g in groups if o.slots[g]
        ]  # fmt: skip

        caches = [self._memo.setdefault(g, {}) for g in groups if o.slots[g]]
        order2 = [(*row, _getter(row[1]), cache) for row, cache in zip(order, caches, strict=True)]

        def canon(m: list[int], pre: S | None) -> tuple[int, ...]:
            for j in resets:
                m[j] = 0
            for c, slots, near, nslots, written, get, cache in order2:
                key = get(m)
                moves = cache.get(key)
                if moves is None:
                    if pre is None or not _layer_step(m, pre, c, slots, near, nslots, written):
                        _layer(m, c, slots, near)
                    cache[key] = tuple(
                        (j, m[j]) for j, v in zip(slots, key, strict=True) if m[j] != v
                    )
                else:
                    for j, v in moves:
                        m[j] = v
            return tuple(m)

        return canon

    def initial(
        self, deadline: float | None = None
    ) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
        """Every initial state: (canonical, concrete), in a fixed order; duplicates of a
        canonical state may come more than once.  A free location that is dead and that
        no ``assume`` reads is not enumerated (its canonical value stands for all).
        Past ``deadline`` it stops and sets ``timed_out``."""
        lay = self.layout
        known = _determined(self.ts, lay)
        assumed: set[int] = set()
        _assume_reads(self._plain, self.ts.init, {}, assumed)
        dead = set(self.dead)
        free = [j for j in range(lay.size) if j not in known and (j not in dead or j in assumed)]
        domains: list[range] = []
        total = 1
        for j in free:
            n = _domain(lay.types[lay.slot_var[j]])
            if n is None:
                raise Unsupported(
                    f"{lay.name(j)} starts free over {lay.types[lay.slot_var[j]]} (a free start is the SMT engines' ground)"
                )
            domains.append(range(n))
            total *= n
            if total > INIT_LIMIT:
                raise Unsupported(
                    f"more than {INIT_LIMIT} candidate initial states ({len(free)} free locations)"
                )
        base = [known.get(j, 0) for j in range(lay.size)]
        for count, combo in enumerate(itertools.product(*domains)):
            if count % CHECK_EVERY == 0 and deadline is not None and time.monotonic() >= deadline:
                self.timed_out = True
                return
            m = list(base)
            for j, x in zip(free, combo, strict=True):
                m[j] = x
            before = tuple(m)
            try:
                self._init_code(m)
            except _Blocked:
                continue
            if tuple(m) != before:
                continue  # not a fixpoint of init
            yield self._canon_all(m, None), before


def _assume_reads(
    c: _Compiler, body: Sequence[Stmt], env: Mapping[str, int], out: set[int]
) -> None:
    for st in body:
        match st:
            case Assume(cond=cond):
                _expr_reads(c, cond, env, out)
            case If(then=th, else_=el):
                _assume_reads(c, th, env, out)
                _assume_reads(c, el, env, out)
            case ForAll(var=x, sort=sort, body=b):
                for v in elements(sort):
                    _assume_reads(c, b, {**env, x: _enc(sort, v)}, out)
            case Assign():
                pass


def _determined(ts: TransitionSystem, lay: _Layout) -> dict[int, int]:
    """The locations init sets to one value whatever the start (the rest are free)."""
    unset = -(1 << 70)
    probe = [unset] * lay.size
    try:
        _seq(_Compiler(lay).stmts(_no_assumes(ts.init), {}, init=True))(probe)
    except (IndexError, TypeError):
        raise Unsupported("the initial state's conditions read the state") from None
    return {j: x for j, x in enumerate(probe) if x != unset}


def _fixed(
    ts: TransitionSystem, lay: _Layout, envs: Sequence[tuple[Action, dict[str, int]]]
) -> dict[int, int]:
    """Locations no step can change: a greatest fixpoint.  Start from every location
    init determines; drop those written by an instance whose guard is not false when
    the rest keep their initial values; repeat.  At the fixpoint the instances left out
    are never enabled on a reachable state (each step taken writes no fixed location,
    so they keep their values, so those guards stay false)."""
    fixed = _determined(ts, lay)
    while True:
        comp = _Compiler(lay, fixed=fixed)
        written: set[int] = set()
        for a, env in envs:
            g = comp.expr(a.guard, env)
            if isinstance(g, int) and not g:
                continue
            written |= _stmt_writes(comp, a.body, env)
        smaller = {j: x for j, x in fixed.items() if j not in written}
        if len(smaller) == len(fixed):
            return fixed
        fixed = smaller


def _layer(m: list[int], c: int, slots: tuple[int, ...], near: tuple[tuple[int, ...], ...]) -> None:
    """Replace the group's values above ``c`` by the longest chain below them in the
    order of the pairs that matter (``near``): a function of those pairs' order alone,
    which it keeps (equal stays equal, less stays less); values at most ``c`` stay."""
    vals = [m[j] for j in slots]
    n = len(vals)
    idx = sorted(range(n), key=vals.__getitem__)
    out = list(vals)
    i = 0
    while i < n:
        v = vals[idx[i]]
        k = i + 1
        while k < n and vals[idx[k]] == v:
            k += 1
        if v > c:
            block = idx[i:k]
            for x in block:
                best = c + 1
                for y in near[x]:
                    w = vals[y]
                    if c < w < v and out[y] >= best:
                        best = out[y] + 1
                out[x] = best
            if k - i > 1:  # equal values whose order matters share one value
                again = True
                while again:
                    again = False
                    for x in block:
                        for y in near[x]:
                            if vals[y] == v and out[y] != out[x]:
                                out[x] = out[y] = max(out[x], out[y])
                                again = True
        i = k
    for x in range(n):
        m[slots[x]] = out[x]


def _getter(slots: tuple[int, ...]) -> Callable[[Sequence[int]], tuple[int, ...]]:
    """The values at ``slots``, as a tuple (one C call)."""
    if len(slots) == 1:
        j = slots[0]
        return lambda m: (m[j],)
    return itemgetter(*slots)


def _first_eq(g: Node) -> tuple[int, int] | None:
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


def _layer_step(
    m: list[int],
    pre: S,
    c: int,
    slots: tuple[int, ...],
    near: tuple[tuple[int, ...], ...],
    nslots: tuple[tuple[int, ...], ...],
    written: tuple[int, ...],
) -> bool:
    """:func:`_layer` after one step from the canonical ``pre`` that wrote at most the
    positions ``written``, when it only moved values to the new largest one or to at
    most ``c``, and no unchanged value above ``c`` had a changed one below or equal to
    it (an equal one may share its layer; one equal to the old largest is redone):
    then the unchanged values keep their layers and only the new largest ones get
    theirs.  False (nothing done) otherwise.  ``nslots``: ``near`` as slots."""
    changed = [x for x in written if m[slots[x]] != pre[slots[x]]]
    if not changed:
        return True
    olds = [pre[j] for j in slots]
    oldtop = max(olds)
    news = [m[slots[x]] for x in changed]
    top = max(news)
    if top < oldtop:
        top = max([m[j] for j in slots])
    moved = set(changed)
    left_top = False  # a value moved away from the old largest one
    for x, new in zip(changed, news, strict=True):
        old = olds[x]
        if new > c and new != top:
            return False
        if old > c:
            if old == oldtop:
                left_top = True
                continue  # nothing above it; those equal to it are redone below
            for y in near[x]:
                if y not in moved and olds[y] >= old:
                    return False
    if left_top and oldtop > c:
        # the unchanged values equal to the old largest may have shared its layer
        block = [y for y, v in enumerate(olds) if v == oldtop and y not in moved]
        if block:
            _relayer(m, c, slots, near, nslots, block, oldtop)
            moved.update(block)
    if top <= c:
        return True
    if top <= oldtop:
        for x, v in enumerate(olds):
            if v == top and x not in moved:
                return False  # an unchanged value equals the new largest one
    tops = [x for x, v in zip(changed, news, strict=True) if v == top]
    _relayer(m, c, slots, near, nslots, tops, top)
    return True


def _relayer(
    m: list[int],
    c: int,
    slots: tuple[int, ...],
    near: tuple[tuple[int, ...], ...],
    nslots: tuple[tuple[int, ...], ...],
    block: list[int],
    value: int,
) -> None:
    """Give ``block`` (positions holding ``value``, above every value their layers
    depend on) the layer just above their near neighbours' below them; near ones in
    the block share theirs."""
    out: dict[int, int] = {}
    for x in block:
        best = max([v for k in nslots[x] if (v := m[k]) < value], default=c) + 1
        out[x] = best if best > c else c + 1
    if len(block) > 1:
        again = True
        while again:
            again = False
            for x in block:
                for y in near[x]:
                    if y in out and out[y] != out[x]:
                        out[x] = out[y] = max(out[x], out[y])
                        again = True
    for x, v in out.items():
        m[slots[x]] = v


def _no_assumes(body: Sequence[Stmt]) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for st in body:
        match st:
            case Assume():
                pass
            case If(cond=c, then=th, else_=el):
                out.append(If(c, _no_assumes(th), _no_assumes(el), st.span))
            case ForAll(var=x, sort=sort, where=wh, body=b):
                out.append(ForAll(x, sort, wh, _no_assumes(b), st.span))
            case Assign():
                out.append(st)
    return tuple(out)


def _envs(a: Action) -> Iterator[dict[str, int]]:
    chosen = [p for p in a.params if p.chosen]
    for p in chosen:
        if not is_finite(p.type) and _domain(p.type) is None:
            raise Unsupported(
                f"action {a.name} chooses {p.name} over {p.type}: too many values to enumerate"
            )
    choices = itertools.product(*(range(_domain(p.type) or 0) for p in chosen))
    for combo in choices:
        for inst in instances(a):
            env = {name: _enc(_ptype(a, name), v) for name, v in inst}
            for p, x in zip(chosen, combo, strict=True):
                env[p.name] = x
            yield env


def _ptype(a: Action, name: str) -> Type:
    for p in a.params:
        if p.name == name:
            return p.type
    raise KeyError(name)


def _all_slots(lay: _Layout, name: str) -> range:
    return lay.slots(name)


def _expr_reads(c: _Compiler, e: Expr, env: Mapping[str, int], out: set[int]) -> None:
    match e:
        case Lit() | Local():
            pass
        case Var(name=name, args=args):
            nodes = [c.expr(a, env) for a in args]
            if all(isinstance(n, int) for n in nodes):
                out.add(c.layout.slot(name, [n for n in nodes if isinstance(n, int)]))
            else:
                out.update(_all_slots(c.layout, name))
            for a in args:
                _expr_reads(c, a, env, out)
        case Unary(arg=a) | Cast(arg=a):
            _expr_reads(c, a, env, out)
        case Binary(lhs=lhs, rhs=rhs):
            _expr_reads(c, lhs, env, out)
            _expr_reads(c, rhs, env, out)
        case Ite(cond=cond, then=th, else_=el):
            k = c.expr(cond, env)
            if isinstance(k, int):
                _expr_reads(c, th if k else el, env, out)
                return
            _expr_reads(c, cond, env, out)
            _expr_reads(c, th, env, out)
            _expr_reads(c, el, env, out)
        case Quant(var=x, sort=sort, body=b):
            for v in elements(sort):
                _expr_reads(c, b, {**env, x: _enc(sort, v)}, out)
        case _:
            assert_never(e)


def _stmt_reads(c: _Compiler, body: Sequence[Stmt], env: Mapping[str, int], out: set[int]) -> None:
    for st in body:
        match st:
            case Assign(args=args, value=value):
                for a in args:
                    _expr_reads(c, a, env, out)
                if value is not None:
                    _expr_reads(c, value, env, out)
            case If(cond=cond, then=th, else_=el):
                k = c.expr(cond, env)
                if isinstance(k, int):
                    _stmt_reads(c, th if k else el, env, out)
                    continue
                _expr_reads(c, cond, env, out)
                _stmt_reads(c, th, env, out)
                _stmt_reads(c, el, env, out)
            case ForAll(var=x, sort=sort, where=wh, body=b):
                for v in elements(sort):
                    inner = {**env, x: _enc(sort, v)}
                    if wh is not None:
                        _expr_reads(c, wh, inner, out)
                    _stmt_reads(c, b, inner, out)
            case Assume(cond=cond):
                _expr_reads(c, cond, env, out)
            case _:
                assert_never(st)


def _stmt_flows(
    c: _Compiler,
    body: Sequence[Stmt],
    env: Mapping[str, int],
    under: frozenset[int],
    seeds: set[int],
    out: list[tuple[frozenset[int], frozenset[int]]],
) -> None:
    """Each assignment's possible targets with what it reads (its value, its index and
    the conditions it is under: ``under``); an ``assume``'s reads go to ``seeds``."""
    for st in body:
        match st:
            case Assign(name=name, args=args, value=value):
                if value is None:
                    continue
                reads: set[int] = set(under)
                for a in args:
                    _expr_reads(c, a, env, reads)
                _expr_reads(c, value, env, reads)
                nodes = [c.expr(a, env) for a in args]
                if all(isinstance(n, int) for n in nodes):
                    targets = frozenset(
                        {c.layout.slot(name, [n for n in nodes if isinstance(n, int)])}
                    )
                else:
                    targets = frozenset(_all_slots(c.layout, name))
                out.append((targets, frozenset(reads)))
            case If(cond=cond, then=th, else_=el):
                k = c.expr(cond, env)
                if isinstance(k, int):
                    _stmt_flows(c, th if k else el, env, under, seeds, out)
                    continue
                more: set[int] = set(under)
                _expr_reads(c, cond, env, more)
                _stmt_flows(c, th, env, frozenset(more), seeds, out)
                _stmt_flows(c, el, env, frozenset(more), seeds, out)
            case ForAll(var=x, sort=sort, where=wh, body=b):
                for v in elements(sort):
                    inner = {**env, x: _enc(sort, v)}
                    more = set(under)
                    if wh is not None:
                        _expr_reads(c, wh, inner, more)
                    _stmt_flows(c, b, inner, frozenset(more), seeds, out)
            case Assume(cond=cond):
                _expr_reads(c, cond, env, seeds)
                seeds.update(under)
            case _:
                assert_never(st)


def _stmt_writes(c: _Compiler, body: Sequence[Stmt], env: Mapping[str, int]) -> set[int]:
    out: set[int] = set()
    for st in body:
        match st:
            case Assign(name=name, args=args, value=value):
                if value is None:
                    continue
                nodes = [c.expr(a, env) for a in args]
                if all(isinstance(n, int) for n in nodes):
                    out.add(c.layout.slot(name, [n for n in nodes if isinstance(n, int)]))
                else:
                    out.update(_all_slots(c.layout, name))
            case If(cond=cond, then=th, else_=el):
                k = c.expr(cond, env)
                if isinstance(k, int):
                    out |= _stmt_writes(c, th if k else el, env)
                else:
                    out |= _stmt_writes(c, th, env) | _stmt_writes(c, el, env)
            case ForAll(var=x, sort=sort, body=b):
                for v in elements(sort):
                    out |= _stmt_writes(c, b, {**env, x: _enc(sort, v)})
            case Assume():
                pass
            case _:
                assert_never(st)
    return out


# ---- the search ----------------------------------------------------------------------------


def select_properties(ts: TransitionSystem, names: tuple[str, ...] | None) -> tuple[Property, ...]:
    """The properties ``names`` selects, in spec order (as :func:`fusever.bmc.select_properties`)."""
    if names is None:
        return ts.properties
    known = {p.name for p in ts.properties}
    for n in names:
        if n not in known:
            raise ValueError(f"{ts.name} has no property named {n}")
    return tuple(p for p in ts.properties if p.name in names)


def compile_system(ts: TransitionSystem, props: Sequence[Property] | None = None) -> _System:
    """The compiled successor function of ``ts`` (for benchmarks and tests)."""
    return _System(ts, ts.properties if props is None else props)


def run(
    ts: TransitionSystem,
    options: Options,
    progress: Callable[[Progress], None] | None = None,
    *,
    state_limit: int | None = None,
    bound: int | None = None,
    restart: bool = True,
) -> ExplicitOutcome:
    """Search the reachable states of ``ts`` breadth-first; one Result per selected
    property, in spec order.  ``options.depth`` is not a bound here: the search goes
    on until the reachable set is exhausted, every goal is settled, the state limit
    (default :data:`DEFAULT_STATE_LIMIT`) or the timeout.  With ``bound`` it stops
    after the states ``bound`` steps away (as BMC to that depth: what holds there is
    proved within ``bound`` steps, not complete, unless the set was exhausted first).

    With ``restart``, when goals are settled at a level and the goals left have a
    smaller cone of influence (what only the settled ones read is dead), the search
    starts again without them: their results stand (shortest, replayed), and the rest
    are decided on the smaller quotient, with the same verdicts and steps."""
    start = time.monotonic()
    props = select_properties(ts, options.properties)
    limit = DEFAULT_STATE_LIMIT if state_limit is None else state_limit
    deadline = None if options.timeout is None else start + options.timeout
    unordered: frozenset[int] = frozenset()
    settled: dict[str, Result] = {}
    left = tuple(props)
    visited = 0
    while True:
        try:
            system = _System(ts, left, unordered)

            def smaller(rest: tuple[Property, ...], now: _System = system) -> bool:
                return len(now.cone(rest)) + len(now.dead) < now.layout.size

            out = _Search(
                system, start, deadline, limit, progress, bound, smaller if restart else None
            ).run()
            if not settled:
                return replace(out, visited=out.states)
            by_name = {**settled, **{r.property: r for r in out.results}}
            note = (
                f"searched again without the goals settled first ({visited} states before): "
                "what only they read is outside the cone of influence"
            )
            return ExplicitOutcome(
                tuple(by_name[p.name] for p in props), out.states, out.transitions, out.levels,
                out.seconds, out.exhausted, (*out.reductions, note), visited + out.states,
            )  # fmt: skip
        except _Restart as r:
            settled.update(r.results)
            left = tuple(p for p in props if p.name not in settled)
            visited += r.states
        except Unsupported as e:
            results = tuple(
                Result.about(ts, p, Verdict.UNKNOWN, engine=ENGINE, seconds=time.monotonic() - start,
                             bound=0, reason=f"explicit search does not apply: {e}")
                for p in props
            )  # fmt: skip
            return ExplicitOutcome(results, 0, 0, 0, time.monotonic() - start, False, ())
        except _OrderBroken as b:
            unordered = unordered | {b.group}


class _Search:
    def __init__(
        self,
        system: _System,
        start: float,
        deadline: float | None,
        limit: int,
        progress: Callable[[Progress], None] | None,
        bound: int | None = None,
        smaller: Callable[[tuple[Property, ...]], bool] | None = None,
    ) -> None:
        self.bound = bound
        self.smaller = smaller  # whether the goals left have a smaller cone of influence
        self.sys = system
        self.ts = system.ts
        self.start = start
        self.deadline = deadline
        self.limit = limit
        self.progress = progress
        self.states: list[tuple[int, ...]] = []
        self.parent: list[int] = []  # -1 for an initial state
        self.via: list[int] = []  # the instance taken from the parent (-1 initially)
        self.concrete_init: dict[int, tuple[int, ...]] = {}
        self.index: dict[tuple[int, ...], int] = {}
        self.found: dict[str, tuple[int, int, int]] = {}  # goal -> (state, instance or -1, step)
        self.transitions = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def run(self) -> ExplicitOutcome:
        sysm = self.sys
        self.one = [g for g in sysm.goals if not g.prop.two_state]
        self.edge = [g for g in sysm.goals if g.prop.two_state and g.check is not None]
        self.post = [g for g in sysm.goals if g.post is not None]
        states, index = self.states, self.index
        stop = ""
        for canon, concrete in sysm.initial(self.deadline):
            if canon in index:
                continue
            n = len(states)
            index[canon] = n
            states.append(canon)
            self.parent.append(-1)
            self.via.append(-1)
            self.concrete_init[n] = concrete
            if self.one:
                self._check_one(n, 0, -1)
        if sysm.timed_out:
            return self._outcome("timeout", False, 0)
        if not states:
            raise Unsupported("no initial state satisfies init")
        initial = len(states)
        level_start, level_end, level = 0, len(states), 0
        insts = sysm.insts
        lookup, always = sysm.lookup, sysm.always
        settled_before = len(self.found)
        while level_start < level_end and (self.one or self.edge or self.post):
            if self.bound is not None and level >= self.bound:
                stop = "bound"
                break
            if self.progress is not None:
                open_ = len({g.prop.name for g in (*self.one, *self.edge, *self.post)})
                self.progress(Progress(self.ts.name, level, self.elapsed(), open_))
            step = level + 1
            for n in range(level_start, level_end):
                if (
                    n % CHECK_EVERY == 0
                    and self.deadline is not None
                    and time.monotonic() >= self.deadline
                ):
                    stop = "timeout"
                    break
                s = states[n]
                # the instances whose guard's first `location == value` test holds here
                cands = [i for j, table in lookup for i in table.get(s[j], ())]
                for i in cands + always if cands else always:
                    inst = insts[i]
                    g = inst.guard
                    if not (g if isinstance(g, int) else g(s, s)):
                        continue
                    m = list(s)
                    try:
                        inst.body(m)
                    except _Blocked:
                        continue
                    self.transitions += 1
                    if self.edge:
                        self._check_edge(n, i, m, step)
                    t = inst.canon(m, s)
                    k = index.get(t)
                    if k is None:
                        k = len(states)
                        index[t] = k
                        states.append(t)
                        self.parent.append(n)
                        self.via.append(i)
                        if self.one:
                            self._check_one(k, step, i)
                        if self.post:
                            self._check_post(n, i, m, step, n < initial)
                    elif k < initial and self.post:
                        self._check_post(n, i, m, step, True)  # first reached by a step here
                if stop:
                    break
                if len(states) > self.limit:
                    stop = "state limit"
                    break
            if stop:
                break
            level_start, level_end, level = level_end, len(states), level + 1
            if len(self.found) > settled_before and self.smaller is not None:
                rest = tuple(g.prop for g in sysm.goals if g.prop.name not in self.found)
                if rest and level_start < level_end and self.smaller(rest):
                    done = {
                        n: self._found(sysm.goals[self._goal_index(n)].prop, *h)
                        for n, h in self.found.items()
                    }
                    raise _Restart(done, len(states))
            settled_before = len(self.found)
        exhausted = not stop and level_start >= level_end
        return self._outcome(stop, exhausted, level)

    def _goal_index(self, name: str) -> int:
        for i, g in enumerate(self.sys.goals):
            if g.prop.name == name:
                return i
        raise KeyError(name)

    def _settle(self, name: str, hit: tuple[int, int, int]) -> None:
        if name in self.found:
            return
        self.found[name] = hit
        self.one = [g for g in self.one if g.prop.name != name]
        self.edge = [g for g in self.edge if g.prop.name != name]
        self.post = [g for g in self.post if g.prop.name != name]

    def _check_one(self, n: int, step: int, via: int) -> None:
        """The one-state goals on new state ``n``, reached by instance ``via`` from a
        state where every open goal held (covers: was not reached); -1: initially."""
        s = self.states[n]
        if via < 0:
            for g in list(self.one):
                assert g.check is not None
                if bool(g.check(s, s)) == (g.prop.kind is PropKind.COVER):
                    self._settle(g.prop.name, (n, -1, step))
            return
        found = self.found
        for name, f, cover in self.sys.affected[via]:
            if name not in found and bool(f(s, s)) == cover:
                self._settle(name, (n, -1, step))

    def _check_edge(self, n: int, i: int, post: list[int], step: int) -> None:
        s = self.states[n]
        for g in list(self.edge):
            assert g.check is not None
            if bool(g.check(s, post)) == (g.prop.kind is PropKind.COVER):
                self._settle(g.prop.name, (n, i, step))

    def _check_post(self, n: int, i: int, post: list[int], step: int, full: bool) -> None:
        """Transition properties' post-state parts after step ``i`` from ``n``: all of
        them when ``full`` (``n`` is initial: they were never checked on it), else the
        parts that read what the step wrote."""
        s = self.states[n]
        if full:
            for g in list(self.post):
                assert g.post is not None
                if not g.post(s, post):
                    self._settle(g.prop.name, (n, i, step))
            return
        found = self.found
        for name, f, cover in self.sys.affected_post[i]:
            if name not in found and bool(f(s, post)) == cover:
                self._settle(name, (n, i, step))

    def _outcome(self, stop: str, exhausted: bool, level: int) -> ExplicitOutcome:
        sysm = self.sys
        results: list[Result] = []
        count = f"{len(self.states)} states, {self.transitions} transitions"
        for g in sysm.goals:
            p = g.prop
            hit = self.found.get(p.name)
            if hit is not None:
                results.append(self._found(p, *hit))
                continue
            if exhausted:
                verdict = Verdict.UNREACHABLE if p.kind is PropKind.COVER else Verdict.PROVED
                results.append(Result.about(
                    self.ts, p, verdict, engine=ENGINE, seconds=self.elapsed(), bound=max(level - 1, 0),
                    complete=True, reason=f"reachable set exhausted: {count}",
                ))  # fmt: skip
                continue
            if stop == "bound":
                verdict = Verdict.UNREACHABLE if p.kind is PropKind.COVER else Verdict.PROVED
                results.append(Result.about(
                    self.ts, p, verdict, engine=ENGINE, seconds=self.elapsed(), bound=level,
                    reason=f"every state within {level} steps checked: {count}",
                ))  # fmt: skip
                continue
            why = "timeout" if stop == "timeout" else f"state limit {self.limit} passed"
            unbounded = [n for n in sysm.notes if "kept as values" in n]
            if stop != "timeout" and unbounded:
                why += f"; {unbounded[0]}, so the state space may be infinite"
            results.append(Result.about(
                self.ts, p, Verdict.UNKNOWN, engine=ENGINE, seconds=self.elapsed(),
                bound=max(level - 1, 0), reason=f"{why} (every state within {max(level - 1, 0)} steps checked; {count})",
            ))  # fmt: skip
        return ExplicitOutcome(
            tuple(results), len(self.states), self.transitions, level, self.elapsed(),
            exhausted, tuple(sysm.notes),
        )  # fmt: skip

    def _path(self, n: int) -> list[int]:
        out: list[int] = []
        while self.parent[n] >= 0:
            out.append(self.via[n])
            n = self.parent[n]
        out.append(n)  # the initial state's own index, last
        return out[::-1]

    def _found(self, p: Property, n: int, last: int, step: int) -> Result:
        """Replay the path to state ``n`` (then instance ``last``) from its concrete
        initial state, and through the interpreter."""
        sysm = self.sys
        path = self._path(n)
        root, moves = path[0], path[1:] + ([last] if last >= 0 else [])
        cur = list(self.concrete_init[root])
        lay = sysm.layout
        steps = [Step(None, (), lay.decode(cur))]
        for i in moves:
            inst = sysm.insts[i]
            g = inst.guard
            if not (g if isinstance(g, int) else g(cur, cur)):
                raise ExplicitBug(
                    f"{self.ts.name}: {inst.action} is not enabled on the concrete trace"
                )
            nxt = list(cur)
            inst.body(nxt)
            steps.append(Step(inst.action, inst.args, lay.decode(nxt)))
            cur = nxt
        trace = Trace(tuple(steps))
        if len(trace) - 1 != step:
            raise ExplicitBug(
                f"{self.ts.name}: {p.name}: a trace of {len(trace) - 1} steps for step {step}"
            )
        try:
            instance = interpret.replay(self.ts, trace, p)
        except interpret.ReplayError as e:
            raise ExplicitBug(
                f"{self.ts.name}: the trace for {p.name} at step {step} does not replay: {e}"
            ) from e
        verdict = Verdict.COVERED if p.kind is PropKind.COVER else Verdict.VIOLATED
        return Result.about(
            self.ts, p, verdict, engine=ENGINE, seconds=self.elapsed(), bound=step, step=step,
            trace=trace, instance=instance,
        )  # fmt: skip
