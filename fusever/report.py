"""The report stage: the only place that formats anything for people or tools.

Diagnostics (``file:line:col: error: message``, the source line and a caret),
result tables, step tables for traces, JSON, JUnit XML and ITF traces.
"""

from __future__ import annotations

import io
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO, assert_never

from fusever import __version__
from fusever.diagnostics import Diagnostic, Note
from fusever.syntax import Span
from fusever.ts import Key, PropKind, State, Step, Trace, TransitionSystem, Value
from fusever.verdict import Progress, Result, Verdict


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


# ---- the result table and step tables --------------------------------------------


_HEADER = ("spec", "property", "verdict", "depth", "seconds")
_RIGHT = (False, False, False, True, True)


def _result_row(r: Result) -> tuple[str, str, str, str, str]:
    return (r.key, r.property, verdict_text(r), str(r.bound), f"{r.seconds:.2f}")


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
) -> str:
    """The result table, then a step table for each violation (and each cover witness
    with ``witnesses``).  ``specs`` (by name) supplies actor labels and variable order.
    ``tty`` renders with rich (colour, box tables); otherwise plain aligned text, the
    same bytes run after run."""
    specs = specs or {}
    if tty:
        return _render_rich(results, specs, witnesses, width)
    out = _plain_table(_HEADER, [_result_row(r) for r in results], _RIGHT)
    out += _proof_lines(results)
    for r in results:
        if not _shows_trace(r, witnesses):
            continue
        assert r.trace is not None
        out += ["", _trace_title(r)]
        out += _plain_table(
            _TRACE_HEADER, trace_rows(r.trace, specs.get(r.key)), _TRACE_RIGHT, "  "
        )
        out += [f"  {line}" for line in _trace_footer(r)]
    return "\n".join(out) + "\n"


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
    for r in results:
        if r.complete and r.reason:
            out.append(f"  {r.key} {r.property} ({r.engine}): {r.reason}")
    return ["", "for all depths, because:", *out] if out else []


def _render_rich(
    results: Sequence[Result], specs: Mapping[str, TransitionSystem], witnesses: bool, width: int
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
        assert r.trace is not None
        steps = Table(*_TRACE_HEADER, title=_trace_title(r), title_justify="left")
        steps.columns[0].justify = "right"
        for row in trace_rows(r.trace, specs.get(r.key)):
            steps.add_row(*(Text(cell) for cell in row))
        console.print(steps)
        for line in _trace_footer(r):
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

    def done(self, finished: int, total: int) -> None:
        elapsed = time.monotonic() - self._started
        self._status.update(f"{finished}/{total} specs checked, {elapsed:.1f} s")


def render_checked(systems: Iterable[TransitionSystem]) -> str:
    """``fusever check``: one line per spec that parsed and checked."""
    return "".join(
        f"ok: {ts.name} ({len(ts.actions)} actions, {len(ts.properties)} properties)\n"
        for ts in systems
    )


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


def result_json(r: Result) -> dict[str, object]:
    # exactly design.md's keys: a configuration is identified by its `settings`
    return {
        "spec": r.spec,
        "file": r.file,
        "settings": dict(r.settings),
        "property": r.property,
        "kind": r.kind.value,
        "verdict": r.verdict.value,
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


def render_junit(
    results: Sequence[Result], specs: Mapping[str, TransitionSystem] | None = None
) -> str:
    """One ``<testsuite>`` per spec, one ``<testcase>`` per property.  A finding (a
    violation, an unreachable cover goal) is a ``<failure>`` with its step table; an
    unknown verdict is an ``<error>``."""
    specs = specs or {}
    by_spec: dict[str, list[Result]] = {}
    for r in results:
        by_spec.setdefault(r.key, []).append(r)

    def counts(rs: Sequence[Result]) -> dict[str, str]:
        return {
            "tests": str(len(rs)),
            "failures": str(sum(is_finding(r) for r in rs)),
            "errors": str(sum(r.verdict is Verdict.UNKNOWN for r in rs)),
            "time": f"{sum(r.seconds for r in rs):.3f}",
        }

    root = ET.Element("testsuites", {"name": "fusever", **counts(results)})
    for spec, rs in by_spec.items():
        suite = ET.SubElement(root, "testsuite", {"name": spec, **counts(rs)})
        if rs[0].settings:
            props = ET.SubElement(suite, "properties")
            for name, value in rs[0].settings:
                ET.SubElement(props, "property", {"name": name, "value": value_text(value)})
        for r in rs:
            case = ET.SubElement(
                suite,
                "testcase",
                {"classname": spec, "name": r.property, "file": r.file, "time": f"{r.seconds:.3f}"},
            )
            text = verdict_text(r)
            if is_finding(r):
                failure = ET.SubElement(case, "failure", {"message": text, "type": r.verdict.value})
                if r.trace is not None:
                    lines = _plain_table(
                        _TRACE_HEADER, trace_rows(r.trace, specs.get(spec)), _TRACE_RIGHT
                    )
                    failure.text = "\n".join([*lines, *_trace_footer(r)])
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
