"""Action instances as generated Python functions, one per instance: the explicit
engine's successor function without a call per operator.

:mod:`fusever.closures` compiles an expression into a tree of closures: every operator,
read and conjunct is a Python call, and on the shipped specs those calls were most of
the explicit search's time.  Here each action instance (enumerated parameters fixed)
becomes the text of one Python function ``step(s) -> list | None``: its guard tested on
the state ``s``, then its body run on a copy, ``None`` where the guard or an
``assume`` does not hold.  The text is made from the *checked transition system* only:
slot indices, integer constants, and the names of the helpers this module binds (the
operator table's functions, a signed reading, :class:`~fusever.closures.OrderBroken`).
No name or text of the spec reaches it, and no spec text is evaluated.

The semantics are the closures' own, case for case: constants are folded by
:mod:`fusever.closures`' functions, ``+ - *`` wrap to a bit-vector's width, signed
bit-vectors compare as signed, the rest of the operators are the operator table's, and
a ghost clock's increment raises :class:`~fusever.closures.OrderBroken` when it is not
applied to its group's largest value.  ``tests/test_codegen.py`` runs both on every
shipped configuration's reachable states and requires the same successors.  Nothing
prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import assert_never

from fusever import interpret
from fusever.closures import OrderBroken, binary_fn, cast, unary
from fusever.ghosts import Order
from fusever.layout import Layout, S, enc, signed
from fusever.ts import (
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    Cast,
    Expr,
    ForAll,
    If,
    IntType,
    Ite,
    Lit,
    Local,
    Quant,
    Quantifier,
    Stmt,
    Type,
    Unary,
    UnOp,
    Var,
    elements,
)

__all__ = ["Canon", "CanonSuccessors", "Code", "Generator", "Step", "Successors"]

Code = int | str  # a folded constant, or a Python expression over the state names
Step = Callable[[S], list[int] | None]  # an instance: the successor, or None (not enabled)
# a state's successors: (instance, successor) for each enabled instance, in order
Successors = Callable[[S], list[tuple[int, list[int]]]]
# a successor made canonical in place, given the state it came from (or None)
Canon = Callable[[list[int], S | None], tuple[int, ...]]
# the successors, each made canonical by its instance's Canon
CanonSuccessors = Callable[[S], list[tuple[int, tuple[int, ...]]]]

_COMPARE = {BinOp.EQ: "==", BinOp.NE: "!=", BinOp.LT: "<", BinOp.LE: "<=", BinOp.GT: ">",
            BinOp.GE: ">="}  # fmt: skip
_ARITH = {BinOp.ADD: "+", BinOp.SUB: "-", BinOp.MUL: "*"}
_NONE = -(1 << 62)  # the largest value of an empty ghost group (as closures._max_of)


class Generator:
    """Transition-system expressions and statements to Python source over slot
    tuples; :meth:`steps` compiles a batch of instances at once."""

    def __init__(
        self, layout: Layout, order: Order | None = None, fixed: Mapping[int, int] | None = None
    ) -> None:
        self.layout = layout
        self.fixed: Mapping[int, int] = {} if fixed is None else fixed
        self.groups: dict[str, int] = {} if order is None else order.group_of
        self.order = order
        # the generated code's globals: helper name -> object, and object key -> name
        self.helpers: dict[str, object] = {"OrderBroken": OrderBroken}
        self._named: dict[object, str] = {}
        self._temps = 0

    def helper(self, key: object, make: Callable[[], object]) -> str:
        """The name the generated code calls the helper ``key`` by (made once)."""
        name = self._named.get(key)
        if name is None:
            name = self._named[key] = f"_h{len(self._named)}"
            self.helpers[name] = make()
        return name

    def bind(self, key: object, value: object) -> str:
        """The name the generated code knows ``value`` by (bound once per ``key``)."""
        return self.helper(key, lambda: value)

    # ---- expressions ---------------------------------------------------------------

    def expr(self, e: Expr, env: Mapping[str, int], pre: str, post: str) -> Code:
        """``e`` with the pre-state named ``pre`` and the post-state ``post``."""
        match e:
            case Lit(value=v, type=t):
                return enc(t, interpret.normalize(t, v))
            case Local(name=name):
                return env[name]
            case Var(name=name, args=args, primed=primed):
                codes = tuple(self.expr(a, env, pre, post) for a in args)
                return self.read(name, codes, post if primed else pre)
            case Unary(op=op, arg=a):
                return self._unary(op, e.type, self.expr(a, env, pre, post))
            case Binary(op=op, lhs=lhs, rhs=rhs):
                left, right = self.expr(lhs, env, pre, post), self.expr(rhs, env, pre, post)
                return self._binary(op, lhs.type, left, right)
            case Ite(cond=c, then=th, else_=el):
                cc = self.expr(c, env, pre, post)
                if isinstance(cc, int):
                    return self.expr(th if cc else el, env, pre, post)
                yes, no = self.expr(th, env, pre, post), self.expr(el, env, pre, post)
                return f"({yes} if {cc} else {no})"
            case Quant(quantifier=q, var=x, sort=sort, body=body):
                parts = [
                    self.expr(body, {**env, x: enc(sort, v)}, pre, post) for v in elements(sort)
                ]
                return junction(q is Quantifier.FORALL, parts)
            case Cast(arg=a, type=dst):
                return self._cast(a.type, dst, self.expr(a, env, pre, post))
            case _:
                assert_never(e)

    def index(self, name: str, args: tuple[Code, ...]) -> Code:
        """The slot of ``name[args]``: a constant when every argument is one."""
        lay = self.layout
        if all(isinstance(a, int) for a in args):
            return lay.slot(name, [a for a in args if isinstance(a, int)])
        terms = [str(lay.base[name])]
        for a, k in zip(args, lay.strides[name], strict=True):
            terms.append(str(a * k) if isinstance(a, int) else f"{a} * {k}")
        return " + ".join(terms)

    def read(self, name: str, args: tuple[Code, ...], state: str) -> Code:
        j = self.index(name, args)
        if isinstance(j, int) and j in self.fixed:
            return self.fixed[j]
        return f"{state}[{j}]"

    def _signed(self, w: int) -> str:
        return self.helper(("signed", w), lambda: signed(w))

    def _binary(self, op: BinOp, ty: Type, a: Code, b: Code) -> Code:
        if op is BinOp.AND:
            return junction(True, (a, b))
        if op is BinOp.OR:
            return junction(False, (a, b))
        if op is BinOp.IMPLIES:
            return junction(False, (_not(a), b))
        if isinstance(a, int) and isinstance(b, int):
            return int(binary_fn(op, ty)(a, b))
        if op in _COMPARE:
            if isinstance(ty, BitVecType) and ty.signed and op not in (BinOp.EQ, BinOp.NE):
                sg = self._signed(ty.width)
                a, b = f"{sg}({a})", f"{sg}({b})"
            return f"({a} {_COMPARE[op]} {b})"
        if op in _ARITH:
            plain = f"({a} {_ARITH[op]} {b})"
            if isinstance(ty, BitVecType):
                return f"({plain} & {(1 << ty.width) - 1})"
            return plain
        fn = self.helper(("op", op, ty), lambda: binary_fn(op, ty))
        return f"{fn}({a}, {b})"

    def _unary(self, op: UnOp, ty: Type, x: Code) -> Code:
        if isinstance(x, int):
            return _const(unary(op, ty, x))
        match op:
            case UnOp.NOT:
                return _not(x)
            case UnOp.NEG:
                if isinstance(ty, BitVecType):
                    return f"(-{x} & {(1 << ty.width) - 1})"
                return f"(-{x})"
            case UnOp.BNOT:
                assert isinstance(ty, BitVecType)
                return f"({x} ^ {(1 << ty.width) - 1})"
            case _:
                assert_never(op)

    def _cast(self, src: Type, dst: Type, x: Code) -> Code:
        if isinstance(x, int):
            return _const(cast(src, dst, x))
        if isinstance(dst, BitVecType):
            mask = (1 << dst.width) - 1
            if isinstance(src, BitVecType) and src.signed:
                return f"({self._signed(src.width)}({x}) & {mask})"
            return f"({x} & {mask})"
        if isinstance(dst, IntType) and isinstance(src, BitVecType) and src.signed:
            return f"{self._signed(src.width)}({x})"
        return x

    # ---- statements ----------------------------------------------------------------

    def stmts(self, body: Sequence[Stmt], env: Mapping[str, int], out: list[str], ind: str) -> None:
        """``body`` as lines (indented ``ind``) updating the list ``m`` in place;
        ``return None`` where an ``assume`` does not hold."""
        for st in body:
            self.stmt(st, env, out, ind)

    def stmt(self, st: Stmt, env: Mapping[str, int], out: list[str], ind: str) -> None:
        match st:
            case Assign():
                self.assign(st, env, out, ind)
            case If(cond=c, then=th, else_=el):
                cc = self.expr(c, env, "m", "m")
                if isinstance(cc, int):
                    self.stmts(th if cc else el, env, out, ind)
                    return
                out.append(f"{ind}if {cc}:")
                self._block(th, env, out, ind + "    ")
                out.append(f"{ind}else:")
                self._block(el, env, out, ind + "    ")
            case ForAll(var=x, sort=sort, where=wh, body=b):
                for v in elements(sort):
                    inner = {**env, x: enc(sort, v)}
                    cond = 1 if wh is None else self.expr(wh, inner, "m", "m")
                    if isinstance(cond, int):
                        if cond:
                            self.stmts(b, inner, out, ind)
                        continue
                    out.append(f"{ind}if {cond}:")
                    self._block(b, inner, out, ind + "    ")
            case Assume(cond=c):
                cc = self.expr(c, env, "m", "m")
                if isinstance(cc, int):
                    if not cc:
                        out.append(f"{ind}return None")
                    return
                out.append(f"{ind}if not {cc}:")
                out.append(f"{ind}    return None")
            case _:
                assert_never(st)

    def _block(
        self, body: Sequence[Stmt], env: Mapping[str, int], out: list[str], ind: str
    ) -> None:
        n = len(out)
        self.stmts(body, env, out, ind)
        if len(out) == n:
            out.append(f"{ind}pass")

    def assign(self, st: Assign, env: Mapping[str, int], out: list[str], ind: str) -> None:
        name, value = st.name, st.value
        if value is None:
            return  # `any`: the location keeps its (free) value
        where = self.index(name, tuple(self.expr(a, env, "m", "m") for a in st.args))
        g = self.groups.get(name)
        if g is not None and isinstance(value, Binary) and value.op is BinOp.ADD:
            self.tick(g, where, value, env, out, ind)
            return
        out.append(f"{ind}m[{where}] = {self.expr(value, env, 'm', 'm')}")

    def tick(
        self, g: int, where: Code, value: Binary, env: Mapping[str, int], out: list[str], ind: str
    ) -> None:
        """``x := y + k`` in a group kept as its order: only order-preserving when ``y``
        is the group's largest value and at least its largest constant (checked here)."""
        assert self.order is not None
        lhs, rhs = self.expr(value.lhs, env, "m", "m"), self.expr(value.rhs, env, "m", "m")
        if isinstance(lhs, int):
            lhs, rhs = rhs, lhs
        assert isinstance(rhs, int) and not isinstance(lhs, int), "checked by ghosts.int_groups"
        live = self.order.slots[g]
        if not live:
            biggest = str(_NONE)
        elif len(live) == 1:
            biggest = f"m[{live[0]}]"
        else:
            biggest = f"max({', '.join(f'm[{j}]' for j in live)})"
        y = f"_y{self._temps}"
        self._temps += 1
        out.append(f"{ind}{y} = {lhs}")
        out.append(f"{ind}if {y} < {self.order.cmax[g]} or {biggest} > {y}:")
        out.append(f"{ind}    raise OrderBroken({g})")
        out.append(f"{ind}m[{where}] = {y} + {rhs}")

    # ---- whole instances -----------------------------------------------------------

    def step_source(
        self, name: str, guard: Expr, body: Sequence[Stmt], env: Mapping[str, int]
    ) -> str:
        """The source of ``def name(s)``: the successor of ``s`` by the instance, or
        None where its guard or an ``assume`` does not hold."""
        lines = [f"def {name}(s):"]
        g = self.expr(guard, env, "s", "s")
        if isinstance(g, int):
            if not g:
                lines.append("    return None")
                return "\n".join(lines)
        else:
            lines.append(f"    if not {g}:")
            lines.append("        return None")
        lines.append("    m = list(s)")
        self.stmts(body, env, lines, "    ")
        lines.append("    return m")
        return "\n".join(lines)

    def functions(self, codes: Sequence[Code]) -> list[Callable[[S, S], int]]:
        """Each expression over ``s`` (pre-state) and ``t`` (post-state) as a compiled
        function of the two, in order; one compilation for them all."""
        names = [f"_fn{i}" for i in range(len(codes))]
        source = "\n\n".join(
            f"def {n}(s, t):\n    return {c}" for n, c in zip(names, codes, strict=True)
        )
        return self.compiled(source, names)  # type: ignore[return-value]

    def compiled(self, source: str, names: Sequence[str]) -> list[object]:
        """The functions ``names`` of ``source`` (generated here, never spec text),
        compiled once with this generator's helpers as their globals."""
        space: dict[str, object] = {
            "__builtins__": {"list": list, "max": max, "tuple": tuple},
            **self.helpers,
        }
        exec(compile(source, "<fusever.codegen>", "exec"), space)
        return [space[n] for n in names]

    def steps(
        self,
        instances: Sequence[tuple[Expr, Sequence[Stmt], Mapping[str, int]]],
        lookup: Sequence[tuple[int, Mapping[int, Sequence[int]]]] = (),
        always: Sequence[int] = (),
        canons: Sequence[Canon] = (),
    ) -> tuple[list[Step], Successors, CanonSuccessors | None]:
        """Each (guard, body, environment) as a compiled function, in order, and the
        successor function of them all: the (instance, successor) pairs of a state, for
        the instances ``lookup`` names under their first `location == value` test that
        holds (by slot, then value), then those ``always``, in that order.  With
        ``canons`` (one per instance: a successor made canonical, given the state it
        came from), also the same successors each passed through its instance's
        canon, in the same order.  One compilation for them all."""
        names = [f"_step{i}" for i in range(len(instances))]
        parts = [
            self.step_source(n, g, b, env) for n, (g, b, env) in zip(names, instances, strict=True)
        ]
        bodies: list[tuple[str, list[str] | None]] = [("_successors", None)]
        if canons:
            bodies.append(("_canonical", [self.bind(("canon", id(c)), c) for c in canons]))
        for fname, wrap in bodies:
            lines = [f"def {fname}(s):", "    out = []"]
            for slot, table in lookup:
                lines.append(f"    x = s[{slot}]")
                for k, (value, ix) in enumerate(table.items()):
                    lines.append(f"    {'el' if k else ''}if x == {value}:")
                    for i in ix:
                        self._inline(i, instances[i], lines, "        ", wrap)
            for i in always:
                self._inline(i, instances[i], lines, "    ", wrap)
            lines.append("    return out")
            parts.append("\n".join(lines))
        fns = self.compiled("\n\n".join(parts), [*names, *(n for n, _ in bodies)])
        canonical = fns.pop() if canons else None
        return fns[:-1], fns[-1], canonical  # type: ignore[return-value]

    def _inline(
        self,
        i: int,
        instance: tuple[Expr, Sequence[Stmt], Mapping[str, int]],
        out: list[str],
        ind: str,
        canons: Sequence[str] | None = None,
    ) -> None:
        """Instance ``i`` inside the successor function: its guard and body in line,
        or a call of its step function where an ``assume`` may stop it midway; with
        ``canons`` (the helpers' names, by instance), the successor made canonical."""
        guard, body, env = instance
        g = self.expr(guard, env, "s", "s")
        if isinstance(g, int) and not g:
            return
        got = "m" if canons is None else f"{canons[i]}(m, s)"
        inner: list[str] = []
        self.stmts(body, env, inner, ind + "    ")
        if any(line.strip() == "return None" for line in inner):
            out.append(f"{ind}m = _step{i}(s)")
            out.append(f"{ind}if m is not None:")
            out.append(f"{ind}    out.append(({i}, {got}))")
            return
        if isinstance(g, int):
            out.append(f"{ind}if True:")
        else:
            out.append(f"{ind}if {g}:")
        out.append(f"{ind}    m = list(s)")
        out.extend(inner)
        out.append(f"{ind}    out.append(({i}, {got}))")


def _const(n: object) -> int:
    """A constant folded by :mod:`fusever.closures` (an int, by construction)."""
    assert isinstance(n, int)
    return n


def _not(a: Code) -> Code:
    if isinstance(a, int):
        return int(not a)
    return f"(not {a})"


def junction(conj: bool, codes: Sequence[Code]) -> Code:
    """``all`` (``conj``) or ``any`` of ``codes``, left to right, constants folded."""
    parts: list[str] = []
    for c in codes:
        if isinstance(c, int):
            if bool(c) != conj:
                return int(not conj)
            continue
        parts.append(c)
    if not parts:
        return int(conj)
    if len(parts) == 1:
        return parts[0]
    return "(" + (" and " if conj else " or ").join(parts) + ")"
