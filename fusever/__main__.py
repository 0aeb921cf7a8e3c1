"""``python -m fusever`` and the ``fusever`` console script.

The command line's modules (and the solvers behind them) take a moment to import; an
interrupt in that moment (Ctrl-C, a CI step's timeout) is reported like one during a
run, `fusever: interrupted` and exit 3, never as a traceback.  So the console script
starts here, where nothing heavy is imported yet.
"""

import sys
from typing import Any


def _quiet_solver_finalizers(unraisable: Any) -> None:
    """Z3's Python objects free their C terms in ``__del__``; when an interrupt or the
    interpreter's shutdown reaches one midway (its context already gone, or a
    KeyboardInterrupt inside ``Z3_dec_ref``), Python prints "Exception ignored in ...
    Traceback" after the run's own, complete output.  Nothing is lost (the process is
    ending), so only those are dropped; every other one is reported as usual."""
    where = getattr(unraisable.object, "__module__", None) or ""
    if where == "z3" or where.startswith("z3."):
        return
    sys.__unraisablehook__(unraisable)


def run() -> None:
    """The console script's entry: import the command line, then run it."""
    sys.unraisablehook = _quiet_solver_finalizers
    try:
        from fusever.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("fusever: interrupted\n")
        sys.exit(3)  # cli.EXIT_UNKNOWN, as an interrupted run
    sys.exit(main())


if __name__ == "__main__":
    run()
