"""``autograd.compile`` over ``nn`` models: the compiled step trains exactly like the eager one.

A compiled loss graph of an ``nn.MLP`` (fused dot neurons and micrograd's
chains, every activation, the losses ``fit`` supports) must give the eager
gradients to 1e-12 relative at fresh batches while an optimizer changes the
weights between calls; ``nn.fit(compile=True)`` must reproduce
``fit(compile=False)``'s history.
"""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Value
from autograd.compiler import compile

RTOL = 1e-12


def close(a: float, b: float, atol: float = 0.0) -> bool:
    return a == b or abs(a - b) <= max(RTOL * max(abs(a), abs(b)), atol)


def assert_all_close(actual, expected, what: str) -> None:
    # A gradient that is a sum with cancellation (a bias fed by +1 and -1 hinge terms) keeps
    # only absolute precision: it is compared to RTOL of the largest gradient in the list.
    atol = RTOL * max(map(abs, expected), default=0.0)
    bad = [(i, a, e) for i, (a, e) in enumerate(zip(actual, expected)) if not close(a, e, atol)]
    assert len(actual) == len(expected) and not bad, f"{what}: {len(bad)} differ, e.g. {bad[:4]}"


LOSSES = {
    "mse": (nn.mse_loss, lambda rng, n: rng.normal(size=(n, 2))),
    "hinge": (nn.hinge_loss, lambda rng, n: rng.choice([-1.0, 1.0], size=(n, 1))),
    "bce_with_logits": (nn.bce_with_logits, lambda rng, n: rng.integers(0, 2, size=(n, 1)).astype(float)),
}


def _loss(model, xs, ys, loss_fn, l2: float):
    preds = [model(x) for x in xs]
    loss = loss_fn(preds, ys)
    if l2:
        loss = loss + nn.l2_penalty(model.parameters(), l2)
    return loss


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("fused", [True, False])
def test_compiled_nn_mlp_matches_eager_over_training(activation, loss_name, fused):
    loss_fn, targets = LOSSES[loss_name]
    nout = 2 if loss_name == "mse" else 1
    rng = np.random.default_rng(3)
    model = nn.MLP(3, [6, 5, nout], activation=activation, seed=4, fused=fused)
    twin = nn.MLP(3, [6, 5, nout], activation=activation, seed=4, fused=fused)
    n = 12
    xv = [[Value(v) for v in row] for row in rng.normal(size=(n, 3)).tolist()]
    yv = [[Value(v) for v in row] for row in targets(rng, n).tolist()]
    ys_for_loss = [row if nout > 1 else row[0] for row in yv]
    fn = compile(
        _loss(model, xv, ys_for_loss, loss_fn, 1e-3),
        inputs=[v for row in xv for v in row] + [v for row in yv for v in row],
        parameters=model.parameters(),
    )
    opt = nn.Adam(model.parameters(), lr=0.02)
    twin_opt = nn.Adam(twin.parameters(), lr=0.02)
    for step in range(3):
        X, Y = rng.normal(size=(n, 3)), targets(rng, n)
        twin_opt.zero_grad()
        eager = _loss(twin, X.tolist(), [row if nout > 1 else row[0] for row in Y.tolist()], loss_fn, 1e-3)
        eager.backward()
        opt.zero_grad()
        value = fn(np.concatenate([X.ravel(), Y.ravel()]))
        assert close(value, eager.data), (value, eager.data)
        assert_all_close(
            [p.grad for p in model.parameters()],
            [p.grad for p in twin.parameters()],
            f"{activation}/{loss_name} step {step}",
        )
        opt.step()
        twin_opt.step()
        assert set(opt.deltas) == set(model.parameters())  # deltas (and viz) see every parameter


@pytest.mark.parametrize("loss", ["mse", "hinge", "cross_entropy"])
def test_fit_compile_reproduces_eager_fit(loss):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 2))
    y = {
        "mse": np.sin(X.sum(axis=1)),
        "hinge": np.where(X[:, 0] > X[:, 1], 1.0, -1.0),
        "cross_entropy": (X[:, 0] > 0) + (X[:, 1] > 0) * 2,  # 4 classes by quadrant
    }[loss]
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [8, 8, 4 if loss == "cross_entropy" else 1], seed=1)
        hist = nn.fit(
            model,
            X,
            y,
            loss=loss,
            optimizer="adam",
            lr=0.01,
            epochs=3,
            batch_size=16,
            seed=2,
            l2=1e-4,
            progress=False,
            compile=compiled,
        )
        runs.append((hist.loss, [p.data for p in model.parameters()]))
    (eager_loss, eager_w), (comp_loss, comp_w) = runs
    assert_all_close(comp_loss, eager_loss, "loss history")
    assert_all_close(comp_w, eager_w, "trained weights")


def test_parameters_the_trace_did_not_use_are_an_error():
    model = nn.MLP(2, [3, 1], seed=0)
    other = nn.MLP(2, [3, 1], seed=1)
    x = [Value(0.5), Value(-0.5)]
    with pytest.raises(ValueError, match="not leaves of the traced graph"):
        compile(model(x) * 1.0, inputs=x, parameters=model.parameters() + other.parameters())
