"""The report stage: the only place that formats anything for people or tools.

Diagnostics (``file:line:col: error: message``, the source line and a caret),
result tables, step tables for traces, JSON, JUnit XML and ITF traces.
"""

from __future__ import annotations

import io
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO, assert_never

from fusever import __version__
from fusever.diagnostics import Diagnostic, Note
from fusever.explain import Change, Failure, Read, TraceFacts, facts
from fusever.syntax import Span
from fusever.template import TemplateError
from fusever.template import parse as parse_template
from fusever.template import render as render_template
from fusever.ts import Key, PropKind, State, Step, Trace, TransitionSystem, Value, keys
from fusever.verdict import Progress, Result, Verdict

# Bounds on what a diagnostic echoes (a 200 KB identifier was printed whole, twice):
LINE_CHARS = 160  # the source line: a window of this many characters around the caret
WORD_CHARS = 60  # a word of a message (a name, a number, a token) longer than this is cut
MESSAGE_CHARS = 600  # a whole message (a long "description" is many short words)
MAX_ERRORS = 50  # per file; the rest are counted
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
    lines = _located(d.span, "error", d.message, d.line_text)
    for n in d.notes:
        lines += _note(n)
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


# ---- values and locations ------------------------------------------------------


def value_text(v: Value) -> str:
    """A value as the spec language writes it: ``true``, ``3``, ``OPEN``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def key_text(key: Key) -> str:
    """A map index as in JSON and the step table: ``0``, ``0,1``; ``""`` for a scalar."""
    return ",".join(value_text(k) for k in key)


def location_text(name: str, key: Key) -> str:
    """``x`` for a scalar, ``write_seq[0]``, ``m[0,1]``."""
    return f"{name}[{key_text(key)}]" if key else name


def _value_rank(v: Value) -> tuple[int, int, str]:
    # one index position always holds one type; the rank only keeps mixed input total
    if isinstance(v, bool):
        return (0, int(v), "")
    if isinstance(v, int):
        return (1, v, "")
    return (2, 0, v)


def _key_order(key: Key) -> tuple[tuple[int, int, str], ...]:
    return tuple(_value_rank(v) for v in key)


def _sorted_keys(table: Mapping[Key, Value]) -> list[Key]:
    return sorted(table, key=_key_order)


def _var_names(state: State, ts: TransitionSystem | None) -> list[str]:
    """The ts's declaration order when known (people read it), else sorted by name."""
    if ts is None:
        return sorted(state)
    declared = [v.name for v in ts.vars if v.name in state]
    return declared + sorted(n for n in state if n not in set(declared))


def changes(before: State, after: State) -> list[tuple[str, Key, Value | None, Value]]:
    """Every location whose value differs, as ``(var, key, old, new)``, sorted by var then key.

    ``old`` is None for a location the earlier state does not have."""
    out: list[tuple[str, Key, Value | None, Value]] = []
    for name in sorted(after):
        old_table = before.get(name, {})
        new_table = after[name]
        for key in _sorted_keys(new_table):
            new = new_table[key]
            old = old_table.get(key)
            if old is None or old != new or type(old) is not type(new):
                out.append((name, key, old, new))
    return out


# ---- verdicts ------------------------------------------------------------------


def verdict_phrase(
    verdict: Verdict, complete: bool, bound: int, step: int | None, reason: str | None = None
) -> str:
    """The verdict as users read it (design.md, "What users run")."""
    match verdict:
        case Verdict.PROVED:
            return "proved (all depths)" if complete else f"proved ({bound} steps)"
        case Verdict.VIOLATED:
            return f"violated at step {step}"
        case Verdict.COVERED:
            return f"covered at step {step}"
        case Verdict.UNREACHABLE:
            return "unreachable (all depths)" if complete else f"unreachable within {bound}"
        case Verdict.UNKNOWN:
            return f"unknown ({reason})" if reason else "unknown"
        case _:
            assert_never(verdict)


def verdict_text(r: Result) -> str:
    return verdict_phrase(r.verdict, r.complete, r.bound, r.step, r.reason)


def is_finding(r: Result) -> bool:
    """A result that fails the run: a violation, or a cover goal with no witness
    (the property it supports may hold only vacuously)."""
    return r.verdict is Verdict.VIOLATED or (
        r.kind is PropKind.COVER and r.verdict is Verdict.UNREACHABLE
    )


