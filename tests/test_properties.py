"""Property tests: random expressions over the whole op table pass gradcheck, to second order."""

from hypothesis import given, settings

from autograd import Value, grad, gradcheck, numerical_grad
from autograd.testing import expressions_with_points, relative_error


@settings(max_examples=600)
@given(expressions_with_points())
def test_random_expressions_pass_gradcheck(case):
    expr, xs = case
    assert gradcheck(expr, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


@settings(max_examples=150)
@given(expressions_with_points(max_leaves=5))
def test_second_derivatives_match_central_differences_of_first(case):
    expr, xs = case
    values = [Value(x) for x in xs]
    firsts = grad(expr(*values), values, create_graph=True)
    for i, d1 in enumerate(firsts):
        analytic = grad(d1, values) if isinstance(d1, Value) else [0.0] * len(xs)

        def partial(*vs, i=i):
            return grad(expr(*vs), list(vs), create_graph=True)[i]

        numeric = numerical_grad(partial, xs, eps=1e-5)
        for a, n in zip(analytic, numeric):
            assert relative_error(a, n) < 1e-4, (expr.source, xs, i, analytic, numeric)


@settings(max_examples=100)
@given(expressions_with_points())
def test_backward_and_grad_agree(case):
    expr, xs = case
    values = [Value(x) for x in xs]
    out = expr(*values)
    by_grad = grad(out, values)
    out.backward()
    assert [v.grad for v in values] == by_grad
