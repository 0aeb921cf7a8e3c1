"""The constants pass: ``--set`` overrides parsed and applied, every constant folded.

It takes the :class:`~fusever.lineage.Merged` spec and the ``--set NAME=VALUE``
arguments and gives :class:`Consts`: each constant's value (an int or a bool), folded
on demand so a constant may use any other (a cycle is an error), with the overrides
in place of the spec's values; and the spec's depth, bounded.  Later passes read
constants only through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from fusever import syntax as s
from fusever.diagnostics import Diagnostic, did_you_mean
from fusever.diags import Diags, ref_span
from fusever.lineage import Merged
from fusever.operators import CONST_FUNCS, FoldError
from fusever.operators import TABLE as OPERATORS

__all__ = [
    "COMMAND_LINE",
    "DEFAULT_DEPTH",
    "MAX_DEPTH",
    "ConstValue",
    "Consts",
    "Override",
    "checked_depth",
    "constants",
    "parse_override",
    "type_name",
]

DEFAULT_DEPTH = 20
MAX_DEPTH = 10_000  # a spec's depth (regress bounds what proofs/ may record by the same)
COMMAND_LINE = "<command line>"

_OVERRIDE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S.*?)?\s*")
_INT_VALUE = re.compile(r"-?(0x[0-9a-fA-F]+|[0-9]+)")

ConstValue = int | bool


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


def type_name(v: ConstValue) -> str:
    return "bool" if isinstance(v, bool) else "int"


# ---- constants ---------------------------------------------------------------------


class Consts:
    """Constants folded on demand, so a constant may use any other (cycles are errors)."""

    def __init__(self, m: Merged, d: Diags, fixed: Mapping[str, ConstValue]) -> None:
        self.m = m
        self.d = d
        self.values: dict[str, ConstValue | None] = dict(fixed)
        self.active: list[str] = []

    def get(self, name: str) -> ConstValue | None:
        if name in self.values:
            return self.values[name]
        self._deps_first(name)
        return self._get(name)

    def _deps_first(self, name: str) -> None:
        """Fold every constant ``name`` depends on before ``name`` itself, deepest
        first, with an explicit stack: a chain of constants each defined by the next is
        then folded one link at a time, never as a recursion as deep as the chain
        (issue 28).  A cycle is reported here, as :meth:`_get` would report it."""
        path: list[str] = []  # the constants being folded, outermost first
        on_path: set[str] = set()
        todo: list[tuple[str, list[str]]] = []

        def enter(n: str) -> None:
            path.append(n)
            on_path.add(n)
            todo.append((n, list(reversed(_const_refs(self.m.consts[n].decl, self.m.consts)))))

        enter(name)
        while todo:
            n, deps = todo[-1]
            if deps:
                dep = deps.pop()
                if dep in self.values or dep in self.active:
                    continue
                if dep in on_path:
                    cycle = [*path[path.index(dep) :], dep]
                    self.d.error(
                        self.m.consts[dep].span,
                        "constant defined in terms of itself: " + _cycle_text(cycle),
                    )
                    for c in cycle:
                        self.values[c] = None
                    continue
                enter(dep)
                continue
            todo.pop()
            path.pop()
            on_path.discard(n)
            if n != name and n not in self.values:
                self._get(n)

    def _get(self, name: str) -> ConstValue | None:
        if name in self.values:
            return self.values[name]
        entry = self.m.consts[name]
        if name in self.active:
            cycle = [*self.active[self.active.index(name) :], name]
            self.d.error(entry.span, "constant defined in terms of itself: " + _cycle_text(cycle))
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
        match e:
            case s.Number(value=v):
                return v
            case s.Bool(value=v):
                return v
            case s.Ref():
                return self._ref(e)
            case s.Unary(op=op, arg=arg, span=span):
                u = self.eval(arg)
                if u is None:
                    return None
                return self._fold(op, (u,), span)
            case s.Binary(op=op, lhs=lhs, rhs=rhs, span=span):
                a, b = self.eval(lhs), self.eval(rhs)
                if a is None or b is None:
                    return None
                return self._fold(op, (a, b), span)
            case s.Ite():
                return self._ite(e)
            case s.Quant(span=span):
                self.d.error(span, "a constant expression cannot use a quantifier")
                return None
            case s.Call():
                return self._call(e)
            case s.Ascribe(expr=inner):
                return self.eval(inner)
            case _:
                assert_never(e)

    def _ref(self, e: s.Ref) -> ConstValue | None:
        """A constant's value; an error for any other name, or a primed or indexed one."""
        d, name = self.d, e.name
        if name not in self.m.consts:
            if name in self.m.kinds:
                kind = self.m.kinds[name][0]
                d.error(ref_span(e), f"a constant expression cannot use {kind} `{name}`")
            else:
                d.error(
                    ref_span(e),
                    f"unknown constant `{name}`" + did_you_mean(name, self.m.consts),
                )
            return None
        if e.primed or e.args:
            d.error(e.span, f"constant `{name}` cannot be primed or indexed")
            return None
        return self.get(name)

    def _ite(self, e: s.Ite) -> ConstValue | None:
        """``if c then t else f``: every part folded, ``c`` a bool, ``t`` and ``f`` alike."""
        cv, tv, fv = self.eval(e.cond), self.eval(e.then), self.eval(e.else_)
        if cv is None or tv is None or fv is None:
            return None
        if not isinstance(cv, bool):
            self.d.error(e.cond.span, "condition must be bool, found int")
            return None
        if type_name(tv) != type_name(fv):
            self.d.error(e.span, f"type mismatch: {type_name(tv)} and {type_name(fv)}")
            return None
        return tv if cv else fv

    def _call(self, e: s.Call) -> ConstValue | None:
        """A folding function of one int (``pow2(N)``); no other call is constant."""
        d, func, args, span = self.d, e.func, e.args, e.span
        if func not in CONST_FUNCS or len(args) != 1:
            d.error(span, f"a constant expression cannot call `{func}`")
            return None
        n = self.eval(args[0])
        if n is None:
            return None
        if isinstance(n, bool):
            d.error(args[0].span, f"`{func}` needs an int, found bool")
            return None
        try:
            return CONST_FUNCS[func](n)
        except FoldError as err:
            d.error(span, str(err))
            return None

    def _fold(
        self, op: s.BinOp | s.UnOp, xs: tuple[ConstValue, ...], span: s.Span
    ) -> ConstValue | None:
        """An operator on constants, by the operator table's folding rule."""
        info = OPERATORS[op]
        names = [type_name(x) for x in xs]
        if info.fold is None:
            self.d.error(span, info.fold_why)
            return None
        if len(set(names)) > 1:
            self.d.error(span, f"type mismatch: {names[0]} and {names[1]}")
            return None
        if info.fold_kind != "any" and names[0] != info.fold_kind:
            if info.arity == 1:
                what = "a bool" if info.fold_kind == "bool" else "a number"
            else:
                what = f"{info.fold_kind} operands"
            self.d.error(span, f"`{info.symbol}` needs {what}, found {names[0]}")
            return None
        try:
            return info.fold(xs)
        except FoldError as err:
            self.d.error(span, str(err))
            return None

    def int_value(self, e: s.Expr, what: str) -> int | None:
        v = self.eval(e)
        if v is None:
            return None
        if isinstance(v, bool):
            self.d.error(e.span, f"{what} must be an int constant, found bool")
            return None
        return v

    def fold_all(self) -> tuple[tuple[str, ConstValue], ...]:
        """Every constant folded, in declaration order: the system's settings (a
        constant that failed to fold is left out; its error is reported)."""
        settings: list[tuple[str, int | bool]] = []
        for name in self.m.consts:
            v = self.get(name)
            if v is not None:
                settings.append((name, v))
        return tuple(settings)


