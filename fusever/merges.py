"""Step merges, checked: a spec's merged form against each merge's unmerged form.

A spec may make two kernel steps one action (a write's entry with its processing,
the opener's wake with its link ...) to keep the state space small.  That is a
claim: no other actor can tell the difference.  A ``merge NAME { set ...; depth N }``
declaration names the switches that give the unmerged form (and ``depth``, how many
more steps it needs for the same runs), and this module checks the claim in one
configuration:

- the merge is *used* there when its ``set``s change some constant's value (a merge
  whose unmerged form is the configuration itself has nothing to check);
- both forms are checked by the same engine, each to its own bound, and every
  property and cover goal must get the same verdict class in both (holds /
  unreachable, or violated / covered; an unknown on either side is no agreement);
- both forms must reach the same *observations*: every joint valuation of the
  spec's boolean observables (``observe`` declarations, up to :data:`MAX_OBSERVED`
  instances) is a cover goal on both sides, and each must be reached on both sides
  or on neither.

With BMC the agreement is to the two bounds, which the result states; where the
engine is complete on both sides (every run ends within the bound, or an unbounded
proof) it is for all depths.  A merge that does not agree in a configuration means
that configuration's "holds" rests on an unchecked argument: ``fusever regress``
fails on it.

Nothing here prints: :mod:`fusever.report_explore` formats a :class:`MergeCheck`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import assert_never

from fusever import engines
from fusever.load import load_specs
from fusever.narrow import decider
from fusever.provenance import engine_fingerprint
from fusever.ts import (
    BOOL,
    Assign,
    Assume,
    Binary,
    BinOp,
    Cast,
    Expr,
    ForAll,
    If,
    Ite,
    Lit,
    Local,
    Property,
    PropKind,
    Quant,
    Stmt,
    TransitionSystem,
    Unary,
    UnOp,
    Value,
    Var,
    keys,
)
from fusever.ts import fingerprint as ts_fingerprint
from fusever.verdict import Engine, Options, Result, Verdict

__all__ = [
    "MAX_OBSERVED",
    "MergeCheck",
    "Row",
    "check",
    "forms",
    "observation_covers",
    "unmerged_form",
]

BMC_BOUND = 12  # a merge checked by BMC (where explicit does not reach): the merged bound
MAX_OBSERVED = 8  # boolean observable instances enumerated jointly (2^8 cover goals at most)
OBSERVATION = "observation"  # the name prefix of the synthesized cover goals


@dataclass(frozen=True, slots=True)
class Row:
    """One property (or observation) in both forms."""

    name: str
    kind: PropKind
    merged: Verdict
    unmerged: Verdict
    merged_step: int | None = None
    unmerged_step: int | None = None
    merged_bound: int = 0  # with BMC: how deep the merged form was searched
    complete: bool = True  # both sides decided for all depths (explicit, unbounded proofs)

    @property
    def agree(self) -> bool:
        """Same verdict class.  Checked to bounds only (BMC), a difference counts where
        the bounds show one: the merged form fails at k (so within its bound) while the
        unmerged one holds to its bound, which is at least k plus the merge's extra
        steps; or the unmerged form fails within the merged bound while the merged one
        holds to it.  An unmerged failure past the merged bound shows nothing."""
        a, b = _holds(self.merged), _holds(self.unmerged)
        if a is None or b is None:
            return False
        if a == b:
            return True
        if self.complete or a is False:
            return False
        return self.unmerged_step is not None and self.unmerged_step > self.merged_bound


@dataclass(frozen=True, slots=True)
class MergeCheck:
    spec: str
    config: str | None
    merge: str
    description: str | None
    # (constant, merged value, unmerged value) for every constant the merge changes
    changes: tuple[tuple[str, int | bool, int | bool], ...]
    merged_bound: int = 0
    unmerged_bound: int = 0
    engine: str = ""
    complete: bool = False  # both forms decided for all depths: the agreement is too
    rows: tuple[Row, ...] = ()
    seconds: float = 0.0
    fingerprint: str = ""  # of both forms (see fingerprint()): what this check stands for

    @property
    def used(self) -> bool:
        return bool(self.changes)

    @property
    def verdict(self) -> str:
        """``unused``, ``agree``, ``disagree`` (some row differs) or ``unknown``."""
        if not self.used:
            return "unused"
        if any(
            _holds(r.merged) is not None and _holds(r.unmerged) is not None and not r.agree
            for r in self.rows
        ):
            return "disagree"
        if all(r.agree for r in self.rows):
            return "agree"
        return "unknown"

    @property
    def disagreements(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.agree)


def _holds(v: Verdict) -> bool | None:
    """True: holds (or unreachable); False: violated (or covered); None: unknown."""
    match v:
        case Verdict.PROVED | Verdict.UNREACHABLE:
            return True
        case Verdict.VIOLATED | Verdict.COVERED:
            return False
        case Verdict.UNKNOWN:
            return None


def forms(
    path: str | Path, config: str | None, merge: str, sets: Sequence[str] = ()
) -> tuple[TransitionSystem, TransitionSystem]:
    """The merged form (the configuration as written) and the merge's unmerged form."""
    (merged,) = load_specs([path], sets, config)
    (unmerged,) = load_specs([path], sets, config, unmerge=merge)
    return merged, unmerged


