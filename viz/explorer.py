"""``explore``: one self-contained HTML page that steps through forward, backward and the update.

Every step's text and numbers are computed here, in Python, from the engine's own values and
stored local derivatives, and embedded as JSON; the page's script only shows step k (it never
evaluates anything).  The graph is ``draw_graph``'s picture rendered to SVG by Graphviz and
inlined, each value's group tagged with ``data-node`` and ``data-value`` (the DOM contract of
DESIGN.md: ``#equation``, ``data-grad`` once final, ``<body data-step data-phase>``).
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from autograd import Value, topological_order
from autograd.node import edges

from .atomic import write_bytes
from .chain import Names
from .deltas import DeltaSource, resolve
from .graph import draw_graph
from .renderers import RendererNotFound, pipe
from .style import fmt

INFIX = ("+", "-", "*", "/")
DIGITS = 6  # significant digits of the numbers in a step's text (hover shows them all)


def _num(x: float) -> str:
    return fmt(x, DIGITS)


def _local(d: Any) -> float:
    """A stored local derivative as a float (it is a Value when built for higher derivatives)."""
    return float(d.data if isinstance(d, Value) else d)


def _names(order: list[Value]) -> list[str]:
    """A unique display name per node: its label, else ``L`` for the root and ``v{i}`` for the rest."""
    names = Names(order)
    last = len(order) - 1
    return [names.name(v, "L" if i == last else f"v{i}") for i, v in enumerate(order)]


def _forward(order: list[Value], name: list[str], index: dict[Value, int]) -> list[dict[str, Any]]:
    """One step per node in creation order: its value, and for an op the operands' numbers."""
    steps = []
    for i, v in enumerate(order):
        kids = [index[c] for c, _ in edges(v)]
        if not kids:
            text = f"{name[i]} = {_num(v.data)}"
        elif v.op in INFIX and len(kids) == 2:
            a, b = kids
            text = (
                f"{name[i]} = {name[a]} {v.op} {name[b]} = {_num(order[a].data)} {v.op} {_num(order[b].data)}"
                f" = {_num(v.data)}"
            )
        else:
            args = ", ".join(name[k] for k in kids)
            nums = ", ".join(_num(order[k].data) for k in kids)
            text = f"{name[i]} = {v.op}({args}) = {v.op}({nums}) = {_num(v.data)}"
        steps.append({"phase": "forward", "node": i, "children": kids, "value": v.data, "text": text})
    return steps


def _backward(order: list[Value], name: list[str], index: dict[Value, int]) -> list[dict[str, Any]]:
    """The seed ∂L/∂L = 1, then one step per (node, operand) in reverse topological order,
    replaying the engine's sums with its stored local derivatives."""
    root = len(order) - 1
    grads = [0.0] * len(order)
    grads[root] = 1.0
    steps: list[dict[str, Any]] = [
        {"phase": "backward", "node": root, "children": [], "grad": 1.0, "text": f"∂L/∂{name[root]} = 1 (the start)"}
    ]
    for i in range(root, -1, -1):
        v = order[i]
        kids = [index[c] for c, _ in edges(v)]
        for c, d in edges(v):
            k = index[c]
            g, dd = grads[i], _local(d)
            product = g * dd
            grads[k] += product
            text = (
                f"∂L/∂{name[k]} += ∂L/∂{name[i]} × ∂{name[i]}/∂{name[k]} = {_num(g)} × {_num(dd)} = {_num(product)}"
                f"  (∂L/∂{name[k]} is now {_num(grads[k])})"
            )
            steps.append(
                {
                    "phase": "backward",
                    "node": i,
                    "children": kids,
                    "child": k,
                    "g": g,
                    "d": dd,
                    "product": product,
                    "total": grads[k],
                    "text": text,
                }
            )
    return steps


def _update(order: list[Value], name: list[str], index: dict[Value, int], src: DeltaSource) -> list[dict[str, Any]]:
    """One step per parameter in the graph with a Δw; a single note when there is none."""
    steps = []
    for p in src.params:
        d = src.delta(p)
        if p not in index or d is None:
            continue
        i = index[p]
        n = name[i]
        if src.kind == "lr":
            before, after = p.data, p.data + d
            how = f"−lr·∂L/∂{n} = −{src.lr:g} × {_num(p.grad)}"
        else:  # the optimizer has already applied it: data is the value after the step
            before, after = p.data - d, p.data
            how = "what the optimizer's step() applied"
        text = f"Δ{n} = {how} = {_num(d)};  {n}: {_num(before)} → {_num(after)}"
        steps.append(
            {"phase": "update", "node": i, "children": [], "delta": d, "before": before, "after": after, "text": text}
        )
    if not steps:
        steps.append({"phase": "update", "node": None, "children": [], "text": f"no update to show: {src.description}"})
    return steps


