"""k-induction: known answers on tiny specs, lemmas, covers, and never a false proof."""

from __future__ import annotations

import pytest
from unbounded import by_name, spec, without_lemmas

from fusever import certificate, engines, interpret, kind
from fusever.job import Job
from fusever.verdict import Options, Verdict


def test_an_inductive_invariant_is_proved_for_all_depths_at_k_1() -> None:
    out = kind.run(Job.resolve(spec("inductive"), Options()))
    r = by_name(out.results)
    for name in ("same", "ticks_nonneg", "up"):
        assert r[name].verdict is Verdict.PROVED and r[name].complete, r[name]
        assert r[name].engine == "kind"
    assert r["same"].reason == "k-inductive at k=1"
    assert {c.property for c in out.certificates} == {"same", "ticks_nonneg", "up", "never"}


def test_cover_goals_unreachable_for_all_depths_or_a_replayed_witness() -> None:
    ts = spec("inductive")
    r = by_name(kind.run(Job.resolve(ts, Options())).results)
    assert r["never"].verdict is Verdict.UNREACHABLE and r["never"].complete
    moved = r["moved"]
    assert moved.verdict is Verdict.COVERED and moved.step == 3 and moved.trace is not None
    interpret.replay(ts, moved.trace, ts.property("moved"))


def test_a_2_inductive_property_needs_k_2() -> None:
    (r,) = kind.run(Job.resolve(spec("k2"), Options())).results
    assert r.verdict is Verdict.PROVED and r.complete
    assert r.reason == "k-inductive at k=2"


def test_k_is_bounded_by_the_depth() -> None:
    (r,) = kind.run(Job.resolve(spec("k2"), Options(depth=1))).results
    assert r.verdict is Verdict.PROVED and not r.complete
    assert r.reason == "not k-inductive up to k=1"


def test_a_lemma_makes_the_proof_go_through() -> None:
    ts = spec("lemma")
    out = kind.run(Job.resolve(ts, Options()))
    r = by_name(out.results)
    assert r["same"].verdict is Verdict.PROVED and r["same"].complete
    assert r["five"].verdict is Verdict.PROVED and r["five"].complete
    assert r["five"].reason == "k-inductive at k=1 with lemmas same"
    (cert,) = [c for c in out.certificates if c.property == "five"]
    assert cert.lemmas == (("same", 1),)
    # without the lemma, five is only bounded
    (alone,) = kind.run(Job.resolve(without_lemmas(ts), Options())).results
    assert alone.verdict is Verdict.PROVED and not alone.complete
    assert alone.reason == "not k-inductive up to k=6"


def test_selecting_a_property_still_assumes_the_lemmas() -> None:
    (r,) = kind.run(Job.resolve(spec("lemma"), Options(properties=("five",)))).results
    assert r.property == "five" and r.complete


def test_holds_to_k_fails_at_k_plus_1_is_never_proved_for_all_depths() -> None:
    ts = spec("late")
    r = by_name(kind.run(Job.resolve(ts, Options())).results)
    for name in ("below6", "ghost_below6"):
        assert r[name].verdict is Verdict.PROVED and not r[name].complete, r[name]
        assert r[name].bound == 5
    assert r["reach6"].verdict is Verdict.UNREACHABLE and not r["reach6"].complete
    # one step deeper, the base case finds it
    deeper = by_name(kind.run(Job.resolve(ts, Options(depth=6))).results)
    assert deeper["below6"].verdict is Verdict.VIOLATED and deeper["below6"].step == 6
    assert deeper["ghost_below6"].verdict is Verdict.VIOLATED
    assert deeper["reach6"].verdict is Verdict.COVERED


def test_violations_are_bmc_s_shortest_replayed_traces() -> None:
    ts = spec("late")
    (r,) = kind.run(Job.resolve(ts, Options(depth=8, properties=("below6",)))).results
    assert r.verdict is Verdict.VIOLATED and r.step == 6 and r.trace is not None
    interpret.replay(ts, r.trace, ts.property("below6"))


def test_engines_dispatch_kind() -> None:
    rs = engines.prove(spec("k2"), Options(engine="kind"))
    assert [(r.engine, r.complete) for r in rs] == [("kind", True)]


def test_timeout_is_unknown_not_a_crash() -> None:
    rs = kind.run(Job.resolve(spec("inductive"), Options(timeout=1e-6))).results
    assert all(r.verdict is Verdict.UNKNOWN or not r.complete for r in rs)


@pytest.mark.parametrize("por", ["off", "adjacent"])
def test_inductive_step_agrees_with_and_without_partial_order_reduction(por: str) -> None:
    ts = spec("k2")
    p = ts.property("out_zero")
    assert not certificate.kind_obligations_hold(ts, p, 1, (), por, None)
    assert certificate.kind_obligations_hold(ts, p, 2, (), por, None)


def test_when_every_run_ends_the_base_case_to_its_length_is_complete() -> None:
    ts = spec("ends")
    assert kind.longest_run(ts, 4, None, 0).steps == 3
    out = kind.run(Job.resolve(ts, Options()))
    r = by_name(out.results)
    for name in ("never9", "ghost_small"):
        assert r[name].verdict is Verdict.PROVED and r[name].complete, r[name]
        assert r[name].reason == "every run ends within 3 steps, and none breaks it"
    assert r["beyond"].verdict is Verdict.UNREACHABLE and r["beyond"].complete
    assert r["not7"].verdict is Verdict.VIOLATED and r["not7"].step == 3
    assert r["done"].verdict is Verdict.COVERED and not r["done"].complete
    assert {c.property: c.longest for c in out.certificates} == {
        "never9": 3, "ghost_small": 3, "beyond": 3,
    }  # fmt: skip


def test_runs_longer_than_the_bound_prove_nothing_for_all_depths() -> None:
    # depth 2: the run of three steps is past the bound, and so is not7's violation
    ts = spec("ends")
    assert kind.longest_run(ts, 2, None, 0).steps is None
    r = by_name(kind.run(Job.resolve(ts, Options(depth=2))).results)
    # (`beyond`, x == 4, is 1-inductive: that proof needs no bound)
    assert [n for n, x in r.items() if x.complete] == ["beyond"], r
    assert r["not7"].verdict is Verdict.PROVED and r["not7"].bound == 2
    assert (
        by_name(kind.run(Job.resolve(spec("late"), Options(depth=5))).results)["below6"].complete
        is False
    )


def test_a_runs_end_certificate_is_re_checked_on_its_own() -> None:
    ts = spec("ends")
    good = certificate.Certificate("kind", ts.name, "never9", longest=3)
    assert certificate.recheck(ts, good)
    # a run of three steps exists; a property broken within the runs
    assert not certificate.recheck(
        ts, certificate.Certificate("kind", ts.name, "never9", longest=2)
    )
    assert not certificate.recheck(ts, certificate.Certificate("kind", ts.name, "not7", longest=3))
    both = [good, certificate.Certificate("kind", ts.name, "not7", longest=3)]
    assert certificate.recheck_many(ts, both) == (True, False)
    assert certificate.from_dict(certificate.as_dict(good)) == good
