"""Recurrent cells and their unrolled wrappers: torch's equations and layout (checked against an
independent numpy re-derivation and hand-computed 1×1 cells), gradients against central
differences (one step and backprop through time), init, errors, gradient clipping, and a small
sequence task that each of RNN, LSTM and GRU must learn."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from autograd import Value, no_grad, numerical_grad, vsum
from nn.data import make_sine_windows
from nn.layers import Layer
from nn.losses import mse_loss
from nn.module import Module
from nn.optim import Adam
from nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from nn.training import fit
from nn.utils import clip_grad_norm


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- independent reference: torch's documented equations on numpy arrays -------------------
def ref_rnn(sd, x, h, act="tanh"):
    pre = (
        np.array(sd["weight_ih"]) @ x
        + np.array(sd["bias_ih"])
        + np.array(sd["weight_hh"]) @ h
        + np.array(sd["bias_hh"])
    )
    return np.tanh(pre) if act == "tanh" else np.maximum(pre, 0.0)


def ref_lstm(sd, x, h, c):
    gates = (
        np.array(sd["weight_ih"]) @ x
        + np.array(sd["bias_ih"])
        + np.array(sd["weight_hh"]) @ h
        + np.array(sd["bias_hh"])
    )
    i, f, g, o = np.split(gates, 4)
    c2 = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c2), c2


def ref_gru(sd, x, h):
    gi = np.array(sd["weight_ih"]) @ x + np.array(sd["bias_ih"])
    gh = np.array(sd["weight_hh"]) @ h + np.array(sd["bias_hh"])
    i_r, i_z, i_n = np.split(gi, 3)
    h_r, h_z, h_n = np.split(gh, 3)
    r, z = sig(i_r + h_r), sig(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def datas(vs):
    return [v.data for v in vs]


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_rnn_cell_matches_reference(act):
    rng = np.random.default_rng(0)
    cell = RNNCell(3, 4, activation=act, seed=1)
    x, h = rng.normal(size=3), rng.normal(size=4)
    got = cell(x.tolist(), h.tolist())
    np.testing.assert_allclose(datas(got), ref_rnn(cell.to_torch_state_dict(), x, h, act), rtol=1e-12, atol=1e-14)


def test_lstm_cell_matches_reference():
    rng = np.random.default_rng(1)
    cell = LSTMCell(3, 4, seed=2)
    x, h, c = rng.normal(size=3), rng.normal(size=4), rng.normal(size=4)
    h2, c2 = cell(x.tolist(), (h.tolist(), c.tolist()))
    eh, ec = ref_lstm(cell.to_torch_state_dict(), x, h, c)
    np.testing.assert_allclose(datas(h2), eh, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(datas(c2), ec, rtol=1e-12, atol=1e-14)


def test_gru_cell_matches_reference():
    rng = np.random.default_rng(2)
    cell = GRUCell(3, 4, seed=3)
    x, h = rng.normal(size=3), rng.normal(size=4)
    got = cell(x.tolist(), h.tolist())
    np.testing.assert_allclose(datas(got), ref_gru(cell.to_torch_state_dict(), x, h), rtol=1e-12, atol=1e-14)


def load(cell, weight_ih, weight_hh, bias_ih, bias_hh):
    """Set a cell's parameters through load_state_dict: matrices given row-major as flat lists."""
    state = {}
    for name, vals, width in (("weight_ih", weight_ih, cell.nin), ("weight_hh", weight_hh, cell.nhidden)):
        for k, v in enumerate(vals):
            state[f"{name}.{k // width}.{k % width}"] = v
    for name, vals in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        for k, v in enumerate(vals):
            state[f"{name}.{k}"] = v
    cell.load_state_dict(state)


