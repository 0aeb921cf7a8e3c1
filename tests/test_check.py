"""check and load: the transition system a spec becomes, and the rules it enforces."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import ts
from fusever.check import DEFAULT_DEPTH, check
from fusever.diagnostics import SpecError
from fusever.load import discover, load_specs
from fusever.parse import parse_text

ROOT = Path(__file__).parent.parent
FIX = ROOT / "tests" / "fixtures"
U8 = ts.BitVecType(8)


def sys_(text: str, *bases: str, sets: tuple[str, ...] = ()) -> ts.TransitionSystem:
    files = [parse_text(text, "t.fv"), *(parse_text(b, f"b{i}.fv") for i, b in enumerate(bases))]
    return check(files, sets)


def errors(text: str, *bases: str, sets: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(SpecError) as e:
        sys_(text, *bases, sets=sets)
    return [d.message for d in e.value.diagnostics]


BASE = """
spec base
const W = 8
const N = 2
sort S = N
var x: u<W>
var m: S -> bool
init { x := 0  m := false }
action a(i: S) { m[i] := true }
action b() { x := x + 1 }
invariant p: x < 10
transition q: x' >= x
"""


# ---- shipped specs --------------------------------------------------------------


SHIPPED = sorted([*ROOT.glob("docs/examples/*.fv"), *ROOT.glob("spec/**/*.fv"), *FIX.glob("*.fv")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_specs_check_clean(path: Path) -> None:
    (system,) = load_specs([path])
    assert system.path == str(path)


def test_counter_example() -> None:
    (c,) = load_specs([ROOT / "docs/examples/counter.fv"])
    assert c.settings == (("W", 3), ("START", 0))
    assert c.var("n").type == ts.BitVecType(3) and c.var("ticks").ghost
    assert c.depth == 10
    assert c.property("wraps").covers == "no_wrap"
    (wide,) = load_specs([ROOT / "docs/examples/counter.fv"], ["W=64", "START=0xff"])
    assert wide.var("n").type == ts.BitVecType(64)
    assert wide.settings == (("W", 64), ("START", 255))
    init = wide.init[0]
    assert isinstance(init, ts.Assign) and init.value == ts.Lit(255, ts.BitVecType(64))


def test_deterministic() -> None:
    paths = [FIX / "rich.fv", FIX / "rich_fix.fv"]
    assert load_specs(paths) == load_specs(paths)


# ---- constants, literals and types ---------------------------------------------


def test_constants_fold_and_settings_order() -> None:
    t = sys_(
        "spec s const B = A * 2 + 1 const A = if true then 3 else 4 const F = !(A > B) var x: u<B> init { x := B - A }"
    )
    assert t.settings == (("B", 7), ("A", 3), ("F", True))
    assert t.var("x").type == ts.BitVecType(7)
    assert t.init == (ts.Assign("x", (), ts.Lit(4, ts.BitVecType(7))),)


def test_literal_takes_the_other_operands_type() -> None:
    t = sys_(
        "spec s var x: u8 var y: i8 init { x := 0  y := -1 } action a() when x + 1 > 3 { y := y - 1 }"
    )
    assert t.init[1] == ts.Assign("y", (), ts.Lit(255, ts.BitVecType(8, signed=True)))
    g = t.action("a").guard
    assert isinstance(g, ts.Binary) and g.rhs == ts.Lit(3, U8)
    assert isinstance(g.lhs, ts.Binary) and g.lhs.rhs == ts.Lit(1, U8)


def test_literal_ranges() -> None:
    assert errors("spec s var x: u8 init { x := 256 }") == ["256 does not fit in u8 (0 .. 255)"]
    assert errors("spec s var x: i8 init { x := -129 }") == [
        "-129 does not fit in i8 (-128 .. 127)"
    ]
    assert errors("spec s sort S = 2 var m: S -> bool init { m[2] := true  m := false }") == [
        "2 is not an element of sort S (0 .. 1)"
    ]


def test_builtins_and_int() -> None:
    t = sys_(
        "spec s var x: u8 ghost g: int init { x := 0  g := 0 } action a() { g := int(x) } invariant p: int(signed(x)) <= g"
    )
    (assign,) = t.action("a").body
    assert isinstance(assign, ts.Assign) and assign.value == ts.Cast(ts.Var("x", (), U8), ts.INT)
    assert errors("spec s var x: u8 init { x := 0 } action a() { x := signed(x) }") == [
        "type mismatch: cannot assign i8 to `x` of type u8"
    ]
    assert errors("spec s var x: u8 init { x := 0 } invariant p: signed(3) == 3") == [
        "`signed` needs a bit-vector argument (u<W> or i<W>), found int"
    ]


def test_type_errors() -> None:
    assert errors(
        "spec s var x: u8 var b: bool init { x := 0  b := true } action a() { b := x }"
    ) == ["type mismatch: cannot assign u8 to `b` of type bool"]
    assert errors("spec s var x: u8 init { x := 0 } invariant p: x && true") == [
        "`&&` needs bool operands, found u8"
    ]
    assert errors("spec s enum E { a, b } var e: E init { e := a } invariant p: e < b") == [
        "`<` needs numbers or sort elements, found E"
    ]
    # sort elements are ordered but have no arithmetic
    assert errors(
        "spec s sort S = 2 var m: S -> bool init { m := false } invariant p: forall i: S. i + 1 > i"
    ) == ["`+` needs numbers (u<W>, i<W> or int), found S"]
    ordered = sys_(
        "spec s sort S = 2 var m: S -> bool init { m := false } invariant p: forall i: S, j: S. i < j ==> m[i] || !m[j]"
    )
    assert ordered.properties[0].name == "p"
    assert errors("spec s var x: u<0> init { x := 0 }") == [
        "bit width must be between 1 and 4096, not 0"
    ]
    assert errors("spec s sort S = 1 var m: u8 -> S init { m := 0 }") == [
        "a map index must be finite (a sort, an enum or bool), not u8"
    ]


def test_quantifiers_nest() -> None:
    t = sys_(
        "spec s sort S = 2 var m: S -> bool init { m := false } invariant p: forall a: S, b: S. m[a] == m[b]"
    )
    q = t.property("p").expr
    assert (
        isinstance(q, ts.Quant)
        and q.var == "a"
        and isinstance(q.body, ts.Quant)
        and q.body.var == "b"
    )


# ---- state, init, actions ----------------------------------------------------------


def test_whole_map_assignment_becomes_a_loop() -> None:
    t = sys_("spec s sort S = 2 var m: (S, bool) -> u8 init { m := 7 }")
    (outer,) = t.init
    assert isinstance(outer, ts.ForAll) and outer.sort == ts.SortType("S", 2)
    (inner,) = outer.body
    assert isinstance(inner, ts.ForAll) and inner.sort == ts.BOOL
    (assign,) = inner.body
    assert isinstance(assign, ts.Assign) and assign.value == ts.Lit(7, U8)
    assert [a.name for a in assign.args if isinstance(a, ts.Local)] == [outer.var, inner.var]


def test_init_blocks_concatenate_base_first() -> None:
    t = sys_("variant v of base var y: bool init { y := true }", BASE)
    assert [st.name for st in t.init if isinstance(st, ts.Assign)] == ["x", "y"]
    assert t.lineage == ("v", "base")


def test_choose_becomes_a_chosen_param_and_guard() -> None:
    t = sys_(
        "spec s var x: u8 init { x := 0 } action a() when x < 5 { choose v: u8 where v > x  x := v }"
    )
    a = t.action("a")
    assert a.params == (ts.Param("v", U8, chosen=True),)
    g = a.guard
    assert isinstance(g, ts.Binary) and g.op is ts.BinOp.AND
    assert isinstance(g.rhs, ts.Binary) and g.rhs.lhs == ts.Local("v", U8)
    assert list(ts.instances(a)) == [()]  # chosen values are not enumerated


def test_actor_and_default_guard() -> None:
    t = sys_(BASE.replace("action a(i: S)", "action a(i: S) by opener(i)"))
    a = t.action("a")
    assert (a.actor, a.actor_param) == ("opener", "i")
    assert t.action("b").guard == ts.Lit(True, ts.BOOL)
    assert t.depth == DEFAULT_DEPTH
    assert errors(BASE.replace("action a(i: S)", "action a(i: S) by opener(j)")) == [
        "the actor `j` must be a parameter of action `a`"
    ]


def test_ghost_rules() -> None:
    ok = sys_(
        "spec s var x: u8 ghost g: int init { x := 0  g := 0 } action a() { if x > 0 { g := g + int(x) } }"
    )
    assert ok.var("g").ghost
    assert errors(
        "spec s var x: u8 ghost g: u8 sort S = 2 var m: S -> u8 init { x := 0 g := 0 m := 0 } "
        "action a() { for all i in S where g > 0 { m[i] := 1 } }"
    ) == ["ghost state `g` flows into kernel state `m` through an enclosing condition"]
    assert errors(
        "spec s var x: u8 ghost g: bool init { x := 0 g := false } "
        "action a() { choose v: u8 where g  x := v }"
    ) == ["ghost state `g` flows into the guard of action `a`"]
    assert errors("spec s var x: u8 ghost g: u8 init { x := any g := 0 assume x == g }") == [
        "ghost state `g` flows into kernel state `x` through this `assume`"
    ]


def test_primes() -> None:
    t = sys_(BASE)
    assert t.property("q").two_state and not t.property("p").two_state
    assert errors(BASE + "invariant r: x' == 0") == [
        "primed `x'` is only allowed in transition properties and cover goals"
    ]


def test_collects_every_error_in_order() -> None:
    msgs = errors("spec s\nvar x: u9000\nvar y: bool\ninit { y := 1 }\naction a() { z := 0 }")
    assert msgs == [
        "bit width must be between 1 and 4096, not 9000",
        "type mismatch: cannot assign int to `y` of type bool",
        "unknown state variable `z`",
    ]


# ---- variants ---------------------------------------------------------------------------


def test_variant_expansion() -> None:
    v = sys_(
        'variant v of base "d"\nset N = 3\nconst K = 1\nreplace action b() { x := x + K }\n'
        "remove action a\nremove property q\ninvariant r: x != 200\ndepth 4",
        BASE,
    )
    assert v.settings == (("W", 8), ("N", 3), ("K", 1))
    assert v.sorts == (ts.SortType("S", 3),)
    assert [a.name for a in v.actions] == ["b"]
    assert [p.name for p in v.properties] == ["p", "r"]
    assert v.depth == 4 and v.description == "d"
    (assign,) = v.action("b").body
    assert isinstance(assign, ts.Assign) and isinstance(assign.value, ts.Binary)
    assert assign.value.rhs == ts.Lit(1, U8)


def test_replace_keeps_the_position() -> None:
    v = sys_("variant v of base replace action a(i: S) { skip }", BASE)
    assert [a.name for a in v.actions] == ["a", "b"] and v.action("a").body == ()


def test_variant_of_variant_and_set_after_expansion() -> None:
    mid = "variant mid of base set W = 16"
    top = sys_("variant top of mid set N = 1", mid, BASE, sets=("W=4",))
    assert top.lineage == ("top", "mid", "base")
    assert top.var("x").type == ts.BitVecType(4)
    assert dict(top.settings) == {"W": 4, "N": 1}


def test_variant_errors() -> None:
    assert errors("variant v of base set X = 1", BASE) == ["base `base` has no constant `X` to set"]
    assert errors("variant v of base replace invariant pp: true", BASE) == [
        "base `base` has no property `pp` to replace; did you mean `p`?"
    ]
    assert errors("variant v of nothing", BASE) == ["unknown base spec `nothing` of variant `v`"]
    assert errors("variant a of b", "variant b of a") == ["variant cycle: `a` -> `b` -> `a`"]
    assert errors("spec s set X = 1") == [
        "`set` overrides a base constant, and spec `s` is not a variant; write `const X = ...`"
    ]


def test_set_errors_point_into_the_argument() -> None:
    with pytest.raises(SpecError) as e:
        sys_(BASE, sets=("W=yes",))
    (d,) = e.value.diagnostics
    assert d.span is not None and (d.span.file, d.span.col, d.span.end_col) == (
        "<command line>",
        3,
        6,
    )
    assert d.line_text == "W=yes"


# ---- load ---------------------------------------------------------------------------------


def test_load_finds_the_base_beside_the_variant(tmp_path: Path) -> None:
    (tmp_path / "a_base.fv").write_text(BASE)
    (tmp_path / "z.fv").write_text("variant z of base set N = 1")
    (tmp_path / "broken.fv").write_text("this is not a spec")
    (v,) = load_specs([tmp_path / "z.fv"])
    assert v.lineage == ("z", "base")
    assert discover(tmp_path) == [tmp_path / "a_base.fv", tmp_path / "broken.fv", tmp_path / "z.fv"]


def test_load_finds_the_base_among_named_files(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "b.fv").write_text(BASE)
    (tmp_path / "two" / "v.fv").write_text("variant v of base")
    v, b = load_specs([tmp_path / "two" / "v.fv", tmp_path / "one" / "b.fv"])
    assert (v.name, b.name) == ("v", "base")


def test_load_reports_missing_files_and_every_spec(tmp_path: Path) -> None:
    (tmp_path / "bad.fv").write_text("spec bad var x: u8")
    with pytest.raises(SpecError) as e:
        load_specs([tmp_path / "missing.fv", tmp_path / "bad.fv"])
    first, second = e.value.diagnostics
    assert first.span is None and "missing.fv: no such file" in first.message
    assert second.span is not None and second.span.file == str(tmp_path / "bad.fv")
    assert second.line_text == "spec bad var x: u8"


@pytest.mark.parametrize("name", ["counter", "lost_update"])
def test_language_reference_shows_the_examples_as_they_are(name: str) -> None:
    text = (ROOT / "docs" / "examples" / f"{name}.fv").read_text()
    lines = text.splitlines()
    while lines and lines[0].startswith("//"):  # the file's leading comment is prose in the docs
        lines.pop(0)
    body = "\n".join(lines).strip()
    assert body in (ROOT / "docs" / "language.md").read_text()


# ---- configurations ------------------------------------------------------------------

CONFIGURED = (
    BASE
    + """
