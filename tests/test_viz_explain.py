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
    assert "∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w\n" in text  # a feeds the 3 neurons of the next layer
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
    assert "∂z/∂w = 1 (z = w0·3 + w1·4 + w: w is added)" in viz.explain(b, L)  # the registry's text of dot
    assert "the input w multiplies (4)" in viz.explain(w[1], L)


def test_stale_grad_is_reported() -> None:
    model, loss = small_mlp_loss()
    loss.backward()  # a second backward without zero_grad doubles every .grad
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


def chain_line(text: str) -> list[str]:
    """The names of the first 'w → … → L' line of an explanation."""
    line = next(ln for ln in text.splitlines() if " → " in ln)
    return line.split(": ", 1)[-1].split(" → ")


def test_names_are_unique_and_respect_user_labels() -> None:
    p, x = Value(0.5, label="p"), Value(2.0, label="w")  # an input that happens to be called w
    t = p * x  # unlabelled: must not be called "z"
    u = t.tanh()  # unlabelled activation: must not be "a"
    z = u * 3.0
    z.label = "z"
    a = z + Value(1.0, label="L")
    a.label = "a"
    root = a.sigmoid()  # unlabelled root: must not be "L"
    root.backward()
    text = viz.explain(p, root, lr=0.1)
    names = chain_line(text)
    assert names == ["w′", "z′", "a′", "z", "a", "L′"], text
    assert len(set(names)) == len(names)
    assert text.startswith("∂L′/∂w′ for w′ = p")
    assert "  z = a′ · 3 = " in text and "  z′ = w′ · w = " in text
    assert "every factor agrees with the engine" in text and "✗" not in text


def test_duplicate_user_labels_get_primes() -> None:
    w = Value(0.3, label="w")
    h = (w * 2.0).tanh()
    h.label = "h"
    h2 = h * 4.0
    h2.label = "h"  # the user used "h" twice
    h2.backward()
    assert chain_line(viz.explain(w, h2)) == ["w", "z", "h′", "h"]  # the root keeps its label


@pytest.mark.parametrize(
    "build, w0, expected",
    [
        (lambda w, x: -w, 1.5, "∂z/∂w = -1 (z = −w)"),
        (lambda w, x: w + x, 1.5, "∂z/∂w = 1 (z = w + x: w is added)"),
        (lambda w, x: x - w, 1.5, "∂z/∂w = -1 (z = x − w)"),
        (lambda w, x: w**2, 1.5, "∂z/∂w = 3 = 2·w (z = w**2)"),
        (lambda w, x: w**3, 2.0, "∂z/∂w = 12 = 3·w^2 (z = w**3)"),
        (lambda w, x: x / w, 2.0, "∂z/∂w = -0.5 = −z/w = −x/w² (z = x / w)"),
        (lambda w, x: w**x, 2.0, "∂z/∂w = 4 = x·w^(x−1) (z = w ** x)"),
        (lambda w, x: 2**w, 3.0, "∂z/∂w = 5.54518 = z·ln 2 (z = 2**w)"),
        (lambda w, x: w.exp(), 0.0, "∂z/∂w = 1 = e^w = z (z = exp(w))"),
        (lambda w, x: w.log(), 4.0, "∂z/∂w = 0.25 = 1/w (z = log(w))"),
        (lambda w, x: w.tanh(), 0.0, "∂z/∂w = 1 = 1 − z² (z = tanh(w))"),
        (lambda w, x: w.relu(), -1.0, "∂z/∂w = 0 = 1 if w > 0 else 0 (z = relu(w))"),
        (lambda w, x: w.leaky_relu(0.1), -1.0, "∂z/∂w = 0.1 = 1 if w > 0 else 0.1 (z = leaky_relu(w, 0.1))"),
        (lambda w, x: abs(w), -2.0, "∂z/∂w = -1 = sign(w) (z = |w|)"),
        (lambda w, x: w.cos(), 0.0, "∂z/∂w = 0 = −sin w (z = cos(w))"),
        # ops added to the registry after explain was written explain themselves (no viz edit):
        # gelu'(0.5) = Φ(0.5) + 0.5·φ(0.5) = 0.691462 + 0.5·0.352065; silu'(0.5) = s·(1 + 0.5·(1 − s)), s = σ(0.5)
        (lambda w, x: w.gelu(), 0.5, "∂z/∂w = 0.867495 = Φ(w) + w·φ(w) (z = w·Φ(w))"),
        (lambda w, x: w.silu(), 0.5, "∂z/∂w = 0.739961 = s·(1 + w·(1 − s)), s = sigmoid(w) (z = w·sigmoid(w))"),
    ],
)
def test_first_op_that_is_not_a_product_states_its_own_derivative(build, w0, expected) -> None:
    w, x = Value(w0, label="w"), Value(2.0, label="x")
    z = build(w, x)
    L = z * 3.0
    L.label = "L"
    L.backward()
    text = viz.explain(w, L, lr=0.1, precision=6)
    assert expected in text, text
    assert "the input w multiplies" not in text and "= δ · x" not in text and "−η·δ·x" not in text
    assert "engine's stored local derivative" in text
    assert "every factor agrees with the engine" in text and "✗" not in text
    assert number_after(text, "autograd.grad gives") == pytest.approx(w.grad, rel=1e-5)


