"""``draw_graph``: a computation graph with data, grad and Δw on every node.

Like micrograd's ``draw_dot``: one box per ``Value``, a small ellipse per op,
edges operand → op → result.  On top of it: the weight update Δw on every
parameter (what the optimizer applied, or −lr·grad), colours that mean
something (node kind; sign and size of grad and Δw), a legend, DOT text that
is byte-identical for the same graph, labels escaped for any characters, and
automatic collapsing of big graphs so ``dot`` never gets a huge input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from autograd import Value, topological_order

from . import style
from .collapse import SINGLE, Box, Collapsed, Grouping, collapse, connected_grouping, model_groupings
from .deltas import DeltaSource, resolve
from .digraph import Graph
from .layout_cost import dot_work
from .stale import changed_leaves

SHOW = ("data", "grad", "delta")
#: dot's work (nodes + edges + virtual nodes, see layout_cost) allowed per unit of max_nodes;
#: calibrated: work 5,000-7,000 lays out in about a second, 28,000 took 95 s
WORK_PER_NODE = 6
MIN_BUDGET = 16


def _check_args(root: Any, show: Sequence[str], rankdir: str, max_nodes: int | None, precision: int) -> tuple[str, ...]:
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: root must be an autograd.Value, got {type(root).__name__}")
    if isinstance(show, str):
        show = (show,)
    show = tuple(show)
    bad = [s for s in show if s not in SHOW]
    if bad:
        raise ValueError(f"draw_graph: show= takes some of {SHOW}, got {bad}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    if not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"draw_graph: precision must be an int from 1 to 17, got {precision!r}")
    return show


class _Drawer:
    """Writes the DOT lines of one drawing; holds the scales and the Δw source."""

    def __init__(
        self, order: list[Value], src: DeltaSource, show: tuple[str, ...], rankdir: str, precision: int
    ) -> None:
        self.order = order
        self.src = src
        self.show = show
        self.horizontal = rankdir in ("LR", "RL")
        self.p = precision
        self.root = order[-1]
        # the root's grad is 1 by construction; scale the colours by the others
        self.gscale = max((abs(v.grad) for v in order[:-1]), default=0.0) or abs(self.root.grad)
        ds = [src.delta(v) for v in src.params] if src.kind != "none" else []
        self.dscale = max((abs(d) for d in ds if d is not None), default=0.0)

    # ---- pieces of labels --------------------------------------------------------
    def number(self, x: float) -> str:
        """``x`` at this drawing's precision, escaped for an HTML label."""
        return style.html(style.fmt(x, self.p))

    def kind(self, v: Value) -> str:
        if v is self.root:
            return "output"
        if v.is_leaf:
            return "param" if self.src.is_param(v) else "input"
        return "value"

    def fill(self, v: Value) -> str:
        return {"output": style.OUTPUT, "param": style.PARAM, "input": style.INPUT}.get(
            self.kind(v), style.INTERMEDIATE
        )

    def cells(self, v: Value) -> list[str]:
        """The ``<td>`` cells of a value box: name, data, grad, Δw."""
        f = self.number
        out = []
        if v.label:
            out.append(f"<td><b>{style.html(style.short(v.label))}</b></td>")
        if "data" in self.show:
            out.append(f"<td>data {f(v.data)}</td>")
        if "grad" in self.show:
            out.append(f'<td bgcolor="{style.diverging(v.grad, self.gscale)}">grad {f(v.grad)}</td>')
        if "delta" in self.show and self.src.kind != "none" and self.src.is_param(v):
            d = self.src.delta(v)
            if d is None:
                out.append("<td>Δw —</td>")
            else:
                out.append(f'<td bgcolor="{style.diverging(d, self.dscale)}"><b>Δw {f(d)}</b></td>')
        return out or ["<td> </td>"]

    def table(self, cells: list[str], fill: str) -> str:
        sep = "" if self.horizontal else "</tr><tr>"
        return (
            '<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" '
            f'bgcolor="{fill}"><tr>' + sep.join(cells) + "</tr></table>>"
        )

    def tooltip(self, i: int, v: Value) -> str:
        name = v.label or f"v{i}"
        t = f"{name}: data={v.data!r} grad={v.grad!r}"
        if v.op:
            t += f" op={v.op}"
        d = self.src.delta(v) if self.src.is_param(v) else None
        if d is not None:
            t += f" Δw={d!r}"
        return t

    # ---- DOT lines ----------------------------------------------------------------
    def value_node(self, i: int, v: Value) -> str:
        return f"\tv{i} " + style.attrs(
            label=self.table(self.cells(v), self.fill(v)), shape="none", margin="0", tooltip=self.tooltip(i, v)
        )

    def op_node(self, i: int, v: Value) -> str:
        return f"\to{i} " + style.attrs(
            label=f"<{style.html(v.op)}>",
            shape="ellipse",
            style="filled",
            fillcolor=style.OP,
            fontsize="10",
            width="0.3",
            height="0.25",
            margin="0.03,0.01",
        )

    def legend(self, extra: str = "") -> str:
        """A two-row strip: what each colour means, then what Δw means here."""
        items = [
            (style.PARAM, "parameter"),
            (style.INPUT, "input / constant"),
            (style.INTERMEDIATE, "intermediate"),
            (style.OUTPUT, "output"),
            (style.OP, "op"),
            (style.diverging(-1.0, 1.0), "grad, Δw &lt; 0"),
            (style.diverging(1.0, 1.0), "grad, Δw &gt; 0"),
        ]
        if extra:
            items.append((style.GROUP, style.html(extra)))
        row = "".join(f'<td bgcolor="{c}">{t}</td>' for c, t in items)
        return "\tlegend " + style.attrs(
            label='<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
            f"<tr><td><b>legend</b></td>{row}</tr>"
            f'<tr><td colspan="{len(items) + 1}">{style.html(self.src.description)}</td></tr></table>>',
            shape="none",
            margin="0",
            fontsize="10",
        )


