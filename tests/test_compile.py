"""``autograd.compile``: the numpy replay gives the eager engine's numbers, errors and semantics.

Compared against eager ``backward()``/``grad()`` on random expressions from
``autograd.testing`` (at the traced point and at fresh points), on MLP
graphs built the micrograd way (chains of ``+``) and with ``dot`` nodes, on
graphs that share nodes and weights, and on every error the compiler can
detect.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import DomainError, OpOverflowError, Value, ZeroDivision, dot, grad, ops, vsum, zero_grad
from autograd.compiler import CompiledGraph, compile
from autograd.compiler.sums import SumMode
from autograd.ops import Op
from autograd.testing import expression_points, expressions
from autograd.value import apply_op

RTOL = 1e-12


def close(a: float, b: float, rtol: float = RTOL, atol: float = 0.0) -> bool:
    """Equal to ``rtol`` relative (exactly equal for zeros and infinities), or within ``atol``."""
    if a == b:
        return True
    return abs(a - b) <= max(rtol * max(abs(a), abs(b)), atol)


def assert_close(actual, expected, rtol: float = RTOL, what: str = "") -> None:
    """Every pair within ``rtol`` relative.  A derivative whose terms cancel to (nearly) 0 is
    compared to 1e-15 of the largest derivative instead: adding the same terms in another
    order (shared nodes accumulate in a different sequence) leaves a residue of a few ulps."""
    actual, expected = list(map(float, actual)), list(map(float, expected))
    assert len(actual) == len(expected)
    atol = 1e-15 * max([1.0] + [abs(e) for e in expected if math.isfinite(e)])
    bad = [(i, a, e) for i, (a, e) in enumerate(zip(actual, expected)) if not close(a, e, rtol, atol)]
    assert not bad, f"{what}: {len(bad)} of {len(actual)} differ, e.g. {bad[:5]}"


# ---- random expressions over the whole op table ----------------------------------------


@st.composite
def expression_and_two_points(draw):
    expr = draw(expressions(n_inputs=st.integers(1, 4), max_leaves=12))
    return expr, draw(expression_points(expr)), draw(expression_points(expr))


@settings(max_examples=300)
@given(expression_and_two_points())
def test_random_expressions_match_eager(case):
    expr, xs, xs2 = case
    values = [Value(x) for x in xs]
    out = expr(*values)
    out.backward()
    leaves = [v for v in _leaves(out) if v not in set(values)]
    eager_leaf_grads = {v: v.grad for v in leaves}
    eager_input_grads = [v.grad for v in values]
    eager_data = out.data
    zero_grad(out)

    fn = compile(out, inputs=values, input_grads=True)
    assert close(fn(xs), eager_data)
    assert close(out.data, eager_data)
    assert_close(fn.input_grad, eager_input_grads, what="input grads")
    assert_close([v.grad for v in leaves], [eager_leaf_grads[v] for v in leaves], what="constant grads")

    # A fresh point: the compiled function must agree with an eager graph built there.
    values2 = [Value(x) for x in xs2]
    out2 = expr(*values2)
    g2 = grad(out2, values2)
    assert close(fn(xs2), out2.data)
    assert_close(fn.input_grad, g2, what=f"input grads at a new point for {expr.source}")


def _leaves(root: Value) -> list:
    from autograd import topological_order

    return [v for v in topological_order(root) if v.is_leaf]


# ---- MLPs, built like micrograd (chains of +) and with dot nodes -------------------------


class TinyMLP:
    """A dense network of Values: weight rows per neuron, relu/tanh hidden layers, linear last."""

    def __init__(self, sizes: list[int], seed: int, activation: str = "relu"):
        rnd = random.Random(seed)
        self.layers = []
        for nin, nout in zip(sizes, sizes[1:]):
            W = [[Value(rnd.uniform(-1, 1) / math.sqrt(nin)) for _ in range(nin)] for _ in range(nout)]
            b = [Value(rnd.uniform(-0.1, 0.1)) for _ in range(nout)]
            self.layers.append((W, b))
        self.activation = activation

    def parameters(self) -> list:
        return [p for W, b in self.layers for row in W for p in row] + [p for _, b in self.layers for p in b]

    def __call__(self, x: list, style: str) -> list:
        for k, (W, b) in enumerate(self.layers):
            out = []
            for w, bias in zip(W, b):
                if style == "chain":
                    act = sum((wi * xi for wi, xi in zip(w, x)), bias)
                else:
                    act = dot(w, x, bias)
                if k < len(self.layers) - 1:
                    act = act.relu() if self.activation == "relu" else act.tanh()
                out.append(act)
            x = out
        return x


def max_margin_loss(model: TinyMLP, X: list, y: list, style: str) -> Value:
    scores = [model(x, style)[0] for x in X]
    losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + 1e-4 * sum(p * p for p in model.parameters())


def mse_loss(model: TinyMLP, X: list, Y: list, style: str) -> Value:
    terms = []
    for x, t in zip(X, Y):
        for o, ti in zip(model(x, style), t):
            terms.append((o - ti) ** 2)
    return vsum(terms) / len(terms)


def _data(rnd: random.Random, n: int, d: int) -> list:
    return [[rnd.uniform(-2, 2) for _ in range(d)] for _ in range(n)]


@pytest.mark.parametrize("style", ["chain", "dot"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_mlp_max_margin_training_matches_eager(style, activation):
    rnd = random.Random(5)
    X = _data(rnd, 24, 2)
    y = [rnd.choice([-1.0, 1.0]) for _ in X]
    eager = TinyMLP([2, 8, 8, 1], seed=1, activation=activation)
    comp = TinyMLP([2, 8, 8, 1], seed=1, activation=activation)
    xv = [[Value(a) for a in row] for row in X]
    loss = max_margin_loss(comp, xv, y, style)
    fn = compile(loss, inputs=[v for row in xv for v in row], parameters=comp.parameters())
    assert isinstance(fn, CompiledGraph)
    for step in range(4):
        batch = _data(rnd, 24, 2)
        el = max_margin_loss(eager, [[Value(a) for a in row] for row in batch], y, style)
        for p in eager.parameters():
            p.grad = 0.0
        el.backward()
        for p in comp.parameters():
            p.grad = 0.0
        value = fn(np.array(batch))
        assert close(value, el.data)
        assert_close([p.grad for p in comp.parameters()], [p.grad for p in eager.parameters()], what=f"step {step}")
        for pe, pc in zip(eager.parameters(), comp.parameters()):  # SGD: the compiled graph reads new .data
            pe.data -= 0.05 * pe.grad
            pc.data -= 0.05 * pc.grad


@pytest.mark.parametrize("style", ["chain", "dot"])
def test_wide_mlp_mse_matches_eager(style):
    rnd = random.Random(7)
    X, T = _data(rnd, 6, 40), _data(rnd, 6, 3)
    model = TinyMLP([40, 12, 3], seed=2)
    xv = [[Value(a) for a in row] for row in X]
    tv = [[Value(a) for a in row] for row in T]
    loss = mse_loss(model, xv, tv, style)
    fn = compile(
        loss,
        inputs=[v for row in xv for v in row] + [v for row in tv for v in row],
        parameters=model.parameters(),
        input_grads=True,
    )
    X2, T2 = _data(rnd, 6, 40), _data(rnd, 6, 3)
    xv2 = [[Value(a) for a in row] for row in X2]
    tv2 = [[Value(a) for a in row] for row in T2]
    eager = mse_loss(model, xv2, tv2, style)
    eager.backward()
    expected = [p.grad for p in model.parameters()]
    expected_x = [v.grad for row in xv2 for v in row]
    for p in model.parameters():
        p.grad = 0.0
    assert close(fn(np.concatenate([np.ravel(X2), np.ravel(T2)])), eager.data)
    assert_close([p.grad for p in model.parameters()], expected, what="parameter grads")
    assert_close(fn.input_grad[:240], expected_x, what="input grads")
    assert "matmul" in repr(fn) and fn.n_groups < 20


# ---- shared nodes and weights used many times --------------------------------------------


def test_shared_nodes_and_repeated_weights_scatter_add():
    w = Value(0.7, label="w")
    xs = [Value(float(i) / 3 - 1) for i in range(10)]
    h = [(w * x).tanh() for x in xs]  # w used 10 times in one group
    s = vsum(h + h[:3])  # nodes listed twice in one sum
    t = dot([w] * 10, xs, w)  # w repeated inside one dot, and as its bias
    u = w * w + h[0] * h[0] + (h[1] + h[1])  # a node multiplied by itself and added to itself
    loss = s * t + u - (-s)
    loss.backward()
    expected_w = w.grad
    expected_x = [x.grad for x in xs]
    expected = loss.data
    zero_grad(loss)
    fn = compile(loss, inputs=xs, input_grads=True)
    assert close(fn([x.data for x in xs]), expected)
    assert close(w.grad, expected_w)
    assert_close(fn.input_grad, expected_x)


def test_root_is_a_leaf_and_trivial_graphs():
    x = Value(3.0)
    fn = compile(x, inputs=[x], input_grads=True)
    assert fn([5.0]) == 5.0 and fn.input_grad.tolist() == [1.0]
    p = Value(2.0)
    fn = compile(p)
    assert fn() == 2.0 and p.grad == 1.0


# ---- semantics: accumulation, parameters, data-dependent ops -----------------------------


def test_call_accumulates_like_backward_and_sets_root():
    a, x = Value(2.0), Value(3.0)
    y = a * x + a
    fn = compile(y, inputs=[x])
    assert fn([4.0]) == 10.0 and y.data == 10.0 and a.grad == 5.0
    fn([4.0])
    assert a.grad == 10.0 and y.grad == 2.0
    a.data = 1.0  # parameters are read on every call
    assert fn([4.0]) == 5.0


def test_explicit_parameters_freeze_other_leaves():
    a, b, x = Value(2.0), Value(5.0), Value(3.0)
    y = a * x + b
    fn = compile(y, inputs=[x], parameters=[a], input_grads=True)
    b.data = 100.0  # a constant now: frozen at trace time
    assert fn([1.0]) == 7.0
    assert a.grad == 1.0 and b.grad == 0.0
    assert fn.parameters == [a]
    value, gp, gx = fn.run([2.0], params=np.array([3.0]))
    assert value == 11.0 and gp.tolist() == [2.0] and gx.tolist() == [3.0]


@pytest.mark.parametrize(
    "op, at, data, derivative",
    [
        (lambda x: x.relu(), 0.0, 0.0, 0.0),
        (lambda x: x.relu(), -1.0, 0.0, 0.0),
        (lambda x: x.relu(), 2.0, 2.0, 1.0),
        (lambda x: abs(x), 0.0, 0.0, 0.0),
        (lambda x: abs(x), -2.0, 2.0, -1.0),
        (lambda x: x.leaky_relu(0.2), -1.0, -0.2, 0.2),
        (lambda x: x.leaky_relu(0.2), 0.0, 0.0, 0.2),
        (lambda x: x**2, 0.0, 0.0, 0.0),
        (lambda x: x**0, 0.0, 1.0, 0.0),
        (lambda x: 0**x, 0.0, 1.0, 0.0),
        (lambda x: x ** Value(2.0), 0.0, 0.0, 0.0),
        (lambda x: x.sigmoid(), -800.0, 0.0, 0.0),
        (lambda x: x.softplus(), 800.0, 800.0, 1.0),
    ],
)
def test_data_dependent_ops_follow_eager_conventions_per_call(op, at, data, derivative):
    x = Value(1.0)  # traced away from the kink; evaluated at it
    y = op(x)
    fn = compile(y, inputs=[x], input_grads=True)
    assert fn([at]) == data
    assert fn.input_grad[0] == derivative
    ex = Value(at)
    ey = op(ex)
    ey.backward()
    assert (ey.data, ex.grad) == (data, derivative)


def test_zero_gradient_times_infinite_local_is_zero_like_eager():
    x = Value(1.0)
    y = x.sqrt() * 0.0 + x
    fn = compile(y, inputs=[x], input_grads=True)
    fn([0.0])
    ex = Value(0.0)
    ey = ex.sqrt() * 0.0 + ex
    ey.backward()
    assert fn.input_grad[0] == ex.grad


# ---- errors ---------------------------------------------------------------------------------


def _eager_error(f, at):
    with pytest.raises(Exception) as info:
        f(Value(at))
    return info.type, str(info.value)


@pytest.mark.parametrize(
    "f, traced_at, at",
    [
        (lambda x: (x - 1.0).log(), 2.0, 0.5),
        (lambda x: (x * 2.0).log(), 1.0, 0.0),
        (lambda x: (x - 2.0).sqrt(), 3.0, 1.0),
        (lambda x: 1.0 / (x - 1.0), 2.0, 1.0),
        (lambda x: (x * 1000.0).exp(), 0.1, 1.0),
        (lambda x: (x - 1.0) ** -1, 2.0, 1.0),
        (lambda x: (x - 2.0) ** 0.5, 3.0, 1.0),
        (lambda x: (x - 2.0) ** Value(2.0), 3.0, 1.0),
        (lambda x: 0 ** (x - 2.0), 3.0, 1.0),
        (lambda x: (x * 1e200) * 1e200, 1e-300, 1.0),
        (lambda x: (x * 1e300).tanh() + x * 1e300 * 1e10, 1e-300, 1.0),
        (lambda x: x * 1e308 + x * 1e308, 1e-300, 1.0),  # each product finite, their sum not
        (lambda x: (x * 2.0 - 1.0).exp() - x * 1e308 - x * 1e308, 1e-300, 1.0),
    ],
)
def test_domain_errors_are_the_eager_errors(f, traced_at, at):
    x = Value(traced_at)
    fn = compile(f(x), inputs=[x])
    kind, message = _eager_error(f, at)
    with pytest.raises(kind) as info:
        fn([at])
    assert str(info.value) == message
    assert isinstance(info.value, (DomainError, ZeroDivision, OpOverflowError))


def test_an_overflowing_matmul_names_dot():
    ws = [[Value(1e300), Value(1.0)], [Value(2.0), Value(1.0)]]
    xs = [[Value(1.0), Value(1.0)], [Value(2.0), Value(1.0)]]
    fn = compile(vsum([dot(w, x) for w in ws for x in xs]), inputs=[v for row in xs for v in row])
    assert "1 matmul" in repr(fn)
    with pytest.raises(OpOverflowError, match=r"^dot: the result of dot\(1e\+300, 10000000000\.0\) is inf"):
        fn([1e10, 1.0, 1.0, 1.0])
    with pytest.raises(OpOverflowError, match="^dot: "):
        dot(ws[0], [Value(1e10), Value(1.0)])  # eager names dot too


def test_wrong_input_size_and_bad_values():
    xs = [Value(1.0), Value(2.0)]
    fn = compile(xs[0] * xs[1], inputs=xs)
    with pytest.raises(ValueError, match="expected 2 input values.*got 3"):
        fn([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        fn([1.0, math.nan])
    assert fn(np.array([[3.0, 4.0]])) == 12.0  # any shape with the right size, read in C order


def test_trace_errors_name_the_problem():
    a, b, x = Value(1.0), Value(2.0), Value(3.0)
    y = a * x
    with pytest.raises(TypeError, match="root must be a Value"):
        compile(1.0, inputs=[x])
    with pytest.raises(ValueError, match="inputs must be leaves"):
        compile(y, inputs=[y])
    with pytest.raises(ValueError, match="same Value twice"):
        compile(y, inputs=[x, x])
    fn = compile(y, inputs=[x, b], input_grads=True)  # b unused: its value is ignored, its gradient 0
    assert fn([2.0, 7.0]) == 2.0 and fn.input_grad.tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="not leaves of the traced graph"):
        compile(y, inputs=[x], parameters=[a, b])
    with pytest.raises(ValueError, match="also listed in inputs"):
        compile(y, inputs=[x], parameters=[x])
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Value"):
        compile(y, inputs=[3.0])


def test_nonfinite_parameter_is_reported():
    a, x = Value(1.0), Value(3.0)
    fn = compile(a * x, inputs=[x])
    a.data = math.inf
    with pytest.raises(ValueError, match="must be finite"):
        fn([1.0])


def test_importing_autograd_does_not_import_numpy():
    code = "import sys, autograd; assert 'numpy' not in sys.modules, 'numpy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_memory_and_introspection():
    xs = [Value(float(i)) for i in range(8)]
    ws = [Value(0.5) for _ in range(8)]
    fn = compile(dot(ws, xs).tanh(), inputs=xs)
    assert fn.nbytes > 0 and fn.n_slots >= 17 and fn.n_traced == 18
    assert "CompiledGraph" in repr(fn)


# ---- random DAGs with shared nodes, and every evaluation path -------------------------------

_DAG_OPS = ["+", "-", "*", "tanh", "sin", "sigmoid", "neg", "dot", "sum", "**2", "softplus", "exp_small"]


@st.composite
def random_dags(draw):
    """A random DAG: each node draws its operands from all earlier nodes, so nodes are shared."""
    n_inputs = draw(st.integers(1, 4))
    xs = draw(st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=n_inputs, max_size=n_inputs))
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(_DAG_OPS), st.lists(st.integers(0, 10**6), min_size=1, max_size=6)),
            min_size=1,
            max_size=25,
        )
    )
    return xs, steps


def _build_dag(values: list, steps: list) -> Value:
    nodes = list(values) + [Value(0.5), Value(-1.25)]
    for op, picks in steps:
        args = [nodes[p % len(nodes)] for p in picks]
        a = args[0]
        b = args[1 % len(args)]
        if op == "+":
            v = a + b
        elif op == "-":
            v = a - b
        elif op == "*":
            v = (a * b).tanh()
        elif op == "tanh":
            v = a.tanh()
        elif op == "sin":
            v = a.sin()
        elif op == "sigmoid":
            v = a.sigmoid()
        elif op == "neg":
            v = -a
        elif op == "dot":
            half = max(1, len(args) // 2)
            v = dot(args[:half], (args[half:] + args)[:half], args[-1]).tanh()
        elif op == "sum":
            v = vsum(args)
        elif op == "**2":
            v = a.tanh() ** 2
        elif op == "softplus":
            v = a.softplus()
        else:
            v = (a.tanh() * 2).exp()
        nodes.append(v)
    return vsum(nodes[len(values) :])


@settings(max_examples=150)
@given(random_dags(), st.booleans())
def test_random_dags_with_shared_nodes_match_eager(case, exact):
    xs, steps = case
    values = [Value(x) for x in xs]
    out = _build_dag(values, steps)
    g = grad(out, values)
    fn = compile(out, inputs=values, input_grads=True, exact=exact)
    rtol = RTOL if exact else 1e-10
    assert close(fn(xs), out.data, rtol)
    assert_close(fn.input_grad, g, rtol, what="input grads")
    xs2 = [x * 0.7 - 0.1 for x in xs]
    values2 = [Value(x) for x in xs2]
    out2 = _build_dag(values2, steps)
    assert close(fn(xs2), out2.data, rtol)
    assert_close(fn.input_grad, grad(out2, values2), rtol, what="input grads at a new point")


def test_every_sum_evaluation_path_matches_eager():
    """Dense blocks (full and partial), long single sums, long non-dense sums and signed terms."""
    rnd = random.Random(11)
    W = [[Value(rnd.uniform(-1, 1)) for _ in range(40)] for _ in range(6)]
    X = [[Value(rnd.uniform(-1, 1)) for _ in range(40)] for _ in range(5)]
    full = [dot(w, x) for w in W for x in X]  # dense, every (row, col)
    partial = [dot(W[i], X[j], W[0][i]) for i in range(6) for j in range(5) if (i + j) % 3]  # dense, some
    loose = [
        dot([Value(rnd.uniform(-1, 1)) for _ in range(40)], [x.tanh() for x in X[j % 5]]) for j in range(7)
    ]  # nothing shared: no matmul
    signed = [X[0][k] - W[0][k] * X[1][k] - X[2][k] for k in range(40)]  # subtractions
    long_sum = vsum([v.tanh() for v in full + partial + loose + signed])  # one sum of 100+ terms
    loss = long_sum * long_sum + vsum(partial) * 0.5
    leaves = [v for row in W + X for v in row]
    loss.backward()
    expected = [v.grad for v in leaves]
    zero_grad(loss)
    fn = compile(loss, inputs=[v for row in X for v in row])
    modes = {getattr(s, "mode", None) for s in fn._replay.steps}
    assert set(SumMode) <= modes
    assert close(fn(), loss.data)
    got = {p: p.grad for p in fn.parameters}
    assert_close([got[v] for row in W for v in row], expected[:240], what="weight grads")


def test_exact_false_uses_numpy_kernels_within_rounding():
    xs = [Value(0.1 * i - 1) for i in range(20)]
    out = vsum([(x.tanh() * x.exp()) ** 3 + x.softplus().log() for x in xs])
    g = grad(out, xs)
    fn = compile(out, inputs=xs, exact=False, input_grads=True)
    assert abs(fn() - out.data) <= 1e-12 * abs(out.data)
    assert_close(fn.input_grad, g, 1e-11)


def test_input_grads_off_by_default():
    xs = [Value(1.0), Value(2.0)]
    w = Value(3.0)
    fn = compile(w * xs[0] * xs[1], inputs=xs)
    assert fn() == 6.0 and w.grad == 2.0 and fn.input_grad is None
    value, gp, gx = fn.run([2.0, 2.0])
    assert value == 12.0 and gp.tolist() == [4.0] and gx is None


def test_freeing_the_traced_graph():
    x, w = Value(2.0), Value(3.0)
    y = (w * x).tanh()
    fn = compile(y, inputs=[x])
    fn.root = None
    assert close(fn([0.5]), math.tanh(1.5)) and y.data == math.tanh(6.0)


@pytest.mark.parametrize("first", ["import autograd.compiler", "from autograd import compile", "pass"])
def test_autograd_compile_is_the_function_in_every_import_order(first):
    code = (
        "import sys, autograd\n"
        "assert 'numpy' not in sys.modules, 'import autograd must not load numpy'\n"
        f"{first}\n"
        "from autograd.compiler import compile as direct\n"
        "from autograd import Value, compile as exported\n"
        "assert direct is exported is autograd.compile\n"
        "x, w = Value(2.0), Value(3.0)\n"
        "assert autograd.compile(w * x, inputs=[x])([5.0]) == 15.0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "name, f",
    [
        ("tanh", lambda x: x.tanh()),
        ("exp", lambda x: x.exp()),
        ("log", lambda x: (x * x + 0.1).log()),
        ("sigmoid", lambda x: x.sigmoid()),
        ("softplus", lambda x: x.softplus()),
        ("sin", lambda x: x.sin()),
        ("cos", lambda x: x.cos()),
        ("sqrt", lambda x: (x * x).sqrt()),
        ("**3", lambda x: x**3),
        ("**2", lambda x: x**2),
        ("**1.5", lambda x: abs(x) ** 1.5),
        ("**-1", lambda x: x**-1),
        ("2**", lambda x: 2**x),
        ("**", lambda x: (x * x + 0.5) ** (x * 0.5)),
        ("/", lambda x: 1.0 / x),
        ("leaky_relu", lambda x: x.leaky_relu(0.3)),
    ],
)
def test_exact_mode_is_bit_for_bit_eager_on_every_elementwise_op(name, f):
    rnd = random.Random(sum(map(ord, name)))  # str hash() differs per process
    points = [rnd.uniform(-4, 4) for _ in range(300)]
    xs = [Value(p) for p in points]
    out = vsum([f(x) for x in xs])
    g = grad(out, xs)
    fn = compile(out, inputs=xs, input_grads=True)
    points2 = [rnd.uniform(-4, 4) for _ in range(300)]
    xs2 = [Value(p) for p in points2]
    out2 = vsum([f(x) for x in xs2])
    for at, expected, expected_grad in ((points, out.data, g), (points2, out2.data, grad(out2, xs2))):
        assert fn(at) == expected
        if name == "**":  # x feeds two nodes: its two contributions may be added in either order
            assert fn.input_grad.tolist() == pytest.approx(expected_grad, rel=1e-14, abs=0)
        else:
            assert fn.input_grad.tolist() == expected_grad


# ---- every op of the registry, as the registry describes it ----------------------------------

REGISTRY_OPS = [op for row in ops.entries() for op in row.ops()]


def _domain_points(op: Op, rnd: random.Random, count: int) -> list[list[float]]:
    """``count`` operand lists inside the op's declared domain, away from its kinks and poles."""

    def draw(arg) -> float:
        while True:
            x = rnd.uniform(0.1, 2.0) ** 2 + 0.25 if arg.positive else rnd.uniform(-3.0, 3.0)
            if arg.smooth_at(x, 1e-2):
                return x

    n = op.arity or 3
    return [[draw(op.arg(i)) for i in range(n)] for _ in range(count)]


@pytest.mark.parametrize("op", REGISTRY_OPS, ids=[op.name for op in REGISTRY_OPS])
@pytest.mark.parametrize("exact", [True, False])
def test_every_registry_op_replays_like_eager(op, exact):
    """Compiled with the op's registry kernel, a sum of 200 applications gives eager's value and
    input gradients: bit for bit in exact mode, to 1e-12 with numpy's own kernels."""
    rnd = random.Random(sum(map(ord, op.name)))  # str hash() differs per process
    points = _domain_points(op, rnd, 200)
    xs = [Value(x) for p in points for x in p]
    k = len(points[0])
    fn = compile(vsum([apply_op(op, *xs[i : i + k]) for i in range(0, len(xs), k)]), inputs=xs, input_grads=True)
    at = [x for p in _domain_points(op, rnd, 200) for x in p]
    ex = [Value(x) for x in at]
    out = vsum([apply_op(op, *ex[i : i + k]) for i in range(0, len(ex), k)])
    expected = grad(out, ex)
    value = fn(at)
    if exact:
        assert value == out.data and fn.input_grad.tolist() == expected
    else:
        assert close(value, out.data, 1e-12)
        assert_close(fn.input_grad, expected, 1e-12, what=op.name)
