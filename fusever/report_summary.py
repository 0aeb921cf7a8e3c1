"""The short lines around a command's output: the progress line of a run of many
jobs, ``fusever check``'s one line per spec, what ``--trace-dir`` wrote, and the last
line of every command (the counts, the wall time and what the exit code means).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fusever.executor import Status
from fusever.ts import TransitionSystem
from fusever.verdict import Result, Verdict


def _clock(seconds: float) -> str:
    s = round(seconds)
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def progress_text(
    finished: int, total: int, elapsed: float, last: str = "", running: Sequence[str] = (),
    width: int = 20,
) -> str:  # fmt: skip
    """The status line of a run of many jobs (regress, explore, prove of several specs):
    a bar, done / total, the time so far and an estimate of what is left (the mean time
    per finished job times the jobs left; none before the first finishes), the jobs
    running and the last one finished."""
    filled = width * finished // total if total else width
    bar = "#" * filled + "-" * (width - filled)
    parts = [f"[{bar}] {finished}/{total}", f"{_clock(elapsed)} elapsed"]
    if 0 < finished < total:
        parts.append(f"about {_clock(elapsed / finished * (total - finished))} left")
    if running:
        parts.append("running " + ", ".join(running))
    if last:
        parts.append(f"last {last}")
    return " | ".join(parts)


def status_text(s: Status, elapsed: float) -> str:
    """The status line of a batch of jobs (:func:`progress_text`); on a cluster with
    where it runs, its workers and the jobs running and queued there."""
    running = s.running[:2] + ((f"{len(s.running) - 2} more",) if len(s.running) > 2 else ())
    text = progress_text(s.finished, s.total, elapsed, s.last, running)
    if s.where == "local":
        return text
    return f"{s.where}: {s.workers} worker(s), {len(s.running)} running, {s.queued} queued | {text}"


def render_checked(systems: Iterable[TransitionSystem]) -> str:
    """``fusever check``: one line per spec configuration that parsed and checked."""
    return "".join(
        f"ok: {ts.key} ({len(ts.actions)} actions, {len(ts.properties)} properties)\n"
        for ts in systems
    )


EXIT_MEANINGS = {
    0: "all as expected",
    1: "a finding: a property violated or a cover goal unreachable",
    2: "a spec or usage error",
    3: "undecided: a timeout or an unknown answer",
    4: "an internal error",
}


def summary_line(results: Sequence[Result], seconds: float, code: int) -> str:
    """``6 proved, 4 violated, 6 covered, 0 unknown in 12.3 s; exit 1: a finding: ...``:
    the counts by verdict (bounded ones counted with their verdict and marked),
    the wall time and what the exit code means."""
    count = {v: sum(r.verdict is v for r in results) for v in Verdict}
    bounded = sum(
        r.verdict in (Verdict.PROVED, Verdict.UNREACHABLE) and not r.complete for r in results
    )
    parts = [
        f"{count[Verdict.PROVED]} proved",
        f"{count[Verdict.VIOLATED]} violated",
        f"{count[Verdict.COVERED]} covered",
    ]
    if count[Verdict.UNREACHABLE]:
        parts.append(f"{count[Verdict.UNREACHABLE]} unreachable")
    parts.append(f"{count[Verdict.UNKNOWN]} unknown")
    scope = f" ({bounded} only to the bound)" if bounded else ""
    return exit_summary(f"{', '.join(parts)}{scope}", seconds, code)


def exit_summary(what: str, seconds: float, code: int, meaning: str | None = None) -> str:
    """``<what> in 1.2 s; exit 0: all as expected``: a command's last line."""
    meaning = meaning or EXIT_MEANINGS.get(code, "unknown code")
    return f"{what} in {seconds:.1f} s; exit {code}: {meaning}\n"


def checked_summary(specs: int, seconds: float) -> str:
    return exit_summary(f"{specs} spec(s) parsed and checked", seconds, 0)


def wrote_lines(paths: Sequence[str]) -> str:
    """What ``--trace-dir`` wrote: one line per file."""
    return "".join(f"wrote {p}\n" for p in paths)
