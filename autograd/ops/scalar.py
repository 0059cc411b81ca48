"""Scalar helpers of the op table: forward rules on floats with clear errors, and elementary
functions that run on floats and on ``Value``s, so one local-derivative rule serves both."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from functools import reduce
from operator import add, mul
from typing import Any

from ..errors import DomainError, OpOverflowError, ZeroDivision

# The largest x with exp(x) finite in float64.
EXP_MAX = math.log(1.7976931348623157e308)
SQRT1_2 = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def is_value(x: Any) -> bool:
    """True for a ``Value`` (anything not a plain number)."""
    return not isinstance(x, (int, float))


# ---- elementary functions on floats and Values -----------------------------------


def log(x: Any) -> Any:
    return x.log() if is_value(x) else math.log(x)


def exp(x: Any) -> Any:
    return x.exp() if is_value(x) else math.exp(x)


def sin(x: Any) -> Any:
    return x.sin() if is_value(x) else math.sin(x)


def cos(x: Any) -> Any:
    return x.cos() if is_value(x) else math.cos(x)


def sigmoid(x: Any) -> Any:
    return x.sigmoid() if is_value(x) else sigmoid_f(x)


def normal_cdf(x: Any) -> Any:
    """Φ(x), the standard normal CDF: erfc on floats (no cancellation for x << 0), erf on Values."""
    if is_value(x):
        return 0.5 + 0.5 * (x * SQRT1_2).erf()
    return 0.5 * math.erfc(-x * SQRT1_2)


def data(x: Any) -> float:
    """The float behind ``x`` (a number or a Value)."""
    return x.data if is_value(x) else x  # type: ignore[no-any-return]


# ---- forward rules on floats, with clear errors ---------------------------------


def fmt(x: float) -> str:
    return repr(float(x))


def div_f(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivision(f"div: {fmt(x)} / 0.0 — the divisor is zero; division needs a non-zero divisor")
    return x / y


def pow_f(x: float, n: float) -> float:
    if x == 0.0 and n < 0:
        raise ZeroDivision(
            f"pow: 0.0 ** {fmt(n)} — zero to a negative power is infinite; use a non-zero base or an exponent >= 0"
        )
    if x < 0.0 and n != int(n):
        raise DomainError(
            f"pow: {fmt(x)} ** {fmt(n)} — a negative base needs an integer exponent (the result would be complex)"
        )
    try:
        z: float = x**n
    except OverflowError:
        raise OpOverflowError(f"pow: {fmt(x)} ** {fmt(n)} overflows float64; use a smaller base or exponent") from None
    return z


def pow_value_f(x: float, y: float) -> float:
    if x < 0.0:
        raise DomainError(
            f"pow: base {fmt(x)} ** a Value exponent ({fmt(y)}) — a differentiable exponent needs a base >= 0 "
            "(d/dy x**y = x**y·log x); use a number exponent for a negative base"
        )
    return pow_f(x, y)


def rpow_f(c: float) -> Callable[[float], float]:
    def forward(x: float) -> float:
        if c < 0.0:
            raise DomainError(
                f"pow: {fmt(c)} ** Value — a negative base needs a number exponent, not a Value; use a base >= 0"
            )
        return pow_f(c, x)

    return forward


def exp_f(x: float) -> float:
    if x > EXP_MAX:
        raise OpOverflowError(f"exp: exp({fmt(x)}) overflows float64; valid inputs are <= {EXP_MAX:.4f}")
    return math.exp(x)


def log_f(x: float) -> float:
    if x <= 0.0:
        raise DomainError(f"log: log({fmt(x)}) is undefined; log needs an input > 0")
    return math.log(x)


def log1p_f(x: float) -> float:
    if x <= -1.0:
        raise DomainError(f"log1p: log1p({fmt(x)}) is undefined; log1p needs an input > -1")
    return math.log1p(x)


def sqrt_f(x: float) -> float:
    if x < 0.0:
        raise DomainError(f"sqrt: sqrt({fmt(x)}) is undefined for real numbers; sqrt needs an input >= 0")
    return math.sqrt(x)


def sigmoid_f(x: float) -> float:
    # Stable for every finite x: exp() only ever sees a non-positive argument.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def softplus_f(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact and overflow-free.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def gelu_f(x: float) -> float:
    # x·Φ(x) with Φ through erfc: torch's exact gelu, without its cancellation at x << 0.
    return x * 0.5 * math.erfc(-x * SQRT1_2)


def silu_f(x: float) -> float:
    return x * sigmoid_f(x)


def mish_f(x: float) -> float:
    # x·tanh(softplus(x)): softplus is overflow-free, so mish is finite for every finite x.
    return x * math.tanh(softplus_f(x))


# ---- local derivative rules (generic over float and Value) ----------------------

# max and min compare their operands directly: Value orders by .data, so these rules serve floats
# and Values (for grad(create_graph=True); the derivatives are constants, so higher ones are 0).
HALVES = (0.5, 0.5)
FIRST = (1.0, 0.0)
SECOND = (0.0, 1.0)


def max_local(x: Any, y: Any, out: Any) -> tuple[float, float]:
    """torch.maximum's rule: the larger operand takes the gradient; a tie splits it ½/½."""
    return FIRST if x > y else SECOND if x < y else HALVES


