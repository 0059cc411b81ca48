"""RNN vs LSTM vs GRU: backprop through time on a noisy sine wave.

A recurrent cell reads a sequence one value at a time and carries a hidden
state h from step to step; the loss at the end depends on the first input
through every step in between.  Backprop through time is plain backprop on
the unrolled graph, and the gradient reaching early steps is a product of
one factor per step.  A plain RNN multiplies by W_hh·tanh' each time, which
tends to vanish or explode; the LSTM adds a cell state updated by addition
(c' = f⊙c + i⊙g) and gates that decide what to keep, and the GRU blends old
and new state with an update gate — both give the gradient a path that is
not squashed at every step.  Each model reads windows of a noisy sine and
predicts the next clean value; same data, same optimizer, same seed.  The
last column backprops from the output to the inputs of each window before
training: how strongly the first input still counts, relative to the last.

    python -m examples.recurrent --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/recurrent.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import Value, no_grad
from examples._common import Args, DeltaMeter, main_guard, picture, print_table, setup, steps_to
from nn import Adam, History, Layer, Module, fit, make_sine_windows, mse_loss
from nn.rnn import GRU, LSTM, RNN

TARGET = 0.02
HEADERS = [
    "cell",
    "weights",
    "updates",
    f"updates to loss <= {TARGET}",
    "first loss",
    "final loss",
    "test loss",
    "mean abs(Δw) per update",
    "abs(∂out/∂x_1) / abs(∂out/∂x_T) at init",
]


class NextValue(Module):
    """A recurrent layer read out by one linear neuron from its last hidden state."""

    def __init__(self, kind: type, nhidden: int, seed: int) -> None:
        self.rnn = kind(1, nhidden, seed=seed)
        self.head = Layer(nhidden, 1, activation="linear", seed=seed + 100)

    def __call__(self, xs: Sequence[float]) -> Any:
        outputs, _ = self.rnn(xs)
        return self.head(outputs[-1])


def memory(model: Any, pairs: list) -> float:
    """How much the output still depends on the FIRST input of a window, relative to the last one:
    mean over windows of |∂out/∂x₁| / |∂out/∂x_T|, by backprop through time to the inputs."""
    ratios = []
    for window, _ in pairs:
        xs = [Value(v) for v in window]
        model(xs).backward()
        ratios.append(abs(xs[0].grad) / abs(xs[-1].grad))
    model.zero_grad()
    return sum(ratios) / len(ratios)


def test_loss(model: Any, pairs: list) -> float:
    with no_grad():
        return mse_loss([model(x) for x, _ in pairs], [t for _, t in pairs]).data


def experiment(
    seed: int, epochs: int, n: int = 32, steps: int = 5, nhidden: int = 4, kinds: Sequence[type] = (RNN, LSTM, GRU)
) -> tuple[dict[str, History], list[list[Any]]]:
    """Train one model per cell type on the same windows with Adam(lr=0.05), mini-batches of 8."""
    train, test = make_sine_windows(n, steps, seed=seed), make_sine_windows(n, steps, seed=seed + 1)
    histories: dict[str, History] = {}
    rows: list[list[Any]] = []
    for kind in kinds:
        model = NextValue(kind, nhidden, seed)
        reach = memory(model, train)
        meter = DeltaMeter()
        hist = fit(
            model,
            train,
            optimizer=Adam(model.parameters(), lr=0.05),
            batch_size=8,
            epochs=epochs,
            progress=False,
            callbacks=[meter],
        )
        name = kind.__name__
        histories[name] = hist
        rows.append(
            [
                name,
                len(model.parameters()),
                hist.steps,
                steps_to(hist.loss, TARGET),
                hist.loss[0],
                hist.loss[-1],
                test_loss(model, test),
                meter.mean,
                reach,
            ]
        )
    return histories, rows


def run(args: Args) -> list[list[Any]]:
    epochs = args.pick(40, 1, reduced=25)
    n = args.pick(32, 8)
    print(
        f"Next value of a noisy sine from windows of 5 steps ({n} training windows); hidden size 4; "
        f"Adam lr=0.05, mini-batches of 8, {epochs} epochs"
    )
    histories, rows = experiment(args.seed, epochs, n=n)
    print_table("Recurrent cells on the same sequence task", HEADERS, rows)
    picture(
        args,
        "plot_losses",
        args.out / "recurrent_loss.png",
        histories,
        log=True,
        title="Loss per update (mini-batches of 8)",
        what="loss per cell type",
    )
    picture(args, "plot_deltas", args.out / "recurrent_deltas.png", histories, what="mean |Δw| per update per cell")
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
