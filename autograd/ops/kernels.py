"""numpy helpers for the registry's array facets.  Each takes the numpy module as its first
argument: numpy is imported only when a facet is first built (``import autograd`` stays
standard-library only)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Array = Any  # numpy.ndarray; numpy is not imported here


def libm(np: Any, f: Callable[[float], float], x: Array) -> Array:
    """``f`` (a C-library function from ``math``) mapped over an array: the eager engine's bits."""
    x = np.asarray(x, dtype=np.float64)
    return np.fromiter(map(f, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


def sigmoid_np(np: Any, x: Array) -> Array:
    # Same stable formula as the eager op: exp only ever sees -|x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_exact(np: Any, x: Array) -> Array:
    # The eager formula with the C library's exp; the rest is IEEE arithmetic, exact in numpy too.
    e = libm(np, math.exp, -np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus_exact(np: Any, x: Array) -> Array:
    return np.maximum(x, 0.0) + libm(np, math.log1p, libm(np, math.exp, -np.abs(x)))


def pow_value_local(np: Any, x: Array, y: Array, out: Array) -> tuple[Array, Array]:
    at0 = x == 0.0
    dx = np.where(at0 & (y < 1.0), np.where(y > 0.0, math.inf, 0.0), y * np.power(x, y - 1.0))
    dy = np.where(at0, 0.0, out * np.log(np.where(at0, 1.0, x)))
    return dx, dy


def pick_local(np: Any, first: Array, tie: Array | None) -> tuple[Array, Array]:
    """(∂/∂x, ∂/∂y) of a binary max or min: 1 where ``first`` picks x, ½ where ``tie`` (None: a tie
    already counts in ``first``), else 0; y gets the rest."""
    dx = np.where(first, 1.0, 0.0) if tie is None else np.where(first, 1.0, np.where(tie, 0.5, 0.0))
    return dx, 1.0 - dx


def left_to_right(np: Any, terms: list[Array], start: Any) -> Array:
    """start + terms[0] + terms[1] + ..., one numpy add per term: the eager rounding."""
    total = np.zeros_like(np.asarray(terms[0] if terms else start, dtype=np.float64)) + start
    for t in terms:
        total = total + t
    return total