def fingerprint(merged: TransitionSystem, unmerged: TransitionSystem, engine: str = "") -> str:
    """Both forms' meaning (:func:`fusever.ts.fingerprint`) and, for a check an engine
    decided, that engine's code with this module's
    (:func:`fusever.provenance.engine_fingerprint`): a recorded check stands while this
    is unchanged, since running it again is the same computation."""
    forms = ts_fingerprint(merged)[:16] + ts_fingerprint(unmerged)[:16]
    code = engine_fingerprint(decider(engine, merged), "merges") if engine else ""
    return forms + code[:16]


def unmerged_form(
    path: str | Path, config: str | None, merge: str, sets: Sequence[str] = ()
) -> TransitionSystem:
    """The merge's unmerged form of a configuration (the merged one is the configuration)."""
    (unmerged,) = load_specs([path], sets, config, unmerge=merge)
    return unmerged


def _differ(merged: TransitionSystem, unmerged: TransitionSystem) -> bool:
    """Whether the merge changes the system at all: a switch that no guard or
    statement of this configuration reads changes a constant and nothing else, and
    one that only ever meets a constant that decides the connective it is in (a
    definition ``SERIAL && !UNSERIAL`` where SERIAL is false) changes nothing either:
    both forms are compared with their boolean literals folded (:func:`folded`)."""

    def shape(ts: TransitionSystem) -> str:
        actions = tuple(
            replace(a, guard=folded(a.guard), body=folded_stmts(a.body)) for a in ts.actions
        )
        properties = tuple(replace(p, expr=folded(p.expr)) for p in ts.properties)
        return repr((ts.vars, folded_stmts(ts.init), actions, properties, ts.observables))

    return shape(merged) != shape(unmerged)


def folded(e: Expr) -> Expr:
    """``e`` with its boolean literals folded into the connectives, negations and
    conditionals they decide (``false && x`` is ``false``, ``!true`` is ``false``,
    ``true ? x : y`` is ``x``); expressions have no effects, so the value is the same
    in every state (tests/test_merges.py checks it on random expressions)."""
    match e:
        case Lit() | Local():
            return e
        case Var(args=args):
            return replace(e, args=tuple(folded(a) for a in args))
        case Unary(op=op, arg=a):
            fa = folded(a)
            if op is UnOp.NOT and isinstance(fa, Lit):
                return Lit(not fa.value, BOOL)
            return replace(e, arg=fa)
        case Cast(arg=a):
            return replace(e, arg=folded(a))
        case Binary(op=op, lhs=lhs, rhs=rhs) if op in _CONNECTIVES:
            return _connective(op, folded(lhs), folded(rhs), e)
        case Binary(lhs=lhs, rhs=rhs):
            return replace(e, lhs=folded(lhs), rhs=folded(rhs))
        case Ite(cond=c, then=t, else_=f):
            fc = folded(c)
            if isinstance(fc, Lit):
                return folded(t if fc.value else f)
            return replace(e, cond=fc, then=folded(t), else_=folded(f))
        case Quant(body=b):
            return replace(e, body=folded(b))
        case _:
            assert_never(e)


