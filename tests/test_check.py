"""numerical_grad and gradcheck: correct differences, and a readable table when backprop disagrees."""

import math

import pytest
from hypothesis import given, settings

from autograd import GradcheckError, Value, gradcheck, numerical_grad
from autograd.testing import expressions, expressions_with_points


def test_numerical_grad_is_central_difference():
    got = numerical_grad(lambda x, y: x * x * y, [3.0, 2.0])
    assert got == pytest.approx([12.0, 9.0], rel=1e-8)
    assert numerical_grad(lambda x: x.exp(), [0.0], eps=1e-4)[0] == pytest.approx(1.0, rel=1e-8)


def test_numerical_grad_rejects_bad_eps_and_bad_results():
    with pytest.raises(ValueError, match="eps"):
        numerical_grad(lambda x: x, [1.0], eps=0)
    with pytest.raises(TypeError, match="must return"):
        numerical_grad(lambda x: "no", [1.0])


def test_gradcheck_passes_for_correct_derivatives():
    assert gradcheck(lambda a, b: (a * b).tanh() + a.log(), [0.5, -1.2]) is True


def test_gradcheck_reports_every_mismatch_as_a_table():
    # At a kink the one-sided derivative backprop uses differs from the central difference.
    def f(a, b, c):
        return a.relu() + b.leaky_relu() + c * 2

    with pytest.raises(GradcheckError) as info:
        gradcheck(f, [0.0, 0.0, 1.0])
    err = info.value
    assert [row[0] for row in err.rows] == [0, 1]
    text = str(err)
    assert "2 of 3 derivatives disagree" in text
    for column in ("input", "analytic", "numerical", "abs err", "rel err"):
        assert column in text
    assert err.rows[0][1] == 0.0 and err.rows[0][2] == pytest.approx(0.5)


def test_gradcheck_needs_a_value_result():
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda x: 1.0, [1.0])


def test_expression_strategy_is_reusable_by_users():
    # A user's own function composed with a random expression.
    @settings(max_examples=50)
    @given(expressions_with_points(n_inputs=2, ops=["*", "tanh", "log", "/"]))
    def check(case):
        expr, xs = case

        def mine(a, b):
            return expr(a, b).sigmoid() * 3

        assert expr.n_inputs == 2 and "x0" in expr.source and "x1" in expr.source
        assert expr.smooth_at(xs)  # the strategy only gives smooth points: every example asserts
        assert gradcheck(mine, xs)

    check()


def test_gradcheck_and_numerical_grad_accept_values():
    a, b = Value(0.5, label="a"), Value(-1.2)
    a.grad = 7.0
    assert gradcheck(lambda x, y: (x * y).tanh() + x.log(), [a, b]) is True
    assert a.grad == 7.0 and b.grad == 0.0  # untouched
    assert numerical_grad(lambda x, y: x * y, [a, 2.0]) == pytest.approx([2.0, 0.5], rel=1e-8)
    with pytest.raises(GradcheckError, match=r"at xs=\[0.0\]"):
        gradcheck(lambda x: x.relu(), [Value(0.0)])
    with pytest.raises(TypeError, match=r"gradcheck: xs\[1\] must be a number or a Value, got str"):
        gradcheck(lambda x, y: x, [1.0, "2"])


@settings(max_examples=50)
@given(expressions_with_points(n_inputs=1, ops=["relu", "abs", "leaky_relu", "+", "*"]))
def test_points_keep_away_from_kinks(case):
    expr, xs = case
    assert expr.smooth_at(xs, margin=1e-2)
    assert gradcheck(expr, xs)


def test_unknown_ops_are_refused():
    with pytest.raises(ValueError, match="unknown ops"):
        expressions(ops=["nope"])
    with pytest.raises(ValueError, match="n_inputs"):
        expressions(n_inputs=0)


def test_smooth_at_rejects_domain_errors_and_huge_values():
    from autograd.testing import Expression

    div = Expression(("/", ("x", 0), ("x", 1)), 2)
    assert div.smooth_at([1.0, 0.5]) and not div.smooth_at([1.0, 0.0]) and not div.smooth_at([1.0, 1e-3])
    huge = Expression(("exp", ("exp", ("x", 0))), 1)
    assert not huge.smooth_at([3.0])
    assert math.isfinite(huge(1.0).data)
