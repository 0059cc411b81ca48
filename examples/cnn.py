"""relu, sigmoid and tanh in a small convolutional network that reads images of digits.

A convolutional layer slides a few small kernels (here four of 3x3) over the
image, so each kernel weight is shared by every position: its gradient is the
sum of the error signals δ of all the output pixels it touched, each passed
back through the activation's slope at that pixel.  Max pooling then keeps the
largest pixel of each 2x2 window (only that pixel's δ flows back) and a dense
layer maps the 36 pooled values to the 10 digit scores (cross-entropy).  We
train the same network, from the same seed and on the same 8x8 digits
(``nn.data.make_digits``: a bitmap font, shifted, bolder or not, with noise),
with each activation in the convolution, and print the seed's table measured:
the steps until held-out accuracy reaches the target, the final accuracy, and
the mean |Δw| of each layer at update 100 (from the optimizer's ``deltas``,
which ``fit`` records per layer).  Adam divides each step by the gradient's
running size, so |Δw| starts near the learning rate whatever the slope; the
second table therefore shows the raw mean |∂L/∂w| of each layer at step 0,
where sigmoid's slope of at most 0.25 shrinks the kernels' gradient, and the
share of weights whose gradient is exactly zero: a relu kernel that is negative
on every pixel of every image passes no δ back, so it and the dense weights
reading it do not move (a "dead relu"; try ``--seed 1``).  The pictures are
the loss curves, the update sizes per layer, and the kernels each activation
learned.

    python -m examples.cnn --seed 0
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/cnn.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import no_grad
from examples._common import Args, layer_grad_sizes, main_guard, picture, print_table, setup
from nn import Adam, Conv2d, Flatten, History, Layer, MaxPool2d, Sequential, cross_entropy, fit
from nn.data import make_digits

ACTIVATIONS = ("relu", "sigmoid", "tanh")
TARGET = 0.8  # held-out accuracy
LR = 0.02
AT = 100  # the update whose |Δw| the seed's table reports
SIZE = 8  # image side: 8x8 -> conv 3x3 -> 6x6 -> pool 2 -> 3x3, times 4 kernels = 36 features


def make_cnn(activation: str, seed: int) -> Sequential:
    """Conv(1->4, 3x3, activation) -> max pool 2 -> flatten -> dense 36->10 (logits)."""
    return Sequential(
        Conv2d(1, 4, 3, activation=activation, seed=seed),
        MaxPool2d(2),
        Flatten(),
        Layer(36, 10, activation="linear", seed=seed),
    )


def accuracy(model: Any, pairs: Sequence[tuple[Any, int]]) -> float:
    """Share of images whose largest logit is the right digit (no graph kept)."""
    with no_grad():
        hits = 0
        for x, label in pairs:
            scores = [v.data for v in model(x)]
            hits += scores.index(max(scores)) == label
    return hits / len(pairs)


class HeldOut:
    """A ``fit`` callback: held-out accuracy every ``every`` updates, as (step, accuracy)."""

    def __init__(self, pairs: Sequence[tuple[Any, int]], every: int) -> None:
        self.pairs, self.every = pairs, every
        self.curve: list[tuple[int, float]] = []

    def __call__(self, info: Any) -> None:
        step = len(info.history.loss)
        if step % self.every == 0:
            self.curve.append((step, accuracy(info.model, self.pairs)))

    def steps_to(self, target: float) -> int | None:
        """The first measured step whose held-out accuracy reached ``target`` (None: never)."""
        return next((step for step, acc in self.curve if acc >= target), None)


def digits(n: int, seed: int) -> list[tuple[Any, int]]:
    """``n`` digit images as (``[1][8][8]`` nested lists, label) pairs, for the held-out accuracy."""
    X, y = make_digits(n, size=SIZE, seed=seed)
    return list(zip(X.tolist(), y.tolist()))


def first_gradients(model: Any, pairs: Sequence[tuple[Any, int]]) -> list[Any]:
    """Mean |∂L/∂w| of the conv and the dense layer on ``pairs`` before any update, their ratio, and the
    share of weights whose gradient is exactly 0 (behind a relu that is off everywhere they reach)."""
    loss = cross_entropy([model(x) for x, _ in pairs], [label for _, label in pairs])
    sizes = layer_grad_sizes(model, loss)
    params = model.parameters()
    silent = sum(p.grad == 0.0 for p in params) / len(params)
    model.zero_grad()
    return [sizes["layers.0"], sizes["layers.3"], sizes["layers.0"] / sizes["layers.3"], f"{silent:.0%}"]


@dataclass
class Results:
    """One run of the comparison: per activation its History, trained model, table row and step-0 gradients."""

    histories: dict[str, History] = field(default_factory=dict)
    models: dict[str, Sequential] = field(default_factory=dict)
    rows: list[list[Any]] = field(default_factory=list)
    grads: list[list[Any]] = field(default_factory=list)
    optimizers: dict[str, Adam] = field(default_factory=dict)


def experiment(seed: int, n_train: int, epochs: int, batch: int) -> Results:
    """Train make_cnn(act) with each activation, from the same seed, on the same digits."""
    X, y = make_digits(n_train, size=SIZE, seed=seed)  # arrays (n, 1, 8, 8) for fit, read in order
    train, test = list(zip(X.tolist(), y.tolist())), digits(max(20, n_train // 3), seed + 1000)
    out = Results()
    for act in ACTIVATIONS:
        model = make_cnn(act, seed)
        g = first_gradients(model, train[:batch])
        out.grads.append([act, *g])
        meter = HeldOut(test, every=max(1, math.ceil(n_train / batch) // 2))
        opt = Adam(model.parameters(), lr=LR)
        hist = fit(
            model,
            X,
            y,
            loss="cross_entropy",
            optimizer=opt,
            epochs=epochs,
            batch_size=batch,
            shuffle=False,
            progress=False,
            callbacks=[meter],
        )
        at = hist.delta[min(AT, hist.steps) - 1]  # delta[k] is update k+1
        conv, dense = at["layers.0"], at["layers.3"]
        out.histories[act], out.models[act], out.optimizers[act] = hist, model, opt
        out.rows.append(
            [act, meter.steps_to(TARGET), hist.loss[-1], f"{accuracy(model, test):.0%}", conv, dense, conv / dense]
        )
    return out


def sizes(args: Args) -> tuple[int, int, int, int]:
    """(training images, epochs, batch size, the update whose |Δw| the table reports) for this run's size."""
    n_train, epochs, batch = args.pick(300, 40), args.pick(15, 2, reduced=7), args.pick(20, 10)
    return n_train, epochs, batch, min(AT, epochs * math.ceil(n_train / batch))


