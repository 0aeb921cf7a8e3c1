"""Same spec, same flags: same verdicts and the same traces, run after run."""

from __future__ import annotations

import tsbuild as B

from fusever import bmc
from fusever.encode import EncodeOptions
from fusever.job import Job
from fusever.verdict import Options, Result


def fingerprint(results: tuple[Result, ...]) -> list[object]:
    return [(r.property, r.verdict, r.bound, r.step, r.instance, r.trace) for r in results]


def test_repeated_runs_give_identical_results() -> None:
    for ts in (B.counter(3), B.lost_update(3), B.dead_action()):
        for enc in (EncodeOptions(), EncodeOptions(maps="array")):
            first = fingerprint(bmc.run(Job.resolve(ts, Options(seed=7)), encode=enc).results)
            for _ in range(3):
                assert (
                    fingerprint(bmc.run(Job.resolve(ts, Options(seed=7)), encode=enc).results)
                    == first
                )


def test_interleaved_runs_do_not_disturb_each_other() -> None:
    a = fingerprint(bmc.run(Job.resolve(B.lost_update(3), Options())).results)
    bmc.run(Job.resolve(B.counter(4), Options(seed=3)))
    assert fingerprint(bmc.run(Job.resolve(B.lost_update(3), Options())).results) == a


def test_json_output_is_the_same_for_any_jobs_value_and_engine_run() -> None:
    """`--jobs` changes how many processes solve, never what is reported: the JSON of
    two specs x every configuration is identical apart from timings (issue 14)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    specs = [
        str(root / "docs" / "examples" / "counter.fv"),
        str(root / "docs" / "examples" / "lost_update.fv"),
    ]

    def run(jobs: str, engine: str) -> list[dict[str, object]]:
        out = subprocess.run(
            [sys.executable, "-m", "fusever", "prove", *specs, "--config", "all", "--engine", engine,
             "--format", "json", "--jobs", jobs],
            capture_output=True, text=True, cwd=root, check=False,
        )  # fmt: skip
        results = json.loads(out.stdout)["results"]
        for r in results:
            r.pop("seconds", None)
        return list(results)

    for engine in ("bmc", "explicit"):
        assert run("1", engine) == run("2", engine)
