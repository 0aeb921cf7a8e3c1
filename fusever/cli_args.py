"""The command line's grammar and help: every command, flag and argument type of
``fusever``, and the help text (exit codes as the epilog).  It only builds the
parser; running a command is :mod:`fusever.cli`, which dispatches on ``command``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from fusever import __version__, explore, regression
from fusever.verdict import Engine

EPILOG = """\
exit codes:
  0  all as expected: no property violated, every cover goal covered,
     (regress) every recorded verdict unchanged
  1  a property violated, or a cover goal unreachable (the property it
     supports may hold vacuously); (regress) a recorded verdict changed
  2  a spec error, a bad flag or an unreadable file
  3  undecided: a timeout or an unknown solver answer, and nothing of 1;
     also an interrupted run (SIGINT or SIGTERM): the results decided so far
     are reported, the rest as "unknown (interrupted)", and no worker survives
  4  an internal error in fusever (a bug: please report the traceback)
"""

TRACE_FORMATS = ("text", "race", "mermaid", "html", "svg")  # report_trace.FORMATS
# every command that runs an engine offers all of them (engines.ENGINES)
PROVE_ENGINES = tuple(e.value for e in Engine)  # argparse refuses any other name (exit 2)


class UsageError(Exception):
    """A bad command line: ``fusever: error: ...``, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


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
_natural = _whole(0, "must be at least 0")
_depth = _whole(0, "must not be negative")


def _seconds(text: str) -> float:
    try:
        s = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of seconds") from None
    if not s > 0 or s == float("inf"):
        raise argparse.ArgumentTypeError(f"`{text}` must be a positive number of seconds")
    return s


def _percent(text: str) -> float:
    try:
        p = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a percentage") from None
    if not 0 <= p <= 100:
        raise argparse.ArgumentTypeError(f"`{text}` must be between 0 and 100")
    return p


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
    for add in (
        _prove_parser,
        _check_parser,
        _pin_parser,
        _regress_parser,
        _merges_parser,
        _diff_parser,
        _mutate_parser,
        _explore_parser,
        _show_parser,
        _findings_parser,
        _conform_parser,
        _simulate_parser,
        _review_parser,
    ):
        add(sub)
    return parser


# ---- one builder per command, and the arguments several share ------------------------

SPECS_HELP = ".fv files or spec names (default: every spec under spec/)"
SET_HELP = "override a constant (repeatable)"


