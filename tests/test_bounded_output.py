"""Issue 28: output stays bounded whatever the run (traces, undecided rows, sections),
and a bound that held only because an unbounded engine ran out of time is undecided."""

from __future__ import annotations

import dataclasses

from report_fakes import fake_trace, fake_ts, result

from fusever import cli, report
from fusever.ts import PropKind
from fusever.verdict import Verdict


def _violations(n: int) -> list[report.Result]:
    return [
        result(f"p{i}", PropKind.INVARIANT, Verdict.VIOLATED, step=3, trace=fake_trace())
        for i in range(n)
    ]


def test_at_most_max_traces_are_printed_in_full_and_the_rest_listed() -> None:
    n = report.MAX_TRACES + 7
    text = report.render_text(_violations(n), {"counter": fake_ts()})
    full = [line for line in text.splitlines() if line.startswith("counter / p")]
    assert len(full) == report.MAX_TRACES  # a title line per trace shown in full
    assert f"7 more trace(s), not shown (the first {report.MAX_TRACES} are above" in text
    assert "--trace-dir writes every trace" in text
    listed = [line for line in text.splitlines() if line.startswith("  counter / p")]
    assert [line.split()[2] for line in listed] == [f"p{i}:" for i in range(10, n)]
    # every verdict is still in the table
    assert sum(" violated at step 3 " in line for line in text.splitlines()) == n


def test_a_thousand_violations_print_a_bounded_report() -> None:
    results = _violations(1000)
    text = report.render_text(results, {"counter": fake_ts()})
    assert len(text) < 200_000
    assert f"… and {1000 - report.MAX_TRACES - report.MAX_LINES} more traces" in text
    rich = report.render_text(results, {"counter": fake_ts()}, tty=True, width=100)
    assert "more trace(s), not shown" in rich and len(rich) < 600_000


def test_configurations_not_started_are_one_line() -> None:
    done = [result("p", PropKind.INVARIANT, Verdict.PROVED, spec="a")]
    idle = [
        result(p, PropKind.INVARIANT, Verdict.UNKNOWN, spec=f"s{i}", reason="interrupted",
               seconds=0.0)
        for i in range(206)
        for p in ("p", "q")
    ]  # fmt: skip
    # cut short: decided before the interrupt, then unknown (interrupted) after some time
    cut = result("q", PropKind.INVARIANT, Verdict.UNKNOWN, spec="a", reason="interrupted")
    lines = report.result_table([*done, cut, *idle])
    assert sum("interrupted" in line for line in lines) == 2  # the cut row, the summary
    summary = lines[-1]
    assert summary.startswith("206 spec configurations not started (interrupted): s0, s1")
    assert summary.endswith(f"… and {206 - report.MAX_LINES} more")


def test_report_sections_are_capped() -> None:
    results = [
        result(f"p{i}", PropKind.INVARIANT, Verdict.PROVED, complete=True, reason="k-inductive")
        for i in range(report.MAX_LINES + 5)
    ]
    text = report.render_text(results)
    assert "  … and 5 more" in text
    assert sum("(bmc): k-inductive" in line for line in text.splitlines()) == report.MAX_LINES


def test_a_bound_held_because_k_induction_ran_out_of_time_exits_3() -> None:
    timed = dataclasses.replace(
        result("p", PropKind.INVARIANT, Verdict.PROVED, bound=3),
        engine="kind",
        reason="timeout in the inductive step at k=2",
    )
    assert cli.exit_code([timed]) == cli.EXIT_OK  # as the engine hands it over
    r = report.undecided(timed)
    assert r.verdict is Verdict.UNKNOWN and cli.exit_code([r]) == cli.EXIT_UNKNOWN
    assert r.reason == "timeout in the inductive step at k=2; no violation within 3 steps"
    # a bound the engine was asked for, or one it could not get past, is not a timeout
    bounded = dataclasses.replace(timed, reason="not k-inductive up to k=3")
    assert report.undecided(bounded) == bounded
    # a finding stays a finding
    unreachable = dataclasses.replace(timed, kind=PropKind.COVER, verdict=Verdict.UNREACHABLE)
    assert cli.exit_code([report.undecided(unreachable)]) == cli.EXIT_FINDING
