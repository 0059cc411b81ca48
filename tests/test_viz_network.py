"""draw_network: neurons and weights with a, δ, w, ∂L/∂w and Δw; fast and readable when big."""

from __future__ import annotations

import re
import time

import pytest

import nn
import viz
from autograd import no_grad
from viz.renderers import pipe

EDGE = re.compile(r'^\t(\w+) -> (n\d+_\d+) \[color="(#[0-9a-f]+)" penwidth="([\d.]+)" '
                  r'tooltip="([\w.]+): w=(\S+) ∂L/∂w=(\S+)(?: Δw=(\S+))?"', re.M)


def trained_one_step(nin: int, sizes: list[int], n: int = 8, seed: int = 0):
    model = nn.MLP(nin, sizes, activation="tanh", seed=seed)
    X, y = nn.make_moons(n, noise=0.1, seed=seed) if nin == 2 else (
        [[0.3 * i - 1.0, 0.5, -0.2 * i] for i in range(n)], [(-1.0) ** i for i in range(n)])
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        loss = nn.mse_loss([model(list(map(float, x))) for x in X], [float(t) for t in y])
        loss.backward()
        opt.step()
    return model, opt, [float(v) for v in X[0]]


def test_mlp_3_8_8_1_every_weight_and_neuron() -> None:
    model, opt, x = trained_one_step(3, [8, 8, 1])
    t = time.perf_counter()
    g = viz.draw_network(model, optimizer=opt, inputs=x)
    assert time.perf_counter() - t < 0.5
    src = g.source
    edges = EDGE.findall(src)
    assert len(edges) == 3 * 8 + 8 * 8 + 8
    params = dict(model.named_parameters())
    for s, t_, colour, width, name, w, gw, dw in edges:
        p = params[name]
        assert float(w) == p.data and float(gw) == p.grad and float(dw) == opt.deltas[p]
        assert colour.startswith("#b2182b" if opt.deltas[p] > 0 else "#2166ac")
        li, j = map(int, re.match(r"layers\.(\d+)\.neurons\.(\d+)", name).groups())
        assert t_ == f"n{li}_{j}"
        assert s == (f"x{int(name.rsplit('.', 1)[1])}" if li == 0 else f"n{li - 1}_{name.rsplit('.', 1)[1]}")
    # pen width grows with |w|
    widths = sorted((abs(float(w)), float(pw)) for _, _, _, pw, _, w, _, _ in edges)
    assert widths[0][1] < widths[-1][1]
    # the first layer's 24 weights are labelled with their three numbers
    assert src.count("∂L/∂w=") >= 24 + len(edges)
    # δ = ∂L/∂z = ∂L/∂b and the forward values a of the given sample
    with no_grad():
        h = model.layers[0]([float(v) for v in x])
    for j, n in enumerate(model.layers[0].neurons):
        assert f'layers.0.neurons.{j}: b={n.b.data!r} δ=∂L/∂b={n.b.grad!r}' in src
        assert f"a = tanh(z) = {viz.style.fmt(h[j].data, 3)}" in src
    assert src.count("layers.") >= 17 and "thinned" not in src
    t = time.perf_counter()
    png = pipe(g, "png")
    assert png.startswith(b"\x89PNG") and time.perf_counter() - t < 10


def test_mlp_2_50_50_1_is_fast_and_thinned_saying_so(tmp_path) -> None:
    model, opt, x = trained_one_step(2, [50, 50, 1])
    t = time.perf_counter()
    g = viz.draw_network(model, optimizer=opt, inputs=x)
    assert time.perf_counter() - t < 1.0
    src = g.source
    edges = EDGE.findall(src)
    assert len(edges) <= 400
    assert "thinned" in src and "of 2500 weights drawn" in src and "max_edges=None" in src
    # into each neuron of layer 1: its largest-|Δw| weights
    params = dict(model.named_parameters())
    for j, n in enumerate(model.layers[1].neurons):
        drawn = {name for _, tgt, _, _, name, *_ in edges if tgt == f"n1_{j}"}
        assert drawn
        smallest_drawn = min(abs(opt.deltas[params[nm]]) for nm in drawn)
        others = [abs(opt.deltas[w]) for w in n.w if w.label not in drawn]
        assert all(o <= smallest_drawn for o in others)
    # every neuron is there, in compact one-line form
    assert len(re.findall(r"^\t\tn\d+_\d+ \[", src, flags=re.M)) == 101
    t = time.perf_counter()
    out = viz.render(g, tmp_path / "net.svg")
    took = time.perf_counter() - t
    assert took < 10, f"dot took {took:.1f} s"
    assert out.stat().st_size > 10_000
    full = viz.draw_network(model, optimizer=opt, max_edges=None).source
    assert len(EDGE.findall(full)) == 2 * 50 + 50 * 50 + 50


def test_lr_and_no_delta() -> None:
    model, opt, x = trained_one_step(3, [4, 1])
    src = viz.draw_network(model, lr=0.5).source
    params = dict(model.named_parameters())
    for *_, name, w, gw, dw in EDGE.findall(src):
        assert float(dw) == -0.5 * params[name].grad
    plain = viz.draw_network(model).source
    assert "Δw=" not in plain and "no Δw" in plain


def test_layer_and_sequential_and_errors() -> None:
    layer = nn.Layer(3, 2, seed=0)
    assert len(EDGE.findall(viz.draw_network(layer).source)) == 6
    seq = nn.Sequential(nn.Layer(2, 3, seed=0), nn.Dropout(0.5, seed=0), nn.Layer(3, 1, seed=1))
    assert len(EDGE.findall(viz.draw_network(seq).source)) == 2 * 3 + 3
    with pytest.raises(ValueError, match="takes 2 inputs"):
        viz.draw_network(seq, inputs=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="no .layers"):
        viz.draw_network(object())
    with pytest.raises(ValueError, match="max_edges"):
        viz.draw_network(layer, max_edges=0)
