"""The generated code's operators against the closures' and the interpreter's, on random
expressions (hypothesis).

Each example is a well-typed random expression over unsigned and signed 8-bit
variables, ints, bools and a small map, written as spec text and checked by the front
end.  Every sub-expression is compiled both ways (:mod:`fusever.codegen`,
:mod:`fusever.closures`) and evaluated on random states; both must equal the
interpreter's value (:func:`fusever.interpret.evaluate`), encoded as the explicit
engine stores it.  Wrapping, signed comparison and casts, shifts by the width or more,
``%`` by zero, and constant folding are all in reach of the generator.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusever import interpret, load, parse
from fusever.closures import Compiler, lift
from fusever.codegen import Generator
from fusever.layout import Layout, domain, enc
from fusever.ts import IntType, walk

# the parser raises the limit on its first use; raise it before hypothesis looks
sys.setrecursionlimit(max(sys.getrecursionlimit(), parse.RECURSION_LIMIT))

SPEC = """spec ops "random operators"
var a: u8
var b: u8
var c: i8
var d: i8
var p: bool
var q: bool
sort Slot = 4
var r: Slot
var m: Slot -> u8
ghost g: int
ghost h: int
init {{ a := any  b := any  c := any  d := any  p := any  q := any  g := 0  h := 0
  r := any  m := any }}
action nop() by cpu when true {{ g := g + 1  h := h }}
invariant e: {expr}
depth 1
"""

_BV_BIN = ("+", "-", "*", "%", "&", "|", "^", "<<", ">>")
_INT_BIN = ("+", "-", "*", "%")
_CMP = ("==", "!=", "<", "<=", ">", ">=")


def _expr(draw: st.DrawFn, ty: str, depth: int) -> str:
    """A random expression of type ``ty`` (u8, i8, int, bool) with a variable in it."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return _leaf(draw, ty)
    k = draw(st.integers(0, 5))
    if ty == "bool":
        if k == 0:
            return f"(!({_expr(draw, 'bool', depth - 1)}))"
        if k == 1:
            op = draw(st.sampled_from(("&&", "||", "==>", "==", "!=")))
            return f"({_expr(draw, 'bool', depth - 1)} {op} {_expr(draw, 'bool', depth - 1)})"
        t = draw(st.sampled_from(("u8", "i8", "int")))
        op = draw(st.sampled_from(_CMP))
        return f"({_expr(draw, t, depth - 1)} {op} {_operand(draw, t, depth - 1)})"
    if k == 0:
        return f"(if {_expr(draw, 'bool', depth - 1)} then {_expr(draw, ty, depth - 1)} else {_operand(draw, ty, depth - 1)})"
    if k == 1 and ty != "int":
        return f"{draw(st.sampled_from(('-', '~')))}({_expr(draw, ty, depth - 1)})"
    if k == 2:
        if ty == "u8":
            return f"unsigned({_expr(draw, 'i8', depth - 1)})"
        if ty == "i8":
            return f"signed({_expr(draw, 'u8', depth - 1)})"
        return f"int({_expr(draw, draw(st.sampled_from(('u8', 'i8'))), depth - 1)})"
    if k == 3 and ty == "u8":
        return f"m[{draw(st.sampled_from(('r', '2')))}]"
    op = draw(st.sampled_from(_INT_BIN if ty == "int" else _BV_BIN))
    return f"({_expr(draw, ty, depth - 1)} {op} {_operand(draw, ty, depth - 1)})"


def _operand(draw: st.DrawFn, ty: str, depth: int) -> str:
    """The right operand: often a literal (typed by the left one), else an expression."""
    if ty != "bool" and draw(st.booleans()):
        lo, hi = {"u8": (0, 255), "i8": (-128, 127), "int": (-300, 300)}[ty]
        n = draw(st.integers(lo, hi))
        return f"({n})" if n < 0 else str(n)
    return _expr(draw, ty, depth)


def _leaf(draw: st.DrawFn, ty: str) -> str:
    return draw(
        st.sampled_from(
            {"u8": ("a", "b"), "i8": ("c", "d"), "int": ("g", "h"), "bool": ("p", "q")}[ty]
        )
    )


@st.composite
def expressions(draw: st.DrawFn) -> str:
    return _expr(draw, "bool", draw(st.integers(1, 5)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=expressions(), seed=st.integers(0, 2**32 - 1))
def test_generated_operators_are_the_closures_and_the_interpreter(
    tmp_path_factory: object, text: str, seed: int
) -> None:
    folder = Path(tmp_path_factory.mktemp("ops"))  # type: ignore[attr-defined]
    spec_file = folder / "ops.fv"
    spec_file.write_text(SPEC.format(expr=text))
    (ts,) = load.load_specs([spec_file])
    lay = Layout(ts)
    gen, comp = Generator(lay), Compiler(lay)
    subs = [x for x in walk(ts.properties[0].expr) if x.type is not None]
    codes = [gen.expr(x, {}, "s", "t") for x in subs]
    fns = gen.functions(codes)
    closures = [lift(comp.expr(x, {})) for x in subs]
    rng = random.Random(seed)
    for _ in range(20):
        state = []
        for j in range(lay.size):
            n = domain(lay.types[lay.slot_var[j]])
            state.append(rng.randrange(n) if n is not None else rng.randint(-400, 400))
        decoded = lay.decode(state)
        for x, f, c in zip(subs, fns, closures, strict=True):
            want = interpret.evaluate(x, decoded, {})
            expect = want if isinstance(x.type, IntType) else enc(x.type, want)
            assert f(state, state) == expect == c(state, state), (str(x), state)
