"""draw_graph: golden DOT text, determinism, escaping through the real dot, Δw, big graphs."""

from __future__ import annotations

import re

import pytest

import nn
import viz
from autograd import Value, dot, topological_order, vsum
from viz.renderers import pipe

GOLDEN_TANH = r"""digraph computation_graph {
	graph [rankdir="LR" label=<computation graph of L: 4 values, 2 ops, grad = ∂L/∂node · no Δw (pass optimizer= or lr=)> labelloc="t" fontname="Helvetica" fontsize="12" nodesep="0.15" ranksep="0.3"]
	node [fontname="Helvetica" fontsize="11" color="#555555"]
	edge [color="#777777" arrowsize="0.6"]
	v0 [label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="#cfe8fc"><tr><td><b>a</b></td><td>data 2</td><td bgcolor="#427db8">grad -7.373e-05</td></tr></table>> shape="none" margin="0" tooltip="a: data=2.0 grad=-7.372964221585843e-05"]
	v1 [label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="#cfe8fc"><tr><td><b>b</b></td><td>data -3</td><td bgcolor="#ca5f6c">grad 4.915e-05</td></tr></table>> shape="none" margin="0" tooltip="b: data=-3.0 grad=4.9153094810572284e-05"]
	v2 [label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="#ffffff"><tr><td>data -6</td><td bgcolor="#d98e97">grad 2.458e-05</td></tr></table>> shape="none" margin="0" tooltip="v2: data=-6.0 grad=2.4576547405286142e-05 op=*"]
	o2 [label=<*> shape="ellipse" style="filled" fillcolor="#fff3c4" fontsize="10" width="0.3" height="0.25" margin="0.03,0.01"]
	v3 [label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="#b7e4b0"><tr><td><b>L</b></td><td>data -1</td><td bgcolor="#be3b4b">grad 1</td></tr></table>> shape="none" margin="0" tooltip="L: data=-0.9999877116507956 grad=1.0 op=tanh"]
	o3 [label=<tanh> shape="ellipse" style="filled" fillcolor="#fff3c4" fontsize="10" width="0.3" height="0.25" margin="0.03,0.01"]
	o2 -> v2
	v0 -> o2
	v1 -> o2
	o3 -> v3
	v2 -> o3
	legend [label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="3"><tr><td><b>legend</b></td><td bgcolor="#cfe8fc">parameter</td><td bgcolor="#f2f2f2">input / constant</td><td bgcolor="#ffffff">intermediate</td><td bgcolor="#b7e4b0">output</td><td bgcolor="#fff3c4">op</td><td bgcolor="#427db8">grad, Δw &lt; 0</td><td bgcolor="#be3b4b">grad, Δw &gt; 0</td></tr><tr><td colspan="8">no Δw (pass optimizer= or lr=)</td></tr></table>> shape="none" margin="0" fontsize="10"]
}
"""  # noqa: E501


def tanh_graph() -> Value:
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    L = (a * b).tanh()
    L.label = "L"
    L.backward()
    return L


def micrograd_graph(lr_labels: bool = True) -> Value:
    """micrograd README's neuron: o = tanh(x1*w1 + x2*w2 + b)."""
    x1 = Value(2.0, label="x1")
    x2 = Value(0.0, label="x2")
    w1 = Value(-3.0, label="w1")
    w2 = Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def test_golden_dot_text() -> None:
    assert viz.draw_graph(tanh_graph(), show=("data", "grad")).source == GOLDEN_TANH


def test_same_graph_gives_byte_identical_dot() -> None:
    sources = {viz.draw_graph(micrograd_graph(), lr=0.05).source for _ in range(3)}
    assert len(sources) == 1
    src = sources.pop()
    # ids come from the traversal order: v0..v{n-1} and o{i}, nothing like id()
    ids = set(re.findall(r"^\t(\w+) \[", src, flags=re.M))
    order = topological_order(micrograd_graph())
    expected = {f"v{i}" for i in range(len(order))} | {f"o{i}" for i, v in enumerate(order) if not v.is_leaf}
    assert ids == expected | {"graph", "node", "edge", "legend"}


