"""relu, sigmoid, tanh and leaky relu: the activation's slope is a factor of every gradient.

On the way back through a layer, the error signal is multiplied by the
activation's derivative at each neuron: σ'(z) is at most 0.25, so a stack of
sigmoid layers shrinks δ by 4x or more per layer; tanh'(z) is at most 1; relu'
is exactly 1 for active neurons and 0 for the others (a neuron that is never
active never learns: a "dead relu"); leaky relu keeps a small slope (0.01)
instead of 0.  We train the same deep MLP with each activation, from the
same seed, and print the steps to the target loss and the mean |∂L/∂w| of
each layer at step 0: the gradient reaching the first layer tells the story.

    python -m examples.activations --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/activations.py
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

ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu")
TARGET = 0.2
HEADERS = [
    "activation",
    f"steps to loss <= {TARGET}",
    "final loss",
    "final accuracy",
    "mean abs(Δw) per step",
    "grad layer 1 / grad last layer",
]


def experiment(
    seed: int, steps: int, hidden: Sequence[int]
) -> tuple[dict[str, History], list[list[Any]], list[list[Any]]]:
    """Train MLP(2, [*hidden, 1]) with each activation (Xavier init, same seed)."""
    X, y = moons(60, seed)
    histories: dict[str, History] = {}
    rows: list[list[Any]] = []
    grads: list[list[Any]] = []
    for act in ACTIVATIONS:
        model = MLP(2, [*hidden, 1], activation=act, init="xavier_uniform", seed=seed)
        g = list(layer_grad_sizes(model, bce_with_logits([model(x) for x in X.tolist()], y.tolist())).values())
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
        histories[act] = hist
        rows.append(
            [
                act,
                steps_to(hist.loss, TARGET),
                hist.loss[-1],
                f"{hist.accuracy[-1]:.0%}",
                meter.mean,
                g[0] / g[-1] if g[-1] else float("nan"),
            ]
        )
        grads.append([act, *g])
    return histories, rows, grads


def run(args: Args) -> list[list[Any]]:
    hidden = args.pick([10, 10, 10, 10], [4, 4])
    steps = args.pick(120, 3, reduced=70)
    print(
        f"MLP(2, {[*hidden, 1]}), Xavier init (seed {args.seed}), 60 moons; SGD lr=0.1, momentum 0.9; "
        f"{steps} full-batch steps"
    )
    histories, rows, grads = experiment(args.seed, steps, hidden)
    print_table("Activations: steps to converge", HEADERS, rows)
    print_table(
        "Mean |∂L/∂w| per layer at step 0 (layer 1 is next to the inputs)",
        ["activation", *[f"layer {i + 1}" for i in range(len(hidden) + 1)]],
        grads,
    )
    picture(
        args,
        "plot_losses",
        args.out / "activations_loss.png",
        histories,
        log=True,
        title="Loss per step for each activation",
        what="loss curves per activation",
    )
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