def _cycle_text(cycle: Sequence[str], most: int = 10) -> str:
    """``A -> B -> A``; a long cycle with its middle left out (and how many)."""
    names = [f"`{n}`" for n in cycle]
    if len(names) > most:
        left = len(names) - most
        names = [*names[: most // 2], f"... ({left} more)", *names[-(most // 2) :]]
    return " -> ".join(names)


def _const_refs(e: s.Expr, consts: Mapping[str, object]) -> list[str]:
    """The constants :meth:`Consts.eval` of ``e`` looks up, left to right (iterative)."""
    out: list[str] = []
    todo: list[s.Expr] = [e]
    while todo:
        x = todo.pop()
        match x:
            case s.Ref(name=name, primed=False, args=()) if name in consts:
                out.append(name)
            case s.Unary(arg=arg):
                todo.append(arg)
            case s.Binary(lhs=lhs, rhs=rhs):
                todo += [rhs, lhs]
            case s.Ite(cond=c, then=a, else_=b):
                todo += [b, a, c]
            case s.Call(func=func, args=(arg,)) if func in CONST_FUNCS:
                todo.append(arg)
            case s.Ascribe(expr=inner):
                todo.append(inner)
            case _:
                pass
    return out


def constants(m: Merged, overrides: Sequence[str], spec: str, d: Diags) -> Consts:
    """The constants of ``m`` with the ``--set`` arguments ``overrides`` in place of
    their values (each must name a constant of spec ``spec`` and keep its type)."""
    fixed: dict[str, ConstValue] = {}
    probe = Consts(m, Diags({}), {})
    for raw in overrides:
        o = parse_override(raw)
        if isinstance(o, Diagnostic):
            d.items.append(o)
            continue
        if o.name not in m.consts:
            where = f" in spec `{spec}`"
            d.items.append(
                Diagnostic(
                    o.name_span,
                    f"--set: unknown constant `{o.name}`{where}" + did_you_mean(o.name, m.consts),
                    o.text,
                )
            )
            continue
        old = probe.get(o.name)
        if old is not None and type_name(old) != type_name(o.value):
            d.items.append(
                Diagnostic(
                    o.value_span,
                    f"--set: `{o.name}` is {type_name(old)}, but `{raw[o.value_span.col - 1 : o.value_span.end_col - 1]}` is {type_name(o.value)}",
                    o.text,
                )
            )
            continue
        fixed[o.name] = o.value
    return Consts(m, d, fixed)


def checked_depth(m: Merged, consts: Consts, d: Diags) -> int:
    """The spec's depth (the chosen configuration's, plus a merge's extra steps), or
    the default; between 1 and ``MAX_DEPTH``."""
    depth = DEFAULT_DEPTH
    if m.depth is not None:
        dv = consts.int_value(m.depth.value, "depth")
        if dv is not None and dv < 1:
            d.error(m.depth.value.span, f"depth must be at least 1, not {dv}")
        elif dv is not None and dv > MAX_DEPTH:
            d.error(m.depth.value.span, f"depth must be at most {MAX_DEPTH}, not {dv}")
        elif dv is not None:
            depth = dv
    if m.extra_depth is not None:
        extra = consts.int_value(m.extra_depth.value, "a merge's extra depth")
        if extra is not None and extra < 0:
            d.error(
                m.extra_depth.value.span,
                f"a merge's depth adds steps; it cannot be negative ({extra})",
            )
        elif extra is not None:
            depth += extra
    return depth