def min_local(x: Any, y: Any, out: Any) -> tuple[float, float]:
    """torch.minimum's rule: the smaller operand takes the gradient; a tie splits it ½/½."""
    return FIRST if x < y else SECOND if x > y else HALVES


def max_first_local(x: Any, y: Any, out: Any) -> tuple[float, float]:
    """The first operand takes the gradient on a tie (max_pool2d's and torch.max(dim)'s rule)."""
    return FIRST if x >= y else SECOND


def min_first_local(x: Any, y: Any, out: Any) -> tuple[float, float]:
    """The first operand takes the gradient on a tie (torch.min(dim)'s rule)."""
    return FIRST if x <= y else SECOND


def pow_local(n: float) -> Callable[[Any, Any], tuple[Any, ...]]:
    def local(x: Any, out: Any) -> tuple[Any, ...]:
        if n == 0:
            return (0.0,)
        if n == 1:
            return (1.0,)
        if data(x) == 0.0 and n < 1:
            return (math.inf,)  # d/dx x**n at 0 for 0 < n < 1 is infinite (backward refuses to use it)
        return (n * x ** (n - 1),)

    return local


def pow_value_local(x: Any, y: Any, out: Any) -> tuple[Any, Any]:
    # d/dy x**y = x**y · log x; its limit at x = 0 (y > 0) is 0.
    dy = 0.0 if data(x) == 0.0 else out * log(x)
    if data(x) == 0.0 and data(y) < 1:
        dx = math.inf if data(y) > 0 else 0.0
    else:
        dx = y * x ** (y - 1)
    return (dx, dy)


def rpow_local(c: float) -> Callable[[Any, Any], tuple[Any, ...]]:
    log_c = math.log(c) if c > 0.0 else 0.0

    def local(x: Any, out: Any) -> tuple[Any, ...]:
        return (0.0,) if c == 0.0 else (out * log_c,)

    return local


def sqrt_local(x: Any, out: Any) -> tuple[Any, ...]:
    return (math.inf,) if data(out) == 0.0 else (0.5 / out,)


def gelu_local(x: Any, out: Any) -> tuple[Any, ...]:
    # d/dx x·Φ(x) = Φ(x) + x·φ(x)
    return (normal_cdf(x) + x * exp(-0.5 * x * x) * INV_SQRT_2PI,)


def silu_local(x: Any, out: Any) -> tuple[Any, ...]:
    s = sigmoid(x)
    return (s * (1.0 + x * (1.0 - s)),)


def mish_local(x: Any, out: Any) -> tuple[Any, ...]:
    # d/dx x·t with t = tanh(softplus(x)): t + x·(1 − t²)·sigmoid(x)
    t = x.softplus().tanh() if is_value(x) else math.tanh(softplus_f(x))
    return (t + x * (1.0 - t * t) * sigmoid(x),)


# ---- n-ary rules ------------------------------------------------------------------

if sys.version_info < (3, 12):
    fsum_lr: Callable[..., float] = sum  # plain left-to-right float addition, at C speed
else:  # Python 3.12's sum() compensates rounding; a chain of + nodes does not

    def fsum_lr(items: Any, start: float) -> float:
        return reduce(add, items, start)


def dot_value(ws: Sequence[float], xs: Sequence[float], b: float) -> float:
    """b + w0·x0 + w1·x1 + ..., left to right: exactly the rounding of micrograd's
    ``sum((wi*xi for ...), b)`` chain, so fused and unfused neurons give the same numbers."""
    return fsum_lr(map(mul, ws, xs), b)


def dot_f(xs: Sequence[float]) -> float:
    # The n-ary form: operands w0..wn-1, x0..xn-1 and an optional bias last.
    n = len(xs) // 2
    return dot_value(xs[:n], xs[n : 2 * n], xs[-1] if len(xs) % 2 else 0.0)


def dot_local(xs: Sequence[Any], out: Any) -> tuple[Any, ...]:
    # ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1: the operands themselves, swapped.
    n = len(xs) // 2
    if len(xs) % 2:
        return (*xs[n : 2 * n], *xs[:n], 1.0)
    return (*xs[n:], *xs[:n])


def sum_f(xs: Sequence[float]) -> float:
    return fsum_lr(xs, 0.0)  # left to right, like a chain of + nodes


def sum_local(xs: Sequence[Any], out: Any) -> tuple[Any, ...]:
    return (1.0,) * len(xs)
