"""A solver's model back to a run: the trace of an unrolling (:mod:`fusever.encode`).

Step ``j`` of the trace is the action instance the model selects on step ``j -> j+1``,
with its chosen parameters' values and the state after it; stutter steps are dropped.
Every trace an engine shows is then replayed by :mod:`fusever.interpret`, so a
decoding mistake is caught there (:class:`fusever.encode.EncodingBug`), never shown.
"""

from __future__ import annotations

from typing import Any

import z3

from fusever.encode import Encoding, EncodingBug
from fusever.ts import Key, Step, Trace, Value, keys

__all__ = ["trace"]


def trace(enc: Encoding, model: Any, k: int) -> Trace:
    """The run of depth ``k`` in ``model`` (anything with Z3's ``eval(term,
    model_completion=True)``), stutter steps dropped."""
    steps = [Step(None, (), _state(enc, model, 0))]
    n = len(enc.instances)
    for j in range(k):
        chosen_i = next(
            (i for i in range(n + 1) if z3.is_true(model.eval(enc.selected(j, i), True))), None
        )
        if chosen_i is None:
            raise EncodingBug(f"step {j}: no action instance selected in the model")
        if chosen_i == n:
            continue
        action, inst = enc.instances[chosen_i]
        pvals = dict(inst)
        args: list[tuple[str, Value]] = []
        for p in action.params:
            if p.chosen:
                term = model.eval(enc.chosen(j, action.name, p.name), True)
                args.append((p.name, enc.value(p.type, term)))
            else:
                args.append((p.name, pvals[p.name]))
        steps.append(Step(action.name, tuple(args), _state(enc, model, j + 1)))
    return Trace(tuple(steps))


def _state(enc: Encoding, model: Any, k: int) -> dict[str, dict[Key, Value]]:
    return {
        v.name: {
            key: enc.value(v.type, model.eval(enc.location(k, v.name, key), True))
            for key in keys(v.index)
        }
        for v in enc.ts.vars
    }
