"""Golden CLI tests: the command, its output and its exit code, run in-process through
``fusever.cli.main``.  The first part replaces the loader and the engine by fakes, so it
pins the CLI's own behaviour; the second runs the real pipeline on docs/examples."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from report_fakes import fake_results, fake_ts, result

from fusever import cli, jobs
from fusever.diagnostics import Diagnostic, SpecError
from fusever.engines import Outcome
from fusever.syntax import Span
from fusever.ts import PropKind, TransitionSystem
from fusever.verdict import Options, Progress, Result, Verdict

Run = Callable[..., tuple[int, str, str]]


class FakeEngine:
    """Stands in for load and engines: records what the CLI asked for."""

    def __init__(self, systems: Sequence[TransitionSystem], results: dict[str, tuple[Result, ...]]):
        self.systems = tuple(systems)
        self.results = results
        self.loaded: list[tuple[list[Path], list[str]]] = []
        self.options: list[tuple[str, Options]] = []

    def load(
        self,
        paths: Sequence[Path],
        sets: Sequence[str],
        config: str | None = None,
        all_configs: bool = False,
    ) -> tuple[TransitionSystem, ...]:
        self.loaded.append((list(paths), list(sets)))
        for p in paths:
            if not str(p).endswith(".fv"):
                raise SpecError([Diagnostic(None, f"{p}: not a .fv file")])
        return self.systems

    def prove(
        self,
        ts: TransitionSystem,
        options: Options,
        progress: Callable[[Progress], None] | None = None,
    ) -> tuple[Result, ...]:
        self.options.append((ts.name, options))
        if options.engine not in ("bmc", "auto", "explicit"):
            raise ValueError(f"unknown engine `{options.engine}`")
        rs = self.results[ts.name]
        if options.properties is not None:
            rs = tuple(r for r in rs if r.property in options.properties)
        if options.depth is not None:
            rs = tuple(replace(r, bound=options.depth) for r in rs)
        return rs

    def prove_certified(self, ts: TransitionSystem, options: Options) -> Outcome:
        return Outcome(self.prove(ts, options), ())

    def install(self, monkeypatch: pytest.MonkeyPatch, discover: bool = True) -> FakeEngine:
        """Put this fake in place of the loader and the engines (and, with ``discover``,
        of the spec directory's listing: one ``counter.fv``)."""
        monkeypatch.setattr(cli, "_load", self.load)
        monkeypatch.setattr(jobs, "prove", self.prove)
        monkeypatch.setattr(jobs, "prove_certified", self.prove_certified)
        if discover:
            monkeypatch.setattr(cli, "_discover", lambda d: [Path(d) / "counter.fv"])
        return self


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    return FakeEngine([fake_ts()], {"counter": fake_results()}).install(monkeypatch)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def go(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return go


def test_prove_text_and_exit_1_on_a_violation(engine: FakeEngine, run: Run) -> None:
    code, out, err = run("prove", "spec/counter.fv")
    assert code == 1
    assert err == ""
    assert out.splitlines()[:5] == [
        "spec     property   verdict             depth  seconds",
        "-------  ---------  ------------------  -----  -------",
        "counter  no_wrap    violated at step 3     10     0.25",
        "counter  monotonic  proved (10 steps)      10     0.25",
        "counter  opens      covered at step 3      10     0.25",
    ]
    assert "counter / no_wrap: violated at step 3" in out
    assert engine.loaded == [([Path("spec/counter.fv")], [])]


def test_prove_without_specs_discovers_spec_dir(engine: FakeEngine, run: Run) -> None:
    code, _, _ = run("prove")
    assert code == 1
    assert engine.loaded == [([Path("spec/counter.fv")], [])]


def test_prove_with_no_specs_anywhere_is_a_usage_error(
    engine: FakeEngine, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_discover", lambda d: [])
    assert run("prove") == (2, "", "fusever: error: no SPEC given and spec/ holds no .fv files\n")


def test_flags_reach_the_engine(engine: FakeEngine, run: Run) -> None:
    code, out, _ = run(
        "prove", "a.fv", "--depth", "7", "--set", "W=4", "--set", "FUDS=1",
        "--property", "monotonic", "--timeout", "2.5",
    )  # fmt: skip
    assert code == 0
    assert engine.loaded == [([Path("a.fv")], ["W=4", "FUDS=1"])]
    # the time loading took is off the timeout (issue 28): a moment, with the fake loader
    ((name, options),) = engine.options
    assert options.timeout is not None and 0.0 <= options.timeout <= 2.5
    assert (name, replace(options, timeout=2.5)) == (
        "counter",
        Options(depth=7, properties=("monotonic",), timeout=2.5, engine="auto"),
    )
    assert "proved (7 steps)" in out
    assert "no_wrap" not in out


@pytest.mark.parametrize(
    ("verdicts", "code"),
    [
        ((Verdict.PROVED, Verdict.COVERED), 0),
        ((Verdict.PROVED, Verdict.UNREACHABLE), 1),  # a vacuous proof is a finding
        ((Verdict.PROVED, Verdict.UNKNOWN), 3),
        ((Verdict.VIOLATED, Verdict.UNKNOWN), 1),  # a finding outranks an open question
    ],
)
def test_exit_codes(verdicts: tuple[Verdict, Verdict], code: int) -> None:
    inv, cov = verdicts
    rs = [
        result("p", PropKind.INVARIANT, inv, step=1 if inv is Verdict.VIOLATED else None),
        result("c", PropKind.COVER, cov, step=2 if cov is Verdict.COVERED else None),
    ]
    assert cli.exit_code(rs) == code


def test_unknown_property_is_a_usage_error_with_a_suggestion(engine: FakeEngine, run: Run) -> None:
    code, out, err = run("prove", "a.fv", "--property", "monotonc")
    assert (code, out) == (2, "")
    assert err == "fusever: error: no spec has a property `monotonc`; did you mean `monotonic`?\n"
    assert engine.options == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prove", "--depth", "x"], "argument --depth: `x` is not a whole number"),
        (["prove", "--depth", "-1"], "argument --depth: `-1` must not be negative"),
        (["prove", "--jobs", "0"], "argument --jobs: `0` must be at least 1"),
        (
            ["prove", "--timeout", "0"],
            "argument --timeout: `0` must be a positive number of seconds",
        ),
        (["prove", "--set", "W"], "argument --set: `W` is not NAME=VALUE"),
        (["prove", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["prove", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_flags_exit_2_without_a_traceback(
    engine: FakeEngine, run: Run, argv: list[str], message: str
) -> None:
    code, out, err = run(*argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"fusever: error: {message}")
    assert "Traceback" not in err


def test_spec_error_is_located_and_exits_2(
    engine: FakeEngine, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bad(paths: Sequence[Path], sets: Sequence[str]) -> tuple[TransitionSystem, ...]:
        span = Span("spec/a.fv", 3, 5, 3, 8)
        raise SpecError([Diagnostic(span, "unknown constant `WIDHT`", "  u<WIDHT> x")])

    monkeypatch.setattr(cli, "_load", bad)
    code, out, err = run("prove", "spec/a.fv", "--set", "WIDHT=3")
    assert (code, out) == (2, "")
    assert err == ("spec/a.fv:3:5: error: unknown constant `WIDHT`\n    u<WIDHT> x\n      ^^^\n")


def test_internal_error_exits_4_with_traceback(
    engine: FakeEngine, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> tuple[Result, ...]:
        raise RuntimeError("encoder and interpreter disagree")

    monkeypatch.setattr(jobs, "prove", boom)
    code, out, err = run("prove", "a.fv")
    assert (code, out) == (4, "")
    assert err.startswith(
        "fusever: internal error: RuntimeError: encoder and interpreter disagree\n"
    )
    assert "Traceback" in err and "encoder and interpreter disagree" in err


def test_json_format(engine: FakeEngine, run: Run) -> None:
    code, out, _ = run("prove", "a.fv", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert [(r["property"], r["verdict"]) for r in doc["results"]] == [
        ("no_wrap", "violated"),
        ("monotonic", "proved"),
        ("opens", "covered"),
    ]


def test_junit_format(engine: FakeEngine, run: Run) -> None:
    code, out, _ = run("prove", "a.fv", "--format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    assert [c.get("name") for c in root.iter("testcase")] == ["no_wrap", "monotonic", "opens"]


def test_trace_dir_gets_one_itf_file_per_trace(
    engine: FakeEngine, run: Run, tmp_path: Path
) -> None:
    code, _, _ = run("prove", "a.fv", "--trace-dir", str(tmp_path / "traces"))
    assert code == 1
    files = sorted(p.name for p in (tmp_path / "traces").iterdir())
    assert files == ["counter.no_wrap.itf.json", "counter.opens.itf.json"]
    doc = json.loads((tmp_path / "traces" / "counter.no_wrap.itf.json").read_text())
    assert doc["states"][1]["mbt::actionTaken"] == "inc"


def test_witnesses_flag_shows_cover_step_tables(engine: FakeEngine, run: Run) -> None:
    _, out, _ = run("prove", "a.fv")
    assert "counter / opens" not in out
    _, out, _ = run("prove", "a.fv", "--witnesses")
    assert "counter / opens: covered at step 3" in out


def test_jobs_keep_the_order_of_the_specs(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["b", "a", "c"]
    fake = FakeEngine(
        [fake_ts(n, f"spec/{n}.fv") for n in names],
        {n: (result("p", PropKind.INVARIANT, Verdict.PROVED, spec=n),) for n in names},
    )
    fake.install(monkeypatch, discover=False)
    code, out, _ = run("prove", "x.fv", "--jobs", "2")
    assert code == 0
    assert [line.split()[0] for line in out.split("\n\n")[0].splitlines()[2:]] == names


SUMMARY = re.compile(r"^\d+ spec\(s\) parsed and checked in \d+\.\d s; exit 0: all as expected$")


def without_summary(out: str) -> str:
    """``out`` without its last line, which must be the check summary."""
    *lines, last = out.splitlines(keepends=True)
    assert SUMMARY.match(last.rstrip("\n")), last
    return "".join(lines)


def test_check_prints_one_line_per_spec(engine: FakeEngine, run: Run) -> None:
    code, out, err = run("check", "spec/counter.fv")
    assert (code, without_summary(out), err) == (
        0,
        "ok: counter (3 actions, 3 properties)\n",
        "",
    )


def test_check_missing_file_exits_2(engine: FakeEngine, run: Run) -> None:
    code, out, err = run("check", "nothere.txt")
    assert (code, out) == (2, "")
    assert err == "fusever: error: nothere.txt: not a .fv file\n"


def test_help_lists_exit_codes(run: Run) -> None:
    code, out, _ = run("prove", "--help")
    assert code == 0
    assert "exit codes:" in out and "3  undecided" in out


def test_version(run: Run) -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("fusever ")


# ---- the real pipeline on the worked examples -------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
COUNTER = str(EXAMPLES / "counter.fv")
LOST_UPDATE = str(EXAMPLES / "lost_update.fv")


def table(out: str) -> list[list[str]]:
    """The result table's rows, seconds masked (the only thing that varies)."""
    rows = []
    for line in out.split("\n\n")[0].splitlines()[2:]:
        rows.append(re.split(r"\s{2,}", re.sub(r"\d+\.\d\d$", "S", line.strip())))
    return rows


def test_real_counter_wraps_at_step_8(run: Run) -> None:
    code, out, err = run("prove", COUNTER)  # auto, the default engine
    assert (code, err) == (1, "")
    assert table(out) == [
        ["counter", "no_wrap", "violated at step 8", "8", "S"],
        ["counter", "counts_up", "proved (all depths)", "7", "S"],
        ["counter", "wraps", "covered at step 8", "8", "S"],
    ]
    # auto's explicit search exhausts the 8 states of a 3-bit counter
    assert (
        "for all depths, because:\n  counter counts_up (explicit): reachable set exhausted: 8 states"
        in out
    )
    assert "     8  cpu    tick()  n: 7 → 0" in out
    code, out, err = run("prove", COUNTER, "--engine", "bmc")
    assert [row[2] for row in table(out)][1] == "proved (10 steps)"
    assert "for all depths" not in out


def test_real_wider_counter_makes_the_cover_unreachable_exit_1(run: Run) -> None:
    code, out, _ = run("prove", COUNTER, "--set", "W=4", "--engine", "bmc")
    assert code == 1
    assert table(out) == [
        ["counter", "no_wrap", "proved (10 steps)", "10", "S"],
        ["counter", "counts_up", "proved (10 steps)", "10", "S"],
        ["counter", "wraps", "unreachable within 10", "10", "S"],
    ]


def test_real_all_proved_exit_0(run: Run) -> None:
    code, out, _ = run(
        "prove", COUNTER, "--property", "counts_up", "--depth", "5", "--engine", "bmc"
    )
    assert code == 0
    assert table(out) == [["counter", "counts_up", "proved (5 steps)", "5", "S"]]


def test_real_unknown_constant_is_located_exit_2(run: Run) -> None:
    code, out, err = run("prove", COUNTER, "--set", "NOPE=1")
    assert (code, out) == (2, "")
    assert "error: --set: unknown constant `NOPE` in spec `counter`" in err
    assert "Traceback" not in err


def test_real_missing_file_exit_2(run: Run) -> None:
    code, out, err = run("prove", "no/such.fv")
    assert (code, out) == (2, "")
    assert "no/such.fv" in err and "Traceback" not in err


def test_real_json_trace_reaches_the_violation(run: Run) -> None:
    code, out, _ = run("prove", LOST_UPDATE, "--format", "json", "--property", "no_lost_update")
    assert code == 1
    (r,) = json.loads(out)["results"]
    assert (r["verdict"], r["step"], r["settings"]) == ("violated", 4, {})
    trace = r["trace"]
    assert trace[0]["state"]["pc"] == {"0": "start", "1": "start"}
    assert [s["action"] for s in trace[1:]] == ["load", "load", "store", "store"]
    # both threads loaded 0 before either stored: one increment is lost
    final: dict[str, object] = {}
    for s in trace:
        for k, v in s.get("state", s.get("changed", {})).items():
            final[k] = {**final[k], **v} if isinstance(v, dict) and k in final else v
    assert (final["count"], final["finished"]) == (1, 2)


def test_real_trace_dir_writes_itf(run: Run, tmp_path: Path) -> None:
    code, _, _ = run("prove", LOST_UPDATE, "--trace-dir", str(tmp_path))
    assert code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lost_update.both_done.itf.json",
        "lost_update.no_lost_update.itf.json",
    ]
    doc = json.loads((tmp_path / "lost_update.no_lost_update.itf.json").read_text())
    assert len(doc["states"]) == 5
    assert doc["states"][-1]["finished"] == {"#bigint": "2"}
    assert doc["states"][-1]["pc"] == {
        "#map": [[{"#bigint": "0"}, "done"], [{"#bigint": "1"}, "done"]]
    }


def test_real_jobs_give_the_same_output_as_one_process(run: Run) -> None:
    code1, out1, _ = run("prove", COUNTER, LOST_UPDATE)
    code2, out2, _ = run("prove", COUNTER, LOST_UPDATE, "--jobs", "2")
    assert code1 == code2 == 1
    assert table(out1) == table(out2)
    # the same traces; the last line (the summary) differs only in the time
    assert out1.split("\n\n")[1:-1] == out2.split("\n\n")[1:-1]
    assert re.sub(r"[\d.]+ s;", "T", out1.splitlines()[-1]) == re.sub(
        r"[\d.]+ s;", "T", out2.splitlines()[-1]
    )


def test_real_prove_ends_with_a_summary_and_says_what_it_wrote(run: Run, tmp_path: Path) -> None:
    code, out, err = run(
        "prove", LOST_UPDATE, "--trace-dir", str(tmp_path), "--trace-format", "html"
    )
    assert code == 1
    lines = out.splitlines()
    assert re.fullmatch(
        r"0 proved, 1 violated, 1 covered, 0 unknown in \d+\.\d s; "
        r"exit 1: a finding: a property violated or a cover goal unreachable",
        lines[-1],
    )
    wrote = [line.removeprefix("wrote ") for line in lines if line.startswith("wrote ")]
    assert sorted(Path(p).name for p in wrote) == sorted(p.name for p in tmp_path.iterdir())
    assert len(wrote) == 4  # the violation and the cover witness, each as ITF and HTML
    code, out, err = run("prove", LOST_UPDATE, "--format", "json", "--trace-dir", str(tmp_path))
    json.loads(out)  # stdout stays one JSON document: the rest went to stderr
    assert err.splitlines()[-1].startswith("0 proved, 1 violated")


def test_real_check(run: Run) -> None:
    code, out, err = run("check", COUNTER, LOST_UPDATE)
    assert (code, without_summary(out), err) == (
        0,
        "ok: counter (1 actions, 3 properties)\nok: lost_update (2 actions, 2 properties)\n",
        "",
    )


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fusever", "check", COUNTER],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert (done.returncode, without_summary(done.stdout)) == (
        0,
        "ok: counter (1 actions, 3 properties)\n",
    )


def test_real_tiny_timeout_is_unknown_exit_3(run: Run) -> None:
    code, out, _ = run("prove", LOST_UPDATE, "--timeout", "0.000001", "--depth", "30")
    assert code == 3
    assert [row[2] for row in table(out)] == ["unknown (timeout)", "unknown (timeout)"]


# ---- configurations ----------------------------------------------------------------------

CONFIGURED = (Path(COUNTER).read_text()
    + '\nconfig wide "a 4-bit counter" {\n    set W = 4\n}\n')  # fmt: skip


def test_real_config_selects_constants(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "counter.fv"
    spec.write_text(CONFIGURED)
    code, out, _ = run("prove", str(spec), "--config", "wide", "--engine", "bmc")
    # 4 bits: no wrap within the default depth of 10, so the cover goal is unreachable
    assert code == 1
    assert table(out) == [
        ["counter.wide", "no_wrap", "proved (10 steps)", "10", "S"],
        ["counter.wide", "counts_up", "proved (10 steps)", "10", "S"],
        ["counter.wide", "wraps", "unreachable within 10", "10", "S"],
    ]
    code, out, _ = run(
        "prove", str(spec), "--config", "all", "--property", "no_wrap", "--engine", "bmc"
    )
    assert table(out) == [
        ["counter", "no_wrap", "violated at step 8", "8", "S"],
        ["counter.wide", "no_wrap", "proved (10 steps)", "10", "S"],
    ]


def test_real_config_default_is_the_specs_own(run: Run, tmp_path: Path) -> None:
    # as `regress --config default` documents it, on every command that takes --config
    spec = tmp_path / "counter.fv"
    spec.write_text(CONFIGURED)
    code, out, _ = run(
        "prove", str(spec), "--config", "default", "--config", "wide",
        "--property", "no_wrap", "--engine", "bmc",
    )  # fmt: skip
    assert code == 1
    assert table(out) == [
        ["counter", "no_wrap", "violated at step 8", "8", "S"],
        ["counter.wide", "no_wrap", "proved (10 steps)", "10", "S"],
    ]
    code, out, _ = run("check", str(spec), "--config", "default")
    assert code == 0 and "ok: counter " in out


def test_real_unknown_config_exits_2(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "counter.fv"
    spec.write_text(CONFIGURED)
    code, _, err = run("prove", str(spec), "--config", "wid")
    assert code == 2
    assert "--config: spec `counter` has no configuration `wid`; did you mean `wide`?" in err


def test_real_regress_records_every_configuration(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "counter.fv").write_text(CONFIGURED)
    monkeypatch.chdir(tmp_path)
    code, _, _ = run("regress", "--record")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "proofs").iterdir()) == [
        "counter.toml", "counter.wide.toml",
    ]  # fmt: skip
    assert 'config = "wide"' in (tmp_path / "proofs" / "counter.wide.toml").read_text()
    code, out, _ = run("regress")
    assert (code, out.splitlines()[0]) == (0, "ok: 2 spec configuration(s) match proofs/")
    # a changed configuration fails only its own recording
    (tmp_path / "spec" / "counter.fv").write_text(CONFIGURED.replace("set W = 4", "set W = 3"))
    code, out, _ = run("regress")
    assert code == 1
    assert out.splitlines()[0].startswith("counter.wide: settings recorded")


def test_real_regress_record_of_one_spec_leaves_the_others(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "counter.fv").write_text(CONFIGURED)
    (tmp_path / "spec" / "lost.fv").write_text(Path(LOST_UPDATE).read_text())
    monkeypatch.chdir(tmp_path)
    assert run("regress", "--record")[0] == 0
    other = (tmp_path / "proofs" / "lost_update.toml").read_text()
    (tmp_path / "spec" / "counter.fv").write_text(CONFIGURED.replace("set W = 4", "set W = 5"))
    code, out, _ = run("regress", "--record", "spec/counter.fv")
    assert code == 0 and "recorded 2 spec configuration(s) in proofs/" in out.splitlines()
    assert (tmp_path / "proofs" / "lost_update.toml").read_text() == other
    assert run("regress")[0] == 0


def test_real_regress_record_of_one_configuration_with_another_engine(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "counter.fv").write_text(CONFIGURED)
    monkeypatch.chdir(tmp_path)
    assert run("regress", "--record", "--engine", "bmc")[0] == 0
    before = (tmp_path / "proofs" / "counter.toml").read_text()
    code, out, _ = run("regress", "--record", "--config", "wide", "--engine", "auto")
    assert code == 0 and "recorded 1 spec configuration(s) in proofs/" in out.splitlines()
    assert (tmp_path / "proofs" / "counter.toml").read_text() == before
    wide = (tmp_path / "proofs" / "counter.wide.toml").read_text()
    assert 'engine = "auto"' in wide and "[properties.counts_up.certificate]" in wide
    code, out, _ = run("regress", "--config", "default", "--config", "wide")
    assert (code, out.splitlines()[0]) == (0, "ok: 2 spec configuration(s) match proofs/")
    code, _, err = run("regress", "--config", "wdie")
    assert code == 2 and "did you mean `wide`?" in err


def test_real_check_takes_configurations(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "c.fv"
    spec.write_text(
        "spec c\nconst W = 8\nvar x: u<W>\ninit { x := 0 }\naction a() { x := x + 1 }\n"
        "invariant p: x < 7\nconfig w4 { set W = 4 }\nconfig w3 { set W = 3 }\n"
    )
    code, out, _ = run("check", str(spec), "--config", "w4")
    assert (code, out.splitlines()[:-1]) == (0, ["ok: c.w4 (1 actions, 1 properties)"])
    code, out, _ = run("check", str(spec), "--config", "all")
    assert (code, out.splitlines()[:-1]) == (0, [
        "ok: c (1 actions, 1 properties)", "ok: c.w4 (1 actions, 1 properties)", "ok: c.w3 (1 actions, 1 properties)",
    ])  # fmt: skip
    code, out, err = run("check", str(spec), "--config", "w5")
    assert (code, out) == (2, "")
    assert "spec `c` has no configuration `w5` (it has: `w4`, `w3`)" in err
    # a configuration that does not check is a located error, as any
    code, _, err = run("check", str(spec), "--config", "w3", "--set", "W=0")
    assert code == 2 and "c.fv:" in err


def test_check_json_gives_editors_located_diagnostics(run: Run, tmp_path: Path) -> None:
    import json

    bad = tmp_path / "bad.fv"
    bad.write_text('spec bad "x"\nvar n: u8\ninit { n := 0 }\naction a() { n := m + 1 }\n')
    code, out, err = run("check", str(bad), "--format", "json")
    assert code == cli.EXIT_USAGE and err == ""
    (d,) = json.loads(out)["diagnostics"]
    assert (d["file"], d["line"], d["column"], d["end_line"], d["end_column"]) == (
        str(bad),
        4,
        19,
        4,
        20,
    )
    assert (d["severity"], d["message"], d["notes"]) == ("error", "unknown name `m`", [])
    bad.write_text(bad.read_text().replace("m + 1", "n + 1"))
    code, out, _ = run("check", str(bad), "--format", "json")
    doc = json.loads(out)
    assert code == cli.EXIT_OK and doc["diagnostics"] == []
    assert doc["checked"] == [
        {"spec": "bad", "config": None, "file": str(bad), "actions": 1, "properties": 0}
    ]


def test_an_engine_s_unexpected_error_is_an_internal_error_not_the_users(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ValueError from inside kind or chc is a bug (exit 4, a bug-report hint), never
    a usage error: argparse already refuses an engine that does not exist (exit 2)."""
    from fusever import jobs

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("an engine's own bug")

    monkeypatch.setattr(jobs, "prove_all", broken)
    spec = str(Path(__file__).resolve().parent.parent / "docs" / "examples" / "counter.fv")
    for engine in ("kind", "chc", "bmc"):
        assert cli.main(["prove", spec, "--engine", engine]) == cli.EXIT_INTERNAL
        err = capsys.readouterr().err
        assert "internal error: ValueError: an engine's own bug" in err and "bug in fusever" in err
    assert cli.main(["prove", spec, "--engine", "nosuch"]) == cli.EXIT_USAGE
