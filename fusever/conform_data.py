"""Conformance as data: a spec's mapping onto kernel C code, and what a replay found.

The mapping (``spec/<spec>.conform.toml``, read by :func:`load_mapping`) says which
functions `fusever conform` takes from a kernel tree, which fields the patch adds,
which model expression each compared C value stands for, and which harness step each
model action is.  It is data, not code: the harness (``fusever/conform_c/``) and the
driver (:mod:`fusever.conform_run`) interpret it.  The results of a replay
(:class:`TraceResult`, :class:`ConformReport`) are here too, so the report stage can
format them without importing the driver.

Model expressions in the mapping are a small language over one interpreter state
(:func:`evaluate`): ``x``, ``x[e]``, integer literals, enum members by name,
``== != && || !`` and parentheses.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusever.ts import State, Value

__all__ = [
    "ActionStep",
    "Compare",
    "ConformReport",
    "Divergence",
    "FieldReq",
    "Fragment",
    "FunctionSpec",
    "MappingError",
    "ModelMapping",
    "StepRow",
    "Then",
    "TraceResult",
    "evaluate",
    "find_mapping",
    "load_mapping",
    "mapping_path",
]


class MappingError(Exception):
    """The mapping file is missing or malformed (a user's mistake: exit 2)."""


@dataclass(frozen=True, slots=True)
class FieldReq:
    header: str
    struct: str
    name: str


@dataclass(frozen=True, slots=True)
class Fragment:
    name: str
    match: tuple[str, ...]
    many: bool = False
    optional: bool = False


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    file: str
    whole: bool
    fragments: tuple[Fragment, ...] = ()


@dataclass(frozen=True, slots=True)
class Compare:
    name: str
    over: str
    var: str
    model: str = ""
    c: str = ""
    when: str = ""
    model_cases: tuple[tuple[str, str], ...] = ()
    c_cases: tuple[tuple[str, str], ...] = ()
    default_model: str = "-"
    default_c: str = "-"

    @property
    def cased(self) -> bool:
        return bool(self.model_cases)


@dataclass(frozen=True, slots=True)
class Then:
    when: str
    resume: str
    until: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ActionStep:
    name: str
    start: str = ""
    resume: str = ""
    call: str = ""
    nothing: bool = False
    thread: str = ""
    args: tuple[str, ...] = ()
    until: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (configuration condition, points)
    before: tuple[tuple[str, ...], ...] = ()
    then: tuple[Then, ...] = ()
    skip_if_at: bool = False
    reuse: bool = False
    later: tuple[tuple[str, str], ...] = ()  # (argument, the later action that binds it)


@dataclass(frozen=True, slots=True)
class ModelMapping:
    path: str
    spec: str
    kernel: str
    fields: tuple[FieldReq, ...]
    increments: tuple[str, ...]
    functions: tuple[FunctionSpec, ...]
    compares: tuple[Compare, ...]
    actions: tuple[ActionStep, ...]
    switches: tuple[tuple[str, str], ...] = ()  # model constant, harness switch

    def action(self, name: str) -> ActionStep | None:
        for a in self.actions:
            if a.name == name:
                return a
        return None


def mapping_path(spec_path: str | Path) -> Path:
    """Where a spec's mapping lives: beside it, ``<stem>.conform.toml``."""
    p = Path(spec_path)
    return p.with_name(p.stem + ".conform.toml")


def find_mapping(spec_path: str | Path, lineage: Sequence[str]) -> Path:
    """The mapping a spec is checked with: its own, else the nearest base's (a variant
    that changes a comparison runs against the same functions), beside the spec."""
    here = Path(spec_path).parent
    for name in lineage:
        candidate = here / f"{name}.conform.toml"
        if candidate.exists():
            return candidate
    return mapping_path(spec_path)


def _strs(v: Any, where: str) -> tuple[str, ...]:
    if isinstance(v, str):
        return (v,)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise MappingError(f"{where}: expected a string or a list of strings")
    return tuple(v)


def _str(doc: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    v = doc.get(key, default)
    if not isinstance(v, str):
        raise MappingError(f"{where}: `{key}` must be a string")
    return v


def _pairs(v: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(v, list) or not all(
        isinstance(x, list) and len(x) == 2 and all(isinstance(y, str) for y in x) for x in v
    ):
        raise MappingError(f"{where}: expected a list of [expression, label] pairs")
    return tuple((x[0], x[1]) for x in v)


def _until(v: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if isinstance(v, dict):
        return tuple((str(k), _strs(x, f"{where}.{k}")) for k, x in v.items())
    return (("true", _strs(v, where)),)


def load_mapping(path: str | Path) -> ModelMapping:
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{p}: no conformance mapping for this spec") from None
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"{p}: {e}") from None
    where = str(p)
    fields = tuple(
        FieldReq(_str(f, "header", where), _str(f, "struct", where), _str(f, "name", where))
        for f in doc.get("fields", [])
    )
    functions: list[FunctionSpec] = []
    for name, f in doc.get("functions", {}).items():
        w = f"{where}: functions.{name}"
        frags = tuple(
            Fragment(
                fname,
                _strs(fr.get("match"), f"{w}.fragments.{fname}.match"),
                bool(fr.get("many", False)),
                bool(fr.get("optional", False)),
            )
            for fname, fr in f.get("fragments", {}).items()
        )
        whole = bool(f.get("whole", False))
        if whole == bool(frags):
            raise MappingError(f"{w}: give either `whole = true` or `fragments`")
        functions.append(FunctionSpec(name, _str(f, "file", w), whole, frags))
    compares: list[Compare] = []
    for c in doc.get("compare", []):
        w = f"{where}: compare {c.get('name', '?')}"
        cased = "model_cases" in c
        compares.append(
            Compare(
                name=_str(c, "name", w),
                over=_str(c, "over", w),
                var=_str(c, "var", w),
                model=_str(c, "model", w, "" if cased else None),
                c=_str(c, "c", w, "" if cased else None),
                when=_str(c, "when", w, ""),
                model_cases=_pairs(c["model_cases"], w) if cased else (),
                c_cases=_pairs(c.get("c_cases", []), w) if cased else (),
                default_model=_str(c, "default_model", w, "-"),
                default_c=_str(c, "default_c", w, "-"),
            )
        )
    actions: list[ActionStep] = []
    for name, a in doc.get("actions", {}).items():
        w = f"{where}: actions.{name}"
        kinds = [k for k in ("start", "resume", "call", "nothing") if k in a]
        if len(kinds) != 1:
            raise MappingError(f"{w}: give exactly one of start, resume, call, nothing")
        then = tuple(
            Then(_str(t, "when", w), _str(t, "resume", w), _strs(t.get("until"), w))
            for t in a.get("then", [])
        )
        actions.append(
            ActionStep(
                name=name,
                start=_str(a, "start", w, ""),
                resume=_str(a, "resume", w, ""),
                call=_str(a, "call", w, ""),
                nothing=bool(a.get("nothing", False)),
                thread=_str(a, "thread", w, ""),
                args=_strs(a.get("args", []), f"{w}.args"),
                until=_until(a["until"], f"{w}.until") if "until" in a else (),
                before=tuple(_strs(b, f"{w}.before") for b in a.get("before", [])),
                then=then,
                skip_if_at=bool(a.get("skip_if_at", False)),
                reuse=bool(a.get("reuse", False)),
                later=tuple((str(k), str(v)) for k, v in a.get("later", {}).items()),
            )
        )
    inst = doc.get("instrument", {})
    return ModelMapping(
        path=str(p),
        spec=_str(doc, "spec", where),
        kernel=_str(doc, "kernel", where, ""),
        fields=fields,
        increments=_strs(inst.get("increments", []), f"{where}: instrument.increments"),
        functions=tuple(functions),
        compares=tuple(compares),
        actions=tuple(actions),
        switches=tuple((str(k), str(v)) for k, v in doc.get("switches", {}).items()),
    )


# ---- model expressions ------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|&&|\|\||[!\[\]()]))")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise MappingError(f"cannot read the expression `{text}` at column {pos + 1}")
        out.append(m.group(0).strip())
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, state: State, env: Mapping[str, Value]) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.state = state
        self.env = env

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, tok: str | None = None) -> str:
        t = self.peek()
        if t is None or (tok is not None and t != tok):
            raise MappingError(f"`{self.text}`: expected {tok or 'more'}")
        self.i += 1
        return t

    def run(self) -> Value:
        v = self.or_()
        if self.peek() is not None:
            raise MappingError(f"`{self.text}`: unexpected `{self.peek()}`")
        return v

    def or_(self) -> Value:
        v = self.and_()
        while self.peek() == "||":
            self.take()
            w = self.and_()
            v = bool(v) or bool(w)
        return v

    def and_(self) -> Value:
        v = self.cmp()
        while self.peek() == "&&":
            self.take()
            w = self.cmp()
            v = bool(v) and bool(w)
        return v

    def cmp(self) -> Value:
        v = self.unary()
        if self.peek() in ("==", "!="):
            op = self.take()
            w = self.unary()
            return (v == w) if op == "==" else (v != w)
        return v

    def unary(self) -> Value:
        if self.peek() == "!":
            self.take()
            return not bool(self.unary())
        if self.peek() == "(":
            self.take()
            v = self.or_()
            self.take(")")
            return v
        t = self.take()
        if t.isdigit():
            return int(t)
        if self.peek() == "[":
            self.take()
            idx = self.or_()
            self.take("]")
            if t not in self.state:
                raise MappingError(f"`{self.text}`: the model has no state variable `{t}`")
            cells = self.state[t]
            if (idx,) not in cells:
                raise MappingError(f"`{self.text}`: `{t}` has no cell {idx!r}")
            return cells[(idx,)]
        if t in self.env:
            return self.env[t]
        if t == "true":
            return True
        if t == "false":
            return False
        if t in self.state and () in self.state[t]:
            return self.state[t][()]
        return t  # an enum member, by its name


def evaluate(text: str, state: State, env: Mapping[str, Value]) -> Value:
    """The value of a mapping's model expression in ``state`` with ``env`` bound."""
    return _Parser(text, state, env).run()


# ---- results -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Divergence:
    """Where model and code part: the first difference of a trace."""

    step: int
    action: str  # the model action with its arguments, "init" at step 0
    what: str  # the compared value (e.g. "write_seq[0]") or "control"
    model: str
    c: str
    where: str  # the C file and line the acting thread stands at
    note: str = ""


@dataclass(frozen=True, slots=True)
class StepRow:
    step: int
    action: str
    thread: str  # the C thread that ran, and where it stopped
    where: str
    changed: tuple[tuple[str, str], ...]  # compared values that changed, as the C has them


@dataclass(frozen=True, slots=True)
class TraceResult:
    config: str  # "default" or the configuration's name
    source: str  # "proofs: <property>" or "simulate: run <k>"
    actions: tuple[str, ...]
    rows: tuple[StepRow, ...]
    divergence: Divergence | None = None


@dataclass(frozen=True, slots=True)
class ConformReport:
    spec: str
    kernel_tree: str
    traces: tuple[TraceResult, ...]
    coverage: tuple[tuple[str, int, int], ...] = ()  # per configuration: taken, all instances
    untaken: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def divergent(self) -> tuple[TraceResult, ...]:
        return tuple(t for t in self.traces if t.divergence is not None)
