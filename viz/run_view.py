"""``explore_run``: one self-contained HTML page that steps through a recorded training run.

The page holds :func:`viz.draw_network`'s diagram of the model (Graphviz SVG, inline; its title
and tooltips removed, as they describe one moment), a loss curve drawn here as inline SVG, and
the recording (``viz.RunRecorder``) as JSON.  A slider, ← / → keys, buttons and play/pause move
through the recorded steps; the page's script only shows row k of the numbers (it computes
nothing but colours).  At each step:

- every drawn weight's edge is coloured by the sign of its Δw at that step (red > 0, blue < 0,
  grey = 0), with ``stroke-opacity`` = 0.2 + 0.8·√min(1, |Δw|/D) and ``stroke-width`` =
  0.4 + 3.2·|w|/W, where D and W are the largest |Δw| and |w| of the drawn weights and biases
  over the whole run (one scale for every step, shown in the legend);
- every neuron shows its bias b and Δb, filled on the same blue/white/red scale by Δb;
- hovering an edge or a neuron shows the parameter's name, value and Δw at that step.

DOM contract (for tests and users): ``<body data-step data-row>`` (the training step number and
the row of the recording shown); ``#loss`` holds that step's loss and ``#step`` its number;
each drawn weight's edge group ``g.edge`` and each neuron's group ``g.node`` carries
``data-param`` (the dotted parameter name; a neuron: its bias), ``data-delta`` and
``data-value`` (Δw and the value after the step, as decimals that parse back to exactly the
recorded float64).  Big models: ``draw_network`` draws at most ``max_edges`` weights (into each
neuron the ones with the largest mean |Δw| over the run); the others are aggregated per layer
in ``#hidden`` (how many, and their mean |Δw| at the step).  A long run: ``every=k`` shows one
recorded step in k (the loss curve keeps them all); a page of more than ``MAX_PAGE_NUMBERS``
numbers is refused with the ``every`` that fits.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value

from . import style
from .atomic import write_bytes
from .explorer import ExplorerPage, asset, script_json
from .network import draw_network
from .renderers import RendererNotFound, pipe
from .run_record import RunRecorder

__all__ = ["explore_run"]

_EDGE = re.compile(r"^(x|n)(\d+)(?:_(\d+))?(?::\w+)?->n(\d+)_(\d+)(?::\w+)?$")
_NEURON = re.compile(r"^n(\d+)_(\d+)$")
LOSS_W, LOSS_H, LOSS_PAD = 640.0, 170.0, 44.0  # the loss curve's size and margin (pixels)
MAX_PAGE_NUMBERS = 2_000_000  # Δw and values embedded in one page (about 40 MB of JSON)


@dataclass
class _RunDeltas:
    """Stands in for an optimizer so draw_network keeps the weights with the largest mean |Δw|."""

    params: list[Value]
    deltas: dict[Value, float]


def _check(model: Any, recorder: Any) -> tuple[dict[int, str], Any]:
    """The model's parameter names by id, after checking the recording is of this model."""
    if not isinstance(recorder, RunRecorder):
        raise TypeError(f"explore_run: recorder must be a viz.RunRecorder, got {type(recorder).__name__}")
    if len(recorder) == 0:
        raise ValueError("explore_run: the recorder holds no steps; pass it to fit(callbacks=[rec]) and train first")
    named = getattr(model, "named_parameters", None)
    if not callable(named):
        raise TypeError(f"explore_run: model must be an nn.MLP, Layer or Sequential, got {type(model).__name__}")
    pairs = named()
    if [n for n, _ in pairs] != recorder.names:
        raise ValueError(
            f"explore_run: the recording is of another model ({len(recorder.names)} parameters, e.g. "
            f"{recorder.names[:2]}; this model has {len(pairs)}); pass the model the recorder watched"
        )
    return {id(p): n for n, p in pairs}, pairs


