"""``draw_network``: the classic neural-network diagram, with backprop's numbers on it.

Layers are columns, each neuron a node showing its bias, activation, output
a (for ``inputs=``) and error signal δ = ∂L/∂z; each weight an edge showing
w, ∂L/∂w and Δw, coloured by the sign of Δw, as thick as |w|.  Everything
is read from the model's parameters after the last forward/backward (δ is
∂L/∂b: z = Σwx + b, so ∂L/∂z = ∂L/∂b, summed over the batch).  Big layers
stay readable and fast: edge labels give way to tooltips, and beyond
``max_edges`` only the largest-|Δw| weights into each neuron are drawn;
the title says so.
"""

from __future__ import annotations

from typing import Any, Sequence

from autograd import Value, no_grad

from . import style
from .deltas import DeltaSource, resolve
from .digraph import Graph

LABEL_EDGES_UP_TO = 32   # weights between two layers that still get text labels
COMPACT_ABOVE = 16       # layers with more neurons get one-line neuron boxes


def _layers(model: Any) -> list:
    """The model's layers of neurons (``MLP.layers``, a ``Sequential``'s layers, or one ``Layer``)."""
    if hasattr(model, "neurons"):
        return [model]
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(f"draw_network: {type(model).__name__} has no .layers or .neurons; "
                        "pass an nn.MLP, nn.Layer or nn.Sequential of Layers")
    found = [m for m in layers if hasattr(m, "neurons")]
    if not found:
        raise TypeError("draw_network: the model has no layer of neurons to draw")
    return found


def _neuron_name(n: Any, li: int, j: int) -> str:
    """``layers.1.neurons.3`` from the bias's label (nn names parameters), else ``neuron 1.3``."""
    label = n.b.label
    if label.endswith(".b"):
        return label[:-2]
    return f"neuron {li}.{j}"


def _forward(layers: list, inputs: Any) -> tuple[list[float], list[list[tuple[float, float]]]]:
    """Inputs as floats and (z, a) of every neuron, computed without building a graph."""
    try:
        x = [float(v.data if isinstance(v, Value) else v) for v in inputs]
    except TypeError:
        raise TypeError("draw_network: inputs must be one sample, a list of numbers") from None
    nin = len(layers[0].neurons[0].w)
    if len(x) != nin:
        raise ValueError(f"draw_network: the model takes {nin} inputs, got {len(x)}; pass one sample")
    xs = x
    out = []
    with no_grad():
        for layer in layers:
            za = []
            for n in layer.neurons:
                z = sum(w.data * xi for w, xi in zip(n.w, xs)) + n.b.data
                a = n([Value(xi) for xi in xs])
                za.append((z, a.data))
            out.append(za)
            xs = [a for _, a in za]
    return x, out


