"""``python -m benchmarks.bench_trace``: how long ``autograd.compile`` takes to trace a graph.

Each run is a fresh process (a graph of 1.7 million Values leaves the
allocator and the cycle collector in a state that would bias the next run):
it builds one graph of ``bench_compile``'s problems, micrograd's way (chains
of binary ``+``/``*`` nodes) or with one ``dot`` node per neuron, then times
``compile(loss, inputs=..., parameters=...)`` in CPU time.  The build runs
with the cycle collector on, as user code does; that part is not ours and
is reported apart.  ``--memory`` adds the trace's peak traced allocation
(tracemalloc, which slows the trace itself: its time is then not reported).

Medians over ``--runs`` processes.  Nothing here is a pass/fail timing test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

GRAPHS = [("demo", "binary"), ("demo", "dot"), ("ce784", "binary"), ("ce784", "dot")]


def one_run(name: str, style: str, memory: bool) -> dict[str, Any]:
    """Build the graph and trace it once in this process; the numbers as a dict."""
    from autograd import Value, dot
    from autograd.compiler import compile
    from benchmarks.bench_compile import PROBLEMS, _scalar_loss, init_weights, problem_data

    spec = PROBLEMS[name]
    X, Y = problem_data(name)
    one_hot = spec["loss"] == "cross_entropy"
    inputs = [[Value(v) for v in x] for x in X]
    targets = [[Value(v) for v in y] for y in Y] if one_hot else Y
    layers = [
        ([[Value(w) for w in row] for row in W], [Value(b) for b in bs]) for W, bs in init_weights(spec["sizes"], 1337)
    ]
    t0 = time.process_time()
    loss, params = _scalar_loss(inputs, layers, targets, spec["loss"], style, dot)
    t1 = time.process_time()
    flat = [v for row in inputs for v in row] + ([v for row in targets for v in row] if one_hot else [])
    if memory:
        import tracemalloc

        tracemalloc.start()
    t2 = time.process_time()
    fn = compile(loss, inputs=flat, parameters=params)
    t3 = time.process_time()
    out: dict[str, Any] = {"nodes": fn.n_traced, "build": t1 - t0, "trace": t3 - t2}
    if memory:
        out["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per graph (median)")
    parser.add_argument("--graphs", nargs="*", default=[f"{n}:{s}" for n, s in GRAPHS], help="problem:style")
    parser.add_argument("--memory", action="store_true", help="also the trace's peak memory (tracemalloc)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, style = args.child.split(":")
        print(json.dumps(one_run(name, style, args.memory)))
        return
    for graph in args.graphs:
        cmd = [sys.executable, "-m", "benchmarks.bench_trace", "--child", graph] + (["--memory"] if args.memory else [])
        runs = [
            json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout) for _ in range(args.runs)
        ]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        times = ", ".join(f"{r['trace']:.3f}" for r in runs)
        line = f"{graph:14s} {int(med['nodes']):>9,d} nodes: build {med['build']:.2f} s, "
        if args.memory:  # tracemalloc slows the trace: its time means nothing then
            print(line + f"trace's peak {med['peak_mb']:.0f} MB (tracemalloc)", flush=True)
        else:
            print(line + f"trace {med['trace']:.3f} s CPU (median of {times})", flush=True)


if __name__ == "__main__":
    main()
