"""The registry's families: ops with a number parameter (``x ** n``, ``c ** x``,
``leaky_relu(slope)``), one op object per parameter, each row with every facet."""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import repeat
from typing import Any

from . import scalar as S
from .registry import ANY, Arg, Arrays, Entry, Op, Text, register
from .table import KINK0, POLE0, POSITIVE


def _pow_const_arrays(n: float) -> Any:
    def make(np: Any) -> Arrays:
        forward = np.square if n == 2.0 else (lambda x: np.power(x, n))
        if n in (0.0, 1.0):
            local: Any = lambda x, out: float(n)  # x**0 -> 0, x**1 -> 1
        elif n == 2.0:
            local = lambda x, out: 2.0 * x
        elif n < 1.0:
            local = lambda x, out: np.where(x == 0.0, math.inf, n * np.power(x, n - 1.0))
        else:
            local = lambda x, out: n * np.power(x, n - 1.0)
        return Arrays(
            forward,
            local,
            infinite_local=n < 1.0,
            libm_forward=n not in (0.0, 1.0),
            libm_local=n not in (0.0, 1.0, 2.0),
            scalar=lambda xl: map(pow, xl, repeat(n)),
        )

    return make


def _pow_const_domain(n: float) -> Arg:
    if n != int(n):
        return POSITIVE  # a fractional power: real only for x >= 0, its derivative infinite at 0
    return POLE0 if n < 0 else ANY


@lru_cache(maxsize=4096)
def pow_const(n: float) -> Op:
    """``x ** n`` for a number n: one op per exponent, named like micrograd's ``**2``."""
    rule = f"{n:g}·{{x}}" if n == 2 else f"{n:g}·{{x}}^{n - 1:g}"
    return Op(
        f"**{n:g}",
        1,
        lambda x: S.pow_f(x, n),
        S.pow_local(n),
        param=n,
        text=Text(f"{{x}}**{n:g}", (rule,)),
        domain=(_pow_const_domain(n),),
        arrays=_pow_const_arrays(n),
    )


@lru_cache(maxsize=4096)
def rpow_const(c: float) -> Op:
    """``c ** x`` for a number base c >= 0."""
    log_c = math.log(c) if c > 0.0 else 0.0
    return Op(
        f"{c:g}**",
        1,
        S.rpow_f(c),
        S.rpow_local(c),
        param=c,
        text=Text(f"{c:g}**{{x}}", (f"{{z}}·ln {c:g}",)),
        domain=(ANY,),
        arrays=lambda np: Arrays(
            lambda x: np.power(c, x),
            lambda x, out: 0.0 if c == 0.0 else out * log_c,
            libm_forward=True,
            scalar=lambda xl: map(pow, repeat(c), xl),
        ),
    )


@lru_cache(maxsize=4096)
def leaky_relu_op(slope: float) -> Op:
    """``leaky_relu`` with a given negative slope."""
    return Op(
        f"leaky_relu({slope:g})",
        1,
        lambda x: x if x > 0.0 else slope * x,
        lambda x, out: (1.0 if x > 0.0 else slope,),
        param=slope,
        text=Text(f"leaky_relu({{x}}, {slope:g})", (f"1 if {{x}} > 0 else {slope:g}",)),
        domain=(KINK0,),
        arrays=lambda np: Arrays(
            lambda x: np.where(x > 0.0, x, slope * x), lambda x, out: np.where(x > 0.0, 1.0, slope)
        ),
    )


# ---- the families' rows --------------------------------------------------------------------

register(
    Entry(
        "leaky_relu",
        make=leaky_relu_op,
        method="leaky_relu",
        cli="leaky_relu",
        activation=True,
        default=0.01,
        param_name="slope",
        samples=(0.01, 0.1),
        doc="x for x > 0, slope·x otherwise (torch's negative_slope).",
    )
)
register(Entry("**n", make=pow_const, samples=(2.0, 3.0, 0.5, -1.0, 1.5, -0.5, -2.0, 0.0, 1.0)))
register(Entry("c**x", make=rpow_const, samples=(2.0, 0.5)))
