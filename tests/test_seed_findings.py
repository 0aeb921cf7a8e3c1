"""What issue 10 asked the shipped specs to show, each a known answer a wrong verdict
would break (the full matrix is proofs/, re-checked by `fusever regress` in CI)."""

from __future__ import annotations

from pathlib import Path

from fusever import diff, engines
from fusever.load import load_specs
from fusever.verdict import Options, Result, Verdict

SPEC = Path(__file__).resolve().parent.parent / "spec"


def _one(name: str, config: str | None, prop: str, depth: int, engine: str = "bmc") -> Result:
    (ts,) = load_specs([SPEC / f"{name}.fv"], config=config)
    (r,) = engines.prove(ts, Options(depth=depth, engine=engine, properties=(prop,)))
    return r


def test_connseq_lets_a_stale_open_escape_with_two_fuds() -> None:
    # a notification takes its number on fud 0 and stalls while the reply and a
    # second notification run on fud 1; the stalled one then stores the older number
    r = _one("fuse_connseq", "two_fuds", "no_stale_escape", 9)
    assert r.verdict is Verdict.VIOLATED and r.step == 9
    assert r.trace is not None
    actions = [s.action for s in r.trace.steps[1:]]
    assert actions.count("note_enter") == 2 and actions[-1] == "link"


def test_connseq_max_keeps_that_open_stale() -> None:
    r = _one("fuse_connseq_max", "two_fuds", "no_stale_escape", 12, engine="explicit")
    assert r.verdict is Verdict.PROVED and r.complete


def test_a_stale_open_returns_success_with_close_wait_off() -> None:
    r = _one("fuse_v2", "no_close_wait", "no_stale_return", 6)
    assert r.verdict is Verdict.VIOLATED and r.step == 5
    # with close_wait on the same property holds in the same bound
    assert _one("fuse_v2", None, "no_stale_return", 6).verdict is Verdict.PROVED


def test_le_differs_from_v2_only_under_concurrent_writers() -> None:
    (a,) = load_specs([SPEC / "fuse_v2.fv"])
    (b,) = load_specs([SPEC / "fuse_le.fv"])
    same = diff.diff(a, b, engine="explicit")
    assert same.verdict is Verdict.PROVED and same.complete  # no difference at any depth
    (a3,) = load_specs([SPEC / "fuse_v2.fv"], config="three_writers")
    (b3,) = load_specs([SPEC / "fuse_le.fv"], config="three_writers")
    differ = diff.diff(a3, b3, depth=9, engine="bmc")
    assert differ.verdict is Verdict.VIOLATED and len(differ.steps) - 1 == 9


def test_a_new_generation_makes_the_held_inode_bad() -> None:
    # fuse_iget(): fuse_stale_inode() -> fuse_make_bad(); an open on the old instance
    # fails its I/O, so the per-nodeid property holds where eviction alone would not
    r = _one("fuse_v2", "new_gen", "no_stale_escape_nodeid", 12, engine="explicit")
    assert r.verdict is Verdict.PROVED and r.complete
