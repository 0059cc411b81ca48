"""Same network, same data, same seed: seven ways of turning a gradient into a weight update.

Plain SGD moves every weight by −η·∂L/∂w.  Momentum adds a running sum of past
steps, so updates in a consistent direction grow and zig-zags cancel;
Nesterov looks ahead before it adds.  Adagrad, RMSprop and Adam divide each
weight's step by a running size of its own gradients, so every weight gets
its own learning rate; AdamW also shrinks the weights a little each step.
Each run below starts from the same weights of an MLP(2, [8, 8, 1]) on the
two moons, takes full-batch steps, and we count the steps until the loss
first reaches the target, and the mean |Δw| each step applied (read from
``optimizer.deltas``).

    python -m examples.optimizers --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/optimizers.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples._common import Args, DeltaMeter, main_guard, moons, picture, print_table, setup, steps_to
from nn import MLP, SGD, Adagrad, Adam, AdamW, History, RMSprop, fit

TARGET = 0.1  # binary cross-entropy; 0.69 is a coin toss

#: name -> how to build the optimizer for a model's parameters (learning rates usual for each rule)
OPTIMIZERS: dict[str, Callable[[list], Any]] = {
    "SGD lr=0.1": lambda p: SGD(p, lr=0.1),
    "SGD+momentum 0.9": lambda p: SGD(p, lr=0.1, momentum=0.9),
    "SGD+Nesterov 0.9": lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "Adagrad lr=0.1": lambda p: Adagrad(p, lr=0.1),
    "RMSprop lr=0.01": lambda p: RMSprop(p, lr=0.01),
    "Adam lr=0.02": lambda p: Adam(p, lr=0.02),
    "AdamW lr=0.02": lambda p: AdamW(p, lr=0.02, weight_decay=0.01),
}
MOMENTUM = ("SGD lr=0.1", "SGD+momentum 0.9", "SGD+Nesterov 0.9")

HEADERS = ["optimizer", f"steps to loss <= {TARGET}", "final loss", "final accuracy", "mean abs(Δw) per step"]


@dataclass
class Result:
    """Every run's History and mean |Δw|, and the table of them."""

    histories: dict[str, History] = field(default_factory=dict)
    rows: list[list[Any]] = field(default_factory=list)

    def table(self, names: Sequence[str] | None = None) -> list[list[Any]]:
        return [r for r in self.rows if names is None or r[0] in names]


def experiment(seed: int, steps: int, names: Sequence[str] | None = None) -> Result:
    """Train one fresh copy of the same model per optimizer for ``steps`` full-batch steps."""
    X, y = moons(100, seed)
    res = Result()
    for name in names or OPTIMIZERS:
        model = MLP(2, [8, 8, 1], activation="tanh", init="xavier_uniform", seed=seed)
        meter = DeltaMeter()
        hist = fit(
            model,
            X,
            y,
            loss="bce_with_logits",
            optimizer=OPTIMIZERS[name](model.parameters()),
            epochs=steps,
            seed=seed,
            progress=False,
            callbacks=[meter],
        )
        res.histories[name] = hist
        res.rows.append([name, steps_to(hist.loss, TARGET), hist.loss[-1], f"{hist.accuracy[-1]:.0%}", meter.mean])
    return res


def run(args: Args) -> Result:
    steps = args.pick(150, 5)
    print(f"MLP(2, [8, 8, 1]), tanh, Xavier init (seed {args.seed}); 100 moons; {steps} full-batch steps each")
    res = experiment(args.seed, steps)
    print_table("Optimizers on the same task", HEADERS, res.rows)
    picture(
        args,
        "plot_losses",
        args.out / "optimizers_loss.png",
        res.histories,
        log=True,
        title="Loss per step, same model and seed",
        what="loss curves of every optimizer",
    )
    picture(
        args,
        "plot_deltas",
        args.out / "optimizers_deltas.png",
        res.histories,
        what="mean |Δw| per step of every optimizer",
    )
    return res


def main(argv: Sequence[str] | None = None) -> Result:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