def _command(
    sub: argparse._SubParsersAction[_Parser], name: str, help: str, description: str
) -> _Parser:
    """A command's parser, with the exit codes as its epilog."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_specs(p: argparse.ArgumentParser, help: str = SPECS_HELP) -> None:
    p.add_argument("specs", nargs="*", metavar="SPEC", help=help)


def _add_sets(p: argparse.ArgumentParser, help: str | None = SET_HELP) -> None:
    p.add_argument(
        "--set",
        dest="sets",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=help,
    )


def _add_configs(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument(
        "--config", dest="configs", action="append", default=[], metavar="NAME", help=help
    )


def _add_jobs(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help=help)
    p.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run the checks on the workers of the Dask scheduler at ADDRESS (tls://HOST:8786, "
        "or tcp:// on loopback; default: $FUSEVER_SCHEDULER, else this machine; needs "
        "`pip install 'fusever[dask]'`; docs/cluster.md)",
    )  # fmt: skip
    p.add_argument(
        "--allow-plain-tcp", action="store_true",
        help="--scheduler: allow unencrypted tcp:// to another machine (anyone on the network "
        "can then run code on the client and the workers)",
    )  # fmt: skip


def _prove_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    prove = _command(
        sub,
        "prove",
        "check every property of the specs",
        "Check every property of the specs (every .fv under spec/ when none is named).",
    )
    _add_specs(prove)
    prove.add_argument(
        "--depth", type=_depth, metavar="K",
        help="steps to search (default: the spec's): bmc, kind and auto show no trace "
        "longer than K, and a proof for all depths still counts; explicit and chc are not "
        "cut (they search until they decide, and their traces may be longer)",
    )  # fmt: skip
    _add_sets(prove)
    _add_configs(
        prove,
        "run under this configuration of the spec (repeatable; `default`: the spec's own; "
        "`all`: the default and every one)",
    )
    prove.add_argument(
        "--property",
        dest="properties",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this property (repeatable)",
    )
    prove.add_argument("--engine", choices=PROVE_ENGINES, default="auto", help="default: auto")
    prove.add_argument("--timeout", type=_seconds, metavar="S", help="seconds per spec")
    prove.add_argument(
        "--backend",
        choices=("python", "c"),
        default="python",
        help="with --engine explicit: its search in Python (default) or compiled C, same results",
    )
    prove.add_argument(
        "--state-limit",
        type=_positive_int,
        metavar="N",
        help="explicit engine: states visited at most, past it open goals are unknown (default 2000000)",
    )
    prove.add_argument(
        "--cross-check",
        action="store_true",
        help="with --engine explicit: also run BMC to the depth; any disagreement on a verdict "
        "or a shortest step is an internal error (exit 4)",
    )
    _prove_output_args(prove)
    _add_jobs(prove, "check N specs in parallel")


def _prove_output_args(prove: argparse.ArgumentParser) -> None:
    """prove's report and traces: --format to --ghosts."""
    prove.add_argument("--format", choices=("text", "json", "junit"), default="text")
    prove.add_argument(
        "--trace-dir",
        type=Path,
        metavar="DIR",
        help="write each violation and cover witness as DIR/<spec>.<property>.itf.json",
    )
    prove.add_argument(
        "--trace-format",
        dest="trace_formats",
        action="append",
        default=[],
        choices=TRACE_FORMATS,
        help="with --trace-dir, also write each trace as text, a race diagram (plain-text "
        "columns in the kernel's style, for a commit message), a Mermaid sequence diagram, "
        "a self-contained HTML page or an SVG (repeatable)",
    )
    prove.add_argument(
        "--output", type=Path, metavar="FILE",
        help="write the report to FILE, whole (never half-written when interrupted)",
    )  # fmt: skip
    prove.add_argument(
        "--witnesses", action="store_true", help="show cover witnesses' step tables too"
    )
    prove.add_argument(
        "--full", action="store_true", help="traces in full: the whole initial state, every change"
    )
    prove.add_argument("--ghosts", action="store_true", help="show ghost state in traces")


def _check_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    check = _command(
        sub,
        "check",
        "parse and check specs only",
        "Parse and check specs without running a solver.",
    )
    _add_specs(check)
    _add_sets(check)
    _add_configs(
        check,
        "check under this configuration of the spec (repeatable; `default`: the spec's own; "
        "`all`: the default and every one)",
    )
    check.add_argument(
        "--format", choices=("text", "json"), default="text",
        help="json: the diagnostics (file, line, column, end, message, notes) or what was "
        "checked, on stdout, for editors and scripts",
    )  # fmt: skip
    check.add_argument(
        "--update-pins", action="store_true",
        help="first write each variant's pins afresh (as `fusever pin`): the base's definitions "
        "it replaces or extends, as they are now",
    )  # fmt: skip


def _pin_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    pin = _command(
        sub,
        "pin",
        "record in each variant what its base's replaced definitions say now",
        'Write into each variant file one `pin KIND NAME "hash"` line for every base '
        "definition it replaces or extends: the hash of that definition as the base has it "
        "now.  `fusever check` warns, with the base's diff, when the base changes since.",
    )
    _add_specs(pin, ".fv files or spec names of variants (default: every spec under spec/)")


REGRESS_DESCRIPTION = (
    "Check every configuration recorded in proofs/ again and fail on any changed "
    "verdict.  A configuration whose transition system and engine code are both "
    "unchanged since recorded (their fingerprints) keeps its verdicts: running it "
    "again is the same computation (--rerun runs it anyway); a proof for all depths "
    "is re-checked from its stored certificate while the spec means the same; "
    "everything else is searched again.  --record rewrites proofs/ from the specs "
    "under spec/."
)


