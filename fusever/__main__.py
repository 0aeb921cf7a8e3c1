"""``python -m fusever``: the same as the ``fusever`` console script."""

import sys

from fusever.cli import main

if __name__ == "__main__":
    sys.exit(main())
