"""The report stage: verdict strings, tables, step tables, JSON, JUnit and ITF."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from report_fakes import fake_results, fake_trace, fake_ts, result

from fusever import __version__, report
from fusever.ts import PropKind, Step, Trace
from fusever.verdict import Verdict


@pytest.mark.parametrize(
    ("verdict", "complete", "step", "reason", "text"),
    [
        (Verdict.PROVED, False, None, None, "proved (24 steps)"),
        (Verdict.PROVED, True, None, None, "proved (all depths)"),
        (Verdict.VIOLATED, False, 9, None, "violated at step 9"),
        (Verdict.COVERED, False, 4, None, "covered at step 4"),
        (Verdict.UNREACHABLE, False, None, None, "unreachable within 24"),
        (Verdict.UNREACHABLE, True, None, None, "unreachable (all depths)"),
        (Verdict.UNKNOWN, False, None, "timeout", "unknown (timeout)"),
        (
            Verdict.UNKNOWN,
            False,
            None,
            "incomplete quantifiers",
            "unknown (incomplete quantifiers)",
        ),
        (Verdict.UNKNOWN, False, None, None, "unknown"),
    ],
)
def test_verdict_strings(
    verdict: Verdict, complete: bool, step: int | None, reason: str | None, text: str
) -> None:
    assert report.verdict_phrase(verdict, complete, 24, step, reason) == text


def test_findings_are_violations_and_unreachable_covers() -> None:
    assert report.is_finding(result("p", PropKind.INVARIANT, Verdict.VIOLATED, step=1))
    assert report.is_finding(result("c", PropKind.COVER, Verdict.UNREACHABLE))
    assert not report.is_finding(result("c", PropKind.COVER, Verdict.COVERED, step=2))
    assert not report.is_finding(result("p", PropKind.INVARIANT, Verdict.PROVED))
    assert not report.is_finding(result("p", PropKind.INVARIANT, Verdict.UNKNOWN))


def test_text_table_is_aligned_and_plain_when_not_a_terminal() -> None:
    text = report.render_text(fake_results(), {"counter": fake_ts()})
    lines = text.splitlines()
    assert lines[0].split() == ["spec", "property", "verdict", "depth", "seconds"]
    assert lines[2] == "counter  no_wrap    violated at step 3     10     0.25"
    assert lines[3] == "counter  monotonic  proved (10 steps)      10     0.25"
    assert "\x1b[" not in text  # no escape codes in a pipe or a file


def test_violation_step_table_shows_actor_action_and_what_changed() -> None:
    text = report.render_text(fake_results(), {"counter": fake_ts()}, full=True)
    assert "counter / no_wrap: violated at step 3" in text
    rows = [line.strip() for line in text.splitlines()]
    assert "1  daemon 1  inc(d=1)         x: 0 → 1" in rows
    assert "2  writer 0  reply(w=0, f=1)  seq[0]: 0 → 3" in rows
    assert "pair[0,1]: false → true" in rows
    assert "phase: IDLE → OPEN" in rows
    # an action with no actor label and no parameters, and a step that changes nothing
    assert "3  -         tick()           (no change)" in rows
    # step 0 lists the whole initial state, in declaration order, a variable a line
    start = rows.index("0  -         init             x = 0")
    assert rows[start + 1] == "seq = [0: 0, 1: 0]"
    assert "no_wrap fails for f=1" in rows
    # unchanged locations are not listed after step 0
    assert not any(line.startswith("seq[1]: 1 → 1") for line in rows)


def test_cover_witness_shown_only_on_request() -> None:
    plain = report.render_text(fake_results(), {"counter": fake_ts()})
    assert "counter / opens" not in plain
    shown = report.render_text(fake_results(), {"counter": fake_ts()}, witnesses=True)
    assert "counter / opens: covered at step 3" in shown


def test_without_the_spec_actors_are_unknown_and_order_is_by_name() -> None:
    rows = [line.strip() for line in report.render_text(fake_results()).splitlines()]
    assert "1  -      inc(d=1)         seq[1]: 0 → 1" in rows


def test_rich_rendering_for_a_terminal() -> None:
    text = report.render_text(fake_results(), {"counter": fake_ts()}, tty=True, width=120)
    assert "\x1b[" in text
    assert "violated at step 3" in text
    assert "daemon 1" in text


def test_json_matches_the_documented_shape() -> None:
    doc = json.loads(report.render_json(fake_results()))
    assert doc["fusever"] == __version__
    first = doc["results"][0]
    assert list(first) == [
        "spec", "config", "file", "settings", "property", "kind", "verdict", "outcome",
        "complete", "bound", "step", "engine", "seconds", "reason", "instance", "message",
        "trace",
    ]  # fmt: skip
    assert first["settings"] == {"FUDS": 2, "W": 3}
    assert (first["kind"], first["verdict"], first["step"]) == ("invariant", "violated", 3)
    trace = first["trace"]
    assert trace[0] == {
        "step": 0,
        "action": None,
        "args": {},
        "actor": None,
        "state": {
            "pair": {"0,0": False, "0,1": False, "1,0": False, "1,1": False},
            "phase": "IDLE",
            "seq": {"0": 0, "1": 0},
            "x": 0,
        },
    }
    assert trace[1] == {
        "step": 1,
        "action": "inc",
        "args": {"d": 1},
        "actor": None,  # render_json was given no spec: no actors
        "changed": {"seq": {"1": 1}, "x": 1},
    }
    assert trace[2]["changed"] == {"pair": {"0,1": True}, "phase": "OPEN", "seq": {"0": 3, "1": 4}}
    assert trace[3]["changed"] == {}
    assert doc["results"][1]["trace"] is None
    assert doc["results"][1]["step"] is None


def test_json_is_deterministic() -> None:
    assert report.render_json(fake_results()) == report.render_json(fake_results())


def test_junit_one_case_per_property_with_failures_and_errors() -> None:
    rs = (*fake_results(), result("slow", PropKind.INVARIANT, Verdict.UNKNOWN, reason="timeout"))
    root = ET.fromstring(report.render_junit(rs, {"counter": fake_ts()}))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    (suite,) = root.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["no_wrap", "monotonic", "opens", "slow"]
    failure = cases["no_wrap"].find("failure")
    assert failure is not None
    assert (failure.get("message") or "").startswith("violated at step 3: no_wrap fails for f=1")
    assert "reply(w=0, f=1)" in (failure.text or "")
    error = cases["slow"].find("error")
    assert error is not None and error.get("message") == "unknown (timeout)"
    assert cases["monotonic"].find("failure") is None
    assert cases["opens"].find("failure") is None


def test_junit_unreachable_cover_is_a_failure_naming_what_it_leaves_vacuous() -> None:
    rs = (result("opens", PropKind.COVER, Verdict.UNREACHABLE),)
    root = ET.fromstring(report.render_junit(rs, {"counter": fake_ts()}))
    case = root.find("testsuite/testcase")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    message = failure.get("message") or ""
    assert message.startswith("cover goal opens is unreachable within 10: no_wrap may hold")
    assert "vacuous" in message and message in (failure.text or "")  # never an empty body
    # without the spec it cannot name the property, and says so in general
    root = ET.fromstring(report.render_junit(rs))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and "properties it supports" in (failure.get("message") or "")


def test_json_says_why_with_the_instance_and_each_steps_actor() -> None:
    doc = json.loads(report.render_json(fake_results(), {"counter": fake_ts()}))
    first = doc["results"][0]
    assert first["instance"] == {"f": 1}
    assert first["message"].startswith("violated at step 3: no_wrap fails")
    assert [s["actor"] for s in first["trace"]][:2] == [None, "daemon 1"]
    cover = json.loads(
        report.render_json(
            [result("opens", PropKind.COVER, Verdict.UNREACHABLE)], {"counter": fake_ts()}
        )
    )["results"][0]
    assert "no_wrap may hold only vacuously" in cover["message"]


def test_itf_trace() -> None:
    r = fake_results()[0]
    doc = json.loads(report.render_itf(r, fake_ts()))
    assert doc["#meta"]["format"] == "ITF"
    assert doc["#meta"]["source"] == "spec/counter.fv"
    assert doc["vars"] == ["x", "seq", "phase", "pair", "mbt::actionTaken", "mbt::nondetPicks"]
    states = doc["states"]
    assert [s["#meta"]["index"] for s in states] == [0, 1, 2, 3]
    s0, _, s2, _ = states
    assert s0["x"] == {"#bigint": "0"}
    assert s0["mbt::actionTaken"] == "init"
    assert s0["mbt::nondetPicks"] == {}
    assert s2["seq"] == {
        "#map": [[{"#bigint": "0"}, {"#bigint": "3"}], [{"#bigint": "1"}, {"#bigint": "4"}]]
    }
    assert s2["phase"] == "OPEN"
    assert s2["pair"]["#map"][1] == [{"#tup": [{"#bigint": "0"}, {"#bigint": "1"}]}, True]
    assert s2["mbt::actionTaken"] == "reply"
    assert s2["mbt::nondetPicks"] == {
        "w": {"tag": "Some", "value": {"#bigint": "0"}},
        "f": {"tag": "Some", "value": {"#bigint": "1"}},
    }
    assert report.itf_filename(r) == "counter.no_wrap.itf.json"


def test_itf_big_counters_are_exact() -> None:
    big = 2**64 - 1
    trace = Trace((Step(None, (), {"c": {(): big}}),))
    r = result("p", PropKind.INVARIANT, Verdict.VIOLATED, step=0, trace=trace)
    doc = json.loads(report.render_itf(r))
    assert doc["states"][0]["c"] == {"#bigint": str(big)}


def test_changes_lists_only_what_differs() -> None:
    before = fake_trace().steps[1].state
    after = fake_trace().steps[2].state
    assert report.changes(before, after) == [
        ("pair", (0, 1), False, True),
        ("phase", (), "IDLE", "OPEN"),
        ("seq", (0,), 0, 3),
        ("seq", (1,), 1, 4),
    ]
    # a bool and an int that compare equal are still a change
    assert report.changes({"b": {(): 1}}, {"b": {(): True}}) == [("b", (), 1, True)]


def test_progress_view_shows_depth_and_time() -> None:
    import io

    from fusever.verdict import Progress

    buffer = io.StringIO()
    view = report.ProgressView(buffer)
    with view:
        view.update(Progress("counter", 7, 1.25, 2))
        assert "counter: depth 7, 1.2 s, 2 open" in str(view._status.status)
        view.done(1, 3)
        assert "] 1/3 | 0:00 elapsed" in str(view._status.status)


def test_json_names_the_configuration_and_qualifies_bounded_verdicts() -> None:
    from dataclasses import replace

    proved = result("p", PropKind.INVARIANT, Verdict.PROVED)
    rs = (
        replace(proved, config="two_fuds"),
        replace(proved, complete=True),
        result("c", PropKind.COVER, Verdict.UNREACHABLE),
        result("v", PropKind.INVARIANT, Verdict.VIOLATED, step=2),
    )
    got = [
        (r["config"], r["verdict"], r["outcome"])
        for r in json.loads(report.render_json(rs))["results"]
    ]
    assert got == [
        ("two_fuds", "proved", "proved_to_bound"),
        (None, "proved", "proved"),
        (None, "unreachable", "unreachable_to_bound"),
        (None, "violated", "violated"),
    ]


def test_junit_case_times_are_shares_of_the_spec_run() -> None:
    rs = (
        result("a", PropKind.INVARIANT, Verdict.PROVED, seconds=3.0),
        result("b", PropKind.INVARIANT, Verdict.VIOLATED, step=1, seconds=1.0),
        result("c", PropKind.COVER, Verdict.COVERED, step=1, seconds=1.5),
    )
    other = result("d", PropKind.INVARIANT, Verdict.PROVED, seconds=0.25, spec="other")
    root = ET.fromstring(report.render_junit((*rs, other)))
    suite, second = root.findall("testsuite")
    times = {c.get("name"): c.get("time") for c in suite.findall("testcase")}
    assert times == {"b": "1.000", "c": "0.500", "a": "1.500"}
    assert suite.get("time") == "3.000"  # the spec's run, not 5.5 s of overlapping times
    assert second.get("time") == "0.250"
    assert root.get("time") == "3.250"  # the sum of the suites, as JUnit readers add them


def test_result_table_fits_80_columns_without_cutting_names() -> None:
    long = result(
        "stale_open_failed_nodeid", PropKind.COVER, Verdict.UNREACHABLE, spec="fuse_connseq"
    )
    from dataclasses import replace

    rs = (replace(long, config="three_writers"), result("p", PropKind.INVARIANT, Verdict.PROVED))
    lines = report.render_text(rs).splitlines()
    assert max(map(len, lines)) <= 80
    assert lines[0].split() == ["spec", "/", "property", "verdict", "depth", "seconds"]
    assert lines[2] == "fuse_connseq.three_writers"
    assert lines[3].split() == [
        "stale_open_failed_nodeid",
        "unreachable",
        "within",
        "10",
        "10",
        "0.25",
    ]
    assert lines[4] == "counter"
    # short names keep the depth column
    assert report.render_text(fake_results()).splitlines()[0].split()[3] == "depth"


def test_summary_line_counts_verdicts_and_says_what_the_exit_code_means() -> None:
    line = report.summary_line(fake_results(), 12.34, 1)
    assert line == (
        "1 proved, 1 violated, 1 covered, 0 unknown (1 only to the bound) in 12.3 s; "
        "exit 1: a finding: a property violated or a cover goal unreachable\n"
    )


def test_diagnostics_are_bounded() -> None:
    from fusever.diagnostics import Diagnostic
    from fusever.syntax import Span

    name = "y" * 200_000
    line = "invariant p: x == " + name
    d = Diagnostic(Span("s.fv", 4, 19, 4, 19 + len(name)), f"unknown name `{name}`", line)
    out = report.render_diagnostic(d)
    assert len(out) < 3 * (report.LINE_CHARS + report.WORD_CHARS + 40)
    first = out.splitlines()[0]
    assert first.endswith("…`") and first.startswith("s.fv:4:19: error: unknown name `yyy")
    # the window follows the caret to the end of a long line
    late = Diagnostic(Span("s.fv", 1, 100_000, 1, 100_001), "here", "x" * 200_000)
    _, text, caret = report.render_diagnostic(late).splitlines()
    assert text.startswith("  …") and text.endswith("…")
    assert len(caret) <= len(text) and caret.rstrip().endswith("^")
    spaced = Diagnostic(None, "a " * 10_000)
    assert len(report.render_diagnostic(spaced)) < 700
    many = [Diagnostic(Span("s.fv", i + 1, 1, i + 1, 2), f"e{i}") for i in range(70)]
    out = report.render_diagnostics(many)
    assert out.count("error: e") == report.MAX_ERRORS
    assert out.endswith(
        f"s.fv: note: 20 more error(s) not shown (the first {report.MAX_ERRORS} are above)"
    )


def test_the_progress_line_of_many_jobs_estimates_what_is_left() -> None:
    from fusever.report import progress_text

    assert progress_text(0, 105, 3.2) == "[--------------------] 0/105 | 0:03 elapsed"
    # 25 jobs in 100 s: 4 s each, 75 left
    assert progress_text(25, 100, 100.0, "fuse_v2.w4", ["fuse_le", "fuse_le.create"]) == (
        "[#####---------------] 25/100 | 1:40 elapsed | about 5:00 left"
        " | running fuse_le, fuse_le.create | last fuse_v2.w4"
    )
    assert progress_text(7, 7, 4000.0).startswith("[####################] 7/7 | 1:06:40 elapsed")
