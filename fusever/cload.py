"""Compile generated C, cache the library, load it: the compiled explicit engine's
build step.

:func:`compiler` finds the system's C compiler (``$CC``, else ``cc``, ``gcc`` or
``clang`` on the path); :func:`build` compiles one translation unit with ``-O2`` into
a shared library in the user's cache directory (``$XDG_CACHE_HOME/fusever/c`` or
``~/.cache/fusever/c``, made readable by that user alone), named by the SHA-256 of the
source, the compiler and its flags; next to it, the SHA-256 of the library file as
written.  A cached library is loaded only when the file's hash matches that record;
otherwise it is built again.  A compile error raises :class:`CompileError`, an
internal error, and keeps the generated source for a bug report.  Nothing prints.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["FLAGS", "CompileError", "build", "cache_dir", "compiler"]

FLAGS = ("-O2", "-shared", "-fPIC", "-std=gnu11", "-w")
_KEEP = 20  # at most this many failed sources kept


class CompileError(Exception):
    """The C compiler refused generated code: a bug in fusever (the message says where
    the source was kept)."""


def compiler() -> list[str] | None:
    """The C compiler's command: ``$CC`` (split as a shell would), else the first of
    ``cc``, ``gcc``, ``clang`` on the path; None when there is none."""
    cc = os.environ.get("CC", "").strip()
    if cc:
        words = shlex.split(cc)
        if words and shutil.which(words[0]):
            return [shutil.which(words[0]) or words[0], *words[1:]]
        return None
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def cache_dir() -> Path:
    """The user's cache directory for compiled systems, made with mode 0700."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    d = root / "fusever" / "c"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    for p in (d.parent, d):
        if p.stat().st_uid == os.getuid() and p.stat().st_mode & 0o077:
            p.chmod(0o700)
    return d


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(source: str, cc: list[str] | None = None) -> tuple[ctypes.CDLL, bool]:
    """The library of ``source``, and whether it came from the cache.  Raises
    :class:`CompileError` (the compiler refused it, or there is no compiler)."""
    cc = compiler() if cc is None else cc
    if cc is None:
        raise CompileError("no C compiler found (set CC, or install cc)")
    key = _digest("\0".join([source, *cc, *FLAGS]).encode())
    d = cache_dir()
    lib, rec = d / f"{key}.so", d / f"{key}.so.sha256"
    if lib.exists() and rec.exists():
        try:
            if rec.read_text().strip() == _digest(lib.read_bytes()):
                return ctypes.CDLL(str(lib)), True
        except OSError:
            pass
    with tempfile.TemporaryDirectory(dir=d, prefix="build-") as tmp:
        c_file = Path(tmp) / f"{key}.c"
        c_file.write_text(source)
        out = Path(tmp) / f"{key}.so"
        proc = subprocess.run(
            [*cc, *FLAGS, "-o", str(out), str(c_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not out.exists():
            kept = d / f"failed-{key}.c"
            shutil.copyfile(c_file, kept)
            _prune(d)
            first = (proc.stderr or proc.stdout or "").strip().splitlines()[:5]
            raise CompileError(
                f"the C compiler ({cc[0]}) refused the generated code for this system, "
                f"kept at {kept} (a bug in fusever: please report it with that file): "
                + " | ".join(first)
            )
        data = out.read_bytes()
        os.replace(out, lib)  # atomic: a concurrent build of the same key writes the same
        tmp_rec = Path(tmp) / "rec"
        tmp_rec.write_text(_digest(data) + "\n")
        os.replace(tmp_rec, rec)
    return ctypes.CDLL(str(lib)), False


def _prune(d: Path) -> None:
    failed = sorted(d.glob("failed-*.c"), key=lambda p: p.stat().st_mtime)
    for p in failed[:-_KEEP]:
        p.unlink(missing_ok=True)
