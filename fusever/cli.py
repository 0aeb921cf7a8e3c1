"""The command line: running a command and its exit codes, no logic of its own.

The grammar and the help are :mod:`fusever.cli_args`; loading is :mod:`fusever.load`,
checking is :mod:`fusever.engines` (many checks at once, and interrupts,
:mod:`fusever.jobs`), the regress policy is :mod:`fusever.regression`; every line of
output is formatted by :mod:`fusever.report` (and :mod:`fusever.regress` for its diff).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from fusever import (
    claims,
    cli_traces,
    files,
    findings,
    jobs,
    regress,
    regress_merges,
    regression,
    report,
)
from fusever.cli_args import UsageError as UsageError  # re-exported: cli.UsageError
from fusever.cli_args import build_parser as build_parser  # re-exported: cli.build_parser
from fusever.diagnostics import Diagnostic, SpecError, did_you_mean
from fusever.executor import Local, Runner, Sink
from fusever.ts import TransitionSystem
from fusever.verdict import Engine, Options, Result, Verdict

# Exit codes: a public interface (README.md, `fusever --help`).
EXIT_OK = 0  # every property as expected: no violation, every cover goal covered
EXIT_FINDING = 1  # a property violated, a cover goal unreachable, or a recorded verdict changed
EXIT_USAGE = 2  # a spec error, a bad flag, an unreadable file
EXIT_UNKNOWN = 3  # undecided: a timeout or the solver gave up, and no finding
EXIT_INTERNAL = 4  # a bug in fusever (the traceback is printed)

SPEC_DIR = Path("spec")
PROOFS_DIR = Path("proofs")  # where prove looks for the recorded checks of the merges


# ---- the stages the CLI drives (indirections keep z3 out of `fusever check`) ------------


def _discover(directory: Path) -> list[Path]:
    from fusever import load

    return load.discover(directory)


def _resolve(specs: Sequence[str]) -> list[Path]:
    """Each spec as the user named it: a path, or a bare name of a spec under spec/."""
    from fusever import load

    return [load.resolve(s, SPEC_DIR) for s in specs]


def _load(
    paths: Sequence[Path], sets: Sequence[str], config: str | None = None, all_configs: bool = False
) -> tuple[TransitionSystem, ...]:
    from fusever import load

    if config == DEFAULT_CONFIG:  # `--config default`: the spec's own, on every command
        config = None
    return load.load_specs(paths, sets, config, all_configs=all_configs)


ALL_CONFIGS = "all"
DEFAULT_CONFIG = "default"  # regress --config: the spec's own configuration


def _load_configs(
    paths: Sequence[Path], sets: Sequence[str], configs: Sequence[str]
) -> list[TransitionSystem]:
    """Each spec under each configuration asked for, spec by spec: none asked for is
    the default configuration, and so is ``default`` (as ``regress --config default``);
    ``all`` is the default and every configuration."""
    systems = _load(paths, sets)
    if not configs:
        return list(systems)
    out: list[TransitionSystem] = []
    for ts in systems:
        names = list(dict.fromkeys(configs))
        if ALL_CONFIGS in names:
            names = [DEFAULT_CONFIG, *(n for n, _ in ts.configs)]
        for name in dict.fromkeys(names):
            if name == DEFAULT_CONFIG:
                out.append(ts)
            else:
                out.extend(_load([Path(ts.path)], sets, name))
    return out


# ---- where the checks run --------------------------------------------------------------

SCHEDULER_ENV = "FUSEVER_SCHEDULER"  # --scheduler's default


def _sink() -> Callable[[], Sink] | None:
    """The status line on a terminal's stderr (none when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        return None
    return lambda: report.ProgressView(sys.stderr)


@contextmanager
def _where(args: argparse.Namespace) -> Iterator[Runner]:
    """Where a command's checks run: ``--jobs`` processes here, or the workers of the
    Dask scheduler ``--scheduler`` (or ``$FUSEVER_SCHEDULER``) names.  A cluster that
    cannot be used is a usage error (exit 2); a scheduler lost mid-run stops it as an
    interrupt does (exit 3, what was decided kept), and says so."""
    address = args.scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address is None:
        yield Local(args.jobs, _sink())
        return
    from fusever import cluster

    try:
        with cluster.connect(address, allow_plain=args.allow_plain_tcp, sink=_sink()) as c:
            try:
                yield c
            finally:
                if c.lost is not None:
                    sys.stderr.write(f"fusever: {c.lost}\n")
    except cluster.ClusterError as e:
        raise UsageError(str(e)) from None


