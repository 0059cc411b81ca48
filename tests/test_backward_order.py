"""backward()'s order (buckets by creation number, autograd.node.reverse_creation_order) held to a
reference that knows nothing of it: every gradient bit for bit as a plain pass newest-first gives,
on graphs that share nodes, reuse old ones, start mid-graph and meet gradients left by earlier calls."""

import random
import threading
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, dot, topological_order, vsum


def _age(k: int) -> None:
    """Take ``k`` creation numbers with throwaway leaves: the graph built next is that much younger."""
    for _ in range(k):
        Value(0.0)


def _reference(root: Value, seed: float = 1.0) -> dict[Value, float]:
    """What backward(root, seed) leaves in every .grad under root, computed on the side: nodes found
    through .children, op-made ones taken newest first by creation number, each passing
    grad·derivative to its operands in operand order (leaves accumulate, held gradients are added
    back at the end), the semantics backward promises."""
    nodes = {root: None}
    stack = [root]
    while stack:
        for c in stack.pop().children:
            if c not in nodes:
                nodes[c] = None
                stack.append(c)
    interior = sorted((v for v in nodes if not v.is_leaf), key=lambda v: v._seq, reverse=True)
    grads = {v: v.grad if v.is_leaf else 0.0 for v in nodes}
    grads[root] = seed
    for v in interior:
        g = grads[v]
        if g:
            for c, d in zip(v.children, v.local_grads):
                grads[c] += g * d
    for v in interior:
        grads[v] += v.grad
    return grads


def _assert_backward_matches(root: Value, seed: float = 1.0) -> None:
    expected = _reference(root, seed)
    root.backward(seed)
    wrong = [(v, v.grad, g) for v, g in expected.items() if v.grad != g]
    assert wrong == []


def _assert_creation_order(root: Value) -> None:
    order = topological_order(root)
    assert order == sorted(order, key=lambda v: v._seq)
    assert len(set(order)) == len(order) == len(_reference(root))


def _sums_of_many(x: Value, n: int) -> Value:
    """``n`` consumers of x whose gradients x adds up: the order of that sum shows in the last bit."""
    return vsum([x * (0.1 + i / 7) for i in range(n)])


def test_deep_shared_diamonds():
    x = Value(0.3)
    y = x
    for i in range(2_000):  # each level consumes the one below three times, through three branches
        y = y * 0.999 + (y.tanh() * (1 + i % 3 / 10)) * (y * 0.7).sin() * 0.01
    assert 0.1 < y.data < 10
    _assert_creation_order(y)
    _assert_backward_matches(y)
    assert 1e-4 < abs(x.grad) < 1e4  # the gradient neither vanished nor blew up on the way down


def test_a_node_consumed_by_many():
    x = Value(0.37)
    hub = x.tanh()
    terms = [hub * (i / 9 + 0.1) for i in range(3_000)]
    _age(500)  # unrelated nodes between the consumers and the sum
    random.Random(2).shuffle(terms)  # consumed in another order than made: sums must still go newest first
    root = vsum(terms) + _sums_of_many(hub, 50) * hub
    _assert_creation_order(root)
    _assert_backward_matches(root)


def test_backward_from_an_intermediate_node_and_then_from_the_root():
    rng = random.Random(5)
    ws = [Value(rng.uniform(-1, 1)) for _ in range(6)]
    pool = list(ws)
    for _ in range(3_000):
        a, b = rng.choice(pool[-40:]), rng.choice(pool)
        pool.append((a * b + 0.2).tanh() if rng.random() < 0.6 else a * 0.9 + b * 0.1)
    mid = pool[len(pool) // 2]
    root = vsum(pool[-30:])
    _assert_backward_matches(mid, 0.75)  # newer nodes are not under mid: their .grad stays 0
    assert all(v.grad == 0.0 for v in pool[len(pool) // 2 + 1 :])
    _assert_backward_matches(root)  # mid's part of the graph now holds gradients
    _assert_backward_matches(root, -1.5)  # and again: leaves and intermediates accumulate exactly


def test_old_nodes_far_behind_the_graph():
    x = Value(0.4)
    old = (x * 1.1).tanh()  # an op-made node from long before the graph that reuses it
    older = old * old
    _age(20_000)
    y = x * old
    for i in range(300):
        if i % 50 == 0:
            _age(3_000)  # gaps wider than a dense window
        y = (y * 0.9 + old * (i / 300)).tanh() + older * 0.01
    _assert_creation_order(y)
    _assert_backward_matches(y)
    _assert_backward_matches(y)


def test_operands_spread_over_exponentially_wider_gaps():
    x = Value(0.8)
    nodes = []
    for k in range(14):
        nodes.append((x * (k + 1) / 20).tanh())
        _age(2**k)
    root = vsum(nodes[::-1]) * nodes[3] + dot(nodes[:4], nodes[4:8], nodes[-1])
    _assert_creation_order(root)
    _assert_backward_matches(root)


def test_an_old_node_costs_no_memory_for_the_numbers_made_since():
    x = Value(0.5)
    old = x.tanh()
    _age(300_000)
    y = old * 2.0 + old.exp()
    expected = _reference(y)
    tracemalloc.start()
    try:
        y.backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [v.grad for v in expected] == list(expected.values())
    assert peak < 50_000  # one bucket per creation number back to `old` would take 2.4 MB


@st.composite
def aged_dags(draw):
    """A random DAG: operands near or anywhere, gaps of unrelated nodes, old nodes reused."""
    rng = random.Random(draw(st.integers(0, 10**6)))
    leaves = [Value(rng.uniform(-1, 1)) for _ in range(draw(st.integers(1, 5)))]
    pool = list(leaves)
    for _ in range(draw(st.integers(1, 120))):
        if rng.random() < 0.1:
            _age(rng.choice([1, 30, 400, 2_000]))
        a = rng.choice(pool[-3:]) if rng.random() < 0.7 else rng.choice(pool)
        b, c = rng.choice(pool), rng.choice(pool)
        kind = rng.randrange(4)
        if kind == 0:
            out = a * b
        elif kind == 1:
            out = (a + b * 0.5).tanh()
        elif kind == 2:
            out = dot([a, b, c], [c, a, b], a).tanh()
        else:
            out = vsum([a, b, c, a]) * 0.25
        pool.append(out)
    ends = draw(st.integers(1, 6))
    return vsum(pool[-ends:]) if ends > 1 else pool[-1] * 1.0, pool


@settings(max_examples=150)
@given(aged_dags(), st.floats(-2, 2).filter(bool))
def test_random_aged_dags_match_the_reference_exactly(case, seed):
    root, pool = case
    _assert_creation_order(root)
    _assert_backward_matches(root, seed)
    inner = pool[len(pool) // 2]
    if not inner.is_leaf:
        _assert_backward_matches(inner)
    _assert_backward_matches(root)


def test_concurrent_walks_of_one_graph_agree():
    x = Value(0.2)
    y = x
    for i in range(20_000):
        y = (y * 0.999 + x * (i % 7) / 1e4) if i % 3 else y * y.tanh() + 0.5
    expected = topological_order(y)
    results: list[bool] = []

    def walk() -> None:
        results.extend(topological_order(y) == expected for _ in range(3))

    threads = [threading.Thread(target=walk) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 12
