"""Conformance, step one: the patched functions taken from a kernel tree with a C parser.

tree-sitter's C grammar (the ``conform`` extra) parses each file the mapping names;
kernel C with its macros parses with local ERROR nodes at worst, and a function
definition is found by its declarator's name wherever it sits.  A function is taken
whole, or as *fragments*: the statements of its body whose text contains one of the
mapping's patterns (whitespace ignored; the outermost statement that matches), so
that a long kernel function contributes only the lines the model covers.

The text taken is instrumented at the tracked fields: a plain increment
``x->write_seq++`` becomes ``CONFORM_INC(x->write_seq, "write_seq")`` (a load, a
scheduling point, a store: fusever/conform_c/shim.h).  Every piece keeps its file and
first line, so the generated source can say ``#line`` and every scheduling point
reports the kernel's own line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fusever.conform_data import FieldReq, FunctionSpec, ModelMapping

__all__ = [
    "ExtractError",
    "Extracted",
    "ParserMissing",
    "Piece",
    "extract",
    "parser_available",
]

INSTALL_HINT = "pip install 'fusever[conform]' (tree-sitter and tree-sitter-c from PyPI)"


class ExtractError(Exception):
    """A function, fragment or field the mapping needs is not in the tree (exit 2)."""


class ParserMissing(ExtractError):
    """tree-sitter or its C grammar is not installed (exit 2, with the install hint)."""


@dataclass(frozen=True, slots=True)
class Piece:
    """Source text taken from the tree: the text, its file (relative) and first line."""

    text: str
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Extracted:
    functions: tuple[tuple[str, Piece, str], ...]  # name, definition, prototype
    fragments: tuple[tuple[str, tuple[Piece, ...]], ...]  # "function.fragment", statements

    def fragment(self, key: str) -> tuple[Piece, ...]:
        for k, pieces in self.fragments:
            if k == key:
                return pieces
        raise KeyError(key)


def _parser() -> Any:
    try:
        import tree_sitter
        import tree_sitter_c
    except ImportError:
        raise ParserMissing(f"fusever conform needs a C parser: {INSTALL_HINT}") from None
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))


def parser_available() -> bool:
    try:
        _parser()
    except ParserMissing:
        return False
    return True


def _name_of(declarator: Any) -> str | None:
    node = declarator
    while node is not None:
        if node.type == "function_declarator":
            inner = node.child_by_field_name("declarator")
            while inner is not None and inner.type in (
                "pointer_declarator",
                "parenthesized_declarator",
            ):
                inner = inner.child_by_field_name("declarator") or (
                    inner.named_children[0] if inner.named_children else None
                )
            return inner.text.decode() if inner is not None and inner.type == "identifier" else None
        node = node.child_by_field_name("declarator")
    return None


def _walk(node: Any) -> Any:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _functions(root: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in _walk(root):
        if n.type == "function_definition":
            name = _name_of(n.child_by_field_name("declarator"))
            if name is not None and name not in out:
                out[name] = n
    return out


_SPACE = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def _is_statement(n: Any) -> bool:
    kind: str = n.type
    return kind.endswith("_statement") or kind == "declaration"


def _matching(body: Any, patterns: tuple[str, ...]) -> list[Any]:
    wanted = [_squash(p) for p in patterns]
    out: list[Any] = []

    def visit(n: Any) -> None:
        for c in n.named_children:
            if _is_statement(c) and c.type != "compound_statement":
                text = _squash(c.text.decode())
                if any(w in text for w in wanted):
                    out.append(c)
                    continue
            visit(c)

    visit(body)
    return out


def _instrument(node: Any, source: bytes, increments: tuple[str, ...]) -> str:
    """The node's text with each plain increment of a tracked field rewritten."""
    edits: list[tuple[int, int, str]] = []
    for n in _walk(node):
        target = None
        pre = False
        if n.type == "update_expression":
            arg = n.child_by_field_name("argument")
            op = n.child_by_field_name("operator")
            if op is not None and op.text == b"++":
                target = arg
                pre = n.children[0].type == "++"
        elif n.type == "assignment_expression":
            op = n.child_by_field_name("operator")
            right = n.child_by_field_name("right")
            if op is not None and op.text == b"+=" and right is not None and right.text == b"1":
                target, pre = n.child_by_field_name("left"), True
        if target is None or target.type != "field_expression":
            continue
        fld = target.child_by_field_name("field")
        if fld is None or fld.text.decode() not in increments:
            continue
        macro = "CONFORM_PREINC" if pre else "CONFORM_INC"
        lv = target.text.decode()
        edits.append((n.start_byte, n.end_byte, f'{macro}({lv}, "{fld.text.decode()}")'))
    text = source[node.start_byte : node.end_byte]
    for start, end, new in sorted(edits, reverse=True):
        text = text[: start - node.start_byte] + new.encode() + text[end - node.start_byte :]
    return text.decode()


