"""The grammar: conflict-free LALR, and the precedence and associativity the docs promise."""

from __future__ import annotations

from pathlib import Path

import pytest
from lark import Lark

from fusever import syntax as s
from fusever.parse import parse_text

ROOT = Path(__file__).parent.parent
SPECS = sorted(
    [
        *ROOT.glob("docs/examples/*.fv"),
        *ROOT.glob("tests/fixtures/*.fv"),
        *ROOT.glob("spec/**/*.fv"),
    ]
)


def test_grammar_builds_strict() -> None:
    # strict=True turns any shift/reduce or reduce/reduce conflict (and terminal
    # collisions) into an error instead of a silent resolution
    text = (ROOT / "grammar" / "fusever.lark").read_text()
    Lark(text, parser="lalr", strict=True)


def test_grammar_ships_in_the_package() -> None:
    # A non-editable install carries grammar/ as the data package fusever.grammar
    # (parse.py reads it from there, or from the checkout); pin that mapping.
    import tomllib

    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "fusever.grammar" in conf["packages"]
    assert conf["package-dir"]["fusever.grammar"] == "grammar"
    assert "*.lark" in conf["package-data"]["fusever.grammar"]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_real_specs_parse(path: Path) -> None:
    spec = parse_text(path.read_text(), str(path))
    assert spec.decls


def _const(expr: str) -> s.Expr:
    decl = parse_text(f"spec t const C = {expr}", "t.fv").decls[0]
    assert isinstance(decl, s.ConstDecl)
    return decl.value


def B(op: s.BinOp, lhs: s.Expr, rhs: s.Expr) -> s.Binary:
    return s.Binary(op, lhs, rhs)


a, b, c = s.Ref("a"), s.Ref("b"), s.Ref("c")


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a || b && c", B(s.BinOp.OR, a, B(s.BinOp.AND, b, c))),
        ("a && b || c", B(s.BinOp.OR, B(s.BinOp.AND, a, b), c)),
        ("a ==> b ==> c", B(s.BinOp.IMPLIES, a, B(s.BinOp.IMPLIES, b, c))),
        ("a || b ==> c", B(s.BinOp.IMPLIES, B(s.BinOp.OR, a, b), c)),
        ("a - b - c", B(s.BinOp.SUB, B(s.BinOp.SUB, a, b), c)),
        ("a + b * c", B(s.BinOp.ADD, a, B(s.BinOp.MUL, b, c))),
        ("-a * b", B(s.BinOp.MUL, s.Unary(s.UnOp.NEG, a), b)),
        ("a - -b", B(s.BinOp.SUB, a, s.Unary(s.UnOp.NEG, b))),
        ("!a == b", s.Unary(s.UnOp.NOT, B(s.BinOp.EQ, a, b))),
        ("a + 1 < b && c", B(s.BinOp.AND, B(s.BinOp.LT, B(s.BinOp.ADD, a, s.Number(1)), b), c)),
        ("(a || b) && c", B(s.BinOp.AND, B(s.BinOp.OR, a, b), c)),
        ("0x1f + 010", B(s.BinOp.ADD, s.Number(31), s.Number(10))),
        ("a'[b, c]", s.Ref("a", True, (b, c))),
        ("int(a) >= 0", B(s.BinOp.GE, s.Call("int", (a,)), s.Number(0))),
        (
            "if a then b else c || a",
            s.Ite(a, b, B(s.BinOp.OR, c, a)),
        ),
        (
            "forall x: S, y: T. a ==> b",
            s.Quant(
                s.Quantifier.FORALL,
                (s.Binder("x", "S"), s.Binder("y", "T")),
                B(s.BinOp.IMPLIES, a, b),
            ),
        ),
        (
            "a ==> exists x: S. b",
            B(s.BinOp.IMPLIES, a, s.Quant(s.Quantifier.EXISTS, (s.Binder("x", "S"),), b)),
        ),
    ],
)
def test_precedence(text: str, tree: s.Expr) -> None:
    assert _const(text) == tree