def _regress_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    reg = _command(sub, "regress", "re-check the verdicts recorded in proofs/", REGRESS_DESCRIPTION)
    _add_specs(reg, "only these specs: .fv files or spec names (default: every spec under spec/)")
    reg.add_argument("--record", action="store_true", help="rewrite proofs/ from a fresh run")
    reg.add_argument(
        "--engine", choices=PROVE_ENGINES, default=None,
        help="with --record: this engine for every configuration (default: the engine that "
        "recorded it; for a new one explicit, complete where its search ends within "
        f"{regression.RECORD_STATE_LIMIT:,} states, k-induction where it does not apply, "
        "BMC to the configuration's depth where it runs out of states)",
    )  # fmt: skip
    _add_configs(reg, "only this configuration (repeatable; `default`: the spec's own)")
    reg.add_argument("--proofs", type=Path, default=Path("proofs"), metavar="DIR")
    reg.add_argument(
        "--timeout", type=_seconds, metavar="S",
        help=f"seconds per configuration for re-checking its certificates (default "
        f"{regression.RECHECK_SECONDS:g}) and for a search: past it, a verdict is undecided (exit 3)",
    )  # fmt: skip
    _add_jobs(reg, "check N specs in parallel")
    _regress_merge_args(reg)


def _regress_merge_args(reg: argparse.ArgumentParser) -> None:
    """regress's --merge-engine to --no-merges (and --rerun among them)."""
    reg.add_argument(
        "--merge-engine", choices=PROVE_ENGINES, default=None, metavar="ENGINE",
        help="with --record: the engine that checks the step merges (default: explicit, "
        "bmc where it does not apply)",
    )  # fmt: skip
    reg.add_argument(
        "--merges-only", action="store_true",
        help="with --record: record the step merges only, against the verdicts proofs/ holds",
    )  # fmt: skip
    reg.add_argument(
        "--rerun", action="store_true",
        help="run every recorded configuration (and step merge) again, also those whose "
        "transition system and engine code are unchanged since recorded",
    )  # fmt: skip
    reg.add_argument(
        "--recheck-merges", action="store_true",
        help="check (or with --record, record) every step merge again, also those whose two "
        "forms and engine code are unchanged since recorded",
    )  # fmt: skip
    reg.add_argument(
        "--no-merges", action="store_true",
        help="leave the step merges (proofs/merges/) alone: neither checked nor recorded",
    )  # fmt: skip


def _merges_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    mrg = _command(
        sub,
        "merges",
        "check each step merge against its unmerged form",
        "For every `merge` a spec declares, in every configuration where it changes "
        "something: check the merged and the unmerged form with one engine and compare "
        "every property's verdict and the reachable observations.  Exit 1 when a merge "
        "disagrees, 3 when one is undecided.",
    )
    _add_specs(mrg)
    _add_configs(
        mrg, "only this configuration (repeatable; `default`: the spec's own; default: every one)"
    )
    mrg.add_argument(
        "--merge", dest="merges", action="append", default=[], metavar="NAME",
        help="only this merge (repeatable)",
    )  # fmt: skip
    mrg.add_argument(
        "--engine", choices=PROVE_ENGINES, default="explicit",
        help="default: explicit (complete), bmc where it does not apply (free starts of wide counters)",
    )  # fmt: skip
    mrg.add_argument(
        "--depth",
        type=_positive_int,
        metavar="K",
        help="the merged form's bound (default: the configuration's)",
    )
    _add_sets(mrg, None)
    _add_jobs(mrg, "check N merges in parallel")


def _show_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    show = _command(
        sub,
        "show",
        "render a saved trace (ITF, from --trace-dir) without solving again",
        "Render ITF traces written by --trace-dir as text, a race diagram, a Mermaid "
        "sequence diagram, a self-contained HTML page or an SVG.  The spec named in the trace is loaded "
        "(not solved) for actors, descriptions and defaults, when it can be.",
    )
    show.add_argument("traces", nargs="+", metavar="TRACE", help="*.itf.json files")
    show.add_argument("--format", choices=TRACE_FORMATS, default="text")
    show.add_argument("--full", action="store_true", help="text: the whole state, every change")
    show.add_argument("--ghosts", action="store_true", help="show ghost state")
    show.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write to FILE (one trace) instead of stdout",
    )