def action_call(action: str | None, args: Iterable[tuple[str, Value]]) -> str:
    """``reply(w=0, f=1)``; ``init`` for step 0."""
    if action is None:
        return "init"
    return f"{action}({', '.join(f'{k}={value_text(v)}' for k, v in args)})"


def actor_text(step: Step, ts: TransitionSystem | None) -> str:
    """``daemon 0`` from the action's ``by daemon(d)`` label; ``-`` when it has none."""
    if step.action is None or ts is None:
        return "-"
    try:
        action = ts.action(step.action)
    except KeyError:
        return "-"
    if action.actor is None:
        return "-"
    if action.actor_param is None:
        return action.actor
    args = dict(step.args)
    if action.actor_param not in args:
        return action.actor
    return f"{action.actor} {value_text(args[action.actor_param])}"


def instance_text(instance: Iterable[tuple[str, Value]]) -> str:
    return ", ".join(f"{k}={value_text(v)}" for k, v in instance)


def description_text(step: Step, ts: TransitionSystem | None) -> str | None:
    """The action's own description with its ``{param}`` holes filled; None without one."""
    if step.action is None or ts is None:
        return None
    try:
        template = ts.action(step.action).description
    except KeyError:
        return None
    if template is None:
        return None
    args = {k: value_text(v) for k, v in step.args}
    return render_description(template, args)


def render_description(text: str, args: Mapping[str, str]) -> str:
    """A description template (fusever/template.py) with its holes filled from ``args``
    (each parameter's value as text); a malformed one (the checker rejects those) as written."""
    try:
        pieces = parse_template(text)
    except TemplateError:
        return text
    return render_template(pieces, args.get)


def read_text(r: Read) -> str:
    """``open_seq[0] = 1``; ``x'`` for a post-state read."""
    name = f"{r.name}'" if r.primed else r.name
    return f"{location_text(name, r.key)} = {value_text(r.value)}"


def change_text(c: Change) -> str:
    was = "?" if c.old is None else value_text(c.old)
    return f"{location_text(c.name, c.key)}: {was} → {value_text(c.new)}"


def failure_text(f: Failure, ghosts: bool = True) -> str:
    """The failing instance and the values that break it, on one line:
    ``no_stale_escape fails for f=0, n=0: linked[0] = true, ... hold, yet fail[0] = false``."""
    del ghosts  # the values that break a property are shown, ghost or not
    what = "holds" if f.kind is PropKind.COVER else "fails"
    head = f"{f.property} {what}"
    if f.instance:
        head += f" for {instance_text(f.instance)}"
    conclusion = ", ".join(read_text(r) for r in f.conclusion)
    if f.premise:
        premise = ", ".join(read_text(r) for r in f.premise)
        return f"{head}: {premise}, but {conclusion}"
    return f"{head}: {conclusion}" if conclusion else head


# ---- the result table and step tables --------------------------------------------


_HEADER = ("spec", "property", "verdict", "depth", "seconds")
_RIGHT = (False, False, False, True, True)


def _result_row(r: Result) -> tuple[str, str, str, str, str]:
    return (r.key, r.property, verdict_text(r), str(r.bound), f"{r.seconds:.2f}")


TABLE_WIDTH = 80


def result_table(results: Sequence[Result], width: int = TABLE_WIDTH) -> list[str]:
    """The result table; past ``width`` columns, each spec configuration becomes a
    heading over its properties' rows instead of a column: names are never cut."""
    rows = [_result_row(r) for r in results]
    table = _plain_table(_HEADER, rows, _RIGHT)
    if max(map(len, table)) <= width:
        return table
    grouped: list[tuple[str, ...]] = []
    current: str | None = None
    for row in rows:
        if not grouped or row[0] != current:
            current = row[0]
            grouped.append((current, "", "", ""))
        grouped.append((f"  {row[1]}", *row[2:]))
    return _plain_table(("spec / property", *_HEADER[2:]), grouped, _RIGHT[1:])


def _plain_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool], indent: str = ""
) -> list[str]:
    """Columns aligned with two spaces; a cell may hold several lines."""
    split = [[cell.split("\n") for cell in row] for row in rows]
    widths = [len(h) for h in header]
    for row in split:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], *(len(line) for line in cell))

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    for row in split:
        height = max(len(cell) for cell in row)
        for i in range(height):
            out.append(line([cell[i] if i < len(cell) else "" for cell in row]))
    return out


