"""Each configuration of fuse_v2 says what it checks (issue 29, item 7).

A configuration's description states its populations in words ("2 fuds", "1 open",
"2 notifications", "3 concurrent daemon threads", "2 instances"); this audit reads
those words and compares them with the constants the configuration checks with, so
a `set` that changes a population without its words (or words that outlive a `set`)
fails here.  "as the default" means the default's populations, but for what the
words go on to name.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fusever import load

ROOT = Path(__file__).resolve().parent.parent
V2 = ROOT / "spec" / "fuse_v2.fv"

# a population's words -> the constant that sizes it
WORDS = {
    "fud": "FUDS",
    "open": "FILES",
    "OPEN replies": "FILES",
    "notification": "NOTES",
    "instance": "INSTS",
    "concurrent daemon threads": "WRITERS",
}
COUNT = re.compile(
    r"\b(\d+) (fuds?|opens?|OPEN replies|notifications?|instances?|concurrent daemon threads)\b"
)
POPULATIONS = ("FUDS", "FILES", "NOTES", "INSTS", "WRITERS")


def _stated(description: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for n, word in COUNT.findall(description):
        key = WORDS.get(word) or WORDS[word.rstrip("s")]
        assert out.get(key, int(n)) == int(n), f"{description!r} says two counts of {key}"
        out[key] = int(n)
    return out


def _configs() -> list[tuple[str, str]]:
    (ts,) = load.load_specs([V2])
    return [(name, desc or "") for name, desc in ts.configs]


def _settings(config: str | None) -> dict[str, object]:
    (ts,) = load.load_specs([V2], config=config)
    return dict(ts.settings)


@pytest.mark.parametrize(("name", "description"), _configs(), ids=lambda x: str(x)[:20])
def test_a_configurations_counts_are_its_populations(name: str, description: str) -> None:
    settings = _settings(name)
    stated = _stated(description)
    default = _settings(None)
    if description.startswith("as the default") or description.startswith("as two_fuds"):
        like = default if description.startswith("as the default") else _settings("two_fuds")
        for key in POPULATIONS:
            if key not in stated:
                assert settings[key] == like[key], f"{name}: {key} differs from what it is like"
    else:
        # a configuration described on its own names its opens and notifications
        assert {"FILES", "NOTES"} <= set(stated), (name, stated)
    for key, n in stated.items():
        assert settings[key] == n, f"{name} says {n} for {key}, checks {settings[key]}"
    # "a daemon thread each": one writer per fud
    if "a daemon thread each" in description:
        assert settings["WRITERS"] == settings["FUDS"]


def test_the_audit_reads_every_count_word() -> None:
    assert _stated("2 fuds, a daemon thread each, 1 open, 2 notifications") == {
        "FUDS": 2, "FILES": 1, "NOTES": 2,
    }  # fmt: skip
    assert _stated("4 concurrent daemon threads: 2 OPEN replies and 2 notifications") == {
        "WRITERS": 4, "FILES": 2, "NOTES": 2,
    }  # fmt: skip
