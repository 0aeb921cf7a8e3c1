"""Rendering for the exploring commands (``diff``, ``mutate``, ``explore``): text,
JSON and markdown.  Formatting only; the results come from :mod:`fusever.diff`,
:mod:`fusever.mutate` and :mod:`fusever.explore`.  The step vocabulary (action calls,
actors, value text) is :mod:`fusever.report`'s, so a lockstep trace reads like any other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from fusever import __version__, report
from fusever.diff import DiffResult, LockstepStep, observe
from fusever.explore import Matrix, Row
from fusever.merges import MergeCheck
from fusever.mutate import MutantResult, score
from fusever.report_tables import plain_table
from fusever.ts import State, Step, TransitionSystem, Value
from fusever.verdict import Result, Verdict

__all__ = [
    "cell_text",
    "matrix_json",
    "mutants_json",
    "render_diff",
    "render_matrix_compact",
    "render_matrix_markdown",
    "render_matrix_text",
    "render_merges",
    "render_mutants",
    "table",
]


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None
) -> list[str]:
    """An aligned plain-text table (cells may hold several lines)."""
    return plain_table(header, rows, right or [False] * len(header))


def _changes(before: State, after: State) -> list[str]:
    return [
        f"{report.location_text(n, k)}: {'?' if old is None else report.value_text(old)} → {report.value_text(new)}"
        for n, k, old, new in report.changes(before, after)
    ]


def _observed(ts: TransitionSystem, state: State) -> str:
    values = observe(ts, state)
    return ", ".join(
        f"{report.location_text(n, k)}={report.value_text(v)}" for (n, k), v in values.items()
    )


def _call(name: str | None, args: Sequence[tuple[str, Value]]) -> str:
    return report.action_call(name, args)


def lockstep_rows(
    steps: Sequence[LockstepStep], a: TransitionSystem, b: TransitionSystem
) -> list[tuple[str, str, str, str, str, str]]:
    """One row per step: step, actor, action (B's name when it differs), the changes
    both specs made, those only A made, those only B made."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    prev_a: State = {}
    prev_b: State = {}
    for i, s in enumerate(steps):
        if i == 0:
            assert s.a_state is not None and s.b_state is not None
            rows.append(("0", "-", "init", "observed: " + _observed(a, s.a_state), "", ""))
            prev_a, prev_b = s.a_state, s.b_state
            continue
        if s.action_a is None:  # a silent step of B alone (diff --pair-by effect)
            call = f"{_call(s.action_b, s.args_b)} in B alone"
            actor = report.actor_text(Step(s.action_b, s.args_b, prev_b), b)
        else:
            call = _call(s.action_a, s.args_a)
            if s.action_b is None:
                call += " in A alone"
            elif s.action_b != s.action_a:
                call += f"\n= {_call(s.action_b, s.args_b)} in B"
            actor = report.actor_text(Step(s.action_a, s.args_a, prev_a), a)
        ca = _changes(prev_a, s.a_state) if s.a_state is not None else ["(not enabled)"]
        cb = _changes(prev_b, s.b_state) if s.b_state is not None else ["(not enabled)"]
        both = [c for c in ca if c in cb]
        rows.append(
            (
                str(i),
                actor,
                call,
                "\n".join(both),
                "\n".join(c for c in ca if c not in both),
                "\n".join(c for c in cb if c not in both),
            )
        )
        prev_a = s.a_state if s.a_state is not None else prev_a
        prev_b = s.b_state if s.b_state is not None else prev_b
    return rows


def lockstep_lines(
    steps: Sequence[LockstepStep], a: TransitionSystem, b: TransitionSystem, width: int = 80
) -> list[str]:
    """The lockstep trace for a terminal: a line per step (number, actor, action), then
    indented what both specs changed, what only A and only B changed, wrapped to
    ``width``."""
    out: list[str] = []
    for step, actor, call, both, only_a, only_b in lockstep_rows(steps, a, b):
        head, *rest = call.split("\n")
        out.append(f"{step:>4}  {actor}  {head}" if step != "0" else f"{step:>4}  init")
        out.extend(f"        {line}" for line in rest)
        for label, text in (("both", both), ("only A", only_a), ("only B", only_b)):
            if step == "0" and label == "both":
                text = text.removeprefix("observed: ")
                label = "observed"
            if text:
                out.extend(_wrap_indented(f"{label}: " + "; ".join(text.split("\n")), width, 6, 8))
    return out


def _wrap_indented(text: str, width: int, first: int, rest: int) -> list[str]:
    import textwrap

    return textwrap.wrap(
        text, width, initial_indent=" " * first, subsequent_indent=" " * (rest + 2),
        break_on_hyphens=False, break_long_words=False,
    )  # fmt: skip


def render_diff(d: DiffResult, a: TransitionSystem, b: TransitionSystem, wide: bool = False) -> str:
    """``fusever diff``'s text output (``wide``: the trace as a table, a column per
    kind of change; otherwise a line per step and its changes below, for 80 columns)."""
    out = _diff_header(d)
    if not wide:  # the header wrapped to 80 columns, continuation lines indented
        out = [w for line in out for w in _wrap_indented(line, 80, 0, 0) or [""]]
    out.append("")
    match d.verdict:
        case Verdict.VIOLATED:
            out += _diff_difference(d, a, b, wide)
        case Verdict.PROVED:
            scope = "at any depth" if d.complete else f"up to {d.bound} steps"
            out.append(f"no difference {scope} ({d.engine}, {d.seconds:.2f} s)")
            if not d.complete and d.reason:
                out.append(f"  a bound only: {d.reason}")
        case _:
            out.append(
                f"undecided at depth {d.bound}: {d.reason or 'unknown'} ({d.engine}, {d.seconds:.2f} s)"
            )
    return "\n".join(out) + "\n"


def _diff_header(d: DiffResult) -> list[str]:
    """What was compared: the observables, what is declared or taken on one side only,
    the actions left out, the shared start and how a step enabled on one side counts."""
    lock = d.lock
    out = [f"{d.spec_a} (A) vs {d.spec_b} (B), in lockstep: same actions, same arguments"
           + (", and the rest paired by effect" if lock.pairing == "effect" else "")]  # fmt: skip
    out.append("compared: " + ", ".join(lock.observables))
    if lock.unobserved_a or lock.unobserved_b:
        out.append(
            "not compared (declared on one side only): "
            + ", ".join(
                [*(f"{n} (A)" for n in lock.unobserved_a), *(f"{n} (B)" for n in lock.unobserved_b)]
            )
        )
    for label, names in (("A", lock.only_a), ("B", lock.only_b)):
        if names:
            out.append(
                f"actions only in {label} (never taken in lockstep; pair them with --map A=B"
                + (")" if lock.pairing == "effect" else " or --pair-by effect)")
                + f": {', '.join(names)}"
            )
    for name, why in lock.mismatched:
        out.append(f"action {name} not compared: {why}")
    if lock.pairing == "effect":
        for label, names in (("A", lock.silent_a), ("B", lock.silent_b)):
            if names:
                out.append(f"run alone (they change no observable) in {label}: {', '.join(names)}")
        for x, y in lock.by_effect:
            out.append(f"paired by their effect on the observables: {x} (A) with {y} (B)")
    if not lock.moves:
        out.append(
            "not comparable step by step: no action of A pairs with one of B, so no step is "
            "taken and the observations only compare the initial states"
        )
    if lock.shared_start:
        out.append("started equal (free in both): " + ", ".join(lock.shared_start))
    if lock.enabled == "differ":
        out.append(
            "a step enabled in one spec only counts as a difference (--enabled both: it does not)"
        )
    return out


def _diff_difference(
    d: DiffResult, a: TransitionSystem, b: TransitionSystem, wide: bool
) -> list[str]:
    """The shortest distinguishing trace (a table when ``wide``, else a line per step)
    and the observed values that differ at its end."""
    n = len(d.steps) - 1
    out = [
        f"DIFFERENT after {n} step(s) (the shortest such sequence; {d.engine}, {d.seconds:.2f} s)"
    ]
    out.append("")
    header = (
        "step",
        "actor",
        "action",
        "both changed",
        f"only A ({a.key})",
        f"only B ({b.key})",
    )
    if wide:
        out.extend(
            table(
                header,
                lockstep_rows(d.steps, a, b),
                [True, False, False, False, False, False],
            )
        )
    else:
        out.append(f"A is {a.key}, B is {b.key}")
        out.extend(lockstep_lines(d.steps, a, b))
    out.append("")
    if d.blocked is not None:
        side = "A" if d.blocked == "a" else "B"
        out.append(f"step {n} is enabled in {'B' if side == 'A' else 'A'} and not in {side}")
    for o in d.differences:
        out.append(
            f"{report.location_text(o.name, o.key)}: {report.value_text(o.a)} in A, {report.value_text(o.b)} in B"
        )
    return out


# ---- mutate ---------------------------------------------------------------------------


def render_mutants(
    spec: str,
    depth: int,
    results: Sequence[MutantResult],
    total: int,
    seconds: float,
) -> str:
    """``fusever mutate``'s text output: one row per mutant, the score, the survivors."""
    killed, counted, ratio = score(results)
    equivalent = [r for r in results if r.status == "equivalent"]
    unexercised = [r for r in results if r.status == "unexercised"]
    unknown = [r for r in results if r.status == "unknown"]
    survivors = [r for r in results if r.status == "survived"]
    out = [
        f"{spec}: {len(results)} mutant(s) of {total}, checked to depth {depth} ({seconds:.1f} s)",
        "",
    ]
    rows = []
    for r in results:
        if r.status == "killed" and r.step is None:
            verdict = f"killed: cover {r.killed_by} unreachable"
        elif r.status == "killed":
            verdict = f"killed by {r.killed_by} at step {r.step}"
        elif r.status == "survived":
            verdict = f"SURVIVED (differs after {r.step} steps)"
        elif r.status == "equivalent":
            verdict = "equivalent" + (f" ({r.reason})" if r.reason else "")
        elif r.status == "unexercised":
            verdict = "not exercised by this configuration" + (f" ({r.reason})" if r.reason else "")
        else:
            verdict = f"unknown ({r.reason})"
        rows.append(
            (f"#{r.index}", str(r.span), r.action, r.kind, f"{r.original} → {r.mutated}", verdict)
        )
    out.extend(table(("mutant", "where", "action", "kind", "mutation", "verdict"), rows))
    out.append("")
    pct = "n/a" if ratio is None else f"{100 * ratio:.0f}%"
    dead = f", {len(unexercised)} not exercised by this configuration" if unexercised else ""
    out.append(
        f"score: {killed}/{counted} killed = {pct}  "
        f"({len(equivalent)} equivalent{dead} and {len(unknown)} undecided left out)"
    )
    if survivors:
        out.append("")
        out.append("survivors (no property notices them; a property that fails on them would):")
        for r in survivors:
            out.append(f"  {r.span}: in {r.action}: {r.original}  →  {r.mutated}")
    return "\n".join(out) + "\n"


def mutants_json(spec: str, depth: int, results: Sequence[MutantResult]) -> str:
    killed, counted, ratio = score(results)
    doc = {
        "spec": spec,
        "depth": depth,
        "score": ratio,
        "killed": killed,
        "counted": counted,
        "mutants": [
            {
                "index": r.index,
                "where": str(r.span),
                "action": r.action,
                "kind": r.kind,
                "original": r.original,
                "mutated": r.mutated,
                "status": r.status,
                "killed_by": r.killed_by,
                "step": r.step,
                "reason": r.reason,
            }
            for r in results
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


# ---- explore --------------------------------------------------------------------------


def cell_text(r: Result | None) -> str:
    """A matrix cell: the verdict and its depth, or ``all depths``."""
    if r is None:
        return "-"
    match r.verdict:
        case Verdict.PROVED:
            return "proved all depths" if r.complete else f"proved {r.bound}"
        case Verdict.VIOLATED:
            return f"VIOLATED at {r.step}"
        case Verdict.COVERED:
            return f"covered at {r.step}"
        case Verdict.UNREACHABLE:
            return "unreachable ever" if r.complete else f"UNREACHABLE {r.bound}"
        case _:
            return "unknown"


def _trace_file(r: Result, trace_dir: str | None) -> str | None:
    if trace_dir is None or r.verdict is not Verdict.VIOLATED or r.trace is None:
        return None
    return f"{trace_dir.rstrip('/')}/{report.itf_filename(r)}"


def _row_label(row: Row) -> tuple[str, str]:
    return row.system.name, row.system.config or "default"


def _cells(matrix: Matrix, row: Row) -> list[Result | None]:
    by = {r.property: r for r in row.results}
    return [by.get(p) for p in matrix.properties]


def short_cell(r: Result | None) -> str:
    """A matrix cell in at most 5 characters (see :data:`LEGEND`)."""
    if r is None:
        return "-"
    match r.verdict:
        case Verdict.PROVED:
            return "ok" if r.complete else f"<={r.bound}"
        case Verdict.VIOLATED:
            return f"X{r.step}"
        case Verdict.COVERED:
            return f"c{r.step}"
        case Verdict.UNREACHABLE:
            return "NEVER" if r.complete else f"N<={r.bound}"
        case _:
            return "?"


LEGEND = (
    "ok: holds for all depths; <=N: holds to depth N; XN: violated, shortest trace N steps; "
    "cN: covered at step N; NEVER: a cover goal never reached (N<=N: not within N steps); "
    "?: undecided"
)
WIDTH = 80  # the compact layout's target


def _groups(names: Sequence[str], label: int, width: int = WIDTH) -> list[list[int]]:
    """The property columns split into groups whose tables fit ``width`` (a label
    column of ``label`` characters, then at most 5 per cell and 2 between cells)."""
    per = max(1, (width - label) // 7)
    idx = list(range(len(names)))
    return [idx[i : i + per] for i in range(0, len(idx), per)] or [[]]


def render_matrix_compact(matrix: Matrix, trace_dir: str | None = None) -> str:
    """The matrix for an 80-column terminal: properties numbered (a key below), cells
    abbreviated (a legend), and the columns split into tables that fit."""
    notes: list[str] = []
    labels = []
    cells: list[list[str]] = []
    for row in matrix.rows:
        spec, config = _row_label(row)
        labels.append(f"{spec}.{config}" if config != "default" else spec)
        line = []
        for r in _cells(matrix, row):
            text = short_cell(r)
            f = _trace_file(r, trace_dir) if r is not None else None
            if f is not None:
                notes.append(f)
            line.append(text)
        cells.append(line)
    label = max([len(x) for x in labels] + [len("configuration")])
    out = [
        f"explore {matrix.base}: {len(matrix.rows)} spec configuration(s) x "
        f"{len(matrix.properties)} properties",
        "",
    ]
    for group in _groups(matrix.properties, label):
        header = ("configuration", *(f"{i + 1}" for i in group))
        rows = [(lab, *(c[i] for i in group)) for lab, c in zip(labels, cells, strict=True)]
        out.extend(table(header, rows, [False] + [True] * len(group)))
        out.append("")
    out.extend(f"{i + 1:>3}  {name}" for i, name in enumerate(matrix.properties))
    out.append("")
    out.extend(_wrap(LEGEND, WIDTH))
    cached = sum(r.cached for r in matrix.rows)
    out.append(
        f"{matrix.seconds:.1f} s wall, {cached} row(s) from the cache; "
        f"depth: {matrix.depth if matrix.depth is not None else 'each spec' + chr(39) + 's own'}, "
        f"engine: {matrix.engine}"
    )
    if notes:
        out.append(f"traces of the violations: {len(notes)} file(s) in {trace_dir}")
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_on_hyphens=False)


def render_matrix_text(matrix: Matrix, trace_dir: str | None = None) -> str:
    """The wide matrix (``--wide``): a column per property, cells in words."""
    notes: list[str] = []
    rows = []
    for row in matrix.rows:
        spec, config = _row_label(row)
        cells = []
        for r in _cells(matrix, row):
            text = cell_text(r)
            f = _trace_file(r, trace_dir) if r is not None else None
            if f is not None:
                notes.append(f)
                text += f" [{len(notes)}]"
            cells.append(text)
        when = "cached" if row.cached else f"{row.seconds:.1f} s"
        rows.append((spec, config, *cells, when))
    header = ("spec", "configuration", *matrix.properties, "time")
    out = [
        f"explore {matrix.base}: {len(matrix.rows)} spec configuration(s) x {len(matrix.properties)} properties"
    ]
    out.append("")
    out.extend(table(header, rows))
    cached = sum(r.cached for r in matrix.rows)
    out.append("")
    out.append(
        f"{matrix.seconds:.1f} s wall, {cached} row(s) from the cache; "
        f"depth: {matrix.depth if matrix.depth is not None else 'each spec' + chr(39) + 's own'}, "
        f"engine: {matrix.engine}"
    )
    for i, f in enumerate(notes, start=1):
        out.append(f"[{i}] {f}")
    return "\n".join(out) + "\n"


def render_matrix_markdown(matrix: Matrix, trace_dir: str | None = None) -> str:
    header = ("spec", "configuration", *matrix.properties)
    out = [
        "| " + " | ".join(f"`{h}`" if i >= 2 else h for i, h in enumerate(header)) + " |",
        "|" + "---|" * len(header),
    ]
    for row in matrix.rows:
        spec, config = _row_label(row)
        cells = []
        for r in _cells(matrix, row):
            text = cell_text(r)
            f = _trace_file(r, trace_dir) if r is not None else None
            if f is not None:
                text = f"**[{text}]({f})**"
            elif r is not None and report.is_finding(r):
                text = f"**{text}**"
            cells.append(text)
        out.append("| " + " | ".join([spec, config, *cells]) + " |")
    return "\n".join(out) + "\n"


def matrix_json(matrix: Matrix, trace_dir: str | None = None) -> str:
    doc = {
        "fusever": __version__,
        "base": matrix.base,
        "depth": matrix.depth,
        "engine": matrix.engine,
        "properties": list(matrix.properties),
        "rows": [
            {
                "spec": row.system.name,
                "config": row.system.config,
                "file": row.system.path,
                "cached": row.cached,
                "seconds": row.seconds,
                "cells": {
                    r.property: {
                        "verdict": r.verdict.value,
                        "complete": r.complete,
                        "bound": r.bound,
                        "step": r.step,
                        "engine": r.engine,
                        "trace_file": _trace_file(r, trace_dir),
                    }
                    for r in row.results
                },
            }
            for row in matrix.rows
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


# ---- fusever merges --------------------------------------------------------------------


def render_merges(checks: Sequence[MergeCheck]) -> str:
    """One row per merge and configuration, then each disagreement's properties."""
    rows = []
    for c in checks:
        if c.used:
            reach = "all depths" if c.complete else f"{c.merged_bound} / {c.unmerged_bound}"
        else:
            reach = ""
        rows.append(
            [
                (c.spec if c.config is None else f"{c.spec}.{c.config}"),
                c.merge,
                c.verdict,
                reach,
                c.engine if c.used else "",
                f"{c.seconds:.1f}" if c.used else "",
            ]
        )
    lines = table(
        ["spec", "merge", "verdict", "depths", "engine", "seconds"],
        rows,
        [False, False, False, False, False, True],
    )
    for c in checks:
        if c.verdict in ("disagree", "unknown"):
            where = c.spec if c.config is None else f"{c.spec}.{c.config}"
            lines.append("")
            lines.append(
                f"{where} / merge {c.merge}: {c.verdict}"
                + (f" ({c.description})" if c.description else "")
            )
            lines.append(
                "  unmerged form: "
                + ", ".join(f"{k} = {report.value_text(b)}" for k, _, b in c.changes)
            )
            for r in c.disagreements:
                a = report.verdict_phrase(r.merged, False, c.merged_bound, r.merged_step)
                b = report.verdict_phrase(r.unmerged, False, c.unmerged_bound, r.unmerged_step)
                lines.append(f"  {r.name}: merged {a}, unmerged {b}")
    used = [c for c in checks if c.used]
    agree = sum(c.verdict == "agree" for c in used)
    lines.append("")
    lines.append(
        f"{len(used)} merge check(s): {agree} agree, "
        f"{sum(c.verdict == 'disagree' for c in used)} disagree, "
        f"{sum(c.verdict == 'unknown' for c in used)} undecided; "
        f"{len(checks) - len(used)} not used by their configuration"
    )
    return "\n".join(lines) + "\n"
