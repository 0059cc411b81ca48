"""``fit(compile=True)`` trains like eager ``fit`` for every loss it accepts, cross_entropy included.

Each case runs 20 steps twice from the same seed (eager, compiled) and holds the
loss histories and the trained weights to 1e-12 relative, with SGD (momentum) and
Adam, with and without the l1/l2 penalties.
"""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Value

RTOL = 1e-12
STEPS = 20


def _data(loss: str) -> tuple[np.ndarray, np.ndarray, nn.MLP]:
    """Inputs, targets and a fresh model whose outputs suit ``loss``."""
    rng = np.random.default_rng(5)
    if loss == "cross_entropy":
        X, y = nn.make_spiral(60, n_classes=3, noise=0.1, seed=0)
        return X, y, nn.MLP(2, [12, 12, 3], activation="tanh", seed=1)
    X, labels = nn.make_moons(40, noise=0.1, seed=0)
    head = "sigmoid" if loss == "bce" else "linear"
    model = nn.MLP(2, [10, 10, 1], activation="tanh", output_activation=head, seed=1)
    if loss == "mse":
        return X, np.sin(X.sum(axis=1)) + rng.normal(0, 0.05, len(X)), model
    if loss == "hinge":
        return X, labels * 2.0 - 1.0, model
    return X, labels.astype(np.float64), model


def _histories(loss: str, optimizer: str, l1: float = 0.0, l2: float = 0.0) -> list[tuple[list[float], list[float]]]:
    runs = []
    for compiled in (False, True):
        X, y, model = _data(loss)
        opt = (
            nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
            if optimizer == "sgd"
            else nn.Adam(model.parameters(), lr=0.01)
        )
        epochs = STEPS // 4  # 4 mini-batches per epoch: 20 steps
        hist = nn.fit(
            model, X, y, loss=loss, optimizer=opt, epochs=epochs, batch_size=len(X) // 4, seed=3,
            progress=False, compile=compiled, l1=l1, l2=l2,
        )  # fmt: skip
        runs.append((list(hist.loss), [p.data for p in model.parameters()]))
    return runs


def _assert_close(actual: list[float], expected: list[float], what: str, atol: float = 0.0) -> None:
    assert len(actual) == len(expected), what
    bad = [(i, a, e) for i, (a, e) in enumerate(zip(actual, expected)) if abs(a - e) > max(RTOL * abs(e), atol)]
    assert not bad, f"{what}: {len(bad)} differ, e.g. {bad[:3]}"


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("loss", ["mse", "bce", "bce_with_logits", "hinge", "cross_entropy"])
@pytest.mark.parametrize("penalty", [{}, {"l1": 1e-3, "l2": 1e-3}], ids=["plain", "l1+l2"])
def test_compiled_fit_matches_eager_for_every_loss(loss, optimizer, penalty):
    (eager_loss, eager_w), (comp_loss, comp_w) = _histories(loss, optimizer, **penalty)
    assert len(eager_loss) == STEPS
    _assert_close(comp_loss, eager_loss, f"{loss}/{optimizer} loss history")
    # a weight that a sum with cancellation left near 0 keeps only absolute precision
    _assert_close(comp_w, eager_w, f"{loss}/{optimizer} trained weights", RTOL * max(map(abs, eager_w)))


def test_cross_entropy_one_hot_equals_cross_entropy_in_value_and_gradient():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(6, 4)).tolist()
    labels = [0, 3, 1, 1, 2, 0]
    grads = []
    for use_one_hot in (False, True):
        zs = [[Value(v) for v in row] for row in logits]
        if use_one_hot:
            rows = [[Value(float(j == k)) for j in range(4)] for k in labels]
            loss = nn.losses.cross_entropy_one_hot(zs, rows)
        else:
            loss = nn.cross_entropy(zs, labels)
        loss.backward()
        grads.append([loss.data] + [z.grad for row in zs for z in row])
    _assert_close(grads[1], grads[0], "value and gradients")


def test_compiled_cross_entropy_refuses_a_class_the_model_lacks():
    X, y = nn.make_spiral(12, n_classes=3, seed=0)
    model = nn.MLP(2, [4, 2], seed=0)  # two outputs, labels 0..2
    with pytest.raises(ValueError, match="cross_entropy.*class index in 0..1"):
        nn.fit(model, X, y, loss="cross_entropy", progress=False, compile=True)


def test_compiled_cross_entropy_beyond_exp_range_is_a_clear_divergence():
    # a weight of 800 puts one sample's loss near 800 nats: eager's max shift copes, e^(z − z_target) overflows
    X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
    model = nn.MLP(2, [2], seed=0)
    for p in model.parameters():
        p.data = 0.0
    model.parameters()[1].data = 800.0
    with pytest.raises(nn.TrainingDiverged, match="step 0.*exp"):
        nn.fit(model, X, y, loss="cross_entropy", shuffle=False, progress=False, compile=True)
