"""``python -m benchmarks.bench_rnn``: how fast an unrolled LSTM trains, fused vs micrograd-style.

One training step = unroll an LSTM (1 input, hidden size 8 by default) over a
20-step sequence, read the last hidden state out with a linear unit, MSE
against the target, ``backward()`` through time, and a plain SGD update of
every parameter.  Two constructions of the same cell, sharing the very same
parameter ``Value``s:

* ``fused``: ``nn.rnn.LSTM`` — each gate unit's pre-activation is ONE
  ``autograd.dot`` node, and c' = f·c + i·g is one more.
* ``unfused``: the cell written micrograd-style, below — every product and sum
  a binary node (``sum(w*x for ...) + b``), as micrograd's ``Neuron`` does.

Both compute the same numbers (the script checks the losses agree), so the
difference is graph construction and backprop cost alone.  Reported: graph
size, steps/second (median of ``--rounds`` rounds of ``--steps`` steps), with
Python's cycle collector running and paused (``nn.fit`` pauses it per step).
RNN and GRU fused rows show the other cells at the same size.  Nothing here is
a pass/fail timing test.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from autograd import Value, topological_order  # noqa: E402
from nn.layers import Layer  # noqa: E402
from nn.rnn import GRU, LSTM, RNN, LSTMCell  # noqa: E402


def unfused_lstm_step(cell: LSTMCell, x: list[Value], h: list[Value], c: list[Value]) -> tuple[list, list]:
    """One LSTM step from the cell's own parameters, built from binary nodes only (micrograd style).

    torch's equations and gate order (i, f, g, o): pre = Σ W_ih·x + b_ih + Σ W_hh·h + b_hh."""
    H, nin = cell.nhidden, cell.nin

    def pre(r: int) -> Value:
        acc = cell.bias_ih[r]
        for k in range(nin):
            acc = acc + cell.weight_ih[r][k] * x[k]
        for k in range(H):
            acc = acc + cell.weight_hh[r][k] * h[k]
        return acc + cell.bias_hh[r]

    h_new, c_new = [], []
    for j in range(H):
        i = pre(j).sigmoid()
        f = pre(H + j).sigmoid()
        g = pre(2 * H + j).tanh()
        o = pre(3 * H + j).sigmoid()
        cj = f * c[j] + i * g
        c_new.append(cj)
        h_new.append(o * cj.tanh())
    return h_new, c_new


def make_problem(seq: int, hidden: int, seed: int) -> dict:
    model = LSTM(1, hidden, seed=seed)
    head = Layer(hidden, 1, activation="linear", init="uniform", seed=seed + 1)
    xs = [[math.sin(0.5 * t)] for t in range(seq)]
    return {
        "model": model,
        "head": head,
        "xs": xs,
        "target": math.sin(0.5 * seq),
        "params": model.parameters() + head.parameters(),
    }


def loss_fused(p: dict, rnn=None) -> Value:
    outs, _ = (rnn or p["model"])(p["xs"])
    return (p["head"](outs[-1]) - p["target"]) ** 2


def loss_unfused(p: dict) -> Value:
    cell = p["model"].cells[0]
    h = [Value(0.0) for _ in range(cell.nhidden)]
    c = [Value(0.0) for _ in range(cell.nhidden)]
    for x in p["xs"]:
        h, c = unfused_lstm_step(cell, [Value(v) for v in x], h, c)
    y = p["head"].neurons[0]
    out = y.b
    for w, hj in zip(y.w, h):
        out = out + w * hj
    return (out - p["target"]) ** 2


def train_step(build: Callable[[], Value], params: list[Value], lr: float = 0.01) -> float:
    for q in params:
        q.grad = 0.0
    loss = build()
    loss.backward()
    for q in params:
        q.data -= lr * q.grad
    return loss.data


def steps_per_second(build: Callable[[], Value], params: list[Value], steps: int, rounds: int, pause_gc: bool) -> float:
    rates = []
    for _ in range(rounds):
        gc.collect()
        if pause_gc:
            gc.disable()
        try:
            t0 = time.perf_counter()
            for _ in range(steps):
                train_step(build, params)
            dt = time.perf_counter() - t0
        finally:
            gc.enable()
        rates.append(steps / dt)
    return statistics.median(rates)


def run(seq: int = 20, hidden: int = 8, steps: int = 20, rounds: int = 7, seed: int = 0) -> dict:
    p = make_problem(seq, hidden, seed)
    a, b = loss_fused(p).data, loss_unfused(p).data
    if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
        raise AssertionError(f"fused and unfused LSTMs disagree: {a!r} vs {b!r}")
    start = [q.data for q in p["params"]]
    rows = {}
    for name, build in (
        ("LSTM fused (dot)", lambda: loss_fused(p)),
        ("LSTM unfused (binary)", lambda: loss_unfused(p)),
    ):
        for q, v in zip(p["params"], start):  # every row trains from the same weights
            q.data = v
        nodes = len(topological_order(build()))
        rows[name] = {
            "nodes": nodes,
            "steps_per_s_gc": steps_per_second(build, p["params"], steps, rounds, pause_gc=False),
            "steps_per_s_gc_paused": steps_per_second(build, p["params"], steps, rounds, pause_gc=True),
        }
    for kind in (RNN, GRU):
        rnn = kind(1, hidden, seed=seed)
        params = rnn.parameters() + p["head"].parameters()

        def build(rnn=rnn) -> Value:
            return loss_fused(p, rnn)

        rows[f"{kind.__name__} fused (dot)"] = {
            "nodes": len(topological_order(build())),
            "steps_per_s_gc": steps_per_second(build, params, steps, rounds, pause_gc=False),
            "steps_per_s_gc_paused": steps_per_second(build, params, steps, rounds, pause_gc=True),
        }
    return {
        "seq": seq,
        "hidden": hidden,
        "steps": steps,
        "rounds": rounds,
        "python": platform.python_version(),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seq", type=int, default=20, help="sequence length (default 20)")
    ap.add_argument("--hidden", type=int, default=8, help="hidden size (default 8)")
    ap.add_argument("--steps", type=int, default=20, help="training steps per round (default 20)")
    ap.add_argument("--rounds", type=int, default=7, help="rounds; the median is reported (default 7)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    res = run(args.seq, args.hidden, args.steps, args.rounds)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(
        f"LSTM/GRU/RNN training step: 1 input, hidden {res['hidden']}, {res['seq']} steps unrolled, batch 1, "
        f"SGD; median of {res['rounds']} rounds x {res['steps']} steps (Python {res['python']})"
    )
    print(f"{'construction':<24}{'nodes':>8}{'steps/s':>10}{'steps/s (gc paused)':>22}")
    for name, r in res["rows"].items():
        print(f"{name:<24}{r['nodes']:>8}{r['steps_per_s_gc']:>10.1f}{r['steps_per_s_gc_paused']:>22.1f}")
    fused, unfused = res["rows"]["LSTM fused (dot)"], res["rows"]["LSTM unfused (binary)"]
    print(
        f"fused / unfused LSTM: {fused['steps_per_s_gc'] / unfused['steps_per_s_gc']:.2f}x steps/s "
        f"({fused['steps_per_s_gc_paused'] / unfused['steps_per_s_gc_paused']:.2f}x with gc paused), "
        f"{unfused['nodes'] / fused['nodes']:.2f}x fewer nodes"
    )


if __name__ == "__main__":
    main()