def _check_grads(order: list[Value], name: list[str], backward: list[dict[str, Any]]) -> None:
    """The page shows one ``root.backward()``: every ``.grad`` must be what the replay computed."""
    replay = [0.0] * len(order)
    for step in backward:
        replay[step.get("child", step["node"])] = step.get("total", step.get("grad", 0.0))
    for v, n, r in reversed(list(zip(order, name, replay))):  # the root first: the likeliest cause
        if not math.isclose(v.grad, r, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(
                f"explore: {n}.grad is {v.grad!r} but one backward() from the root gives {r!r}; "
                "the page shows a single backward pass, so zero the gradients (zero_grad), call "
                "root.backward() once, then explore(root)"
            )


def _final_at(backward: list[dict[str, Any]], n: int, offset: int) -> list[int | None]:
    """The page step at which each node's gradient is final (its last contribution, or the seed)."""
    final: list[int | None] = [None] * n
    for s, step in enumerate(backward):
        final[step.get("child", step["node"])] = offset + s
    return final


_GROUP = re.compile(r'<g id="node\d+" class="node">\s*<title>([vo])(\d+)</title>')


def _svg(root: Value, src_args: dict[str, Any], order: list[Value]) -> str:
    """The graph as inline SVG: no XML prolog, comments or namespaces; each group tagged."""
    try:
        svg = pipe(draw_graph(root, **src_args), "svg").decode("utf-8")
    except RendererNotFound as e:
        why = str(e).removeprefix("render: ")
        raise RendererNotFound(f"explore: the page holds the graph as SVG drawn by Graphviz; {why}") from None
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r' xmlns(:xlink)?="[^"]*"', "", svg)

    def tag(m: re.Match[str]) -> str:
        kind, i = m.group(1), int(m.group(2))
        attrs = f'data-node="{i}" data-value="{order[i].data!r}"' if kind == "v" else f'data-op="{i}"'
        return m.group(0).replace('class="node">', f'class="node" {attrs}>', 1)

    return _GROUP.sub(tag, svg)


def _json(data: Any) -> str:
    """JSON safe inside a <script> element: no ``<``, ``>`` or ``&`` can end it or open a tag."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _page(svg: str, data: dict[str, Any]) -> str:
    first = data["steps"][0]["text"]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>deltaw explorer: forward, backward, update</title>"
        f"<style>{_asset('explore_page.css')}</style></head>\n"
        '<body data-step="0" data-phase="forward">\n'
        '<div id="controls"><button id="to-forward">forward</button><button id="to-backward">backward</button>'
        '<button id="to-update">update</button> <button id="prev">←</button>'
        f'<input id="slider" type="range" min="0" max="{len(data["steps"]) - 1}" value="0">'
        '<button id="next">→</button> <span id="where"></span></div>\n'
        f'<div id="equation">{html.escape(first)}</div>\n'
        f'<div id="graph">{svg}</div>\n'
        f'<script type="application/json" id="deltaw-steps">{_json(data)}</script>\n'
        f"<script>{_asset('explore_page.js')}</script>\n</body></html>\n"
    )


@dataclass
class ExplorerPage:
    """The written page: ``path`` to open in a browser; shows inline in Jupyter (an iframe)."""

    path: Path
    html: str

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width:100%;height:640px;border:1px solid #ccc" sandbox="allow-scripts"></iframe>'
        )


def explore(
    root: Value,
    optimizer: Any = None,
    lr: float | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    params: Iterable[Value] | None = None,
) -> ExplorerPage:
    """Write one self-contained HTML page stepping through ``root``'s forward pass, its backward
    pass (every chain-rule product with the engine's numbers) and the update Δw (the optimizer's
    ``deltas`` or −lr·grad).  Call after one ``root.backward()`` (``ValueError`` otherwise); needs
    a Graphviz renderer (``RendererNotFound`` otherwise).  Without ``path``: a temporary file.
    ``params`` picks the parameters as in ``draw_graph`` (default: the optimizer's, else every
    labelled leaf)."""
    if not isinstance(root, Value):
        raise TypeError(f"explore: root must be an autograd.Value, got {type(root).__name__}")
    order = topological_order(root)
    params = None if params is None else list(params)
    src = resolve(optimizer, lr, params, [v for v in order if v.is_leaf])
    name = _names(order)
    index = {v: i for i, v in enumerate(order)}
    forward = _forward(order, name, index)
    backward = _backward(order, name, index)
    _check_grads(order, name, backward)
    steps = forward + backward + _update(order, name, index, src)
    nodes = [{"name": name[i], "value": v.data, "grad": v.grad, "op": v.op} for i, v in enumerate(order)]
    data = {
        "nodes": nodes,
        "steps": steps,
        "final_at": _final_at(backward, len(order), len(forward)),
        "phase_start": {
            p: next(s for s, st in enumerate(steps) if st["phase"] == p) for p in ("forward", "backward", "update")
        },
    }
    svg = _svg(root, {"optimizer": optimizer, "lr": lr, "params": params}, order)
    page = _page(svg, data)
    if path is None:
        fd, tmp = tempfile.mkstemp(prefix="deltaw-explore-", suffix=".html")
        os.close(fd)
        path = tmp
    written = write_bytes(path, page.encode("utf-8"))
    return ExplorerPage(Path(written), page)
