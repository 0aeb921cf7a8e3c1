"""Issue 28: output stays bounded whatever the run (traces, undecided rows, sections),
and a bound that held only because an unbounded engine ran out of time is undecided."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from report_fakes import fake_results, fake_trace, fake_ts, result
from test_cli import FakeEngine

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


def test_a_diagnostic_shows_at_most_max_notes() -> None:
    from fusever.diagnostics import Diagnostic, Note
    from fusever.report_diagnostics import MAX_NOTES
    from fusever.syntax import Span

    at = Span("x.fv", 1, 1, 1, 2)
    d = Diagnostic(at, "bad", "x", tuple(Note(at, f"here {i}", "x") for i in range(40)))
    text = report.render_diagnostic(d)
    assert text.count("note: here") == MAX_NOTES
    assert text.endswith(f"… and {40 - MAX_NOTES} more note(s)")


def test_prove_counts_the_time_to_load_against_the_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--timeout T returns within T whatever the spec's size: the front end's time is
    taken off the engines' budget (issue 28)."""
    fake = FakeEngine([fake_ts()], {"counter": fake_results()}).install(monkeypatch)
    load = fake.load

    def slow_load(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return load(*args, **kwargs)

    monkeypatch.setattr(cli, "_load", slow_load)
    cli.main(["prove", "spec/counter.fv", "--timeout", "10"])
    capsys.readouterr()
    ((_, options),) = fake.options
    assert options.timeout is not None and options.timeout <= 9.5
    cli.main(["prove", "spec/counter.fv", "--timeout", "0.2"])
    capsys.readouterr()
    assert fake.options[-1][1].timeout == 0.0


def _set_up_then_sleep() -> None:
    from fusever import engines

    engines.child_process_setup()
    time.sleep(30)


def test_a_worker_stopped_as_it_starts_interrupts_nobody() -> None:
    """Issue 28: `prove --timeout` reported `unknown (interrupted)` with no signal sent:
    auto's sides, started after the deadline and stopped at once, took SIGTERM with the
    parent's handler and wrote it into the parent's wakeup pipe."""
    import multiprocessing

    from fusever import jobs

    ctx = multiprocessing.get_context("fork")
    with jobs.signals():
        for _ in range(20):
            p = ctx.Process(target=_set_up_then_sleep, daemon=True)
            p.start()
            p.terminate()
            p.join(timeout=10)
            assert not p.is_alive()
        time.sleep(0.5)  # a forwarded SIGINT would raise KeyboardInterrupt by now
