"""The lineage pass: a variant and its bases merged into one spec, definitions inlined.

It takes the parsed files (``files[0]`` the spec checked, the rest the specs its
bases may come from) and gives a :class:`Merged`: every declaration of the spec's
base chain, from the root spec down to the variant (``set``, ``replace``, ``remove``,
``extend enum`` and new declarations applied; clashes with a base are errors), with
the selected configuration's and step merge's ``set``s and depth applied, and every
``def`` and ``proc`` call inlined by :mod:`fusever.expand`.  Names are entered here,
not resolved: what a name means is :mod:`fusever.resolve`'s job.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, assert_never

from fusever import syntax as s
from fusever.diagnostics import Diagnostic, Note, did_you_mean
from fusever.diags import Diags, name_at
from fusever.expand import Expander

__all__ = [
    "SIZED_NAME",
    "SUFFIX",
    "Change",
    "Entry",
    "Merged",
    "apply_config",
    "apply_merge",
    "apply_values",
    "base_chain",
    "inline_definitions",
    "merge_chain",
]

SUFFIX = ".fv"
SIZED_NAME = re.compile(r"[ui][0-9]+")  # u8, i32: a sized type's name


T = TypeVar("T")
_Named = TypeVar("_Named", s.ActionDecl, s.PropertyDecl, s.ObserveDecl, s.DefDecl, s.ProcDecl)


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    decl: T
    origin: str  # the spec that declared (or last replaced) it
    span: s.Span  # the declared name


# the word a pin and `remove` use for each table a variant changes
PIN_KINDS = {"action": "action", "property": "property", "observable": "observe",
             "def": "def", "proc": "proc"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """A base definition a variant replaced or extended, as the base had it: what a
    pin (:mod:`fusever.pins`) records.  ``sources`` are the spans of the declarations
    the base's definition was made of (one, or an action and the variants' extensions
    of it), ``at`` the variant's declaration that changed it."""

    spec: str  # the variant
    kind: str  # "action" | "property" | "observe" | "def" | "proc"
    name: str
    base: str  # the spec the base's definition was last declared or changed in
    sources: tuple[s.Span, ...]
    at: s.Span
    how: str = "replaces"  # or "extends the guard of", "replaces the body of"


@dataclass(slots=True)
class Merged:
    """A spec with its variants applied: what the resolution pass works from."""

    consts: dict[str, Entry[s.Expr]]
    kinds: dict[str, tuple[str, s.Span, str]]  # global name -> (kind, span, origin)
    sorts: dict[str, Entry[s.SortDecl]]
    enums: dict[str, Entry[s.EnumDecl]]
    members: dict[str, str]  # enum member -> enum name
    vars: dict[str, Entry[s.VarDecl]]
    inits: list[s.InitDecl]
    actions: dict[str, Entry[s.ActionDecl]]
    properties: dict[str, Entry[s.PropertyDecl]]
    depth: s.DepthDecl | None
    configs: dict[str, Entry[s.ConfigDecl]] = dataclasses.field(default_factory=dict)
    merges: dict[str, Entry[s.ConfigDecl]] = dataclasses.field(default_factory=dict)
    # a merge's `depth`: how many more steps its unmerged form gets than the merged one
    extra_depth: s.DepthDecl | None = None
    observables: dict[str, Entry[s.ObserveDecl]] = dataclasses.field(default_factory=dict)
    defs: dict[str, Entry[s.DefDecl]] = dataclasses.field(default_factory=dict)
    procs: dict[str, Entry[s.ProcDecl]] = dataclasses.field(default_factory=dict)
    # what each variant of the chain replaced or extended, and the pins it wrote
    changes: list[Change] = dataclasses.field(default_factory=list)
    pins: list[tuple[str, s.PinDecl]] = dataclasses.field(default_factory=list)
    # kernel locks, desugared by fusever.locks
    locks: dict[str, Entry[s.LockDecl]] = dataclasses.field(default_factory=dict)
    # (kind, name) -> the spans of the declarations a definition is made of
    sources: dict[tuple[str, str], tuple[s.Span, ...]] = dataclasses.field(default_factory=dict)