def test_an_added_weight_reads_as_delta_itself() -> None:
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    L = (w + x).tanh()
    L.label = "L"
    L.backward()
    text = viz.explain(w, L, lr=0.1)
    assert "= δ · 1  with δ = ∂L/∂z = " in text
    assert "Δw = −η·δ = −η·∂L/∂w = " in text


def test_a_wrong_stored_local_derivative_is_reported(monkeypatch) -> None:
    # explain reads the public Value.local_grads: a node whose stored ∂z/∂w disagrees
    # with the op's rule is marked, never hidden
    w = Value(1.5, label="w")
    z = w**2
    L = z.tanh()
    L.backward()
    real = Value.local_grads.fget
    monkeypatch.setattr(Value, "local_grads", property(lambda v: tuple(2 * d for d in real(v)) if v is z else real(v)))
    text = viz.explain(w, L)
    assert "✗ DIFFERS from the engine's stored 6" in text
    assert "SOME FACTORS DIFFER FROM THE ENGINE" in text


def test_explain_after_opt_step_says_the_graph_is_stale_and_uses_its_values() -> None:
    model, loss = small_mlp_loss()
    p = model.layers[1].neurons[2].w[0]
    fresh = viz.explain(p, loss, precision=17)
    assert "STALE" not in fresh
    old = p.data
    opt = nn.SGD(model.parameters(), lr=0.1)
    opt.step()
    assert p.data != old
    text = viz.explain(p, loss, optimizer=opt, precision=17)
    assert "⚠ STALE GRAPH" in text
    assert f"w holds {viz.style.fmt(p.data, 17)} now, but L was computed with w = {viz.style.fmt(old, 17)}" in text
    assert f"changes with w = {viz.style.fmt(old, 17)}" in text.splitlines()[0]  # the value the graph used
    assert f"{len(model.parameters()) - 1} other leaves too" in text  # biases too: dot nodes tell
    assert "run the forward pass and backward() again" in text
    # the chain rule itself is the graph's, unchanged by the step
    assert number_after(text, "autograd.grad gives") == number_after(fresh, "autograd.grad gives")


def test_a_changed_input_or_a_sum_operand_is_named() -> None:
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    L = (w * x + w).tanh()
    L.label = "L"
    L.backward()
    x.data = 3.0  # an input edited after the forward pass
    text = viz.explain(w, L)
    assert "1 other leaves too: x (2 → 3)" in text and "w holds" not in text
    x.data = 2.0
    assert "STALE" not in viz.explain(w, L)
    b = Value(1.0, label="b")
    M = b.tanh() * 3.0  # tanh keeps no copy of its operand: the graph cannot tell b's old value
    M.backward()
    b.data = 1.5
    assert "w holds 1.5 now, but L was computed with w = another value" in viz.explain(b, M)
    N = (b + x).tanh()  # two leaves under one +: one of them changed, the graph cannot say which
    N.backward()
    x.data = 5.0
    assert "one or more of w, x changed" in viz.explain(b, N)
