"""Every Mermaid diagram fusever writes, rendered by the real renderer: the ``mermaid``
package from npm (tests/js/package.json) loaded into a page in Debian's headless
chromium.  The committed diagrams in docs/traces/ (the README links to them) and one
generated here, with and without ghost state, must render without an error, with
every step drawn and no lane pushed far off by one long note; the old front matter (a
title with a second ``": "``, not YAML) must be refused, so the check can fail.

Skipped when chromium or the npm packages are missing, except in CI (``CI=true``),
where .ci/run installs both and a missing one is a failure (tests/chromium.py)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from chromium import ROOT, browse, console_errors, node_package
from test_browser import png_size_and_colours
from test_trace_text import STALE_OPEN, violation

from fusever import findings, report_trace
from fusever.ts import TransitionSystem
from fusever.verdict import Result

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="{script}"></script></head>
<body><div id="out"></div>
<script>
const sources = {sources};
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
(async () => {{
  const results = {{}};
  const out = document.getElementById("out");
  for (const [name, text] of Object.entries(sources)) {{
    try {{
      const id = "d" + Object.keys(results).length;
      const r = await mermaid.render(id, text);
      const box = document.createElement("div");
      box.innerHTML = r.svg;
      out.appendChild(box);
      const svg = box.querySelector("svg");
      const rect = svg.getBBox();
      results[name] = {{ok: true, width: Math.round(rect.width), height: Math.round(rect.height),
                        text: svg.textContent}};
    }} catch (e) {{
      results[name] = {{ok: false, error: String((e && e.message) || e)}};
    }}
  }}
  document.body.setAttribute("data-results", JSON.stringify(results));
}})();
</script></body></html>
"""


def mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", markdown, re.S)


def render(sources: dict[str, str], tmp_path: Path, *flags: str) -> dict[str, dict[str, object]]:
    """Each source rendered by mermaid.render in one page: name -> ``ok`` and the SVG's
    width, height and text, or the error."""
    script = node_package("mermaid", "dist", "mermaid.min.js").as_uri()
    page = tmp_path / "mermaid.html"
    page.write_text(
        _PAGE.format(script=script, sources=json.dumps(sources).replace("</", "<\\/")),
        encoding="utf-8",
    )
    run = browse(page.as_uri(), "--virtual-time-budget=60000", *flags, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_errors(run.stderr) == []
    m = re.search(r'data-results="([^"]*)"', run.stdout)
    assert m is not None, "the page's script did not finish: " + run.stderr[-2000:]
    results: dict[str, dict[str, object]] = json.loads(html.unescape(m.group(1)))
    assert set(results) == set(sources)
    return results


@pytest.fixture(scope="module")
def stale_open() -> tuple[TransitionSystem, Result]:
    return violation(STALE_OPEN, "no_stale_escape", 6)


def test_every_committed_and_a_generated_diagram_renders(
    stale_open: tuple[TransitionSystem, Result], tmp_path: Path
) -> None:
    sources: dict[str, str] = {}
    committed = sorted((ROOT / findings.TRACES_DIR).glob("*.md"))
    assert committed, "no diagrams in docs/traces/"
    for path in committed:
        (block,) = mermaid_blocks(path.read_text(encoding="utf-8"))
        sources[path.name] = block
    ts, r = stale_open
    sources["generated"] = report_trace.render("mermaid", r, ts)
    sources["generated, with ghosts"] = report_trace.render("mermaid", r, ts, ghosts=True)
    results = render(sources, tmp_path)
    bad = {name: res.get("error") for name, res in results.items() if not res["ok"]}
    assert bad == {}
    for name, res in results.items():
        lanes = sources[name].count("participant ")
        # no note pushes the lanes apart: about 300 px a lane (the unwrapped initial
        # values made a three-lane diagram 3,700 px wide)
        assert isinstance(res["width"], int) and res["width"] <= 500 + 300 * lanes, name
        assert "Syntax error" not in str(res["text"]), name
    # every step of the generated trace is drawn, with its action
    assert r.trace is not None
    text = str(results["generated"]["text"])
    for n, step in enumerate(r.trace.steps[1:], start=1):
        assert f"{n}. " in text and f"{step.action}(" in text, n


def test_the_renderer_refuses_a_title_that_is_not_yaml(tmp_path: Path) -> None:
    # what every committed diagram had before: the check above can fail
    bad = "---\ntitle: fuse_pre / no_stale_escape: violated at step 8\n---\nsequenceDiagram\n"
    bad += "    participant L0 as opener 0\n    Note over L0: hello\n"
    results = render({"bad": bad}, tmp_path)
    assert results["bad"]["ok"] is False
    assert "indentation" in str(results["bad"]["error"])


def test_screenshot_of_a_rendered_diagram(
    stale_open: tuple[TransitionSystem, Result], tmp_path: Path
) -> None:
    ts, r = stale_open
    shot = tmp_path / "diagram.png"
    results = render(
        {"generated": report_trace.render("mermaid", r, ts)},
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1200,1600",
        "--hide-scrollbars",
    )
    assert results["generated"]["ok"]
    width, height, colours = png_size_and_colours(shot)
    assert (width, height) == (1200, 1600)
    assert colours > 16  # lanes, notes and text drawn, not a blank page
