"""A node's layout: the one module that knows how a ``Value`` stores its op, operands and local derivatives.

Every node has the slots ``data grad label _op _a _b _da _db _seq``.  A leaf has ``_op = None``
and ``_a = _b = None``.  An op-made node keeps its operands and ∂node/∂operand (evaluated at
forward time) in its own slots, so no tuple is allocated per node:

- unary:   ``_a`` = operand,        ``_da`` = derivative,         ``_b = None``
- binary:  ``_a, _b`` = operands,   ``_da, _db`` = derivatives
- n-ary:   ``_a`` = operand tuple,  ``_da`` = derivative tuple,   ``_b = NARY``

Interface for the rest of the engine (internal; ``compile`` reads graphs through it too):

- making nodes: ``leaf(x)``, ``unary(op, a, z, d)``, ``binary(op, a, b, z, da, db)``,
  ``nary(op, operands, z, ds)`` (they record nothing under ``no_grad``);
- reading them: ``op_of(v)``, ``operands(v)``, ``local_derivatives(v)``, ``edges(v)``
  (pairs ``(operand, derivative)``), ``is_leaf(v)``.

Backward's two walks (``reverse_creation_order`` and ``backpropagate``) read the slots directly
for speed; they live in ``walk.py``, the one other module that may.

``Value`` (value.py) subclasses :class:`Node` and registers itself with :func:`bind`, so this
module imports neither ``value`` nor ``backward`` (no import cycle).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from numbers import Real
from typing import TYPE_CHECKING, Any

from .errors import OpOverflowError
from .mode import GRAD_ENABLED

if TYPE_CHECKING:
    from .ops import Op

__all__ = [
    "NARY",
    "Node",
    "bind",
    "check_data",
    "leaf",
    "unary",
    "binary",
    "nary",
    "op_of",
    "operands",
    "local_derivatives",
    "edges",
    "is_leaf",
]

#: Marks an n-ary node (its operands are a tuple).
NARY: Any = type("NaryMarker", (), {"__repr__": lambda self: "NARY", "__slots__": ()})()

_new = object.__new__
_grad_enabled = GRAD_ENABLED.get

# Every node gets the next number of one process-wide counter when it is made.  An op's operands
# always exist before its result, so this number's order is a topological order: ``backward``
# takes the nodes newest first by it (buckets, no sort: ``reverse_creation_order``).  A counter,
# not a tape: it keeps no reference to any node.
next_seq = count().__next__


class Node:
    """The slots every graph node has; ``Value`` adds the arithmetic."""

    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_da", "_db", "_seq")

    data: float
    grad: float
    label: str
    _op: Op | None
    _a: Any
    _b: Any
    _da: Any
    _db: Any
    _seq: int


_cls: type[Node] = Node


def bind(cls: type[Node]) -> None:
    """Make ``cls`` (``Value``) the class of every node this module creates."""
    global _cls
    _cls = cls


def check_data(data: Any) -> float:
    """``data`` as a finite float; a clear TypeError / ValueError / OpOverflowError otherwise."""
    cls = data.__class__
    x: float
    if cls is float:
        x = data
    elif cls is int or isinstance(data, Real):  # int first: the ABC check is slow
        try:
            x = float(data)
        except OverflowError:
            shown = repr(data) if len(repr(data)) <= 40 else f"{repr(data)[:20]}… ({len(str(data))} digits)"
            raise OpOverflowError(f"Value: {shown} is too large for float64 (max ~1.8e308)") from None
    else:
        hint = " (use .item() or float() for a one-element array)" if hasattr(data, "shape") else ""
        raise TypeError(
            f"Value: data must be a real number (int, float or numpy real scalar), "
            f"got {type(data).__name__} {data!r}{hint}"
        )
    if x - x != 0.0:
        raise ValueError(f"Value: data must be finite, got {x!r}; nan and inf would poison every gradient")
    return x


def init_leaf(v: Node, x: float, label: str) -> None:
    """Fill the slots of a new leaf holding the (already checked) float ``x``."""
    v.data = x
    v._seq = next_seq()
    v.grad = 0.0
    v.label = label
    v._op = None
    v._a = v._b = None
    v._da = v._db = 0.0


def new_leaf(v: Node, data: Any, label: str = "") -> None:
    """``Value.__init__``: check ``data`` and ``label``, then fill the slots of a leaf."""
    if label.__class__ is not str:
        raise TypeError(f"Value: label must be a str, got {type(label).__name__} {label!r}")
    v.data = check_data(data)
    v._seq = next_seq()
    v.grad = 0.0
    v.label = label
    v._op = None
    v._a = v._b = None
    v._da = v._db = 0.0


def leaf(x: float, label: str = "") -> Any:
    """A new leaf (a constant or an input) holding the float ``x``."""
    v = _new(_cls)
    init_leaf(v, x, label)
    return v


def _node(op: Op, a: Any, b: Any, z: float, da: Any, db: Any) -> Any:
    v = _new(_cls)
    v._seq = next_seq()
    v.data = z
    v.grad = 0.0
    v.label = ""
    if _grad_enabled():
        v._op = op
        v._a = a
        v._b = b
        v._da = da
        v._db = db
    else:
        v._op = None
        v._a = v._b = None
        v._da = v._db = 0.0
    return v


def unary(op: Op, a: Any, z: float, d: float) -> Any:
    """A node ``z = op(a)`` with ∂z/∂a = ``d`` (a leaf under ``no_grad``)."""
    v = _new(_cls)
    v._seq = next_seq()
    v.data = z
    v.grad = 0.0
    v.label = ""
    v._b = None
    v._db = 0.0
    if _grad_enabled():
        v._op = op
        v._a = a
        v._da = d
    else:
        v._op = v._a = None
        v._da = 0.0
    return v


#: A node ``z = op(a, b)`` with ∂z/∂a = ``da`` and ∂z/∂b = ``db``: ``binary(op, a, b, z, da, db)``.
binary = _node


def nary(op: Op, items: tuple[Any, ...], z: float, ds: tuple[Any, ...]) -> Any:
    """A node ``z = op(*items)`` with ∂z/∂items[i] = ``ds[i]`` (written out: a layer makes many)."""
    v = _new(_cls)
    v._seq = next_seq()
    v.data = z
    v.grad = 0.0
    v.label = ""
    v._db = 0.0
    if _grad_enabled():
        v._op = op
        v._a = items
        v._b = NARY
        v._da = ds
    else:
        v._op = v._a = v._b = None
        v._da = 0.0
    return v


def op_of(v: Node) -> Op | None:
    """The op that made ``v`` (None for a leaf)."""
    return v._op


def is_leaf(v: Node) -> bool:
    """True when no op made ``v`` (or it was made under ``no_grad``)."""
    return v._op is None


def operands(v: Node) -> tuple[Any, ...]:
    """The operands of ``v`` as a tuple (``()`` for a leaf)."""
    b = v._b
    if b is None:
        a = v._a
        return () if a is None else (a,)
    if b is NARY:
        return v._a  # type: ignore[no-any-return]
    return (v._a, b)


def local_derivatives(v: Node) -> tuple[Any, ...]:
    """∂v/∂operand for each operand, as stored at forward time."""
    b = v._b
    if b is None:
        return () if v._a is None else (v._da,)
    if b is NARY:
        return v._da  # type: ignore[no-any-return]
    return (v._da, v._db)


def edges(v: Node) -> Iterator[tuple[Any, Any]]:
    """``(operand, ∂v/∂operand)`` for each operand of ``v``."""
    return zip(operands(v), local_derivatives(v))
