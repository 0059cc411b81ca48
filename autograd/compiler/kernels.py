"""The numpy form of every elementwise eager op: forward, local derivatives and their conventions."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import ops as _ops

Floats = NDArray[np.float64]


def _libm(f: Callable[[float], float], x: Floats) -> Floats:
    """``f`` (a C-library function from ``math``) mapped over an array: the eager engine's bits."""
    return np.fromiter(map(f, x.tolist()), np.float64, x.size)


def _sigmoid_np(x: Floats) -> Floats:
    # Same stable formula as the eager op: exp only ever sees -|x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_exact(x: Floats) -> Floats:
    # The eager formula with the C library's exp; the rest is IEEE arithmetic, exact in numpy too.
    e = _libm(math.exp, -np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus_np(x: Floats) -> Floats:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _softplus_exact(x: Floats) -> Floats:
    return np.maximum(x, 0.0) + _libm(math.log1p, _libm(math.exp, -np.abs(x)))


class Kernel:
    """The numpy form of one eager op: forward, local derivatives and conventions.

    ``local(x, out)`` (unary) or ``local(x, y, out)`` (binary) returns one array
    (or number) per operand.  ``infinite_local`` marks ops whose derivative can
    be inf (sqrt at 0, x**0.5 at 0): eager backward skips nodes whose gradient
    is 0, so 0·inf must give 0 there, not nan.  ``invalid(x, y)`` flags inputs
    that numpy would compute finitely but the eager op rejects.

    numpy's SIMD ``tanh``, ``exp``, ``log`` and ``power`` differ from the C
    library's in the last bit for a few percent of inputs; ill-conditioned
    graphs (1 - tanh² near saturation) magnify that.  ``libm_forward`` /
    ``libm_local`` mark the ops whose exact mode maps the eager op's own
    float rule over the elements instead, so values are bit-for-bit eager's:
    ``scalar(*lists)`` (default: the eager op's forward) or the whole-array
    ``exact_forward`` / ``exact_local`` (numpy arithmetic around libm maps).
    """

    __slots__ = (
        "op",
        "arity",
        "forward",
        "local",
        "infinite_local",
        "invalid",
        "libm_forward",
        "libm_local",
        "scalar",
        "exact_forward",
        "exact_local",
    )

    def __init__(
        self,
        op: _ops.Op,
        forward: Callable[..., Floats],
        local: Callable[..., Any],
        *,
        infinite_local: bool = False,
        invalid: Callable[..., NDArray[np.bool_]] | None = None,
        libm_forward: bool = False,
        libm_local: bool = False,
        scalar: Callable[..., Iterator[float]] | None = None,
        exact_forward: Callable[..., Floats] | None = None,
        exact_local: Callable[..., Floats] | None = None,
    ) -> None:
        self.op = op
        self.arity = op.arity
        self.forward = forward
        self.local = local
        self.infinite_local = infinite_local
        self.invalid = invalid
        self.libm_forward = libm_forward
        self.libm_local = libm_local
        # scalar(*lists) -> iterator of floats: the eager op's float result on inputs already
        # known to be valid (so the eager checks can be skipped).
        self.scalar: Callable[..., Iterator[float]] = scalar if scalar is not None else partial(map, op.forward)
        self.exact_forward = exact_forward
        self.exact_local = exact_local


def _param(op: _ops.Op) -> float:
    """The number a parameterized op (``**n``, ``c**``, ``leaky_relu(s)``) was built with."""
    if op.param is None:
        raise TypeError(f"compile: op {op.name!r} carries no parameter; the op table changed")
    return float(op.param)


def _pow_const_local(n: float) -> Callable[[Floats, Floats], Floats | float]:
    """d/dx x**n with the eager conventions (0 and 1 exactly, inf at 0 for n < 1)."""
    if n == 0.0:
        return lambda x, out: 0.0
    if n == 1.0:
        return lambda x, out: 1.0
    if n == 2.0:
        return lambda x, out: 2.0 * x
    if n < 1.0:
        return lambda x, out: np.where(x == 0.0, math.inf, n * np.power(x, n - 1.0))
    return lambda x, out: n * np.power(x, n - 1.0)


def _pow_const_kernel(op: _ops.Op) -> Kernel:
    n = _param(op)
    forward: Callable[[Floats], Floats] = np.square if n == 2.0 else (lambda x: np.power(x, n))
    return Kernel(
        op,
        forward,
        _pow_const_local(n),
        infinite_local=n < 1.0,
        libm_forward=n not in (0.0, 1.0),
        libm_local=n not in (0.0, 1.0, 2.0),
        scalar=lambda xl: map(pow, xl, repeat(n)),
    )


def _rpow_const_kernel(op: _ops.Op) -> Kernel:
    c = _param(op)
    log_c = math.log(c) if c > 0.0 else 0.0
    return Kernel(
        op,
        lambda x: np.power(c, x),
        lambda x, out: 0.0 if c == 0.0 else out * log_c,
        libm_forward=True,
        scalar=lambda xl: map(pow, repeat(c), xl),
    )


def _leaky_kernel(op: _ops.Op) -> Kernel:
    s = _param(op)
    return Kernel(op, lambda x: np.where(x > 0.0, x, s * x), lambda x, out: np.where(x > 0.0, 1.0, s))


def _pow_local(x: Floats, y: Floats, out: Floats) -> tuple[Floats, Floats]:
    at0 = x == 0.0
    dx = np.where(at0 & (y < 1.0), np.where(y > 0.0, math.inf, 0.0), y * np.power(x, y - 1.0))
    dy = np.where(at0, 0.0, out * np.log(np.where(at0, 1.0, x)))
    return dx, dy


def _fixed_kernels() -> dict[_ops.Op, Kernel]:
    """The kernels of the table's fixed elementwise ops, keyed by the op itself."""
    kernels = (
        Kernel(_ops.ABS, np.abs, lambda x, out: np.sign(x)),
        Kernel(_ops.EXP, np.exp, lambda x, out: out, libm_forward=True, scalar=partial(map, math.exp)),
        Kernel(_ops.LOG, np.log, lambda x, out: 1.0 / x, libm_forward=True, scalar=partial(map, math.log)),
        Kernel(_ops.SQRT, np.sqrt, lambda x, out: 0.5 / out, infinite_local=True),
        Kernel(_ops.TANH, np.tanh, lambda x, out: 1.0 - out * out, libm_forward=True),
        Kernel(
            _ops.SIGMOID,
            _sigmoid_np,
            lambda x, out: out * (1.0 - out),
            libm_forward=True,
            exact_forward=_sigmoid_exact,
        ),
        Kernel(_ops.RELU, lambda x: np.where(x > 0.0, x, 0.0), lambda x, out: (x > 0.0).astype(np.float64)),
        Kernel(
            _ops.SOFTPLUS,
            _softplus_np,
            lambda x, out: _sigmoid_np(x),
            libm_forward=True,
            libm_local=True,
            exact_forward=_softplus_exact,
            exact_local=lambda x, out: _sigmoid_exact(x),
        ),
        Kernel(_ops.SIN, np.sin, lambda x, out: np.cos(x)),
        Kernel(_ops.COS, np.cos, lambda x, out: -np.sin(x)),
        Kernel(_ops.DIV, np.divide, lambda x, y, out: (1.0 / y, -out / y)),
        Kernel(
            _ops.POW,
            np.power,
            _pow_local,
            infinite_local=True,
            invalid=lambda x, y: x < 0.0,
            libm_forward=True,
            libm_local=True,
            scalar=partial(map, pow),
        ),
    )
    return {k.op: k for k in kernels}


_KERNELS: dict[_ops.Op, Kernel] = _fixed_kernels()


@lru_cache(maxsize=4096)  # as many as the op factories keep
def _parameterized_kernel(op: _ops.Op) -> Kernel | None:
    """The kernel of an op made by one of the table's op factories (``**n``, ``c**``, ``leaky_relu(s)``)."""
    name = op.name
    if name.startswith("**"):
        return _pow_const_kernel(op)
    if name.endswith("**"):
        return _rpow_const_kernel(op)
    if name.startswith("leaky_relu("):
        return _leaky_kernel(op)
    return None


def kernel_for(op: _ops.Op) -> Kernel:
    """The numpy kernel of an elementwise eager op (made once per op)."""
    k = _KERNELS.get(op) or _parameterized_kernel(op)
    if k is None:
        raise TypeError(
            f"compile: op {op.name!r} has no numpy kernel; compile supports the op table "
            f"({', '.join(sorted(_ops.TABLE))}, **n, c**, leaky_relu(s))"
        )
    return k
