"""Variants that stay small and stay true: guard extension, body replacement, pins.

``extend action NAME when e`` and ``replace action NAME { ... }`` must check into
exactly the system of the hand-written replacement they abbreviate; a pin must
go stale when (and only when) the base's definition changes, and every shipped
variant must be pinned against today's base (this test is what fails CI on a stale
pin).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import cli, load, pins
from fusever.ts import TransitionSystem

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"

BASE = """\
spec base "a counter and a switch"
var x: u8
var on: bool
init { x := 0  on := false }
action tick(k: bool) "tick {k}" by cpu when x < 7 && on != k {  // ticks while below 7
    x := x + 1
}
action flip() { on := !on }
def small: bool = x < 5
invariant bounded: x <= 7
"""

EXTENDED = """\
variant v of base
extend action tick when x != 3 || k
"""

COPIED = """\
variant v of base
replace action tick(k: bool) "tick {k}" by cpu when (x < 7 && on != k) && (x != 3 || k) {
    x := x + 1
}
"""

BODY = """\
variant v of base
replace action tick { x := x + 2 }
"""

BODY_COPIED = """\
variant v of base
replace action tick(k: bool) "tick {k}" by cpu when x < 7 && on != k { x := x + 2 }
"""


def _check(tmp_path: Path, base: str, variant: str, name: str = "v.fv") -> TransitionSystem:
    (tmp_path / "base.fv").write_text(base)
    (tmp_path / name).write_text(variant)
    (ts,) = load.load_specs([tmp_path / name], library=None)
    return ts


def _action(ts: TransitionSystem, name: str) -> object:
    return next(a for a in ts.actions if a.name == name)


def test_extend_action_is_the_copied_guard_and_a_conjunct(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    short = _check(tmp_path / "a", BASE, EXTENDED)
    long = _check(tmp_path / "b", BASE, COPIED)
    assert _action(short, "tick") == _action(long, "tick")
    assert short.actions == long.actions
    # the extension really strengthens: the base's guard alone is a different action
    (tmp_path / "c").mkdir()
    base = _check(tmp_path / "c", BASE, "variant v of base\n")
    assert _action(base, "tick") != _action(short, "tick")


def test_replace_body_keeps_the_header(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    short = _check(tmp_path / "a", BASE, BODY)
    long = _check(tmp_path / "b", BASE, BODY_COPIED)
    assert short.actions == long.actions
    tick = next(a for a in short.actions if a.name == "tick")
    assert tick.description == "tick {k}" and tick.actor == "cpu"


def test_extend_and_body_together_and_down_a_chain(tmp_path: Path) -> None:
    both = EXTENDED + "replace action tick { x := x + 2 }\n"
    (tmp_path / "a").mkdir()
    ts = _check(tmp_path / "a", BASE, both)
    (tmp_path / "b").mkdir()
    copied = COPIED.replace("x := x + 1", "x := x + 2")
    assert ts.actions == _check(tmp_path / "b", BASE, copied).actions
    # a variant of the variant extends the extended guard once more
    (tmp_path / "a" / "w.fv").write_text("variant w of v\nextend action tick when x != 5\n")
    (w,) = load.load_specs([tmp_path / "a" / "w.fv"], library=None)
    (tmp_path / "b" / "w.fv").write_text(
        copied.replace("variant v of base", "variant w of base").replace(
            "when (x < 7 && on != k) && (x != 3 || k)",
            "when ((x < 7 && on != k) && (x != 3 || k)) && x != 5",
        )
    )
    (wc,) = load.load_specs([tmp_path / "b" / "w.fv"], library=None)
    assert _action(w, "tick") == _action(wc, "tick")


# ---- pins ------------------------------------------------------------------------


def _pins(path: Path) -> tuple[pins.Pin, ...]:
    (pool,) = load.pools([path], None)
    return pins.status(pool, history=False)


def test_every_shipped_variant_is_pinned_against_todays_base() -> None:
    """CI's check: a base definition a shipped variant replaces changed since the
    variant was pinned (run `fusever check spec/` to see the diff, review the
    variant, then `fusever pin` it)."""
    shipped = [*load.discover(SPEC), *load.discover(ROOT / "docs" / "examples")]
    variants = [p for p in shipped if load.pools([p], SPEC)[0][0].base is not None]
    assert len(variants) >= 8
    for path in variants:
        (pool,) = load.pools([path], SPEC)
        found = pins.status(pool, history=False)
        if path.stem == "bits_drain":
            continue  # it only extends an enum: nothing to pin
        assert found, f"{path.name} replaces nothing?"
        bad = [f"{p.spec}: {p.kind} {p.name} is {p.state}" for p in found if p.state != "ok"]
        assert not bad, bad


def test_a_pin_goes_stale_when_the_base_changes_and_only_then(tmp_path: Path) -> None:
    (tmp_path / "base.fv").write_text(BASE)
    variant = tmp_path / "v.fv"
    variant.write_text(EXTENDED + "replace def small: bool = x < 4\n")
    assert {(p.kind, p.name, p.state) for p in _pins(variant)} == {
        ("action", "tick", "unpinned"),
        ("def", "small", "unpinned"),
    }
    (pool,) = load.pools([variant], None)
    variant.write_text(pins.rewrite(pool[0], pins.status(pool, history=False)))
    assert variant.read_text().count("\npin ") == 2
    assert {p.state for p in _pins(variant)} == {"ok"}
    # comments and layout are no change
    (tmp_path / "base.fv").write_text(
        BASE.replace("x < 7 && on != k {", "x < 7\n    && on != k {  // reflowed")
    )
    assert {p.state for p in _pins(variant)} == {"ok"}
    # a changed guard is
    (tmp_path / "base.fv").write_text(BASE.replace("x < 7 &&", "x < 6 &&"))
    stale = [p for p in _pins(variant) if p.state != "ok"]
    assert [(p.kind, p.name, p.state) for p in stale] == [("action", "tick", "stale")]
    assert "x < 6" in stale[0].now and stale[0].then is None  # no git here
    # the pin of a definition no longer replaced is an orphan, dropped by rewrite
    variant.write_text(variant.read_text().replace("replace def small: bool = x < 4\n", ""))
    assert ("def", "small", "orphan") in {(p.kind, p.name, p.state) for p in _pins(variant)}
    (pool,) = load.pools([variant], None)
    assert "pin def small" not in pins.rewrite(pool[0], pins.status(pool, history=False))


def test_normalized_drops_comments_and_keeps_strings() -> None:
    assert pins.normalized('a  //x\n b /* y */ "c  // d"') == 'a b "c  // d"'
    assert pins.digest("x := 1 // one") == pins.digest("x  :=  1")
    assert pins.digest("x := 1") != pins.digest("x := 2")


def test_check_warns_with_the_diff_and_pin_rewrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("base.fv").write_text(BASE)
    Path("v.fv").write_text(EXTENDED)
    assert cli.main(["pin", "v.fv"]) == 0
    text = Path("v.fv").read_text()
    assert 'pin action tick "' in text and text.startswith(EXTENDED)
    assert cli.main(["pin", "v.fv"]) == 0 and Path("v.fv").read_text() == text  # a fixpoint
    capsys.readouterr()
    Path("base.fv").write_text(BASE.replace("x < 7 &&", "x < 6 &&"))
    assert cli.main(["check", "v.fv"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        "v.fv:5:12: warning: variant `v` extends the guard of action `tick` of `base`"
    )
    assert "base.fv:5:1: note: `base`'s action `tick` is here" in err
    assert "  | action tick(k: bool)" in err  # no git history: the text now
    assert cli.main(["check", "--update-pins", "v.fv"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert cli.main(["check", "v.fv"]) == 0
    assert "warning" not in capsys.readouterr().err


# ---- seams ---------------------------------------------------------------------------

SEAM_VARIANTS = ("fuse_clear_early", "fuse_seq_on_exit")


@pytest.mark.parametrize("name", SEAM_VARIANTS)
def test_a_seam_variant_is_small_and_changes_its_seam_only(name: str) -> None:
    """Each example stays within 15 code lines (pins included) and changes the base
    only at seams no shipped variant uses."""
    path = ROOT / "docs" / "examples" / f"{name}.fv"
    code = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and not line.strip().startswith("//")
    ]
    assert len(code) <= 15, code
    (pool,) = load.pools([path], SPEC)
    changed = {(p.kind, p.name) for p in pins.status(pool, history=False)}
    used = {
        (p.kind, p.name)
        for q in load.discover(SPEC)
        for p in pins.status(load.pools([q], SPEC)[0], history=False)
    }
    assert changed - used, f"{name} uses no new seam"
    (ts,) = load.load_specs([path])
    (base,) = load.load_specs([SPEC / "fuse_v2.fv"])
    assert ts.actions != base.actions
