"""The compiled explicit engine (issue 32): the same outcome as the Python engine, and
BMC's verdicts and shortest steps to a bound; deep expressions against the
interpreter; what reaches the C and the cache.

Agreement is exact: the same verdicts, shortest steps, bounds, completeness, reasons
(which carry the state and transition counts), levels, states visited and reductions
named, on the shipped specs' small configurations and on random systems.  Every
counterexample either engine returns was replayed through the interpreter before it
came back.  The tests need a C compiler: without one they fail (CI installs one).
"""

from __future__ import annotations

import ctypes
import os
import random
import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest
import tsbuild as B
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import system_and_property

from fusever import bmc, cexplicit, cgen, cli, cload, explicit, interpret, load
from fusever.explicit import ExplicitOutcome
from fusever.job import Job
from fusever.layout import Layout, dec, enc
from fusever.ts import BOOL, BinOp, Expr, TransitionSystem, Type, Unary, UnOp
from fusever.verdict import Options, Result, Verdict

ROOT = Path(__file__).resolve().parent.parent
BOUND = 8

# complete searches, both backends (restarts, projections, ghost orders, control
# deadness, narrow counters, the create path)
COMPLETE = (
    ("fuse_v2", None),
    ("fuse_pre", None),
    ("fuse_v1", "create"),
    ("fuse_wrapsafe", "no_open"),
)
# at bound 8, against BMC too
BOUNDED = (("fuse_v2", "w4"), ("fuse_pre", None))


def _load(name: str, config: str | None) -> TransitionSystem:
    (ts,) = load.load_specs([ROOT / "spec" / f"{name}.fv"], config=config)
    return ts


def _row(r: Result) -> tuple[object, ...]:
    trace = None if r.trace is None else len(r.trace) - 1
    return (r.property, r.verdict, r.step, r.bound, r.complete, r.reason, trace)


def _same(c: ExplicitOutcome, p: ExplicitOutcome) -> None:
    assert [_row(r) for r in c.results] == [_row(r) for r in p.results]
    assert (c.states, c.transitions, c.levels, c.visited, c.exhausted) == (
        p.states, p.transitions, p.levels, p.visited, p.exhausted,
    )  # fmt: skip
    assert c.reductions == p.reductions


def test_a_compiler_is_there() -> None:
    """Every other test here needs one: say so plainly where there is none."""
    assert cexplicit.available(), "no C compiler (cc, gcc, clang or $CC): install one"


@pytest.mark.parametrize(("name", "config"), COMPLETE, ids=lambda x: str(x))
def test_the_same_outcome_as_the_python_engine(name: str, config: str | None) -> None:
    job = Job.resolve(_load(name, config), Options(engine="explicit"))
    _same(cexplicit.run(job), explicit.run(job))


@pytest.mark.parametrize(("name", "config"), BOUNDED, ids=lambda x: str(x))
def test_three_engines_agree_at_bound_8(name: str, config: str | None) -> None:
    """C and Python to 8 steps: the same outcome; BMC to 8: the same verdicts and
    shortest steps (each side's traces replayed)."""
    ts = _load(name, config)
    job = Job.resolve(ts, Options(engine="explicit", depth=BOUND))
    c = cexplicit.run(job, bound=BOUND)
    _same(c, explicit.run(job, bound=BOUND))
    b = bmc.run(Job.resolve(ts, Options(engine="bmc", depth=BOUND))).results
    for x, y in zip(c.results, b, strict=True):
        assert x.verdict is not Verdict.UNKNOWN, x.reason
        assert (x.property, x.verdict, x.step) == (y.property, y.verdict, y.step)


def test_without_restarts_and_control_deadness_too() -> None:
    job = Job.resolve(_load("fuse_v2", None), Options(engine="explicit"))
    for kw in ({"restart": False}, {"by_control": False}, {"project": False}):
        _same(cexplicit.run(job, **kw), explicit.run(job, **kw))  # type: ignore[arg-type]


def test_the_state_limit_and_a_timeout_are_the_python_engines() -> None:
    ts = _load("fuse_v2", None)
    job = replace(Job.resolve(ts, Options(engine="explicit")), state_limit=500)
    _same(cexplicit.run(job), explicit.run(job))
    late = replace(job, deadline=0.0, state_limit=None)
    out = cexplicit.run(late)
    assert all(r.verdict is Verdict.UNKNOWN and "timeout" in (r.reason or "") for r in out.results)


