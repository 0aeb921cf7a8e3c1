"""The words every report is made of: values, map indices and locations as the spec
language writes them, the changes between two states, verdict phrases, action calls,
actors, filled-in action descriptions, and a failing property's values on one line.

Each is one short string; the tables, diagrams and machine formats are built from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import assert_never

from fusever.explain import Change, Failure, Read, TraceFacts
from fusever.kernel_names import KernelNames
from fusever.template import TemplateError
from fusever.template import parse as parse_template
from fusever.template import render as render_template
from fusever.ts import Key, PropKind, State, Step, TransitionSystem, Value
from fusever.verdict import Result, Verdict


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


def sorted_keys(table: Mapping[Key, Value]) -> list[Key]:
    return sorted(table, key=_key_order)


def var_names(state: State, ts: TransitionSystem | None) -> list[str]:
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
        for key in sorted_keys(new_table):
            new = new_table[key]
            old = old_table.get(key)
            if old is None or old != new or type(old) is not type(new):
                out.append((name, key, old, new))
    return out


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


def timed_out_bound(r: Result) -> bool:
    """A bounded "holds" from an engine that was asked for all depths and ran out of
    time (k-induction's reason ``timeout ...``): the question asked is undecided, so it
    reads and exits as unknown (exit 3), not as a bounded proof (issue 28)."""
    return (
        r.verdict is Verdict.PROVED
        and not r.complete
        and r.reason is not None
        and r.reason.startswith("timeout")
    )


def undecided(r: Result) -> Result:
    """``r``, or, when :func:`timed_out_bound`, the same result as ``unknown`` whose
    reason keeps the bound that was checked."""
    if not timed_out_bound(r):
        return r
    why = f"{r.reason}; no violation within {r.bound} steps"
    return dataclasses.replace(r, verdict=Verdict.UNKNOWN, reason=why)


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


def kernel_read_text(r: Read, names: KernelNames | None) -> str:
    """``fi->inval_files_seq[0] = 2``: a read under the kernel's name when the spec
    gives one (fusever/kernel_names.py)."""
    if names is None or r.ghost:
        return read_text(r)
    name = names.variable(r.name) + ("'" if r.primed else "")
    return f"{location_text(name, r.key)} = {value_text(r.value)}"


def ghost_read_text(r: Read, tf: TraceFacts) -> str:
    """A ghost value the property compares, with the step that set it: ghost state is
    the model's bookkeeping (a clock, a count of what happened), so its number alone
    tells a reader little and its step tells where to look: ``r_out[0] = 2 (set at
    step 2)``; ``(never set)`` when no step of the trace set it."""
    for st in reversed(tf.steps):
        for c in st.changes:
            if (c.name, c.key) == (r.name, r.key) and c.new == r.value:
                return f"{read_text(r)} (set at step {st.index})"
    return f"{read_text(r)} (never set)"


def failure_text(
    f: Failure,
    ghosts: bool = True,
    names: KernelNames | None = None,
    tf: TraceFacts | None = None,
) -> str:
    """The failing instance and the values that break it, on one line:
    ``no_stale_escape fails for f=0, n=0: linked[0] = true, ... but fail[0] = false``.
    With ``names``, kernel state under the kernel's names; with the trace's facts
    ``tf``, a ghost value as the step that set it (:func:`ghost_read_text`)."""
    del ghosts  # the values that break a property are shown, ghost or not

    def one(r: Read) -> str:
        if r.ghost and tf is not None:
            return ghost_read_text(r, tf)
        return kernel_read_text(r, names)

    what = "holds" if f.kind is PropKind.COVER else "fails"
    head = f"{f.property} {what}"
    if f.instance:
        head += f" for {instance_text(f.instance)}"
    conclusion = ", ".join(one(r) for r in f.conclusion)
    if f.premise:
        premise = ", ".join(one(r) for r in f.premise)
        return f"{head}: {premise}, but {conclusion}"
    return f"{head}: {conclusion}" if conclusion else head
