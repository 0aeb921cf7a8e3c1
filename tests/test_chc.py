"""The CHC engine (Spacer): invariants back in spec syntax, re-checked; failures traced by BMC."""

from __future__ import annotations

from pathlib import Path

import z3
from unbounded import by_name, spec, without_lemmas

from fusever import certificate, chc, engines, interpret, load
from fusever.job import Job
from fusever.ts import EnumType
from fusever.verdict import Options, Verdict

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def test_horn_answers_are_read_in_one_place() -> None:
    # the HORN solver: sat = the clauses have a model = the property holds
    assert chc.horn_answer("solver", z3.sat) == "holds"
    assert chc.horn_answer("solver", z3.unsat) == "fails"
    # Fixedpoint.query: sat = the bad state is derivable = the property fails
    assert chc.horn_answer("fixedpoint", z3.sat) == "fails"
    assert chc.horn_answer("fixedpoint", z3.unsat) == "holds"
    assert chc.horn_answer("solver", z3.unknown) == "unknown"
    assert chc.horn_answer("fixedpoint", z3.unknown) == "unknown"


def test_both_interfaces_agree_on_a_tiny_system() -> None:
    ctx = z3.Context()
    x, y = z3.Ints("x y", ctx)
    for bound, holds in ((3, False), (-1, True)):
        # x starts at 0 and grows by 1: x == 3 is reachable, x < -1 is not
        bad = (x == 3) if not holds else (x < bound)
        s = z3.SolverFor("HORN", ctx=ctx)
        inv = z3.Function("inv", z3.IntSort(ctx), z3.BoolSort(ctx))
        s.add(z3.ForAll([x], z3.Implies(x == 0, inv(x))))
        s.add(z3.ForAll([x, y], z3.Implies(z3.And(inv(x), y == x + 1), inv(y))))
        s.add(z3.ForAll([x], z3.Implies(z3.And(inv(x), bad), z3.BoolVal(False, ctx))))
        fp = z3.Fixedpoint(ctx=ctx)
        fp.set(engine="spacer")
        inv2 = z3.Function("inv2", z3.IntSort(ctx), z3.BoolSort(ctx))
        err = z3.Function("err", z3.BoolSort(ctx))
        fp.register_relation(inv2, err)
        fp.declare_var(x, y)
        fp.rule(inv2(x), x == 0)
        fp.rule(inv2(y), [inv2(x), y == x + 1])
        fp.rule(err(), [inv2(x), bad])
        expected = "holds" if holds else "fails"
        assert chc.horn_answer("solver", s.check()) == expected
        assert chc.horn_answer("fixedpoint", fp.query(err())) == expected


def test_an_inductive_invariant_in_spec_syntax_and_rechecked() -> None:
    ts = spec("inductive")
    out = chc.run(Job.resolve(ts, Options()))
    r = by_name(out.results)
    assert r["same"].verdict is Verdict.PROVED and r["same"].complete
    assert r["same"].reason == "invariant: a == b"
    assert r["never"].verdict is Verdict.UNREACHABLE and r["never"].complete
    assert r["up"].verdict is Verdict.PROVED and r["up"].complete
    assert r["moved"].verdict is Verdict.COVERED and r["moved"].step == 3
    for cert in out.certificates:
        assert certificate.recheck(ts, cert)


def test_k2_and_the_lemma_spec_are_proved_without_help() -> None:
    (r,) = chc.run(Job.resolve(spec("k2"), Options())).results
    assert r.complete and r.reason is not None and "out == 0" in r.reason
    # Spacer finds a == b itself: no lemma needed
    (five,) = chc.run(Job.resolve(without_lemmas(spec("lemma")), Options())).results
    assert five.verdict is Verdict.PROVED and five.complete


def test_holds_to_k_fails_at_k_plus_1_is_violated_with_bmc_s_replayed_trace() -> None:
    ts = spec("late")
    r = by_name(chc.run(Job.resolve(ts, Options())).results)
    for name in ("below6", "ghost_below6"):
        assert r[name].verdict is Verdict.VIOLATED and not r[name].complete
        assert r[name].step == 6 and r[name].trace is not None
        assert r[name].reason == "chc: fails; the trace is bmc's shortest"
        interpret.replay(ts, r[name].trace, ts.property(name))
    assert r["reach6"].verdict is Verdict.COVERED and r["reach6"].step == 6


def test_a_wrong_invariant_fails_the_recheck() -> None:
    ts = spec("inductive")
    (cert,) = [c for c in chc.run(Job.resolve(ts, Options())).certificates if c.property == "same"]
    assert not certificate.recheck(
        ts, certificate.Certificate("chc", ts.name, "same", smtlib="true")
    )
    too_strong = certificate.Certificate("chc", ts.name, "same", smtlib="(= a@0 #x00)")
    assert not certificate.recheck(ts, too_strong)  # not preserved by inc
    assert not certificate.recheck(ts, certificate.Certificate("chc", ts.name, "same", smtlib="(("))
    assert certificate.recheck(ts, cert)


def test_engines_dispatch_chc_and_a_timeout_is_unknown() -> None:
    rs = engines.prove(spec("k2"), Options(engine="chc"))
    assert [(r.engine, r.complete) for r in rs] == [("chc", True)]
    rs = engines.prove(spec("k2"), Options(engine="chc", timeout=1e-6))
    assert [r.verdict for r in rs] == [Verdict.UNKNOWN]


def test_enum_bits_in_an_invariant_read_as_members() -> None:
    (ts,) = load.load_specs([EXAMPLES / "lost_update.fv"])
    enc, _, _ = chc.clauses(ts, ts.properties[0])
    pc0 = enc.location(0, "pc", (0,))
    members = ts.var("pc").type
    assert isinstance(members, EnumType)
    bit = z3.Extract(0, 0, pc0) == z3.BitVecVal(0, 1, enc.ctx)
    # bit 0 clear: start (0) or done (2), so everything but loaded
    assert members.members == ("start", "loaded", "done")
    assert chc.pretty(enc, bit) in ("pc[0] != loaded", "loaded != pc[0]")