def trace_rows(trace: Trace, ts: TransitionSystem | None) -> list[tuple[str, str, str, str]]:
    """One row per step: step, actor, action, and what it changed (step 0: the whole state)."""
    rows: list[tuple[str, str, str, str]] = []
    before: State = {}
    for i, step in enumerate(trace.steps):
        lines: list[str] = []
        if i == 0:
            # one line per variable: a map's values in index order (`m = [0: a, 1: b]`)
            for name in _var_names(step.state, ts):
                table = step.state[name]
                ks = _sorted_keys(table)
                if ks == [()]:
                    lines.append(f"{name} = {value_text(table[()])}")
                else:
                    items = ", ".join(f"{key_text(k)}: {value_text(table[k])}" for k in ks)
                    lines.append(f"{name} = [{items}]")
        else:
            order = {n: j for j, n in enumerate(_var_names(step.state, ts))}
            diff = sorted(changes(before, step.state), key=lambda c: order.get(c[0], len(order)))
            for name, key, old, new in diff:
                was = "?" if old is None else value_text(old)
                lines.append(f"{location_text(name, key)}: {was} → {value_text(new)}")
        rows.append(
            (
                str(i),
                actor_text(step, ts),
                action_call(step.action, step.args),
                "\n".join(lines) or "(no change)",
            )
        )
        before = step.state
    return rows


