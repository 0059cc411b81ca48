"""Neurons, layers and MLPs with micrograd's structure, plus ``Sequential`` and ``Dropout``.

``MLP(2, [16, 16, 1])`` has micrograd's attributes (``layers[i].neurons[j].w``
and ``.b``), a linear last layer, micrograd's default weights (U(−1, 1) from
Python's ``random``, bias 0) and micrograd's numbers.  A neuron computes
z = Σ wᵢxᵢ + b as ONE ``autograd.dot`` node; ``fused=False`` builds micrograd's
chain of binary ``*`` and ``+`` nodes instead (same value, same gradients).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter, countOf
from typing import Any, cast

from autograd import Value, dot, matvec

from . import checks
from .activations import get_activation
from .init import Seed, get_init
from .module import Module

__all__ = ["Neuron", "Layer", "MLP", "Sequential", "Dropout"]

Input = Sequence[Any] | Value | float | int

_fused = attrgetter("fused")
_weights = attrgetter("w")
_bias = attrgetter("b")


def _as_inputs(x: Input, nin: int, where: str) -> list[Value]:
    """The input as a list of Values, numbers wrapped once; the width must be ``nin``."""
    if x.__class__ is not list and checks.is_scalar(x):
        x = [x]
    try:
        n = len(x)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{where}: input must be a list of Values or numbers, got {type(x).__name__}") from None
    if n != nin:
        raise ValueError(
            f"{where}: expected {nin} input{'s' if nin != 1 else ''} (nin={nin}), got {n}; "
            f"give each sample {nin} features or build the model with nin={n}"
        )
    x = cast("Sequence[Any]", x)
    if countOf(map(type, x), Value) == n:  # the usual case (a layer's outputs), checked at C speed
        return x  # type: ignore[return-value]
    return [v if v.__class__ is Value else (v if isinstance(v, Value) else Value(v)) for v in x]


def _activation_of(activation: Any, nonlin: bool | None, where: str) -> tuple[str, Callable[[Value], Value]]:
    if nonlin is not None:  # micrograd's keyword: nonlin=True is relu, False is linear
        activation = "relu" if nonlin else "linear"
    return get_activation(activation, where)


class Neuron(Module):
    """One unit: act(Σ wᵢxᵢ + b), with micrograd's ``w`` (list of Values) and ``b``."""

    def __init__(
        self,
        nin: int,
        activation: Any = "relu",
        *,
        nonlin: bool | None = None,
        init: Any = "uniform",
        seed: Seed = None,
        fused: bool = True,
        weights: Sequence[float] | None = None,
        bias: float = 0.0,
    ) -> None:
        checks.integer("Neuron", "nin", nin, low=1)
        if weights is None:
            weights = get_init(init, "Neuron")(1, nin, seed=checks.random_source("Neuron", seed))[0]
        if len(weights) != nin:
            raise ValueError(f"Neuron: got {len(weights)} weights for nin={nin}")
        self.w = [Value(float(wi)) for wi in weights]
        self.b = Value(float(bias))
        self.nin = nin
        self.activation, self._act = _activation_of(activation, nonlin, "Neuron")
        self.nonlin = self.activation != "linear"
        self.fused = bool(fused)

    def _forward(self, xs: list[Value]) -> Value:
        if self.fused:
            return self._act(dot(self.w, xs, self.b))
        z = self.b  # micrograd's sum((wi*xi for ...), b): the bias first, then left to right
        for wi, xi in zip(self.w, xs):
            z = z + wi * xi
        return self._act(z)

    def __call__(self, x: Input) -> Value:
        return self._forward(_as_inputs(x, self.nin, "Neuron"))

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``{"weight": [[w...]], "bias": [b]}``: a ``torch.nn.Linear(nin, 1)``'s layout."""
        return {"weight": [[w.data for w in self.w]], "bias": [self.b.data]}

    def __repr__(self) -> str:
        return f"Neuron(nin={self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons over the same inputs; a layer of one neuron returns a Value, else a list."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: Any = "relu",
        init: Any = "uniform",
        seed: Seed = None,
        *,
        nonlin: bool | None = None,
        fused: bool = True,
    ) -> None:
        checks.integer("Layer", "nin", nin, low=1)
        checks.integer("Layer", "nout", nout, low=1)
        name, _ = _activation_of(activation, nonlin, "Layer")
        rows = get_init(init, "Layer")(nout, nin, seed=checks.random_source("Layer", seed))
        if len(rows) != nout or any(len(r) != nin for r in rows):
            raise ValueError(f"Layer: init returned a shape other than [{nout}][{nin}]")
        self.neurons = [Neuron(nin, activation if nonlin is None else name, weights=r, fused=fused) for r in rows]
        self.nin = nin
        self.nout = nout
        self.activation = name
        self.fused = bool(fused)

    def __call__(self, x: Input) -> Value | list[Value]:
        xs = _as_inputs(x, self.nin, "Layer")  # numbers become Values once, not once per neuron
        neurons = self.neurons
        if self.fused and countOf(map(type, neurons), Neuron) == len(neurons) and all(map(_fused, neurons)):
            # One dot node per neuron, as Neuron would make, with the inputs read once per layer.
            zs = matvec(list(map(_weights, neurons)), xs, list(map(_bias, neurons)))
            out = [n._act(z) for n, z in zip(neurons, zs)]
        else:
            out = [n._forward(xs) for n in neurons]
        return out[0] if len(out) == 1 else out

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``{"weight": [out][in] nested list, "bias": [out]}``: ``torch.nn.Linear``'s layout."""
        return {"weight": [[w.data for w in n.w] for n in self.neurons], "bias": [n.b.data for n in self.neurons]}

    def __repr__(self) -> str:
        return f"Layer(nin={self.nin}, nout={self.nout}, activation={self.activation!r})"


