"""The parse stage: spec text to the syntax tree of :mod:`fusever.syntax`.

The concrete syntax lives in ``grammar/fusever.lark`` (installed as the data package
``fusever.grammar``); this module builds the LALR parser once, parses, and turns
Lark's tree into frozen dataclasses with a :class:`~fusever.syntax.Span` on every
node.  A syntax error becomes a :class:`~fusever.diagnostics.SpecError` saying what
was found and what was expected there, in the words a spec author uses.
"""

from __future__ import annotations

import functools
import importlib.resources
import sys
from pathlib import Path
from typing import Any as TypingAny
from typing import NoReturn

from lark import Lark, Token, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.lexer import PatternStr
from lark.tree import Meta
from lark.visitors import Transformer_NonRecursive

from fusever import syntax as s
from fusever.diagnostics import Diagnostic, SpecError

__all__ = ["MAX_NESTING", "parse_text", "source_line"]

GRAMMAR = "fusever.lark"

# How deeply a spec may nest (expressions, statements): every later pass (checker,
# folder, encoder, interpreter, printers) walks the tree recursively, so a deeper one is
# a located error here instead of a RecursionError anywhere after.  The passes need a
# few Python frames a level; RECURSION_LIMIT leaves room for that (measured: 3,000
# levels pass every stage at 30,000).  Long chains of an associative operator (+, *,
# &&, ||) and of ==> are not nesting: they are rebuilt balanced (see _rebalance).
MAX_NESTING = 1000
RECURSION_LIMIT = 20_000
CHAIN = 32  # chains of at least this many operands are rebalanced; shorter ones kept as written

# Regex terminals of the grammar, in the words of an error message.  String
# terminals ("{", ":=", "action" ...) are shown quoted, straight from the grammar.
_TERMINAL_WORDS: dict[str, str] = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a "description"',
    "CMP": "a comparison (==, !=, <, <=, >, >=)",
    "ADDOP": '"+" or "-"',
    "MULOP": '"*"',
    "NEG": '"-"',
    "IMPLIES": '"==>"',
    "OR": '"||"',
    "AND": '"&&"',
    "NOT": '"!"',
    "PRIME": '"\'"',
    "$END": "the end of the file",
}


def _grammar_text() -> str:
    try:
        return importlib.resources.files("fusever.grammar").joinpath(GRAMMAR).read_text("utf-8")
    except ModuleNotFoundError:
        # An editable install maps fusever.grammar to grammar/ with a namespace
        # finder that cannot serve a namespace package inside a regular one; the
        # source tree is then the one next to this package.
        here = Path(__file__).resolve().parent.parent / "grammar" / GRAMMAR
        return here.read_text("utf-8")


@functools.cache
def _parser() -> Lark:
    """The LALR parser, built once per process (it is immutable once built)."""
    return Lark(
        _grammar_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def parse_text(text: str, path: str) -> s.SpecFile:
    """Parse one spec file; raise :class:`SpecError` on a syntax error."""
    parser = _parser()
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        tree = parser.parse(text)
    except UnexpectedInput as e:
        _syntax_error(e, text, path, parser)
    _rebalance(tree)
    _check_nesting(tree, text, path)
    try:
        spec = _Build(path).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, SpecError):
            raise SpecError([_with_line(d, text) for d in e.orig_exc.diagnostics]) from None
        raise
    assert isinstance(spec, s.SpecFile)
    return s.SpecFile(
        spec.name, spec.base, spec.description, spec.decls, path=path, span=spec.span, text=text
    )


def source_line(text: str, line: int) -> str:
    """The 1-based ``line`` of ``text`` as the lexer counts lines (``\n`` only), or ``""``."""
    lines = text.split("\n")
    return lines[line - 1].rstrip("\r") if 1 <= line <= len(lines) else ""


# ---- syntax errors -----------------------------------------------------------


def _describe_terminal(name: str, parser: Lark) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        term = parser.get_terminal(name)
    except KeyError:
        return name
    if isinstance(term.pattern, PatternStr):
        return f'"{term.pattern.value}"'
    return name.lower()


def _expected(names: set[str] | frozenset[str] | None, parser: Lark) -> str:
    if not names:
        return ""
    words = sorted({_describe_terminal(n, parser) for n in names})
    if len(words) == 1:
        return f"expected {words[0]}"
    return "expected one of " + ", ".join(words)