def s(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_hand_checked_rnn_step():
    cell = RNNCell(1, 1)
    load(cell, [0.5], [-0.25], [0.1], [0.2])
    (h,) = cell([2.0], [0.4])
    assert h.data == pytest.approx(math.tanh(0.5 * 2.0 + 0.1 - 0.25 * 0.4 + 0.2), abs=1e-15)


def test_hand_checked_lstm_step():
    # one unit: rows i, f, g, o of weight_ih / weight_hh / biases, in torch's order
    cell = LSTMCell(1, 1)
    load(cell, [0.1, 0.2, 0.3, 0.4], [-0.1, -0.2, -0.3, -0.4], [0.01, 0.02, 0.03, 0.04], [0.0, 0.5, 0.0, -0.5])
    x, h, c = 1.5, 0.3, -0.7
    i = s(0.1 * x + 0.01 - 0.1 * h + 0.0)
    f = s(0.2 * x + 0.02 - 0.2 * h + 0.5)
    g = math.tanh(0.3 * x + 0.03 - 0.3 * h + 0.0)
    o = s(0.4 * x + 0.04 - 0.4 * h - 0.5)
    c_new = f * c + i * g
    (h2,), (c2,) = cell([x], ([h], [c]))
    assert c2.data == pytest.approx(c_new, abs=1e-15)
    assert h2.data == pytest.approx(o * math.tanh(c_new), abs=1e-15)


def test_hand_checked_gru_step():
    # rows r, z, n; the reset gate scales (W_hn h + b_hn), not h
    cell = GRUCell(1, 1)
    load(cell, [0.7, -0.3, 0.9], [0.2, 0.4, -0.6], [0.1, 0.0, -0.1], [0.05, 0.3, 0.25])
    x, h = -0.8, 0.6
    r = s(0.7 * x + 0.1 + 0.2 * h + 0.05)
    z = s(-0.3 * x + 0.0 + 0.4 * h + 0.3)
    n = math.tanh(0.9 * x - 0.1 + r * (-0.6 * h + 0.25))
    (h2,) = cell([x], [h])
    assert h2.data == pytest.approx((1 - z) * n + z * h, abs=1e-15)


# ---- gradients against central differences ---------------------------------------------------
def check_grads(module, run, inputs, tol=1e-6):
    """∂loss/∂(every parameter and every input) by backprop vs numerical_grad.

    ``run(module, input Values)`` returns a list of output Values; the loss weighs
    them with fixed unequal coefficients so no derivative cancels by symmetry."""
    params = module.parameters()
    start = [p.data for p in params]
    n = len(params)

    def loss_of(outs):
        return vsum([o * (0.3 + 0.17 * k) for k, o in enumerate(outs)])

    def f(*vs):
        for p, v in zip(params, vs[:n]):
            p.data = v.data
        return loss_of(run(module, list(vs[n:])))

    numeric = numerical_grad(f, start + list(inputs))
    for p, x in zip(params, start):
        p.data = x
    module.zero_grad()
    ins = [Value(x) for x in inputs]
    loss_of(run(module, ins)).backward()
    analytic = [p.grad for p in params] + [v.grad for v in ins]
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=tol)


def test_rnn_cell_gradients():
    cell = RNNCell(2, 3, seed=4)
    check_grads(cell, lambda m, v: m(v[:2], v[2:]), [0.3, -0.8, 0.1, 0.5, -0.4])


def test_lstm_cell_gradients():
    cell = LSTMCell(2, 3, seed=5)

    def run(m, v):
        h, c = m(v[:2], (v[2:5], v[5:]))
        return h + c

    check_grads(cell, run, [0.3, -0.8, 0.1, 0.5, -0.4, 0.9, -0.2, 0.6])


def test_gru_cell_gradients():
    cell = GRUCell(2, 3, seed=6)
    check_grads(cell, lambda m, v: m(v[:2], v[2:]), [0.3, -0.8, 0.1, 0.5, -0.4])


@pytest.mark.parametrize("kind", [RNN, GRU, LSTM])
def test_backprop_through_time_gradients(kind):
    model = kind(1, 2, num_layers=2, seed=7)

    def run(m, v):
        outs, _ = m([[x] for x in v])
        return [o for step in outs for o in step]

    check_grads(model, run, [0.5, -1.0, 0.25, 0.8])


