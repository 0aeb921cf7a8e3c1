"""The report stage: the only place that formats anything for people or tools.

Diagnostics (``file:line:col: error: message``, the source line and a caret),
result tables, step tables for traces, JSON, JUnit XML and ITF traces.
"""

from __future__ import annotations

from collections.abc import Iterable

from fusever.diagnostics import Diagnostic, Note
from fusever.syntax import Span


def _caret(span: Span, line_text: str) -> str:
    start = max(span.col - 1, 0)
    if span.end_line == span.line and span.end_col > span.col:
        width = span.end_col - span.col
    else:
        width = 1
    width = max(1, min(width, max(len(line_text) - start, 1)))
    # keep tabs in the gutter so the caret lines up under the source
    gutter = "".join("\t" if ch == "\t" else " " for ch in line_text[:start])
    return gutter + "^" * width


def _located(span: Span | None, kind: str, message: str, line_text: str | None) -> list[str]:
    where = f"{span.file}:{span.line}:{span.col}: " if span is not None else "fusever: "
    out = [f"{where}{kind}: {message}"]
    if span is not None and line_text is not None:
        out.append(f"  {line_text}")
        out.append(f"  {_caret(span, line_text)}")
    return out


def render_diagnostic(d: Diagnostic) -> str:
    lines = _located(d.span, "error", d.message, d.line_text)
    for n in d.notes:
        lines += _note(n)
    return "\n".join(lines)


def _note(n: Note) -> list[str]:
    return _located(n.span, "note", n.message, n.line_text)


def render_diagnostics(ds: Iterable[Diagnostic]) -> str:
    return "\n".join(render_diagnostic(d) for d in ds)
