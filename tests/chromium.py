"""Debian's headless chromium and the JavaScript tools the tests run in it or in node.

The browser is the one the system has (``/usr/bin/chromium``, which .ci/run installs
with apt-get); nothing here downloads one.  The JavaScript packages (Mermaid, VS Code's
grammar tokenizer) live in tests/js/node_modules, installed from tests/js/package.json
and its lock by ``npm ci --prefix tests/js`` (.ci/run does).  A missing tool skips the
test on a developer's machine and fails it in CI (``CI=true``), where .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
NODE_MODULES = JS / "node_modules"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# quiet and offline: no first-run setup, no update or sync traffic, no QUIC probes
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--enable-logging=stderr", "--v=0",
)  # fmt: skip


def missing(what: str, how: str) -> None:
    """Fail in CI, skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"no {what} in CI: .ci/run installs it ({how})")
    pytest.skip(f"no {what} installed ({how})")


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path is not None:
            return path
    missing("chromium", "apt-get install chromium")
    raise AssertionError("unreachable")


def node_package(*parts: str) -> Path:
    """A file of an installed npm package under tests/js/node_modules."""
    path = NODE_MODULES.joinpath(*parts)
    if not path.exists():
        missing(f"{parts[0]} package", "npm ci --prefix tests/js")
    return path


def browse(url: str, *flags: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Load ``url`` in a fresh headless chromium (its own empty profile directory)."""
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="fusever-chromium-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", *flags, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
