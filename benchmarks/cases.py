"""One benchmark case per function; each runs inside a fresh worker process and returns numbers."""

from __future__ import annotations

import gc
import math
import random
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from .engines import allow_deep_recursion, load

CHAIN_LENGTH = 100_000


def _in_big_stack(fn: Callable[[], Any]) -> Any:
    """Run fn in a thread with a large C stack (micrograd recurses once per node)."""
    threading.stack_size(1024 * 1024 * 1024)
    result: list = []
    errors: list = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]
    return result[0]


def _warm_up(Value: type) -> None:
    """A small chain forward and backward first, as in any training loop: CPython 3.11 specializes
    a function's bytecode only after its first calls, so one cold call would time the interpreter."""
    for _ in range(10):
        x = Value(0.5)
        for _ in range(100):
            x = x * Value(0.999) + Value(0.001)
        x.backward()


def chain(engine: str) -> dict[str, float]:
    """ns per op, forward and backward, of a chain of ``a = a*b + c`` (2 ops per link)."""
    Value, _ = load(engine)
    allow_deep_recursion()

    def run() -> dict[str, float]:
        _warm_up(Value)
        a, b, c = Value(0.5), Value(0.999), Value(0.001)
        c0 = time.thread_time()
        t0 = time.perf_counter()
        x = a
        for _ in range(CHAIN_LENGTH):
            x = x * b + c
        t1 = time.perf_counter()
        c1 = time.thread_time()
        x.backward()
        t2 = time.perf_counter()
        c2 = time.thread_time()
        ops = 2 * CHAIN_LENGTH
        del x, a  # the graph goes before the second forward
        out = {
            "forward_ns": (t1 - t0) / ops * 1e9,
            "backward_ns": (t2 - t1) / ops * 1e9,
            "total_ns": (t2 - t0) / ops * 1e9,
            # CPU time of this thread: the same figures without the time other processes took
            # (on a loaded machine wall-clock rounds vary by 2x; these barely move)
            "forward_cpu_ns": (c1 - c0) / ops * 1e9,
            "backward_cpu_ns": (c2 - c1) / ops * 1e9,
        }
        out["forward_no_gc_cpu_ns"] = _chain_forward_no_gc(Value) / ops * 1e9
        return out

    return _in_big_stack(run)


def _chain_forward_no_gc(Value: type) -> float:
    """CPU seconds of the same chain's forward with Python's cycle collector paused (as ``nn.fit``
    pauses it during a step): how much of the forward is the collector rescanning the graph."""
    gc.collect()
    gc.disable()
    try:
        b, c = Value(0.999), Value(0.001)
        x = Value(0.5)
        c0 = time.thread_time()
        for _ in range(CHAIN_LENGTH):
            x = x * b + c
        return time.thread_time() - c0
    finally:
        gc.enable()


def memory(engine: str) -> dict[str, float]:
    """Bytes per node of the same chain (tracemalloc), after forward and after backward."""
    Value, _ = load(engine)
    allow_deep_recursion()

    def run() -> dict[str, float]:
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        a, b, c = Value(0.5), Value(0.999), Value(0.001)
        x = a
        for _ in range(CHAIN_LENGTH):
            x = x * b + c
        built = tracemalloc.get_traced_memory()[0] - base
        x.backward()
        after = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        nodes = 2 * CHAIN_LENGTH
        return {"bytes_per_node": built / nodes, "bytes_per_node_after_backward": after / nodes}

    return _in_big_stack(run)


def moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, labels -1/+1 (micrograd's demo data, generated without sklearn)."""
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(n):
        upper = i < n // 2
        t = math.pi * rng.random()
        if upper:
            x, y = math.cos(t), math.sin(t)
        else:
            x, y = 1 - math.cos(t), 0.5 - math.sin(t)
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        ys.append(1 if upper else -1)
    return xs, ys


def _demo_step(Value: type, model: Any, params: list, X: list, y: list, k: int) -> Any:
    """One step of micrograd's demo, written as in its notebook."""
    inputs = [list(map(Value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    total = data_loss + reg_loss
    for p in params:
        p.grad = 0
    total.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in params:
        p.data -= lr * p.grad
    return total


def demo_step(engine: str, steps: int = 10) -> dict[str, float]:
    """Seconds per training step of micrograd's demo: MLP 2-16-16-1, 100 points, max-margin + L2, SGD.

    The mean over ``steps`` steps after one warm-up step: Python's cycle collector runs a full
    collection every one or two steps, so a mean over several steps counts it at its real rate
    (the median of a few steps would count it or not depending on where it happens to fall).
    """
    Value, make_mlp = load(engine)
    model, params = make_mlp(2, [16, 16, 1], seed=1337)
    X, y = moons()
    total = _demo_step(Value, model, params, X, y, 0)  # warms caches and specialized bytecode up
    nodes = 0
    if engine != "micrograd":
        from autograd import topological_order

        nodes = len(topological_order(total))
    del total
    c0 = time.thread_time()
    t0 = time.perf_counter()
    for k in range(1, steps + 1):
        _demo_step(Value, model, params, X, y, k)
    elapsed = time.perf_counter() - t0
    cpu = time.thread_time() - c0
    return {
        "step_s": elapsed / steps,
        "step_cpu_s": cpu / steps,  # CPU time of this thread (see chain)
        "nodes": float(nodes),
        "loss": _demo_step(Value, model, params, X, y, 0).data,
    }


def demo_memory(engine: str) -> dict[str, float]:
    """Peak traced bytes while one demo step builds its graph and backpropagates."""
    Value, make_mlp = load(engine)
    model, params = make_mlp(2, [16, 16, 1], seed=1337)
    X, y = moons()
    _demo_step(Value, model, params, X, y, 0)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    _demo_step(Value, model, params, X, y, 1)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {"step_peak_mb": peak / 2**20}


DAG_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def random_dag(Value: type, n: int, near: bool, seed: int = 0) -> Any:
    """About 1.4·n op-made nodes sharing operands, under one root that reaches them all.

    Each step takes a node made a few steps before and a second operand: ``near`` draws it from
    roughly the last 64 nodes (layers, unrolled loops), otherwise from the whole graph.  Steps are
    ``a*b``, ``tanh(a+b)`` or ``tanh(a)``, so values stay in [-1, 1]; the root sums every node
    nothing consumed (a loss summing terms from all over the graph).
    """
    rng = random.Random(seed)
    pool = [Value(rng.uniform(-1, 1)) for _ in range(8)]
    used: set[int] = set()
    for _ in range(n):
        k = len(pool)
        i = k - 1 - min(k - 1, int(rng.expovariate(0.5)))
        j = k - 1 - min(k - 1, int(rng.expovariate(1 / 64))) if near else rng.randrange(k)
        used.update((i, j))
        a, b = pool[i], pool[j]
        r = rng.random()
        pool.append(a * b if r < 0.5 else (a + b).tanh() if r < 0.9 else a.tanh())
    from autograd import vsum

    return vsum([v for i, v in enumerate(pool) if i not in used])


def dag(engine: str) -> dict[str, float]:
    """ns of ``backward()`` per op-made node on random DAGs with shared nodes, 10³ to 10⁶ steps."""
    Value, _ = load(engine)
    _warm_up(Value)
    random_dag(Value, 500, True).backward()  # so 10³ is not the process's first DAG backward
    out: dict[str, float] = {}
    for near in (True, False):
        for n in DAG_SIZES:
            root = random_dag(Value, n, near)
            gc.collect()
            c0 = time.thread_time()
            t0 = time.perf_counter()
            root.backward()
            t1 = time.perf_counter()
            c1 = time.thread_time()
            from autograd import topological_order

            nodes = sum(1 for v in topological_order(root) if not v.is_leaf)
            name = f"{'near' if near else 'anywhere'}_1e{len(str(n)) - 1}"
            out[f"{name}_ns"] = (t1 - t0) / nodes * 1e9
            out[f"{name}_cpu_ns"] = (c1 - c0) / nodes * 1e9
            del root
    return out


CASES: dict[str, Callable[[str], dict[str, float]]] = {
    "chain": chain,
    "memory": memory,
    "demo_step": demo_step,
    "demo_memory": demo_memory,
    "dag": dag,
}
