"""The explorer's picture: ``draw_graph``'s SVG, tagged for the page script.

Graphviz writes one element per line, so the SVG is rewritten line by line:

- prolog, comments, namespaces and every ``<title>`` and tooltip link go (the page has its own
  tooltip, which follows the step instead of telling every number from the start);
- each value's group gets ``data-node`` (its index in the topological order) and ``data-value``;
  each op ellipse ``data-op``; each collapsed box ``data-box`` and ``data-node`` listing its
  members' indices, space-separated;
- the numbers in the labels get classes (``n-data``, ``n-grad``, ``n-dw``, ``n-box``,
  ``n-box-dw``; their cell fills ``f-grad``, ``f-dw``) so the stylesheet can hide each until the
  step reaches it; a leaf the optimizer's step already changed shows the value the forward pass
  used (``n-data``) until its update step, then today's (``n-after``);
- in those numbers (and in an op such as ``**-1``) a minus sign is written ``−`` (U+2212), as the
  page's formulas write it; ``data-value`` keeps the ASCII ``repr`` for scripts.
"""

from __future__ import annotations

import html
import re
from typing import Any

from autograd import Value

from . import graph
from .collapse import Collapsed
from .deltas import DeltaSource
from .renderers import RendererNotFound, pipe
from .style import fmt

PRECISION = 4  # draw_graph's default, which the page's picture uses
_GROUP = re.compile(r'^<g id="(?:node|edge)\d+" class="(node|edge)">$')
_TITLE = re.compile(r"^<title>([vob])(\d+)</title>$")
_LINK_OPEN = re.compile(r'^<g id="a_[^"]*"><a [^>]*>$')
_TEXT = re.compile(r"^<text ([^>]*)>(.*)</text>$")
_FILL = re.compile(r'^<polygon fill="#[0-9a-fA-F]{6}" stroke="transparent"')
_POINTS = re.compile(r'points="([^"]*)"')
_BOX_NUMBERS = re.compile(r"(data |grad |= |Δw)")
_VALUE_CELLS = (("data ", "n-data"), ("grad ", "n-grad"), ("Δw ", "n-dw"))
_CELL_FILL = {"n-grad": "f-grad", "n-dw": "f-dw"}
# a number where draw_graph writes one (after "data ", "grad ", "Δw ", " = "); Graphviz writes
# "-" as "&#45;".  In an op's name (ours, not a user's label) every "-" before a digit is a sign.
_NUMBER = re.compile(
    r"(?:(?<=data )|(?<=grad )|(?<=Δw )|(?<= = ))(?:&#45;|-)?(?:inf|[0-9.]+(?:e(?:&#45;|-|\+)[0-9]+)?)"
)
_OP_SIGN = re.compile(r"(?:&#45;|-)(?=[0-9.])")


def signs(body: str) -> str:
    """A label's numbers with the minus sign U+2212 instead of the ASCII hyphen-minus (its own and
    its exponent's); the rest of the label (a name such as ``x-1``) as it is."""
    return _NUMBER.sub(lambda m: m.group(0).replace("&#45;", "\u2212").replace("-", "\u2212"), body)


def _collapsed(src: DeltaSource, order: list[Value], g: Any) -> Collapsed | None:
    """Which box each node went to in ``draw_graph``'s picture (None: every node drawn).

    ``draw_graph`` does not return its plan, so it is made again here with the same arguments
    (deterministic: the same boxes); a ``draw_graph`` that records it as ``g.collapsed`` saves that."""
    if hasattr(g, "collapsed"):
        known: Collapsed | None = g.collapsed
        return known
    d = graph._Drawer(order, src, graph.SHOW, "LR", PRECISION)
    _, _, collapsed, _ = graph._plan(d, 1000, lambda: graph._levels(None, order, src))
    return collapsed if isinstance(collapsed, Collapsed) else None


def drawing(root: Value, src: DeltaSource, order: list[Value], data: dict[str, Any], args: dict[str, Any]) -> str:
    """``draw_graph(root, **args)`` as tagged inline SVG (``data``: the page's names and values)."""
    g = graph.draw_graph(root, **args)
    try:
        svg = pipe(g, "svg").decode("utf-8")
    except RendererNotFound as e:
        why = str(e).removeprefix("render: ")
        raise RendererNotFound(f"explore: the page holds the graph as SVG drawn by Graphviz; {why}") from None
    return tag(svg, order, data, _collapsed(src, order, g))


