"""Activation functions by name and a stable ``softmax``.

The names come from autograd's op registry: every row marked as an activation
(``relu``, ``tanh``, ``sigmoid``, ``leaky_relu``, ``softplus``, ``gelu``, ``silu``, ...)
is usable as ``MLP(..., activation=NAME)`` and is applied as its ``Value`` method, so
an op added to the registry is an activation here with no edit; ``linear`` is nn's own."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd import OpOverflowError, Value, vsum
from autograd.ops import activations

__all__ = ["ACTIVATIONS", "get_activation", "softmax", "log_softmax"]

Activation = Callable[[Value], Value]


def _linear(z: Value) -> Value:
    return z


#: Every activation a ``Neuron``/``Layer``/``MLP`` accepts by name: the registry's, plus ``linear``.
ACTIVATIONS: dict[str, Activation] = {
    **{name: getattr(Value, row.method) for name, row in activations().items() if row.method},
    "linear": _linear,
}


def get_activation(activation: str | Activation | None, where: str = "activation") -> tuple[str, Activation]:
    """``(name, function)`` for a name from ``ACTIVATIONS``, ``None`` (linear) or a callable."""
    if activation is None:
        return "linear", _linear
    if isinstance(activation, str):
        fn = ACTIVATIONS.get(activation)
        if fn is None:
            raise ValueError(
                f"{where}: unknown activation {activation!r}; valid names are "
                f"{', '.join(sorted(ACTIVATIONS))} (or pass a callable Value -> Value)"
            )
        return activation, fn
    if callable(activation):
        return getattr(activation, "__name__", type(activation).__name__), activation
    raise TypeError(
        f"{where}: activation must be a name ({', '.join(sorted(ACTIVATIONS))}), None or a callable, "
        f"got {type(activation).__name__} {activation!r}"
    )


def _as_values(xs: Sequence[Any], where: str) -> list[Value]:
    if isinstance(xs, Value) or not isinstance(xs, Sequence) or isinstance(xs, str):
        raise TypeError(f"{where}: expected a list of Values or numbers, got {type(xs).__name__}")
    if not xs:
        raise ValueError(f"{where}: needs at least one value, got an empty list")
    return [x if isinstance(x, Value) else Value(x) for x in xs]


def _shifted(xs: Sequence[Any], where: str) -> list[Value | None]:
    """xᵢ − max(x) per entry; None where that is below −1.8e308 (so e^(xᵢ − max) is 0 in float64).

    The shift is a constant, so it cancels out of every derivative; an entry left as
    None has softmax exactly 0 and no gradient, as in torch."""
    vs = _as_values(xs, where)
    m = max(v.data for v in vs)
    return [v - m if math.isfinite(v.data - m) else None for v in vs]


def _log_sum_exp(shifted: list[Value | None]) -> Value:
    """log Σ exp(sᵢ) over the shifted entries: the max entry is 0, so the sum is in [1, n]."""
    return vsum([s.exp() for s in shifted if s is not None]).log()


def log_softmax(xs: Sequence[Any]) -> list[Value]:
    """log(softmax(xs)) computed as x − max − log Σ exp(x − max), stable for every finite input.

    An entry more than 1.8e308 below the largest has a log-probability float64 cannot
    hold: that raises ``OpOverflowError`` naming the entry (torch returns −inf)."""
    shifted = _shifted(xs, "log_softmax")
    lse = _log_sum_exp(shifted)
    out = []
    for i, s in enumerate(shifted):
        if s is None:
            raise OpOverflowError(
                f"log_softmax: entry {i} lies more than 1.8e308 below the largest, so its log-probability "
                "is beyond float64; scale the logits down (softmax of these logits is fine)"
            )
        out.append(s - lse)
    return out


def softmax(xs: Sequence[Any]) -> list[Value]:
    """exp(xᵢ − max) / Σ exp(xⱼ − max) for a list of Values: probabilities summing to 1,
    no overflow for any finite input (an entry 1.8e308 below the largest is exactly 0)."""
    exps = [Value(0.0) if s is None else s.exp() for s in _shifted(xs, "softmax")]
    total = vsum(exps)
    return [e / total for e in exps]
