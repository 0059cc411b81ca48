"""The learning rate η, from too small to too large, on one linear regression.

The update is Δw = −η·∂L/∂w.  For the mean squared error of a linear model,
L is a bowl, and its curvature decides everything: each step multiplies the
distance to the bottom, along each direction of curvature λ, by (1 − η·λ).
Too small an η and the factor is close to 1: the loss creeps down.  Around
η = 1/λ the bottom is reached in a few steps.  Past 1/λ the factor turns
negative: every step overshoots and the weights oscillate around the
minimum.  Past 2/λ its size exceeds 1: each overshoot is larger than the
last, and the loss diverges.  Here λ for the bias is 2 (mean of 2·1²), so the
oscillation starts above η = 0.5 and divergence above η = 1.  The table counts the
steps to reach the target loss and the sign changes of the bias update Δb
in the first steps, the fingerprint of oscillation.

    python -m examples.learning_rate --seed 0
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from itertools import takewhile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/learning_rate.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples._common import Args, DeltaMeter, main_guard, picture, print_table, setup, steps_to
from nn import MLP, SGD, TrainingDiverged, fit, make_linear

RATES = (0.01, 0.1, 0.5, 0.9, 1.1, 1.5)
TARGET = 0.02  # the noise floor is 0.01 (noise 0.1)
FLIP_WINDOW = 10  # steps in which sign changes of Δb are counted
CUT = 100.0  # loss curves are drawn until the loss exceeds CUT × its first value
WATCH = 15  # steps of the bias drawn

HEADERS = [
    "learning rate",
    f"steps to loss <= {TARGET}",
    "final loss",
    f"sign flips of Δb (first {FLIP_WINDOW})",
    "mean abs(Δw) per step",
    "behaviour",
]


def behaviour(losses: Sequence[float], reached: int | None, flips: int) -> str:
    """A name for what the numbers show (computed from them, never typed in)."""
    if not losses or not math.isfinite(losses[-1]) or losses[-1] > losses[0]:
        return "diverges"
    if flips >= FLIP_WINDOW // 2:
        return "oscillates, converges" if reached is not None else "oscillates"
    return "converges" if reached is not None else "too slow"


def experiment(
    seed: int, steps: int, rates: Sequence[float] = RATES
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[list[Any]]]:
    """Plain SGD with each rate, from the same weights, on the same data.

    Returns the loss per step and the bias after each step of every run, and the table."""
    X, y = make_linear(50, n_features=2, w=[2.0, -1.0], b=0.5, noise=0.1, seed=seed)
    losses: dict[str, list[float]] = {}
    biases: dict[str, list[float]] = {}
    rows: list[list[Any]] = []
    for lr in rates:
        model = MLP(2, [1], seed=seed)  # a linear neuron: y = w1·x1 + w2·x2 + b
        bias = model.layers[0].neurons[0].b
        meter = DeltaMeter()
        db: list[float] = []
        path: list[float] = []

        def watch(info: Any, bias: Any = bias, db: list = db, path: list = path) -> None:
            db.append(info.optimizer.deltas[bias])
            path.append(bias.data)

        try:
            curve = fit(
                model,
                X,
                y,
                loss="mse",
                optimizer=SGD(model.parameters(), lr=lr),
                epochs=steps,
                seed=seed,
                progress=False,
                callbacks=[meter, watch],
            ).loss
        except TrainingDiverged:  # the loss overflowed: the strongest form of divergence
            curve = [math.inf]
        flips = sum(1 for a, b in zip(db[:FLIP_WINDOW], db[1:FLIP_WINDOW]) if a * b < 0)
        reached = steps_to(curve, TARGET)
        losses[f"lr={lr:g}"] = curve
        biases[f"lr={lr:g}"] = path
        rows.append([f"{lr:g}", reached, curve[-1], flips, meter.mean, behaviour(curve, reached, flips)])
    return losses, biases, rows


def _until_diverged(curve: list[float]) -> list[float]:
    """The loss curve up to the first point above CUT times its start (a diverging rate's tail is cut)."""
    limit = CUT * curve[0]
    return list(takewhile(lambda v: v <= limit, curve))


def run(args: Args) -> list[list[Any]]:
    steps = args.pick(60, 8, reduced=40)
    print(f"Linear regression y = 2·x1 − x2 + 0.5 + noise (50 samples); plain SGD, {steps} full-batch steps per rate")
    losses, biases, rows = experiment(args.seed, steps)
    print_table("Learning rate: slow, fast, oscillating, diverging", HEADERS, rows)
    cut = {k: _until_diverged(curve) for k, curve in losses.items()}
    picture(
        args,
        "plot_losses",
        args.out / "learning_rate_loss.png",
        cut,
        log=True,
        title=f"Loss per step (a diverging run is cut where its loss passes {CUT:g}× its start)",
        what="loss curves per learning rate",
    )
    # plot_weights takes a dict name -> value per step as well as a viz.WeightRecorder
    watch = min(WATCH, steps)  # --quick runs fewer steps than WATCH
    early = {k: [v for v in path[:watch] if abs(v) <= 10] for k, path in biases.items()}
    picture(
        args,
        "plot_weights",
        args.out / "learning_rate_bias.png",
        early,
        title=f"The bias b after each of the first {watch} steps: creeping, settling, zig-zagging, flying off",
        what="the bias per step for each learning rate",
    )
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
