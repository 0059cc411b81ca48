"""Functions of several Values built from the registry's max and min ops (in torch's spirit).

``maximum(a, b)`` / ``minimum(a, b)`` are ``torch.maximum`` / ``torch.minimum``: one node whose
gradient goes to the larger (smaller) operand and splits ½/½ on a tie.  ``max_of(values)`` /
``min_of(values)`` reduce a sequence left to right with ``max_first`` / ``min_first`` nodes
(n − 1 of them): the first maximum (minimum) takes the whole gradient on a tie, the rule of
``torch.max(x, dim)`` and ``max_pool2d``.  Which operand wins is decided from the data on every
forward pass (and by ``compile``'s kernels on every replay), like relu.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import ops as _ops
from .value import Operand, Value, _as_value, _binary, apply_op

__all__ = ["maximum", "minimum", "max_of", "min_of"]


def maximum(a: Operand, b: Operand) -> Value:
    """The larger of ``a`` and ``b`` as one ``max`` node (torch.maximum: a tie splits the gradient ½/½)."""
    return apply_op(_ops.MAX, a, b)


def minimum(a: Operand, b: Operand) -> Value:
    """The smaller of ``a`` and ``b`` as one ``min`` node (torch.minimum: a tie splits the gradient ½/½)."""
    return apply_op(_ops.MIN, a, b)


def _fold(op: _ops.Op, values: Iterable[Operand], where: str) -> Value:
    """``op(op(op(v0, v1), v2), ...)``: one node per value after the first."""
    items = list(values)
    if not items:
        raise ValueError(f"{where}: got no values; give at least one Value or number")
    acc = _as_value(items[0], where)
    for x in items[1:]:
        acc = _binary(op, acc, x if x.__class__ is Value else _as_value(x, where))
    return acc


def max_of(values: Iterable[Operand]) -> Value:
    """The largest of ``values`` (a non-empty sequence), folded left to right with ``max_first``
    nodes: on a tie the first maximum takes the whole gradient, as in torch's max_pool2d."""
    return _fold(_ops.MAX_FIRST, values, "max_of")


def min_of(values: Iterable[Operand]) -> Value:
    """The smallest of ``values`` (a non-empty sequence), folded left to right with ``min_first``
    nodes: on a tie the first minimum takes the whole gradient, as in torch.min(x, dim)."""
    return _fold(_ops.MIN_FIRST, values, "min_of")