_RANDOM = settings(
    max_examples=int(os.environ.get("FUSEVER_CEXPLICIT_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_RANDOM
@given(system_and_property())
def test_random_systems_the_same_outcome(case: tuple[TransitionSystem, object]) -> None:
    """Random systems (tests/test_differential.py's): complete, and to a bound of 3
    against BMC."""
    ts0, prop = case
    ts = replace(ts0, properties=(prop,), depth=3)  # type: ignore[arg-type]
    job = Job.resolve(ts, Options(engine="explicit"))
    c = cexplicit.run(job)
    _same(c, explicit.run(job))
    bounded = cexplicit.run(job, bound=3)
    _same(bounded, explicit.run(job, bound=3))
    (x,) = bounded.results
    if x.verdict is Verdict.UNKNOWN:
        return  # refused (a free start of the ghost integer): both said so
    (y,) = bmc.run(Job.resolve(ts, Options(engine="bmc", depth=3))).results
    assert (x.verdict, x.step) == (y.verdict, y.step)


# ---- deep and long expressions against the interpreter ----------------------------------

U8, I8, U64 = B.u(8), B.i(8), B.u(64)
DEEP_VARS = {"a": U8, "b": I8, "w": U64, "f": BOOL, "g": B.INT}


def _leaf(t: Type, rng: random.Random) -> Expr:
    names = [n for n, vt in DEEP_VARS.items() if vt == t]
    if names and rng.random() < 0.6:
        return B.v(rng.choice(names), t)
    if t == BOOL:
        return B.n(rng.random() < 0.5, BOOL)
    if t == B.INT:
        return B.n(rng.randint(-5, 5), t)
    assert isinstance(t, type(U8))
    return B.n(rng.randrange(1 << t.width), t)


def _deep(t: Type, depth: int, shape: str, rng: random.Random) -> Expr:
    """An expression ``depth`` levels deep (iteratively built): a chain of one shape."""
    e = _leaf(t, rng)
    for _ in range(depth):
        match shape:
            case "left":  # x - x - ... (left-associated)
                # (ghost integers neither multiply nor leave 64 bits here)
                ops = [BinOp.SUB, BinOp.ADD] if t == B.INT else [BinOp.SUB, BinOp.ADD, BinOp.MUL]
                op = rng.choice(ops if t != BOOL else [BinOp.AND])
                e = B.b(op, e, _leaf(t, rng))
            case "right":  # ... + (x + (x + x))
                op = rng.choice([BinOp.ADD, BinOp.BOR, BinOp.XOR] if t not in (BOOL, B.INT) else
                                [BinOp.ADD] if t == B.INT else [BinOp.OR, BinOp.IMPLIES])  # fmt: skip
                e = B.b(op, _leaf(t, rng), e)
            case "prefix":  # - - - x, ! ! ! f
                op = (
                    UnOp.NOT
                    if t == BOOL
                    else rng.choice([UnOp.NEG, UnOp.BNOT] if t != B.INT else [UnOp.NEG])
                )
                e = Unary(op, e, t)
            case "shift":  # x << y << ...
                op = rng.choice([BinOp.SHL, BinOp.SHR, BinOp.MOD]) if t != B.INT else BinOp.MOD
                e = B.b(op, e, _leaf(t, rng))
            case _:  # nested if-then-else
                c = B.b(BinOp.LT, _leaf(U8, rng), _leaf(U8, rng))
                e = B.ite(c, e, _leaf(t, rng)) if rng.random() < 0.5 else B.ite(c, _leaf(t, rng), e)
    return e


_SHAPES = ("left", "right", "prefix", "shift", "ite")


_TYPES = (U8, I8, U64, BOOL, B.INT)
_KINDS = [(s, t) for s in _SHAPES for t in _TYPES if not (s == "shift" and t == BOOL)]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 2**32),
    st.lists(st.tuples(st.sampled_from(_KINDS), st.integers(1, 5000)), min_size=1, max_size=3),
)
def test_deep_expressions_against_the_interpreter(
    seed: int, kinds: list[tuple[tuple[str, Type], int]]
) -> None:
    """Chains to 5,000 deep of every shape issue 28 found (left and right nesting,
    prefix operators, shifts, if-then-else), of every type: the compiled value is the
    interpreter's on random states.  The generated C is straight-line code."""
    rng = random.Random(seed)
    ts = B.system("deep", vars=[B.var(n, t) for n, t in DEEP_VARS.items()], init=[], actions=[])
    lay = Layout(ts)
    exprs = [
        _deep(t, min(depth, 60) if (shape, t) == ("prefix", B.INT) else depth, shape, rng)
        for (shape, t), depth in kinds
    ]
    dll, _ = cload.build(cgen.expressions_source(lay, exprs))
    dll.fv_eval.restype = ctypes.c_int64
    dll.fv_eval.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int64)]
    dll.fv_err_code.restype = ctypes.c_int
    for _ in range(4):
        state = {
            "a": {(): rng.randrange(256)}, "b": {(): rng.randrange(256)},
            "w": {(): rng.randrange(1 << 64)}, "f": {(): rng.random() < 0.5},
            "g": {(): rng.randint(-3, 3)},
        }  # fmt: skip
        buf = (ctypes.c_int64 * lay.size)()
        for j in range(lay.size):
            name = lay.slot_var[j]
            x = enc(lay.types[name], state[name][()])
            buf[j] = x - (1 << 64) if x >= 1 << 63 else x
        for k, e in enumerate(exprs):
            want = interpret.evaluate(e, state, {})  # type: ignore[arg-type]
            got = int(dll.fv_eval(k, buf))
            assert int(dll.fv_err_code()) == 0
            if e.type == U64 and got < 0:
                got += 1 << 64
            assert dec(e.type, got) == want, f"expression {k}: {kinds[k]}"


