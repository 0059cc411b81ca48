"""max, min (torch.maximum/minimum), max_first/min_first (autograd.max_of/min_of) and log1p:
values and derivatives held to torch float64 numbers pasted as constants, the tie rules, the
errors, the command line, and compile replaying the choice of operand from each call's data.
Their registry facets are checked by tests/test_registry.py like every other op's."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import DomainError, Value, grad, gradcheck, max_of, maximum, min_of, minimum, ops, vsum
from autograd.testing import expressions_with_points
from deltaw import cli

# ---- torch.maximum / torch.minimum (float64) ------------------------------------------------------
# Generated once with torch 2.13.0: for (a, b), z = torch.maximum(a, b) (torch.minimum), and
# (∂z/∂a, ∂z/∂b) from torch.autograd.grad.  At a tie torch splits the gradient ½/½.
TORCH_MAXIMUM = [
    ((1.5, -0.25), (1.5, 1.0, 0.0)),
    ((-0.25, 1.5), (1.5, 0.0, 1.0)),
    ((0.75, 0.75), (0.75, 0.5, 0.5)),
    ((-2.0, -2.0), (-2.0, 0.5, 0.5)),
    ((0.0, -0.0), (0.0, 0.5, 0.5)),
    ((3.0, 2.999999), (3.0, 1.0, 0.0)),
]
TORCH_MINIMUM = [
    ((1.5, -0.25), (-0.25, 0.0, 1.0)),
    ((-0.25, 1.5), (-0.25, 1.0, 0.0)),
    ((0.75, 0.75), (0.75, 0.5, 0.5)),
    ((-2.0, -2.0), (-2.0, 0.5, 0.5)),
    ((0.0, -0.0), (0.0, 0.5, 0.5)),
    ((3.0, 2.999999), (2.999999, 0.0, 1.0)),
]


@pytest.mark.parametrize("f, table", [(maximum, TORCH_MAXIMUM), (minimum, TORCH_MINIMUM)], ids=["max", "min"])
def test_maximum_and_minimum_equal_torch_including_the_tie_split(f, table):
    for (a, b), (z, da, db) in table:
        x, y = Value(a), Value(b)
        out = f(x, y)
        out.backward()
        assert (out.data, x.grad, y.grad) == (z, da, db), (a, b)
        assert out.op == ("max" if f is maximum else "min")


def test_second_derivatives_through_maximum_equal_torch():
    # torch 2.13.0: f = maximum(x**3, y)·x; (f, ∂f/∂x, ∂f/∂y, ∂²f/∂x²) at two points (either side wins)
    cases = [((1.5, 0.5), (5.0625, 13.5, 0.0, 27.0)), ((0.5, 1.5), (0.75, 1.5, 0.5, 0.0))]
    for (x0, y0), (f0, gx0, gy0, gxx0) in cases:
        x, y = Value(x0), Value(y0)
        f = maximum(x**3, y) * x
        gx, gy = grad(f, [x, y], create_graph=True)
        (gxx,) = grad(gx, [x])
        assert (f.data, gx.data, float(gy), gxx) == pytest.approx((f0, gx0, gy0, gxx0), rel=1e-15, abs=0)


def test_max_of_and_min_of_give_a_tie_to_the_first_as_torch_max_over_a_dim():
    # torch 2.13.0: v.max(dim=0).values * 3 -> v.grad; v.min(dim=0).values * 3 -> v.grad
    data = [0.5, 2.0, -1.0, 2.0, 2.0]
    xs = [Value(v) for v in data]
    m = max_of(xs)
    (m * 3.0).backward()
    assert m.data == 2.0 and [x.grad for x in xs] == [0.0, 3.0, 0.0, 0.0, 0.0]
    assert m.op == "max_first" and len(autograd.topological_order(m)) == 2 * len(xs) - 1  # n leaves, n − 1 nodes
    xs = [Value(v) for v in [0.5, -1.0, 2.0, -1.0]]
    m = min_of(xs)
    (m * 3.0).backward()
    assert m.data == -1.0 and [x.grad for x in xs] == [0.0, 3.0, 0.0, 0.0]


def test_max_of_takes_numbers_and_one_value_and_refuses_nothing():
    x = Value(0.25)
    assert max_of([x]) is x  # one value: itself, no node
    out = max_of([0.5, x, 1.0])
    assert out.data == 1.0 and out.op == "max_first"
    assert max_of([3.0]).data == 3.0 and min_of(v for v in [2.0, x]).data == 0.25
    with pytest.raises(ValueError, match="max_of: got no values; give at least one Value or number"):
        max_of([])
    with pytest.raises(TypeError, match="min_of: cannot combine a Value with str 'a'"):
        min_of(["a", x])
    with pytest.raises(TypeError, match="max: cannot combine a Value with list"):
        maximum(x, [1.0])


def test_maximum_and_minimum_refuse_a_non_finite_operand_clearly():
    x = Value(1.0)
    x.data = math.inf
    with pytest.raises(ValueError, match="max: operand 0 is inf; its .data was set to a non-finite number"):
        maximum(x, 2.0)


# ---- log1p (float64) ----------------------------------------------------------------------------
# torch 2.13.0: x, torch.log1p(x), its first derivative and its second (create_graph=True).
TORCH_LOG1P = [
    (-0.999, -6.907755278982136, 999.9999999999991, -999999.9999999983),
    (-0.75, -1.3862943611198906, 4.0, -16.0),
    (-1e-10, -1.00000000005e-10, 1.0000000001, -1.0000000002),
    (0.0, 0.0, 1.0, -1.0),
    (1e-17, 1e-17, 1.0, -1.0),
    (1e-09, 9.999999995e-10, 0.9999999989999999, -0.9999999979999998),
    (0.3, 0.26236426446749106, 0.7692307692307692, -0.5917159763313609),
    (2.5, 1.252762968495368, 0.2857142857142857, -0.08163265306122448),
    (1000000.0, 13.815511557963774, 9.99999000001e-07, -9.99998000003e-13),
]


@pytest.mark.parametrize("x, value, first, second", TORCH_LOG1P)
def test_log1p_equals_torch_float64_to_the_second_derivative(x, value, first, second):
    v = Value(x)
    out = v.log1p()
    d1 = grad(out, v, create_graph=True)
    d2 = grad(d1, v)
    assert out.data == value  # the C library's log1p, as torch's
    assert d1.data == first  # 1/(1 + x), rounded as torch rounds it
    assert d2 == pytest.approx(second, rel=4e-16, abs=0)


def test_log1p_refuses_minus_one_and_below():
    for x in (-1.0, -1.5):
        with pytest.raises(DomainError, match=rf"log1p: log1p\({x!r}\) is undefined; log1p needs an input > -1"):
            Value(x).log1p()


# ---- the command line -----------------------------------------------------------------------------


def test_max_min_and_log1p_work_on_the_command_line(capsys):
    assert cli.main(["explain", "max(a, b) + log1p(a)", "--set", "a=1", "b=1", "--wrt", "a"]) == 0
    text = capsys.readouterr().out
    assert "max(w, b) = 1" in text and "∂z/∂w = 0.5 = 1 if w > b, ½ if w = b, else 0" in text
    assert "∂z′/∂w = 0.5 = 1/(1 + w)" in text and "∂out/∂w = sum over the 2 uses = 1\n" in text
    assert cli.main(["explain", "min_first(a, b)", "--set", "a=1", "b=1", "--wrt", "b"]) == 0
    assert "out = min(a, w) = 1\n  ∂out/∂w = 0 = 1 if w < a else 0" in capsys.readouterr().out
    assert cli.main(["explain", "max(a)", "--set", "a=1", "--wrt", "a"]) == 2
    assert "max takes exactly 2 arguments, got 1" in capsys.readouterr().err


# ---- compile: which operand wins is decided on every call --------------------------------------


def _graph(xs: list[Value]) -> Value:
    """Σ over pairs of maximum, minimum, max_of and min_of of the inputs, each times a different factor."""
    terms = []
    for i in range(0, len(xs) - 3, 4):
        a, b, c, d = xs[i : i + 4]
        terms += [maximum(a, b) * 1.5, minimum(c, a) * -0.5, max_of([a, b, c, d]) * 2.0, min_of([d, c, b]) * 0.25]
    return vsum(terms)


def _points(r: random.Random, n: int, ties: bool) -> list[float]:
    return [float(r.randint(-1, 1)) if ties else r.uniform(-1, 1) for _ in range(n)]


@pytest.mark.parametrize("exact", [True, False])
def test_compile_replays_the_winner_from_each_calls_values(exact):
    r = random.Random(5)
    xs = [Value(v) for v in _points(r, 64, False)]
    fn = autograd.compile(_graph(xs), inputs=xs, input_grads=True, exact=exact)
    winners = set()
    for ties in (False, True, False, True):  # new values: other operands win, and exact ties (½ each, first wins)
        at = _points(r, 64, ties)
        ex = [Value(v) for v in at]
        out = _graph(ex)
        expected = grad(out, ex)
        value = fn(at)
        if exact:  # bit for bit
            assert value == out.data and fn.input_grad.tolist() == expected
        else:  # numpy's own summation order: to rounding
            assert value == pytest.approx(out.data, rel=1e-14, abs=0)
            assert fn.input_grad.tolist() == pytest.approx(expected, rel=1e-14, abs=1e-15)
        winners.add(tuple(np.sign(np.subtract(at[0::4], at[1::4]))))
    assert len(winners) == 4  # the larger operand of the first pairs changed between the calls


def test_compile_with_a_kernel_that_keeps_the_traced_winner_is_caught(monkeypatch):
    """The test above fails for a kernel that bakes in the trace's choice (as a frozen index would)."""
    r = random.Random(5)
    xs = [Value(v) for v in _points(r, 64, False)]
    picked = [a.data >= b.data for a, b in zip(xs[0::4], xs[1::4])]
    frozen = np.array(picked)
    kernel = ops.MAX.arrays()
    monkeypatch.setattr(kernel, "forward", lambda x, y: np.where(frozen, x, y))
    monkeypatch.setattr(kernel, "local", lambda x, y, out: (np.where(frozen, 1.0, 0.0), np.where(frozen, 0.0, 1.0)))
    fn = autograd.compile(_graph(xs), inputs=xs, input_grads=True, exact=False)
    at = _points(r, 64, False)
    ex = [Value(v) for v in at]
    out = _graph(ex)
    assert [a >= b for a, b in zip(at[0::4], at[1::4])] != picked
    assert fn(at) != out.data


