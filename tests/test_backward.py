"""backward(), grad(), zero_grad(), no_grad(): semantics, depth, memory and higher orders."""

import gc
import math
import pickle
import random
import sys
import threading
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, dot, grad, no_grad, numerical_grad, topological_order, vsum, zero_grad
from autograd.mode import enable_grad, is_grad_enabled


def test_intermediates_get_gradients_and_shared_subexpressions_add_up():
    x = Value(3.0)
    y = x * x  # shared below
    z = y + y * x  # x² + x³
    z.backward()
    assert z.grad == 1.0
    assert y.grad == 1.0 + x.data
    assert x.grad == 2 * 3.0 + 3 * 9.0


def test_same_operand_twice():
    a = Value(-2.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0


def test_backward_again_accumulates_exactly_once_more():
    x = Value(1.5)
    h = x.tanh()
    y = h * h
    y.backward()
    first = (x.grad, h.grad, y.grad)
    y.backward()
    assert (x.grad, h.grad, y.grad) == pytest.approx(tuple(2 * g for g in first))
    zero_grad(y)
    assert (x.grad, h.grad, y.grad) == (0.0, 0.0, 0.0)


def test_backward_with_seed_gradient():
    x = Value(2.0)
    y = x * 5
    y.backward(0.5)
    assert x.grad == 2.5 and y.grad == 0.5
    with pytest.raises(TypeError):
        y.backward("1")


def test_topological_order_puts_children_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    pos = {v: i for i, v in enumerate(order)}
    assert len(order) == 5 and order[-1] is e
    for v in order:
        for ch in v.children:
            assert pos[ch] < pos[v]


def _random_dag(seed: int, n_leaves: int = 4, n_ops: int = 40) -> tuple[list[Value], Value]:
    """Ops applied to operands picked anywhere in the pool, so later operands are often older
    nodes and the graph shares subexpressions: creation order is not tree order."""
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(-1, 1), label=f"x{i}") for i in range(n_leaves)]
    pool = list(leaves)
    for _ in range(n_ops):
        kind = rng.randrange(5)
        a, b = rng.choice(pool), rng.choice(pool)
        if kind == 0:
            out = b * a
        elif kind == 1:
            out = a + b.tanh()
        elif kind == 2:
            out = dot([a, b], [rng.choice(pool), a], rng.choice(pool))
        elif kind == 3:
            out = (a * 0.5).sigmoid() - b
        else:
            out = a.relu() + 1.0
        pool.append(out)
    return leaves, vsum(pool[-5:])


def _kahn_grads(root: Value) -> dict[Value, float]:
    """Reference reverse pass, independent of creation numbers: Kahn's algorithm on consumer counts."""
    consumers: dict[Value, int] = {root: 0}
    stack = [root]
    while stack:
        v = stack.pop()
        for c in v.children:
            if c not in consumers:
                consumers[c] = 0
                stack.append(c)
            consumers[c] += 1
    grads = {v: 0.0 for v in consumers}
    grads[root] = 1.0
    ready = [root]
    while ready:
        v = ready.pop()
        for c, d in zip(v.children, v.local_grads):
            grads[c] += grads[v] * d
            consumers[c] -= 1
            if consumers[c] == 0:
                ready.append(c)
    return grads


@given(st.integers(0, 10**6))
def test_backward_matches_an_independent_reverse_pass_on_shared_dags(seed):
    leaves, root = _random_dag(seed)
    order = topological_order(root)
    pos = {v: i for i, v in enumerate(order)}
    reference = _kahn_grads(root)
    assert len(order) == len(pos) == len(reference) and order[-1] is root
    assert all(pos[c] < pos[v] for v in order for c in v.children)
    root.backward()
    for v, g in reference.items():
        assert v.grad == pytest.approx(g, rel=1e-12, abs=1e-12)


def test_backward_through_nodes_an_earlier_backward_reached():
    x = Value(0.7)
    h = x.tanh()
    y = h * 3.0
    y.backward()  # h.grad = 3 is left on the shared intermediate
    z = h * h
    z.backward()  # h must pass on only dz/dh, not its old 3
    t = math.tanh(0.7)
    assert h.grad == pytest.approx(3.0 + 2 * t)
    assert x.grad == pytest.approx((3.0 + 2 * t) * (1 - t * t))


def test_backward_of_a_leaf_adds_the_seed_to_it():
    x = Value(2.0)
    x.backward()
    x.backward(0.5)
    assert x.grad == 1.5


