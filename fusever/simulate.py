"""Random walks through the interpreter: ``fusever simulate`` (as Quint's ``run``).

Each walk starts from an initial state and takes, step after step, one enabled action
instance chosen at random, up to a length (the spec's depth unless given) or until no
instance is enabled.  One ``random.Random(seed)`` drives every choice, so the same
spec, configuration, seed and counts give the same walks.  Coverage is counted over
the action instances (an action with its enumerated arguments): which were taken at
least once, which never.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from fusever import claims, interpret
from fusever.ts import State, Step, Trace, TransitionSystem, instances

__all__ = ["NoInitialState", "Simulation", "call_text", "simulate", "walk"]


def call_text(action: str, args: tuple[tuple[str, object], ...]) -> str:
    """``name(a=1, b=true)``: the form proofs/ records action calls in."""
    inner = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in args)
    return f"{action}({inner})"


@dataclass(frozen=True, slots=True)
class Simulation:
    spec: str
    config: str
    seed: int
    traces: tuple[Trace, ...]
    instances: tuple[str, ...]  # every action instance of the system, in canonical order
    taken: tuple[str, ...]  # those taken at least once, in canonical order
    enabled: tuple[str, ...] = ()  # those enabled in some state the walks passed through

    @property
    def untaken(self) -> tuple[str, ...]:
        done = set(self.taken)
        return tuple(i for i in self.instances if i not in done)


def all_instances(ts: TransitionSystem) -> tuple[str, ...]:
    return tuple(call_text(a.name, inst) for a in ts.actions for inst in instances(a))


def taken_instances(ts: TransitionSystem, traces: tuple[Trace, ...]) -> tuple[str, ...]:
    seen = {call_text(s.action, s.args) for t in traces for s in t.steps if s.action is not None}
    return tuple(i for i in all_instances(ts) if i in seen)


STARTS = 256  # initial states a walk chooses among (the first, in canonical order)


class NoInitialState(Exception):
    """The configuration has no initial state among those enumerated."""


def walk(
    ts: TransitionSystem,
    start: State,
    length: int,
    rng: random.Random,
    enabled: set[str] | None = None,
) -> Trace:
    """One random walk from ``start``: at each step one enabled instance, uniformly
    (every instance enabled on the way is added to ``enabled``)."""
    state = start
    steps = [Step(None, (), state)]
    for _ in range(length):
        succ = list(interpret.successors(ts, state))
        if enabled is not None:
            enabled.update(call_text(name, args) for name, args, _ in succ)
        if not succ:
            break
        name, args, state = rng.choice(succ)
        steps.append(Step(name, args, state))
    return Trace(tuple(steps))


def simulate(ts: TransitionSystem, runs: int, seed: int, length: int | None = None) -> Simulation:
    """``runs`` random walks of at most ``length`` steps (default: the spec's depth),
    each from an initial state chosen at random among the first :data:`STARTS`
    (free finite choices enumerated as proofs/ is replayed, :mod:`fusever.claims`; a free wide value keeps 0)."""
    rng = random.Random(seed)
    steps = ts.depth if length is None else length
    starts = list(itertools.islice(claims.initial_states(ts), STARTS))
    if not starts:
        raise NoInitialState(f"{ts.key}: no initial state found")
    seen: set[str] = set()
    traces = tuple(walk(ts, rng.choice(starts), steps, rng, seen) for _ in range(runs))
    return Simulation(
        spec=ts.name,
        config=ts.config or "default",
        seed=seed,
        traces=traces,
        instances=all_instances(ts),
        taken=taken_instances(ts, traces),
        enabled=tuple(i for i in all_instances(ts) if i in seen),
    )
