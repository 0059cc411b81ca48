"""``python benchmarks/bench_compile.py``: what ``autograd.compile`` buys, measured in one run.

Training steps, each engine doing the same work (forward, backward, an
optimizer update of every parameter), timed as the median of many steps:

* ``demo``: micrograd's demo step — MLP 2-16-16-1 (relu), 100 moons points,
  max-margin loss + 1e-4·L2, SGD.
* ``ce784``: a 784-32-10 MLP (relu hidden, linear out), batch 32,
  cross-entropy, with SGD and with Adam (micrograd has no exp/log: no row).
* ``mlp784``: the same MLP with MSE and SGD (micrograd can run it; not by default).

Engines: micrograd 0.1.0 (when importable, or ``--micrograd-python``), the
eager deltaw engine (micrograd's graph of binary nodes, and one ``dot`` node
per neuron), the compiled graph with the Values written every step (``fn(x)``
then the Python SGD loop over ``p.data``, as before arrays were kept), the
compiled graph with the optimizer bound to its arrays (``fn.bind(opt)``; then
``opt.zero_grad(); fn(x); opt.step()`` touches no Value: how ``fit(compile=True)``
trains),
and PyTorch float64 on one thread with ``torch.optim`` (``--torch-python``, or
torch importable here; its rows are skipped when absent).  numpy's BLAS runs
on one thread too.  Trace + compile time and the compiled graph's memory are
reported.  ``--profile`` prints where a bound step's time goes (cProfile).

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


PROBLEMS: dict[str, dict[str, Any]] = {
    "demo": {"sizes": [2, 16, 16, 1], "loss": "max_margin", "lr": 0.5, "optimizers": ["sgd"]},
    "ce784": {"sizes": [784, 32, 10], "loss": "cross_entropy", "lr": 0.1, "optimizers": ["sgd", "adam"]},
    "mlp784": {"sizes": [784, 32, 10], "loss": "mse", "lr": 0.1, "optimizers": ["sgd"]},
}
ADAM_LR = 1e-3


def problem_data(name: str) -> tuple[list, list]:
    return moons() if name == "demo" else mnist_like()


def labels(Y: list[list[float]]) -> list[int]:
    """The class index of each one-hot row."""
    return [row.index(1.0) for row in Y]


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
    if loss == "cross_entropy":
        from nn.losses import cross_entropy, cross_entropy_one_hot

        if Y and isinstance(Y[0][0], float):  # eager: the labels as numbers
            return cross_entropy(outs, labels(Y)), params
        return cross_entropy_one_hot(outs, Y), params  # traced: one-hot rows of input Values, as fit does
    terms = [(o - t) ** 2 for out, target in zip(outs, Y) for o, t in zip(out, target)]
    return sum(terms) * (1.0 / len(terms)), params


def scalar_steps(engine: str, name: str, steps: int) -> dict[str, float]:
    """Seconds per step (median) of micrograd or the eager deltaw engine."""
    dot: Any = None
    if engine == "micrograd":
        from micrograd.engine import Value

        style = "chain"
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


def compiled_steps(name: str, steps: int, style: str, profile: bool = False) -> dict[str, Any]:
    """Trace once; then steps with the Values written (``fn(x)`` + the Python SGD loop) and steps
    with each optimizer bound to the graph's arrays (``fn.bind(opt)``; ``fn(x); opt.step()``)."""
    import numpy as np

    from autograd import Value, dot
    from autograd.compiler import compile as trace

    spec = PROBLEMS[name]
    X, Y = problem_data(name)
    inputs = [[Value(v) for v in x] for x in X]
    targets = [[Value(v) for v in y] for y in Y] if spec["loss"] == "cross_entropy" else Y

    layers = [
        ([[Value(w) for w in row] for row in W], [Value(b) for b in bs])
        for W, bs in init_weights(spec["sizes"], seed=1337)
    ]
    gc.collect()
    t0 = time.perf_counter()
    loss, params = _scalar_loss(inputs, layers, targets, spec["loss"], style, dot)  # inputs: the leaves compiled
    t1 = time.perf_counter()
    flat_inputs = [v for row in inputs for v in row]
    if spec["loss"] == "cross_entropy":
        flat_inputs += [v for row in targets for v in row]
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
    if spec["loss"] == "cross_entropy":
        xs = np.concatenate([xs, np.asarray(Y, dtype=np.float64).ravel()])
    lr = spec["lr"]
    initial = [p.data for p in params]
    out: dict[str, Any] = {
        "build_s": t1 - t0,
        "compile_s": t3 - t2,
        "compile_peak_mb": peak / 1e6,
        "resident_mb": fn.nbytes / 1e6,
        "nodes": nodes,
        "groups": fn.n_groups,
        "slots": fn.n_slots,
    }
    times = []  # the Values written every step: fn(x) adds to every p.grad, a Python loop updates p.data
    for _ in range(steps):
        t = time.perf_counter()
        for p in params:
            p.grad = 0.0
        fn(xs)
        for p in params:
            p.data -= lr * p.grad
        times.append(time.perf_counter() - t)
    out["values_step_s"] = statistics.median(times)
    out["values_call_s"] = _median_time(lambda: fn(xs), steps)
    for opt_name in spec["optimizers"]:
        for p, w in zip(params, initial, strict=True):  # every optimizer starts from the same weights
            p.data, p.grad = w, 0.0
        opt = _optimizer(opt_name, params, lr)
        fn.bind(opt)
        first = fn(xs)

        def step(fn: Any = fn, opt: Any = opt) -> None:
            opt.zero_grad()
            fn(xs)
            opt.step()

        out[f"{opt_name}_step_s"] = _median_time(step, steps * 5)
        out[f"{opt_name}_update_s"] = _median_time(opt.step, steps * 5)
        out[f"{opt_name}_loss"] = first
        if profile:
            _profile(step, f"{name} ({style}, {opt_name}), bound step")
        fn.unbind()
    out["fwd_bwd_s"] = _median_time(lambda: fn.run(xs, params=fn.param_values), steps * 5)
    return out