# ---- commands ----------------------------------------------------------------------


def _spec_paths(named: Sequence[str]) -> list[Path]:
    if named:
        return _resolve(named)
    paths = _discover(SPEC_DIR)
    if not paths:
        raise UsageError(f"no SPEC given and {SPEC_DIR}/ holds no .fv files")
    return paths


def _pins(paths: Sequence[Path], update: bool) -> list[str]:
    """Each variant's pins compared with its base (``update``: written afresh first);
    the warnings to show, one per stale or orphan pin."""
    from fusever import load, pins

    out: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for pool in load.pools(paths, SPEC_DIR):
        if update and pool[0].base is not None:
            found = pins.status(pool, history=False)
            new = pins.rewrite(pool[0], found)
            if new != pool[0].text:
                files.write_atomic(Path(pool[0].path), new)
                sys.stderr.write(f"fusever: pinned {pool[0].path}\n")
            pool = load.pools([Path(pool[0].path)], SPEC_DIR)[0]
        for p in pins.status(pool):
            if (p.spec, p.kind, p.name) not in seen and p.state in ("stale", "orphan"):
                seen.add((p.spec, p.kind, p.name))
                out.append(report.render_pin(p, {f.path: f.text for f in pool}))
    return out


def _cmd_pin(args: argparse.Namespace) -> int:
    paths = _spec_paths(args.specs)
    for warning in _pins(paths, update=True):
        sys.stderr.write(warning + "\n")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    start = time.monotonic()
    if args.update_pins or args.format != "json":
        try:
            warnings = _pins(_spec_paths(args.specs), args.update_pins)
        except SpecError:
            warnings = []  # the check below reports why
        for warning in warnings:
            sys.stderr.write(warning + "\n")
    try:
        if args.configs:
            paths = _spec_paths(args.specs)
            # every configuration's values are checked, not only those asked for
            _load(paths, args.sets, all_configs=True)
            systems = _load_configs(paths, args.sets, args.configs)
        else:
            # every configuration too (on the files parsed once): a `set` that breaks the
            # spec is reported here, at its line
            systems = list(_load(_spec_paths(args.specs), args.sets, all_configs=True))
    except SpecError as e:
        if args.format != "json":
            raise
        sys.stdout.write(report.diagnostics_json(e.diagnostics))
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(report.checked_json(systems))
        return EXIT_OK
    sys.stdout.write(report.render_checked(systems))
    sys.stdout.write(report.checked_summary(len(systems), time.monotonic() - start))
    return EXIT_OK


def _options_for(ts: TransitionSystem, args: argparse.Namespace) -> Options | None:
    """The options for one spec; None when it has none of the named properties."""
    if args.cross_check and args.engine != "explicit":
        raise UsageError("--cross-check goes with --engine explicit")
    props: tuple[str, ...] | None = None
    if args.properties:
        have = {p.name for p in ts.properties}
        props = tuple(dict.fromkeys(p for p in args.properties if p in have))
        if not props:
            return None
    return Options(
        depth=args.depth, properties=props, timeout=args.timeout, engine=Engine.named(args.engine),
        state_limit=args.state_limit, cross_check=args.cross_check,
    )  # fmt: skip


def _backend(backend: str, engine: str) -> None:
    """The explicit engine's backend for this run and its workers; with ``c`` and no C
    compiler, one line says the Python engine runs instead."""
    if backend != "python" and engine != "explicit":
        raise UsageError("--backend c goes with --engine explicit")
    from fusever import cexplicit, cload  # the engines are imported when a command runs them

    os.environ[cexplicit.BACKEND_ENV] = backend
    if backend == "c" and cload.compiler() is None:
        sys.stderr.write("fusever: no C compiler found (set CC): the Python explicit engine runs\n")


def _check_property_names(names: Sequence[str], systems: Sequence[TransitionSystem]) -> None:
    known = {p.name for ts in systems for p in ts.properties}
    for name in names:
        if name not in known:
            raise UsageError(f"no spec has a property `{name}`{did_you_mean(name, known)}")


