"""The report stage's front: the result table and its traces as people read them
(plain aligned text, or rich's colour and box tables on a terminal) and the progress
view while engines work.  The only module that imports rich.

The rest of the report stage is one module per job, all re-exported here (the command
line and the tests import them from ``fusever.report``):
:mod:`fusever.report_diagnostics` (diagnostics, text and JSON),
:mod:`fusever.report_words` (values, verdicts, action calls, changes),
:mod:`fusever.report_tables` (aligned tables and step tables),
:mod:`fusever.report_summary` (the progress and last lines) and
:mod:`fusever.report_machine` (JSON, JUnit XML and ITF traces).
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping, Sequence
from typing import Protocol, TextIO

from fusever.executor import Status
from fusever.report_diagnostics import (
    ELLIPSIS,
    LINE_CHARS,
    MAX_ERRORS,
    MESSAGE_CHARS,
    WORD_CHARS,
    checked_json,
    diagnostics_json,
    render_diagnostic,
    render_diagnostics,
    render_pin,
)
from fusever.report_machine import (
    ITF_ACTION,
    ITF_FORMAT_DESCRIPTION,
    ITF_PICKS,
    case_seconds,
    itf_filename,
    itf_trace,
    outcome,
    render_itf,
    render_json,
    render_junit,
    result_json,
    trace_json,
)
from fusever.report_summary import (
    EXIT_MEANINGS,
    checked_summary,
    exit_summary,
    progress_text,
    render_checked,
    status_text,
    summary_line,
    wrote_lines,
)
from fusever.report_tables import (
    COMPACT_CHANGES,
    TRACE_HEADER,
    TRACE_RIGHT,
    compact_rows,
    initial_items,
    plain_table,
    render_trace_text,
    trace_facts,
    trace_rows,
    trace_table,
    trace_title,
)
from fusever.report_words import (
    action_call,
    actor_text,
    change_text,
    changes,
    description_text,
    failure_text,
    instance_text,
    is_finding,
    key_text,
    location_text,
    read_text,
    render_description,
    undecided,
    value_text,
    verdict_phrase,
    verdict_text,
)
from fusever.ts import TransitionSystem
from fusever.verdict import Progress, Result, Verdict


class _Checked(Protocol):
    """A recorded merge check (fusever.regress_merges.RecordedMerge)."""

    @property
    def verdict(self) -> str: ...
    @property
    def phrase(self) -> str: ...


class Reliance(Protocol):
    """What a configuration's verdicts rest on (fusever.regress_merges.Reliance)."""

    @property
    def key(self) -> str: ...
    @property
    def merges(self) -> Sequence[tuple[str, _Checked | None]]: ...


__all__ = [
    "COMPACT_CHANGES",
    "ELLIPSIS",
    "EXIT_MEANINGS",
    "ITF_ACTION",
    "ITF_FORMAT_DESCRIPTION",
    "ITF_PICKS",
    "LINE_CHARS",
    "MAX_ERRORS",
    "MESSAGE_CHARS",
    "TABLE_WIDTH",
    "WORD_CHARS",
    "ProgressView",
    "action_call",
    "actor_text",
    "capped",
    "case_seconds",
    "change_text",
    "changes",
    "checked_json",
    "checked_summary",
    "compact_rows",
    "description_text",
    "diagnostics_json",
    "exit_summary",
    "failure_text",
    "initial_items",
    "instance_text",
    "is_finding",
    "itf_filename",
    "itf_trace",
    "key_text",
    "location_text",
    "not_started_lines",
    "outcome",
    "progress_text",
    "read_text",
    "reliance_lines",
    "render_checked",
    "render_description",
    "render_diagnostic",
    "render_diagnostics",
    "render_itf",
    "render_json",
    "render_junit",
    "render_pin",
    "render_text",
    "render_trace_text",
    "result_json",
    "result_table",
    "status_text",
    "summary_line",
    "trace_facts",
    "trace_json",
    "trace_rows",
    "undecided",
    "value_text",
    "verdict_phrase",
    "verdict_text",
    "wrote_lines",
]


