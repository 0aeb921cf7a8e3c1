"""Random and mutated spec text must give a SpecError or a system, never another exception.

Mutations work on the tokens of real specs (the examples and fixtures): a token
deleted, duplicated or swapped with another, a few at a time, so most inputs get
past the parser and exercise the checker's error paths.  Below them (issue 14): a
grammar-aware generator (deep nesting, huge literals, widths 0 and 10^6, depth -1 and
10^9, variant cycles, empty sorts, bad configurations), byte-level mutations of the
examples and of spec/, a short BMC run on generated specs that check, and the corpus
of inputs that once crashed (tests/fuzz_corpus/), all under one time budget.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusever import cli
from fusever.check import check
from fusever.diagnostics import SpecError
from fusever.load import load_specs
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
        op = draw(
            st.sampled_from(["del-line", "dup-line", "swap-lines", "del", "dup", "swap", "replace"])
        )
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


# ---- issue 14: grammar-aware generation, byte mutations, a corpus, a time budget ------
#
# Allowed outcomes, as the CLI sees them: a clean result (a checked system), a located
# error (SpecError, exit 2; every diagnostic in the fuzzed file has its source line),
# or, where a solver runs, an undecided verdict (exit 3).  Anything else (a
# RecursionError, a traceback, a hang) fails.  The budget: FUSEVER_FUZZ_SECONDS for
# all the fuzz tests of a run (default 40); FUSEVER_FUZZ_EXAMPLES scales the counts.
# An input that fails is saved under tests/fuzz_corpus/ when FUSEVER_FUZZ_SAVE=1, to be
# checked in with the fix: the corpus is replayed on every run.


CORPUS = Path(__file__).parent / "fuzz_corpus"
BUDGET = float(os.environ.get("FUSEVER_FUZZ_SECONDS", "40"))
SCALE = float(os.environ.get("FUSEVER_FUZZ_EXAMPLES", "1"))
_END = time.monotonic() + BUDGET  # from import: the budget of the whole run


def _out_of_time() -> bool:
    return time.monotonic() > _END


def _save(text: str | bytes) -> None:
    if os.environ.get("FUSEVER_FUZZ_SAVE") != "1":
        return
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    name = hashlib.sha256(data).hexdigest()[:16]
    CORPUS.mkdir(exist_ok=True)
    (CORPUS / f"crash-{name}.fv").write_bytes(data)


def _allowed(files: dict[str, str | bytes], prove: bool = False) -> None:
    """Load the files (the first is the spec) as `fusever check` does; on a result,
    optionally prove with a short BMC run.  Only the allowed outcomes pass."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, content in files.items():
            path = Path(tmp) / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", errors="surrogateescape")
            paths.append(path)
        try:
            try:
                systems = load_specs([paths[0]], [], all_configs=True)
            except SpecError as e:
                assert render_diagnostics(e.diagnostics)
                for d in e.diagnostics:
                    if d.span is not None and d.span.file == str(paths[0]):
                        assert d.line_text is not None or d.span.line >= 1, d
                return
            if prove:
                from fusever import engines
                from fusever.verdict import Options

                for ts in systems:
                    engines.prove(ts, Options(depth=min(ts.depth, 2), timeout=5, engine="bmc"))
        except BaseException:
            _save(next(iter(files.values())))
            raise


# -- the grammar, as hypothesis strategies (small names so that references often resolve)

_NAMES = st.sampled_from(["a", "b", "x", "y", "W", "N", "S", "E", "f", "g", "A", "B"])
_NUMBERS = st.sampled_from(
    ["0", "1", "2", "3", "8", "64", "255", "4096", "1000000", "18446744073709551616",
     "0x" + "f" * 40, "9" * 60]
)  # fmt: skip
_TYPES = st.sampled_from(
    ["bool", "int", "u8", "u64", "i16", "u<W>", "u<0>", "u<1000000>", "u<N>", "S", "E",
     "S -> u8", "(S, E) -> bool", "S -> int", "u1"]
)  # fmt: skip


