"""Initializers: sample means and variances against their formulas, seeds, names."""

import math
import random

import numpy as np
import pytest

import nn
from nn import init

NOUT, NIN = 200, 300  # 60,000 draws: sample moments within a few percent


def moments(rows):
    a = np.asarray(rows, dtype=np.float64)
    assert a.shape == (NOUT, NIN)
    return a.mean(), a.var(), a


@pytest.mark.parametrize(
    "fn,kw,var",
    [
        (init.uniform, {}, 1 / 3),
        (init.uniform, dict(a=0.0, b=2.0), 4 / 12),
        (init.normal, dict(std=0.5), 0.25),
        (init.xavier_uniform, {}, 2 / (NIN + NOUT)),  # bound² / 3 with bound = sqrt(6/(fi+fo))
        (init.xavier_normal, dict(gain=2.0), 4 * 2 / (NIN + NOUT)),
        (init.he_uniform, {}, 2 / NIN),  # gain² / fan_in
        (init.he_normal, {}, 2 / NIN),
        (init.he_normal, dict(mode="fan_out"), 2 / NOUT),
    ],
)
def test_variance_matches_formula(fn, kw, var):
    mean, v, a = moments(fn(NOUT, NIN, seed=0, **kw))
    expected_mean = 1.0 if kw.get("a") == 0.0 else 0.0
    assert abs(mean - expected_mean) < 4 * math.sqrt(var / a.size)
    assert v == pytest.approx(var, rel=0.03)


def test_uniform_bounds():
    bound = math.sqrt(6 / (NIN + NOUT))
    _, _, a = moments(init.xavier_uniform(NOUT, NIN, seed=1))
    assert a.max() <= bound and a.min() >= -bound and a.max() > 0.99 * bound
    hb = math.sqrt(2) * math.sqrt(3 / NIN)
    _, _, a = moments(init.he_uniform(NOUT, NIN, seed=1))
    assert a.max() <= hb and a.max() > 0.99 * hb


def test_zeros_and_the_symmetry_problem():
    assert init.zeros(2, 3) == [[0.0] * 3] * 2
    X = [[1.0, 2.0], [-0.5, 0.3], [0.2, -1.0]]
    y = [0.5, -0.2, 0.8]
    # equal rows (not zeros): every hidden neuron gets the same nonzero gradient and stays a copy of the others
    same = lambda nout, nin, seed=None: [[0.3] * nin for _ in range(nout)]  # noqa: E731
    model = nn.MLP(2, [4, 1], activation="tanh", init=same)
    start = [n.w[0].data for n in model.layers[0].neurons]
    nn.mse_loss([model(x) for x in X], y).backward()
    grads = [n.w[0].grad for n in model.layers[0].neurons]
    assert len(set(grads)) == 1 and grads[0] != 0.0
    nn.fit(model, X, y, optimizer="sgd", lr=0.1, epochs=5, progress=False)
    rows = {tuple(p.data for p in n.w + [n.b]) for n in model.layers[0].neurons}
    assert len(rows) == 1 and next(iter(rows))[0] != start[0]  # trained, yet the four neurons are one
    # all zeros: the hidden layer never moves (its outputs and the weights above it are 0), only the output bias
    model = nn.MLP(2, [4, 1], activation="tanh", init="zeros")
    nn.fit(model, X, y, optimizer="sgd", lr=0.1, epochs=5, progress=False)
    *rest, out_bias = model.parameters()
    assert all(p.data == 0.0 for p in rest) and out_bias.data != 0.0


def test_same_seed_same_weights():
    for name, fn in init.INITS.items():
        assert fn(3, 4, seed=11) == fn(3, 4, seed=11)
        if name != "zeros":
            assert fn(3, 4, seed=11) != fn(3, 4, seed=12)
    rng = random.Random(5)
    a = init.normal(2, 2, seed=rng)
    b = init.normal(2, 2, seed=rng)
    assert a != b  # one stream, consecutive draws


def test_layer_uses_the_named_init():
    layer = nn.Layer(NIN, 50, init="he_normal", seed=3)
    w = np.array([[x.data for x in n.w] for n in layer.neurons])
    assert w.var() == pytest.approx(2 / NIN, rel=0.05)
    assert np.array_equal(w, np.array(init.he_normal(50, NIN, seed=3)))
    custom = nn.Layer(2, 2, init=lambda nout, nin, seed=None: [[0.5] * nin for _ in range(nout)])
    assert [x.data for x in custom.neurons[1].w] == [0.5, 0.5]


def test_gain_and_errors():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="mode"):
        init.he_uniform(2, 2, mode="fan_avg")
    with pytest.raises(ValueError, match="nin must be a positive int"):
        init.uniform(2, 0)
