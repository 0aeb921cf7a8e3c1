"""The kernel's own names for a spec's state and actions, read from the spec's text.

A spec names its state briefly (``inval_seq``, ``ibit``) and says in a comment what
each is in the kernel; the race diagram and the failure line use the kernel's names,
which a reviewer knows.  Two conventions of the spec's comments, documented in
docs/language.md ("Kernel names"):

- a variable's trailing comment that starts with a kernel field or flag names it:
  ``var inval_seq: Inst -> u<W>  // fi->inval_files_seq`` (a ``a->b`` path, or an
  upper-case constant such as ``FUSE_I_INVAL_FILES``);
- a comment line ``// in the kernel: fuse_dev_do_write(), fuse_request_end()`` right
  above an action (in the comment block that ends on its line) names the kernel
  functions the action stands for; the first is what a race diagram shows.

Comments change nothing a spec compiles to (the transition system's fingerprint
leaves them out); a spec without them keeps its own names.  The files are those the
declarations' spans name; one that cannot be read gives no names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fusever.ts import TransitionSystem

_FIELD = re.compile(r"^(?:[a-z_][a-z0-9_]*->)+[a-z_][a-z0-9_]*$|^[A-Z][A-Z0-9]*_[A-Z0-9_]+$")
_IN_KERNEL = re.compile(r"^\s*//\s*in the kernel:\s*(?P<names>.*)$")
_FUNCTION = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\(\)")


@dataclass(frozen=True, slots=True)
class KernelNames:
    variables: Mapping[str, str] = field(default_factory=dict)  # spec var -> kernel name
    functions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # action -> fns

    def variable(self, name: str) -> str:
        return self.variables.get(name, name)

    def function(self, action: str) -> str | None:
        fns = self.functions.get(action)
        return fns[0] if fns else None


@lru_cache(maxsize=64)
def _lines(path: str) -> tuple[str, ...]:
    try:
        return tuple(Path(path).read_text(encoding="utf-8").split("\n"))
    except (OSError, UnicodeDecodeError):
        return ()


def _trailing_comment(line: str) -> str | None:
    pos = line.find("//")
    return None if pos < 0 else line[pos + 2 :].strip()


def variable_name(comment: str) -> str | None:
    """The kernel name a variable's trailing comment starts with, if any."""
    words = comment.split()
    if not words:
        return None
    first = words[0].rstrip(".,:;")
    return first if _FIELD.match(first) else None


def kernel_names(ts: TransitionSystem | None) -> KernelNames:
    """The kernel names ``ts``'s comments give (empty without ``ts``)."""
    if ts is None:
        return KernelNames()
    variables: dict[str, str] = {}
    for v in ts.vars:
        if v.ghost:  # ghost state is the model's own, with no kernel name
            continue
        lines = _lines(v.span.file)
        if 0 < v.span.line <= len(lines):
            comment = _trailing_comment(lines[v.span.line - 1])
            name = variable_name(comment) if comment else None
            if name is not None:
                variables[v.name] = name
    functions: dict[str, tuple[str, ...]] = {}
    for a in ts.actions:
        lines = _lines(a.span.file)
        n = a.span.line - 2  # the line above the declaration, 0-based
        while 0 <= n < len(lines) and lines[n].strip().startswith("//"):
            m = _IN_KERNEL.match(lines[n])
            if m is not None:
                functions[a.name] = tuple(f"{f}()" for f in _FUNCTION.findall(m.group("names")))
                break
            n -= 1
    return KernelNames(variables, functions)