def base_chain(files: Sequence[s.SpecFile], d: Diags) -> list[s.SpecFile]:
    """``files[0]`` and its bases, the root spec last."""
    by_name: dict[str, list[s.SpecFile]] = {}
    for f in files:
        same = by_name.setdefault(f.name, [])
        if all(g.path != f.path for g in same):
            same.append(f)
    chain = [files[0]]
    while (base := chain[-1].base) is not None:
        here = chain[-1]
        where = here.base_span if here.base_span.line else None
        found = by_name.get(base, [])
        if not found:
            d.error(
                where,
                f"unknown base spec `{base}` of variant `{here.name}`"
                + did_you_mean(base, by_name),
                (
                    Note(
                        None,
                        f"a base is looked up by its spec name among the files named, the {SUFFIX} files beside the variant, then spec/",
                    ),
                ),
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


def merge_chain(chain: Sequence[s.SpecFile], d: Diags) -> Merged:
    m = Merged({}, {}, {}, {}, {}, {}, [], {}, {}, None)
    for f in reversed(chain):
        _expand_file(f, m, d)
    return m


def _first_here(d: Diags, span: s.Span) -> tuple[Note, ...]:
    return (d.note(span, "first defined here"),)


def _extend_enum(decl: s.EnumDecl, f: s.SpecFile, m: Merged, d: Diags) -> None:
    """``extend enum E { x, y }``: a variant adds members to its base's enum ``E``, after
    the base's own (so every base value keeps its position)."""
    name = decl.name
    at = decl.name_span
    if f.base is None:
        d.error(at, f"`extend enum` adds members to a base's enum, and spec `{f.name}` is not a variant; "
                    f"list the members in `enum {name} {{ ... }}`")  # fmt: skip
        return
    if name not in m.enums:
        kind = m.kinds.get(name)
        d.error(
            at,
            f"base `{f.base}` has no enum `{name}` to extend"
            + (f" (`{name}` is a {kind[0]})" if kind is not None else did_you_mean(name, m.enums)),
            (d.note(kind[1], f"`{name}` is defined here"),) if kind is not None else (),
        )
        return
    old = m.enums[name]
    added: list[str] = []
    for x, where in zip(decl.members, decl.member_spans, strict=True):
        if m.members.get(x) == name and x in old.decl.members:
            origin = m.kinds[x][2]
            d.error(where, f"enum `{name}` already has a member `{x}` (from `{origin}`)",
                    (d.note(m.kinds[x][1], f"`{x}` is a member of `{name}` here"),))  # fmt: skip
        elif _claim(x, "enum member", where, f, m, d):
            added.append(x)
    for x in added:
        m.members[x] = name
    members = (*old.decl.members, *added)
    m.enums[name] = Entry(dataclasses.replace(old.decl, members=members), old.origin, old.span)


def _claim(name: str, kind: str, span: s.Span, f: s.SpecFile, m: Merged, d: Diags) -> bool:
    """Enter a global name declared in ``f``; False (and an error) when it is already taken."""
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


def _expand_file(f: s.SpecFile, m: Merged, d: Diags) -> None:
    """``f``'s declarations entered into ``m`` over its base's, in the order written."""
    depth_here: s.DepthDecl | None = None
    # this file's `extend action` and `replace action NAME { }`, by (form, action)
    touched: dict[tuple[str, str], s.Span] = {}
    for decl in f.decls:
        match decl:
            case s.ConstDecl(name=name, value=value):
                at = name_at(decl.name_span, decl.span)
                if _claim(name, "constant", at, f, m, d):
                    m.consts[name] = Entry(value, f.name, at)
            case s.SetDecl():
                _set_constant(decl, f, m, d)
            case s.SortDecl(name=name):
                at = name_at(decl.name_span, decl.span)
                if _claim(name, "sort", at, f, m, d):
                    m.sorts[name] = Entry(decl, f.name, at)
            case s.EnumDecl(extend=True):
                _extend_enum(decl, f, m, d)
            case s.EnumDecl():
                _add_enum(decl, f, m, d)
            case s.VarDecl(name=name, ghost=ghost):
                at = name_at(decl.name_span, decl.span)
                if _claim(name, "ghost variable" if ghost else "state variable", at, f, m, d):
                    m.vars[name] = Entry(decl, f.name, at)
            case s.LockDecl(name=name):
                at = name_at(decl.name_span, decl.span)
                if _claim(name, "lock", at, f, m, d):
                    m.locks[name] = Entry(decl, f.name, at)
            case s.InitDecl():
                m.inits.append(decl)
            case s.ActionDecl(name=name, replace=replace):
                at = name_at(decl.name_span, decl.span)
                _merge_named(m.actions, "action", "action", decl, name, replace, at, f, d, m)
            case s.ExtendAction() | s.ReplaceBody():
                _change_action(decl, f, m, d, touched)
            case s.PinDecl():
                _pin(decl, f, m, d)
            case s.DefDecl() | s.ProcDecl():
                _add_definition(decl, f, m, d)
            case s.PropertyDecl(name=name, replace=replace, kind=kind):
                at = name_at(decl.name_span, decl.span)
                _merge_named(m.properties, "property", kind.value, decl, name, replace, at, f, d, m)
            case s.ObserveDecl(name=name, replace=replace):
                at = name_at(decl.name_span, decl.span)
                _merge_named(
                    m.observables, "observable", "observe", decl, name, replace, at, f, d, m
                )
            case s.RemoveDecl():
                _remove(decl, f, m, d)
            case s.ConfigDecl():
                _add_config(decl, f, m, d)
            case s.DepthDecl(span=span):
                if depth_here is not None:
                    d.error(span, "duplicate `depth`", _first_here(d, depth_here.span))
                else:
                    depth_here = decl
                    m.depth = decl
            case _:
                assert_never(decl)


def _set_constant(decl: s.SetDecl, f: s.SpecFile, m: Merged, d: Diags) -> None:
    """``set NAME = value`` in a variant: a base constant's new value."""
    name = decl.name
    at = name_at(decl.name_span, decl.span)
    if f.base is None:
        d.error(
            at,
            f"`set` overrides a base constant, and spec `{f.name}` is not a variant; write `const {name} = ...`",
        )
    elif name not in m.consts:
        d.error(
            at,
            f"base `{f.base}` has no constant `{name}` to set" + did_you_mean(name, m.consts),
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
        m.consts[name] = Entry(decl.value, f.name, at)


def _add_enum(decl: s.EnumDecl, f: s.SpecFile, m: Merged, d: Diags) -> None:
    """``enum E { x, y }``: the enum's name and each member's, all global."""
    at = decl.name_span
    if _claim(decl.name, "enum", at, f, m, d):
        m.enums[decl.name] = Entry(decl, f.name, at)
        for member, mspan in zip(decl.members, decl.member_spans, strict=True):
            if _claim(member, "enum member", mspan, f, m, d):
                m.members[member] = decl.name


def _add_definition(decl: s.DefDecl | s.ProcDecl, f: s.SpecFile, m: Merged, d: Diags) -> None:
    """A ``def`` or ``proc``: a new global name, or (``replace``, or a name a base
    already defines this way) a base's one replaced."""
    name, replace, at = decl.name, decl.replace, decl.name_span
    if isinstance(decl, s.DefDecl):
        if replace or name in m.defs:
            _merge_named(m.defs, "def", "def", decl, name, replace, at, f, d, m)
        elif _claim(name, "definition", at, f, m, d):
            m.defs[name] = Entry(decl, f.name, at)
    elif replace or name in m.procs:
        _merge_named(m.procs, "proc", "proc", decl, name, replace, at, f, d, m)
    elif _claim(name, "procedure", at, f, m, d):
        m.procs[name] = Entry(decl, f.name, at)


def _remove(decl: s.RemoveDecl, f: s.SpecFile, m: Merged, d: Diags) -> None:
    """``remove action NAME`` (or property, observe, def, proc) in a variant."""
    what, name = decl.what, decl.name
    at = name_at(decl.name_span, decl.span)
    table: (
        dict[str, Entry[s.ActionDecl]]
        | dict[str, Entry[s.PropertyDecl]]
        | dict[str, Entry[s.ObserveDecl]]
        | dict[str, Entry[s.DefDecl]]
        | dict[str, Entry[s.ProcDecl]]
    )
    match what:
        case "action":
            table = m.actions
        case "observe":
            table = m.observables
        case "def":
            table = m.defs
        case "proc":
            table = m.procs
        case _:
            table = m.properties
    if f.base is None:
        d.error(at, f"`remove` is only allowed in a variant; spec `{f.name}` has no base")
    elif name not in table or table[name].origin == f.name:
        d.error(
            at,
            f"base `{f.base}` has no {'observable' if what == 'observe' else what} `{name}` to remove"
            + did_you_mean(name, [k for k, v in table.items() if v.origin != f.name]),
        )
    else:
        del table[name]
        if what in ("def", "proc"):
            del m.kinds[name]  # the name is free again


def _add_config(decl: s.ConfigDecl, f: s.SpecFile, m: Merged, d: Diags) -> None:
    """A named configuration or step merge: a new name, not one a base defines."""
    name = decl.name
    at = name_at(decl.name_span, decl.span)
    configs = m.merges if decl.merge else m.configs
    what = "merge" if decl.merge else "configuration"
    _add_new(configs, name, Entry(decl, f.name, at), what, "name this one differently", d)


def _merge_named(
    table: dict[str, Entry[_Named]],
    what: str,
    keyword: str,
    decl: _Named,
    name: str,
    replace: bool,
    at: s.Span,
    f: s.SpecFile,
    d: Diags,
    m: Merged,
) -> None:
    old = table.get(name)
    key = (PIN_KINDS[what], name)
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
            m.changes.append(
                Change(f.name, key[0], name, old.origin, m.sources.get(key, (old.decl.span,)), at)
            )
            table[name] = Entry(decl, f.name, at)
            m.sources[key] = (decl.span,)
        return
    if name not in table:
        m.sources[key] = (decl.span,)
    _add_new(table, name, Entry(decl, f.name, at), what, f"write `replace {keyword} {name}`", d)


def _change_action(
    decl: s.ExtendAction | s.ReplaceBody,
    f: s.SpecFile,
    m: Merged,
    d: Diags,
    touched: dict[tuple[str, str], s.Span],
) -> None:
    """``extend action NAME when e`` (the base's guard, and ``e``) or ``replace action
    NAME { ... }`` (a new body under the base's header): the base's action changed in
    place, keeping its position in the spec."""
    name = decl.name
    at = name_at(decl.name_span, decl.span)
    extend = isinstance(decl, s.ExtendAction)
    form = "extend action" if extend else "replace action"
    old = m.actions.get(name)
    if f.base is None:
        d.error(
            at, f"`{form} {name}` changes a base's action, and spec `{f.name}` is not a variant"
        )
        return
    if old is None:
        d.error(
            at,
            f"base `{f.base}` has no action `{name}` to {'extend' if extend else 'replace'}"
            + did_you_mean(name, m.actions),
        )
        return
    if (form, name) in touched:
        what = "guard extension" if extend else "body replacement"
        d.error(
            at,
            f"duplicate {what} of action `{name}`; write one",
            (d.note(touched[(form, name)], "the first is here"),),
        )
        return
    if old.origin == f.name and not any(k[1] == name for k in touched):
        d.error(
            at,
            f"action `{name}` is declared in this variant; "
            + ("write the conjunct in its `when`" if extend else "change its body there"),
            _first_here(d, old.span),
        )
        return
    key = ("action", name)
    if not any(k[1] == name for k in touched):
        how = "extends the guard of" if extend else "replaces the body of"
        sources = m.sources.get(key, (old.decl.span,))
        m.changes.append(Change(f.name, "action", name, old.origin, sources, at, how))
    touched[(form, name)] = at
    a = old.decl
    if isinstance(decl, s.ExtendAction):
        guard = (
            decl.guard
            if a.guard is None
            else s.Binary(s.BinOp.AND, a.guard, decl.guard, decl.guard.span)
        )
        new = dataclasses.replace(a, guard=guard)
    else:
        new = dataclasses.replace(a, body=decl.body)
    m.actions[name] = Entry(new, f.name, old.span)
    m.sources[key] = (*m.sources.get(key, (a.span,)), decl.span)


def _pin(decl: s.PinDecl, f: s.SpecFile, m: Merged, d: Diags) -> None:
    """``pin KIND NAME "hash"``: kept for :mod:`fusever.pins`, which compares it with the
    base's definition; only a variant has a base to pin."""
    if f.base is None:
        at = name_at(decl.name_span, decl.span)
        d.error(at, f"`pin` records a base's definition, and spec `{f.name}` is not a variant")
        return
    m.pins.append((f.name, decl))


def _add_new(
    table: dict[str, Entry[Any]], name: str, entry: Entry[Any], what: str, hint: str, d: Diags
) -> None:
    """Declare ``name`` anew in this file: an error when a base or this file already
    declares it (``hint`` says what to do about the base's)."""
    old = table.get(name)
    if old is None:
        table[name] = entry
    elif old.origin != entry.origin:
        d.error(
            entry.span,
            f"{what} `{name}` is already defined in base `{old.origin}`; {hint}",
            (d.note(old.span, f"`{name}` is defined here"),),
        )
    else:
        d.error(entry.span, f"duplicate {what} `{name}`", _first_here(d, old.span))


def _is_builtin_type(name: str) -> bool:
    return name in ("bool", "int") or SIZED_NAME.fullmatch(name) is not None


def inline_definitions(m: Merged, d: Diags) -> dict[str, s.Expr]:
    """Every def and proc call replaced by the body it names (:mod:`fusever.expand`),
    in init, actions, properties and observables; a problem there stops the check.
    Returns the bodies of the defs nothing calls, to be type-checked on their own."""
    x = Expander(
        {n: e.decl for n, e in m.defs.items()},
        {n: e.decl for n, e in m.procs.items()},
        {n: kind for n, (kind, _, _) in m.kinds.items()},
    )
    x.check_definitions()
    m.inits = [dataclasses.replace(i, body=x.block(i.body)) for i in m.inits]
    for name, a in m.actions.items():
        m.actions[name] = dataclasses.replace(a, decl=x.action(a.decl))
    for name, p in m.properties.items():
        m.properties[name] = dataclasses.replace(
            p, decl=dataclasses.replace(p.decl, expr=x.expr(p.decl.expr))
        )
    for name, o in m.observables.items():
        binders = [b.name for b in o.decl.binders]
        m.observables[name] = dataclasses.replace(
            o, decl=dataclasses.replace(o.decl, expr=x.expr(o.decl.expr, binders))
        )
    for diag in x.diagnostics:
        d.error(diag.span, diag.message, [d.note(n.span, n.message) for n in diag.notes])
    if x.diagnostics:
        d.raise_if_any()
    return {n: body for n, body in x.bodies.items() if n not in x.used}


def apply_config(m: Merged, config: str | None, spec: str, d: Diags) -> None:
    """Check every configuration's names; apply the selected one's values and depth."""
    _apply_named(m, m.configs, "configuration", "--config", config, spec, d, extra=False)


def apply_merge(m: Merged, merge: str | None, spec: str, d: Diags) -> None:
    """Check every merge's names; apply the selected one's values (its unmerged form)."""
    _apply_named(m, m.merges, "merge", "--unmerge", merge, spec, d, extra=True)


def _apply_named(
    m: Merged,
    table: dict[str, Entry[s.ConfigDecl]],
    what: str,
    flag: str,
    chosen_name: str | None,
    spec: str,
    d: Diags,
    *,
    extra: bool,
) -> None:
    for cname, entry in table.items():
        for item in entry.decl.items:
            if isinstance(item, s.SetDecl) and item.name not in m.consts:
                d.error(
                    name_at(item.name_span, item.span),
                    f"{what} `{cname}` sets unknown constant `{item.name}`"
                    + did_you_mean(item.name, m.consts),
                )
    if chosen_name is None:
        return
    chosen = table.get(chosen_name)
    if chosen is None:
        known = ", ".join(f"`{n}`" for n in table) or "none"
        d.items.append(
            Diagnostic(
                None,
                f"{flag}: spec `{spec}` has no {what} `{chosen_name}`"
                + did_you_mean(chosen_name, table)
                + f" (it has: {known})",
            )
        )
        return
    apply_values(m, chosen, what, chosen_name, d, extra=extra)


def apply_values(
    m: Merged, chosen: Entry[s.ConfigDecl], what: str, name: str, d: Diags, *, extra: bool
) -> None:
    """One configuration's (or, ``extra``, one merge's) ``set``s and depth applied to
    ``m``; the names the others set are not looked at (see :func:`apply_config`)."""
    chosen_name = name
    seen: set[str] = set()
    for item in chosen.decl.items:
        match item:
            case s.SetDecl(name=name, value=value):
                at = name_at(item.name_span, item.span)
                if name in seen:
                    d.error(at, f"`{name}` is set more than once in {what} `{chosen_name}`")
                elif name in m.consts:
                    m.consts[name] = Entry(value, chosen.origin, at)
                seen.add(name)
            case s.DepthDecl() if extra:
                m.extra_depth = item
            case s.DepthDecl():
                m.depth = item
            case _:
                assert_never(item)