def exit_code(results: Sequence[Result]) -> int:
    """1 for a finding (a violation, an unreachable cover goal), else 3 when anything is
    undecided, else 0: a definite finding outranks an open question."""
    if any(report.is_finding(r) for r in results):
        return EXIT_FINDING
    if any(r.verdict is Verdict.UNKNOWN for r in results):
        return EXIT_UNKNOWN
    return EXIT_OK


def _cmd_prove(args: argparse.Namespace) -> int:
    start = time.monotonic()
    systems = _load_configs(_spec_paths(args.specs), args.sets, args.configs)
    _check_property_names(args.properties, systems)
    if args.trace_dir is not None:
        _writable(args.trace_dir, "--trace-dir")
    if args.output is not None:
        _writable(args.output.parent, "--output")
    work = [(ts, o) for ts in systems if (o := _options_for(ts, args)) is not None]
    _backend(args.backend, args.engine)
    if args.timeout is not None:
        # the time the specs took to load and check counts against --timeout (issue 28)
        left = max(args.timeout - (time.monotonic() - start), 0.0)
        work = [(ts, dataclasses.replace(o, timeout=left)) for ts, o in work]
    with _where(args) as where:
        proved = jobs.prove_all(work, where)
    # a bound held only because an unbounded engine ran out of time: undecided (exit 3)
    results, interrupted = [report.undecided(r) for r in proved.results], proved.interrupted
    by_name = {ts.key: ts for ts in systems}
    written: list[Path] = []
    if args.trace_dir is not None:
        written = cli_traces.write_traces(
            args.trace_dir, results, by_name, args.trace_formats, args.full, args.ghosts
        )
    elif args.trace_formats:
        raise UsageError("--trace-format needs --trace-dir (where the files go)")
    # machine output (or a report written to --output) keeps stdout to itself: what was
    # written and the summary go to stderr
    tail = sys.stdout if args.format == "text" and args.output is None else sys.stderr
    match args.format:
        case "json":
            text = report.render_json(results, by_name)
        case "junit":
            text = report.render_junit(results, by_name)
        case _:
            tty = sys.stdout.isatty() and args.output is None
            width = shutil.get_terminal_size().columns
            relies = [regress_merges.reliance(ts, PROOFS_DIR) for ts in systems if ts.merges]
            text = report.render_text(
                results, by_name, witnesses=args.witnesses, tty=tty, width=width,
                full=args.full, ghosts=args.ghosts, relies=relies,
            )  # fmt: skip
    cli_traces.emit(text, args.output)
    if tail is sys.stdout:
        tail.write("\n")
    if args.trace_dir is not None:
        tail.write(
            report.wrote_lines([str(p) for p in written])
            or f"no traces to write to {args.trace_dir}\n"
        )
    code = EXIT_UNKNOWN if interrupted else exit_code(results)
    if interrupted:
        sys.stderr.write("fusever: interrupted: results decided before it are above\n")
    tail.write(report.summary_line(results, time.monotonic() - start, code))
    return code


def _cmd_regress(args: argparse.Namespace) -> int:
    start = time.monotonic()
    with _where(args) as where:
        code = _regress(args, where)
    meaning = "a recorded verdict changed" if code == EXIT_FINDING else None
    sys.stdout.write(report.exit_summary("regress", time.monotonic() - start, code, meaning))
    return code