# ---- the hypothesis strategies draw the new ops, away from their ties and bounds ---------------

NEW_OPS = ["max", "min", "max_first", "min_first", "log1p"]


def test_the_strategies_know_the_new_ops_and_their_domains():
    from autograd.testing import BINARY, UNARY_POSITIVE, Expression

    assert {"max", "min", "max_first", "min_first"} <= set(BINARY) and "log1p" in UNARY_POSITIVE
    expr = Expression(("log1p", ("max", ("x", 0), ("x", 1))), 2)
    assert expr.source == "log1p((max(x0, x1)**2 − 0.75))"  # log1p's operand is built above −1
    assert expr(0.5, -2.0).data == math.log1p(0.5 * 0.5 - 0.75)
    assert expr.smooth_at([0.5, -2.0]) and not expr.smooth_at([0.5, 0.505])  # a tie is a kink
    same = Expression(("max_first", ("tanh", ("x", 0)), ("tanh", ("x", 0))), 1)
    assert same.smooth_at([0.3])  # max(f, f) = f: smooth on its own tie


@settings(max_examples=150, deadline=None)
@given(expressions_with_points(n_inputs=st.integers(1, 3), ops=[*NEW_OPS, "*", "+", "tanh"]))
def test_random_expressions_of_the_new_ops_pass_gradcheck(case):
    expr, xs = case
    assert gradcheck(expr, xs, atol=1e-5, rtol=1e-4)


def test_value_methods_come_from_the_registry_rows():
    """``a.maximum(b)``/``a.minimum(b)`` are generated from the rows' ``method`` names: the same node
    as ``autograd.maximum``, numbers accepted on the right, the tie rule kept."""
    from autograd import Value, maximum, minimum, ops

    assert {"maximum", "minimum"} <= {row.method for row in ops.entries() if row.arity == 2}
    for method, function in (("maximum", maximum), ("minimum", minimum)):
        a, b = Value(1.5), Value(1.5)
        out = getattr(a, method)(b)
        out.backward()
        ref_a, ref_b = Value(1.5), Value(1.5)
        ref = function(ref_a, ref_b)
        ref.backward()
        assert (
            (out.op, out.data, a.grad, b.grad) == (ref.op, ref.data, ref_a.grad, ref_b.grad) == (ref.op, 1.5, 0.5, 0.5)
        )
        assert (
            getattr(Value(2.0), method)(3).data == function(Value(2.0), 3).data == (3.0 if method == "maximum" else 2.0)
        )
