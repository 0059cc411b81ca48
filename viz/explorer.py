"""``explore``: one self-contained HTML page that steps through forward, backward and the update.

The engine's numbers (every node's ``data``, ``grad`` and stored local derivatives, and the
update's Δw) and readable names are embedded as compact JSON (``explore_steps``); the page
script builds each step's text from them and, per keypress, touches only the nodes whose state
changes.  The graph is ``draw_graph``'s picture (collapsed beyond 1,000 boxes as there) rendered
to SVG by Graphviz and inlined, tagged for the script (``explore_svg``).  The DOM contract:
``#equation``; ``data-node``, ``data-value`` and, once final, ``data-grad`` on value groups;
``<body data-step data-phase>``; ``#tooltip`` for the hovered node.  Displayed text writes minus
signs as U+2212 (``−0.5``, ``1e−07``); the ``data-*`` attributes hold Python's ASCII ``repr``.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from autograd import Value, topological_order

from .atomic import write_bytes
from .deltas import resolve
from .explore_steps import check_grads, page_data, read_page
from .explore_svg import drawing

__all__ = ["ExplorerPage", "asset", "explore", "read_page", "script_json"]


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no ``<``, ``>`` or ``&`` can end it or open a tag."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def asset(name: str) -> str:
    """A page's script or style shipped in the viz package (inlined: pages make no requests)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _page(svg: str, data: dict[str, Any]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>deltaw explorer: forward, backward, update</title>"
        f"<style>{asset('explore_page.css')}</style></head>\n"
        '<body data-step="0" data-phase="forward">\n'
        '<div id="head"><div id="controls">'
        '<button id="to-forward">forward</button><button id="to-backward">backward</button>'
        '<button id="to-update">update</button> <button id="prev" title="← key">←</button>'
        '<input id="slider" type="range" min="0" max="0" value="0">'
        '<button id="next" title="→ key">→</button> <button id="zoom"></button> <span id="where"></span></div>\n'
        '<div id="equation"></div></div>\n'
        f'<div id="graph">{svg}</div>\n<div id="tooltip" hidden></div>\n'
        f'<script type="application/json" id="deltaw-data">{script_json(data)}</script>\n'
        f"<script>{asset('explore_page.js')}</script>\n</body></html>\n"
    )


@dataclass
class ExplorerPage:
    """The written page: ``path`` to open in a browser; shows inline in Jupyter (an iframe)."""

    path: Path
    html: str = field(repr=False)  # the whole page: too long for a repr (a notebook's text/plain)

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
    labelled leaf).  Big graphs are drawn collapsed as ``draw_graph`` does; every step is kept."""
    if not isinstance(root, Value):
        raise TypeError(f"explore: root must be an autograd.Value, got {type(root).__name__}")
    order = topological_order(root)
    params = None if params is None else list(params)
    src = resolve(optimizer, lr, params, [v for v in order if v.is_leaf])
    data = page_data(order, src)
    check_grads(data)
    svg = drawing(root, src, order, data, {"optimizer": optimizer, "lr": lr, "params": params})
    page = _page(svg, data)
    if path is None:
        fd, tmp = tempfile.mkstemp(prefix="deltaw-explore-", suffix=".html")
        os.close(fd)
        path = tmp
    written = write_bytes(path, page.encode("utf-8"))
    return ExplorerPage(Path(written), page)