def _conform_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    con = _command(
        sub,
        "conform",
        "replay the model's traces on the kernel's own C functions",
        "Take the functions the patch touches from a kernel tree (its mapping, "
        "spec/<spec>.conform.toml, names them), compile them in userspace against "
        "fusever's shims with the system cc, and drive them with the model's traces: "
        "every counterexample and cover witness proofs/ records, and N random walks "
        "per configuration.  After every step the C state is compared with the "
        "model's; exit 1 on the first divergence of any trace, 2 when the tree lacks "
        "a function or field (or no C parser is installed: the `conform` extra).  "
        "docs/conformance.md says more.",
    )
    con.add_argument("spec", metavar="SPEC", help="a .fv file or a spec name")
    con.add_argument(
        "--kernel-tree", type=Path, required=True, metavar="DIR",
        help="the root of a kernel source tree (fs/fuse/*.c beneath it)",
    )  # fmt: skip
    _add_configs(con, "only this configuration (repeatable; `default` is the spec's own; "
                 "default: every configuration)")  # fmt: skip
    con.add_argument(
        "--traces", type=_natural, default=5, metavar="N",
        help="random walks per configuration, besides proofs/'s traces (default 5)",
    )  # fmt: skip
    con.add_argument("--seed", type=int, default=1, metavar="S", help="the walks' seed (default 1)")
    con.add_argument("--proofs", type=Path, default=Path("proofs"), metavar="DIR")
    con.add_argument(
        "--tables",
        action="store_true",
        help="every trace's step table, not only the diverging ones'",
    )


def _simulate_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    sim = _command(
        sub,
        "simulate",
        "random walks through a spec (interpreted, no solver)",
        "Take N random walks through the spec's transition system with the "
        "interpreter, each from an initial state and through enabled action "
        "instances chosen at random, deterministic per seed; print each walk's "
        "actions and which action instances were taken at least once.",
    )
    sim.add_argument("spec", metavar="SPEC", help="a .fv file or a spec name")
    sim.add_argument("--config", default=None, metavar="NAME", help="a configuration of the spec")
    _add_sets(sim)
    sim.add_argument(
        "--runs", type=_positive_int, default=10, metavar="N", help="walks (default 10)"
    )
    sim.add_argument("--seed", type=int, default=1, metavar="S", help="the seed (default 1)")
    sim.add_argument(
        "--length", type=_positive_int, default=None, metavar="K",
        help="steps per walk at most (default: the spec's depth)",
    )  # fmt: skip


def _findings_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    fnd = _command(
        sub,
        "findings",
        "the findings (README summary, docs/findings.md), from proofs/",
        "Print the findings generated from proofs/ (no solver runs): the full "
        "findings, or with --summary the README's short table; --write FILE "
        "(repeatable) replaces every findings section between its markers in FILE.",
    )
    fnd.add_argument("--proofs", type=Path, default=Path("proofs"), metavar="DIR")
    fnd.add_argument(
        "--write", type=Path, metavar="FILE", action="append", default=[],
        help="rewrite FILE's findings sections (README.md: the summary; docs/findings.md: all)",
    )  # fmt: skip
    fnd.add_argument("--summary", action="store_true", help="print the README's summary table")


def _review_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    rev = _command(
        sub,
        "review",
        "a one-page plain-text review of a spec from proofs/",
        "Print a one-page review of SPEC from proofs/ (no solver runs), at most 80 "
        "columns: per property where it holds and fails, its shortest counterexample "
        "as a race diagram, and which of the --against variants fix it.",
    )
    rev.add_argument("spec", metavar="SPEC", help="the spec file reviewed (spec/fuse_v2.fv)")
    rev.add_argument(
        "--against", nargs="+", default=[], metavar="OTHER",
        help="spec files (or names) compared: does each hold where SPEC fails?",
    )  # fmt: skip
    rev.add_argument("--proofs", type=Path, default=Path("proofs"), metavar="DIR")
    rev.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write the review to FILE"
    )  # fmt: skip


# ---- exploring: diff, mutate, explore, and the search flags they share ---------------


