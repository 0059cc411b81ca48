"""One tanh neuron, z = w₁x₁ + w₂x₂ + b and o = tanh(z): the chain rule for each weight.

Backprop is the chain rule applied node by node from the output back.  For
this neuron ∂o/∂w₁ = ∂o/∂z · ∂z/∂w₁ = (1 − o²) · x₁: the error signal
δ = ∂o/∂z of the neuron times the input that the weight multiplies.  With
x = (2, 0), w = (−3, 1) and b = 6.8814, z ≈ 0.8814 and o = tanh(z) ≈ 0.7071,
so δ = 1 − o² = 0.5: w₁ gets 0.5 · 2 = 1, w₂ gets 0.5 · 0 = 0 (its input is
zero, so it cannot change the output), b gets 0.5 · 1.  The text below is
written by ``viz.explain`` from this graph's numbers, each factor checked
against the engine; then one plain gradient-descent step Δw = −η·∂o/∂w is
applied and the graph is drawn with data, grad and that Δw on every weight.

    python -m examples.neuron --lr 0.1
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python examples/neuron.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import Value, dot
from examples._common import main_guard, picture, setup, viz_function
from nn import SGD


def options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lr", type=float, default=0.1, help="learning rate η of the update (default 0.1)")


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    args = setup(__doc__, argv, options)
    lr = args.extra.lr
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    z = dot([w1, w2], [x1, x2], b)  # z = w1·x1 + w2·x2 + b as one node, as nn's neurons compute it
    z.label = "z"
    o = z.tanh()
    o.label = "o"
    o.backward()
    print(f"forward:  z = w1*x1 + w2*x2 + b = {z.data:.4f}    o = tanh(z) = {o.data:.4f}")
    print(f"backward: δ = do/dz = 1 - o² = {1 - o.data**2:.4f}  (the engine says {z.grad:.4f})")
    for w, x in ((w1, x1), (w2, x2), (b, None)):
        factor = f"δ · {x.label} = {z.grad:.4f} · {x.data:g}" if x is not None else f"δ · 1 = {z.grad:.4f}"
        print(f"  do/d{w.label:<2} = {factor:<22} = {w.grad:+.4f}")
    explain = viz_function("explain")
    if explain is not None:
        print(f"\nviz.explain(w1, o, lr={lr:g}):")
        print(explain(w1, o, lr=lr))

    opt = SGD([w1, w2, b], lr=lr)
    before = {w.label: w.data for w in (w1, w2, b)}
    opt.step()  # Δw = −η·∂o/∂w, recorded in opt.deltas
    print(f"\none step of gradient descent, η = {lr:g}:")
    for w in (w1, w2, b):
        print(f"  Δ{w.label:<2} = {opt.deltas[w]:+.4f}   {w.label}: {before[w.label]:+.4f} -> {w.data:+.4f}")
    picture(
        args,
        "draw_graph",
        args.out / "neuron_graph.svg",
        o,
        optimizer=opt,
        what="the neuron's graph with data, grad and the Δw SGD applied",
    )
    return {"o": o.data, "dw1": opt.deltas[w1], "dw2": opt.deltas[w2], "db": opt.deltas[b]}


if __name__ == "__main__":
    main_guard(main)
