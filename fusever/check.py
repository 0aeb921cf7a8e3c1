"""The check stage: syntax trees to a checked :class:`~fusever.ts.TransitionSystem`.

``check(files, overrides)`` resolves the spec ``files[0]`` against the specs it may
derive from (``files[1:]``), in four passes over explicit data (no global state):

1. **lineage**: follow ``variant v of b`` headers to the root spec (unknown base,
   ambiguous base and cycles are errors);
2. **expansion**: merge declarations from the root down to the variant (``set``,
   ``replace``, ``remove``, new declarations; clashes with the base are errors);
3. **constants**: ``--set`` overrides, then every constant folded to a value (lazily,
   so a constant may use any other; a cycle is an error);
4. **resolution**: types, state, init, actions and properties to :mod:`fusever.ts`,
   checking names, types and widths, ghost flow and primes.

Every problem is collected as a :class:`Diagnostic`; one :class:`SpecError` carries
them all, sorted by position.  An expression that failed to check becomes ``None``
and produces no further errors, so one mistake gives one message.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, assert_never

from fusever import syntax as s
from fusever import ts
from fusever.diagnostics import Diagnostic, Note, SpecError, did_you_mean
from fusever.parse import source_line

__all__ = ["DEFAULT_DEPTH", "MAX_SORT_SIZE", "MAX_WIDTH", "check", "parse_override"]

DEFAULT_DEPTH = 20
MAX_WIDTH = 4096
MAX_SORT_SIZE = 4096
COMMAND_LINE = "<command line>"
SUFFIX = ".fv"
BUILTIN_FUNCS = ("signed", "unsigned", "int")
_TEMPLATE_HOLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

_SIZED_NAME = re.compile(r"[ui][0-9]+")
_WORD = r"(?<![A-Za-z0-9_]){}(?![A-Za-z0-9_])"
_OVERRIDE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S.*?)?\s*")
_INT_VALUE = re.compile(r"-?(0x[0-9a-fA-F]+|[0-9]+)")

ConstValue = int | bool


# ---- diagnostics ---------------------------------------------------------------


class _Diags:
    """The diagnostics of one check, and the source texts their lines come from."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = dict(texts)
        self.items: list[Diagnostic] = []

    def _line(self, span: s.Span | None) -> str | None:
        if span is None or span.file not in self.texts:
            return None
        return source_line(self.texts[span.file], span.line)

    def note(self, span: s.Span | None, message: str) -> Note:
        return Note(span, message, self._line(span))

    def error(self, span: s.Span | None, message: str, notes: Iterable[Note] = ()) -> None:
        self.items.append(Diagnostic(span, message, self._line(span), tuple(notes)))

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(sorted_diagnostics(self.items))

    def name_span(self, span: s.Span, name: str, skip: int = 1) -> s.Span:
        """The span of ``name`` inside ``span``, after its first ``skip`` words (keywords)."""
        text = self.texts.get(span.file)
        if text is None or span.line < 1:
            return span
        start = _offset(text, span.line, span.col)
        for _ in range(skip):
            m = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*").match(text, start)
            if m is None:
                return span
            start = m.end()
        m = re.compile(_WORD.format(re.escape(name))).search(text, start)
        if m is None:
            return span
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        return s.Span(span.file, line, col, line, col + len(name))


def _offset(text: str, line: int, col: int) -> int:
    pos = 0
    for _ in range(line - 1):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return len(text)
        pos = nxt + 1
    return pos + col - 1


