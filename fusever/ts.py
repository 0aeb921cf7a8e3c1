"""The transition system: the checked, resolved form of a spec.

This is the contract between the front end (:mod:`fusever.check` produces it) and
everything after it (:mod:`fusever.interpret`, :mod:`fusever.encode`, the engines).
It is plain data: no Lark, no Z3.  Constants are already folded into literals,
sort sizes and widths are numbers, variants are expanded, ``--set`` is applied.

Values (in traces, the interpreter, the JSON report):

=============  ==========================================================
type           Python value
=============  ==========================================================
BoolType       ``bool``
BitVecType     ``int`` in ``[0, 2**width)`` (two's complement bits; a signed
               type only changes how comparisons and ``int()`` read them)
IntType        ``int`` (ghost state only)
SortType       ``int`` in ``[0, size)``
EnumType       ``str``, a member name
=============  ==========================================================

A state maps every state variable's name to a table from index tuples to values;
a scalar variable has the single index ``()``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from fusever import __version__
from fusever.vocabulary import NOWHERE, BinOp, PropKind, Quantifier, Span, UnOp

__all__ = [
    "BinOp",
    "PropKind",
    "Quantifier",
    "UnOp",
]


def _span() -> Span:
    return field(default=NOWHERE, compare=False, repr=False)


# ---- types -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoolType:
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True, slots=True)
class BitVecType:
    width: int
    signed: bool = False

    def __str__(self) -> str:
        return f"{'i' if self.signed else 'u'}{self.width}"


@dataclass(frozen=True, slots=True)
class IntType:
    """Mathematical integers: ghost state only."""

    def __str__(self) -> str:
        return "int"


@dataclass(frozen=True, slots=True)
class SortType:
    """A finite index sort with elements ``0 .. size-1``."""

    name: str
    size: int

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class EnumType:
    name: str
    members: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


Type = BoolType | BitVecType | IntType | SortType | EnumType
FiniteType = BoolType | SortType | EnumType
Value = bool | int | str
Key = tuple[Value, ...]

BOOL = BoolType()
INT = IntType()


def is_finite(t: Type) -> bool:
    """Finite types can index maps, be quantified over and be enumerated as parameters."""
    return isinstance(t, BoolType | SortType | EnumType)


def elements(t: Type) -> tuple[Value, ...]:
    """Every value of a finite type, in the canonical order."""
    match t:
        case BoolType():
            return (False, True)
        case SortType(size=size):
            return tuple(range(size))
        case EnumType(members=members):
            return members
        case _:
            raise ValueError(f"{t} is not a finite type")


def keys(index: tuple[Type, ...]) -> tuple[Key, ...]:
    """Every index tuple of a map over ``index``, in the canonical order; ``((),)`` for a scalar."""
    return tuple(itertools.product(*(elements(t) for t in index)))


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lit:
    value: Value
    type: Type
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Var:
    """A state variable read; ``primed`` reads the post-state (transition properties)."""

    name: str
    args: tuple[Expr, ...]
    type: Type
    primed: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Local:
    """An action parameter, a loop variable or a quantified variable."""

    name: str
    type: Type
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: UnOp
    arg: Expr
    type: Type
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    """Operands have equal types; comparisons on a signed bit-vector are signed."""

    op: BinOp
    lhs: Expr
    rhs: Expr
    type: Type
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Ite:
    cond: Expr
    then: Expr
    else_: Expr
    type: Type
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Quant:
    quantifier: Quantifier
    var: str
    sort: Type  # finite
    body: Expr
    type: Type = BOOL
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Cast:
    """Bit-vector reinterpretation (``signed``/``unsigned``, same width) or bit-vector to ``int``."""

    arg: Expr
    type: Type
    span: Span = _span()


Expr = Lit | Var | Local | Unary | Binary | Ite | Quant | Cast


# ---- statements --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assign:
    """``name[args] := value``; ``value is None`` is ``any`` (init only: the location is free)."""

    name: str
    args: tuple[Expr, ...]
    value: Expr | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    else_: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ForAll:
    """Runs ``body`` for each element of ``sort`` in order, when ``where`` holds at that point."""

    var: str
    sort: Type  # finite
    where: Expr | None
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Assume:
    """Init only: a constraint on the initial state."""

    cond: Expr
    span: Span = _span()


Stmt = Assign | If | ForAll | Assume


# ---- the system ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateVar:
    name: str
    index: tuple[Type, ...]  # () for a scalar; finite types otherwise
    type: Type
    ghost: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Param:
    """An action parameter.  A finite one is enumerated (one action instance per value);
    a ``chosen`` one (from ``choose``, any type) is a free value picked by the step."""

    name: str
    type: Type
    chosen: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    params: tuple[Param, ...]
    guard: Expr  # over the pre-state; a ``choose ... where`` condition is conjoined here
    body: tuple[Stmt, ...]
    actor: str | None = None  # label from ``by label(param)``
    actor_param: str | None = None
    span: Span = _span()
    description: str | None = None  # a template: ``{param}`` stands for the parameter's value


@dataclass(frozen=True, slots=True)
class Property:
    """An invariant (one state), a transition property (pre and post, primes) or a
    cover goal (one state, or two when it uses primes).  ``covers`` names the
    property a cover goal shows non-vacuous."""

    name: str
    kind: PropKind
    expr: Expr
    description: str | None = None
    covers: str | None = None
    span: Span = _span()

    @property
    def two_state(self) -> bool:
        return uses_primes(self.expr)


@dataclass(frozen=True, slots=True)
class Observable:
    """``observe name[params]: expr``: one observed value per assignment of ``params``
    (finite), an expression over one state without primes.  What ``fusever diff``
    compares between two specs."""

    name: str
    params: tuple[Param, ...]
    expr: Expr
    description: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TransitionSystem:
    name: str
    path: str
    description: str | None
    lineage: tuple[str, ...]  # this spec, then its base, then the base's base ...
    settings: tuple[tuple[str, int | bool], ...]  # every constant's effective value, in order
    sorts: tuple[SortType, ...]
    enums: tuple[EnumType, ...]
    vars: tuple[StateVar, ...]
    init: tuple[Stmt, ...]
    actions: tuple[Action, ...]
    properties: tuple[Property, ...]
    depth: int
    config: str | None = None  # the configuration applied (``--config``), None for the default
    configs: tuple[tuple[str, str | None], ...] = ()  # every configuration: name, description
    merges: tuple[tuple[str, str | None], ...] = ()  # every step merge: name, description
    unmerged: str | None = None  # the step merge whose unmerged form this is (None: as written)
    observables: tuple[Observable, ...] = ()  # what ``fusever diff`` compares, in spec order

    @property
    def key(self) -> str:
        """``spec`` or ``spec.config``: names one spec configuration (spec names have no dots)."""
        return config_key(self.name, self.config)

    def var(self, name: str) -> StateVar:
        for v in self.vars:
            if v.name == name:
                return v
        raise KeyError(name)

    def action(self, name: str) -> Action:
        for a in self.actions:
            if a.name == name:
                return a
        raise KeyError(name)

    def property(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)


def config_key(spec: str, config: str | None) -> str:
    return spec if config is None else f"{spec}.{config}"


def uses_primes(e: Expr) -> bool:
    return any(isinstance(x, Var) and x.primed for x in walk(e))


def walk(e: Expr) -> Iterator[Expr]:
    """Every sub-expression of ``e``, ``e`` first."""
    yield e
    match e:
        case Lit() | Local():
            pass
        case Var(args=args):
            for a in args:
                yield from walk(a)
        case Unary(arg=a) | Cast(arg=a):
            yield from walk(a)
        case Binary(lhs=lhs, rhs=rhs):
            yield from walk(lhs)
            yield from walk(rhs)
        case Ite(cond=c, then=t, else_=f):
            yield from walk(c)
            yield from walk(t)
            yield from walk(f)
        case Quant(body=b):
            yield from walk(b)


def instances(action: Action) -> Iterator[tuple[tuple[str, Value], ...]]:
    """Every assignment of the action's enumerated (non-chosen) parameters, in canonical order."""
    enumerated = [p for p in action.params if not p.chosen]
    for combo in itertools.product(*(elements(p.type) for p in enumerated)):
        yield tuple((p.name, v) for p, v in zip(enumerated, combo, strict=True))


