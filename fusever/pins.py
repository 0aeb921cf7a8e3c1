"""Pins: a variant knows which of its base's definitions it replaced, as they were.

A variant that replaces an action, a def, a proc, a property or an observable of its
base (or extends an action's guard, or replaces its body) depends on what that
definition said when the variant was written: a copied guard means something else
once the base's guard changes.  ``pin KIND NAME "hash"`` in the variant records a hash
of the base's definition (its source text, comments dropped and white space
collapsed, so a reflowed line is no change), written by ``fusever pin`` or ``fusever
check --update-pins``.  :func:`status` compares every pin of a spec's lineage with
the base as it is now, like a patch that may no longer apply: a *stale* pin names
the definition and carries its text then (found in the base file's git history,
when there is one) and now, for the report to show as a diff.

Data only: :mod:`fusever.report_diagnostics` words the warnings, :func:`rewrite`
returns a file's new text and the CLI writes it.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fusever import syntax as s
from fusever.diagnostics import SpecError
from fusever.diags import Diags
from fusever.lineage import Change, base_chain, merge_chain
from fusever.parse import parse_text

__all__ = [
    "DIGEST_LENGTH",
    "HISTORY",
    "Pin",
    "definition_text",
    "digest",
    "rewrite",
    "status",
]

DIGEST_LENGTH = 12  # hex digits of sha256 kept in a pin
HISTORY = 200  # commits of a base file searched for the text a stale pin recorded
HEADER = "// pins (`fusever pin`): the base definitions this variant replaces or extends, as it last saw them"

# a description string, a comment, or anything else: comments go, strings stay whole
_TOKENS = re.compile(r'"[^"\n]*"|//[^\n]*|/\*.*?\*/|\s+|[^"/\s]+|/', re.S)


def normalized(text: str) -> str:
    """``text`` without comments, every run of white space one space."""
    out: list[str] = []
    for tok in _TOKENS.findall(text):
        if not (tok.startswith(("//", "/*")) or tok.isspace()):
            out.append(tok)
        elif out and out[-1] != " ":
            out.append(" ")
    return "".join(out).strip()


def digest(text: str) -> str:
    """A definition's pin: the hash of its normalized text."""
    return hashlib.sha256(normalized(text).encode()).hexdigest()[:DIGEST_LENGTH]


def _slice(text: str, span: s.Span) -> str:
    lines = text.splitlines()
    if not span.line or span.line > len(lines):
        return ""
    if span.line == span.end_line:
        return lines[span.line - 1][span.col - 1 : span.end_col - 1]
    first = lines[span.line - 1][span.col - 1 :]
    middle = lines[span.line : span.end_line - 1]
    last = lines[span.end_line - 1][: span.end_col - 1] if span.end_line <= len(lines) else ""
    return "\n".join([first, *middle, last])


def definition_text(sources: Sequence[s.Span], texts: Mapping[str, str]) -> str:
    """The source text of a definition made of the declarations at ``sources``."""
    return "\n".join(_slice(texts.get(sp.file, ""), sp) for sp in sources)


@dataclass(frozen=True, slots=True)
class Pin:
    """One definition a variant of the lineage replaces or extends, and its pin.

    ``state``: ``ok`` (the pin matches the base), ``stale`` (the base changed since),
    ``unpinned`` (no pin recorded), ``orphan`` (a pin for nothing the variant
    changes).  ``then`` is the base's text the pin recorded, when found in git
    history (else None); ``now`` the base's text today."""

    spec: str  # the variant
    path: str  # its file
    kind: str
    name: str
    base: str  # the spec the base's definition comes from
    state: str
    pinned: str | None
    current: str
    at: s.Span  # the variant's declaration that replaces or extends it (or the pin)
    base_at: s.Span | None  # the base's declaration
    then: str | None = None
    now: str = ""
    how: str = "replaces"


