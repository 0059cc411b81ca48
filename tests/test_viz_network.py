"""draw_network: neurons and weights with a, δ, w, ∂L/∂w and Δw; fast and readable when big."""

from __future__ import annotations

import math
import re

import pytest

import nn
import viz
from autograd import no_grad
from viz.renderers import pipe

EDGE = re.compile(
    r'^\t(\w+) -> (n\d+_\d+) \[color="(#[0-9a-f]+)" penwidth="([\d.]+)" '
    r'tooltip="([\w.]+): w=(\S+) ∂L/∂w=(\S+)(?: Δw=(\S+))?"',
    re.M,
)


def trained_one_step(nin: int, sizes: list[int], n: int = 8, seed: int = 0):
    model = nn.MLP(nin, sizes, activation="tanh", seed=seed)
    X, y = (
        nn.make_moons(n, noise=0.1, seed=seed)
        if nin == 2
        else ([[0.3 * i - 1.0, 0.5, -0.2 * i] for i in range(n)], [(-1.0) ** i for i in range(n)])
    )
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        loss = nn.mse_loss([model(list(map(float, x))) for x in X], [float(t) for t in y])
        loss.backward()
        opt.step()
    return model, opt, [float(v) for v in X[0]]


@pytest.mark.requires_dot
def test_mlp_3_8_8_1_every_weight_and_neuron() -> None:
    model, opt, x = trained_one_step(3, [8, 8, 1])
    g = viz.draw_network(model, optimizer=opt, inputs=x)
    src = g.source
    edges = EDGE.findall(src)
    assert len(edges) == 3 * 8 + 8 * 8 + 8
    params = dict(model.named_parameters())
    for s, t_, colour, _width, name, w, gw, dw in edges:
        p = params[name]
        assert float(w) == p.data and float(gw) == p.grad and float(dw) == opt.deltas[p]
        assert colour.startswith("#b2182b" if opt.deltas[p] > 0 else "#2166ac")
        li, j = map(int, re.match(r"layers\.(\d+)\.neurons\.(\d+)", name).groups())
        assert t_ == f"n{li}_{j}"
        assert s == (f"x{int(name.rsplit('.', 1)[1])}" if li == 0 else f"n{li - 1}_{name.rsplit('.', 1)[1]}")
    # pen width grows with |w|
    widths = sorted((abs(float(w)), float(pw)) for _, _, _, pw, _, w, _, _ in edges)
    assert widths[0][1] < widths[-1][1]
    # the fan of 8 weights into the output carries its three numbers as text, next to layer 1;
    # between the 3-8 and 8-8 columns text would overlap, so there it is only in the tooltips
    texts = re.findall(r"^\t(n1_\d+) -> n2_0 .*taillabel=<.*?w=(\S+)  Δw=(\S+)</td>.*?∂L/∂w=(\S+)</td>", src, re.M)
    assert len(texts) == 8 and src.count("taillabel=") == 8 and "headlabel=" not in src
    for s, w, dw, gw in texts:
        p = params[f"layers.2.neurons.0.w.{s.split('_')[1]}"]
        assert (w, gw, dw) == tuple(viz.style.fmt(v, 3) for v in (p.data, p.grad, opt.deltas[p]))
    assert "as text only on the edges into layer 2" in src
    # δ = ∂L/∂z = ∂L/∂b and the forward values a of the given sample
    with no_grad():
        h = model.layers[0]([float(v) for v in x])
    for j, n in enumerate(model.layers[0].neurons):
        assert f"layers.0.neurons.{j}: b={n.b.data!r} δ=∂L/∂b={n.b.grad!r}" in src
        line = next(ln for ln in src.splitlines() if ln.startswith(f"\t\tn0_{j} "))
        assert f"a={viz.style.fmt(h[j].data, 3)}  δ={viz.style.fmt(n.b.grad, 3)}" in line
        assert f"a=tanh(z)={h[j].data!r}" in line  # exact, in the tooltip
    assert src.count("layers.") >= 17 and "thinned" not in src
    assert pipe(g, "png").startswith(b"\x89PNG")


@pytest.mark.requires_dot
def test_mlp_2_50_50_1_is_thinned_saying_so(tmp_path) -> None:
    # how fast: benchmarks/bench_viz.py
    model, opt, x = trained_one_step(2, [50, 50, 1])
    g = viz.draw_network(model, optimizer=opt, inputs=x)
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
    out = viz.render(g, tmp_path / "net.svg")
    assert out.stat().st_size > 10_000
    full = viz.draw_network(model, optimizer=opt, max_edges=None).source
    assert len(EDGE.findall(full)) == 2 * 50 + 50 * 50 + 50


def test_lr_and_no_delta() -> None:
    model, opt, x = trained_one_step(3, [4, 1])
    src = viz.draw_network(model, lr=0.5).source
    params = dict(model.named_parameters())
    for *_, name, _w, _gw, dw in EDGE.findall(src):
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
    with pytest.raises(TypeError, match="draw_network: cannot read object as layers of neurons"):
        viz.draw_network(object())
    with pytest.raises(ValueError, match="max_edges"):
        viz.draw_network(layer, max_edges=0)