def _regress(args: argparse.Namespace, where: Runner) -> int:
    proofs: Path = args.proofs
    if args.record:
        # a tree it cannot write is refused before anything is loaded
        _writable(proofs, "regress --record")
    paths = _resolve(args.specs) if args.specs else _discover(SPEC_DIR)
    _say(f"loading {len(paths)} spec(s) under every configuration")
    systems = _load_configs(paths, (), [ALL_CONFIGS]) if paths else []
    systems = _only_configs(systems, args.configs)
    named = {"specs_named": bool(args.specs), "configs_named": bool(args.configs)}
    recorded = regression.recordings(proofs, systems, **named)
    if args.record and args.merges_only:
        # the step merges alone, against the verdicts proofs/ already records
        return _record_merges(systems, proofs, recorded, args, where)
    if args.record:
        try:
            done = regression.record(systems, proofs, args.engine, where, **named, before=recorded)
        except regression.Unwritable as e:
            raise UsageError(str(e)) from e
        # the table only: the traces are in proofs/ and `fusever prove` shows them
        table = report.render_text(list(done.results)).split("\n\n")[0]
        sys.stdout.write(table.rstrip("\n") + "\n")
        sys.stdout.write(f"recorded {len(done.written)} spec configuration(s) in {proofs}/\n")
        if args.no_merges or not any(ts.merges for ts in systems):
            return EXIT_OK
        return _record_merges(systems, proofs, {r.key: r for r in done.recordings}, args, where)
    if systems and not any(proofs.glob("*.toml")):  # not parsed: another's may be corrupt
        # a first run (a fresh tree, pre-commit's first commit): nothing changed, there
        # is nothing recorded yet to compare with
        raise UsageError(
            f"{proofs}/ holds no recorded verdicts yet: run `fusever regress --record` "
            f"once to record them (and commit {proofs}/); regress then checks them"
        )
    checked = regression.check_all(
        systems, recorded, proofs, workers=where, timeout=args.timeout, rerun=args.rerun,
        merges=not args.no_merges, recheck_merges=args.recheck_merges, say=_say,
    )  # fmt: skip
    sys.stdout.write(
        regress.render(checked.changes, checked.checked, proofs, checked.rechecked, checked.kept)
    )
    if checked.fatal:
        return EXIT_FINDING
    return EXIT_UNKNOWN if checked.undecided else EXIT_OK


def _say(what: str) -> None:
    """What a long command is doing, a line on stderr (``regress`` ran minutes silent)."""
    sys.stderr.write(f"regress: {what}\n")
    sys.stderr.flush()


def _record_merges(
    systems: Sequence[TransitionSystem],
    proofs: Path,
    recorded: Mapping[str, regress.Recording],
    args: argparse.Namespace,
    where: Runner,
) -> int:
    """regress --record's step merges, against the verdicts ``recorded``."""
    # a merge check whose two forms and engine code are unchanged is kept, as regress
    # keeps it; --recheck-merges, --rerun or a chosen --merge-engine runs it again
    again = args.recheck_merges or args.rerun or args.merge_engine is not None
    changes = regression.check_merges(
        systems, proofs, recorded, args.merge_engine, where, True, again
    )
    sys.stdout.write(
        f"recorded the step merges of {len(systems)} spec configuration(s) in {proofs}/{regress_merges.MERGES_DIR}/\n"
    )
    for c in changes:
        sys.stdout.write(f"{c}\n")
    return EXIT_FINDING if any(c.fatal for c in changes) else EXIT_OK


def _only_configs(systems: list[TransitionSystem], names: Sequence[str]) -> list[TransitionSystem]:
    """Only the configurations named (`default`: a spec's own; none or `all`: every one)."""
    wanted = set(names) - {ALL_CONFIGS}
    if not wanted:
        return systems
    known = {ts.config or DEFAULT_CONFIG for ts in systems}
    for name in names:
        if name not in known and name != ALL_CONFIGS:
            raise UsageError(
                f"--config: no spec has a configuration `{name}`{did_you_mean(name, known)}"
            )
    return [ts for ts in systems if (ts.config or DEFAULT_CONFIG) in wanted]


def _cmd_merges(args: argparse.Namespace) -> int:
    paths = _spec_paths(args.specs)
    systems = _only_configs(_load_configs(paths, args.sets, [ALL_CONFIGS]), args.configs)
    for name in args.merges:
        if not any(name in dict(ts.merges) for ts in systems):
            known = {n for ts in systems for n, _ in ts.merges}
            raise UsageError(
                f"--merge: no spec declares a merge `{name}`{did_you_mean(name, known)}"
            )
    engine = Engine.named(args.engine)
    limit = regression.MERGE_STATE_LIMIT if engine is Engine.EXPLICIT else None
    options = Options(depth=args.depth, engine=engine, state_limit=limit)
    work = [
        (ts, (name, options, tuple(args.sets)))
        for ts in systems
        for name, _ in ts.merges
        if not args.merges or name in args.merges
    ]
    with _where(args) as where:
        checks = jobs.parallel(jobs.check_merge, work, where, files=True)
    from fusever import report_explore

    sys.stdout.write(report_explore.render_merges(checks))
    verdicts = {c.verdict for c in checks}
    if "disagree" in verdicts:
        return EXIT_FINDING
    return EXIT_UNKNOWN if "unknown" in verdicts else EXIT_OK


