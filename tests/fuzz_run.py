"""The fuzz generator's run in CI (issue 28): a few hundred generated and mutated specs
through `fusever check`, a few dozen through `fusever prove` (BMC, small budgets),
seeded by the date so that each day tries new inputs and a failure can be replayed.

    .venv/bin/python tests/fuzz_run.py                 # today's seed (UTC, YYYYMMDD)
    .venv/bin/python tests/fuzz_run.py --seed 20261207 --checks 300 --proves 30

The generators are tests/test_fuzz_frontend.py's (grammar-aware specs, byte mutations
of the examples); allowed outcomes are its own: a checked system, a located error
(exit 2), a verdict or an undecided one (exit 3).  Anything else (an exception, an
input that takes more than ``--limit`` seconds) fails the run: the seed and the input
(hypothesis's shrunk example) are printed, and the exit code is 1.  Save the input
under tests/fuzz_corpus/ with the fix (FUSEVER_FUZZ_SAVE=1 saves it there).
"""

from __future__ import annotations

import argparse
import datetime
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as with_seed
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

import test_fuzz_frontend as fuzz


class TooSlow(Exception):
    """An input took longer than the limit: a hang is a failure too."""


@contextmanager
def limit(seconds: float) -> Iterator[None]:
    def expired(signum: int, frame: FrameType | None) -> None:
        raise TooSlow(f"no result within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, database=None, derandomize=False,
        suppress_health_check=list(HealthCheck), print_blob=True,
    )  # fmt: skip


def runs(
    seed: int, checks: int, proves: int, seconds: float
) -> list[tuple[str, Callable[[], None]]]:
    """The named runs of one seed, each a hypothesis test seeded with ``seed``."""

    @with_seed(seed)
    @_settings(checks)
    @given(fuzz.generated())
    def generated_specs(files: dict[str, str]) -> None:
        with limit(seconds):
            fuzz._allowed(files)

    @with_seed(seed)
    @_settings(max(1, checks // 3))
    @given(st.one_of(fuzz.byte_mutated(fuzz.BYTE_SOURCES), fuzz.byte_mutated(fuzz.BIG_SOURCES)))
    def byte_mutations(data: bytes) -> None:
        with limit(seconds):
            fuzz._allowed({"fuzz.fv": data})

    @with_seed(seed)
    @_settings(proves)
    @given(fuzz.generated())
    def proved_specs(files: dict[str, str]) -> None:
        with limit(seconds):
            fuzz._allowed(files, prove=True)

    return [
        ("check: generated specs", generated_specs),
        ("check: byte mutations", byte_mutations),
        ("prove: generated specs", proved_specs),
    ]


def main(argv: list[str] | None = None) -> int:
    today = int(datetime.datetime.now(datetime.UTC).strftime("%Y%m%d"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=today, help="default: today's date, UTC")
    ap.add_argument("--checks", type=int, default=300, help="generated specs through check")
    ap.add_argument("--proves", type=int, default=30, help="generated specs through prove")
    ap.add_argument("--limit", type=float, default=60.0, help="seconds one input may take")
    args = ap.parse_args(argv)
    failed = 0
    for name, run in runs(args.seed, args.checks, args.proves, args.limit):
        start = time.monotonic()
        try:
            run()
        except Exception as e:
            failed += 1
            print(f"fuzz: FAILED {name} with seed {args.seed}: {type(e).__name__}: {e}")
            for note in getattr(e, "__notes__", []):  # hypothesis's (shrunk) input
                print(note)
            print(f"fuzz: replay with: python tests/fuzz_run.py --seed {args.seed}")
            continue
        print(f"fuzz: {name}: ok in {time.monotonic() - start:.1f} s (seed {args.seed})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
