"""Every op: its value and derivative against hand-derived formulas and central differences."""

import math

import pytest

from autograd import NonFiniteGradError, Value, grad, gradcheck, numerical_grad


def sig(x):
    return 1 / (1 + math.exp(-x))


# name, f on Values, value formula, derivative formula, points
UNARY = [
    ("neg", lambda v: -v, lambda x: -x, lambda x: -1.0, [-2.0, 0.3, 5.0]),
    ("abs", lambda v: abs(v), abs, lambda x: math.copysign(1.0, x), [-2.0, 0.3, 5.0]),
    ("exp", lambda v: v.exp(), math.exp, math.exp, [-3.0, 0.0, 2.5]),
    ("log", lambda v: v.log(), math.log, lambda x: 1 / x, [0.1, 1.0, 7.0]),
    ("sqrt", lambda v: v.sqrt(), math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.04, 1.0, 9.0]),
    ("tanh", lambda v: v.tanh(), math.tanh, lambda x: 1 - math.tanh(x) ** 2, [-2.0, 0.0, 0.7]),
    ("sigmoid", lambda v: v.sigmoid(), sig, lambda x: sig(x) * (1 - sig(x)), [-4.0, 0.0, 1.5]),
    ("relu", lambda v: v.relu(), lambda x: max(x, 0.0), lambda x: float(x > 0), [-1.0, 0.5, 3.0]),
    (
        "leaky_relu",
        lambda v: v.leaky_relu(),
        lambda x: x if x > 0 else 0.01 * x,
        lambda x: 1.0 if x > 0 else 0.01,
        [-1.0, 0.5, 3.0],
    ),
    (
        "leaky_relu(0.2)",
        lambda v: v.leaky_relu(0.2),
        lambda x: x if x > 0 else 0.2 * x,
        lambda x: 1.0 if x > 0 else 0.2,
        [-1.0, 0.5],
    ),
    ("softplus", lambda v: v.softplus(), lambda x: math.log1p(math.exp(x)), sig, [-3.0, 0.0, 2.0]),
    ("sin", lambda v: v.sin(), math.sin, math.cos, [-1.0, 0.0, 2.0]),
    ("cos", lambda v: v.cos(), math.cos, lambda x: -math.sin(x), [-1.0, 0.5, 2.0]),
    ("**2", lambda v: v**2, lambda x: x * x, lambda x: 2 * x, [-1.5, 0.0, 2.0]),
    ("**3", lambda v: v**3, lambda x: x**3, lambda x: 3 * x * x, [-1.5, 2.0]),
    ("**-1", lambda v: v**-1, lambda x: 1 / x, lambda x: -1 / x**2, [-2.0, 0.5]),
    ("**0.5", lambda v: v**0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.25, 4.0]),
    ("**-2 of negative", lambda v: v**-2, lambda x: x**-2, lambda x: -2 * x**-3, [-3.0, -0.5]),
    ("2**", lambda v: 2**v, lambda x: 2**x, lambda x: 2**x * math.log(2), [-1.0, 0.0, 3.0]),
    ("1/x", lambda v: 1 / v, lambda x: 1 / x, lambda x: -1 / x**2, [-2.0, 0.5]),
    ("3-x", lambda v: 3 - v, lambda x: 3 - x, lambda x: -1.0, [1.0]),
    ("x-3", lambda v: v - 3, lambda x: x - 3, lambda x: 1.0, [1.0]),
    ("x/4", lambda v: v / 4, lambda x: x / 4, lambda x: 0.25, [1.0]),
    ("2*x", lambda v: 2 * v, lambda x: 2 * x, lambda x: 2.0, [1.0]),
    ("x+2", lambda v: v + 2, lambda x: x + 2, lambda x: 1.0, [1.0]),
    ("2+x", lambda v: 2 + v, lambda x: x + 2, lambda x: 1.0, [1.0]),
]


