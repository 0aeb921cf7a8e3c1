"""Small builders for transition systems written directly in Python (tests and bench).

Types are inferred: comparisons and connectives are ``bool``, arithmetic has its
operands' type.  ``v("m", U8, idx)`` reads ``m[idx]``; ``n(3, U8)`` is a literal.
"""

from __future__ import annotations

from collections.abc import Sequence

from fusever.ts import (
    BOOL,
    Action,
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    Cast,
    EnumType,
    Expr,
    ForAll,
    If,
    IntType,
    Ite,
    Lit,
    Local,
    Param,
    Property,
    PropKind,
    Quant,
    Quantifier,
    SortType,
    StateVar,
    Stmt,
    TransitionSystem,
    Type,
    Unary,
    UnOp,
    Value,
    Var,
)

INT = IntType()


def u(width: int) -> BitVecType:
    return BitVecType(width)


def i(width: int) -> BitVecType:
    return BitVecType(width, signed=True)


def n(value: Value, t: Type) -> Lit:
    return Lit(value, t)


TRUE = Lit(True, BOOL)
FALSE = Lit(False, BOOL)


def v(name: str, t: Type, *args: Expr, primed: bool = False) -> Var:
    return Var(name, tuple(args), t, primed)


def p(name: str, t: Type, *args: Expr) -> Var:
    """A primed read."""
    return Var(name, tuple(args), t, True)


def loc(name: str, t: Type) -> Local:
    return Local(name, t)


_BOOLISH = {
    BinOp.IMPLIES, BinOp.OR, BinOp.AND, BinOp.EQ, BinOp.NE,
    BinOp.LT, BinOp.LE, BinOp.GT, BinOp.GE,
}  # fmt: skip


def b(op: BinOp, lhs: Expr, rhs: Expr) -> Binary:
    return Binary(op, lhs, rhs, BOOL if op in _BOOLISH else lhs.type)


def add(a: Expr, c: Expr) -> Binary:
    return b(BinOp.ADD, a, c)


def sub(a: Expr, c: Expr) -> Binary:
    return b(BinOp.SUB, a, c)


def eq(a: Expr, c: Expr) -> Binary:
    return b(BinOp.EQ, a, c)


def ne(a: Expr, c: Expr) -> Binary:
    return b(BinOp.NE, a, c)


def lt(a: Expr, c: Expr) -> Binary:
    return b(BinOp.LT, a, c)


def le(a: Expr, c: Expr) -> Binary:
    return b(BinOp.LE, a, c)


def and_(*xs: Expr) -> Expr:
    out = xs[0]
    for x in xs[1:]:
        out = b(BinOp.AND, out, x)
    return out


def or_(*xs: Expr) -> Expr:
    out = xs[0]
    for x in xs[1:]:
        out = b(BinOp.OR, out, x)
    return out


def implies(a: Expr, c: Expr) -> Binary:
    return b(BinOp.IMPLIES, a, c)


def not_(a: Expr) -> Unary:
    return Unary(UnOp.NOT, a, BOOL)


def neg(a: Expr) -> Unary:
    return Unary(UnOp.NEG, a, a.type)


def ite(c: Expr, t: Expr, f: Expr) -> Ite:
    return Ite(c, t, f, t.type)


def to_int(a: Expr) -> Cast:
    return Cast(a, INT)


def cast(a: Expr, t: Type) -> Cast:
    return Cast(a, t)


def forall(x: str, s: Type, body: Expr) -> Quant:
    return Quant(Quantifier.FORALL, x, s, body)


def exists(x: str, s: Type, body: Expr) -> Quant:
    return Quant(Quantifier.EXISTS, x, s, body)


def assign(name: str, value: Expr | None, *args: Expr) -> Assign:
    return Assign(name, tuple(args), value)


def if_(c: Expr, then: Sequence[Stmt], else_: Sequence[Stmt] = ()) -> If:
    return If(c, tuple(then), tuple(else_))


def for_all(x: str, s: Type, body: Sequence[Stmt], where: Expr | None = None) -> ForAll:
    return ForAll(x, s, where, tuple(body))


def assume(c: Expr) -> Assume:
    return Assume(c)


def var(name: str, t: Type, *index: Type, ghost: bool = False) -> StateVar:
    return StateVar(name, tuple(index), t, ghost)


