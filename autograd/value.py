"""``Value``: a float that remembers the op and operands that made it.

A node stores its data, its grad, the op's row of the table, its operands and
the local derivatives ∂node/∂operand evaluated at forward time.  No closures,
no back-references: a graph is a DAG of plain objects that reference counting
frees as soon as the last reference to its root goes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import count
from numbers import Real
from operator import countOf
from typing import Any, Union

from . import ops as _ops
from .errors import OpOverflowError
from .mode import GRAD_ENABLED

Number = Union[int, float]
Operand = Union["Value", int, float]

_new = object.__new__
_grad_enabled = GRAD_ENABLED.get

# Every Value gets the next number of one process-wide counter when it is made.  An op's
# operands always exist before its result, so sorting nodes by this number is a topological
# order: ``backward`` sorts instead of walking the graph twice.  (A counter, not a tape: it
# keeps no reference to any node.)
_next_seq = count().__next__


def _overflow(op: _ops.Op, args: tuple, z: float) -> OpOverflowError:
    shown = ", ".join(repr(float(a)) for a in args)
    return OpOverflowError(f"{op.name}: the result of {op.name}({shown}) is {z}, beyond float64; scale the inputs down")


# A node keeps up to two operands and their local derivatives in its own slots
# (_a, _da, _b, _db): no tuples per node, so one object per op for the cyclic
# GC to track.  N-ary nodes keep tuples in _a/_da and mark _b with NARY.
NARY = _ops.NARY


def _record(op: _ops.Op, a: Any, b: Any, z: float, da: Any, db: Any) -> Value:
    """A new node holding ``z``; while grad is enabled it also keeps the op, the operands
    ``a`` (and ``b``) and the local derivatives ∂z/∂a (and ∂z/∂b) evaluated now."""
    v = _new(Value)
    v._seq = _next_seq()
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


# Ops from the table: forward rule, overflow check, local derivatives, node.


def _unary(op: _ops.Op, a: Value) -> Value:
    x = a.data
    z = op.forward(x)
    if z - z:
        raise _overflow(op, (x,), z)
    return _record(op, a, None, z, op.local(x, z)[0], 0.0)


def _binary(op: _ops.Op, a: Value, b: Value) -> Value:
    x = a.data
    y = b.data
    z = op.forward(x, y)
    if z - z:
        raise _overflow(op, (x, y), z)
    da, db = op.local(x, y, z)
    return _record(op, a, b, z, da, db)


def _nary(op: _ops.Op, operands: tuple) -> Value:
    xs = [c.data for c in operands]
    z = op.forward(xs)
    if z - z:
        raise _overflow(op, xs, z)
    return _record(op, operands, NARY, z, op.local(xs, z), 0.0)


def children_of(v: Value) -> tuple:
    """The operands of node ``v`` as a tuple (``()`` for a leaf)."""
    b = v._b
    if b is None:
        a = v._a
        return () if a is None else (a,)
    if b is NARY:
        return v._a
    return (v._a, b)


def locals_of(v: Value) -> tuple:
    """∂v/∂operand for each operand, as stored at forward time."""
    b = v._b
    if b is None:
        return () if v._a is None else (v._da,)
    if b is NARY:
        return v._da
    return (v._da, v._db)


def _wrap(x: Any, where: str) -> Value:
    """A number operand as a constant leaf; anything else is a TypeError naming the op."""
    cls = x.__class__
    if cls is float or cls is int or isinstance(x, Real):
        return Value(x)
    if isinstance(x, Value):
        return x
    raise TypeError(f"{where}: cannot combine a Value with {type(x).__name__} {x!r}; use a Value, int or float")


def _check_data(data: Any) -> float:
    cls = data.__class__
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


class Value:
    """A scalar node of a computation graph: ``data``, ``grad``, ``label``, ``op``, ``children``."""

    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_da", "_db", "_seq")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _check_data(data)
        self._seq = _next_seq()
        self.grad = 0.0
        if label.__class__ is not str:
            raise TypeError(f"Value: label must be a str, got {type(label).__name__} {label!r}")
        self.label = label
        self._op = None
        self._a = self._b = None
        self._da = self._db = 0.0

    # ---- public views of the graph ------------------------------------------------
    @property
    def op(self) -> str:
        """The op that made this node (``"+"``, ``"tanh"``, ``"**2"``, ...); ``""`` for a leaf."""
        op = self._op
        return op.name if op is not None else ""

    @property
    def children(self) -> tuple[Value, ...]:
        """The operands this node was computed from; ``()`` for a leaf."""
        return children_of(self)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """∂self/∂child for each of ``children``, as the op table evaluated them at forward time."""
        return locals_of(self)

    @property
    def is_leaf(self) -> bool:
        """True for inputs and parameters: nodes that no op produced."""
        return self._op is None

    # ---- arithmetic ---------------------------------------------------------------
    # +, - and * make most of a network's nodes, so their rules are written out here, each
    # derivative beside its forward rule as in micrograd (the table's ADD, SUB and MUL rows say
    # the same for grad(create_graph=True); a test checks they agree).  So are relu and dot
    # below; every other op goes through the table.
    def __add__(self, other: Operand) -> Value:
        if other.__class__ is not Value:
            other = _wrap(other, "+")
        x = self.data
        y = other.data
        z = x + y
        if z - z:
            raise _overflow(_ops.ADD, (x, y), z)
        return _record(_ops.ADD, self, other, z, 1.0, 1.0)  # ∂z/∂x = 1, ∂z/∂y = 1

    def __radd__(self, other: Operand) -> Value:
        return Value.__add__(_wrap(other, "+"), self)

    def __sub__(self, other: Operand) -> Value:
        if other.__class__ is not Value:
            other = _wrap(other, "-")
        x = self.data
        y = other.data
        z = x - y
        if z - z:
            raise _overflow(_ops.SUB, (x, y), z)
        return _record(_ops.SUB, self, other, z, 1.0, -1.0)  # ∂z/∂x = 1, ∂z/∂y = -1

    def __rsub__(self, other: Operand) -> Value:
        return Value.__sub__(_wrap(other, "-"), self)

    def __mul__(self, other: Operand) -> Value:
        if other.__class__ is not Value:
            other = _wrap(other, "*")
        x = self.data
        y = other.data
        z = x * y
        if z - z:
            raise _overflow(_ops.MUL, (x, y), z)
        return _record(_ops.MUL, self, other, z, y, x)  # ∂z/∂x = y, ∂z/∂y = x

    def __rmul__(self, other: Operand) -> Value:
        return Value.__mul__(_wrap(other, "*"), self)

    def __truediv__(self, other: Operand) -> Value:
        if other.__class__ is not Value:
            other = _wrap(other, "/")
        return _binary(_ops.DIV, self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        return _binary(_ops.DIV, _wrap(other, "/"), self)

    def __pow__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _binary(_ops.POW, self, other)
        if isinstance(other, Real):
            return _unary(_ops.pow_const(_check_data(other)), self)
        raise TypeError(f"**: exponent must be a Value, int or float, got {type(other).__name__} {other!r}")

    def __rpow__(self, other: Operand) -> Value:
        if isinstance(other, Real):
            return _unary(_ops.rpow_const(_check_data(other)), self)
        raise TypeError(f"**: base must be a Value, int or float, got {type(other).__name__} {other!r}")

    def __neg__(self) -> Value:
        return _unary(_ops.NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(_ops.ABS, self)

    # ---- functions ----------------------------------------------------------------
    def exp(self) -> Value:
        """e ** self; raises OverflowError above ~709.78 instead of returning inf."""
        return _unary(_ops.EXP, self)

    def log(self) -> Value:
        """Natural logarithm; defined for data > 0."""
        return _unary(_ops.LOG, self)

    def sqrt(self) -> Value:
        """Square root; defined for data >= 0 (its derivative at 0 is inf, as in torch)."""
        return _unary(_ops.SQRT, self)

    def tanh(self) -> Value:
        return _unary(_ops.TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), computed without overflow for every finite x."""
        return _unary(_ops.SIGMOID, self)

    def relu(self) -> Value:
        """max(x, 0); its derivative at 0 is 0, as in torch."""
        x = self.data  # written out like + and *: it is most networks' activation
        if x > 0.0:
            return _record(_ops.RELU, self, None, x, 1.0, 0.0)  # relu(x) = x, ∂/∂x = 1
        return _record(_ops.RELU, self, None, 0.0, 0.0, 0.0)  # relu(x) = 0, ∂/∂x = 0

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, slope·x otherwise (torch's ``negative_slope``)."""
        return _unary(_ops.leaky_relu_op(_check_data(slope)), self)

    def softplus(self) -> Value:
        """log(1 + e^x), computed without overflow for every finite x."""
        return _unary(_ops.SOFTPLUS, self)

    def sin(self) -> Value:
        return _unary(_ops.SIN, self)

    def cos(self) -> Value:
        return _unary(_ops.COS, self)

    # ---- backprop -----------------------------------------------------------------
    def backward(self, gradient: Number = 1.0) -> None:
        """Accumulate ∂self/∂v into ``v.grad`` for every node v of this graph.

        ``self.grad`` gets ``gradient`` (1 by default) added.  Calling it again
        adds the same derivatives again, like ``torch``'s leaves; reset with
        ``autograd.zero_grad(root)`` or a module's ``zero_grad()``.
        """
        from .backward import backward

        backward(self, gradient)

    # ---- comparisons and conversions ----------------------------------------------
    def __lt__(self, other: Operand) -> bool:
        return self.data < _data_of(other, "<")

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data_of(other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data_of(other, ">")

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data_of(other, ">=")

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.label:
            parts.append(f"label={self.label!r}")
        if self._op is not None:
            parts.append(f"op={self._op.name!r}")
        return f"Value({', '.join(parts)})"

    # Leaves (parameters, inputs) pickle, e.g. to send a model to a worker process; the copy
    # takes a fresh creation number in the process that loads it.  Op-made nodes refuse clearly.
    def __getstate__(self) -> tuple:
        if self._op is not None:
            raise TypeError(
                f"pickle: this Value was made by the op {self._op.name!r}; only leaves can be pickled "
                f"(pickle the inputs and rebuild the expression, or save a model with Module.save)"
            )
        return (self.data, self.grad, self.label)

    def __setstate__(self, state: tuple) -> None:
        self.data, self.grad, self.label = state
        self._seq = _next_seq()
        self._op = None
        self._a = self._b = None
        self._da = self._db = 0.0

    # Values are nodes of a graph; copying one would silently detach it.
    def __copy__(self) -> Value:
        return self

    def __deepcopy__(self, memo: dict) -> Value:
        return self


def _data_of(x: Any, where: str) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, Real):
        return float(x)
    raise TypeError(f"{where}: cannot compare a Value with {type(x).__name__} {x!r}; use a Value or a number")


def _as_value(x: Any, where: str) -> Value:
    return x if x.__class__ is Value else _wrap(x, where)


def _operands(items: tuple, where: str) -> tuple:
    """Items as Values: the common all-Value case is checked at C speed, numbers are wrapped."""
    if countOf(map(type, items), Value) == len(items):
        return items
    return tuple([_as_value(x, where) for x in items])


def _checked(items: Sequence[Operand], where: str) -> tuple[Sequence[Value], list[float]]:
    """``(values, data)``.  Reading each item's data with a class test is the check that it is a
    Value (cheap, as a neuron does this per sample); numbers become constants, anything else is
    a TypeError naming ``where``."""
    data = [v.data for v in items if v.__class__ is Value]
    if len(data) != len(items):
        items = _operands(tuple(items), where)
        data = [v.data for v in items]
    return items, data


def _dot_node(ws: Sequence[Value], wd: list[float], xs: Sequence[Value], xd: list[float], bias: Value | None) -> Value:
    """One DOT node from checked operands and their data: the table's rule, unrolled."""
    if bias is None:
        if not wd:
            return Value(0.0)
        z = _ops.dot_value(wd, xd, 0.0)
        if z - z:
            raise _overflow(_ops.DOT, wd + xd, z)
        return _record(_ops.DOT, (*ws, *xs), NARY, z, (*xd, *wd), 0.0)  # ∂z/∂wᵢ = xᵢ, ∂z/∂xᵢ = wᵢ
    b = bias.data
    z = _ops.dot_value(wd, xd, b)
    if z - z:
        raise _overflow(_ops.DOT, wd + xd + [b], z)
    return _record(_ops.DOT, (*ws, *xs, bias), NARY, z, (*xd, *wd, 1.0), 0.0)  # ∂z/∂b = 1


def dot(ws: Sequence[Operand], xs: Sequence[Operand], bias: Operand | None = None) -> Value:
    """Σ wᵢ·xᵢ (+ bias) as ONE node: the same value and gradients as the chain of
    binary ``*`` and ``+`` nodes it replaces, with a fraction of the nodes."""
    if len(xs) != len(ws):
        raise ValueError(f"dot: ws has {len(ws)} entries but xs has {len(xs)}; they must have the same length")
    ws, wd = _checked(ws, "dot")
    xs, xd = _checked(xs, "dot")
    if bias is not None and bias.__class__ is not Value:
        bias = _as_value(bias, "dot")
    return _dot_node(ws, wd, xs, xd, bias)


def matvec(
    rows: Sequence[Sequence[Operand]], xs: Sequence[Operand], biases: Sequence[Operand] | None = None
) -> list[Value]:
    """``[dot(row, xs, b) for row, b in zip(rows, biases)]``: a layer's pre-activations W·x + b,
    one ``dot`` node per row, with ``xs`` read and checked once instead of once per row."""
    if biases is not None and len(biases) != len(rows):
        raise ValueError(f"matvec: {len(rows)} rows but {len(biases)} biases; give one bias per row (or None)")
    n = len(xs)
    xs, xd = _checked(xs, "matvec")
    out = []
    for i, ws in enumerate(rows):
        if len(ws) != n:
            raise ValueError(f"matvec: row {i} has {len(ws)} weights but xs has {n}; every row needs one per input")
        wd = [w.data for w in ws if w.__class__ is Value]  # _checked's fast path, inline
        if len(wd) != n:
            ws, wd = _checked(ws, "matvec")
        bias = None if biases is None else biases[i]
        if bias is not None and bias.__class__ is not Value:
            bias = _as_value(bias, "matvec")
        out.append(_dot_node(ws, wd, xs, xd, bias))
    return out


def vsum(values: Iterable[Operand]) -> Value:
    """Σ values as ONE node (an empty sum is the constant 0.0)."""
    operands = _operands(tuple(values), "vsum")
    if not operands:
        return Value(0.0)
    return _nary(_ops.SUM, operands)
