"""``python -m fusever`` and the ``fusever`` console script.

The command line's modules (and the solvers behind them) take a moment to import; an
interrupt in that moment (Ctrl-C, a CI step's timeout) is reported like one during a
run, `fusever: interrupted` and exit 3, never as a traceback.  So the console script
starts here, where nothing heavy is imported yet.
"""

import sys


def run() -> None:
    """The console script's entry: import the command line, then run it."""
    try:
        from fusever.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("fusever: interrupted\n")
        sys.exit(3)  # cli.EXIT_UNKNOWN, as an interrupted run
    sys.exit(main())


if __name__ == "__main__":
    run()
