"""The explicit engine's system as C: one readable translation unit per system.

:class:`Folded` is the explicit engine's :class:`~fusever.explicit_system.System`
(the same instances, constants, cone of influence, control deadness and ghost order:
the one folded form both backends are made from) without its generated Python: what
it keeps of each instance and goal is what :func:`source` needs to write C, and
closures (:mod:`fusever.closures`) to replay a trace.  :func:`source` writes, for
that system:

- the state vector packed into bytes: each location in the fewest whole bytes its
  type needs (:func:`slot_bytes`), padded to 8;
- one successor function per action instance, named from its action (a name that is
  not a plain identifier is left out of the C name), its parameters in a comment;
- each instance's canonical form of its successors: the locations dead after it
  reset, those dead under their control locations reset, each ghost group it touches
  layered (:func:`fusever.ghosts.layer`, ported);
- every goal's checks: whole (an initial state, a step), and per instance the parts
  that read what it writes;
- the breadth-first search over a compact open-addressing hash set of packed states
  (:data:`RUNTIME`), one level per call, and the projection of another search's
  states onto this system's canonical form.

The semantics are those of :mod:`fusever.codegen`, operator by operator: constants
are folded by :mod:`fusever.closures`' own functions, ``+ - *`` wrap to a
bit-vector's width, signed bit-vectors compare and take ``%`` and ``>>`` as signed, a
ghost increment that breaks its group's order stops the search (the caller starts
again without that order), and ghost integer arithmetic that leaves 64 bits stops it
too (the caller then runs the Python engine).  An expression nested deeper than
:data:`SPILL` becomes straight-line code with temporaries, and a junction longer than
:data:`CHUNK` a sequence of short-circuited statements, so no spec the checker accepts
is beyond the C compiler.  Nothing from the spec reaches the C but integers and, in
comments and function names, identifiers checked to be plain ones.  Nothing prints.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, assert_never

from fusever import interpret
from fusever.closures import (
    Blocked,
    Compiler,
    Exec,
    Node,
    binary_fn,
    cast,
    seq,
    unary,
)
from fusever.deadness import Dead, after
from fusever.explicit_system import System, _conjuncts, _lookup, _post_only, _split
from fusever.ghosts import layer
from fusever.layout import Layout, S, dec, domain, enc
from fusever.liveness import expr_reads, stmt_writes
from fusever.ts import (
    Action,
    Assign,
    Assume,
    Binary,
    BinOp,
    BitVecType,
    BoolType,
    Cast,
    EnumType,
    Expr,
    ForAll,
    If,
    IntType,
    Ite,
    Lit,
    Local,
    Property,
    PropKind,
    Quant,
    Quantifier,
    SortType,
    Stmt,
    Type,
    Unary,
    UnOp,
    Value,
    Var,
    elements,
)

__all__ = ["CHUNK", "SPILL", "CUnsupported", "Folded", "expressions_source", "slot_bytes", "source"]

SPILL = 24  # an expression nested deeper than this is continued in a temporary
NEST = 32  # an `if` nested deeper than this is written with labels, not blocks
CHUNK = 16  # a junction of more parts than this is a sequence of statements
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,48}")
_INT64 = 1 << 63
_NONE = -(1 << 62)  # the largest value of an empty ghost group (as closures._max_of)
RECURSION_LIMIT = 20_000  # as fusever.parse: the generator recurses over expressions


class CUnsupported(Exception):
    """Something this generator does not translate (the caller runs the Python engine)."""


# ---- the folded system --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inst:
    """An action instance kept (its guard does not fold to false)."""

    action: str
    args: tuple[tuple[str, Value], ...]  # every parameter, as a trace shows it
    decl: Action
    env: dict[str, int]
    guard: Node  # as closures: for the replay
    body: Exec
    writes: frozenset[int]


@dataclass(frozen=True, slots=True)
class Goal:
    prop: Property
    check: Expr | None  # one-state goals, and the non-post part of a two-state one
    post: tuple[Expr, ...] | None  # a transition property's post-state conjuncts
    # ``check`` (one-state) or ``post`` split into top-level parts, each with its
    # environment and the locations it reads (as System._pieces)
    parts: tuple[tuple[Expr, dict[str, int], frozenset[int]], ...]

    @property
    def cover(self) -> bool:
        return self.prop.kind is PropKind.COVER


class Folded(System):
    """:class:`~fusever.explicit_system.System` without generated Python: the same
    analysis (its constructor), with the instances, goals and canonical form kept as
    what the C generator and the replay need."""

    # the base's generated functions are not made here
    def _instances(self, envs: Sequence[tuple[Action, dict[str, int]]]) -> Any:
        lay = self.layout
        comp = Compiler(lay, self.order, self.fixed)
        kept: list[tuple[Action, dict[str, int], Node]] = []
        for a, env in envs:
            guard = comp.expr(a.guard, env)
            if not (isinstance(guard, int) and not guard):
                kept.append((a, env, guard))
        self.lookup, self.always = _lookup([g for _, _, g in kept])
        self.kept: list[Inst] = []
        writes: list[frozenset[int]] = []
        for a, env, guard in kept:
            w = frozenset(stmt_writes(comp, a.body, env))
            writes.append(w)
            self.kept.append(
                Inst(a.name, tuple((p.name, _dec(p.type, env[p.name])) for p in a.params),
                     a, env, guard, seq(comp.stmts(a.body, env)), w)
            )  # fmt: skip
        self._canon_all = self._canon_py
        return self.kept, writes, None

    def _goals(self, props: Sequence[Property]) -> Any:
        out: list[Goal] = []
        for p in props:
            if p.kind is not PropKind.TRANSITION:
                parts = () if p.two_state else self._parts([p.expr], p.kind is not PropKind.COVER)
                out.append(Goal(p, p.expr, None, parts))
                continue
            cs = _conjuncts(p.expr)
            pre = [c for c in cs if not _post_only(c)]
            post = [c for c in cs if _post_only(c)]
            # as System._goals: a part whose conjuncts all fold to true is no check
            check = None if self._true(pre) else _and_all(pre)
            posts = None if self._true(post) else tuple(post)
            out.append(Goal(p, check, posts, self._parts(post, True)))
        self.cgoals = out
        return out

    def _true(self, es: Sequence[Expr]) -> bool:
        """Every one of ``es`` folds to a true constant (codegen's junction is 1)."""
        for e in es:
            folded = self._plain.expr(e, {})
            if not (isinstance(folded, int) and folded):
                return False
        return True

    def _parts(
        self, es: Sequence[Expr], conj: bool
    ) -> tuple[tuple[Expr, dict[str, int], frozenset[int]], ...]:
        out: list[tuple[Expr, dict[str, int], frozenset[int]]] = []
        for e in es:
            for part, env in _split(e, {}, conj):
                folded = self._plain.expr(part, env)
                if isinstance(folded, int):  # as System._pieces: decided without reading
                    if bool(folded) != conj:
                        out.append((part, env, frozenset()))
                    continue
                reads: set[int] = set()
                expr_reads(self._plain, part, env, reads)
                out.append((part, env, frozenset(reads)))
        return tuple(out)

    def _affected(self) -> Any:
        return [], []

    def conds(self, writes: frozenset[int] | None) -> tuple[Dead, ...]:
        """The control deadness entries a step writing ``writes`` applies (all: None),
        single controls first, as System._canon_source orders them."""
        ds = self.by_control if writes is None else after(self.by_control, writes)
        return tuple(sorted(ds, key=lambda d: len(d.controls) > 1))

    def touched(self, writes: frozenset[int] | None) -> tuple[int, ...]:
        lay, normal = self.layout, self.order.group_of
        if writes is None:
            return tuple(sorted(self.order.cmax))
        return tuple(sorted({normal[lay.slot_var[j]] for j in writes if lay.slot_var[j] in normal}))

    def _canon_py(self, m: list[int], pre: S | None) -> tuple[int, ...]:
        """The whole canonical form, in Python (the initial states)."""
        for j in self.dead:
            m[j] = 0
        for d in self.conds(None):
            if tuple(m[c] for c in d.controls) in d.tuples:
                for j in d.slots:
                    m[j] = 0
        o = self.order
        for g in self.touched(None):
            if o.slots[g]:
                layer(m, o.cmax[g], o.slots[g], o.near[g])
        return tuple(m)

    def replay_step(self, i: int, s: S) -> list[int] | None:
        """Instance ``i``'s successor of ``s`` by closures (None: not enabled)."""
        inst = self.kept[i]
        g = inst.guard
        if not (g if isinstance(g, int) else g(s, s)):
            return None
        m = list(s)
        try:
            inst.body(m)
        except Blocked:
            return None
        return m


def _and_all(es: Sequence[Expr]) -> Expr:
    out = es[0]
    for e in es[1:]:
        out = Binary(BinOp.AND, out, e, BoolType())
    return out


def _dec(t: Type, x: int) -> Value:
    return dec(t, x)


# ---- packing ------------------------------------------------------------------------


def slot_bytes(t: Type) -> int:
    """The bytes a location of ``t`` takes in a packed state (1, 2, 4 or 8)."""
    match t:
        case BitVecType(width=w):
            bits = w
        case IntType():
            return 8
        case BoolType() | EnumType() | SortType():
            n = domain(t)
            assert n is not None
            bits = max(1, (n - 1).bit_length())
        case _:
            assert_never(t)
    for b in (1, 2, 4):
        if bits <= 8 * b:
            return b
    return 8


# ---- expressions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _C:
    text: str
    depth: int


Code = int | _C


def _lit(n: int) -> str:
    if n >= _INT64:
        if n >= 1 << 64:
            raise CUnsupported(f"a constant beyond 64 bits ({n})")
        return f"(V)UINT64_C({n})"
    if n < -_INT64:
        raise CUnsupported(f"a constant beyond 64 bits ({n})")
    if n == -_INT64:
        return "INT64_MIN"
    return str(n) if n >= 0 else f"({n})"


def _mask(w: int) -> str:
    return "(V)UINT64_C(18446744073709551615)" if w >= 64 else str((1 << w) - 1)


class Writer:
    """Expressions and statements to C over ``V`` arrays, temporaries spilled to a
    sink of lines."""

    def __init__(self, layout: Layout, fixed: Mapping[int, int], system: Folded | None) -> None:
        self.layout = layout
        self.fixed = fixed
        self.sys = system
        self.groups: dict[str, int] = {} if system is None else system.order.group_of
        self.temps = 0
        self.nest = 0  # C blocks open around the statement being written
        if sys.getrecursionlimit() < RECURSION_LIMIT:
            sys.setrecursionlimit(RECURSION_LIMIT)

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def text(self, c: Code) -> str:
        return _lit(c) if isinstance(c, int) else c.text

    def spill(self, c: Code, sink: list[str], ind: str) -> Code:
        if isinstance(c, int) or c.depth <= SPILL:
            return c
        t = self.temp()
        sink.append(f"{ind}const V {t} = {c.text};")
        return _C(t, 0)

    def expr(
        self, e: Expr, env: Mapping[str, int], pre: str, post: str, sink: list[str], ind: str
    ) -> Code:
        """``e`` over the arrays ``pre`` and ``post``; what it spills goes to ``sink``."""
        c = self._expr(e, env, pre, post, sink, ind)
        return self.spill(c, sink, ind)

    def _expr(
        self, e: Expr, env: Mapping[str, int], pre: str, post: str, sink: list[str], ind: str
    ) -> Code:
        match e:
            case Lit(value=v, type=t):
                return enc(t, interpret.normalize(t, v))
            case Local(name=name):
                return env[name]
            case Var(name=name, args=args, primed=primed):
                codes = [self.expr(a, env, pre, post, sink, ind) for a in args]
                return self.read(name, codes, post if primed else pre)
            case Unary(op=op, arg=a):
                return self._unary(op, e.type, self.expr(a, env, pre, post, sink, ind))
            case Binary(op=op, lhs=lhs, rhs=rhs):
                if op in (BinOp.AND, BinOp.OR, BinOp.IMPLIES):
                    return self._junction_expr(e, env, pre, post, sink, ind)
                left = self.expr(lhs, env, pre, post, sink, ind)
                right = self.expr(rhs, env, pre, post, sink, ind)
                return self._binary(op, lhs.type, left, right)
            case Ite(cond=c, then=th, else_=el):
                cc = self.expr(c, env, pre, post, sink, ind)
                if isinstance(cc, int):
                    return self.expr(th if cc else el, env, pre, post, sink, ind)
                yes = self.expr(th, env, pre, post, sink, ind)
                no = self.expr(el, env, pre, post, sink, ind)
                return _C(f"({cc.text} ? {self.text(yes)} : {self.text(no)})",
                          1 + max(cc.depth, _d(yes), _d(no)))  # fmt: skip
            case Quant(quantifier=q, var=x, sort=srt, body=body):
                parts = [(body, {**env, x: enc(srt, v)}) for v in elements(srt)]
                return self.junction(q is Quantifier.FORALL, parts, pre, post, sink, ind)
            case Cast(arg=a, type=dst):
                return self._cast(a.type, dst, self.expr(a, env, pre, post, sink, ind))
            case _:
                assert_never(e)

    def _junction_expr(
        self, e: Binary, env: Mapping[str, int], pre: str, post: str, sink: list[str], ind: str
    ) -> Code:
        """``&&``, ``||``, ``==>``: a chain of the same operator flattened (left and
        right), so a long chain is one junction, not a deep tree."""
        conj = e.op is BinOp.AND
        if e.op is BinOp.IMPLIES:
            a = self.expr(e.lhs, env, pre, post, sink, ind)
            na = _not(a)
            b = self.expr(e.rhs, env, pre, post, sink, ind)
            return self.junction_codes(False, [na, b], sink, ind)
        items: list[tuple[Expr, Mapping[str, int]]] = []
        stack: list[Expr] = [e]
        while stack:
            x = stack.pop()
            if isinstance(x, Binary) and x.op is e.op:
                stack.append(x.rhs)
                stack.append(x.lhs)
            else:
                items.append((x, env))
        return self.junction(conj, items, pre, post, sink, ind)

    def junction(
        self,
        conj: bool,
        items: Sequence[tuple[Expr, Mapping[str, int]]],
        pre: str,
        post: str,
        sink: list[str],
        ind: str,
    ) -> Code:
        """``all`` (``conj``) or ``any`` of ``items``, left to right, constants folded
        (a deciding constant stops the translation of what follows, as codegen's
        junction drops it)."""
        if len(items) <= CHUNK:
            codes: list[Code] = []
            for x, env in items:
                c = self.expr(x, env, pre, post, sink, ind)
                if isinstance(c, int) and bool(c) != conj:
                    return int(not conj)
                codes.append(c)
            return self.junction_codes(conj, codes, sink, ind)
        # long: a temporary, and one short-circuited statement per chunk
        t = self.temp()
        sink.append(f"{ind}V {t} = {int(conj)};")
        for k in range(0, len(items), CHUNK):
            inner: list[str] = []
            codes = []
            stop = False
            for x, env in items[k : k + CHUNK]:
                c = self.expr(x, env, pre, post, inner, ind + "    ")
                if isinstance(c, int) and bool(c) != conj:
                    stop = True
                    break
                codes.append(c)
            got = self.junction_codes(conj, codes, inner, ind + "    ")
            if stop:
                got = int(not conj)
            test = t if conj else f"!{t}"
            sink.append(f"{ind}if ({test}) {{")
            sink.extend(inner)
            sink.append(f"{ind}    {t} = {self.text(got)};")
            sink.append(f"{ind}}}")
            if stop:
                break
        return _C(t, 0)

    def junction_codes(self, conj: bool, codes: Sequence[Code], sink: list[str], ind: str) -> Code:
        parts: list[_C] = []
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
        op = " && " if conj else " || "
        return _C("(" + op.join(p.text for p in parts) + ")", 1 + max(p.depth for p in parts))

    def index(self, name: str, args: Sequence[Code]) -> int | _C:
        lay = self.layout
        if all(isinstance(a, int) for a in args):
            return lay.slot(name, [a for a in args if isinstance(a, int)])
        terms = [str(lay.base[name])]
        depth = 0
        for a, k in zip(args, lay.strides[name], strict=True):
            if isinstance(a, int):
                terms.append(str(a * k))
            else:
                terms.append(f"{a.text} * {k}" if k != 1 else a.text)
                depth = max(depth, a.depth)
        return _C(" + ".join(terms), depth + 1)

    def read(self, name: str, args: Sequence[Code], state: str) -> Code:
        j = self.index(name, args)
        if isinstance(j, int):
            if j in self.fixed:
                return self.fixed[j]
            return _C(f"{state}[{j}]", 0)
        return _C(f"{state}[{j.text}]", j.depth)

    def _binary(self, op: BinOp, ty: Type, a: Code, b: Code) -> Code:
        if isinstance(a, int) and isinstance(b, int):
            return int(binary_fn(op, ty)(a, b))
        x, y = self.text(a), self.text(b)
        d = 1 + max(_d(a), _d(b))
        bv = ty if isinstance(ty, BitVecType) else None
        if op in (BinOp.EQ, BinOp.NE):
            return _C(f"({x} {'==' if op is BinOp.EQ else '!='} {y})", d)
        if op in (BinOp.LT, BinOp.LE, BinOp.GT, BinOp.GE):
            sym = {BinOp.LT: "<", BinOp.LE: "<=", BinOp.GT: ">", BinOp.GE: ">="}[op]
            if bv is not None and bv.signed:
                return _C(f"(SX({x}, {bv.width}) {sym} SX({y}, {bv.width}))", d)
            if bv is not None:
                return _C(f"((U)({x}) {sym} (U)({y}))", d)
            return _C(f"({x} {sym} {y})", d)
        if op in (BinOp.ADD, BinOp.SUB, BinOp.MUL):
            sym = {BinOp.ADD: "+", BinOp.SUB: "-", BinOp.MUL: "*"}[op]
            if bv is not None:
                return _C(f"(V)(((U)({x}) {sym} (U)({y})) & {_mask(bv.width)})", d)
            if isinstance(ty, IntType):
                fn = {BinOp.ADD: "add_i", BinOp.SUB: "sub_i", BinOp.MUL: "mul_i"}[op]
                return _C(f"{fn}({x}, {y})", d)
            raise CUnsupported(f"arithmetic on {ty}")
        if op is BinOp.MOD:
            if bv is not None and bv.signed:
                return _C(f"mod_s({x}, {y}, {bv.width})", d)
            if bv is not None:
                return _C(f"mod_u({x}, {y})", d)
            return _C(f"mod_i({x}, {y})", d)
        if bv is None:
            raise CUnsupported(f"{op} on {ty}")
        w = bv.width
        if op is BinOp.BAND:
            return _C(f"({x} & {y})", d)
        if op is BinOp.BOR:
            return _C(f"({x} | {y})", d)
        if op is BinOp.XOR:
            return _C(f"({x} ^ {y})", d)
        if op is BinOp.SHL:
            return _C(f"shl({x}, {y}, {w})", d)
        if op is BinOp.SHR:
            return _C(f"{'shr_s' if bv.signed else 'shr_u'}({x}, {y}, {w})", d)
        raise CUnsupported(f"operator {op}")

    def _unary(self, op: UnOp, ty: Type, x: Code) -> Code:
        if isinstance(x, int):
            got = unary(op, ty, x)
            assert isinstance(got, int)
            return got
        match op:
            case UnOp.NOT:
                return _not(x)
            case UnOp.NEG:
                if isinstance(ty, BitVecType):
                    return _C(f"(V)((0 - (U)({x.text})) & {_mask(ty.width)})", x.depth + 1)
                return _C(f"neg_i({x.text})", x.depth + 1)
            case UnOp.BNOT:
                assert isinstance(ty, BitVecType)
                return _C(f"({x.text} ^ {_mask(ty.width)})", x.depth + 1)
            case _:
                assert_never(op)

    def _cast(self, src: Type, dst: Type, x: Code) -> Code:
        if isinstance(x, int):
            got = cast(src, dst, x)
            assert isinstance(got, int)
            return got
        if isinstance(dst, BitVecType):
            if isinstance(src, BitVecType) and src.signed:
                return _C(f"(V)((U)SX({x.text}, {src.width}) & {_mask(dst.width)})", x.depth + 1)
            return _C(f"(V)((U)({x.text}) & {_mask(dst.width)})", x.depth + 1)
        if isinstance(dst, IntType) and isinstance(src, BitVecType):
            if src.signed:
                return _C(f"SX({x.text}, {src.width})", x.depth + 1)
            if src.width >= 64:
                return _C(f"to_int_u64({x.text})", x.depth + 1)
        return x

    # ---- statements ------------------------------------------------------------------

    def stmts(self, body: Sequence[Stmt], env: Mapping[str, int], out: list[str], ind: str) -> None:
        for st in body:
            self.stmt(st, env, out, ind)

    def stmt(self, st: Stmt, env: Mapping[str, int], out: list[str], ind: str) -> None:
        match st:
            case Assign():
                self.assign(st, env, out, ind)
            case If(cond=c, then=th, else_=el):
                cc = self.expr(c, env, "m", "m", out, ind)
                if isinstance(cc, int):
                    self.stmts(th if cc else el, env, out, ind)
                    return
                if self.nest < NEST:
                    self.nest += 1
                    out.append(f"{ind}if ({cc.text}) {{")
                    self.stmts(th, env, out, ind + "    ")
                    if el:
                        out.append(f"{ind}}} else {{")
                        self.stmts(el, env, out, ind + "    ")
                    out.append(f"{ind}}}")
                    self.nest -= 1
                    return
                # nested deeper: the branches as straight-line code with labels
                k = self.temp()
                out.append(f"{ind}if (!{cc.text}) goto else_{k};")
                self.stmts(th, env, out, ind)
                out.append(f"{ind}goto end_{k};")
                out.append(f"{ind}else_{k}:;")
                self.stmts(el, env, out, ind)
                out.append(f"{ind}end_{k}:;")
            case ForAll(var=x, sort=srt, where=wh, body=b):
                for v in elements(srt):
                    inner = {**env, x: enc(srt, v)}
                    if wh is None:
                        self.stmts(b, inner, out, ind)
                        continue
                    cond = self.expr(wh, inner, "m", "m", out, ind)
                    if isinstance(cond, int):
                        if cond:
                            self.stmts(b, inner, out, ind)
                        continue
                    k = self.temp()
                    out.append(f"{ind}if (!{cond.text}) goto skip_{k};")
                    self.stmts(b, inner, out, ind)
                    out.append(f"{ind}skip_{k}:;")
            case Assume(cond=c):
                cc = self.expr(c, env, "m", "m", out, ind)
                if isinstance(cc, int):
                    if not cc:
                        out.append(f"{ind}return 0;")
                    return
                out.append(f"{ind}if (!{cc.text}) return 0;")
            case _:
                assert_never(st)

    def assign(self, st: Assign, env: Mapping[str, int], out: list[str], ind: str) -> None:
        name, value = st.name, st.value
        if value is None:
            return
        args = [self.expr(a, env, "m", "m", out, ind) for a in st.args]
        where = self.index(name, args)
        w = str(where) if isinstance(where, int) else where.text
        g = self.groups.get(name)
        if g is not None and isinstance(value, Binary) and value.op is BinOp.ADD:
            self.tick(g, w, value, env, out, ind)
            return
        rhs = self.expr(value, env, "m", "m", out, ind)
        out.append(f"{ind}m[{w}] = {self.text(rhs)};")

    def tick(
        self, g: int, where: str, value: Binary, env: Mapping[str, int], out: list[str], ind: str
    ) -> None:
        """codegen's ``tick``: ``x := y + k`` in a group kept as its order stops the
        search (the order broken) unless ``y`` is the group's largest value and at
        least its largest constant."""
        assert self.sys is not None
        order = self.sys.order
        lhs = self.expr(value.lhs, env, "m", "m", out, ind)
        rhs = self.expr(value.rhs, env, "m", "m", out, ind)
        if isinstance(lhs, int):
            lhs, rhs = rhs, lhs
        assert isinstance(rhs, int) and not isinstance(lhs, int), "checked by ghosts.int_groups"
        live = order.slots[g]
        y = self.temp()
        out.append(f"{ind}const V {y} = {lhs.text};")
        if not live:
            biggest = _lit(_NONE)
        else:
            biggest = self.temp()
            out.append(f"{ind}V {biggest} = m[{live[0]}];")
            for j in live[1:]:
                out.append(f"{ind}if (m[{j}] > {biggest}) {biggest} = m[{j}];")
        out.append(f"{ind}if ({y} < {_lit(order.cmax[g])} || {biggest} > {y}) {{")
        out.append(f"{ind}    fv_err = FV_BROKEN; fv_broken = {g}; return -1;")
        out.append(f"{ind}}}")
        out.append(f"{ind}m[{where}] = add_i({y}, {_lit(rhs)});")


def _d(c: Code) -> int:
    return 0 if isinstance(c, int) else c.depth


def _not(a: Code) -> Code:
    if isinstance(a, int):
        return int(not a)
    return _C(f"(!{a.text})", a.depth + 1)


# ---- the translation unit ------------------------------------------------------------------


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ ,=()[].:-'")


def _comment(text: str) -> str:
    """``text`` for a C comment: letters, digits and a little punctuation; anything
    else (a comment's end, a newline) is ``?``."""
    return "".join(ch if ch in _SAFE else "?" for ch in text[:200])


def _cname(action: str) -> str:
    """The action's name for a C function name, when it is a plain identifier."""
    return action if _IDENT.fullmatch(action) else ""


def source(system: Folded) -> str:
    """The C translation unit of ``system``: its successor, canonical form, goals and
    search (:mod:`fusever.cexplicit` loads it)."""
    return _Unit(system).text()


class _Unit:
    def __init__(self, system: Folded) -> None:
        self.sys = system
        self.lay = system.layout
        self.w = Writer(system.layout, system.fixed, system)
        self.out: list[str] = []

    def text(self) -> str:
        s, lay = self.sys, self.lay
        n = lay.size
        # what a packed state holds: the locations neither constant nor always dead
        # (those are the same in every state); a narrow one in a byte, a wide one
        # (bit-vectors wider than 8 bits, integers: zigzag) in as many bytes as the
        # largest value met so far needs (the search widens it, and packs again)
        dead = set(s.dead)
        stored = [j for j in range(n) if j not in dead and j not in s.fixed]
        narrow = [j for j in stored if slot_bytes(lay.types[lay.slot_var[j]]) == 1]
        wide = [j for j in stored if slot_bytes(lay.types[lay.slot_var[j]]) > 1]
        ints = [isinstance(lay.types[lay.slot_var[j]], IntType) for j in wide]
        ninst = len(s.kept)
        goals = s.cgoals
        o = self.out
        o.append("/* Generated by fusever.cgen: one transition system's explicit search.")
        o.append(f" * system: {_comment(s.ts.name)}")
        o.append(f" * {n} locations, {len(stored)} stored: {len(narrow)} in a byte each,")
        o.append(f" * {len(wide)} in 1 to 8 bytes each as their values need; {ninst} action")
        o.append(f" * instances; {len(goals)} goals. Edit the generator, not this file. */")
        o.append(f"#define NSLOTS {max(n, 1)}")
        o.append(f"#define NNARROW {len(narrow)}")
        o.append(f"#define NW {len(wide)}")
        o.append(f"#define NWIDE {max(len(wide), 1)}")
        o.append(f"#define MAXBYTES {(len(narrow) + 8 * len(wide) + 7) // 8 * 8 + 8}")
        o.append(f"#define NINST {max(ninst, 1)}")
        o.append(f"#define NGOALS {max(len(goals), 1)}")
        o.append(RUNTIME)
        o.append(f"static const int WIDE_SLOT[NWIDE] = {{{', '.join(map(str, wide)) or '0'}}};")
        o.append(
            f"static const int8_t WIDE_INT[NWIDE] = {{{', '.join(str(int(x)) for x in ints) or '0'}}};"
        )
        o.append(PACKING if wide else "")
        o.append("static void unpack(const fv_ctx *c, const uint8_t *p, V *s) {")
        for k, j in enumerate(narrow):
            o.append(f"    s[{j}] = p[{k}];  /* {_comment(lay.name(j))} */")
        for j in range(n):
            if j in dead:
                o.append(f"    s[{j}] = 0;  /* {_comment(lay.name(j))}: dead */")
            elif j in s.fixed:
                o.append(
                    f"    s[{j}] = {_lit(s.fixed[j])};  /* {_comment(lay.name(j))}: constant */"
                )
        if wide:
            o.append("    unpack_wide(c, p + NNARROW, s);")
        else:
            o.append("    (void)c;")
        o.append("}")
        o.append("/* The state s packed into p: -1, or a wide location that needs more bytes. */")
        o.append("static int pack(const fv_ctx *c, const V *s, uint8_t *p) {")
        o.append("    memset(p, 0, (size_t)c->sbytes);")
        for k, j in enumerate(narrow):
            o.append(f"    p[{k}] = (uint8_t)s[{j}];")
        o.append("    return " + ("pack_wide(c, s, p + NNARROW);" if wide else "-1;"))
        o.append("}")
        o.append("")
        for g in sorted(s.order.cmax):
            self._layer(g)
        for i, inst in enumerate(s.kept):
            self._step(i, inst)
            self._canon(f"canon_{i}", inst.writes)
        self._canon("canon_all", None)
        self._goals()
        self._successors()
        o.append(SEARCH)
        return "\n".join(o) + "\n"

    # -- instances

    def _step(self, i: int, inst: Inst) -> None:
        args = ", ".join(f"{k}={v}" for k, v in inst.args)
        name = _cname(inst.action)
        self.out.append(f"/* {_comment(inst.action)}({_comment(args)}) */")
        self.out.append(f"static int step_{i}{'_' + name if name else ''}(const V *s, V *m) {{")
        lines: list[str] = []
        g = self.w.expr(inst.decl.guard, inst.env, "s", "s", lines, "    ")
        if isinstance(g, int):
            if not g:
                lines.append("    return 0;")
        else:
            lines.append(f"    if (!{g.text}) return 0;")
        lines.append("    memcpy(m, s, sizeof(V) * NSLOTS);")
        self.w.stmts(inst.decl.body, inst.env, lines, "    ")
        lines.append("    return 1;")
        self.out.extend(lines)
        self.out.append("}")
        self.out.append(f"#define STEP_{i} step_{i}{'_' + name if name else ''}")

    def _canon(self, fname: str, writes: frozenset[int] | None) -> None:
        s = self.sys
        o = self.out
        o.append(f"static void {fname}(V *m) {{")
        dead = set(s.dead)
        resets = sorted(dead) if writes is None else sorted(j for j in writes if j in dead)
        for j in resets:
            o.append(f"    m[{j}] = 0;")
        for d in s.conds(writes):
            o.append(f"    if ({self._member(d)}) {{")
            for j in d.slots:
                o.append(f"        m[{j}] = 0;")
            o.append("    }")
        order = s.order
        for g in s.touched(writes):
            if order.slots[g]:
                o.append(f"    layer_{g}(m);")
        o.append("}")

    def _layer(self, g: int) -> None:
        """``layer_G(m)``: ghost group G layered (ghosts.layer), remembered by the
        group's values in a direct-mapped table (the layering is a function of them)."""
        order, o = self.sys.order, self.out
        slots = order.slots[g]
        if not slots:
            return
        near = order.near[g]
        n = len(slots)
        width = max((len(ys) for ys in near), default=1) or 1
        nears = ", ".join("{" + (", ".join(str(y) for y in ys) or "0") + "}" for ys in near)
        o.append(f"/* ghost group {g}: {_comment(', '.join(order.names[g]))} */")
        o.append(f"static const int slots_{g}[{n}] = {{{', '.join(map(str, slots))}}};")
        o.append(f"static const int nn_{g}[{n}] = {{{', '.join(str(len(ys)) for ys in near)}}};")
        o.append(f"static const int near_{g}[{n}][{width}] = {{{nears}}};")
        o.append(f"static V memo_{g}[MEMO][2 * {n}];")
        o.append(f"static uint8_t memo_ok_{g}[MEMO];")
        o.append(f"static void layer_{g}(V *m) {{")
        o.append(f"    V key[{n}];")
        o.append("    uint64_t h = UINT64_C(0x9E3779B97F4A7C15);")
        o.append(
            f"    for (int x = 0; x < {n}; x++) {{ key[x] = m[slots_{g}[x]]; h = (h ^ (U)key[x]) * UINT64_C(0xBF58476D1CE4E5B9); h ^= h >> 29; }}"
        )
        o.append("    h &= MEMO - 1;")
        o.append(f"    if (memo_ok_{g}[h] && memcmp(memo_{g}[h], key, sizeof key) == 0) {{")
        o.append(f"        for (int x = 0; x < {n}; x++) m[slots_{g}[x]] = memo_{g}[h][{n} + x];")
        o.append("        return;")
        o.append("    }")
        o.append(
            f"    layer(m, {_lit(order.cmax[g])}, slots_{g}, {n}, nn_{g}, &near_{g}[0][0], {width});"
        )
        o.append(f"    memcpy(memo_{g}[h], key, sizeof key);")
        o.append(f"    for (int x = 0; x < {n}; x++) memo_{g}[h][{n} + x] = m[slots_{g}[x]];")
        o.append(f"    memo_ok_{g}[h] = 1;")
        o.append("}")

    def _member(self, d: Dead) -> str:
        lay = self.lay
        if len(d.controls) == 1:
            vals = sorted({t[0] for t in d.tuples})
            c = d.controls[0]
            return " || ".join(f"m[{c}] == {_lit(v)}" for v in vals) or "0"
        sizes = [domain(lay.types[lay.slot_var[c]]) or 0 for c in d.controls]
        total = 1
        for k in sizes:
            total *= k
        if 0 < total <= 1 << 16:
            bits = [0] * total
            for t in d.tuples:
                idx = 0
                for v, k in zip(t, sizes, strict=True):
                    idx = idx * k + v
                bits[idx] = 1
            name = self.w.temp()
            self.out.append(
                f"    static const uint8_t {name}[{total}] = {{{', '.join(map(str, bits))}}};"
            )
            idx_text = "0"
            for c, k in zip(d.controls, sizes, strict=True):
                idx_text = f"({idx_text}) * {k} + m[{c}]"
            return f"{name}[{idx_text}]"
        terms = []
        for t in sorted(d.tuples):
            terms.append(
                "("
                + " && ".join(f"m[{c}] == {_lit(v)}" for c, v in zip(d.controls, t, strict=True))
                + ")"
            )
        return " || ".join(terms) or "0"

    # -- goals

    def _goals(self) -> None:
        s, o, w = self.sys, self.out, self.w
        goals = s.cgoals
        o.append(
            "/* the goals: "
            + _comment(", ".join(f"{k}={g.prop.name}" for k, g in enumerate(goals)))
            + " */"
        )
        kinds = []
        for g in goals:
            one = not g.prop.two_state
            edge = g.prop.two_state and g.check is not None
            post = g.post is not None
            kinds.append(f"{{{int(one)}, {int(edge)}, {int(post)}, {int(g.cover)}}}")
        o.append(
            f"static const int8_t GOAL_KIND[NGOALS][4] = {{{', '.join(kinds) or '{0, 0, 0, 0}'}}};"
        )
        # whole checks: check_k(s, t) (one-state: s == t) and post_k(s, t)
        o.append("static int check_whole(int k, const V *s, const V *t) {")
        o.append("    switch (k) {")
        for k, g in enumerate(goals):
            if g.check is None:
                continue
            lines: list[str] = []
            c = w.expr(g.check, {}, "s", "t", lines, "        ")
            o.append(f"    case {k}: {{  /* {_comment(g.prop.name)} */")
            o.extend(lines)
            o.append(f"        return {w.text(c)} != 0;")
            o.append("    }")
        o.append("    }")
        o.append("    return 1;")
        o.append("}")
        o.append("static int check_post(int k, const V *s, const V *t) {")
        o.append("    switch (k) {")
        for k, g in enumerate(goals):
            if g.post is None:
                continue
            post_lines: list[str] = []
            items: list[tuple[Expr, Mapping[str, int]]] = [(e, {}) for e in g.post]
            c = w.junction(True, items, "s", "t", post_lines, "        ")
            o.append(f"    case {k}: {{  /* {_comment(g.prop.name)} */")
            o.extend(post_lines)
            o.append(f"        return {w.text(c)} != 0;")
            o.append("    }")
        o.append("    }")
        o.append("    return 1;")
        o.append("}")
        # each goal's parts, once: part_K_P(s, t); then per instance the junction of
        # those that read what it writes (one-state goals' parts on t, t; a transition
        # property's post-state parts on s, t)
        for gk, g in enumerate(goals):
            for pk, (e, env, reads) in enumerate(g.parts):
                if not reads:
                    continue
                part_lines: list[str] = []
                part = w.expr(e, env, "s", "t", part_lines, "    ")
                o.append(f"static inline int part_{gk}_{pk}(const V *s, const V *t) {{")
                o.extend(part_lines)
                o.append(f"    (void)s; (void)t; return {w.text(part)} != 0;")
                o.append("}")
        for post in (False, True):
            fname = "affected_post" if post else "affected_one"
            o.append(
                f"static void {fname}(fv_ctx *c, int i, const V *s, const V *t, int64_t n, int64_t k, int32_t step) {{"
            )
            o.append("    switch (i) {")
            for i, inst in enumerate(s.kept):
                body: list[str] = []
                for gk, g in enumerate(goals):
                    if (g.post is not None) != post:
                        continue
                    calls = [
                        f"part_{gk}_{pk}({'s' if post else 't'}, t)"
                        for pk, (_, _, reads) in enumerate(g.parts)
                        if reads & inst.writes
                    ]
                    if not calls:
                        continue
                    cover = g.cover
                    test = (" || " if cover else " && ").join(calls)
                    hit = (
                        f"settle(c, {gk}, n, {i}, step)"
                        if post
                        else f"settle(c, {gk}, k, -1, step)"
                    )
                    body.append(
                        f"        if (c->open[{gk}] && ({test}) == {int(cover)}) {hit};  /* {_comment(g.prop.name)} */"
                    )
                if body:
                    o.append(f"    case {i}:")
                    o.extend(body)
                    o.append("        break;")
            o.append("    }")
            o.append("    (void)s; (void)t; (void)n; (void)k; (void)step; (void)c;")
            o.append("}")

    def _successors(self) -> None:
        """``successors(s, out, inst)``: each enabled instance's successor, in the order
        of System's lookup (by the first `location == value` test of the guard), then
        the rest; the edge goals checked on each raw successor, then it is made
        canonical.  The count, or -1 (the search must stop: fv_err says why)."""
        s, o = self.sys, self.out
        o.append(
            "static int successors(fv_ctx *c, const V *s, V (*out)[NSLOTS], int32_t *inst, int64_t n, int32_t step) {"
        )
        o.append("    int k = 0, r;")
        o.append("    (void)c; (void)n; (void)step;")

        def one(i: int, ind: str) -> None:
            o.append(f"{ind}r = STEP_{i}(s, out[k]);")
            o.append(f"{ind}if (r < 0 || fv_err) return -1;")
            o.append(
                f"{ind}if (r) {{ if (c->edges) edges(c, s, out[k], n, {i}, step); canon_{i}(out[k]); if (fv_err) return -1; inst[k++] = {i}; }}"
            )

        for slot, table in s.lookup:
            o.append(f"    switch (s[{slot}]) {{")
            for value, ix in table.items():
                o.append(f"    case {_lit(value)}:")
                for i in ix:
                    one(i, "        ")
                o.append("        break;")
            o.append("    default: break;")
            o.append("    }")
        for i in s.always:
            one(i, "    ")
        o.append("    return k;")
        o.append("}")


PACKING = r"""
static inline U zz(V x) { return ((U)x << 1) ^ (U)(x >> 63); }
static inline V unzz(U x) { return (V)(x >> 1) ^ -(V)(x & 1); }
static void unpack_wide(const fv_ctx *c, const uint8_t *p, V *s) {
    for (int x = 0; x < NW; x++) {
        U v;
        switch (c->wbytes[x]) {
        case 1: v = *p; break;
        case 2: v = ld16(p); break;
        case 4: v = ld32(p); break;
        default: v = ld64(p); break;
        }
        p += c->wbytes[x];
        s[WIDE_SLOT[x]] = WIDE_INT[x] ? unzz(v) : (V)v;
    }
}
static int pack_wide(const fv_ctx *c, const V *s, uint8_t *p) {
    for (int x = 0; x < NW; x++) {
        V a = s[WIDE_SLOT[x]];
        U v = WIDE_INT[x] ? zz(a) : (U)a;
        switch (c->wbytes[x]) {
        case 1: if (v > 0xFFu) return x; *p = (uint8_t)v; break;
        case 2: if (v > 0xFFFFu) return x; st16(p, v); break;
        case 4: if (v > 0xFFFFFFFFu) return x; st32(p, v); break;
        default: st64(p, v); break;
        }
        p += c->wbytes[x];
    }
    return -1;
}
"""

RUNTIME = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int64_t V;
typedef uint64_t U;
#define MEMO 16384 /* entries of a ghost group's layering memo */

#define FV_BROKEN 1   /* an increment broke a ghost group's order */
#define FV_OVERFLOW 2 /* ghost integer arithmetic left 64 bits */
#define FV_NOMEM 3
static int fv_err;
static int fv_broken = -1;

#define SX(x, w) ((w) >= 64 ? (V)(x) : (V)((U)(x) << (64 - (w))) >> (64 - (w)))
static inline V add_i(V a, V b) { V r; if (__builtin_add_overflow(a, b, &r)) fv_err = FV_OVERFLOW; return r; }
static inline V sub_i(V a, V b) { V r; if (__builtin_sub_overflow(a, b, &r)) fv_err = FV_OVERFLOW; return r; }
static inline V mul_i(V a, V b) { V r; if (__builtin_mul_overflow(a, b, &r)) fv_err = FV_OVERFLOW; return r; }
static inline V neg_i(V a) { V r; if (__builtin_sub_overflow((V)0, a, &r)) fv_err = FV_OVERFLOW; return r; }
static inline V mod_i(V a, V b) { return b == 0 ? a : b == -1 ? 0 : a % b; }
static inline V mod_u(V a, V b) { return b == 0 ? a : (V)((U)a % (U)b); }
static inline V mod_s(V a, V b, int w) {
    V x = SX(a, w), y = SX(b, w), r = y == 0 ? x : y == -1 ? 0 : x % y;
    return w >= 64 ? r : (V)((U)r & ((UINT64_C(1) << w) - 1));
}
static inline V shl(V a, V b, int w) {
    if ((U)b >= (U)w) return 0;
    U r = (U)a << (U)b;
    return w >= 64 ? (V)r : (V)(r & ((UINT64_C(1) << w) - 1));
}
static inline V shr_u(V a, V b, int w) { return (U)b >= (U)w ? 0 : (V)((U)a >> (U)b); }
static inline V shr_s(V a, V b, int w) {
    V x = SX(a, w) >> ((U)b < 63 ? (int)b : 63);
    return w >= 64 ? x : (V)((U)x & ((UINT64_C(1) << w) - 1));
}
static inline V to_int_u64(V a) { if (a < 0) fv_err = FV_OVERFLOW; return a; }
static inline uint16_t ld16(const uint8_t *p) { uint16_t x; memcpy(&x, p, 2); return x; }
static inline uint32_t ld32(const uint8_t *p) { uint32_t x; memcpy(&x, p, 4); return x; }
static inline uint64_t ld64(const uint8_t *p) { uint64_t x; memcpy(&x, p, 8); return x; }
static inline void st16(uint8_t *p, U x) { uint16_t y = (uint16_t)x; memcpy(p, &y, 2); }
static inline void st32(uint8_t *p, U x) { uint32_t y = (uint32_t)x; memcpy(p, &y, 4); }
static inline void st64(uint8_t *p, U x) { memcpy(p, &x, 8); }

/* ghosts.layer: the group's values above c replaced by the longest chain below them
   in the order of the pairs that matter (near); values at most c stay. */
static void layer(V *m, V c, const int *slots, int n, const int *nn, const int *near, int width) {
    V vals[n], out[n];
    int idx[n];
    for (int x = 0; x < n; x++) { vals[x] = m[slots[x]]; out[x] = vals[x]; idx[x] = x; }
    for (int a = 1; a < n; a++) {  /* stable insertion sort by value */
        int v = idx[a], b = a - 1;
        while (b >= 0 && vals[idx[b]] > vals[v]) { idx[b + 1] = idx[b]; b--; }
        idx[b + 1] = v;
    }
    int i = 0;
    while (i < n) {
        V v = vals[idx[i]];
        int k = i + 1;
        while (k < n && vals[idx[k]] == v) k++;
        if (v > c) {
            for (int q = i; q < k; q++) {
                int x = idx[q];
                V best = c + 1;
                for (int r = 0; r < nn[x]; r++) {
                    int y = near[x * width + r];
                    V w = vals[y];
                    if (c < w && w < v && out[y] >= best) best = out[y] + 1;
                }
                out[x] = best;
            }
            if (k - i > 1) {
                int again = 1;
                while (again) {
                    again = 0;
                    for (int q = i; q < k; q++) {
                        int x = idx[q];
                        for (int r = 0; r < nn[x]; r++) {
                            int y = near[x * width + r];
                            if (vals[y] == v && out[y] != out[x]) {
                                V hi = out[x] > out[y] ? out[x] : out[y];
                                out[x] = out[y] = hi;
                                again = 1;
                            }
                        }
                    }
                }
            }
        }
        i = k;
    }
    for (int x = 0; x < n; x++) m[slots[x]] = out[x];
}

/* A search: the packed states in the order found, each one's parent and the
   instance that reached it, and an open-addressing hash set of their indices.
   The first fields are the same in every generated library (fv_project reads
   another library's search). */
typedef struct fv_ctx {
    uint8_t *states;
    int64_t n, cap;
    int32_t *parent, *via;
    int64_t transitions;
    int64_t sbytes;
    uint64_t *table;  /* per cell: the hash's upper half, then the index + 1 */
    uint64_t tmask;
    int8_t *open;     /* per goal: not settled */
    int64_t *hits;    /* per settling, in order: goal, state, instance, step */
    int64_t nsettled;
    int edges;        /* an open goal is checked on every step */
    int8_t wbytes[NWIDE]; /* the bytes each wide location takes now */
} fv_ctx;

static void settle(fv_ctx *c, int g, int64_t state, int64_t inst, int64_t step);
static void edges(fv_ctx *c, const V *s, const V *m, int64_t n, int32_t i, int32_t step);
"""

SEARCH = r"""
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t hash(const uint8_t *p, int64_t len) {
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15);
    for (int64_t i = 0; i < len; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        h ^= x;
        h *= UINT64_C(0xBF58476D1CE4E5B9);
        h ^= h >> 31;
    }
    h ^= h >> 29;
    h *= UINT64_C(0x94D049BB133111EB);
    h ^= h >> 32;
    return h;
}

