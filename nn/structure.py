"""``describe(model)``: what a model is made of, stated once, for anyone who reads models (viz).

A model is described as its layers in order; a layer is its units; a unit
says which parameter ``Value``s are its weights and biases and what
activation it applies.  Pictures and tools read this instead of parsing
parameter names (``layers.1.neurons.3.w.0``) or re-implementing a neuron.

- dense layers (``Neuron``, ``Layer``, the layers of an ``MLP`` or a
  ``Sequential``): one unit per neuron, ``weights`` its ``w`` in input
  order, ``biases`` its ``(b,)``;
- recurrent cells (``RNNCell``, ``LSTMCell``, ``GRUCell``, and the cells of
  ``RNN``, ``LSTM``, ``GRU``): one unit per hidden unit j, holding every
  gate's row j (torch's gate order): ``weights`` the W_ih rows, ``recurrent``
  the W_hh rows, ``biases`` b_ih then b_hh, each labelled by its role;
- convolutions (``Conv2d``, kind ``"conv2d"``): one unit per output channel (kind
  ``"kernel"``), ``weights`` its kernel in (in channel, row, column) order, roles
  ``w.i.y.x``, ``biases`` its ``(b,)`` (empty without bias); ``nin``/``nout`` are the
  channel counts and ``module`` the ``Conv2d`` (``kernel_size``, ``stride``, ``padding``).
  Pooling and ``Flatten`` hold no parameters and are not layers here.

Everything is read from public attributes (``layers``, ``neurons``, ``w``,
``b``, ``activation``, ``cells``, ``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh``, ``gates``, ``nhidden``) and ``named_modules()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from autograd import Value
from autograd.ops import activations

from .activations import ACTIVATIONS
from .conv import Conv2d
from .layers import Layer, Neuron
from .module import Module
from .rnn import GRUCell, LSTMCell, RNNCell

__all__ = ["Unit", "LayerInfo", "Structure", "describe"]

GATES = {RNNCell: ("h",), LSTMCell: ("i", "f", "g", "o"), GRUCell: ("r", "z", "n")}


@dataclass(frozen=True, eq=False)
class Unit:
    """One neuron or one recurrent hidden unit: its parameters by role and its activation."""

    name: str  # "layers.1.neurons.3", or "cells.0 unit 2" for a recurrent unit
    kind: str  # "neuron" or "recurrent"
    activation: str  # "tanh", "relu", "linear", ... ; "lstm" / "gru" for gated units
    weights: tuple[Value, ...]  # input weights, in input order (a recurrent unit: gate by gate)
    biases: tuple[Value, ...]  # a neuron's (b,); a recurrent unit's b_ih then b_hh, gate by gate
    recurrent: tuple[Value, ...] = ()  # a recurrent unit's W_hh rows, gate by gate
    roles: tuple[tuple[str, Value], ...] = ()  # (role, parameter): ("w.0", w0), ("b", b), ("i: W_ih.2", ...)

    @property
    def bias(self) -> Value:
        """A neuron's bias b (the first bias of a recurrent unit)."""
        return self.biases[0]

    def parameters(self) -> tuple[Value, ...]:
        """Every parameter of the unit, in the order of ``roles``."""
        return tuple(p for _, p in self.roles)


@dataclass(frozen=True, eq=False)
class LayerInfo:
    """A column of units that read the same inputs."""

    name: str  # "layers.1", "cells.0", "" for a bare Layer or cell
    kind: str  # "dense" or "rnn" / "lstm" / "gru"
    nin: int
    nout: int
    activation: str
    units: tuple[Unit, ...]
    module: Any  # the nn module itself (a Layer, Neuron or cell): callable on one input

    def function(self) -> Callable[[Value], Value] | None:
        """The activation as a function Value -> Value when it has a name that ``nn.ACTIVATIONS`` or
        the op registry's activations know (``tanh``, ``gelu``, ...), else None (a custom callable)."""
        if self.kind != "dense":
            return None
        fn = ACTIVATIONS.get(self.activation)
        row = activations().get(self.activation)
        if fn is None and row is not None and row.method is not None:
            fn = getattr(Value, row.method)
        return fn


@dataclass(frozen=True, eq=False)
class Structure:
    """A model's layers in order, and which unit each parameter belongs to."""

    layers: tuple[LayerInfo, ...]
    _unit_of: dict[Value, Unit] = field(default_factory=dict, repr=False)
    _layer_of: dict[Value, LayerInfo] = field(default_factory=dict, repr=False)

    @property
    def nin(self) -> int:
        """The input width of the first layer."""
        return self.layers[0].nin

    def units(self) -> Iterator[Unit]:
        """Every unit, layer by layer."""
        for layer in self.layers:
            yield from layer.units

    def unit_of(self, p: Value) -> Unit | None:
        """The unit parameter ``p`` belongs to, or None when it is not one of the model's units'."""
        return self._unit_of.get(p)

    def layer_of(self, p: Value) -> LayerInfo | None:
        """The layer parameter ``p`` belongs to, or None."""
        return self._layer_of.get(p)

    def is_dense_stack(self) -> bool:
        """True when every layer is dense and each one's width feeds the next (an MLP's shape)."""
        dense = all(layer.kind == "dense" for layer in self.layers)
        chained = all(a.nout == b.nin for a, b in zip(self.layers, self.layers[1:]))
        return dense and chained


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _neuron_unit(n: Neuron, name: str) -> Unit:
    roles = tuple((f"w.{i}", w) for i, w in enumerate(n.w)) + (("b", n.b),)
    return Unit(name, "neuron", str(n.activation), tuple(n.w), (n.b,), (), roles)


