"""The definitions pass: ``def`` and ``proc`` inlined, syntax tree in, syntax tree out.

A ``def`` is a named, typed expression (``def stale(f: File): bool = ...``) and a
``proc`` a named block of statements (``proc take_seq(d: Fud) { ... }``); a variant
may replace, add or remove either (merged by :mod:`fusever.check` like actions).
This pass replaces every call by the body it names, so that everything after it sees
the spec as if the body had been written out at the call:

- a def's call becomes its body wrapped in :class:`~fusever.syntax.Ascribe` (its
  result type), each parameter replaced by the argument wrapped in an ``Ascribe``
  (the parameter's type); the checker checks both and keeps neither, so the
  transition system is the one of the hand-written text;
- a proc's call statement becomes its statements, with the same substitution;
- substitution is capture-free: a quantifier or ``for all`` variable of a body
  whose name is already bound at the call is renamed (``g#1``, a name no spec can
  write); otherwise names are kept, so a body written out by hand checks the same;
- a body sees its parameters, its own bound variables and global names only: a
  free name that is none of these is an error at the body, never a silent capture
  of the caller's local.

Errors (unknown def or proc, wrong arity, a def as a statement or a proc as a
value, recursion, a parameter that shadows or is assigned, ``choose`` in a proc)
are collected as :class:`~fusever.diagnostics.Diagnostic` values without source
lines; the caller adds those.  Argument and result types, primes and ghost flow are
the checker's, on the inlined tree, where the spans still point into the bodies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from fusever import syntax as s
from fusever.diagnostics import Diagnostic, Note, did_you_mean
from fusever.operators import CONST_FUNCS

__all__ = ["BUILTIN_FUNCS", "Expander"]

BUILTIN_FUNCS = ("signed", "unsigned", "int", *CONST_FUNCS)

# Inlining is bounded (issue 14): calls nested deeper than MAX_CALL_DEPTH, or more than
# MAX_INLINED calls inlined in one spec (a def using the previous one twice doubles at
# each step), are a located error instead of a tree too deep for the later passes or an
# expansion that never ends.  The shipped specs inline at most 35 calls, 2 deep.
MAX_CALL_DEPTH = 64
MAX_INLINED = 50_000


@dataclass(frozen=True, slots=True)
class _Env:
    """Where an expression or statement is expanded.

    ``bound``: the local names in scope in the *output* at this point (the caller's
    locals and the bound variables inlined so far), which a body's own bound
    variables must not capture.  ``subst``: inside a body, each name the body may
    use as a local (parameters, its own bound variables) to what replaces it.
    ``body``: the def or proc whose body this is (None at the top level).
    ``stack``: the defs and procs being inlined, outermost first.
    """

    bound: frozenset[str] = frozenset()
    subst: Mapping[str, s.Expr] = dataclasses.field(default_factory=dict)
    body: s.DefDecl | s.ProcDecl | None = None
    stack: tuple[str, ...] = ()
    params: frozenset[str] = frozenset()  # the body's parameters
    own: frozenset[str] = frozenset()  # the body's own bound variables in scope here

    def bind(self, name: str, new: str, span: s.Span) -> _Env:
        """A variable bound here (``name`` in the text, ``new`` in the output)."""
        if self.body is None:
            return dataclasses.replace(self, bound=self.bound | {new})
        return dataclasses.replace(
            self,
            bound=self.bound | {new},
            subst={**self.subst, name: s.Ref(new, span=span)},
            own=self.own | {name},
        )


def _kind(d: s.DefDecl | s.ProcDecl) -> str:
    return "def" if isinstance(d, s.DefDecl) else "proc"


def _signature(d: s.DefDecl | s.ProcDecl) -> str:
    params = () if d.params is None else d.params
    return ", ".join(f"{p.name}: {_type_text(p.type)}" for p in params)


def _type_text(t: s.TypeExpr) -> str:
    match t:
        case s.NamedType(name=name):
            return name
        case s.SizedType(name=name, width=width):
            return f"{name}<{width}>"
        case s.MapType(index=index, value=value):
            idx = (
                _type_text(index[0])
                if len(index) == 1
                else "(" + ", ".join(map(_type_text, index)) + ")"
            )
            return f"{idx} -> {_type_text(value)}"
        case _:
            assert_never(t)


def _name_span(span: s.Span, name: str) -> s.Span:
    """The first ``len(name)`` columns of ``span`` (a name at the start of a node)."""
    return s.Span(span.file, span.line, span.col, span.line, span.col + len(name))


class Expander:
    """Inlines the defs and procs of one merged spec.  ``globals`` maps every other
    global name (state, constants, enum members, sorts, ...) to its kind, for the
    shadowing rules and the names a body may use."""

    def __init__(
        self,
        defs: Mapping[str, s.DefDecl],
        procs: Mapping[str, s.ProcDecl],
        globals_: Mapping[str, str],
    ) -> None:
        self.defs = dict(defs)
        self.procs = dict(procs)
        self.globals = dict(globals_)
        self.diagnostics: list[Diagnostic] = []
        self.used: set[str] = set()  # defs and procs inlined somewhere (not on their own)
        # each def's body expanded on its own, its parameters left as names
        self.bodies: dict[str, s.Expr] = {}
        self._fresh = 0
        self._alone = False
        self._inlined = 0  # calls inlined so far, against MAX_INLINED
        self._too_big = False

    def _error(self, span: s.Span, message: str, notes: Iterable[Note] = ()) -> None:
        self.diagnostics.append(Diagnostic(span, message, None, tuple(notes)))

    # ---- the declarations themselves --------------------------------------------

    def check_definitions(self) -> None:
        """Each def and proc on its own, whether called or not: its parameters, and
        its body expanded once with its parameters standing for themselves (so an
        unused def still reports unknown names and recursion)."""
        every: list[s.DefDecl | s.ProcDecl] = [*self.defs.values(), *self.procs.values()]
        self._alone = True
        for d in every:
            if d.name in BUILTIN_FUNCS:
                self._error(d.name_span, f"`{d.name}` is a built-in function; choose another name")
            params = () if d.params is None else d.params
            seen: dict[str, s.Param] = {}
            for p in params:
                at = _name_span(p.span, p.name)
                if p.name in seen:
                    self._error(at, f"duplicate parameter `{p.name}` of {_kind(d)} `{d.name}`")
                elif p.name in self.globals:
                    self._error(
                        at,
                        f"parameter `{p.name}` of {_kind(d)} `{d.name}` shadows the "
                        f"{self.globals[p.name]} `{p.name}`; choose another name",
                    )
                if isinstance(p.type, s.MapType):
                    self._error(
                        p.type.span, f"a parameter of {_kind(d)} `{d.name}` cannot be a map"
                    )
                seen[p.name] = p
            if isinstance(d, s.DefDecl) and isinstance(d.result, s.MapType):
                self._error(d.result.span, f"def `{d.name}` must return a value, not a map")
            env = _Env(
                bound=frozenset(seen),
                subst={p.name: s.Ref(p.name, span=p.span) for p in params},
                body=d,
                stack=(d.name,),
                params=frozenset(seen),
            )
            if isinstance(d, s.DefDecl):
                self.bodies[d.name] = self._expr(d.body, env)
            else:
                self._block(d.body, env)
        self._alone = False

    # ---- entry points: one declaration's expressions and statements ----------------

    def expr(self, e: s.Expr, locals_: Iterable[str] = ()) -> s.Expr:
        """``e`` with every def call inlined; ``locals_`` are the names bound around it."""
        return self._expr(e, _Env(bound=frozenset(locals_)))

    def block(self, body: Sequence[s.Stmt], locals_: Iterable[str] = ()) -> tuple[s.Stmt, ...]:
        """``body`` with every proc call and def call inlined."""
        return self._block(body, _Env(bound=frozenset(locals_)))

    def action(self, a: s.ActionDecl) -> s.ActionDecl:
        params = [p.name for p in a.params]
        chosen = [c.name for c in a.body if isinstance(c, s.Choose)]
        guard = None if a.guard is None else self.expr(a.guard, [*params, *chosen])
        return dataclasses.replace(a, guard=guard, body=self.block(a.body, params))

    # ---- expressions -----------------------------------------------------------------

    def _expr(self, e: s.Expr, env: _Env) -> s.Expr:
        match e:
            case s.Number() | s.Bool():
                return e
            case s.Ref():
                return self._ref(e, env)
            case s.Unary(arg=arg):
                return dataclasses.replace(e, arg=self._expr(arg, env))
            case s.Binary(lhs=lhs, rhs=rhs):
                return dataclasses.replace(e, lhs=self._expr(lhs, env), rhs=self._expr(rhs, env))
            case s.Ite(cond=c, then=t, else_=f):
                return dataclasses.replace(
                    e, cond=self._expr(c, env), then=self._expr(t, env), else_=self._expr(f, env)
                )
            case s.Quant(binders=binders, body=body):
                inner = env
                out: list[s.Binder] = []
                for b in binders:
                    new = self._binding(b.name, b.span, inner)
                    out.append(dataclasses.replace(b, name=new))
                    inner = inner.bind(b.name, new, b.span)
                return dataclasses.replace(e, binders=tuple(out), body=self._expr(body, inner))
            case s.Call(func=func, args=args, span=span):
                xs = tuple(self._expr(a, env) for a in args)
                if func in self.defs:
                    return self._inline_def(self.defs[func], xs, span, env)
                if func in self.procs:
                    self._error(
                        _name_span(span, func),
                        f"`{func}` is a proc (a block of statements); it cannot be used as a "
                        f"value; call it as a statement, or write a `def`",
                    )
                elif func not in BUILTIN_FUNCS:
                    self._error(
                        _name_span(span, func),
                        f"unknown def or function `{func}`"
                        + did_you_mean(func, [*self.defs, *BUILTIN_FUNCS])
                        + "; the built-ins are signed(e), unsigned(e), int(e) and pow2(N)",
                    )
                return dataclasses.replace(e, args=xs)
            case s.Ascribe(expr=inner):
                return dataclasses.replace(e, expr=self._expr(inner, env))
            case _:
                assert_never(e)

    def _ref(self, e: s.Ref, env: _Env) -> s.Expr:
        name, at = e.name, _name_span(e.span, e.name)
        args = tuple(self._expr(a, env) for a in e.args)
        if env.body is not None and name in env.subst:
            if e.primed or args:
                self._error(
                    e.span,
                    f"`{name}` is a local value of {_kind(env.body)} `{env.body.name}`; it cannot be primed or indexed",
                )
                return e
            return env.subst[name]
        if env.body is None and name in env.bound:
            return dataclasses.replace(e, args=args)
        if name in self.defs:
            d = self.defs[name]
            if e.primed or args:
                self._error(e.span, f"`{name}` is a def; it cannot be primed or indexed")
                return e
            if d.params is not None:
                self._error(
                    at,
                    f"def `{name}` takes parameters ({_signature(d)}); call it as `{name}(...)`",
                )
                return e
            return self._inline_def(d, (), e.span, env)
        if name in self.procs:
            self._error(
                at, f"`{name}` is a proc (a block of statements); it cannot be used as a value"
            )
            return e
        if env.body is not None and name not in self.globals:
            visible = [*env.subst, *self.globals, *self.defs]
            self._error(
                at,
                f"unknown name `{name}` in {_kind(env.body)} `{env.body.name}`"
                + did_you_mean(name, visible)
                + "; a body sees its parameters and global names, not its callers' locals",
            )
            return e
        return dataclasses.replace(e, args=args)

    def _binding(self, name: str, span: s.Span, env: _Env) -> str:
        """The output name of a variable bound at ``span``: renamed inside a body when
        the name is already bound at the call (else the caller's local is captured)."""
        if env.body is None:
            return name
        body = env.body
        if name in env.params:
            self._error(
                _name_span(span, name),
                f"`{name}` shadows a parameter of {_kind(body)} `{body.name}`; rename one",
            )
        elif name in env.own:
            self._error(
                _name_span(span, name),
                f"`{name}` shadows another local of the same name; rename one",
            )
        if name not in env.bound:
            return name
        self._fresh += 1
        return f"{name}#{self._fresh}"

    def _call_ok(
        self, d: s.DefDecl | s.ProcDecl, args: Sequence[s.Expr], span: s.Span, env: _Env
    ) -> bool:
        """Arity and recursion of a call of ``d`` at ``span``."""
        params = () if d.params is None else d.params
        if len(args) != len(params):
            n = len(params)
            self._error(
                span,
                f"{_kind(d)} `{d.name}` takes {n} argument{'s' if n != 1 else ''} "
                f"({_signature(d)}), not {len(args)}",
            )
            return False
        if len(env.stack) >= MAX_CALL_DEPTH or self._inlined >= MAX_INLINED:
            if not self._too_big:
                self._too_big = True
                what = (
                    f"nest deeper than {MAX_CALL_DEPTH} calls"
                    if len(env.stack) >= MAX_CALL_DEPTH
                    else f"expand to more than {MAX_INLINED} inlined calls"
                )
                self._error(
                    _name_span(span, d.name),
                    f"definitions {what} here (`{d.name}` inside "
                    + " -> ".join(f"`{n}`" for n in env.stack[-3:])
                    + "); definitions are inlined, so write less nested ones",
                )
            return False
        self._inlined += 1
        if d.name in env.stack:
            cycle = [*env.stack[env.stack.index(d.name) :], d.name]
            # one message per cycle: from the walk that starts at its least name
            if d.name == min(cycle) and env.stack[0] == d.name:
                self._error(
                    _name_span(span, d.name),
                    f"{_kind(d)} `{d.name}` calls itself: "
                    + " -> ".join(f"`{n}`" for n in cycle)
                    + "; definitions are inlined, so they cannot recurse",
                )
            return False
        return True

    def _arguments(self, d: s.DefDecl | s.ProcDecl, args: Sequence[s.Expr], env: _Env) -> _Env:
        params = () if d.params is None else d.params
        subst: dict[str, s.Expr] = {
            p.name: s.Ascribe(a, p.type, f"argument `{p.name}` of `{d.name}`", span=a.span)
            for p, a in zip(params, args, strict=True)
        }
        return _Env(
            bound=env.bound,
            subst=subst,
            body=d,
            stack=(*env.stack, d.name),
            params=frozenset(subst),
        )

    def _inline_def(self, d: s.DefDecl, args: Sequence[s.Expr], span: s.Span, env: _Env) -> s.Expr:
        if not self._call_ok(d, args, span, env):
            return s.Call(d.name, tuple(args), span)
        if not self._alone:
            self.used.add(d.name)
        body = self._expr(d.body, self._arguments(d, args, env))
        return s.Ascribe(body, d.result, f"the body of def `{d.name}`", call=span, span=span)

    # ---- statements ----------------------------------------------------------------------

    def _block(self, body: Sequence[s.Stmt], env: _Env) -> tuple[s.Stmt, ...]:
        out: list[s.Stmt] = []
        for st in body:
            if isinstance(st, s.Choose):
                out.append(self._choose(st, env))
                env = env.bind(st.name, st.name, st.span)
            else:
                out.extend(self._stmt(st, env))
        return tuple(out)

    def _choose(self, st: s.Choose, env: _Env) -> s.Choose:
        if env.body is not None:
            self._error(
                st.span,
                f"`choose` is not allowed in {_kind(env.body)} `{env.body.name}`; choose the "
                "value at the top of the action and pass it as an argument",
            )
            return st
        inner = env.bind(st.name, st.name, st.span)
        return dataclasses.replace(
            st, where=None if st.where is None else self._expr(st.where, inner)
        )

    def _stmt(self, st: s.Stmt, env: _Env) -> Sequence[s.Stmt]:
        match st:
            case s.Assign(name=name, args=args, value=value, span=span):
                if env.body is not None and name in env.subst:
                    self._error(
                        _name_span(span, name),
                        f"cannot assign to `{name}`: it is a local value of "
                        f"{_kind(env.body)} `{env.body.name}`, not state",
                    )
                    return (st,)
                rhs = value if isinstance(value, s.Any) else self._expr(value, env)
                return (
                    dataclasses.replace(
                        st, args=tuple(self._expr(a, env) for a in args), value=rhs
                    ),
                )
            case s.If(cond=c, then=then, else_=else_):
                return (
                    dataclasses.replace(
                        st,
                        cond=self._expr(c, env),
                        then=self._block(then, env),
                        else_=self._block(else_, env),
                    ),
                )
            case s.ForAll(var=var, where=where, body=body, var_span=var_span):
                new = self._binding(var, var_span, env)
                inner = env.bind(var, new, var_span)
                return (
                    dataclasses.replace(
                        st,
                        var=new,
                        where=None if where is None else self._expr(where, inner),
                        body=self._block(body, inner),
                    ),
                )
            case s.Assume(cond=c):
                return (dataclasses.replace(st, cond=self._expr(c, env)),)
            case s.Choose():
                return (self._choose(st, env),)
            case s.Skip():
                return (st,)
            case s.CallStmt():
                return self._call_stmt(st, env)
            case _:
                assert_never(st)

    def _call_stmt(self, st: s.CallStmt, env: _Env) -> Sequence[s.Stmt]:
        name, at = st.name, st.name_span if st.name_span.line else _name_span(st.span, st.name)
        args = tuple(self._expr(a, env) for a in st.args)
        if name in self.defs:
            self._error(
                at,
                f"`{name}` is a def (a value); it cannot be used as a statement; "
                "write a `proc` for a block of statements",
            )
            return ()
        if name not in self.procs:
            self._error(
                at,
                f"unknown proc `{name}`" + did_you_mean(name, self.procs),
            )
            return ()
        p = self.procs[name]
        if not self._call_ok(p, args, st.span, env):
            return ()
        if not self._alone:
            self.used.add(name)
        return self._block(p.body, self._arguments(p, args, env))