@pytest.mark.parametrize("name, f, value, derivative, points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_value_and_derivative(name, f, value, derivative, points):
    for x in points:
        v = Value(x)
        out = f(v)
        out.backward()
        assert out.data == pytest.approx(value(x), rel=1e-12, abs=1e-15)
        assert v.grad == pytest.approx(derivative(x), rel=1e-12, abs=1e-15)
        if name not in ("abs", "relu", "leaky_relu", "leaky_relu(0.2)") or abs(x) > 1e-3:
            assert numerical_grad(f, [x])[0] == pytest.approx(v.grad, rel=1e-6, abs=1e-8)


BINARY = [
    ("+", lambda a, b: a + b, lambda x, y: x + y, lambda x, y: (1.0, 1.0)),
    ("-", lambda a, b: a - b, lambda x, y: x - y, lambda x, y: (1.0, -1.0)),
    ("*", lambda a, b: a * b, lambda x, y: x * y, lambda x, y: (y, x)),
    ("/", lambda a, b: a / b, lambda x, y: x / y, lambda x, y: (1 / y, -x / y**2)),
    ("**", lambda a, b: a**b, lambda x, y: x**y, lambda x, y: (y * x ** (y - 1), x**y * math.log(x))),
]


@pytest.mark.parametrize("name, f, value, derivative", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("x, y", [(1.5, 2.0), (0.3, -1.7), (4.0, 0.5)])
def test_binary_value_and_derivative(name, f, value, derivative, x, y):
    a, b = Value(x), Value(y)
    out = f(a, b)
    out.backward()
    assert out.data == pytest.approx(value(x, y), rel=1e-12)
    da, db = derivative(x, y)
    assert a.grad == pytest.approx(da, rel=1e-12)
    assert b.grad == pytest.approx(db, rel=1e-12)
    assert gradcheck(f, [x, y])


def test_dot_is_one_node_with_the_chain_gradients():
    from autograd import dot

    ws = [Value(w) for w in (0.5, -1.0, 2.0)]
    xs = [Value(x) for x in (3.0, 0.25, -1.5)]
    b = Value(0.1)
    out = dot(ws, xs, b)
    assert out.op == "dot" and len(out.children) == 7
    out.backward()
    chain_ws = [Value(w.data) for w in ws]
    chain_xs = [Value(x.data) for x in xs]
    chain_b = Value(0.1)
    chain = sum((w * x for w, x in zip(chain_ws, chain_xs)), chain_b)
    chain.backward()
    assert out.data == chain.data
    assert [w.grad for w in ws] == [w.grad for w in chain_ws]
    assert [x.grad for x in xs] == [x.grad for x in chain_xs]
    assert b.grad == chain_b.grad == 1.0


def test_dot_accepts_numbers_and_repeated_operands():
    from autograd import dot

    a = Value(3.0)
    out = dot([a, a], [a, 2.0])  # a*a + 2a
    out.backward()
    assert out.data == 15.0
    assert a.grad == 2 * 3.0 + 2.0
    assert dot([], []).data == 0.0


@pytest.mark.parametrize("x, y", [(1.5, 2.0), (0.3, -1.7), (-4.0, 0.5), (1e200, 1e-200), (0.0, -0.0)])
def test_written_out_ops_agree_with_the_op_table(x, y):
    """+, -, * and dot build their nodes without calling the table; they must say what it says."""
    from autograd import OPS, dot, no_grad

    a, b = Value(x), Value(y)
    for node, name, args in (
        (a + b, "+", (x, y)),
        (a - b, "-", (x, y)),
        (a * b, "*", (x, y)),
        (2.0 + a, "+", (2.0, x)),
        (2.0 - a, "-", (2.0, x)),
        (2.0 * a, "*", (2.0, x)),
    ):
        op = OPS[name]
        z = op.forward(*args)
        assert node.op == name and node.data == z
        assert node.local_grads == op.local(*args, z)
    ws, xs = [x, y, 0.25], [y, -x, 4.0]
    for bias in (None, 0.5):
        node = dot([Value(w) for w in ws], [Value(v) for v in xs], None if bias is None else Value(bias))
        flat = ws + xs + ([] if bias is None else [bias])
        assert node.data == OPS["dot"].forward(flat)
        assert node.local_grads == OPS["dot"].local(flat, node.data)
    for v in (a, b, Value(0.0)):
        node = v.relu()
        z = OPS["relu"].forward(v.data)
        assert node.op == "relu" and node.data == z and node.local_grads == OPS["relu"].local(v.data, z)
    with no_grad():
        for node in (a + b, a - b, a * b, dot([a], [b], a), a.relu()):
            assert node.is_leaf and node.children == () and node.local_grads == ()


@pytest.mark.parametrize(
    "make", [lambda a: a + a, lambda a: a - (-a), lambda a: a * a, lambda a: __import__("autograd").dot([a], [a])]
)
def test_written_out_ops_refuse_overflow(make):
    from autograd import OpOverflowError

    with pytest.raises(OpOverflowError, match=r"beyond float64; scale the inputs down"):
        make(Value(1.7e308))


def test_dot_with_values_of_a_subclass_and_a_number_bias():
    from autograd import dot

    class Named(Value):
        __slots__ = ()

    w, x = Named(2.0), Value(3.0)
    out = dot([w], [x], 1)
    assert out.data == 7.0 and out.children[0] is w and out.children[2].data == 1.0
    with pytest.raises(TypeError, match=r"dot: cannot combine a Value with str"):
        dot([w], ["3"])


def test_matvec_is_one_dot_node_per_row():
    from autograd import dot, matvec

    rows = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    xs = [3.0, -0.5, 1.25]
    for biases in (None, [0.1, -0.2]):
        W = [[Value(w) for w in row] for row in rows]
        X = [Value(x) for x in xs]
        B = None if biases is None else [Value(b) for b in biases]
        zs = matvec(W, X, B)
        W2 = [[Value(w) for w in row] for row in rows]
        X2 = [Value(x) for x in xs]
        B2 = [None, None] if biases is None else [Value(b) for b in biases]
        ref = [dot(w, X2, b) for w, b in zip(W2, B2)]
        assert [z.op for z in zs] == ["dot", "dot"]
        assert [z.data for z in zs] == [r.data for r in ref]
        assert [z.local_grads for z in zs] == [r.local_grads for r in ref]
        assert all(z.children[len(row)] is X[0] for z, row in zip(zs, rows))  # xs shared, not copied
        (zs[0] * zs[1]).backward()
        (ref[0] * ref[1]).backward()
        assert [x.grad for x in X] == [x.grad for x in X2]
        assert [[w.grad for w in row] for row in W] == [[w.grad for w in row] for row in W2]


def test_matvec_wraps_numbers_and_names_what_is_wrong():
    from autograd import matvec

    a = Value(2.0)
    assert [z.data for z in matvec([[1.0, a]], [a, 3], [0.5])] == [1.0 * 2.0 + 2.0 * 3 + 0.5]
    assert matvec([], [a]) == []
    assert matvec([[]], [])[0].data == 0.0
    with pytest.raises(ValueError, match=r"matvec: row 1 has 1 weights but xs has 2"):
        matvec([[a, a], [a]], [a, a])
    with pytest.raises(ValueError, match=r"matvec: 2 rows but 1 biases"):
        matvec([[a], [a]], [a], [0.0])
    with pytest.raises(TypeError, match=r"matvec: cannot combine a Value with str"):
        matvec([[a]], ["x"])
    with pytest.raises(TypeError, match=r"matvec: cannot combine a Value with NoneType"):
        matvec([[None]], [a])


def test_vsum_is_one_node():
    from autograd import vsum

    vs = [Value(x) for x in (1.0, 2.0, 3.5)]
    s = vsum(vs + [1.0])
    assert s.op == "sum" and s.data == 7.5
    s.backward()
    assert [v.grad for v in vs] == [1.0, 1.0, 1.0]
    assert vsum([]).data == 0.0


@pytest.mark.parametrize("x", [1e4, -1e4, 1e300, -1e300, 0.0, 35.0, -745.2])
def test_sigmoid_and_softplus_are_stable(x):
    s = Value(x).sigmoid()
    sp = Value(x).softplus()
    assert 0.0 <= s.data <= 1.0
    assert math.isfinite(sp.data) and sp.data >= 0.0
    if x > 50:
        assert sp.data == pytest.approx(x) and s.data == 1.0
    if x < -50:
        assert s.data == pytest.approx(0.0, abs=1e-300)


def test_derivatives_at_kinks_follow_torch():
    for f, expected in ((lambda v: v.relu(), 0.0), (lambda v: abs(v), 0.0), (lambda v: v.leaky_relu(0.1), 0.1)):
        v = Value(0.0)
        f(v).backward()
        assert v.grad == expected
    zero = Value(0.0)
    assert zero.sqrt().local_grads == (math.inf,)  # torch's derivative of sqrt at 0 too
    with pytest.raises(NonFiniteGradError, match=r"sqrt"):  # but backward refuses to spread it
        zero.sqrt().backward()
    assert zero.grad == 0.0
    z = Value(0.0)
    (z**2).backward()
    assert z.grad == 0.0


def test_value_exponent_with_zero_base():
    x, y = Value(0.0), Value(2.0)
    out = x**y
    out.backward()
    assert out.data == 0.0 and x.grad == 0.0 and y.grad == 0.0
    x, y = Value(0.0), Value(1.0)
    assert grad(x**y, [x, y]) == [1.0, 0.0]  # y·x^(y−1) = 1·0⁰; x^y·ln x → 0 as x → 0
    x, y = Value(0.0), Value(0.5)
    with pytest.raises(NonFiniteGradError, match=r"\*\*"):  # ∂/∂x x^0.5 at 0 is infinite
        grad(x**y, [x, y])