def test_the_deepest_chains_of_every_shape() -> None:
    """Each shape at 5,000 deep once (hypothesis above draws depths and mixes)."""
    test_deep_expressions_against_the_interpreter.hypothesis.inner_test(  # type: ignore[attr-defined]
        11, [(("left", U8), 5000), (("right", BOOL), 5000), (("prefix", BOOL), 5000)]
    )
    test_deep_expressions_against_the_interpreter.hypothesis.inner_test(  # type: ignore[attr-defined]
        12, [(("shift", I8), 5000), (("ite", U64), 5000), (("right", B.INT), 5000)]
    )


def test_a_system_with_a_5000_deep_guard_is_searched() -> None:
    """End to end: a guard and an assignment 5,000 levels deep; the violation at step 5
    is found and its trace replayed."""
    rng = random.Random(7)
    x = B.v("x", U8)
    deep_true = B.b(BinOp.OR, B.b(BinOp.EQ, x, x), _deep(BOOL, 5000, "left", rng))
    value = x
    for _ in range(5000):
        value = B.b(BinOp.ADD, value, B.n(0, U8))
    start = {"a": 3, "b": 250, "w": 1 << 40, "f": True, "g": -2}
    ts = B.system(
        "deep",
        vars=[B.var("x", U8), *(B.var(n, t) for n, t in DEEP_VARS.items())],
        init=[
            B.assign("x", B.n(0, U8)),
            *(B.assign(n, B.n(start[n], t)) for n, t in DEEP_VARS.items()),
        ],
        actions=[B.action("inc", [B.assign("x", B.add(value, B.n(1, U8)))], guard=deep_true)],
        properties=[B.invariant("small", B.b(BinOp.LT, x, B.n(5, U8)))],
    )
    (r,) = cexplicit.run(Job.resolve(ts, Options(engine="explicit"))).results
    assert (r.verdict, r.step) == (Verdict.VIOLATED, 5)


# ---- safe to load -------------------------------------------------------------------------


def test_nothing_from_a_spec_but_checked_identifiers_reaches_the_c() -> None:
    evil = 'x */ int main(void) { system("touch /tmp/pwned"); } /* y'
    base = B.counter()
    ts = replace(
        base,
        name=evil,
        actions=tuple(replace(a, name=evil) for a in base.actions),
        properties=tuple(replace(p, name=evil + p.name) for p in base.properties),
    )
    folded = cgen.Folded(ts, ts.properties)
    src = cgen.source(folded)
    code = re.sub(r"/\*.*?\*/", "", src, flags=re.S)  # the comments, which may name it
    assert "pwned" not in code and "main" not in code
    assert "*/" not in "".join(re.findall(r"/\*(.*?)\*/", src, flags=re.S))
    out = cexplicit.run(Job.resolve(ts, Options(engine="explicit")))
    assert out.results and all(r.verdict is not Verdict.UNKNOWN for r in out.results)


