"""The locks pass: kernel locks desugared into the language every later pass knows.

``spinlock L`` / ``mutex L: S`` declares a lock (one, or one per element of sort
``S``); an action takes it with ``acquire(L[i])``, drops it with ``release(L[i])``, and
any expression reads it with ``holds(L[i])``.  A lock is held across steps: between
the step that acquires it and the one that releases it, every other step that
acquires it waits.  This pass, on the merged spec before definitions are inlined,
turns that into state, guards and properties:

- the lock is a kernel ``bool`` (or ``S -> bool``) state variable of its name, free
  at the start; ``holds(L[i])`` reads it;
- ``acquire(L[i])``, at the top of an action body before any other statement (so
  its index reads the state the guard reads), adds ``!L[i]`` to the action's guard
  (the step waits for it) and sets it; ``release(L[i])`` clears it, and records in
  the ghost ``released_unheld`` when it was not held;
- generated invariants, checked like any other property: ``locks_released_held``
  (no lock released unheld), ``no_lock_deadlock`` (no run ends with a step waiting
  for a lock: every step disabled, and some step that acquires enabled but for its
  locks) and ``locks_free_at_end`` (no lock held when a run ends, except those
  declared ``may end held``).  A run *ends* in a state where no step is enabled; a
  ``choose`` condition is not part of that test (a step with one counts as enabled
  whenever its guard holds), so an end can be missed, never invented.
- an acquire of a lock the action's guard already requires held (``holds(L[i])``),
  or of the same lock twice, can only wait forever: an error at the acquire.

A spec without locks is left untouched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import TypeVar

from fusever import syntax as s
from fusever.diags import Diags
from fusever.lineage import Entry, Merged

__all__ = ["DEADLOCK", "FREE_AT_END", "RELEASED_HELD", "UNHELD", "desugar"]

UNHELD = "released_unheld"  # the ghost set by a release of a lock not held
RELEASED_HELD = "locks_released_held"
DEADLOCK = "no_lock_deadlock"
FREE_AT_END = "locks_free_at_end"

N = TypeVar("N")


def _map(node: N, f: Callable[[object], object | None]) -> N:
    """``node`` rebuilt bottom-up: ``f`` may replace any node (None: keep it)."""
    if isinstance(node, tuple):
        return tuple(_map(x, f) for x in node)  # type: ignore[return-value]
    if not dataclasses.is_dataclass(node) or isinstance(node, (type, s.Span)):
        return node
    changes = {}
    for fld in dataclasses.fields(node):
        old = getattr(node, fld.name)
        new = _map(old, f)
        if new is not old:
            changes[fld.name] = new
    out = dataclasses.replace(node, **changes) if changes else node
    got = f(out)
    return out if got is None else got  # type: ignore[return-value]


def _walk(node: object) -> Iterator[object]:
    todo = [node]
    while todo:
        x = todo.pop()
        if isinstance(x, tuple):
            todo.extend(x)
        elif dataclasses.is_dataclass(x) and not isinstance(x, (type, s.Span)):
            yield x
            todo.extend(getattr(x, fld.name) for fld in dataclasses.fields(x))


def _lock_op(st: object, locks: dict[str, Entry[s.LockDecl]]) -> s.Ref | None:
    """The lock ``acquire(L[i])`` / ``release(L[i])`` names, when ``st`` is one."""
    if (
        isinstance(st, s.CallStmt)
        and st.name in ("acquire", "release")
        and len(st.args) == 1
        and isinstance(st.args[0], s.Ref)
        and st.args[0].name in locks
    ):
        return st.args[0]
    return None


def desugar(m: Merged, d: Diags) -> None:
    """Every lock of ``m`` turned into state, guards and properties (see above)."""
    if not m.locks:
        return
    locks = m.locks
    origin = next(iter(locks.values())).origin

    def holds(x: object) -> object | None:
        if (
            isinstance(x, s.Call)
            and x.func == "holds"
            and len(x.args) == 1
            and isinstance(x.args[0], s.Ref)
            and x.args[0].name in locks
        ):
            return x.args[0]
        return None

    # locks outside an action's body are an error
    for name, e in m.procs.items():
        for st in _walk(e.decl.body):
            if (ref := _lock_op(st, locks)) is not None:
                d.error(ref.span, f"`{st.name}` of a lock is only allowed in an action's body, not in proc `{name}`")  # type: ignore[attr-defined]  # fmt: skip
    for init in m.inits:
        for st in _walk(init.body):
            if (ref := _lock_op(st, locks)) is not None:
                d.error(ref.span, "locks start free: no `acquire` or `release` in `init`")
    for name, lock in locks.items():
        decl = lock.decl
        if decl.sort is not None and decl.sort not in m.sorts and decl.sort not in m.enums:
            d.error(decl.sort_span, f"unknown sort `{decl.sort}` for lock `{name}`")
        flag = s.NamedType("bool", decl.span)
        vtype: s.TypeExpr = flag
        if decl.sort is not None:
            vtype = s.MapType((s.NamedType(decl.sort, decl.sort_span),), flag, decl.span)
        m.vars[name] = Entry(
            s.VarDecl(name, vtype, False, decl.span, decl.name_span), lock.origin, lock.span
        )
    m.inits.append(s.InitDecl(tuple(s.Assign(n, (), s.Bool(False)) for n in locks)))

    released = False
    free_guards: dict[
        str, s.Expr | None
    ] = {}  # actions that acquire: their guard without the locks
    for name, entry in m.actions.items():
        a = entry.decl
        acquired: list[s.Ref] = []
        body: list[s.Stmt] = []
        settled = False  # a statement other than choose/acquire came
        for st in a.body:
            ref = _lock_op(st, locks)
            if ref is not None and isinstance(st, s.CallStmt) and st.name == "acquire":
                if settled:
                    d.error(st.span, f"`acquire({ref.name}...)` must come first in the body of action `{name}` (after `choose`), where the guard's state is read")  # fmt: skip
                if any(r == ref for r in acquired):
                    d.error(st.span, f"`{ref.name}` is acquired twice in action `{name}`: the second waits forever")  # fmt: skip
                if a.guard is not None and any(_holds_of(x, ref) for x in _conjuncts(a.guard)):
                    d.error(st.span, f"action `{name}` acquires `{ref.name}`, which its guard requires held: it would wait forever")  # fmt: skip
                acquired.append(ref)
                body.append(s.Assign(ref.name, ref.args, s.Bool(True), st.span))
                continue
            if not isinstance(st, s.Choose):
                settled = True
            body.append(st)

        def release(x: object) -> object | None:
            nonlocal released
            ref = _lock_op(x, locks)
            if ref is None or not isinstance(x, s.CallStmt):
                return None
            if x.name == "acquire":
                d.error(
                    x.span, f"`acquire({ref.name}...)` is allowed only at the top of an action body"
                )
                return s.Skip(x.span)
            released = True
            check = s.If(
                s.Unary(s.UnOp.NOT, ref, ref.span), (s.Assign(UNHELD, (), s.Bool(True), x.span),), (), x.span
            )  # fmt: skip
            return s.If(s.Bool(True), (check, s.Assign(ref.name, ref.args, s.Bool(False), x.span)), (), x.span)  # fmt: skip

        new_body = _map(tuple(body), release)
        guard = a.guard
        if acquired:
            free_guards[name] = _map(guard, holds) if guard is not None else None
            for ref in acquired:
                free = s.Unary(s.UnOp.NOT, ref, ref.span)
                guard = free if guard is None else s.Binary(s.BinOp.AND, guard, free, ref.span)
        m.actions[name] = dataclasses.replace(
            entry, decl=dataclasses.replace(a, guard=guard, body=new_body)
        )

    # holds(L[i]) everywhere
    for name, entry in m.actions.items():
        m.actions[name] = dataclasses.replace(entry, decl=_map(entry.decl, holds))
    for name, p in m.properties.items():
        m.properties[name] = dataclasses.replace(p, decl=_map(p.decl, holds))
    for name, df in m.defs.items():
        m.defs[name] = dataclasses.replace(df, decl=_map(df.decl, holds))
    for name, pr in m.procs.items():
        m.procs[name] = dataclasses.replace(pr, decl=_map(pr.decl, holds))

    if released and UNHELD in m.kinds:
        d.error(m.kinds[UNHELD][1], f"`{UNHELD}` is the ghost the locks use to record a release of a lock not held; name this one differently")  # fmt: skip
    elif released:
        m.vars[UNHELD] = Entry(s.VarDecl(UNHELD, s.NamedType("bool"), True), origin, s.NOWHERE)
        m.inits.append(s.InitDecl((s.Assign(UNHELD, (), s.Bool(False)),)))
        _add(m, d, origin, s.PropertyDecl(
            s.PropKind.INVARIANT, RELEASED_HELD, s.Unary(s.UnOp.NOT, s.Ref(UNHELD)),
            "no lock is released while it is not held",
        ))  # fmt: skip

    def enabled(a: s.ActionDecl, guard: s.Expr | None) -> s.Expr:
        g = guard if guard is not None else s.Bool(True)
        binders = tuple(s.Binder(p.name, _sort(p.type)) for p in a.params)
        return s.Quant(s.Quantifier.EXISTS, binders, g) if binders else g

    ended = _all(s.Unary(s.UnOp.NOT, enabled(e.decl, e.decl.guard)) for e in m.actions.values())
    waiting = _any(enabled(m.actions[n].decl, g) for n, g in free_guards.items())
    if free_guards:
        _add(m, d, origin, s.PropertyDecl(
            s.PropKind.INVARIANT, DEADLOCK, s.Unary(s.UnOp.NOT, s.Binary(s.BinOp.AND, ended, waiting)),
            "no run ends with a step waiting for a lock (a deadlock)",
        ))  # fmt: skip
    kept = [n for n, e in locks.items() if not e.decl.may_end_held]
    if kept:
        free_all = _all(_free(n, locks[n].decl) for n in kept)
        quiet = s.Binary(
            s.BinOp.AND, ended, s.Unary(s.UnOp.NOT, waiting)
        )  # a deadlock is the one above
        _add(m, d, origin, s.PropertyDecl(
            s.PropKind.INVARIANT, FREE_AT_END, s.Binary(s.BinOp.IMPLIES, quiet, free_all),
            "no lock is held when a run ends (unless declared `may end held`)",
        ))  # fmt: skip


def _sort(t: s.TypeExpr) -> str:
    return t.name if isinstance(t, s.NamedType) else "bool"


def _free(name: str, decl: s.LockDecl) -> s.Expr:
    if decl.sort is None:
        return s.Unary(s.UnOp.NOT, s.Ref(name))
    x = f"{name}#"  # no spec can write it: it shadows nothing
    body = s.Unary(s.UnOp.NOT, s.Ref(name, False, (s.Ref(x),)))
    return s.Quant(s.Quantifier.FORALL, (s.Binder(x, decl.sort),), body)


def _all(xs: Iterator[s.Expr] | list[s.Expr]) -> s.Expr:
    out: s.Expr | None = None
    for x in xs:
        out = x if out is None else s.Binary(s.BinOp.AND, out, x)
    return out if out is not None else s.Bool(True)


def _any(xs: Iterator[s.Expr] | list[s.Expr]) -> s.Expr:
    out: s.Expr | None = None
    for x in xs:
        out = x if out is None else s.Binary(s.BinOp.OR, out, x)
    return out if out is not None else s.Bool(False)


def _conjuncts(e: s.Expr) -> Iterator[s.Expr]:
    if isinstance(e, s.Binary) and e.op is s.BinOp.AND:
        yield from _conjuncts(e.lhs)
        yield from _conjuncts(e.rhs)
    else:
        yield e


def _holds_of(e: s.Expr, ref: s.Ref) -> bool:
    return isinstance(e, s.Call) and e.func == "holds" and e.args == (ref,)


def _add(m: Merged, d: Diags, origin: str, p: s.PropertyDecl) -> None:
    if p.name in m.properties:
        d.error(m.properties[p.name].span, f"`{p.name}` is the name of a property the locks generate; name this one differently")  # fmt: skip
        return
    m.properties[p.name] = Entry(p, origin, s.NOWHERE)
