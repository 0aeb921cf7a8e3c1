"""Traces as sequence diagrams, and saved ITF traces read back.

One lane per actor (``by daemon``, ``by opener(f)``, ``by worker`` ...), in the order
they first act; one arrow or note per step with the action's own description and the
values it changed; the initial values that matter first and the failing property and
instance last.  A step is an arrow to the next other actor that reads a location it
changed (who it hands the state to), else a note on its own lane.

Outputs: Mermaid ``sequenceDiagram`` text, SVG drawn here (no browser, no
mermaid.js), and one self-contained HTML file (the SVG, the step table beside it and a
toggle for ghost state; inline style and script, nothing fetched).  Same trace, same
bytes.  :func:`read_itf` turns a file written by ``--trace-dir`` back into a result,
so ``fusever show`` renders it without solving again.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fusever import __version__
from fusever.explain import TraceFacts
from fusever.kernel_names import kernel_names
from fusever.report_machine import ITF_ACTION, ITF_PICKS
from fusever.report_race import render_race
from fusever.report_tables import initial_items, render_trace_text, step_values_read, trace_facts
from fusever.report_words import (
    action_call,
    actor_text,
    change_text,
    changes,
    description_text,
    failure_text,
    instance_text,
    location_text,
    value_text,
    verdict_text,
)
from fusever.ts import Key, PropKind, State, Step, Trace, TransitionSystem, Value
from fusever.verdict import Result, Verdict

FORMATS = ("text", "race", "mermaid", "html", "svg")
SUFFIX = {
    "text": ".txt",
    "race": ".race.txt",
    "mermaid": ".mmd",
    "html": ".html",
    "svg": ".svg",
}
NO_ACTOR = "(no actor)"


# ---- the diagram as data ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    step: int
    lane: int
    to: int | None  # an arrow to this lane; None: a note on ``lane``
    call: str  # ``reply_write(f=0, err=false)``
    text: str  # the action's description, filled in (its call when it has none)
    values: tuple[str, ...]  # kernel changes
    ghost_values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Diagram:
    title: str
    lanes: tuple[str, ...]
    initial: tuple[str, ...]
    ghost_initial: tuple[str, ...]
    events: tuple[Event, ...]
    end: str  # the failing property and instance with its values
    description: str | None


def diagram(r: Result, ts: TransitionSystem | None) -> Diagram:
    """The sequence diagram of ``r``'s trace (``ts`` supplies actors and descriptions)."""
    assert r.trace is not None, "only a result with a trace has a diagram"
    steps = r.trace.steps
    tf: TraceFacts | None = trace_facts(r, ts) if ts is not None else None
    actors = [actor_text(s, ts) if s.action is not None else "" for s in steps]
    lanes = list(dict.fromkeys(a if a != "-" else NO_ACTOR for a in actors[1:]))
    lane_of = [lanes.index(a if a != "-" else NO_ACTOR) if i else 0 for i, a in enumerate(actors)]
    events: list[Event] = []
    for i, step in enumerate(steps[1:], start=1):
        values: tuple[str, ...] = ()
        ghost: tuple[str, ...] = ()
        to: int | None = None
        if tf is not None:
            changes = tf.steps[i].changes
            values = tuple(change_text(c) for c in changes if not c.ghost)
            ghost = tuple(change_text(c) for c in changes if c.ghost)
            changed = {(c.name, c.key) for c in changes if not c.ghost}
            for later in tf.steps[i + 1 :]:
                if lane_of[later.index] != lane_of[i] and changed & set(later.reads):
                    to = lane_of[later.index]
                    break
        else:
            values = _plain_changes(steps[i - 1].state, step.state)
        if tf is not None and ts is not None and i == len(steps) - 1:
            seen = step_values_read(tf, r.trace, ts, i, kernel_names(ts))
            if seen:  # the step that breaks it: what it compared
                values += ("reads " + ", ".join(seen),)
        call = action_call(step.action, step.args)
        text = description_text(step, ts) or call
        events.append(Event(i, lane_of[i], to, call, text, values, ghost))
    initial: tuple[str, ...] = ()
    ghost_initial: tuple[str, ...] = ()
    end = f"{r.property} {'holds' if r.kind is PropKind.COVER else 'fails'}"
    if r.instance:
        end += f" for {instance_text(r.instance)}"
    if tf is not None and ts is not None:
        initial = tuple(initial_items([x for x in tf.initial if not x.ghost], ts))
        ghost_initial = tuple(initial_items([x for x in tf.initial if x.ghost], ts))
        if tf.failure is not None:
            end = failure_text(tf.failure, names=kernel_names(ts), tf=tf)
    return Diagram(
        f"{r.key} / {r.property}: {verdict_text(r)}",
        tuple(lanes) or (NO_ACTOR,),
        initial,
        ghost_initial,
        tuple(events),
        end,
        r.description,
    )


