"""Activation functions by name (applied as ``Value`` methods) and a stable ``softmax``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autograd import Value, vsum

__all__ = ["ACTIVATIONS", "get_activation", "softmax", "log_softmax"]

Activation = Callable[[Value], Value]


def _linear(z: Value) -> Value:
    return z


#: Every activation a ``Neuron``/``Layer``/``MLP`` accepts by name.
ACTIVATIONS: dict[str, Activation] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,
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


def _as_values(xs: Sequence, where: str) -> list[Value]:
    if isinstance(xs, Value) or not isinstance(xs, Sequence) or isinstance(xs, str):
        raise TypeError(f"{where}: expected a list of Values or numbers, got {type(xs).__name__}")
    if not xs:
        raise ValueError(f"{where}: needs at least one value, got an empty list")
    return [x if isinstance(x, Value) else Value(x) for x in xs]


def log_softmax(xs: Sequence) -> list[Value]:
    """log(softmax(xs)) computed as x − max − log Σ exp(x − max): no overflow for any finite input."""
    vs = _as_values(xs, "log_softmax")
    m = max(v.data for v in vs)  # a constant shift: it cancels out of every derivative
    shifted = [v - m for v in vs]
    lse = vsum([s.exp() for s in shifted]).log()
    return [s - lse for s in shifted]


def softmax(xs: Sequence) -> list[Value]:
    """exp(xᵢ − max) / Σ exp(xⱼ − max) for a list of Values: probabilities summing to 1, stable."""
    vs = _as_values(xs, "softmax")
    m = max(v.data for v in vs)
    exps = [(v - m).exp() for v in vs]
    total = vsum(exps)
    return [e / total for e in exps]
