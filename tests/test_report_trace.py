"""Sequence diagrams of traces (Mermaid, SVG, HTML) and saved ITF traces read back."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from report_fakes import fake_results, fake_ts
from test_trace_text import LOST_UPDATE, STALE_OPEN, violation

from fusever import cli, report, report_trace
from fusever.ts import TransitionSystem
from fusever.verdict import Result


@pytest.fixture(scope="module")
def stale_open() -> tuple[TransitionSystem, Result]:
    return violation(STALE_OPEN, "no_stale_escape", 6)


def test_mermaid_has_a_lane_per_actor_a_line_per_step_and_the_failure_last(
    stale_open: tuple[TransitionSystem, Result],
) -> None:
    ts, r = stale_open
    assert r.trace is not None
    text = report_trace.render("mermaid", r, ts)
    lines = text.splitlines()
    assert lines[3] == "sequenceDiagram"
    participants = [line.split(" as ")[1] for line in lines if "participant" in line]
    actors = {report.actor_text(s, ts) for s in r.trace.steps[1:]}
    assert sorted(participants) == sorted(actors)
    steps = [line for line in lines if re.match(r"\s+(Note over L\d+:|L\d+->>L\d+:) \d+\. ", line)]
    assert len(steps) == len(r.trace.steps) - 1
    # the action's own description with its holes filled, and the values it changed
    (f,) = (v for k, v in r.instance if k == "f")
    assert any(
        f"opener {f} links its file" in line and f"opc[{f}]: replied → linked" in line
        for line in steps
    )
    assert lines[-1].strip().startswith(f"Note over L0,L1: no_stale_escape fails for f={f}: ")
    assert "r_out" not in "\n".join(steps)  # ghost state only on request
    assert "r_out" in report_trace.render_mermaid(report_trace.diagram(r, ts), ghosts=True)
    assert text == report_trace.render("mermaid", r, ts)  # same trace, same bytes


def test_svg_is_well_formed_with_a_group_per_step(
    stale_open: tuple[TransitionSystem, Result],
) -> None:
    ts, r = stale_open
    assert r.trace is not None
    svg = report_trace.render("svg", r, ts)
    root = ET.fromstring(svg)
    groups = root.findall("{http://www.w3.org/2000/svg}g")
    assert [g.get("data-step") for g in groups] == [str(i) for i in range(1, len(r.trace.steps))]
    assert svg == report_trace.render("svg", r, ts)


def test_html_is_self_contained(stale_open: tuple[TransitionSystem, Result]) -> None:
    ts, r = stale_open
    page = report_trace.render("html", r, ts)
    assert "<svg" in page and "<table" in page and 'id="ghosts"' in page
    # nothing fetched: no external scripts, styles, images or fonts
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_without_a_spec_the_diagram_still_renders() -> None:
    r = fake_results()[0]
    d = report_trace.diagram(r, None)
    assert d.lanes == (report_trace.NO_ACTOR,)
    assert len(d.events) == 3
    d2 = report_trace.diagram(r, fake_ts())
    assert d2.lanes == ("daemon 1", "writer 0", report_trace.NO_ACTOR)


def test_itf_reads_back_to_the_same_trace(stale_open: tuple[TransitionSystem, Result]) -> None:
    ts, r = stale_open
    back = report_trace.read_itf(report.render_itf(r, ts), ts)
    assert back.trace == r.trace
    assert (back.spec, back.config, back.property, back.verdict, back.step, back.instance) == (
        r.spec, r.config, r.property, r.verdict, r.step, r.instance,
    )  # fmt: skip
    assert back.kind is r.kind and back.description == r.description


def test_show_renders_a_saved_trace_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["prove", str(LOST_UPDATE), "--trace-dir", str(tmp_path), "--trace-format", "mermaid"]
    )
    assert code == 1
    capsys.readouterr()
    itf = tmp_path / "lost_update.no_lost_update.itf.json"
    saved_mermaid = (tmp_path / "lost_update.no_lost_update.mmd").read_text(encoding="utf-8")
    for fmt in report_trace.FORMATS:
        assert cli.main(["show", str(itf), "--format", fmt]) == 0
        out = capsys.readouterr().out
        if fmt == "mermaid":
            assert out == saved_mermaid
        if fmt == "text":
            assert out.splitlines()[-1].strip() == (
                "no_lost_update fails: count = 1, finished = 2 (set at step 4)"
            )
    assert cli.main(["show", str(itf), str(itf), "--format", "html"]) == 2  # one page each
    assert cli.main(["show", str(itf), str(itf), "--format", "mermaid"]) == 0
    assert cli.main(["show", str(itf), "--format", "html", "-o", str(tmp_path / "t.html")]) == 0
    assert (tmp_path / "t.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert cli.main(["show", str(tmp_path / "missing.itf.json")]) == 2
    (tmp_path / "bad.itf.json").write_text("{}", encoding="utf-8")
    assert cli.main(["show", str(tmp_path / "bad.itf.json")]) == 2
    assert cli.main(["prove", str(LOST_UPDATE), "--trace-format", "svg"]) == 2


def test_mermaid_text_cannot_break_the_diagram() -> None:
    # `;` ends a statement and `#` starts an entity in Mermaid; `<` would open a tag
    assert report_trace._mm("a < b; #1\nnext") == "a #lt; b#59; #35;1 next"


def test_html_same_trace_same_bytes(stale_open: tuple[TransitionSystem, Result]) -> None:
    ts, r = stale_open
    assert report_trace.render("html", r, ts) == report_trace.render("html", r, ts)