def _plain_changes(before: State, after: State) -> tuple[str, ...]:
    return tuple(
        f"{location_text(n, k)}: {'?' if o is None else value_text(o)} → {value_text(v)}"
        for n, k, o, v in changes(before, after)
    )


# ---- Mermaid ------------------------------------------------------------------------------

_MERMAID_ESCAPES = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "\n": " "}


def _mm(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(ch, ch) for ch in text)


MERMAID_WIDE = 64  # characters per line of a note over every lane (the initial values, the end)
MERMAID_STEP = 44  # characters per line of one step's note or arrow label


def render_mermaid(d: Diagram, ghosts: bool = False) -> str:
    """A Mermaid ``sequenceDiagram`` (renders on GitHub and in docs).  The title is a
    YAML double-quoted string in the front matter (a JSON string is one), and every
    label is wrapped into ``<br/>``-separated lines, so no note is wider than a few
    lanes and none pushes the lanes apart."""
    ids = [f"L{i}" for i in range(len(d.lanes))]
    span = ids[0] if len(ids) == 1 else f"{ids[0]},{ids[-1]}"
    title = json.dumps(d.title, ensure_ascii=False)
    out = ["---", f"title: {title}", "---", "sequenceDiagram"]
    out += [f"    participant {i} as {_mm(name)}" for i, name in zip(ids, d.lanes, strict=True)]
    initial = [*d.initial, *(d.ghost_initial if ghosts else ())]
    if initial:
        lines = _wrap_items(initial, MERMAID_WIDE, "initially:")
        out.append(f"    Note over {span}: {'<br/>'.join(_mm(s) for s in lines)}")
    for e in d.events:
        values = [*e.values, *(e.ghost_values if ghosts else ())]
        wrapped = [s for line in [*_heading(e), *values] for s in _wrap(line, MERMAID_STEP)]
        label = "<br/>".join(_mm(line) for line in wrapped)
        if e.to is None:
            out.append(f"    Note over {ids[e.lane]}: {label}")
        else:
            out.append(f"    {ids[e.lane]}->>{ids[e.to]}: {label}")
    end = _wrap(d.end, MERMAID_WIDE, ", ")
    out.append(f"    Note over {span}: {'<br/>'.join(_mm(s) for s in end)}")
    return "\n".join(out) + "\n"


# ---- SVG ------------------------------------------------------------------------------------

LANE = 240  # px between lifelines
CHAR = 7.3  # px per character of the 12 px monospace font (a safe upper bound)
LINE = 15  # px per text line
MARGIN = 16
HEAD = 34
PAD = 6  # px of text padding inside a box


def _wrap(text: str, chars: int, sep: str = " ") -> list[str]:
    """Greedy wrap at ``sep`` (kept at the line's end when it is not a space); a piece
    longer than a line is wrapped at spaces, a word longer than a line cut."""
    chars = max(chars, 8)
    lines: list[str] = []
    pieces = text.split(sep)
    for n, piece in enumerate(pieces):
        if n < len(pieces) - 1 and sep != " ":
            piece += sep.rstrip()
        if lines and len(lines[-1]) + 1 + len(piece) <= chars:
            lines[-1] += " " + piece
        elif len(piece) <= chars:
            lines.append(piece)
        elif sep != " ":
            lines += _wrap(piece, chars)
        else:
            while len(piece) > chars:
                lines.append(piece[:chars])
                piece = piece[chars:]
            lines.append(piece)
    return lines or [""]


def _wrap_items(items: Sequence[str], chars: int, head: str = "") -> list[str]:
    """``head`` then items joined by ``, ``, a line broken only between items (a long
    one wrapped)."""
    lines: list[str] = [head] if head else []
    for n, item in enumerate(items):
        piece = item + ("," if n < len(items) - 1 else "")
        if lines and len(lines[-1]) + 1 + len(piece) <= chars:
            lines[-1] += " " + piece
        else:
            lines += _wrap(piece, chars)
    return lines or [""]


