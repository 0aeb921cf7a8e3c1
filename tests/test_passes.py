"""The front end's passes run on their own (check() runs them all; test_check tests that):
what lineage hands on before any name is resolved, and what consts folds."""

from __future__ import annotations

import pytest

from fusever import syntax as s
from fusever.consts import checked_depth, constants
from fusever.diagnostics import SpecError
from fusever.diags import Diags
from fusever.lineage import Merged, apply_config, base_chain, inline_definitions, merge_chain
from fusever.parse import parse_text

BASE = """
spec base
const W = 8
const N = W - 6
var x: u<W>
init { x := 0 }
action a() { x := x + 1 }
action b() { x := 0 }
config deep { set W = 16  depth 40 }
"""
# `undefined` is not a name anywhere: lineage does not resolve names, so it passes
VARIANT = """
variant v of base
set W = 4
replace action a() { x := undefined }
remove action b
"""


def _lineage(*texts: str, config: str | None = None) -> tuple[Merged, Diags]:
    files = [parse_text(t, f"f{i}.fv") for i, t in enumerate(texts)]
    d = Diags({f.path: f.text for f in files})
    chain = base_chain(files, d)
    m = merge_chain(chain, d)
    apply_config(m, config, chain[0].name, d)
    inline_definitions(m, d)
    return m, d


def test_lineage_merges_root_first_and_resolves_nothing() -> None:
    files = [parse_text(VARIANT, "v.fv"), parse_text(BASE, "b.fv")]
    assert [f.name for f in base_chain(files, Diags({}))] == ["v", "base"]
    m, d = _lineage(VARIANT, BASE)
    assert d.items == []
    assert list(m.actions) == ["a"]
    assert m.actions["a"].origin == "v"
    assert m.consts["W"].origin == "v" and m.consts["N"].origin == "base"
    (assign,) = m.actions["a"].decl.body
    assert isinstance(assign, s.Assign) and isinstance(assign.value, s.Ref)
    assert assign.value.name == "undefined"


def test_lineage_raises_on_an_unknown_base() -> None:
    with pytest.raises(SpecError) as e:
        _lineage("variant v of nothere var y: bool")
    assert e.value.diagnostics[0].message.startswith("unknown base spec `nothere`")


def test_consts_fold_overrides_and_depth_on_their_own() -> None:
    m, d = _lineage(BASE, config="deep")
    c = constants(m, ["N=5"], "base", d)
    assert c.fold_all() == (("W", 16), ("N", 5))
    assert checked_depth(m, c, d) == 40
    assert d.items == []
    bad = constants(m, ["N=true", "Q=1"], "base", d)
    assert bad.fold_all() == (("W", 16), ("N", 10))
    assert [x.message for x in d.items] == [
        "--set: `N` is int, but `true` is bool",
        "--set: unknown constant `Q` in spec `base`",
    ]
