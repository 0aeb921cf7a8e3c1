"""The syntax tree: what a spec file says, before names and types are resolved.

Produced by :mod:`fusever.parse`, consumed by :mod:`fusever.check`.  Every node is
a frozen, slotted dataclass; its ``span`` is excluded from equality so that tests
compare structure, not positions.  A node that declares or names something also keeps
that name's own span (``name_span``, ``var_span``, ``sort_span``, ``param_span``,
``covers_span``, ``base_span``), from the lexer's token: diagnostics point at the name
without searching the source text.  Nothing here imports Lark or Z3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# re-exported: the front end reads them as ``s.Span``, ``s.BinOp`` ...
from fusever.vocabulary import NOWHERE as NOWHERE
from fusever.vocabulary import BinOp as BinOp
from fusever.vocabulary import PropKind as PropKind
from fusever.vocabulary import Quantifier as Quantifier
from fusever.vocabulary import Span as Span
from fusever.vocabulary import UnOp as UnOp


def _span() -> Span:
    return field(default=NOWHERE, compare=False, repr=False)


# ---- types -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NamedType:
    """``bool``, ``int``, ``u64``, a sort name or an enum name."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SizedType:
    """``u<W>`` / ``i<W>``: the width is a literal or a constant's name."""

    name: str
    width: int | str
    span: Span = _span()


ValueType = NamedType | SizedType


@dataclass(frozen=True, slots=True)
class MapType:
    """``A -> T`` or ``(A, B) -> T``."""

    index: tuple[ValueType, ...]
    value: ValueType
    span: Span = _span()