def sorted_diagnostics(ds: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics by position (located ones after those without a span), duplicates dropped."""
    unique = list(dict.fromkeys(ds))

    def key(d: Diagnostic) -> tuple[int, str, int, int]:
        if d.span is None:
            return (0, "", 0, 0)
        return (1, d.span.file, d.span.line, d.span.col)

    return sorted(unique, key=key)


def _ref_span(e: s.Ref) -> s.Span:
    """The name of a reference (without its prime and index)."""
    sp = e.span
    return s.Span(sp.file, sp.line, sp.col, sp.line, sp.col + len(e.name))


# ---- lineage and expansion --------------------------------------------------------


T = TypeVar("T")
_Named = TypeVar("_Named", s.ActionDecl, s.PropertyDecl, s.ObserveDecl)


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    decl: T
    origin: str  # the spec that declared (or last replaced) it
    span: s.Span  # the declared name


@dataclass(slots=True)
class _Merged:
    """A spec with its variants applied: what the resolution pass works from."""

    consts: dict[str, _Entry[s.Expr]]
    kinds: dict[str, tuple[str, s.Span, str]]  # global name -> (kind, span, origin)
    sorts: dict[str, _Entry[s.SortDecl]]
    enums: dict[str, _Entry[s.EnumDecl]]
    members: dict[str, str]  # enum member -> enum name
    vars: dict[str, _Entry[s.VarDecl]]
    inits: list[s.InitDecl]
    actions: dict[str, _Entry[s.ActionDecl]]
    properties: dict[str, _Entry[s.PropertyDecl]]
    depth: s.DepthDecl | None
    configs: dict[str, _Entry[s.ConfigDecl]] = dataclasses.field(default_factory=dict)
    observables: dict[str, _Entry[s.ObserveDecl]] = dataclasses.field(default_factory=dict)


def _lineage(files: Sequence[s.SpecFile], d: _Diags) -> list[s.SpecFile]:
    """``files[0]`` and its bases, the root spec last."""
    by_name: dict[str, list[s.SpecFile]] = {}
    for f in files:
        same = by_name.setdefault(f.name, [])
        if all(g.path != f.path for g in same):
            same.append(f)
    chain = [files[0]]
    while (base := chain[-1].base) is not None:
        here = chain[-1]
        where = d.name_span(here.span, base, skip=3) if here.span.line else None
        found = by_name.get(base, [])
        if not found:
            d.error(
                where,
                f"unknown base spec `{base}` of variant `{here.name}`" + did_you_mean(base, by_name),
                (Note(None, f"a base is looked up by its spec name among the {SUFFIX} files beside the variant and the files named"),),
            )
            break
        if len(found) > 1:
            d.error(
                where,
                f"base spec `{base}` is defined in more than one file: "
                + ", ".join(f.path for f in found),
            )
            break
        nxt = found[0]
        if any(c.name == nxt.name for c in chain):
            names = [c.name for c in chain] + [nxt.name]
            d.error(where, "variant cycle: " + " -> ".join(f"`{n}`" for n in names))
            break
        chain.append(nxt)
    d.raise_if_any()
    return chain


def _expand(chain: Sequence[s.SpecFile], d: _Diags) -> _Merged:
    m = _Merged({}, {}, {}, {}, {}, {}, [], {}, {}, None)
    for f in reversed(chain):
        _expand_file(f, m, d)
    return m


def _first_here(d: _Diags, span: s.Span) -> tuple[Note, ...]:
    return (d.note(span, "first defined here"),)


def _expand_file(f: s.SpecFile, m: _Merged, d: _Diags) -> None:
    variant = f.base is not None
    depth_here: s.DepthDecl | None = None

    def claim(name: str, kind: str, span: s.Span) -> bool:
        """Enter a global name; False (and an error) when it is already taken."""
        if kind in ("sort", "enum") and _is_builtin_type(name):
            d.error(span, f"`{name}` is a built-in type name; choose another name for this {kind}")
            return False
        if name in m.kinds:
            old_kind, old_span, origin = m.kinds[name]
            if origin != f.name:
                hint = (
                    f"; write `set {name} = ...` to change its value"
                    if old_kind == "constant" and kind == "constant"
                    else ""
                )
                d.error(
                    span,
                    f"`{name}` is already defined in base `{origin}` (as a {old_kind}){hint}",
                    (d.note(old_span, f"`{name}` is defined here"),),
                )
            elif old_kind == kind:
                d.error(span, f"duplicate {kind} `{name}`", _first_here(d, old_span))
            else:
                d.error(
                    span,
                    f"`{name}` is already defined (as a {old_kind})",
                    _first_here(d, old_span),
                )
            return False
        m.kinds[name] = (kind, span, f.name)
        return True

    for decl in f.decls:
        match decl:
            case s.ConstDecl(name=name, value=value, span=span):
                at = d.name_span(span, name)
                if claim(name, "constant", at):
                    m.consts[name] = _Entry(value, f.name, at)
            case s.SetDecl(name=name, value=value, span=span):
                at = d.name_span(span, name)
                if not variant:
                    d.error(at, f"`set` overrides a base constant, and spec `{f.name}` is not a variant; write `const {name} = ...`")
                elif name not in m.consts:
                    d.error(
                        at,
                        f"base `{f.base}` has no constant `{name}` to set"
                        + did_you_mean(name, m.consts),
                    )
                elif m.consts[name].origin == f.name:
                    d.error(
                        at,
                        f"`{name}` is set more than once"
                        if m.kinds[name][2] != f.name
                        else f"`{name}` is declared in this variant; change its value there",
                        _first_here(d, m.consts[name].span),
                    )
                else:
                    m.consts[name] = _Entry(value, f.name, at)
            case s.SortDecl(name=name, span=span):
                at = d.name_span(span, name)
                if claim(name, "sort", at):
                    m.sorts[name] = _Entry(decl, f.name, at)
            case s.EnumDecl(name=name, members=members, span=span):
                at = d.name_span(span, name)
                if claim(name, "enum", at):
                    m.enums[name] = _Entry(decl, f.name, at)
                    for member in members:
                        mspan = d.name_span(span, member, skip=2)
                        if claim(member, "enum member", mspan):
                            m.members[member] = name
            case s.VarDecl(name=name, ghost=ghost, span=span):
                at = d.name_span(span, name)
                if claim(name, "ghost variable" if ghost else "state variable", at):
                    m.vars[name] = _Entry(decl, f.name, at)
            case s.InitDecl():
                m.inits.append(decl)
            case s.ActionDecl(name=name, replace=replace, span=span):
                at = d.name_span(span, name, skip=2 if replace else 1)
                _merge_named(m.actions, "action", "action", decl, name, replace, at, f, d)
            case s.PropertyDecl(name=name, replace=replace, kind=kind, span=span):
                at = d.name_span(span, name, skip=2 if replace else 1)
                _merge_named(m.properties, "property", kind.value, decl, name, replace, at, f, d)
            case s.ObserveDecl(name=name, replace=replace, span=span):
                at = d.name_span(span, name, skip=2 if replace else 1)
                _merge_named(m.observables, "observable", "observe", decl, name, replace, at, f, d)
            case s.RemoveDecl(what=what, name=name, span=span):
                at = d.name_span(span, name, skip=2)
                table: (
                    dict[str, _Entry[s.ActionDecl]]
                    | dict[str, _Entry[s.PropertyDecl]]
                    | dict[str, _Entry[s.ObserveDecl]]
                )
                table = (
                    m.actions
                    if what == "action"
                    else m.observables
                    if what == "observe"
                    else m.properties
                )
                if not variant:
                    d.error(at, f"`remove` is only allowed in a variant; spec `{f.name}` has no base")
                elif name not in table or table[name].origin == f.name:
                    d.error(
                        at,
                        f"base `{f.base}` has no {'observable' if what == 'observe' else what} `{name}` to remove"
                        + did_you_mean(name, [k for k, v in table.items() if v.origin != f.name]),
                    )
                else:
                    del table[name]
            case s.ConfigDecl(name=name, span=span):
                at = d.name_span(span, name)
                old_config = m.configs.get(name)
                if old_config is None:
                    m.configs[name] = _Entry(decl, f.name, at)
                elif old_config.origin != f.name:
                    d.error(
                        at,
                        f"configuration `{name}` is already defined in base `{old_config.origin}`; name this one differently",
                        (d.note(old_config.span, f"`{name}` is defined here"),),
                    )
                else:
                    d.error(at, f"duplicate configuration `{name}`", _first_here(d, old_config.span))
            case s.DepthDecl(span=span):
                if depth_here is not None:
                    d.error(span, "duplicate `depth`", _first_here(d, depth_here.span))
                else:
                    depth_here = decl
                    m.depth = decl
            case _:
                assert_never(decl)


def _merge_named(
    table: dict[str, _Entry[_Named]],
    what: str,
    keyword: str,
    decl: _Named,
    name: str,
    replace: bool,
    at: s.Span,
    f: s.SpecFile,
    d: _Diags,
) -> None:
    old = table.get(name)
    if replace and f.base is None:
        d.error(at, f"`replace` is only allowed in a variant; spec `{f.name}` has no base")
        replace = False  # check it as a new declaration
    if replace:
        if old is not None and old.origin == f.name:
            d.error(at, f"duplicate {what} `{name}`", _first_here(d, old.span))
        elif old is None:
            d.error(
                at,
                f"base `{f.base}` has no {what} `{name}` to replace"
                + did_you_mean(name, [k for k, v in table.items() if v.origin != f.name]),
            )
        else:
            table[name] = _Entry(decl, f.name, at)
        return
    if old is None:
        table[name] = _Entry(decl, f.name, at)
    elif old.origin != f.name:
        d.error(
            at,
            f"{what} `{name}` is already defined in base `{old.origin}`; write `replace {keyword} {name}`",
            (d.note(old.span, f"`{name}` is defined here"),),
        )
    else:
        d.error(at, f"duplicate {what} `{name}`", _first_here(d, old.span))


def _is_builtin_type(name: str) -> bool:
    return name in ("bool", "int") or _SIZED_NAME.fullmatch(name) is not None


# ---- --set overrides ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Override:
    """One ``--set NAME=VALUE`` argument, parsed."""

    name: str
    value: ConstValue
    text: str  # the argument as given
    name_span: s.Span
    value_span: s.Span


def parse_override(text: str) -> Override | Diagnostic:
    """``NAME=VALUE`` with VALUE a decimal or hex integer, ``true`` or ``false``."""

    def at(start: int, end: int) -> s.Span:
        return s.Span(COMMAND_LINE, 1, start + 1, 1, max(end, start + 1) + 1)

    m = _OVERRIDE.fullmatch(text)
    if m is None:
        return Diagnostic(
            at(0, len(text)),
            f"--set expects NAME=VALUE, not `{text}`",
            text,
        )
    name = m.group(1)
    name_span = at(m.start(1), m.end(1))
    raw = m.group(2)
    if raw is None:
        return Diagnostic(at(len(text), len(text)), f"--set {name}= needs a value", text)
    value_span = at(m.start(2), m.end(2))
    value: ConstValue
    if raw in ("true", "false"):
        value = raw == "true"
    elif _INT_VALUE.fullmatch(raw):
        neg = raw.startswith("-")
        digits = raw[1:] if neg else raw
        value = int(digits, 16) if digits.startswith("0x") else int(digits, 10)
        value = -value if neg else value
    else:
        return Diagnostic(
            value_span,
            f"--set value `{raw}` is not a number or true/false",
            text,
        )
    return Override(name, value, text, name_span, value_span)


def _type_name(v: ConstValue) -> str:
    return "bool" if isinstance(v, bool) else "int"


# ---- constants ---------------------------------------------------------------------


class _Consts:
    """Constants folded on demand, so a constant may use any other (cycles are errors)."""

    def __init__(self, m: _Merged, d: _Diags, fixed: Mapping[str, ConstValue]) -> None:
        self.m = m
        self.d = d
        self.values: dict[str, ConstValue | None] = dict(fixed)
        self.active: list[str] = []

    def get(self, name: str) -> ConstValue | None:
        if name in self.values:
            return self.values[name]
        entry = self.m.consts[name]
        if name in self.active:
            cycle = [*self.active[self.active.index(name) :], name]
            self.d.error(
                entry.span,
                "constant defined in terms of itself: " + " -> ".join(f"`{n}`" for n in cycle),
            )
            for n in cycle:
                self.values[n] = None
            return None
        self.active.append(name)
        value = self.eval(entry.decl)
        self.active.pop()
        self.values.setdefault(name, value)
        return self.values[name]

    def eval(self, e: s.Expr) -> ConstValue | None:
        """Fold a constant expression: literals, constants, operators, if-then-else."""
        d = self.d
        match e:
            case s.Number(value=v):
                return v
            case s.Bool(value=v):
                return v
            case s.Ref(name=name, primed=primed, args=args, span=span):
                if name not in self.m.consts:
                    if name in self.m.kinds:
                        kind = self.m.kinds[name][0]
                        d.error(_ref_span(e), f"a constant expression cannot use {kind} `{name}`")
                    else:
                        d.error(
                            _ref_span(e),
                            f"unknown constant `{name}`" + did_you_mean(name, self.m.consts),
                        )
                    return None
                if primed or args:
                    d.error(span, f"constant `{name}` cannot be primed or indexed")
                    return None
                return self.get(name)
            case s.Unary(op=op, arg=arg, span=span):
                u = self.eval(arg)
                if u is None:
                    return None
                match op:
                    case s.UnOp.NOT:
                        if not isinstance(u, bool):
                            d.error(span, "`!` needs a bool, found int")
                            return None
                        return not u
                    case s.UnOp.NEG:
                        if isinstance(u, bool):
                            d.error(span, "`-` needs a number, found bool")
                            return None
                        return -u
                    case _:
                        assert_never(op)
            case s.Binary(op=op, lhs=lhs, rhs=rhs, span=span):
                a, b = self.eval(lhs), self.eval(rhs)
                if a is None or b is None:
                    return None
                return self._binary(op, a, b, span)
            case s.Ite(cond=c, then=t, else_=f, span=span):
                cv, tv, fv = self.eval(c), self.eval(t), self.eval(f)
                if cv is None or tv is None or fv is None:
                    return None
                if not isinstance(cv, bool):
                    d.error(c.span, "condition must be bool, found int")
                    return None
                if _type_name(tv) != _type_name(fv):
                    d.error(span, f"type mismatch: {_type_name(tv)} and {_type_name(fv)}")
                    return None
                return tv if cv else fv
            case s.Quant(span=span):
                d.error(span, "a constant expression cannot use a quantifier")
                return None
            case s.Call(func=func, span=span):
                d.error(span, f"a constant expression cannot call `{func}`")
                return None
            case _:
                assert_never(e)

    def _binary(self, op: s.BinOp, a: ConstValue, b: ConstValue, span: s.Span) -> ConstValue | None:
        ta, tb = _type_name(a), _type_name(b)
        logical = op in (s.BinOp.AND, s.BinOp.OR, s.BinOp.IMPLIES)
        equality = op in (s.BinOp.EQ, s.BinOp.NE)
        if ta != tb:
            self.d.error(span, f"type mismatch: {ta} and {tb}")
            return None
        if logical and ta != "bool":
            self.d.error(span, f"`{op.value}` needs bool operands, found {ta}")
            return None
        if not logical and not equality and ta != "int":
            self.d.error(span, f"`{op.value}` needs int operands, found {ta}")
            return None
        match op:
            case s.BinOp.IMPLIES:
                return (not a) or b
            case s.BinOp.OR:
                return a or b
            case s.BinOp.AND:
                return a and b
            case s.BinOp.EQ:
                return a == b
            case s.BinOp.NE:
                return a != b
            case s.BinOp.LT:
                return a < b
            case s.BinOp.LE:
                return a <= b
            case s.BinOp.GT:
                return a > b
            case s.BinOp.GE:
                return a >= b
            case s.BinOp.ADD:
                return int(a) + int(b)
            case s.BinOp.SUB:
                return int(a) - int(b)
            case s.BinOp.MUL:
                return int(a) * int(b)
            case _:
                assert_never(op)

    def int_value(self, e: s.Expr, what: str) -> int | None:
        v = self.eval(e)
        if v is None:
            return None
        if isinstance(v, bool):
            self.d.error(e.span, f"{what} must be an int constant, found bool")
            return None
        return v


# ---- resolution: names and types ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Where an expression is checked."""

    locals: Mapping[str, ts.Type]
    state: bool  # may read state variables
    primes: bool  # may read primed state (transition properties and cover goals)
    no_state: str = ""  # why state may not be read here
    broken: frozenset[str] = frozenset()  # locals whose declaration had an error
    reserved: frozenset[str] = frozenset()  # chosen values, in scope in the action's guard

    def bind(self, name: str, t: ts.Type) -> _Ctx:
        return dataclasses.replace(self, locals={**self.locals, name: t})

    def bind_broken(self, name: str) -> _Ctx:
        """A local whose declaration failed: uses of it are silent, not unknown names."""
        return dataclasses.replace(self, broken=self.broken | {name})


def _int_hint(a: ts.Type, b: ts.Type) -> str:
    if {type(a), type(b)} == {ts.BitVecType, ts.IntType}:
        return "; int(e) reads a bit-vector as an int"
    return ""


def _fits(v: int, t: ts.Type) -> str | None:
    """Why the literal ``v`` is not a value of ``t``; None when it is."""
    match t:
        case ts.BitVecType(width=w, signed=False):
            if 0 <= v < 2**w:
                return None
            return f"{v} does not fit in {t} (0 .. {2**w - 1})"
        case ts.BitVecType(width=w, signed=True):
            if -(2 ** (w - 1)) <= v < 2 ** (w - 1):
                return None
            return f"{v} does not fit in {t} ({-(2 ** (w - 1))} .. {2 ** (w - 1) - 1})"
        case ts.SortType(size=n):
            if 0 <= v < n:
                return None
            return f"{v} is not an element of sort {t} (0 .. {n - 1})"
        case _:
            return None


class _Resolver:
    def __init__(self, m: _Merged, consts: _Consts, d: _Diags) -> None:
        self.m = m
        self.c = consts
        self.d = d
        self.sorts: dict[str, ts.SortType] = {}
        self.enums: dict[str, ts.EnumType] = {}
        self.vars: dict[str, ts.StateVar] = {}
        self.fresh = 0

    # ---- types
    def finite(self, name: str, span: s.Span) -> ts.FiniteType | None:
        if name == "bool":
            return ts.BOOL
        if name in self.sorts:
            return self.sorts[name]
        if name in self.enums:
            return self.enums[name]
        if name in self.m.sorts or name in self.m.enums:
            return None  # its declaration already has an error
        if name == "int" or _SIZED_NAME.fullmatch(name):
            self.d.error(span, f"`{name}` is not finite: only a sort, an enum or bool can be ranged over here")
            return None
        candidates = ["bool", *self.m.sorts, *self.m.enums]
        self.d.error(span, f"unknown sort `{name}`" + did_you_mean(name, candidates))
        return None

    def value_type(self, t: s.TypeExpr) -> ts.Type | None:
        d = self.d
        match t:
            case s.NamedType(name=name, span=span):
                if name == "bool":
                    return ts.BOOL
                if name == "int":
                    return ts.INT
                if _SIZED_NAME.fullmatch(name):
                    return self._bitvec(name[0], int(name[1:]), span)
                if name in self.sorts:
                    return self.sorts[name]
                if name in self.enums:
                    return self.enums[name]
                if name in self.m.sorts or name in self.m.enums:
                    return None
                if name in self.m.kinds:
                    d.error(span, f"`{name}` is a {self.m.kinds[name][0]}, not a type")
                    return None
                candidates = ["bool", "int", "u8", "u16", "u32", "u64", *self.m.sorts, *self.m.enums]
                d.error(span, f"unknown type `{name}`" + did_you_mean(name, candidates))
                return None
            case s.SizedType(name=name, width=width, span=span):
                if name not in ("u", "i"):
                    d.error(span, f"`{name}<...>` is not a type; write u<W> (unsigned) or i<W> (signed)")
                    return None
                if isinstance(width, int):
                    return self._bitvec(name, width, span)
                if width not in self.m.consts:
                    d.error(span, f"unknown constant `{width}`" + did_you_mean(width, self.m.consts))
                    return None
                w = self.c.get(width)
                if w is None:
                    return None
                if isinstance(w, bool):
                    d.error(span, f"the width `{width}` must be an int constant, found bool")
                    return None
                return self._bitvec(name, w, span)
            case s.MapType(span=span):
                d.error(span, "a map type is only allowed for a state variable")
                return None
            case _:
                assert_never(t)

    def _bitvec(self, kind: str, width: int, span: s.Span) -> ts.BitVecType | None:
        if not 1 <= width <= MAX_WIDTH:
            self.d.error(span, f"bit width must be between 1 and {MAX_WIDTH}, not {width}")
            return None
        return ts.BitVecType(width, signed=kind == "i")

    def var_type(self, t: s.TypeExpr) -> tuple[tuple[ts.Type, ...], ts.Type] | None:
        match t:
            case s.MapType(index=index, value=value):
                idx: list[ts.Type] = []
                ok = True
                for it in index:
                    r = self.value_type(it)
                    if r is None:
                        ok = False
                    elif not ts.is_finite(r):
                        self.d.error(
                            it.span,
                            f"a map index must be finite (a sort, an enum or bool), not {r}",
                        )
                        ok = False
                    else:
                        idx.append(r)
                v = self.value_type(value)
                if not ok or v is None:
                    return None
                return tuple(idx), v
            case s.NamedType() | s.SizedType():
                v = self.value_type(t)
                return None if v is None else ((), v)
            case _:
                assert_never(t)

    # ---- names
    def visible(self, ctx: _Ctx) -> list[str]:
        return [*ctx.locals, *self.m.vars, *self.m.consts, *self.m.members]

    def check_local(self, name: str, span: s.Span, ctx: _Ctx) -> bool:
        """A new local must not shadow a global or another local in scope."""
        if name in ctx.locals:
            self.d.error(span, f"`{name}` shadows another local of the same name; rename one")
            return False
        if name in ctx.reserved:
            self.d.error(span, f"`{name}` shadows the chosen value `{name}` of this action; rename one")
            return False
        if name in self.m.kinds:
            kind, _, _ = self.m.kinds[name]
            self.d.error(span, f"`{name}` shadows the {kind} `{name}`; choose another name")
            return False
        return True

    def fresh_local(self, base: str) -> str:
        """A loop variable no spec can name (``#`` is not in the NAME alphabet)."""
        self.fresh += 1
        return f"{base}#{self.fresh}"

    # ---- expressions
    def flexible(self, e: s.Expr, ctx: _Ctx) -> bool:
        """An int-valued constant expression: it takes the type its context asks for."""
        match e:
            case s.Number():
                return True
            case s.Ref(name=name, primed=False, args=()):
                if name in ctx.locals or name not in self.m.consts:
                    return False
                return not isinstance(self.c.get(name), bool)
            case s.Unary(op=s.UnOp.NEG, arg=arg):
                return self.flexible(arg, ctx)
            case s.Binary(op=s.BinOp.ADD | s.BinOp.SUB | s.BinOp.MUL, lhs=lhs, rhs=rhs):
                return self.flexible(lhs, ctx) and self.flexible(rhs, ctx)
            case _:
                return False

    def literal(self, e: s.Expr, hint: ts.Type | None) -> ts.Lit | None:
        v = self.c.eval(e)
        if v is None:
            return None
        assert not isinstance(v, bool)
        if hint is None or not isinstance(hint, ts.BitVecType | ts.SortType | ts.IntType):
            return ts.Lit(v, ts.INT, e.span)
        why = _fits(v, hint)
        if why is not None:
            self.d.error(e.span, why)
            return None
        if isinstance(hint, ts.BitVecType):
            v %= 2**hint.width  # two's complement bits
        return ts.Lit(v, hint, e.span)

    def expr(self, e: s.Expr, ctx: _Ctx, hint: ts.Type | None = None) -> ts.Expr | None:
        d = self.d
        if self.flexible(e, ctx):
            return self.literal(e, hint)
        match e:
            case s.Number():  # pragma: no cover - numbers are flexible
                raise AssertionError("unreachable")
            case s.Bool(value=v, span=span):
                return ts.Lit(v, ts.BOOL, span)
            case s.Ref():
                return self.ref(e, ctx)
            case s.Unary(op=op, arg=arg, span=span):
                a = self.expr(arg, ctx, ts.BOOL if op is s.UnOp.NOT else hint)
                if a is None:
                    return None
                match op:
                    case s.UnOp.NOT:
                        if a.type != ts.BOOL:
                            d.error(span, f"`!` needs a bool, found {a.type}")
                            return None
                    case s.UnOp.NEG:
                        if not isinstance(a.type, ts.BitVecType | ts.IntType):
                            d.error(span, f"`-` needs a number (u<W>, i<W> or int), found {a.type}")
                            return None
                    case _:
                        assert_never(op)
                return ts.Unary(op, a, a.type, span)
            case s.Binary():
                return self.binary(e, ctx, hint)
            case s.Ite(cond=c, then=t, else_=f, span=span):
                cond = self.cond(c, ctx)
                pair = self.pair(t, f, ctx, hint)
                if cond is None or pair is None:
                    return None
                a, b = pair
                if a.type != b.type:
                    d.error(span, f"type mismatch: {a.type} and {b.type}")
                    return None
                return ts.Ite(cond, a, b, a.type, span)
            case s.Quant(quantifier=q, binders=binders, body=body, span=span):
                inner = ctx
                bound: list[tuple[str, ts.FiniteType]] = []
                for binder in binders:
                    fresh = self.check_local(binder.name, binder.span, inner)
                    bt = self.finite(binder.sort, binder.span)
                    if bt is None or not fresh:
                        return None
                    inner = inner.bind(binder.name, bt)
                    bound.append((binder.name, bt))
                out = self.cond(body, inner)
                if out is None:
                    return None
                for bname, btype in reversed(bound):
                    out = ts.Quant(q, bname, btype, out, ts.BOOL, span)
                return out
            case s.Call(func=func, args=args, span=span):
                if func not in BUILTIN_FUNCS:
                    d.error(
                        span,
                        f"unknown function `{func}`" + did_you_mean(func, BUILTIN_FUNCS)
                        + "; the built-ins are signed(e), unsigned(e) and int(e)",
                    )
                    return None
                if len(args) != 1:
                    d.error(span, f"`{func}` takes one argument, not {len(args)}")
                    return None
                a = self.expr(args[0], ctx)
                if a is None:
                    return None
                if not isinstance(a.type, ts.BitVecType):
                    d.error(span, f"`{func}` needs a bit-vector argument (u<W> or i<W>), found {a.type}")
                    return None
                match func:
                    case "signed":
                        return ts.Cast(a, ts.BitVecType(a.type.width, True), span)
                    case "unsigned":
                        return ts.Cast(a, ts.BitVecType(a.type.width, False), span)
                    case _:
                        return ts.Cast(a, ts.INT, span)
            case _:
                assert_never(e)

    def pair(
        self, lhs: s.Expr, rhs: s.Expr, ctx: _Ctx, hint: ts.Type | None
    ) -> tuple[ts.Expr, ts.Expr] | None:
        """Two operands that must agree: the one that fixes a type is checked first."""
        if self.flexible(lhs, ctx) and not self.flexible(rhs, ctx):
            b = self.expr(rhs, ctx, hint)
            a = self.expr(lhs, ctx, b.type if b is not None else hint)
        else:
            a = self.expr(lhs, ctx, hint)
            b = self.expr(rhs, ctx, a.type if a is not None else hint)
        if a is None or b is None:
            return None
        return a, b

    def binary(self, e: s.Binary, ctx: _Ctx, hint: ts.Type | None) -> ts.Expr | None:
        d = self.d
        op, span = e.op, e.span
        if op in (s.BinOp.AND, s.BinOp.OR, s.BinOp.IMPLIES):
            a, b = self.expr(e.lhs, ctx, ts.BOOL), self.expr(e.rhs, ctx, ts.BOOL)
            if a is None or b is None:
                return None
            for x in (a, b):
                if x.type != ts.BOOL:
                    d.error(x.span, f"`{op.value}` needs bool operands, found {x.type}")
                    return None
            return ts.Binary(op, a, b, ts.BOOL, span)
        arith = op in (s.BinOp.ADD, s.BinOp.SUB, s.BinOp.MUL)
        pair = self.pair(e.lhs, e.rhs, ctx, hint if arith else None)
        if pair is None:
            return None
        a, b = pair
        if a.type != b.type:
            d.error(span, f"type mismatch: {a.type} and {b.type}" + _int_hint(a.type, b.type))
            return None
        t = a.type
        if op in (s.BinOp.EQ, s.BinOp.NE):
            return ts.Binary(op, a, b, ts.BOOL, span)
        # sort elements are ordered (0 .. size-1), so a spec can break the symmetry of
        # identical actors; they have no arithmetic
        if not isinstance(t, ts.BitVecType | ts.IntType) and (arith or not isinstance(t, ts.SortType)):
            wanted = "numbers (u<W>, i<W> or int)" if arith else "numbers or sort elements"
            d.error(span, f"`{op.value}` needs {wanted}, found {t}")
            return None
        return ts.Binary(op, a, b, t if arith else ts.BOOL, span)

    def cond(self, e: s.Expr, ctx: _Ctx, what: str = "condition") -> ts.Expr | None:
        x = self.expr(e, ctx, ts.BOOL)
        if x is None:
            return None
        if x.type != ts.BOOL:
            self.d.error(e.span, f"{what} must be bool, found {x.type}")
            return None
        return x

    def typed(self, e: s.Expr, ctx: _Ctx, t: ts.Type, what: Callable[[ts.Type], str]) -> ts.Expr | None:
        x = self.expr(e, ctx, t)
        if x is None:
            return None
        if x.type != t:
            self.d.error(e.span, what(x.type))
            return None
        return x

    def ref(self, e: s.Ref, ctx: _Ctx) -> ts.Expr | None:
        d = self.d
        name, at = e.name, _ref_span(e)
        if name in ctx.broken and name not in ctx.locals:
            return None
        if name in ctx.locals:
            if e.primed or e.args:
                d.error(e.span, f"`{name}` is a local value; it cannot be primed or indexed")
                return None
            return ts.Local(name, ctx.locals[name], e.span)
        if name in self.m.vars:
            if not ctx.state:
                d.error(at, ctx.no_state.format(name=name))
                return None
            if e.primed and not ctx.primes:
                d.error(
                    e.span,
                    f"primed `{name}'` is only allowed in transition properties and cover goals",
                )
                return None
            v = self.vars.get(name)
            if v is None:
                return None  # its declaration has an error
            args = self.indices(v, e.args, e.span, ctx)
            if args is None:
                return None
            return ts.Var(name, args, v.type, e.primed, e.span)
        if name in self.m.consts or name in self.m.members:
            if e.primed or e.args:
                d.error(e.span, f"`{name}` is a constant; it cannot be primed or indexed")
                return None
            if name in self.m.members:
                enum = self.enums.get(self.m.members[name])
                return None if enum is None else ts.Lit(name, enum, e.span)
            v2 = self.c.get(name)
            if v2 is None:
                return None
            return ts.Lit(v2, ts.BOOL if isinstance(v2, bool) else ts.INT, e.span)
        if name in self.m.kinds:
            d.error(at, f"`{name}` is a {self.m.kinds[name][0]}, not a value")
            return None
        d.error(at, f"unknown name `{name}`" + did_you_mean(name, self.visible(ctx)))
        return None

    def indices(
        self, v: ts.StateVar, args: Sequence[s.Expr], span: s.Span, ctx: _Ctx
    ) -> tuple[ts.Expr, ...] | None:
        if len(args) != len(v.index):
            if not v.index:
                self.d.error(span, f"`{v.name}` is not a map; it takes no index")
            else:
                over = ", ".join(str(t) for t in v.index)
                self.d.error(
                    span,
                    f"`{v.name}` is a map over ({over}): it needs {len(v.index)} "
                    f"index{'es' if len(v.index) > 1 else ''}, not {len(args)}",
                )
            return None
        out: list[ts.Expr] = []
        for a, t in zip(args, v.index, strict=True):
            x = self.typed(a, ctx, t, functools.partial(_index_mismatch, v.name, t))
            if x is None:
                return None
            out.append(x)
        return tuple(out)


def _index_mismatch(name: str, want: ts.Type, found: ts.Type) -> str:
    return f"type mismatch: `{name}` is indexed by {want}, not {found}"


# ---- resolution: statements -----------------------------------------------------------


def _ghost_read(e: ts.Expr, ghosts: Mapping[str, ts.StateVar]) -> ts.Var | None:
    for x in ts.walk(e):
        if isinstance(x, ts.Var) and x.name in ghosts and ghosts[x.name].ghost:
            return x
    return None


def _state_read(e: ts.Expr, kernel: bool, vars_: Mapping[str, ts.StateVar]) -> ts.Var | None:
    for x in ts.walk(e):
        if isinstance(x, ts.Var) and x.name in vars_ and vars_[x.name].ghost != kernel:
            return x
    return None


@dataclass(frozen=True, slots=True)
class _Flow:
    """Statement context: init or an action, and the first ghost read in enclosing conditions."""

    init: bool
    ghost_cond: tuple[ts.Var, s.Span] | None = None


class _Stmts:
    def __init__(self, r: _Resolver) -> None:
        self.r = r
        self.d = r.d

    def block(self, body: Sequence[s.Stmt], ctx: _Ctx, flow: _Flow) -> tuple[ts.Stmt, ...]:
        out: list[ts.Stmt] = []
        for st in body:
            out.extend(self.stmt(st, ctx, flow))
        return tuple(out)

    def stmt(self, st: s.Stmt, ctx: _Ctx, flow: _Flow) -> Iterator[ts.Stmt]:
        d, r = self.d, self.r
        match st:
            case s.Assign():
                yield from self.assign(st, ctx, flow)
            case s.If(cond=c, then=then, else_=else_, span=span):
                cond = r.cond(c, ctx, "`if` condition")
                inner = self.guarded(cond, c.span, flow)
                a = self.block(then, ctx, inner)
                b = self.block(else_, ctx, inner)
                if cond is not None:
                    yield ts.If(cond, a, b, span)
            case s.ForAll(var=var, sort=sort, where=where, body=body, span=span):
                t = r.finite(sort, d.name_span(span, sort, skip=4))
                ok = r.check_local(var, d.name_span(span, var, skip=2), ctx)
                if t is None or not ok:
                    return
                inner_ctx = ctx.bind(var, t)
                w = None if where is None else r.cond(where, inner_ctx, "`where` condition")
                inner = self.guarded(w, where.span if where is not None else span, flow)
                b = self.block(body, inner_ctx, inner)
                if where is not None and w is None:
                    return
                yield ts.ForAll(var, t, w, b, span)
            case s.Assume(cond=c, span=span):
                if not flow.init:
                    d.error(span, "`assume` is only allowed in init; put the condition in the action's `when` guard")
                    return
                x = r.cond(c, dataclasses.replace(ctx, state=True), "`assume` condition")
                if x is None:
                    return
                g = _ghost_read(x, r.vars)
                k = _state_read(x, True, r.vars)
                if g is not None and k is not None:
                    d.error(
                        g.span,
                        f"ghost state `{g.name}` flows into kernel state `{k.name}` through this `assume`",
                    )
                    return
                yield ts.Assume(x, span)
            case s.Choose(span=span):
                if flow.init:
                    d.error(span, "`choose` is only allowed in an action body; in init write `x := any`")
                else:
                    d.error(span, "`choose` must come first in the action body, before any other statement")
            case s.Skip():
                return
            case _:
                assert_never(st)

    def guarded(self, cond: ts.Expr | None, span: s.Span, flow: _Flow) -> _Flow:
        if cond is None or flow.ghost_cond is not None:
            return flow
        g = _ghost_read(cond, self.r.vars)
        return flow if g is None else dataclasses.replace(flow, ghost_cond=(g, g.span))

    def assign(self, st: s.Assign, ctx: _Ctx, flow: _Flow) -> Iterator[ts.Stmt]:
        d, r = self.d, self.r
        at = s.Span(st.span.file, st.span.line, st.span.col, st.span.line, st.span.col + len(st.name))
        v = r.vars.get(st.name)
        if v is None:
            if st.name in r.m.vars:
                return  # the declaration has an error
            if st.name in ctx.locals:
                d.error(at, f"cannot assign to `{st.name}`: it is a local value, not state")
            elif st.name in r.m.kinds:
                d.error(at, f"cannot assign to the {r.m.kinds[st.name][0]} `{st.name}`; only state variables can be assigned")
            else:
                d.error(at, f"unknown state variable `{st.name}`" + did_you_mean(st.name, r.m.vars))
            return
        whole = not st.args and bool(v.index)
        args: tuple[ts.Expr, ...] | None = ()
        if not whole:
            args = r.indices(v, st.args, at, ctx)
        value: ts.Expr | None
        if isinstance(st.value, s.Any):
            if not flow.init:
                d.error(st.value.span, "`any` is only allowed in init; in an action write `choose v: T` first")
                return
            value = None
        else:
            value = r.typed(
                st.value, ctx, v.type,
                lambda found: f"type mismatch: cannot assign {found} to `{v.name}` of type {v.type}",
            )
            if value is None:
                return
        if args is None:
            return
        if not v.ghost:
            for x in (*args, *(() if value is None else (value,))):
                g = _ghost_read(x, r.vars)
                if g is not None:
                    d.error(g.span, f"ghost state `{g.name}` flows into kernel state `{v.name}`")
                    return
            if flow.ghost_cond is not None:
                g, gspan = flow.ghost_cond
                d.error(
                    at,
                    f"ghost state `{g.name}` flows into kernel state `{v.name}` through an enclosing condition",
                    (d.note(gspan, f"`{g.name}` is read here"),),
                )
                return
        if not whole:
            yield ts.Assign(v.name, args, value, st.span)
            return
        # ``m := e`` on a map: every location, as nested loops over its index sorts
        names = [r.fresh_local(v.name) for _ in v.index]
        stmt: ts.Stmt = ts.Assign(
            v.name, tuple(ts.Local(n, t, st.span) for n, t in zip(names, v.index, strict=True)), value, st.span
        )
        for n, t in reversed(list(zip(names, v.index, strict=True))):
            assert ts.is_finite(t)
            stmt = ts.ForAll(n, t, None, (stmt,), st.span)
        yield stmt


# ---- the whole check ------------------------------------------------------------------


def check(
    files: Sequence[s.SpecFile], overrides: Sequence[str] = (), config: str | None = None
) -> ts.TransitionSystem:
    """Check ``files[0]``; ``files[1:]`` are the specs its base chain may come from.

    ``config`` names a configuration (``--config``) whose ``set``s and depth apply
    over the spec's own; ``overrides`` are ``--set`` arguments as given
    (``"NAME=VALUE"``) and apply last.  Raises :class:`SpecError` with every
    problem found.
    """
    assert files, "check needs a spec"
    d = _Diags({f.path: f.text for f in files})
    chain = _lineage(files, d)
    m = _expand(chain, d)
    target = chain[0]
    _apply_config(m, config, target.name, d)

    # ---- constants and overrides
    fixed: dict[str, ConstValue] = {}
    probe = _Consts(m, _Diags({}), {})
    for raw in overrides:
        o = parse_override(raw)
        if isinstance(o, Diagnostic):
            d.items.append(o)
            continue
        if o.name not in m.consts:
            where = f" in spec `{target.name}`"
            d.items.append(
                Diagnostic(
                    o.name_span,
                    f"--set: unknown constant `{o.name}`{where}" + did_you_mean(o.name, m.consts),
                    o.text,
                )
            )
            continue
        old = probe.get(o.name)
        if old is not None and _type_name(old) != _type_name(o.value):
            d.items.append(
                Diagnostic(
                    o.value_span,
                    f"--set: `{o.name}` is {_type_name(old)}, but `{raw[o.value_span.col - 1 : o.value_span.end_col - 1]}` is {_type_name(o.value)}",
                    o.text,
                )
            )
            continue
        fixed[o.name] = o.value
    consts = _Consts(m, d, fixed)
    settings: list[tuple[str, int | bool]] = []
    for name in m.consts:
        v = consts.get(name)
        if v is not None:
            settings.append((name, v))

    r = _Resolver(m, consts, d)

    # ---- sorts and enums
    for name, sort in m.sorts.items():
        size = consts.int_value(sort.decl.size, f"the size of sort {name}")
        if size is None:
            continue
        if size < 1:
            d.error(sort.decl.size.span, f"sort {name} is empty (size {size})")
        elif size > MAX_SORT_SIZE:
            d.error(sort.decl.size.span, f"sort {name} is too large (size {size}; at most {MAX_SORT_SIZE})")
        else:
            r.sorts[name] = ts.SortType(name, size)
    for name, en in m.enums.items():
        members = tuple(dict.fromkeys(x for x in en.decl.members if m.members.get(x) == name))
        if len(members) == len(en.decl.members):
            r.enums[name] = ts.EnumType(name, members)

    # ---- state
    for name, var in m.vars.items():
        vt = r.var_type(var.decl.type)
        if vt is None:
            continue
        index, value_t = vt
        if isinstance(value_t, ts.IntType) and not var.decl.ghost:
            d.error(
                var.decl.type.span,
                "int is unbounded: only ghost state may be int; use u<W>",
            )
            continue
        r.vars[name] = ts.StateVar(name, index, value_t, var.decl.ghost, var.decl.span)

    st = _Stmts(r)
    # ---- init
    init_ctx = _Ctx(
        {}, state=False, primes=False,
        no_state="init cannot read state `{name}` here (only constants, literals and loop variables); use `assume` to relate initial values",
    )
    init: list[ts.Stmt] = []
    for block in m.inits:
        init.extend(st.block(block.body, init_ctx, _Flow(init=True)))
    for name, var in m.vars.items():
        if name in r.vars and not _init_mentions(m.inits, name):
            d.error(
                var.span,
                f"state `{name}` has no initial value; assign it in init, or `{name} := any` to leave it free",
            )

    # ---- actions
    actions = [a for a in (_action(e.decl, e.span, r, st) for e in m.actions.values()) if a is not None]

    # ---- properties
    props: list[ts.Property] = []
    for name, pe in m.properties.items():
        p = pe.decl
        two = p.kind in (s.PropKind.TRANSITION, s.PropKind.COVER)
        ctx = _Ctx({}, state=True, primes=two)
        x = r.cond(p.expr, ctx, f"{p.kind.value} `{name}`")
        if p.covers is not None:
            target_prop = m.properties.get(p.covers)
            cspan = d.name_span(p.span, p.covers, skip=4 if p.replace else 3)
            if p.kind is not s.PropKind.COVER:
                d.error(cspan, f"only a cover goal can say `for {p.covers}`")
            elif target_prop is None:
                d.error(
                    cspan,
                    f"cover `{name}` is for unknown property `{p.covers}`"
                    + did_you_mean(p.covers, [k for k, v in m.properties.items() if v.decl.kind is not s.PropKind.COVER]),
                )
            elif target_prop.decl.kind is s.PropKind.COVER:
                d.error(cspan, f"cover `{name}` is for `{p.covers}`, which is itself a cover goal")
        if x is not None:
            props.append(ts.Property(name, p.kind, x, p.description, p.covers, p.span))

    # ---- observables (what `fusever diff` compares)
    observables: list[ts.Observable] = []
    for name, oe in m.observables.items():
        od = oe.decl
        octx = _Ctx({}, state=True, primes=False)
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

    # ---- depth
    depth = DEFAULT_DEPTH
    if m.depth is not None:
        dv = consts.int_value(m.depth.value, "depth")
        if dv is not None and dv < 1:
            d.error(m.depth.value.span, f"depth must be at least 1, not {dv}")
        elif dv is not None:
            depth = dv

    d.raise_if_any()
    system = ts.TransitionSystem(
        name=target.name,
        path=target.path,
        description=target.description,
        lineage=tuple(f.name for f in chain),
        settings=tuple(settings),
        sorts=tuple(r.sorts.values()),
        enums=tuple(r.enums.values()),
        vars=tuple(r.vars.values()),
        init=tuple(init),
        actions=tuple(actions),
        properties=tuple(props),
        depth=depth,
        config=config,
        configs=tuple((n, c.decl.description) for n, c in m.configs.items()),
        observables=tuple(observables),
    )
    validate(system)
    return system


def _apply_config(m: _Merged, config: str | None, spec: str, d: _Diags) -> None:
    """Check every configuration's names; apply the selected one's values and depth."""
    for cname, entry in m.configs.items():
        for item in entry.decl.items:
            if isinstance(item, s.SetDecl) and item.name not in m.consts:
                d.error(
                    d.name_span(item.span, item.name),
                    f"configuration `{cname}` sets unknown constant `{item.name}`"
                    + did_you_mean(item.name, m.consts),
                )
    if config is None:
        return
    chosen = m.configs.get(config)
    if chosen is None:
        known = ", ".join(f"`{n}`" for n in m.configs) or "none"
        d.items.append(
            Diagnostic(
                None,
                f"--config: spec `{spec}` has no configuration `{config}`"
                + did_you_mean(config, m.configs)
                + f" (it has: {known})",
            )
        )
        return
    seen: set[str] = set()
    for item in chosen.decl.items:
        match item:
            case s.SetDecl(name=name, value=value, span=span):
                at = d.name_span(span, name)
                if name in seen:
                    d.error(at, f"`{name}` is set more than once in configuration `{config}`")
                elif name in m.consts:
                    m.consts[name] = _Entry(value, chosen.origin, at)
                seen.add(name)
            case s.DepthDecl():
                m.depth = item
            case _:
                assert_never(item)


def _init_mentions(inits: Sequence[s.InitDecl], name: str) -> bool:
    """Whether init assigns ``name`` at all (an erroneous assignment still counts)."""

    def walk(body: Sequence[s.Stmt]) -> bool:
        for st in body:
            match st:
                case s.Assign(name=n) if n == name:
                    return True
                case s.If(then=a, else_=b) if walk(a) or walk(b):
                    return True
                case s.ForAll(body=b) if walk(b):
                    return True
                case _:
                    pass
        return False

    return any(walk(i.body) for i in inits)


def _action(a: s.ActionDecl, at: s.Span, r: _Resolver, st: _Stmts) -> ts.Action | None:
    d = r.d
    ok = True
    ctx = _Ctx(
        {}, state=True, primes=False,
        no_state="",
    )
    params: list[ts.Param] = []
    for p in a.params:
        pspan = s.Span(p.span.file, p.span.line, p.span.col, p.span.line, p.span.col + len(p.name))
        fresh = r.check_local(p.name, pspan, ctx)
        t = r.value_type(p.type) if not isinstance(p.type, s.MapType) else None
        if isinstance(p.type, s.MapType):
            d.error(p.type.span, "a parameter cannot be a map")
        if t is not None and not ts.is_finite(t):
            d.error(
                p.type.span,
                f"parameter `{p.name}` must have a finite type (a sort, an enum or bool) to be enumerated, not {t}; for a free value write `choose {p.name}: {t}` in the body",
            )
            t = None
        if t is None or not fresh:
            ok = False
            ctx = ctx.bind_broken(p.name)
            continue
        ctx = ctx.bind(p.name, t)
        params.append(ts.Param(p.name, t, False, p.span))
    actor_param: str | None = None
    if a.actor is not None and a.actor.param is not None:
        actor_param = a.actor.param
        if actor_param not in {p.name for p in a.params}:
            d.error(
                d.name_span(a.actor.span, actor_param, skip=2),
                f"the actor `{actor_param}` must be a parameter of action `{a.name}`"
                + did_you_mean(actor_param, [p.name for p in a.params]),
            )
            ok = False
    guard: ts.Expr | None = ts.Lit(True, ts.BOOL, at)
    if a.guard is not None:
        chosen = frozenset(c.name for c in a.body if isinstance(c, s.Choose))
        guard = r.cond(a.guard, dataclasses.replace(ctx, reserved=chosen), "the guard")
        if guard is not None:
            g = _ghost_read(guard, r.vars)
            if g is not None:
                d.error(g.span, f"ghost state `{g.name}` flows into the guard of action `{a.name}`")
                guard = None
    # chosen values: `choose` statements at the top of the body
    body = list(a.body)
    wheres: list[ts.Expr] = []
    while body and isinstance(body[0], s.Choose):
        c = body.pop(0)
        assert isinstance(c, s.Choose)
        cspan = d.name_span(c.span, c.name)
        fresh = r.check_local(c.name, cspan, ctx)
        t = None
        if isinstance(c.type, s.MapType):
            d.error(c.type.span, "`choose` needs a value type, not a map")
        else:
            t = r.value_type(c.type)
        if t is None or not fresh:
            ok = False
            ctx = ctx.bind_broken(c.name)
            continue
        ctx = ctx.bind(c.name, t)
        params.append(ts.Param(c.name, t, True, c.span))
        if c.where is not None:
            w = r.cond(c.where, ctx, "`where` condition")
            if w is None:
                ok = False
                continue
            g = _ghost_read(w, r.vars)
            if g is not None:
                d.error(g.span, f"ghost state `{g.name}` flows into the guard of action `{a.name}`")
                ok = False
                continue
            wheres.append(w)
    stmts = st.block(body, ctx, _Flow(init=False))
    if not ok or guard is None:
        return None
    for w in wheres:
        guard = (
            w if isinstance(guard, ts.Lit) and guard.value is True
            else ts.Binary(s.BinOp.AND, guard, w, ts.BOOL, w.span)
        )
    if a.description is not None:
        names = {p.name for p in params}
        for hole in _TEMPLATE_HOLE.findall(a.description):
            if hole not in names:
                d.error(
                    d.name_span(a.span, a.name),
                    f"the description of action `{a.name}` names `{{{hole}}}`, which is not a parameter"
                    + did_you_mean(hole, names),
                )
                ok = False
    if not ok:
        return None
    return ts.Action(
        a.name,
        tuple(params),
        guard,
        stmts,
        None if a.actor is None else a.actor.label,
        actor_param,
        a.span,
        a.description,
    )


# ---- after checking: anything wrong here is a bug, not a user error ----------------


def validate(system: ts.TransitionSystem) -> None:
    """Assert the transition system is well formed (names bound, types agree)."""
    vars_ = {v.name: v for v in system.vars}
    assert len(vars_) == len(system.vars)
    for v in system.vars:
        assert all(ts.is_finite(t) for t in v.index), v
        assert v.ghost or not isinstance(v.type, ts.IntType), v

    def expr(e: ts.Expr, scope: Mapping[str, ts.Type], primes: bool) -> None:
        match e:
            case ts.Lit(value=value, type=t):
                _assert_value(value, t)
            case ts.Var(name=name, args=args, type=t, primed=primed):
                v = vars_[name]
                assert t == v.type and len(args) == len(v.index), e
                assert primes or not primed, e
                for a, it in zip(args, v.index, strict=True):
                    assert a.type == it, e
                    expr(a, scope, primes)
            case ts.Local(name=name, type=t):
                assert scope.get(name) == t, e
            case ts.Unary(op=op, arg=arg, type=t):
                expr(arg, scope, primes)
                assert arg.type == t, e
                assert (t == ts.BOOL) if op is s.UnOp.NOT else isinstance(t, ts.BitVecType | ts.IntType), e
            case ts.Binary(lhs=lhs, rhs=rhs):
                expr(lhs, scope, primes)
                expr(rhs, scope, primes)
                assert lhs.type == rhs.type, e
            case ts.Ite(cond=c, then=a, else_=b, type=t):
                for x in (c, a, b):
                    expr(x, scope, primes)
                assert c.type == ts.BOOL and a.type == t == b.type, e
            case ts.Quant(var=var, sort=sort, body=body):
                assert ts.is_finite(sort) and var not in scope, e
                expr(body, {**scope, var: sort}, primes)
                assert body.type == ts.BOOL, e
            case ts.Cast(arg=arg):
                expr(arg, scope, primes)
                assert isinstance(arg.type, ts.BitVecType), e
            case _:
                assert_never(e)

    def stmts(body: Sequence[ts.Stmt], scope: Mapping[str, ts.Type], init: bool) -> None:
        for st in body:
            match st:
                case ts.Assign(name=name, args=args, value=value):
                    v = vars_[name]
                    assert len(args) == len(v.index), st
                    for a in args:
                        expr(a, scope, False)
                    if value is None:
                        assert init, st
                    else:
                        expr(value, scope, False)
                        assert value.type == v.type, st
                        if not v.ghost:
                            assert _ghost_read(value, vars_) is None, st
                case ts.If(cond=c, then=a, else_=b):
                    expr(c, scope, False)
                    stmts(a, scope, init)
                    stmts(b, scope, init)
                case ts.ForAll(var=var, sort=sort, where=where, body=b):
                    inner = {**scope, var: sort}
                    if where is not None:
                        expr(where, inner, False)
                    stmts(b, inner, init)
                case ts.Assume(cond=c):
                    assert init, st
                    expr(c, scope, False)
                case _:
                    assert_never(st)

    stmts(system.init, {}, True)
    names = [a.name for a in system.actions]
    assert len(set(names)) == len(names)
    for a in system.actions:
        scope = {p.name: p.type for p in a.params}
        assert len(scope) == len(a.params)
        assert all(p.chosen or ts.is_finite(p.type) for p in a.params), a
        expr(a.guard, scope, False)
        assert a.guard.type == ts.BOOL and _ghost_read(a.guard, vars_) is None, a
        stmts(a.body, scope, False)
    pnames = {p.name: p for p in system.properties}
    assert len(pnames) == len(system.properties)
    for p in system.properties:
        expr(p.expr, {}, p.kind not in (s.PropKind.INVARIANT, s.PropKind.LEMMA))
        assert p.expr.type == ts.BOOL
        if p.covers is not None:
            assert pnames[p.covers].kind is not s.PropKind.COVER
    assert len({o.name for o in system.observables}) == len(system.observables)
    for o in system.observables:
        assert all(ts.is_finite(p.type) and not p.chosen for p in o.params), o
        expr(o.expr, {p.name: p.type for p in o.params}, False)
    assert system.depth >= 1


def _assert_value(value: ts.Value, t: ts.Type) -> None:
    match t:
        case ts.BoolType():
            assert isinstance(value, bool)
        case ts.BitVecType(width=w):
            assert isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**w
        case ts.IntType():
            assert isinstance(value, int) and not isinstance(value, bool)
        case ts.SortType(size=n):
            assert isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n
        case ts.EnumType(members=members):
            assert value in members
        case _:
            assert_never(t)

