"""``draw_network``: the classic neural-network diagram, with backprop's numbers on it.

Layers are columns, each neuron a node showing its bias b (and Δb), output a
(for ``inputs=``) and error signal δ = ∂L/∂z, the column header its
activation; each weight an edge coloured by the sign of Δw, as thick as |w|,
faint when its Δw is small, with w, ∂L/∂w and Δw in its tooltip (and as
text next to it where few weights are drawn).  Everything is read from the
model's parameters after the last forward/backward (δ is ∂L/∂b: z = Σwx + b,
so ∂L/∂z = ∂L/∂b, summed over the batch).

Readable by construction rather than by dot's judgement: every node has the
same fixed size, so columns are equally spaced and equally dense; neurons
are chained in order down their column; edges are straight lines
(``splines=line``).  Numbers are written on edges only where they cannot
pile up: between a layer and a single neuron (fan-in to an output, fan-out
from one input), next to the many-neuron end, one label per neuron.  Between
two many-neuron columns the edges cross in the middle and any text there
overlaps, so their numbers stay in the tooltips; the title says which.
Beyond ``max_edges`` only the largest-|Δw| weights into each neuron are
drawn; the title says so too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from autograd import Value, no_grad

from . import style
from .deltas import DeltaSource, resolve
from .digraph import Graph

LABEL_EDGES_UP_TO = 16  # a fan of at most this many weights still gets its numbers as text
NODE_FONT = 9.0  # points
CHAR_W = 0.58 * NODE_FONT  # Helvetica's widest common advance (digits, '=', 'δ'), points per character
LINE_H = 1.3 * NODE_FONT  # points per text line
PAD = 10.0  # points around the text inside a node
EDGE_FONT = 7.0  # points, edge text
NODESEP = 0.06  # inches between the neurons of a column
RANKSEP = 1.3  # inches between columns
RANKSEP_TEXT = 2.4  # ... when some edges carry text: room for it before the fan converges
LABEL_BG = "#ffffffdd"  # edge text sits on its edge, on a nearly opaque white box


def _layers(model: Any) -> list:
    """The model's layers of neurons (``MLP.layers``, a ``Sequential``'s layers, or one ``Layer``)."""
    if hasattr(model, "neurons"):
        return [model]
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(
            f"draw_network: {type(model).__name__} has no .layers or .neurons; "
            "pass an nn.MLP, nn.Layer or nn.Sequential of Layers"
        )
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
    how = (
        f"thinned to the {by}-largest weights into each neuron ({'; '.join(notes)} weights drawn); "
        f"max_edges=None draws all"
    )
    return keep, how


def _size(lines: list[str]) -> tuple[float, float]:
    """(width, height) in inches that fit ``lines`` of plain text at ``NODE_FONT``."""
    width = max(len(line) for line in lines) * CHAR_W + PAD
    height = len(lines) * LINE_H + PAD
    return width / 72.0, height / 72.0


def _label_distance(k: int, fan: int, pitch: float, gap: float, chars: int) -> float:
    """``labeldistance`` for the text of edge ``k`` of a fan of ``fan`` edges, so it clears its neuron.

    The text sits on its edge (``labelangle=0``) at ``labeldistance`` × 10 pt
    from the many-neuron end.  dot centres the single neuron on the fan, so
    edge ``k`` rises |k − (fan − 1)/2| · ``pitch`` over the ``gap`` between the
    columns (inches); the steeper it is, the further along it the text must
    go to be the same horizontal distance (half its width and a margin) from
    the column, which keeps the texts of a fan in one tidy column.
    """
    rise = abs(k - (fan - 1) / 2) * pitch
    along = math.hypot(rise, gap) / gap  # edge length per unit of horizontal distance
    half_width = chars * CHAR_W * EDGE_FONT / NODE_FONT / 2
    return (half_width + 6.0) * along / 10.0


def draw_network(
    model: Any,
    *,
    optimizer: Any = None,
    lr: float | None = None,
    inputs: Sequence[float] | None = None,
    max_edges: int | None = 400,
    precision: int = 3,
    caption: str | None = None,
    label_edges_up_to: int = LABEL_EDGES_UP_TO,
) -> Graph:
    """The network diagram of ``model`` (an ``nn.MLP``, ``Layer`` or ``Sequential``).

    Neurons show bias b (and Δb), δ = ∂L/∂z (= ∂L/∂b) and, with ``inputs=``
    (one sample), the output a; the column header names the activation.
    Edges are coloured by the sign of Δw (``optimizer.deltas`` or −lr·grad)
    and as thick as |w|; w, ∂L/∂w and Δw are in every edge's SVG tooltip,
    and also written on the edges of a fan (into a single neuron, or out of
    a single input) of at most ``label_edges_up_to`` weights, next to the
    end with many neurons; between two many-neuron columns text would
    overlap, so it is left out and the title says so.  More than
    ``max_edges`` weights: only the largest-|Δw| ones into each neuron are
    drawn (``max_edges=None``: all).
    ``caption`` is a first line for the title (e.g. the training step).
    """
    layers = _layers(model)
    if max_edges is not None and (not isinstance(max_edges, int) or max_edges < 1):
        raise ValueError(f"draw_network: max_edges must be a positive int or None, got {max_edges!r}")
    if not isinstance(label_edges_up_to, int) or isinstance(label_edges_up_to, bool) or label_edges_up_to < 0:
        raise ValueError(f"draw_network: label_edges_up_to must be an int >= 0, got {label_edges_up_to!r}")
    params = [p for layer in layers for n in layer.neurons for p in list(n.w) + [n.b]]
    src = resolve(optimizer, lr, params, ())
    p = precision
    f = lambda x: style.fmt(x, p)
    x, za = _forward(layers, inputs) if inputs is not None else (None, None)
    keep, thinned = _pick_edges(layers, src, max_edges if max_edges is not None else 10**12)

    deltas_w = [abs(d) for w in params if (d := src.delta(w)) is not None]
    dscale = max(deltas_w, default=0.0)
    wscale = max((abs(w.data) for w in params), default=0.0) or 1.0
    bscale = max((abs(n.b.grad) for layer in layers for n in layer.neurons), default=0.0)
    nin = len(layers[0].neurons[0].w)

    # ---- the text of every node first: one size fits all, so columns are equal
    acts = [str(getattr(layer, "activation", getattr(layer.neurons[0], "activation", "?"))) for layer in layers]
    headers = [["inputs"]] + [
        [f"layer {li}", f"{len(layer.neurons)} × {act}"] for li, (layer, act) in enumerate(zip(layers, acts))
    ]
    input_lines = [[f"x{i}"] + ([f"{f(x[i])}"] if x is not None else []) for i in range(nin)]
    neuron_lines = []
    for li, layer in enumerate(layers):
        col = []
        for j, n in enumerate(layer.neurons):
            db = src.delta(n.b)
            first = f"{j}  b={f(n.b.data)}" + (f"  Δb={f(db)}" if db is not None else "")
            second = (f"a={f(za[li][j][1])}  " if za is not None else "") + f"δ={f(n.b.grad)}"
            col.append([first, second])
        neuron_lines.append(col)
    every = [ln for col in neuron_lines for ln in col] + input_lines + headers
    width = max(_size(ln)[0] for ln in every)
    height = max(_size(ln)[1] for ln in neuron_lines[0] + input_lines)
    dims = dict(width=f"{width:.3f}", height=f"{height:.3f}", fixedsize="true")

    def markup(lines: list[str]) -> str:
        """HTML-like label: the first word bold (the index), the rest escaped."""
        name, _, rest = lines[0].partition("  ")
        top = f"<b>{style.html(name)}</b>" + (f"  {style.html(rest)}" if rest else "")
        return "<" + "<br/>".join([top] + [style.html(ln) for ln in lines[1:]]) + ">"

    g = Graph(name="network")
    body = g.body
    notes = []
    if thinned:
        notes.append(thinned)
    # where edge text goes: "tail" (fan into one neuron), "head" (fan out of one node), or nowhere
    place: list[str | None] = []
    for li, layer in enumerate(layers):
        fan = len(keep[li]) <= label_edges_up_to and not thinned
        if fan and len(layer.neurons) == 1:
            place.append("tail")
        elif fan and len(layer.neurons[0].w) == 1:
            place.append("head")
        else:
            place.append(None)
    if all(place):
        notes.append("w, ∂L/∂w and Δw written on every edge")
    else:
        on = [str(li) for li in range(len(layers)) if place[li]]
        notes.append(
            "w, ∂L/∂w, Δw: in every edge's SVG tooltip; as text only on "
            + (f"the edges into layer {', '.join(on)}" if on else "no edges here")
            + f" (fans of ≤ {label_edges_up_to} weights; elsewhere text would overlap)"
        )
    title = (
        f"network: {nin} inputs → "
        + " → ".join(str(len(layer.neurons)) for layer in layers)
        + f" · δ = ∂L/∂z = ∂L/∂b · {src.description}"
    )
    rows = [f"<b>{style.html(style.short(caption, 200))}</b>"] if caption else []
    rows += [style.html(title)] + [style.html(n) for n in notes]
    legend = (
        '<table border="0" cellborder="1" cellspacing="0" cellpadding="3"><tr><td><b>legend</b></td>'
        f'<td><font color="{style.POS_LINE}">━━</font> Δw &gt; 0</td>'
        f'<td><font color="{style.NEG_LINE}">━━</font> Δw &lt; 0</td>'
        "<td>edge width ∝ |w|, faint: small |Δw|</td>"
        f'<td bgcolor="{style.diverging(-1, 1)}">δ &lt; 0</td><td bgcolor="{style.diverging(1, 1)}">δ &gt; 0</td>'
        "</tr></table>"
    )
    label = (
        '<<table border="0" cellborder="0" cellspacing="2">'
        + "".join(f"<tr><td>{r}</td></tr>" for r in rows)
        + f"<tr><td>{legend}</td></tr></table>>"
    )
    any_text = any(place)
    gap = RANKSEP_TEXT if any_text else RANKSEP
    pitch = height + NODESEP
    body.append(
        "\tgraph "
        + style.attrs(
            rankdir="LR",
            label=label,
            labelloc="t",
            fontname="Helvetica",
            fontsize="12",
            ranksep=f"{gap:g}",
            nodesep=f"{NODESEP:g}",
            splines="line",
            ordering="out",
            outputorder="edgesfirst",
            forcelabels="true",
        )
    )
    body.append(
        "\tnode "
        + style.attrs(
            fontname="Helvetica",
            fontsize=f"{NODE_FONT:g}",
            shape="box",
            style="filled",
            color=style.BORDER,
            margin="0",
            **dims,
        )
    )
    body.append(
        "\tedge "
        + style.attrs(
            fontname="Helvetica",
            fontsize=f"{EDGE_FONT:g}",
            arrowhead="none",
            tailport="e",
            headport="w",
            labelangle="0",
            labelfontcolor="#333333",
        )
    )

    # Columns are rank=same groups, the nodes chained in order by invisible flat edges
    # under a header (clusters would let dot shuffle the neurons).
    body.append("\tsubgraph col_in {")
    body.append("\t\thin " + style.attrs(label=markup(headers[0]), shape="plaintext", style="solid"))
    for i in range(nin):
        body.append(
            f"\t\tx{i} "
            + style.attrs(
                label=markup(input_lines[i]),
                fillcolor=style.INPUT,
                tooltip=f"input x{i}" + (f" = {x[i]!r}" if x is not None else ""),
            )
        )
    body.append("\t\t{rank=same; hin -> " + " -> ".join(f"x{i}" for i in range(nin)) + " [style=invis]}")
    body.append("\t}")

    for li, layer in enumerate(layers):
        last = li == len(layers) - 1
        body.append(f"\tsubgraph col_{li} {{")
        body.append(f"\t\th{li} " + style.attrs(label=markup(headers[li + 1]), shape="plaintext", style="solid"))
        for j, n in enumerate(layer.neurons):
            delta = n.b.grad
            tip = f"{_neuron_name(n, li, j)}: b={n.b.data!r} δ=∂L/∂b={delta!r}"
            db = src.delta(n.b)
            if db is not None:
                tip += f" Δb={db!r}"
            if za is not None:
                tip += f" z={za[li][j][0]!r} a={acts[li]}(z)={za[li][j][1]!r}"
            body.append(
                f"\t\tn{li}_{j} "
                + style.attrs(
                    label=markup(neuron_lines[li][j]),
                    fillcolor=style.diverging(delta, bscale),
                    penwidth="2" if last else None,
                    tooltip=tip,
                )
            )
        chain = " -> ".join([f"h{li}"] + [f"n{li}_{j}" for j in range(len(layer.neurons))])
        body.append(f"\t\t{{rank=same; {chain} [style=invis]}}")
        body.append("\t}")

    for li, layer in enumerate(layers):
        fan_in = len(layer.neurons[0].w)
        for j, n in enumerate(layer.neurons):
            for i, w in enumerate(n.w):
                if j * fan_in + i not in keep[li]:
                    continue
                s = f"x{i}" if li == 0 else f"n{li - 1}_{i}"
                d = src.delta(w)
                colour = style.sign_line(d) if d is not None else style.ZERO_LINE
                pen = 0.4 + 3.2 * abs(w.data) / wscale
                if d is not None and dscale:
                    # faint when this update is small next to the biggest one
                    alpha = int(80 + 175 * min(1.0, (abs(d) / dscale) ** 0.5))
                    colour = f"{colour}{alpha:02x}"
                tip = f"{w.label or 'w'}: w={w.data!r} ∂L/∂w={w.grad!r}" + (f" Δw={d!r}" if d is not None else "")
                text = distance = None
                if place[li]:
                    lines = [f"w={f(w.data)}" + (f"  Δw={f(d)}" if d is not None else ""), f"∂L/∂w={f(w.grad)}"]
                    text = (
                        '<<table border="0" cellborder="0" cellpadding="0" cellspacing="0" '
                        f'bgcolor="{LABEL_BG}">'
                        + "".join(f"<tr><td>{style.html(ln)}</td></tr>" for ln in lines)
                        + "</table>>"
                    )
                    k, fan = (i, fan_in) if place[li] == "tail" else (j, len(layer.neurons))
                    distance = f"{_label_distance(k, fan, pitch, gap, max(map(len, lines))):.2f}"
                body.append(
                    f"\t{s} -> n{li}_{j} "
                    + style.attrs(
                        color=colour,
                        penwidth=f"{pen:.2f}",
                        tooltip=tip,
                        taillabel=text if place[li] == "tail" else None,
                        headlabel=text if place[li] == "head" else None,
                        labeldistance=distance,
                    )
                )
    g.body[:] = [line if line.endswith("\n") else line + "\n" for line in g.body]
    return g
