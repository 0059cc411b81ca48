"""The registry's rows for the larger or smaller of two operands: ``max`` and ``min``
(torch.maximum/torch.minimum: a tie splits the gradient ½/½) and ``max_first``/``min_first``
(a tie's gradient goes to the first operand; ``autograd.max_of`` folds them left to right, so
the first maximum wins as in torch's max_pool2d).

Data-dependent like relu: which operand is picked is decided per element on every call, by the
float rule eagerly and by the numpy kernel in compile (nothing is fixed at trace time).  Their
kink is where the operands are equal: each operand's domain is ``Arg(tie=True)``.
"""

from __future__ import annotations

from typing import Any

from . import kernels as K
from . import scalar as S
from .registry import Arg, Arrays, Op, Text
from .table import _row

TIE = Arg(tie=True)


def _larger(x: Any, y: Any) -> Any:
    return x if x >= y else y


def _smaller(x: Any, y: Any) -> Any:
    return x if x <= y else y


def _pick_arrays(larger: bool, first_wins: bool) -> Any:
    def make(np: Any) -> Arrays:
        def forward(x: Any, y: Any) -> Any:
            return np.where(x >= y, x, y) if larger else np.where(x <= y, x, y)

        def local(x: Any, y: Any, out: Any) -> Any:
            if first_wins:
                return K.pick_local(np, x >= y if larger else x <= y, None)
            return K.pick_local(np, x > y if larger else x < y, x == y)

        return Arrays(forward, local)

    return make


def _pick_row(
    name: str, larger: bool, first_wins: bool, local: Any, words: tuple[str, str], doc: str, method: str | None = None
) -> Op:
    """A binary max or min row: ties either split (torch.maximum) or go to the first operand.
    ``method``: the ``Value`` method generated from the row (``a.maximum(b)``), if any."""
    return _row(
        Op(
            name,
            2,
            _larger if larger else _smaller,
            local,
            text=Text(("max" if larger else "min") + "({x}, {y})", words),
            domain=(TIE, TIE),
            arrays=_pick_arrays(larger, first_wins),
        ),
        method=method,
        cli=name,
        doc=doc,
    )


MAX = _pick_row(
    "max",
    True,
    False,
    S.max_local,
    ("1 if {x} > {y}, ½ if {x} = {y}, else 0", "1 if {y} > {x}, ½ if {x} = {y}, else 0"),
    "The larger operand (torch.maximum): it takes the gradient; a tie splits it ½/½.",
    method="maximum",
)
MIN = _pick_row(
    "min",
    False,
    False,
    S.min_local,
    ("1 if {x} < {y}, ½ if {x} = {y}, else 0", "1 if {y} < {x}, ½ if {x} = {y}, else 0"),
    "The smaller operand (torch.minimum): it takes the gradient; a tie splits it ½/½.",
    method="minimum",
)
MAX_FIRST = _pick_row(
    "max_first",
    True,
    True,
    S.max_first_local,
    ("1 if {x} ≥ {y} else 0", "1 if {y} > {x} else 0"),
    "The larger operand; a tie's gradient goes to the first (max_pool2d's first-maximum rule).",
)
MIN_FIRST = _pick_row(
    "min_first",
    False,
    True,
    S.min_first_local,
    ("1 if {x} ≤ {y} else 0", "1 if {y} < {x} else 0"),
    "The smaller operand; a tie's gradient goes to the first (torch.min(x, dim)'s rule).",
)