def test_leaves_pickle_and_op_made_values_refuse_clearly():
    w = Value(1.5, label="w")
    w.grad = 0.25
    copy = pickle.loads(pickle.dumps(w))
    assert (copy.data, copy.grad, copy.label, copy.is_leaf) == (1.5, 0.25, "w", True)
    y = copy * copy + w  # the copy joins graphs made after it
    y.backward()
    assert copy.grad == 0.25 + 3.0 and w.grad == 0.25 + 1.0
    with pytest.raises(TypeError, match=r"made by the op '\*'.*only leaves can be pickled"):
        pickle.dumps(w * 2.0)


def test_million_op_chain_needs_no_recursion():
    limit = sys.getrecursionlimit()
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    assert sys.getrecursionlimit() == limit
    zero_grad(y)
    assert x.grad == 0.0
    assert grad(y, [x]) == [1.0]


def _graph_bytes(backprop: bool) -> int:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        w = Value(0.999)
        x = Value(0.5)
        for _ in range(20_000):
            x = (x * w).tanh() + 0.001
        if backprop:
            x.backward()
        peak = tracemalloc.get_traced_memory()[0] - base
        del x
        left = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    return peak, left


@pytest.mark.parametrize("backprop", [False, True])
def test_dropped_graph_is_freed_without_the_cyclic_gc(backprop):
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        peak, left = _graph_bytes(backprop)
    finally:
        if was_enabled:
            gc.enable()
    assert peak > 20_000 * 100  # the graph really was built
    assert left < 10_000  # only w and a few constants remain


def test_no_grad_builds_leaves_and_is_per_thread():
    a = Value(2.0)
    with no_grad():
        b = a * a
        assert not is_grad_enabled()
        with enable_grad():
            assert (a * a).op == "*"
    assert b.is_leaf and b.data == 4.0 and is_grad_enabled()

    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def other_thread():
        inside.wait()
        seen["op"] = (a * a).op
        release.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with no_grad():
        inside.set()
        release.wait(5)
    t.join()
    assert seen["op"] == "*"


def test_grad_leaves_dot_grad_untouched():
    x, y = Value(2.0), Value(3.0)
    z = x * y + x.exp()
    gx, gy = grad(z, [x, y])
    assert gx == pytest.approx(3.0 + math.exp(2.0)) and gy == 2.0
    assert x.grad == 0.0 and y.grad == 0.0 and z.grad == 0.0
    assert grad(z, x) == gx
    assert grad(z, [Value(1.0)]) == [0.0]
    with pytest.raises(TypeError, match="inputs"):
        grad(z, [1.0])


def test_higher_order_derivatives():
    x = Value(0.7)
    y = x.sin() * x**3
    d1 = grad(y, x, create_graph=True)
    d2 = grad(d1, x, create_graph=True)
    d3 = grad(d2, x)
    s, c = math.sin(0.7), math.cos(0.7)
    t = 0.7
    assert d1.data == pytest.approx(c * t**3 + 3 * s * t**2, rel=1e-12)
    assert d2.data == pytest.approx(-s * t**3 + 6 * c * t**2 + 6 * s * t, rel=1e-12)
    assert d3 == pytest.approx(-c * t**3 - 9 * s * t**2 + 18 * c * t + 6 * s, rel=1e-12)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.tanh(),
        lambda x: x.sigmoid(),
        lambda x: x.softplus(),
        lambda x: x.exp() / (x * x + 1),
        lambda x: (x * x + 1).log(),
        lambda x: (x * x + 1).sqrt(),
        lambda x: 2**x,
        lambda x: (x * x + 1) ** x,
        lambda x: x.cos() * x.sin(),
        lambda x: abs(x) ** 3,
        lambda x: (x * 3).relu() * x,
    ],
)
@pytest.mark.parametrize("point", [-1.3, 0.4, 2.1])
def test_second_derivative_matches_central_difference_of_first(f, point):
    x = Value(point)
    d2 = grad(grad(f(x), x, create_graph=True), x)

    def first(v):
        return grad(f(v), v, create_graph=True)

    assert d2 == pytest.approx(numerical_grad(first, [point])[0], rel=1e-5, abs=1e-7)


def test_backward_on_a_derivative_graph():
    x = Value(1.2)
    d1 = grad(x**3, x, create_graph=True)
    d1.backward()
    assert x.grad == pytest.approx(6 * 1.2)
