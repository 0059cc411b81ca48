"""Regularization on a small noisy data set: none, L1, L2 and dropout.

With 30 noisy points and 337 weights, a network can fit the noise: the
training loss keeps falling while the loss on new points (validation) turns
up.  Penalties change the update itself.  L2 adds α·Σw² to the loss, so each
step adds −η·2α·w to Δw: every weight decays in proportion to its size.  L1
adds α·Σ|w|, so each step adds −η·α·sign(w): a constant pull toward zero
that drives the weights that matter least to (nearly) zero — sparsity.
Dropout zeroes each hidden activation with probability p during training,
so no neuron can rely on any other.  The table compares the losses, the
share of near-zero weights and the mean |Δw| per step.

    python -m examples.regularization --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/regularization.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import no_grad
from examples._common import Args, DeltaMeter, main_guard, moons, picture, print_table, setup
from nn import MLP, SGD, Dropout, History, Layer, Sequential, bce_with_logits, fit

SMALL = 0.01  # |w| below this counts as (nearly) zero
HEADERS = [
    "regularization",
    "train loss",
    "validation loss",
    "gap (val − train)",
    f"weights with abs(w) < {SMALL}",
    "mean abs(w)",
    "mean abs(Δw) per step",
]


def make_model(kind: str, seed: int, width: int) -> Any:
    """MLP(2, [width, width, 1]) with tanh; for "dropout" the same layers with Dropout(0.2) between them."""
    if kind != "dropout":
        return MLP(2, [width, width, 1], activation="tanh", init="xavier_uniform", seed=seed)
    return Sequential(
        Layer(2, width, "tanh", init="xavier_uniform", seed=seed),
        Dropout(0.2, seed=seed),
        Layer(width, width, "tanh", init="xavier_uniform", seed=seed + 1),
        Dropout(0.2, seed=seed + 1),
        Layer(width, 1, "linear", init="xavier_uniform", seed=seed + 2),
    )


def loss_on(model: Any, X: Any, y: Any) -> float:
    """The loss on (X, y) with dropout off and no graph built."""
    model.eval()
    with no_grad():
        value = bce_with_logits([model(x) for x in X.tolist()], y.tolist()).data
    model.train()
    return value


def experiment(
    seed: int, steps: int, width: int = 16
) -> tuple[dict[str, History], dict[str, list[float]], list[list[Any]]]:
    """Train each variant on 30 noisy moons and measure on 200 fresh ones."""
    X, y = moons(30, seed, noise=0.3)
    Xv, yv = moons(200, seed + 1000, noise=0.3)
    variants = {"none": {}, "L1 (α=0.003)": {"l1": 0.003}, "L2 (α=0.003)": {"l2": 0.003}, "dropout (p=0.2)": {}}
    histories: dict[str, History] = {}
    weights: dict[str, list[float]] = {}
    rows: list[list[Any]] = []
    for name, penalty in variants.items():
        model = make_model("dropout" if name.startswith("dropout") else "mlp", seed, width)
        meter = DeltaMeter()
        opt = SGD(model.parameters(), lr=0.2, momentum=0.9)
        hist = fit(
            model,
            X,
            y,
            loss="bce_with_logits",
            optimizer=opt,
            epochs=steps,
            seed=seed,
            progress=False,
            callbacks=[meter],
            **penalty,
        )
        ws = [p.data for p in model.parameters()]
        histories[name] = hist
        weights[name] = ws
        train, val = loss_on(model, X, y), loss_on(model, Xv, yv)
        small = sum(abs(w) < SMALL for w in ws) / len(ws)
        rows.append([name, train, val, val - train, f"{small:.0%}", sum(abs(w) for w in ws) / len(ws), meter.mean])
    return histories, weights, rows


def run(args: Args) -> list[list[Any]]:
    steps = args.pick(250, 4, reduced=150)
    width = args.pick(16, 4)
    print(
        f"MLP(2, [{width}, {width}, 1]), tanh; 30 noisy training moons, 200 validation moons; "
        f"SGD lr=0.2, momentum 0.9; {steps} full-batch steps"
    )
    histories, weights, rows = experiment(args.seed, steps, width)
    print_table("Regularization: train vs validation", HEADERS, rows)
    picture(
        args,
        "plot_losses",
        args.out / "regularization_loss.png",
        histories,
        log=True,
        title="Training loss per step",
        what="training loss per variant",
    )
    picture(
        args,
        "plot_weight_histograms",
        args.out / "regularization_weights.png",
        weights,
        what="weight histograms (L1 sparsity)",
    )
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