# ---- layout, init, state, errors --------------------------------------------------------------
@pytest.mark.parametrize("cls, gates", [(RNNCell, 1), (LSTMCell, 4), (GRUCell, 3)])
def test_torch_layout_and_init(cls, gates):
    cell = cls(3, 5, seed=0)
    sd = cell.to_torch_state_dict()
    assert list(sd) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert np.shape(sd["weight_ih"]) == (gates * 5, 3)
    assert np.shape(sd["weight_hh"]) == (gates * 5, 5)
    assert np.shape(sd["bias_ih"]) == np.shape(sd["bias_hh"]) == (gates * 5,)
    assert cell.num_parameters() == gates * 5 * (3 + 5 + 2)
    # a matrix is a list of rows: weight_ih.r.c is row r (gate unit r), column c, as in torch
    named = dict(cell.named_parameters())
    assert named["weight_ih.2.1"].data == sd["weight_ih"][2][1]
    assert named["weight_ih.2.1"].label == "weight_ih.2.1"
    assert named["weight_hh.4.0"].data == sd["weight_hh"][4][0]
    bound = 1 / math.sqrt(5)
    values = [p.data for p in cell.parameters()]
    assert all(-bound <= v <= bound for v in values)
    assert max(values) > 0.8 * bound and min(values) < -0.8 * bound  # spread over the whole range
    assert [p.data for p in cls(3, 5, seed=0).parameters()] == values
    assert [p.data for p in cls(3, 5, seed=1).parameters()] != values
    random.seed(11)
    a = [p.data for p in cls(3, 5).parameters()]
    random.seed(11)
    assert [p.data for p in cls(3, 5).parameters()] == a  # seed=None draws from `random`, like micrograd


def test_wrapper_torch_names_per_layer():
    model = LSTM(2, 3, num_layers=2, seed=0)
    sd = model.to_torch_state_dict()
    assert list(sd) == [f"{k}_l{layer}" for layer in (0, 1) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert np.shape(sd["weight_ih_l1"]) == (12, 3)  # layer 1 reads layer 0's hidden state
    assert model.named_parameters()[0][0] == "cells.0.weight_ih.0.0"


def test_save_and_load_round_trip(tmp_path):
    model = GRU(2, 3, num_layers=2, seed=0)
    model.save(str(tmp_path / "gru.json"))
    other = GRU(2, 3, num_layers=2, seed=1)
    assert other.state_dict() != model.state_dict()
    other.load(str(tmp_path / "gru.json"))
    assert other.state_dict() == model.state_dict()
    assert other.to_torch_state_dict() == model.to_torch_state_dict()
    xs = [[0.1, -0.2], [0.3, 0.4]]
    assert datas(other(xs)[0][-1]) == datas(model(xs)[0][-1])


def test_none_state_is_zeros_and_numbers_are_accepted():
    cell = LSTMCell(2, 3, seed=1)
    h1, c1 = cell([0.5, -0.5])
    h2, c2 = cell([Value(0.5), Value(-0.5)], ([0.0] * 3, [0.0] * 3))
    h3, c3 = cell(np.array([0.5, -0.5]), (None, None))
    assert datas(h1) == datas(h2) == datas(h3) and datas(c1) == datas(c2) == datas(c3)
    gru = GRUCell(1, 2, seed=0)
    assert datas(gru(0.3)) == datas(gru([0.3], [0.0, 0.0]))


@pytest.mark.parametrize("kind", [RNN, GRU, LSTM])
def test_wrapper_equals_manual_unroll(kind):
    model = kind(2, 3, num_layers=2, seed=3)
    xs = [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]]
    outs, final = model(xs)
    c0, c1 = model.cells
    state0 = state1 = None
    for t, x in enumerate(xs):
        if kind is LSTM:
            state0 = c0(x, state0)
            state1 = c1(state0[0], state1)
            top = state1[0]
        else:
            state0 = c0(x, state0)
            state1 = c1(state0, state1)
            top = state1
        assert datas(outs[t]) == datas(top)
    if kind is LSTM:
        h_n, c_n = final
        assert [datas(h) for h in h_n] == [datas(state0[0]), datas(state1[0])]
        assert [datas(c) for c in c_n] == [datas(state0[1]), datas(state1[1])]
    else:
        assert [datas(h) for h in final] == [datas(state0), datas(state1)]


