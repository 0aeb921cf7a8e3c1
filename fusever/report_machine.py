"""Output for tools: the JSON report (design.md, "The JSON report"), JUnit XML (one
suite per spec, one case per property) and ITF traces (Apalache's Informal Trace
Format, ADR-015).  Deterministic: the same results, the same bytes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from fusever import __version__
from fusever.kernel_names import kernel_names
from fusever.report_tables import TRACE_HEADER, TRACE_RIGHT, plain_table, trace_facts, trace_table
from fusever.report_words import (
    actor_text,
    changes,
    failure_text,
    instance_text,
    is_finding,
    key_text,
    sorted_keys,
    value_text,
    var_names,
    verdict_text,
)
from fusever.ts import Key, PropKind, State, Trace, TransitionSystem, Value
from fusever.verdict import Result, Verdict


def _json_table(table: Mapping[Key, Value]) -> Value | dict[str, Value]:
    if set(table) == {()}:
        return table[()]
    return {key_text(k): table[k] for k in sorted_keys(table)}


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


def trace_json(trace: Trace, ts: TransitionSystem | None = None) -> list[dict[str, object]]:
    """Each step: its index, action, arguments and actor (``daemon 0``, from the
    action's ``by`` label; null for step 0 or an action without one), then the whole
    initial state or what the step changed."""
    steps: list[dict[str, object]] = []
    before: State = {}
    for i, step in enumerate(trace.steps):
        actor = actor_text(step, ts)
        entry: dict[str, object] = {
            "step": i,
            "action": step.action,
            "args": dict(step.args),
            "actor": None if actor == "-" else actor,
        }
        if i == 0:
            entry["state"] = _json_state(step.state)
        else:
            entry["changed"] = _json_changed(before, step.state)
        steps.append(entry)
        before = step.state
    return steps


def vacuity_text(r: Result, ts: TransitionSystem | None) -> str:
    """An unreachable cover goal told with what it leaves vacuous: ``cover goal
    opens_cover is unreachable within 10: no_stale_escape may hold only vacuously``."""
    supported: str | None = None
    if ts is not None:
        try:
            supported = ts.property(r.property).covers
        except KeyError:
            supported = None
    head = f"cover goal {r.property} is {verdict_text(r)}"
    if supported:
        return f"{head}: {supported} may hold only vacuously (no run reaches what it is about)"
    return f"{head}: the properties it supports may hold only vacuously"


def result_message(r: Result, ts: TransitionSystem | None) -> str:
    """One line saying why, for a script or a CI page: a violation's failing instance
    and values (the failure line), an unreachable cover goal's vacuity, else the
    verdict with its scope."""
    if r.kind is PropKind.COVER and r.verdict is Verdict.UNREACHABLE:
        return vacuity_text(r, ts)
    if r.verdict is Verdict.VIOLATED:
        why = f"{r.property} fails"
        if r.instance:
            why += f" for {instance_text(r.instance)}"
        if ts is not None and r.trace is not None:
            tf = trace_facts(r, ts)
            if tf.failure is not None:
                why = failure_text(tf.failure, names=kernel_names(ts), tf=tf)
        return f"{verdict_text(r)}: {why}"
    return f"{r.property}: {verdict_text(r)}"


def outcome(r: Result) -> str:
    """The verdict with its scope in one word, for scripts: ``proved`` and
    ``unreachable`` only for all depths, ``proved_to_bound`` and
    ``unreachable_to_bound`` for a bounded search (README, "JSON")."""
    if r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE) and not r.complete:
        return f"{r.verdict.value}_to_bound"
    return r.verdict.value


def result_json(r: Result, ts: TransitionSystem | None = None) -> dict[str, object]:
    # design.md's keys, plus `config` (the configuration's name, null for the default),
    # `outcome` (the verdict qualified by its scope), `instance` (the failing or
    # witnessing binding of the property's quantified variables) and `message` (why,
    # in one line: result_message)
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
        "instance": dict(r.instance),
        "message": result_message(r, ts),
        "trace": None if r.trace is None else trace_json(r.trace, ts),
    }


def render_json(
    results: Sequence[Result], specs: Mapping[str, TransitionSystem] | None = None
) -> str:
    specs = specs or {}
    doc = {
        "fusever": __version__,
        "results": [result_json(r, specs.get(r.key)) for r in results],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


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
    results: Sequence[Result], specs: Mapping[str, TransitionSystem] | None = None
) -> str:
    """One ``<testsuite>`` per spec, one ``<testcase>`` per property.  A finding (a
    violation, an unreachable cover goal) is a ``<failure>`` whose message says why
    (:func:`result_message`: the failure line, or which property the unreached cover
    goal leaves vacuous) and whose body is the step table; an unknown verdict is an
    ``<error>``.  A case's time is its own share of the spec's run
    (:func:`case_seconds`), a suite's the spec's run, and ``<testsuites>``'s the sum
    of its suites (as JUnit readers add them up)."""
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
        # rounded as printed, so the total is the sum of the numbers a reader sees
        return round(max((r.seconds for r in rs), default=0.0), 3)

    total = sum(run_time(rs) for rs in by_spec.values())
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
                ts = specs.get(spec)
                message = result_message(r, ts)
                failure = ET.SubElement(
                    case, "failure", {"message": message, "type": r.verdict.value}
                )
                if r.trace is not None:  # compact, as prove prints it
                    rows, footer = trace_table(r, ts, False, False)
                    lines = plain_table(TRACE_HEADER, rows, TRACE_RIGHT)
                    failure.text = "\n".join([*lines, *footer])
                else:
                    failure.text = message + (f"\n{r.description}" if r.description else "")
            elif r.verdict is Verdict.UNKNOWN:
                ET.SubElement(case, "error", {"message": text, "type": "unknown"})
            else:
                ET.SubElement(case, "system-out").text = text
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


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
    return {"#map": [[_itf_key(k), _itf_value(table[k])] for k in sorted_keys(table)]}


def itf_trace(r: Result, ts: TransitionSystem | None = None) -> dict[str, object]:
    """The trace of a violation or cover witness as an ITF document: integers as
    ``{"#bigint": "n"}``, maps as ``{"#map": [[k, v], ...]}`` (a key over several
    sorts as ``{"#tup": [...]}``), enum members as strings; each state also carries the
    action that led to it and its arguments, as Quint does, in ``mbt::actionTaken``
    (``"init"`` for the first state) and ``mbt::nondetPicks``."""
    assert r.trace is not None, "only a result with a trace has an ITF trace"
    names = var_names(r.trace.steps[0].state, ts)
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
