"""The command line: argument parsing and exit codes, no logic of its own.

Loading is :mod:`fusever.load`, checking is :mod:`fusever.engines`, every line of
output is formatted by :mod:`fusever.report` (and :mod:`fusever.regress` for its diff).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from fusever import __version__, findings, regress, report
from fusever.diagnostics import SpecError, did_you_mean
from fusever.ts import TransitionSystem
from fusever.verdict import Options, Progress, Result, Verdict

if TYPE_CHECKING:
    from fusever.certificate import Certificate
    from fusever.engines import Outcome

_A = TypeVar("_A")
_B = TypeVar("_B")

# Exit codes: a public interface (README.md, `fusever --help`).
EXIT_OK = 0  # every property as expected: no violation, every cover goal covered
EXIT_FINDING = 1  # a property violated, a cover goal unreachable, or a recorded verdict changed
EXIT_USAGE = 2  # a spec error, a bad flag, an unreadable file
EXIT_UNKNOWN = 3  # undecided: a timeout or the solver gave up, and no finding
EXIT_INTERNAL = 4  # a bug in fusever (the traceback is printed)

EPILOG = """\
exit codes:
  0  all as expected: no property violated, every cover goal covered,
     (regress) every recorded verdict unchanged
  1  a property violated, or a cover goal unreachable (the property it
     supports may hold vacuously); (regress) a recorded verdict changed
  2  a spec error, a bad flag or an unreadable file
  3  undecided: a timeout or an unknown solver answer, and nothing of 1
  4  an internal error in fusever (a bug: please report the traceback)
"""

ENGINES = ("bmc", "kind", "chc", "auto")
SPEC_DIR = Path("spec")


class UsageError(Exception):
    """A bad command line: ``fusever: error: ...``, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# ---- the stages the CLI drives (indirections keep z3 out of `fusever check`) ------------


def _discover(directory: Path) -> list[Path]:
    from fusever import load

    return load.discover(directory)


def _load(
    paths: Sequence[Path], sets: Sequence[str], config: str | None = None
) -> tuple[TransitionSystem, ...]:
    from fusever import load

    return load.load_specs(paths, sets, config)


ALL_CONFIGS = "all"
DEFAULT_CONFIG = "default"  # regress --config: the spec's own configuration


def _load_configs(
    paths: Sequence[Path], sets: Sequence[str], configs: Sequence[str]
) -> list[TransitionSystem]:
    """Each spec under each configuration asked for, spec by spec: none asked for is
    the default configuration; ``all`` is the default and every configuration."""
    systems = _load(paths, sets)
    if not configs:
        return list(systems)
    out: list[TransitionSystem] = []
    for ts in systems:
        names = list(dict.fromkeys(configs))
        if ALL_CONFIGS in names:
            out.append(ts)
            names = [n for n, _ in ts.configs]
        for name in names:
            out.extend(_load([Path(ts.path)], sets, name))
    return out


def _prove(
    ts: TransitionSystem, options: Options, progress: Callable[[Progress], None] | None = None
) -> tuple[Result, ...]:
    from fusever import engines

    return engines.prove(ts, options, progress)


def _prove_in_worker(ts: TransitionSystem, options: Options) -> tuple[Result, ...]:
    return _prove(ts, options)


# ---- argument types -------------------------------------------------------------------


def _whole(least: int, too_small: str) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``least``."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"`{text}` {too_small}")
        return n

    return parse


_positive_int = _whole(1, "must be at least 1")
_depth = _whole(0, "must not be negative")


def _seconds(text: str) -> float:
    try:
        s = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of seconds") from None
    if not s > 0 or s == float("inf"):
        raise argparse.ArgumentTypeError(f"`{text}` must be a positive number of seconds")
    return s


