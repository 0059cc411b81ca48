"""backward()'s order (buckets by creation number, autograd.walk.reverse_creation_order) held to a
reference that knows nothing of it: every gradient bit for bit as a plain pass newest-first gives,
on graphs that share nodes, reuse old ones, start mid-graph and meet gradients left by earlier calls."""

import random
import threading
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import NonFiniteGradError, Value, dot, no_grad, topological_order, vsum
from autograd import walk as W


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


# backward() orders and propagates in one walk (autograd.walk.backpropagate): a node's gradient is
# complete when the walk takes it, an op-made node that held a gradient restarts from 0 when first
# found (and gets it back at the end), a node reached only through zero gradients is not found.


def _snapshot(nodes: list[Value]) -> list[float]:
    return [v.grad for v in nodes]


def _chain_of_mixed(x: Value, n: int, rng: random.Random) -> list[Value]:
    pool = [x]
    for _ in range(n):
        a, b = pool[-1], rng.choice(pool[-20:])
        pool.append((a * b + 0.3).tanh() if rng.random() < 0.5 else a * 0.8 - b * 0.1)
    return pool


def test_a_node_used_by_two_roots_gets_both_gradients_in_any_order():
    rng = random.Random(11)
    x, w = Value(0.6), Value(-0.4)
    shared = _chain_of_mixed(x * w, 400, rng)
    _age(5_000)  # the second root's own nodes are far younger than the shared ones
    left = vsum(shared[-5:]) * shared[50]
    right = (shared[-1] * shared[-2]).tanh() + shared[200] * w
    _assert_backward_matches(left)
    _assert_backward_matches(right, -0.5)  # the shared nodes hold left's gradients: added back
    _assert_backward_matches(left, 2.0)
    _assert_backward_matches(shared[300])  # an inner node of both: everything above it stays put


def test_a_graph_built_partly_under_no_grad_and_reused():
    rng = random.Random(3)
    x = Value(0.5)
    head = _chain_of_mixed(x, 100, rng)
    with no_grad():
        frozen = (head[-1] * 3.0).tanh()  # a constant: made by an op, but a leaf
        stale = head[-1] * head[-2]
    assert frozen.is_leaf and stale.is_leaf
    tail = _chain_of_mixed(head[-1] * frozen + stale, 100, rng)
    root = tail[-1] + frozen * head[10]
    _assert_backward_matches(root)
    _assert_backward_matches(root, 0.25)
    assert frozen.grad != 0.0 and stale.grad != 0.0  # leaves: they accumulate like any input


def test_nodes_reached_only_through_zero_gradients_keep_theirs():
    rng = random.Random(8)
    x = Value(0.9)
    deep = _chain_of_mixed(x, 300, rng)
    _age(3_000)
    dead = (deep[-1] - 10.0).relu()  # relu'(x) = 0 here: nothing passes below it
    live = x * 2.0
    deep[-1].backward()  # every node of the deep chain now holds a gradient
    held = _snapshot(deep)
    (dead + live).backward()
    assert _snapshot(deep[1:]) == held[1:] and x.grad == held[0] + 2.0
    _assert_backward_matches(dead * live + deep[150])


def test_an_error_restores_every_grad_across_windows_and_held_nodes():
    rng = random.Random(4)
    x, tiny = Value(0.7), Value(1e-200)
    old = _chain_of_mixed(x, 50, rng)
    spare = _chain_of_mixed(x * 0.3, 30, rng)  # as old, but no gradient yet
    _age(20_000)  # far behind: the walk takes them in a second window, from its heap
    young = _chain_of_mixed(old[-1] * 0.5, 200, rng)
    (young[-1] + old[20]).backward()  # these now hold gradients
    everything = old + spare + young + [x, tiny]
    before = _snapshot(everything)
    bad = young[-1] * old[30] + spare[-1] + 1 / (tiny * old[10])  # ∂(1/z)/∂z = -1e400: inf at the end
    with pytest.raises(NonFiniteGradError):
        bad.backward()
    assert _snapshot(everything) == before and bad.grad == 0.0


# The walks take each window's buckets with a for loop over the bucket list, which the window's
# growth (autograd.walk._beyond) extends while the loop runs: the buckets appended mid-walk must
# be taken too, and an operand found just past the window's end must land in the grown part.


def test_a_window_that_grows_many_times_mid_walk():
    x = Value(0.6)
    y = x
    for i in range(3_000):  # operands a few numbers back: the window's end is met again and again,
        y = (y * 0.999).tanh() + y * (0.001 * (i % 7 + 1))  # and y, used twice, is found twice there
    sizes = [len(w) for w in W.backpropagate(y, 1.0)[0]]
    assert len(sizes) == 1 and sizes[0] >= 64 * 2**6  # one window, doubled mid-walk at least six times
    for v in topological_order(y):
        v.grad = 0.0
    _assert_creation_order(y)
    _assert_backward_matches(y)
    _assert_backward_matches(y, -0.5)


@pytest.mark.parametrize("back", [62, 63, 64, 65, 127, 128])
def test_operands_at_and_around_the_first_window_s_end(back):
    x, w = Value(0.3), Value(-1.2)
    p = x.tanh()  # the first window is 64 buckets: the root's and 0-63 numbers back
    q = (x * w).sin()
    r = vsum([p, q, w])
    _age(back - 4)
    root = dot([p, q, r], [w, x, p], q)  # n-ary: its operands p, q and r
    assert (root._seq - p._seq, root._seq - q._seq, root._seq - r._seq) == (back, back - 2, back - 3)
    two = q * p  # binary: p one number further back than from root, q at back - 1
    assert (two._seq - q._seq, two._seq - p._seq) == (back - 1, back + 1)
    _assert_creation_order(root)
    _assert_creation_order(two)
    _assert_backward_matches(root)
    _assert_backward_matches(two)
    _assert_backward_matches(root * two + p)
    order, _, _ = W.reverse_creation_order(root * two)
    assert {p, q, r} <= set(order)