def test_the_cache_is_private_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    src = "int fv_answer(void) { return 42; }\n"
    dll, cached = cload.build(src)
    assert (int(dll.fv_answer()), cached) == (42, False)
    d = cload.cache_dir()
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert cload.build(src)[1] is True
    # a library that is not the one recorded is built again, not loaded
    # (tampered as a new file renamed over it: rewriting the loaded library in place
    # would change the code this process has mapped, and crash it at exit)
    (lib,) = d.glob("*.so")
    tampered = lib.with_name(lib.name + ".tampered")
    tampered.write_bytes(lib.read_bytes() + b"\0")
    tampered.replace(lib)
    assert cload.build(src)[1] is False


def test_a_compile_error_is_internal_and_keeps_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(cload.CompileError, match="kept at"):
        cload.build("this is not C\n")
    kept = list(cload.cache_dir().glob("failed-*.c"))
    assert len(kept) == 1 and kept[0].read_text() == "this is not C\n"
    monkeypatch.setenv("CC", "false")  # a compiler that refuses everything
    code = cli.main(["prove", str(ROOT / "spec" / "fuse_pre.fv"), "--engine", "explicit",
                     "--backend", "c"])  # fmt: skip
    assert code == cli.EXIT_INTERNAL
    assert "CompileError" in capsys.readouterr().err


def test_without_a_compiler_the_python_engine_runs_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CC", "/nonexistent/cc")
    job = Job.resolve(B.counter(), Options(engine="explicit"))
    with pytest.raises(cexplicit.Fallback):
        cexplicit.run(job)
    assert [_row(r) for r in cexplicit.explicit_search(job)] == [
        _row(r) for r in explicit.run(job).results
    ]
    code = cli.main(["prove", str(ROOT / "spec" / "fuse_pre.fv"), "--engine", "explicit",
                     "--backend", "c"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == cli.EXIT_FINDING
    assert err.count("no C compiler found") == 1


def test_cli_backend_c_reports_what_python_reports(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(ROOT / "spec" / "fuse_pre.fv")
    outs = []
    for backend in ("python", "c"):
        code = cli.main(["prove", spec, "--engine", "explicit", "--backend", backend,
                         "--format", "json"])  # fmt: skip
        outs.append((code, _strip_seconds(capsys.readouterr().out)))
    assert outs[0] == outs[1]
    assert outs[0][0] == cli.EXIT_FINDING
    assert cli.main(["prove", spec, "--engine", "bmc", "--backend", "c"]) == cli.EXIT_USAGE


def _strip_seconds(text: str) -> str:
    import json

    def clean(x: object) -> object:
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items() if k not in ("seconds", "elapsed")}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(json.loads(text)), sort_keys=True)


def test_a_cover_and_a_transition_property_settle_as_in_python() -> None:
    """The goal kinds the shipped specs have few of: transition properties with a pre
    part and a post part, covers, two-state invariants."""
    x, u3 = B.v("c", B.u(3)), B.u(3)
    ts = replace(
        B.counter(),
        properties=(
            B.transition("up", B.b(BinOp.AND, B.le(x, B.p("c", u3)), B.lt(B.p("c", u3), B.n(6, u3)))),
            B.cover("six", B.eq(x, B.n(6, B.u(3)))),
            B.invariant("never", B.ne(x, B.n(7, B.u(3)))),
        ),
    )  # fmt: skip
    job = Job.resolve(ts, Options(engine="explicit"))
    c, p = cexplicit.run(job), explicit.run(job)
    _same(c, p)
    assert {r.property: r.verdict for r in c.results}["six"] is Verdict.COVERED
    assert {r.property: (r.verdict, r.step) for r in c.results}["up"] == (Verdict.VIOLATED, 6)


def test_a_transition_property_that_folds_to_true_is_no_check_in_either() -> None:
    """Found by the random systems: a transition property whose parts fold to true has
    no check on either side, so the search stops where the Python engine's does."""
    c = B.p("c", B.u(3))
    trivial = B.transition("trivial", B.b(BinOp.OR, B.eq(c, c), B.TRUE))
    ts = replace(B.counter(), properties=(trivial,))
    job = Job.resolve(ts, Options(engine="explicit"))
    _same(cexplicit.run(job), explicit.run(job))
