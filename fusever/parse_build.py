"""The parse stage's tree builder: Lark's parse tree to the frozen dataclasses of
:mod:`fusever.syntax`, with a :class:`~fusever.syntax.Span` on every node.

:func:`fusever.parse.parse_text` parses (and rebalances long chains) and hands the
tree to :class:`Build`; one method per grammar rule, named as the rule.
"""

from __future__ import annotations

from typing import Any as TypingAny

from lark import Token, Tree, v_args
from lark.tree import Meta
from lark.visitors import Transformer_NonRecursive

from fusever import syntax as s

__all__ = ["Build"]


def _number(token: Token) -> int:
    value = str(token)
    return int(value, 16) if value.lower().startswith("0x") else int(value, 10)


class _Guard:
    """``when expr``, told apart from the other children of an action."""

    __slots__ = ("expr",)

    def __init__(self, expr: s.Expr) -> None:
        self.expr = expr


class _Block(tuple[s.Stmt, ...]):
    """A ``{ ... }`` block (a tuple of statements, marked as a block)."""

    __slots__ = ()


class _Replace:
    __slots__ = ()


class _CoverFor:
    __slots__ = ("name", "span")

    def __init__(self, name: str, span: s.Span) -> None:
        self.name = name
        self.span = span


_BINOPS = {op.value: op for op in s.BinOp}
_UNOPS = {op.value: op for op in s.UnOp}


