"""No silent inf or nan: a gradient that turns non-finite is an error naming the op, and
``backward`` leaves every ``.grad`` exactly as it was before the call."""

import math
import re

import pytest

from autograd import NonFiniteGradError, OpOverflowError, Value, dot, grad


def _sqrt_minus_sqrt(x):
    return x.sqrt() - x.sqrt()


# (what, f, x, the op the error names, words in the message)
CASES = [
    ("1/x at 1e-200", lambda x: 1 / x, 1e-200, "/", ["local derivative", "∂z/∂x1", "1e-200"]),
    ("x**308 at 10", lambda x: x**308, 10.0, "**308", ["local derivative", "308·x0^307", "10.0"]),
    ("log at 1e-310", lambda x: x.log(), 1e-310, "log", ["local derivative", "1/x0", "1e-310"]),
    ("sqrt at 0", lambda x: x.sqrt(), 0.0, "sqrt", ["local derivative", "is inf", "0.0"]),
    ("sqrt(x) - sqrt(x) at 0", _sqrt_minus_sqrt, 0.0, "sqrt", ["local derivative", "0.0"]),
    ("log(z) * 1e200", lambda x: x.log() * 1e200, 1e-300, "log", ["upstream gradient 1e+200", "beyond float64"]),
    ("x**0.5 at 0", lambda x: x**0.5, 0.0, "**0.5", ["local derivative", "inf"]),
]


@pytest.mark.parametrize("what, f, x, op, words", CASES, ids=[c[0] for c in CASES])
def test_backward_refuses_a_gradient_that_turns_non_finite(what, f, x, op, words):
    v = Value(x)
    out = f(v)
    with pytest.raises(NonFiniteGradError) as info:
        out.backward()
    err = info.value
    assert err.op == op and isinstance(err, OverflowError) and isinstance(err, OpOverflowError)
    for word in words + [op, "backward", "as it was before this call"]:
        assert word in str(err), (word, str(err))
    assert v.grad == 0.0 and out.grad == 0.0  # nothing half-done
    with pytest.raises(NonFiniteGradError, match=f"grad: .*{re.escape(op)}"):
        grad(out, v)


def test_inf_times_zero_is_caught_where_the_inf_appears():
    # 1/dot(ws, xs) with a tiny dot: ∂(1/d)/∂d = -1/d² is -inf, and the zero input turns
    # -inf · 0 into nan for its weight; the error names the division, the first step.
    ws = [Value(1e-200), Value(3.0)]
    xs = [Value(1.0), Value(0.0)]
    out = 1 / dot(ws, xs)
    with pytest.raises(NonFiniteGradError) as info:
        out.backward()
    assert info.value.op == "/" and info.value.position == 1 and info.value.local == -math.inf
    assert [w.grad for w in ws] == [0.0, 0.0] and [x.grad for x in xs] == [0.0, 0.0]


def test_grads_are_restored_exactly_including_earlier_ones():
    a, b = Value(1e-200, label="a"), Value(2.0, label="b")
    a.grad, b.grad = 0.25, -3.0  # from an earlier backward
    mid = a * b
    mid.backward()  # mid now holds a gradient too
    held = (a.grad, b.grad, mid.grad)
    out = 1 / mid
    with pytest.raises(NonFiniteGradError):
        out.backward()
    assert (a.grad, b.grad, mid.grad, out.grad) == (*held, 0.0)


def test_only_the_used_derivatives_matter():
    # sqrt's infinite derivative at 0 is multiplied by a zero gradient: never formed, no error.
    x = Value(0.0)
    y = Value(2.0)
    out = x.sqrt() * 0.0 + y * 3.0
    out.backward()
    assert x.grad == 0.0 and y.grad == 3.0


def test_large_but_finite_gradients_pass():
    x = Value(1e-150)
    out = 1 / x  # ∂/∂x = -1e300, finite
    out.backward()
    assert x.grad == pytest.approx(-1e300)
    leaves = [Value(1e-10) for _ in range(3)]
    total = leaves[0] * 1e308 + leaves[1] * 1e308 - leaves[2] * 1e308  # leaves' grads sum past float64
    total.backward()
    assert [v.grad for v in leaves] == [1e308, 1e308, -1e308]


def test_overflow_where_gradients_meet_is_caught():
    x = Value(1e-10)
    out = x * 1e308 + x * 1e308  # each path is finite; their sum at x is not
    with pytest.raises(NonFiniteGradError, match=r"adding .* to the operand's gradient") as info:
        out.backward()
    assert info.value.op == "*" and x.grad == 0.0


def test_a_seed_added_to_a_leaf_that_overflows():
    x = Value(1.0)
    x.grad = 1e308
    with pytest.raises(NonFiniteGradError, match="leaf"):
        x.backward(1e308)
    assert x.grad == 1e308


def test_a_grad_already_non_finite_is_named():
    x = Value(2.0)
    x.grad = math.inf  # set by hand
    with pytest.raises(NonFiniteGradError, match="already inf"):
        (x * 3.0).backward()
    assert x.grad == math.inf
    y = Value(1.0, label="y")
    y.grad = math.nan
    with pytest.raises(NonFiniteGradError, match=r"leaf Value\(.*label='y'.*already had a non-finite grad"):
        ((y * 2.0) * 0.0 + 1.0).backward()  # y*2 gets a zero gradient: no step reaches y at all
    assert math.isnan(y.grad)


def test_create_graph_names_the_op_and_the_derivative():
    x = Value(0.0)
    with pytest.raises(NonFiniteGradError) as info:
        grad(x.sqrt(), x, create_graph=True)
    message = str(info.value)
    assert info.value.op == "sqrt" and "∂z/∂x0" in message and "1/(2·√x0)" in message
    assert "data must be finite" not in message
    y = Value(1e-300)
    with pytest.raises(NonFiniteGradError, match=r"log.*upstream gradient 1e\+200"):
        grad(y.log() * 1e200, y, create_graph=True)
    for what, f, x, op, _ in CASES:  # every case of the eager test names its op here too
        v = Value(x)
        with pytest.raises(NonFiniteGradError, match=r"grad\(create_graph=True\)") as info:
            grad(f(v), v, create_graph=True)
        assert info.value.op == op, what


def test_nan_data_set_by_hand_is_named_as_such():
    for bad in (math.nan, math.inf):
        v = Value(1.0)
        v.data = bad
        ops = [lambda v: v * 2.0, lambda v: v + 1.0, lambda v: 2.0 - v, lambda v: 1.0 / v, lambda v: v**2.0]
        ops += [lambda v: v.tanh(), lambda v: v.exp(), lambda v: v.relu(), lambda v: dot([v], [1.0])]
        ops += [lambda v: Value(2.0) ** v, lambda v: abs(v), lambda v: v.gelu()]
        for f in ops:
            with pytest.raises(
                ValueError, match=r"operand [01] is (nan|inf); its .data was set to a non-finite"
            ) as info:
                f(v)
            assert "scale the inputs down" not in str(info.value)