_HEADER = ("spec", "property", "verdict", "depth", "seconds")
_RIGHT = (False, False, False, True, True)


def _result_row(r: Result) -> tuple[str, str, str, str, str]:
    return (r.key, r.property, verdict_text(r), str(r.bound), f"{r.seconds:.2f}")


TABLE_WIDTH = 80
MAX_TRACES = 10  # traces printed in full; the others are listed (--trace-dir writes all)
MAX_LINES = 50  # lines of one report section (proof reasons, reliance, the list of traces)
_NOT_STARTED = "interrupted"


def capped(lines: Sequence[str], limit: int = MAX_LINES, what: str = "") -> list[str]:
    """At most ``limit`` of ``lines``, then ``  … and K more`` (of ``what``)."""
    if len(lines) <= limit:
        return list(lines)
    more = len(lines) - limit
    return [*lines[:limit], f"  … and {more} more{' ' + what if what else ''}"]


def _not_started(results: Sequence[Result]) -> tuple[list[Result], list[str]]:
    """The results less those of the spec configurations an interrupt left unstarted
    (every property ``unknown (interrupted)`` after no time), and those
    configurations' names: one summary line stands for their rows."""
    by_key: dict[str, list[Result]] = {}
    for r in results:
        by_key.setdefault(r.key, []).append(r)
    idle = [
        k
        for k, rs in by_key.items()
        if all(
            r.verdict is Verdict.UNKNOWN and r.reason == _NOT_STARTED and r.seconds == 0 for r in rs
        )
    ]
    if len(idle) < 2:
        return list(results), []
    skip = set(idle)
    return [r for r in results if r.key not in skip], idle


def not_started_lines(keys: Sequence[str]) -> list[str]:
    """``206 configurations not started (interrupted): a, b, … and K more``."""
    if not keys:
        return []
    names = ", ".join(keys[:MAX_LINES])
    more = f" … and {len(keys) - MAX_LINES} more" if len(keys) > MAX_LINES else ""
    return ["", f"{len(keys)} spec configurations not started (interrupted): {names}{more}"]


def result_table(results: Sequence[Result], width: int = TABLE_WIDTH) -> list[str]:
    """The result table; past ``width`` columns, each spec configuration becomes a
    heading over its properties' rows instead of a column: names are never cut.  The
    configurations an interrupt left unstarted are one line under it, not a row each."""
    results, idle = _not_started(results)
    return _table(results, width) + not_started_lines(idle)


def _table(results: Sequence[Result], width: int) -> list[str]:
    rows = [_result_row(r) for r in results]
    table = plain_table(_HEADER, rows, _RIGHT)
    if max(map(len, table)) <= width:
        return table
    grouped: list[tuple[str, ...]] = []
    current: str | None = None
    for row in rows:
        if not grouped or row[0] != current:
            current = row[0]
            grouped.append((current, "", "", ""))
        grouped.append((f"  {row[1]}", *row[2:]))
    return plain_table(("spec / property", *_HEADER[2:]), grouped, _RIGHT[1:])


def _shows_trace(r: Result, witnesses: bool) -> bool:
    if r.trace is None:
        return False
    return r.verdict is Verdict.VIOLATED or (witnesses and r.verdict is Verdict.COVERED)


def render_text(
    results: Sequence[Result],
    specs: Mapping[str, TransitionSystem] | None = None,
    *,
    witnesses: bool = False,
    tty: bool = False,
    width: int = 100,
    full: bool = False,
    ghosts: bool = False,
    relies: Sequence[Reliance] = (),
) -> str:
    """The result table, then a step table for each violation (and each cover witness
    with ``witnesses``); ``relies``, what the verdicts that hold rest on
    (:func:`reliance_lines`).  ``specs`` (by name) supplies actor labels and variable order.
    A trace is compact (:func:`compact_rows`) when its spec is known, unless ``full``
    (every location of the initial state, every change, ghost state included).
    ``tty`` renders with rich (colour, box tables); otherwise plain aligned text, the
    same bytes run after run."""
    specs = specs or {}
    if tty:
        return _render_rich(results, specs, witnesses, width, full, ghosts, relies)
    out = result_table(results)
    out += _proof_lines(results)
    out += reliance_lines(relies, results)
    shown, listed = _traces(results, witnesses)
    for r in shown:
        out += ["", trace_title(r)]
        rows, footer = trace_table(r, specs.get(r.key), full, ghosts)
        out += plain_table(TRACE_HEADER, rows, TRACE_RIGHT, "  ")
        out += [f"  {line}" for line in footer]
    out += _listed_lines(listed)
    return "\n".join(out) + "\n"