@v_args(meta=True, inline=True)
class Build(Transformer_NonRecursive[Token, TypingAny]):
    """Lark tree → syntax nodes.  Applied after parsing, so every rule has ``meta``."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def _span(self, meta: Meta) -> s.Span:
        if meta.empty:
            return s.NOWHERE
        return s.Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    # ---- file and header
    @v_args(meta=True, inline=False)
    def start(self, meta: Meta, children: list[TypingAny]) -> s.SpecFile:
        header, *items = children
        name, base, description, base_span = header
        return s.SpecFile(
            name,
            base,
            description,
            tuple(items),
            path=self.path,
            span=self._span(meta),
            base_span=base_span,
        )

    def spec_header(
        self, meta: Meta, name: Token, desc: Token | None
    ) -> tuple[str, None, str | None, s.Span]:
        return str(name), None, _string(desc), s.NOWHERE

    def variant_header(
        self, meta: Meta, name: Token, base: Token, desc: Token | None
    ) -> tuple[str, str, str | None, s.Span]:
        return str(name), str(base), _string(desc), self._token_span(base)

    # ---- declarations
    def const_decl(self, meta: Meta, name: Token, value: s.Expr) -> s.ConstDecl:
        return s.ConstDecl(str(name), value, self._span(meta), self._token_span(name))

    def set_decl(self, meta: Meta, name: Token, value: s.Expr) -> s.SetDecl:
        return s.SetDecl(str(name), value, self._span(meta), self._token_span(name))

    def sort_decl(self, meta: Meta, name: Token, size: s.Expr) -> s.SortDecl:
        return s.SortDecl(str(name), size, self._span(meta), self._token_span(name))

    @v_args(meta=True, inline=False)
    def enum_decl(self, meta: Meta, children: list[TypingAny]) -> s.EnumDecl:
        extend, name, *members = children
        return s.EnumDecl(
            str(name), tuple(str(m) for m in members), self._span(meta), extend=extend is not None,
            name_span=self._token_span(name), member_spans=tuple(self._token_span(m) for m in members),
        )  # fmt: skip

    def extend(self, meta: Meta, _kw: Token) -> bool:
        return True

    def var_decl(self, meta: Meta, kind: Tree[Token], name: Token, type_: s.TypeExpr) -> s.VarDecl:
        ghost = str(kind.children[0]) == "ghost"
        return s.VarDecl(str(name), type_, ghost, self._span(meta), self._token_span(name))

    def lock_decl(
        self, meta: Meta, kind: Tree[Token], name: Token, sort: Token | None, held: bool | None
    ) -> s.LockDecl:
        return s.LockDecl(
            str(kind.children[0]),
            str(name),
            None if sort is None else str(sort),
            held is not None,
            self._span(meta),
            self._token_span(name),
            s.NOWHERE if sort is None else self._token_span(sort),
        )

    def may_end_held(self, meta: Meta) -> bool:
        return True

    def depth_decl(self, meta: Meta, value: s.Expr) -> s.DepthDecl:
        return s.DepthDecl(value, self._span(meta))

    @v_args(meta=True, inline=False)
    def config_decl(self, meta: Meta, children: list[TypingAny]) -> s.ConfigDecl:
        name, desc, *items = children
        return s.ConfigDecl(
            str(name),
            _string(desc),
            tuple(items),
            self._span(meta),
            name_span=self._token_span(name),
        )

    @v_args(meta=True, inline=False)
    def merge_decl(self, meta: Meta, children: list[TypingAny]) -> s.ConfigDecl:
        name, desc, *items = children
        return s.ConfigDecl(
            str(name),
            _string(desc),
            tuple(items),
            self._span(meta),
            merge=True,
            name_span=self._token_span(name),
        )

    # ---- types
    def map_type(self, meta: Meta, index: tuple[s.ValueType, ...], value: s.ValueType) -> s.MapType:
        return s.MapType(index, value, self._span(meta))

    def one_index(self, meta: Meta, t: s.ValueType) -> tuple[s.ValueType, ...]:
        return (t,)

    @v_args(meta=True, inline=False)
    def many_index(self, meta: Meta, children: list[s.ValueType]) -> tuple[s.ValueType, ...]:
        return tuple(children)

    def named_type(self, meta: Meta, name: Token) -> s.NamedType:
        return s.NamedType(str(name), self._span(meta))

    def sized_type(self, meta: Meta, name: Token, width: Token) -> s.SizedType:
        w: int | str = _number(width) if width.type == "NUMBER" else str(width)
        return s.SizedType(str(name), w, self._span(meta))

    # ---- init and actions
    def init_decl(self, meta: Meta, body: _Block) -> s.InitDecl:
        return s.InitDecl(tuple(body), self._span(meta))

    @v_args(meta=True, inline=False)
    def action_decl(self, meta: Meta, children: list[TypingAny]) -> s.ActionDecl:
        replace = False
        name = ""
        name_span = s.NOWHERE
        params: list[s.Param] = []
        actor: s.Actor | None = None
        guard: s.Expr | None = None
        body: tuple[s.Stmt, ...] = ()
        description: str | None = None
        for child in children:
            match child:
                case _Replace():
                    replace = True
                case Token(type="STRING"):
                    description = _string(child)
                case Token():
                    name, name_span = str(child), self._token_span(child)
                case s.Param():
                    params.append(child)
                case s.Actor():
                    actor = child
                case _Guard():
                    guard = child.expr
                case _Block():
                    body = tuple(child)
                case None:
                    pass
                case _:  # pragma: no cover - the grammar has no other children here
                    raise AssertionError(f"unexpected action child {child!r}")
        return s.ActionDecl(
            name,
            tuple(params),
            actor,
            guard,
            body,
            replace,
            description,
            span=self._span(meta),
            name_span=name_span,
        )

    def body_decl(self, meta: Meta, _replace: _Replace, name: Token, body: _Block) -> s.ReplaceBody:
        return s.ReplaceBody(str(name), tuple(body), self._span(meta), self._token_span(name))

    def extend_action_decl(
        self, meta: Meta, _extend: bool, name: Token, guard: _Guard
    ) -> s.ExtendAction:
        return s.ExtendAction(str(name), guard.expr, self._span(meta), self._token_span(name))

    def pin_decl(self, meta: Meta, what: Tree[Token], name: Token, digest: Token) -> s.PinDecl:
        return s.PinDecl(
            str(what.children[0]),
            str(name),
            _string(digest) or "",
            self._span(meta),
            self._token_span(name),
        )

    def _token_span(self, token: Token) -> s.Span:
        line, col = token.line or 0, token.column or 0
        return s.Span(self.path, line, col, token.end_line or line, token.end_column or col)

    # ---- definitions: named expressions and blocks
    def def_decl(
        self,
        meta: Meta,
        replace: _Replace | None,
        name: Token,
        params: tuple[s.Param, ...] | None,
        result: s.TypeExpr,
        body: s.Expr,
    ) -> s.DefDecl:
        return s.DefDecl(
            str(name),
            params,
            result,
            body,
            replace is not None,
            self._span(meta),
            self._token_span(name),
        )

    def proc_decl(
        self,
        meta: Meta,
        replace: _Replace | None,
        name: Token,
        params: tuple[s.Param, ...] | None,
        body: _Block,
    ) -> s.ProcDecl:
        return s.ProcDecl(
            str(name),
            params or (),
            tuple(body),
            replace is not None,
            self._span(meta),
            self._token_span(name),
        )

    @v_args(meta=True, inline=False)
    def params(self, meta: Meta, children: list[s.Param | None]) -> tuple[s.Param, ...]:
        return tuple(p for p in children if p is not None)

    def param(self, meta: Meta, name: Token, type_: s.TypeExpr) -> s.Param:
        return s.Param(str(name), type_, self._span(meta))

    def actor(self, meta: Meta, label: Token, param: Token | None) -> s.Actor:
        if param is None:
            return s.Actor(str(label), None, self._span(meta))
        return s.Actor(str(label), str(param), self._span(meta), self._token_span(param))

    def guard(self, meta: Meta, expr: s.Expr) -> _Guard:
        return _Guard(expr)

    def replace(self, meta: Meta, _kw: Token) -> _Replace:
        return _Replace()

    # ---- properties and removals
    @v_args(meta=True, inline=False)
    def property_decl(self, meta: Meta, children: list[TypingAny]) -> s.PropertyDecl:
        replace, kind, name, cover_for, desc, expr = children
        return s.PropertyDecl(
            kind=s.PropKind(str(kind.children[0])),
            name=str(name),
            expr=expr,
            description=_string(desc),
            covers=None if cover_for is None else cover_for.name,
            replace=isinstance(replace, _Replace),
            span=self._span(meta),
            name_span=self._token_span(name),
            covers_span=s.NOWHERE if cover_for is None else cover_for.span,
        )

    @v_args(meta=True, inline=False)
    def observe_decl(self, meta: Meta, children: list[TypingAny]) -> s.ObserveDecl:
        replace, name, *binders, desc, expr = children
        return s.ObserveDecl(
            name=str(name),
            binders=tuple(b for b in binders if b is not None),
            expr=expr,
            description=_string(desc),
            replace=isinstance(replace, _Replace),
            span=self._span(meta),
            name_span=self._token_span(name),
        )

    def cover_for(self, meta: Meta, name: Token) -> _CoverFor:
        return _CoverFor(str(name), self._token_span(name))

    def remove_decl(self, meta: Meta, what: Tree[Token], name: Token) -> s.RemoveDecl:
        return s.RemoveDecl(
            str(what.children[0]), str(name), self._span(meta), self._token_span(name)
        )

    # ---- statements
    @v_args(meta=True, inline=False)
    def block(self, meta: Meta, children: list[s.Stmt]) -> _Block:
        return _Block(children)

    def assign(
        self, meta: Meta, target: tuple[str, tuple[s.Expr, ...]], value: TypingAny
    ) -> s.Assign:
        name, args = target
        return s.Assign(name, args, value, self._span(meta))

    def any(self, meta: Meta) -> s.Any:
        return s.Any(self._span(meta))

    @v_args(meta=True, inline=False)
    def lvalue(self, meta: Meta, children: list[TypingAny]) -> tuple[str, tuple[s.Expr, ...]]:
        name, *args = children
        return str(name), tuple(a for a in args if a is not None)

    def if_stmt(self, meta: Meta, cond: s.Expr, then: _Block, else_: TypingAny) -> s.If:
        if else_ is None:
            rest: tuple[s.Stmt, ...] = ()
        elif isinstance(else_, _Block):
            rest = tuple(else_)
        else:
            rest = (else_,)
        return s.If(cond, tuple(then), rest, self._span(meta))

    def for_stmt(
        self, meta: Meta, var: Token, sort: Token, where: s.Expr | None, body: _Block
    ) -> s.ForAll:
        return s.ForAll(
            str(var),
            str(sort),
            where,
            tuple(body),
            self._span(meta),
            self._token_span(var),
            self._token_span(sort),
        )

    def assume_stmt(self, meta: Meta, cond: s.Expr) -> s.Assume:
        return s.Assume(cond, self._span(meta))

    def choose_stmt(
        self, meta: Meta, name: Token, type_: s.TypeExpr, where: s.Expr | None
    ) -> s.Choose:
        return s.Choose(str(name), type_, where, self._span(meta), self._token_span(name))

    def skip_stmt(self, meta: Meta) -> s.Skip:
        return s.Skip(self._span(meta))

    @v_args(meta=True, inline=False)
    def call_stmt(self, meta: Meta, children: list[TypingAny]) -> s.CallStmt:
        name, *args = children
        return s.CallStmt(
            str(name),
            tuple(a for a in args if a is not None),
            self._span(meta),
            self._token_span(name),
        )

    # ---- expressions
    @v_args(meta=True, inline=False)
    def quant(self, meta: Meta, children: list[TypingAny]) -> s.Quant:
        kind, *binders, body = children
        return s.Quant(s.Quantifier(str(kind.children[0])), tuple(binders), body, self._span(meta))

    def binder(self, meta: Meta, name: Token, sort: Token) -> s.Binder:
        return s.Binder(str(name), str(sort), self._span(meta))

    def ite(self, meta: Meta, cond: s.Expr, then: s.Expr, else_: s.Expr) -> s.Ite:
        return s.Ite(cond, then, else_, self._span(meta))

    def binop(self, meta: Meta, lhs: s.Expr, op: Token, rhs: s.Expr) -> s.Binary:
        return s.Binary(_BINOPS[str(op)], lhs, rhs, self._span(meta))

    def chain(self, meta: Meta, lhs: s.Expr, op: Token, rhs: s.Expr) -> s.Binary:
        """A node of a long chain the parser regrouped (:attr:`fusever.syntax.Binary.regrouped`)."""
        return s.Binary(_BINOPS[str(op)], lhs, rhs, self._span(meta), regrouped=True)

    def unop(self, meta: Meta, op: Token, arg: s.Expr) -> s.Unary:
        return s.Unary(_UNOPS[str(op)], arg, self._span(meta))

    def number(self, meta: Meta, token: Token) -> s.Number:
        return s.Number(_number(token), self._span(meta))

    def true(self, meta: Meta) -> s.Bool:
        return s.Bool(True, self._span(meta))

    def false(self, meta: Meta) -> s.Bool:
        return s.Bool(False, self._span(meta))

    @v_args(meta=True, inline=False)
    def ref(self, meta: Meta, children: list[TypingAny]) -> s.Ref:
        name, prime, *args = children
        return s.Ref(
            str(name), prime is not None, tuple(a for a in args if a is not None), self._span(meta)
        )

    @v_args(meta=True, inline=False)
    def call(self, meta: Meta, children: list[TypingAny]) -> s.Call:
        name, *args = children
        return s.Call(str(name), tuple(a for a in args if a is not None), self._span(meta))


def _string(token: Token | None) -> str | None:
    return None if token is None else str(token)[1:-1]
