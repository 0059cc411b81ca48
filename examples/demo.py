"""The guided tour that ``make demo`` and ``deltaw demo`` run: one weight, one neuron, one network.

Act 1 learns a single weight by gradient descent and prints each update;
act 2 takes one tanh neuron, o = tanh(x1·w1 + x2·w2 + b), draws its graph
with data, grad and Δw, and writes out the chain rule for w1 with every
factor checked against the engine; act 3 trains micrograd's moons network
with a progress bar and draws what it learned.  The code lives in
``deltaw/demo.py`` so the installed ``deltaw`` command can run it too.

    python -m examples.demo --out out/demo
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/demo.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deltaw.demo import run
from examples._common import main_guard, setup


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = setup(__doc__, argv)
    return run(args.out, seed=args.seed, quick=args.quick, progress=not args.quick)


if __name__ == "__main__":
    main_guard(main)