static void settle(fv_ctx *c, int g, int64_t state, int64_t inst, int64_t step) {
    if (!c->open[g]) return;
    c->open[g] = 0;
    int64_t *h = c->hits + 4 * c->nsettled++;
    h[0] = g; h[1] = state; h[2] = inst; h[3] = step;
    int e = 0;
    for (int k = 0; k < NGOALS; k++) if (c->open[k] && GOAL_KIND[k][1]) e = 1;
    c->edges = e;
}

static void edges(fv_ctx *c, const V *s, const V *m, int64_t n, int32_t i, int32_t step) {
    for (int k = 0; k < NGOALS; k++)
        if (c->open[k] && GOAL_KIND[k][1] && check_whole(k, s, m) == GOAL_KIND[k][3])
            settle(c, k, n, i, step);
}

static int64_t record_bytes(const fv_ctx *c) {
    int64_t b = NNARROW;
    for (int x = 0; x < NW; x++) b += c->wbytes[x];
    b = (b + 7) / 8 * 8;
    return b < 8 ? 8 : b;
}

fv_ctx *fv_new(int ngoals) {
    if (ngoals != NGOALS && !(ngoals == 0 && NGOALS == 1)) return NULL;
    fv_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    for (int x = 0; x < NWIDE; x++) c->wbytes[x] = 1;
    c->sbytes = record_bytes(c);
    c->cap = 1024;
    c->states = malloc((size_t)c->cap * (size_t)c->sbytes);
    c->parent = malloc((size_t)c->cap * sizeof(int32_t));
    c->via = malloc((size_t)c->cap * sizeof(int32_t));
    c->tmask = 4095;
    c->table = calloc(c->tmask + 1, sizeof(uint64_t));
    c->open = calloc(NGOALS, 1);
    c->hits = calloc(4 * NGOALS, sizeof(int64_t));
    if (!c->states || !c->parent || !c->via || !c->table || !c->open || !c->hits) return NULL;
    for (int k = 0; k < ngoals; k++) c->open[k] = 1;
    for (int k = 0; k < ngoals; k++) if (GOAL_KIND[k][1]) c->edges = 1;
    fv_err = 0;
    fv_broken = -1;
    return c;
}