class MLP(Module):
    """Layers of sizes ``nouts`` after ``nin`` inputs; hidden layers use ``activation``, the last is linear."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: Any = "relu",
        init: Any = "uniform",
        seed: Seed = None,
        *,
        fused: bool = True,
        output_activation: Any = "linear",
    ) -> None:
        if isinstance(nouts, int) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes such as [16, 16, 1], got {nouts!r}")
        rng = checks.random_source("MLP", seed)  # one stream for all layers: each layer gets different weights
        sizes = [nin] + list(nouts)
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[i], sizes[i + 1], activation if i != last else output_activation, init=init, seed=rng, fused=fused
            )
            for i in range(len(nouts))
        ]
        self.nin = nin
        self.nouts = list(nouts)

    def __call__(self, x: Input) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x  # type: ignore[return-value]

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``{"i.weight", "i.bias"}`` for layer i of ``self.layers``, in ``torch.nn.Linear`` layout."""
        out: dict[str, Any] = {}
        for i, layer in enumerate(self.layers):
            for k, v in layer.to_torch_state_dict().items():
                out[f"{i}.{k}"] = v
        return out

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"MLP of [{inner}]"


class Sequential(Module):
    """Modules (or plain callables such as ``nn.softmax``) applied one after another."""

    def __init__(self, *modules: Any) -> None:
        for i, m in enumerate(modules):
            if not callable(m):
                raise TypeError(f"Sequential: item {i} ({type(m).__name__}) is not callable; pass modules or functions")
        self.layers = list(modules)

    def __call__(self, x: Any) -> Any:
        for m in self.layers:
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Any:
        return self.layers[i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.layers)

    @property
    def nin(self) -> int | None:
        """The input width of the first module, when it has one."""
        return getattr(self.layers[0], "nin", None) if self.layers else None

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``{"i.weight", "i.bias"}`` with i the position in the sequence, like ``torch.nn.Sequential``."""
        out: dict[str, Any] = {}
        for i, m in enumerate(self.layers):
            if hasattr(m, "to_torch_state_dict"):
                for k, v in m.to_torch_state_dict().items():
                    out[f"{i}.{k}"] = v
        return out

    def __repr__(self) -> str:
        return f"Sequential({', '.join(repr(m) for m in self.layers)})"


class Dropout(Module):
    """Inverted dropout: in training each input is zeroed with probability ``p`` and the rest
    scaled by 1/(1−p), so the expectation is unchanged; in ``eval()`` it is the identity."""

    def __init__(self, p: float = 0.5, seed: Seed = None) -> None:
        self.p = checks.number("Dropout", "p", p, low=0.0, high=1.0, hint="it is a probability")
        rng = checks.random_source("Dropout", seed)
        self._rng = None if rng is random else rng  # None: Python's global random (a module cannot be deep-copied)

    def __call__(self, x: Any) -> Any:
        single = checks.is_scalar(x)
        if not single and not (isinstance(x, (list, tuple)) and all(map(checks.is_scalar, x))):
            raise TypeError(
                f"Dropout: the input must be a Value, a number or a list of them, got {type(x).__name__} "
                f"{x!r:.60}; pass a layer's outputs"
            )
        if not self.training or self.p == 0.0:
            return x
        xs = [x] if single else x
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        rand = random.random if self._rng is None else self._rng.random
        p = self.p
        out = [xi * (0.0 if rand() < p else scale) for xi in xs]
        return out[0] if single else out

    def to_torch_state_dict(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
