"""Weight initializers: each returns ``nout`` rows of ``nin`` floats (torch's ``[out, in]`` layout).

Fan-in is ``nin`` and fan-out is ``nout``, as ``torch.nn.init`` computes them for a
``Linear`` weight.  Every scheme takes ``seed``: an int (a private
``random.Random(seed)``: same seed, same weights), a ``random.Random`` instance
(to draw several layers from one stream), or ``None``, which draws from Python's
global ``random`` module exactly as micrograd does (so ``random.seed(k)`` first
reproduces micrograd's weights).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from . import checks

__all__ = [
    "uniform",
    "normal",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "zeros",
    "calculate_gain",
    "INITS",
    "get_init",
    "rng_from",
]

Seed = int | random.Random | None
Weights = list[list[float]]


def rng_from(seed: Seed, where: str = "init") -> Any:
    """The random source for ``seed`` (``nn.checks.random_source``, kept under its old public name)."""
    return checks.random_source(where, seed)


def _check_shape(nout: int, nin: int, where: str) -> None:
    checks.integer(where, "nout", nout, low=1)
    checks.integer(where, "nin", nin, low=1)


def _draw(nout: int, nin: int, sample: Callable[[], float]) -> Weights:
    # Row by row, weight by weight: the order micrograd draws a layer's neurons in.
    return [[float(sample()) for _ in range(nin)] for _ in range(nout)]


def uniform(nout: int, nin: int, a: float = -1.0, b: float = 1.0, seed: Seed = None) -> Weights:
    """U(a, b) weights; the default U(−1, 1) is micrograd's (``random.uniform(-1, 1)``)."""
    _check_shape(nout, nin, "uniform")
    if not a < b:
        raise ValueError(f"uniform: needs a < b, got a={a!r}, b={b!r}")
    rng = checks.random_source("uniform", seed)
    return _draw(nout, nin, lambda: rng.uniform(a, b))


def normal(nout: int, nin: int, mean: float = 0.0, std: float = 1.0, seed: Seed = None) -> Weights:
    """N(mean, std²) weights."""
    _check_shape(nout, nin, "normal")
    if not std >= 0:
        raise ValueError(f"normal: std must be >= 0, got {std!r}")
    rng = checks.random_source("normal", seed)
    return _draw(nout, nin, lambda: rng.gauss(mean, std))


def xavier_uniform(nout: int, nin: int, gain: float = 1.0, seed: Seed = None) -> Weights:
    """U(−a, a) with a = gain·sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio; torch's default gain 1)."""
    _check_shape(nout, nin, "xavier_uniform")
    bound = gain * math.sqrt(6.0 / (nin + nout))
    rng = checks.random_source("xavier_uniform", seed)
    return _draw(nout, nin, lambda: rng.uniform(-bound, bound))


def xavier_normal(nout: int, nin: int, gain: float = 1.0, seed: Seed = None) -> Weights:
    """N(0, std²) with std = gain·sqrt(2 / (fan_in + fan_out))."""
    _check_shape(nout, nin, "xavier_normal")
    std = gain * math.sqrt(2.0 / (nin + nout))
    rng = checks.random_source("xavier_normal", seed)
    return _draw(nout, nin, lambda: rng.gauss(0.0, std))


def _fan(nout: int, nin: int, mode: str, where: str) -> int:
    if mode == "fan_in":
        return nin
    if mode == "fan_out":
        return nout
    raise ValueError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")


def he_uniform(nout: int, nin: int, gain: float = math.sqrt(2.0), mode: str = "fan_in", seed: Seed = None) -> Weights:
    """U(−a, a) with a = gain·sqrt(3 / fan) (Kaiming He; gain sqrt(2) is relu's, fan is fan_in by default)."""
    _check_shape(nout, nin, "he_uniform")
    bound = gain * math.sqrt(3.0 / _fan(nout, nin, mode, "he_uniform"))
    rng = checks.random_source("he_uniform", seed)
    return _draw(nout, nin, lambda: rng.uniform(-bound, bound))


def he_normal(nout: int, nin: int, gain: float = math.sqrt(2.0), mode: str = "fan_in", seed: Seed = None) -> Weights:
    """N(0, std²) with std = gain / sqrt(fan)."""
    _check_shape(nout, nin, "he_normal")
    std = gain / math.sqrt(_fan(nout, nin, mode, "he_normal"))
    rng = checks.random_source("he_normal", seed)
    return _draw(nout, nin, lambda: rng.gauss(0.0, std))


def zeros(nout: int, nin: int, seed: Seed = None) -> Weights:
    """All zeros: every neuron of a layer stays identical forever (the symmetry problem)."""
    _check_shape(nout, nin, "zeros")
    return [[0.0] * nin for _ in range(nout)]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """torch's recommended gain: 1 for linear/sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope²)) for leaky_relu (slope 0.01 by default)."""
    if nonlinearity in ("linear", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; valid: linear, sigmoid, tanh, relu, leaky_relu"
    )


#: Every initializer a ``Layer``/``MLP`` accepts by name.
INITS: dict[str, Callable[..., Weights]] = {
    "uniform": uniform,
    "normal": normal,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "zeros": zeros,
}


def get_init(init: str | Callable[..., Weights], where: str = "init") -> Callable[..., Weights]:
    """The initializer for a name from ``INITS`` or a callable ``f(nout, nin, seed=...)``."""
    if isinstance(init, str):
        fn = INITS.get(init)
        if fn is None:
            raise ValueError(
                f"{where}: unknown init {init!r}; valid names are {', '.join(INITS)} "
                "(or pass a callable f(nout, nin, seed=...) returning nout rows of nin floats)"
            )
        return fn
    if callable(init):
        return init
    raise TypeError(f"{where}: init must be a name ({', '.join(INITS)}) or a callable, got {type(init).__name__}")
