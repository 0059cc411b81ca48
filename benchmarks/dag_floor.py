"""``python -m benchmarks.dag_floor``: where ``backward()``'s time per node goes on the random DAGs.

For each size, in fresh processes (medians of ``--rounds``), the ``dag`` case's graph (operands
near) is built and one measure is taken on it, right after the build (hot at 10³, mostly cold at
10⁶, as ``backward`` is after a forward pass); the code is warmed up on a small DAG first:

- ``backward``: the whole call (one walk that orders and propagates, ``autograd.walk.backpropagate``);
- ``walk``: ``reverse_creation_order`` alone (ordering, no arithmetic; what ``topological_order`` uses);
- ``gradients``: the plain gradient loop alone over the order made beforehand: what any engine
  with this node layout pays even if ordering were free;
- ``operands``: a loop that only reads every operand's ``_a`` slot, newest node first (the access
  pattern of reverse-mode on this graph: each node is first met as an operand, up to ~64 nodes
  ahead of the walk, so outside the hardware prefetcher's stream);
- ``numbers``: that loop plus what ordering needs from each op-made operand, its bucket number
  ``top - operand._seq`` (a separate int object, and a new int per subtraction);
- ``buckets``: that plus the write into the bucket list;
- ``touch``: a loop reading one slot of every node, newest first (each node once, in memory order);
- ``stream``: a prototype of a walk that never reads an op-made operand before it reaches it:
  each consumer holds its operands' offsets (its creation number minus theirs, filled in after
  the build here; an engine would fill them at creation), the buckets hold the consumer and which of its
  slots is the operand, gradients gather in a list by bucket, and a node's ``.grad`` is written
  once when the walk reaches it (leaves as ``backward`` does them);
- ``first_read``: that walk, but the bucket takes the operand itself when it is first found (one
  read of the operand, ~64 nodes ahead of the walk).

The two prototypes' graphs are made of a ``Value`` subclass with the two offset slots (16 bytes
more per node); they run one window spanning the graph (no heap for far nodes).  Measured
(engine2, issue 15, medians of 5, ns/node 10³ → 10⁶): ``backward`` 212 → 436 (2.05x),
``stream`` 193 → 326 (1.69x), ``first_read`` 189 → 352 (1.86x).  So not reading operands ahead
removes about a third of the growth, not all of it.  Built into ``backward`` (offsets filled at
creation, far nodes kept) it measured 257 → 404 against 205 → 431, with a chain's forward 12%
slower, its backward 38% slower and the demo steps 16-19% slower: in CPython the bookkeeping costs
more than the cache misses it saves, so ``backward`` does not do this.

CPU ns per op-made node; the last column is 10⁶ over 10³.  Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from .cases import DAG_SIZES, random_dag

MEASURES = ("backward", "walk", "gradients", "buckets", "numbers", "operands", "touch", "stream", "first_read")
PROTOTYPES = ("stream", "first_read")


def _order(root: Any) -> list[Any]:
    from autograd.walk import reverse_creation_order

    return reverse_creation_order(root)[0]


def _touch(nodes: list[Any]) -> None:
    for v in nodes:
        v.grad  # noqa: B018


def _scan(root: Any, nodes: list[Any], level: int) -> None:
    """Newest node first, read each operand's ``_a`` (is it a leaf?); from ``level`` 1 also each
    op-made operand's bucket number ``top - operand._seq``; at ``level`` 2 also fill its bucket."""
    from autograd.node import NARY

    top = root._seq
    slots: list[Any] = [None] * (top - nodes[-1]._seq + 1) if level == 2 else []
    for v in nodes:
        a = v._a
        b = v._b
        for c in a if b is NARY else (a,) if b is None else (a, b):
            if c._a is not None and level:
                j = top - c._seq
                if level == 2 and slots[j] is None:
                    slots[j] = c


def _gradients(root: Any, nodes: list[Any]) -> None:
    """The plain gradient loop over an order made beforehand: each node adds grad·derivative to
    its operands (what the old second pass did, and the least any ordering leaves to do)."""
    from autograd.node import NARY

    root.grad = 1.0
    for v in nodes:
        g = v.grad
        if not g:
            continue
        a = v._a
        b = v._b
        if b is None:
            a.grad += g * v._da
        elif b is NARY:
            for c, d in zip(a, v._da):
                c.grad += g * d
        else:
            a.grad += g * v._da
            b.grad += g * v._db


def _offset_class() -> type:
    """A ``Value`` with the prototype's offset slots, made the class of every new op-made node."""
    from autograd import Value
    from autograd.node import bind

    cls = type("OffsetValue", (Value,), {"__slots__": ("_oa", "_ob")})
    bind(cls)
    return cls


def _fill_offsets(nodes: list[Any]) -> None:
    """Oldest first, give each op-made node its operands' offsets: > 0 an op-made operand that
    many creation numbers back, 0 a leaf, -1 no operand; ``_oa = -2`` marks an n-ary node."""
    from autograd.node import NARY

    for v in reversed(nodes):
        a, b = v._a, v._b
        if b is NARY:
            v._oa = v._ob = -2
            continue
        v._oa = 0 if a._a is None else v._seq - a._seq
        v._ob = -1 if b is None else 0 if b._a is None else v._seq - b._seq