def param(name: str, t: Type, chosen: bool = False) -> Param:
    return Param(name, t, chosen)


def action(
    name: str,
    body: Sequence[Stmt],
    *,
    params: Sequence[Param] = (),
    guard: Expr = TRUE,
) -> Action:
    return Action(name, tuple(params), guard, tuple(body))


def invariant(name: str, e: Expr) -> Property:
    return Property(name, PropKind.INVARIANT, e)


def transition(name: str, e: Expr) -> Property:
    return Property(name, PropKind.TRANSITION, e)


def cover(name: str, e: Expr) -> Property:
    return Property(name, PropKind.COVER, e)


def system(
    name: str,
    *,
    vars: Sequence[StateVar],
    init: Sequence[Stmt],
    actions: Sequence[Action],
    properties: Sequence[Property] = (),
    sorts: Sequence[SortType] = (),
    enums: Sequence[EnumType] = (),
    depth: int = 10,
) -> TransitionSystem:
    return TransitionSystem(
        name=name,
        path=f"<{name}>",
        description=None,
        lineage=(name,),
        settings=(),
        sorts=tuple(sorts),
        enums=tuple(enums),
        vars=tuple(vars),
        init=tuple(init),
        actions=tuple(actions),
        properties=tuple(properties),
        depth=depth,
    )


# ---- the known-answer systems ---------------------------------------------------------


def counter(width: int = 3) -> TransitionSystem:
    """``c`` from 0, ``c := c + 1``; ``wraps`` is violated when c is 0 again (step 2**width)."""
    t = u(width)
    c = v("c", t)
    moved = v("moved", BOOL)
    return system(
        "counter",
        vars=[var("c", t), var("moved", BOOL)],
        init=[assign("c", n(0, t)), assign("moved", FALSE)],
        actions=[action("inc", [assign("c", add(c, n(1, t))), assign("moved", TRUE)])],
        properties=[
            invariant("no_wrap", implies(moved, ne(c, n(0, t)))),
            transition("increments", eq(p("c", t), add(c, n(1, t)))),
            cover("reaches_top", eq(c, n((1 << width) - 1, t))),
        ],
        depth=12,
    )


def lost_update(writers: int = 2, width: int = 8) -> TransitionSystem:
    """Each writer: ``load`` (tmp[w] := c), then ``store`` (c := tmp[w] + 1)."""
    W = SortType("Writer", writers)
    t = u(width)
    pc = EnumType("Pc", ("idle", "loaded", "done"))
    w = loc("w", W)
    c = v("c", t)
    return system(
        "lost_update",
        sorts=[W],
        enums=[pc],
        vars=[var("c", t), var("tmp", t, W), var("pc", pc, W)],
        init=[
            assign("c", n(0, t)),
            for_all("w", W, [assign("tmp", n(0, t), w), assign("pc", n("idle", pc), w)]),
        ],
        actions=[
            action(
                "load",
                [assign("tmp", c, w), assign("pc", n("loaded", pc), w)],
                params=[param("w", W)],
                guard=eq(v("pc", pc, w), n("idle", pc)),
            ),
            action(
                "store",
                [assign("c", add(v("tmp", t, w), n(1, t))), assign("pc", n("done", pc), w)],
                params=[param("w", W)],
                guard=eq(v("pc", pc, w), n("loaded", pc)),
            ),
        ],
        properties=[
            invariant(
                "all_counted",
                implies(
                    forall("x", W, eq(v("pc", pc, loc("x", W)), n("done", pc))),
                    eq(c, n(writers, t)),
                ),
            ),
            cover("all_done", forall("x", W, eq(v("pc", pc, loc("x", W)), n("done", pc)))),
        ],
        depth=8,
    )


def dead_action() -> TransitionSystem:
    """An action whose guard never holds: its cover goal is unreachable."""
    t = u(4)
    x = v("x", t)
    fired = v("fired", BOOL)
    return system(
        "dead",
        vars=[var("x", t), var("fired", BOOL)],
        init=[assign("x", n(0, t)), assign("fired", FALSE)],
        actions=[
            action("tick", [assign("x", add(x, n(1, t)))], guard=lt(x, n(5, t))),
            action("never", [assign("fired", TRUE)], guard=lt(n(7, t), x)),
        ],
        properties=[
            cover("never_fires", fired),
            invariant("bounded", le(x, n(5, t))),
        ],
        depth=10,
    )