def _exprs() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        _NUMBERS,
        st.sampled_from(["true", "false"]),
        _NAMES,
        _NAMES.map(lambda n: n + "'"),
        st.tuples(_NAMES, _NAMES).map(lambda t: f"{t[0]}[{t[1]}]"),
    )

    def extend(e: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        ops = st.sampled_from(["+", "-", "*", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "==>"])
        return st.one_of(
            st.tuples(e, ops, e).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(st.sampled_from(["!", "-"]), e).map(lambda t: t[0] + t[1]),
            e.map(lambda x: f"({x})"),
            st.tuples(e, e, e).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
            st.tuples(st.sampled_from(["forall", "exists"]), _NAMES, e).map(
                lambda t: f"{t[0]} {t[1]}: S . {t[2]}"
            ),
            st.tuples(st.sampled_from(["signed", "unsigned", "int", "min"]), e).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
        )

    return st.recursive(leaves, extend, max_leaves=12)


EXPRS = _exprs()


def _typed() -> tuple[st.SearchStrategy[str], st.SearchStrategy[str]]:
    """Well-typed boolean and u8 expressions over the prelude's names, so that many
    generated specs check and reach the later passes."""
    ints = st.recursive(
        st.sampled_from(["y", "0", "1", "255", "N", "K", "m[0]", "300"]),
        lambda e: st.one_of(
            st.tuples(e, st.sampled_from(["+", "-", "*"]), e).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            e.map(lambda x: f"-{x}"),
        ),
        max_leaves=8,
    )
    cmp = st.tuples(ints, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), ints).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    )
    bools = st.recursive(
        st.one_of(st.sampled_from(["x", "true", "false", "m[i]", "y' == y"]), cmp),
        lambda e: st.one_of(
            st.tuples(e, st.sampled_from(["&&", "||", "==>"]), e).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            e.map(lambda x: f"!{x}"),
            st.tuples(e, e, e).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
            st.tuples(st.sampled_from(["forall", "exists"]), e).map(
                lambda t: f"({t[0]} i: S . {t[1]})"
            ),
        ),
        max_leaves=8,
    )
    return bools, ints


BOOLS, INTS = _typed()


def _deep(kind: str, n: int) -> str:
    """Deliberately deep or long expressions (past the nesting limit for large n)."""
    match kind:
        case "not":
            return "!" * n + "x"
        case "neg":
            return "-" * n + "1 == 1"
        case "ite":
            return "if x then " * n + "true" + " else false" * n
        case "quant":
            return "".join(f"forall q{i}: S . " for i in range(n)) + "true"
        case "plus":
            return "y" + " + y" * n + " == y"
        case "implies":
            return "x ==> " * n + "true"
        case _:
            return "(" * n + "x" + ")" * n


@st.composite
def _stmts(draw: st.DrawFn, depth: int = 0) -> str:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        kinds = ["assign", "any", "skip", "assume", "choose", "call"] + (
            ["if", "for"] if depth < 3 else []
        )
        match draw(st.sampled_from(kinds)):
            case "assign":
                out.append(f"{draw(_NAMES)} := {draw(EXPRS)}")
            case "any":
                out.append(f"{draw(_NAMES)} := any")
            case "skip":
                out.append("skip")
            case "call":
                out.append(f"{draw(_NAMES)}({draw(st.sampled_from(['', '0', 'x']))})")
            case "assume":
                out.append(f"assume {draw(EXPRS)}")
            case "choose":
                out.append(f"choose {draw(_NAMES)}: {draw(_TYPES)} where {draw(EXPRS)}")
            case "if":
                body, other = draw(_stmts(depth + 1)), draw(_stmts(depth + 1))
                out.append(f"if {draw(EXPRS)} {{ {body} }} else {{ {other} }}")
            case _:
                out.append(
                    f"for all {draw(_NAMES)} in S where {draw(EXPRS)} {{ {draw(_stmts(depth + 1))} }}"
                )
    return "\n  ".join(out)