void fv_free(fv_ctx *c) {
    if (!c) return;
    free(c->states); free(c->parent); free(c->via); free(c->table); free(c->open); free(c->hits);
    free(c);
}

int fv_nslots(void) { return NSLOTS; }
int64_t fv_sbytes(const fv_ctx *c) { return c->sbytes; }
int fv_err_code(void) { return fv_err; }
int fv_broken_group(void) { return fv_broken; }
int64_t fv_count(const fv_ctx *c) { return c->n; }
int64_t fv_transitions(const fv_ctx *c) { return c->transitions; }
void fv_set_transitions(fv_ctx *c, int64_t t) { c->transitions = t; }
int64_t fv_nsettled(const fv_ctx *c) { return c->nsettled; }
void fv_hit(const fv_ctx *c, int64_t k, int64_t *out) { memcpy(out, c->hits + 4 * k, 4 * sizeof(int64_t)); }
int32_t fv_parent(const fv_ctx *c, int64_t n) { return c->parent[n]; }
int32_t fv_via(const fv_ctx *c, int64_t n) { return c->via[n]; }
void fv_state(const fv_ctx *c, int64_t n, V *out) { unpack(c, c->states + (size_t)n * (size_t)c->sbytes, out); }

/* The table at `size` cells: each entry moved by its tag (the hash's upper half,
   which is also where its probe starts), no state read. */
