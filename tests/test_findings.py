"""The README's findings section: made from proofs/ and the specs' own words, never stale."""

from __future__ import annotations

from pathlib import Path

from fusever import findings, regress
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
    rows = [line for line in lines if line.startswith("| `lost`")]
    # the default configuration first, then the named ones
    assert rows == [
        "| `lost` | default | — | `small` (step 4) | — |",
        "| `lost` | wide | — | `small` (step 4) | — |",
    ]
    assert (
        "- **`lost`, default: `small` fails at step 4.** Thread 0 loads the counter; then "
        "thread 0 stores its value plus one; then thread 1 loads the counter; then thread 1 "
        "stores its value plus one. Now it is no longer true that the counter stays below 2."
    ) in lines


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
    section = findings.render(list(recorded.values()), systems)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert findings.splice(readme, section) == readme, (
        "README.md's findings are stale: run `fusever findings --write README.md`"
    )
