"""The rows of the op registry: each op's every facet in one place.

Each row gives the forward rule, the local derivatives, the numpy kernels (``arrays``), the
formula and derivative texts, the domain, the ``Value`` method, the command-line name and
whether ``nn`` may use it as an activation.  ``x.gelu()``, ``explain``, ``compile``, the CLI,
the hypothesis strategies and ``MLP(..., activation="gelu")`` all read these rows.
"""

from __future__ import annotations

import math
from functools import partial
from operator import add, mul, neg, sub
from typing import Any

from . import kernels as K
from . import scalar as S
from .registry import ANY, Arg, Arrays, Entry, Op, Text, register

KINK0 = Arg(kinks=(0.0,))
POLE0 = Arg(poles=(0.0,))
POSITIVE = Arg(low=0.0)
ABOVE_MINUS1 = Arg(low=-1.0)
ONES2 = (1.0, 1.0)


def _row(op: Op, **facets: Any) -> Op:
    """Register a fixed op as a row of the registry (with its method, CLI name, ...); returns it."""
    register(Entry(op.name, op=op, **facets))
    return op


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

ADD = _row(
    Op(
        "+",
        2,
        add,
        lambda x, y, out: ONES2,
        text=Text("{x} + {y}", ("1", "1")),
        domain=(ANY, ANY),
        arrays=lambda np: Arrays(np.add, lambda x, y, out: (1.0, 1.0)),
    ),
    method="__add__",
)
SUB = _row(
    Op(
        "-",
        2,
        sub,
        lambda x, y, out: (1.0, -1.0),
        text=Text("{x} − {y}", ("1", "−1")),
        domain=(ANY, ANY),
        arrays=lambda np: Arrays(np.subtract, lambda x, y, out: (1.0, -1.0)),
    ),
    method="__sub__",
)
MUL = _row(
    Op(
        "*",
        2,
        mul,
        lambda x, y, out: (y, x),
        text=Text("{x} · {y}", ("{y}", "{x}")),
        domain=(ANY, ANY),
        arrays=lambda np: Arrays(np.multiply, lambda x, y, out: (y, x)),
    ),
    method="__mul__",
)
DIV = _row(
    Op(
        "/",
        2,
        S.div_f,
        lambda x, y, out: (1.0 / y, -out / y),
        text=Text("{x} / {y}", ("1/{y}", "−{z}/{y} = −{x}/{y}²")),
        domain=(ANY, POLE0),
        arrays=lambda np: Arrays(np.divide, lambda x, y, out: (1.0 / y, -out / y)),
    ),
    method="__truediv__",
)
POW = _row(
    Op(
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
    ),
    method="__pow__",
)
NEG = _row(
    Op(
        "neg",
        1,
        neg,
        lambda x, out: (-1.0,),
        text=Text("−{x}", ("−1",)),
        domain=(ANY,),
        arrays=lambda np: Arrays(np.negative, lambda x, out: -1.0),
    ),
    method="__neg__",
)
DOT = _row(
    Op(
        "dot",
        0,
        S.dot_f,
        S.dot_local,
        text=Text(_dot_formula, _dot_derivative),
        domain=(ANY,),
        arrays=_dot_arrays,
    ),
)
SUM = _row(
    Op(
        "sum",
        0,
        S.sum_f,
        S.sum_local,
        text=Text(lambda names: " + ".join(names) if names else "0", lambda pos, names, z: "1"),
        domain=(ANY,),
        arrays=lambda np: Arrays(lambda *xs: K.left_to_right(np, list(xs), 0.0), lambda *xs: (1.0,) * (len(xs) - 1)),
    ),
)

# ---- functions ------------------------------------------------------------------------
# Kinked ops compare x with 0 directly: Value orders by .data, so one rule serves floats and Values.

