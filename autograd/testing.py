"""Hypothesis strategies for property-testing derivatives (ours, and users' own functions).

``expressions()`` draws random expressions over every op of the registry
(``autograd.ops``: a new op appears here by itself); ``expression_points(expr)``
draws input points where the expression is smooth: every kink and pole that the
registry's domain of an op names (relu at 0, a divisor at 0, max's two operands
equal) is at least ``margin`` away, and no intermediate value is huge.  Operands
the domain bounds below (``Arg.low``: 0 for log, −1 for log1p) are above it by
construction (``low + u*u + 0.25``), so log, log1p, sqrt, fractional powers and
``x ** y`` are exercised, not filtered out.

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
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from . import ops as _ops
from .mode import no_grad
from .value import Value, apply_op

__all__ = [
    "Expression",
    "expressions",
    "expression_points",
    "expressions_with_points",
    "smooth_floats",
    "operand_floats",
    "op_points",
]


def _catalogue() -> dict[str, _ops.Op]:
    """Every op the strategies draw, by node name: each fixed op and each family's sample ops."""
    return {op.name: op for row in _ops.entries() for op in row.ops()}


_OPS = _catalogue()


def _bounded_operands(op: _ops.Op) -> bool:
    return any(op.arg(i).low is not None for i in range(max(op.arity, 1)))


#: Unary ops whose operand may be any real number (from the registry's domains).
UNARY_ANY = tuple(name for name, op in _OPS.items() if op.arity == 1 and not _bounded_operands(op))
#: Unary ops whose operand is bounded below (> 0 for log, > −1 for log1p; given one by construction).
UNARY_POSITIVE = tuple(name for name, op in _OPS.items() if op.arity == 1 and _bounded_operands(op))
BINARY = tuple(name for name, op in _OPS.items() if op.arity == 2)
NARY = tuple(name for name, op in _OPS.items() if op.arity == 0)


@dataclass(frozen=True)
class Expression:
    """A random expression tree: ``expr(*values)`` evaluates it on Values (or floats)."""

    tree: tuple[Any, ...]
    n_inputs: int

    def __call__(self, *xs: Any) -> Any:
        if len(xs) != self.n_inputs:
            raise TypeError(f"Expression takes {self.n_inputs} inputs, got {len(xs)}")
        values = [x if isinstance(x, Value) else Value(x) for x in xs]
        return _evaluate(self.tree, values, None)

    def smooth_at(self, xs: Sequence[float], margin: float = 1e-2, bound: float = 1e4) -> bool:
        """True when the expression is finite and away from kinks, poles and domain edges at ``xs``
        (as the registry's domain of each op says)."""
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
        """The expression as readable text from the registry's formulas, e.g. ``tanh(x0 · x1)``."""
        return _source(self.tree)


class _Guard:
    def __init__(self, margin: float, bound: float):
        self.margin = margin
        self.bound = bound
        self.ok = True

    def check(self, op: _ops.Op, operands: list[Value], out: Value, same: bool) -> None:
        """``same``: the operands are one subexpression (max(f, f) = f is smooth on its tie)."""
        if abs(out.data) > self.bound:
            self.ok = False
        xs = [c.data for c in operands]
        if not (
            op.smooth_at(xs, self.margin) or same and all(op.arg(i).smooth_at(x, self.margin) for i, x in enumerate(xs))
        ):
            self.ok = False


def _above(u: Value, low: float | None) -> Value:
    """``low + u*u + 0.25``: an operand kept above its domain's lower bound (``u`` when it has none)."""
    return u if low is None else u * u + (low + 0.25)


def _evaluate(tree: tuple[Any, ...], xs: list[Value], guard: _Guard | None) -> Value:
    kind = tree[0]
    if kind == "x":
        leaf: Value = xs[tree[1]]
        return leaf
    if kind == "c":
        return Value(tree[1])
    op = _OPS[kind]
    args = [_evaluate(t, xs, guard) for t in tree[1:]]
    args = [_above(a, op.arg(i).low) for i, a in enumerate(args)]
    out = apply_op(op, *args)
    if guard is not None:
        guard.check(op, args, out, len(set(tree[1:])) == 1)
    return out


def _source(tree: tuple[Any, ...]) -> str:
    kind = tree[0]
    if kind == "x":
        return f"x{tree[1]}"
    if kind == "c":
        return repr(tree[1])
    op = _OPS[kind]
    parts = [_source(t) for t in tree[1:]]
    parts = [_above_source(p, op.arg(i).low) for i, p in enumerate(parts)]
    return op.text.formula([p if p.isidentifier() or " " not in p else f"({p})" for p in parts])


def _above_source(p: str, low: float | None) -> str:
    if low is None:
        return p
    shift = low + 0.25
    return f"{p}**2 + {shift:g}" if shift >= 0 else f"{p}**2 − {-shift:g}"


def _trees(n_inputs: int, max_leaves: int, ops: Sequence[str]) -> st.SearchStrategy[Any]:
    unary = [op for op in ops if _OPS[op].arity == 1]
    binary = [op for op in ops if _OPS[op].arity == 2]
    nary = [op for op in ops if _OPS[op].arity == 0]
    leaf = st.one_of(
        st.tuples(st.just("x"), st.integers(0, n_inputs - 1)),
        st.tuples(st.just("c"), st.sampled_from([-2.0, -0.5, 0.5, 1.5, 3.0])),
    )

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        options: list[st.SearchStrategy[Any]] = []
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