def _stale_note(order: list[Value]) -> str:
    """A title line when leaves changed after the forward pass: their boxes show today's data."""
    changes = changed_leaves(order)
    if not changes:
        return ""
    shown = ", ".join(style.short(ch.leaf.label or "an unlabelled leaf", 24) for ch in changes[:3])
    more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
    return (
        f"<br/><b>⚠ stale graph</b>: {len(changes)} leaves changed after the forward pass ({style.html(shown)}{more}, "
        "e.g. by opt.step()); their boxes show today's data, every other number is the graph's"
    )


def _title(order: list[Value], n_ops: int, src: DeltaSource, how: str, reason: str) -> str:
    root = order[-1]
    name = style.html(style.short(root.label)) if root.label else "L"
    t = (
        f"computation graph of {name if root.label else 'the output L'}: {len(order)} values, {n_ops} ops, "
        f"grad = ∂{name}/∂node · {style.html(src.description)}"
    )
    if how:
        t += f"<br/><b>collapsed</b> ({reason}): {style.html(how)}; "
        t += "max_nodes=None draws every node"
    return f"<{t}{_stale_note(order)}>"


def _header(g: Graph, rankdir: str, title: str) -> None:
    g.body.append(
        "\t"
        + "graph "
        + style.attrs(
            rankdir=rankdir,
            label=title,
            labelloc="t",
            fontname="Helvetica",
            fontsize="12",
            nodesep="0.15",
            ranksep="0.3",
        )
    )
    g.body.append("\t" + "node " + style.attrs(fontname="Helvetica", fontsize="11", color=style.BORDER))
    g.body.append("\t" + "edge " + style.attrs(color=style.EDGE, arrowsize="0.6"))


def _plan_full(d: _Drawer) -> tuple[list[str], list[tuple[str, str, int]]]:
    """Node statements and edges (src, dst, multiplicity) of the uncollapsed graph."""
    order = d.order
    index = {v: i for i, v in enumerate(order)}
    nodes: list[str] = []
    edges: list[tuple[str, str, int]] = []
    for i, v in enumerate(order):
        nodes.append(d.value_node(i, v))
        if not v.is_leaf:
            nodes.append(d.op_node(i, v))
            edges.append((f"o{i}", f"v{i}", 1))
            for c in v.children:
                edges.append((f"v{index[c]}", f"o{i}", 1))
    return nodes, edges


