"""``python -m benchmarks.bench_viz``: how long viz takes to draw big graphs and networks, and dot to lay them out.

The cases are the ones the viz tests check for structure (tests/test_viz_graph.py,
tests/test_viz_network.py); their timing lives here, not in the tests.  Each
figure is the median of ``--rounds`` runs of building the DOT text and, when
the system ``dot`` is installed, of rendering it to SVG.  The "budget" column
is the time the README promises ("seconds, not minutes"); a case over it is
marked, nothing fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import nn  # noqa: E402
import viz  # noqa: E402
from autograd import Value, topological_order  # noqa: E402
from viz.renderers import find_renderer, pipe  # noqa: E402


def mlp_batch_loss(n: int, fused: bool) -> Value:
    """micrograd's moons MLP(2, [16, 16, 1]) over ``n`` samples: a 30,000-node graph."""
    model = nn.MLP(2, [16, 16, 1], activation="tanh", seed=0, fused=fused)
    X, y = nn.make_moons(n, noise=0.1, seed=0)
    loss = nn.mse_loss([model(list(x)) for x in X], [float(t) for t in y])
    loss.backward()
    return loss


def hub_chain() -> Value:
    """No parameter names; one input feeds ops all along a 30,000-node chain (long edges for dot)."""
    x = Value(0.5)
    y = x
    for i in range(15_000):
        y = (y * 1.0001).tanh() if i % 2 else y + x
    return y


def lstm_unrolled(steps: int = 40) -> tuple[Any, Value]:
    """An LSTM cell unrolled ``steps`` times (every weight feeds every step), and the cell."""
    cell = nn.rnn.LSTMCell(3, 8, seed=0)
    rng = random.Random(0)
    h = None
    for _ in range(steps):
        h = cell([rng.uniform(-1, 1) for _ in range(3)], h)
    out = sum(h[0])
    out.backward()
    return cell, out


def trained(nin: int, sizes: list[int]) -> tuple[Any, Any, list[float]]:
    """An MLP after two SGD steps with momentum, its optimizer and one sample."""
    model = nn.MLP(nin, sizes, activation="tanh", seed=0)
    X, y = nn.make_moons(8, noise=0.1, seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        loss = nn.mse_loss([model(list(map(float, x))) for x in X], [float(t) for t in y])
        loss.backward()
        opt.step()
    return model, opt, [float(v) for v in X[0]]


def cases() -> list[tuple[str, Callable[[], Any], float, float]]:
    """(name, make the drawing, budget to draw in s, budget to render in s)."""
    unfused = mlp_batch_loss(50, fused=False)
    fused = mlp_batch_loss(430, fused=True)
    hub = hub_chain()
    cell, lstm = lstm_unrolled()
    small, small_opt, small_x = trained(2, [8, 8, 1])
    big, big_opt, big_x = trained(2, [50, 50, 1])
    return [
        (
            f"draw_graph MLP unfused ({len(topological_order(unfused))} nodes)",
            lambda: viz.draw_graph(unfused, lr=0.1),
            5,
            30,
        ),
        (f"draw_graph MLP fused ({len(topological_order(fused))} nodes)", lambda: viz.draw_graph(fused, lr=0.1), 5, 30),
        (f"draw_graph hub chain ({len(topological_order(hub))} nodes)", lambda: viz.draw_graph(hub), 5, 30),
        (f"draw_graph LSTM x40 ({len(topological_order(lstm))} nodes)", lambda: viz.draw_graph(lstm, lr=0.1), 2, 15),
        ("draw_graph LSTM x40, model=cell", lambda: viz.draw_graph(lstm, lr=0.1, model=cell), 2, 15),
        ("draw_network MLP 2-8-8-1", lambda: viz.draw_network(small, optimizer=small_opt, inputs=small_x), 0.5, 10),
        ("draw_network MLP 2-50-50-1", lambda: viz.draw_network(big, optimizer=big_opt, inputs=big_x), 1, 10),
    ]


def median_time(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times = []
    out = None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="runs per figure (median shown)")
    ap.add_argument("--render-rounds", type=int, default=1, help="dot runs per figure")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    r = find_renderer()
    dot = r is not None and r.name == "graphviz"
    results = []
    for name, make, draw_budget, render_budget in cases():
        draw_s, g = median_time(make, args.rounds)
        render_s = median_time(lambda g=g: pipe(g, "svg"), args.render_rounds)[0] if dot else None
        results.append(
            dict(name=name, draw_s=draw_s, draw_budget_s=draw_budget, render_s=render_s, render_budget_s=render_budget)
        )
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'case':<44} {'draw s':>8} {'budget':>7} {'dot s':>8} {'budget':>7}")
    for x in results:
        over = " !" if x["draw_s"] > x["draw_budget_s"] else ""
        rs = "n/a" if x["render_s"] is None else f"{x['render_s']:.2f}"
        rover = " !" if x["render_s"] is not None and x["render_s"] > x["render_budget_s"] else ""
        budgets = f"{x['draw_budget_s']:>7g}{over:2} {rs:>8} {x['render_budget_s']:>7g}{rover}"
        print(f"{x['name']:<44} {x['draw_s']:>8.3f} {budgets}")
    if not dot:
        print("(no system dot: render times not measured; apt-get install graphviz)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
