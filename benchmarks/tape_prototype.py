"""``python -m benchmarks.tape_prototype``: would an array tape make ``backward()`` flat in graph size?

Issue 15 asks for ``backward()`` per node on random DAGs at 10⁶ nodes within 1.3x of 10³.  The
engine's nodes are Python objects: backward reads every operand through a pointer to a random
place in memory, so per-node time grows with the graph once it leaves the caches (see
``benchmarks.dag_floor``).  The alternative is a *tape*: each op, as it is made, appends its
operands' creation numbers and its local derivatives to flat arrays (``array('q')``/``array('d')``,
numbers unboxed), and backward walks the arrays from the root down, adding into one array of
gradients; it never touches a node object.  This prototype measures both sides of that trade in
fresh processes (medians of ``--rounds``), next to the engine as it is:

- ``backward``: the engine's ``root.backward()`` on the ``dag`` case's graphs (``near`` operands, or
  ``anywhere`` in the graph);
- ``tape``: the array walk over the same graph's tape, recorded while the graph was built;
- ``forward``: ns per op of the ``chain`` case's forward ``x = x*b + c`` (the ``dag`` sizes are
  chain lengths here), made by the engine as it is;
- ``tape_forward``: the same with each node also appended to the tape (the node keeps its slots:
  ``children`` and ``.data`` need them; only the two derivative slots move to the tape).

The recording replaces ``autograd.value``'s node makers with copies that also append (no wrapper
call); the tape's index is the creation number minus the first one recorded, padded for numbers
not recorded (leaves); an n-ary node keeps its operands in a side table.  What the prototype
leaves out (an engine would need it): leaves' gradients written back to ``.grad``, ``.grad`` of
op-made nodes read from the tape, a tape that frees itself when its nodes die, nodes made long
before the graph (a heap, as ``backward`` has), and threads (the tape's order must match creation
order).  CPU ns per op-made node; the last column is 10⁶ over 10³.  Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from array import array
from typing import Any

from .cases import DAG_SIZES, random_dag

MEASURES = ("backward", "tape", "forward", "tape_forward")


class Tape:
    """Flat arrays, one entry per creation number from ``base``: operands' tape indices (-1: none,
    -2: n-ary, in ``nary``) and local derivatives."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.a = array("q")
        self.b = array("q")
        self.da = array("d")
        self.db = array("d")
        self.nary: dict[int, tuple[array[int], array[float]]] = {}

    def pad(self, k: int) -> None:
        """Fill the entries up to index ``k`` (numbers that were not recorded: leaves)."""
        n = k - len(self.a)
        self.a.extend(array("q", [-1]) * n)
        self.b.extend(array("q", [-1]) * n)
        self.da.extend(array("d", [0.0]) * n)
        self.db.extend(array("d", [0.0]) * n)


def record_into(tape: Tape) -> None:
    """Make ``autograd.value``'s node makers append every new op-made node to ``tape``."""
    from autograd import node, value

    new, cls, seq, enabled, nary_mark = node._new, node._cls, node.next_seq, node._grad_enabled, node.NARY
    base = tape.base
    ta, tb, tda, tdb, side = tape.a.append, tape.b.append, tape.da.append, tape.db.append, tape.nary

    def binary(op: Any, a: Any, b: Any, z: float, da: float, db: float) -> Any:
        v = new(cls)
        k = seq()
        v._seq = k
        v.data = z
        v.grad = 0.0
        v.label = ""
        v._op = op
        v._a = a
        v._b = b
        k -= base
        if len(tape.a) != k:
            tape.pad(k)
        ta(a._seq - base)
        tb(b._seq - base)
        tda(da)
        tdb(db)
        return v

    def unary(op: Any, a: Any, z: float, d: float) -> Any:
        v = new(cls)
        k = seq()
        v._seq = k
        v.data = z
        v.grad = 0.0
        v.label = ""
        v._op = op
        v._a = a
        v._b = None
        k -= base
        if len(tape.a) != k:
            tape.pad(k)
        ta(a._seq - base)
        tb(-1)
        tda(d)
        tdb(0.0)
        return v

    def nary(op: Any, items: tuple[Any, ...], z: float, ds: tuple[Any, ...]) -> Any:
        v = new(cls)
        k = seq()
        v._seq = k
        v.data = z
        v.grad = 0.0
        v.label = ""
        v._op = op
        v._a = items
        v._b = nary_mark
        k -= base
        if len(tape.a) != k:
            tape.pad(k)
        side[k] = (array("q", [c._seq - base for c in items]), array("d", ds))
        ta(-2)
        tb(-1)
        tda(0.0)
        tdb(0.0)
        return v

    assert enabled()
    value._record, value._record1, value._record_n = binary, unary, nary