def _setting(text: str) -> str:
    name, eq, value = text.partition("=")
    if not eq or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"`{text}` is not NAME=VALUE")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fusever",
        description="Model-check the state transitions of a FUSE kernel patch with Z3.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fusever {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    prove = sub.add_parser(
        "prove",
        help="check every property of the specs",
        description="Check every property of the specs (every .fv under spec/ when none is named).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prove.add_argument("specs", nargs="*", metavar="SPEC", help=".fv files (default: spec/*.fv)")
    prove.add_argument(
        "--depth", type=_depth, metavar="K", help="steps to search (default: the spec's)"
    )
    prove.add_argument(
        "--set",
        dest="sets",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a constant (repeatable)",
    )
    prove.add_argument(
        "--config",
        dest="configs",
        action="append",
        default=[],
        metavar="NAME",
        help="run under this configuration of the spec (repeatable; `all`: the default and every one)",
    )
    prove.add_argument(
        "--property",
        dest="properties",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this property (repeatable)",
    )
    prove.add_argument("--engine", choices=ENGINES, default="auto", help="default: auto")
    prove.add_argument("--timeout", type=_seconds, metavar="S", help="seconds per spec")
    prove.add_argument("--format", choices=("text", "json", "junit"), default="text")
    prove.add_argument(
        "--trace-dir",
        type=Path,
        metavar="DIR",
        help="write each violation and cover witness as DIR/<spec>.<property>.itf.json",
    )
    prove.add_argument(
        "--witnesses", action="store_true", help="show cover witnesses' step tables too"
    )
    prove.add_argument(
        "--jobs", type=_positive_int, default=1, metavar="N", help="check N specs in parallel"
    )
    prove.set_defaults(run=_cmd_prove)

    check = sub.add_parser(
        "check",
        help="parse and check specs only",
        description="Parse and check specs without running a solver.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("specs", nargs="*", metavar="SPEC", help=".fv files (default: spec/*.fv)")
    check.set_defaults(run=_cmd_check)

    reg = sub.add_parser(
        "regress",
        help="re-check the verdicts recorded in proofs/",
        description=(
            "Check every configuration recorded in proofs/ again and fail on any changed "
            "verdict: a proof for all depths is re-checked from its stored certificate while "
            "the spec means the same (its fingerprint), everything else is searched again. "
            "--record rewrites proofs/ from the specs under spec/."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reg.add_argument(
        "specs", nargs="*", metavar="SPEC", help="only these specs (default: every spec under spec/)"
    )
    reg.add_argument("--record", action="store_true", help="rewrite proofs/ from a fresh run")
    reg.add_argument(
        "--engine", choices=ENGINES, default="auto", help="with --record: default auto"
    )
    reg.add_argument(
        "--config", dest="configs", action="append", default=[], metavar="NAME",
        help="only this configuration (repeatable; `default`: the spec's own)",
    )  # fmt: skip
    reg.add_argument("--proofs", type=Path, default=Path("proofs"), metavar="DIR")
    reg.add_argument(
        "--jobs", type=_positive_int, default=1, metavar="N", help="check N specs in parallel"
    )
    reg.set_defaults(run=_cmd_regress)
    _explore_parsers(sub)

    fnd = sub.add_parser(
        "findings",
        help="the README's findings table, from proofs/",
        description=(
            "Print the findings section generated from proofs/ (no solver runs); "
            "--write FILE replaces the section between its markers in FILE."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fnd.add_argument("--proofs", type=Path, default=Path("proofs"), metavar="DIR")
    fnd.add_argument("--write", type=Path, metavar="FILE", help="rewrite FILE's findings section")
    fnd.set_defaults(run=_cmd_findings)
    return parser


# ---- commands ----------------------------------------------------------------------


def _spec_paths(named: Sequence[str]) -> list[Path]:
    if named:
        return [Path(s) for s in named]
    paths = _discover(SPEC_DIR)
    if not paths:
        raise UsageError(f"no SPEC given and {SPEC_DIR}/ holds no .fv files")
    return paths


def _cmd_check(args: argparse.Namespace) -> int:
    systems = _load(_spec_paths(args.specs), ())
    sys.stdout.write(report.render_checked(systems))
    return EXIT_OK


def _options_for(ts: TransitionSystem, args: argparse.Namespace) -> Options | None:
    """The options for one spec; None when it has none of the named properties."""
    props: tuple[str, ...] | None = None
    if args.properties:
        have = {p.name for p in ts.properties}
        props = tuple(dict.fromkeys(p for p in args.properties if p in have))
        if not props:
            return None
    return Options(depth=args.depth, properties=props, timeout=args.timeout, engine=args.engine)


def _check_property_names(names: Sequence[str], systems: Sequence[TransitionSystem]) -> None:
    known = {p.name for ts in systems for p in ts.properties}
    for name in names:
        if name not in known:
            raise UsageError(f"no spec has a property `{name}`{did_you_mean(name, known)}")


def _run(
    jobs: Sequence[tuple[TransitionSystem, Options]], workers: int
) -> list[tuple[Result, ...]]:
    """Check each spec, in parallel processes when asked; results in ``jobs``' order."""
    try:
        return _parallel(_prove_in_worker, jobs, workers, local=_prove)
    except ValueError as e:
        # an engine that does not exist (yet): the user's choice, not a crash
        if {options.engine for _, options in jobs} - {"bmc", "auto"}:
            raise UsageError(str(e)) from e
        raise


def exit_code(results: Sequence[Result]) -> int:
    """1 for a finding (a violation, an unreachable cover goal), else 3 when anything is
    undecided, else 0: a definite finding outranks an open question."""
    if any(report.is_finding(r) for r in results):
        return EXIT_FINDING
    if any(r.verdict is Verdict.UNKNOWN for r in results):
        return EXIT_UNKNOWN
    return EXIT_OK


def _cmd_prove(args: argparse.Namespace) -> int:
    systems = _load_configs(_spec_paths(args.specs), args.sets, args.configs)
    _check_property_names(args.properties, systems)
    jobs = [(ts, o) for ts in systems if (o := _options_for(ts, args)) is not None]
    results = [r for rs in _run(jobs, args.jobs) for r in rs]
    by_name = {ts.key: ts for ts in systems}
    if args.trace_dir is not None:
        _write_traces(args.trace_dir, results, by_name)
    match args.format:
        case "json":
            sys.stdout.write(report.render_json(results))
        case "junit":
            sys.stdout.write(report.render_junit(results, by_name))
        case _:
            tty = sys.stdout.isatty()
            width = shutil.get_terminal_size().columns
            sys.stdout.write(
                report.render_text(results, by_name, witnesses=args.witnesses, tty=tty, width=width)
            )
    return exit_code(results)


def _write_traces(
    directory: Path, results: Sequence[Result], specs: dict[str, TransitionSystem]
) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for r in results:
            if r.trace is not None and r.verdict in (Verdict.VIOLATED, Verdict.COVERED):
                path = directory / report.itf_filename(r)
                path.write_text(report.render_itf(r, specs.get(r.key)), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write traces to {directory}: {e.strerror or e}") from e


def _cmd_regress(args: argparse.Namespace) -> int:
    proofs: Path = args.proofs
    paths = [Path(s) for s in args.specs] if args.specs else _discover(SPEC_DIR)
    systems = _load_configs(paths, (), [ALL_CONFIGS]) if paths else []
    if args.configs:  # only these configurations ("default": the spec's own)
        wanted = set(args.configs)
        known = {ts.config or DEFAULT_CONFIG for ts in systems}
        for name in args.configs:
            if name not in known:
                raise UsageError(
                    f"--config: no spec has a configuration `{name}`{did_you_mean(name, known)}"
                )
        systems = [ts for ts in systems if (ts.config or DEFAULT_CONFIG) in wanted]
    recorded = regress.read_dir(proofs)
    if args.specs or args.configs:  # only the selected recordings are in question
        keys = {ts.key for ts in systems}
        names = {ts.name for ts in systems}
        recorded = {
            k: r
            for k, r in recorded.items()
            if r.spec in names and (not args.configs or k in keys)
        }
    if args.record:
        engine = args.engine
        jobs = [(ts, Options(depth=ts.depth, engine=engine)) for ts in systems]
        outcomes = _parallel(_prove_certified, jobs, args.jobs)
        recordings = [
            regress.record(ts, o.results, engine, ts.depth, o.certificates)
            for (ts, _), o in zip(jobs, outcomes, strict=True)
        ]
        only = {ts.name for ts in systems} if args.specs else None
        # with --config, the other configurations' files stay as they are
        written = regress.write_dir(proofs, recordings, set() if args.configs else only)
        # the table only: the traces are in proofs/ and `fusever prove` shows them
        results = [r for o in outcomes for r in o.results]
        table = report.render_text(results).split("\n\n")[0]
        sys.stdout.write(table.rstrip("\n") + "\n")
        sys.stdout.write(f"recorded {len(written)} spec configuration(s) in {proofs}/\n")
        return EXIT_OK
    checked = [ts for ts in systems if ts.key in recorded]
    runs = _parallel(_check_recorded, [(ts, recorded[ts.key]) for ts in checked], args.jobs)
    changes = regress.missing(recorded, [ts.key for ts in systems])
    for ts, (now, _, _) in zip(checked, runs, strict=True):
        changes += regress.compare(recorded[ts.key], now)
    rechecked = sum(n for _, n, _ in runs)
    sys.stdout.write(regress.render(changes, len(checked), proofs, rechecked))
    return EXIT_FINDING if any(c.fatal for c in changes) else EXIT_OK


def _prove_certified(ts: TransitionSystem, options: Options) -> Outcome:
    from fusever import engines

    return engines.prove_certified(ts, options)


def _recheck(ts: TransitionSystem, certs: Sequence[Certificate]) -> bool:
    from fusever import certificate

    return all(certificate.recheck_many(ts, list(certs)))


def _check_recorded(
    ts: TransitionSystem, rec: regress.Recording
) -> tuple[regress.Recording, int, int]:
    """One recorded configuration, checked again: when the fingerprint is unchanged and
    every stored certificate still re-checks, the certified properties keep their
    recorded verdicts and only the others are searched (bmc, which gave their recorded
    verdicts); otherwise the recorded engine runs again on everything.  Returns the
    fresh recording, the certificates re-checked and the properties searched."""
    certified = [p for p in rec.properties if p.certificate is not None]
    certs = [p.certificate for p in certified if p.certificate is not None]
    if rec.fingerprint != regress.fingerprint(ts) or not certs or not _recheck(ts, certs):
        out = _prove_certified(ts, Options(depth=rec.depth, engine=rec.engine))
        now = regress.record(ts, out.results, rec.engine, rec.depth, out.certificates)
        return now, 0, len(out.results)
    kept = {p.name: p for p in certified}
    # the rest: BMC on every property, as when they were recorded, so the same shortest
    # traces come back (its choices depend on the goals it holds and on where its
    # chunks of depths end), cut at the first chunk end past the deepest recorded
    # trace, or at the recorded depth when a bounded verdict is among them; a trace
    # auto found past the depth gets a run to its own step
    from fusever.bmc import CHUNK

    recorded = {p.name: p for p in rec.properties}
    rest = [p.name for p in ts.properties if p.name not in kept]
    by_depth: dict[int, list[str]] = {}
    for name in rest:
        old = recorded.get(name)
        if old is None or old.step is None or old.verdict in (Verdict.PROVED, Verdict.UNREACHABLE):
            need = rec.depth
        elif old.step > rec.depth:
            need = old.step
        else:
            need = min(rec.depth, old.step + (CHUNK - 1 - old.step % CHUNK))
        by_depth.setdefault(need, []).append(name)
    if by_depth:  # one run to the deepest need within the depth serves them all
        within = max([d for d in by_depth if d <= rec.depth], default=None)
        if within is not None:
            by_depth = {
                **{d: n for d, n in by_depth.items() if d > rec.depth},
                within: [x for d, n in by_depth.items() if d <= rec.depth for x in n],
            }
    results = [
        r
        for depth, names in sorted(by_depth.items())
        for r in _prove(ts, Options(depth=depth, engine="bmc"))
        if r.property in names
    ]
    now = regress.record(ts, results, rec.engine, rec.depth)
    searched = {p.name: p for p in now.properties}
    props = tuple(kept[p.name] if p.name in kept else searched[p.name] for p in ts.properties)
    return replace(now, properties=props), len(certs), len(rest)


def _parallel(
    work: Callable[[TransitionSystem, _A], _B],
    jobs: Sequence[tuple[TransitionSystem, _A]],
    workers: int,
    local: Callable[[TransitionSystem, _A, Callable[[Progress], None] | None], _B] | None = None,
) -> list[_B]:
    """``work`` on each job, in processes when asked; results in ``jobs``' order, with a
    count of finished jobs on a terminal's stderr.  ``local``: ``work`` that also takes
    a progress callback, used when the jobs run in this process (the status line then
    follows each job's depth too)."""
    view = report.ProgressView(sys.stderr) if sys.stderr.isatty() else None
    with view if view is not None else nullcontext():
        if workers <= 1 or len(jobs) <= 1:
            out = []
            for i, (ts, arg) in enumerate(jobs):
                if local is not None:
                    out.append(local(ts, arg, view.update if view else None))
                else:
                    out.append(work(ts, arg))
                if view:
                    view.done(i + 1, len(jobs))
            return out
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            futures = {pool.submit(work, ts, arg): i for i, (ts, arg) in enumerate(jobs)}
            done: dict[int, _B] = {}
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                if view:
                    view.done(len(done), len(jobs))
            return [done[i] for i in range(len(jobs))]


def _cmd_findings(args: argparse.Namespace) -> int:
    recorded = regress.read_dir(args.proofs)
    if not recorded:
        raise UsageError(f"{args.proofs}/ holds no recorded proofs (run `fusever regress --record`)")
    paths = _discover(SPEC_DIR)
    systems = _load_configs(paths, (), [ALL_CONFIGS]) if paths else []
    section = findings.render(list(recorded.values()), {ts.key: ts for ts in systems})
    if args.write is None:
        sys.stdout.write(section)
        return EXIT_OK
    try:
        text = args.write.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {args.write}: {e.strerror or e}") from e
    spliced = findings.splice(text, section)
    if spliced is None:
        raise UsageError(
            f"{args.write} has no findings markers; add the lines\n  {findings.BEGIN}\n  {findings.END}"
        )
    args.write.write_text(spliced, encoding="utf-8")
    sys.stdout.write(f"wrote the findings of {len(recorded)} spec configuration(s) to {args.write}\n")
    return EXIT_OK


# ---- exploring: diff, mutate, explore (logic in their modules, output in report_explore) --


def _explore_parsers(sub: argparse._SubParsersAction[_Parser]) -> None:
    def common(p: argparse.ArgumentParser, config: bool = True) -> None:
        p.add_argument("--depth", type=_depth, metavar="K", help="steps to search (default: the spec's)")
        p.add_argument(
            "--set", dest="sets", type=_setting, action="append", default=[], metavar="NAME=VALUE",
            help="override a constant (repeatable)",
        )
        if config:
            p.add_argument("--config", metavar="NAME", help="a named configuration of the spec(s)")
        p.add_argument("--engine", choices=ENGINES, default="bmc", help="default: bmc")
        p.add_argument("--timeout", type=_seconds, metavar="S", help="seconds per check")

    d = sub.add_parser(
        "diff",
        help="the shortest action sequence after which two specs' observations differ",
        description=(
            "Run A and B in lockstep on the same actions with the same arguments and find the "
            "shortest sequence after which an observable (`observe` in the specs) differs."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("spec_a", metavar="A", help="a .fv file")
    d.add_argument("spec_b", metavar="B", help="a .fv file")
    common(d)
    d.add_argument(
        "--map", dest="maps", action="append", default=[], metavar="A_ACTION=B_ACTION",
        help="pair an action of A with a differently named action of B (repeatable)",
    )
    d.add_argument(
        "--enabled", choices=("differ", "both"), default="differ",
        help="differ (default): a step enabled on one side only is a difference; both: steps need both guards",
    )
    d.set_defaults(run=_cmd_diff)

    m = sub.add_parser(
        "mutate",
        help="how strong are the properties: small mutants of the actions, killed or not",
        description=(
            "Generate small mutants of the spec's actions (a comparison swapped, an assignment "
            "or a guard conjunct dropped, two statements swapped, a number off by one) and "
            "check each against the properties; survivors are compared with the original "
            "(fusever diff) to tell equivalent mutants apart."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("spec", metavar="SPEC", help="a .fv file")
    common(m)
    m.add_argument("--limit", type=_positive_int, metavar="N", help="at most N mutants, evenly spread")
    m.add_argument("--actions", metavar="A,B", help="mutate only these actions")
    m.add_argument(
        "--ghosts", action="store_true", help="mutate assignments to ghost state too"
    )
    m.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help="N processes")
    m.add_argument("--format", choices=("text", "json"), default="text")
    m.set_defaults(run=_cmd_mutate)

    x = sub.add_parser(
        "explore",
        help="every variant of a spec x every configuration x every property, as one matrix",
        description=(
            "Check BASE and every spec deriving from it (or the VARIANTs named), under the "
            "default and every named configuration, against every property: one matrix. "
            "Rows whose spec text, configuration, depth and engine did not change since the "
            "last run come from .fusever-cache/."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    x.add_argument("base", metavar="BASE", help="a spec name (under spec/) or a .fv file")
    x.add_argument("variants", nargs="*", metavar="VARIANT", help="only these variants")
    common(x, config=False)
    x.add_argument(
        "--config", dest="configs", action="append", default=[], metavar="NAME",
        help="only this configuration (repeatable; `default` is the default one)",
    )
    x.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help="N processes")
    x.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    x.add_argument(
        "--trace-dir", type=Path, metavar="DIR",
        help="write each violation as DIR/<spec>.<property>.itf.json; cells link to them",
    )
    x.add_argument("--no-cache", action="store_true", help="check every row again")
    x.set_defaults(run=_cmd_explore)


def _cmd_diff(args: argparse.Namespace) -> int:
    from fusever import diff, report_explore

    (a,) = _load([Path(args.spec_a)], args.sets, args.config)
    (b,) = _load([Path(args.spec_b)], args.sets, args.config)
    try:
        mapping = diff.parse_map(args.maps)
        result = diff.diff(
            a, b, args.depth, mapping, args.enabled, engine=args.engine, timeout=args.timeout
        )
    except diff.DiffError as e:
        raise UsageError(str(e)) from e
    except ValueError as e:  # an engine that does not exist (yet)
        raise UsageError(str(e)) from e
    sys.stdout.write(report_explore.render_diff(result, a, b))
    if result.verdict is Verdict.VIOLATED:
        return EXIT_FINDING
    return EXIT_UNKNOWN if result.verdict is Verdict.UNKNOWN else EXIT_OK


def _cmd_mutate(args: argparse.Namespace) -> int:
    import time

    from fusever import mutate, report_explore

    if args.engine not in ("bmc", "auto"):
        raise UsageError("mutate checks mutants with bmc only (--engine bmc)")
    (ts,) = _load([Path(args.spec)], args.sets, args.config)
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    try:
        everything = mutate.mutants(ts, actions, ghosts=args.ghosts)
        chosen = mutate.mutants(ts, actions, args.limit, ghosts=args.ghosts)
    except ValueError as e:
        raise UsageError(str(e)) from e
    depth = ts.depth if args.depth is None else args.depth
    start = time.monotonic()
    _, results = mutate.run(ts, chosen, depth, args.jobs, args.timeout)
    seconds = time.monotonic() - start
    if args.format == "json":
        sys.stdout.write(report_explore.mutants_json(ts.key, depth, results))
    else:
        sys.stdout.write(
            report_explore.render_mutants(ts.key, depth, results, len(everything), seconds)
        )
    return EXIT_OK


def _cmd_explore(args: argparse.Namespace) -> int:
    from fusever import explore, report_explore

    try:
        systems = explore.select(args.base, args.variants, SPEC_DIR, args.sets, args.configs)
        matrix = explore.explore(
            systems, args.base, SPEC_DIR, args.sets, args.depth, args.engine, args.timeout,
            args.jobs, None if args.no_cache else explore.CACHE_DIR,
        )
    except ValueError as e:
        raise UsageError(str(e)) from e
    results = [r for row in matrix.rows for r in row.results]
    trace_dir = None if args.trace_dir is None else str(args.trace_dir)
    if args.trace_dir is not None:
        by_key = {row.system.key: row.system for row in matrix.rows}
        _write_traces(args.trace_dir, [r for r in results if r.verdict is Verdict.VIOLATED], by_key)
    match args.format:
        case "json":
            sys.stdout.write(report_explore.matrix_json(matrix, trace_dir))
        case "markdown":
            sys.stdout.write(report_explore.render_matrix_markdown(matrix, trace_dir))
        case _:
            sys.stdout.write(report_explore.render_matrix_text(matrix, trace_dir))
    return exit_code(results)


# ---- entry point ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    try:
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
        return code
    except UsageError as e:
        print(f"fusever: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except SpecError as e:
        print(report.render_diagnostics(e.diagnostics), file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else EXIT_OK
    except KeyboardInterrupt:
        print("fusever: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:
        print(
            f"fusever: internal error: {type(e).__name__}: {e}\n"
            "This is a bug in fusever; please report it with the traceback below.",
            file=sys.stderr,
        )
        traceback.print_exc(file=sys.stderr)
        return EXIT_INTERNAL