class _Tagger:
    """The line-by-line rewrite of one SVG."""

    def __init__(self, order: list[Value], data: dict[str, Any], collapsed: Collapsed | None) -> None:
        self.order = order
        self.names: list[str] = data["names"]
        self.value: list[float] = data["value"]  # as the forward pass saw it
        self.members: dict[int, list[int]] = {}
        if collapsed is not None:
            self.members = {b: box.members for b, box in enumerate(collapsed.boxes)}
        self.out: list[str] = []
        self.group = ""  # the open group's kind: "v", "o", "b", "edge"
        self.held = ""  # a group's opening line, written once its title says what it is
        self.drop = 0  # closing lines of a tooltip link still to drop
        self.fills = 0  # cell fills seen in this group (the first is the table's background)
        self.fill = -1  # the output line of the last cell fill, until a text claims it
        self.texts = 0  # texts seen in this group

    def open_group(self, kind: str, ident: str) -> None:
        attrs = ""
        if kind == "v":
            attrs = f' data-node="{ident}" data-value="{self.value[int(ident)]!r}"'
        elif kind == "o":
            attrs = f' data-op="{ident}"'
        elif kind == "b":
            members = " ".join(map(str, self.members.get(int(ident), [])))
            attrs = f' data-box="{ident}" data-node="{members}"'
        self.out.append(self.held.replace('">', f'"{attrs}>', 1))
        self.group, self.held, self.fills, self.fill, self.texts = kind, "", 0, -1, 0
        self.node = int(ident) if kind == "v" else -1

    def name_above(self, polygon: str) -> None:
        """An unlabelled value's name (``mul₁``), written just above its box: the equation uses it."""
        m = _POINTS.search(polygon)
        if m is None or self.order[self.node].label:
            return
        xy = [tuple(map(float, p.split(","))) for p in m.group(1).split()]
        x, y = min(p[0] for p in xy), min(p[1] for p in xy)
        self.out.append(
            f'<text class="n-name" x="{x:g}" y="{y - 2:g}" font-family="Helvetica,sans-Serif" font-size="9.00" '
            f'fill="#555555">{html.escape(self.names[self.node])}</text>'
        )

    def text(self, attrs: str, body: str) -> str:
        cls = ""
        if self.group == "v":
            cls = next((c for p, c in _VALUE_CELLS if body.startswith(p)), "")
            then, now = self.value[self.node], self.order[self.node].data
            if cls == "n-data" and then != now:  # changed by the step: the old value until its update
                self.out.append(f'<text class="n-after" {attrs}>{signs(body)}</text>')
                body, cls = f"data {html.escape(fmt(then, PRECISION))}", "n-data stale"
            if cls in _CELL_FILL and self.fill >= 0:
                self.out[self.fill] = self.out[self.fill].replace(
                    "<polygon ", f'<polygon class="{_CELL_FILL[cls]}" ', 1
                )
        elif self.group == "b" and self.texts > 0 and _BOX_NUMBERS.search(body):
            cls = "n-box-dw" if body.startswith("Δw") else "n-box"
        if cls:
            body = signs(body)
        elif self.group == "o":  # **-1, leaky_relu(-0.1): the op "-" (subtraction) stays
            body = _OP_SIGN.sub("\u2212", body)
        self.texts += 1
        self.fill = -1
        return f'<text class="{cls}" {attrs}>{body}</text>' if cls else f"<text {attrs}>{body}</text>"

    def line(self, line: str) -> None:
        if self.held:
            m = _TITLE.match(line)
            kind, ident = (m.group(1), m.group(2)) if m else ("edge", "")
            self.open_group(kind, ident)
        if line.startswith("<!--") or (line.startswith("<title>") and line.endswith("</title>")):
            return
        if _GROUP.match(line):
            self.held = line
            return
        if _LINK_OPEN.match(line):
            self.drop = 2  # its "</a>" and "</g>"
            return
        if self.drop and line in ("</a>", "</g>"):
            self.drop -= 1
            return
        m = _TEXT.match(line)
        if m:
            line = self.text(m.group(1), m.group(2))
        elif self.group == "v" and _FILL.match(line):
            self.fills += 1
            self.fill = len(self.out) if self.fills > 1 else -1
            if self.fills == 1:
                self.out.append(line)
                self.name_above(line)
                return
        self.out.append(line)


def tag(svg: str, order: list[Value], data: dict[str, Any], collapsed: Collapsed | None) -> str:
    """The SVG rewritten for the page (see the module's docstring)."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r' xmlns(:xlink)?="[^"]*"', "", svg)
    t = _Tagger(order, data, collapsed)
    for line in svg.splitlines():
        t.line(line)
    return "\n".join(t.out)
