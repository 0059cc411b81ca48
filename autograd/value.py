"""``Value``: a float that remembers the op and operands that made it.

A node stores its data, its grad, its op (from the registry, ``autograd.ops``), its
operands and the local derivatives ∂node/∂operand evaluated at forward time, in the
slots ``autograd.node`` lays out.  No closures, no back-references: a graph is a DAG
of plain objects that reference counting frees as soon as the last reference to its
root goes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from numbers import Real
from operator import countOf
from typing import TYPE_CHECKING, Any, TypeAlias

from . import node as _node
from . import ops as _ops
from .backward import backward as _backward
from .errors import OpOverflowError
from .node import NARY, Node, check_data, local_derivatives, operands

Number: TypeAlias = "int | float"
Operand: TypeAlias = "Value | int | float"

__all__ = ["Value", "dot", "matvec", "vsum", "apply_op", "NARY"]  # NARY: still importable here for compile

_record: Callable[..., Value] = _node.binary
_record1: Callable[..., Value] = _node.unary
_record_n: Callable[..., Value] = _node.nary


def _overflow(op: _ops.Op, args: Sequence[float], z: float) -> ArithmeticError | ValueError:
    """The error for a non-finite result: an operand that is not finite (``.data`` set by hand)
    or a result beyond float64."""
    for i, a in enumerate(args):
        if a - a != 0.0:
            return ValueError(
                f"{op.name}: operand {i} is {float(a)!r}; its .data was set to a non-finite number "
                "(a Value's data must be finite)"
            )
    shown = ", ".join(repr(float(a)) for a in args)
    return OpOverflowError(f"{op.name}: the result of {op.name}({shown}) is {z}, beyond float64; scale the inputs down")


# Ops from the registry: forward rule, overflow check, local derivatives, node.


def _unary(op: _ops.Op, a: Value) -> Value:
    x = a.data
    if x - x:  # .data set to inf or nan by hand: some ops (tanh, exp of -inf) would hide it
        raise _overflow(op, (x,), x)
    z = op.forward(x)
    if z - z:
        raise _overflow(op, (x,), z)
    return _record1(op, a, z, op.local(x, z)[0])


def _binary(op: _ops.Op, a: Value, b: Value) -> Value:
    x = a.data
    y = b.data
    if x - x or y - y:
        raise _overflow(op, (x, y), x + y)
    z = op.forward(x, y)
    if z - z:
        raise _overflow(op, (x, y), z)
    da, db = op.local(x, y, z)
    return _record(op, a, b, z, da, db)


def _nary(op: _ops.Op, items: tuple[Value, ...]) -> Value:
    xs = [c.data for c in items]
    z = op.forward(xs)
    if z - z:
        raise _overflow(op, xs, z)
    return _record_n(op, items, z, op.local(xs, z))


def _wrap(x: Any, where: str) -> Value:
    """A number operand as a constant leaf; anything else is a TypeError naming the op."""
    cls = x.__class__
    if cls is float or cls is int or isinstance(x, Real):
        return Value(x)
    if isinstance(x, Value):
        return x
    raise TypeError(f"{where}: cannot combine a Value with {type(x).__name__} {x!r}; use a Value, int or float")


if TYPE_CHECKING:  # the methods generated from the registry, for type checkers: Value.tanh, x.gelu()

    class _Generated(type):
        def __getattr__(cls, name: str) -> Callable[..., Value]: ...

else:
    _Generated = type


class Value(Node, metaclass=_Generated):
    """A scalar node of a computation graph: ``data``, ``grad``, ``label``, ``op``, ``children``.

    Its slots are laid out by ``autograd.node``; the unary function methods (``tanh``, ``exp``,
    ``gelu``, ...) are generated from the op registry below the class.
    """

    __slots__ = ()

    def __init__(self, data: Number, label: str = "") -> None:
        _node.new_leaf(self, data, label)

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Callable[..., Value]: ...

    # ---- public views of the graph ------------------------------------------------
    @property
    def op(self) -> str:
        """The op that made this node (``"+"``, ``"tanh"``, ``"**2"``, ...); ``""`` for a leaf."""
        op = self._op
        return op.name if op is not None else ""

    @property
    def children(self) -> tuple[Value, ...]:
        """The operands this node was computed from; ``()`` for a leaf."""
        return operands(self)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """∂self/∂child for each of ``children``, as the op registry evaluated them at forward time."""
        return local_derivatives(self)

    @property
    def is_leaf(self) -> bool:
        """True for inputs and parameters: nodes that no op produced."""
        return self._op is None

    # ---- arithmetic ---------------------------------------------------------------
    # +, - and * make most of a network's nodes, so their rules are written out here, each
    # derivative beside its forward rule as in micrograd (the registry's ADD, SUB and MUL rows say
    # the same for grad(create_graph=True); a test checks they agree).  So are relu and dot
    # below; every other op's method is generated from the registry.
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
            return _unary(_ops.pow_const(check_data(other)), self)
        raise TypeError(f"**: exponent must be a Value, int or float, got {type(other).__name__} {other!r}")

    def __rpow__(self, other: Operand) -> Value:
        if isinstance(other, Real):
            return _unary(_ops.rpow_const(check_data(other)), self)
        raise TypeError(f"**: base must be a Value, int or float, got {type(other).__name__} {other!r}")

    def __neg__(self) -> Value:
        return _unary(_ops.NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(_ops.ABS, self)

    def relu(self) -> Value:
        """max(x, 0); its derivative at 0 is 0, as in torch."""
        x = self.data  # written out like + and *: it is most networks' activation
        if x > 0.0:
            if x <= 1.7976931348623157e308:
                return _record1(_ops.RELU, self, x, 1.0)  # relu(x) = x, ∂/∂x = 1
        elif x >= -1.7976931348623157e308:
            return _record1(_ops.RELU, self, 0.0, 0.0)  # relu(x) = 0, ∂/∂x = 0
        raise _overflow(_ops.RELU, (x,), x)  # inf or nan, set by hand

    # ---- backprop -----------------------------------------------------------------
    def backward(self, gradient: Number = 1.0) -> None:
        """Accumulate ∂self/∂v into ``v.grad`` for every node v of this graph.

        ``self.grad`` gets ``gradient`` (1 by default) added.  Calling it again
        adds the same derivatives again, like ``torch``'s leaves; reset with
        ``autograd.zero_grad(root)`` or a module's ``zero_grad()``.  A gradient
        that would turn inf or nan raises ``NonFiniteGradError`` naming the op and
        leaves every ``.grad`` as it was before the call (see ``autograd.backward``).
        """
        _backward(self, gradient)

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

    def __bool__(self) -> bool:
        """``data != 0``, as for a one-element torch tensor."""
        return self.data != 0.0

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
    def __getstate__(self) -> tuple[float, float, str]:
        if self._op is not None:
            raise TypeError(
                f"pickle: this Value was made by the op {self._op.name!r}; only leaves can be pickled "
                f"(pickle the inputs and rebuild the expression, or save a model with Module.save)"
            )
        return (self.data, self.grad, self.label)

    def __setstate__(self, state: tuple[float, float, str]) -> None:
        data, grad, label = state
        _node.init_leaf(self, data, label)
        self.grad = grad

    # A shallow copy is the node itself.  A deep copy of a leaf is a new leaf with the same data,
    # grad and label (so copy.deepcopy(model) gives independent parameters, as in torch); an
    # op-made node refuses, as torch refuses to deep-copy a non-leaf tensor.
    def __copy__(self) -> Value:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        if self._op is not None:
            raise TypeError(
                f"deepcopy: this Value was made by the op {self._op.name!r}; only leaves (inputs and "
                "parameters) can be deep-copied — copy the leaves and rebuild the expression"
            )
        v = Value(self.data, self.label)
        v.grad = self.grad
        return v


def _data_of(x: Any, where: str) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, Real):
        return float(x)
    raise TypeError(f"{where}: cannot compare a Value with {type(x).__name__} {x!r}; use a Value or a number")


def _as_value(x: Any, where: str) -> Value:
    return x if x.__class__ is Value else _wrap(x, where)


def _operands(items: tuple[Any, ...], where: str) -> tuple[Value, ...]:
    """Items as Values: the common all-Value case is checked at C speed, numbers are wrapped."""
    if countOf(map(type, items), Value) == len(items):
        return items
    return tuple([_as_value(x, where) for x in items])


def _checked(items: Sequence[Any], where: str) -> tuple[Sequence[Value], list[float]]:
    """``(values, data)``.  Reading each item's data with a class test is the check that it is a
    Value (cheap, as a neuron does this per sample); numbers become constants, anything else is
    a TypeError naming ``where``."""
    data = [v.data for v in items if v.__class__ is Value]
    if len(data) != len(items):
        values = _operands(tuple(items), where)
        return values, [v.data for v in values]
    return items, data


def _dot_node(ws: Sequence[Value], wd: list[float], xs: Sequence[Value], xd: list[float], bias: Value | None) -> Value:
    """One DOT node from checked operands and their data: the table's rule, unrolled."""
    if bias is None:
        if not wd:
            return Value(0.0)
        z = _ops.dot_value(wd, xd, 0.0)
        if z - z:
            raise _overflow(_ops.DOT, wd + xd, z)
        return _record_n(_ops.DOT, (*ws, *xs), z, (*xd, *wd))  # ∂z/∂wᵢ = xᵢ, ∂z/∂xᵢ = wᵢ
    b = bias.data
    z = _ops.dot_value(wd, xd, b)
    if z - z:
        raise _overflow(_ops.DOT, wd + xd + [b], z)
    return _record_n(_ops.DOT, (*ws, *xs, bias), z, (*xd, *wd, 1.0))  # ∂z/∂b = 1


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
        row: Sequence[Any] = ws
        if len(wd) != n:
            row, wd = _checked(ws, "matvec")
        bias = None if biases is None else biases[i]
        if bias is not None and bias.__class__ is not Value:
            bias = _as_value(bias, "matvec")
        out.append(_dot_node(row, wd, xs, xd, bias))
    return out