_ONE_TO_THREE = st.integers(1, 3)


def expressions(
    n_inputs: int | st.SearchStrategy[int] = _ONE_TO_THREE, max_leaves: int = 8, ops: Sequence[str] | None = None
) -> st.SearchStrategy[Expression]:
    """A strategy for random ``Expression``s over ``ops`` (default: every op of the registry) using every input.

    ``ops`` holds node names (``"tanh"``, ``"**2"``, ``"leaky_relu(0.1)"``) or registry keys (a
    family's key, e.g. ``"leaky_relu"`` or ``"**n"``, stands for its sample ops).
    """
    if isinstance(n_inputs, int) and n_inputs < 1:
        raise ValueError(f"expressions: n_inputs must be >= 1, got {n_inputs}")
    chosen = tuple(_OPS) if ops is None else _resolve(ops)
    counts = n_inputs if isinstance(n_inputs, st.SearchStrategy) else st.just(n_inputs)
    return counts.flatmap(lambda n: _trees(n, max_leaves, chosen).map(lambda tree: _with_every_input(tree, n)))


def _resolve(ops: Sequence[str]) -> tuple[str, ...]:
    """Node names for ``ops``: a family's registry key stands for its sample ops."""
    keys = {row.key: row for row in _ops.entries()}
    chosen: list[str] = []
    unknown = []
    for name in ops:
        if name in _OPS:
            chosen.append(name)
        elif name in keys:
            chosen += [op.name for op in keys[name].ops()]
        else:
            unknown.append(name)
    if unknown:
        raise ValueError(f"expressions: unknown ops {unknown}; valid: {sorted(_OPS)} or a family {sorted(keys)}")
    return tuple(chosen)


def _with_every_input(tree: tuple[Any, ...], n: int) -> Expression:
    """Add the inputs the random tree left out, so every derivative is exercised."""
    used = _inputs_of(tree)
    for i in range(n):
        if i not in used:
            tree = ("+", tree, ("x", i))
    return Expression(tree, n)


def _inputs_of(tree: tuple[Any, ...]) -> set[int]:
    if tree[0] == "x":
        return {tree[1]}
    if tree[0] == "c":
        return set()
    return set().union(*(_inputs_of(t) for t in tree[1:]))


def smooth_floats(low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[float]:
    """Finite floats in [low, high], rounded to 6 digits so failures print readably."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 6))


def operand_floats(
    arg: _ops.Arg, low: float = -3.0, high: float = 3.0, margin: float = 1e-2
) -> st.SearchStrategy[float]:
    """Floats where an operand with domain ``arg`` is smooth: ``arg.low + u*u + 0.25`` when it is
    bounded below, else [low, high] kept ``margin`` away from its kinks and poles (ties with other
    operands are ``op_points``'s to avoid)."""
    bound = arg.low
    if bound is not None:
        return smooth_floats(low, high).map(lambda u: round(bound + u * u + 0.25, 6))
    return smooth_floats(low, high).filter(lambda x: arg.smooth_at(x, margin))


def op_points(
    op: _ops.Op, low: float = -3.0, high: float = 3.0, margin: float = 1e-2, max_operands: int = 7
) -> st.SearchStrategy[list[float]]:
    """Operand lists for ``op`` (one per operand; 1..``max_operands`` for an n-ary op), each drawn
    from the registry's domain of that operand with :func:`operand_floats`, the whole list kept
    ``margin`` away from ties (max, min)."""
    if op.arity == 0:
        lists = st.lists(operand_floats(op.arg(0), low, high, margin), min_size=1, max_size=max_operands)
    else:
        lists = st.tuples(*[operand_floats(op.arg(i), low, high, margin) for i in range(op.arity)]).map(list)
    return lists.filter(lambda xs: op.smooth_at(xs, margin))


@st.composite
def expression_points(
    draw: st.DrawFn, expr: Expression, low: float = -3.0, high: float = 3.0, margin: float = 1e-2, tries: int = 20
) -> list[float]:
    """A point where ``expr`` is smooth (see ``Expression.smooth_at``); rejects the example otherwise."""
    for _ in range(tries):
        xs: list[float] = draw(st.lists(smooth_floats(low, high), min_size=expr.n_inputs, max_size=expr.n_inputs))
        if expr.smooth_at(xs, margin):
            return xs
    assume(False)
    return []  # pragma: no cover - assume() raised


@st.composite
def expressions_with_points(draw: st.DrawFn, /, **expression_kwargs: Any) -> tuple[Expression, list[float]]:
    """``(expr, xs)``: a random expression and a smooth point for it."""
    expr = draw(expressions(**expression_kwargs))
    return expr, draw(expression_points(expr))


def relative_error(a: float, b: float) -> float:
    """|a − b| / max(1, |a|, |b|): absolute near zero, relative elsewhere."""
    return abs(a - b) / max(1.0, abs(a), abs(b))