def test_structure_matches_micrograd_draw_dot() -> None:
    o = micrograd_graph()
    src = viz.draw_graph(o).source
    order = topological_order(o)
    n_ops = sum(1 for v in order if not v.is_leaf)
    edges = re.findall(r"^\t(\w+) -> (\w+)$", src, flags=re.M)
    # one op->result edge per op, one operand->op edge per operand
    assert len(edges) == n_ops + sum(len(v.children) for v in order)
    assert src.count("<tanh>") == 1 and src.count("<+>") == 2 and src.count("<*>") == 2
    assert "grad 0.5" in src  # ∂o/∂n of the README example, 4 digits
    assert "data 0.7071" in src


def test_show_and_precision() -> None:
    o = micrograd_graph()
    src = viz.draw_graph(o, show=("data",), precision=8).source
    assert ">grad " not in src and "data 0.70710678" in src
    with pytest.raises(ValueError, match="show="):
        viz.draw_graph(o, show=("weights",))
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(o, rankdir="XY")
    with pytest.raises(TypeError, match="autograd.Value"):
        viz.draw_graph(1.0)
    with pytest.raises(ValueError, match="not both"):
        viz.draw_graph(o, lr=0.1, optimizer=nn.SGD([Value(1.0)], lr=0.1))


def test_colours_mean_node_kinds() -> None:
    x = Value(1.5)  # an unlabelled input
    w = Value(-0.5, label="w")  # a parameter
    y = (w * x).relu()
    y.label = "y"
    y.backward()
    src = viz.draw_graph(y).source
    line = {m.group(1): m.group(0) for m in re.finditer(r"^\t(v\d+) \[.*$", src, flags=re.M)}
    kinds = {v.label or "x" if v.is_leaf else v.label or "mid": i for i, v in enumerate(topological_order(y))}
    assert 'bgcolor="#cfe8fc"' in line[f"v{kinds['w']}"]  # parameter: light blue
    assert 'bgcolor="#f2f2f2"' in line[f"v{kinds['x']}"]  # input: grey
    assert 'bgcolor="#b7e4b0"' in line[f"v{kinds['y']}"]  # output: green


SPECIAL = [
    '{ } | < > " \\ &',
    "a:b:c",
    "naïve ∂L/∂w → ü 中文 😀",
    "]]>[[<b>not bold</b>",
    "\\N \\G \\n",
    "tab\there",
    "&amp; &lt;",
    "'single'",
]


def special_graph() -> Value:
    vs = [Value(float(i + 1), label=s) for i, s in enumerate(SPECIAL)]
    out = vsum(vs)
    out.label = '<out> "quoted" {record|like}'
    out.backward()
    return out


