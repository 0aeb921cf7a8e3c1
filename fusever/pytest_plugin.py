"""pytest plugin: the verdicts recorded in proofs/ as test items.

Registered by the ``pytest11`` entry point, so a tree that has fusever installed and
a ``proofs/`` directory (written by ``fusever regress --record``) gets, from plain
``pytest proofs/`` (or ``testpaths = ["tests", "proofs"]``), one item per spec x
configuration x property, named ``proofs/<spec>[.<config>].toml::<property>`` so
that ``-k "two_fuds and no_stale_escape"`` selects one.  Each configuration is
checked once, as ``fusever regress`` checks it (kept while the transition system and
the engine's code are unchanged since recorded, else run again; ``--fusever-rerun``
runs everything), and an item fails when its property's verdict changed, with the
recorded and the new verdict in the report.  A change of the configuration as a
whole (its settings, a missing spec) fails each of its items.  The step merges
(proofs/merges/) stay ``fusever regress``'s.

Nothing here prints: pytest reports.  The project's ``addopts = "-q"`` and a
user's ``-q`` make pytest's ``-qq``, which drops pytest's own last line; then
:func:`pytest_terminal_summary` writes one (``312 passed in 41.2 s``), so
``pytest proofs -q`` still ends by saying what happened.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fusever import regress
from fusever.diagnostics import SpecError

__all__ = [
    "ProofItem",
    "ProofsFile",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_sessionstart",
    "pytest_terminal_summary",
]

PROOFS_DIR = "proofs"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fusever", "fusever's recorded proofs")
    group.addoption(
        "--fusever-rerun",
        action="store_true",
        help="run every recorded configuration again, also those unchanged since recorded",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    # proofs/<spec>[.<config>].toml; proofs/merges/ is regress's alone
    if file_path.suffix == ".toml" and file_path.parent.name == PROOFS_DIR:
        return ProofsFile.from_parent(parent, path=file_path)
    return None


class ProofChanged(Exception):
    """A recorded verdict that no longer holds (or a configuration that changed)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class ProofsFile(pytest.File):
    """One proofs/ file: a spec configuration, with an item per recorded property."""

    _outcome: tuple[list[regress.Change], bool] | None = None
    _error: str | None = None

    def collect(self) -> Iterator[ProofItem]:
        try:
            self.recording = regress.loads(self.path.read_text(encoding="utf-8"), str(self.path))
        except (OSError, UnicodeDecodeError, SpecError) as e:
            raise self.CollectError(f"{self.path}: {e}") from e
        for p in self.recording.properties:
            yield ProofItem.from_parent(self, name=p.name)

    def outcome(self) -> tuple[list[regress.Change], bool]:
        """The configuration checked once (the first item asks; the others share it)."""
        if self._outcome is None:
            from fusever import regression
            from fusever.load import load_specs

            rec = self.recording
            spec = self.path.parent.parent / rec.file
            if not spec.is_file():
                self._outcome = (
                    [regress.Change(rec.key, None, f"the spec {rec.file} is gone")],
                    False,
                )
            else:
                try:
                    (ts,) = load_specs([spec], (), rec.config)
                except SpecError as e:
                    text = "; ".join(d.message for d in e.diagnostics)
                    self._outcome = (
                        [regress.Change(rec.key, None, f"the spec does not check: {text}")],
                        False,
                    )
                    return self._outcome
                rerun = bool(self.config.getoption("fusever_rerun"))
                check = regression.check(ts, rec, rerun=rerun)
                self._outcome = (list(check.changes), check.kept)
        return self._outcome


class ProofItem(pytest.Item):
    """One recorded property of one spec configuration."""

    def runtest(self) -> None:
        assert isinstance(self.parent, ProofsFile)
        changes, _ = self.parent.outcome()
        mine = [c for c in changes if (c.property is None or c.property == self.name)]
        failing = [c for c in mine if c.fatal or c.undecided]
        if failing:
            raise ProofChanged([str(c) for c in failing])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ProofChanged):
            return "\n".join(
                [
                    *excinfo.value.lines,
                    "if deliberate, run `fusever regress --record` and review the diff",
                ]
            )
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        assert isinstance(self.parent, ProofsFile)
        return self.path, None, f"{self.parent.recording.key}: {self.name}"


_STARTED = pytest.StashKey[float]()
_COUNTED = ("failed", "passed", "skipped", "deselected", "error")


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.monotonic()


def _is_proof(nodeid: str) -> bool:
    return nodeid.startswith(f"{PROOFS_DIR}/") or f"/{PROOFS_DIR}/" in nodeid


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """At ``-qq`` (``-q`` on top of the project's ``addopts = "-q"``) pytest ends
    without its counts; when recorded proofs were run, say them anyway, as pytest
    would: ``3 passed in 1.52s``."""
    del exitstatus
    if config.get_verbosity() >= -1:
        return  # pytest prints its own line
    stats: dict[str, list[Any]] = terminalreporter.stats
    if not any(
        _is_proof(str(getattr(r, "nodeid", ""))) for k in _COUNTED for r in stats.get(k, ())
    ):
        return
    counts = [f"{len(stats[k])} {k}" for k in _COUNTED if stats.get(k)]
    took = time.monotonic() - config.stash.get(_STARTED, time.monotonic())
    terminalreporter.write_line(f"{', '.join(counts)} in {took:.2f}s")
