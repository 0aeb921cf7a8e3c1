"""What a recording in proofs/ may claim, checked against its spec: nothing in proofs/
stands unless it is what an engine wrote and it fits the spec it is about.

- The *claims digest* (:func:`fusever.regress.claims_digest`, the file's ``claims``)
  is a hash of everything a file claims (verdicts, bounds, steps, traces,
  certificates, settings, fingerprints), written by ``regress --record``.  A file
  whose claims no longer match it was edited after an engine wrote it, and a claim
  nobody decided is not kept: ``regress`` decides that configuration again.  (The
  digest catches edits and corruption, not forgery: anyone can compute it.  What
  catches a forged file is deciding it again, which ``regress --rerun`` does.)
- :func:`problems`: the recording's shape against its spec: the same properties of
  the same kinds, each verdict one its kind can have, bounds and steps in range, a
  violation or a cover witness with its action sequence, and that sequence replayed
  by the interpreter (:func:`replayed`) to a state where the property fails (or the
  cover goal holds) at the recorded step.

``regress`` (and so the pytest plugin) and ``fusever findings`` go through
:func:`problems`.  Nothing here runs a solver or prints.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from fusever import interpret
from fusever.regress import MAX_DEPTH, RecordedProperty, Recording
from fusever.ts import (
    Assign,
    BoolType,
    ForAll,
    If,
    Lit,
    Property,
    PropKind,
    State,
    Step,
    Stmt,
    Trace,
    TransitionSystem,
    Value,
    elements,
    is_finite,
    keys,
)
from fusever.ts import fingerprint as ts_fingerprint
from fusever.verdict import Result, Verdict

__all__ = ["CALL", "MAX_STARTS", "Problem", "call_args", "problems", "replayable", "replayed"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing a recording claims that it may not: about ``property`` (None: the
    whole recording)."""

    property: str | None
    message: str


# the verdicts each kind of property can have
_VERDICTS = {
    PropKind.COVER: {Verdict.COVERED, Verdict.UNREACHABLE, Verdict.UNKNOWN},
    PropKind.INVARIANT: {Verdict.PROVED, Verdict.VIOLATED, Verdict.UNKNOWN},
    PropKind.TRANSITION: {Verdict.PROVED, Verdict.VIOLATED, Verdict.UNKNOWN},
    PropKind.LEMMA: {Verdict.PROVED, Verdict.VIOLATED, Verdict.UNKNOWN},
}
_FOUND = (Verdict.VIOLATED, Verdict.COVERED)  # the verdicts that carry a trace


def problems(rec: Recording, ts: TransitionSystem) -> tuple[Problem, ...]:
    """What ``rec`` claims that no engine could have written (empty: it may stand).
    Its own numbers are checked always; against ``ts`` (the same properties of the
    same kinds, each trace replayed) only when it claims to be of this very system
    (its ``fingerprint``): a spec that changed since is run again anyway, and the
    comparison says what moved.  The replay runs only on a recording whose shape is
    sound."""
    out: list[Problem] = []
    if not rec.attested:
        out.append(
            Problem(
                None,
                "the recorded claims do not match their digest (`claims`): the file was "
                "changed after `fusever regress --record` wrote it, so it is decided again",
            )
        )
    for p in rec.properties:
        out += [Problem(p.name, m) for m in _numbers(p, rec.depth)]
    if rec.fingerprint != ts_fingerprint(ts):
        return tuple(out)
    spec = {p.name: p for p in ts.properties}
    recorded = {p.name: p for p in rec.properties}
    out += [
        Problem(n, "the spec has this property, but it is not recorded")
        for n in spec
        if n not in recorded
    ]
    out += [
        Problem(n, "recorded, but the spec has no such property") for n in recorded if n not in spec
    ]
    for name, p in recorded.items():
        if name in spec:
            out += [Problem(name, m) for m in _kind(p, spec[name])]
    # with a free wide start the actions alone may not replay (a start that is not the
    # default value), so a trace that does not is a problem only where every start is tried
    if out or not replayable(ts):
        return tuple(out)
    for p in rec.properties:
        if p.verdict in _FOUND and replayed(rec, p, ts) is None:
            what = "witness" if p.verdict is Verdict.COVERED else "counterexample"
            out.append(
                Problem(
                    p.name,
                    f"the recorded {what} does not replay: no initial state from which its "
                    f"{len(p.actions)} action(s) run and end where the spec says it "
                    f"{'is covered' if p.verdict is Verdict.COVERED else 'fails'}",
                )
            )
    return tuple(out)


def _kind(p: RecordedProperty, prop: Property) -> list[str]:
    """What is wrong with one recorded property's kind and verdict against its spec."""
    out: list[str] = []
    if p.kind is not prop.kind:
        out.append(f"recorded as a {p.kind.value}, but the spec's is a {prop.kind.value}")
    return out


def _numbers(p: RecordedProperty, depth: int) -> list[str]:
    """What is wrong with one recorded property's verdict, bound, step and trace,
    whatever the spec: what no engine writes."""
    out: list[str] = []
    if p.verdict not in _VERDICTS[p.kind]:
        out.append(f"a {p.kind.value} cannot be {p.verdict.value}")
    top = max(depth, MAX_DEPTH)
    if not 0 <= p.bound <= top:
        out.append(f"bound {p.bound} is not between 0 and {top}")
    if p.verdict in _FOUND:
        if p.step is None:
            out.append(f"{p.verdict.value}, but no step is recorded")
        elif not 0 <= p.step <= p.bound:
            out.append(f"step {p.step} is not between 0 and the bound {p.bound}")
        elif len(p.actions) != p.step:
            out.append(f"step {p.step}, but {len(p.actions)} action(s) are recorded")
    elif p.step is not None or p.actions:
        out.append(f"{p.verdict.value}, but a step or actions are recorded")
    if p.certificate is not None and not (
        p.complete and p.verdict in (Verdict.PROVED, Verdict.UNREACHABLE)
    ):
        out.append("a certificate, but not a complete proof or unreachability")
    return out


