"""Plain aligned tables, and the step table of a trace: full (every location of the
initial state, every change) or compact (only the initial values that matter, ghost
state on request, short steps on one line, the failing values last).  Plain text, the
same bytes run after run; :mod:`fusever.report` draws the same rows with rich.
"""

from __future__ import annotations

from collections.abc import Sequence

from fusever.explain import Read, TraceFacts, facts
from fusever.kernel_names import KernelNames, kernel_names
from fusever.report_words import (
    action_call,
    actor_text,
    change_text,
    changes,
    failure_text,
    instance_text,
    key_text,
    location_text,
    read_text,
    sorted_keys,
    value_text,
    var_names,
    verdict_text,
)
from fusever.ts import BitVecType, BoolType, IntType, State, Trace, TransitionSystem, keys
from fusever.verdict import Result


def plain_table(
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
            for name in var_names(step.state, ts):
                table = step.state[name]
                ks = sorted_keys(table)
                if ks == [()]:
                    lines.append(f"{name} = {value_text(table[()])}")
                else:
                    items = ", ".join(f"{key_text(k)}: {value_text(table[k])}" for k in ks)
                    lines.append(f"{name} = [{items}]")
        else:
            order = {n: j for j, n in enumerate(var_names(step.state, ts))}
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


def step_values_read(
    tf: TraceFacts, trace: Trace, ts: TransitionSystem, index: int, names: KernelNames
) -> list[str]:
    """The kernel values step ``index`` reads of its pre-state and compares: numbers
    and bits (a program counter or an index into another table is left out), under
    the kernel's names: ``ff->open_seq[0] = 1``.  The last step shows them, so the
    step that makes the comparison shows what it compared."""
    if not 0 < index < len(trace.steps):
        return []
    types = {v.name: v for v in ts.vars}
    pre = trace.steps[index - 1].state
    changed = {(c.name, c.key) for c in tf.steps[index].changes}
    out = []
    for name, key in tf.steps[index].reads:
        if (name, key) in changed:  # its new value is among the changes
            continue
        v = types.get(name)
        if v is None or v.ghost or not isinstance(v.type, IntType | BitVecType | BoolType):
            continue
        value = pre.get(name, {}).get(key)
        if value is not None:
            out.append(f"{location_text(names.variable(name), key)} = {value_text(value)}")
    return list(dict.fromkeys(out))


def compact_rows(
    r: Result, ts: TransitionSystem, ghosts: bool = False
) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """The compact step table and the lines under it: step 0 shows only the initial
    locations that matter (later read or changed, or unlike the spec's default), ghost
    state only with ``ghosts``, a step of one or two changes on one line; the last line
    is the failing instance with its values."""
    assert r.trace is not None
    tf = trace_facts(r, ts)
    names = kernel_names(ts)
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
            if st.index == len(tf.steps) - 1:  # the step that breaks it: what it compared
                seen = step_values_read(tf, r.trace, ts, st.index, names)
                if seen:
                    cell += "\nreads " + ", ".join(seen)
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
        footer.append(failure_text(tf.failure, names=names, tf=tf))
    elif r.instance:
        footer.append(f"{r.property} fails for {instance_text(r.instance)}")
    return rows, footer


TRACE_HEADER = ("step", "actor", "action", "changed")
TRACE_RIGHT = (True, False, False, False)


def trace_title(r: Result) -> str:
    return f"{r.key} / {r.property}: {verdict_text(r)}"


def _trace_footer(r: Result) -> list[str]:
    out: list[str] = []
    if r.instance:
        out.append(f"{r.property} fails for {instance_text(r.instance)}")
    if r.description:
        out.append(f"{r.property}: {r.description}")
    return out


def render_trace_text(
    r: Result, ts: TransitionSystem | None, *, full: bool = False, ghosts: bool = False
) -> str:
    """One trace as ``prove`` prints it under the table: title, steps, footer."""
    rows, footer = trace_table(r, ts, full, ghosts)
    out = [trace_title(r), *plain_table(TRACE_HEADER, rows, TRACE_RIGHT, "  ")]
    return "\n".join([*out, *(f"  {line}" for line in footer)]) + "\n"


def trace_table(
    r: Result, ts: TransitionSystem | None, full: bool, ghosts: bool
) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    assert r.trace is not None
    if full or ts is None:
        return trace_rows(r.trace, ts), _trace_footer(r)
    return compact_rows(r, ts, ghosts)
