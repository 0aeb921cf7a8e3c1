"""Action descriptions: holes that show values and choices that pick words."""

from __future__ import annotations

import pytest

from fusever import template as T
from fusever.check import check
from fusever.diagnostics import SpecError
from fusever.findings import narrate
from fusever.parse import parse_text
from fusever.report import description_text
from fusever.ts import Step

ARGS = {"f": "0", "err": "true", "op": "o_read", "w": "1"}


def fill(text: str, args: dict[str, str] = ARGS) -> str:
    return T.render(T.parse(text), args.get)


def test_holes_and_choices() -> None:
    assert fill("the daemon writes opener {f}'s OPEN {err ? error reply : reply}") == (
        "the daemon writes opener 0's OPEN error reply"
    )
    assert fill("{err ? error reply : reply}", {"err": "false"}) == "reply"
    assert fill("thread {w} {op == o_open ? opens : reads} it") == "thread 1 reads it"
    assert fill("thread {w} {op != o_open ? reads {f} : opens}") == "thread 1 reads 0"
    assert fill("the OPEN {err ? error :} reply", {"err": "false"}) == "the OPEN reply"  # one space
    assert fill("no holes at all") == "no holes at all"
    assert fill("{missing} {nope ? a : b}") == "{missing} {nope ? …}"  # no value: as written


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("x{y", "a `{` with no matching `}`"),
        ("x}y", "a `}` with no `{` before it"),
        ("{a b}", "`{a b}` is not a hole"),
        ("{a ? b}", "has no `:` between its two branches"),
        ("{a ? {c ? d : e} : f}", "a branch may hold only `{p}` holes"),
    ],
)
def test_malformed_holes(text: str, why: str) -> None:
    with pytest.raises(
        T.TemplateError, match=why.replace("{", r"\{").replace("}", r"\}").replace("?", r"\?")
    ):
        T.parse(text)


BASE = """spec d
enum Op { o_open, o_read }
sort File = 2
var x: u8
init { x := 0 }
action a(f: File, err: bool, o: Op) DESC { x := x + 1 }
"""


def _errors(desc: str) -> list[str]:
    with pytest.raises(SpecError) as e:
        check([parse_text(BASE.replace("DESC", f'"{desc}"'), "d.fv")], ())
    return [d.message for d in e.value.diagnostics]


def test_the_checker_reads_descriptions() -> None:
    ok = check(
        [
            parse_text(
                BASE.replace(
                    "DESC", '"{f} {err ? fails : works} {o == o_read ? reading : opening}"'
                ),
                "d.fv",
            )
        ],
        (),
    )
    step = Step("a", (("f", 1), ("err", False), ("o", "o_open")), {})
    assert description_text(step, ok) == "1 works opening"
    assert narrate("a(f=1, err=true, o=o_read)", ok) == "1 fails reading"
    pre = "the description of action `a` "
    assert _errors("{g}") == [pre + "names `{g}`, which is not a parameter"]
    assert _errors("{f ? a : b}") == [
        pre + "chooses by `f`, a File, not a bool: write `{f == v ? ... : ...}`"
    ]
    assert _errors("{o == o_rea ? a : b}") == [
        pre + "compares `o` with `o_rea`, not a member of Op; did you mean `o_read`?"
    ]
    assert _errors("{f == 2 ? a : b}") == [
        pre + "compares `f` with `2`, not an element of sort File (0 .. 1)"
    ]
    assert _errors("{err ? a }") == [
        pre + "has a malformed hole: `{err ? a }` has no `:` between its two branches: "
        "write `{p}`, `{p ? yes : no}` or `{p == v ? yes : no}`"
    ]