def headers(at: int) -> list[str]:
    """The columns of the activation table (``experiment``'s rows), with the update they report."""
    return [
        "activation",
        f"steps to held-out accuracy >= {TARGET:.0%}",
        "final loss",
        "final held-out accuracy",
        f"mean abs(Δw) conv, update {at}",
        f"mean abs(Δw) dense, update {at}",
        "conv / dense",
    ]


def run(args: Args) -> list[list[Any]]:
    n_train, epochs, batch, at = sizes(args)
    steps = epochs * math.ceil(n_train / batch)
    print(
        f"CNN: Conv2d(1, 4, 3) -> MaxPool2d(2) -> Flatten -> Layer(36, 10), torch's init (seed {args.seed}); "
        f"{n_train} {SIZE}x{SIZE} digits, cross-entropy, Adam lr={LR}, mini-batches of {batch}, {steps} updates"
    )
    res = experiment(args.seed, n_train, epochs, batch)
    print_table("Activations in a CNN: steps to converge and the size of the updates", headers(at), res.rows)
    print_table(
        f"Mean |∂L/∂w| per layer at step 0 (the first batch of {batch})",
        ["activation", "conv", "dense", "conv / dense", "share with ∂L/∂w = 0"],
        res.grads,
    )
    picture(
        args,
        "plot_losses",
        args.out / "cnn_loss.png",
        res.histories,
        log=True,
        title="CNN on digits: loss per step for each activation",
        what="loss curves per activation",
    )
    picture(
        args,
        "plot_deltas",
        args.out / "cnn_deltas.png",
        res.histories,
        title="mean |Δw| per step: conv (layers.0) and dense (layers.3)",
        what="update sizes per layer and activation",
    )
    for act in ACTIVATIONS:
        picture(
            args,
            "plot_kernels",
            args.out / f"cnn_kernels_{act}.png",
            res.models[act],
            res.optimizers[act],
            what=f"learned kernels and their last Δw ({act})",
        )
    image, label = digits(1, args.seed + 2000)[0]
    picture(
        args,
        "plot_feature_maps",
        args.out / "cnn_feature_maps.png",
        res.models["relu"],
        image,
        what=f"a digit {label} through the relu network's convolution",
    )
    return res.rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
