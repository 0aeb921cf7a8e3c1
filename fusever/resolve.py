"""The resolution pass: names and types; declarations and expressions to :mod:`fusever.ts`.

It takes the :class:`~fusever.lineage.Merged` spec and its folded
:class:`~fusever.consts.Consts` and gives a :class:`Resolver` holding the spec's sorts,
enums and state variables as :mod:`fusever.ts` types; the later passes
(:mod:`fusever.flow`, :mod:`fusever.properties`) resolve expressions through it in a
:class:`Ctx` (the locals in scope, whether state and primed state may be read).  Every
name is checked to be bound, every operator to get the operand types it takes
(:mod:`fusever.operators`), every literal to fit its type, every width and sort size
to be in range.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from fusever import syntax as s
from fusever import ts
from fusever.consts import Consts
from fusever.diagnostics import did_you_mean
from fusever.diags import Diags, ref_span, within
from fusever.expand import BUILTIN_FUNCS
from fusever.lineage import SIZED_NAME, Merged
from fusever.operators import CONST_FUNCS, Family, kind
from fusever.operators import TABLE as OPERATORS

__all__ = ["MAX_SORT_SIZE", "MAX_WIDTH", "Ctx", "Resolver", "check_unused_defs", "declare"]

MAX_WIDTH = 4096
MAX_SORT_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Ctx:
    """Where an expression is checked."""

    locals: Mapping[str, ts.Type]
    state: bool  # may read state variables
    primes: bool  # may read primed state (transition properties and cover goals)
    no_state: str = ""  # why state may not be read here
    broken: frozenset[str] = frozenset()  # locals whose declaration had an error
    reserved: frozenset[str] = frozenset()  # chosen values, in scope in the action's guard

    def bind(self, name: str, t: ts.Type) -> Ctx:
        return dataclasses.replace(self, locals={**self.locals, name: t})

    def bind_broken(self, name: str) -> Ctx:
        """A local whose declaration failed: uses of it are silent, not unknown names."""
        return dataclasses.replace(self, broken=self.broken | {name})


def _int_hint(a: ts.Type, b: ts.Type) -> str:
    if {type(a), type(b)} == {ts.BitVecType, ts.IntType}:
        return "; int(e) reads a bit-vector as an int"
    return ""


def _folds_to_int(op: s.BinOp | s.UnOp) -> bool:
    """Whether constants under ``op`` fold to a constant int (that takes its context's type)."""
    info = OPERATORS[op]
    return info.fold is not None and not info.boolean


_BOOL_OPS = {s.BinOp.BAND: "&&", s.BinOp.BOR: "||", s.BinOp.XOR: "!=", s.UnOp.BNOT: "!"}


def _bool_hint(op: s.BinOp | s.UnOp, t: ts.Type) -> str:
    if t == ts.BOOL and op in _BOOL_OPS:
        return f"; on bool, write `{_BOOL_OPS[op]}`"
    return ""


def _fits(v: int, t: ts.Type) -> str | None:
    """Why the literal ``v`` is not a value of ``t``; None when it is."""
    match t:
        case ts.BitVecType(width=w, signed=False):
            if 0 <= v < 2**w:
                return None
            return f"{v} does not fit in {t} (0 .. {2**w - 1})"
        case ts.BitVecType(width=w, signed=True):
            if -(2 ** (w - 1)) <= v < 2 ** (w - 1):
                return None
            return f"{v} does not fit in {t} ({-(2 ** (w - 1))} .. {2 ** (w - 1) - 1})"
        case ts.SortType(size=n):
            if 0 <= v < n:
                return None
            return f"{v} is not an element of sort {t} (0 .. {n - 1})"
        case _:
            return None


class Resolver:
    def __init__(self, m: Merged, consts: Consts, d: Diags) -> None:
        self.m = m
        self.c = consts
        self.d = d
        self.sorts: dict[str, ts.SortType] = {}
        self.enums: dict[str, ts.EnumType] = {}
        self.vars: dict[str, ts.StateVar] = {}
        self.fresh = 0

    # ---- types
    def finite(self, name: str, span: s.Span) -> ts.FiniteType | None:
        if name == "bool":
            return ts.BOOL
        if name in self.sorts:
            return self.sorts[name]
        if name in self.enums:
            return self.enums[name]
        if name in self.m.sorts or name in self.m.enums:
            return None  # its declaration already has an error
        if name == "int" or SIZED_NAME.fullmatch(name):
            self.d.error(
                span,
                f"`{name}` is not finite: only a sort, an enum or bool can be ranged over here",
            )
            return None
        candidates = ["bool", *self.m.sorts, *self.m.enums]
        self.d.error(span, f"unknown sort `{name}`" + did_you_mean(name, candidates))
        return None

    def value_type(self, t: s.TypeExpr) -> ts.Type | None:
        d = self.d
        match t:
            case s.NamedType(name=name, span=span):
                if name == "bool":
                    return ts.BOOL
                if name == "int":
                    return ts.INT
                if SIZED_NAME.fullmatch(name):
                    return self._bitvec(name[0], int(name[1:]), span)
                if name in self.sorts:
                    return self.sorts[name]
                if name in self.enums:
                    return self.enums[name]
                if name in self.m.sorts or name in self.m.enums:
                    return None
                if name in self.m.kinds:
                    d.error(span, f"`{name}` is a {self.m.kinds[name][0]}, not a type")
                    return None
                candidates = [
                    "bool",
                    "int",
                    "u8",
                    "u16",
                    "u32",
                    "u64",
                    *self.m.sorts,
                    *self.m.enums,
                ]
                d.error(span, f"unknown type `{name}`" + did_you_mean(name, candidates))
                return None
            case s.SizedType(name=name, width=width, span=span):
                if name not in ("u", "i"):
                    d.error(
                        span, f"`{name}<...>` is not a type; write u<W> (unsigned) or i<W> (signed)"
                    )
                    return None
                if isinstance(width, int):
                    return self._bitvec(name, width, span)
                if width not in self.m.consts:
                    d.error(
                        span, f"unknown constant `{width}`" + did_you_mean(width, self.m.consts)
                    )
                    return None
                w = self.c.get(width)
                if w is None:
                    return None
                if isinstance(w, bool):
                    d.error(span, f"the width `{width}` must be an int constant, found bool")
                    return None
                return self._bitvec(name, w, span)
            case s.MapType(span=span):
                d.error(span, "a map type is only allowed for a state variable")
                return None
            case _:
                assert_never(t)

    def _bitvec(self, kind: str, width: int, span: s.Span) -> ts.BitVecType | None:
        if not 1 <= width <= MAX_WIDTH:
            self.d.error(span, f"bit width must be between 1 and {MAX_WIDTH}, not {width}")
            return None
        return ts.BitVecType(width, signed=kind == "i")

    def var_type(self, t: s.TypeExpr) -> tuple[tuple[ts.Type, ...], ts.Type] | None:
        match t:
            case s.MapType(index=index, value=value):
                idx: list[ts.Type] = []
                ok = True
                for it in index:
                    r = self.value_type(it)
                    if r is None:
                        ok = False
                    elif not ts.is_finite(r):
                        self.d.error(
                            it.span,
                            f"a map index must be finite (a sort, an enum or bool), not {r}",
                        )
                        ok = False
                    else:
                        idx.append(r)
                v = self.value_type(value)
                if not ok or v is None:
                    return None
                return tuple(idx), v
            case s.NamedType() | s.SizedType():
                v = self.value_type(t)
                return None if v is None else ((), v)
            case _:
                assert_never(t)

    # ---- names
    def visible(self, ctx: Ctx) -> list[str]:
        return [*ctx.locals, *self.m.vars, *self.m.consts, *self.m.members]

    def check_local(self, name: str, span: s.Span, ctx: Ctx) -> bool:
        """A new local must not shadow a global or another local in scope."""
        if name in ctx.locals:
            self.d.error(span, f"`{name}` shadows another local of the same name; rename one")
            return False
        if name in ctx.reserved:
            self.d.error(
                span, f"`{name}` shadows the chosen value `{name}` of this action; rename one"
            )
            return False
        if name in self.m.kinds:
            kind, _, _ = self.m.kinds[name]
            self.d.error(span, f"`{name}` shadows the {kind} `{name}`; choose another name")
            return False
        return True

    def fresh_local(self, base: str) -> str:
        """A loop variable no spec can name (``#`` is not in the NAME alphabet)."""
        self.fresh += 1
        return f"{base}#{self.fresh}"

    # ---- expressions
    def flexible(self, e: s.Expr, ctx: Ctx) -> bool:
        """An int-valued constant expression: it takes the type its context asks for."""
        match e:
            case s.Number():
                return True
            case s.Ref(name=name, primed=False, args=()):
                if name in ctx.locals or name not in self.m.consts:
                    return False
                return not isinstance(self.c.get(name), bool)
            case s.Unary(op=op, arg=arg) if _folds_to_int(op):
                return self.flexible(arg, ctx)
            case s.Binary(op=op, lhs=lhs, rhs=rhs) if _folds_to_int(op):
                return self.flexible(lhs, ctx) and self.flexible(rhs, ctx)
            case s.Call(func=func) if func in CONST_FUNCS:
                return True  # folded; a non-constant argument is an error there
            case _:
                return False

    def contextual(self, e: s.Expr, ctx: Ctx) -> bool:
        """Takes its type from its context: a flexible constant, or an operator that
        gives its operand's type over such operands (``~MASK``, ``A ^ B``)."""
        match e:
            case s.Unary(op=op, arg=arg) if not OPERATORS[op].boolean:
                return self.contextual(arg, ctx)
            case s.Binary(op=op, lhs=lhs, rhs=rhs) if not OPERATORS[op].boolean:
                return self.contextual(lhs, ctx) and self.contextual(rhs, ctx)
            case _:
                return self.flexible(e, ctx)

    def literal(self, e: s.Expr, hint: ts.Type | None) -> ts.Lit | None:
        v = self.c.eval(e)
        if v is None:
            return None
        assert not isinstance(v, bool)
        if hint is None or not isinstance(hint, ts.BitVecType | ts.SortType | ts.IntType):
            return ts.Lit(v, ts.INT, e.span)
        why = _fits(v, hint)
        if why is not None:
            self.d.error(e.span, why)
            return None
        if isinstance(hint, ts.BitVecType):
            v %= 2**hint.width  # two's complement bits
        return ts.Lit(v, hint, e.span)

    def regrouped_literal(self, e: s.Binary, ctx: Ctx, hint: ts.BitVecType) -> ts.Lit | None:
        """A constant group of a long chain the parser regrouped: each operand must
        fit ``hint`` as it would in the chain as written, and the group's value wraps
        as the chain's steps would (modular arithmetic regroups freely)."""
        ok = True
        todo: list[s.Expr] = [e]
        while todo:
            x = todo.pop()
            if isinstance(x, s.Binary) and x.regrouped and x.op is e.op:
                todo += [x.rhs, x.lhs]
                continue
            v = self.c.eval(x)
            if v is None:
                return None
            assert not isinstance(v, bool)
            why = _fits(v, hint)
            if why is not None:
                self.d.error(x.span, why)
                ok = False
        v = self.c.eval(e)
        if not ok or v is None:
            return None
        assert not isinstance(v, bool)
        return ts.Lit(v % 2**hint.width, hint, e.span)

    def expr(self, e: s.Expr, ctx: Ctx, hint: ts.Type | None = None) -> ts.Expr | None:
        d = self.d
        if self.flexible(e, ctx):
            if isinstance(e, s.Binary) and e.regrouped and isinstance(hint, ts.BitVecType):
                return self.regrouped_literal(e, ctx, hint)
            return self.literal(e, hint)
        match e:
            case s.Number():  # pragma: no cover - numbers are flexible
                raise AssertionError("unreachable")
            case s.Bool(value=v, span=span):
                return ts.Lit(v, ts.BOOL, span)
            case s.Ref():
                return self.ref(e, ctx)
            case s.Unary(op=op, arg=arg, span=span):
                info = OPERATORS[op]
                a = self.expr(arg, ctx, ts.BOOL if info.boolean else hint)
                if a is None:
                    return None
                if kind(a.type) not in info.operands:
                    d.error(
                        span,
                        f"`{info.symbol}` needs {info.needs}, found {a.type}"
                        + _bool_hint(op, a.type),
                    )
                    return None
                return ts.Unary(op, a, a.type, span)
            case s.Binary():
                return self.binary(e, ctx, hint)
            case s.Ite(cond=c, then=t, else_=f, span=span):
                cond = self.cond(c, ctx)
                pair = self.pair(t, f, ctx, hint)
                if cond is None or pair is None:
                    return None
                a, b = pair
                if a.type != b.type:
                    d.error(span, f"type mismatch: {a.type} and {b.type}")
                    return None
                return ts.Ite(cond, a, b, a.type, span)
            case s.Quant():
                return self.quant(e, ctx)
            case s.Call():
                return self.call(e, ctx)
            case s.Ascribe():
                return self.ascribe(e, ctx)
            case _:
                assert_never(e)

    def quant(self, e: s.Quant, ctx: Ctx) -> ts.Expr | None:
        """``forall x: S, y: T. body``: one quantifier per binder, innermost last."""
        inner = ctx
        bound: list[tuple[str, ts.FiniteType]] = []
        for binder in e.binders:
            fresh = self.check_local(binder.name, binder.span, inner)
            bt = self.finite(binder.sort, binder.span)
            if bt is None or not fresh:
                return None
            inner = inner.bind(binder.name, bt)
            bound.append((binder.name, bt))
        out = self.cond(e.body, inner)
        if out is None:
            return None
        for bname, btype in reversed(bound):
            out = ts.Quant(e.quantifier, bname, btype, out, ts.BOOL, e.span)
        return out

    def call(self, e: s.Call, ctx: Ctx) -> ts.Expr | None:
        """A built-in function of one bit-vector: ``signed``, ``unsigned``, ``int``."""
        d, func, args, span = self.d, e.func, e.args, e.span
        if func not in BUILTIN_FUNCS:
            d.error(
                span,
                f"unknown function `{func}`"
                + did_you_mean(func, BUILTIN_FUNCS)
                + "; the built-ins are signed(e), unsigned(e), int(e) and pow2(N)",
            )
            return None
        if len(args) != 1:
            d.error(span, f"`{func}` takes one argument, not {len(args)}")
            return None
        a = self.expr(args[0], ctx)
        if a is None:
            return None
        if not isinstance(a.type, ts.BitVecType):
            d.error(span, f"`{func}` needs a bit-vector argument (u<W> or i<W>), found {a.type}")
            return None
        match func:
            case "signed":
                return ts.Cast(a, ts.BitVecType(a.type.width, True), span)
            case "unsigned":
                return ts.Cast(a, ts.BitVecType(a.type.width, False), span)
            case _:
                return ts.Cast(a, ts.INT, span)

    def ascribe(self, e: s.Ascribe, ctx: Ctx) -> ts.Expr | None:
        """An inlined def's body or argument, checked at its declared type; a problem
        inside an inlined body gets a note at the call it came from."""
        if isinstance(e.type, s.MapType):
            return None  # the expand pass has said so
        want = self.value_type(e.type)
        if want is None:
            return None
        before = len(self.d.items)
        x = self.expr(e.expr, ctx, want)
        if e.call is not None:
            self._note_call(before, e.call, e.what)
        if x is None:
            return None
        if x.type != want:
            self.d.error(
                e.expr.span, f"{e.what} must be {want}, found {x.type}" + _int_hint(want, x.type)
            )
            return None
        return x

    def _note_call(self, since: int, call: s.Span, what: str) -> None:
        items = self.d.items
        seen = {(x.span, x.message) for x in items[:since]}
        kept = items[:since]
        for diag in items[since:]:
            if (diag.span, diag.message) in seen:
                continue  # the same problem in the same body, reached by another call
            seen.add((diag.span, diag.message))
            if diag.span is not None and not within(diag.span, call) and not diag.notes:
                note = self.d.note(call, f"in {what.removeprefix('the body of ')}, called here")
                diag = dataclasses.replace(diag, notes=(note,))
            kept.append(diag)
        items[:] = kept

    def pair(
        self, lhs: s.Expr, rhs: s.Expr, ctx: Ctx, hint: ts.Type | None
    ) -> tuple[ts.Expr, ts.Expr] | None:
        """Two operands that must agree: the one that fixes a type is checked first."""
        if self.contextual(lhs, ctx) and not self.contextual(rhs, ctx):
            b = self.expr(rhs, ctx, hint)
            a = self.expr(lhs, ctx, b.type if b is not None else hint)
        else:
            a = self.expr(lhs, ctx, hint)
            b = self.expr(rhs, ctx, a.type if a is not None else hint)
        if a is None or b is None:
            return None
        return a, b

    def binary(self, e: s.Binary, ctx: Ctx, hint: ts.Type | None) -> ts.Expr | None:
        """By the operator table: the operand types it takes, and what it gives."""
        d = self.d
        op, span = e.op, e.span
        info = OPERATORS[op]
        if info.family is Family.LOGICAL:
            a, b = self.expr(e.lhs, ctx, ts.BOOL), self.expr(e.rhs, ctx, ts.BOOL)
            if a is None or b is None:
                return None
            for x in (a, b):
                if x.type != ts.BOOL:
                    d.error(x.span, f"`{op.value}` needs {info.needs}, found {x.type}")
                    return None
            return ts.Binary(op, a, b, ts.BOOL, span)
        pair = self.pair(e.lhs, e.rhs, ctx, None if info.boolean else hint)
        if pair is None:
            return None
        a, b = pair
        if a.type != b.type:
            d.error(span, f"type mismatch: {a.type} and {b.type}" + _int_hint(a.type, b.type))
            return None
        t = a.type
        # sort elements are ordered (0 .. size-1), so a spec can break the symmetry of
        # identical actors; they have no arithmetic
        if kind(t) not in info.operands:
            d.error(span, f"`{op.value}` needs {info.needs}, found {t}" + _bool_hint(op, t))
            return None
        return ts.Binary(op, a, b, ts.BOOL if info.boolean else t, span)

    def cond(self, e: s.Expr, ctx: Ctx, what: str = "condition") -> ts.Expr | None:
        x = self.expr(e, ctx, ts.BOOL)
        if x is None:
            return None
        if x.type != ts.BOOL:
            self.d.error(e.span, f"{what} must be bool, found {x.type}")
            return None
        return x

    def typed(
        self, e: s.Expr, ctx: Ctx, t: ts.Type, what: Callable[[ts.Type], str]
    ) -> ts.Expr | None:
        x = self.expr(e, ctx, t)
        if x is None:
            return None
        if x.type != t:
            self.d.error(e.span, what(x.type))
            return None
        return x

    def ref(self, e: s.Ref, ctx: Ctx) -> ts.Expr | None:
        d = self.d
        name, at = e.name, ref_span(e)
        if name in ctx.broken and name not in ctx.locals:
            return None
        if name in ctx.locals:
            if e.primed or e.args:
                d.error(e.span, f"`{name}` is a local value; it cannot be primed or indexed")
                return None
            return ts.Local(name, ctx.locals[name], e.span)
        if name in self.m.vars:
            if not ctx.state:
                d.error(at, ctx.no_state.format(name=name))
                return None
            if e.primed and not ctx.primes:
                d.error(
                    e.span,
                    f"primed `{name}'` is only allowed in transition properties and cover goals",
                )
                return None
            v = self.vars.get(name)
            if v is None:
                return None  # its declaration has an error
            args = self.indices(v, e.args, e.span, ctx)
            if args is None:
                return None
            return ts.Var(name, args, v.type, e.primed, e.span)
        if name in self.m.consts or name in self.m.members:
            if e.primed or e.args:
                d.error(e.span, f"`{name}` is a constant; it cannot be primed or indexed")
                return None
            if name in self.m.members:
                enum = self.enums.get(self.m.members[name])
                return None if enum is None else ts.Lit(name, enum, e.span)
            v2 = self.c.get(name)
            if v2 is None:
                return None
            return ts.Lit(v2, ts.BOOL if isinstance(v2, bool) else ts.INT, e.span)
        if name in self.m.kinds:
            d.error(at, f"`{name}` is a {self.m.kinds[name][0]}, not a value")
            return None
        d.error(at, f"unknown name `{name}`" + did_you_mean(name, self.visible(ctx)))
        return None

    def indices(
        self, v: ts.StateVar, args: Sequence[s.Expr], span: s.Span, ctx: Ctx
    ) -> tuple[ts.Expr, ...] | None:
        if len(args) != len(v.index):
            if not v.index:
                self.d.error(span, f"`{v.name}` is not a map; it takes no index")
            else:
                over = ", ".join(str(t) for t in v.index)
                self.d.error(
                    span,
                    f"`{v.name}` is a map over ({over}): it needs {len(v.index)} "
                    f"index{'es' if len(v.index) > 1 else ''}, not {len(args)}",
                )
            return None
        out: list[ts.Expr] = []
        for a, t in zip(args, v.index, strict=True):
            x = self.typed(a, ctx, t, functools.partial(_index_mismatch, v.name, t))
            if x is None:
                return None
            out.append(x)
        return tuple(out)


def _index_mismatch(name: str, want: ts.Type, found: ts.Type) -> str:
    return f"type mismatch: `{name}` is indexed by {want}, not {found}"


def declare(m: Merged, consts: Consts, d: Diags) -> Resolver:
    """A resolver with the spec's sorts, enums and state variables resolved (each that
    has an error left out, so its uses are silent)."""
    r = Resolver(m, consts, d)
    for name, sort in m.sorts.items():
        size = consts.int_value(sort.decl.size, f"the size of sort {name}")
        if size is None:
            continue
        if size < 1:
            d.error(sort.decl.size.span, f"sort {name} is empty (size {size})")
        elif size > MAX_SORT_SIZE:
            d.error(
                sort.decl.size.span,
                f"sort {name} is too large (size {size}; at most {MAX_SORT_SIZE})",
            )
        else:
            r.sorts[name] = ts.SortType(name, size)
    for name, en in m.enums.items():
        members = tuple(dict.fromkeys(x for x in en.decl.members if m.members.get(x) == name))
        if len(members) == len(en.decl.members):
            r.enums[name] = ts.EnumType(name, members)

    for name, var in m.vars.items():
        vt = r.var_type(var.decl.type)
        if vt is None:
            continue
        index, value_t = vt
        if isinstance(value_t, ts.IntType) and not var.decl.ghost:
            d.error(
                var.decl.type.span,
                "int is unbounded: only ghost state may be int; use u<W>",
            )
            continue
        r.vars[name] = ts.StateVar(name, index, value_t, var.decl.ghost, var.decl.span)
    return r


def check_unused_defs(m: Merged, bodies: Mapping[str, s.Expr], r: Resolver) -> None:
    """A def nothing calls, checked once with its parameters as locals, so a mistake in
    it shows before a variant starts to use it (a called def is checked at its calls)."""
    for name, body in bodies.items():
        decl = m.defs[name].decl
        ctx = Ctx({}, state=True, primes=True)
        for p in decl.params or ():
            t = None if isinstance(p.type, s.MapType) else r.value_type(p.type)
            if t is None:
                break
            ctx = ctx.bind(p.name, t)
        else:
            r.expr(
                s.Ascribe(body, decl.result, f"the body of def `{name}`", span=decl.body.span), ctx
            )
