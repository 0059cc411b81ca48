"""One weight, learned by gradient descent: the update w ← w − η·∂L/∂w, step by step.

The data are x = [1, 2, 3] and y = [2, 4, 6], so the best weight of the model
y ≈ w·x is 2.  Starting from w = 0 with learning rate η = 0.01, each epoch
computes the mean squared error L = mean((y − w·x)²), its derivative ∂L/∂w and
the update Δw = −η·∂L/∂w.  We do it twice: once with deltaw, which builds the
graph of L out of Values and gets ∂L/∂w from backward(), and once with the
derivative written by hand, ∂L/∂w = −2·mean((y − w·x)·x).  The two columns of
numbers agree; the last line says by how much at most.

    python -m examples.weight_update
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python examples/weight_update.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import Value
from examples._common import main_guard, picture, setup
from nn import SGD, mse_loss

X = [1.0, 2.0, 3.0]
Y = [2.0, 4.0, 6.0]
LR = 0.01
EPOCHS = 50


def line(epoch: int, loss: float, w: float) -> str:
    """The line printed every 10 epochs: the loss before the update, the weight after it."""
    return f"Epoch {epoch} | Loss: {loss:.4f} | Weight: {w:.4f}"


def with_deltaw() -> tuple[list[tuple[float, float]], Value, SGD]:
    """Train w with deltaw Values and ``nn.SGD``; returns (loss, weight after) per epoch, and the
    last epoch's loss graph and optimizer (for the picture)."""
    w = Value(0.0, label="w")
    opt = SGD([w], lr=LR)
    record = []
    loss = Value(0.0)
    for epoch in range(EPOCHS):
        opt.zero_grad()
        loss = mse_loss([w * x for x in X], Y)  # the graph of L = mean((w·x − y)²)
        loss.backward()  # fills w.grad = ∂L/∂w
        opt.step()  # w ← w − η·∂L/∂w; opt.deltas[w] is that Δw
        record.append((loss.data, w.data))
        if epoch % 10 == 0:
            print(line(epoch, loss.data, w.data))
    loss.label = "L"
    return record, loss, opt


def by_hand() -> list[tuple[float, float]]:
    """The same training with plain floats and the derivative written out by hand."""
    w = 0.0
    record = []
    n = len(X)
    for epoch in range(EPOCHS):
        residuals = [y - w * x for x, y in zip(X, Y)]
        loss = sum(r * r for r in residuals) / n
        grad = -2.0 * sum(r * x for r, x in zip(residuals, X)) / n  # −2·mean((y − w·x)·x)
        w -= LR * grad
        record.append((loss, w))
        if epoch % 10 == 0:
            print(line(epoch, loss, w))
    return record


def main(argv: Sequence[str] | None = None) -> float:
    args = setup(__doc__, argv)
    print("With deltaw (Values, backward(), nn.SGD):")
    auto, loss, opt = with_deltaw()
    print("With the gradient by hand, dL/dw = -2*mean((y - w*x)*x):")
    hand = by_hand()
    gap = max(max(abs(a[0] - h[0]), abs(a[1] - h[1])) for a, h in zip(auto, hand))
    print(f"Largest difference between the two runs over {EPOCHS} epochs (loss or weight): {gap:.3g}")
    picture(
        args,
        "draw_graph",
        args.out / "weight_update_graph.svg",
        loss,
        optimizer=opt,
        what="the last epoch's graph, with the Δw SGD applied",
    )
    return gap


if __name__ == "__main__":
    main_guard(main)