# ---- traces --------------------------------------------------------------------

State = Mapping[str, Mapping[Key, Value]]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a trace.  Step 0 has ``action is None`` (the initial state).
    ``args`` holds every parameter, chosen ones included; ``state`` is the state
    after the step."""

    action: str | None
    args: tuple[tuple[str, Value], ...]
    state: State


@dataclass(frozen=True, slots=True)
class Trace:
    steps: tuple[Step, ...]

    def __len__(self) -> int:
        return len(self.steps)


# ---- the kernel projection -------------------------------------------------------


def _reads_ghost(e: Expr, ghosts: frozenset[str]) -> bool:
    return any(isinstance(x, Var) and x.name in ghosts for x in walk(e))


def _kernel_stmts(body: tuple[Stmt, ...], ghosts: frozenset[str]) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for st in body:
        match st:
            case Assign(name=name):
                if name not in ghosts:
                    out.append(st)
            case Assume(cond=c):
                if not _reads_ghost(c, ghosts):
                    out.append(st)
            case If(cond=c, then=t, else_=f):
                then, else_ = _kernel_stmts(t, ghosts), _kernel_stmts(f, ghosts)
                if then or else_:
                    out.append(If(c, then, else_, st.span))
            case ForAll(body=b):
                inner = _kernel_stmts(b, ghosts)
                if inner:
                    out.append(ForAll(st.var, st.sort, st.where, inner, st.span))
    return tuple(out)


def kernel_projection(ts: TransitionSystem) -> TransitionSystem:
    """``ts`` without its ghost state and without properties: every run of ``ts``,
    ghost locations dropped, is a run of the projection (the checker keeps ghost
    state out of guards and kernel state, so dropping it never disables a step;
    an ``assume`` on ghost state is dropped, which only adds initial states).  So
    a bound on the length of the projection's runs bounds the runs of ``ts``."""
    ghosts = frozenset(v.name for v in ts.vars if v.ghost)
    actions = tuple(
        Action(a.name, a.params, a.guard, _kernel_stmts(a.body, ghosts), a.actor,
               a.actor_param, a.span, a.description)
        for a in ts.actions
    )  # fmt: skip
    return TransitionSystem(
        name=ts.name,
        path=ts.path,
        description=ts.description,
        lineage=ts.lineage,
        settings=ts.settings,
        sorts=ts.sorts,
        enums=ts.enums,
        vars=tuple(v for v in ts.vars if not v.ghost),
        init=_kernel_stmts(ts.init, ghosts),
        actions=actions,
        properties=(),
        depth=ts.depth,
        config=ts.config,
        configs=ts.configs,
        merges=ts.merges,
        unmerged=ts.unmerged,
    )


def fingerprint(ts: TransitionSystem) -> str:
    """What a spec configuration means: a hash of the checked transition system (names,
    types, init, actions, properties, settings, depth; no file path and no source
    positions, which are left out of its ``repr``, and no descriptions: the words of a
    spec, an action, a property, an observable or a merge change no verdict) and
    fusever's version.  A recorded certificate or merge check stands for the
    configuration while this is unchanged."""
    meaning = repr(
        replace(
            ts,
            path="",
            description=None,
            configs=(),
            actions=tuple(replace(a, description=None) for a in ts.actions),
            properties=tuple(replace(p, description=None) for p in ts.properties),
            observables=tuple(replace(o, description=None) for o in ts.observables),
            merges=tuple((name, None) for name, _ in ts.merges),
        )
    )
    return hashlib.sha256(f"fusever {__version__}\n{meaning}".encode()).hexdigest()[:32]
