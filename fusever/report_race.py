"""A trace as a race diagram in the kernel's style: plain-text columns, one per lane
(a daemon thread, an opener, the invalidation worker), time running down, each step
headed by the kernel function it stands for and followed by the values that matter:
the numbers and bits it stored, and at the step that breaks the property, the values
it compared.  At most 80 columns, so it pastes into a commit message or a mail.

Only the steps that matter for the failing property are drawn: walking back from the
last step, a step matters when it was the last to write a location the property or a
later step that matters reads (program counters and the ghost clock aside: every step
of an actor reads its own counter, and every step bumps the clock).  The
others are summarized on one line each run (``steps 5-6 left out``).  The kernel's
names come from the spec's comments (:mod:`fusever.kernel_names`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from fusever.explain import TraceFacts
from fusever.kernel_names import KernelNames, kernel_names
from fusever.report_tables import trace_facts
from fusever.report_words import (
    action_call,
    actor_text,
    failure_text,
    instance_text,
    location_text,
    value_text,
    verdict_text,
)
from fusever.ts import BitVecType, BoolType, IntType, PropKind, TransitionSystem, Type, keys
from fusever.verdict import Result

WIDTH = 80
GAP = 2  # spaces between columns
NO_ACTOR = "(no actor)"


LAST_LANE = 36  # columns the rightmost lane has at least (its text runs to the edge)


def lane_starts(lanes: int, width: int = WIDTH) -> list[int]:
    """Where each lane's column starts: evenly spaced, at most half the width apart,
    and close enough that the rightmost lane keeps :data:`LAST_LANE` columns (a step
    is alone on its rows, so its text runs on over the empty lanes to its right)."""
    if lanes <= 1:
        return [0]
    step = min(width // 2, (width - LAST_LANE) // (lanes - 1))
    return [k * step for k in range(lanes)]


def _values_type(t: Type) -> bool:
    """Numbers and bits: what a race is about (a program counter or an index is not)."""
    return isinstance(t, IntType | BitVecType | BoolType)


def relevant_steps(tf: TraceFacts, ts: TransitionSystem) -> set[int]:
    """The steps that matter for the failure: the last, and each step that was the last
    to write a location the failing property reads, or one a later step that matters
    reads.  A step's reads of program counters (enum-typed) pull no step in (every step
    of an actor reads its own), nor does a ghost location the step itself bumps (the
    model's clock, which every step reads and writes)."""
    last = len(tf.steps) - 1
    types = {v.name: v for v in ts.vars}
    needed: set[tuple[str, tuple[object, ...]]] = set()
    if tf.failure is not None:
        needed |= {(r.name, r.key) for r in (*tf.failure.premise, *tf.failure.conclusion)}
    keep: set[int] = set()
    for st in reversed(tf.steps[1:]):
        wrote = {(c.name, c.key) for c in st.changes}
        if st.index != last and not wrote & needed:
            continue
        keep.add(st.index)
        needed -= wrote  # the value read later is this step's
        for name, key in st.reads:
            v = types.get(name)
            if v is None or not _values_type(v.type):
                continue
            if v.ghost and (name, key) in wrote:
                continue  # the ghost clock, bumped by every step
            needed.add((name, key))
    return keep


def _lane_names(r: Result, ts: TransitionSystem | None) -> tuple[list[str], list[int]]:
    assert r.trace is not None
    actors = [actor_text(s, ts) if s.action is not None else "" for s in r.trace.steps]
    lanes = list(dict.fromkeys(a if a != "-" else NO_ACTOR for a in actors[1:]))
    lane_of = [lanes.index(a if a != "-" else NO_ACTOR) if i else 0 for i, a in enumerate(actors)]
    return lanes, lane_of


def _location(names: KernelNames, ts: TransitionSystem, name: str, key: tuple[object, ...]) -> str:
    """``fi->inval_files_seq`` when the variable has one location, else with its index."""
    kname = names.variable(name)
    try:
        single = len(keys(ts.var(name).index)) == 1
    except KeyError:
        single = False
    return kname if single else location_text(kname, key)  # type: ignore[arg-type]


def _step_lines(
    r: Result, ts: TransitionSystem, tf: TraceFacts, names: KernelNames, i: int, calls: bool
) -> list[str]:
    """A step's cell: ``N: fn()`` (or the action's call), then what it stored, and at
    the last step what it read and compared."""
    assert r.trace is not None
    step = r.trace.steps[i]
    assert step.action is not None
    fn = names.function(step.action)
    head = f"{i}: {fn}" if fn else f"{i}: {action_call(step.action, step.args)}"
    if fn and not calls:
        head += f" ({step.action})"
    lines = [head]
    if fn and calls:
        lines.append(f"  {action_call(step.action, step.args)}")
    types = {v.name: v for v in ts.vars}
    for c in tf.steps[i].changes:
        v = types.get(c.name)
        if c.ghost or v is None or not _values_type(v.type):
            continue
        lines.append(f"  {_location(names, ts, c.name, c.key)} = {value_text(c.new)}")
    if i == len(r.trace.steps) - 1:  # the step that breaks it: what it compared
        changed = {(c.name, c.key) for c in tf.steps[i].changes}
        pre = r.trace.steps[i - 1].state
        for name, key in dict.fromkeys(tf.steps[i].reads):
            v = types.get(name)
            if (name, key) in changed or v is None or v.ghost or not _values_type(v.type):
                continue
            value = pre.get(name, {}).get(key)
            if value is not None:
                lines.append(f"  reads {_location(names, ts, name, key)} = {value_text(value)}")
    return lines


def _wrap_cell(lines: Sequence[str], width: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        indent = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(
            line,
            width,
            subsequent_indent=indent + "  ",
            break_long_words=True,
            break_on_hyphens=False,
        ) or [""]
    return out


def render_race(
    r: Result, ts: TransitionSystem | None, width: int = WIDTH, calls: bool = True
) -> str:
    """``r``'s trace as a race diagram at most ``width`` columns wide; ``calls``: each
    step's action call under its kernel function (the review leaves them out)."""
    assert r.trace is not None, "only a result with a trace has a race diagram"
    title = f"{r.key} / {r.property}: {verdict_text(r)}"
    out = textwrap.wrap(title, width) or [title]
    if r.description:
        out += textwrap.wrap(f"{r.property}: {r.description}", width)
    out.append("")
    lanes, lane_of = _lane_names(r, ts)
    starts = lane_starts(len(lanes), width)

    def row(lane: int, lines: Sequence[str]) -> list[str]:
        # a row is one step, in one lane: its text may run on to the right edge
        return [" " * starts[lane] + line for line in _wrap_cell(lines, width - starts[lane])]

    head = dash = ""
    for k, name in enumerate(lanes):
        room = (starts[k + 1] - starts[k] - GAP) if k + 1 < len(lanes) else width - starts[k]
        name = name[:room]
        head = head.ljust(starts[k]) + name
        dash = dash.ljust(starts[k]) + "-" * len(name)
    out += [head, dash]
    steps = len(r.trace.steps)
    if ts is None:  # no spec: every step, by its call
        for i in range(1, steps):
            s = r.trace.steps[i]
            out += row(lane_of[i], [f"{i}: {action_call(s.action, s.args)}"])
        out.append("")
        if r.instance:
            out += textwrap.wrap(f"{r.property} fails for {instance_text(r.instance)}", width)
        return "\n".join(out) + "\n"
    tf = trace_facts(r, ts)
    names = kernel_names(ts)
    keep = relevant_steps(tf, ts)
    skipped: list[int] = []
    trace = r.trace

    def flush() -> None:
        if not skipped:
            return
        calls = ", ".join(dict.fromkeys(str(trace.steps[i].action) for i in skipped))
        span = f"step {skipped[0]}" if len(skipped) == 1 else f"steps {skipped[0]}-{skipped[-1]}"
        out.extend(textwrap.wrap(f"   ({span} left out: {calls})", width, subsequent_indent="    "))
        skipped.clear()

    for i in range(1, steps):
        if i not in keep:
            skipped.append(i)
            continue
        flush()
        out += row(lane_of[i], _step_lines(r, ts, tf, names, i, calls))
    flush()
    out.append("")
    if tf.failure is not None:
        end = failure_text(tf.failure, names=names, tf=tf)
    else:
        verb = "holds" if r.kind is PropKind.COVER else "fails"
        end = f"{r.property} {verb}" + (f" for {instance_text(r.instance)}" if r.instance else "")
    out += wrap_items(end, width)
    return "\n".join(out) + "\n"


def wrap_items(text: str, width: int = WIDTH) -> list[str]:
    """A failure line broken between its ``, ``-separated items (a long item at spaces)."""
    lines: list[str] = []
    items = text.split(", ")
    for k, item in enumerate(items):
        piece = item + ("," if k < len(items) - 1 else "")
        if lines and len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines += textwrap.wrap(piece, width, subsequent_indent="  ", break_on_hyphens=False)
    return lines
