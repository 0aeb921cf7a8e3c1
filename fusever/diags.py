"""The diagnostics of one check, located in the spec's source.

Every pass of the front end (:mod:`fusever.lineage` to :mod:`fusever.flow`) reports its
problems into one :class:`Diags`: it takes the source texts of the files checked and
gives located :class:`~fusever.diagnostics.Diagnostic` objects (the source line for the
caret), raised together, sorted by position, as one
:class:`~fusever.diagnostics.SpecError`.  A declared name's own span is not found here:
the parser records it on the syntax node (``name_span`` and the like), from the
lexer's token.  Nothing here checks a spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fusever import syntax as s
from fusever.diagnostics import Diagnostic, Note, SpecError
from fusever.parse import source_line

__all__ = ["Diags", "name_at", "ref_span", "sorted_diagnostics", "within"]


class Diags:
    """The diagnostics of one check, and the source texts their lines come from."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = dict(texts)
        self.items: list[Diagnostic] = []

    def _line(self, span: s.Span | None) -> str | None:
        if span is None or span.file not in self.texts:
            return None
        return source_line(self.texts[span.file], span.line)

    def note(self, span: s.Span | None, message: str) -> Note:
        return Note(span, message, self._line(span))

    def error(self, span: s.Span | None, message: str, notes: Iterable[Note] = ()) -> None:
        self.items.append(Diagnostic(span, message, self._line(span), tuple(notes)))

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(sorted_diagnostics(self.items))


def sorted_diagnostics(ds: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics by position (located ones after those without a span), duplicates
    dropped: one message per place, the first (an inlined body reached twice says it once)."""
    seen: set[tuple[s.Span | None, str]] = set()
    unique: list[Diagnostic] = []
    for d in ds:
        if (d.span, d.message) not in seen:
            seen.add((d.span, d.message))
            unique.append(d)

    def key(d: Diagnostic) -> tuple[int, str, int, int]:
        if d.span is None:
            return (0, "", 0, 0)
        return (1, d.span.file, d.span.line, d.span.col)

    return sorted(unique, key=key)


def within(inner: s.Span, outer: s.Span) -> bool:
    """Whether ``inner`` lies inside ``outer`` (same file, by line and column)."""
    return (
        inner.file == outer.file
        and (inner.line, inner.col) >= (outer.line, outer.col)
        and (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col)
    )


def name_at(name_span: s.Span, span: s.Span) -> s.Span:
    """A declared name's own span, as the parser recorded it from the name's token; the
    whole node's ``span`` for a node made without positions (``NOWHERE``, line 0)."""
    return name_span if name_span.line else span


def ref_span(e: s.Ref) -> s.Span:
    """The name of a reference (without its prime and index)."""
    sp = e.span
    return s.Span(sp.file, sp.line, sp.col, sp.line, sp.col + len(e.name))