_CONNECTIVES = (BinOp.AND, BinOp.OR, BinOp.IMPLIES)


def _connective(op: BinOp, a: Expr, b: Expr, e: Binary) -> Expr:
    if op is BinOp.IMPLIES:
        if isinstance(a, Lit):
            return b if a.value else Lit(True, BOOL)
        if isinstance(b, Lit) and b.value:
            return Lit(True, BOOL)
        return replace(e, lhs=a, rhs=b)
    unit = op is BinOp.AND  # true for &&, false for ||: the value that leaves the other
    for x, y in ((a, b), (b, a)):
        if isinstance(x, Lit):
            return y if bool(x.value) == unit else Lit(not unit, BOOL)
    return replace(e, lhs=a, rhs=b)


def folded_stmts(body: Sequence[Stmt]) -> tuple[Stmt, ...]:
    """``body`` with its expressions :func:`folded`, and each ``if`` whose condition
    folds to a literal replaced by the branch it takes."""
    out: list[Stmt] = []
    for st in body:
        match st:
            case Assign(args=args, value=value):
                out.append(replace(
                    st, args=tuple(folded(a) for a in args),
                    value=None if value is None else folded(value),
                ))  # fmt: skip
            case If(cond=c, then=t, else_=f):
                fc = folded(c)
                if isinstance(fc, Lit):
                    out += folded_stmts(t if fc.value else f)
                else:
                    out.append(replace(st, cond=fc, then=folded_stmts(t), else_=folded_stmts(f)))
            case ForAll(where=w, body=b):
                out.append(
                    replace(st, where=None if w is None else folded(w), body=folded_stmts(b))
                )
            case Assume(cond=c):
                out.append(replace(st, cond=folded(c)))
            case _:
                assert_never(st)
    return tuple(out)


def _changes(
    merged: TransitionSystem, unmerged: TransitionSystem
) -> tuple[tuple[str, int | bool, int | bool], ...]:
    after = dict(unmerged.settings)
    return tuple((k, v, after[k]) for k, v in merged.settings if after.get(k, v) != v)


def observation_covers(ts: TransitionSystem) -> tuple[Property, ...]:
    """One cover goal per joint valuation of the boolean observables' instances (none
    when there are more than :data:`MAX_OBSERVED` of them)."""
    instances: list[tuple[str, Expr]] = []
    for o in ts.observables:
        if o.expr.type != BOOL:
            continue
        for key in keys(tuple(p.type for p in o.params)):
            env = {p.name: v for p, v in zip(o.params, key, strict=True)}
            label = o.name + ("[" + ", ".join(str(v) for v in key) + "]" if key else "")
            instances.append((label, _bind(o.expr, env)))
    if not instances or len(instances) > MAX_OBSERVED:
        return ()
    out = []
    for values in itertools.product((False, True), repeat=len(instances)):
        parts = [
            e if v else Unary(UnOp.NOT, e, BOOL)
            for (_, e), v in zip(instances, values, strict=True)
        ]
        expr = parts[0]
        for p in parts[1:]:
            expr = Binary(BinOp.AND, expr, p, BOOL)
        label = ", ".join(
            f"{n}={'true' if v else 'false'}" for (n, _), v in zip(instances, values, strict=True)
        )
        out.append(
            Property(
                f"{OBSERVATION} {{{label}}}",
                PropKind.COVER,
                expr,
                description="this observation is reachable",
            )
        )
    return tuple(out)


def _bind(e: Expr, env: dict[str, Value]) -> Expr:
    """``e`` with the observable's parameters replaced by literals."""
    match e:
        case Local(name=name, type=t) if name in env:
            return Lit(env[name], t)
        case Lit() | Local():
            return e
        case Var(args=args):
            return replace(e, args=tuple(_bind(a, env) for a in args))
        case Unary(arg=arg) | Cast(arg=arg):
            return replace(e, arg=_bind(arg, env))
        case Binary(lhs=lhs, rhs=rhs):
            return replace(e, lhs=_bind(lhs, env), rhs=_bind(rhs, env))
        case Ite(cond=c, then=t, else_=f):
            return replace(e, cond=_bind(c, env), then=_bind(t, env), else_=_bind(f, env))
        case Quant(var=var, body=body):
            inner = {k: v for k, v in env.items() if k != var}
            return replace(e, body=_bind(body, inner))
        case _:
            assert_never(e)