def _optimizer(name: str, params: list, lr: float) -> Any:
    import nn

    return nn.SGD(params, lr=lr) if name == "sgd" else nn.Adam(params, lr=ADAM_LR)


def _median_time(fn: Any, n: int) -> float:
    """The median wall time of ``n`` calls (after one untimed call)."""
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _profile(step: Any, what: str) -> None:
    """Print the functions where 300 calls of ``step`` spend their time (cProfile, own time)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(300):
        step()
    prof.disable()
    print(f"\n### where the time goes: {what}, 300 steps (cProfile, own time)\n", file=sys.stderr)
    pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(14)


# ---- PyTorch (benchmark-only, optional) -------------------------------------------------------


def torch_steps(name: str, steps: int) -> dict[str, Any]:
    """The same steps with float64 tensors on one thread and torch.optim: forward, backward, update."""
    import torch

    torch.set_num_threads(1)
    spec = PROBLEMS[name]
    X, Y = problem_data(name)
    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(labels(Y)) if spec["loss"] == "cross_entropy" else torch.tensor(Y, dtype=torch.float64)
    out: dict[str, Any] = {"torch": torch.__version__}
    for opt_name in spec["optimizers"]:
        params = []
        for W, b in init_weights(spec["sizes"], seed=1337):
            params += [
                torch.tensor(W, dtype=torch.float64, requires_grad=True),
                torch.tensor(b, dtype=torch.float64, requires_grad=True),
            ]
        opt = torch.optim.SGD(params, lr=spec["lr"]) if opt_name == "sgd" else torch.optim.Adam(params, lr=ADAM_LR)
        losses: list[float] = []

        def step(params: list = params, opt: Any = opt, losses: list = losses) -> None:
            h = x
            for k in range(0, len(params), 2):
                h = h @ params[k].T + params[k + 1]
                if k + 2 < len(params):
                    h = torch.relu(h)
            if spec["loss"] == "max_margin":
                loss = torch.relu(1 - y * h[:, 0]).mean() + 1e-4 * sum((p * p).sum() for p in params)
            elif spec["loss"] == "cross_entropy":
                loss = torch.nn.functional.cross_entropy(h, y)
            else:
                loss = ((h - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))

        step()
        out[f"{opt_name}_loss"] = losses[0]
        out[f"{opt_name}_step_s"] = _median_time(step, steps)
    return out


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
    parser.add_argument("--problems", nargs="*", default=["demo", "ce784"], choices=sorted(PROBLEMS))
    parser.add_argument("--steps", type=int, default=40, help="timed steps of the fast engines (x5 when bound)")
    parser.add_argument("--slow-steps", type=int, default=3, help="timed steps of micrograd and the eager engine")
    parser.add_argument(
        "--micrograd-784-steps", type=int, default=1, help="micrograd steps on mlp784 (~40 s each); 0 skips the row"
    )
    parser.add_argument("--micrograd-python", default=None, help="interpreter with micrograd 0.1.0")
    parser.add_argument("--torch-python", default=None, help="interpreter with torch (benchmark only)")
    parser.add_argument("--profile", action="store_true", help="print where a bound step's time goes (cProfile)")
    args = parser.parse_args(argv)
    mg_python = _python_with("micrograd", args.micrograd_python, "DELTAW_MICROGRAD_PYTHON")
    torch_python = _python_with("torch", args.torch_python, "DELTAW_TORCH_PYTHON")
    if mg_python is None:
        print("micrograd not found (pip install micrograd==0.1.0 or --micrograd-python): its rows are skipped")
    if torch_python is None:
        print("torch not found (--torch-python or DELTAW_TORCH_PYTHON): its rows are skipped")
    for name in args.problems:
        print(f"[{name}]", file=sys.stderr)
        spec = PROBLEMS[name]
        mg_steps = args.slow_steps if name == "demo" else args.micrograd_784_steps
        can_mg = mg_python and mg_steps and spec["loss"] != "cross_entropy"  # micrograd has no exp/log
        mg = _worker(mg_python, "scalar_steps", name, mg_steps) if can_mg else None  # type: ignore[arg-type]
        eager_bin = scalar_steps("deltaw", name, args.slow_steps if name == "demo" else 1)
        eager_dot = scalar_steps("deltaw-dot", name, args.slow_steps)
        comp = {style: compiled_steps(name, args.steps, style, args.profile) for style in ("chain", "dot")}
        tr = _worker(torch_python, "torch_steps", name, args.steps * 5) if torch_python else None
        _print_problem(name, mg, eager_bin, eager_dot, comp, tr)
    print()


def _print_problem(name: str, mg: Any, eager_bin: Any, eager_dot: Any, comp: dict[str, Any], tr: Any) -> None:
    """One problem's table (one row per engine and optimizer) and its notes."""
    spec = PROBLEMS[name]
    what = {"max_margin": "100 points, max-margin + L2", "cross_entropy": "batch 32, cross-entropy"}
    sizes = "-".join(map(str, spec["sizes"]))
    print(f"\n## {name}: MLP {sizes}, {what.get(spec['loss'], 'batch 32, MSE')} (median step)\n")
    print("| engine | update | step | vs micrograd | vs torch f64 1 thread (same update) |")
    print("|---|---|---|---|---|")
    sgd_torch = tr and tr.get("sgd_step_s")
    if mg:
        print(_table_row("micrograd", "SGD (Python loop)", mg["step_s"], mg, sgd_torch))
    print(_table_row("deltaw eager (binary nodes)", "SGD (Python loop)", eager_bin["step_s"], mg, sgd_torch))
    print(_table_row("deltaw eager (dot nodes)", "SGD (Python loop)", eager_dot["step_s"], mg, sgd_torch))
    for style, label in (("chain", "binary nodes"), ("dot", "dot nodes")):
        r = comp[style]
        print(
            _table_row(f"compiled from {label}, Values written", "SGD (Python loop)", r["values_step_s"], mg, sgd_torch)
        )
        for opt in spec["optimizers"]:
            t = tr and tr.get(f"{opt}_step_s")
            print(_table_row(f"compiled from {label}, arrays kept", f"nn.{_OPT[opt]}", r[f"{opt}_step_s"], mg, t))
    for opt in spec["optimizers"] if tr else []:
        print(_table_row(f"torch {tr['torch']}", f"torch.optim.{_OPT[opt]}", tr[f"{opt}_step_s"], mg, None))
    for style, label in (("chain", "binary nodes"), ("dot", "dot nodes")):
        r = comp[style]
        updates = ", ".join(f"{_OPT[o]} {_fmt_time(r[f'{o}_update_s'])}" for o in spec["optimizers"])
        print(
            f"\ncompiled from {label}: graph of {int(r['nodes']):,} nodes built in {r['build_s']:.2f} s, traced + "
            f"compiled in {r['compile_s']:.2f} s (peak {r['compile_peak_mb']:.0f} MB while compiling) "
            f"into {int(r['groups'])} groups over {int(r['slots']):,} slots; resident "
            f"{r['resident_mb']:.2f} MB; a bound step is forward+backward {_fmt_time(r['fwd_bwd_s'])} + "
            f"opt.step() ({updates}); with the Values written, fn(x) alone takes {_fmt_time(r['values_call_s'])}"
        )
    if tr:
        r = comp["dot"]
        same = ", ".join(f"{_OPT[o]} {r[f'{o}_loss']:.12g} / {tr[f'{o}_loss']:.12g}" for o in spec["optimizers"])
        print(f"\nfirst-step loss, deltaw / torch: {same}")


_OPT = {"sgd": "SGD", "adam": "Adam"}


def _table_row(label: str, update: str, seconds: float, mg: dict[str, Any] | None, torch_s: float | None) -> str:
    """One row of a problem's table: the step time and how it compares with micrograd and torch."""
    vs_mg = f"{mg['step_s'] / seconds:,.0f}x" if mg else "-"
    if not torch_s:
        vs_t = "-"
    elif seconds >= torch_s:
        vs_t = f"{seconds / torch_s:.2f}x torch's time"
    else:
        vs_t = f"{torch_s / seconds:.2f}x faster"
    return f"| {label} | {update} | {_fmt_time(seconds)} | {vs_mg} | {vs_t} |"


def _fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} µs"


if __name__ == "__main__":
    main()