ABS = _row(
    Op(
        "abs",
        1,
        abs,
        lambda x, out: (1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0),),
        text=Text("|{x}|", ("sign({x})",)),
        domain=(KINK0,),
        arrays=lambda np: Arrays(np.abs, lambda x, out: np.sign(x)),
    ),
    method="__abs__",
    cli="abs",
)
EXP = _row(
    Op(
        "exp",
        1,
        S.exp_f,
        lambda x, out: (out,),
        text=Text("exp({x})", ("e^{x} = {z}",)),
        domain=(ANY,),
        arrays=lambda np: Arrays(np.exp, lambda x, out: out, libm_forward=True, scalar=partial(map, math.exp)),
    ),
    method="exp",
    cli="exp",
    doc="e ** self; raises OverflowError above ~709.78.",
)
LOG = _row(
    Op(
        "log",
        1,
        S.log_f,
        lambda x, out: (1.0 / x,),
        text=Text("log({x})", ("1/{x}",)),
        domain=(POSITIVE,),
        arrays=lambda np: Arrays(np.log, lambda x, out: 1.0 / x, libm_forward=True, scalar=partial(map, math.log)),
    ),
    method="log",
    cli="log",
    doc="Natural logarithm; defined for data > 0.",
)
LOG1P = _row(
    Op(
        "log1p",
        1,
        S.log1p_f,
        lambda x, out: (1.0 / (1.0 + x),),
        text=Text("log1p({x})", ("1/(1 + {x})",)),
        domain=(ABOVE_MINUS1,),
        arrays=lambda np: Arrays(
            np.log1p, lambda x, out: 1.0 / (1.0 + x), libm_forward=True, scalar=partial(map, math.log1p)
        ),
    ),
    method="log1p",
    cli="log1p",
    doc="log(1 + x), exact for tiny x; defined for data > -1.",
)
SQRT = _row(
    Op(
        "sqrt",
        1,
        S.sqrt_f,
        S.sqrt_local,
        text=Text("√{x}", ("1/(2·√{x}) = 1/(2·{z})",)),
        domain=(POSITIVE,),
        arrays=lambda np: Arrays(np.sqrt, lambda x, out: 0.5 / out, infinite_local=True),
    ),
    method="sqrt",
    cli="sqrt",
    doc="Square root; defined for data >= 0.",
)
TANH = _row(
    Op(
        "tanh",
        1,
        math.tanh,
        lambda x, out: (1.0 - out * out,),
        text=Text("tanh({x})", ("1 − {z}²",)),
        domain=(ANY,),
        arrays=lambda np: Arrays(np.tanh, lambda x, out: 1.0 - out * out, libm_forward=True),
    ),
    method="tanh",
    cli="tanh",
    activation=True,
    doc="Hyperbolic tangent.",
)
SIGMOID = _row(
    Op(
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
    ),
    method="sigmoid",
    cli="sigmoid",
    activation=True,
    doc="1 / (1 + e^-x), stable for every finite x.",
)
RELU = _row(
    Op(
        "relu",
        1,
        lambda x: x if x > 0.0 else 0.0,
        lambda x, out: (1.0 if x > 0.0 else 0.0,),
        text=Text("relu({x})", ("1 if {x} > 0 else 0",)),
        domain=(KINK0,),
        arrays=lambda np: Arrays(lambda x: np.where(x > 0.0, x, 0.0), lambda x, out: (x > 0.0).astype(np.float64)),
    ),
    method="relu",
    cli="relu",
    activation=True,
    doc="max(x, 0); its derivative at 0 is 0.",
)
SOFTPLUS = _row(
    Op(
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
    ),
    method="softplus",
    cli="softplus",
    activation=True,
    doc="log(1 + e^x), stable for every finite x.",
)
SIN = _row(
    Op(
        "sin",
        1,
        math.sin,
        lambda x, out: (S.cos(x),),
        text=Text("sin({x})", ("cos {x}",)),
        domain=(ANY,),
        arrays=lambda np: Arrays(np.sin, lambda x, out: np.cos(x)),
    ),
    method="sin",
    cli="sin",
    doc="Sine.",
)
COS = _row(
    Op(
        "cos",
        1,
        math.cos,
        lambda x, out: (-S.sin(x),),
        text=Text("cos({x})", ("−sin {x}",)),
        domain=(ANY,),
        arrays=lambda np: Arrays(np.cos, lambda x, out: -np.sin(x)),
    ),
    method="cos",
    cli="cos",
    doc="Cosine.",
)
ERF = _row(
    Op(
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
    ),
    method="erf",
    cli="erf",
    doc="The error function 2/√π ∫₀ˣ e^(−t²) dt.",
)
GELU = _row(
    Op(
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
    ),
    method="gelu",
    cli="gelu",
    activation=True,
    doc="x·Φ(x), exact (erf-based, torch's default).",
)
SILU = _row(
    Op(
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
    ),
    method="silu",
    cli="silu",
    activation=True,
    doc="x·sigmoid(x) (also called swish).",
)
MISH = _row(
    Op(
        "mish",
        1,
        S.mish_f,
        S.mish_local,
        text=Text("{x}·tanh(softplus({x}))", ("t + {x}·(1 − t²)·sigmoid({x}), t = tanh(softplus({x}))",)),
        domain=(ANY,),
        arrays=lambda np: Arrays(
            lambda x: x * np.tanh(np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))),
            lambda x, out: (lambda t: t + x * (1.0 - t * t) * K.sigmoid_np(np, x))(
                np.tanh(np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))
            ),
            libm_forward=True,
            libm_local=True,
            exact_forward=lambda x: x * K.libm(np, math.tanh, K.softplus_exact(np, x)),
            exact_local=lambda x, out: (lambda t: t + x * (1.0 - t * t) * K.sigmoid_exact(np, x))(
                K.libm(np, math.tanh, K.softplus_exact(np, x))
            ),
        ),
    ),
    method="mish",
    cli="mish",
    activation=True,
    doc="x·tanh(softplus(x)), smooth and finite for every finite x.",
)