config wide "a wider counter, deeper" {
    set W = 16
    set N = W - 13
    depth 30
}
config narrow { set W = 4 }
"""
)


def _width(system: ts.TransitionSystem) -> int:
    t = system.var("x").type
    assert isinstance(t, ts.BitVecType)
    return t.width


def test_config_sets_constants_and_depth() -> None:
    default = check([parse_text(CONFIGURED, "t.fv")])
    wide = check([parse_text(CONFIGURED, "t.fv")], config="wide")
    assert (_width(default), default.depth, default.config) == (8, DEFAULT_DEPTH, None)
    assert (_width(wide), wide.depth, wide.config) == (16, 30, "wide")
    # a config's value is an expression over the other constants
    assert dict(wide.settings)["N"] == 3
    assert wide.sorts[0].size == 3
    assert default.configs == (("wide", "a wider counter, deeper"), ("narrow", None))


def test_set_applies_over_the_config() -> None:
    system = check([parse_text(CONFIGURED, "t.fv")], ["W=12"], config="narrow")
    assert _width(system) == 12


def test_variants_inherit_configs() -> None:
    v = check(
        [parse_text("variant v of base set W = 5", "v.fv"), parse_text(CONFIGURED, "b.fv")],
        config="narrow",
    )
    assert _width(v) == 4  # the configuration applies over the variant's own `set`
    assert [n for n, _ in v.configs] == ["wide", "narrow"]


def test_config_errors() -> None:
    with pytest.raises(SpecError) as e:
        check([parse_text(CONFIGURED, "t.fv")], config="wid")
    assert e.value.diagnostics[0].message.startswith(
        "--config: spec `base` has no configuration `wid`; did you mean `wide`?"
    )
    assert errors(BASE + "config c { set WW = 1 }") == [
        "configuration `c` sets unknown constant `WW`; did you mean `W`?"
    ]
    assert errors(BASE + "config c { set W = 1 }\nconfig c { set W = 2 }") == [
        "duplicate configuration `c`"
    ]


def test_action_description_is_a_template_over_parameters() -> None:
    system = sys_(
        'spec s sort S = 2 var m: S -> bool init { m := false } action a(i: S) "set {i}" by cpu { m[i] := true }'
    )
    assert system.action("a").description == "set {i}"
    assert errors(
        'spec s sort S = 2 var m: S -> bool init { m := false } action a(i: S) "set {j}" { m[i] := true }'
    ) == ["the description of action `a` names `{j}`, which is not a parameter"]


# ---- enum members added by a variant ------------------------------------------------

EBASE = """
spec ebase
enum Op { o_open, o_read }
var last: Op
init { last := o_open }
action a(o: Op) { last := o }
invariant p: last != o_read
"""


def test_a_variant_extends_a_base_enum_after_its_members() -> None:
    t = sys_(
        "variant v of ebase\nextend enum Op { o_write }\nextend enum Op { o_flush, }\n"
        "action w() when last == o_write { last := o_flush }",
        EBASE,
    )
    (op,) = t.enums
    assert op.members == ("o_open", "o_read", "o_write", "o_flush")  # base values keep their place
    assert len(list(ts.instances(t.action("a")))) == 4  # a base action's parameter ranges over all
    vv = sys_(
        "variant vv of v\nextend enum Op { o_sync }",
        "variant v of ebase\nextend enum Op { o_write }",
        EBASE,
    )
    assert vv.enums[0].members == ("o_open", "o_read", "o_write", "o_sync")


def test_extend_enum_mistakes_are_located() -> None:
    assert errors("variant v of ebase\nextend enum Op { o_read }", EBASE) == [
        "enum `Op` already has a member `o_read` (from `ebase`)"
    ]
    assert errors("variant v of ebase\nextend enum Opx { z }", EBASE) == [
        "base `ebase` has no enum `Opx` to extend; did you mean `Op`?"
    ]
