"""A Mermaid diagram rendered to SVG by the real renderer: the ``mermaid`` package
from npm, loaded into a page in the system's headless Chromium (Debian's
``chromium``; nothing here downloads a browser).  ``fusever findings --write
README.md`` uses it for the README's picture, the headline finding's diagram.

Optional, like the tools it drives: the script is ``tests/js/node_modules/mermaid/
dist/mermaid.min.js`` under the repository (installed by ``npm ci`` in tests/js, as
.ci/run does) or the file ``$FUSEVER_MERMAID_JS`` names.  The SVG starts with a
comment holding the SHA-256 of the Mermaid source it was drawn from
(:func:`source_hash`), so a caller redraws it only when the diagram changed, and a
test checks it is current without a browser's font metrics in the comparison.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions",
)  # fmt: skip
SCRIPT = Path("tests/js/node_modules/mermaid/dist/mermaid.min.js")
_HASH = re.compile(r"<!-- mermaid source sha256 ([0-9a-f]{64}) -->")

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="{script}"></script></head><body>
<script>
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
mermaid.render("fusever", {source}).then(
  (r) => document.body.setAttribute("data-svg", r.svg),
  (e) => document.body.setAttribute("data-error", String((e && e.message) || e)));
</script></body></html>
"""


class Unavailable(Exception):
    """No browser, no Mermaid script, or the renderer refused the diagram."""


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def drawn_from(svg: str) -> str | None:
    """The hash of the source a saved SVG was drawn from; None when it has none."""
    m = _HASH.search(svg[:300])
    return m.group(1) if m else None


def _script(root: Path) -> Path:
    named = os.environ.get("FUSEVER_MERMAID_JS")
    path = Path(named) if named else root / SCRIPT
    if not path.is_file():
        raise Unavailable(f"no Mermaid script at {path} (npm ci in tests/js)")
    return path


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    raise Unavailable("no chromium installed (apt-get install chromium)")


def render(source: str, root: Path) -> str:
    """``source`` drawn by Mermaid in headless Chromium, as a standalone SVG document
    that starts with its source's hash."""
    script, browser = _script(root), _browser()
    with tempfile.TemporaryDirectory(prefix="fusever-mermaid-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(
            _PAGE.format(
                script=script.resolve().as_uri(),
                source=json.dumps(source).replace("</", "<\\/"),
            ),
            encoding="utf-8",
        )
        cmd = [
            browser, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
            "--virtual-time-budget=60000", "--dump-dom", page.as_uri(),
        ]  # fmt: skip
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Unavailable(f"chromium did not run: {e}") from e
    error = re.search(r'data-error="([^"]*)"', run.stdout)
    if error is not None:
        raise Unavailable(f"Mermaid refused the diagram: {html.unescape(error.group(1))}")
    m = re.search(r'data-svg="([^"]*)"', run.stdout)
    if m is None:
        raise Unavailable(f"chromium gave no SVG (exit {run.returncode})")
    svg = html.unescape(m.group(1))
    head = f"<!-- mermaid source sha256 {source_hash(source)} -->\n"
    return head + svg + "\n"