def _wrap_items(items: Sequence[str], width: int) -> list[str]:
    """Items joined with ``, ``, a line broken before one that would pass ``width``."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += f", {item}"
        else:
            if lines:
                lines[-1] += ","
            lines.append(item)
    return lines


def initial_items(reads: Sequence[Read], ts: TransitionSystem) -> list[str]:
    """One item per variable: ``opc = [0: o_idle, 1: o_idle]`` when every location is
    shown, else its locations one by one (``f_fud[0] = 1``)."""
    by_var: dict[str, list[Read]] = {}
    for r in reads:
        by_var.setdefault(r.name, []).append(r)
    items: list[str] = []
    for name, rs in by_var.items():
        try:
            size = len(keys(ts.var(name).index))
        except KeyError:
            size = -1
        if rs[0].key == () or len(rs) != size:
            items += [read_text(r) for r in rs]
        else:
            inner = ", ".join(f"{key_text(r.key)}: {value_text(r.value)}" for r in rs)
            items.append(f"{name} = [{inner}]")
    return items


# a step with at most this many changes is one line
COMPACT_CHANGES = 2
_INIT_WIDTH = 60


def trace_facts(r: Result, ts: TransitionSystem) -> TraceFacts:
    assert r.trace is not None
    return facts(ts, r.trace, r.property, r.instance)


def compact_rows(
    r: Result, ts: TransitionSystem, ghosts: bool = False
) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """The compact step table and the lines under it: step 0 shows only the initial
    locations that matter (later read or changed, or unlike the spec's default), ghost
    state only with ``ghosts``, a step of one or two changes on one line; the last line
    is the failing instance with its values."""
    assert r.trace is not None
    tf = trace_facts(r, ts)
    rows: list[tuple[str, str, str, str]] = []
    hidden_ghost = 0
    for st, step in zip(tf.steps, r.trace.steps, strict=True):
        if st.index == 0:
            shown = [x for x in tf.initial if ghosts or not x.ghost]
            hidden_ghost += len(tf.initial) - len(shown)
            cell = "\n".join(_wrap_items(initial_items(shown, ts), _INIT_WIDTH))
        else:
            changed = [c for c in st.changes if ghosts or not c.ghost]
            hidden_ghost += len(st.changes) - len(changed)
            texts = [change_text(c) for c in changed]
            sep = ", " if len(texts) <= COMPACT_CHANGES else "\n"
            cell = sep.join(texts) or "(no change)"
        rows.append(
            (str(st.index), actor_text(step, ts), action_call(step.action, step.args), cell)
        )
    footer: list[str] = []
    if r.description:
        footer.append(f"{r.property}: {r.description}")
    notes = []
    if tf.hidden_initial:
        notes.append(f"{tf.hidden_initial} initial values as by default")
    if hidden_ghost:
        notes.append(f"{hidden_ghost} ghost values (--ghosts)")
    if notes:
        footer.append(f"not shown: {', '.join(notes)}; --full shows every value")
    if tf.failure is not None:
        footer.append(failure_text(tf.failure))
    elif r.instance:
        footer.append(f"{r.property} fails for {instance_text(r.instance)}")
    return rows, footer


_TRACE_HEADER = ("step", "actor", "action", "changed")
_TRACE_RIGHT = (True, False, False, False)


def _shows_trace(r: Result, witnesses: bool) -> bool:
    if r.trace is None:
        return False
    return r.verdict is Verdict.VIOLATED or (witnesses and r.verdict is Verdict.COVERED)


def _trace_title(r: Result) -> str:
    return f"{r.key} / {r.property}: {verdict_text(r)}"


def _trace_footer(r: Result) -> list[str]:
    out: list[str] = []
    if r.instance:
        out.append(f"{r.property} fails for {instance_text(r.instance)}")
    if r.description:
        out.append(f"{r.property}: {r.description}")
    return out


def render_text(
    results: Sequence[Result],
    specs: Mapping[str, TransitionSystem] | None = None,
    *,
    witnesses: bool = False,
    tty: bool = False,
    width: int = 100,
    full: bool = False,
    ghosts: bool = False,
) -> str:
    """The result table, then a step table for each violation (and each cover witness
    with ``witnesses``).  ``specs`` (by name) supplies actor labels and variable order.
    A trace is compact (:func:`compact_rows`) when its spec is known, unless ``full``
    (every location of the initial state, every change, ghost state included).
    ``tty`` renders with rich (colour, box tables); otherwise plain aligned text, the
    same bytes run after run."""
    specs = specs or {}
    if tty:
        return _render_rich(results, specs, witnesses, width, full, ghosts)
    out = result_table(results)
    out += _proof_lines(results)
    for r in results:
        if not _shows_trace(r, witnesses):
            continue
        out += ["", _trace_title(r)]
        rows, footer = _trace_table(r, specs.get(r.key), full, ghosts)
        out += _plain_table(_TRACE_HEADER, rows, _TRACE_RIGHT, "  ")
        out += [f"  {line}" for line in footer]
    return "\n".join(out) + "\n"


def render_trace_text(
    r: Result, ts: TransitionSystem | None, *, full: bool = False, ghosts: bool = False
) -> str:
    """One trace as ``prove`` prints it under the table: title, steps, footer."""
    rows, footer = _trace_table(r, ts, full, ghosts)
    out = [_trace_title(r), *_plain_table(_TRACE_HEADER, rows, _TRACE_RIGHT, "  ")]
    return "\n".join([*out, *(f"  {line}" for line in footer)]) + "\n"


def _trace_table(
    r: Result, ts: TransitionSystem | None, full: bool, ghosts: bool
) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    assert r.trace is not None
    if full or ts is None:
        return trace_rows(r.trace, ts), _trace_footer(r)
    return compact_rows(r, ts, ghosts)


_STYLE = {
    Verdict.PROVED: "green",
    Verdict.COVERED: "green",
    Verdict.VIOLATED: "bold red",
    Verdict.UNREACHABLE: "yellow",
    Verdict.UNKNOWN: "magenta",
}


def _proof_lines(results: Sequence[Result]) -> list[str]:
    """Why each result for all depths holds: the k, the lemmas, the invariant, or the
    length every run ends within (the engine's reason, re-checked before it got here)."""
    out: list[str] = []
    bounded: list[str] = []
    for r in results:
        if r.complete and r.reason:
            out.append(f"  {r.key} {r.property} ({r.engine}): {r.reason}")
        elif r.reason and r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE):
            bounded.append(f"  {r.key} {r.property}: {r.reason}")
    lines = ["", "for all depths, because:", *out] if out else []
    return lines + (["", "to a bound only, because:", *bounded] if bounded else [])


def _render_rich(
    results: Sequence[Result],
    specs: Mapping[str, TransitionSystem],
    witnesses: bool,
    width: int,
    full: bool = False,
    ghosts: bool = False,
) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    table = Table(*_HEADER)
    for col, right in zip(table.columns, _RIGHT, strict=True):
        col.justify = "right" if right else "left"
    for r in results:
        spec, prop, verdict, depth, seconds = _result_row(r)
        style = "bold red" if is_finding(r) else _STYLE[r.verdict]
        table.add_row(spec, prop, Text(verdict, style=style), depth, seconds)
    console.print(table)
    for line in _proof_lines(results)[1:]:
        console.print(Text(line))
    for r in results:
        if not _shows_trace(r, witnesses):
            continue
        rows, footer = _trace_table(r, specs.get(r.key), full, ghosts)
        steps = Table(*_TRACE_HEADER, title=_trace_title(r), title_justify="left")
        steps.columns[0].justify = "right"
        for row in rows:
            steps.add_row(*(Text(cell) for cell in row))
        console.print(steps)
        for line in footer:
            console.print(Text(f"  {line}"))
    return buffer.getvalue()


class ProgressView:
    """A one-line status on a terminal's stderr while engines work (design.md: engines
    never print; the CLI hands their :class:`Progress` here)."""

    def __init__(self, file: TextIO) -> None:
        from rich.console import Console

        self._console = Console(file=file, stderr=True)
        self._status = self._console.status("starting")
        self._started = time.monotonic()

    def __enter__(self) -> ProgressView:
        self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._status.stop()

    def update(self, p: Progress) -> None:
        self._status.update(
            f"{p.spec}: depth {p.depth}, {p.seconds:.1f} s, {p.open_properties} open"
        )

    def done(self, finished: int, total: int, last: str = "", running: Sequence[str] = ()) -> None:
        elapsed = time.monotonic() - self._started
        self._status.update(progress_text(finished, total, elapsed, last, running))


def _clock(seconds: float) -> str:
    s = round(seconds)
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def progress_text(
    finished: int, total: int, elapsed: float, last: str = "", running: Sequence[str] = (),
    width: int = 20,
) -> str:  # fmt: skip
    """The status line of a run of many jobs (regress, explore, prove of several specs):
    a bar, done / total, the time so far and an estimate of what is left (the mean time
    per finished job times the jobs left; none before the first finishes), the jobs
    running and the last one finished."""
    filled = width * finished // total if total else width
    bar = "#" * filled + "-" * (width - filled)
    parts = [f"[{bar}] {finished}/{total}", f"{_clock(elapsed)} elapsed"]
    if 0 < finished < total:
        parts.append(f"about {_clock(elapsed / finished * (total - finished))} left")
    if running:
        parts.append("running " + ", ".join(running))
    if last:
        parts.append(f"last {last}")
    return " | ".join(parts)


def render_checked(systems: Iterable[TransitionSystem]) -> str:
    """``fusever check``: one line per spec configuration that parsed and checked."""
    return "".join(
        f"ok: {ts.key} ({len(ts.actions)} actions, {len(ts.properties)} properties)\n"
        for ts in systems
    )


# ---- the last line of every command -------------------------------------------------

EXIT_MEANINGS = {
    0: "all as expected",
    1: "a finding: a property violated or a cover goal unreachable",
    2: "a spec or usage error",
    3: "undecided: a timeout or an unknown answer",
    4: "an internal error",
}


def summary_line(results: Sequence[Result], seconds: float, code: int) -> str:
    """``6 proved, 4 violated, 6 covered, 0 unknown in 12.3 s; exit 1: a finding: ...``:
    the counts by verdict (bounded ones counted with their verdict and marked),
    the wall time and what the exit code means."""
    count = {v: sum(r.verdict is v for r in results) for v in Verdict}
    bounded = sum(
        r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE) and not r.complete for r in results
    )
    parts = [
        f"{count[Verdict.PROVED]} proved",
        f"{count[Verdict.VIOLATED]} violated",
        f"{count[Verdict.COVERED]} covered",
    ]
    if count[Verdict.UNREACHABLE]:
        parts.append(f"{count[Verdict.UNREACHABLE]} unreachable")
    parts.append(f"{count[Verdict.UNKNOWN]} unknown")
    scope = f" ({bounded} only to the bound)" if bounded else ""
    return exit_summary(f"{', '.join(parts)}{scope}", seconds, code)