CALL = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\((?P<args>.*)\)$")


def call_args(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        out[name] = value
    return out


def _value(text: str, t: object) -> Value:
    if isinstance(t, BoolType):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text  # an enum member, by its name


def replayed(rec: Recording, p: RecordedProperty, ts: TransitionSystem) -> Result | None:
    """The recorded counterexample (or cover witness) of ``p`` as a trace: its action
    sequence replayed by the interpreter from the first initial state
    (:func:`_initial_states`) where every action runs and the property fails (or the
    cover goal is reached) at the end (the interpreter checks it).
    None when there is none among those tried: the recorded run started from a wide
    free value, say, that the actions alone do not determine."""
    try:
        prop = ts.property(p.name)
    except KeyError:
        return None
    if not p.actions:
        return None
    for state in _initial_states(ts):
        result = _replay_from(rec, p, ts, prop, state)
        if result is not None:
            return result
    return None


def replayed_from(
    rec: Recording, p: RecordedProperty, ts: TransitionSystem, states: Iterable[State]
) -> Result | None:
    """As :func:`replayed`, from the given initial states (a caller that knows which
    wide free values a recorded run needs, say, near a wrap: ``fusever conform``)."""
    try:
        prop = ts.property(p.name)
    except KeyError:
        return None
    for state in states:
        result = _replay_from(rec, p, ts, prop, state)
        if result is not None:
            return result
    return None


MAX_STARTS = 4096  # initial states tried for a replay (the free initial choices' product)


def _free_slots(
    ts: TransitionSystem,
) -> tuple[list[tuple[str, tuple[Value, ...], list[Value]]], bool]:
    """The free (``any``) locations of finite type the initial states choose, with
    their values, and whether that is every free location (none is wide)."""
    free: list[str] = []

    def walk(body: Sequence[Stmt]) -> None:
        for st in body:
            if isinstance(st, Assign) and st.value is None and st.name not in free:
                free.append(st.name)
            elif isinstance(st, If):
                decided = st.cond.value if isinstance(st.cond, Lit) else None
                if decided is not False:
                    walk(st.then)
                if decided is not True:
                    walk(st.else_)
            elif isinstance(st, ForAll):
                walk(st.body)

    walk(ts.init)
    types = {v.name: v for v in ts.vars}
    slots = [
        (name, key, list(elements(types[name].type)))
        for name in free
        if is_finite(types[name].type)
        for key in keys(types[name].index)
    ]
    return slots, all(is_finite(types[name].type) for name in free)


def replayable(ts: TransitionSystem) -> bool:
    """Whether :func:`replayed` tries every initial state of ``ts`` (no free wide
    value, at most :data:`MAX_STARTS` starts): only then does a recorded sequence
    that does not replay show a claim no engine made.  A branch a constant rules out
    (``if FREE_START { ... := any }`` where FREE_START is false) chooses nothing."""
    slots, every = _free_slots(ts)
    if math.prod(len(vals) for _, _, vals in slots) > MAX_STARTS:
        return False
    return every


def initial_states(ts: TransitionSystem) -> Iterator[State]:
    """The initial states a recorded action sequence is replayed from (also the starts
    of ``fusever simulate``'s walks and ``fusever conform``'s): :func:`_initial_states`."""
    return _initial_states(ts)


def _initial_states(ts: TransitionSystem) -> Iterator[State]:
    """The initial states, for the free (``any``) locations of finite type in every
    combination (up to :data:`MAX_STARTS`; a wide one keeps its default value)."""
    slots, _ = _free_slots(ts)
    combos = itertools.product(*(vals for _, _, vals in slots))
    for combo in itertools.islice(combos, MAX_STARTS):
        # init from a state whose free locations hold this combination (``any`` keeps
        # the value it finds); the interpreter's own statement semantics, so a start
        # is exactly what the engines start from
        state = interpret._default_state(ts, None)
        for (name, key, _), v in zip(slots, combo, strict=True):
            state[name][key] = v
        try:
            interpret._exec(ts, ts.init, state, {}, interpret._types(ts))
        except interpret._Blocked:
            continue
        if interpret.is_initial(ts, state):
            yield state


def _replay_from(
    rec: Recording, p: RecordedProperty, ts: TransitionSystem, prop: Property, state: State
) -> Result | None:
    steps = [Step(None, (), state)]
    for call in p.actions:
        m = CALL.match(call)
        if m is None:
            return None
        try:
            action = ts.action(m.group("name"))
        except KeyError:
            return None
        given = call_args(m.group("args"))
        if set(given) != {q.name for q in action.params}:
            return None
        args = {q.name: _value(given[q.name], q.type) for q in action.params}
        try:
            if not interpret.enabled(ts, state, action.name, args):
                return None
            state = interpret.step(ts, state, action.name, args)
        except interpret.ReplayError:
            return None
        steps.append(Step(action.name, tuple(args.items()), state))
    trace = Trace(tuple(steps))
    try:
        instance = interpret.replay(ts, trace, prop)
    except interpret.ReplayError:
        return None
    verdict = Verdict.COVERED if prop.kind is PropKind.COVER else Verdict.VIOLATED
    return Result.about(
        ts, prop, verdict, engine=rec.engine, seconds=0.0, bound=rec.depth,
        step=len(p.actions), trace=trace, instance=instance,
    )  # fmt: skip
