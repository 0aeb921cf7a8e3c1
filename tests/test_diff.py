"""fusever diff: tiny specs whose distinguishing depth is known by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import cli, diff, load, report_explore
from fusever.load import load_specs
from fusever.ts import TransitionSystem
from fusever.verdict import Verdict

BASE = """spec up "counts to 3"
var x: u4
init { x := 0 }
action inc() when x < 3 { x := x + 1 }
action reset() when x == 3 { x := 0 }
observe top "x reached 3": x == 3
observe low[b: bool]: if b then x == 0 else x == 1
depth 6
"""


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / f"{name}.fv"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, Path]:
    return {
        "up": write(tmp_path, "up", BASE),
        # stops at 2: after inc, inc, inc B is not enabled; with both guards never different
        "two": write(
            tmp_path, "two", BASE.replace("spec up", "spec two").replace("x < 3", "x < 2")
        ),
        # a variant that counts by the same steps, with the guard written differently
        "same": write(
            tmp_path,
            "same",
            "variant same of up\nreplace action inc() when x <= 2 { x := x + 1 }\n",
        ),
        # the second increment jumps to 3: `top` differs after two steps
        "jump": write(
            tmp_path,
            "jump",
            "variant jump of up\nreplace action inc() when x < 3 { x := if x == 1 then 3 else x + 1 }\n",
        ),
        "ren": write(
            tmp_path,
            "ren",
            "variant ren of up\nremove action inc\naction bump() when x < 3 { x := x + 1 }\n",
        ),
    }


def ts(p: Path):  # type: ignore[no-untyped-def]
    (t,) = load.load_specs([p])
    return t


def test_enabledness_difference_is_a_difference(specs: dict[str, Path]) -> None:
    r = diff.diff(ts(specs["up"]), ts(specs["two"]))
    assert r.verdict is Verdict.VIOLATED
    assert [s.action_a for s in r.steps[1:]] == ["inc", "inc", "inc"]
    assert r.blocked == "b"
    both = diff.diff(ts(specs["up"]), ts(specs["two"]), enabled="both")
    assert both.verdict is Verdict.PROVED and both.bound == 6


def test_observable_difference_replayed_in_both(specs: dict[str, Path]) -> None:
    a, b = ts(specs["up"]), ts(specs["jump"])
    r = diff.diff(a, b)
    assert r.verdict is Verdict.VIOLATED and len(r.steps) == 3
    assert {(o.name, o.key, o.a, o.b) for o in r.differences} == {("top", (), False, True)}
    assert r.trace_a.steps[-1].state["x"][()] == 2
    assert r.trace_b.steps[-1].state["x"][()] == 3
    text = report_explore.render_diff(r, a, b)
    assert "DIFFERENT after 2 step(s)" in text and "top: false in A, true in B" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    steps = [line for line in text.splitlines() if line[:4].strip().isdigit()]
    assert [line.split()[0] for line in steps] == ["0", "1", "2"]
    assert any(line.strip().startswith("only B: ") for line in text.splitlines())
    wide = report_explore.render_diff(r, a, b, wide=True)
    assert "both changed" in wide and "only B (" in wide


def test_no_difference_up_to_bound(specs: dict[str, Path]) -> None:
    r = diff.diff(ts(specs["up"]), ts(specs["same"]))
    assert r.verdict is Verdict.PROVED and not r.complete and r.bound == 6


def test_actions_only_on_one_side_and_map(specs: dict[str, Path]) -> None:
    a, b = ts(specs["up"]), ts(specs["ren"])
    lock = diff.lockstep(a, b)
    assert lock.only_a == ("inc",) and lock.only_b == ("bump",)
    assert diff.diff(a, b, mapping=(("inc", "bump"),)).verdict is Verdict.PROVED


def test_cli(specs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diff", str(specs["up"]), str(specs["jump"])]) == cli.EXIT_FINDING
    assert cli.main(["diff", str(specs["up"]), str(specs["same"]), "--depth", "3"]) == cli.EXIT_OK
    assert "no difference up to 3 steps" in capsys.readouterr().out
    assert (
        cli.main(["diff", str(specs["up"]), str(specs["ren"]), "--map", "nope=bump"])
        == cli.EXIT_USAGE
    )
    assert "has no action `nope`" in capsys.readouterr().err


def test_observe_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "bad", BASE.replace("observe top", "observe top[s: Nope]"))
    assert cli.main(["check", str(bad)]) == cli.EXIT_USAGE
    assert "bad.fv:6:" in capsys.readouterr().err


def test_observables_in_variants(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "up", BASE)
    v = write(
        tmp_path,
        "v",
        "variant v of up\nreplace observe top: x == 2\nremove observe low\nobserve extra: x\n",
    )
    assert [o.name for o in ts(v).observables] == ["top", "extra"]
    w = write(tmp_path, "w", "variant w of up\nremove observe nope\nobserve top: 1\n")
    assert cli.main(["check", str(w)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "w.fv:2:16: error: base `up` has no observable `nope` to remove" in err
    assert "write `replace observe top`" in err


def test_unbounded_engine_no_difference_at_any_depth(specs: dict[str, Path]) -> None:
    r = diff.diff(ts(specs["up"]), ts(specs["same"]), engine="kind")
    assert r.verdict is Verdict.PROVED and r.complete
    found = diff.diff(ts(specs["up"]), ts(specs["jump"]), engine="kind")
    assert found.verdict is Verdict.VIOLATED and len(found.steps) == 3


# ---- issue 29: extended enums and pairing by effect ------------------------------------

CYCLE = """spec cyc "a two-phase cycle"
enum Mode { m_a, m_b }
var mode: Mode
init { mode := m_a }
action next() { if mode == m_a { mode := m_b } else { mode := m_a } }
action set(m: Mode) when m == m_a { mode := m }
observe current "the mode": mode
depth 4
"""
CYCLE3 = """variant cyc3 of cyc "a three-phase cycle"
extend enum Mode { m_c }
replace action next { if mode == m_a { mode := m_b } else if mode == m_b { mode := m_c } else { mode := m_a } }
"""


def _pair(tmp_path: Path, a: str, b: str) -> tuple[TransitionSystem, TransitionSystem]:
    (tmp_path / "a.fv").write_text(a)
    (tmp_path / "b.fv").write_text(b)
    ta, tb = load_specs([tmp_path / "a.fv", tmp_path / "b.fv"], library=None)
    return ta, tb


def test_an_extended_enum_is_compared_as_distinct_values(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, CYCLE, CYCLE3)
    d = diff.diff(a, b, depth=4)
    assert d.verdict is Verdict.VIOLATED and len(d.steps) - 1 == 2
    assert [(o.name, o.a, o.b) for o in d.differences] == [("current", "m_a", "m_c")]
    (why,) = [w for n, w in d.lock.mismatched if n == "set"]
    assert "B extends enum Mode with m_c" in why
    # against itself the split does not happen, and nothing differs
    assert diff.diff(a, a, depth=4).verdict is Verdict.PROVED


ONE = """spec one "each write is one step"
sort Thread = 2
enum Ph { idle, loaded, done }
var seq: u8
var rec: u8
var ph: Thread -> Ph
var tmp: Thread -> u8
init { seq := 0  rec := 0  ph := idle  tmp := 0 }
action write(t: Thread) when ph[t] == idle { seq := seq + 1  rec := seq  ph[t] := done }
observe recorded "the last recorded number": rec
depth 6
"""
TWO = """variant two of one "a write loads, then stores"
remove action write
action load(t: Thread) when ph[t] == idle { tmp[t] := seq  ph[t] := loaded }
action store(t: Thread) when ph[t] == loaded { seq := tmp[t] + 1  rec := seq  ph[t] := done }
"""


def test_pairing_by_effect_compares_different_step_structures(tmp_path: Path) -> None:
    a, b = _pair(tmp_path, ONE, TWO)
    by_name = diff.diff(a, b, depth=6)
    assert by_name.verdict is Verdict.PROVED and not by_name.lock.moves  # nothing taken
    d = diff.diff(a, b, depth=6, pairing="effect")
    assert d.lock.silent_b == ("load",) and d.lock.by_effect == (("write", "store"),)
    assert d.verdict is Verdict.VIOLATED and len(d.steps) - 1 == 4  # both load, both store
    assert [(o.name, o.a, o.b) for o in d.differences] == [("recorded", 2, 1)]
    assert d.steps[1].action_a is None and d.steps[1].action_b == "load"
    text = report_explore.render_diff(d, a, b)
    assert "load(t=0) in B alone" in text and "paired by their effect" in text
