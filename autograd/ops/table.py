"""The rows of the op registry: each op's every facet in one place.

Each row gives the forward rule, the local derivatives, the numpy kernels (``arrays``), the
formula and derivative texts, the domain, the ``Value`` method, the command-line name and
whether ``nn`` may use it as an activation.  ``x.gelu()``, ``explain``, ``compile``, the CLI,
the hypothesis strategies and ``MLP(..., activation="gelu")`` all read these rows.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial
from itertools import repeat
from operator import add, mul, neg, sub
from typing import Any

from . import kernels as K
from . import scalar as S
from .registry import ANY, Arg, Arrays, Entry, Op, Text, register

KINK0 = Arg(kinks=(0.0,))
POLE0 = Arg(poles=(0.0,))
POSITIVE = Arg(positive=True)
ONES2 = (1.0, 1.0)


def _dot_formula(names: Any) -> str:
    n = len(names) // 2
    terms = [f"{names[i]}·{names[i + n]}" for i in range(n)] + ([names[-1]] if len(names) % 2 else [])
    return " + ".join(terms) if terms else "0"


def _dot_derivative(pos: int, names: Any, z: str) -> str:
    n = len(names) // 2
    if pos >= 2 * n:
        return "1"
    return str(names[pos + n] if pos < n else names[pos - n])


def _dot_arrays(np: Any) -> Arrays:
    def forward(*xs: Any) -> Any:
        n = len(xs) // 2
        return K.left_to_right(np, [w * x for w, x in zip(xs[:n], xs[n : 2 * n])], xs[-1] if len(xs) % 2 else 0.0)

    return Arrays(forward, lambda *xs: S.dot_local(xs[:-1], xs[-1]))


# ---- arithmetic ---------------------------------------------------------------------

ADD = Op(
    "+",
    2,
    add,
    lambda x, y, out: ONES2,
    text=Text("{x} + {y}", ("1", "1")),
    domain=(ANY, ANY),
    arrays=lambda np: Arrays(np.add, lambda x, y, out: (1.0, 1.0)),
)
SUB = Op(
    "-",
    2,
    sub,
    lambda x, y, out: (1.0, -1.0),
    text=Text("{x} − {y}", ("1", "−1")),
    domain=(ANY, ANY),
    arrays=lambda np: Arrays(np.subtract, lambda x, y, out: (1.0, -1.0)),
)
MUL = Op(
    "*",
    2,
    mul,
    lambda x, y, out: (y, x),
    text=Text("{x} · {y}", ("{y}", "{x}")),
    domain=(ANY, ANY),
    arrays=lambda np: Arrays(np.multiply, lambda x, y, out: (y, x)),
)
DIV = Op(
    "/",
    2,
    S.div_f,
    lambda x, y, out: (1.0 / y, -out / y),
    text=Text("{x} / {y}", ("1/{y}", "−{z}/{y} = −{x}/{y}²")),
    domain=(ANY, POLE0),
    arrays=lambda np: Arrays(np.divide, lambda x, y, out: (1.0 / y, -out / y)),
)
POW = Op(
    "**",
    2,
    S.pow_value_f,
    S.pow_value_local,
    text=Text("{x} ** {y}", ("{y}·{x}^({y}−1)", "{z}·ln {x}")),
    domain=(POSITIVE, ANY),
    arrays=lambda np: Arrays(
        np.power,
        partial(K.pow_value_local, np),
        infinite_local=True,
        invalid=lambda x, y: x < 0.0,
        libm_forward=True,
        libm_local=True,
        scalar=partial(map, pow),
    ),
)
NEG = Op(
    "neg",
    1,
    neg,
    lambda x, out: (-1.0,),
    text=Text("−{x}", ("−1",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(np.negative, lambda x, out: -1.0),
)
DOT = Op(
    "dot",
    0,
    S.dot_f,
    S.dot_local,
    text=Text(_dot_formula, _dot_derivative),
    domain=(ANY,),
    arrays=_dot_arrays,
)
SUM = Op(
    "sum",
    0,
    S.sum_f,
    S.sum_local,
    text=Text(lambda names: " + ".join(names) if names else "0", lambda pos, names, z: "1"),
    domain=(ANY,),
    arrays=lambda np: Arrays(lambda *xs: K.left_to_right(np, list(xs), 0.0), lambda *xs: (1.0,) * (len(xs) - 1)),
)

# ---- functions ------------------------------------------------------------------------
# Kinked ops compare x with 0 directly: Value orders by .data, so one rule serves floats and Values.

ABS = Op(
    "abs",
    1,
    abs,
    lambda x, out: (1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0),),
    text=Text("|{x}|", ("sign({x})",)),
    domain=(KINK0,),
    arrays=lambda np: Arrays(np.abs, lambda x, out: np.sign(x)),
)
EXP = Op(
    "exp",
    1,
    S.exp_f,
    lambda x, out: (out,),
    text=Text("exp({x})", ("e^{x} = {z}",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(np.exp, lambda x, out: out, libm_forward=True, scalar=partial(map, math.exp)),
)
LOG = Op(
    "log",
    1,
    S.log_f,
    lambda x, out: (1.0 / x,),
    text=Text("log({x})", ("1/{x}",)),
    domain=(POSITIVE,),
    arrays=lambda np: Arrays(np.log, lambda x, out: 1.0 / x, libm_forward=True, scalar=partial(map, math.log)),
)
SQRT = Op(
    "sqrt",
    1,
    S.sqrt_f,
    S.sqrt_local,
    text=Text("√{x}", ("1/(2·√{x}) = 1/(2·{z})",)),
    domain=(POSITIVE,),
    arrays=lambda np: Arrays(np.sqrt, lambda x, out: 0.5 / out, infinite_local=True),
)
TANH = Op(
    "tanh",
    1,
    math.tanh,
    lambda x, out: (1.0 - out * out,),
    text=Text("tanh({x})", ("1 − {z}²",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(np.tanh, lambda x, out: 1.0 - out * out, libm_forward=True),
)
SIGMOID = Op(
    "sigmoid",
    1,
    S.sigmoid_f,
    lambda x, out: (out * (1.0 - out),),
    text=Text("sigmoid({x})", ("{z}·(1 − {z})",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(
        partial(K.sigmoid_np, np),
        lambda x, out: out * (1.0 - out),
        libm_forward=True,
        exact_forward=partial(K.sigmoid_exact, np),
    ),
)
RELU = Op(
    "relu",
    1,
    lambda x: x if x > 0.0 else 0.0,
    lambda x, out: (1.0 if x > 0.0 else 0.0,),
    text=Text("relu({x})", ("1 if {x} > 0 else 0",)),
    domain=(KINK0,),
    arrays=lambda np: Arrays(lambda x: np.where(x > 0.0, x, 0.0), lambda x, out: (x > 0.0).astype(np.float64)),
)
SOFTPLUS = Op(
    "softplus",
    1,
    S.softplus_f,
    lambda x, out: (S.sigmoid(x),),
    text=Text("softplus({x})", ("sigmoid({x})",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(
        lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
        lambda x, out: K.sigmoid_np(np, x),
        libm_forward=True,
        libm_local=True,
        exact_forward=partial(K.softplus_exact, np),
        exact_local=lambda x, out: K.sigmoid_exact(np, x),
    ),
)
SIN = Op(
    "sin",
    1,
    math.sin,
    lambda x, out: (S.cos(x),),
    text=Text("sin({x})", ("cos {x}",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(np.sin, lambda x, out: np.cos(x)),
)
COS = Op(
    "cos",
    1,
    math.cos,
    lambda x, out: (-S.sin(x),),
    text=Text("cos({x})", ("−sin {x}",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(np.cos, lambda x, out: -np.sin(x)),
)
ERF = Op(
    "erf",
    1,
    math.erf,
    lambda x, out: (S.TWO_OVER_SQRT_PI * S.exp(-(x * x)),),
    text=Text("erf({x})", ("(2/√π)·e^(−{x}²)",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(
        lambda x: K.libm(np, math.erf, x),
        lambda x, out: S.TWO_OVER_SQRT_PI * np.exp(-(x * x)),
        libm_local=True,
        exact_local=lambda x, out: S.TWO_OVER_SQRT_PI * K.libm(np, math.exp, -(x * x)),
    ),
)
GELU = Op(
    "gelu",
    1,
    S.gelu_f,
    S.gelu_local,
    text=Text("{x}·Φ({x})", ("Φ({x}) + {x}·φ({x})",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(
        lambda x: x * 0.5 * K.libm(np, math.erfc, -x * S.SQRT1_2),
        lambda x, out: 0.5 * K.libm(np, math.erfc, -x * S.SQRT1_2) + x * np.exp(-0.5 * x * x) * S.INV_SQRT_2PI,
        libm_local=True,
        exact_local=lambda x, out: (
            0.5 * K.libm(np, math.erfc, -x * S.SQRT1_2) + x * K.libm(np, math.exp, -0.5 * x * x) * S.INV_SQRT_2PI
        ),
    ),
)
SILU = Op(
    "silu",
    1,
    S.silu_f,
    S.silu_local,
    text=Text("{x}·sigmoid({x})", ("s·(1 + {x}·(1 − s)), s = sigmoid({x})",)),
    domain=(ANY,),
    arrays=lambda np: Arrays(
        lambda x: x * K.sigmoid_np(np, x),
        lambda x, out: (lambda s: s * (1.0 + x * (1.0 - s)))(K.sigmoid_np(np, x)),
        libm_forward=True,
        libm_local=True,
        exact_forward=lambda x: x * K.sigmoid_exact(np, x),
        exact_local=lambda x, out: (lambda s: s * (1.0 + x * (1.0 - s)))(K.sigmoid_exact(np, x)),
    ),
)


# ---- families with a number parameter -------------------------------------------------


def _pow_const_arrays(n: float) -> Any:
    def make(np: Any) -> Arrays:
        forward = np.square if n == 2.0 else (lambda x: np.power(x, n))
        if n in (0.0, 1.0):
            local: Any = lambda x, out: 1.0 - n
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


# ---- the registry ------------------------------------------------------------------------

for _op, _method in ((ADD, "__add__"), (SUB, "__sub__"), (MUL, "__mul__"), (DIV, "__truediv__"), (POW, "__pow__")):
    register(Entry(_op.name, op=_op, method=_method))
register(Entry("neg", op=NEG, method="__neg__"))
register(Entry("abs", op=ABS, method="__abs__", cli="abs"))
register(Entry("exp", op=EXP, method="exp", cli="exp", doc="e ** self; raises OverflowError above ~709.78."))
register(Entry("log", op=LOG, method="log", cli="log", doc="Natural logarithm; defined for data > 0."))
register(Entry("sqrt", op=SQRT, method="sqrt", cli="sqrt", doc="Square root; defined for data >= 0."))
register(Entry("tanh", op=TANH, method="tanh", cli="tanh", activation=True, doc="Hyperbolic tangent."))
register(Entry("sigmoid", op=SIGMOID, method="sigmoid", cli="sigmoid", activation=True, doc="1 / (1 + e^-x), stable."))
register(Entry("relu", op=RELU, method="relu", cli="relu", activation=True, doc="max(x, 0); its derivative at 0 is 0."))
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
register(
    Entry("softplus", op=SOFTPLUS, method="softplus", cli="softplus", activation=True, doc="log(1 + e^x), stable.")
)
register(Entry("sin", op=SIN, method="sin", cli="sin", doc="Sine."))
register(Entry("cos", op=COS, method="cos", cli="cos", doc="Cosine."))
register(Entry("erf", op=ERF, method="erf", cli="erf", doc="The error function 2/√π ∫₀ˣ e^(−t²) dt."))
register(
    Entry(
        "gelu", op=GELU, method="gelu", cli="gelu", activation=True, doc="x·Φ(x), exact (erf-based, torch's default)."
    )
)
register(Entry("silu", op=SILU, method="silu", cli="silu", activation=True, doc="x·sigmoid(x) (also called swish)."))
register(Entry("**n", make=pow_const, samples=(2.0, 3.0, 0.5, -1.0, 1.5, -0.5, -2.0)))
register(Entry("c**x", make=rpow_const, samples=(2.0, 0.5)))
register(Entry("dot", op=DOT))
register(Entry("sum", op=SUM))