def _diagram(model: Any, recorder: RunRecorder, pairs: list[tuple[str, Value]], max_edges: int | None) -> str:
    """draw_network's SVG, without its title, its edge text or its (one-moment) tooltips."""
    mean = np.abs(recorder.deltas).mean(axis=0)
    stand_in = _RunDeltas([p for _, p in pairs], {p: float(m) for (_, p), m in zip(pairs, mean)})
    try:
        g = draw_network(model, optimizer=stand_in, max_edges=max_edges, label_edges_up_to=0)
    except (TypeError, ValueError) as e:
        raise type(e)(f"explore_run: {str(e).removeprefix('draw_network: ')}") from None
    g.body.append('\tgraph [label=""]\n')  # the title describes one moment; the page has its own legend
    try:
        return pipe(g, "svg").decode("utf-8")
    except RendererNotFound as e:
        why = str(e).removeprefix("render: ")
        raise RendererNotFound(f"explore_run: the page holds the network as SVG drawn by Graphviz; {why}") from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _strip(root: ET.Element) -> None:
    """Drop namespaces (the page's HTML parser puts <svg> in its own) and unwrap tooltip links."""
    for el in root.iter():
        el.tag = _local(el.tag)
        for key in [k for k in el.attrib if k.startswith("{")]:
            del el.attrib[key]
    for parent in list(root.iter()):
        for i, child in enumerate(list(parent)):
            if child.tag == "g" and child.get("id", "").startswith("a_") and len(child) and child[0].tag == "a":
                parent.remove(child)
                for k, grand in enumerate(list(child[0])):
                    parent.insert(i + k, grand)


def _tag(svg: str, st: Any, name_of: dict[int, str]) -> tuple[str, list[str]]:
    """The inline SVG with each drawn weight's and neuron's group tagged; returns it and the
    drawn parameters' names (edges, then biases) in page order."""
    root = ET.fromstring(svg.encode("utf-8"))
    _strip(root)
    drawn: list[str] = []
    for g in list(root.iter("g")):
        title = g.find("title")
        text = (title.text or "") if title is not None else ""
        edge = _EDGE.match(text) if g.get("class") == "edge" else None
        neuron = _NEURON.match(text) if g.get("class") == "node" else None
        if edge:
            i = int(edge.group(2)) if edge.group(1) == "x" else int(edge.group(3))
            unit = st.layers[int(edge.group(4))].units[int(edge.group(5))]
            name = name_of[id(unit.weights[i])]
        elif neuron:
            unit = st.layers[int(neuron.group(1))].units[int(neuron.group(2))]
            name = name_of[id(unit.bias)]
            _neuron_text(g, int(neuron.group(2)))
        else:
            continue
        g.set("data-param", name)
        drawn.append(name)
    for parent in list(root.iter()):  # titles are static tooltips; the page's hover box shows the step's
        for title in parent.findall("title"):
            parent.remove(title)
    return ET.tostring(root, encoding="unicode"), drawn


def _neuron_text(g: ET.Element, j: int) -> None:
    """Two centred lines the page rewrites at each step: "j  b=…" and "Δb=…"."""
    box = g.find("polygon")
    texts = g.findall("text")
    if box is None or not texts:
        return
    xs = [float(p.split(",")[0]) for p in (box.get("points") or "").split()]
    centre = (min(xs) + max(xs)) / 2 if xs else float(texts[0].get("x", "0"))
    ys = sorted({t.get("y", "0") for t in texts}, key=float)
    font = {k: v for k, v in texts[0].attrib.items() if k.startswith("font") and k != "font-weight"}
    for t in texts:
        g.remove(t)
    for k, cls in enumerate(("b-line", "d-line")):
        y = ys[min(k, len(ys) - 1)]
        attrs = {"class": cls, "text-anchor": "middle", "x": f"{centre:g}", "y": y, "data-unit": str(j), **font}
        ET.SubElement(g, "text", attrs).text = str(j) if k == 0 else ""


