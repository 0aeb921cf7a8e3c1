"""The run budget (issue 12, item 5): a request (:class:`Options`) is resolved once
into a :class:`Job` with an absolute deadline, and the engines only narrow it."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
import tsbuild as B
from hypothesis import given
from hypothesis import strategies as st

from fusever import bmc, engines, kind
from fusever.job import Engine, Job
from fusever.verdict import Options, Verdict

ROOT = Path(__file__).resolve().parent.parent
# the modules below the entry point: none reads a request or rebuilds one
ENGINE_MODULES = ("bmc", "kind", "chc", "explicit", "ranking", "certificate", "solvers")


def test_resolve_fixes_the_deadline_once() -> None:
    ts = B.counter(3)
    job = Job.resolve(ts, Options(timeout=2.0, engine=Engine.KIND), now=100.0)
    assert job.deadline == 102.0 and job.engine is Engine.KIND
    assert job.bound == ts.depth and job.within is None
    assert job.names == tuple(p.name for p in ts.properties)
    assert Job.resolve(ts, Options(depth=4), now=100.0).within == 4
    assert Job.resolve(ts, Options(), now=100.0).deadline is None


def test_resolve_refuses_what_does_not_exist() -> None:
    ts = B.counter(3)
    with pytest.raises(ValueError, match="no property named nope"):
        Job.resolve(ts, Options(properties=("nope",)))
    with pytest.raises(ValueError, match="unknown engine magic; one of bmc, kind"):
        Job.resolve(ts, Options(engine="magic"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 0"):
        Job.resolve(ts, Options(depth=-1))


def test_the_library_default_is_the_command_lines() -> None:
    from fusever import cli_args

    parser = cli_args.build_parser()
    args = parser.parse_args(["prove", "x.fv"])
    assert Options().engine is Engine.named(args.engine) is Engine.AUTO


@given(
    deadline=st.one_of(st.none(), st.floats(0, 1e6)),
    other=st.one_of(st.none(), st.floats(0, 1e6)),
)
def test_narrowing_never_extends_the_budget(deadline: float | None, other: float | None) -> None:
    job = Job(B.counter(2), (), 3, deadline)
    narrowed = job.by(other)
    if deadline is not None:
        assert narrowed.deadline is not None and narrowed.deadline <= deadline
    if other is not None:
        assert narrowed.deadline is not None and narrowed.deadline <= other


@given(left=st.floats(0, 1e4), fraction=st.floats(0, 1))
def test_a_share_is_a_fraction_of_what_is_left(left: float, fraction: float) -> None:
    now = 5000.0
    job = Job(B.counter(2), (), 3, now + left)
    share = job.share(fraction, now)
    assert share is not None and now <= share <= now + left + 1e-6
    assert Job(B.counter(2), (), 3, None).share(fraction, now) is None


def test_a_passed_deadline_is_unknown_timeout_in_every_engine() -> None:
    """The same absolute deadline reaches the solver: a job already past it decides
    nothing and says why, in each engine (never a crash)."""
    ts = B.lost_update(3)
    late = Job.resolve(ts, Options(), now=time.monotonic() - 10).by(time.monotonic() - 1)
    for out in (bmc.run(late).results, kind.run(late).results):
        assert {r.verdict for r in out} == {Verdict.UNKNOWN}
        assert all("timeout" in (r.reason or "") for r in out)


def test_engines_narrow_a_job_and_never_rebuild_a_request() -> None:
    """No module below :func:`fusever.engines.prove` builds :class:`Options` or reads
    a timeout in seconds from one: the budget is the job's deadline down to
    :func:`fusever.solvers.set_deadline`."""
    for name in ENGINE_MODULES:
        tree = ast.parse((ROOT / "fusever" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                assert node.id != "Options", f"fusever/{name}.py:{node.lineno} uses Options"
            if isinstance(node, ast.Attribute) and node.attr == "timeout":
                raise AssertionError(f"fusever/{name}.py:{node.lineno} reads .timeout")
    src = (ROOT / "fusever" / "engines.py").read_text()
    resolves = [
        n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Attribute) and n.attr == "resolve"
    ]
    assert len(resolves) == 2  # prove_certified, and disagreements' one job for both engines


def test_auto_and_bmc_from_one_job_agree_on_traces() -> None:
    """A job run by auto and by BMC: the violations are the same, at the same step."""
    ts = B.lost_update(2)
    job = Job.resolve(ts, Options(depth=6))
    auto = {r.property: r for r in engines.run(job).results}
    plain = {r.property: r for r in engines.run(job.on(Engine.BMC)).results}
    traced = [r for r in plain.values() if r.verdict in (Verdict.VIOLATED, Verdict.COVERED)]
    assert traced  # lost_update loses one: the comparison below is not vacuous
    for name, r in plain.items():
        if r.verdict in (Verdict.VIOLATED, Verdict.COVERED):
            assert (auto[name].verdict, auto[name].step) == (r.verdict, r.step)
