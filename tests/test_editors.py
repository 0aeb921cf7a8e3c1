"""editors/: the VS Code extension folder (package.json, language configuration, the
TextMate grammar, a problem matcher over ``fusever check --format json``) and the Vim
syntax file.  The grammar is tokenized as VS Code does it, by vscode-textmate on
vscode-oniguruma (tests/js, run in node); a missing node or package skips the test
on a developer's machine and fails it in CI (tests/chromium.py's rule)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from chromium import JS, missing, node_package

from fusever import cli, lexer

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "fusever.tmLanguage.json"


def tokenize(path: Path) -> list[list[dict[str, object]]]:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        missing("node", "apt-get install nodejs npm")
    node_package("vscode-textmate", "package.json")
    node_package("vscode-oniguruma", "package.json")
    done = subprocess.run(
        [str(node), str(JS / "tokenize.js"), str(GRAMMAR), str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tokens: list[list[dict[str, object]]] = json.loads(done.stdout)
    return tokens


def scoped(line: list[dict[str, object]], text: str) -> list[str]:
    for token in line:
        if token["text"] == text:
            scopes = token["scopes"]
            assert isinstance(scopes, list)
            return [str(s) for s in scopes]
    raise AssertionError(f"no token {text!r} in {line}")


def test_vscode_tokenizes_the_shipped_spec_as_the_grammar_means() -> None:
    spec = ROOT / "spec" / "fuse_v2.fv"
    lines = spec.read_text(encoding="utf-8").split("\n")
    tokens = tokenize(spec)
    assert len(tokens) == len(lines)
    for n, (text, line) in enumerate(zip(lines, tokens, strict=True)):
        assert "".join(str(t["text"]) for t in line) == text, n  # nothing lost
        stripped = text.lstrip()
        if stripped.startswith("//"):  # a comment is a comment, whatever words it has
            for token in line:
                if str(token["text"]).strip():
                    assert any("comment" in str(sc) for sc in token["scopes"]), n  # type: ignore[attr-defined]
        if stripped.startswith("action "):
            assert "keyword.declaration.fusever" in scoped(line, "action")
            name = stripped.split()[1].split("(")[0]
            assert "entity.name.function.fusever" in scoped(line, name)
            placeholder = re.search(r"\{[a-z]\}", text)
            if placeholder is not None:  # {f} in the description
                assert "constant.other.placeholder.fusever" in scoped(line, placeholder.group())
    write_seq = next(i for i, t in enumerate(lines) if t.startswith("var write_seq:"))
    assert "storage.type.fusever" in scoped(tokens[write_seq], "u")
    assert "keyword.declaration.fusever" in scoped(tokens[write_seq], "var")


def test_the_extension_folder_declares_the_language_grammar_and_matcher() -> None:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (language,) = package["contributes"]["languages"]
    assert language["id"] == "fusever" and language["extensions"] == [".fv"]
    config = json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"] == {"lineComment": "//", "blockComment": ["/*", "*/"]}
    (grammar,) = package["contributes"]["grammars"]
    assert (VSCODE / grammar["path"]).resolve() == GRAMMAR
    assert json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"] == grammar["scopeName"]
    assert GRAMMAR.read_text(encoding="utf-8") == lexer.textmate()  # generated, current


BAD = 'spec bad "two mistakes"\nvar a: bool\nvar b: u8\ninit {\n  a := 3\n  b := true\n}\n'


def test_the_problem_matcher_reads_check_json(tmp_path: Path, capsys: object) -> None:
    """VS Code's multi-line matcher: each pattern on the next line, then again for the
    next problem; applied here to what `fusever check --format json` prints."""
    spec = tmp_path / "bad.fv"
    spec.write_text(BAD)
    assert cli.main(["check", "--format", "json", str(spec)]) == 2
    out = capsys.readouterr().out
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (matcher,) = package["contributes"]["problemMatchers"]
    patterns = matcher["pattern"]
    found: list[dict[str, str]] = []
    current: dict[str, str] = {}
    k = 0
    for line in out.splitlines():
        m = re.match(patterns[k]["regexp"], line)
        if m is None:
            k, current = 0, {}
            m = re.match(patterns[0]["regexp"], line)
            if m is None:
                continue
        for key, group in patterns[k].items():
            if key != "regexp":
                current[key] = m.group(group)
        k += 1
        if k == len(patterns):
            found.append(current)
            k, current = 0, {}
    assert [(p["file"], p["line"], p["column"], p["severity"]) for p in found] == [
        (str(spec), "5", "8", "error"),
        (str(spec), "6", "8", "error"),
    ]
    assert all("type mismatch" in p["message"] for p in found)


def test_the_vim_syntax_has_the_grammars_words() -> None:
    vim = (ROOT / "editors" / "vim" / "syntax" / "fusever.vim").read_text(encoding="utf-8")
    words = set()
    for line in vim.splitlines():
        m = re.match(r"syn keyword fusever(Decl|Control|Bool|Type|Builtin) (.*)", line)
        if m:
            words |= set(m.group(2).split())
    grammar = json.loads(lexer.textmate())
    wanted = set()
    for p in grammar["patterns"]:
        m = re.fullmatch(r"\\b\(\?:([a-z0-9_|]+)\)\\b(?:\|.*)?", p.get("match", ""))
        if m:
            wanted |= set(m.group(1).split("|"))
    assert wanted and wanted <= words, wanted - words
    assert (ROOT / "editors" / "vim" / "ftdetect" / "fusever.vim").read_text().strip() == (
        "autocmd BufNewFile,BufRead *.fv setfiletype fusever"
    )
