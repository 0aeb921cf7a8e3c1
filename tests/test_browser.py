"""The HTML trace in a real headless browser (Debian's chromium): it loads with no
console error and shows every step, in the table and in the diagram; one screenshot
of one trace, checked for what is stable (its size, that it is not blank, that the
ghost toggle changes it), never pixel by pixel.

Skipped when no chromium is installed, except in CI (``CI=true``), where .ci/run
installs it and a missing browser is a failure (tests/chromium.py)."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from chromium import browse, console_errors
from test_trace_text import STALE_OPEN, violation

from fusever import report_trace
from fusever.ts import TransitionSystem
from fusever.verdict import Result


@pytest.fixture(scope="module")
def stale_open() -> tuple[TransitionSystem, Result]:
    return violation(STALE_OPEN, "no_stale_escape", 6)


@pytest.fixture(scope="module")
def page(
    stale_open: tuple[TransitionSystem, Result], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    ts, r = stale_open
    path = tmp_path_factory.mktemp("html") / report_trace.trace_filename(r, "html")
    path.write_text(report_trace.render("html", r, ts), encoding="utf-8")
    return path


def body_attrs(dom: str) -> dict[str, str]:
    m = re.search(r"<body([^>]*)>", dom)
    assert m is not None, dom[:500]
    return dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))


def test_the_page_loads_without_errors_and_shows_every_step(
    page: Path, stale_open: tuple[TransitionSystem, Result]
) -> None:
    _, r = stale_open
    assert r.trace is not None
    run = browse(page.as_uri(), "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_errors(run.stderr) == []
    attrs = body_attrs(run.stdout)
    assert attrs.get("data-ready") == "yes"  # the script ran to its end
    assert "data-errors" not in attrs
    n = len(r.trace.steps)
    assert attrs["data-rows-shown"] == str(n)  # step 0 (init) and every step
    assert attrs["data-diagram-steps-shown"] == str(n - 1)
    for step in r.trace.steps[1:]:
        assert f"{step.action}(" in run.stdout


def test_a_broken_page_is_caught(tmp_path: Path) -> None:
    # the check above must be able to fail: a page whose script throws
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>no_such_function();</script></body></html>")
    run = browse(bad.as_uri(), "--dump-dom")
    assert console_errors(run.stderr) != [] or "data-errors" in run.stdout


def png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct bytes in the pixel data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_screenshot_of_one_trace(page: Path, tmp_path: Path) -> None:
    shots = {}
    for name, url in (("kernel", page.as_uri()), ("ghosts", page.as_uri() + "#ghosts")):
        shot = tmp_path / f"{name}.png"
        run = browse(url, f"--screenshot={shot}", "--window-size=1400,1000", "--hide-scrollbars")
        assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
        assert console_errors(run.stderr) == []
        width, height, colours = png_size_and_colours(shot)
        assert (width, height) == (1400, 1000)
        assert colours > 16  # text and boxes drawn, not a blank page
        shots[name] = shot.read_bytes()
    assert shots["kernel"] != shots["ghosts"]  # the toggle shows ghost state
