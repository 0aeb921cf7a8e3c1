"""The spec language for people: the Pygments lexer and the TextMate grammar."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pygments import lex
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Name, String

from fusever import lexer

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted([*ROOT.glob("spec/*.fv"), *ROOT.glob("docs/examples/*.fv")])


def _tokens(text: str) -> list[tuple[object, str]]:
    return [(t, v) for t, v in lex(text, lexer.FuseverLexer()) if v.strip()]


def test_every_word_of_the_grammar_is_a_keyword() -> None:
    assert {"action", "variant", "merge", "forall", "choose", "true"} <= lexer.keywords()
    for word in lexer.keywords():
        ((token, value),) = _tokens(word)
        assert value == word and token in Keyword, (word, token)


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_the_shipped_specs_lex_without_errors(path: Path) -> None:
    tokens = _tokens(path.read_text(encoding="utf-8"))
    assert [v for t, v in tokens if t is Error] == []


def test_names_types_and_descriptions() -> None:
    tokens = _tokens('action reply(f: File) "the daemon replies to {f}" by daemon { x := u<W> }')
    assert (Name.Function, "reply") in tokens
    assert (String.Interpol, "{f}") in tokens
    assert (Keyword.Type, "u") in tokens


def test_pygments_finds_the_lexer_by_its_entry_point() -> None:
    assert isinstance(get_lexer_by_name("fusever"), lexer.FuseverLexer)
    assert isinstance(get_lexer_for_filename("fuse_v2.fv"), lexer.FuseverLexer)


def test_the_textmate_grammar_is_generated_from_the_same_words() -> None:
    shipped = (ROOT / "editors" / "vscode" / "syntaxes" / "fusever.tmLanguage.json").read_text(
        encoding="utf-8"
    )
    assert shipped == lexer.textmate(), "stale: see editors/README.md to generate it"
    doc = json.loads(shipped)
    for pattern in doc["patterns"]:
        for key in ("match", "begin", "end"):
            if key in pattern:
                re.compile(pattern[key])  # Oniguruma reads these too: plain syntax only
    control = next(p for p in doc["patterns"] if p.get("name") == "keyword.control.fusever")
    assert re.search(control["match"], "assume x") and not re.search(control["match"], "assumed")