def exit_summary(what: str, seconds: float, code: int, meaning: str | None = None) -> str:
    """``<what> in 1.2 s; exit 0: all as expected``: a command's last line."""
    meaning = meaning or EXIT_MEANINGS.get(code, "unknown code")
    return f"{what} in {seconds:.1f} s; exit {code}: {meaning}\n"


def checked_summary(specs: int, seconds: float) -> str:
    return exit_summary(f"{specs} spec(s) parsed and checked", seconds, 0)


def wrote_lines(paths: Sequence[str]) -> str:
    """What ``--trace-dir`` wrote: one line per file."""
    return "".join(f"wrote {p}\n" for p in paths)


# ---- JSON (design.md, "The JSON report") -------------------------------------------


def _json_table(table: Mapping[Key, Value]) -> Value | dict[str, Value]:
    if set(table) == {()}:
        return table[()]
    return {key_text(k): table[k] for k in _sorted_keys(table)}


def _json_state(state: State) -> dict[str, object]:
    return {name: _json_table(state[name]) for name in sorted(state)}


def _json_changed(before: State, after: State) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, key, _old, new in changes(before, after):
        if key == ():
            out[name] = new
        else:
            entry = out.setdefault(name, {})
            assert isinstance(entry, dict)
            entry[key_text(key)] = new
    return out


