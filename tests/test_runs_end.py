"""A configuration's depth bounds traces, never completeness (issue 29, item 6).

tests/fixtures/runs_past_depth.fv declares depth 4, and every run ends after 10
steps with its one violation at step 9.  BMC to the depth alone calls both
invariants "holds (to 4)"; auto, with the explicit search out of the way
(state_limit=1, as in a configuration too large to exhaust), must still look past the
depth for the end of the runs and decide both for all depths.
"""

from __future__ import annotations

from pathlib import Path

from fusever import deepen, kind, load
from fusever.verdict import Options, Verdict

SPEC = Path(__file__).resolve().parent / "fixtures" / "runs_past_depth.fv"


def _by_name(options: Options) -> dict[str, tuple[Verdict, int | None, bool]]:
    (ts,) = load.load_specs([SPEC])
    return {r.property: (r.verdict, r.step, r.complete) for r in deepen.prove(ts, options)}


def test_the_depth_alone_does_not_show_the_runs_end() -> None:
    (ts,) = load.load_specs([SPEC])
    assert ts.depth == 4
    assert kind.runs_end(ts, ts.depth, None, 0).steps is None  # no ranking function either


def test_bmc_to_the_depth_is_bounded_and_says_so() -> None:
    got = _by_name(Options(engine="bmc"))
    assert got["not_nine"] == (Verdict.PROVED, None, False)


def test_auto_decides_past_the_depth() -> None:
    got = _by_name(Options(engine="auto", state_limit=1))
    assert got["not_nine"][:2] == (Verdict.VIOLATED, 9)
    assert got["at_most_ten"] == (Verdict.PROVED, None, True)


def test_a_users_depth_still_bounds_the_traces() -> None:
    got = _by_name(Options(engine="auto", state_limit=1, depth=4))
    assert got["not_nine"][0] is not Verdict.VIOLATED