def _writable(directory: Path, command: str) -> None:
    """A usage error (exit 2) before any work when ``command`` could not write its
    files in ``directory`` (a read-only checkout), instead of a crash at the end."""
    why = files.unwritable(directory)
    if why is not None:
        raise UsageError(f"{command}: {why}")


def _cmd_findings(args: argparse.Namespace) -> int:
    for target in args.write:
        _writable(target.parent, "findings --write")
    recorded = regress.read_dir(args.proofs)
    if not recorded:
        raise UsageError(
            f"{args.proofs}/ holds no recorded proofs (run `fusever regress --record`)"
        )
    paths = _discover(SPEC_DIR)
    systems = _load_configs(paths, (), [ALL_CONFIGS]) if paths else []
    specs = {ts.key: ts for ts in systems}
    # publish nothing that no engine wrote for the spec as it is (fusever.claims)
    wrong = [
        Diagnostic(None, f"{args.proofs}/{key}.toml: {w.property or key}: {w.message}")
        for key, rec in sorted(recorded.items())
        if key in specs
        for w in claims.problems(rec, specs[key])
    ]
    if wrong:
        raise SpecError(wrong)
    if not args.write:
        if args.summary:
            sys.stdout.write(findings.render_summary(list(recorded.values())))
        else:
            sys.stdout.write(findings.render(list(recorded.values()), specs))
        return EXIT_OK
    for target in args.write:
        try:
            text = target.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read {target}: {e.strerror or e}") from e
        spliced = findings.splice_all(text, list(recorded.values()), specs)
        if spliced is None:
            raise UsageError(
                f"{target} has no findings markers; add the lines\n  {findings.SUMMARY_BEGIN}\n"
                f"  {findings.SUMMARY_END}\n(the summary) or\n  {findings.BEGIN}\n  {findings.END}\n"
                "(the full findings)"
            )
        try:
            files.write_atomic(target, spliced)
            if findings.SUMMARY_BEGIN in text:  # the diagrams the summary links to
                traces = target.parent / findings.TRACES_DIR
                traces.mkdir(parents=True, exist_ok=True)
                made = findings.diagrams(list(recorded.values()), specs)
                names = {name for name, _, _ in made.values()}
                for old in traces.glob("*.md"):
                    if old.name not in names:
                        old.unlink()
                for name, body, _ in made.values():
                    files.write_atomic(traces / name, body)
                sys.stdout.write(f"wrote {len(made)} diagram(s) to {traces}/\n")
                _draw_headline(text, made, target.parent)
        except OSError as e:
            raise UsageError(f"cannot write {target}: {e.strerror or e}") from e
        sys.stdout.write(
            f"wrote the findings of {len(recorded)} spec configuration(s) to {target}\n"
        )
    return EXIT_OK


def _draw_headline(
    document: str, made: Mapping[tuple[str, str], tuple[str, str, int]], root: Path
) -> None:
    """The document's picture (``<!-- headline diagram: SPEC.PROPERTY -->``) drawn by
    Mermaid in headless Chromium, when its diagram changed since it was drawn; a
    note, not an error, when the browser or the Mermaid script is missing."""
    from fusever import mermaid_svg

    wanted = findings.headline(document)
    if wanted is None or wanted not in made:
        return
    source = findings.mermaid_source(made[wanted][1])
    if source is None:
        return
    path = root / findings.HEADLINE_SVG
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        old = ""
    if mermaid_svg.drawn_from(old) == mermaid_svg.source_hash(source):
        return
    try:
        svg = mermaid_svg.render(source, root)
    except mermaid_svg.Unavailable as e:
        print(f"fusever: note: {path} not redrawn: {e}", file=sys.stderr)
        return
    files.write_atomic(path, svg)
    sys.stdout.write(f"wrote {path}\n")