def trace_json(trace: Trace) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = []
    before: State = {}
    for i, step in enumerate(trace.steps):
        entry: dict[str, object] = {
            "step": i,
            "action": step.action,
            "args": dict(step.args),
        }
        if i == 0:
            entry["state"] = _json_state(step.state)
        else:
            entry["changed"] = _json_changed(before, step.state)
        steps.append(entry)
        before = step.state
    return steps


def outcome(r: Result) -> str:
    """The verdict with its scope in one word, for scripts: ``proved`` and
    ``unreachable`` only for all depths, ``proved_to_bound`` and
    ``unreachable_to_bound`` for a bounded search (README, "JSON")."""
    if r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE) and not r.complete:
        return f"{r.verdict.value}_to_bound"
    return r.verdict.value


def result_json(r: Result) -> dict[str, object]:
    # design.md's keys, plus `config` (the configuration's name, null for the default)
    # and `outcome` (the verdict qualified by its scope)
    return {
        "spec": r.spec,
        "config": r.config,
        "file": r.file,
        "settings": dict(r.settings),
        "property": r.property,
        "kind": r.kind.value,
        "verdict": r.verdict.value,
        "outcome": outcome(r),
        "complete": r.complete,
        "bound": r.bound,
        "step": r.step,
        "engine": r.engine,
        "seconds": round(r.seconds, 3),
        # why: a proof's k, lemmas, invariant or run length; an unknown's cause
        "reason": r.reason,
        "trace": None if r.trace is None else trace_json(r.trace),
    }


