"""Runs that end, by a ranking function (fusever/ranking.py): found by the solver,
re-checked from its text, and never wrong about a run the interpreter can take."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from fusever import certificate, kind, load, ranking
from fusever.ts import State, TransitionSystem, keys

ROOT = Path(__file__).resolve().parent.parent


def _load(path: str, config: str | None = None) -> TransitionSystem:
    (ts,) = load.load_specs([ROOT / path], config=config)
    return ts


@pytest.fixture(scope="module")
def v2() -> tuple[TransitionSystem, ranking.Ranking]:
    ts = _load("spec/fuse_v2.fv")
    found = ranking.find(ts)
    assert found.ranking is not None, found.reason
    return ts, found.ranking


def _measure(r: ranking.Ranking, ts: TransitionSystem, state: State) -> int:
    """The measure of a concrete state, computed here from the interpreter's values."""
    total = 0
    for term, w in r.weights:
        v = ts.var(term.var)
        total += w * sum(state[term.var][k] == term.value for k in keys(v.index))
    return total


def test_two_threads_run_four_steps_and_the_ranking_says_exactly_that() -> None:
    ts = _load("docs/examples/lost_update.fv")
    found = ranking.find(ts)
    assert found.ranking is not None, found.reason
    assert found.ranking.bound == 4  # two threads, load and store each
    assert kind.longest_run(ts, 10, None, 0).steps == 4
    assert ranking.check(ts, found.ranking) is True


def test_a_loop_has_no_ranking_and_says_why() -> None:
    found = ranking.find(_load("tests/fixtures/loops.fv"))
    assert found.ranking is None
    assert "go on for ever" in found.reason


def test_a_spec_without_control_state_is_not_ranked() -> None:
    found = ranking.find(_load("docs/examples/counter.fv"))
    assert found.ranking is None and "no control state" in found.reason


def test_the_text_reads_back_and_checks(v2: tuple[TransitionSystem, ranking.Ranking]) -> None:
    ts, r = v2
    again = ranking.Ranking(ranking.parse(r.text()), r.bound)
    assert again == r
    assert ranking.check(ts, again) is True


def test_a_tampered_ranking_fails_its_check(v2: tuple[TransitionSystem, ranking.Ranking]) -> None:
    ts, r = v2
    # an opener's progress term (a term whose cells always sum to a constant, such as
    # cached == false beside cached == true, can be flipped without harm)
    k = next(i for i, (t, _) in enumerate(r.weights) if t.var == "opc" and t.value == "o_idle")
    term, w = r.weights[k]
    flipped = ranking.Ranking((*r.weights[:k], (term, -w - 1), *r.weights[k + 1 :]), r.bound)
    assert ranking.check(ts, flipped) is False  # some step no longer lowers it
    assert ranking.check(ts, ranking.Ranking(r.weights, r.bound - 1)) is False  # bound too low
    with pytest.raises(ValueError):
        ranking.parse("3*#(opc == o_idle) + x*#(nst == n_unsent)")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_step_the_interpreter_takes_lowers_the_measure(
    v2: tuple[TransitionSystem, ranking.Ranking], seed: int
) -> None:
    """Independent of the solver: random runs of the interpreter (from random initial
    states too) lower the measure at every step and end within the bound."""
    from fusever import interpret

    ts, r = v2
    try:
        trace = interpret.random_run(ts, r.bound + 10, random.Random(seed))
    except ValueError:  # the random start states it drew break init's assumptions
        reject()
    values = [_measure(r, ts, s.state) for s in trace.steps]
    assert all(b < a for a, b in itertools.pairwise(values)), values
    assert len(trace.steps) - 1 <= r.bound


def test_a_ranking_certificate_rechecks_and_a_forged_one_fails() -> None:
    ts = _load("tests/fixtures/two_steps.fv")
    found = ranking.find(ts)
    assert found.ranking is not None and found.ranking.bound == 2
    text = found.ranking.text()
    cert = certificate.Certificate("kind", ts.name, "known", longest=2, ranking=text)
    assert certificate.from_dict(certificate.as_dict(cert)) == cert
    assert certificate.recheck_status(ts, cert) is certificate.Recheck.PASSED
    # one step is too short a bound for two threads: the ranking check refuses it
    short = certificate.Certificate("kind", ts.name, "known", longest=1, ranking=text)
    assert certificate.recheck_status(ts, short) is certificate.Recheck.FAILED
    # a measure no step lowers
    flat = certificate.Certificate("kind", ts.name, "known", longest=2, ranking="0")
    assert certificate.recheck_status(ts, flat) is certificate.Recheck.FAILED
    # "never covered" for a goal that is covered fails whatever the ranking
    both = certificate.Certificate("kind", ts.name, "both", longest=2, ranking=text)
    assert certificate.recheck_status(ts, both) is certificate.Recheck.FAILED