def svg_geometry(svg: str) -> tuple[dict, list]:
    """Node centres {name: (x, y)} (y grows downwards) and edge paths [(tail, head, points)] of dot's SVG."""
    nodes = {}
    for name, pts in re.findall(
        r'<title>(x\d+|n\d+_\d+)</title>\s*(?:<g id="a_node\d+"><a [^>]*>\s*)?'
        r'<polygon [^>]*points="([^"]+)"',
        svg,
    ):
        xy = [tuple(map(float, p.split(","))) for p in pts.split()]
        nodes[name] = (sum(x for x, _ in xy[:4]) / 4, sum(y for _, y in xy[:4]) / 4)
    edges = []
    for tail, head, d in re.findall(
        r'<title>(\w+)(?::e)?&#45;&gt;(n\d+_\d+)(?::w)?</title>\s*(?:<g id="a_edge\d+"><a [^>]*>\s*)?'
        r'<path [^>]*d="([^"]+)"',
        svg,
    ):
        nums = list(map(float, re.findall(r"-?[\d.]+", d)))
        edges.append((tail, head, list(zip(nums[::2], nums[1::2]))))
    return nodes, edges


@pytest.mark.requires_dot
def test_mlp_2_16_16_1_draws_as_the_classic_diagram() -> None:
    # equal columns, neurons in order, straight edges: what dot made of it, read from the SVG
    model, opt, x = trained_one_step(2, [16, 16, 1])
    g = viz.draw_network(model, optimizer=opt, inputs=x)
    svg = pipe(g, "svg").decode("utf-8")
    nodes, edges = svg_geometry(svg)
    assert len(nodes) == 2 + 16 + 16 + 1 and len(edges) == 2 * 16 + 16 * 16 + 16
    columns = [[nodes[f"x{i}"] for i in range(2)]] + [
        [nodes[f"n{li}_{j}"] for j in range(n)] for li, n in enumerate([16, 16, 1])
    ]
    # columns equally spaced left to right, each one a vertical line
    xs = [col[0][0] for col in columns]
    assert all(abs(px - col[0][0]) < 0.5 for col in columns for px, _ in col)
    steps = [b - a for a, b in zip(xs, xs[1:])]
    assert min(steps) > 0 and max(steps) - min(steps) < 1.0, steps
    # neurons in order top to bottom, at one pitch in every layer: the 16-layers equally tall
    pitches = []
    for col in columns[:3]:
        ys = [py for _, py in col]
        gaps = [b - a for a, b in zip(ys, ys[1:])]
        assert min(gaps) > 0, ys
        pitches += gaps
    assert max(pitches) - min(pitches) < 1.0, pitches
    # straight edges: every control point on the line from tail to head
    for tail, head, pts in edges:
        (x0, y0), (x1, y1) = pts[0], pts[-1]
        length = math.hypot(x1 - x0, y1 - y0)
        for px, py in pts[1:-1]:
            assert abs((x1 - x0) * (py - y0) - (y1 - y0) * (px - x0)) / length < 0.5, (tail, head, pts)
    assert len(svg.encode("utf-8")) < 200_000  # was 255 KB with curved edges and label ranks


def test_every_node_has_one_fixed_size_and_edges_leave_and_enter_at_the_sides() -> None:
    model, opt, x = trained_one_step(3, [4, 4, 1])
    src = viz.draw_network(model, optimizer=opt, inputs=x).source
    node_defaults = next(ln for ln in src.splitlines() if ln.startswith("\tnode "))
    assert 'fixedsize="true"' in node_defaults and "width=" in node_defaults and "height=" in node_defaults
    own = [ln for ln in src.splitlines() if re.match(r"\t\t(x\d+|n\d+_\d+) \[", ln)]
    assert len(own) == 3 + 4 + 4 + 1 and not any(" width=" in ln or " height=" in ln for ln in own)
    assert 'splines="line"' in src and 'tailport="e" headport="w"' in src
    # no edge label that would make dot add ranks between the columns
    assert not re.search(r"\blabel=", "\n".join(ln for ln in src.splitlines() if " -> n" in ln))
    # the neurons of each column chained in order under its header
    for li, n in enumerate([4, 4, 1]):
        assert f"{{rank=same; h{li} -> " + " -> ".join(f"n{li}_{j}" for j in range(n)) + " [style=invis]}" in src


def test_text_on_a_fan_out_of_one_input_and_none_when_asked() -> None:
    model = nn.MLP(1, [5, 1], activation="tanh", seed=0)
    loss = nn.mse_loss([model([0.5]), model([-1.0])], [1.0, 0.0])
    loss.backward()
    src = viz.draw_network(model, lr=0.1).source
    assert src.count("headlabel=") == 5 and src.count("taillabel=") == 5  # 1 → 5 and 5 → 1
    assert "w, ∂L/∂w and Δw written on every edge" in src
    none = viz.draw_network(model, lr=0.1, label_edges_up_to=0).source
    assert "headlabel=" not in none and "taillabel=" not in none and "as text only on no edges here" in none
    with pytest.raises(ValueError, match="label_edges_up_to"):
        viz.draw_network(model, label_edges_up_to=-1)