def _add_search_args(p: argparse.ArgumentParser, config: bool = True) -> None:
    """diff's, mutate's and explore's --depth, --set, --config, --engine and --timeout
    (explore has no --config here, and its own --engine)."""
    p.add_argument(
        "--depth", type=_depth, metavar="K", help="steps to search (default: the spec's)"
    )
    _add_sets(p)
    if config:
        p.add_argument("--config", metavar="NAME", help="a named configuration of the spec(s)")
        p.add_argument("--engine", choices=PROVE_ENGINES, default="bmc", help="default: bmc")
    else:
        p.add_argument(
            "--engine", choices=explore.ENGINES, default=explore.EXPLICIT_THEN_BMC,
            help=f"default: {explore.EXPLICIT_THEN_BMC}, the explicit search (complete where it "
            "exhausts the reachable states), then BMC to the depth for what it leaves unknown",
        )  # fmt: skip
    p.add_argument("--timeout", type=_seconds, metavar="S", help="seconds per check")


def _diff_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    d = _command(
        sub,
        "diff",
        "the shortest action sequence after which two specs' observations differ",
        "Run A and B in lockstep on the same actions with the same arguments and find the "
        "shortest sequence after which an observable (`observe` in the specs) differs.",
    )
    d.add_argument("spec_a", metavar="A", help="a .fv file or a spec name (under spec/)")
    d.add_argument("spec_b", metavar="B", help="a .fv file or a spec name (under spec/)")
    _add_search_args(d)
    d.add_argument(
        "--map",
        dest="maps",
        action="append",
        default=[],
        metavar="A_ACTION=B_ACTION",
        help="pair an action of A with a differently named action of B (repeatable)",
    )
    d.add_argument(
        "--enabled",
        choices=("differ", "both"),
        default="differ",
        help="differ (default): a step enabled on one side only is a difference; both: steps need both guards",
    )
    d.add_argument(
        "--pair-by", dest="pairing", choices=("name", "effect"), default="name",
        help="name (default): actions of the same name (and --map) only; effect: also pair the "
        "rest by the observables they change, and run those that change none alone",
    )  # fmt: skip
    d.add_argument(
        "--wide", action="store_true",
        help="the trace as a table, a column per kind of change (default: a line per step, 80 columns)",
    )  # fmt: skip


def _mutate_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    m = _command(
        sub,
        "mutate",
        "how strong are the properties: small mutants of the actions, killed or not",
        "Generate small mutants of the spec's actions (a comparison swapped, an assignment "
        "or a guard conjunct dropped, two statements swapped, a number off by one) and "
        "check each against the properties; survivors are compared with the original "
        "(fusever diff) to tell equivalent mutants apart.",
    )
    m.add_argument("spec", metavar="SPEC", help="a .fv file or a spec name (under spec/)")
    _add_search_args(m)
    m.add_argument(
        "--limit", type=_positive_int, metavar="N", help="at most N mutants, evenly spread"
    )
    m.add_argument("--actions", metavar="A,B", help="mutate only these actions")
    m.add_argument("--ghosts", action="store_true", help="mutate assignments to ghost state too")
    _add_jobs(m, "N processes")
    m.add_argument("--format", choices=("text", "json"), default="text")
    m.add_argument(
        "--fail-under", type=_percent, metavar="SCORE",
        help="exit 1 when the score (killed / (killed + survived), in percent) is below "
        "SCORE, or when no mutant counts (default: exit 0 whatever the score)",
    )  # fmt: skip


def _explore_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    x = _command(
        sub,
        "explore",
        "every variant of a spec x every configuration x every property, as one matrix",
        "Check BASE and every spec deriving from it (or the VARIANTs named), under the "
        "default and every named configuration, against every property: one matrix. "
        "Rows whose spec text, configuration, depth and engine did not change since the "
        "last run come from .fusever-cache/.",
    )
    x.add_argument("base", metavar="BASE", help="a spec name (under spec/) or a .fv file")
    x.add_argument("variants", nargs="*", metavar="VARIANT", help="only these variants")
    _add_search_args(x, config=False)
    _add_configs(x, "only this configuration (repeatable; `default` is the default one)")
    _add_jobs(x, "N processes")
    x.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    x.add_argument(
        "--wide", action="store_true",
        help="text: a column per property with the verdicts in words (default: 80 columns, "
        "numbered properties, abbreviated cells with a legend)",
    )  # fmt: skip
    x.add_argument(
        "--trace-dir",
        type=Path,
        metavar="DIR",
        help="write each violation as DIR/<spec>.<property>.itf.json; cells link to them",
    )
    x.add_argument("--no-cache", action="store_true", help="check every row again")