def _cmd_review(args: argparse.Namespace) -> int:
    from fusever import report_review, review

    recorded = list(regress.read_dir(args.proofs).values())
    if not recorded:
        raise UsageError(
            f"{args.proofs}/ holds no recorded proofs (run `fusever regress --record`)"
        )
    path = Path(args.spec)
    if not path.is_file():
        raise UsageError(f"cannot read {args.spec}: no such spec file")
    systems = {ts.key: ts for ts in _load_configs([path], (), [ALL_CONFIGS])}
    name = next(iter(systems.values())).name
    others = [Path(o).stem if o.endswith(".fv") else o for o in args.against]
    known = {r.spec for r in recorded}
    for other in [name, *others]:
        if other not in known:
            raise UsageError(f"{args.proofs}/ has no recordings of {other}")
    rv = review.review(name, recorded, systems, others)
    text = report_review.render_review(rv, args.spec)
    cli_traces.emit(text, args.output)
    if args.output is not None:
        sys.stdout.write(f"wrote {args.output}\n")
    return EXIT_OK


# ---- exploring: diff, mutate, explore (logic in their modules, output in report_explore) --


def _cmd_conform(args: argparse.Namespace) -> int:
    from fusever import conform_build, conform_data, conform_extract, conform_run, report_conform

    paths = _resolve([args.spec])
    base = [ts for ts in _load(paths, ()) if ts.path == str(paths[0])]
    if not base:
        raise UsageError(f"{paths[0]}: no spec loaded")
    known = ["default", *(n for n, _ in base[0].configs)]
    for name in args.configs:
        if name not in known:
            raise UsageError(
                f"spec `{base[0].name}` has no configuration `{name}`{did_you_mean(name, known)}"
                f" (it has: {', '.join(known)})"
            )
    wanted = list(dict.fromkeys(args.configs)) or known
    systems = [
        base[0]
        if n == "default"
        else next(t for t in _load(paths, (), n) if t.path == base[0].path)
        for n in known
        if n in wanted
    ]
    if not args.kernel_tree.is_dir():
        raise UsageError(f"--kernel-tree {args.kernel_tree}: not a directory")
    try:
        mapping = conform_data.load_mapping(conform_data.find_mapping(paths[0], systems[0].lineage))
        checker = conform_run.Conformance(mapping, args.kernel_tree)
        recorded = regress.read_dir(args.proofs, [systems[0].name])
        result = checker.run(systems, recorded, args.traces, args.seed)
    except (
        conform_data.MappingError, conform_extract.ExtractError, conform_build.BuildError
    ) as e:  # fmt: skip
        raise UsageError(str(e)) from None
    sys.stdout.write(report_conform.render_conform(result, args.tables))
    return EXIT_FINDING if result.divergent else EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    from fusever import report_conform, simulate

    ts = _load(_resolve([args.spec]), args.sets, args.config)[0]
    try:
        sim = simulate.simulate(ts, args.runs, args.seed, args.length)
    except simulate.NoInitialState as e:
        raise UsageError(str(e)) from None
    runs = [
        [simulate.call_text(s.action, s.args) for s in t.steps if s.action is not None]
        for t in sim.traces
    ]
    sys.stdout.write(
        report_conform.render_simulation(
            ts.name, sim.config, sim.seed, runs, sim.taken, sim.instances, sim.enabled
        )
    )
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from fusever import diff, report_explore

    start = time.monotonic()
    (a,) = _load(_resolve([args.spec_a]), args.sets, args.config)
    (b,) = _load(_resolve([args.spec_b]), args.sets, args.config)
    try:
        mapping = diff.parse_map(args.maps)
        result = diff.diff(
            a,
            b,
            args.depth,
            mapping,
            args.enabled,
            engine=args.engine,
            timeout=args.timeout,
            pairing=args.pairing,
        )
    except diff.DiffError as e:
        raise UsageError(str(e)) from e
    except ValueError as e:  # an engine that does not exist (yet)
        raise UsageError(str(e)) from e
    sys.stdout.write(report_explore.render_diff(result, a, b, wide=args.wide))
    code = EXIT_FINDING if result.verdict is Verdict.VIOLATED else EXIT_OK
    code = EXIT_UNKNOWN if result.verdict is Verdict.UNKNOWN else code
    what = {EXIT_FINDING: "observations differ", EXIT_OK: "no difference found"}
    sys.stdout.write(
        report.exit_summary(what.get(code, "undecided"), time.monotonic() - start, code)
    )
    return code


