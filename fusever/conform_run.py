"""Conformance, step three: the model's traces replayed on the kernel's C functions.

For each configuration of a spec: every counterexample and cover witness proofs/
records (their action sequences replayed by the interpreter from an initial state
where they all run, as regress checks them, :mod:`fusever.claims`) and N random walks
(:mod:`fusever.simulate`).  Each trace is driven through the harness built from the
kernel tree (:mod:`fusever.conform_extract`, :mod:`fusever.conform_build`): the
initial state is set up from the model's step 0, then each model step is the harness
step the mapping names (a thread started or resumed, run to its next scheduling
point named in ``until``; or a call of the controller's own), and after it every
compared value of the mapping is read on both sides.  The first difference is the
trace's divergence: the step, the action, both values and the C line the acting
thread stands at.  A step the code cannot take (the thread blocks, exits or stops
elsewhere than the model's step ends) is a divergence of the control.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from fusever import claims, conform_build, interpret, simulate
from fusever.conform_build import H_BLOCKED, H_EXITED, H_STOPPED, Harness, Where
from fusever.conform_data import (
    ActionStep,
    ConformReport,
    Divergence,
    MappingError,
    ModelMapping,
    StepRow,
    TraceResult,
    evaluate,
)
from fusever.conform_extract import Extracted, extract
from fusever.regress import Recording
from fusever.ts import (
    Assign,
    BitVecType,
    ForAll,
    If,
    Key,
    State,
    Step,
    Stmt,
    Trace,
    TransitionSystem,
    Value,
    is_finite,
    keys,
)

__all__ = ["Conformance", "replay_trace", "traces_of"]

MAX_POINTS = 500  # scheduling points one step may pass before it is called a runaway


class _Diverged(Exception):
    def __init__(self, d: Divergence) -> None:
        self.d = d


def _settings(ts: TransitionSystem) -> dict[str, Value]:
    return dict(ts.settings)


def _sort_size(ts: TransitionSystem, name: str) -> int:
    for s in ts.sorts:
        if s.name == name:
            return s.size
    raise MappingError(f"the mapping names sort {name}, which {ts.name} does not declare")


NEAR_WRAP = 4  # a free wide start is tried at 0 and at each of the top NEAR_WRAP values


def _free_wide(ts: TransitionSystem) -> list[tuple[str, Key, int]]:
    """The locations init leaves free (``any``) whose type is too wide to enumerate."""
    names: list[str] = []

    def walk(body: Sequence[Stmt]) -> None:
        for st in body:
            if isinstance(st, Assign) and st.value is None and st.name not in names:
                names.append(st.name)
            elif isinstance(st, If):
                walk(st.then)
                walk(st.else_)
            elif isinstance(st, ForAll):
                walk(st.body)

    walk(ts.init)
    out: list[tuple[str, Key, int]] = []
    for v in ts.vars:
        if v.name in names and isinstance(v.type, BitVecType) and not is_finite(v.type):
            out.extend((v.name, k, v.type.width) for k in keys(v.index))
    return out


def _wide_starts(ts: TransitionSystem) -> Iterator[State]:
    """Initial states with every free wide location at 0 or near its wrap."""
    slots = _free_wide(ts)
    if not slots:
        return
    for base in itertools.islice(claims.initial_states(ts), 64):
        choices = [[0, *((1 << w) - 1 - k for k in range(NEAR_WRAP))] for _, _, w in slots]
        for combo in itertools.product(*choices):
            state = {name: dict(cells) for name, cells in base.items()}
            for (name, key, _), v in zip(slots, combo, strict=True):
                state[name][key] = v
            if interpret.is_initial(ts, state):
                yield state


def traces_of(
    ts: TransitionSystem, rec: Recording | None, runs: int, seed: int
) -> list[tuple[str, Trace]]:
    """The traces conform replays for one configuration: proofs/'s, then random walks."""
    out: list[tuple[str, Trace]] = []
    if rec is not None:
        for p in rec.properties:
            if not p.actions:
                continue
            result = claims.replayed(rec, p, ts) or claims.replayed_from(
                rec, p, ts, _wide_starts(ts)
            )
            if result is not None and result.trace is not None:
                out.append((f"proofs: {p.name}", result.trace))
    if runs > 0:
        sim = simulate.simulate(ts, runs, seed)
        out.extend((f"simulate: seed {seed} run {k}", t) for k, t in enumerate(sim.traces))
    return out


_BRACES = re.compile(r"\{([^{}]*)\}")