def check(
    path: str | Path,
    config: str | None,
    merge: str,
    options: Options | None = None,
    sets: Sequence[str] = (),
    observations: bool = True,
) -> MergeCheck:
    """Check one merge in one configuration of the spec at ``path``.

    ``options.depth`` (None: the configuration's) is the merged form's bound; the
    unmerged form gets the merge's extra steps on top.  ``options.properties``
    narrows the properties compared; ``observations`` adds the observation goals.
    """
    start = time.monotonic()
    options = options if options is not None else Options(engine=Engine.BMC)
    merged, unmerged = forms(path, config, merge, sets)
    description = dict(merged.merges).get(merge)
    changes = _changes(merged, unmerged) if _differ(merged, unmerged) else ()
    if not changes:
        return MergeCheck(
            merged.name, config, merge, description, (), fingerprint=fingerprint(merged, unmerged)
        )
    covers = observation_covers(merged) if observations else ()
    names = None if options.properties is None else (*options.properties, *(c.name for c in covers))
    depth_a = options.depth if options.depth is not None else merged.depth
    ran = _both(
        replace(merged, properties=merged.properties + covers),
        replace(unmerged, properties=unmerged.properties + covers),
        replace(options, properties=names),
        depth_a,
        depth_a + unmerged.depth - merged.depth,
    )
    complete = all(_decided_for_all_depths(r) for r in (*ran.a, *ran.b))
    rows = tuple(
        Row(x.property, x.kind, x.verdict, y.verdict, x.step, y.step, ran.depth_a, complete)
        for x, y in zip(ran.a, ran.b, strict=True)
    )
    return MergeCheck(
        spec=merged.name,
        config=config,
        merge=merge,
        description=description,
        changes=changes,
        merged_bound=ran.depth_a,
        unmerged_bound=ran.depth_b,
        engine=str(ran.engine),
        complete=complete,
        rows=rows,
        seconds=round(time.monotonic() - start, 3),
        fingerprint=fingerprint(merged, unmerged, str(ran.engine)),
    )


@dataclass(frozen=True, slots=True)
class _Both:
    """Both forms' results, each to its bound, and the engine that decided them."""

    a: tuple[Result, ...]
    b: tuple[Result, ...]
    depth_a: int
    depth_b: int
    engine: Engine


def _both(
    side_a: TransitionSystem, side_b: TransitionSystem, options: Options, depth_a: int, depth_b: int
) -> _Both:
    """The merged form ``side_a`` to ``depth_a`` and the unmerged ``side_b`` to
    ``depth_b``, by ``options.engine``; where the explicit search does not apply (free
    starts of wide counters) or does not finish, both sides go to BMC, each to its
    bound: the merged form's at most BMC_BOUND (unless ``options.depth`` sets it), the
    unmerged one's beyond."""
    a = _run(side_a, replace(options, depth=depth_a))
    fallback = options.engine is Engine.EXPLICIT and any(map(_unknown, a))
    b = a if fallback else _run(side_b, replace(options, depth=depth_b))
    if options.engine is Engine.EXPLICIT and (fallback or any(map(_unknown, b))):
        options = replace(options, engine=Engine.BMC)
        if options.depth is None:
            depth_b -= depth_a - min(depth_a, BMC_BOUND)
            depth_a = min(depth_a, BMC_BOUND)
        a = _run(side_a, replace(options, depth=depth_a))
        b = _run(side_b, replace(options, depth=depth_b))
    return _Both(a, b, depth_a, depth_b, options.engine)


def _unknown(r: Result) -> bool:
    return r.verdict is Verdict.UNKNOWN


def _decided_for_all_depths(r: Result) -> bool:
    return r.complete or r.verdict in (Verdict.VIOLATED, Verdict.COVERED)


def _run(ts: TransitionSystem, options: Options) -> tuple[Result, ...]:
    results = engines.prove(ts, options)
    order = {p.name: i for i, p in enumerate(ts.properties)}
    return tuple(sorted(results, key=lambda r: order[r.property]))