@pytest.mark.requires_dot
def test_special_character_labels_render_with_real_dot(tmp_path) -> None:
    g = viz.draw_graph(special_graph(), lr=0.5)
    svg = pipe(g, "svg").decode("utf-8")
    # every label arrives as text in the SVG (XML-escaped by dot itself)
    import html

    texts = html.unescape(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg)))
    for s in SPECIAL:
        shown = s.replace("\t", "\\x09")  # a control character is shown, not swallowed
        assert shown in texts, s
    assert '<out> "quoted" {record|like}' in texts
    png = viz.render(g, tmp_path / "special.png", format="png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_delta_equals_optimizer_deltas() -> None:
    model = nn.MLP(3, [4, 1], activation="tanh", seed=1)
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    xs = [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]
    ys = [1.0, -1.0]
    for _ in range(2):  # two steps so momentum makes Δw differ from −lr·grad
        opt.zero_grad()
        loss = nn.mse_loss([model(x) for x in xs], ys)
        loss.backward()
        opt.step()
    src = viz.draw_graph(loss, optimizer=opt, max_nodes=None).source
    shown = dict(re.findall(r'tooltip="([\w.]+): data=\S+ grad=\S+ Δw=(\S+)"', src))
    assert set(shown) == {name for name, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        assert float(shown[name]) == opt.deltas[p]  # exactly, via repr
    assert any(opt.deltas[p] != -0.1 * p.grad for p in model.parameters())
    assert "SGD.step() applied" in src


def test_delta_with_lr_is_minus_lr_grad() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    loss = nn.mse_loss([model([1.0, -2.0])], [0.5])
    loss.backward()
    src = viz.draw_graph(loss, lr=0.25).source
    shown = dict(re.findall(r'tooltip="([\w.]+): data=\S+ grad=\S+ Δw=(\S+)"', src))
    assert len(shown) == len(model.parameters())
    for name, p in model.named_parameters():
        assert float(shown[name]) == -0.25 * p.grad
    assert "lr=0.25" in src


def mlp_batch_loss(n: int, sizes=(2, 16, 16, 1), fused: bool = True):
    model = nn.MLP(sizes[0], list(sizes[1:]), activation="tanh", seed=0, fused=fused)
    X, y = nn.make_moons(n, noise=0.1, seed=0)
    loss = nn.mse_loss([model(list(x)) for x in X], [float(t) for t in y])
    loss.backward()
    return model, loss


@pytest.mark.requires_dot
@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("with_model", [True, False])
def test_30000_node_nn_graph_collapses_per_neuron(fused: bool, with_model: bool) -> None:
    # how fast: benchmarks/bench_viz.py
    # fused=False: micrograd's chains of binary nodes; fused: one dot node per neuron and sample
    model, loss = mlp_batch_loss(50 if not fused else 430, fused=fused)
    n = len(topological_order(loss))
    assert n >= 30_000
    g = viz.draw_graph(loss, lr=0.1, model=model if with_model else None)
    src = g.source
    sizes = [16, 16, 1]
    if with_model:  # boxes named by nn.structure
        assert "collapsed" in src and "one box per neuron (33 boxes)" in src
        boxes = re.findall(r"<b>(layers\.\d+\.neurons\.\d+)</b>", src)
        assert sorted(boxes) == sorted(f"layers.{i}.neurons.{j}" for i, k in enumerate(sizes) for j in range(k))
        assert '<td align="left">w.0 = ' in src and '<td align="left">b = ' in src  # roles inside the box
    else:  # no model: the parameters each neuron's ops read together, found in the graph
        assert "collapsed" in src and "one box per group of parameters read together (33 boxes)" in src
        for i, k in enumerate(sizes):
            for j in range(k):
                names = [f"layers.{i}.neurons.{j}.w.0", f"layers.{i}.neurons.{j}.w.1"]
                box = [row for row in src.splitlines() if row.startswith("\tb") and names[0] + " = " in row]
                assert len(box) == 1 and names[1] + " = " in box[0]  # a neuron's weights share one box
    drawn = len(re.findall(r"^\t\w+ \[label", src, flags=re.M))
    assert drawn <= 1000 + 1
    assert pipe(g, "svg").startswith(b"<?xml")


@pytest.mark.requires_dot
def test_30000_node_generic_graph_summarized() -> None:
    # no parameter names; a hub (x) feeds ops all along a long chain: long edges for dot
    x = Value(0.5)
    y = x
    for i in range(15_000):
        y = (y * 1.0001).tanh() if i % 2 else y + x
    assert len(topological_order(y)) >= 30_000
    g = viz.draw_graph(y)
    src = g.source
    assert "collapsed" in src and "summarized" in src
    assert len(re.findall(r"^\t\w+ \[label", src, flags=re.M)) <= 1000
    assert pipe(g, "svg").startswith(b"<?xml")


def test_max_nodes_none_draws_every_node() -> None:
    model, loss = mlp_batch_loss(3, sizes=(2, 8, 1))
    n = len(topological_order(loss))
    n_ops = sum(1 for v in topological_order(loss) if not v.is_leaf)
    src = viz.draw_graph(loss, max_nodes=None).source
    assert "collapsed" not in src
    assert len(re.findall(r"^\t[vo]\d+ \[label", src, flags=re.M)) == n + n_ops
    small = viz.draw_graph(loss, max_nodes=40).source
    assert "collapsed" in small and "max_nodes=40" in small


def test_hand_built_fused_neuron_and_n_ary_nodes() -> None:
    w = [Value(0.5, label="w0"), Value(-1.0, label="w1")]
    z = dot(w, [1.0, 2.0], Value(0.1, label="b"))
    z.label = "z"
    z.backward()
    src = viz.draw_graph(z, lr=1.0).source
    assert src.count("-> o") == 5  # w0, w1, two constant inputs and b feed the dot node
    assert "<dot>" in src


@pytest.mark.requires_dot
@pytest.mark.parametrize("kind", ["lstm_cell", "gru"])
def test_recurrent_graph_with_model_collapses_per_unit(kind: str) -> None:
    # unrolled 40 steps every weight feeds every step (hubs, long edges, boxes that feed each other);
    # with the model each hidden unit (its row of every gate and its state update) is one box,
    # nothing is left to summary boxes
    import random

    rng = random.Random(0)
    if kind == "lstm_cell":
        model = nn.rnn.LSTMCell(3, 8, seed=0)
        h = None
        for _ in range(40):
            h = model([rng.uniform(-1, 1) for _ in range(3)], h)
        out = sum(h[0])
        names = [f"unit {j}" for j in range(8)]
    else:
        model = nn.GRU(3, 8, seed=0)
        outs, _ = model([[rng.uniform(-1, 1) for _ in range(3)] for _ in range(40)])
        out = sum(outs[-1])
        names = [f"cells.0 unit {j}" for j in range(8)]
    out.backward()
    src = viz.draw_graph(out, lr=0.1, model=model).source
    assert "one box per unit (8 boxes)" in src and "summarized" not in src
    assert sorted(re.findall(r"<b>((?:cells\.0 )?unit \d+)</b>", src)) == names
    without = viz.draw_graph(out, lr=0.1).source  # without the model: groups of gate rows, then summaries
    assert "collapsed" in without and "one box per unit" not in without
    assert pipe(src, "svg").startswith(b"<?xml")
    with pytest.raises(TypeError, match="draw_graph: model= must be an nn model"):
        viz.draw_graph(out, model=object())


def test_dot_work_counts_long_edges_and_survives_cycles() -> None:
    from viz.layout_cost import dot_work

    chain = [f"n{i}" for i in range(10)]
    edges = list(zip(chain, chain[1:]))
    assert dot_work(chain, edges) == 10 + 9  # no edge spans more than one rank
    assert dot_work(chain, edges + [("n0", "n9")]) == 10 + 10 + 8  # a hub edge over 9 ranks: 8 virtual nodes
    assert dot_work(["a", "b"], [("a", "b"), ("b", "a")]) == 2 + 2  # a cycle is broken, not looped on


def test_dot_is_identical_across_processes_and_hash_seeds() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import hashlib, nn, viz\n"
        "m = nn.MLP(2, [16, 16, 1], activation='tanh', seed=0)\n"
        "X, y = nn.make_moons(100, noise=0.1, seed=0)\n"
        "loss = nn.mse_loss([m(list(x)) for x in X], [float(v) for v in y]); loss.backward()\n"
        "src = viz.draw_graph(loss, lr=0.1).source + viz.draw_graph(loss, max_nodes=200).source\n"
        "print(hashlib.sha256(src.encode()).hexdigest())\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


@pytest.mark.requires_dot
@pytest.mark.parametrize("length", [10_000, 100_000])
def test_a_huge_label_is_cut_in_the_box_and_whole_in_the_tooltip(length: int) -> None:
    import html

    label = ("∂" + "abcdefghi" * length)[:length]
    w = Value(0.5, label=label)
    L = (w * 2.0).tanh()
    L.label = label[::-1]  # the root's label goes into the title too
    L.backward()
    g = viz.draw_graph(L, lr=0.1)
    svg = html.unescape(pipe(g, "svg").decode("utf-8"))  # dot refused labels over 16384 bytes
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    assert label[:47] + "…" in texts and max(map(len, texts)) < 300
    tips = re.findall(r'xlink:title="([^"]*)"', svg)
    if length == 10_000:
        assert any(label in t for t in tips)  # the whole label, where the user can read it
    else:
        assert any(label[:5000] in t and "cut to fit" in t for t in tips)


def test_a_graph_drawn_after_opt_step_says_it_is_stale() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    loss = nn.mse_loss([model([1.0, -2.0])], [0.5])
    loss.backward()
    opt = nn.SGD(model.parameters(), lr=0.1)
    assert "stale" not in viz.draw_graph(loss, optimizer=opt).source
    moved = [name for name, p in model.named_parameters() if p.grad != 0.0]  # SGD leaves dead relu units alone
    opt.step()
    src = viz.draw_graph(loss, optimizer=opt).source
    assert 0 < len(moved) < 13
    assert f"⚠ stale graph</b>: {len(moved)} leaves changed after the forward pass ({', '.join(moved[:3])} and" in src
