"""The op table: every op's forward rule beside its local derivatives.

An ``Op`` holds ``forward(*floats) -> float`` (which raises a clear error
outside the op's domain) and ``local(*inputs, out) -> tuple`` giving
∂out/∂input for each input.  ``local`` is written once with ordinary
arithmetic, so it runs on floats (the fast path: evaluated at forward time
and stored on the node) and on ``Value``s (``grad(create_graph=True)``,
where derivatives are themselves differentiable).  N-ary ops (``dot``,
``sum``) take their inputs as one sequence: ``forward(xs)``, ``local(xs, out)``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache, reduce
from operator import add, mul, neg, sub
from typing import Any, NamedTuple

from .errors import DomainError, OpOverflowError, ZeroDivision

# The largest x with exp(x) finite in float64.
EXP_MAX = math.log(1.7976931348623157e308)


class Op(NamedTuple):
    """One row of the table: a name, the forward rule and the local derivatives."""

    name: str
    arity: int  # 1, 2, or 0 for n-ary (inputs passed as one tuple)
    forward: Callable[..., float]
    local: Callable[..., tuple]
    param: float | None = None  # the number a parameterized op was built with (x**n, c**x, leaky slope)


def _is_value(x: Any) -> bool:
    return not isinstance(x, (int, float))


# ---- elementary functions that work on floats and on Values -------------------
# The local-derivative rules call these so one rule serves both float and Value inputs.


def _log(x):
    return x.log() if _is_value(x) else math.log(x)


def _sin(x):
    return x.sin() if _is_value(x) else math.sin(x)


def _cos(x):
    return x.cos() if _is_value(x) else math.cos(x)


def _sigmoid(x):
    return x.sigmoid() if _is_value(x) else _sigmoid_f(x)


def _data(x) -> float:
    return x.data if _is_value(x) else x


# ---- forward rules on floats, with clear errors ---------------------------------


def _fmt(x: float) -> str:
    return repr(float(x))


def _div_f(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivision(f"div: {_fmt(x)} / 0.0 — the divisor is zero; division needs a non-zero divisor")
    return x / y


def _pow_f(x: float, n: float) -> float:
    if x == 0.0 and n < 0:
        raise ZeroDivision(
            f"pow: 0.0 ** {_fmt(n)} — zero to a negative power is infinite; use a non-zero base or an exponent >= 0"
        )
    if x < 0.0 and n != int(n):
        raise DomainError(
            f"pow: {_fmt(x)} ** {_fmt(n)} — a negative base needs an integer exponent (the result would be complex)"
        )
    try:
        z = x**n
    except OverflowError:
        raise OpOverflowError(
            f"pow: {_fmt(x)} ** {_fmt(n)} overflows float64; use a smaller base or exponent"
        ) from None
    return z


def _pow_value_f(x: float, y: float) -> float:
    if x < 0.0:
        raise DomainError(
            f"pow: base {_fmt(x)} ** a Value exponent ({_fmt(y)}) — a differentiable exponent needs a base >= 0 "
            "(d/dy x**y = x**y·log x); use a number exponent for a negative base"
        )
    return _pow_f(x, y)


def _exp_f(x: float) -> float:
    if x > EXP_MAX:
        raise OpOverflowError(f"exp: exp({_fmt(x)}) overflows float64; valid inputs are <= {EXP_MAX:.4f}")
    return math.exp(x)


def _log_f(x: float) -> float:
    if x <= 0.0:
        raise DomainError(f"log: log({_fmt(x)}) is undefined; log needs an input > 0")
    return math.log(x)


def _sqrt_f(x: float) -> float:
    if x < 0.0:
        raise DomainError(f"sqrt: sqrt({_fmt(x)}) is undefined for real numbers; sqrt needs an input >= 0")
    return math.sqrt(x)


def _sigmoid_f(x: float) -> float:
    # Stable for every finite x: exp() only ever sees a non-positive argument.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus_f(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact and overflow-free.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


# ---- local derivative rules (generic over float and Value) ----------------------


def _pow_local(n: float):
    def local(x, out):
        if n == 0:
            return (0.0,)
        if n == 1:
            return (1.0,)
        if _data(x) == 0.0 and n < 1:
            return (math.inf,)  # d/dx x**n at 0 for 0 < n < 1 is infinite, as in torch
        return (n * x ** (n - 1),)

    return local


def _pow_value_local(x, y, out):
    # d/dy x**y = x**y · log x; its limit at x = 0 (y > 0) is 0.
    dy = 0.0 if _data(x) == 0.0 else out * _log(x)
    if _data(x) == 0.0 and _data(y) < 1:
        dx = math.inf if _data(y) > 0 else 0.0
    else:
        dx = y * x ** (y - 1)
    return (dx, dy)


def _rpow_local(c: float):
    def local(x, out):
        return (0.0,) if c == 0.0 else (out * math.log(c),)

    return local


def _sqrt_local(x, out):
    return (math.inf,) if _data(out) == 0.0 else (0.5 / out,)


if sys.version_info < (3, 12):
    _sum = sum  # plain left-to-right float addition, at C speed
else:  # Python 3.12's sum() compensates rounding; a chain of + nodes does not

    def _sum(items, start: float) -> float:
        return reduce(add, items, start)


def dot_value(ws: Sequence[float], xs: Sequence[float], b: float) -> float:
    """b + w0·x0 + w1·x1 + ..., left to right: exactly the rounding of micrograd's
    ``sum((wi*xi for ...), b)`` chain, so fused and unfused neurons give the same numbers."""
    return _sum(map(mul, ws, xs), b)


def _dot_plain(xs: Sequence[float]) -> float:
    # The n-ary form: operands w0..wn-1, x0..xn-1 and an optional bias last.
    n = len(xs) // 2
    return dot_value(xs[:n], xs[n : 2 * n], xs[-1] if len(xs) % 2 else 0.0)


def _dot_local(xs: Sequence, out) -> tuple:
    # ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1: the operands themselves, swapped.
    n = len(xs) // 2
    if len(xs) % 2:
        return (*xs[n : 2 * n], *xs[:n], 1.0)
    return (*xs[n:], *xs[:n])


def _sum_f(xs: Sequence[float]) -> float:
    return _sum(xs, 0.0)  # left to right, like a chain of + nodes


def _sum_local(xs: Sequence, out) -> tuple:
    return (1.0,) * len(xs)


#: Marks an n-ary node (its operands are a tuple); see ``value.py``.
NARY = type("NaryMarker", (), {"__repr__": lambda self: "NARY", "__slots__": ()})()

ONES2 = (1.0, 1.0)
ADD = Op("+", 2, add, lambda x, y, out: ONES2)
SUB = Op("-", 2, sub, lambda x, y, out: (1.0, -1.0))
MUL = Op("*", 2, mul, lambda x, y, out: (y, x))
DIV = Op("/", 2, _div_f, lambda x, y, out: (1.0 / y, -out / y))
POW = Op("**", 2, _pow_value_f, _pow_value_local)
NEG = Op("neg", 1, neg, lambda x, out: (-1.0,))
# Kinked ops compare x with 0 directly: Value orders by .data, so one rule serves floats and Values.
ABS = Op("abs", 1, abs, lambda x, out: (1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0),))
EXP = Op("exp", 1, _exp_f, lambda x, out: (out,))
LOG = Op("log", 1, _log_f, lambda x, out: (1.0 / x,))
SQRT = Op("sqrt", 1, _sqrt_f, _sqrt_local)
TANH = Op("tanh", 1, math.tanh, lambda x, out: (1.0 - out * out,))
SIGMOID = Op("sigmoid", 1, _sigmoid_f, lambda x, out: (out * (1.0 - out),))
RELU = Op("relu", 1, lambda x: x if x > 0.0 else 0.0, lambda x, out: (1.0 if x > 0.0 else 0.0,))
SOFTPLUS = Op("softplus", 1, _softplus_f, lambda x, out: (_sigmoid(x),))
SIN = Op("sin", 1, math.sin, lambda x, out: (_cos(x),))
COS = Op("cos", 1, math.cos, lambda x, out: (-_sin(x),))
DOT = Op("dot", 0, _dot_plain, _dot_local)
SUM = Op("sum", 0, _sum_f, _sum_local)


@lru_cache(maxsize=4096)
def pow_const(n: float) -> Op:
    """``x ** n`` for a number n: one op per exponent, named like micrograd's ``**2``."""
    return Op(f"**{n:g}", 1, lambda x: _pow_f(x, n), _pow_local(n), n)


@lru_cache(maxsize=4096)
def rpow_const(c: float) -> Op:
    """``c ** x`` for a number base c >= 0."""

    def forward(x: float) -> float:
        if c < 0.0:
            raise DomainError(
                f"pow: {_fmt(c)} ** Value — a negative base needs a number exponent, not a Value; use a base >= 0"
            )
        return _pow_f(c, x)

    return Op(f"{c:g}**", 1, forward, _rpow_local(c), c)


@lru_cache(maxsize=4096)
def leaky_relu_op(slope: float) -> Op:
    """``leaky_relu`` with a given negative slope."""
    return Op(
        f"leaky_relu({slope:g})",
        1,
        lambda x: x if x > 0.0 else slope * x,
        lambda x, out: (1.0 if x > 0.0 else slope,),
        slope,
    )


#: Every op by name, for tests, strategies and documentation.
TABLE: dict[str, Op] = {
    op.name: op
    for op in (ADD, SUB, MUL, DIV, POW, NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID, RELU, SOFTPLUS, SIN, COS, DOT, SUM)
}
