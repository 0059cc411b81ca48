"""explain(): the chain rule for one weight agrees with the engine for every weight."""

from __future__ import annotations

import re

import pytest

import nn
import viz
from autograd import Value, dot, grad


def number_after(text: str, prefix: str) -> float:
    m = re.search(re.escape(prefix) + r" ([-+0-9.e]+)", text)
    assert m, f"{prefix!r} not in:\n{text}"
    return float(m.group(1))


def small_mlp_loss(fused: bool = True):
    model = nn.MLP(3, [4, 4, 1], activation="tanh", seed=2, fused=fused)
    xs = [[0.5, -1.0, 2.0], [1.0, 0.3, -0.5], [-0.7, 0.2, 0.9]]
    loss = nn.mse_loss([model(x) for x in xs], [1.0, -1.0, 0.5])
    loss.backward()
    return model, loss


@pytest.mark.parametrize("fused", [True, False])
def test_explain_agrees_with_grad_for_every_weight_of_a_small_mlp(fused: bool) -> None:
    model, loss = small_mlp_loss(fused)
    for name, p in model.named_parameters():
        text = viz.explain(p, loss, lr=0.05, precision=17)
        assert "every factor agrees with the engine" in text, text
        assert "✗" not in text
        shown = number_after(text, "autograd.grad gives")
        assert shown == pytest.approx(p.grad, rel=1e-12, abs=1e-15), name
        assert name in text
        delta = float(text.rsplit("= ", 1)[1])
        assert delta == pytest.approx(-0.05 * p.grad, rel=1e-12, abs=1e-15)


def test_single_sample_hidden_weight_reads_as_delta_times_x() -> None:
    model = nn.MLP(2, [3, 3, 1], activation="tanh", seed=0)
    x = [0.4, -1.2]
    loss = nn.mse_loss([model(x)], [1.0])
    loss.backward()
    w = model.layers[0].neurons[1].w[1]
    text = viz.explain(w, loss)
    assert "w = layers.0.neurons.1.w.1" in text
    assert "∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w\n" in text      # a feeds the 3 neurons of the next layer
    # δ·x: x is the input this weight multiplies
    delta = number_after(text, "with δ = ∂L/∂z =")
    assert delta * x[1] == pytest.approx(w.grad, rel=1e-5)
    assert "x = -1.2" in text


def test_hand_built_neuron() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.label = "o"
    o.backward()
    text = viz.explain(w1, o, lr=0.1)
    assert "every factor agrees" in text
    assert number_after(text, "autograd.grad gives") == pytest.approx(1.0, rel=1e-4)  # micrograd: w1.grad = 1.0
    assert "= x, the input w multiplies (x1)" in text
    assert "Δw = −η·δ·x" in text


def test_fused_dot_bias_and_input() -> None:
    w = [Value(0.5, label="w0"), Value(-1.0, label="w1")]
    b = Value(0.25, label="b")
    z = dot(w, [3.0, 4.0], b)
    L = z.sigmoid()
    L.label = "L"
    L.backward()
    assert "(w is the bias of this dot)" in viz.explain(b, L)
    assert "the input w multiplies (4)" in viz.explain(w[1], L)


def test_stale_grad_is_reported() -> None:
    model, loss = small_mlp_loss()
    loss.backward()          # a second backward without zero_grad doubles every .grad
    p = model.layers[1].neurons[2].w[0]
    text = viz.explain(p, loss, precision=17)
    assert "✗ DIFFERS" in text and "zero_grad() missing" in text
    assert number_after(text, "autograd.grad gives") == pytest.approx(grad(loss, p), rel=1e-9)


def test_optimizer_delta_in_text() -> None:
    model, loss = small_mlp_loss()
    opt = nn.Adam(model.parameters(), lr=0.01)
    opt.step()
    p = model.layers[0].neurons[0].b
    text = viz.explain(p, loss, optimizer=opt, precision=17)
    assert f"Δw = {float(repr(opt.deltas[p])):.17g}"[:12] in text
    assert "Adam's last step applied" in text


def test_batch_weight_is_a_sum_over_uses() -> None:
    model, loss = small_mlp_loss()
    text = viz.explain(model.layers[0].neurons[0].w[0], loss)
    assert "feeds 3 ops" in text and "sum over the 3 uses" in text


def test_errors() -> None:
    a = Value(1.0)
    L = a * 2.0
    with pytest.raises(ValueError, match="not in the graph"):
        viz.explain(Value(3.0), L)
    with pytest.raises(ValueError, match="root itself"):
        viz.explain(L, L)
    with pytest.raises(TypeError):
        viz.explain(1.0, L)
