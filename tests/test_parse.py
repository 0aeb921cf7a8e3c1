"""parse_text: syntax nodes with spans, and syntax errors that say what was expected."""

from __future__ import annotations

import pytest

from fusever import syntax as s
from fusever.diagnostics import SpecError
from fusever.parse import PARSE_CACHE_SIZE, _parse, _parser, parse_text

SRC = """\
// a comment
spec demo "a demo"
const N = 0x10
sort Fud = 2
enum Phase { idle, busy, }
var seq: (Fud, bool) -> u<N>
ghost clock: int
init {
  seq := any
  clock := 0
}
replace action go(d: Fud, b: bool) by daemon(d) when !b {
  choose v: u8 where v > 0
  if b { skip } else if clock > 1 { seq[d, b] := 1 } else { skip }
  for all e in Fud where e != d { seq[e, true] := seq[e, true] + 1 }
}
action plain() { skip }
cover c for p "desc": seq'[0, true] == 1
invariant p: true
remove property q
depth N
"""


def _spec() -> s.SpecFile:
    return parse_text(SRC, "demo.fv")


def test_header_and_file_fields() -> None:
    spec = _spec()
    assert (spec.name, spec.base, spec.description) == ("demo", None, "a demo")
    assert spec.path == "demo.fv" and spec.text == SRC
    v = parse_text("variant v of demo", "v.fv")
    assert (v.name, v.base, v.description, v.decls) == ("v", "demo", None, ())


def test_declarations() -> None:
    d = _spec().decls
    assert d[0] == s.ConstDecl("N", s.Number(16))
    assert d[1] == s.SortDecl("Fud", s.Number(2))
    assert d[2] == s.EnumDecl("Phase", ("idle", "busy"))
    assert d[3] == s.VarDecl(
        "seq",
        s.MapType((s.NamedType("Fud"), s.NamedType("bool")), s.SizedType("u", "N")),
        ghost=False,
    )
    assert d[4] == s.VarDecl("clock", s.NamedType("int"), ghost=True)
    assert d[5] == s.InitDecl((s.Assign("seq", (), s.Any()), s.Assign("clock", (), s.Number(0))))
    assert d[-1] == s.DepthDecl(s.Ref("N"))
    assert d[-2] == s.RemoveDecl("property", "q")


def test_action() -> None:
    go = _spec().decls[6]
    assert isinstance(go, s.ActionDecl)
    assert go.replace and go.name == "go"
    assert go.params == (s.Param("d", s.NamedType("Fud")), s.Param("b", s.NamedType("bool")))
    assert go.actor == s.Actor("daemon", "d")
    assert go.guard == s.Unary(s.UnOp.NOT, s.Ref("b"))
    choose, if_, for_ = go.body
    assert choose == s.Choose("v", s.NamedType("u8"), s.Binary(s.BinOp.GT, s.Ref("v"), s.Number(0)))
    assert isinstance(if_, s.If) and if_.then == (s.Skip(),)
    assert isinstance(if_.else_[0], s.If)  # else if nests
    assert isinstance(for_, s.ForAll) and (for_.var, for_.sort) == ("e", "Fud")
    plain = _spec().decls[7]
    assert isinstance(plain, s.ActionDecl)
    assert (plain.replace, plain.params, plain.actor, plain.guard) == (False, (), None, None)


def test_properties() -> None:
    c, p = _spec().decls[8:10]
    assert c == s.PropertyDecl(
        s.PropKind.COVER,
        "c",
        s.Binary(s.BinOp.EQ, s.Ref("seq", True, (s.Number(0), s.Bool(True))), s.Number(1)),
        description="desc",
        covers="p",
    )
    assert p == s.PropertyDecl(s.PropKind.INVARIANT, "p", s.Bool(True))


def test_spans() -> None:
    spec = _spec()
    const = spec.decls[0]
    assert const.span == s.Span(
        "demo.fv", 3, 1, 3, 15
    )  # end exclusive: "const N = 0x10" is 14 long
    go = spec.decls[6]
    assert isinstance(go, s.ActionDecl)
    assert (go.span.line, go.span.col, go.span.end_line) == (12, 1, 16)
    assert go.guard is not None and (go.guard.span.line, go.guard.span.col) == (12, 54)
    assert spec.decls[3].span.file == "demo.fv"


def test_equality_ignores_spans() -> None:
    a = parse_text("spec x const A = 1", "a.fv")
    b = parse_text("spec x\n\n  const   A =\n 1", "b.fv")
    assert a == b and a.decls[0].span != b.decls[0].span


def test_parser_is_built_once() -> None:
    assert _parser() is _parser()


def test_parse_is_cached_on_text_and_path() -> None:
    first = parse_text(SRC, "demo.fv")
    assert parse_text(SRC, "demo.fv") is first
    other_text = parse_text(SRC + "\n", "demo.fv")
    other_path = parse_text(SRC, "other.fv")
    assert other_text is not first and other_path is not first
    assert other_path.path == "other.fv" and other_path.decls[0].span.file == "other.fv"
    assert other_text == first and other_text.text == SRC + "\n"
    assert _parse.cache_info().maxsize == PARSE_CACHE_SIZE


