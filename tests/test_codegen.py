"""The generated successor function against the closures it replaced.

:mod:`fusever.codegen` turns each action instance and each goal into one generated
Python function; :mod:`fusever.closures` compiles the same transition system into
closures, case for case the same semantics.  Here both run side by side: on every
shipped spec's default and every configuration of fuse_v2, on their reachable states
(a breadth-first walk from the initial states), every instance must give the same successor, the same "not enabled"
and the same broken ghost order, every goal's check the same value on every step, and the successor function (every
instance in line, dispatched on its guard's first `location == value` test) the same
(instance, successor) pairs in the same order.
A difference is a bug in one of them: the search would explore another state space.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fusever import explicit, load
from fusever.closures import Blocked, Compiler, OrderBroken, Unsupported, lift, seq
from fusever.explicit_system import System
from fusever.liveness import instance_envs
from fusever.ts import PropKind, TransitionSystem

ROOT = Path(__file__).resolve().parent.parent
WALK = 150  # canonical states per configuration


def _configurations() -> list[tuple[str, str | None]]:
    """Every configuration of fuse_v2 (the spec with the most kinds of configuration:
    concurrent writers, a narrow counter, eviction, re-creation, the create path, a
    restart) and every other spec's default: about a quarter of the shipped ones, to
    keep CI's time.  ``bench/agree.py`` searches all of them with explicit against BMC."""
    out: list[tuple[str, str | None]] = []
    for path in load.discover(ROOT / "spec"):
        (ts,) = load.load_specs([path])
        out.append((path.stem, None))
        if path.stem == "fuse_v2":
            out.extend((path.stem, name) for name, _ in ts.configs)
    return out


def _load(name: str, config: str | None) -> TransitionSystem:
    (ts,) = load.load_specs([ROOT / "spec" / f"{name}.fv"], config=config)
    return ts


def _closure_steps(system: System) -> list[Callable[[list[int]], list[int] | None]]:
    """Each kept instance as the closures compile it: guard, then body on a copy."""
    ts = system.ts
    comp = Compiler(system.layout, system.order, system.fixed)
    out: list[Callable[[list[int]], list[int] | None]] = []
    for a in ts.actions:
        for env in instance_envs(a):
            guard = comp.expr(a.guard, env)
            if isinstance(guard, int) and not guard:
                continue
            g, body = lift(guard), seq(comp.stmts(a.body, env))

            def run(s: list[int], g: Callable[..., int] = g, body=body) -> list[int] | None:  # type: ignore[no-untyped-def]
                if not g(s, s):
                    return None
                m = list(s)
                try:
                    body(m)
                except Blocked:
                    return None
                return m

            out.append(run)
    return out


def _outcome(f: Callable[[list[int]], list[int] | None], s: list[int]) -> object:
    try:
        return f(s)
    except OrderBroken as e:
        return ("order broken", e.group)


@pytest.mark.parametrize(("name", "config"), _configurations(), ids=str)
def test_generated_steps_and_checks_are_the_closures(name: str, config: str | None) -> None:
    ts = _load(name, config)
    try:
        system = explicit.compile_system(ts)
        starts = [c for c, _ in system.initial()]
    except Unsupported as e:  # nothing generated runs: the SMT engines' ground
        assert "starts free" in str(e) and config in ("w64_free", "two_fuds_free"), e
        return
    plain = Compiler(system.layout, fixed=system.fixed)
    checks = {g.prop.name: lift(plain.expr(g.prop.expr, {})) for g in system.goals}
    closures = _closure_steps(system)
    assert len(closures) == len(system.insts)
    todo, seen, compared, enabled = list(starts), set(starts), 0, 0
    while todo and len(seen) < WALK:
        s = list(todo.pop(0))
        # the successor function: every enabled instance once, in the lookup's order
        order = [i for j, table in system.lookup for i in table.get(s[j], ())]
        want_all = [
            (i, m) for i in order + system.always if (m := _outcome(closures[i], s)) is not None
        ]
        if any(isinstance(m, tuple) for _, m in want_all):
            with pytest.raises(OrderBroken):
                system.successors(s)
        else:
            assert system.successors(s) == want_all
        for inst, ref in zip(system.insts, closures, strict=True):
            got, want = _outcome(inst.step, s), _outcome(ref, s)
            assert got == want, (inst.action, inst.args, s)
            compared += 1
            if not isinstance(got, list):
                continue
            enabled += 1
            for g in system.goals:
                want_check = bool(checks[g.prop.name](s if g.prop.two_state else got, got))
                if g.prop.kind is PropKind.TRANSITION:  # split: the edge part and the post part
                    edge = g.check is None or bool(g.check(s, got))
                    after = g.post is None or bool(g.post(s, got))
                    assert (edge and after) == want_check, g.prop.name
                else:
                    assert g.check is not None
                    pre = s if g.prop.two_state else got
                    assert bool(g.check(pre, got)) == want_check, g.prop.name
            t = inst.canon(got, tuple(s))
            if t not in seen:
                seen.add(t)
                todo.append(t)
    assert enabled > 0 and compared > enabled, (compared, enabled)
