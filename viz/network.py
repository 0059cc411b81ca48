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
from dataclasses import dataclass
from typing import Any

from autograd import Value, dot, no_grad
from nn.structure import Structure, describe

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


def _structure(model: Any) -> Structure:
    """The model as ``nn.structure`` describes it; draw_network needs a stack of dense layers."""
    try:
        st = describe(model)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"draw_network: cannot read {type(model).__name__} as layers of neurons ({e}); "
            "pass an nn.MLP, nn.Layer or nn.Sequential of Layers"
        ) from None
    if not st.is_dense_stack():
        shapes = ", ".join(f"{layer.kind} {layer.nin}->{layer.nout}" for layer in st.layers)
        raise ValueError(
            f"draw_network: draws a stack of dense layers, each feeding the next; this model has {shapes}; "
            "use viz.draw_graph(loss, model=model) for recurrent or branching models"
        )
    return st


def _forward(st: Structure, inputs: Any) -> tuple[list[float], list[list[tuple[float, float]]]]:
    """The sample as floats and (z, a) of every neuron, without building a graph.

    a is what each layer module returns (the model's own forward); z = Σ wᵢxᵢ + b
    is the engine's ``dot`` on the neuron's weights and bias.
    """
    try:
        x = [float(v.data if isinstance(v, Value) else v) for v in inputs]
    except TypeError:
        raise TypeError("draw_network: inputs must be one sample, a list of numbers") from None
    if len(x) != st.nin:
        raise ValueError(f"draw_network: the model takes {st.nin} inputs, got {len(x)}; pass one sample")
    xs = x
    out = []
    with no_grad():
        for layer in st.layers:
            a = layer.module([Value(xi) for xi in xs])
            a = a if isinstance(a, list) else [a]
            z = [dot(u.weights, xs, u.bias).data for u in layer.units]
            out.append([(zj, aj.data) for zj, aj in zip(z, a)])
            xs = [aj.data for aj in a]
    return x, out


