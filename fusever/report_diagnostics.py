"""Diagnostics for people and for editors: ``file:line:col: error: message``, the
source line and a caret, every note the same way, at most :data:`MAX_ERRORS` per file;
and the same diagnostics as JSON (``fusever check --format json``).

Bounded on purpose: a diagnostic echoes a window of its source line and cuts
over-long words, so a 200 KB identifier is not printed whole, twice.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence

from fusever import __version__
from fusever.diagnostics import Diagnostic, Note, line_of
from fusever.pins import Pin
from fusever.ts import TransitionSystem
from fusever.vocabulary import Span

# Bounds on what a diagnostic echoes (a 200 KB identifier was printed whole, twice):
LINE_CHARS = 160  # the source line: a window of this many characters around the caret
WORD_CHARS = 60  # a word of a message (a name, a number, a token) longer than this is cut
MESSAGE_CHARS = 600  # a whole message (a long "description" is many short words)
MAX_ERRORS = 50  # per file; the rest are counted
MAX_NOTES = 10  # per diagnostic; the rest are counted
ELLIPSIS = "…"
_LONG_WORD = re.compile(rf"\S{{{WORD_CHARS + 2},}}")


def _short_words(message: str) -> str:
    """``message`` with every over-long word cut to :data:`WORD_CHARS` and an ellipsis
    (a closing backtick or quote kept, so the quoting still reads)."""

    def cut(m: re.Match[str]) -> str:
        word = m.group(0)
        tail = word[-1] if word[-1] in "`'\"" else ""
        return word[:WORD_CHARS] + ELLIPSIS + tail

    short = _LONG_WORD.sub(cut, message)
    return short if len(short) <= MESSAGE_CHARS else short[:MESSAGE_CHARS] + ELLIPSIS


def _window(span: Span, line_text: str) -> tuple[Span, str]:
    """A long source line cut to :data:`LINE_CHARS` around the span's start, with an
    ellipsis at each cut end, and the span moved to match (its column only)."""
    if len(line_text) <= LINE_CHARS:
        return span, line_text
    col = max(span.col - 1, 0)
    start = max(0, min(col - LINE_CHARS // 4, len(line_text) - LINE_CHARS))
    end = start + LINE_CHARS
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(line_text) else ""
    shift = start - len(head)
    width = span.end_col - span.col if span.end_line == span.line else 1
    new_col = span.col - shift
    moved = Span(span.file, span.line, new_col, span.line, new_col + max(1, min(width, end - col)))
    return moved, head + line_text[start:end] + tail


def _caret(span: Span, line_text: str) -> str:
    start = max(span.col - 1, 0)
    one_line = span.end_line == span.line and span.end_col > span.col
    width = span.end_col - span.col if one_line else 1
    width = max(1, min(width, max(len(line_text) - start, 1)))
    # keep tabs in the gutter so the caret lines up under the source
    gutter = "".join("\t" if ch == "\t" else " " for ch in line_text[:start])
    return gutter + "^" * width


def _located(span: Span | None, kind: str, message: str, line_text: str | None) -> list[str]:
    where = f"{span.file}:{span.line}:{span.col}: " if span is not None else "fusever: "
    out = [f"{where}{kind}: {_short_words(message)}"]
    if span is not None and line_text is not None:
        shown, text = _window(span, line_text)
        out.append(f"  {text}")
        out.append(f"  {_caret(shown, text)}")
    return out


def render_diagnostic(d: Diagnostic) -> str:
    """One diagnostic, with at most :data:`MAX_NOTES` of its notes and a count of the rest."""
    lines = _located(d.span, "error", d.message, d.line_text)
    for n in d.notes[:MAX_NOTES]:
        lines += _note(n)
    if len(d.notes) > MAX_NOTES:
        lines.append(f"  … and {len(d.notes) - MAX_NOTES} more note(s)")
    return "\n".join(lines)


def _note(n: Note) -> list[str]:
    return _located(n.span, "note", n.message, n.line_text)


def diagnostics_json(diagnostics: Sequence[Diagnostic]) -> str:
    """Diagnostics for editors and scripts (``fusever check --format json``): each
    with its file, 1-based line and column, end (exclusive), severity, message and
    notes, in the order :func:`render_diagnostics` prints them."""

    def where(span: Span | None) -> dict[str, object]:
        if span is None or span.line == 0:
            return {
                "file": None,
                "line": None,
                "column": None,
                "end_line": None,
                "end_column": None,
            }
        return {
            "file": span.file, "line": span.line, "column": span.col,
            "end_line": span.end_line, "end_column": span.end_col,
        }  # fmt: skip

    doc = {
        "fusever": __version__,
        "diagnostics": [
            {
                **where(d.span),
                "severity": "error",
                "message": d.message,
                "notes": [{**where(n.span), "message": n.message} for n in d.notes],
            }
            for d in diagnostics
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def checked_json(systems: Iterable[TransitionSystem]) -> str:
    """``fusever check --format json`` when everything checks: no diagnostics, and each
    spec configuration checked, with its file and its numbers of actions and properties."""
    checked = [
        {"spec": ts.name, "config": ts.config, "file": ts.path,
         "actions": len(ts.actions), "properties": len(ts.properties)}
        for ts in systems
    ]  # fmt: skip
    doc = json.loads(diagnostics_json(()))
    return json.dumps({**doc, "checked": checked}, indent=2) + "\n"


def render_diagnostics(ds: Iterable[Diagnostic]) -> str:
    """Every diagnostic, at most :data:`MAX_ERRORS` per file, then a count of the rest."""
    shown: dict[str | None, int] = {}
    hidden: dict[str | None, int] = {}
    out = []
    for d in ds:
        file = d.span.file if d.span is not None else None
        if shown.get(file, 0) >= MAX_ERRORS:
            hidden[file] = hidden.get(file, 0) + 1
            continue
        shown[file] = shown.get(file, 0) + 1
        out.append(render_diagnostic(d))
    for file, n in hidden.items():
        where = f"{file}: " if file is not None else "fusever: "
        out.append(f"{where}note: {n} more error(s) not shown (the first {MAX_ERRORS} are above)")
    return "\n".join(out)


def render_pin(pin: Pin, texts: Mapping[str, str]) -> str:
    """A stale or orphan pin as a warning at the variant's pin line, with the base's
    declaration as a note and, for a stale pin, the base's change as a unified diff
    (or its text now, when the pinned text is not in git history)."""
    line = line_of(texts.get(pin.at.file, ""), pin.at.line)
    if pin.state == "orphan":
        msg = (
            f"variant `{pin.spec}` pins {pin.kind} `{pin.name}`, which it does not replace "
            f"or extend; `fusever pin {pin.path}` drops the pin"
        )
        return "\n".join(_located(pin.at, "warning", msg, line))
    msg = (
        f"variant `{pin.spec}` {pin.how} {pin.kind} `{pin.name}` of `{pin.base}`, which "
        f"changed since the variant was pinned ({pin.pinned} -> {pin.current}): check that the "
        f"variant still means what it should, then `fusever pin {pin.path}`"
    )
    out = _located(pin.at, "warning", msg, line)
    if pin.base_at is not None:
        base_line = line_of(texts.get(pin.base_at.file, ""), pin.base_at.line)
        out += _located(
            pin.base_at, "note", f"`{pin.base}`'s {pin.kind} `{pin.name}` is here", base_line
        )
    now = pin.now.splitlines()
    if pin.then is None:
        out.append(
            f"  (the pinned text is not in the base file's git history; {pin.kind} `{pin.name}` now:)"
        )
        out += [f"  | {x}" for x in now]
    else:
        diff = difflib.unified_diff(
            pin.then.splitlines(), now, f"{pin.kind} {pin.name} as pinned",
            f"{pin.kind} {pin.name} in {pin.base} now", lineterm="",
        )  # fmt: skip
        out += [f"  {x}" for x in diff]
    return "\n".join(out)