@st.composite
def _decl(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["const", "set", "sort", "enum", "var", "ghost", "init", "action", "property",
             "observe", "remove", "depth", "config", "deep", "property", "property",
             "typed-action", "typed-action", "def", "proc", "long"]
        )
    )  # fmt: skip
    match kind:
        case "const" | "set":
            return f"{kind} {draw(_NAMES)} = {draw(EXPRS)}"
        case "sort":
            return (
                f"sort {draw(_NAMES)} = {draw(st.sampled_from(['0', '1', '2', 'N', '5000', '-1']))}"
            )
        case "enum":
            members = draw(st.lists(_NAMES, min_size=0, max_size=3))
            return f"enum {draw(_NAMES)} {{ {', '.join(members)} }}"
        case "var" | "ghost":
            return f"{kind} {draw(_NAMES)}: {draw(_TYPES)}"
        case "init":
            return f"init {{ {draw(_stmts())} }}"
        case "action":
            params = ", ".join(
                f"{n}: {t}" for n, t in draw(st.lists(st.tuples(_NAMES, _TYPES), max_size=2))
            )
            guard = f" when {draw(EXPRS)}" if draw(st.booleans()) else ""
            return f"action {draw(_NAMES)}({params}){guard} {{ {draw(_stmts())} }}"
        case "property":
            pk = draw(st.sampled_from(["invariant", "transition", "cover", "lemma"]))
            e = draw(st.one_of(BOOLS, BOOLS, EXPRS))
            return f"{pk} {draw(_NAMES)}{draw(st.integers(0, 99))}: forall i: S . {e}"
        case "typed-action":
            guard = draw(BOOLS).replace("y'", "y").replace("m[i]", "m[0]")
            return (
                f"action t{draw(st.integers(0, 99))}() when {guard} "
                f"{{ y := {draw(INTS)}\n  if {guard} {{ x := !x }} }}"
            )
        case "def":
            params = draw(st.sampled_from(["", "(i: S)", "(a: u8, b: bool)"]))
            return f"def {draw(_NAMES)}{params}: {draw(_TYPES)} = {draw(st.one_of(BOOLS, EXPRS))}"
        case "proc":
            params = draw(st.sampled_from(["()", "(i: S)"]))
            return f"proc {draw(_NAMES)}{params} {{ {draw(_stmts())} }}"
        case "observe":
            return f"observe {draw(_NAMES)}: {draw(EXPRS)}"
        case "remove":
            what = draw(st.sampled_from(["action", "property", "observe"]))
            return f"remove {what} {draw(_NAMES)}"
        case "depth":
            return f"depth {draw(st.sampled_from(['-1', '0', '1', '1000000000', 'N', '20']))}"
        case "config":
            items = draw(
                st.lists(
                    st.one_of(
                        st.tuples(_NAMES, st.sampled_from(["0", "1", "-1", "1000000", "true"])).map(
                            lambda t: f"set {t[0]} = {t[1]}"
                        ),
                        st.sampled_from(["depth -1", "depth 0", "depth 1000000000", "depth 3"]),
                    ),
                    max_size=3,
                )
            )
            return f"config {draw(_NAMES)} {{ {' '.join(items)} }}"
        case "long":
            # issue 28: chains and lists that are long but flat (not nesting)
            n = draw(st.sampled_from([40, 700, 3000]))
            match draw(st.sampled_from(["consts", "literals", "minus", "configs", "vars"])):
                case "consts":
                    return "".join(f"const L{i} = L{i + 1} + 1\n" for i in range(n)) + (
                        f"const L{n} = {draw(st.sampled_from(['0', 'L0', 'true']))}"
                    )
                case "literals":
                    return f"invariant lit: y + {' + '.join(['1'] * n)} != y"
                case "minus":
                    return f"invariant minus: y{' - 1' * n} != y"
                case "configs":
                    value = draw(st.sampled_from(["0", "4", "4097", "true"]))
                    return "".join(f"config k{i} {{ set W = {value if i == n // 2 else 4} }}\n"
                                   for i in range(n))  # fmt: skip
                case _:
                    return "".join(f"var v{i}: u8\n" for i in range(n))
        case _:
            which = draw(
                st.sampled_from(["not", "neg", "ite", "quant", "plus", "implies", "paren"])
            )
            n = draw(st.sampled_from([3, 20, 200, 1500]))
            return f"invariant deep: {_deep(which, n)}"


