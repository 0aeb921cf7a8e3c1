"""Recorded step merges: ``proofs/merges/<spec>[.<config>].toml``, what ``fusever
merges`` found in each configuration (:mod:`fusever.merges`), written by ``fusever
regress --record`` and compared by ``fusever regress``.

One table per merge: its verdict (agree, disagree, unknown, unused), the engine and
bounds it was checked with, whether the agreement is for all depths, the switches
that give its unmerged form, the disagreements, and the fingerprint of both forms and
the engine's code (a recorded check stands while it is unchanged).  Besides a changed
verdict, :func:`compare_merges` fails a configuration whose recorded "holds" rests
on a merge that does not agree, or whose proof for all depths rests on a merge
agreeing only to a bound.  Plain data and files, as :mod:`fusever.regress`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from fusever import files, report
from fusever.diagnostics import Diagnostic, SpecError
from fusever.regress import (
    HEADER,
    MAX_DEPTH,
    SUFFIX,
    Change,
    Malformed,
    Recording,
    claims_digest,
    field,
)
from fusever.ts import TransitionSystem, config_key
from fusever.ts import fingerprint as ts_fingerprint
from fusever.verdict import Verdict

if TYPE_CHECKING:  # merges runs engines: loaded only by those who check merges
    from fusever.merges import MergeCheck

MERGES_DIR = "merges"


@dataclass(frozen=True, slots=True)
class RecordedMerge:
    """One merge in one configuration, as ``fusever merges`` last found it."""

    name: str
    verdict: str  # agree, disagree, unknown, unused
    engine: str = ""
    complete: bool = False
    merged_bound: int = 0
    unmerged_bound: int = 0
    changes: tuple[str, ...] = ()  # "SERIAL: true -> false"
    disagreements: tuple[
        str, ...
    ] = ()  # "no_stale_escape: merged proved, unmerged violated at step 10"
    fingerprint: str = ""  # of both forms when checked (fusever.merges.fingerprint)

    @property
    def phrase(self) -> str:
        if self.verdict in ("unused", "unknown"):
            return self.verdict
        reach = (
            "for all depths"
            if self.complete
            else f"to depths {self.merged_bound} / {self.unmerged_bound}"
        )
        return f"{self.verdict} ({reach})"


@dataclass(frozen=True, slots=True)
class MergeRecording:
    spec: str
    config: str | None
    merges: tuple[RecordedMerge, ...]
    # the claims match their digest (fusever.regress.claims_digest): what a merge check
    # wrote, not edited since; an edited file's checks are run again, and fail the run
    attested: bool = dataclasses.field(default=True, compare=False)

    @property
    def key(self) -> str:
        return config_key(self.spec, self.config)


def record_merges(spec: str, config: str | None, checks: Sequence[MergeCheck]) -> MergeRecording:
    """What ``fusever merges`` found in one configuration, as stored in proofs/merges/."""
    out = []
    for c in checks:
        out.append(
            RecordedMerge(
                name=c.merge,
                verdict=c.verdict,
                engine=c.engine if c.used else "",
                complete=bool(c.complete) if c.used else False,
                merged_bound=c.merged_bound,
                unmerged_bound=c.unmerged_bound,
                changes=tuple(
                    f"{k}: {report.value_text(a)} -> {report.value_text(b)}"
                    for k, a, b in c.changes
                ),
                disagreements=tuple(
                    f"{r.name}: merged {report.verdict_phrase(r.merged, False, c.merged_bound, r.merged_step)}, "
                    f"unmerged {report.verdict_phrase(r.unmerged, False, c.unmerged_bound, r.unmerged_step)}"
                    for r in c.disagreements
                ),
                fingerprint=c.fingerprint,
            )
        )
    return MergeRecording(spec, config, tuple(out))


def dumps_merges(rec: MergeRecording) -> str:
    doc: dict[str, Any] = {"spec": rec.spec}
    if rec.config is not None:
        doc["config"] = rec.config
    doc["merges"] = {}
    for m in rec.merges:
        entry: dict[str, Any] = {"verdict": m.verdict}
        if m.fingerprint:
            entry["fingerprint"] = m.fingerprint
        if m.verdict != "unused":
            entry |= {
                "engine": m.engine,
                "complete": m.complete,
                "merged_bound": m.merged_bound,
                "unmerged_bound": m.unmerged_bound,
                "changes": list(m.changes),
            }
        if m.disagreements:
            entry["disagreements"] = list(m.disagreements)
        doc["merges"][m.name] = entry
    return HEADER + "\n" + tomli_w.dumps({"claims": claims_digest(doc), **doc})


def loads_merges(text: str, path: str = "<proofs>") -> MergeRecording:
    try:
        doc = tomllib.loads(text)
        out = []
        for name, entry in field(doc, "merges", dict).items():
            if not isinstance(entry, dict):
                raise Malformed(f"`merges.{name}` is not a table")
            verdict = field(entry, "verdict", str)
            if verdict not in ("agree", "disagree", "unknown", "unused"):
                raise Malformed(
                    f"`merges.{name}.verdict` is not agree, disagree, unknown or unused"
                )
            used = verdict != "unused"
            fp = entry.get("fingerprint", "")
            if not isinstance(fp, str):
                raise Malformed(f"`merges.{name}.fingerprint` is not a string")
            lists = {}
            for key in ("changes", "disagreements"):
                value = entry.get(key, [])
                if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                    raise Malformed(f"`merges.{name}.{key}` is not a list of strings")
                lists[key] = tuple(value)
            bounds = {
                key: field(entry, key, int) if used else 0
                for key in ("merged_bound", "unmerged_bound")
            }
            for key, bound in bounds.items():
                if not 0 <= bound <= MAX_DEPTH:
                    raise Malformed(
                        f"`merges.{name}.{key}` {bound} is not between 0 and {MAX_DEPTH}"
                    )
            out.append(
                RecordedMerge(
                    name=name,
                    verdict=verdict,
                    engine=field(entry, "engine", str) if used else "",
                    complete=field(entry, "complete", bool) if used else False,
                    merged_bound=bounds["merged_bound"],
                    unmerged_bound=bounds["unmerged_bound"],
                    changes=lists["changes"],
                    disagreements=lists["disagreements"],
                    fingerprint=fp,
                )
            )
        config = doc.get("config")
        if config is not None and not isinstance(config, str):
            raise Malformed("`config` is not a string")
        attested = doc.get("claims") == claims_digest(doc)
        return MergeRecording(field(doc, "spec", str), config, tuple(out), attested)
    except RecursionError as e:
        raise SpecError(
            [Diagnostic(None, f"{path}: malformed merges file: nested too deeply")]
        ) from e
    except (tomllib.TOMLDecodeError, Malformed, ValueError) as e:
        raise SpecError([Diagnostic(None, f"{path}: malformed merges file: {e}")]) from e


def read_merges(directory: Path) -> dict[str, MergeRecording]:
    out: dict[str, MergeRecording] = {}
    sub = directory / MERGES_DIR
    if not sub.is_dir():
        return out
    for path in sorted(sub.glob(f"*{SUFFIX}")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, RuntimeError) as e:  # RuntimeError: a symlink loop
            raise SpecError([Diagnostic(None, f"{path}: cannot read: {e}")]) from e
        rec = loads_merges(text, str(path))
        out[rec.key] = rec
    return out


def write_merges(directory: Path, recordings: Iterable[MergeRecording]) -> list[Path]:
    """One file per configuration that declares merges (no directory when none does)."""
    sub = directory / MERGES_DIR
    written = []
    for rec in recordings:
        if not rec.merges:
            continue
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{rec.key}{SUFFIX}"
        files.write_atomic(path, dumps_merges(rec))  # a unique temporary name, then a rename
        written.append(path)
    return written


def compare_merges(
    recorded: MergeRecording | None, now: MergeRecording, proofs: Recording | None
) -> list[Change]:
    """A merge's verdict that changed, and any "holds" that rests on a merge that does
    not agree (a merge whose check fails or is missing cannot carry a proof)."""
    spec = now.key
    out: list[Change] = []
    if recorded is None and not now.merges:
        return out
    before = {m.name: m for m in recorded.merges} if recorded is not None else {}
    for m in now.merges:
        old = before.get(m.name)
        if old is None:
            # checked here and now all the same: only the rule below can fail on it
            out.append(
                Change(spec, f"merge {m.name}", f'not recorded, now "{m.phrase}"', fatal=False)
            )
        elif (old.verdict, old.complete, old.merged_bound, old.unmerged_bound, old.engine) != (
            m.verdict,
            m.complete,
            m.merged_bound,
            m.unmerged_bound,
            m.engine,
        ):
            out.append(Change(spec, f"merge {m.name}", f'recorded "{old.phrase}" now "{m.phrase}"'))
    for name in before:
        if name not in {m.name for m in now.merges}:
            out.append(Change(spec, f"merge {name}", "recorded, but the merge is gone"))
    # a "holds" cannot rest on a merge that does not agree; a proof for all depths not
    # on one agreeing only to bounds (an argument checked part of the way; a bounded
    # "holds" may: both are to a bound)
    bad = [m for m in now.merges if m.verdict not in ("agree", "unused")]
    partial = [m for m in now.merges if m.verdict == "agree" and not m.complete]
    out += _resting(spec, proofs, bad, False, "that hold", "that do not agree")
    out += _resting(spec, proofs, partial, True, "for all depths", "checked only to a bound")
    return out


def _resting(
    spec: str,
    proofs: Recording | None,
    merges: Sequence[RecordedMerge],
    complete_only: bool,
    held: str,
    why: str,
) -> list[Change]:
    """One change when some recorded "holds" (``complete_only``: for all depths) rests
    on ``merges``; none when there are none of either."""
    names = [
        p.name
        for p in (proofs.properties if proofs is not None else ())
        if p.verdict in (Verdict.PROVED, Verdict.UNREACHABLE) and (p.complete or not complete_only)
    ]
    if not merges or not names:
        return []
    which = "; ".join(
        f"{m.name} {m.phrase}" + (f" [{m.disagreements[0]}]" if m.disagreements else "")
        for m in merges
    )
    listed = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return [
        Change(
            spec,
            None,
            f"{len(names)} recorded verdict(s) {held} ({listed}) rest on merge(s) {why}: {which}",
        )
    ]


# ---- what a run's verdicts rest on ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reliance:
    """The merges a configuration declares, each with the check proofs/merges/ records
    for this very system (its merged form as when it was checked), or None where it
    records none that applies: an edited spec, a ``--set``, a proofs/ elsewhere.  A
    prove run takes its merges as given; this says whether anything checked them."""

    key: str
    merges: tuple[tuple[str, RecordedMerge | None], ...]


def reliance(ts: TransitionSystem, proofs: Path) -> Reliance:
    """``ts``'s merges and their recorded checks in ``proofs``."""
    # A recorded check applies while its merged form is this system: the first half of
    # its fingerprint (fusever.merges.fingerprint) is the merged form's.  The unmerged
    # forms are not built here (a load each, about 0.1 s, for every merge of every
    # configuration prove runs); `fusever regress` compares them whole.
    stored = _read_one(proofs, ts.key)
    by_name = {m.name: m for m in stored.merges} if stored is not None else {}
    merged = ts_fingerprint(ts)[:16]
    out: list[tuple[str, RecordedMerge | None]] = []
    for name, _ in ts.merges:
        prior = by_name.get(name)
        ok = prior is not None and prior.fingerprint[:16] == merged
        out.append((name, prior if ok else None))
    return Reliance(ts.key, tuple(out))


def _read_one(proofs: Path, key: str) -> MergeRecording | None:
    """proofs/merges/<key>.toml, or None when it is missing or unreadable (a prove run
    reports what it rests on; a bad proofs/ file is regress's to refuse)."""
    path = proofs / MERGES_DIR / f"{key}{SUFFIX}"
    try:
        return loads_merges(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, RuntimeError, SpecError):
        return None
