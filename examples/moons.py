"""micrograd's demo, trained with deltaw: an MLP(2, [16, 16, 1]) learns the two moons.

The recipe is micrograd's: 100 points of two interleaving half circles with
labels ±1, a network of two hidden relu layers of 16 and a linear output,
the max-margin loss mean(relu(1 − y·score)) plus 1e-4·Σw², and 100 steps of
full-batch SGD whose learning rate falls linearly from 1.0 to 0.1.  Every step
builds the loss graph of all 100 points (a few tens of thousands of nodes),
backprops through it, and updates all 337 weights; ``optimizer.deltas``
records each Δw.  We print the loss and accuracy as training goes, then draw
the loss curve, the decision boundary, the network with its last Δw on every
edge, and an animation of the boundary taking shape.

    python -m examples.moons --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/moons.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples._common import DeltaMeter, main_guard, moons, picture, setup, viz_function, wrote
from nn import MLP, SGD, LinearLR, fit


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = setup(__doc__, argv)
    steps = args.pick(100, 3)
    X, y = moons(args.pick(100, 30), args.seed)
    labels = y * 2 - 1  # the max-margin loss wants -1 / +1
    model = MLP(2, [16, 16, 1], seed=args.seed)  # relu hidden layers, linear output: micrograd's model
    opt = SGD(model.parameters(), lr=1.0)
    schedule = LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)  # micrograd: 1.0 - 0.9·k/100
    meter = DeltaMeter()
    callbacks: list[Any] = [meter]
    Frames = viz_function("FrameRecorder") if args.pictures else None
    frames = None
    if Frames is not None:
        frames = Frames("boundary", every=max(1, steps // 10), X=X, y=labels)
        callbacks.append(frames)
    print(
        f"MLP(2, [16, 16, 1]): {len(model.parameters())} weights; {len(X)} moons; {steps} steps of SGD, "
        f"lr 1.0 -> 0.1, max-margin loss + 1e-4·Σw²"
    )
    hist = fit(
        model,
        X,
        labels,
        loss="hinge",
        optimizer=opt,
        scheduler=schedule,
        epochs=steps,
        l2=1e-4,
        seed=args.seed,
        progress=not args.quick,
        callbacks=callbacks,
    )
    for k in sorted({0, *range(9, steps, 10), steps - 1}):
        print(
            f"step {k:3d}  loss {hist.loss[k]:.4f}  accuracy {hist.accuracy[k]:4.0%}  lr {hist.lr[k]:.3f}  "
            f"mean |Δw| {meter.per_step[k]:.2e}"
        )
    perfect = next((k for k, a in enumerate(hist.accuracy) if a == 1.0), None)
    print(f"first step at 100% training accuracy: {perfect if perfect is not None else 'not reached'}")

    picture(
        args,
        "plot_losses",
        args.out / "moons_loss.png",
        hist,
        title="micrograd's moons: loss per step",
        what="loss curve",
    )
    picture(args, "plot_deltas", args.out / "moons_deltas.png", hist, what="mean |Δw| per layer per step")
    picture(
        args,
        "plot_decision_boundary",
        args.out / "moons_boundary.png",
        model,
        X,
        labels,
        title=f"decision boundary after {steps} steps",
        what="decision boundary",
    )
    picture(
        args,
        "draw_network",
        args.out / "moons_network.svg",
        model,
        optimizer=opt,
        what="the network with w, ∂L/∂w and the last Δw on every edge",
    )
    animate = viz_function("animate") if frames is not None else None
    if animate is not None and frames.frames:
        wrote(animate(frames, args.out / "moons_training.gif"), "the decision boundary over training")
    return {"history": hist, "perfect": perfect, "mean_dw": meter.mean}


if __name__ == "__main__":
    main_guard(main)