static int resize(fv_ctx *c, uint64_t size) {
    uint64_t mask = size - 1;
    uint64_t *t = calloc(size, sizeof(uint64_t));
    if (!t) return 0;
    for (uint64_t h = 0; h <= c->tmask; h++) {
        uint64_t e = c->table[h];
        if (!e) continue;
        uint64_t x = (e >> 32) & mask;
        while (t[x]) x = (x + 1) & mask;
        t[x] = e;
    }
    free(c->table);
    c->table = t;
    c->tmask = mask;
    return 1;
}

/* The table rebuilt from the states stored (their packing changed). */
static int rehash(fv_ctx *c) {
    memset(c->table, 0, (c->tmask + 1) * sizeof(uint64_t));
    for (int64_t k = 0; k < c->n; k++) {
        uint64_t tag = hash(c->states + (size_t)k * (size_t)c->sbytes, c->sbytes) >> 32;
        uint64_t x = tag & c->tmask;
        while (c->table[x]) x = (x + 1) & c->tmask;
        c->table[x] = (tag << 32) | (uint64_t)(k + 1);
    }
    return 1;
}

/* Wide location x takes more bytes (enough for v): every state packed again. */
static int widen(fv_ctx *c, int x) {
    fv_ctx old = *c;
    int8_t b = c->wbytes[x];
    c->wbytes[x] = b == 1 ? 2 : b == 2 ? 4 : 8;
    c->sbytes = record_bytes(c);
    uint8_t *st = malloc((size_t)c->cap * (size_t)c->sbytes);
    if (!st) return 0;
    V s[NSLOTS];
    for (int64_t k = 0; k < c->n; k++) {
        unpack(&old, old.states + (size_t)k * (size_t)old.sbytes, s);
        pack(c, s, st + (size_t)k * (size_t)c->sbytes);
    }
    free(old.states);
    c->states = st;
    return rehash(c);
}