def _x(lane: int) -> int:
    return MARGIN + LANE // 2 + lane * LANE


def _text(x: int, y: int, lines: Sequence[tuple[str, str]], anchor: str = "start") -> list[str]:
    """One ``<text>`` per line: ``(class, text)``."""
    return [
        f'<text x="{x}" y="{y + (n + 1) * LINE - 3}" class="{cls}" text-anchor="{anchor}">'
        f"{html.escape(t, quote=False)}</text>"
        for n, (cls, t) in enumerate(lines)
    ]


def _heading(e: Event) -> list[str]:
    """``3. <description>`` and the call, or the call alone when there is no description."""
    return [f"{e.step}. {e.text}"] + ([e.call] if e.call != e.text else [])


def _lines(e: Event, values: Sequence[str], chars: int) -> list[tuple[str, str]]:
    head = _heading(e)
    out = [("b", s) for s in _wrap(head[0], chars)]
    out += [("c", s) for line in head[1:] for s in _wrap(line, chars)]
    return out + [("v", s) for v in values for s in _wrap(v, chars)]


def render_svg(d: Diagram, ghosts: bool = False) -> str:
    """The diagram drawn as a standalone SVG document (fonts and colours inline)."""
    width = 2 * MARGIN + len(d.lanes) * LANE
    body, y = _svg_steps(d, ghosts)
    height = y + MARGIN
    out = _svg_frame(d, width, height)
    out += body
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_steps(d: Diagram, ghosts: bool) -> tuple[list[str], int]:
    """The boxes, notes and arrows from the top down: the initial values, a note or an
    arrow per step, the failure; with the height they reach."""
    n = len(d.lanes)
    wide = int((n * LANE - 16 - 2 * PAD) / CHAR)
    body: list[str] = []
    y = MARGIN + HEAD + 12

    def box(x0: int, x1: int, lines: list[tuple[str, str]], cls: str) -> None:
        nonlocal y
        h = len(lines) * LINE + 8
        body.append(f'<rect x="{x0}" y="{y}" width="{x1 - x0}" height="{h}" class="{cls}"/>')
        body.extend(_text(x0 + PAD, y + 3, lines))
        y += h + 10

    left, right = MARGIN + 8, MARGIN + n * LANE - 8
    initial = [*d.initial, *(d.ghost_initial if ghosts else ())]
    if initial:
        box(left, right, [("t", s) for s in _wrap_items(initial, wide, "initially:")], "init")
    for e in d.events:
        values = [*e.values, *(e.ghost_values if ghosts else ())]
        if e.to is None:
            chars = int((LANE - 28 - 2 * PAD) / CHAR)
            lines = _lines(e, values, chars)
            x0 = _x(e.lane) - LANE // 2 + 14
            body.append(f'<g class="step" data-step="{e.step}">')
            box(x0, x0 + LANE - 28, lines, "note")
            body.append("</g>")
        else:
            a, b = _x(e.lane), _x(e.to)
            chars = int((abs(b - a) - 16) / CHAR)
            lines = _lines(e, values, chars)
            body.append(f'<g class="step" data-step="{e.step}">')
            body.extend(_text((a + b) // 2, y, lines, "middle"))
            y += len(lines) * LINE + 6
            tip = b - 8 if b > a else b + 8
            body.append(f'<line x1="{a}" y1="{y}" x2="{tip}" y2="{y}" class="arrow"/>')
            body.append(f'<path d="M{b},{y} L{tip},{y - 5} L{tip},{y + 5} Z" class="head"/>')
            body.append("</g>")
            y += 14
    box(left, right, [("f", s) for s in _wrap(d.end, wide, ", ")], "end")
    return body, y


def _svg_frame(d: Diagram, width: int, height: int) -> list[str]:
    """The document's opening: the ``<svg>`` element, title, style and background, and a
    head and lifeline per lane."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="12">',
        f"<title>{html.escape(d.title, quote=False)}</title>",
        "<style>"
        ".lane{fill:#eef3fb;stroke:#4a6fa5}.life{stroke:#8aa1c1;stroke-dasharray:4 4}"
        ".note{fill:#fffbe6;stroke:#c9b458}.init{fill:#f3f3f3;stroke:#999}"
        ".end{fill:#fdecea;stroke:#c0392b}.arrow{stroke:#333;stroke-width:1.4}.head{fill:#333}"
        ".b{fill:#111}.c{fill:#555}.v{fill:#1f5f8b}.t{fill:#333}.f{fill:#a52a1a;font-weight:bold}"
        ".h{fill:#111;font-weight:bold}"
        "</style>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for i, name in enumerate(d.lanes):
        x = _x(i)
        out.append(
            f'<line x1="{x}" y1="{MARGIN + HEAD}" x2="{x}" y2="{height - MARGIN}" class="life"/>'
        )
        out.append(
            f'<rect x="{x - LANE // 2 + 10}" y="{MARGIN}" width="{LANE - 20}" height="{HEAD}" '
            f'rx="4" class="lane"/>'
        )
        out += _text(x, MARGIN + 8, [("h", name)], "middle")
    return out


# ---- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#111}
h1{font-size:18px;margin:0 0 4px}
p.desc{margin:0 0 8px;color:#444}
p.failure{font-family:monospace;color:#a52a1a;font-weight:bold}
.layout{display:flex;gap:20px;align-items:flex-start}
.diagram{flex:none;overflow:auto;max-width:65vw}
table.steps{border-collapse:collapse;font-family:monospace;font-size:12px}
table.steps th,table.steps td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
table.steps tr:target,table.steps tr:hover{background:#fffbe6}
td.desc{font-family:system-ui,sans-serif;color:#333}
.ghost{color:#777;font-style:italic}
body:not(.ghosts) .ghost,body:not(.ghosts) .with-ghosts,body.ghosts .kernel{display:none}
"""

_JS = """
(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push(String(e.message));
    document.body.setAttribute("data-errors", errors.join(" | "));
  });
  var box = document.getElementById("ghosts");
  function visible(el) { return el.getClientRects().length > 0; }
  function apply() {
    document.body.classList.toggle("ghosts", box.checked);
    // what a reader sees: step rows in the table and step groups in the diagram shown
    var rows = Array.prototype.filter.call(
      document.querySelectorAll("table.steps tbody tr"), visible).length;
    var groups = Array.prototype.filter.call(
      document.querySelectorAll(".diagram g.step"), visible).length;
    document.body.setAttribute("data-rows-shown", String(rows));
    document.body.setAttribute("data-diagram-steps-shown", String(groups));
  }
  box.addEventListener("change", apply);
  if (window.location.hash === "#ghosts") { box.checked = true; }
  apply();
  document.body.setAttribute("data-ready", "yes");
})();
"""


def _cell(lines: Sequence[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "".join(f"<div{attr}>{html.escape(s)}</div>" for s in lines)


def render_html(d: Diagram) -> str:
    """One self-contained page: the diagram (inline SVG, with and without ghost state),
    the step table beside it, and a checkbox that shows ghost state in both."""
    rows = [
        '<tr id="step-0" data-step="0"><td>0</td><td></td><td>init</td>'
        f"<td>{_cell(d.initial)}{_cell(d.ghost_initial, 'ghost')}</td></tr>"
    ]
    for e in d.events:
        rows.append(
            f'<tr id="step-{e.step}" data-step="{e.step}"><td>{e.step}</td>'
            f"<td>{html.escape(d.lanes[e.lane])}</td>"
            f'<td>{html.escape(e.call)}<div class="desc">{html.escape(e.text)}</div></td>'
            f"<td>{_cell(e.values or ('(no change)',))}{_cell(e.ghost_values, 'ghost')}</td></tr>"
        )
    desc = f'<p class="desc">{html.escape(d.description)}</p>' if d.description else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(d.title)}</title>",
        f'<meta name="generator" content="fusever {html.escape(__version__)}">',
        f"<style>{_CSS}</style></head>",
        "<body>",
        f"<h1>{html.escape(d.title)}</h1>",
        desc,
        '<p><label><input type="checkbox" id="ghosts"> show ghost state</label></p>',
        '<div class="layout"><div class="diagram">',
        f'<div class="kernel">{render_svg(d, ghosts=False)}</div>',
        f'<div class="with-ghosts">{render_svg(d, ghosts=True)}</div>',
        "</div>",
        '<table class="steps"><thead><tr><th>step</th><th>actor</th><th>action</th>'
        "<th>changed</th></tr></thead><tbody>",
        *rows,
        "</tbody></table></div>",
        f'<p class="failure">{html.escape(d.end)}</p>',
        f"<script>{_JS}</script>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def render(
    fmt: str, r: Result, ts: TransitionSystem | None, full: bool = False, ghosts: bool = False
) -> str:
    """``r``'s trace in one of :data:`FORMATS`."""
    if fmt == "text":
        return render_trace_text(r, ts, full=full, ghosts=ghosts)
    if fmt == "race":
        return render_race(r, ts)
    d = diagram(r, ts)
    match fmt:
        case "mermaid":
            return render_mermaid(d, ghosts)
        case "svg":
            return render_svg(d, ghosts)
        case "html":
            return render_html(d)
    raise ValueError(f"unknown trace format {fmt!r}")


def trace_filename(r: Result, fmt: str) -> str:
    return f"{r.key}.{r.property}{SUFFIX[fmt]}"


# ---- ITF read back (the inverse of report.itf_trace) -------------------------------------------


class ItfError(ValueError):
    """A file that is not an ITF trace written by fusever."""


def _value(v: object) -> Value:
    if isinstance(v, bool | str):
        return v
    if isinstance(v, dict) and set(v) == {"#bigint"}:
        return int(str(v["#bigint"]))
    if isinstance(v, int):
        return v
    raise ItfError(f"unexpected ITF value {json.dumps(v)[:60]}")


def _key(k: object) -> Key:
    if isinstance(k, dict) and set(k) == {"#tup"}:
        items = k["#tup"]
        if not isinstance(items, list):
            raise ItfError("a #tup key is not a list")
        return tuple(_value(x) for x in items)
    return (_value(k),)


def _table(v: object) -> dict[Key, Value]:
    if isinstance(v, dict) and set(v) == {"#map"}:
        pairs = v["#map"]
        if not isinstance(pairs, list):
            raise ItfError("a #map is not a list")
        return {_key(p[0]): _value(p[1]) for p in pairs}
    return {(): _value(v)}


def read_itf(text: str, ts: TransitionSystem | None = None) -> Result:
    """A result with its trace from an ITF document written by ``--trace-dir``; ``ts``
    (the spec it came from, when it could be loaded) supplies the property's kind and
    description."""
    try:
        doc = json.loads(text)
        meta = doc["#meta"]["fusever"]
        names = [n for n in doc["vars"] if n not in (ITF_ACTION, ITF_PICKS)]
        steps = []
        for s in doc["states"]:
            action = s[ITF_ACTION]
            args = tuple((k, _value(p["value"])) for k, p in s.get(ITF_PICKS, {}).items())
            state = {n: _table(s[n]) for n in names}
            steps.append(Step(None if action == "init" else str(action), args, state))
        verdict = Verdict(meta["verdict"])
        prop = str(meta["property"])
        source = str(doc["#meta"].get("source", ""))
        settings = tuple((str(k), v) for k, v in dict(meta.get("settings", {})).items())
        instance = tuple((str(k), _value(v)) for k, v in dict(meta.get("instance", {})).items())
        step = meta.get("step")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise ItfError(f"not an ITF trace written by fusever ({type(e).__name__}: {e})") from e
    kind = PropKind.COVER if verdict is Verdict.COVERED else PropKind.INVARIANT
    description = None
    if ts is not None:
        try:
            p = ts.property(prop)
            kind, description = p.kind, p.description
        except KeyError:
            pass
    return Result(
        spec=str(meta["spec"]),
        file=source,
        settings=settings,
        property=prop,
        kind=kind,
        verdict=verdict,
        complete=False,
        bound=int(step) if isinstance(step, int) else len(steps) - 1,
        step=int(step) if isinstance(step, int) else None,
        engine="itf",
        seconds=0.0,
        trace=Trace(tuple(steps)),
        instance=instance,
        description=description,
        config=meta.get("config"),
    )


def itf_settings(text: str) -> tuple[str, str | None, Mapping[str, object]]:
    """The spec file, configuration and settings an ITF trace names (to load its spec)."""
    try:
        doc = json.loads(text)
        meta = doc["#meta"]["fusever"]
        return str(doc["#meta"]["source"]), meta.get("config"), dict(meta.get("settings", {}))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ItfError(f"not an ITF trace written by fusever ({type(e).__name__}: {e})") from e
