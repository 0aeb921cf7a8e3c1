"""The compact trace (the default) against the full table (``--full``), on real specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import engines, explain, load, report
from fusever.ts import TransitionSystem
from fusever.verdict import Options, Result, Verdict

ROOT = Path(__file__).resolve().parent.parent
LOST_UPDATE = ROOT / "docs" / "examples" / "lost_update.fv"
# the trace tests' own miniature of the seed race (spec/ changes under them otherwise)
STALE_OPEN = ROOT / "tests" / "fixtures" / "stale_open.fv"


def violation(
    path: Path, prop: str, depth: int, config: str | None = None
) -> tuple[TransitionSystem, Result]:
    (ts,) = load.load_specs([path], (), config)
    (r,) = engines.prove(ts, Options(depth=depth, properties=(prop,), engine="bmc"))
    assert r.verdict is Verdict.VIOLATED and r.trace is not None
    return ts, r


@pytest.fixture(scope="module")
def lost_update() -> tuple[TransitionSystem, Result]:
    return violation(LOST_UPDATE, "no_lost_update", 6)


@pytest.fixture(scope="module")
def stale_open() -> tuple[TransitionSystem, Result]:
    return violation(STALE_OPEN, "no_stale_escape", 6)


def trace_lines(text: str) -> list[str]:
    return text.split("\n\n")[1].splitlines()


def test_compact_hides_ghosts_and_ends_with_the_failing_values(
    lost_update: tuple[TransitionSystem, Result],
) -> None:
    ts, r = lost_update
    lines = trace_lines(report.render_text([r], {ts.key: ts}))
    init = next(line for line in lines if " init " in line)
    assert "finished" not in init  # ghost: hidden
    # the register the lost store reads is shown, though it never changes
    assert "reg = [0: 0, 1: 0]" in init
    # one line per step of at most two changes
    steps = [line for line in lines if line.strip()[:1].isdigit()]
    assert len(steps) == len(r.trace.steps) if r.trace else False
    assert lines[-1].strip() == "no_lost_update fails: count = 1, finished = 2 (set at step 4)"
    assert "--full" in lines[-2] and "ghost" in lines[-2]


def test_ghosts_and_full(lost_update: tuple[TransitionSystem, Result]) -> None:
    ts, r = lost_update
    ghosts = report.render_text([r], {ts.key: ts}, ghosts=True)
    assert "finished = 0" in "\n".join(trace_lines(ghosts)[3:5])
    full = trace_lines(report.render_text([r], {ts.key: ts}, full=True))
    assert full[3].split() == ["0", "-", "init", "count", "=", "0"]
    assert any(line.strip().startswith("finished: 1 → 2") for line in full)


def test_stale_open_names_the_instance_and_its_values(
    stale_open: tuple[TransitionSystem, Result],
) -> None:
    ts, r = stale_open
    (f,) = (v for k, v in r.instance if k == "f")
    text = report.render_text([r], {ts.key: ts})
    last = trace_lines(text)[-1].strip()
    assert last.startswith(f"no_stale_escape fails for f={f}: opc[{f}] = linked, noted = true")
    # the premise's values, then the conclusion's, kernel state under the kernel's
    # names (the spec's trailing comments), ghost values with the step that set them
    assert last.endswith(f"but FUSE_S_FAIL_IMMEDIATELY[{f}] = false")
    assert r.trace is not None
    steps = {s.action: i for i, s in enumerate(r.trace.steps)}
    assert f"(set at step {steps['reply_write']})" in last
    assert f"n_in = {steps['note_write']} (set at step {steps['note_write']})" in last
    lines = trace_lines(text)
    # the step that compares shows the values it compared
    link = next(i for i, line in enumerate(lines) if f"link(f={f})" in line)
    assert "reads " in lines[link + 1] and "fi->inval_files_seq = 1" in lines[link + 1]
    assert "req->args->reply_seq" in lines[link + 1]
    start = next(i for i, line in enumerate(lines) if " init " in line)
    end = next(i for i, line in enumerate(lines) if line.strip().startswith("1 "))
    init = "\n".join(lines[start:end])
    assert "f_fud" in init  # read by the reply, though it never changes
    assert "r_out" not in init and "now" not in init  # ghosts hidden
    full = report.render_text([r], {ts.key: ts}, full=True)
    assert len(trace_lines(text)) < 0.6 * len(trace_lines(full))


def test_defaults_run_init_without_assumptions(
    stale_open: tuple[TransitionSystem, Result],
) -> None:
    ts, _ = stale_open
    d = explain.defaults(ts)
    assert d["now"][()] == 0 and d["r_out"][(0,)] == -1 and d["opc"][(1,)] == "idle"
    assert d["f_fud"][(1,)] == 0  # `any` keeps the default value


def test_same_trace_same_bytes(stale_open: tuple[TransitionSystem, Result]) -> None:
    ts, r = stale_open
    assert report.render_text([r], {ts.key: ts}) == report.render_text([r], {ts.key: ts})
