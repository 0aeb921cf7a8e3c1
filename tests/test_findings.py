"""The README's findings section: made from proofs/ and the specs' own words, never stale."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from fusever import claims, findings, regress
from fusever.check import check
from fusever.load import discover, load_specs
from fusever.parse import parse_text
from fusever.ts import PropKind
from fusever.verdict import Verdict

ROOT = Path(__file__).resolve().parent.parent

SPEC = """
spec lost "two threads increment a counter"
sort T = 2
var c: u8
var tmp: T -> u8
init { c := 0  tmp := 0 }
action load(t: T) "thread {t} loads the counter" { tmp[t] := c }
action store(t: T) "thread {t} stores its value plus one" { c := tmp[t] + 1 }
invariant small "the counter stays below 2": c < 2
"""


def _rec(config: str | None = None) -> regress.Recording:
    violated = regress.RecordedProperty(
        "small", PropKind.INVARIANT, Verdict.VIOLATED, False, 6, step=4,
        actions=("load(t=0)", "store(t=0)", "load(t=1)", "store(t=1)"), instance="",
    )  # fmt: skip
    return regress.Recording("lost", "spec/lost.fv", "bmc", 6, (), (violated,), config)


def test_a_step_is_told_in_the_actions_own_words() -> None:
    ts = check([parse_text(SPEC, "lost.fv")])
    assert findings.narrate("store(t=1)", ts) == "thread 1 stores its value plus one"
    # no description, unknown action, no spec: the call as recorded
    assert findings.narrate("other(x=1)", ts) == "other(x=1)"
    assert findings.narrate("load(t=0)", None) == "load(t=0)"


def test_the_section_has_a_row_per_configuration_and_sentences_per_failure() -> None:
    ts = check([parse_text(SPEC, "lost.fv")])
    text = findings.render([_rec("wide"), _rec()], {"lost": ts, "lost.wide": ts})
    lines = text.splitlines()
    assert lines[0] == findings.BEGIN and lines[-1] == findings.END
    assert "### lost" in lines  # the summary's link target
    rows = [line for line in lines if line.startswith("| default") or line.startswith("| wide")]
    # the default configuration first, then the named ones
    assert rows == [
        "| default | — | `small` (step 4) | — |",
        "| wide | — | `small` (step 4) | — |",
    ]
    assert (
        "- **`lost`, default: `small` fails at step 4.** Thread 0 loads the counter; then "
        "thread 0 stores its value plus one; then thread 1 loads the counter; then thread 1 "
        "stores its value plus one. Now it is no longer true that the counter stays below 2."
    ) in lines


def test_the_summary_has_a_row_per_property_with_where_it_holds_and_fails() -> None:
    held = regress.RecordedProperty("small", PropKind.INVARIANT, Verdict.PROVED, True, 6)
    never = regress.RecordedProperty("seen", PropKind.COVER, Verdict.UNREACHABLE, True, 6)
    proved = regress.Recording("lost", "spec/lost.fv", "explicit", 6, (), (held, never), "safe")
    text = findings.render_summary([_rec("wide"), proved, _rec()])
    lines = text.splitlines()
    assert lines[0] == findings.SUMMARY_BEGIN and lines[-1] == findings.SUMMARY_END
    # failures by step, then configuration; holds counted, complete ones too
    assert (
        "| [`lost`](docs/findings.md#lost) | `small` | 1 of 3 (1 for all depths) "
        "| 4: default, wide |"
    ) in lines
    assert "- `lost`: safe: `seen`" in lines
    # each section is replaced by its own markers, the other left alone
    doc = f"a\n{findings.SUMMARY_BEGIN}\nold\n{findings.SUMMARY_END}\nb\n"
    assert findings.splice(doc, text) == f"a\n{text}b\n"
    assert findings.splice(doc, findings.render([_rec()], {})) is None


def test_splice_replaces_only_the_section() -> None:
    doc = f"intro\n{findings.BEGIN}\nold\n{findings.END}\noutro\n"
    assert findings.splice(doc, "NEW\n") == "intro\nNEW\noutro\n"
    assert findings.splice("no markers", "NEW\n") is None


def test_readme_findings_match_proofs() -> None:
    recorded = regress.read_dir(ROOT / "proofs")
    assert recorded, "proofs/ is empty: run `fusever regress --record`"
    systems = {}
    for path in discover(ROOT / "spec"):
        base = load_specs([path])[0]
        systems[base.key] = base
        for name, _ in base.configs:
            ts = load_specs([path], config=name)[0]
            systems[ts.key] = ts
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert findings.SUMMARY_BEGIN in readme
    assert findings.splice_all(readme, list(recorded.values()), systems) == readme, (
        "README.md's findings summary is stale: run `fusever findings --write README.md`"
    )
    full = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert findings.BEGIN in full
    assert findings.splice_all(full, list(recorded.values()), systems) == full, (
        "docs/findings.md is stale: run `fusever findings --write docs/findings.md`"
    )
    # the README stays readable: the full findings live in docs/
    assert len(readme.encode()) < 30_000
    # every diagram the summary links to is there, as generated
    made = findings.diagrams(list(recorded.values()), systems)
    assert made, "no recorded counterexample replays: the diagrams would all be missing"
    for name, body, _ in made.values():
        assert f"({findings.TRACES_DIR}/{name})" in readme
        assert (ROOT / findings.TRACES_DIR / name).read_text(encoding="utf-8") == body, name
    shipped = {p.name for p in (ROOT / findings.TRACES_DIR).glob("*.md")}
    assert shipped == {name for name, _, _ in made.values()}


def test_a_recorded_counterexample_replays_into_a_diagram() -> None:
    ts = check([parse_text(SPEC, "lost.fv")])
    rec = _rec()
    result = claims.replayed(rec, rec.properties[0], ts)
    assert result is not None and result.step == 4 and result.trace is not None
    assert [s.action for s in result.trace.steps] == [None, "load", "store", "load", "store"]
    ((name, body, step),) = findings.diagrams([rec], {"lost": ts}).values()
    assert (name, step) == ("lost.small.md", 4)
    assert "```mermaid" in body and "sequenceDiagram" in body
    assert "thread 1 stores its value plus one" in body
    # actions that do not run from any initial state: no diagram, never a made-up one
    broken = replace(rec.properties[0], actions=("store(t=0)", "store(t=0)", "load(t=9)"))
    assert claims.replayed(rec, broken, ts) is None
    summary = findings.render_summary(
        [rec], traces={("lost", "small"): ("docs/traces/lost.small.md", 4)}
    )
    assert "| [4](docs/traces/lost.small.md): default |" in summary


def test_the_readme_picture_is_the_headline_diagram_drawn_by_mermaid() -> None:
    """README.md shows docs/headline.svg, drawn by Mermaid (fusever/mermaid_svg.py)
    from the headline finding's diagram as `fusever findings --write README.md`
    writes it now; the README links nothing outside the repository."""
    from fusever import mermaid_svg

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    wanted = findings.headline(readme)
    assert wanted == ("fuse_v2", "no_stale_escape")
    assert f"]({findings.HEADLINE_SVG})" in readme
    # the picture comes before the first section after the introduction
    assert readme.index(findings.HEADLINE_SVG) < readme.index("## Two commands")
    page = ROOT / findings.TRACES_DIR / f"{wanted[0]}.{wanted[1]}.md"
    source = findings.mermaid_source(page.read_text(encoding="utf-8"))
    assert source is not None
    svg = (ROOT / findings.HEADLINE_SVG).read_text(encoding="utf-8")
    assert mermaid_svg.drawn_from(svg) == mermaid_svg.source_hash(source), (
        "docs/headline.svg is stale: run `fusever findings --write README.md` "
        "(with chromium and tests/js installed)"
    )
    assert '<svg id="fusever"' in svg and 'aria-roledescription="sequence"' in svg
    assert "no_stale_escape" in svg
    for target in re.findall(r"\]\(([^)]+)\)", readme):
        assert "://" not in target and not target.startswith(".."), target
        assert (ROOT / target.split("#")[0]).exists(), target
