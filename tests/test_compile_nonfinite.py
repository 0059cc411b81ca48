"""Compiled replays never return a silent inf or nan gradient (issue 11 §2).

A gradient that turns non-finite during a replay (an overflowing local
derivative, an overflowing product with the upstream gradient, inf·0, an
overflowing sum of a shared node's contributions) raises the eager engine's
``NonFiniteGradError`` with the same diagnosis ``backward()`` gives (op, node
values, which derivative, the numbers), and touches no ``.grad``.  Where the
eager engine skips a zero gradient, an infinite local derivative behind it is
never used: the replay gives eager's finite numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Value, dot, vsum
from autograd.compiler import compile
from autograd.errors import NonFiniteGradError

# (label, graph builder over one input x, traced at, replayed at)
CASES = [
    ("1/x at 1e-200", lambda x: 1.0 / x, 1.0, 1e-200),
    ("x**308 at 10", lambda x: x**308, 1.0, 10.0),
    ("log at 1e-310", lambda x: x.log(), 1.0, 1e-310),
    ("sqrt at 0", lambda x: x.sqrt(), 1.0, 0.0),
    ("x**0.5 at 0", lambda x: x**0.5, 1.0, 0.0),
    ("x**Value(0.5) at 0", lambda x: x ** Value(0.5), 1.0, 0.0),
    ("log(z)*1e200", lambda x: x.log() * 1e200, 1.0, 1e-300),
    ("1/dot with a zero input", lambda x: 1.0 / dot([Value(1e-200), Value(2.0)], [x, Value(0.0)]), 1.0, 1.0),
    ("a product's gradient overflows", lambda x: (x * 1e200) * 1e200, 1e-300, 1e-300),
    ("a shared node's shares overflow together", lambda x: x * 1e308 + x * 1e308, 1e-300, 1e-300),
    ("tanh behind a huge scale", lambda x: (x * 1e-300).tanh() * 1e200 * 1e200, 1.0, 1.0),
]


def _eager_error(f, at: float) -> NonFiniteGradError:
    x = Value(at)
    y = f(x)
    with pytest.raises(NonFiniteGradError) as info:
        y.backward()
    return info.value


@pytest.mark.parametrize("label, f, traced_at, at", CASES, ids=[c[0] for c in CASES])
def test_non_finite_gradient_raises_the_eager_diagnosis_and_touches_no_grad(label, f, traced_at, at):
    expected = _eager_error(f, at)
    x = Value(traced_at)
    y = f(x)
    fn = compile(y, inputs=[x], input_grads=True)
    before = [p.grad for p in fn.parameters]
    with pytest.raises(NonFiniteGradError) as info:
        fn([at])
    got = info.value
    fields = ("op", "inputs", "out", "position", "local", "upstream")
    assert [getattr(got, k) for k in fields] == [getattr(expected, k) for k in fields]
    eager_words = str(expected).replace("every .grad is left as it was before this call", "no .grad was touched")
    assert str(got) == eager_words.replace("backward:", "compile:", 1)
    assert [p.grad for p in fn.parameters] == before and y.grad == 0.0 and y.data == f(Value(traced_at)).data


def test_a_dense_layer_whose_gradient_overflows_names_dot():
    ws = [[Value(1e300), Value(1e300)], [Value(1e300), Value(1e300)]]
    xs = [[Value(1e-300), Value(1e-300)], [Value(2e-300), Value(1e-300)]]
    y = vsum([dot(w, x) for w in ws for x in xs]) * 1e10
    fn = compile(y, inputs=[v for row in xs for v in row], input_grads=True)
    assert "1 matmul" in repr(fn)
    with pytest.raises(NonFiniteGradError) as info:
        fn([1e-300, 1e-300, 2e-300, 1e-300])
    assert info.value.op == "dot" and info.value.upstream == 1e10
    with pytest.raises(NonFiniteGradError):
        y.backward()  # eager agrees that this gradient is not finite


def test_run_raises_too():
    x, w = Value(1.0), Value(2.0)
    fn = compile((w * x).log(), inputs=[x])
    with pytest.raises(NonFiniteGradError, match="log"):
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