def walk(tape: Tape, root: int) -> array[float]:
    """Every gradient under the tape's node ``root``, newest first: one array, no node touched."""
    a_of, b_of, da_of, db_of, side = tape.a, tape.b, tape.da, tape.db, tape.nary
    grads = array("d", bytes(8 * (root + 1)))
    grads[root] = 1.0
    for k in range(root, -1, -1):
        g = grads[k]
        if not g:
            continue
        a = a_of[k]
        if a < 0:
            if a == -2:
                ks, ds = side[k]
                for c, d in zip(ks, ds):
                    grads[c] += g * d
            continue
        grads[a] += g * da_of[k]
        b = b_of[k]
        if b >= 0:
            grads[b] += g * db_of[k]
    return grads


def _dag(n: int, near: bool, taped: bool, seed: int = 0) -> tuple[Any, Tape]:
    from autograd.node import next_seq

    tape = Tape(next_seq() + 1)
    if taped:
        record_into(tape)
    return random_dag(_value(), n, near, seed=seed), tape


def _value() -> Any:
    from autograd import Value

    return Value


def _chain(n: int) -> float:
    """CPU ns per op of the chain case's forward (whatever node makers are in place)."""
    Value = _value()
    a, b, c = Value(0.5), Value(0.999), Value(0.001)
    gc.collect()
    t = time.thread_time()
    x = a
    for _ in range(n):
        x = x * b + c
    return (time.thread_time() - t) / (2 * n) * 1e9


def measure(what: str, n: int, near: bool) -> float:
    """One measure at one size in this process: CPU ns per op-made node (or per op)."""
    from autograd import topological_order
    from autograd.node import next_seq

    if what in ("forward", "tape_forward"):
        if what == "tape_forward":
            record_into(Tape(next_seq() + 1))
        _chain(2_000)  # warm up
        return _chain(n)
    taped = what == "tape"
    for seed in (1, 2):  # warm the code up (CPython specializes bytecode after a few calls)
        root, tape = _dag(500, near, taped, seed)
        walk(tape, root._seq - tape.base) if taped else root.backward()
    root, tape = _dag(n, near, taped)
    count = sum(1 for v in topological_order(root) if not v.is_leaf)
    gc.collect()
    t = time.thread_time()
    walk(tape, root._seq - tape.base) if taped else root.backward()
    return (time.thread_time() - t) / count * 1e9


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tape_prototype", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DAG_SIZES))
    parser.add_argument("--measures", nargs="*", default=list(MEASURES), choices=MEASURES)
    args = parser.parse_args(argv)
    rows = [(m, g) for m in args.measures for g in (("near", "anywhere") if m in ("backward", "tape") else ("chain",))]
    table: dict[tuple[str, str], dict[int, list[float]]] = {r: {n: [] for n in args.sizes} for r in rows}
    for r in range(args.rounds):
        for m, g in rows:  # rounds alternate between measures, so machine noise hits all alike
            for n in args.sizes:
                cmd = [sys.executable, "-m", "benchmarks.tape_prototype", "--one", m, str(n), g]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                table[m, g][n].append(json.loads(out.stdout))
        print(f"  round {r + 1}/{args.rounds}", file=sys.stderr)
    sizes = args.sizes
    print("| measure | graph | " + " | ".join(f"{n:.0e}" for n in sizes) + f" | {sizes[-1]:.0e} / {sizes[0]:.0e} |")
    print("|---" * (len(sizes) + 3) + "|")
    for m, g in rows:
        med = [statistics.median(table[m, g][n]) for n in sizes]
        print(f"| {m} | {g} | " + " | ".join(f"{x:.0f}" for x in med) + f" | {med[-1] / med[0]:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "near")))
    else:
        main()
