"""Compiled replays never return a silent inf or nan gradient (issue 11 §2).

A gradient that turns non-finite during a replay (an overflowing local
derivative, an overflowing product with the upstream gradient, inf·0, an
overflowing sum of a shared node's contributions) raises an error naming the
op, the node's values and which derivative, and touches no ``.grad``.  Where
the eager engine skips a zero gradient, an infinite local derivative behind
it is never used: the replay gives eager's finite numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import OpOverflowError, Value, dot
from autograd.compiler import compile

# (label, graph builder over one input x, traced at, replayed at, op named in the error)
CASES = [
    ("1/x at 1e-200", lambda x: 1.0 / x, 1.0, 1e-200, "/"),
    ("x**308 at 10", lambda x: x**308, 1.0, 10.0, "**308"),
    ("log at 1e-310", lambda x: x.log(), 1.0, 1e-310, "log"),
    ("sqrt at 0", lambda x: x.sqrt(), 1.0, 0.0, "sqrt"),
    ("x**0.5 at 0", lambda x: x**0.5, 1.0, 0.0, "**0.5"),
    ("x**Value(0.5) at 0", lambda x: x ** Value(0.5), 1.0, 0.0, "**"),
    ("log(z)*1e200", lambda x: x.log() * 1e200, 1.0, 1e-300, "log"),
    ("1/dot with a zero input", lambda x: 1.0 / dot([Value(1e-200), Value(2.0)], [x, Value(0.0)]), 1.0, 1.0, "/"),
    ("a product's gradient overflows", lambda x: (x * 1e200) * 1e200, 1e-300, 1e-300, "*"),
]


@pytest.mark.parametrize("label, f, traced_at, at, op", CASES, ids=[c[0] for c in CASES])
def test_non_finite_gradient_raises_naming_the_op_and_touches_no_grad(label, f, traced_at, at, op):
    x = Value(traced_at)
    y = f(x)
    fn = compile(y, inputs=[x], input_grads=True)
    leaves = fn.parameters
    before = [p.grad for p in leaves]
    with pytest.raises(OpOverflowError) as info:
        fn([at])
    message = str(info.value)
    assert message.startswith(f"{op}:") or f" {op} " in message or f"({op}" in message, message
    assert "gradient" in message
    assert [p.grad for p in leaves] == before and y.grad == 0.0


def test_overflowing_sum_of_a_shared_nodes_contributions_raises():
    x = Value(1e-300)
    y = x * 1e308 + x * 1e308  # each share is finite, their sum is not
    fn = compile(y, inputs=[x], input_grads=True)
    with pytest.raises(OpOverflowError, match="gradient"):
        fn([1e-300])


def test_run_raises_too():
    x, w = Value(1.0), Value(2.0)
    fn = compile((w * x).log(), inputs=[x])
    with pytest.raises(OpOverflowError, match="log"):
        fn.run([1e-310], params=np.array([1.0]))


@pytest.mark.parametrize(
    "f, at",
    [
        (lambda x: x.log() * 0.0 + x, 1e-310),  # log' = inf there, reached by a zero gradient
        (lambda x: (1.0 / x) * 0.0 + x, 1e-200),  # (1/x)' = -inf there
        (lambda x: (x - 1.0).relu() * (x**0.5) + x, 0.0),  # (x**0.5)' = inf behind relu' = 0
    ],
)
def test_infinite_local_derivative_behind_a_zero_gradient_is_not_used(f, at):
    x = Value(2.0)
    fn = compile(f(x), inputs=[x], input_grads=True)
    ex = Value(at)
    ey = f(ex)
    ey.backward()
    assert fn([at]) == ey.data
    assert fn.input_grad.tolist() == [ex.grad] and math.isfinite(ex.grad)