def _dense(module: Layer | Neuron, name: str) -> LayerInfo:
    if isinstance(module, Neuron):
        unit = _neuron_unit(module, name)
        return LayerInfo(name, "dense", module.nin, 1, unit.activation, (unit,), module)
    units = tuple(_neuron_unit(n, _join(name, f"neurons.{j}")) for j, n in enumerate(module.neurons))
    return LayerInfo(name, "dense", module.nin, len(units), str(module.activation), units, module)


def _cell(cell: RNNCell | LSTMCell | GRUCell, name: str) -> LayerInfo:
    gates = GATES[type(cell)]
    kind = {RNNCell: "rnn", LSTMCell: "lstm", GRUCell: "gru"}[type(cell)]
    activation = str(cell.activation) if isinstance(cell, RNNCell) else kind
    H = cell.nhidden
    units = []
    for j in range(H):
        rows = [(g, k * H + j) for k, g in enumerate(gates)]
        w_ih = [(f"{g}: W_ih.{i}", w) for g, r in rows for i, w in enumerate(cell.weight_ih[r])]
        w_hh = [(f"{g}: W_hh.{i}", w) for g, r in rows for i, w in enumerate(cell.weight_hh[r])]
        b = [(f"{g}: b_ih", cell.bias_ih[r]) for g, r in rows] + [(f"{g}: b_hh", cell.bias_hh[r]) for g, r in rows]
        unit_name = f"{name} unit {j}" if name else f"unit {j}"
        units.append(
            Unit(
                unit_name,
                "recurrent",
                activation,
                tuple(p for _, p in w_ih),
                tuple(p for _, p in b),
                tuple(p for _, p in w_hh),
                tuple(w_ih + w_hh + b),
            )
        )
    return LayerInfo(name, kind, cell.nin, H, activation, tuple(units), cell)


# ---- convolution (nn.conv): one unit per output channel ----------------------------------
def _conv(module: Conv2d, name: str) -> LayerInfo:
    """A Conv2d as a layer whose units are its output channels, each holding its kernel and bias."""
    units = []
    for o, kernel in enumerate(module.weight):
        roles = [
            (f"w.{i}.{y}.{x}", w) for i, ch in enumerate(kernel) for y, row in enumerate(ch) for x, w in enumerate(row)
        ]
        biases = () if module.bias is None else (module.bias[o],)
        unit_name = f"{name} channel {o}" if name else f"channel {o}"
        weights = tuple(w for _, w in roles)
        units.append(
            Unit(unit_name, "kernel", module.activation, weights, biases, (), (*roles, *(("b", b) for b in biases)))
        )
    return LayerInfo(name, "conv2d", module.in_channels, module.out_channels, module.activation, tuple(units), module)


def _layers(model: Any) -> list[LayerInfo]:
    """Dense layers, lone neurons and recurrent cells under ``model``, in definition order."""
    if isinstance(model, (Layer, Neuron)):
        return [_dense(model, "")]
    if isinstance(model, (RNNCell, LSTMCell, GRUCell)):
        return [_cell(model, "")]
    if isinstance(model, Conv2d):
        return [_conv(model, "")]
    found: list[LayerInfo] = []
    taken: list[str] = []  # names of modules already described: their sub-modules are inside them
    for name, m in model.named_modules():
        if any(name.startswith(t + ".") for t in taken):
            continue
        if isinstance(m, (Layer, Neuron)):
            found.append(_dense(m, name))
        elif isinstance(m, (RNNCell, LSTMCell, GRUCell)):
            found.append(_cell(m, name))
        elif isinstance(m, Conv2d):
            found.append(_conv(m, name))
        else:
            continue
        taken.append(name)
    return found


def describe(model: Any) -> Structure:
    """The structure of ``model``: an ``nn.Module`` (MLP, Sequential, Layer, Neuron, a recurrent
    cell or network, or any module holding those) as layers of units.

    Raises ``TypeError`` for something that is not an ``nn.Module`` and ``ValueError``
    for a module with no layer of neurons and no recurrent cell in it.
    """
    if not isinstance(model, Module):
        raise TypeError(
            f"describe: expected an nn.Module (MLP, Layer, Sequential, LSTM, ...), got {type(model).__name__}"
        )
    layers = _layers(model)
    if not layers:
        raise ValueError(
            f"describe: {type(model).__name__} holds no Layer, Neuron, Conv2d or recurrent cell; "
            "nothing to describe as layers of units"
        )
    unit_of: dict[Value, Unit] = {}
    layer_of: dict[Value, LayerInfo] = {}
    for layer in layers:
        for unit in layer.units:
            for p in unit.parameters():
                unit_of.setdefault(p, unit)
                layer_of.setdefault(p, layer)
    return Structure(tuple(layers), unit_of, layer_of)
