"""The contracts between ``autograd.compiler``'s phases: trace, grouping, layout (index arrays).

End-to-end agreement with eager lives in ``test_compile.py``; these pin what
each phase promises the next, where a wrong answer would otherwise show up
only as a slow replay or a last-bit difference.
"""

from __future__ import annotations

import gc
import random

import numpy as np
import pytest

from autograd import Value, dot, no_grad, vsum
from autograd.compiler import compile, graph
from autograd.compiler.grouping import Grouping
from autograd.compiler.index import Access, Index
from autograd.compiler.trace import ELEM, LEAF, SOP, Trace
from autograd.node import is_leaf, operands


def test_a_chain_of_plus_nodes_becomes_one_sum_in_eager_order():
    ws = [Value(float(k)) for k in range(50)]
    xs = [Value(-float(k)) for k in range(50)]
    b = Value(0.5)
    y = sum((w * x for w, x in zip(ws, xs)), b)  # micrograd's neuron: 100 nodes
    tr = Trace(y)
    root = tr.index[y]
    live = [i for i in range(tr.n) if tr.live(i)]
    assert live == [root] and tr.kind[root] is SOP
    a, bs, signs = tr.terms(root)
    assert a == [tr.index[b]] + [tr.index[w] for w in ws]  # the bias first: eager adds it first
    assert bs == [-1] + [tr.index[x] for x in xs] and signs == [1.0] * 51


def test_a_shared_sum_is_not_inlined_and_negation_flips_signs():
    x, w = Value(1.0), Value(2.0)
    s = x * w + x  # used twice below: stays a node of its own
    t = s.tanh()
    y = t - (-s)
    tr = Trace(y)
    assert tr.live(tr.index[s]) and tr.kind[tr.index[t]] is ELEM
    assert not tr.live(tr.index[y.children[1]])  # the neg node is inlined into y ...
    assert tr.terms(tr.index[y]) == ([tr.index[t], tr.index[s]], [-1, -1], [1.0, 1.0])  # ... as t + s


def test_subtracted_products_keep_their_signs_inside_a_chain():
    b, ws, xs = Value(0.25), [Value(1.5), Value(-2.0), Value(0.75)], [Value(3.0), Value(0.5), Value(-1.0)]
    y = b - ws[0] * xs[0] + ws[1] * xs[1] - ws[2] * xs[2]
    tr = Trace(y)
    assert tr.live_nodes() == [tr.index[y]]
    a, bs, signs = tr.terms(tr.index[y])
    assert a == [tr.index[v] for v in [b, *ws]] and bs == [-1] + [tr.index[x] for x in xs]
    assert signs == [1.0, -1.0, 1.0, -1.0]


def _every_kind_of_node() -> Value:
    """A graph with each flattening case: chains, shared sums, neg, sum, dot, elementwise, x + x."""
    rnd = random.Random(5)
    xs = [Value(rnd.uniform(-1, 1)) for _ in range(6)]
    with no_grad():
        frozen = xs[0] * 2.0  # made under no_grad: a leaf
    s = xs[0] * xs[1] + xs[2]  # used twice: stays a node
    t = (s + s).tanh() - (-(xs[3] * xs[4]))
    u = vsum([t, s, frozen, (xs[5] - 1.0).relu()])
    return dot([u, s], [t, xs[1]], 0.5) * u + (u - s) ** 2


def test_the_trace_bookkeeping_matches_a_plain_walk():
    """uses, leaves and live nodes, computed in bulk, against their definitions node by node."""
    tr = Trace(_every_kind_of_node())
    uses = [0] * tr.n
    for v in tr.order:
        for c in operands(v):
            uses[tr.index[c]] += 1
    assert tr.uses == uses
    assert tr.leaves == [i for i, v in enumerate(tr.order) if is_leaf(v)]
    live = [i for i in range(tr.n) if tr.kind[i] is not LEAF and not tr.absorbed[i]]
    assert tr.live_nodes() == live and len(live) > 5 and any(tr.absorbed)