def _stream(root: Any, nodes: list[Any], via_consumer: bool) -> None:
    """The prototype walk (see the module's docstring); one window spanning the graph, and the
    n-ary root's operands found by their creation numbers."""
    seen: set[Any] = set()
    leaves: list[Any] = []
    holding: list[Any] = []
    held: list[float] = []
    top = root._seq
    size = top - nodes[-1]._seq + 1
    slots: list[Any] = [None] * size
    kind = [0] * size  # 0 empty, 1 the node, 2 / 3 its consumer's _a / _b
    acc = [0.0] * size
    slots[0], kind[0], acc[0] = root, 1, 1.0
    for i in range(size):
        k = kind[i]
        if not k:
            continue
        if k == 2:
            v = slots[i]._a
            slots[i] = v
        elif k == 3:
            v = slots[i]._b
            slots[i] = v
        else:
            v = slots[i]
        h = v.grad
        if h:
            holding.append(v)
            held.append(h)
        g = acc[i]
        v.grad = g
        o = v._oa
        if o == -2:
            for c, d in zip(v._a, v._da):
                if c._a is None:
                    if c not in seen:
                        seen.add(c)
                        leaves.append(c)
                    c.grad += g * d
                else:
                    j = top - c._seq
                    if not kind[j]:
                        kind[j], slots[j] = 1, c
                    acc[j] += g * d
            continue
        if o > 0:
            j = i + o
            if not kind[j]:
                if via_consumer:
                    kind[j], slots[j] = 2, v
                else:
                    kind[j], slots[j] = 1, v._a
            if g:
                acc[j] += g * v._da
        else:
            _leaf_term(v._a, g, v._da, seen, leaves)
        o = v._ob
        if o > 0:
            j = i + o
            if not kind[j]:
                if via_consumer:
                    kind[j], slots[j] = 3, v
                else:
                    kind[j], slots[j] = 1, v._b
            if g:
                acc[j] += g * v._db
        elif o == 0:
            _leaf_term(v._b, g, v._db, seen, leaves)


def _leaf_term(c: Any, g: float, d: float, seen: set[Any], leaves: list[Any]) -> None:
    if c not in seen:
        seen.add(c)
        leaves.append(c)
    if g:
        c.grad += g * d


def _run(what: str, root: Any) -> float:
    """CPU seconds of ``what`` on the graph under ``root``."""
    nodes = _order(root) if what not in ("backward", "walk") else []
    if what in PROTOTYPES:
        _fill_offsets(nodes)
    steps = {
        "backward": root.backward,
        "walk": lambda: _order(root),
        "gradients": lambda: _gradients(root, nodes),
        "buckets": lambda: _scan(root, nodes, 2),
        "numbers": lambda: _scan(root, nodes, 1),
        "operands": lambda: _scan(root, nodes, 0),
        "touch": lambda: _touch(nodes),
        "stream": lambda: _stream(root, nodes, True),
        "first_read": lambda: _stream(root, nodes, False),
    }
    gc.collect()
    c0 = time.thread_time()
    steps[what]()
    return time.thread_time() - c0


def measure(what: str, n: int) -> dict[str, float]:
    """One measure at one size in this process: CPU ns per op-made node."""
    from autograd import Value

    if what in PROTOTYPES:
        _offset_class()
    for seed in (1, 2):  # warm the code up (CPython specializes bytecode after a few calls)
        _run(what, random_dag(Value, 500, near=True, seed=seed))
    root = random_dag(Value, n, near=True)
    t = _run(what, root)
    count = len(_order(root))
    return {"ns": t / count * 1e9, "nodes": count}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dag_floor", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DAG_SIZES))
    parser.add_argument("--measures", nargs="*", default=list(MEASURES), choices=MEASURES)
    args = parser.parse_args(argv)
    table: dict[str, dict[int, list[float]]] = {m: {n: [] for n in args.sizes} for m in args.measures}
    for r in range(args.rounds):
        for m in args.measures:
            for n in args.sizes:
                out = subprocess.run(
                    [sys.executable, "-m", "benchmarks.dag_floor", "--one", m, str(n)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                table[m][n].append(json.loads(out.stdout)["ns"])
        print(f"  round {r + 1}/{args.rounds}", file=sys.stderr)
    sizes = args.sizes
    print("| measure | " + " | ".join(f"{n:.0e}" for n in sizes) + f" | {sizes[-1]:.0e} / {sizes[0]:.0e} |")
    print("|---" * (len(sizes) + 2) + "|")
    for m in args.measures:
        med = [statistics.median(table[m][n]) for n in sizes]
        print(f"| {m} | " + " | ".join(f"{x:.0f}" for x in med) + f" | {med[-1] / med[0]:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
