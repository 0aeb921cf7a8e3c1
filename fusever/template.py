"""Action descriptions: templates whose holes show argument values or choose words.

A description is text with holes (docs/language.md, "Actions")::

    "the daemon writes opener {f}'s OPEN {err ? error reply : reply}"
    "thread {w} {op == o_open ? opens : reads} file {f}"

- ``{p}`` is the value of parameter ``p``;
- ``{p ? yes : no}`` is ``yes`` when the bool parameter ``p`` is true, else ``no``;
- ``{p == v ? yes : no}`` (or ``!=``) compares ``p`` with a value ``v`` (an enum
  member, a number, ``true`` or ``false``);
- either branch may be empty and may hold ``{q}`` holes (not further choices); spaces
  around a branch are dropped, and an empty choice between two spaces leaves one.

The checker parses every description (:func:`parse`) and checks its names against the
action's parameters; the reports render it (:func:`render`) from argument texts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = ["Choice", "Hole", "Piece", "TemplateError", "holes", "parse", "render"]


@dataclass(frozen=True, slots=True)
class Hole:
    name: str


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    op: Literal["==", "!="] | None  # None: the parameter itself (a bool)
    value: str | None
    then: tuple[str | Hole, ...]
    else_: tuple[str | Hole, ...]


Piece = str | Hole | Choice


class TemplateError(ValueError):
    """A hole that is neither ``{p}`` nor a choice; the message says what was found."""


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_HOLE = re.compile(rf"\s*({_NAME})\s*")
_TEST = re.compile(rf"\s*({_NAME})\s*(?:(==|!=)\s*(-?[A-Za-z0-9_]+)\s*)?\?")
_SHAPES = "`{p}`, `{p ? yes : no}` or `{p == v ? yes : no}`"


def _plain(text: str, what: str) -> tuple[str | Hole, ...]:
    """A branch: text with ``{q}`` holes only."""
    out: list[str | Hole] = []
    pos = 0
    for m in re.finditer(r"\{([^{}]*)\}", text):
        hole = _HOLE.fullmatch(m.group(1))
        if hole is None:
            raise TemplateError(
                f"`{{{m.group(1)}}}` in {what}: a branch may hold only `{{p}}` holes"
            )
        out.extend([text[pos : m.start()], Hole(hole.group(1))])
        pos = m.end()
    if "{" in text[pos:] or "}" in text[pos:]:
        raise TemplateError(f"an unmatched brace in {what}")
    out.append(text[pos:])
    return tuple(p for p in out if p != "")


def _hole(inner: str) -> Piece:
    """What is between a hole's outer braces."""
    plain = _HOLE.fullmatch(inner)
    if plain is not None:
        return Hole(plain.group(1))
    test = _TEST.match(inner)
    if test is None:
        raise TemplateError(f"`{{{inner}}}` is not a hole: write {_SHAPES}")
    rest = inner[test.end() :]
    depth, colon = 0, -1
    for i, c in enumerate(rest):  # the `:` between the branches is outside any `{q}`
        depth += c == "{"
        depth -= c == "}"
        if c == ":" and depth == 0:
            colon = i
            break
    if colon < 0:
        raise TemplateError(f"`{{{inner}}}` has no `:` between its two branches: write {_SHAPES}")
    name, value = test.group(1), test.group(3)
    op: Literal["==", "!="] | None = (
        "==" if test.group(2) == "==" else "!=" if test.group(2) else None
    )
    what = f"`{{{inner}}}`"
    then, else_ = rest[:colon].strip(), rest[colon + 1 :].strip()
    return Choice(name, op, value, _plain(then, what), _plain(else_, what))


def parse(text: str) -> tuple[Piece, ...]:
    """A description's pieces; raises :class:`TemplateError` on a malformed hole."""
    out: list[Piece] = []
    pos = 0
    while pos < len(text):
        start = text.find("{", pos)
        stray = text.find("}", pos)
        if stray >= 0 and (start < 0 or stray < start):
            raise TemplateError("a `}` with no `{` before it")
        if start < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        depth, end = 0, -1
        for i in range(start, len(text)):
            depth += text[i] == "{"
            depth -= text[i] == "}"
            if depth == 0:
                end = i
                break
        if end < 0:
            raise TemplateError("a `{` with no matching `}`")
        out.append(_hole(text[start + 1 : end]))
        pos = end + 1
    return tuple(p for p in out if p != "")


def holes(pieces: tuple[Piece, ...]) -> Iterator[Hole | Choice]:
    """Every hole and choice, and the holes inside choices, in order."""
    for p in pieces:
        if isinstance(p, Hole):
            yield p
        elif isinstance(p, Choice):
            yield p
            yield from (q for q in (*p.then, *p.else_) if isinstance(q, Hole))


def render(pieces: tuple[Piece, ...], value: Callable[[str], str | None]) -> str:
    """The text, each hole filled by ``value(name)`` (a parameter's value as text); a
    hole whose parameter has no value is left as written."""

    def fill(ps: tuple[str | Hole, ...] | tuple[Piece, ...]) -> str:
        out: list[str] = []
        for p in ps:
            match p:
                case str():
                    out.append(p)
                case Hole(name=name):
                    v = value(name)
                    out.append(f"{{{name}}}" if v is None else v)
                case Choice(name=name, op=op, value=want, then=then, else_=else_):
                    v = value(name)
                    if v is None:
                        out.append(f"{{{name} ? …}}")
                        continue
                    yes = v == "true" if op is None else (v == want) == (op == "==")
                    words = fill(then if yes else else_)
                    if not words and out and out[-1].endswith(" "):
                        out[-1] = out[-1][:-1]  # `the {err ? error :} reply`: one space stays
                    out.append(words)
        return "".join(out)

    return fill(pieces)
