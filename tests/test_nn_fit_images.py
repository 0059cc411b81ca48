"""fit(model, X, y) with image arrays X of shape (samples, channels, height, width)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nn import Conv2d, Flatten, Layer, MaxPool2d, Sequential, fit
from nn.data import batches, make_digits

SETTINGS: dict[str, Any] = {
    "loss": "cross_entropy",
    "optimizer": "adam",
    "lr": 0.05,
    "batch_size": 4,
    "progress": False,
}


def _cnn(pool: bool = True) -> Sequential:
    """Conv 1->2 3x3 -> (max pool 2) -> flatten -> dense to 10 logits, on 8x8 images."""
    if pool:
        return Sequential(
            Conv2d(1, 2, 3, activation="tanh", seed=0), MaxPool2d(2), Flatten(), Layer(18, 10, "linear", seed=0)
        )
    return Sequential(Conv2d(1, 2, 3, stride=2, activation="tanh", seed=0), Flatten(), Layer(18, 10, "linear", seed=0))


def test_arrays_train_exactly_as_the_same_images_as_pairs() -> None:
    X, y = make_digits(12, seed=0)
    by_arrays = fit(_cnn(), X, y, epochs=3, shuffle=False, **SETTINGS)
    pairs = list(zip(X.tolist(), y.tolist()))
    by_pairs = fit(_cnn(), pairs, epochs=3, **SETTINGS)
    assert by_arrays.loss == by_pairs.loss
    assert len(by_arrays.loss) == 9
    assert by_arrays.accuracy == by_pairs.accuracy


def test_shuffled_arrays_train_as_the_pairs_in_that_order() -> None:
    X, y = make_digits(8, seed=1)
    order: list[int] = []
    for xb, _ in batches(np.arange(8.0), y, None, True, np.random.default_rng(5)):
        order = [int(i) for i in xb.ravel()]
    shuffled = fit(_cnn(), X, y, epochs=1, shuffle=True, seed=np.random.default_rng(5), **SETTINGS)
    pairs = [(X[i].tolist(), int(y[i])) for i in order]
    assert sorted(order) == list(range(8)) and order != list(range(8))
    assert shuffled.loss == fit(_cnn(), pairs, epochs=1, **SETTINGS).loss


def test_the_loss_falls() -> None:
    X, y = make_digits(20, seed=2)
    hist = fit(_cnn(), X, y, epochs=15, seed=0, **{**SETTINGS, "batch_size": None})
    assert hist.loss[-1] < 0.5 * hist.loss[0]


@pytest.mark.parametrize("pool", [False, True], ids=["conv", "conv+maxpool"])
def test_compiled_conv_matches_eager(pool: bool) -> None:
    """With max pooling too: the window's winner is the registry's max_first, chosen on every replay."""
    X, y = make_digits(12, seed=0)
    eager = fit(_cnn(pool=pool), X, y, epochs=2, shuffle=False, **SETTINGS)
    compiled = fit(_cnn(pool=pool), X, y, epochs=2, shuffle=False, compile=True, **SETTINGS)
    np.testing.assert_allclose(compiled.loss, eager.loss, rtol=1e-12, atol=1e-12)


def test_bad_image_shapes_get_clear_errors() -> None:
    X, y = make_digits(6, seed=0)
    with pytest.raises(
        ValueError, match=r"fit: X must be 2-D \(samples, features\) or 4-D images .* shape \(6, 8, 8\)"
    ):
        fit(_cnn(), X[:, 0], y, **SETTINGS)
    with pytest.raises(ValueError, match="fit: X has 2 channels per image but the model's first layer reads 1"):
        fit(_cnn(), np.concatenate([X, X], axis=1), y, **SETTINGS)
    with pytest.raises(ValueError, match="fit: X has 6 samples but y has 5"):
        fit(_cnn(), X, y[:5], **SETTINGS)
    with pytest.raises(ValueError, match="fit: X contains nan or inf"):
        fit(_cnn(), np.where(X > 0.5, np.nan, X), y, **SETTINGS)