def vsum(values: Iterable[Operand]) -> Value:
    """Σ values as ONE node (an empty sum is the constant 0.0)."""
    operands = _operands(tuple(values), "vsum")
    if not operands:
        return Value(0.0)
    return _nary(_ops.SUM, operands)


def apply_op(op: _ops.Op, *items: Operand) -> Value:
    """``op`` applied to ``items`` the way users apply it: through its ``Value`` method (the
    written-out fast paths included), ``dot`` for DOT, else straight from the registry row."""
    row = op.entry
    if row is not None and row.method is not None:
        method = getattr(Value, row.method)
        if row.is_family:
            return method(*items, op.param)  # type: ignore[no-any-return]
        return method(*items)  # type: ignore[no-any-return]
    if op is _ops.DOT:
        n = len(items) // 2
        return dot(items[:n], items[n : 2 * n], items[-1] if len(items) % 2 else None)
    values = tuple(_as_value(x, op.name) for x in items)
    if op.arity == 0:
        return _nary(op, values) if values else Value(0.0)
    if len(values) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} operand(s), got {len(values)}")
    return _unary(op, values[0]) if op.arity == 1 else _binary(op, *values)


# ---- methods generated from the registry ------------------------------------------------


def _method(row: _ops.Entry) -> Callable[..., Value]:
    """The ``Value`` method of a unary registry row (a family's takes its number parameter,
    named ``row.param_name``, with the row's default)."""
    name = row.method or row.key
    method: Callable[..., Value]
    if row.is_family:
        pname, default = row.param_name, row.default

        def family_method(self: Value, *args: float, **kwargs: float) -> Value:
            if len(args) + len(kwargs) > 1 or any(k != pname for k in kwargs):
                raise TypeError(f"{name}() takes one optional argument {pname!r}, got {args!r} {kwargs!r}")
            param = args[0] if args else kwargs.get(pname, default)
            return _unary(row.op(check_data(param)), self)

        family_method.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                inspect.Parameter(pname, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default),
            ]
        )
        method = family_method
    else:
        op = row.op()

        def fixed_method(self: Value) -> Value:
            return _unary(op, self)

        method = fixed_method
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = row.doc or None
    return method


def _binary_method(row: _ops.Entry) -> Callable[..., Value]:
    """The ``Value`` method of a fixed binary registry row: ``a.maximum(b)``, ``b`` a Value or a number."""
    op = row.op()
    name = row.method or row.key

    def method(self: Value, other: Operand) -> Value:
        return _binary(op, self, _as_value(other, op.name))

    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = row.doc or None
    return method


for _row in _ops.entries():
    if _row.method is not None and _row.method not in Value.__dict__:
        if _row.arity == 1:
            setattr(Value, _row.method, _method(_row))
        elif _row.arity == 2 and not _row.is_family:
            setattr(Value, _row.method, _binary_method(_row))
del _row
_node.bind(Value)