def _aggregates(
    st: Any, recorder: RunRecorder, rows: np.ndarray, drawn: set[str], name_of: dict[int, str]
) -> list[dict[str, Any]]:
    """Per layer, the weights not drawn: how many, and their mean |Δw| at every shown step."""
    out = []
    for li, layer in enumerate(st.layers):
        names = [name_of[id(w)] for u in layer.units for w in u.weights]
        hidden = [recorder.column(n) for n in names if n not in drawn]
        if hidden:
            mean = np.abs(recorder.deltas[rows][:, hidden]).mean(axis=1)
            out.append({"layer": li, "hidden": len(hidden), "total": len(names), "mean": mean.tolist()})
    return out


def _loss_curve(steps: np.ndarray, loss: np.ndarray) -> tuple[str, list[list[float]]]:
    """The loss per recorded step as inline SVG, and each step's point on it (for the marker)."""
    lo, hi = float(loss.min()), float(loss.max())
    s0, s1 = int(steps[0]), int(steps[-1])
    w, h = LOSS_W - 2 * LOSS_PAD, LOSS_H - 2 * LOSS_PAD
    xy = [
        [
            round(LOSS_PAD + (w * (int(s) - s0) / (s1 - s0) if s1 > s0 else w / 2), 2),
            round(LOSS_PAD + (h * (hi - float(v)) / (hi - lo) if hi > lo else h / 2), 2),
        ]
        for s, v in zip(steps, loss)
    ]
    points = " ".join(f"{x:g},{y:g}" for x, y in xy)
    right, bottom = LOSS_W - LOSS_PAD, LOSS_H - LOSS_PAD
    svg = (
        f'<svg id="loss-curve" width="{LOSS_W:g}" height="{LOSS_H:g}" viewBox="0 0 {LOSS_W:g} {LOSS_H:g}">'
        f'<rect x="{LOSS_PAD:g}" y="{LOSS_PAD:g}" width="{w:g}" height="{h:g}" fill="#fafafa" stroke="#cccccc"/>'
        f'<polyline points="{points}" fill="none" stroke="#333333" stroke-width="1.5"/>'
        f'<line id="loss-cursor" x1="{xy[0][0]:g}" x2="{xy[0][0]:g}" y1="{LOSS_PAD:g}" y2="{bottom:g}"'
        ' stroke="#d62728"/>'
        f'<circle id="loss-marker" cx="{xy[0][0]:g}" cy="{xy[0][1]:g}" r="4" fill="#d62728"/>'
        f'<text x="{LOSS_PAD - 4:g}" y="{LOSS_PAD + 4:g}" text-anchor="end">{style.fmt(hi, 4)}</text>'
        f'<text x="{LOSS_PAD - 4:g}" y="{bottom:g}" text-anchor="end">{style.fmt(lo, 4)}</text>'
        f'<text x="{LOSS_PAD:g}" y="{bottom + 16:g}" text-anchor="middle">step {s0}</text>'
        f'<text x="{right:g}" y="{bottom + 16:g}" text-anchor="middle">step {s1}</text>'
        f'<text x="{LOSS_W / 2:g}" y="{LOSS_PAD - 10:g}" text-anchor="middle">loss per recorded step</text>'
        "</svg>"
    )
    return svg, xy


def _legend(d_scale: float, w_scale: float) -> str:
    """The fixed colour scale of the whole run, in words and swatches."""
    return (
        '<div id="legend">'
        f'<span style="color:{style.POS_LINE}">━━</span> Δw &gt; 0 · '
        f'<span style="color:{style.NEG_LINE}">━━</span> Δw &lt; 0 · '
        f'<span style="color:{style.ZERO_LINE}">━━</span> Δw = 0 · '
        f"faint → solid: |Δw| from 0 to {html.escape(style.fmt(d_scale, 3))} (the run's largest drawn |Δw|) · "
        f"width ∝ |w| (largest {html.escape(style.fmt(w_scale, 3))}) · neurons: b and Δb, filled by Δb"
        "</div>"
    )