@st.composite
def generated(draw: st.DrawFn) -> dict[str, str]:
    """One to three files: the spec first, then bases its header may name (a cycle
    among them sometimes); a prelude that makes many references resolve."""
    prelude = (
        "const W = 8\nconst N = 2\nconst K = 3\nsort S = N\nenum E { P, Q }\nvar x: bool\n"
        "var y: u<W>\nvar m: S -> u8\ninit { x := false\n  y := 0\n  for all i in S { m[i] := 0 } }\n"
        "action step() { y := y + 1\n  x := !x }\n"
    )
    files: dict[str, str] = {}
    names = ["s", "b", "c"]
    count = draw(st.integers(1, 3))
    for i in range(count):
        header = f"spec {names[i]}"
        if count > 1 and draw(st.integers(0, 3)) == 0:
            base = draw(st.sampled_from(names[:count]))  # sometimes itself: a cycle
            header = f"variant {names[i]} of {base}"
        body = "\n".join(draw(st.lists(_decl(), max_size=6)))
        files[f"{names[i]}.fv"] = (
            f"{header}\n{prelude if i == 0 or draw(st.booleans()) else ''}{body}\n"
        )
    return files


def _examples(n: int) -> int:
    return max(1, int(n * SCALE))


@settings(
    max_examples=_examples(1500), deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
@given(generated())
def test_grammar_aware_specs(files: dict[str, str]) -> None:
    if _out_of_time():
        return
    _allowed(files)


@settings(
    max_examples=_examples(60), deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
@given(generated())
def test_generated_specs_prove_or_are_undecided(files: dict[str, str]) -> None:
    if _out_of_time():
        return
    _allowed(files, prove=True)


BYTE_SOURCES = sorted(
    [*ROOT.glob("docs/examples/*.fv"), *(ROOT / "tests" / "fixtures").glob("*.fv")]
)
BIG_SOURCES = sorted(ROOT.glob("spec/*.fv"))


@st.composite
def byte_mutated(draw: st.DrawFn, sources: list[Path]) -> bytes:
    data = bytearray(draw(st.sampled_from(sources)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        j = draw(st.integers(i, min(len(data), i + 64)))
        match draw(st.sampled_from(["flip", "truncate", "delete", "duplicate", "huge", "insert"])):
            case "flip":
                data[i] ^= 1 << draw(st.integers(0, 7))
            case "truncate":
                del data[i:]
            case "delete":
                del data[i:j]
            case "duplicate":
                data[i:i] = data[i:j]
            case "huge":
                data[i:i] = draw(
                    st.sampled_from([b" 9" + b"9" * 400, b" u<1000000>", b" x" * 300, b"!" * 1200])
                )
            case _:
                data[i:i] = draw(
                    st.sampled_from(
                        [b"\xff\xfe", b"\x00", b"/*", b'"', b"depth -1\n", b"sort Z = 0\n"]
                    )
                )
    return bytes(data)


@settings(max_examples=_examples(500), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(byte_mutated(BYTE_SOURCES))
def test_byte_mutations_of_examples(data: bytes) -> None:
    if _out_of_time():
        return
    _allowed({"fuzz.fv": data})


@settings(max_examples=_examples(40), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(byte_mutated(BIG_SOURCES))
def test_byte_mutations_of_the_shipped_specs(data: bytes) -> None:
    if _out_of_time():
        return
    _allowed({"fuzz.fv": data})


# -- the corpus: every input that ever crashed, replayed on every run ------------------


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.fv")), ids=lambda p: p.name)
def test_corpus(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each corpus file through `fusever check` in-process: exit 0 or 2, no traceback."""
    code = cli.main(["check", str(path)])
    err = capsys.readouterr().err
    assert code in (cli.EXIT_OK, cli.EXIT_USAGE), err
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(err) < 20_000, "diagnostics must be bounded"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("codegen_*.fv")), ids=lambda p: p.name)
def test_codegen_corpus_proves_with_bmc(path: Path) -> None:
    """Issue 28's inputs on which the explicit engine's generated code failed to compile
    (deep `else if`, nested `if`, long `-` and `<<` chains, prefix `!` and `-`,
    right-nested `+`): they check, and BMC proves them."""
    from fusever import engines
    from fusever.verdict import Options, Verdict

    (ts,) = load_specs([path], [])
    results = engines.prove(ts, Options(depth=2, timeout=120, engine="bmc"))
    assert [r.verdict for r in results] == [Verdict.PROVED] * len(results)