def test_syntax_error_is_raised_again_not_cached() -> None:
    errors = []
    for _ in range(2):
        with pytest.raises(SpecError) as e:
            parse_text("spec s\nconst N 3", "e.fv")
        errors.append(e.value)
    assert errors[0] is not errors[1]
    assert errors[0].diagnostics == errors[1].diagnostics


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "spec s\nvar x: u8\ninit { x = 1 }",
            (3, 10),
            'expected one of "(", ":=", "[" but found "="',
        ),
        ("spec s\nconst N 3", (2, 9), 'expected "=" but found number 3'),
        ("spec s\naction a() { if x }", (2, 19), 'but found "}"'),
        ("spec s\nvar x u8", (2, 7), 'expected ":" but found name `u8`'),
        ("spec s\nvar x: u8 #", (2, 11), 'unexpected character "#"'),
        ("spec", (1, 5), "expected a name but found the end of the file"),
        ("", (1, 1), 'expected one of "spec", "variant" but found the end of the file'),
        ("spec s /* open", (1, 8), "unterminated comment"),
    ],
)
def test_syntax_errors(text: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(SpecError) as e:
        parse_text(text, "e.fv")
    (d,) = e.value.diagnostics
    assert d.span is not None and (d.span.file, d.span.line, d.span.col) == ("e.fv", *where)
    assert message in d.message
    if text:
        assert d.line_text == text.splitlines()[where[0] - 1]


def test_header_reads_the_first_two_tokens_with_the_grammars_lexer() -> None:
    from fusever.parse import header

    assert header('// a comment\n/* and\n one */ spec fuse "d"\nvar x: u8') == "fuse"
    assert header("variant v2 of fuse\n") == "v2"
    assert header("spec broken @@@ everything after is not lexed") == "broken"
    assert header("var x: u8\n") is None  # no header
    assert header("@@@") is None  # not lexable
    assert header("") is None
    assert header("spec") is None


# Every kind of declaration, with names where a search of the text would go wrong:
# after a comment that holds the same word, on the next line, and inside longer words.
NAMED = """\
variant /* base */ named
  of
  base "names"
const /* c_one */ c_one = 1
set
  c_two = 2
sort s_one = 2
enum e_one { m_one, m_two }
var /* v_one */ v_one: bool
ghost g_one: int
replace action /* a_one */ a_one(p_one: s_one) by daemon(/* p_one */ p_one) {
  choose ch_one: u8
  for all /* i_one */ i_one in /* s_one */ s_one { pr_one(i_one) }
}
def d_one: bool = true
proc pr_one(x_one: s_one) { skip }
replace cover cv_one for /* inv_one */ inv_one: true
invariant inv_one: true
observe ob_one[b_one: s_one]: true
remove property rm_one
config cf_one { set c_three = 3 }
merge mg_one "m" { set c_four = 4 }
"""


def _named_spans(f: s.SpecFile) -> list[tuple[str, s.Span]]:
    """(name, the span the parser recorded for it) for every declared or named name."""
    out: list[tuple[str, s.Span]] = [(f.base or "", f.base_span)]
    for d in f.decls:
        match d:
            case s.ConstDecl() | s.SetDecl() | s.SortDecl() | s.VarDecl() | s.RemoveDecl():
                out.append((d.name, d.name_span))
            case s.EnumDecl():
                out += [(d.name, d.name_span), *zip(d.members, d.member_spans, strict=True)]
            case s.ActionDecl(actor=s.Actor(param=str(param)) as actor):
                out += [(d.name, d.name_span), (param, actor.param_span)]
                for st in d.body:
                    if isinstance(st, s.Choose):
                        out.append((st.name, st.name_span))
                    elif isinstance(st, s.ForAll):
                        out += [(st.var, st.var_span), (st.sort, st.sort_span)]
                        call = st.body[0]
                        assert isinstance(call, s.CallStmt)
                        out.append((call.name, call.name_span))
            case s.DefDecl() | s.ProcDecl() | s.ObserveDecl():
                out.append((d.name, d.name_span))
            case s.PropertyDecl():
                out.append((d.name, d.name_span))
                if d.covers is not None:
                    out.append((d.covers, d.covers_span))
            case s.ConfigDecl():
                out.append((d.name, d.name_span))
                out += [(i.name, i.name_span) for i in d.items if isinstance(i, s.SetDecl)]
            case _:
                raise AssertionError(f"no name span checked for {d!r}")
    return out


def test_every_name_keeps_its_own_span_from_the_lexer() -> None:
    f = parse_text(NAMED, "n.fv")
    lines = NAMED.split("\n")
    spans = _named_spans(f)
    assert len(spans) == 26
    for name, sp in spans:
        assert sp.file == "n.fv" and sp.line == sp.end_line, (name, sp)
        assert lines[sp.line - 1][sp.col - 1 : sp.end_col - 1] == name, (name, sp)
    # the token itself, not a copy of its word in a comment before it
    action = f.decls[6]
    assert isinstance(action, s.ActionDecl) and action.actor is not None
    loop = action.body[1]
    assert isinstance(loop, s.ForAll)
    where = [f.base_span, action.actor.param_span, loop.var_span, loop.sort_span]
    assert [(sp.line, sp.col) for sp in where] == [(3, 3), (11, 70), (13, 23), (13, 44)]
    # the name spans are positions: excluded from equality and repr, like ``span``
    assert f == parse_text(NAMED.replace("const /* c_one */", "const"), "n.fv")
    assert "name_span" not in repr(f.decls[0])