static int grow(fv_ctx *c) {
    if (c->n >= c->cap) {
        int64_t cap = c->cap * 2;
        uint8_t *st = realloc(c->states, (size_t)cap * (size_t)c->sbytes);
        if (!st) return 0;
        c->states = st;
        int32_t *pa = realloc(c->parent, (size_t)cap * sizeof(int32_t));
        if (!pa) return 0;
        c->parent = pa;
        int32_t *vi = realloc(c->via, (size_t)cap * sizeof(int32_t));
        if (!vi) return 0;
        c->via = vi;
        c->cap = cap;
    }
    if ((uint64_t)(c->n + 1) * 2 > c->tmask + 1) return resize(c, (c->tmask + 1) * 2);
    return 1;
}

/* s packed into p, widening what must be (-1: out of memory). */
static int pack_all(fv_ctx *c, const V *s, uint8_t *p) {
    int x;
    while ((x = pack(c, s, p)) >= 0)
        if (!widen(c, x)) { fv_err = FV_NOMEM; return -1; }
    return 0;
}

/* The index of the packed state p (tag: its hash's upper half), added (parent,
   via) when new: *added says so. */
static int64_t find_or_add_packed(fv_ctx *c, const uint8_t *p, uint64_t tag, int32_t parent, int32_t via, int *added) {
    *added = 0;
    int64_t sb = c->sbytes;
    uint64_t h = tag & c->tmask;
    for (;;) {
        uint64_t e = c->table[h];
        if (!e) break;
        if ((e >> 32) == tag) {
            int64_t k = (int64_t)(e & 0xFFFFFFFFu) - 1;
            if (memcmp(c->states + (size_t)k * (size_t)sb, p, (size_t)sb) == 0) return k;
        }
        h = (h + 1) & c->tmask;
    }
    uint64_t before = c->tmask;
    if (!grow(c)) { fv_err = FV_NOMEM; return -1; }
    if (c->tmask != before) {  /* the table grew: find the free cell again */
        h = tag & c->tmask;
        while (c->table[h]) h = (h + 1) & c->tmask;
    }
    int64_t k = c->n++;
    memcpy(c->states + (size_t)k * (size_t)sb, p, (size_t)sb);
    c->parent[k] = parent;
    c->via[k] = via;
    c->table[h] = (tag << 32) | (uint64_t)(k + 1);
    *added = 1;
    return k;
}

