"""The diagnostics of one check, located in the spec's source.

Every pass of the front end (:mod:`fusever.lineage` to :mod:`fusever.flow`) reports its
problems into one :class:`Diags`: it takes the source texts of the files checked and
gives located :class:`~fusever.diagnostics.Diagnostic` objects (a declared name's own
span found in the text, the source line for the caret), raised together, sorted by
position, as one :class:`~fusever.diagnostics.SpecError`.  Nothing here checks a spec.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping

from fusever import syntax as s
from fusever.diagnostics import Diagnostic, Note, SpecError
from fusever.parse import source_line

__all__ = ["Diags", "ref_span", "sorted_diagnostics", "within"]

_WORD = r"(?<![A-Za-z0-9_]){}(?![A-Za-z0-9_])"


class Diags:
    """The diagnostics of one check, and the source texts their lines come from."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = dict(texts)
        self.items: list[Diagnostic] = []
        self._starts: dict[str, list[int]] = {}  # per file: where each line starts

    def _line_starts(self, file: str, text: str) -> list[int]:
        # computed once per file: name_span runs for every declaration, and scanning
        # the text from its start each time made checking quadratic in the spec's size
        starts = self._starts.get(file)
        if starts is None:
            starts = [0, *(m.end() for m in re.finditer("\n", text))]
            self._starts[file] = starts
        return starts

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

    def name_span(self, span: s.Span, name: str, skip: int = 1) -> s.Span:
        """The span of ``name`` inside ``span``, after its first ``skip`` words (keywords)."""
        text = self.texts.get(span.file)
        if text is None or span.line < 1:
            return span
        starts = self._line_starts(span.file, text)
        if span.line > len(starts):
            return span
        start = starts[span.line - 1] + span.col - 1
        for _ in range(skip):
            m = _NEXT_WORD.match(text, start)
            if m is None:
                return span
            start = m.end()
        at = _find_word(text, name, start)
        if at < 0:
            return span
        line = bisect.bisect_right(starts, at)
        col = at - starts[line - 1] + 1
        return s.Span(span.file, line, col, line, col + len(name))


_NEXT_WORD = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*")


def _find_word(text: str, name: str, start: int) -> int:
    """Where ``name`` first occurs as a whole word at or after ``start``, or -1 (what
    the regex ``_WORD`` finds, without compiling a pattern per name)."""
    at = text.find(name, start)
    while at >= 0:
        end = at + len(name)
        before = text[at - 1] if at > 0 else " "
        after = text[end] if end < len(text) else " "
        if not (before.isascii() and (before.isalnum() or before == "_")) and not (
            after.isascii() and (after.isalnum() or after == "_")
        ):
            return at
        at = text.find(name, at + 1)
    return -1


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


def ref_span(e: s.Ref) -> s.Span:
    """The name of a reference (without its prime and index)."""
    sp = e.span
    return s.Span(sp.file, sp.line, sp.col, sp.line, sp.col + len(e.name))