def _check_field(parser: Any, tree: Path, req: FieldReq, cache: dict[str, Any]) -> None:
    path = tree / req.header
    if req.header not in cache:
        try:
            cache[req.header] = parser.parse(path.read_bytes()).root_node
        except OSError:
            raise ExtractError(
                f"{path}: cannot read the header (needed for struct {req.struct})"
            ) from None
    for n in _walk(cache[req.header]):
        if n.type != "struct_specifier":
            continue
        name = n.child_by_field_name("name")
        body = n.child_by_field_name("body")
        if name is None or body is None or name.text.decode() != req.struct:
            continue
        for f in _walk(body):
            if f.type == "field_identifier" and f.text.decode() == req.name:
                return
        raise ExtractError(f"{req.header}: struct {req.struct} has no field {req.name}")
    raise ExtractError(f"{req.header}: no definition of struct {req.struct}")


def extract(tree: str | Path, mapping: ModelMapping) -> Extracted:
    """Every function and fragment the mapping names, from ``tree``; the fields checked."""
    root_dir = Path(tree)
    parser = _parser()
    headers: dict[str, Any] = {}
    for req in mapping.fields:
        _check_field(parser, root_dir, req, headers)
    parsed: dict[str, tuple[bytes, dict[str, Any]]] = {}
    functions: list[tuple[str, Piece, str]] = []
    fragments: list[tuple[str, tuple[Piece, ...]]] = []
    for spec in mapping.functions:
        if spec.file not in parsed:
            path = root_dir / spec.file
            try:
                src = path.read_bytes()
            except OSError:
                raise ExtractError(f"{path}: cannot read it (needed for {spec.name})") from None
            parsed[spec.file] = (src, _functions(parser.parse(src).root_node))
        src, defs = parsed[spec.file]
        node = defs.get(spec.name)
        if node is None:
            raise ExtractError(f"{spec.file}: no function {spec.name}")
        if spec.whole:
            functions.append(_whole(spec, node, src, mapping.increments))
        else:
            fragments.extend(_fragments(spec, node, src, mapping.increments))
    return Extracted(tuple(functions), tuple(fragments))


def _whole(
    spec: FunctionSpec, node: Any, src: bytes, incs: tuple[str, ...]
) -> tuple[str, Piece, str]:
    body = node.child_by_field_name("body")
    proto = src[node.start_byte : body.start_byte].decode().strip() + ";"
    text = _instrument(node, src, incs)
    return spec.name, Piece(text, spec.file, node.start_point[0] + 1), proto


def _fragments(
    spec: FunctionSpec, node: Any, src: bytes, incs: tuple[str, ...]
) -> list[tuple[str, tuple[Piece, ...]]]:
    body = node.child_by_field_name("body")
    out: list[tuple[str, tuple[Piece, ...]]] = []
    for frag in spec.fragments:
        found = _matching(body, frag.match)
        if not found and not frag.optional:
            pats = ", ".join(f"`{m}`" for m in frag.match)
            raise ExtractError(
                f"{spec.file}: {spec.name} has no statement matching {pats} (fragment {frag.name})"
            )
        if len(found) > 1 and not frag.many:
            lines = ", ".join(str(n.start_point[0] + 1) for n in found)
            raise ExtractError(
                f"{spec.file}: {spec.name}: fragment {frag.name} matches {len(found)} statements "
                f"(lines {lines}); the mapping expects one"
            )
        pieces = tuple(
            Piece(_instrument(n, src, incs), spec.file, n.start_point[0] + 1) for n in found
        )
        out.append((f"{spec.name}.{frag.name}", pieces))
    return out
