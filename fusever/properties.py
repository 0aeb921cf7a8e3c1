"""The properties pass: properties, cover goals and observables to :mod:`fusever.ts`.

It takes the :class:`~fusever.lineage.Merged` spec and the
:class:`~fusever.resolve.Resolver` holding its declarations and gives the system's
properties (an invariant or lemma over one state, a transition property or cover
goal over a step, so primes allowed; a cover goal's ``for`` target checked) and its
observables (what ``fusever diff`` compares: an expression over state with finite
parameters).
"""

from __future__ import annotations

from fusever import syntax as s
from fusever import ts
from fusever.diagnostics import did_you_mean
from fusever.diags import name_at
from fusever.lineage import Merged
from fusever.resolve import Ctx, Resolver

__all__ = ["resolve_observables", "resolve_properties"]


def resolve_properties(m: Merged, r: Resolver) -> tuple[ts.Property, ...]:
    """Every property that checked, in declaration order; a bad ``for`` target is an error."""
    d = r.d
    props: list[ts.Property] = []
    for name, pe in m.properties.items():
        p = pe.decl
        two = p.kind in (s.PropKind.TRANSITION, s.PropKind.COVER)
        ctx = Ctx({}, state=True, primes=two)
        x = r.cond(p.expr, ctx, f"{p.kind.value} `{name}`")
        if p.covers is not None:
            target_prop = m.properties.get(p.covers)
            cspan = name_at(p.covers_span, p.span)
            if p.kind is not s.PropKind.COVER:
                d.error(cspan, f"only a cover goal can say `for {p.covers}`")
            elif target_prop is None:
                d.error(
                    cspan,
                    f"cover `{name}` is for unknown property `{p.covers}`"
                    + did_you_mean(
                        p.covers,
                        [k for k, v in m.properties.items() if v.decl.kind is not s.PropKind.COVER],
                    ),
                )
            elif target_prop.decl.kind is s.PropKind.COVER:
                d.error(cspan, f"cover `{name}` is for `{p.covers}`, which is itself a cover goal")
        if x is not None:
            props.append(ts.Property(name, p.kind, x, p.description, p.covers, p.span))
    return tuple(props)


def resolve_observables(m: Merged, r: Resolver) -> tuple[ts.Observable, ...]:
    """Every observable that checked, in declaration order."""
    observables: list[ts.Observable] = []
    for name, oe in m.observables.items():
        od = oe.decl
        octx = Ctx({}, state=True, primes=False)
        oparams: list[ts.Param] = []
        ok = True
        for binder in od.binders:
            fresh = r.check_local(binder.name, binder.span, octx)
            bt = r.finite(binder.sort, binder.span)
            if bt is None or not fresh:
                ok = False
                continue
            octx = octx.bind(binder.name, bt)
            oparams.append(ts.Param(binder.name, bt, span=binder.span))
        ox = r.expr(od.expr, octx) if ok else None
        if ox is not None:
            observables.append(ts.Observable(name, tuple(oparams), ox, od.description, od.span))
    return tuple(observables)