def _box_label(d: _Drawer, box: Box, order: list[Value], roles: dict[Value, str]) -> str:
    """A summary box: what it holds, its top node's numbers, its parameters' Δw."""
    members = box.members
    n_ops: dict[str, int] = {}
    params = []
    for i in members:
        v = order[i]
        if v.is_leaf:
            if v in roles or (box.kind != "unit" and d.src.is_param(v)):
                params.append(v)
        else:
            n_ops[v.op] = n_ops.get(v.op, 0) + 1
    f = d.number
    ops = ", ".join(f"{style.html(k)} ×{n}" for k, n in sorted(n_ops.items(), key=lambda kv: (-kv[1], kv[0])))
    if box.kind == "unit":
        head = f"<b>{style.html(style.short(box.key))}</b>"
    elif box.kind == "inputs":
        head = "<b>inputs and constants</b>"
    elif box.kind == "subgraph":
        top = order[int(box.key)]
        name = style.html(style.short(top.label)) if top.label else f"v{box.key}"
        head = f"<b>subgraph below {name}</b> (top: data {f(top.data)}, grad {f(top.grad)})"
    else:
        head = "<b>the rest of the graph</b>"
    rows = [head, f"{len(members)} values" + (f"; ops: {ops}" if ops else "")]
    limit = 6
    rank = {v: k for k, v in enumerate(roles)}
    params.sort(key=lambda v: rank.get(v, len(rank)))
    for v in params[:limit]:
        r = f"{style.html(style.short(roles.get(v) or v.label))} = {f(v.data)}, grad {f(v.grad)}"
        delta = d.src.delta(v)
        if "delta" in d.show and delta is not None:
            r += f", <b>Δw {f(delta)}</b>"
        rows.append(r)
    if len(params) > limit:
        rows.append(f"… {len(params) - limit} more parameters")
    cells = "".join(f'<tr><td align="left">{r}</td></tr>' for r in rows)
    return f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="2" bgcolor="{style.GROUP}">{cells}</table>>'


def _plan_collapsed(d: _Drawer, c: Collapsed) -> tuple[list[str], list[tuple[str, str, int]]]:
    """Node statements and edges (src, dst, multiplicity) of a collapsed graph;
    edges between the same two boxes are merged and counted."""
    order = d.order
    unit = c.unit
    index = {v: i for i, v in enumerate(order)}
    nodes = [
        f"\tb{b} " + style.attrs(label=_box_label(d, box, order, c.roles), shape="none", margin="0")
        for b, box in enumerate(c.boxes)
    ]
    edges: dict[tuple[str, str], int] = {}
    for i, v in enumerate(order):
        if unit[i] == SINGLE:
            nodes.append(d.value_node(i, v))
            if v.is_leaf:
                continue
            nodes.append(d.op_node(i, v))
            edges[(f"o{i}", f"v{i}")] = 1
            dst = f"o{i}"
        else:
            dst = f"b{unit[i]}"
        for ch in v.children:
            k = index[ch]
            src = f"v{k}" if unit[k] == SINGLE else f"b{unit[k]}"
            if src != dst:
                edges[(src, dst)] = edges.get((src, dst), 0) + 1
    return nodes, [(s, t, n) for (s, t), n in edges.items()]


def _emit(g: Graph, nodes: list[str], edges: list[tuple[str, str, int]]) -> None:
    body = g.body
    body.extend(nodes)
    for s, t, n in edges:
        if n == 1:
            body.append(f"\t{s} -> {t}")
        else:
            width = min(4.0, 1.0 + (n**0.5) / 8)
            body.append(f"\t{s} -> {t} " + style.attrs(xlabel=f"×{n}", penwidth=f"{width:.2f}", fontsize="9"))


def _ids(nodes: list[str]) -> list[str]:
    return [line.split(" ", 1)[0].strip() for line in nodes]