def _found(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "NAME":
        return f"name `{token.value}`"
    if token.type == "NUMBER":
        return f"number {token.value}"
    if token.type == "STRING":
        return f"string {token.value}"
    return f'"{token.value}"'


def _syntax_error(e: UnexpectedInput, text: str, path: str, parser: Lark) -> NoReturn:
    line, col, width = e.line or 0, e.column or 0, 1
    if isinstance(e, UnexpectedToken):
        expected: set[str] | frozenset[str] | None = e.expected
        if e.interactive_parser is not None:
            try:
                accepts: set[str] = e.interactive_parser.accepts()  # type: ignore[no-untyped-call]
                expected = accepts or e.expected
            except Exception:  # only a better hint: fall back to lark's own set
                expected = e.expected
        found = _found(e.token)
        if e.token.type == "$END":
            line, col = _end_position(text)
        else:
            width = max(len(str(e.token.value)), 1)
    elif isinstance(e, UnexpectedCharacters):
        expected = e.allowed
        found = f'unexpected character "{e.char}"'
        if e.char == '"':
            expected = None
            found = 'unterminated string: a "description" must end on the line it starts'
        elif text.startswith("/*", e.pos_in_stream):
            expected = None
            found = "unterminated comment: `/*` has no matching `*/`"
    elif isinstance(e, UnexpectedEOF):
        expected = set(e.expected)
        found = "the end of the file"
        line, col = _end_position(text)
    else:  # pragma: no cover - lark has no other kinds
        expected, found = None, "unexpected input"
    want = _expected(expected, parser)
    if isinstance(e, UnexpectedCharacters):
        message = f"{found}" + (f"; {want}" if want else "")
    else:
        message = f"{want} but found {found}" if want else f"unexpected {found}"
    if line < 1:
        line, col = _end_position(text)
    span = s.Span(path, line, col, line, col + width)
    raise SpecError([Diagnostic(span, message, source_line(text, line))]) from None


def _end_position(text: str) -> tuple[int, int]:
    """Where "the end of the file" is shown: after the last non-blank character."""
    stripped = text.rstrip()
    if not stripped:
        return 1, 1
    lines = stripped.splitlines()
    return len(lines), len(lines[-1]) + 1


def _with_line(d: Diagnostic, text: str) -> Diagnostic:
    if d.span is None or d.line_text is not None:
        return d
    return Diagnostic(d.span, d.message, source_line(text, d.span.line), d.notes)


# ---- depth: long chains rebalanced, deep nesting a located error --------------------

_ASSOCIATIVE = {"+", "*", "&&", "||"}  # (a op b) op c == a op (b op c), wrapping included


def _op(t: TypingAny) -> str | None:
    """The operator of a ``binop`` node, or None for anything else."""
    if isinstance(t, Tree) and t.data == "binop" and len(t.children) == 3:
        op = t.children[1]
        return str(op) if isinstance(op, Token) else None
    return None


def _meta(first: TypingAny, last: TypingAny) -> Meta:
    """A span from the start of ``first`` to the end of ``last`` (trees or tokens)."""
    m = Meta()  # type: ignore[no-untyped-call]
    a = first.meta if isinstance(first, Tree) else first
    b = last.meta if isinstance(last, Tree) else last
    if getattr(a, "line", None) is None or getattr(b, "end_line", None) is None:
        return m
    m.line, m.column = a.line, a.column
    m.end_line, m.end_column = b.end_line, b.end_column
    m.start_pos, m.end_pos = getattr(a, "start_pos", 0), getattr(b, "end_pos", 0)
    m.empty = False
    return m


def _balanced(operands: list[TypingAny], op: Token) -> TypingAny:
    """``operands`` joined by ``op`` as a balanced tree (recursion depth log2 of them)."""
    if len(operands) == 1:
        return operands[0]
    mid = len(operands) // 2
    left, right = _balanced(operands[:mid], op), _balanced(operands[mid:], op)
    return Tree("binop", [left, op, right], _meta(operands[0], operands[-1]))


def _folds_differently(op: str, operands: list[TypingAny]) -> bool:
    """Whether regrouping a chain of ``op`` could change how it is checked: the checker
    folds an all-literal sub-expression as an unbounded number that must fit its type
    (``y + (200 + 100)`` is an error in u8, while ``y + 200 + 100`` wraps), so an
    arithmetic chain with number literals in it keeps its shape (and a very long one is
    then a nesting error, not a different meaning)."""
    return op in ("+", "*") and any(isinstance(o, Tree) and o.data == "number" for o in operands)


def _rebalance(tree: Tree[Token]) -> None:
    """Rebuild long chains in place so that the tree stays shallow: a left-nested chain
    of one associative operator (``a + b + ... + z``) as a balanced tree of it, and a
    chain of implications ``a ==> b ==> ... ==> z`` as ``(a && b && ...) ==> z`` (the
    same formula), its conjunction balanced.  Iterative: chains of any length.  A
    balanced sum of constants is folded as a number that must fit its type, where the
    chain would wrap at each step: a chain whose regrouped constants do not fit is then
    a located error (see also :func:`_folds_differently`)."""
    todo: list[Tree[Token]] = [tree]
    while todo:
        t = todo.pop()
        op = _op(t)
        if op in _ASSOCIATIVE:
            operands: list[TypingAny] = []
            cur: TypingAny = t
            while _op(cur) == op:
                assert isinstance(cur, Tree)
                operands.append(cur.children[2])
                cur = cur.children[0]
            operands.append(cur)
            operands.reverse()
            if len(operands) >= CHAIN and not _folds_differently(op, operands):
                token = t.children[1]
                assert isinstance(token, Token)
                top = _balanced(operands, token)
                assert isinstance(top, Tree)
                t.children = top.children
            else:
                operands = [c for c in t.children if not isinstance(c, Token)]
        elif op == "==>":
            antecedents: list[TypingAny] = []
            cur = t
            while _op(cur) == "==>":
                assert isinstance(cur, Tree)
                antecedents.append(cur.children[0])
                cur = cur.children[2]
            if len(antecedents) + 1 >= CHAIN:
                token = t.children[1]
                assert isinstance(token, Token)
                conj = Token.new_borrow_pos("AND", "&&", token)
                t.children = [_balanced(antecedents, conj), token, cur]
            operands = [*antecedents, cur]
        else:
            operands = list(t.children)
        todo.extend(c for c in operands if isinstance(c, Tree))


def _check_nesting(tree: Tree[Token], text: str, path: str) -> None:
    """A located error at the first node nested deeper than :data:`MAX_NESTING`."""
    todo: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while todo:
        t, depth = todo.pop()
        if depth > MAX_NESTING:
            meta = t.meta
            line = getattr(meta, "line", 1) if not meta.empty else 1
            col = getattr(meta, "column", 1) if not meta.empty else 1
            span = s.Span(path, line, col, line, col + 1)
            message = f"expression nests deeper than {MAX_NESTING} levels"
            raise SpecError([Diagnostic(span, message, source_line(text, line))])
        todo.extend((c, depth + 1) for c in t.children if isinstance(c, Tree))


# ---- the tree builder ----------------------------------------------------------


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
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


_BINOPS = {op.value: op for op in s.BinOp}
_UNOPS = {op.value: op for op in s.UnOp}


@v_args(meta=True, inline=True)
class _Build(Transformer_NonRecursive[Token, TypingAny]):
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
        name, base, description = header
        return s.SpecFile(
            name, base, description, tuple(items), path=self.path, span=self._span(meta)
        )

    def spec_header(
        self, meta: Meta, name: Token, desc: Token | None
    ) -> tuple[str, None, str | None]:
        return str(name), None, _string(desc)

    def variant_header(
        self, meta: Meta, name: Token, base: Token, desc: Token | None
    ) -> tuple[str, str, str | None]:
        return str(name), str(base), _string(desc)

    # ---- declarations
    def const_decl(self, meta: Meta, name: Token, value: s.Expr) -> s.ConstDecl:
        return s.ConstDecl(str(name), value, self._span(meta))

    def set_decl(self, meta: Meta, name: Token, value: s.Expr) -> s.SetDecl:
        return s.SetDecl(str(name), value, self._span(meta))

    def sort_decl(self, meta: Meta, name: Token, size: s.Expr) -> s.SortDecl:
        return s.SortDecl(str(name), size, self._span(meta))

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
        return s.VarDecl(str(name), type_, ghost, self._span(meta))

    def depth_decl(self, meta: Meta, value: s.Expr) -> s.DepthDecl:
        return s.DepthDecl(value, self._span(meta))

    @v_args(meta=True, inline=False)
    def config_decl(self, meta: Meta, children: list[TypingAny]) -> s.ConfigDecl:
        name, desc, *items = children
        return s.ConfigDecl(str(name), _string(desc), tuple(items), self._span(meta))

    @v_args(meta=True, inline=False)
    def merge_decl(self, meta: Meta, children: list[TypingAny]) -> s.ConfigDecl:
        name, desc, *items = children
        return s.ConfigDecl(str(name), _string(desc), tuple(items), self._span(meta), merge=True)

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
                    name = str(child)
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
            name, tuple(params), actor, guard, body, replace, description, span=self._span(meta)
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
        return s.Actor(str(label), None if param is None else str(param), self._span(meta))

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
        )

    def cover_for(self, meta: Meta, name: Token) -> _CoverFor:
        return _CoverFor(str(name))

    def remove_decl(self, meta: Meta, what: Tree[Token], name: Token) -> s.RemoveDecl:
        return s.RemoveDecl(str(what.children[0]), str(name), self._span(meta))

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
            str(var), str(sort), where, tuple(body), self._span(meta), self._token_span(var)
        )

    def assume_stmt(self, meta: Meta, cond: s.Expr) -> s.Assume:
        return s.Assume(cond, self._span(meta))

    def choose_stmt(
        self, meta: Meta, name: Token, type_: s.TypeExpr, where: s.Expr | None
    ) -> s.Choose:
        return s.Choose(str(name), type_, where, self._span(meta))

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


def grammar_text() -> str:
    """The grammar's source (grammar/fusever.lark), for tools that read its words."""
    return _grammar_text()