class _Replay:
    """One trace on one harness."""

    def __init__(self, h: Harness, mapping: ModelMapping, ts: TransitionSystem) -> None:
        self.h = h
        self.m = mapping
        self.ts = ts
        self.settings = _settings(ts)
        self.tids: dict[str, int] = {}
        self.where = "-"

    # ---- evaluation -------------------------------------------------------------
    def key(self, template: str, state: State, env: Mapping[str, Value]) -> str:
        return _BRACES.sub(lambda mt: str(evaluate(mt.group(1), state, env)), template)

    def value(self, expr: str, state: State, env: Mapping[str, Value]) -> int:
        v = evaluate(expr, state, env)
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int):
            return v
        raise MappingError(f"`{expr}` is {v!r}, not a number (a harness argument)")

    def until(self, a: ActionStep) -> tuple[str, ...]:
        for cond, points in a.until:
            if evaluate(cond, {}, self.settings):
                return points
        return ()

    # ---- the world ------------------------------------------------------------------
    def setup(self, s0: State) -> None:
        self.h.lib.h_setup()
        for const, switch in self.m.switches:
            if const not in self.settings:
                raise MappingError(
                    f"{self.m.path}: switch {const} is no constant of {self.ts.name}"
                )
            self.h.entry(f"h_switch_{switch}")(int(bool(self.settings[const])))
        for d in range(_sort_size(self.ts, "Fud")):
            if s0["fud_used"][(d,)]:
                self.h.lib.h_add_fud(d, int(s0["write_seq"][(d,)]), 1)
        for i in range(_sort_size(self.ts, "Inst")):
            if s0["cached"][(i,)]:
                self.h.lib.h_add_inode(i, int(s0["i_node"][(i,)]))

    def observe(self, state: State) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, c in enumerate(self.m.compares):
            for x in range(_sort_size(self.ts, c.over)):
                env = {c.var: x}
                if c.when and not evaluate(c.when, state, env):
                    continue
                name = f"{c.name}[{x}]"
                if c.cased:
                    model = next(
                        (lab for e, lab in c.model_cases if evaluate(e, state, env)),
                        c.default_model,
                    )
                    j = self.h.observe(k, x)
                    cval = c.c_cases[j][1] if 0 <= j < len(c.c_cases) else c.default_c
                    out[name] = f"{model}\0{cval}"
                else:
                    mv = self.value(c.model, state, env)
                    out[name] = f"{mv}\0{self.h.observe(k, x)}"
        return out

    def compare(self, n: int, action: str, state: State) -> dict[str, str]:
        seen = self.observe(state)
        for name, both in seen.items():
            model, c = both.split("\0")
            if model != c:
                raise _Diverged(Divergence(n, action, name, model, c, self.where))
        err = self.h.error()
        if err:
            raise _Diverged(Divergence(n, action, "control", "-", err, self.where))
        return {k: v.split("\0")[1] for k, v in seen.items()}

    # ---- a step ---------------------------------------------------------------------
    def run(self, n: int, action: str, tid: int, until: tuple[str, ...], skip: bool) -> Where:
        w = self.h.where(tid)
        if skip and w.state == H_STOPPED and w.label in until:
            return w
        for _ in range(MAX_POINTS):
            w = self.h.run(tid)
            if w.state in (H_EXITED, H_BLOCKED) or w.label in until:
                break
        self.where = f"{w.place} ({w.label})" if w.state != H_EXITED else "exit"
        if w.label not in until:
            how = {H_EXITED: "returns", H_BLOCKED: "blocks at", H_STOPPED: "stops at"}.get(
                w.state, "is at"
            )
            what = "" if w.state == H_EXITED else f" {w.label}"
            raise _Diverged(
                Divergence(
                    n, action, "control", " or ".join(until), f"{how}{what}", self.where,
                    "the code cannot take the model's step here",
                )
            )  # fmt: skip
        return w

    def tid(self, n: int, action: str, key: str) -> int:
        if key not in self.tids:
            raise _Diverged(
                Divergence(n, action, "control", key, "no such thread", "-", "the mapping resumes a thread never started")
            )  # fmt: skip
        return self.tids[key]

    def step(self, n: int, action: str, a: ActionStep, pre: State, env: Mapping[str, Value]) -> str:
        h = self.h
        label = "-"
        for b in a.before:
            args = [
                self.tid(n, action, self.key(x, pre, env)) if "{" in x else self.value(x, pre, env)
                for x in b[1:]
            ]
            h.entry(f"h_set_{b[0]}")(*args)
        if a.nothing:
            return label
        if a.call:
            args = [self.value(x, pre, env) for x in a.args]
            self.where = "-"
            if h.entry(f"h_call_{a.call}")(*args) != 0:
                raise _Diverged(
                    Divergence(
                        n, action, "control", "takes the step", f"h_call_{a.call} refuses", "-"
                    )
                )
            return f"controller: {a.call}"
        until = self.until(a)
        if a.start:
            key = self.key(a.thread, pre, env) if a.thread else f"#{n}"
            alive = key in self.tids and h.where(self.tids[key]).state != H_EXITED
            if a.reuse and alive:
                tid = self.tids[key]
            else:
                args = [self.value(x, pre, env) for x in a.args]
                tid = h.entry(f"h_start_{a.start}")(*args)
                if tid < 0:
                    raise _Diverged(Divergence(n, action, "control", "a thread", "none left", "-"))
                self.tids[key] = tid
        else:
            key = self.key(a.resume, pre, env)
            tid = self.tid(n, action, key)
        w = self.run(n, action, tid, until, a.skip_if_at)
        label = f"{key} -> {w.label}"
        for t in a.then:
            if evaluate(t.when, pre, env):
                k2 = self.key(t.resume, pre, env)
                self.run(n, action, self.tid(n, action, k2), t.until, False)
        return label


