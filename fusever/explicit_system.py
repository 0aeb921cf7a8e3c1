"""The explicit engine's compiled system: its successor function and goals, built once.

:class:`System` compiles each action instance of a transition system (enumerated
parameters fixed; those whose guard folds to false dropped) into generated Python
functions over a state held as a flat tuple of small integers (:mod:`fusever.codegen`;
guards also into closures, :mod:`fusever.closures`, for the folding and the lookup),
each goal into checks, each instance's canonical form of its successors into a
function of the same kind, and enumerates the initial states.  It also indexes the instances by the first
``location == value`` test of their guard, and knows, per instance, which goals' parts
read what it writes.

Two reductions keep the state space the size of the problem, not of its history;
each maps a state to a canonical one that every later guard, assignment and property
sees alike, so the reduced search reaches the same verdicts at the same depths:

- **liveness**: a location that no guard, assignment, ``for all`` condition or
  selected property can ever read is reset to a canonical value (the cone of
  influence: :mod:`fusever.liveness`); a location no step ever changes is read as a
  constant.
- **ghost order**: ghost integers (timestamps from a ghost clock) are kept only as
  their relative order (:mod:`fusever.ghosts`); an increment that breaks it raises
  :class:`~fusever.closures.OrderBroken`, and the search starts again without
  normalising that group.

It refuses (:class:`~fusever.closures.Unsupported`) a free initial value of a wide
type (a 64-bit counter's free start, a free ghost integer), a ``choose`` of such a
type, and more than :data:`INIT_LIMIT` candidate initial states.  Nothing prints.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from fusever.closures import (
    Blocked,
    Compiler,
    Fn,
    Node,
    Unsupported,
    first_eq,
    seq,
)
from fusever.codegen import Canon, Code, Generator, Step, Successors, junction
from fusever.deadness import Analysis, Dead, after
from fusever.ghosts import Order, getter, int_groups, layer, layer_step
from fusever.layout import Layout, S, dec, domain, enc
from fusever.liveness import (
    assume_reads,
    determined_slots,
    expr_reads,
    fixed_slots,
    instance_envs,
    stmt_flows,
    stmt_writes,
)
from fusever.ts import (
    Action,
    Binary,
    BinOp,
    Expr,
    Property,
    PropKind,
    Quant,
    Quantifier,
    TransitionSystem,
    Value,
    Var,
    elements,
    walk,
)

__all__ = ["CHECK_EVERY", "INIT_LIMIT", "System"]

INIT_LIMIT = 1_000_000  # candidate initial states enumerated at most
CHECK_EVERY = 512  # states between two looks at the clock


@dataclass(frozen=True, slots=True)
class _Inst:
    action: str
    args: tuple[tuple[str, Value], ...]  # every parameter, as a trace shows it
    guard: Node  # as closures: only for the lookup by its first `location == value` test
    step: Step  # the successor of a state, or None where the instance is not enabled
    # the post-state made canonical, given the (canonical) pre-state, or None
    canon: Canon


_Part = tuple[Code, frozenset[int]]  # a goal's part as code, and the locations it reads


@dataclass(frozen=True, slots=True)
class _Goal:
    """A goal's checks.  A one-state goal: ``check`` on each new state.  A two-state
    one: ``check`` on each step; a transition property's top-level conjuncts that read
    only the post-state are split off as ``post``, checked once per state reached by a
    step (the first step into a state is at the lowest level: the same shortest step)."""

    prop: Property
    check: Fn | None  # true: holds (invariant, transition) / reached (cover)
    post: Fn | None = None
    # ``check`` (one-state) or ``post`` as its top-level conjuncts (a cover: disjuncts),
    # quantifiers unrolled, each with the locations it reads: after a step only those
    # reading a location the step wrote can change (the rest had the same value before)
    parts: tuple[_Part, ...] = ()

    @property
    def cover(self) -> bool:
        """A cover goal: settled where ``check`` is true (the others where false)."""
        return self.prop.kind is PropKind.COVER


def _split(e: Expr, env: Mapping[str, int], conj: bool) -> list[tuple[Expr, dict[str, int]]]:
    """The top-level conjuncts (``conj``) or disjuncts of ``e``, quantifiers unrolled."""
    q = Quantifier.FORALL if conj else Quantifier.EXISTS
    op = BinOp.AND if conj else BinOp.OR
    if isinstance(e, Quant) and e.quantifier is q:
        out: list[tuple[Expr, dict[str, int]]] = []
        for v in elements(e.sort):
            out += _split(e.body, {**env, e.var: enc(e.sort, v)}, conj)
        return out
    if isinstance(e, Binary) and e.op is op:
        return _split(e.lhs, env, conj) + _split(e.rhs, env, conj)
    return [(e, dict(env))]


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Binary) and e.op is BinOp.AND:
        return _conjuncts(e.lhs) + _conjuncts(e.rhs)
    return [e]


def _post_only(e: Expr) -> bool:
    return all(x.primed for x in walk(e) if isinstance(x, Var))


def _lookup(
    guards: Sequence[Node],
) -> tuple[tuple[tuple[int, dict[int, tuple[int, ...]]], ...], list[int]]:
    """The instances by the first `location == value` test of their guard (a program
    counter, usually): a state looks up only those whose test holds; and the rest."""
    tables: dict[int, dict[int, list[int]]] = {}
    rest: list[int] = []
    for i, guard in enumerate(guards):
        test = first_eq(guard)
        if test is None:
            rest.append(i)
        else:
            tables.setdefault(test[0], {}).setdefault(test[1], []).append(i)
    lookup = tuple((j, {v: tuple(ix) for v, ix in table.items()}) for j, table in tables.items())
    return lookup, rest


@dataclass(frozen=True, slots=True)
class Base:
    """What every system of one transition system has alike, whatever its goals: built
    once per run and shared by the searches that follow when goals settle."""

    layout: Layout
    envs: tuple[tuple[Action, dict[str, int]], ...]  # every action instance
    fixed: dict[int, int]  # the locations no step changes, and their values
    plain: Compiler  # expressions as closures, with those constants folded
    # the cone of influence's goal-free part: what the guards (those not folded to
    # false) and the assumptions read, and what flows where (targets, what they read)
    reads: frozenset[int]
    flows: tuple[tuple[frozenset[int], frozenset[int]], ...]

    @staticmethod
    def of(ts: TransitionSystem) -> Base:
        lay = Layout(ts)
        envs = tuple((a, env) for a in ts.actions for env in instance_envs(a))
        fixed = fixed_slots(ts, lay, envs)
        plain = Compiler(lay, fixed=fixed)
        reads: set[int] = set()
        flows: list[tuple[frozenset[int], frozenset[int]]] = []
        for a, env in envs:
            g = plain.expr(a.guard, env)
            if isinstance(g, int) and not g:
                continue
            expr_reads(plain, a.guard, env, reads)
            stmt_flows(plain, a.body, env, frozenset(), reads, flows)
        return Base(lay, envs, fixed, plain, frozenset(reads), tuple(flows))


class System:
    """The successor function and goals of one transition system, built once."""

    def __init__(
        self,
        ts: TransitionSystem,
        props: Sequence[Property],
        unordered: frozenset[int] = frozenset(),
        by_control: bool = True,
        deadness: Analysis | None = None,
        base: Base | None = None,
    ) -> None:
        self.ts = ts
        self.base = base = Base.of(ts) if base is None else base
        lay = self.layout = base.layout
        envs = base.envs
        self.fixed = base.fixed
        plain = base.plain
        # liveness, as a cone of influence: what a guard, an `assume` or a goal reads,
        # and what flows into that (an assignment's right-hand side, index and the
        # conditions it is under, when it may write a location in the cone)
        self._plain = plain
        self._gen = Generator(lay, fixed=self.fixed)  # the goals' checks
        live = self.cone(props)
        self.dead = tuple(j for j in range(lay.size) if j not in live)
        self.notes: list[str] = []
        self.timed_out = False  # the initial states' enumeration passed the deadline
        self.order = self._ghost_order(props, unordered, live)
        # built once per run: the next searches (goals settled, an order broken) reuse it
        if by_control and deadness is None:
            deadness = Analysis(lay, plain, envs)
        self.deadness = deadness if by_control else None
        self.by_control = self._by_control(props, live, deadness) if deadness else ()
        # per group: its values after a step -> the locations its layering moves, with
        # their new values (the layering is a function of the group's values alone)
        self._memo: dict[int, dict[tuple[int, ...], tuple[tuple[int, int], ...]]] = {}
        if self.dead:
            self.notes.insert(
                0,
                f"{len(self.dead)} of {lay.size} locations outside the goals' cone of influence: reset",
            )
        if self.by_control:
            n = sum(len(d.slots) for d in self.by_control)
            self.notes.insert(
                0,
                f"{n} of {lay.size} locations reset in the states where their control locations make them dead (written before read)",
            )
        if self.fixed:
            self.notes.insert(
                0, f"{len(self.fixed)} of {lay.size} locations keep their initial value: constants"
            )
        self.insts, self._writes, self.successors = self._instances(envs)
        self.goals = self._goals(props)
        self.affected, self.affected_post = self._affected()
        self._init_code = seq(plain.stmts(ts.init, {}, init=True))

    def _by_control(
        self, props: Sequence[Property], live: set[int], deadness: Analysis
    ) -> tuple[Dead, ...]:
        """The locations dead under a tuple of control locations (:mod:`fusever.deadness`):
        of those in the cone of influence, not constants, not read by a goal and not
        held as an ordered ghost."""
        lay, plain = self.layout, self._plain
        never: set[int] = set()
        for p in props:
            expr_reads(plain, p.expr, {}, never)
        for name in self.order.group_of:
            never.update(lay.slots(name))
        candidates = [j for j in sorted(live) if j not in self.fixed and j not in never]
        return deadness.dead(candidates)

    def _ghost_order(
        self, props: Sequence[Property], unordered: frozenset[int], live: set[int]
    ) -> Order:
        """The ghost integer groups kept as their order (not those ``unordered``: an
        increment broke their order before), their live slots and the pairs of them
        whose order matters; a note for each group, normalised or not."""
        lay = self.layout
        groups = int_groups(self.ts, props)
        gconsts, members, why = groups.consts, groups.members, groups.why
        normal: dict[str, int] = {}
        cmax: dict[int, int] = {}
        gslots: dict[int, tuple[int, ...]] = {}
        names: dict[int, tuple[str, ...]] = {}
        near: dict[int, tuple[tuple[int, ...], ...]] = {}
        for g, ms in members.items():
            if g in why:
                self.notes.append(f"ghost {', '.join(ms)} kept as values: {why[g]}")
                continue
            if g in unordered:
                self.notes.append(
                    f"ghost {', '.join(ms)} kept as values: an increment of a value that is not the group's largest"
                )
                continue
            for n in ms:
                normal[n] = g
            cmax[g] = max(gconsts[g], default=0)
            gslots[g] = tuple(j for n in ms for j in lay.slots(n) if j in live)
            names[g] = tuple(ms)
            vs = [lay.slot_var[j] for j in gslots[g]]
            near[g] = tuple(
                tuple(k for k, b in enumerate(vs) if k != i and (a, b) in groups.pairs)
                for i, a in enumerate(vs)
            )
            self.notes.append(f"ghost {', '.join(ms)} kept as their order")
        return Order(normal, cmax, gslots, names, near)

    def _instances(
        self, envs: Sequence[tuple[Action, dict[str, int]]]
    ) -> tuple[list[_Inst], list[frozenset[int]], Successors]:
        """The action instances whose guard does not fold to false, compiled, the
        locations each may write, and the successor function of them all (and, as
        ``canonical``, the same with each successor made canonical)."""
        lay, normal = self.layout, self.order.group_of
        comp = Compiler(lay, self.order, self.fixed)
        kept: list[tuple[Action, dict[str, int], Node]] = []
        for a, env in envs:
            guard = comp.expr(a.guard, env)
            if not (isinstance(guard, int) and not guard):
                kept.append((a, env, guard))
        all_writes: list[frozenset[int]] = []
        sources: list[str] = []
        dead = set(self.dead)
        for k, (a, env, _) in enumerate(kept):
            writes = frozenset(stmt_writes(comp, a.body, env))
            resets = tuple(sorted(j for j in writes if j in dead))
            touched = tuple(
                sorted({normal[lay.slot_var[j]] for j in writes if lay.slot_var[j] in normal})
            )
            conds = after(self.by_control, writes)
            sources.append(self._canon_source(f"_canon{k}", resets, touched, writes, conds))
            all_writes.append(writes)
        groups = tuple(sorted(self.order.cmax))
        sources.append(self._canon_source("_canon_all", self.dead, groups, None, self.by_control))
        names = [f"_canon{k}" for k in range(len(kept))] + ["_canon_all"]
        canons: list[Canon] = self._gen.compiled("\n\n".join(sources), names)  # type: ignore[assignment]
        self._canon_all = canons.pop()
        self.lookup, self.always = _lookup([guard for _, _, guard in kept])
        steps, successors, canonical = Generator(lay, self.order, self.fixed).steps(
            [(a.guard, a.body, env) for a, env, _ in kept], self.lookup, self.always, canons
        )
        self.canonical_successors = canonical
        insts = [
            _Inst(a.name, tuple((p.name, dec(p.type, env[p.name])) for p in a.params), guard,
                  step, canon)
            for (a, env, guard), step, canon in zip(kept, steps, canons, strict=True)
        ]  # fmt: skip
        return insts, all_writes, successors

    def _goals(self, props: Sequence[Property]) -> list[_Goal]:
        gen = self._gen
        rows: list[tuple[Property, Code | None, Code | None, tuple[_Part, ...]]] = []
        for p in props:
            if p.kind is not PropKind.TRANSITION:
                check = gen.expr(p.expr, {}, "s", "t")
                parts = () if p.two_state else self._pieces([p.expr], p.kind is not PropKind.COVER)
                rows.append((p, check, None, parts))
                continue
            cs = _conjuncts(p.expr)
            e = junction(True, [gen.expr(c, {}, "s", "t") for c in cs if not _post_only(c)])
            q = junction(True, [gen.expr(c, {}, "s", "t") for c in cs if _post_only(c)])
            rows.append((
                p, None if e == 1 else e, None if q == 1 else q,
                self._pieces([c for c in cs if _post_only(c)], True),
            ))  # fmt: skip
        fns = iter(gen.functions([c for _, a, b, _ in rows for c in (a, b) if c is not None]))
        return [
            _Goal(p, None if a is None else next(fns), None if b is None else next(fns), parts)
            for p, a, b, parts in rows
        ]

    def _pieces(self, es: Sequence[Expr], conj: bool) -> tuple[_Part, ...]:
        """``es``' top-level conjuncts (``conj``) or disjuncts, as code, each with the
        locations it reads; those that fold to the junction's unit are left out."""
        out: list[_Part] = []
        for e in es:
            for part, env in _split(e, {}, conj):
                code = self._gen.expr(part, env, "s", "t")
                if isinstance(code, int):
                    if bool(code) != conj:  # decided without reading anything
                        out.append((code, frozenset()))
                    continue
                reads: set[int] = set()
                expr_reads(self._plain, part, env, reads)
                out.append((code, frozenset(reads)))
        return tuple(out)

    def _affected(
        self,
    ) -> tuple[list[tuple[tuple[str, Fn, bool], ...]], list[tuple[tuple[str, Fn, bool], ...]]]:
        """Per instance, per one-state goal (the first list) or post-state part of a
        transition property (the second): the parts that read what the instance writes,
        as one function, and whether it settles the goal when true (a cover) or when
        false."""
        rows: list[tuple[int, bool, str, Code, bool]] = []  # instance, post?, goal, code, cover
        for i, inst_writes in enumerate(self._writes):
            for goal in self.goals:
                codes = [c for c, reads in goal.parts if reads & inst_writes]
                if codes:
                    cover = goal.cover
                    code = junction(not cover, codes)
                    rows.append((i, goal.post is not None, goal.prop.name, code, cover))
        fns = self._gen.functions([code for _, _, _, code, _ in rows])
        ones: list[list[tuple[str, Fn, bool]]] = [[] for _ in self._writes]
        posts: list[list[tuple[str, Fn, bool]]] = [[] for _ in self._writes]
        for (i, post, name, _, cover), fn in zip(rows, fns, strict=True):
            (posts if post else ones)[i].append((name, fn, cover))
        return [tuple(r) for r in ones], [tuple(r) for r in posts]

    def cone(self, props: Sequence[Property]) -> set[int]:
        """The locations in the cone of influence of the guards, assumptions and ``props``."""
        plain, flows = self._plain, self.base.flows
        live = set(self.base.reads)
        for p in props:
            expr_reads(plain, p.expr, {}, live)
        changed = True
        while changed:
            changed = False
            for targets, deps in flows:
                if not deps <= live and not targets.isdisjoint(live):
                    live |= deps
                    changed = True
        return live

    def _canon_source(
        self,
        name: str,
        resets: tuple[int, ...],
        groups: tuple[int, ...],
        writes: frozenset[int] | None = None,
        conds: tuple[Dead, ...] = (),
    ) -> str:
        """The source of ``def name(m, pre)``: the post-state ``m`` made canonical in
        place and returned as a tuple.  ``resets`` are set to 0, then each of ``conds``'
        slots where its controls hold one of its tuples, then each ghost group of
        ``groups`` is layered (:mod:`fusever.ghosts`; ``pre``, the canonical pre-state
        or None, lets a step's layering start from it).  The layering is a function of
        the group's values alone, so it is computed once per tuple of them: the
        generated code looks the locations it moves up in the group's memo."""
        o, gen = self.order, self._gen
        lines = [f"def {name}(m, pre):"]
        if resets:
            lines.append("    " + " = ".join(f"m[{j}]" for j in resets) + " = 0")
        # those under one control first, as they always were (a control may itself be
        # reset under another)
        for d in sorted(conds, key=lambda d: len(d.controls) > 1):
            if len(d.controls) == 1:
                vals = frozenset(t[0] for t in d.tuples)
                test = f"m[{d.controls[0]}] in {gen.bind(vals, vals)}"
            else:
                key = ", ".join(f"m[{c}]" for c in d.controls)
                test = f"({key}) in {gen.bind(d.tuples, d.tuples)}"
            lines.append(f"    if {test}:")
            lines.append("        " + " = ".join(f"m[{j}]" for j in d.slots) + " = 0")
        for g in groups:
            slots = o.slots[g]
            if not slots:
                continue
            written = tuple(x for x, j in enumerate(slots) if writes is None or j in writes)
            memo = self._memo.setdefault(g, {})
            get = gen.helper(("getter", slots), partial(getter, slots))
            cache = gen.bind(("memo", g), memo)
            miss = gen.helper(("layer", g, written), partial(self._layering, g, written))
            lines.append(f"    key = {get}(m)")
            lines.append(f"    moves = {cache}.get(key)")
            lines.append("    if moves is None:")
            lines.append(f"        {miss}(m, pre, key)")
            lines.append("    else:")
            lines.append("        for j, v in moves:")
            lines.append("            m[j] = v")
        lines.append("    return tuple(m)")
        return "\n".join(lines)

    def _layering(
        self, g: int, written: tuple[int, ...]
    ) -> Callable[[list[int], S | None, tuple[int, ...]], None]:
        """Group ``g``'s layering of ``m`` (its values ``key``), from the canonical
        pre-state when there is one and a step's layering applies, else in full; the
        locations it moved are kept in the group's memo under ``key``."""
        o = self.order
        c, slots, near = o.cmax[g], o.slots[g], o.near[g]
        nslots = tuple(tuple(slots[k] for k in ks) for ks in near)
        cache = self._memo.setdefault(g, {})

        def miss(m: list[int], pre: S | None, key: tuple[int, ...]) -> None:
            if pre is None or not layer_step(m, pre, c, slots, near, nslots, written):
                layer(m, c, slots, near)
            cache[key] = tuple((j, m[j]) for j, v in zip(slots, key, strict=True) if m[j] != v)

        return miss

    def canonical(self, state: S) -> tuple[int, ...]:
        """``state``'s canonical form in this system (every reduction applied)."""
        return self._canon_all(list(state), None)

    def initial(
        self, deadline: float | None = None
    ) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
        """Every initial state: (canonical, concrete), in a fixed order; duplicates of a
        canonical state may come more than once.  A free location that is dead and that
        no ``assume`` reads is not enumerated (its canonical value stands for all).
        Past ``deadline`` it stops and sets ``timed_out``."""
        lay = self.layout
        known = determined_slots(self.ts, lay)
        assumed: set[int] = set()
        assume_reads(self._plain, self.ts.init, {}, assumed)
        dead = set(self.dead)
        free = [j for j in range(lay.size) if j not in known and (j not in dead or j in assumed)]
        domains: list[range] = []
        total = 1
        for j in free:
            n = domain(lay.types[lay.slot_var[j]])
            if n is None:
                raise Unsupported(
                    f"{lay.name(j)} starts free over {lay.types[lay.slot_var[j]]} (a free start is the SMT engines' ground)"
                )
            domains.append(range(n))
            total *= n
            if total > INIT_LIMIT:
                raise Unsupported(
                    f"more than {INIT_LIMIT} candidate initial states ({len(free)} free locations)"
                )
        base = [known.get(j, 0) for j in range(lay.size)]
        for count, combo in enumerate(itertools.product(*domains)):
            if count % CHECK_EVERY == 0 and deadline is not None and time.monotonic() >= deadline:
                self.timed_out = True
                return
            m = list(base)
            for j, x in zip(free, combo, strict=True):
                m[j] = x
            before = tuple(m)
            try:
                self._init_code(m)
            except Blocked:
                continue
            if tuple(m) != before:
                continue  # not a fixpoint of init
            yield self._canon_all(m, None), before
