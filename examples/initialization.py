"""Where the weights start decides whether backprop can move them: zeros, uniform, Xavier, He.

Backprop multiplies, layer by layer, the error signal δ by the weights and by
the activation's slope.  If the weights start too small, δ shrinks at every
layer on the way back (vanishing gradients: the first layers hardly learn);
too large and it grows (exploding gradients).  Xavier (Glorot) scales the
initial weights by the layer's fan-in and fan-out so that the signal keeps
its size through tanh layers; He scales by the fan-in alone with the extra
factor √2 that relu's halving calls for.  And zeros are the degenerate case:
every neuron of a layer computes the same thing and receives the same
update, and here, with tanh(0) = relu(0) = 0, no gradient reaches the hidden
layers at all.  We train a 5-layer MLP from each start, counting steps to the
target loss, and print the mean |∂L/∂w| of every layer at step 0.

    python -m examples.initialization --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/initialization.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples._common import (
    Args,
    DeltaMeter,
    layer_grad_sizes,
    main_guard,
    moons,
    picture,
    print_table,
    setup,
    steps_to,
)
from nn import MLP, SGD, History, bce_with_logits, fit

INITS = ("zeros", "uniform", "xavier_uniform", "he_uniform")
ACTIVATIONS = ("tanh", "relu")
TARGET = 0.2

HEADERS = [
    "activation",
    "init",
    f"steps to loss <= {TARGET}",
    "final loss",
    "mean abs(Δw) per step",
    "grad layer 1 / grad last layer",
]


def experiment(
    seed: int, steps: int, hidden: Sequence[int], n: int = 60
) -> tuple[dict[str, History], list[list[Any]], list[list[Any]]]:
    """Train MLP(2, [*hidden, 1]) from each init and activation; return histories, the results table
    and the per-layer gradient table at step 0."""
    X, y = moons(n, seed)
    histories: dict[str, History] = {}
    rows: list[list[Any]] = []
    grads: list[list[Any]] = []
    for act in ACTIVATIONS:
        for init in INITS:
            model = MLP(2, [*hidden, 1], activation=act, init=init, seed=seed)
            loss0 = bce_with_logits([model(x) for x in X.tolist()], y.tolist())
            g = list(layer_grad_sizes(model, loss0).values())
            meter = DeltaMeter()
            hist = fit(
                model,
                X,
                y,
                loss="bce_with_logits",
                optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9),
                epochs=steps,
                seed=seed,
                progress=False,
                callbacks=[meter],
            )
            histories[f"{act}, {init}"] = hist
            ratio = g[0] / g[-1] if g[-1] else float("nan")
            rows.append([act, init, steps_to(hist.loss, TARGET), hist.loss[-1], meter.mean, ratio])
            grads.append([act, init, *g])
    return histories, rows, grads


def run(args: Args) -> list[list[Any]]:
    hidden = args.pick([10, 10, 10, 10], [4, 4, 4])
    steps = args.pick(80, 3, reduced=50)
    print(f"MLP(2, {[*hidden, 1]}) on 60 moons; SGD lr=0.1, momentum 0.9; {steps} full-batch steps per run")
    histories, rows, grads = experiment(args.seed, steps, hidden)
    print_table("Initialization: steps to converge", HEADERS, rows)
    print_table(
        "Mean |∂L/∂w| per layer at step 0 (layer 1 is next to the inputs)",
        ["activation", "init", *[f"layer {i + 1}" for i in range(len(hidden) + 1)]],
        grads,
    )
    picture(
        args,
        "plot_losses",
        args.out / "initialization_loss.png",
        histories,
        log=True,
        title="Loss per step for each initialization",
        what="loss curves per initialization",
    )
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