def _pick_edges(st: Structure, src: DeltaSource, max_edges: int) -> tuple[list[set[int]], str]:
    """Which weights to draw: all, or per layer the largest |Δw| (else |∂L/∂w|, |w|) into each neuron."""
    sizes = [layer.nout * layer.nin for layer in st.layers]
    if sum(sizes) <= max_edges:
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
    keep: list[set[int]] = []
    notes = []
    for li, (layer, size) in enumerate(zip(st.layers, sizes)):
        fan_in = layer.nin
        k = max(1, min(fan_in, budget[li] // layer.nout))
        chosen: set[int] = set()
        for j, unit in enumerate(layer.units):
            ranked = sorted(range(fan_in), key=lambda i: (-key(unit.weights[i]), i))
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


def _markup(lines: list[str]) -> str:
    """HTML-like label: the first word bold (the index), the rest escaped."""
    name, _, rest = lines[0].partition("  ")
    top = f"<b>{style.html(name)}</b>" + (f"  {style.html(rest)}" if rest else "")
    return "<" + "<br/>".join([top] + [style.html(ln) for ln in lines[1:]]) + ">"


@dataclass
class _Plan:
    """Everything the DOT text is made from, decided before any line is written."""

    st: Structure
    src: DeltaSource
    precision: int
    x: list[float] | None  # the sample, with inputs=
    za: list[list[tuple[float, float]]] | None  # (z, a) per neuron, with inputs=
    keep: list[set[int]]  # per layer, the weights drawn (j * fan_in + i)
    thinned: str  # why not every weight is drawn ("" when all are)
    place: list[str | None]  # per layer, where edge text goes: "tail", "head" or nowhere
    label_edges_up_to: int
    caption: str | None

    def f(self, x: float) -> str:
        return style.fmt(x, self.precision)


def _places(st: Structure, keep: list[set[int]], thinned: str, up_to: int) -> list[str | None]:
    """Per layer: "tail" (a fan into one neuron), "head" (a fan out of one input), else None (no text)."""
    place: list[str | None] = []
    for li, layer in enumerate(st.layers):
        fan = len(keep[li]) <= up_to and not thinned
        if fan and layer.nout == 1:
            place.append("tail")
        elif fan and layer.nin == 1:
            place.append("head")
        else:
            place.append(None)
    return place


def _plan(model: Any, optimizer: Any, lr: Any, inputs: Any, max_edges: Any, precision: int, up_to: Any) -> _Plan:
    """Check the arguments and decide what to draw."""
    st = _structure(model)
    if max_edges is not None and (not isinstance(max_edges, int) or max_edges < 1):
        raise ValueError(f"draw_network: max_edges must be a positive int or None, got {max_edges!r}")
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
        raise ValueError(f"draw_network: label_edges_up_to must be an int >= 0, got {up_to!r}")
    params = [p for unit in st.units() for p in (*unit.weights, unit.bias)]
    src = resolve(optimizer, lr, params, ())
    x, za = _forward(st, inputs) if inputs is not None else (None, None)
    keep, thinned = _pick_edges(st, src, max_edges if max_edges is not None else 10**12)
    place = _places(st, keep, thinned, up_to)
    return _Plan(st, src, precision, x, za, keep, thinned, place, up_to, None)


def _texts(plan: _Plan) -> tuple[list[list[str]], list[list[str]], list[list[list[str]]]]:
    """The lines of every node: column headers, inputs, neurons (one size will fit them all)."""
    st, f, src, x, za = plan.st, plan.f, plan.src, plan.x, plan.za
    headers = [["inputs"]] + [
        [f"layer {li}", f"{layer.nout} × {layer.activation}"] for li, layer in enumerate(st.layers)
    ]
    input_lines = [[f"x{i}"] + ([f"{f(x[i])}"] if x is not None else []) for i in range(st.nin)]
    neuron_lines = []
    for li, layer in enumerate(st.layers):
        col = []
        for j, unit in enumerate(layer.units):
            b = unit.bias
            db = src.delta(b)
            first = f"{j}  b={f(b.data)}" + (f"  Δb={f(db)}" if db is not None else "")
            second = (f"a={f(za[li][j][1])}  " if za is not None else "") + f"δ={f(b.grad)}"
            col.append([first, second])
        neuron_lines.append(col)
    return headers, input_lines, neuron_lines


def _notes(plan: _Plan) -> list[str]:
    """The title's sentences about what is drawn and where the numbers are."""
    notes = [plan.thinned] if plan.thinned else []
    if all(plan.place):
        notes.append("w, ∂L/∂w and Δw written on every edge")
    else:
        on = [str(li) for li, where in enumerate(plan.place) if where]
        notes.append(
            "w, ∂L/∂w, Δw: in every edge's SVG tooltip; as text only on "
            + (f"the edges into layer {', '.join(on)}" if on else "no edges here")
            + f" (fans of ≤ {plan.label_edges_up_to} weights; elsewhere text would overlap)"
        )
    return notes


def _title(plan: _Plan) -> str:
    """The graph label: caption, what the picture shows, and the colour legend."""
    st = plan.st
    title = (
        f"network: {st.nin} inputs → "
        + " → ".join(str(layer.nout) for layer in st.layers)
        + f" · δ = ∂L/∂z = ∂L/∂b · {plan.src.description}"
    )
    rows = [f"<b>{style.html(style.short(plan.caption, 200))}</b>"] if plan.caption else []
    rows += [style.html(title)] + [style.html(n) for n in _notes(plan)]
    legend = (
        '<table border="0" cellborder="1" cellspacing="0" cellpadding="3"><tr><td><b>legend</b></td>'
        f'<td><font color="{style.POS_LINE}">━━</font> Δw &gt; 0</td>'
        f'<td><font color="{style.NEG_LINE}">━━</font> Δw &lt; 0</td>'
        "<td>edge width ∝ |w|, faint: small |Δw|</td>"
        f'<td bgcolor="{style.diverging(-1, 1)}">δ &lt; 0</td><td bgcolor="{style.diverging(1, 1)}">δ &gt; 0</td>'
        "</tr></table>"
    )
    return (
        '<<table border="0" cellborder="0" cellspacing="2">'
        + "".join(f"<tr><td>{r}</td></tr>" for r in rows)
        + f"<tr><td>{legend}</td></tr></table>>"
    )


def _defaults(body: list[str], title: str, gap: float, dims: dict[str, str]) -> None:
    """The graph, node and edge attribute lines: columns left to right, straight edges, fixed node size."""
    graph = dict(rankdir="LR", label=title, labelloc="t", fontname="Helvetica", fontsize="12")
    graph.update(ranksep=f"{gap:g}", nodesep=f"{NODESEP:g}", splines="line", ordering="out")
    graph.update(outputorder="edgesfirst", forcelabels="true")
    body.append("\tgraph " + style.attrs(**graph))
    node = dict(fontname="Helvetica", fontsize=f"{NODE_FONT:g}", shape="box", style="filled")
    body.append("\tnode " + style.attrs(**node, color=style.BORDER, margin="0", **dims))
    edge = dict(fontname="Helvetica", fontsize=f"{EDGE_FONT:g}", arrowhead="none", tailport="e", headport="w")
    body.append("\tedge " + style.attrs(**edge, labelangle="0", labelfontcolor="#333333"))


def _input_column(body: list[str], plan: _Plan, header: list[str], lines: list[list[str]]) -> None:
    """The inputs as a rank=same group chained in order under its header (clusters would shuffle them)."""
    body.append("\tsubgraph col_in {")
    body.append("\t\thin " + style.attrs(label=_markup(header), shape="plaintext", style="solid"))
    for i, text in enumerate(lines):
        tip = f"input x{i}" + (f" = {plan.x[i]!r}" if plan.x is not None else "")
        body.append(f"\t\tx{i} " + style.attrs(label=_markup(text), fillcolor=style.INPUT, tooltip=tip))
    body.append("\t\t{rank=same; hin -> " + " -> ".join(f"x{i}" for i in range(len(lines))) + " [style=invis]}")
    body.append("\t}")


def _layer_columns(body: list[str], plan: _Plan, headers: list[list[str]], lines: list[list[list[str]]]) -> None:
    """One column per layer: each neuron filled by the sign of δ, its exact numbers in the tooltip."""
    st, src, za = plan.st, plan.src, plan.za
    bscale = max((abs(u.bias.grad) for u in st.units()), default=0.0)
    for li, layer in enumerate(st.layers):
        last = li == len(st.layers) - 1
        body.append(f"\tsubgraph col_{li} {{")
        body.append(f"\t\th{li} " + style.attrs(label=_markup(headers[li + 1]), shape="plaintext", style="solid"))
        for j, unit in enumerate(layer.units):
            b = unit.bias
            tip = f"{unit.name}: b={b.data!r} δ=∂L/∂b={b.grad!r}"
            db = src.delta(b)
            if db is not None:
                tip += f" Δb={db!r}"
            if za is not None:
                tip += f" z={za[li][j][0]!r} a={layer.activation}(z)={za[li][j][1]!r}"
            fill = style.diverging(b.grad, bscale)
            attrs = style.attrs(
                label=_markup(lines[li][j]), fillcolor=fill, penwidth="2" if last else None, tooltip=tip
            )
            body.append(f"\t\tn{li}_{j} " + attrs)
        chain = " -> ".join([f"h{li}"] + [f"n{li}_{j}" for j in range(layer.nout)])
        body.append(f"\t\t{{rank=same; {chain} [style=invis]}}")
        body.append("\t}")


def _edge_text(plan: _Plan, w: Value, d: float | None) -> tuple[str, int]:
    """The HTML text written on an edge (w, Δw, ∂L/∂w on a white box) and its width in characters."""
    f = plan.f
    lines = [f"w={f(w.data)}" + (f"  Δw={f(d)}" if d is not None else ""), f"∂L/∂w={f(w.grad)}"]
    text = (
        f'<<table border="0" cellborder="0" cellpadding="0" cellspacing="0" bgcolor="{LABEL_BG}">'
        + "".join(f"<tr><td>{style.html(ln)}</td></tr>" for ln in lines)
        + "</table>>"
    )
    return text, max(map(len, lines))


def _edges(body: list[str], plan: _Plan, pitch: float, gap: float) -> None:
    """One line per drawn weight: colour = sign of Δw, width ∝ |w|, faint when |Δw| is small."""
    st, src = plan.st, plan.src
    params = [p for u in st.units() for p in (*u.weights, u.bias)]  # the scales include the biases
    dscale = max((abs(d) for w in params if (d := src.delta(w)) is not None), default=0.0)
    wscale = max((abs(w.data) for w in params), default=0.0) or 1.0
    for li, layer in enumerate(st.layers):
        where = plan.place[li]
        for j, unit in enumerate(layer.units):
            for i, w in enumerate(unit.weights):
                if j * layer.nin + i not in plan.keep[li]:
                    continue
                d = src.delta(w)
                colour = style.sign_line(d) if d is not None else style.ZERO_LINE
                if d is not None and dscale:
                    colour += f"{int(80 + 175 * min(1.0, (abs(d) / dscale) ** 0.5)):02x}"  # alpha
                tip = f"{unit.name}.w.{i}: w={w.data!r} ∂L/∂w={w.grad!r}" + (f" Δw={d!r}" if d is not None else "")
                text = distance = None
                if where:
                    text, chars = _edge_text(plan, w, d)
                    k, fan = (i, layer.nin) if where == "tail" else (j, layer.nout)
                    distance = f"{_label_distance(k, fan, pitch, gap, chars):.2f}"
                s = f"x{i}" if li == 0 else f"n{li - 1}_{i}"
                attrs = style.attrs(
                    color=colour,
                    penwidth=f"{0.4 + 3.2 * abs(w.data) / wscale:.2f}",
                    tooltip=tip,
                    taillabel=text if where == "tail" else None,
                    headlabel=text if where == "head" else None,
                    labeldistance=distance,
                )
                body.append(f"\t{s} -> n{li}_{j} " + attrs)


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
    The model is read through ``nn.structure.describe``.
    """
    plan = _plan(model, optimizer, lr, inputs, max_edges, precision, label_edges_up_to)
    plan.caption = caption
    headers, input_lines, neuron_lines = _texts(plan)
    every = [ln for col in neuron_lines for ln in col] + input_lines + headers
    width = max(_size(ln)[0] for ln in every)
    height = max(_size(ln)[1] for ln in neuron_lines[0] + input_lines)
    gap = RANKSEP_TEXT if any(plan.place) else RANKSEP
    g = Graph(name="network")
    _defaults(g.body, _title(plan), gap, dict(width=f"{width:.3f}", height=f"{height:.3f}", fixedsize="true"))
    _input_column(g.body, plan, headers[0], input_lines)
    _layer_columns(g.body, plan, headers, neuron_lines)
    _edges(g.body, plan, height + NODESEP, gap)
    g.body[:] = [line if line.endswith("\n") else line + "\n" for line in g.body]
    return g
