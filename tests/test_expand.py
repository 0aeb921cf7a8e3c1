"""The definitions pass: ``def`` and ``proc`` inlined before checking.

The invariant that matters: a spec that names its pieces and the same spec written
out by hand check into the *same* transition system (equal ``repr``, so the same
``fingerprint`` and the same recorded proofs).  Error messages are golden files
(tests/errors/def_*.fv, proc_*.fv); this file pins the rest.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fusever import syntax as s
from fusever import ts
from fusever.check import check
from fusever.diagnostics import SpecError
from fusever.expand import Expander
from fusever.load import load_specs
from fusever.parse import parse_text
from fusever.regress import fingerprint

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"


def _meaning(system: ts.TransitionSystem) -> str:
    return repr(dataclasses.replace(system, path=""))


def _check(*texts: str) -> ts.TransitionSystem:
    return check([parse_text(t, f"f{i}.fv") for i, t in enumerate(texts)])


def _problems(*texts: str) -> list[str]:
    with pytest.raises(SpecError) as e:
        _check(*texts)
    return [d.message for d in e.value.diagnostics]


# ---- the invariant: named pieces are the text written out ---------------------------

CONFIGS = [None, "two_fuds", "three_writers", "w4", "create", "restart"]


@pytest.mark.parametrize("config", CONFIGS)
def test_fuse_v2_with_defs_and_procs_is_fuse_v2(config: str | None) -> None:
    # tests/fixtures/fuse_v2_defs.fv names stale, take_seq, tick, record_note,
    # sent_in_order and open_returns; nothing else differs from tests/fixtures/plain/
    # fuse_v2.fv, spec/fuse_v2.fv as it was written out by hand before it used defs
    (plain,) = load_specs([FIX / "plain" / "fuse_v2.fv"], config=config)
    (named,) = load_specs([FIX / "fuse_v2_defs.fv"], config=config)
    assert _meaning(named) == _meaning(plain)
    assert fingerprint(named) == fingerprint(plain)


def test_wrapsafe_as_one_replaced_def_is_wrapsafe() -> None:
    plain, _ = load_specs([FIX / "plain" / "fuse_wrapsafe.fv", FIX / "plain" / "fuse_v2.fv"])
    (named,) = load_specs([FIX / "fuse_wrapsafe_defs.fv"])
    assert fingerprint(named) == fingerprint(plain)
    assert _meaning(named) == _meaning(plain)


def test_a_replaced_def_changes_exactly_its_uses() -> None:
    (base,) = load_specs([FIX / "fuse_v2_defs.fv"])
    (variant,) = load_specs([FIX / "fuse_wrapsafe_defs.fv"])
    changed = [a.name for a, b in zip(base.actions, variant.actions, strict=True) if a != b]
    assert changed == ["link"]  # the only action that calls stale
    same = dataclasses.replace(
        variant,
        name=base.name,
        description=base.description,
        lineage=base.lineage,
        actions=base.actions,
        path=base.path,
    )
    assert same == base
    link = next(a for a in variant.actions if a.name == "link")
    casts = [x for st in link.body for x in _exprs(st) if isinstance(x, ts.Cast)]
    assert casts and casts[0].type == ts.BitVecType(64, signed=True)


def _exprs(st: ts.Stmt) -> list[ts.Expr]:
    match st:
        case ts.If(cond=c, then=a, else_=b):
            return [*ts.walk(c), *(x for y in (*a, *b) for x in _exprs(y))]
        case ts.Assign(value=v):
            return [] if v is None else list(ts.walk(v))
        case _:
            return []


# ---- variants: replace, add, remove ---------------------------------------------

BASE = """spec base
sort File = 2
var x: File -> u8
var y: u8
def small(f: File): bool = x[f] < 3
proc bump(f: File) { x[f] := x[f] + 1 }
init { x := 0  y := 0 }
action a(f: File) when small(f) { bump(f) }
"""


def test_replace_proc_and_add_def_in_a_variant() -> None:
    variant = """variant v of base
def big(f: File): bool = x[f] > 200
replace proc bump(f: File) { if !big(f) { x[f] := x[f] + 2 } }
"""
    hand = BASE.replace("{ bump(f) }", "{ if !(x[f] > 200) { x[f] := x[f] + 2 } }")
    v = _check(variant, BASE)
    h = _check(hand.replace("spec base", "spec v"))
    assert v.actions == h.actions


def test_remove_def_frees_its_uses_to_fail_and_its_name() -> None:
    variant = "variant v of base\nremove def small\n"
    assert _problems(variant, BASE) == [
        "unknown def or function `small`; the built-ins are signed(e), unsigned(e), int(e) and pow2(N)"
    ]
    again = "variant v of base\nremove def small\ndef small(f: File): bool = true\n"
    assert _check(again, BASE).actions[0].guard == ts.Lit(True, ts.BOOL)


def test_new_def_of_a_base_name_must_say_replace() -> None:
    variant = "variant v of base\ndef small(f: File): bool = true\n"
    (msg,) = _problems(variant, BASE)
    assert msg == "def `small` is already defined in base `base`; write `replace def small`"


def test_replace_and_remove_only_in_a_variant() -> None:
    assert (
        "`replace` is only allowed in a variant"
        in _problems(BASE + "replace def small(f: File): bool = true\n")[0]
    )


# ---- substitution -----------------------------------------------------------------


def test_substitution_is_capture_free() -> None:
    # the def's bound `g` would capture the caller's `g`: it is renamed, the caller's kept
    spec = """spec s
