"""The parse stage: spec text to the syntax tree of :mod:`fusever.syntax`.

The concrete syntax lives in ``grammar/fusever.lark`` (installed as the data package
``fusever.grammar``); this module builds the LALR parser once, parses, keeps the
tree shallow (long chains rebalanced, deep nesting an error) and has
:class:`~fusever.parse_build.Build` turn it into frozen dataclasses with a
:class:`~fusever.syntax.Span` on every node.  A syntax error becomes a
:class:`~fusever.diagnostics.SpecError` saying what was found and what was expected
there, in the words a spec author uses.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import itertools
import sys
from pathlib import Path
from typing import Any as TypingAny
from typing import NoReturn

from lark import Lark, Token, Tree
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.lexer import PatternStr
from lark.tree import Meta

from fusever import syntax as s
from fusever.diagnostics import Diagnostic, SpecError
from fusever.parse_build import Build

__all__ = ["MAX_NESTING", "header", "parse_text", "source_line"]

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
PARSE_CACHE_SIZE = 256  # parsed files kept, keyed on (text, path); least recently used dropped

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


@functools.cache
def _lexer() -> Lark:
    """The grammar's lexer alone, built once per process: ``Lark.lex`` on the parser
    builds a new one on every call (a tenth of a second: lark checks its terminals
    for collisions), and ``load`` reads the header of every spec beside a variant."""
    return Lark(_grammar_text(), parser=None, lexer="basic")


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def header(text: str) -> str | None:
    """The spec name a file's header declares (``spec NAME`` or ``variant NAME of``),
    read by the grammar's own lexer from the first two tokens, without parsing the
    rest; None when the file does not start with a header."""
    try:
        first = list(itertools.islice(_lexer().lex(text), 2))
    except UnexpectedInput:
        return None
    if len(first) == 2 and first[0].type in ("SPEC", "VARIANT") and first[1].type == "NAME":
        return str(first[1])
    return None


def parse_text(text: str, path: str) -> s.SpecFile:
    """Parse one spec file; raise :class:`SpecError` on a syntax error.

    The result is cached on ``(text, path)`` (the tree is frozen, so sharing it is
    safe): ``regress`` loads the same few files dozens of times.  A syntax error is
    not cached; it is raised again, the same, on every call."""
    # every later pass walks the tree recursively: the limit is raised on a cache hit too
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    return _parse(text, path)


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse(text: str, path: str) -> s.SpecFile:
    parser = _parser()
    try:
        tree = parser.parse(text)
    except UnexpectedInput as e:
        _syntax_error(e, text, path, parser)
    _rebalance(tree)
    _check_nesting(tree, text, path)
    try:
        spec = Build(path).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, SpecError):
            raise SpecError([_with_line(d, text) for d in e.orig_exc.diagnostics]) from None
        raise
    assert isinstance(spec, s.SpecFile)
    return dataclasses.replace(spec, path=path, text=text)


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
    """``operands`` joined by ``op`` as a balanced tree of ``chain`` nodes (recursion
    depth log2 of them)."""
    if len(operands) == 1:
        return operands[0]
    mid = len(operands) // 2
    left, right = _balanced(operands[:mid], op), _balanced(operands[mid:], op)
    return Tree("chain", [left, op, right], _meta(operands[0], operands[-1]))


def _left_chain(t: TypingAny, ops: frozenset[str]) -> list[TypingAny] | None:
    """The operands and operators of a left-to-right chain of ``ops`` from ``t``
    down its left spine, in source order (``[a, +, b, -, c]``); None if ``t`` is not
    one of them."""
    if _op(t) not in ops:
        return None
    items: list[TypingAny] = []
    cur: TypingAny = t
    while _op(cur) in ops:
        assert isinstance(cur, Tree)
        items += [cur.children[2], cur.children[1]]
        cur = cur.children[0]
    items.append(cur)
    items.reverse()
    return items


def _rebalance(tree: Tree[Token]) -> None:
    """Rebuild long chains in place so that the tree stays shallow (a chain written on
    one line is not nesting): a left-to-right chain of one associative operator
    (``a + b + ... + z``) as a balanced tree of it, a chain of subtractions
    ``a - b - ... - z`` as ``a - (b + ... + z)`` (the same value, wrapping included),
    and a chain of implications ``a ==> b ==> ... ==> z`` as ``(a && b && ...) ==> z``
    (the same formula), its conjunction balanced.  The regrouped nodes are ``chain``
    nodes: the checker folds their constant operands one by one, as the chain would
    (:attr:`fusever.syntax.Binary.regrouped`), so regrouping changes no meaning (one
    difference in errors: the constant operands a long chain starts with are each
    checked to fit its type, where the chain as written checks their sum).  Iterative, and each chain walked once: chains of any length."""
    todo: list[Tree[Token]] = [tree]
    while todo:
        t = todo.pop()
        op = _op(t)
        operands: list[TypingAny]
        if op in _ASSOCIATIVE:
            items = _left_chain(t, frozenset({op}))
            assert items is not None
            operands = items[::2]
            if len(operands) >= CHAIN:
                token = t.children[1]
                assert isinstance(token, Token)
                mid = len(operands) // 2
                t.children = [_balanced(operands[:mid], token), token,
                              _balanced(operands[mid:], token)]  # fmt: skip
        elif (
            op == "-"
            and (items := _left_chain(t, frozenset({"-"}))) is not None
            and (len(items) // 2 + 1 >= CHAIN)
        ):
            operands = items[::2]
            token = t.children[1]
            assert isinstance(token, Token)
            plus = Token.new_borrow_pos("ADDOP", "+", token)
            t.children = [operands[0], token, _balanced(operands[1:], plus)]
        elif op == "==>":
            antecedents: list[TypingAny] = []
            cur: TypingAny = t
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
    """A located error at the first node nested deeper than :data:`MAX_NESTING`; a
    long left-to-right chain of an operator that cannot be regrouped (``x << 1 << 1
    ...``) is said to be one, not nesting."""
    todo: list[tuple[Tree[Token], int, int]] = [(tree, 0, 0)]
    while todo:
        t, depth, links = todo.pop()
        if depth > MAX_NESTING:
            meta = t.meta
            line = getattr(meta, "line", 1) if not meta.empty else 1
            col = getattr(meta, "column", 1) if not meta.empty else 1
            span = s.Span(path, line, col, line, col + 1)
            message = f"expression nests deeper than {MAX_NESTING} levels"
            if links > MAX_NESTING // 2:
                message = (
                    "a chain of operators read left to right is too long to check here "
                    f"(more than {MAX_NESTING} levels); split it with parentheses or a `def`"
                )
            raise SpecError([Diagnostic(span, message, source_line(text, line))])
        # a binop's left operand continues a left-to-right chain (its right operand
        # is as deep as the chain made it)
        chained = t.data in ("binop", "chain") and len(t.children) == 3
        for i, c in enumerate(t.children):
            if isinstance(c, Tree):
                todo.append((c, depth + 1, (links + (i == 0)) if chained else 0))


def grammar_text() -> str:
    """The grammar's source (grammar/fusever.lark), for tools that read its words."""
    return _grammar_text()