def test_wrapper_continues_from_a_given_state():
    model = GRU(1, 2, seed=0)
    outs, h_n = model([0.1, 0.2, 0.3, 0.4])
    first, h_mid = model([0.1, 0.2])
    rest, h_end = model([0.3, 0.4], h_mid)
    assert datas(h_end[0]) == datas(h_n[0]) == datas(outs[-1])
    lstm = LSTM(1, 2, seed=0)
    _, (h, c) = lstm([0.1, 0.2])
    out2, _ = lstm([0.3], (h, None))  # either half may be None
    assert len(out2) == 1


def test_errors_name_the_argument_and_the_fix():
    with pytest.raises(ValueError, match="activation must be 'tanh' or 'relu'"):
        RNNCell(1, 2, activation="sigmoid")
    with pytest.raises(ValueError, match="nhidden must be a positive int"):
        LSTMCell(1, 0)
    with pytest.raises(ValueError, match="x has 3 entries but must have 2"):
        GRUCell(2, 2)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="h has 1 entries but must have 2"):
        RNNCell(2, 2)([1.0, 2.0], [0.0])
    with pytest.raises(TypeError, match=r"tuple \(h, c\)"):
        LSTMCell(1, 2)([1.0], [0.0, 0.0])
    with pytest.raises(TypeError, match=r"x\[0\] must be a Value or a finite number"):
        RNNCell(1, 1)([float("nan")])
    with pytest.raises(ValueError, match="sequence is empty"):
        LSTM(1, 2)([])
    with pytest.raises(ValueError, match=r"wrap a single layer's state as \[h\]"):
        RNN(1, 2)([0.1], [0.0, 0.0])


def test_clip_grad_norm_tames_exploding_gradients():
    # relu RNN with large recurrent weights: the gradient grows with every step back in time
    model = RNN(1, 4, activation="relu", seed=0)
    model.load_state_dict({name: (2.0 if "weight_hh" in name else 0.5) for name, _ in model.named_parameters()})
    outs, _ = model([1.0] * 12)
    vsum(outs[-1]).backward()
    norm = math.sqrt(sum(p.grad**2 for p in model.parameters()))
    assert norm > 1e6
    returned = clip_grad_norm(model.parameters(), max_norm=1.0)
    assert returned == pytest.approx(norm)
    clipped = math.sqrt(sum(p.grad**2 for p in model.parameters()))
    assert clipped == pytest.approx(1.0, rel=1e-5)


# ---- learning a sequence task --------------------------------------------------------------
class NextValue(Module):
    """A recurrent layer read out by a linear unit from its last hidden state."""

    def __init__(self, kind, nhidden, seed):
        self.rnn = kind(1, nhidden, seed=seed)
        self.head = Layer(nhidden, 1, activation="linear", seed=seed + 100)

    def __call__(self, xs):
        outs, _ = self.rnn(xs)
        return self.head(outs[-1])


def mse_on(model, pairs):
    with no_grad():
        return mse_loss([model(x) for x, _ in pairs], [y for _, y in pairs]).data


@pytest.mark.parametrize("kind", [RNN, LSTM, GRU])
def test_each_recurrent_layer_learns_the_next_value_of_a_noisy_sine(kind):
    train, test = make_sine_windows(32, 5, seed=0), make_sine_windows(32, 5, seed=1)
    model = NextValue(kind, 4, seed=0)
    before_train, before_test = mse_on(model, train), mse_on(model, test)
    hist = fit(model, train, optimizer=Adam(model.parameters(), lr=0.05), batch_size=8, epochs=40, progress=False)
    assert hist.steps == 40 * 4
    assert before_train / mse_on(model, train) >= 10
    assert before_test / mse_on(model, test) >= 10  # it learned the wave, not the 32 windows
