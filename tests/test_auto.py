"""auto: BMC beside the unbounded engines, a fixed rule per property, same answer either way."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from unbounded import by_name, spec

from fusever import bmc, certificate, engines, interpret, load
from fusever.encode import EncodingBug
from fusever.job import Job
from fusever.ts import PropKind
from fusever.verdict import Options, Result, Verdict

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.mark.parametrize("engine", engines.ENGINES)
def test_holds_to_k_fails_at_k_plus_1_is_never_proved_by_any_engine(engine: str) -> None:
    ts = spec("late")
    for depth in (3, 5):
        for r in engines.prove(ts, Options(engine=engine, depth=depth)):
            assert not r.complete, r
            assert r.verdict is not Verdict.UNREACHABLE or r.bound < 6, r
            if r.verdict in (Verdict.VIOLATED, Verdict.COVERED):
                assert r.step == 6 and r.trace is not None
                interpret.replay(ts, r.trace, ts.property(r.property))


# auto tries the explicit engine first; a state limit of 1 sends everything to its
# SMT side (BMC beside the unbounded engines), which these tests are about
SMT = Options(engine="auto", state_limit=1)


def test_auto_decides_by_explicit_search_when_it_finishes() -> None:
    (ts,) = load.load_specs([EXAMPLES / "counter.fv"])
    auto = by_name(engines.prove(ts, Options(engine="auto")))
    plain = by_name(bmc.run(Job.resolve(ts, Options())).results)
    assert {r.engine for r in auto.values()} == {"explicit"}
    for name, r in auto.items():
        assert r.verdict is plain[name].verdict or (
            r.complete and plain[name].verdict is Verdict.PROVED
        )
        assert r.step == plain[name].step  # shortest, as BMC's
        if r.verdict is Verdict.PROVED:
            assert r.complete and "states" in (r.reason or "")


def test_auto_proves_what_holds_and_keeps_bmc_s_traces() -> None:
    r = by_name(engines.prove(spec("inductive"), SMT))
    assert all(r[n].complete for n in ("same", "ticks_nonneg", "up", "never"))
    assert r["never"].verdict is Verdict.UNREACHABLE
    assert r["moved"].verdict is Verdict.COVERED and r["moved"].engine == "bmc"
    (ts,) = load.load_specs([EXAMPLES / "counter.fv"])
    auto = by_name(engines.prove(ts, SMT))
    plain = by_name(bmc.run(Job.resolve(ts, Options())).results)
    assert auto["no_wrap"].trace == plain["no_wrap"].trace
    assert auto["counts_up"].complete and auto["counts_up"].engine in ("kind", "chc")


def test_auto_is_the_same_side_by_side_and_one_after_the_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def strip(rs: tuple[Result, ...]) -> list[tuple[object, ...]]:
        return [(r.property, r.verdict, r.complete, r.step, r.trace, r.engine) for r in rs]

    for name in ("inductive", "lemma", "late"):
        parallel = engines.prove(spec(name), SMT)
        monkeypatch.setattr(engines, "_context", lambda: None)
        sequential = engines.prove(spec(name), SMT)
        monkeypatch.undo()
        assert strip(parallel) == strip(sequential)


def _r(name: str, verdict: Verdict, complete: bool = False, engine: str = "bmc") -> Result:
    return Result(
        "s", "s.fv", (), name, PropKind.INVARIANT, verdict, complete, 4,
        3 if verdict is Verdict.VIOLATED else None, engine, 0.0,
    )  # fmt: skip


def test_the_merge_rule() -> None:
    def unknown(n: str) -> Result:
        return _r(n, Verdict.UNKNOWN, engine="auto")

    b = {
        "a": _r("a", Verdict.VIOLATED),
        "b": _r("b", Verdict.PROVED),
        "c": _r("c", Verdict.PROVED),
        "d": _r("d", Verdict.UNKNOWN),
    }
    u = {
        "a": _r("a", Verdict.UNKNOWN, engine="kind"),
        "b": _r("b", Verdict.PROVED, complete=True, engine="chc"),
        "c": _r("c", Verdict.UNKNOWN, engine="kind"),
        "d": _r("d", Verdict.VIOLATED, engine="chc"),
    }
    out = engines.merge(["a", "b", "c", "d", "e"], b, u, unknown)
    assert [(r.verdict, r.engine, r.complete) for r in out] == [
        (Verdict.VIOLATED, "bmc", False),  # a trace: BMC's
        (Verdict.PROVED, "chc", True),  # for all depths: the certificate's
        (Verdict.PROVED, "bmc", False),  # nothing better: the bounded verdict
        (Verdict.VIOLATED, "chc", False),  # beyond BMC's reach, traced by chc's BMC run
        (Verdict.UNKNOWN, "auto", False),  # neither side answered
    ]
    bad = {"a": replace(u["b"], property="a")}
    with pytest.raises(EncodingBug, match="bmc finds a trace"):
        engines.merge(["a"], b, bad, unknown)


def test_a_timeout_is_unknown_or_bounded_never_a_crash() -> None:
    rs = engines.prove(spec("inductive"), Options(engine="auto", timeout=0.001))
    assert all(r.verdict is Verdict.UNKNOWN or not r.complete for r in rs)


@pytest.mark.parametrize("engine", ["kind", "chc", "auto"])
def test_every_proof_for_all_depths_comes_with_a_certificate_that_rechecks(engine: str) -> None:
    ts = spec("lemma")
    out = engines.prove_certified(
        ts, Options(engine=engine, state_limit=1 if engine == "auto" else None)
    )
    complete = {r.property for r in out.results if r.complete}
    assert complete == {"same", "five"}
    assert {c.property for c in out.certificates} == complete
    assert all(certificate.recheck(ts, c) for c in out.certificates)


def test_a_bounded_holds_from_auto_says_why_and_what_to_try() -> None:
    ts = spec("inductive")
    bounded = next(
        r for r in bmc.run(Job.resolve(ts, Options(depth=3))).results if r.verdict is Verdict.PROVED
    )
    timed_out = replace(bounded, verdict=Verdict.UNKNOWN, engine="kind", reason="timeout")
    told = engines._why_bounded(bounded, timed_out, 60.0)
    assert told.verdict is Verdict.PROVED and not told.complete
    assert told.reason == (
        "BMC to depth 3 only: k-induction and Spacer did not decide it within their budget "
        "of 60 s (timeout); try a larger --timeout, or --engine kind / chc"
    )
    # a decided result is left as it is
    assert engines._why_bounded(timed_out, None, 60.0) == timed_out
    # end to end, whatever the machine's speed: a bound never reads like a proof
    for r in engines.prove(ts, replace(SMT, depth=3, timeout=0.3)):
        if r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE) and not r.complete:
            assert r.reason is not None and "BMC to depth 3 only" in r.reason
            assert r.reason.startswith("explicit: state limit 1 passed")


@pytest.mark.parametrize("options", [Options(engine="auto"), SMT], ids=["explicit-first", "smt"])
def test_depth_bounds_auto_s_traces_as_it_bounds_bmc_s(options: Options) -> None:
    """`--depth K` with auto: no trace longer than K (`not7` fails at step 3), as with
    BMC to K; a proof for all depths still counts (it covers K)."""
    ts = spec("ends")
    for depth in range(5):
        auto = by_name(engines.prove(ts, replace(options, depth=depth)))
        plain = by_name(bmc.run(Job.resolve(ts, Options(depth=depth))).results)
        for name, r in auto.items():
            b = plain[name]
            if b.verdict in (Verdict.VIOLATED, Verdict.COVERED):
                assert (r.verdict, r.step) == (b.verdict, b.step), (depth, r)
            else:
                assert r.verdict is b.verdict or (
                    r.complete and r.verdict is Verdict.UNREACHABLE
                ), (depth, r)
                assert r.step is None, (depth, r)
        assert (auto["not7"].verdict is Verdict.VIOLATED) == (depth >= 3)


def test_where_explicit_refuses_auto_proves_by_a_ranking_function() -> None:
    """A free start of a 64-bit counter: explicit refuses, and auto's unbounded side
    proves what holds from a ranking function's bound, with a certificate whose
    bounded half is re-checked by a fresh solver; the cover's witness is replayed."""
    (ts,) = load.load_specs([Path(__file__).parent / "fixtures" / "two_free_starts.fv"])
    got = engines.prove_certified(ts, Options(engine="auto"))
    r = by_name(got.results)
    assert r["known"].verdict is Verdict.PROVED and r["known"].complete
    assert "every run ends within 2 steps" in (r["known"].reason or "")
    assert r["wraps"].verdict is Verdict.COVERED and r["wraps"].trace is not None
    interpret.replay(ts, r["wraps"].trace, ts.property("wraps"))
    (cert,) = got.certificates
    assert (cert.property, cert.longest) == ("known", 2) and cert.ranking
    assert certificate.recheck(ts, cert)
    # a bound the ranking does not give fails the re-check
    assert not certificate.recheck(ts, replace(cert, longest=1))