/* The index of state s (packed into p), added when new. */
static int64_t find_or_add(fv_ctx *c, const V *s, uint8_t *p, int32_t parent, int32_t via, int *added) {
    *added = 0;
    if (pack_all(c, s, p) < 0) return -1;
    return find_or_add_packed(c, p, hash(p, c->sbytes) >> 32, parent, via, added);
}

/* An initial state (canonical, unpacked): its index, -1 when it was there, -2 when
   out of memory. */
int64_t fv_add_initial(fv_ctx *c, const V *s) {
    uint8_t p[MAXBYTES];
    int added;
    int64_t k = find_or_add(c, s, p, -1, -1, &added);
    return added ? k : (k < 0 ? -2 : -1);
}

/* The one-state goals, whole, on initial state n. */
void fv_check_initial(fv_ctx *c, int64_t n) {
    V s[NSLOTS];
    unpack(c, c->states + (size_t)n * (size_t)c->sbytes, s);
    for (int k = 0; k < NGOALS; k++)
        if (c->open[k] && GOAL_KIND[k][0] && check_whole(k, s, s) == GOAL_KIND[k][3])
            settle(c, k, n, -1, 0);
}

static V succ[NINST][NSLOTS];
static int32_t succ_inst[NINST];
static uint8_t succ_packed[NINST][MAXBYTES];
static uint64_t succ_tag[NINST];