def status(files: Sequence[s.SpecFile], history: bool = True) -> tuple[Pin, ...]:
    """Every replaced or extended definition of ``files[0]``'s lineage (each variant of
    the chain, the spec itself first) with its pin's state.  ``history``: look up a
    stale pin's text in git."""
    d = Diags({f.path: f.text for f in files})
    chain = base_chain(files, d)
    m = merge_chain(chain, d)
    if d.items:
        raise SpecError(d.items)
    texts = {f.path: f.text for f in files}
    out: list[Pin] = []
    changed: dict[tuple[str, str, str], Change] = {}
    for c in m.changes:
        changed.setdefault((c.spec, c.kind, c.name), c)
    pins = {(spec, p.what, p.name): p for spec, p in m.pins}
    for f in chain:
        for (spec, kind, name), c in changed.items():
            if spec != f.name:
                continue
            now = definition_text(c.sources, texts)
            current = digest(now)
            pin = pins.get((spec, kind, name))
            base_at = c.sources[0] if c.sources else None
            state, at, then = "unpinned", c.at, None
            if pin is not None and pin.digest == current:
                state = "ok"
            elif pin is not None:
                state = "stale"
                at = pin.name_span if pin.name_span.line else c.at
                then = _history(c, pin.digest) if history else None
            pinned = None if pin is None else pin.digest
            out.append(
                Pin(spec, f.path, kind, name, c.base, state, pinned, current, at, base_at, then, now, c.how)
            )  # fmt: skip
        for (spec, kind, name), pin in pins.items():
            if spec == f.name and (spec, kind, name) not in changed:
                at = pin.name_span if pin.name_span.line else pin.span
                out.append(Pin(spec, f.path, kind, name, "", "orphan", pin.digest, "", at, None))
    return tuple(out)


def _history(c: Change, wanted: str) -> str | None:
    """The text of ``c``'s base definition as it was when its hash was ``wanted``: the
    newest version of the base's file in git whose declaration of it hashes so.
    None when there is no git, no history, or a definition made of several files'
    declarations (an action a middle variant extended)."""
    files = {sp.file for sp in c.sources}
    if len(files) != 1 or len(c.sources) != 1:
        return None
    (file,) = files
    where = Path(file).resolve()
    try:
        top = _git(where.parent, "rev-parse", "--show-toplevel").strip()
        rel = where.relative_to(Path(top)).as_posix()
        commits = _git(Path(top), "log", f"-{HISTORY}", "--format=%H", "--", rel).split()
    except (OSError, ValueError, subprocess.CalledProcessError):
        return None
    for commit in commits:
        try:
            old = _git(Path(top), "show", f"{commit}:{rel}")
            spec = parse_text(old, file)
        except (OSError, subprocess.CalledProcessError, SpecError, UnicodeDecodeError):
            continue
        for decl in spec.decls:
            if _names(decl) == (c.kind, c.name):
                text = _slice(old, decl.span)
                if digest(text) == wanted:
                    return text
    return None


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def _names(decl: s.Decl) -> tuple[str, str] | None:
    """The (pin kind, name) a declaration defines in full, or None."""
    match decl:
        case s.ActionDecl(name=name):
            return "action", name
        case s.DefDecl(name=name):
            return "def", name
        case s.ProcDecl(name=name):
            return "proc", name
        case s.PropertyDecl(name=name):
            return "property", name
        case s.ObserveDecl(name=name):
            return "observe", name
        case _:
            return None


def rewrite(spec: s.SpecFile, pins: Sequence[Pin]) -> str:
    """``spec``'s text with its pins written afresh: one ``pin`` line for each
    definition the variant replaces or extends, in the order it does, where the old
    pins were (else at the end, under a comment); orphan pins dropped."""
    lines = spec.text.splitlines()
    old = sorted({d.span.line for d in spec.decls if isinstance(d, s.PinDecl)})
    mine = [p for p in pins if p.spec == spec.name and p.state != "orphan"]
    new = [f'pin {p.kind} {p.name} "{p.current}"' for p in mine]
    if old:
        first = old[0] - 1
        kept = [line for i, line in enumerate(lines, 1) if i not in old]
        out = kept[:first] + new + kept[first:]
    elif new:
        while lines and not lines[-1].strip():
            lines.pop()
        out = [*lines, "", HEADER, *new]
    else:
        out = lines
    return "\n".join(out) + "\n"