def _later(a: ActionStep, args: dict[str, Value], rest: Sequence[Step]) -> dict[str, Value]:
    """The arguments ``a`` binds from later steps (``later`` in the mapping): each from
    the first later step of the named action that agrees on every argument both have;
    0 when the trace ends first."""
    out: dict[str, Value] = {}
    for arg, name in a.later:
        out[arg] = 0
        for s in rest:
            if s.action != name:
                continue
            theirs = dict(s.args)
            if all(theirs[k] == v for k, v in args.items() if k in theirs and k != arg):
                out[arg] = theirs.get(arg, 0)
                break
    return out


def replay_trace(
    h: Harness, mapping: ModelMapping, ts: TransitionSystem, source: str, trace: Trace
) -> TraceResult:
    """Drive ``trace`` through the harness and compare after every step."""
    r = _Replay(h, mapping, ts)
    config = ts.config or "default"
    calls = tuple(
        simulate.call_text(s.action, s.args) for s in trace.steps[1:] if s.action is not None
    )
    rows: list[StepRow] = []
    try:
        s0 = trace.steps[0].state
        r.setup(s0)
        last = r.compare(0, "init", s0)
        rows.append(StepRow(0, "init", "-", "-", tuple(sorted(last.items()))))
        pre = s0
        for n, st in enumerate(trace.steps[1:], start=1):
            assert st.action is not None
            action = simulate.call_text(st.action, st.args)
            a = mapping.action(st.action)
            if a is None:
                raise MappingError(f"{mapping.path}: no entry for action {st.action}")
            env = dict(st.args) | _later(a, dict(st.args), trace.steps[n + 1 :])
            thread = r.step(n, action, a, pre, env)
            now = r.compare(n, action, st.state)
            changed = tuple((k, v) for k, v in sorted(now.items()) if last.get(k) != v)
            rows.append(StepRow(n, action, thread, r.where, changed))
            last, pre = now, st.state
    except _Diverged as e:
        return TraceResult(config, source, calls, tuple(rows), e.d)
    finally:
        h.lib.h_stop_all()
    return TraceResult(config, source, calls, tuple(rows), None)


class Conformance:
    """A kernel tree extracted once, a harness per counter width, traces replayed."""

    def __init__(self, mapping: ModelMapping, tree: str | Path, cc: str | None = None) -> None:
        self.mapping = mapping
        self.tree = str(tree)
        self.cc = cc
        self.extracted: Extracted = extract(tree, mapping)
        self._harness: dict[int, Harness] = {}

    def harness(self, width: int) -> Harness:
        if width not in self._harness:
            src = conform_build.generate(self.extracted, self.mapping, width)
            self._harness[width] = Harness(conform_build.build(src, self.cc), self.mapping)
        return self._harness[width]

    def run(
        self,
        systems: Sequence[TransitionSystem],
        recordings: Mapping[str, Recording],
        runs: int,
        seed: int,
        progress: Callable[[TraceResult], None] | None = None,
    ) -> ConformReport:
        results: list[TraceResult] = []
        coverage: list[tuple[str, int, int]] = []
        untaken: list[tuple[str, tuple[str, ...]]] = []
        for ts in systems:
            width = int(_settings(ts).get("W", 64))
            h = self.harness(width)
            traces = traces_of(ts, recordings.get(ts.key), runs, seed)
            for source, trace in traces:
                res = replay_trace(h, self.mapping, ts, source, trace)
                results.append(res)
                if progress is not None:
                    progress(res)
            taken = simulate.taken_instances(ts, tuple(t for _, t in traces))
            every = simulate.all_instances(ts)
            coverage.append((ts.config or "default", len(taken), len(every)))
            done = set(taken)
            untaken.append((ts.config or "default", tuple(i for i in every if i not in done)))
        spec = systems[0].name if systems else self.mapping.spec
        return ConformReport(spec, self.tree, tuple(results), tuple(coverage), tuple(untaken))