sort File = 2
var x: File -> u8
def least(f: File): bool = forall g: File. x[f] <= x[g]
init { x := 0 }
action a(g: File) when least(g) { skip }
"""
    (a,) = _check(spec).actions
    assert isinstance(a.guard, ts.Quant)
    assert a.guard.var != "g" and a.guard.var.startswith("g#")
    body = a.guard.body
    assert isinstance(body, ts.Binary)
    assert body.lhs == ts.Var("x", (ts.Local("g", ts.SortType("File", 2)),), ts.BitVecType(8))
    assert body.rhs == ts.Var(
        "x", (ts.Local(a.guard.var, ts.SortType("File", 2)),), ts.BitVecType(8)
    )


def test_bound_names_are_kept_when_nothing_is_captured() -> None:
    spec = """spec s
sort File = 2
var x: File -> u8
def least(f: File): bool = forall g: File. x[f] <= x[g]
proc clear() { for all g in File { x[g] := 0 } }
init { x := 0 }
action a(f: File) when least(f) { clear() }
"""
    (a,) = _check(spec).actions
    assert isinstance(a.guard, ts.Quant) and a.guard.var == "g"
    (loop,) = a.body
    assert isinstance(loop, ts.ForAll) and loop.var == "g"


def test_proc_loop_variable_renamed_under_a_caller_loop_of_the_same_name() -> None:
    spec = """spec s
sort File = 2
var x: (File, File) -> bool
proc row(f: File) { for all g in File { x[f, g] := true } }
init { x := false }
action a() { for all g in File { row(g) } }
"""
    (a,) = _check(spec).actions
    (outer,) = a.body
    assert isinstance(outer, ts.ForAll) and outer.var == "g"
    (inner,) = outer.body
    assert isinstance(inner, ts.ForAll) and inner.var.startswith("g#")
    (assign,) = inner.body
    assert isinstance(assign, ts.Assign)
    assert [x.name for x in assign.args if isinstance(x, ts.Local)] == ["g", inner.var]


def test_nested_defs_and_procs_inline_in_order() -> None:
    spec = """spec s
var x: u8
var y: u8
def now: u8 = x
def later(k: u8): u8 = now() + k
proc both() { x := later(1)  y := now }
init { x := 0  y := 0 }
action a() { both() }
"""
    hand = """spec s
var x: u8
var y: u8
init { x := 0  y := 0 }
action a() { x := x + 1  y := x }
"""
    assert _check(spec).actions == _check(hand).actions


def test_procs_inline_in_init_and_defs_in_properties_and_observables() -> None:
    spec = """spec s
sort File = 2
var x: File -> u8
def small(f: File): bool = x[f] < 3
proc zero(f: File) { x[f] := 0 }
init { for all f in File { zero(f) } }
action a(f: File) when small(f) { x[f] := x[f] + 1 }
invariant p: forall f: File. small(f) || x[f] >= 3
observe o[f: File]: small(f)
"""
    hand = """spec s
sort File = 2
var x: File -> u8
init { for all f in File { x[f] := 0 } }
action a(f: File) when x[f] < 3 { x[f] := x[f] + 1 }
invariant p: forall f: File. x[f] < 3 || x[f] >= 3
observe o[f: File]: x[f] < 3
"""
    assert _meaning(_check(spec)) == _meaning(_check(hand))


# ---- the pass on its own ----------------------------------------------------------------


def test_the_pass_is_tree_in_tree_out() -> None:
    spec = parse_text(BASE, "b.fv")
    defs = {d.name: d for d in spec.decls if isinstance(d, s.DefDecl)}
    procs = {p.name: p for p in spec.decls if isinstance(p, s.ProcDecl)}
    x = Expander(defs, procs, {"x": "state variable", "y": "state variable", "File": "sort"})
    (action,) = [a for a in spec.decls if isinstance(a, s.ActionDecl)]
    out = x.action(action)
    assert not x.diagnostics
    assert isinstance(out.guard, s.Ascribe) and out.guard.type == s.NamedType("bool")
    (st,) = out.body
    assert isinstance(st, s.Assign) and st.name == "x"


def test_an_unused_def_is_still_checked() -> None:
    spec = BASE + "def never(f: File): bool = y < z\n"
    (msg,) = _problems(spec)
    assert msg.startswith("unknown name `z` in def `never`")


def test_a_local_may_not_shadow_a_def() -> None:
    spec = BASE + "action b(small: File) { skip }\n"
    (msg,) = _problems(spec)
    assert msg == "`small` shadows the definition `small`; choose another name"


def test_a_def_may_not_reuse_a_global_name() -> None:
    (msg,) = _problems(BASE + "def y: bool = true\n")
    assert "`y` is already defined (as a state variable)" in msg


def test_an_unused_def_is_type_checked_on_its_own() -> None:
    spec = BASE + "def never(f: File): bool = x[f] + 1\ndef fine(f: File): u8 = x[f] + 1\n"
    assert _problems(spec) == ["the body of def `never` must be bool, found u8"]


def test_a_def_may_not_take_a_builtin_name() -> None:
    (msg,) = _problems(BASE + "def signed(v: u8): bool = true\n")
    assert msg == "`signed` is a built-in function; choose another name"


def test_a_mistake_in_a_body_reached_twice_is_reported_once() -> None:
    spec = BASE + (
        "def inner(f: File): bool = x[f] + 1\n"
        "def outer(f: File): bool = inner(f)\n"
        "action b(f: File) when inner(f) && outer(f) { skip }\n"
    )
    assert _problems(spec) == ["the body of def `inner` must be bool, found u8"]