def _cmd_mutate(args: argparse.Namespace) -> int:
    from fusever import mutate, report_explore

    if args.engine not in ("bmc", "auto"):
        raise UsageError("mutate checks mutants with bmc only (--engine bmc)")
    (ts,) = _load(_resolve([args.spec]), args.sets, args.config)
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    depth = ts.depth if args.depth is None else args.depth
    start = time.monotonic()
    try:
        everything = mutate.mutants(ts, actions, ghosts=args.ghosts)
        # the limit goes to actions the configuration enables (the others' mutants
        # cannot change a run, so they say nothing about the properties)
        dead = mutate.dead_actions(ts, [m.action for m in everything], depth)
        chosen = mutate.mutants(ts, actions, args.limit, ghosts=args.ghosts, dead=dead)
    except ValueError as e:
        raise UsageError(str(e)) from e
    with _where(args) as where:
        _, results = mutate.run(ts, chosen, depth, where, args.timeout, dead=dead)
    seconds = time.monotonic() - start
    code = EXIT_OK
    if args.fail_under is not None:
        _, _, ratio = mutate.score(results)
        if ratio is None or 100 * ratio < args.fail_under:
            code = EXIT_FINDING
    if args.format == "json":
        sys.stdout.write(report_explore.mutants_json(ts.key, depth, results))
    else:
        sys.stdout.write(
            report_explore.render_mutants(ts.key, depth, results, len(everything), seconds)
        )
        meaning = f"the score is below --fail-under {args.fail_under:g}%" if code else None
        what = f"{len(results)} mutant(s) checked"
        sys.stdout.write(report.exit_summary(what, seconds, code, meaning))
    return code


def _cmd_explore(args: argparse.Namespace) -> int:
    from fusever import explore, report_explore

    start = time.monotonic()
    if args.trace_dir is not None:
        _writable(args.trace_dir, "--trace-dir")
    interrupted = False
    try:
        systems = explore.select(args.base, args.variants, SPEC_DIR, args.sets, args.configs)
        with _where(args) as where:
            matrix = explore.explore(
                systems,
                args.base,
                SPEC_DIR,
                args.sets,
                args.depth,
                args.engine,
                args.timeout,
                where,
                None if args.no_cache else explore.CACHE_DIR,
            )
    except ValueError as e:
        raise UsageError(str(e)) from e
    except explore.Interrupted as e:  # the rows finished, the rest unknown (interrupted)
        matrix, interrupted = e.matrix, True
    for warning in matrix.warnings:
        sys.stderr.write(f"fusever: warning: {warning}\n")
    results = [r for row in matrix.rows for r in row.results]
    trace_dir = None if args.trace_dir is None else str(args.trace_dir)
    if args.trace_dir is not None:
        by_key = {row.system.key: row.system for row in matrix.rows}
        cli_traces.write_traces(
            args.trace_dir, [r for r in results if r.verdict is Verdict.VIOLATED], by_key
        )
    match args.format:
        case "json":
            sys.stdout.write(report_explore.matrix_json(matrix, trace_dir))
        case "markdown":
            sys.stdout.write(report_explore.render_matrix_markdown(matrix, trace_dir))
        case _ if args.wide:
            sys.stdout.write(report_explore.render_matrix_text(matrix, trace_dir))
        case _:
            sys.stdout.write(report_explore.render_matrix_compact(matrix, trace_dir))
    code = EXIT_UNKNOWN if interrupted else exit_code(results)
    if interrupted:
        sys.stderr.write("fusever: interrupted: the rows finished before it are above\n")
    tail = sys.stdout if args.format == "text" else sys.stderr
    tail.write(report.summary_line(results, time.monotonic() - start, code))
    return code


# ---- entry point ---------------------------------------------------------------------

# What each command of cli_args.build_parser runs (its parser sets `command`).
COMMANDS: Mapping[str, Callable[[argparse.Namespace], int]] = {
    "prove": _cmd_prove,
    "check": _cmd_check,
    "pin": _cmd_pin,
    "regress": _cmd_regress,
    "merges": _cmd_merges,
    "diff": _cmd_diff,
    "mutate": _cmd_mutate,
    "explore": _cmd_explore,
    "show": cli_traces.cmd_show,
    "findings": _cmd_findings,
    "conform": _cmd_conform,
    "simulate": _cmd_simulate,
    "review": _cmd_review,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    try:
        args = build_parser().parse_args(argv)
        with jobs.signals():
            code = COMMANDS[args.command](args)
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
        return EXIT_UNKNOWN
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
