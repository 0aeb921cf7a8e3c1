"""Kernel locks (`spinlock`, `mutex`): held across steps, desugared by fusever/locks.py.

The fixture tests/fixtures/locks.fv takes two mutexes in two threads; its switches
give a lock-order inversion (a deadlock), a lock leaked at the end, and a release of
a lock not held.  Each check must find exactly its own mistake, with a trace, and
hold where the mistake is absent; explicit and BMC must agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import engines, load
from fusever.diagnostics import SpecError
from fusever.locks import DEADLOCK, FREE_AT_END, RELEASED_HELD
from fusever.verdict import Options, Verdict

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "tests" / "fixtures" / "locks.fv"


def _verdicts(sets: list[str], engine: str = "explicit") -> dict[str, Verdict]:
    (ts,) = load.load_specs([LOCKS], sets)
    return {r.property: r.verdict for r in engines.prove(ts, Options(engine=engine, depth=12))}


@pytest.mark.parametrize(
    ("sets", "violated"),
    [
        ([], {DEADLOCK}),  # lock-order inversion: each holds one, waits for the other
        (["SAME_ORDER=true"], set()),
        (["SAME_ORDER=true", "LEAK=true"], {FREE_AT_END}),
        (["SAME_ORDER=true", "STRAY=true"], {RELEASED_HELD}),
    ],
)
def test_each_lock_check_finds_its_own_mistake(sets: list[str], violated: set[str]) -> None:
    got = _verdicts(sets)
    assert {p for p, v in got.items() if v is Verdict.VIOLATED} == violated
    assert got["both_done"] is Verdict.COVERED
    bmc = _verdicts(sets, "bmc")
    assert {p for p, v in bmc.items() if v is Verdict.VIOLATED} == violated


def test_acquire_is_the_hand_written_guard_and_assignment(tmp_path: Path) -> None:
    """A lock checks into the system of a `bool` written out by hand."""
    sugar = BASE + "action a() when x < 3 { acquire(m)  x := x + 1 }\naction b() { release(m) }\n"
    plain = (
        BASE.replace("mutex m", "var m: bool")
        + "ghost released_unheld: bool\ninit { m := false }\ninit { released_unheld := false }\n"
        + "action a() when x < 3 && !m { m := true  x := x + 1 }\n"
        + "action b() { if true { if !m { released_unheld := true }  m := false } }\n"
    )
    (tmp_path / "s.fv").write_text(sugar)
    (tmp_path / "p.fv").write_text(plain)
    (s,) = load.load_specs([tmp_path / "s.fv"], library=None)
    (p,) = load.load_specs([tmp_path / "p.fv"], library=None)
    assert s.actions == p.actions
    assert [x.name for x in s.properties] == [RELEASED_HELD, DEADLOCK, FREE_AT_END]


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.fv"
    path.write_text(text)
    with pytest.raises(SpecError) as e:
        load.load_specs([path], library=None)
    return "\n".join(d.message for d in e.value.diagnostics)


BASE = """spec bad
mutex m
var x: u8
init { x := 0 }
"""


def test_misplaced_and_waiting_forever_acquires_are_errors(tmp_path: Path) -> None:
    assert "must come first" in _error(tmp_path, BASE + "action a() { x := 1  acquire(m) }\n")
    assert "acquired twice" in _error(tmp_path, BASE + "action a() { acquire(m)  acquire(m) }\n")
    assert "requires held" in _error(tmp_path, BASE + "action a() when holds(m) { acquire(m) }\n")
    assert "only at the top" in _error(tmp_path, BASE + "action a() { if x == 0 { acquire(m) } }\n")
    assert "not in proc" in _error(tmp_path, BASE + "proc p() { release(m) }\naction a() { p() }\n")
    assert "unknown sort" in _error(tmp_path, "spec bad\nmutex m: Nope\n")
