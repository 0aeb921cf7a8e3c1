"""Random and mutated spec text must give a SpecError or a system, never another exception.

Mutations work on the tokens of real specs (the examples and fixtures): a token
deleted, duplicated or swapped with another, a few at a time, so most inputs get
past the parser and exercise the checker's error paths.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusever.check import check
from fusever.diagnostics import SpecError
from fusever.parse import parse_text
from fusever.report import render_diagnostics

ROOT = Path(__file__).parent.parent
SOURCES = sorted([*ROOT.glob("docs/examples/*.fv"), *(ROOT / "tests" / "fixtures").glob("*.fv")])
TOKEN = re.compile(
    r'"[^"\n]*"|0x[0-9a-fA-F]+|[0-9]+|[A-Za-z_][A-Za-z0-9_]*|:=|==>|==|!=|<=|>=|->|&&|\|\||\S'
)
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def _lines(path: Path) -> list[list[str]]:
    text = COMMENT.sub(" ", path.read_text())
    return [toks for line in text.splitlines() if (toks := TOKEN.findall(line))]


SPECS = [_lines(p) for p in SOURCES]
ALL = sorted({t for lines in SPECS for line in lines for t in line} | {"any", "'", "-1", "int"})
NAMES = [t for t in ALL if re.fullmatch(r"[A-Za-z_]\w*", t)]
NUMBERS = [t for t in ALL if t[0].isdigit() or t == "-1"] + ["0", "4096", "0xffffffffffffffff"]
OTHER = [t for t in ALL if t not in NAMES and t not in NUMBERS]
# the bases a mutated variant may name, parsed once
BASES = [parse_text(p.read_text(), str(p)) for p in SOURCES]


def _like(tok: str) -> list[str]:
    """Tokens of the same class, so that most replacements still parse."""
    if tok in NAMES:
        return NAMES
    if tok in NUMBERS:
        return NUMBERS
    return OTHER


def _front_end(text: str) -> None:
    try:
        spec = parse_text(text, "fuzz.fv")
        check([spec, *BASES], ["W=4"] if "W" in text else [])
    except SpecError as e:
        out = render_diagnostics(e.diagnostics)
        assert out
        for d in e.diagnostics:
            if d.span is not None and d.span.file == "fuzz.fv":
                assert d.line_text is not None, d


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = [list(line) for line in draw(st.sampled_from(SPECS))]
    for _ in range(draw(st.integers(1, 4))):
        n = len(lines)
        i = draw(st.integers(0, n - 1)) if n else 0
        j = draw(st.integers(0, n - 1)) if n else 0
        op = draw(st.sampled_from(["del-line", "dup-line", "swap-lines", "del", "dup", "swap", "replace"]))
        if not lines:
            break
        line = lines[i]
        k = draw(st.integers(0, len(line) - 1)) if line else 0
        match op:
            case "del-line":
                del lines[i]
            case "dup-line":
                lines.insert(j, list(line))
            case "swap-lines":
                lines[i], lines[j] = lines[j], lines[i]
            case "del" if line:
                del line[k]
            case "dup" if line:
                line.insert(k, line[k])
            case "swap" if line:
                other = lines[j]
                m = draw(st.integers(0, len(other) - 1)) if other else 0
                if other:
                    line[k], other[m] = other[m], line[k]
            case "replace" if line:
                line[k] = draw(st.sampled_from(_like(line[k])))
            case _:
                pass
    return "\n".join(" ".join(line) for line in lines)


FAST = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@FAST
@given(mutated())
def test_mutated_specs(text: str) -> None:
    _front_end(text)


@FAST
@given(st.lists(st.sampled_from(ALL), max_size=40).map(" ".join))
def test_random_token_soup(text: str) -> None:
    _front_end("spec soup " + text)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_random_text(text: str) -> None:
    _front_end(text)
