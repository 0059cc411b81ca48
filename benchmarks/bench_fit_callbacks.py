"""``python -m benchmarks.bench_fit_callbacks``: what a step callback costs ``fit(compile=True)``.

MLP 784-32-10 (relu), batch 32, cross-entropy, SGD and Adam, trained by
``nn.fit(compile=True)`` with: no callback; a callback reading only the
``History`` (``info.history.loss[-1]``); a callback that reads nothing; the same two
declaring ``touches_values = False`` (``-declared``: fit then leaves the Values
alone for them); a ``viz.RunRecorder`` (every parameter's Δw and value, each step); a callback
that reads every ``p.data``; and the eager ``fit`` for reference.

A step's time is the interval between two consecutive ``opt.zero_grad()``
calls (the first call of a step), so it holds everything the loop does per step
— the compiled call, the update, the record and the callbacks — and not the
one-off tracing; it is CPU time (the process's: steadier on a shared machine).
Each run reports its median step; the table shows the median over ``--runs``
runs.  Nothing here is a pass/fail timing test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

import nn  # noqa: E402

BATCH = 32


def _data(steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` batches of 784-pixel inputs in [0, 1) and class indices 0..9."""
    rng = np.random.default_rng(seed)
    n = steps * BATCH
    return rng.random((n, 784)), rng.integers(0, 10, n)


def _history(info: Any) -> None:
    """Reads the loss just recorded (no parameter)."""
    info.history.loss[-1]


def _nothing(info: Any) -> None:
    """Reads nothing."""


class _Declared:
    """A callback that says it reads and writes no parameter (``touches_values = False``)."""

    touches_values = False

    def __init__(self, cb: Callable[[Any], None]) -> None:
        self.cb = cb

    def __call__(self, info: Any) -> None:
        self.cb(info)


def _read_values(info: Any) -> None:
    """Reads every parameter's value (what a weight-watching callback does)."""
    sum(p.data for p in info.model.parameters())


def _callbacks(case: str) -> list[Any]:
    """The callbacks of one case (fresh, so a recorder starts empty)."""
    if case.startswith(("history", "nothing")):
        cb = _history if case.startswith("history") else _nothing
        if case.endswith("-declared"):
            return [_Declared(cb)]
        return [cb]
    if case == "recorder":
        from viz import RunRecorder

        return [RunRecorder()]
    if case == "read-values":
        return [_read_values]
    return []


def step_ms(optimizer: str, case: str, steps: int) -> float:
    """The median step of one ``fit`` run, in ms (the first step, which traces, left out)."""
    model = nn.MLP(784, [32, 10], activation="relu", seed=1)
    opt: Any = nn.SGD(model.parameters(), lr=0.01) if optimizer == "sgd" else nn.Adam(model.parameters(), lr=1e-3)
    stamps: list[float] = []
    zero_grad: Callable[[], None] = opt.zero_grad

    def timed_zero_grad() -> None:
        stamps.append(time.process_time())
        zero_grad()

    opt.zero_grad = timed_zero_grad  # the step's first call: an interval is one whole step
    X, y = _data(steps)
    nn.fit(
        model, X, y, loss="cross_entropy", optimizer=opt, batch_size=BATCH, shuffle=False, progress=False,
        compile=case != "eager", callbacks=_callbacks(case),
    )  # fmt: skip
    intervals = np.diff(stamps)[1:]  # the interval after the first stamp holds the trace
    return 1e3 * float(np.median(intervals))


CASES = ["none", "history", "history-declared", "nothing", "nothing-declared", "recorder", "read-values", "eager"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60, help="steps per compiled run (default 60)")
    ap.add_argument("--eager-steps", type=int, default=4, help="steps per eager run (default 4)")
    ap.add_argument("--runs", type=int, default=3, help="runs per case; the median is shown (default 3)")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    args = ap.parse_args(argv)
    cases = args.cases.split(",")
    print(f"fit(compile=True), MLP 784-32-10, batch {BATCH}, cross-entropy: ms per step (median of {args.runs} runs)")
    print(f"{'callbacks':<18}{'SGD':>10}{'Adam':>10}")
    for case in cases:
        row = []
        for optimizer in ("sgd", "adam"):
            steps = args.eager_steps if case == "eager" else args.steps
            row.append(statistics.median(step_ms(optimizer, case, steps) for _ in range(args.runs)))
        print(f"{case:<18}{row[0]:>10.3f}{row[1]:>10.3f}", flush=True)


if __name__ == "__main__":
    main()
