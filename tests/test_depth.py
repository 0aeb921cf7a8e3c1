"""Depth and size never crash: long chains are rebuilt balanced and work; nesting
deeper than parse.MAX_NESTING is a located error; nothing is a RecursionError."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusever import cli, engines, parse
from fusever.diagnostics import SpecError
from fusever.load import load_specs
from fusever.verdict import Options, Verdict

HEAD = """spec deep
const C = 1
sort B = 2
var x: bool
var y: u8
init { x := false
  y := 0 }
action a() { x := !x
  y := y + 1 }
"""

N = 3000  # operands of a chain: deeper than the nesting limit, had it stayed nested

CHAINS = {
    "plus": "y" + " + y" * N + " == y || true",
    "times": "y" + " * C" * N + " == y",
    "and": " && ".join(["true"] * N),
    "or": " || ".join(["x"] * N) + " || !x",
    "implies": "x ==> " * N + "true",
}


@pytest.mark.parametrize("kind", sorted(CHAINS))
def test_long_chains_check_and_prove(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.fv"
    path.write_text(HEAD + f"invariant p: {CHAINS[kind]}\ndepth 2\n")
    (ts,) = load_specs([path], [])
    (r,) = engines.prove(ts, Options(depth=2, engine="bmc"))
    assert r.verdict is Verdict.PROVED, r


def test_a_long_chain_with_literals_is_regrouped_and_means_the_same(tmp_path: Path) -> None:
    # issue 28: `1 + 1 + ...` was kept as written and then "nested too deeply"; a chain
    # is not nesting.  Regrouped, its constant operands still wrap as the chain would
    # (200 + 100 in u8 is 44 there, not an error), and each must fit on its own.
    path = tmp_path / "deep.fv"
    path.write_text(HEAD + f"invariant p: y{' + 1' * N} == y + {N % 256}\ndepth 2\n")
    (ts,) = load_specs([path], [])
    assert engines.prove(ts, Options(depth=2, engine="bmc"))[0].verdict is Verdict.PROVED
    wraps = "y + 200 + 100" + " + 0" * 40
    path.write_text(HEAD + f"invariant p: {wraps} == y + 44\ninvariant q: {wraps} == y + 45\n")
    (ts,) = load_specs([path], [])
    p, q = engines.prove(ts, Options(depth=2, engine="bmc"))
    assert p.verdict is Verdict.PROVED and q.verdict is Verdict.VIOLATED
    path.write_text(HEAD + f"invariant p: y + 0{' + 1' * 40} + 300 == y\n")
    with pytest.raises(SpecError, match="300 does not fit in u8") as e:
        load_specs([path], [])
    (d,) = e.value.diagnostics
    assert (
        d.span is not None
        and d.line_text is not None
        and d.line_text[d.span.col - 1 :].startswith("300")
    )


def test_a_long_subtraction_chain_checks_and_means_the_same(tmp_path: Path) -> None:
    path = tmp_path / "deep.fv"
    n = 5 * parse.MAX_NESTING
    path.write_text(HEAD + f"invariant p: y + {n % 256}{' - 1' * n} == y\ndepth 2\n")
    (ts,) = load_specs([path], [])
    assert engines.prove(ts, Options(depth=2, engine="bmc"))[0].verdict is Verdict.PROVED


def test_a_long_chain_that_cannot_be_regrouped_is_called_a_chain(tmp_path: Path) -> None:
    path = tmp_path / "deep.fv"
    path.write_text(HEAD + f"invariant p: y{' << 1' * (3 * parse.MAX_NESTING)} == 0\n")
    with pytest.raises(SpecError) as e:
        load_specs([path], [])
    (d,) = e.value.diagnostics
    assert "a chain of operators read left to right" in d.message and "nests" not in d.message
    assert d.span is not None and d.span.line == HEAD.count("\n") + 1


NESTED = {
    "not": lambda n: "!" * n + "x || true",
    "neg": lambda n: "-" * n + "y == 0 || true",
    "ite": lambda n: "if x then " * n + "true" + " else true" * n,
    "minus": lambda n: "y" + " - y" * n + " == y || true",
    "parens": lambda n: "(" * n + "x" + ")" * n + " || true",
}


@pytest.mark.parametrize("kind", sorted(NESTED))
def test_nesting_within_the_limit_proves(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.fv"
    expr = NESTED[kind](parse.MAX_NESTING - 20)
    path.write_text(HEAD + f"invariant p: {expr}\ndepth 1\n")
    (ts,) = load_specs([path], [])
    (r,) = engines.prove(ts, Options(depth=1, engine="bmc"))
    assert r.verdict is Verdict.PROVED, r


@pytest.mark.parametrize("kind", sorted(set(NESTED) - {"parens", "minus"}))
def test_nesting_past_the_limit_is_a_located_error(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.fv"
    path.write_text(HEAD + f"invariant p: {NESTED[kind](5 * parse.MAX_NESTING)}\n")
    with pytest.raises(SpecError) as e:
        load_specs([path], [])
    (d,) = e.value.diagnostics
    assert d.message == f"expression nests deeper than {parse.MAX_NESTING} levels"
    assert d.span is not None and d.span.line == HEAD.count("\n") + 1


def test_deep_statements_are_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 2 * parse.MAX_NESTING
    body = "if x { " * n + "skip" + " }" * n
    path = tmp_path / "deep.fv"
    path.write_text(HEAD + f"action b() {{ {body} }}\n")
    assert cli.main(["check", str(path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"deep.fv:{HEAD.count(chr(10)) + 1}:" in err and "nests deeper than" in err
    assert "Traceback" not in err


def test_nested_quantifiers_past_the_expansion_limit_are_a_located_error(tmp_path: Path) -> None:
    from fusever import load

    path = tmp_path / "deep.fv"
    n = load.MAX_INSTANCES.bit_length()  # 2^n instances of sort B (size 2)
    body = "".join(f"forall i{k}: B . " for k in range(n)) + "x || true"
    path.write_text(HEAD + f"invariant p: {body}\n")
    with pytest.raises(SpecError, match=f"expand to more than {load.MAX_INSTANCES} instances"):
        load_specs([path], [])
    ok = "".join(f"forall i{k}: B . " for k in range(4)) + "x || true"
    path.write_text(HEAD + f"invariant p: {ok}\n")
    assert load_specs([path], [])
