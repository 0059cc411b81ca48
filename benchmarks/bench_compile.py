"""``python benchmarks/bench_compile.py``: what ``autograd.compile`` buys, measured in one run.

Two training steps, each engine doing the same work (forward, backward, an
SGD update of every parameter), timed as the median of several steps:

* ``demo``: micrograd's demo step — MLP 2-16-16-1 (relu), 100 moons points,
  max-margin loss + 1e-4·L2.
* ``mlp784``: a 784-32-10 MLP (relu hidden, linear out), batch 32, MSE.

Engines: micrograd 0.1.0 (when importable, or ``--micrograd-python``), the
eager deltaw engine (micrograd's graph of binary nodes, and one ``dot`` node
per neuron), the compiled graph (``fn(x)`` writes every ``p.grad``, then the
same Python SGD loop; and ``fn.run`` on arrays with a numpy SGD update, the
cost of the numbers alone; numpy's BLAS on one thread), and PyTorch float64 on one thread
(``--torch-python``, or torch importable here; its rows are skipped when
absent).  Trace + compile time and the compiled graph's memory are reported.

Ratios are between engines measured in this same run.  Nothing here is a
pass/fail timing test.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

# One thread everywhere, like the torch rows (set before numpy loads its BLAS).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.cases import moons  # noqa: E402  (micrograd's demo data, shared with the main suite)

# ---- problems, identical for every engine ----------------------------------------------------


def mnist_like(batch: int = 32, seed: int = 2) -> tuple[list[list[float]], list[list[float]]]:
    """A batch of 784-pixel inputs in [0, 1) and one-hot targets over 10 classes."""
    rng = random.Random(seed)
    X = [[rng.random() for _ in range(784)] for _ in range(batch)]
    T = [[1.0 if j == k % 10 else 0.0 for j in range(10)] for k in range(batch)]
    return X, T


def init_weights(sizes: list[int], seed: int) -> list[tuple[list[list[float]], list[float]]]:
    """U(-1, 1)/sqrt(fan_in) weights and zero biases, per layer: the same numbers for every engine."""
    rng = random.Random(seed)
    layers = []
    for nin, nout in zip(sizes, sizes[1:]):
        scale = 1.0 / math.sqrt(nin)
        layers.append(([[rng.uniform(-1, 1) * scale for _ in range(nin)] for _ in range(nout)], [0.0] * nout))
    return layers


PROBLEMS = {
    "demo": {"sizes": [2, 16, 16, 1], "loss": "max_margin", "lr": 0.5},
    "mlp784": {"sizes": [784, 32, 10], "loss": "mse", "lr": 0.1},
}


def problem_data(name: str) -> tuple[list, list]:
    return moons() if name == "demo" else mnist_like()


# ---- scalar engines: micrograd and deltaw's eager graph ---------------------------------------


def _scalar_loss(inputs: list, layers: list, Y: list, loss: str, style: str, dot: Any = None):
    """The loss graph over input Values, built micrograd's way (chains of + nodes) or with dot nodes."""
    params = [p for W, b in layers for row in W for p in row] + [p for _, b in layers for p in b]
    outs = []
    for h in inputs:
        for k, (W, b) in enumerate(layers):
            if style == "dot":
                z = [dot(w, h, bias) for w, bias in zip(W, b)]
            else:
                z = [sum((wi * xi for wi, xi in zip(w, h)), bias) for w, bias in zip(W, b)]
            h = [v.relu() for v in z] if k < len(layers) - 1 else z
        outs.append(h)
    if loss == "max_margin":
        losses = [(1 + -yi * o[0]).relu() for yi, o in zip(Y, outs)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + 1e-4 * sum(p * p for p in params), params
    terms = [(o - t) ** 2 for out, target in zip(outs, Y) for o, t in zip(out, target)]
    return sum(terms) * (1.0 / len(terms)), params


def scalar_steps(engine: str, name: str, steps: int) -> dict[str, float]:
    """Seconds per step (median) of micrograd or the eager deltaw engine."""
    if engine == "micrograd":
        from micrograd.engine import Value

        dot, style = None, "chain"
    else:
        from autograd import Value, dot

        style = "dot" if engine == "deltaw-dot" else "chain"
    sys.setrecursionlimit(10_000_000)  # micrograd's topological sort recurses once per node
    spec = PROBLEMS[name]
    X, Y = problem_data(name)
    layers = [
        ([[Value(w) for w in row] for row in W], [Value(b) for b in bs])
        for W, bs in init_weights(spec["sizes"], seed=1337)
    ]
    times, value = [], math.nan
    for _ in range(steps):
        t0 = time.perf_counter()
        loss, params = _scalar_loss([[Value(v) for v in x] for x in X], layers, Y, spec["loss"], style, dot)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= spec["lr"] * p.grad
        times.append(time.perf_counter() - t0)
        value = loss.data
        del loss
    return {"step_s": statistics.median(times), "loss": value}


# ---- the compiled graph ------------------------------------------------------------------------


def compiled_steps(name: str, steps: int, style: str) -> dict[str, float]:
    """Trace once, then steps of ``fn(x)`` + the Python SGD loop, and of ``fn.run`` + numpy SGD."""
    import numpy as np

    from autograd import Value, dot
    from autograd.compiler import compile as trace

    spec = PROBLEMS[name]
    X, Y = problem_data(name)
    layers = [
        ([[Value(w) for w in row] for row in W], [Value(b) for b in bs])
        for W, bs in init_weights(spec["sizes"], seed=1337)
    ]
    inputs = [[Value(v) for v in x] for x in X]

    gc.collect()
    t0 = time.perf_counter()
    loss, params = _scalar_loss(inputs, layers, Y, spec["loss"], style, dot)  # inputs: the leaves compiled
    t1 = time.perf_counter()
    flat_inputs = [v for row in inputs for v in row]
    tracemalloc.start()  # a first trace measures memory (tracemalloc slows it down) ...
    trace(loss, inputs=flat_inputs, parameters=params)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    gc.collect()
    t2 = time.perf_counter()  # ... a second one the time
    fn = trace(loss, inputs=flat_inputs, parameters=params)
    t3 = time.perf_counter()
    from autograd import topological_order

    nodes = len(topological_order(loss))
    fn.root = None  # keep only the compiled form: the traced Value graph can be freed
    del loss
    gc.collect()
    xs = np.asarray(X, dtype=np.float64).ravel()
    lr = spec["lr"]
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        for p in params:
            p.grad = 0.0
        fn(xs)
        for p in params:
            p.data -= lr * p.grad
        times.append(time.perf_counter() - t)
    call_times = []  # the compiled call alone: read .data, forward, backward, add to .grad
    for _ in range(steps):
        t = time.perf_counter()
        fn(xs)
        call_times.append(time.perf_counter() - t)
    # Arrays only: the parameters as one vector, updated with numpy.
    order = fn.parameters
    w = np.array([p.data for p in order])
    array_times = []
    for _ in range(steps * 4):
        t = time.perf_counter()
        value, gw, _ = fn.run(xs, params=w)
        w -= lr * gw
        array_times.append(time.perf_counter() - t)
    fwd_bwd = []
    for _ in range(steps * 4):
        t = time.perf_counter()
        fn.run(xs, params=w)
        fwd_bwd.append(time.perf_counter() - t)
    return {
        "step_s": statistics.median(times),
        "array_step_s": statistics.median(array_times),
        "call_s": statistics.median(call_times),
        "fwd_bwd_s": statistics.median(fwd_bwd),
        "build_s": t1 - t0,
        "compile_s": t3 - t2,
        "compile_peak_mb": peak / 1e6,
        "resident_mb": fn.nbytes / 1e6,
        "nodes": nodes,
        "groups": fn.n_groups,
        "slots": fn.n_slots,
    }


# ---- PyTorch (benchmark-only, optional) -------------------------------------------------------


def torch_steps(name: str, steps: int) -> dict[str, float]:
    """The same step with float64 tensors on one thread: forward, backward, SGD."""
    import torch

    torch.set_num_threads(1)
    spec = PROBLEMS[name]
    X, Y = problem_data(name)
    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(Y, dtype=torch.float64)
    params = []
    for W, b in init_weights(spec["sizes"], seed=1337):
        params += [
            torch.tensor(W, dtype=torch.float64, requires_grad=True),
            torch.tensor(b, dtype=torch.float64, requires_grad=True),
        ]
    lr = spec["lr"]
    times = []
    for _ in range(steps + 3):
        t = time.perf_counter()
        h = x
        for k in range(0, len(params), 2):
            h = h @ params[k].T + params[k + 1]
            if k + 2 < len(params):
                h = torch.relu(h)
        if spec["loss"] == "max_margin":
            loss = torch.relu(1 - y * h[:, 0]).mean() + 1e-4 * sum((p * p).sum() for p in params)
        else:
            loss = ((h - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        times.append(time.perf_counter() - t)
    return {"step_s": statistics.median(times[3:]), "loss": float(loss), "torch": torch.__version__}


# ---- orchestration -------------------------------------------------------------------------------


def _worker(python: str, kind: str, name: str, steps: int) -> dict[str, float] | None:
    """Run one measurement in a fresh process of ``python`` (micrograd's or torch's interpreter)."""
    call = "torch_steps(name, steps)" if kind == "torch_steps" else "scalar_steps('micrograd', name, steps)"
    code = (
        f"import sys, json; sys.path.insert(0, {ROOT!r}); "
        f"from benchmarks.bench_compile import {kind}; "
        f"name, steps = sys.argv[1], int(sys.argv[2]); print(json.dumps({call}))"
    )
    out = subprocess.run([python, "-c", code, name, str(steps)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"  ({kind} {name} failed: {out.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _python_with(module: str, override: str | None, env: str) -> str | None:
    if override:
        return override
    if os.environ.get(env):
        return os.environ[env]
    return sys.executable if importlib.util.find_spec(module) is not None else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", nargs="*", default=["demo", "mlp784"], choices=sorted(PROBLEMS))
    parser.add_argument("--steps", type=int, default=20, help="timed steps of the fast engines")
    parser.add_argument("--slow-steps", type=int, default=3, help="timed steps of micrograd and the eager engine")
    parser.add_argument(
        "--micrograd-784-steps", type=int, default=1, help="micrograd steps on mlp784 (~40 s each); 0 skips the row"
    )
    parser.add_argument("--micrograd-python", default=None, help="interpreter with micrograd 0.1.0")
    parser.add_argument("--torch-python", default=None, help="interpreter with torch (benchmark only)")
    args = parser.parse_args(argv)
    mg_python = _python_with("micrograd", args.micrograd_python, "DELTAW_MICROGRAD_PYTHON")
    torch_python = _python_with("torch", args.torch_python, "DELTAW_TORCH_PYTHON")
    if mg_python is None:
        print("micrograd not found (pip install micrograd==0.1.0 or --micrograd-python): its rows are skipped")
    if torch_python is None:
        print("torch not found (--torch-python or DELTAW_TORCH_PYTHON): its rows are skipped")
    for name in args.problems:
        print(f"[{name}]", file=sys.stderr)
        results: dict[str, dict[str, float] | None] = {}
        mg_steps = args.slow_steps if name == "demo" else args.micrograd_784_steps
        results["micrograd"] = _worker(mg_python, "scalar_steps", name, mg_steps) if mg_python and mg_steps else None
        eager_steps = args.slow_steps if name == "demo" else 1
        results["deltaw eager (binary nodes)"] = scalar_steps("deltaw", name, eager_steps)
        results["deltaw eager (dot nodes)"] = scalar_steps("deltaw-dot", name, args.slow_steps)
        results["compiled (traced from binary nodes)"] = compiled_steps(name, args.steps, "chain")
        results["compiled (traced from dot nodes)"] = compiled_steps(name, args.steps, "dot")
        results["torch"] = _worker(torch_python, "torch_steps", name, args.steps * 5) if torch_python else None
        mg = results["micrograd"]
        tr = results["torch"]
        print(
            f"\n## {name}: MLP {'-'.join(map(str, PROBLEMS[name]['sizes']))}, "
            f"{'100 points, max-margin + L2' if name == 'demo' else 'batch 32, MSE'} "
            f"(median step, forward + backward + SGD)\n"
        )
        print("| engine | step | vs micrograd | vs torch f64 1 thread |")
        print("|---|---|---|---|")

        for label, r in results.items():
            if r is None:
                continue
            print(_table_row(label, r["step_s"], mg, tr))
            if "array_step_s" in r:
                arrays_only = label.replace("compiled", "compiled, arrays only (fn.run + numpy SGD)")
                print(_table_row(arrays_only, r["array_step_s"], mg, tr))
        for label in ("compiled (traced from binary nodes)", "compiled (traced from dot nodes)"):
            r = results[label]
            assert r is not None
            print(
                f"\n{label}: graph of {int(r['nodes']):,} nodes built in {r['build_s']:.2f} s, traced + "
                f"compiled in {r['compile_s']:.2f} s (peak {r['compile_peak_mb']:.0f} MB while compiling) "
                f"into {int(r['groups'])} groups over {int(r['slots']):,} slots; resident "
                f"{r['resident_mb']:.2f} MB; one fn(x) call (Values read and written, no SGD) "
                f"{_fmt_time(r['call_s'])}; forward+backward on arrays alone {_fmt_time(r['fwd_bwd_s'])}"
            )
        if tr:
            print(f"\ntorch {tr['torch']}, float64, 1 thread: {_fmt_time(tr['step_s'])} per step")
    print()


def _table_row(label: str, seconds: float, mg: dict[str, Any] | None, tr: dict[str, Any] | None) -> str:
    """One row of a problem's table: the step time and how it compares with micrograd and torch."""
    vs_mg = f"{mg['step_s'] / seconds:,.0f}x" if mg else "-"
    if not tr:
        vs_t = "-"
    elif seconds >= tr["step_s"]:
        vs_t = f"{seconds / tr['step_s']:.2f}x slower"
    else:
        vs_t = f"{tr['step_s'] / seconds:.2f}x faster"
    return f"| {label} | {_fmt_time(seconds)} | {vs_mg} | {vs_t} |"


def _fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} µs"


if __name__ == "__main__":
    main()