def _end_lines(g: Graph) -> None:
    """One statement per line, as ``graphviz`` itself writes them."""
    g.body[:] = [line if line.endswith("\n") else line + "\n" for line in g.body]


def _levels(model: Any, order: list[Value], src: DeltaSource) -> list[Grouping]:
    """How to group parameters when collapsing: the model's units and layers, or the ops that read them."""
    if model is None:
        return [connected_grouping(order, src.params)]
    from nn.structure import describe

    try:
        structure = describe(model)
    except (TypeError, ValueError) as e:
        raise TypeError(f"draw_graph: model= must be an nn model with layers or recurrent cells ({e})") from None
    return model_groupings(structure)


def _plan(d: _Drawer, max_nodes: int | None, levels: Callable[[], list[Grouping]]) -> tuple[Any, ...]:
    """Node and edge statements: the whole graph, or collapsed until dot's work fits ``max_nodes``.

    Returns (nodes, edges, collapsed or None, the reason it was collapsed).
    """
    order = d.order
    total = len(order) + sum(1 for v in order if not v.is_leaf)
    if max_nodes is None or total <= max_nodes:
        nodes, edges = _plan_full(d)
        if max_nodes is None or dot_work(_ids(nodes), [(s, t) for s, t, _ in edges]) <= WORK_PER_NODE * max_nodes:
            return nodes, edges, None, ""
        reason = f"{total} nodes, but edges spanning far would cost dot more than {WORK_PER_NODE}×max_nodes of work"
        budget = total // 2
    else:
        reason = f"{total} nodes &gt; max_nodes={max_nodes}"
        budget = max_nodes
    groupings = levels()
    while True:
        # too many boxes, or long edges that would make dot crawl: collapse (further)
        collapsed = collapse(order, budget, groupings)
        nodes, edges = _plan_collapsed(d, collapsed)
        if budget <= MIN_BUDGET or dot_work(_ids(nodes), [(s, t) for s, t, _ in edges]) <= WORK_PER_NODE * max_nodes:
            return nodes, edges, collapsed, reason
        budget //= 2


def draw_graph(
    root: Value,
    *,
    optimizer: Any = None,
    lr: float | None = None,
    show: Sequence[str] = SHOW,
    rankdir: str = "LR",
    max_nodes: int | None = 1000,
    precision: int = 4,
    params: Iterable[Value] | None = None,
    model: Any = None,
) -> Graph:
    """The computation graph under ``root`` as a ``graphviz.Digraph``.

    Each ``Value`` is a box with its label, ``data``, ``grad`` and, on
    parameters, Δw: ``optimizer.deltas`` (what the last ``step()`` applied)
    or, with ``lr=``, the plain gradient-descent step −lr·grad.  Parameters
    are the optimizer's, or ``params=``, or else every labelled leaf.
    ``show`` picks the numbers; ``precision`` their significant digits.
    Beyond ``max_nodes`` boxes (values + ops) the graph is collapsed (see
    :mod:`viz.collapse`) and the title says how: with ``model=`` one box
    per unit of the model (a neuron, a recurrent hidden unit), else one per
    group of parameters the same ops read; ``max_nodes=None`` draws every
    node.  The DOT text depends only on the graph, never on ``id()``.
    """
    show = _check_args(root, show, rankdir, max_nodes, precision)
    order = topological_order(root)
    leaves = [v for v in order if v.is_leaf]
    src = resolve(optimizer, lr, params, leaves)
    d = _Drawer(order, src, show, rankdir, precision)
    nodes, edges, collapsed, reason = _plan(d, max_nodes, lambda: _levels(model, order, src))
    g = Graph(name="computation_graph")
    n_ops = len(order) - len(leaves)
    _header(g, rankdir, _title(order, n_ops, src, collapsed.how if collapsed else "", reason))
    _emit(g, nodes, edges)
    g.body.append(d.legend("collapsed box" if collapsed else ""))
    _end_lines(g)
    g.collapsed = collapsed  # which node went into which box (None: every node drawn), read by explore
    return g
