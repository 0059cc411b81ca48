"""Unsupervised vs supervised weight updates: the same network, with and without labels.

Backprop needs a loss, and a loss needs targets.  In supervised learning the
targets are labels someone provided.  An autoencoder makes its own: the
target of each sample is the sample itself.  The encoder squeezes 6 numbers
into a code of 2, the decoder rebuilds the 6 from the code, and the
reconstruction error drives the updates of both halves.  Nothing tells the
network what the 2 code numbers should mean — yet our data were made from
2 hidden causes Z, and after training a linear map from the code recovers
them (R² near 1).  As the supervised twin, the very same architecture learns
a labelled target of the same size, Y = tanh(Z·B), from the same inputs.
Same weights count, same optimizer, same seed; the table compares the
updates each needed, the mean |Δw| per update in the encoder and the
decoder, and what the code learned.

    python -m examples.autoencoder --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a file: python examples/autoencoder.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import no_grad
from examples._common import Args, DeltaMeter, main_guard, picture, print_table, setup, steps_to
from nn import Adam, Autoencoder, History, fit, make_latent

TARGET = 0.01
HEADERS = [
    "task",
    "targets",
    "weights",
    "updates",
    f"updates to loss <= {TARGET}",
    "final loss",
    "mean abs(Δw) encoder",
    "mean abs(Δw) decoder",
    "R² of Z from the code",
]


def code_r2(model: Autoencoder, X: np.ndarray, Z: np.ndarray) -> float:
    """How much of the hidden causes Z a linear map (with intercept) from the learned code explains."""
    with no_grad():
        codes = np.array([[c.data for c in model.encode(x)] for x in X.tolist()])
    A = np.column_stack([codes, np.ones(len(codes))])
    coef, *_ = np.linalg.lstsq(A, Z, rcond=None)
    residual = Z - A @ coef
    return float(1.0 - (residual**2).sum() / ((Z - Z.mean(axis=0)) ** 2).sum())


def experiment(seed: int, epochs: int, n: int = 60) -> tuple[dict[str, History], list[list[Any]]]:
    """Train Autoencoder(6, code=2, hidden=[8]) on X → X, and its twin on X → Y, with Adam(lr=0.02)."""
    X, Z = make_latent(n, nin=6, code=2, noise=0.02, seed=seed)
    B = np.random.default_rng(seed + 1).normal(0.0, 1.0, size=(2, 6))
    Y = np.tanh(Z @ B)  # labels: a known function of the causes, the same size as X
    histories: dict[str, History] = {}
    rows: list[list[Any]] = []
    for task, targets, what in (
        ("unsupervised (autoencoder)", X, "the inputs"),
        ("supervised (same network)", Y, "labels Y = tanh(Z·B)"),
    ):
        model = Autoencoder(6, code=2, hidden=[8], seed=seed)
        meter = DeltaMeter()
        halves: dict[str, list[float]] = {"encoder": [], "decoder": []}

        def by_half(info: Any, model: Autoencoder = model, halves: dict = halves) -> None:
            for half in halves:
                ps = getattr(model, half).parameters()
                halves[half].append(sum(abs(info.optimizer.deltas[p]) for p in ps) / len(ps))

        hist = fit(
            model,
            X,
            targets,
            loss="mse",
            optimizer=Adam(model.parameters(), lr=0.02),
            epochs=epochs,
            seed=seed,
            progress=False,
            callbacks=[meter, by_half],
        )
        histories[task] = hist
        mean = lambda xs: sum(xs) / len(xs)
        rows.append(
            [
                task,
                what,
                len(model.parameters()),
                hist.steps,
                steps_to(hist.loss, TARGET),
                hist.loss[-1],
                mean(halves["encoder"]),
                mean(halves["decoder"]),
                code_r2(model, X, Z),
            ]
        )
    return histories, rows


def run(args: Args) -> list[list[Any]]:
    epochs = args.pick(300, 3, reduced=150)
    n = args.pick(60, 12)
    print(
        f"{n} samples of 6 features made from 2 hidden causes; Autoencoder(6, code=2, hidden=[8]); "
        f"Adam lr=0.02, {epochs} full-batch steps"
    )
    histories, rows = experiment(args.seed, epochs, n)
    print_table("Unsupervised vs supervised, same network", HEADERS, rows)
    picture(
        args,
        "plot_losses",
        args.out / "autoencoder_loss.png",
        histories,
        log=True,
        title="Loss per update",
        what="reconstruction vs supervised loss",
    )
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