def test_compile_pauses_the_cycle_collector_and_restores_its_state(monkeypatch):
    """The trace's millions of temporaries are acyclic: the collector only rescans them."""
    seen = []

    def spy(root: Value) -> Trace:
        seen.append(gc.isenabled())
        return Trace(root)

    monkeypatch.setattr(graph, "Trace", spy)
    x = Value(1.5)
    y = x * x + 1.0
    was = gc.isenabled()
    try:
        gc.enable()
        compile(y, inputs=[x])
        assert gc.isenabled()
        gc.disable()
        compile(y, inputs=[x])
        assert not gc.isenabled()
        gc.enable()
        with pytest.raises(ValueError, match="not leaves of the traced graph"):
            compile(y, inputs=[x], parameters=[Value(2.0)])  # raised while paused
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False, False, False]


def test_a_dense_layer_is_one_matmul_group():
    rnd = random.Random(1)
    W = [[Value(rnd.uniform(-1, 1)) for _ in range(5)] for _ in range(3)]
    X = [[Value(rnd.uniform(-1, 1)) for _ in range(5)] for _ in range(4)]
    y = sum((dot(w, x) for w in W for x in X), Value(0.0))
    g = Grouping(Trace(y))
    assert len(g.dense) == 1
    (block,) = g.dense.values()
    assert len(block.rows) == 3 and len(block.cols) == 4 and len(block.cell) == 12


@pytest.mark.parametrize(
    "slots, access",
    [
        ([3, 4, 5, 6], Access.SLICE),
        ([[3, 4], [5, 6]], Access.SLICE),
        ([[3, 5], [4, 6]], Access.SLICE_T),
        ([6, 3, 4], Access.TAKE),
        ([2, 7, 2, 2], Access.TAKE),
    ],
)
def test_index_gathers_and_scatter_adds_every_repeat(slots, access):
    ix = Index(slots)
    assert ix.access is access
    val, grad = np.arange(10.0) * 1.5, np.zeros(10)
    ix.bind(val, grad)
    assert ix.gather(val).tolist() == val[np.array(slots)].tolist()
    x = np.arange(1.0, 1.0 + np.size(slots)).reshape(np.shape(slots))
    ix.scatter_add(grad, x)
    expected = np.zeros(10)
    np.add.at(expected, np.array(slots), x)  # unbuffered: every repeated slot counted
    assert grad.tolist() == expected.tolist()


def _tiny_loss(seed: int) -> tuple[Value, list[Value]]:
    rnd = random.Random(seed)
    ws = [Value(rnd.uniform(-1, 1)) for _ in range(4)]
    xs = [Value(rnd.uniform(-1, 1)) for _ in range(4)]
    return (dot(ws, xs).tanh() - 0.5) ** 2, xs


def test_replay_keeps_parameters_in_its_value_array_between_runs():
    """The array-level step issue 15 builds on: parameters live in ``param_values`` (a view of
    the value array), a run with ``params=None`` uses them as they are, and SGD applied to
    that view trains exactly like SGD on the Values."""
    on_arrays = compile(*_tiny_loss(3))
    on_values = compile(*_tiny_loss(3))
    replay = on_arrays._replay
    replay.param_values[:] = [p.data for p in on_arrays.parameters]
    for batch in ([0.3, -0.2, 0.9, 0.1], [0.5, 0.5, -0.7, 0.2], [-0.1, 0.4, 0.4, 0.8]):
        value = replay.run(np.array(batch), None)  # parameters: whatever the slots hold
        replay.param_values -= 0.1 * replay.grad[replay.param_start : replay.param_stop]
        for p in on_values.parameters:
            p.grad = 0.0
        assert on_values(batch) == value
        for p in on_values.parameters:
            p.data -= 0.1 * p.grad
    assert replay.param_values.tolist() == [p.data for p in on_values.parameters]
    assert [p.data for p in on_arrays.parameters] != replay.param_values.tolist()  # the Values were not written
