"""Files fusever writes (proofs/, reports, traces, the explore cache): whole or not at all.

Every write goes to a temporary name in the same directory and is renamed over the
target (``os.replace``, atomic on POSIX), so a run interrupted at any moment leaves
either the old file or the new one, never half of one; two writers at once end with
one of the two whole files (last writer wins).  Plain I/O: no fusever types.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["unwritable", "write_atomic"]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file and a rename;
    OSError when that cannot be done (the temporary file is then removed)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:  # an interrupt included: no temporary file left behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def unwritable(directory: Path) -> str | None:
    """Why files cannot be created in ``directory`` (created if missing), or None when
    they can: checked by creating and removing a temporary file, so a read-only mount
    is found before any work is done."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".fusever-write-test.")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        return f"{directory} is not writable: {e.strerror or e}"
    return None