def render_json(results: Sequence[Result]) -> str:
    doc = {"fusever": __version__, "results": [result_json(r) for r in results]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---- JUnit XML -----------------------------------------------------------------


def case_seconds(results: Sequence[Result]) -> dict[int, float]:
    """Each result's own share of its spec's run, by ``id``: an engine checks a spec's
    properties together and a result's ``seconds`` is when it was decided, so a
    property's share is the time since the one decided before it.  The shares of a
    spec add up to its run, not to the sum of overlapping times."""
    out: dict[int, float] = {}
    by_spec: dict[str, list[Result]] = {}
    for r in results:
        by_spec.setdefault(r.key, []).append(r)
    for rs in by_spec.values():
        before = 0.0
        for r in sorted(rs, key=lambda x: x.seconds):
            out[id(r)] = max(r.seconds - before, 0.0)
            before = max(before, r.seconds)
    return out


def render_junit(
    results: Sequence[Result],
    specs: Mapping[str, TransitionSystem] | None = None,
    seconds: float | None = None,
) -> str:
    """One ``<testsuite>`` per spec, one ``<testcase>`` per property.  A finding (a
    violation, an unreachable cover goal) is a ``<failure>`` with its step table; an
    unknown verdict is an ``<error>``.  A case's time is its own share of the spec's
    run (:func:`case_seconds`), a suite's the spec's run, the whole ``seconds`` (the
    command's wall time) when given."""
    specs = specs or {}
    by_spec: dict[str, list[Result]] = {}
    for r in results:
        by_spec.setdefault(r.key, []).append(r)
    shares = case_seconds(results)

    def counts(rs: Sequence[Result], time: float) -> dict[str, str]:
        return {
            "tests": str(len(rs)),
            "failures": str(sum(is_finding(r) for r in rs)),
            "errors": str(sum(r.verdict is Verdict.UNKNOWN for r in rs)),
            "time": f"{time:.3f}",
        }

    def run_time(rs: Sequence[Result]) -> float:
        return max((r.seconds for r in rs), default=0.0)

    total = seconds if seconds is not None else sum(run_time(rs) for rs in by_spec.values())
    root = ET.Element("testsuites", {"name": "fusever", **counts(results, total)})
    for spec, rs in by_spec.items():
        suite = ET.SubElement(root, "testsuite", {"name": spec, **counts(rs, run_time(rs))})
        if rs[0].settings:
            props = ET.SubElement(suite, "properties")
            for name, value in rs[0].settings:
                ET.SubElement(props, "property", {"name": name, "value": value_text(value)})
        for r in rs:
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": spec,
                    "name": r.property,
                    "file": r.file,
                    "time": f"{shares[id(r)]:.3f}",
                },
            )
            text = verdict_text(r)
            if is_finding(r):
                failure = ET.SubElement(case, "failure", {"message": text, "type": r.verdict.value})
                if r.trace is not None:  # compact, as prove prints it
                    rows, footer = _trace_table(r, specs.get(spec), False, False)
                    lines = _plain_table(_TRACE_HEADER, rows, _TRACE_RIGHT)
                    failure.text = "\n".join([*lines, *footer])
            elif r.verdict is Verdict.UNKNOWN:
                ET.SubElement(case, "error", {"message": text, "type": "unknown"})
            else:
                ET.SubElement(case, "system-out").text = text
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---- ITF traces (Apalache's Informal Trace Format, ADR-015) ---------------------------

ITF_FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"
# Quint's names for the action taken and its nondeterministic picks, which ITF viewers show
ITF_ACTION = "mbt::actionTaken"
ITF_PICKS = "mbt::nondetPicks"


def _itf_value(v: Value) -> object:
    if isinstance(v, bool | str):
        return v
    return {"#bigint": str(v)}


def _itf_key(key: Key) -> object:
    return _itf_value(key[0]) if len(key) == 1 else {"#tup": [_itf_value(k) for k in key]}


def _itf_table(table: Mapping[Key, Value]) -> object:
    if set(table) == {()}:
        return _itf_value(table[()])
    return {"#map": [[_itf_key(k), _itf_value(table[k])] for k in _sorted_keys(table)]}


def itf_trace(r: Result, ts: TransitionSystem | None = None) -> dict[str, object]:
    """The trace of a violation or cover witness as an ITF document: integers as
    ``{"#bigint": "n"}``, maps as ``{"#map": [[k, v], ...]}`` (a key over several
    sorts as ``{"#tup": [...]}``), enum members as strings; each state also carries the
    action that led to it and its arguments, as Quint does, in ``mbt::actionTaken``
    (``"init"`` for the first state) and ``mbt::nondetPicks``."""
    assert r.trace is not None, "only a result with a trace has an ITF trace"
    names = _var_names(r.trace.steps[0].state, ts)
    states: list[dict[str, object]] = []
    for i, step in enumerate(r.trace.steps):
        state: dict[str, object] = {"#meta": {"index": i}}
        for name in names:
            state[name] = _itf_table(step.state[name])
        state[ITF_ACTION] = step.action if step.action is not None else "init"
        state[ITF_PICKS] = {k: {"tag": "Some", "value": _itf_value(v)} for k, v in step.args}
        states.append(state)
    meta = {
        "format": "ITF",
        "format-description": ITF_FORMAT_DESCRIPTION,
        "source": r.file,
        "description": f"fusever {__version__}: {r.key} / {r.property}: {verdict_text(r)}",
        "fusever": {
            "spec": r.spec,
            "config": r.config,
            "property": r.property,
            "verdict": r.verdict.value,
            "step": r.step,
            "settings": dict(r.settings),
            "instance": dict(r.instance),
        },
    }
    return {"#meta": meta, "vars": [*names, ITF_ACTION, ITF_PICKS], "states": states}


def render_itf(r: Result, ts: TransitionSystem | None = None) -> str:
    return json.dumps(itf_trace(r, ts), indent=2, ensure_ascii=False) + "\n"


def itf_filename(r: Result) -> str:
    return f"{r.key}.{r.property}.itf.json"
