"""Batch, stochastic and mini-batch gradient descent: how many samples make one update.

The loss of a data set is the mean of the per-sample losses, so its gradient
is the mean of the per-sample gradients.  Batch gradient descent averages
all of them before each update: one exact, expensive step per epoch.
Stochastic gradient descent updates after every single sample: n noisy,
cheap steps per epoch.  Mini-batches of k samples sit in between: n/k
steps per epoch, each averaging k gradients, so the noise of a step shrinks
like 1/√k.  With the same learning rate and the same number of epochs (so the
same number of sample gradients computed), the smaller the batch, the more
updates are made — and the further the weights travel.  The table shows the
updates per epoch (counted by ``fit``), the loss after each number of epochs,
and the mean |Δw| per update.

    python -m examples.batching --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/batching.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import no_grad
from examples._common import Args, DeltaMeter, main_guard, moons, picture, print_table, setup, steps_to
from nn import MLP, SGD, History, bce_with_logits, fit

N = 64
TARGET = 0.35
HEADERS = [
    "gradient descent",
    "batch size",
    "updates per epoch",
    "updates in total",
    f"updates to full loss <= {TARGET}",
    "full-data loss at the end",
    "mean abs(Δw) per update",
]


def name_of(batch_size: int | None, n: int) -> str:
    if batch_size is None:
        return "batch"
    return "stochastic" if batch_size == 1 else "mini-batch"


def experiment(
    seed: int, epochs: int, sizes: Sequence[int | None] = (None, 32, 8, 1)
) -> tuple[dict[str, History], dict[str, list[float]], list[list[Any]]]:
    """Train the same model with each batch size for ``epochs`` epochs at the same learning rate.

    Returns the histories, the full-data loss after every update, and the table."""
    X, y = moons(N, seed)
    xs, ys = X.tolist(), y.tolist()
    histories: dict[str, History] = {}
    full_loss: dict[str, list[float]] = {}
    rows: list[list[Any]] = []
    for k in sizes:
        model = MLP(2, [8, 1], activation="tanh", init="xavier_uniform", seed=seed)
        meter = DeltaMeter()
        curve: list[float] = []

        def evaluate(info: Any, model: Any = model, curve: list[float] = curve) -> None:
            with no_grad():  # the loss on ALL samples after this update, so the modes compare fairly
                curve.append(bce_with_logits([model(x) for x in xs], ys).data)

        hist = fit(
            model,
            X,
            y,
            loss="bce_with_logits",
            optimizer=SGD(model.parameters(), lr=0.5),
            epochs=epochs,
            batch_size=k,
            seed=seed,
            progress=False,
            callbacks=[meter, evaluate],
        )
        label = f"{name_of(k, N)} (k={k or N})"
        histories[label] = hist
        full_loss[label] = curve
        rows.append(
            [name_of(k, N), k or N, hist.steps_per_epoch[0], hist.steps, steps_to(curve, TARGET), curve[-1], meter.mean]
        )
    return histories, full_loss, rows


def run(args: Args) -> list[list[Any]]:
    epochs = args.pick(20, 2, reduced=12)
    print(
        f"MLP(2, [8, 1]) on {N} moons; SGD lr=0.5; {epochs} epochs for every batch size "
        f"(the same {epochs * N} sample gradients each)"
    )
    histories, full_loss, rows = experiment(args.seed, epochs)
    print_table("Batch, mini-batch and stochastic gradient descent", HEADERS, rows)
    picture(
        args,
        "plot_losses",
        args.out / "batching_loss_per_update.png",
        full_loss,
        log=True,
        title="Full-data loss after each update",
        xlabel="update",
        what="loss vs updates",
    )
    picture(
        args,
        "plot_losses",
        args.out / "batching_loss_per_epoch.png",
        {k: h.epoch_loss for k, h in histories.items()},
        log=True,
        title="Mean loss per epoch",
        xlabel="epoch",
        what="loss vs epochs",
    )
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
