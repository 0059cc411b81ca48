"""A CNN with MaxPool2d trained through ``autograd.compile``: traced once, replayed on new images
whose window maxima sit elsewhere, equal to eager training to 1e-12 (MaxPool2d's windows are
``max_first`` nodes, so the replay picks each maximum from the new numbers)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd
from autograd import Value, no_grad
from nn import Conv2d, Flatten, Layer, MaxPool2d, Sequential, fit
from nn.data import make_digits
from nn.losses import cross_entropy_one_hot

BATCH, STEPS, LR = 3, 12, 0.1


def _cnn() -> Sequential:
    """Conv 1->2 3x3 tanh -> max pool 2 -> flatten -> 10 logits, on 8x8 images."""
    return Sequential(
        Conv2d(1, 2, 3, activation="tanh", seed=0), MaxPool2d(2), Flatten(), Layer(18, 10, "linear", seed=0)
    )


def _data() -> tuple[np.ndarray, np.ndarray]:
    """Digits with noise, one batch of BATCH images per step, and their one-hot targets."""
    X, y = make_digits(BATCH * STEPS, seed=3)
    X = X + np.random.default_rng(0).normal(0.0, 0.3, X.shape)
    return X.reshape(STEPS, BATCH, 1, 8, 8), np.eye(10)[y].reshape(STEPS, BATCH, 10)


def _loss(model: Sequential, images: Any, one_hot: Any) -> Value:
    return cross_entropy_one_hot([model(image) for image in images], one_hot)


def _sgd(model: Sequential) -> None:
    for p in model.parameters():
        p.data -= LR * p.grad


def _train_eager(X: np.ndarray, Y: np.ndarray) -> tuple[list[float], list[float]]:
    model, losses = _cnn(), []
    for xb, yb in zip(X, Y):
        model.zero_grad()
        loss = _loss(model, xb.tolist(), yb.tolist())
        loss.backward()
        _sgd(model)
        losses.append(loss.data)
    return losses, [p.data for p in model.parameters()]


def _train_compiled(X: np.ndarray, Y: np.ndarray, exact: bool) -> tuple[list[float], list[float]]:
    """Trace the loss on the first batch once (images and targets as inputs), then replay it."""
    model = _cnn()
    pixels = [Value(v) for v in X[0].ravel().tolist()]
    targets = [Value(v) for v in Y[0].ravel().tolist()]
    images = [[[pixels[(b * 8 + r) * 8 : (b * 8 + r) * 8 + 8] for r in range(8)]] for b in range(BATCH)]
    rows = [targets[b * 10 : b * 10 + 10] for b in range(BATCH)]
    fn = autograd.compile(_loss(model, images, rows), inputs=pixels + targets, exact=exact)
    losses = []
    for xb, yb in zip(X, Y):
        model.zero_grad()
        losses.append(fn(np.concatenate([xb.ravel(), yb.ravel()])))
        _sgd(model)
    return losses, [p.data for p in model.parameters()]


def _window_winners(X: np.ndarray) -> list[tuple[int, ...]]:
    """Per step, which pixel of each pooling window wins (first maximum), with the initial weights."""
    model = _cnn()
    conv = model.layers[0]
    winners = []
    with no_grad():
        for xb in X:
            maps = np.array([[[[v.data for v in row] for row in c] for c in conv(image)] for image in xb.tolist()])
            windows = maps[:, :, :6, :6].reshape(BATCH, 2, 3, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5)
            winners.append(tuple(windows.reshape(BATCH, 2, 3, 3, 4).argmax(axis=-1).ravel().tolist()))
    return winners


@pytest.mark.parametrize("exact", [True, False])
def test_a_cnn_with_max_pool_trains_compiled_exactly_as_eager(exact: bool) -> None:
    X, Y = _data()
    winners = _window_winners(X)
    assert all(w != winners[0] for w in winners[1:])  # every replay's maxima sit elsewhere than the trace's
    eager_losses, eager_weights = _train_eager(X, Y)
    losses, weights = _train_compiled(X, Y, exact)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-12, atol=0)
    np.testing.assert_allclose(weights, eager_weights, rtol=1e-12, atol=1e-15)
    assert eager_losses[-1] < eager_losses[0]


def test_the_traced_pool_graph_holds_every_pixel_of_each_window() -> None:
    image = [[[Value(float(3 * r + c)) for c in range(4)] for r in range(4)]]
    pooled = MaxPool2d(2)(image)
    for oy, ox, y in ((0, 0, 4.0), (0, 1, 6.0), (1, 0, 10.0), (1, 1, 12.0)):
        out = pooled[0][oy][ox]
        leaves = {v for v in autograd.topological_order(out) if v.is_leaf}
        window = {image[0][2 * oy + dy][2 * ox + dx] for dy in (0, 1) for dx in (0, 1)}
        assert out.data == y and out.op == "max_first" and leaves == window


def test_max_pool_of_plain_numbers_stays_numbers() -> None:
    assert MaxPool2d(2)([[[1.0, 4.0], [4.0, -2.0]]]) == [[[4.0]]]


@pytest.mark.parametrize("optimizer, loss", [("sgd", "cross_entropy"), ("adam", "cross_entropy"), ("sgd", "mse")])
def test_fit_compile_with_max_pool_equals_eager(optimizer: str, loss: str) -> None:
    """fit(compile=True) of a max-pooling CNN (weights on arrays, maxima chosen per replay) equals eager fit."""
    X, y = make_digits(12, seed=0)
    if loss == "mse":
        y = np.eye(10)[y]
    settings: dict[str, Any] = dict(loss=loss, optimizer=optimizer, lr=0.05, batch_size=4, progress=False)
    eager = fit(_cnn(), X, y, epochs=2, shuffle=False, **settings)
    compiled = fit(_cnn(), X, y, epochs=2, shuffle=False, compile=True, **settings)
    np.testing.assert_allclose(compiled.loss, eager.loss, rtol=1e-12, atol=1e-15)
