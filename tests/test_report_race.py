"""Race diagrams (``--trace-format race``, ``fusever show --format race``): plain-text
columns in the kernel's style, one lane per actor, time running down, the kernel's
function and field names from the spec's comments, at most 80 columns, and only the
steps that matter for the failing property."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_trace_text import LOST_UPDATE, STALE_OPEN, violation

from fusever import cli, report_race, report_trace
from fusever.ts import TransitionSystem
from fusever.verdict import Result


@pytest.fixture(scope="module")
def stale_open() -> tuple[TransitionSystem, Result]:
    return violation(STALE_OPEN, "no_stale_escape", 6)


def test_lanes_kernel_names_and_the_compared_values(
    stale_open: tuple[TransitionSystem, Result],
) -> None:
    ts, r = stale_open
    text = report_race.render_race(r, ts)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), text
    assert r.trace is not None
    steps = {s.action: i for i, s in enumerate(r.trace.steps)}
    header = next(line for line in lines if line.startswith("opener"))
    assert header.split() == ["opener", "0", "daemon"]  # the lanes, in the order they act
    assert header.index("daemon") == report_race.lane_starts(2)[1]
    # each step is written in its own lane's column, headed by its kernel function
    reply = next(line for line in lines if line.strip().startswith(f"{steps['reply_write']}: "))
    assert reply == " " * header.index("daemon") + f"{steps['reply_write']}: fuse_dev_do_write()"
    link = next(line for line in lines if line.startswith(f"{steps['link']}: "))
    assert link == f"{steps['link']}: fuse_link_rw_file()"
    # kernel field names, and the values the comparing step read
    assert "fud->write_seq[0] = 1" in text or "fud->write_seq[1] = 1" in text
    assert "reads fi->inval_files_seq = 1" in text
    assert "but FUSE_S_FAIL_IMMEDIATELY[0] = false" in text.replace("\n", " ")


def test_only_the_steps_that_matter_are_drawn(
    stale_open: tuple[TransitionSystem, Result],
) -> None:
    ts, r = stale_open
    assert r.trace is not None
    steps = {s.action: i for i, s in enumerate(r.trace.steps)}
    text = report_race.render_race(r, ts)
    # open_send only moves the opener's program counter: nothing the failure reads
    assert f"(step {steps['open_send']} left out: open_send)" in text
    tf = report_race.trace_facts(r, ts)
    kept = report_race.relevant_steps(tf, ts)
    assert steps["open_send"] not in kept
    assert {steps["reply_write"], steps["note_write"], steps["link"]} <= kept


def test_prove_writes_it_and_show_renders_it_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["prove", str(LOST_UPDATE), "--trace-dir", str(tmp_path), "--trace-format", "race"]
    )
    assert code == 1
    capsys.readouterr()
    saved = (tmp_path / "lost_update.no_lost_update.race.txt").read_text(encoding="utf-8")
    assert saved.startswith("lost_update / no_lost_update: violated at step")
    assert all(len(line) <= 80 for line in saved.splitlines())
    itf = tmp_path / "lost_update.no_lost_update.itf.json"
    assert cli.main(["show", str(itf), "--format", "race"]) == 0
    assert capsys.readouterr().out == saved
    assert "race" in report_trace.FORMATS