static void kinds_open(const fv_ctx *c, int *one, int *post) {
    *one = *post = 0;
    for (int g = 0; g < NGOALS; g++) {
        if (!c->open[g]) continue;
        if (GOAL_KIND[g][0]) *one = 1;
        if (GOAL_KIND[g][2]) *post = 1;
    }
}

/* One level: every step from states lo..hi-1 (those before `initial` are initial),
   the goals checked on each step and each new state.  0: done; 1: timeout; 2: state
   limit; 3: stopped (fv_err says why). */
int fv_expand(fv_ctx *c, int64_t lo, int64_t hi, int32_t step, int64_t initial, int64_t limit, double deadline) {
    V s[NSLOTS];
    int any_one, any_post;
    int64_t seen = c->nsettled;
    kinds_open(c, &any_one, &any_post);
    for (int64_t n = lo; n < hi; n++) {
        if (n % 512 == 0 && now() >= deadline) return 1;
        unpack(c, c->states + (size_t)n * (size_t)c->sbytes, s);
        int nn = successors(c, s, succ, succ_inst, n, step);
        if (nn < 0) return 3;
        c->transitions += nn;
        if (c->nsettled != seen) { seen = c->nsettled; kinds_open(c, &any_one, &any_post); }
        /* packed and hashed first (a widening repacks what came before), each one's
           first cell fetched ahead */
        int64_t sb = -1;
        while (sb != c->sbytes) {
            sb = c->sbytes;
            for (int q = 0; q < nn && sb == c->sbytes; q++)
                if (pack_all(c, succ[q], succ_packed[q]) < 0) return 3;
        }
        for (int q = 0; q < nn; q++) {
            succ_tag[q] = hash(succ_packed[q], sb) >> 32;
            __builtin_prefetch(&c->table[succ_tag[q] & c->tmask]);
        }
        for (int q = 0; q < nn; q++) {
            int32_t i = succ_inst[q];
            const V *t = succ[q];
            int added;  /* (a lookup packs nothing: the widths stay) */
            int64_t k = find_or_add_packed(c, succ_packed[q], succ_tag[q], (int32_t)n, i, &added);
            if (k < 0) return 3;
            if (added) {
                if (any_one) affected_one(c, i, t, t, n, k, step);
                if (any_post) {
                    if (n < initial) {
                        for (int g = 0; g < NGOALS; g++)
                            if (c->open[g] && GOAL_KIND[g][2] && !check_post(g, s, t)) settle(c, g, n, i, step);
                    } else {
                        affected_post(c, i, s, t, n, k, step);
                    }
                }
            } else if (k < initial && any_post) {
                for (int g = 0; g < NGOALS; g++)
                    if (c->open[g] && GOAL_KIND[g][2] && !check_post(g, s, t)) settle(c, g, n, i, step);
            }
            if (c->nsettled != seen) { seen = c->nsettled; kinds_open(c, &any_one, &any_post); }
        }
        if (c->n > limit) return 2;
    }
    return 0;
}

