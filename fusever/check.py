"""The check stage: syntax trees to a checked :class:`~fusever.ts.TransitionSystem`.

``check(files, overrides)`` resolves the spec ``files[0]`` against the specs it may
derive from (``files[1:]``) by running the front end's passes in order, each a module
with one job, over explicit data (no global state):

1. :mod:`fusever.lineage`: follow ``variant v of b`` headers to the root spec (unknown
   base, ambiguous base and cycles are errors); merge declarations from the root down
   to the variant (``set``, ``replace``, ``remove``, new declarations; clashes with
   the base are errors); apply the chosen configuration and merge; inline every
   ``def`` and ``proc`` call (:mod:`fusever.expand`);
2. :mod:`fusever.consts`: ``--set`` overrides, then every constant folded to a value
   (lazily, so a constant may use any other; a cycle is an error);
3. :mod:`fusever.resolve`: sorts, enums and state declared; names, types and widths;
4. :mod:`fusever.flow`: init and actions, with ghost flow checked;
   :mod:`fusever.properties`: properties, cover goals and observables;
5. :mod:`fusever.validate`: the system built is well formed (a failure is a bug).

Every problem is collected in one :class:`~fusever.diags.Diags`; one
:class:`SpecError` carries them all, sorted by position.  An expression that failed
to check becomes ``None`` and produces no further errors, so one mistake gives one
message.  The names other modules use from the front end are re-exported here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from fusever import syntax as s
from fusever import ts
from fusever.consts import (
    COMMAND_LINE,
    DEFAULT_DEPTH,
    MAX_DEPTH,
    ConstValue,
    Override,
    checked_depth,
    constants,
    parse_override,
)
from fusever.diags import Diags, sorted_diagnostics
from fusever.flow import resolve_actions, resolve_init
from fusever.lineage import (
    SUFFIX,
    apply_config,
    apply_merge,
    apply_values,
    base_chain,
    inline_definitions,
    merge_chain,
)
from fusever.locks import desugar as desugar_locks
from fusever.properties import resolve_observables, resolve_properties
from fusever.resolve import MAX_SORT_SIZE, MAX_WIDTH, check_unused_defs, declare
from fusever.validate import validate

__all__ = [
    "COMMAND_LINE",
    "DEFAULT_DEPTH",
    "MAX_DEPTH",
    "MAX_SORT_SIZE",
    "MAX_WIDTH",
    "SUFFIX",
    "ConstValue",
    "Override",
    "Variation",
    "check",
    "parse_override",
    "sorted_diagnostics",
    "validate",
    "variations",
]


Variation = tuple[tuple[tuple[str, ConstValue], ...], int]  # the constants' values, the depth


def variations(
    files: Sequence[s.SpecFile],
    overrides: Sequence[str],
    named: Sequence[tuple[str | None, str | None]],
) -> list[Variation | None]:
    """For each (configuration, merge) in ``named``, what it makes of the spec without
    checking the rest: every constant's value and the depth, or None when that alone
    is an error.  Two with the same variation check alike (the constants are all a
    configuration changes), so ``fusever check`` checks each distinct one once: the
    base chain is merged once here, and each configuration costs its constants only
    (10,000 configurations check in seconds, issue 28)."""
    d = Diags({f.path: f.text for f in files})
    chain = base_chain(files, d)
    m = merge_chain(chain, d)
    if d.items:
        return [None for _ in named]
    target = chain[0].name
    out: list[Variation | None] = []
    for config, merge in named:
        one = dataclasses.replace(m, consts=dict(m.consts))
        e = Diags(d.texts)
        for chosen, table, extra in ((config, m.configs, False), (merge, m.merges, True)):
            if chosen is not None:
                what = "merge" if extra else "configuration"
                apply_values(one, table[chosen], what, chosen, e, extra=extra)
        consts = constants(one, overrides, target, e)
        settings = consts.fold_all()
        depth = checked_depth(one, consts, e)
        out.append(None if e.items else (settings, depth))
    return out


def check(
    files: Sequence[s.SpecFile],
    overrides: Sequence[str] = (),
    config: str | None = None,
    unmerge: str | None = None,
) -> ts.TransitionSystem:
    """Check ``files[0]``; ``files[1:]`` are the specs its base chain may come from.

    ``config`` names a configuration (``--config``) whose ``set``s and depth apply
    over the spec's own; ``unmerge`` names a step merge whose ``set``s (and depth)
    apply over the configuration's, giving the merge's unmerged form; ``overrides``
    are ``--set`` arguments as given (``"NAME=VALUE"``) and apply last.  Raises
    :class:`SpecError` with every problem found.
    """
    assert files, "check needs a spec"
    d = Diags({f.path: f.text for f in files})
    chain = base_chain(files, d)  # lineage
    m = merge_chain(chain, d)
    target = chain[0]
    apply_config(m, config, target.name, d)
    apply_merge(m, unmerge, target.name, d)
    desugar_locks(m, d)  # locks
    unused = inline_definitions(m, d)
    consts = constants(m, overrides, target.name, d)  # consts
    settings = consts.fold_all()
    r = declare(m, consts, d)  # resolve
    check_unused_defs(m, unused, r)
    init = resolve_init(m, r)  # flow
    actions = resolve_actions(m, r)
    props = resolve_properties(m, r)  # properties
    observables = resolve_observables(m, r)
    depth = checked_depth(m, consts, d)
    d.raise_if_any()
    system = ts.TransitionSystem(
        name=target.name,
        path=target.path,
        description=target.description,
        lineage=tuple(f.name for f in chain),
        settings=settings,
        sorts=tuple(r.sorts.values()),
        enums=tuple(r.enums.values()),
        vars=tuple(r.vars.values()),
        init=tuple(init),
        actions=tuple(actions),
        properties=tuple(props),
        depth=depth,
        config=config,
        configs=tuple((n, c.decl.description) for n, c in m.configs.items()),
        merges=tuple((n, c.decl.description) for n, c in m.merges.items()),
        unmerged=unmerge,
        observables=tuple(observables),
    )
    validate(system)
    return system
