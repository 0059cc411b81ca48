"""``python -m benchmarks.dag_floor``: where ``backward()``'s time per node goes on the random DAGs.

For each size, in fresh processes (medians of ``--rounds``), the ``dag`` case's graph (operands
near) is built and one measure is taken on it, right after the build (hot at 10³, mostly cold at
10⁶, as ``backward`` is after a forward pass); the code is warmed up on a small DAG first:

- ``backward``: the whole call (one walk that orders and propagates, ``autograd.node.backpropagate``);
- ``walk``: ``reverse_creation_order`` alone (ordering, no arithmetic; what ``topological_order`` uses);
- ``gradients``: the plain gradient loop alone over the order made beforehand: what any engine
  with this node layout pays even if ordering were free;
- ``operands``: a loop that only reads every operand's ``_a`` slot, newest node first (the access
  pattern of reverse-mode on this graph: each node is first met as an operand, up to ~64 nodes
  ahead of the walk, so outside the hardware prefetcher's stream);
- ``numbers``: that loop plus what ordering needs from each op-made operand, its bucket number
  ``top - operand._seq`` (a separate int object, and a new int per subtraction);
- ``buckets``: that plus the write into the bucket list;
- ``touch``: a loop reading one slot of every node, newest first (each node once, in memory order).

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

MEASURES = ("backward", "walk", "gradients", "buckets", "numbers", "operands", "touch")


def _order(root: Any) -> list[Any]:
    from autograd.node import reverse_creation_order

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


def _run(what: str, root: Any) -> float:
    """CPU seconds of ``what`` on the graph under ``root``."""
    nodes = _order(root) if what not in ("backward", "walk") else []
    steps = {
        "backward": root.backward,
        "walk": lambda: _order(root),
        "gradients": lambda: _gradients(root, nodes),
        "buckets": lambda: _scan(root, nodes, 2),
        "numbers": lambda: _scan(root, nodes, 1),
        "operands": lambda: _scan(root, nodes, 0),
        "touch": lambda: _touch(nodes),
    }
    gc.collect()
    c0 = time.thread_time()
    steps[what]()
    return time.thread_time() - c0


def measure(what: str, n: int) -> dict[str, float]:
    """One measure at one size in this process: CPU ns per op-made node."""
    from autograd import Value

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
