"""Recurrent cells (``RNNCell``, ``LSTMCell``, ``GRUCell``) and the wrappers that unroll them
(``RNN``, ``LSTM``, ``GRU``), with torch.nn's equations, gate order and parameter layout.

Why torch's exact conventions: a model trained here can be checked against (or
moved to) ``torch.nn.LSTMCell`` & co. weight for weight.  The equations, with σ
the sigmoid and ⊙ the elementwise product, are::

    RNN   h' = act(W_ih x + b_ih + W_hh h + b_hh)                act: tanh or relu
    LSTM  i, f, g, o = σ, σ, tanh, σ of (W_i* x + b_i* + W_h* h + b_h*)
          c' = f ⊙ c + i ⊙ g            h' = o ⊙ tanh(c')
    GRU   r, z = σ(W_i* x + b_i* + W_h* h + b_h*)
          n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
          h' = (1 − z) ⊙ n + z ⊙ h

``weight_ih`` stacks the gates' rows in torch's order (LSTM i, f, g, o; GRU
r, z, n) into a [gates·hidden, nin] matrix, stored here as a list of rows of
Values (``weight_ih.5.1`` is row 5, column 1, as in torch), so graphs and
``named_parameters()`` tell which gate unit a weight belongs to;
``to_torch_state_dict()`` returns the same [rows][cols] layout as floats.

Speed: every gate unit's pre-activation is ONE ``autograd.dot`` node over
[W_ih row, W_hh row, b_hh] · [x, h, 1] + b_ih instead of micrograd's chain of
2·(nin + nhidden) + 1 binary nodes; unrolled graphs are deep, so this is what
makes backprop through time fast enough to train in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Any

from autograd import Value, dot

from . import checks
from .init import Seed
from .module import Module

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]

Vector = Sequence[Any] | Value | float | int | None

_ACTIVATIONS = ("tanh", "relu")  # torch.nn.RNNCell's nonlinearity choices


def _check_size(where: str, name: str, n: Any) -> int:
    return checks.integer(where, name, n, low=1)


def _as_vector(x: Vector, n: int, where: str, what: str) -> list[Value]:
    """``x`` as ``n`` Values (numbers wrapped once); ``None`` is n zeros (torch's default state)."""
    if x is None:
        return [Value(0.0) for _ in range(n)]
    if checks.is_scalar(x):
        x = [x]
    try:
        items = list(x)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{where}: {what} must be a list of {n} Values or numbers, got {type(x).__name__}") from None
    if len(items) != n:
        raise ValueError(
            f"{where}: {what} has {len(items)} entries but must have {n}; "
            f"pass {n} Values or numbers (the cell was built for {what} size {n})"
        )
    out = []
    for i, v in enumerate(items):
        if isinstance(v, Value):
            out.append(v)
        elif checks.is_number(v) and math.isfinite(v):
            out.append(Value(float(v)))
        else:
            raise TypeError(f"{where}: {what}[{i}] must be a Value or a finite number, got {type(v).__name__} {v!r}")
    return out


class _Cell(Module):
    """Shared parameters, init and torch export of the three cells (``gates`` blocks of rows)."""

    gates = 1

    def __init__(self, nin: int, nhidden: int, seed: Seed = None) -> None:
        where = type(self).__name__
        self.nin = _check_size(where, "nin", nin)
        self.nhidden = _check_size(where, "nhidden", nhidden)
        rng = checks.random_source(where, seed)
        k = 1.0 / math.sqrt(nhidden)  # torch: every weight and bias ~ U(−1/√hidden, 1/√hidden)
        rows = self.gates * nhidden

        def draw(n: int) -> list[Value]:
            return [Value(rng.uniform(-k, k)) for _ in range(n)]

        # torch's parameter order (weight_ih, weight_hh, bias_ih, bias_hh), each drawn row by row
        self.weight_ih = [draw(nin) for _ in range(rows)]
        self.weight_hh = [draw(nhidden) for _ in range(rows)]
        self.bias_ih = draw(rows)
        self.bias_hh = draw(rows)
        # Per gate unit: [W_ih row, W_hh row, b_hh], the weight side of its fused dot node.
        self._rows = [self.row_ih(r) + self.row_hh(r) + [self.bias_hh[r]] for r in range(rows)]

    def row_ih(self, r: int) -> list[Value]:
        """Row ``r`` of ``weight_ih`` (gate r // nhidden, unit r % nhidden) as a list of Values."""
        return self.weight_ih[r]

    def row_hh(self, r: int) -> list[Value]:
        """Row ``r`` of ``weight_hh`` as a list of Values."""
        return self.weight_hh[r]

    def _pre(self, r: int, xh1: list[Value]) -> Value:
        """W_ih[r]·x + W_hh[r]·h + b_hh[r] + b_ih[r] as one dot node (``xh1`` = x + h + [1])."""
        return dot(self._rows[r], xh1, self.bias_ih[r])

    def _inputs(self, x: Vector, h: Vector) -> tuple[list[Value], list[Value]]:
        where = type(self).__name__
        if x is None:
            raise TypeError(f"{where}: x is None; pass the input as a list of {self.nin} Values or numbers")
        return _as_vector(x, self.nin, where, "x"), _as_vector(h, self.nhidden, where, "h")

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``weight_ih`` [gates·hidden][nin], ``weight_hh`` [gates·hidden][hidden], ``bias_ih``,
        ``bias_hh`` [gates·hidden]: the names and layout of the matching ``torch.nn`` cell."""
        rows = self.gates * self.nhidden
        return {
            "weight_ih": [[w.data for w in self.row_ih(r)] for r in range(rows)],
            "weight_hh": [[w.data for w in self.row_hh(r)] for r in range(rows)],
            "bias_ih": [b.data for b in self.bias_ih],
            "bias_hh": [b.data for b in self.bias_hh],
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(nin={self.nin}, nhidden={self.nhidden})"


class RNNCell(_Cell):
    """Elman cell ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, torch.nn.RNNCell's equation.

    ``activation`` is ``"tanh"`` (default) or ``"relu"``, torch's two choices.
    Call as ``h = cell(x, h)``; ``h=None`` starts from zeros."""

    gates = 1

    def __init__(self, nin: int, nhidden: int, activation: str = "tanh", seed: Seed = None) -> None:
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"RNNCell: activation must be 'tanh' or 'relu' (torch.nn.RNNCell's nonlinearity), got {activation!r}"
            )
        super().__init__(nin, nhidden, seed)
        self.activation = activation

    def __call__(self, x: Vector, h: Vector = None) -> list[Value]:
        xs, hs = self._inputs(x, h)
        xh1 = xs + hs + [Value(1.0)]
        pre = [self._pre(r, xh1) for r in range(self.nhidden)]
        return [p.tanh() for p in pre] if self.activation == "tanh" else [p.relu() for p in pre]

    def __repr__(self) -> str:
        return f"RNNCell(nin={self.nin}, nhidden={self.nhidden}, activation={self.activation!r})"


class LSTMCell(_Cell):
    """Long short-term memory cell with torch.nn.LSTMCell's equations and gate order i, f, g, o.

    Call as ``h, c = cell(x, (h, c))``; a state of ``None`` (or ``h``/``c`` None)
    starts from zeros."""

    gates = 4

    def __call__(self, x: Vector, state: tuple[Vector, Vector] | None = None) -> tuple[list[Value], list[Value]]:
        if state is None:
            h = c = None
        elif isinstance(state, tuple) and len(state) == 2:
            h, c = state
        else:
            raise TypeError(
                f"LSTMCell: state must be a tuple (h, c) or None, got {type(state).__name__}; "
                "call it as h, c = cell(x, (h, c))"
            )
        xs, hs = self._inputs(x, h)
        cs = _as_vector(c, self.nhidden, "LSTMCell", "c")
        xh1 = xs + hs + [Value(1.0)]
        H = self.nhidden
        pre = self._pre
        h_new, c_new = [], []
        for j in range(H):
            i = pre(j, xh1).sigmoid()
            f = pre(H + j, xh1).sigmoid()
            g = pre(2 * H + j, xh1).tanh()
            o = pre(3 * H + j, xh1).sigmoid()
            cj = dot((f, i), (cs[j], g))  # f·c + i·g as one node
            c_new.append(cj)
            h_new.append(o * cj.tanh())
        return h_new, c_new


class GRUCell(_Cell):
    """Gated recurrent unit with torch.nn.GRUCell's equations and gate order r, z, n.

    As in torch (and unlike the original paper), the reset gate multiplies
    ``W_hn h + b_hn``, after the hidden-to-hidden product.  Call as
    ``h = cell(x, h)``; ``h=None`` starts from zeros."""

    gates = 3

    def __call__(self, x: Vector, h: Vector = None) -> list[Value]:
        xs, hs = self._inputs(x, h)
        xh1 = xs + hs + [Value(1.0)]
        H = self.nhidden
        pre = self._pre
        out = []
        for j in range(H):
            r = pre(j, xh1).sigmoid()
            z = pre(H + j, xh1).sigmoid()
            k = 2 * H + j
            hn = dot(self.row_hh(k), hs, self.bias_hh[k])  # W_hn h + b_hn
            n = dot(self.row_ih(k) + [r], xs + [hn], self.bias_ih[k]).tanh()  # + r ⊙ hn in the same node
            out.append(dot((1.0 - z, z), (n, hs[j])))  # (1 − z)·n + z·h
        return out


def _as_steps(xs: Any, where: str) -> list[Any]:
    if isinstance(xs, (Value, Real, str)) or xs is None:
        raise TypeError(
            f"{where}: the input must be a sequence of steps (one input vector per step), "
            f"got {type(xs).__name__}; for one step use [x]"
        )
    steps = list(xs)
    if not steps:
        raise ValueError(f"{where}: the input sequence is empty; pass at least one step")
    return steps


def _layer_states(state: Any, layers: int, where: str, what: str) -> list[Any]:
    """torch's h_0 layout: one state per layer; ``None`` means zeros for every layer."""
    if state is None:
        return [None] * layers
    if isinstance(state, (Value, Real)) or not isinstance(state, (list, tuple)):
        raise TypeError(
            f"{where}: {what} must be a list of {layers} per-layer states (e.g. [h] for one layer) "
            f"or None, got {type(state).__name__}"
        )
    if len(state) != layers or any(isinstance(s, (Value, Real)) for s in state):
        raise ValueError(
            f"{where}: {what} must hold one state per layer ({layers} layer{'s' if layers > 1 else ''}), "
            f"as torch's h_0 does: wrap a single layer's state as [h]"
        )
    return list(state)


class _Unrolled(Module):
    """A stack of ``num_layers`` cells applied step by step: layer l's outputs are layer l+1's inputs."""

    cell_type: type = RNNCell

    def __init__(self, nin: int, nhidden: int, num_layers: int = 1, seed: Seed = None, **cell_kw: Any) -> None:
        where = type(self).__name__
        _check_size(where, "nin", nin)
        _check_size(where, "nhidden", nhidden)
        _check_size(where, "num_layers", num_layers)
        rng = checks.random_source(where, seed)  # one stream: layers get different weights, in torch's parameter order
        self.cells = [
            self.cell_type(nin if layer == 0 else nhidden, nhidden, seed=rng, **cell_kw) for layer in range(num_layers)
        ]
        self.nin = nin
        self.nhidden = nhidden
        self.num_layers = num_layers

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._l1``: torch.nn.RNN's names."""
        out: dict[str, Any] = {}
        for layer, cell in enumerate(self.cells):
            for k, v in cell.to_torch_state_dict().items():
                out[f"{k}_l{layer}"] = v
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(nin={self.nin}, nhidden={self.nhidden}, num_layers={self.num_layers})"


class _UnrolledH(_Unrolled):
    """The unrolling of cells whose state is h alone (RNN, GRU): ``outputs, h_n = model(xs, h_0)``."""

    def __call__(self, xs: Iterable[Any], h_0: Any = None) -> tuple[list[list[Value]], list[list[Value]]]:
        where = type(self).__name__
        steps = _as_steps(xs, where)
        hs = _layer_states(h_0, self.num_layers, where, "h_0")
        outputs = []
        for x in steps:
            for layer, cell in enumerate(self.cells):
                x = hs[layer] = cell(x, hs[layer])
            outputs.append(x)
        return outputs, hs


class RNN(_UnrolledH):
    """``RNNCell``s unrolled over a sequence, like ``torch.nn.RNN`` (one sample, no batch axis).

    ``outputs, h_n = rnn(xs, h_0=None)``: ``xs`` is a sequence of inputs (each
    ``nin`` Values or numbers; a bare number when nin == 1); ``outputs[t]`` is the
    last layer's hidden state after step t; ``h_n[l]`` is layer l's final state
    (``h_0`` has the same per-layer layout).  Backprop through time is ``backward()``
    on any loss built from the outputs."""

    cell_type = RNNCell

    def __init__(
        self, nin: int, nhidden: int, num_layers: int = 1, activation: str = "tanh", seed: Seed = None
    ) -> None:
        super().__init__(nin, nhidden, num_layers, seed, activation=activation)
        self.activation = activation


class GRU(_UnrolledH):
    """``GRUCell``s unrolled over a sequence, like ``torch.nn.GRU``; same call and return as ``RNN``."""

    cell_type = GRUCell

    def __init__(self, nin: int, nhidden: int, num_layers: int = 1, seed: Seed = None) -> None:
        super().__init__(nin, nhidden, num_layers, seed)


class LSTM(_Unrolled):
    """``LSTMCell``s unrolled over a sequence, like ``torch.nn.LSTM`` (one sample, no batch axis).

    ``outputs, (h_n, c_n) = lstm(xs, (h_0, c_0))``: ``outputs[t]`` is the last
    layer's h after step t; ``h_n[l]``/``c_n[l]`` are layer l's final states; the
    initial state (or either half of it) may be None for zeros."""

    cell_type = LSTMCell

    def __init__(self, nin: int, nhidden: int, num_layers: int = 1, seed: Seed = None) -> None:
        super().__init__(nin, nhidden, num_layers, seed)

    def __call__(
        self, xs: Iterable[Any], state: tuple[Any, Any] | None = None
    ) -> tuple[list[list[Value]], tuple[list[list[Value]], list[list[Value]]]]:
        steps = _as_steps(xs, "LSTM")
        if state is None:
            h_0 = c_0 = None
        elif isinstance(state, tuple) and len(state) == 2:
            h_0, c_0 = state
        else:
            raise TypeError(
                f"LSTM: state must be a tuple (h_0, c_0) of per-layer states or None, got {type(state).__name__}"
            )
        hs = _layer_states(h_0, self.num_layers, "LSTM", "h_0")
        cs = _layer_states(c_0, self.num_layers, "LSTM", "c_0")
        outputs = []
        for x in steps:
            for layer, cell in enumerate(self.cells):
                hs[layer], cs[layer] = cell(x, (hs[layer], cs[layer]))
                x = hs[layer]
            outputs.append(x)
        return outputs, (hs, cs)
