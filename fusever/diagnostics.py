"""Errors a user can act on: a located message, the source line and a caret.

Stages collect :class:`Diagnostic` values in a list passed through them (no global
state) and raise one :class:`SpecError` with all of them at the end of the stage.
Rendering is :func:`fusever.report.render_diagnostics`; this module only holds data.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fusever.vocabulary import Span


@dataclass(frozen=True, slots=True)
class Note:
    span: Span | None
    message: str
    line_text: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """``span.file:line:col: error: message``; ``line_text`` is the span's source line."""

    span: Span | None
    message: str
    line_text: str | None = None
    notes: tuple[Note, ...] = ()


class SpecError(Exception):
    """A user's mistake in a spec, a flag or a file: exit code 2."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        assert diagnostics, "a SpecError needs at least one diagnostic"
        super().__init__("\n".join(d.message for d in diagnostics))
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)


def line_of(text: str, line: int) -> str | None:
    """The 1-based ``line`` of ``text`` without its newline, or None when out of range."""
    lines = text.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""