def _page(title: str, diagram: str, curve: str, legend: str, data: dict[str, Any]) -> str:
    rows = len(data["steps"])
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{asset('run_page.css')}</style></head>\n"
        f'<body data-step="{data["steps"][0]}" data-row="0">\n'
        f"<h1>{html.escape(title)}</h1>\n"
        '<div id="controls"><button id="play">play</button> <button id="prev">←</button>'
        f'<input id="slider" type="range" min="0" max="{rows - 1}" value="0">'
        '<button id="next">→</button> step <span id="step"></span> · loss <span id="loss"></span>'
        ' <span id="where"></span></div>\n'
        f'<div id="curve">{curve}</div>\n'
        f"{legend}\n"
        '<div id="hidden"></div>\n'
        f'<div id="network">{diagram}</div>\n'
        '<div id="hover" hidden></div>\n'
        f'<script type="application/json" id="deltaw-run">{script_json(data)}</script>\n'
        f"<script>{asset('run_page.js')}</script>\n</body></html>\n"
    )


def _rows(recorder: RunRecorder, every: Any, drawn: int) -> np.ndarray:
    """The recorded rows the page shows (one in ``every``), refusing a page too big to open."""
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"explore_run: every must be an int >= 1, got {every!r}")
    rows = np.arange(0, len(recorder), every)
    numbers = 2 * len(rows) * drawn
    if numbers > MAX_PAGE_NUMBERS:
        fit_rows = MAX_PAGE_NUMBERS // (2 * drawn)
        how = f"pass every={-(-len(recorder) // fit_rows)} to show fewer steps, or" if fit_rows else "pass"
        raise ValueError(
            f"explore_run: {len(rows):,} steps × {drawn:,} drawn parameters would put {numbers:,} numbers in the "
            f"page (at most {MAX_PAGE_NUMBERS:,}); {how} a smaller max_edges"
        )
    return rows


def explore_run(
    model: Any,
    recorder: RunRecorder,
    path: str | os.PathLike[str] | None = None,
    *,
    max_edges: int | None = 400,
    every: int = 1,
    title: str | None = None,
) -> ExplorerPage:
    """Write one self-contained HTML page stepping through ``recorder``'s run of ``model`` (an
    ``nn.MLP``, ``Layer`` or ``Sequential``): the network with each step's Δw on its edges, and
    the loss curve.  ``every``: show one recorded step in ``every`` (the page refuses more than
    ``MAX_PAGE_NUMBERS`` numbers).  Without ``path``: a temporary file.  Shows inline in Jupyter."""
    name_of, pairs = _check(model, recorder)
    from nn.structure import describe

    st = describe(model)
    svg, drawn = _tag(_diagram(model, recorder, pairs, max_edges), st, name_of)
    rows = _rows(recorder, every, len(drawn))
    cols = [recorder.column(n) for n in drawn]
    deltas, values = recorder.deltas[rows][:, cols], recorder.values[rows][:, cols]
    d_scale = float(np.abs(deltas).max()) if deltas.size else 0.0
    w_scale = float(np.abs(values).max()) if values.size else 0.0
    curve, xy = _loss_curve(recorder.steps, recorder.loss)
    data = {
        "steps": recorder.steps[rows].tolist(),
        "loss": recorder.loss[rows].tolist(),
        "loss_xy": [xy[r] for r in rows],
        "params": drawn,
        "delta": deltas.tolist(),
        "value": values.tolist(),
        "scale": {"delta": d_scale, "weight": w_scale},
        "hidden": _aggregates(st, recorder, rows, set(drawn), name_of),
        "colours": {"pos": style.POS_LINE, "neg": style.NEG_LINE, "zero": style.ZERO_LINE},
        "rgb": {"pos": style.POS_RGB, "neg": style.NEG_RGB},
    }
    shown = f"{len(rows)} of {len(recorder)} recorded steps" if every > 1 else f"{len(rows)} recorded steps"
    heading = title or f"deltaw: {shown} of training, Δw on every drawn weight"
    page = _page(heading, svg, curve, _legend(d_scale, w_scale), data)
    if path is None:
        fd, tmp = tempfile.mkstemp(prefix="deltaw-run-", suffix=".html")
        os.close(fd)
        path = tmp
    return ExplorerPage(Path(write_bytes(path, page.encode("utf-8"))), page)