typedef void (*fv_unpack_fn)(const fv_ctx *, int64_t, V *);

/* Another search's states (src, made by a library of the same transition system,
   whose fv_state is src_state), each as its canonical form here, in src's order;
   each form kept once, where it first comes, with its first representative's parent
   and step.  out: the index here of src's `initial` and `frontier` (0 when not
   reached), whether the deadline passed; where_init: the index here of each of src's
   first `initial` states. */
int fv_project(fv_ctx *c, const fv_ctx *src, fv_unpack_fn src_state, int64_t initial, int64_t frontier, double deadline, int64_t *out, int64_t *where_init) {
    int64_t *where = malloc((size_t)(src->n + 1) * sizeof(int64_t));
    if (!where) return 3;
    V s[NSLOTS];
    uint8_t p[MAXBYTES];
    out[0] = out[1] = out[2] = 0;
    for (int64_t k = 0; k < initial; k++) where_init[k] = -1;
    for (int64_t o = 0; o < src->n; o++) {
        if (o == initial) out[0] = c->n;
        if (o == frontier) out[1] = c->n;
        if (o % 512 == 0 && now() >= deadline) { out[2] = 1; break; }
        src_state(src, o, s);
        canon_all(s);
        int32_t par = src->parent[o];
        int added;
        int64_t k = find_or_add(c, s, p, par < 0 ? -1 : (int32_t)where[par], src->via[o], &added);
        if (k < 0) { free(where); return 3; }
        where[o] = k;
        if (o < initial) where_init[o] = k;
    }
    free(where);
    c->transitions = src->transitions;
    return 0;
}
"""


def expressions_source(layout: Layout, exprs: Sequence[Expr]) -> str:
    """A translation unit with ``V fv_eval(int k, const V *s)``: expression ``k`` of
    ``exprs`` on the state ``s`` (no constants folded from the state), and
    ``fv_err_code()``: the translation of expressions alone, for tests against the
    interpreter."""
    w = Writer(layout, {}, None)
    out = [f"#define NSLOTS {max(layout.size, 1)}", "#define NGOALS 1", "#define NWIDE 1", RUNTIME]
    for k, e in enumerate(exprs):
        lines: list[str] = []
        c = w.expr(e, {}, "s", "s", lines, "    ")
        out.append(f"static V eval_{k}(const V *s) {{")
        out.extend(lines)
        out.append(f"    (void)s; return {w.text(c)};")
        out.append("}")
    out.append("V fv_eval(int k, const V *s) {")
    out.append("    fv_err = 0;")
    out.append("    switch (k) {")
    out.extend(f"    case {k}: return eval_{k}(s);" for k in range(len(exprs)))
    out.append("    }")
    out.append("    return 0;")
    out.append("}")
    out.append("int fv_err_code(void) { return fv_err; }")
    return "\n".join(out) + "\n"
