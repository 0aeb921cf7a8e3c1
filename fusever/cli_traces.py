"""The command line's traces: ``prove --trace-dir`` (each violation and witness as
ITF, and as text, Mermaid, HTML or SVG beside it), ``fusever show`` (a saved trace
rendered again, with its spec when it loads), and a report written whole to
``--output``.  Formatting is :mod:`fusever.report_trace`'s; this only reads and
writes files, and a file that cannot be read or written is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from fusever import files, report
from fusever.cli_args import UsageError
from fusever.diagnostics import SpecError
from fusever.ts import TransitionSystem
from fusever.verdict import Result, Verdict

__all__ = ["cmd_show", "emit", "write_traces"]


def emit(text: str, output: Path | None) -> None:
    """The report on stdout, or written whole to ``output`` (a temporary name, then a
    rename: a run killed before the end leaves no empty or half-written report)."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        files.write_atomic(output, text)
    except OSError as e:
        raise UsageError(f"cannot write {output}: {e.strerror or e}") from e


def write_traces(
    directory: Path,
    results: Sequence[Result],
    specs: dict[str, TransitionSystem],
    formats: Sequence[str] = (),
    full: bool = False,
    ghosts: bool = False,
) -> list[Path]:
    """Each trace as ITF, and in ``formats`` (report_trace) beside it; the paths written."""
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for r in results:
            if r.trace is not None and r.verdict in (Verdict.VIOLATED, Verdict.COVERED):
                path = directory / report.itf_filename(r)
                files.write_atomic(path, report.render_itf(r, specs.get(r.key)))
                written.append(path)
                written += _write_renderings(directory, r, specs.get(r.key), formats, full, ghosts)
    except OSError as e:
        raise UsageError(f"cannot write traces to {directory}: {e.strerror or e}") from e
    return written


def _write_renderings(
    directory: Path,
    r: Result,
    ts: TransitionSystem | None,
    formats: Sequence[str],
    full: bool,
    ghosts: bool,
) -> list[Path]:
    from fusever import report_trace

    out = []
    for fmt in dict.fromkeys(formats):
        path = directory / report_trace.trace_filename(r, fmt)
        files.write_atomic(path, report_trace.render(fmt, r, ts, full, ghosts))
        out.append(path)
    return out


def cmd_show(args: argparse.Namespace) -> int:
    from fusever import report_trace

    if (args.output is not None or args.format in ("html", "svg")) and len(args.traces) != 1:
        raise UsageError(f"--output and --format {args.format} take one TRACE at a time")
    texts = []
    for name in args.traces:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read {name}: {e.strerror or e}") from e
        try:
            source, config, settings = report_trace.itf_settings(text)
            ts = _spec_of_trace(source, config, settings)
            r = report_trace.read_itf(text, ts)
        except report_trace.ItfError as e:
            raise UsageError(f"{name}: {e}") from e
        texts.append(report_trace.render(args.format, r, ts, args.full, args.ghosts))
    if args.output is not None:
        try:
            files.write_atomic(args.output, texts[0])
        except OSError as e:
            raise UsageError(f"cannot write {args.output}: {e.strerror or e}") from e
        sys.stdout.write(f"wrote {args.output}\n")
        return 0
    sys.stdout.write("\n".join(texts))  # a rendering alone: it may be piped to a file
    return 0


def _spec_of_trace(
    source: str, config: str | None, settings: Mapping[str, object]
) -> TransitionSystem | None:
    """The spec a saved trace came from, under its configuration and settings; None
    (with a note on stderr) when it cannot be loaded: the trace still renders."""
    sets = [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in settings.items()]
    try:
        from fusever import load  # not at import: keeps z3 out of the commands that need none

        (ts,) = load.load_specs([Path(source)], sets, config)
    except (SpecError, OSError, ValueError) as e:
        print(
            f"fusever: note: {source}: spec not loaded ({type(e).__name__}); "
            "the trace is shown without actors and descriptions",
            file=sys.stderr,
        )
        return None
    return ts