def _pick_edges(layers: list, src: DeltaSource, max_edges: int) -> tuple[list[set], str]:
    """Which weights to draw: all, or per layer the largest |Δw| (else |∂L/∂w|, |w|) into each neuron."""
    sizes = [len(layer.neurons) * len(layer.neurons[0].w) for layer in layers]
    total = sum(sizes)
    if total <= max_edges:
        return [set(range(s)) for s in sizes], ""

    def key(w: Value) -> float:
        d = src.delta(w) if src.kind != "none" else None
        return abs(d) if d is not None else abs(w.grad) if w.grad else abs(w.data)

    by = "|Δw|" if src.kind != "none" else "|∂L/∂w|"
    # share the budget: small layers keep all their weights, big ones split the rest
    budget = [0] * len(sizes)
    left = max_edges
    for n_left, li in enumerate(sorted(range(len(sizes)), key=lambda i: (sizes[i], i))):
        budget[li] = min(sizes[li], left // (len(sizes) - n_left))
        left -= budget[li]
    keep: list[set] = []
    notes = []
    for li, (layer, size) in enumerate(zip(layers, sizes)):
        fan_in = len(layer.neurons[0].w)
        k = max(1, min(fan_in, budget[li] // len(layer.neurons)))
        chosen = set()
        for j, n in enumerate(layer.neurons):
            ranked = sorted(range(fan_in), key=lambda i: (-key(n.w[i]), i))
            chosen.update(j * fan_in + i for i in ranked[:k])
        keep.append(chosen)
        if k < fan_in:
            notes.append(f"layer {li}: {len(chosen)} of {size}")
    how = (f"thinned to the {by}-largest weights into each neuron ({'; '.join(notes)} weights drawn); "
           f"max_edges=None draws all")
    return keep, how


def draw_network(model: Any, *, optimizer: Any = None, lr: float | None = None,
                 inputs: Sequence[float] | None = None, max_edges: int | None = 400,
                 precision: int = 3, caption: str | None = None) -> Graph:
    """The network diagram of ``model`` (an ``nn.MLP``, ``Layer`` or ``Sequential``).

    Neurons show bias b, activation, δ = ∂L/∂z (= ∂L/∂b) and, with
    ``inputs=`` (one sample), z and the output a.  Edges show w, ∂L/∂w and
    Δw (``optimizer.deltas`` or −lr·grad); colour = sign of Δw, width = |w|.
    More than ``max_edges`` weights: only the largest-|Δw| ones into each
    neuron are drawn (``max_edges=None``: all).  Between layers with more
    than 32 weights the numbers move from edge labels into tooltips.
    ``caption`` is a first line for the title (e.g. the training step).
    """
    layers = _layers(model)
    if max_edges is not None and (not isinstance(max_edges, int) or max_edges < 1):
        raise ValueError(f"draw_network: max_edges must be a positive int or None, got {max_edges!r}")
    params = [p for layer in layers for n in layer.neurons for p in list(n.w) + [n.b]]
    src = resolve(optimizer, lr, params, ())
    p = precision
    f = lambda x: style.html(style.fmt(x, p))
    x, za = _forward(layers, inputs) if inputs is not None else (None, None)
    keep, thinned = _pick_edges(layers, src, max_edges if max_edges is not None else 10**12)

    deltas_w = [abs(d) for w in params if (d := src.delta(w)) is not None]
    dscale = max(deltas_w, default=0.0)
    wscale = max((abs(w.data) for w in params), default=0.0) or 1.0
    bscale = max((abs(n.b.grad) for layer in layers for n in layer.neurons), default=0.0)

    nin = len(layers[0].neurons[0].w)
    g = Graph(name="network")
    body = g.body
    notes = []
    if thinned:
        notes.append(thinned)
    # labels only where few weights are drawn and nothing was thinned away
    big = [i for i, layer in enumerate(layers) if len(keep[i]) > LABEL_EDGES_UP_TO or thinned]
    if big:
        notes.append(f"edge labels off where more than {LABEL_EDGES_UP_TO} weights are drawn "
                     f"(layers {', '.join(map(str, big))}): numbers in the SVG tooltips")
    title = (f"network: {nin} inputs → " + " → ".join(str(len(layer.neurons)) for layer in layers)
             + f" · δ = ∂L/∂z = ∂L/∂b · {style.html(src.description)}")
    if notes:
        title += "<br/>" + "<br/>".join(style.html(n) for n in notes)
    if caption:
        title = f"<b>{style.html(caption)}</b><br/>" + title
    body.append("\tgraph " + style.attrs(rankdir="LR", label=f"<{title}>", labelloc="t", fontname="Helvetica",
                                         fontsize="12", ranksep="1.6", nodesep="0.08", splines="true",
                                         outputorder="edgesfirst"))
    body.append("\tnode " + style.attrs(fontname="Helvetica", fontsize="10", shape="none", margin="0"))
    body.append("\tedge " + style.attrs(fontname="Helvetica", fontsize="8", arrowsize="0.4"))

    # input column
    # columns are plain rank=same groups, ordered by invisible flat edges from a header
    # node; clusters would let dot shuffle the neurons
    body.append("\tsubgraph col_in {")
    body.append("\t\thin " + style.attrs(label="<<b>inputs</b>>"))
    for i in range(nin):
        val = f"<br/>{f(x[i])}" if x is not None else ""
        body.append(f"\t\tx{i} " + style.attrs(
            label=f'<<table border="1" cellborder="0" cellpadding="4" bgcolor="{style.INPUT}"><tr><td>x{i}{val}</td></tr></table>>'))
    body.append("\t\t{rank=same; hin -> " + " -> ".join(f"x{i}" for i in range(nin)) + " [style=invis]}")
    body.append("\t}")

    for li, layer in enumerate(layers):
        last = li == len(layers) - 1
        act = getattr(layer, "activation", getattr(layer.neurons[0], "activation", "?"))
        body.append(f"\tsubgraph col_{li} {{")
        body.append(f"\t\th{li} " + style.attrs(
            label=f"<<b>layer {li}</b><br/>{len(layer.neurons)} × {style.html(str(act))}>"))
        compact = len(layer.neurons) > COMPACT_ABOVE
        for j, n in enumerate(layer.neurons):
            delta = n.b.grad
            if compact:
                rows = [f"<b>{j}</b>  b={f(n.b.data)}" + (f"  a={f(za[li][j][1])}" if za is not None else "")
                        + f"  δ={f(delta)}"]
            else:
                rows = [f"<b>{style.html(n.b.label or f'{li}.{j}')}</b>".replace(".b</b>", "</b>"),
                    f"b = {f(n.b.data)}"]
                db = src.delta(n.b)
                if db is not None:
                    rows[-1] += f", Δb = {f(db)}"
                if za is not None:
                    z, a = za[li][j]
                    rows.append(f"z = {f(z)}, a = {act}(z) = {f(a)}")
                rows.append(f"δ = ∂L/∂z = {f(delta)}")
            fill = style.diverging(delta, bscale)
            border = "2" if last else "1"
            cells = "".join(f"<tr><td>{r}</td></tr>" for r in rows)
            tip = f"{_neuron_name(n, li, j)}: b={n.b.data!r} δ=∂L/∂b={delta!r}"
            body.append(f"\t\tn{li}_{j} " + style.attrs(
                label=f'<<table border="{border}" cellborder="0" cellpadding="2" bgcolor="{fill}">{cells}</table>>',
                tooltip=tip))
        # keep the neurons in their order down the column
        chain = " -> ".join([f"h{li}"] + [f"n{li}_{j}" for j in range(len(layer.neurons))])
        body.append(f"\t\t{{rank=same; {chain} [style=invis]}}")
        body.append("\t}")

    for li, layer in enumerate(layers):
        fan_in = len(layer.neurons[0].w)
        labelled = li not in big
        for j, n in enumerate(layer.neurons):
            for i, w in enumerate(n.w):
                if j * fan_in + i not in keep[li]:
                    continue
                s = f"x{i}" if li == 0 else f"n{li - 1}_{i}"
                d = src.delta(w)
                colour = style.sign_line(d) if d is not None else style.ZERO_LINE
                width = 0.4 + 3.2 * abs(w.data) / wscale
                if d is not None and dscale:
                    # faint when this update is small next to the biggest one
                    alpha = int(80 + 175 * min(1.0, (abs(d) / dscale) ** 0.5))
                    colour = f"{colour}{alpha:02x}"
                text = f"w={f(w.data)}<br/>∂L/∂w={f(w.grad)}"
                if d is not None:
                    text += f"<br/>Δw={f(d)}"
                tip = f"{w.label or 'w'}: w={w.data!r} ∂L/∂w={w.grad!r}" + (f" Δw={d!r}" if d is not None else "")
                body.append(f"\t{s} -> n{li}_{j} " + style.attrs(
                    color=colour, penwidth=f"{width:.2f}", tooltip=tip,
                    label=f"<{text}>" if labelled else None))

    legend = ('<<table border="0" cellborder="1" cellspacing="0" cellpadding="3"><tr><td><b>legend</b></td>'
              f'<td><font color="{style.POS_LINE}">━━</font> Δw &gt; 0</td>'
              f'<td><font color="{style.NEG_LINE}">━━</font> Δw &lt; 0</td>'
              '<td>edge width ∝ |w|</td>'
              f'<td bgcolor="{style.diverging(-1, 1)}">δ &lt; 0</td><td bgcolor="{style.diverging(1, 1)}">δ &gt; 0</td>'
              '</tr></table>>')
    body.append("\tlegend " + style.attrs(label=legend))
    g.body[:] = [line if line.endswith("\n") else line + "\n" for line in g.body]
    return g
