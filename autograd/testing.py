"""Hypothesis strategies for property-testing derivatives (ours, and users' own functions).

``expressions()`` draws random expressions over the whole op table;
``expression_points(expr)`` draws input points where the expression is smooth:
every kink (relu, abs, leaky_relu at 0) and every singularity (a divisor near
0) is at least ``margin`` away, and no intermediate value is huge.  Domain-
limited ops get operands that are positive by construction (``u*u + 0.25``),
so log, sqrt, fractional powers and ``x ** y`` are exercised, not filtered out.

    from hypothesis import given
    from autograd import gradcheck
    from autograd.testing import expressions_with_points

    @given(expressions_with_points())
    def test_backprop(case):
        expr, xs = case
        assert gradcheck(expr, xs)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import assume
from hypothesis import strategies as st

from .mode import no_grad
from .value import Value, dot, vsum

__all__ = ["Expression", "expressions", "expression_points", "expressions_with_points", "smooth_floats"]

#: Unary ops whose operand may be any real number.
UNARY_ANY = (
    "neg",
    "abs",
    "exp",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "softplus",
    "sin",
    "cos",
    "**2",
    "**3",
    "2**",
    "0.5**",
)
#: Unary ops that need a positive operand (given one by construction).
UNARY_POSITIVE = ("log", "sqrt", "**0.5", "**-1", "**1.5", "**-0.5")
BINARY = ("+", "-", "*", "/", "**")
NARY = ("dot", "sum")

#: Ops with a kink at 0 in their operand: the point must keep away from it.
_KINKED = {"abs", "relu", "leaky_relu"}


@dataclass(frozen=True)
class Expression:
    """A random expression tree: ``expr(*values)`` evaluates it on Values (or floats)."""

    tree: tuple
    n_inputs: int

    def __call__(self, *xs):
        if len(xs) != self.n_inputs:
            raise TypeError(f"Expression takes {self.n_inputs} inputs, got {len(xs)}")
        values = [x if isinstance(x, Value) else Value(x) for x in xs]
        return _evaluate(self.tree, values, None)

    def smooth_at(self, xs: Sequence[float], margin: float = 1e-2, bound: float = 1e4) -> bool:
        """True when the expression is finite and away from kinks and singularities at ``xs``."""
        guard = _Guard(margin, bound)
        try:
            with no_grad():
                _evaluate(self.tree, [Value(x) for x in xs], guard)
        except (ArithmeticError, ValueError):
            return False
        return guard.ok

    def __repr__(self) -> str:
        return f"Expression({_source(self.tree)})"

    @property
    def source(self) -> str:
        """The expression as readable Python-like text, e.g. ``tanh((x0 * x1))``."""
        return _source(self.tree)


class _Guard:
    def __init__(self, margin: float, bound: float):
        self.margin = margin
        self.bound = bound
        self.ok = True

    def check(self, tag: str, operands: list, out: Value) -> None:
        if abs(out.data) > self.bound:
            self.ok = False
        if tag in _KINKED and abs(operands[0].data) < self.margin:
            self.ok = False
        if tag == "/" and abs(operands[1].data) < self.margin:
            self.ok = False


def _positive(u):
    return u * u + 0.25


def _evaluate(tree: tuple, xs: list, guard: _Guard | None):
    kind = tree[0]
    if kind == "x":
        return xs[tree[1]]
    if kind == "c":
        return Value(tree[1])
    args = [_evaluate(t, xs, guard) for t in tree[1:]]
    out = _APPLY[kind](args)
    if guard is not None:
        guard.check(kind, args, out)
    return out


_APPLY = {
    "neg": lambda a: -a[0],
    "abs": lambda a: abs(a[0]),
    "exp": lambda a: a[0].exp(),
    "tanh": lambda a: a[0].tanh(),
    "sigmoid": lambda a: a[0].sigmoid(),
    "relu": lambda a: a[0].relu(),
    "leaky_relu": lambda a: a[0].leaky_relu(0.1),
    "softplus": lambda a: a[0].softplus(),
    "sin": lambda a: a[0].sin(),
    "cos": lambda a: a[0].cos(),
    "**2": lambda a: a[0] ** 2,
    "**3": lambda a: a[0] ** 3,
    "2**": lambda a: 2 ** a[0],
    "0.5**": lambda a: 0.5 ** a[0],
    "log": lambda a: _positive(a[0]).log(),
    "sqrt": lambda a: _positive(a[0]).sqrt(),
    "**0.5": lambda a: _positive(a[0]) ** 0.5,
    "**-1": lambda a: _positive(a[0]) ** -1,
    "**1.5": lambda a: _positive(a[0]) ** 1.5,
    "**-0.5": lambda a: _positive(a[0]) ** -0.5,
    "+": lambda a: a[0] + a[1],
    "-": lambda a: a[0] - a[1],
    "*": lambda a: a[0] * a[1],
    "/": lambda a: a[0] / a[1],
    "**": lambda a: _positive(a[0]) ** a[1].tanh(),
    "dot": lambda a: dot(a[: len(a) // 2], a[len(a) // 2 : 2 * (len(a) // 2)], a[-1] if len(a) % 2 else None),
    "sum": lambda a: vsum(a),
}

_SOURCE = {
    "log": "log({0}**2 + 0.25)",
    "sqrt": "sqrt({0}**2 + 0.25)",
    "**0.5": "({0}**2 + 0.25)**0.5",
    "**-1": "({0}**2 + 0.25)**-1",
    "**1.5": "({0}**2 + 0.25)**1.5",
    "**-0.5": "({0}**2 + 0.25)**-0.5",
    "**2": "({0})**2",
    "**3": "({0})**3",
    "2**": "2**({0})",
    "0.5**": "0.5**({0})",
    "neg": "-({0})",
    "abs": "abs({0})",
    "leaky_relu": "leaky_relu({0}, 0.1)",
    "+": "({0} + {1})",
    "-": "({0} - {1})",
    "*": "({0} * {1})",
    "/": "({0} / {1})",
    "**": "({0}**2 + 0.25)**tanh({1})",
}


def _source(tree: tuple) -> str:
    kind = tree[0]
    if kind == "x":
        return f"x{tree[1]}"
    if kind == "c":
        return repr(tree[1])
    parts = [_source(t) for t in tree[1:]]
    if kind in _SOURCE:
        return _SOURCE[kind].format(*parts)
    return f"{kind}({', '.join(parts)})"


def _trees(n_inputs: int, max_leaves: int, ops: Sequence[str]) -> st.SearchStrategy:
    unary = [op for op in ops if op in UNARY_ANY or op in UNARY_POSITIVE]
    binary = [op for op in ops if op in BINARY]
    nary = [op for op in ops if op in NARY]
    leaf = st.one_of(
        st.tuples(st.just("x"), st.integers(0, n_inputs - 1)),
        st.tuples(st.just("c"), st.sampled_from([-2.0, -0.5, 0.5, 1.5, 3.0])),
    )

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        options = []
        if unary:
            options.append(st.tuples(st.sampled_from(unary), children))
        if binary:
            options.append(st.tuples(st.sampled_from(binary), children, children))
        if nary:
            options.append(
                st.builds(
                    lambda op, args: (op, *args), st.sampled_from(nary), st.lists(children, min_size=1, max_size=5)
                )
            )
        return st.one_of(options)

    return st.recursive(leaf, extend, max_leaves=max_leaves)


def expressions(
    n_inputs: int | st.SearchStrategy[int] = st.integers(1, 3), max_leaves: int = 8, ops: Sequence[str] | None = None
) -> st.SearchStrategy[Expression]:
    """A strategy for random ``Expression``s over ``ops`` (default: the whole op table) using every input.

    ``ops`` names entries of ``UNARY_ANY``, ``UNARY_POSITIVE``, ``BINARY`` and ``NARY``.
    """
    if isinstance(n_inputs, int) and n_inputs < 1:
        raise ValueError(f"expressions: n_inputs must be >= 1, got {n_inputs}")
    chosen = tuple(ops) if ops is not None else UNARY_ANY + UNARY_POSITIVE + BINARY + NARY
    unknown = [op for op in chosen if op not in _APPLY]
    if unknown:
        raise ValueError(f"expressions: unknown ops {unknown}; valid: {sorted(_APPLY)}")
    counts = n_inputs if isinstance(n_inputs, st.SearchStrategy) else st.just(n_inputs)
    return counts.flatmap(lambda n: _trees(n, max_leaves, chosen).map(lambda tree: _with_every_input(tree, n)))


def _with_every_input(tree: tuple, n: int) -> Expression:
    """Add the inputs the random tree left out, so every derivative is exercised."""
    used = _inputs_of(tree)
    for i in range(n):
        if i not in used:
            tree = ("+", tree, ("x", i))
    return Expression(tree, n)


def _inputs_of(tree: tuple) -> set[int]:
    if tree[0] == "x":
        return {tree[1]}
    if tree[0] == "c":
        return set()
    return set().union(*(_inputs_of(t) for t in tree[1:]))


def smooth_floats(low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[float]:
    """Finite floats in [low, high], rounded to 6 digits so failures print readably."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 6))


@st.composite
def expression_points(
    draw, expr: Expression, low: float = -3.0, high: float = 3.0, margin: float = 1e-2, tries: int = 20
) -> list[float]:
    """A point where ``expr`` is smooth (see ``Expression.smooth_at``); rejects the example otherwise."""
    for _ in range(tries):
        xs = draw(st.lists(smooth_floats(low, high), min_size=expr.n_inputs, max_size=expr.n_inputs))
        if expr.smooth_at(xs, margin):
            return xs
    assume(False)
    return []  # pragma: no cover - assume() raised


@st.composite
def expressions_with_points(draw, **expression_kwargs) -> tuple[Expression, list[float]]:
    """``(expr, xs)``: a random expression and a smooth point for it."""
    expr = draw(expressions(**expression_kwargs))
    return expr, draw(expression_points(expr))


def relative_error(a: float, b: float) -> float:
    """|a − b| / max(1, |a|, |b|): absolute near zero, relative elsewhere."""
    return abs(a - b) / max(1.0, abs(a), abs(b))
