"""``python -m deltaw ...``: the same command as the ``deltaw`` console script."""

import sys

from deltaw.cli import main

if __name__ == "__main__":
    sys.exit(main())