TypeExpr = ValueType | MapType


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    value: int
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Ref:
    """A name, possibly primed (``x'``) and indexed (``m[i, j]``)."""

    name: str
    primed: bool = False
    args: tuple[Expr, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: UnOp
    arg: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    op: BinOp
    lhs: Expr
    rhs: Expr
    span: Span = _span()
    # a node the parser made when it regrouped a long left-to-right chain of one
    # associative operator (``a + b + ... + z``) into a balanced tree: its operands were
    # not written together, so a constant group of them is not folded as one number
    # that must fit the type, but operand by operand, as the chain would be
    # (fusever/parse.py, fusever/resolve.py)
    regrouped: bool = field(default=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Ite:
    cond: Expr
    then: Expr
    else_: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binder:
    name: str
    sort: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Quant:
    quantifier: Quantifier
    binders: tuple[Binder, ...]
    body: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    """A call: a builtin (``signed(e)``, ``unsigned(e)``, ``int(e)``) or a ``def``'s
    name (inlined by :mod:`fusever.expand` before checking)."""

    func: str
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Ascribe:
    """``expr`` must have type ``type``: made only by :mod:`fusever.expand`, around an
    inlined ``def``'s body (its result type) and each argument (its parameter's type).
    The checker checks it and leaves nothing of it in the transition system.
    ``what`` names the value in an error (``argument `f` of `stale```); ``call`` is the
    call site an inlined body came from (for a note), or None for an argument.  The
    span is the call's (a body) or the argument's, so a problem with the value as a
    whole is reported where it is used."""

    expr: Expr
    type: TypeExpr
    what: str
    call: Span | None = field(default=None, compare=False, repr=False)
    span: Span = _span()


Expr = Number | Bool | Ref | Unary | Binary | Ite | Quant | Call | Ascribe


# ---- statements --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Any:
    """The right-hand side ``any``: a free value (init only)."""

    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Assign:
    name: str
    args: tuple[Expr, ...]
    value: Expr | Any
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    else_: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ForAll:
    var: str
    sort: str
    where: Expr | None
    body: tuple[Stmt, ...]
    span: Span = _span()
    var_span: Span = _span()  # the loop variable's name
    sort_span: Span = _span()  # the sort's name, after ``in``


@dataclass(frozen=True, slots=True)
class Assume:
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Choose:
    name: str
    type: TypeExpr
    where: Expr | None
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Skip:
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CallStmt:
    """``take_seq(d)``: a ``proc``'s body, inlined by :mod:`fusever.expand`."""

    name: str
    args: tuple[Expr, ...]
    span: Span = _span()
    name_span: Span = _span()


Stmt = Assign | If | ForAll | Assume | Choose | Skip | CallStmt


# ---- declarations ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConstDecl:
    name: str
    value: Expr
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class SetDecl:
    """``set NAME = expr`` in a variant: overrides a base constant."""

    name: str
    value: Expr
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class SortDecl:
    name: str
    size: Expr
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class EnumDecl:
    name: str
    members: tuple[str, ...]
    span: Span = _span()
    extend: bool = False  # ``extend enum E { ... }``: members a variant adds to a base's enum
    name_span: Span = _span()
    member_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VarDecl:
    name: str
    type: TypeExpr
    ghost: bool
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class LockDecl:
    """``spinlock fi_lock: Inst`` / ``mutex m``: a kernel lock, one or one per element of
    ``sort``; desugared by :mod:`fusever.locks` into a ``bool`` state variable, guards
    and generated properties.  ``may_end_held``: a run may end with it held."""

    kind: str  # "spinlock" | "mutex"
    name: str
    sort: str | None
    may_end_held: bool = False
    span: Span = _span()
    name_span: Span = _span()
    sort_span: Span = _span()


@dataclass(frozen=True, slots=True)
class InitDecl:
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: TypeExpr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Actor:
    """``by daemon(w)``: the label of who takes the step, and the parameter naming it."""

    label: str
    param: str | None
    span: Span = _span()
    param_span: Span = _span()  # the parameter's name in ``by label(param)``


@dataclass(frozen=True, slots=True)
class ActionDecl:
    name: str
    params: tuple[Param, ...]
    actor: Actor | None
    guard: Expr | None
    body: tuple[Stmt, ...]
    replace: bool = False
    description: str | None = None  # a template: {param} stands for the parameter's value
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class ExtendAction:
    """``extend action NAME when e`` in a variant: the base action's guard becomes
    ``(guard) && (e)``; its parameters, words, actor and body are kept."""

    name: str
    guard: Expr
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class ReplaceBody:
    """``replace action NAME { ... }`` in a variant (no parameter list): the base
    action's body is replaced; its parameters, words, actor and guard are kept."""

    name: str
    body: tuple[Stmt, ...]
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class PinDecl:
    """``pin def stale "3f9a0c2b71de"`` in a variant: the hash of the base's definition
    it replaces or extends, as it was when the variant was written (``fusever pin``)."""

    what: str  # "action" | "property" | "observe" | "def" | "proc"
    name: str
    digest: str
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class DefDecl:
    """``def stale(f: File): bool = expr``: a named expression, inlined at every call.
    ``params is None`` for ``def now: int = ...`` (used as a bare name)."""

    name: str
    params: tuple[Param, ...] | None
    result: TypeExpr
    body: Expr
    replace: bool = False
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class ProcDecl:
    """``proc take_seq(d: Fud) { ... }``: a named block, inlined where it is called."""

    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    replace: bool = False
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class PropertyDecl:
    kind: PropKind
    name: str
    expr: Expr
    description: str | None = None
    covers: str | None = None  # ``cover c for p``: the property this cover goal supports
    replace: bool = False
    span: Span = _span()
    name_span: Span = _span()
    covers_span: Span = _span()  # the name after ``for``


@dataclass(frozen=True, slots=True)
class ObserveDecl:
    """``observe name[f: File] "desc": expr``: what ``fusever diff`` compares, one value
    per element of the binders' sorts (a single value without binders)."""

    name: str
    binders: tuple[Binder, ...]
    expr: Expr
    description: str | None = None
    replace: bool = False
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class RemoveDecl:
    what: str  # "action" | "property" | "observe" | "def" | "proc"
    name: str
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class DepthDecl:
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ConfigDecl:
    """``config name "desc" { set N = e ... depth d }``: a named configuration,
    selected with ``--config name``; variants inherit their base's."""

    name: str
    description: str | None
    items: tuple[SetDecl | DepthDecl, ...]
    span: Span = _span()
    # ``merge name "desc" { ... }``: a step merge; the items give its unmerged form
    merge: bool = False
    name_span: Span = _span()


Decl = (
    ConstDecl
    | SetDecl
    | SortDecl
    | EnumDecl
    | VarDecl
    | LockDecl
    | InitDecl
    | ActionDecl
    | ExtendAction
    | ReplaceBody
    | PinDecl
    | DefDecl
    | ProcDecl
    | PropertyDecl
    | ObserveDecl
    | RemoveDecl
    | DepthDecl
    | ConfigDecl
)


@dataclass(frozen=True, slots=True)
class SpecFile:
    """One parsed file: a ``spec`` (``base is None``) or a ``variant`` of ``base``."""

    name: str
    base: str | None
    description: str | None
    decls: tuple[Decl, ...]
    path: str = field(default="", compare=False)
    span: Span = _span()
    base_span: Span = _span()  # the base's name in ``variant v of base``
    # the source text, kept for diagnostics (source lines under the caret)
    text: str = field(default="", compare=False, repr=False)
