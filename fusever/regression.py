"""The policy of ``fusever regress``: record every configuration's verdicts in proofs/,
and check each configuration against its recording again.

A recorded configuration whose transition system and engine code are both unchanged
since recorded (their fingerprints) keeps its verdicts: running it again is the same
computation.  While the transition system is unchanged, a proof for all depths is
re-checked from its stored certificate and only the other properties are searched
again (with BMC, as when recorded); otherwise the recorded engine runs again on
everything.  The step merges of each configuration (proofs/merges/) are checked the
same way: kept while both forms and the engine's code are unchanged.

The files are :mod:`fusever.regress`'s (reading, writing, comparing); the runs are
:mod:`fusever.jobs`'s.  Results are frozen dataclasses; nothing here prints (the
command line formats them, with :func:`fusever.regress.render` and :mod:`fusever.report`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from fusever import claims, jobs, regress, regress_merges
from fusever.executor import Runner
from fusever.ts import TransitionSystem
from fusever.verdict import Engine, Options, Result, Verdict

if TYPE_CHECKING:
    from fusever.certificate import Certificate, Recheck
    from fusever.engines import Outcome
    from fusever.merges import MergeCheck

__all__ = [
    "MERGE_STATE_LIMIT",
    "RECHECK_SECONDS",
    "RECORD_STATE_LIMIT",
    "Check",
    "Recorded",
    "Regressed",
    "Unwritable",
    "check",
    "check_all",
    "check_merges",
    "record",
    "record_one",
    "recordings",
]

# regress with the explicit engine: past this many states a configuration goes to BMC
# (where it does not apply at all, to k-induction).  The largest shipped ones that are
# exhausted: the four_writers of fuse_v1, fuse_v2 and fuse_wrapsafe, 3,031,951 states
# (one search; about 90 s and 2.9 GB each)
RECORD_STATE_LIMIT = 4_000_000
# a merge's check with the explicit engine: the unmerged form is the larger one.  The
# largest shipped: index_order's unordered four_writers, 6,127,167 states (fuse_v2;
# about 180 s and 5.8 GB).  Past it both forms go to BMC, whose agreement is only to
# bounds, and a proof for all depths cannot rest on that (regress_merges).
MERGE_STATE_LIMIT = 8_000_000
# the re-check of one configuration's certificates, when `regress --timeout` is not given:
# a stored certificate is bounded by its configuration's depth, but a forged or corrupt
# one must still not hold CI for ever (fuse_v2's take a few seconds)
RECHECK_SECONDS = 600.0


class Unwritable(Exception):
    """proofs/ could not be written (``cannot write DIR/: why``)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One recorded configuration checked again: the fresh recording, its changes
    against the recorded one, the certificates re-checked and the properties searched
    again (-1: none, the recording kept as it is)."""

    now: regress.Recording
    changes: tuple[regress.Change, ...]
    rechecked: int
    searched: int

    @property
    def kept(self) -> bool:
        """Kept without running: unchanged since recorded."""
        return self.searched < 0


@dataclass(frozen=True, slots=True)
class Regressed:
    """Every selected configuration checked against proofs/: the changes (specs
    missing or gone first), the configurations checked, the certificates re-checked
    and the configurations kept without running."""

    changes: tuple[regress.Change, ...]
    checked: int
    rechecked: int
    kept: int

    @property
    def fatal(self) -> bool:
        return any(c.fatal for c in self.changes)

    @property
    def undecided(self) -> bool:
        return any(c.undecided for c in self.changes)


@dataclass(frozen=True, slots=True)
class Recorded:
    """``regress --record``'s run: the recordings, every property's result (in the
    configurations' order) and the files written."""

    recordings: tuple[regress.Recording, ...]
    results: tuple[Result, ...]
    written: tuple[Path, ...]


# ---- which recordings ----------------------------------------------------------------


def recordings(
    proofs: Path,
    systems: Sequence[TransitionSystem],
    *,
    specs_named: bool = False,
    configs_named: bool = False,
) -> dict[str, regress.Recording]:
    """The recordings in question, by key: every one in ``proofs``, or when specs or
    configurations were named, only those of ``systems`` (and only their specs'
    files are read: another spec's corrupt file is no concern)."""
    restricted = specs_named or configs_named
    recorded = regress.read_dir(proofs, {ts.name for ts in systems} if restricted else None)
    if restricted:  # only the selected recordings are in question
        keys = {ts.key for ts in systems}
        names = {ts.name for ts in systems}
        recorded = {
            k: r
            for k, r in recorded.items()
            if r.spec in names and (not configs_named or k in keys)
        }
    return recorded


# ---- recording -----------------------------------------------------------------------


def record(
    systems: Sequence[TransitionSystem],
    proofs: Path,
    engine: str | None,
    workers: int | Runner = 1,
    *,
    specs_named: bool = False,
    configs_named: bool = False,
    before: Mapping[str, regress.Recording] | None = None,
) -> Recorded:
    """Run ``engine`` on every configuration (:func:`record_one`) and write proofs/.
    ``engine`` None: each configuration by the engine that recorded it (``before``),
    a configuration not recorded yet explicit first; so a configuration that was
    recorded by BMC because k-induction takes too long there stays so.  The
    generated files of specs that are gone are removed; when specs were named, only
    theirs; when configurations were named, none.  Raises :class:`Unwritable`."""
    known = before or {}

    def options(ts: TransitionSystem) -> Options:
        chosen = engine or (known[ts.key].engine if ts.key in known else "explicit")
        limit = RECORD_STATE_LIMIT if chosen == "explicit" else None
        return Options(depth=ts.depth, engine=Engine.named(chosen), state_limit=limit)

    work = [(ts, options(ts)) for ts in systems]
    ran = jobs.parallel(record_one, work, workers)
    recorded = tuple(
        regress.record(ts, o.results, used, ts.depth, o.certificates)
        for (ts, _), (used, o) in zip(work, ran, strict=True)
    )
    only = {ts.name for ts in systems} if specs_named else None
    # with --config, the other configurations' files stay as they are
    try:
        written = regress.write_dir(proofs, recorded, set() if configs_named else only)
    except OSError as e:
        raise Unwritable(f"cannot write {proofs}/: {e.strerror or e}") from e
    results = tuple(r for _, o in ran for r in o.results)
    return Recorded(recorded, results, tuple(written))


def record_one(ts: TransitionSystem, options: Options) -> tuple[str, Outcome]:
    """What regress --record runs on one configuration, and the engine it used: the
    explicit engine's complete verdicts where its search finishes.  Where it does not
    apply (a free start of a wide counter: the SMT engines' ground), k-induction, whose
    runs-end route gives complete verdicts where a ranking function bounds the runs
    (BMC to that bound; the ranking re-checked in one step, the bounded part by a fresh
    solver without the reduction).  Where it runs out of states (many concurrent
    writers), BMC to the configuration's depth (on fuse_v2's four_writers, before the
    explicit search exhausted it, BMC to its ranking bound of 34 steps took 444 s and
    the re-check had not finished 4 minutes later)."""
    from fusever.narrow import refused

    out = jobs.prove_certified(ts, options)
    if options.engine is Engine.EXPLICIT and any(r.verdict is Verdict.UNKNOWN for r in out.results):
        fallback = "kind" if refused(out.results) else "bmc"
        return fallback, jobs.prove_certified(
            ts, replace(options, engine=Engine.named(fallback), state_limit=None)
        )
    return options.engine, out


# ---- checking ------------------------------------------------------------------------


def check_all(
    systems: Sequence[TransitionSystem],
    recorded: Mapping[str, regress.Recording],
    proofs: Path,
    *,
    workers: int | Runner = 1,
    timeout: float | None = None,
    rerun: bool = False,
    merges: bool = True,
    recheck_merges: bool = False,
    say: Callable[[str], None] | None = None,
) -> Regressed:
    """Every configuration of ``systems`` recorded in ``recorded`` checked again
    (:func:`check`), the specs not recorded and the recordings whose spec is gone, and
    (``merges``) their step merges (:func:`check_merges`; ``rerun`` or
    ``recheck_merges`` checks each again even when unchanged)."""
    checked = [ts for ts in systems if ts.key in recorded]
    tell = say or (lambda _: None)
    tell(f"checking {len(checked)} recorded configuration(s) against {proofs}/")
    runs = jobs.parallel(
        _check_job, [(ts, (recorded[ts.key], timeout, rerun)) for ts in checked], workers
    )
    changes = regress.missing(recorded, [ts.key for ts in systems])
    for run in runs:
        changes += run.changes
    if merges:
        again = recheck_merges or rerun
        n = sum(len(ts.merges) for ts in checked)
        if n:
            tell(f"checking {n} step merge(s) against {proofs}/merges/ (each unmerged form loaded)")
        changes += check_merges(checked, proofs, recorded, None, workers, False, again)
    rechecked = sum(run.rechecked for run in runs)
    kept = sum(1 for run in runs if run.kept)
    return Regressed(tuple(changes), len(checked), rechecked, kept)


def check(
    ts: TransitionSystem, rec: regress.Recording, timeout: float | None = None, rerun: bool = False
) -> Check:
    """What ``fusever regress`` does for one recorded configuration (the pytest
    plugin's and bench/regress.py's call): see :func:`_check_again`.  A recording
    that claims what no engine wrote for this spec (:func:`fusever.claims.problems`:
    edited since recorded, another property set, a step out of range, a trace that
    does not replay) fails with those problems, and is decided again, never kept."""
    wrong = claims.problems(rec, ts)
    now, rechecked, searched = _check_again(ts, rec, timeout, rerun or bool(wrong))
    changes = [regress.Change(rec.key, w.property, w.message) for w in wrong]
    return Check(now, (*changes, *regress.compare(rec, now)), rechecked, searched)


def _check_job(ts: TransitionSystem, job: tuple[regress.Recording, float | None, bool]) -> Check:
    """:func:`check` as a worker process runs it."""
    rec, timeout, rerun = job
    return check(ts, rec, timeout, rerun)


def _check_again(
    ts: TransitionSystem, rec: regress.Recording, timeout: float | None, rerun: bool
) -> tuple[regress.Recording, int, int]:
    """One recorded configuration, checked again.  Unless ``rerun``: when neither the
    transition system nor the recorded engine's code has changed since recording
    (:meth:`fusever.regress.Recording.decided_by`), running it again is the same
    computation, and the recording stands as it is (-1 properties searched) once its
    certificates pass their unbounded re-check (``bounded=False`` of
    :func:`fusever.certificate.recheck_statuses`: a ranking function in one step, a
    k-induction whole), an independent check that costs little.  Otherwise, when the fingerprint is unchanged and every stored certificate still
    re-checks, the certified properties keep their recorded verdicts and only the
    others are searched (bmc, which gave their recorded verdicts); otherwise the
    recorded engine runs again on everything.  Returns the fresh recording, the
    certificates re-checked and the properties searched.  A re-check that runs out
    of time (``timeout``, default :data:`RECHECK_SECONDS`) makes its property
    undecided, never a failure."""
    from fusever.certificate import Recheck

    certified = [p for p in rec.properties if p.certificate is not None]
    certs = [p.certificate for p in certified if p.certificate is not None]
    seconds = RECHECK_SECONDS if timeout is None else timeout
    if not rerun and rec.decided_by(ts):
        if not certs:
            return rec, 0, -1
        # the same computation: only the unbounded half of a runs-end proof (its
        # ranking, in one step) is re-checked; its bounded half is kept like any BMC
        # verdict
        if all(s is Recheck.PASSED for s in _recheck(ts, certs, seconds, bounded=False)):
            return rec, len(certs), -1
    same = rec.fingerprint == regress.fingerprint(ts) and bool(certs)
    statuses = _recheck(ts, certs, seconds) if same else ()
    if not same or Recheck.FAILED in statuses:
        limit = RECORD_STATE_LIMIT if rec.engine == "explicit" else None
        options = Options(
            depth=rec.depth, engine=Engine.named(rec.engine), timeout=timeout, state_limit=limit
        )
        out = jobs.prove_certified(ts, options)
        now = regress.record(ts, out.results, rec.engine, rec.depth, out.certificates)
        return now, 0, len(out.results)
    timed_out = f"the certificate's re-check ran out of time after {seconds:g} s; try --timeout"
    kept = {
        p.name: p
        if status is Recheck.PASSED
        else replace(p, verdict=Verdict.UNKNOWN, complete=False, certificate=None, reason=timed_out)
        for p, status in zip(certified, statuses, strict=True)
    }
    now = _search_rest(ts, rec, kept, timeout)
    passed = sum(s is Recheck.PASSED for s in statuses)
    return now, passed, sum(p.name not in kept for p in ts.properties)


def _recheck(
    ts: TransitionSystem, certs: Sequence[Certificate], seconds: float, *, bounded: bool = True
) -> tuple[Recheck, ...]:
    from fusever import certificate

    deadline = time.monotonic() + seconds
    return certificate.recheck_statuses(ts, list(certs), deadline, bounded=bounded)


def _search_rest(
    ts: TransitionSystem,
    rec: regress.Recording,
    kept: Mapping[str, regress.RecordedProperty],
    timeout: float | None,
) -> regress.Recording:
    """The recording with the properties not ``kept`` searched again: BMC on every
    property, as when they were recorded, so the same shortest traces come back (its
    choices depend on the goals it holds and on where its chunks of depths end)."""
    recorded = {p.name: p for p in rec.properties}
    rest = [p.name for p in ts.properties if p.name not in kept]
    results = [
        r
        for depth, names in sorted(_depths(rest, recorded, rec.depth).items())
        for r in jobs.prove(ts, Options(depth=depth, engine=Engine.BMC, timeout=timeout))
        if r.property in names
    ]
    now = regress.record(ts, results, rec.engine, rec.depth)
    searched = {p.name: p for p in now.properties}
    props = tuple(kept[p.name] if p.name in kept else searched[p.name] for p in ts.properties)
    return replace(now, properties=props)


def _depths(
    names: Iterable[str], recorded: Mapping[str, regress.RecordedProperty], depth: int
) -> dict[int, list[str]]:
    """The depths BMC searches the properties ``names`` to, each with its properties:
    cut at the first chunk end past the deepest recorded trace, or at the recorded
    ``depth`` when a bounded verdict is among them; a trace auto found past the depth
    gets a run to its own step.  One run to the deepest need within the depth serves
    every property within it."""
    from fusever.bmc import CHUNK

    by_depth: dict[int, list[str]] = {}
    for name in names:
        old = recorded.get(name)
        if old is None or old.step is None or old.verdict in (Verdict.PROVED, Verdict.UNREACHABLE):
            need = depth
        elif old.step > depth:
            need = old.step
        else:
            need = min(depth, old.step + (CHUNK - 1 - old.step % CHUNK))
        by_depth.setdefault(need, []).append(name)
    if by_depth:
        within = max([d for d in by_depth if d <= depth], default=None)
        if within is not None:
            by_depth = {
                **{d: n for d, n in by_depth.items() if d > depth},
                within: [x for d, n in by_depth.items() if d <= depth for x in n],
            }
    return by_depth


# ---- step merges -----------------------------------------------------------------------


def check_merges(
    systems: Sequence[TransitionSystem],
    proofs: Path,
    recorded: Mapping[str, regress.Recording],
    engine: str | None,
    workers: int | Runner,
    record: bool,
    recheck: bool = False,
) -> tuple[regress.Change, ...]:
    """Check every step merge of every configuration in ``systems``; with ``record``,
    write proofs/merges/, otherwise compare with it.  Either way, a configuration
    whose recorded verdicts hold while one of its merges does not agree is a change."""
    stored = regress_merges.read_merges(proofs)
    work, kept = _merge_work(systems, stored, recorded, engine, recheck)
    checks = jobs.parallel(jobs.check_merge, work, workers, files=True)
    by_key: dict[str, list[MergeCheck]] = {}
    for (ts, _), c in zip(work, checks, strict=True):
        by_key.setdefault(ts.key, []).append(c)
    fresh = []
    for ts in systems:
        rec = regress_merges.record_merges(ts.name, ts.config, by_key.get(ts.key, []))
        ran = {m.name: m for m in rec.merges}
        order = [ran.get(n) or kept[(ts.key, n)] for n, _ in ts.merges]
        fresh.append(replace(rec, merges=tuple(order)))
    if record:
        regress_merges.write_merges(proofs, fresh)
    changes: list[regress.Change] = [
        regress.Change(
            f"merges/{key}",
            None,
            "the recorded claims do not match their digest (`claims`): the file was changed "
            "after `fusever regress --record` wrote it, so its checks ran again",
        )
        for key, old in sorted(stored.items())
        if not old.attested and not record and key in {ts.key for ts in systems}
    ]
    for rec in fresh:
        old = None if record else stored.get(rec.key)
        changes += regress_merges.compare_merges(
            old if not record else rec, rec, recorded.get(rec.key)
        )
    return tuple(changes)


def _merge_work(
    systems: Sequence[TransitionSystem],
    stored: Mapping[str, regress_merges.MergeRecording],
    recorded: Mapping[str, regress.Recording],
    engine: str | None,
    recheck: bool,
) -> tuple[
    list[tuple[TransitionSystem, jobs.MergeJob]],
    dict[tuple[str, str], regress_merges.RecordedMerge],
]:
    """The merge checks to run (:func:`fusever.jobs.check_merge`'s jobs), and the
    recorded ones that stand, by configuration and merge."""
    from fusever import merges

    work: list[tuple[TransitionSystem, jobs.MergeJob]] = []
    kept: dict[tuple[str, str], regress_merges.RecordedMerge] = {}
    for ts in systems:
        old = stored.get(ts.key)
        # an edited file's checks stand for nothing: they run again
        by_name = {m.name: m for m in old.merges} if old is not None and old.attested else {}
        for name, _ in ts.merges:
            prior = by_name.get(name)
            # the check stands while neither form nor the engine's code has changed (the
            # same computation), when recording too; --recheck-merges (or --rerun) runs
            # it again
            if (
                not recheck
                and prior is not None
                and prior.fingerprint
                and prior.fingerprint
                == merges.fingerprint(
                    ts, merges.unmerged_form(ts.path, ts.config, name), prior.engine
                )
            ):
                kept[(ts.key, name)] = prior
                continue
            # explicit first: it falls back to BMC (to a short merged bound) by itself
            # where it does not finish.  Inheriting a recorded "bmc" would run BMC to
            # the configuration's whole depth, where a merge's declared extra steps may
            # be too few (serial_write's ignore OTHER_WRITES) and a merged failure the
            # unmerged form reaches only later reads as a disagreement.  A configuration
            # recorded by k-induction (explicit did not finish there) is checked by it:
            # where a ranking function bounds the runs of both forms, every goal is
            # decided for all depths on both sides, so the agreement is complete, as a
            # proof for all depths resting on the merge needs (regress_merges.compare_merges)
            config = recorded.get(ts.key)
            chosen = engine or (
                "kind" if config is not None and config.engine == "kind" else "explicit"
            )
            # an unmerged form is larger than the configuration, and BMC's agreement
            # is only to bounds
            limit = MERGE_STATE_LIMIT if chosen == "explicit" else None
            work.append((ts, (name, Options(engine=Engine.named(chosen), state_limit=limit), ())))
    return work, kept
