"""Colours, number formats and DOT escaping shared by every viz drawing.

Kept in one place so that a colour means the same thing in every picture
(parameters light blue, output green, a red/blue diverging scale for signs)
and so that every string that reaches ``dot`` goes through one of two
escapers that have been tested with the real ``dot``.
"""

from __future__ import annotations

import math

# ---- node colours: what a node *is* ----------------------------------------------
PARAM = "#cfe8fc"  # parameters: light blue, like torchviz
INPUT = "#f2f2f2"  # inputs and constants: light grey
OUTPUT = "#b7e4b0"  # the root (loss / output): green, like torchviz
OP = "#fff3c4"  # op nodes: small pale-yellow ellipses
INTERMEDIATE = "#ffffff"
GROUP = "#e8e0f5"  # collapsed boxes (a neuron, a subgraph summary)
BORDER = "#555555"
EDGE = "#777777"

# ---- diverging scale: what a number's sign and size say -------------------------
# Negative values blue, positive values red, zero white (ColorBrewer RdBu ends).
NEG_RGB = (33, 102, 172)
POS_RGB = (178, 24, 43)
WHITE_RGB = (255, 255, 255)
NEG_LINE = "#2166ac"
POS_LINE = "#b2182b"
ZERO_LINE = "#9a9a9a"


def fmt(x: float, precision: int = 4) -> str:
    """``x`` with ``precision`` significant digits (``-0`` shown as ``0``)."""
    if x == 0.0:
        return "0"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return format(x, f".{precision}g")


def diverging(x: float, scale: float) -> str:
    """A fill colour for ``x`` on a blue (negative) / white / red (positive) scale.

    The intensity is ``|x| / scale`` on a square-root curve, so small values
    that still matter stay visible next to large ones.
    """
    if scale <= 0.0 or x == 0.0 or math.isnan(x):
        return "#ffffff"
    t = min(1.0, math.sqrt(abs(x) / scale))
    end = POS_RGB if x > 0 else NEG_RGB
    # mix with white; at most 85 % so black text stays readable
    t *= 0.85
    rgb = [round(w + (e - w) * t) for w, e in zip(WHITE_RGB, end)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def sign_line(x: float) -> str:
    """An edge colour for the sign of ``x``: red positive, blue negative, grey zero."""
    if x > 0.0:
        return POS_LINE
    if x < 0.0:
        return NEG_LINE
    return ZERO_LINE


# ---- escaping ---------------------------------------------------------------------
MAX_LABEL = 48  # characters of a user's label shown inside a box (all of it is in the tooltip)
MAX_STRING_BYTES = 16000  # dot refuses quoted and HTML strings longer than 16384 bytes


def _visible(ch: str) -> str:
    """A control character as visible text (``\\x07``); XML forbids most of them raw."""
    return f"\\x{ord(ch):02x}"


def _escape(text: str, table: dict[str, str]) -> str:
    """``text`` with the characters of ``table`` replaced, control characters shown as
    ``\\xNN`` and unpaired surrogates as U+FFFD (neither may appear raw in DOT or XML)."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch in table:
            out.append(table[ch])
        elif o < 32 or 0x7F <= o < 0xA0:
            out.append("\\" + _visible(ch))
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\\": "\\\\"}
_QUOTED = {"\\": "\\\\", '"': '\\"'}


def html(text: str) -> str:
    """``text`` safe inside a Graphviz HTML-like label.

    The label is parsed as XML, so ``& < > "`` become entities.  Graphviz
    still expands ``\\N``, ``\\G``, ... inside HTML-like labels, so every
    backslash is doubled (both dot and graphviz-pure then show one).
    Control characters (not allowed in XML) are shown as ``\\xNN``; unpaired
    surrogates become U+FFFD.  Everything else, ``{ } | :`` and all unicode
    included, is literal in HTML-like labels.
    """
    return _escape(text, _HTML)


def quoted(text: str) -> str:
    """``text`` as a double-quoted DOT string (for tooltips and plain attributes).

    Backslashes are doubled (DOT would read ``\\n``, ``\\N``, ``\\G`` ... as
    escapes), quotes escaped, control characters shown as ``\\xNN``.  A string
    longer than ``dot`` accepts (16384 bytes) is cut to fit, saying how much
    was left out.
    """
    out = '"' + _escape(text, _QUOTED) + '"'
    size = len(out.encode("utf-8"))
    while size > MAX_STRING_BYTES:
        text = text[: int(len(text) * MAX_STRING_BYTES / size * 0.9)]
        out = '"' + _escape(f"{text}… (cut to fit dot's 16384-byte limit)", _QUOTED) + '"'
        size = len(out.encode("utf-8"))
    return out


def short(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: what a box shows of a long label.

    The full text goes into the tooltip (see :func:`quoted`), so nothing is lost;
    a 10,000-character label would otherwise make a box as wide as a wall and
    ``dot`` refuse the HTML label (longer than 16384 bytes).
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attrs(**kw: str | None) -> str:
    """DOT attribute list ``[k=v ...]``; values starting with ``<`` are HTML labels,
    others are quoted with :func:`quoted`.  Keys keep their order (determinism)."""
    parts = []
    for k, v in kw.items():
        if v is None:
            continue
        v = str(v)
        if v.startswith("<") and v.endswith(">"):
            parts.append(f"{k}={v}")
        else:
            parts.append(f"{k}={quoted(v)}")
    return "[" + " ".join(parts) + "]"