def _traces(results: Sequence[Result], witnesses: bool) -> tuple[list[Result], list[Result]]:
    """The results whose trace is shown: the first :data:`MAX_TRACES` in full, the
    rest only listed."""
    traced = [r for r in results if _shows_trace(r, witnesses)]
    return traced[:MAX_TRACES], traced[MAX_TRACES:]


def _listed_lines(listed: Sequence[Result]) -> list[str]:
    """The traces not printed, one line each (capped): where to get them."""
    if not listed:
        return []
    head = (
        f"{len(listed)} more trace(s), not shown (the first {MAX_TRACES} are above; "
        "--trace-dir writes every trace):"
    )
    lines = [f"  {trace_title(r)}" for r in listed]
    return ["", head, *capped(lines, what="traces")]


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
    lines = ["", "for all depths, because:", *capped(out)] if out else []
    return lines + (["", "to a bound only, because:", *capped(bounded)] if bounded else [])


def reliance_lines(relies: Sequence[Reliance], results: Sequence[Result]) -> list[str]:
    """What the verdicts that hold rest on beside the solver: each configuration's
    merges (steps made one, actors ordered) and whether proofs/merges/ records a check
    of them for this very system.  Empty when nothing holds or nothing is merged."""
    holding = {r.key for r in results if r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE)}
    out: list[str] = []
    unchecked = False
    for rel in relies:
        if rel.key not in holding:
            continue
        parts = []
        for name, rec in rel.merges:
            if rec is None:
                unchecked = True
                parts.append(f"{name} no check recorded for this system")
            elif rec.verdict != "unused":
                parts.append(f"{name} {rec.phrase}")
        if parts:
            out.append(f"  {rel.key}: " + ", ".join(parts))
    if not out:
        return []
    head = "what holds rests on the spec's merges, as proofs/merges/ records their checks:"
    tail = ["  `fusever merges` with the same --config and --set checks them"]
    return ["", head, *capped(out), *(tail if unchecked else [])]


def _render_rich(
    results: Sequence[Result],
    specs: Mapping[str, TransitionSystem],
    witnesses: bool,
    width: int,
    full: bool = False,
    ghosts: bool = False,
    relies: Sequence[Reliance] = (),
) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    table = Table(*_HEADER)
    for col, right in zip(table.columns, _RIGHT, strict=True):
        col.justify = "right" if right else "left"
    rows_of, idle = _not_started(results)
    for r in rows_of:
        spec, prop, verdict, depth, seconds = _result_row(r)
        style = "bold red" if is_finding(r) else _STYLE[r.verdict]
        table.add_row(spec, prop, Text(verdict, style=style), depth, seconds)
    console.print(table)
    after = [*not_started_lines(idle), *_proof_lines(results), *reliance_lines(relies, results)]
    for line in after[1:]:
        console.print(Text(line))
    shown, listed = _traces(results, witnesses)
    for r in shown:
        rows, footer = trace_table(r, specs.get(r.key), full, ghosts)
        steps = Table(*TRACE_HEADER, title=trace_title(r), title_justify="left")
        steps.columns[0].justify = "right"
        for row in rows:
            steps.add_row(*(Text(cell) for cell in row))
        console.print(steps)
        for line in footer:
            console.print(Text(f"  {line}"))
    for line in _listed_lines(listed)[1:]:
        console.print(Text(line))
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

    def status(self, s: Status) -> None:
        """A batch of jobs (:class:`fusever.executor.Status`): on a cluster, its workers
        and the jobs running and queued there too."""
        self._status.update(status_text(s, time.monotonic() - self._started))
