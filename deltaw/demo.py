"""``deltaw demo`` (and ``make demo``): the guided tour, in three acts.

1. One weight learned by gradient descent, printed epoch by epoch.
2. One tanh neuron: its graph with data, grad and Δw, the chain rule for
   w1 written out with the numbers and checked against the engine, and an
   explorer page stepping through its forward pass, backprop and update.
3. A small network learning the two moons, with a progress bar, then its
   loss curve, decision boundary, network diagram, an animation and a page
   stepping through the run with every step's Δw on the network's edges.

Every number printed is computed in this run; every file written is named.
Pictures that need a part of deltaw this installation lacks (matplotlib for
plots, Graphviz for graphs) are skipped with a message saying how to get it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, NamedTuple

from autograd import Value, dot

NEURON_VALUES = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


class MoonsSettings(NamedTuple):
    """Act 3's size: moons points, SGD steps, and the learning rate the linear schedule starts at."""

    points: int
    steps: int
    lr: float


# micrograd's recipe: lr 1.0 overshoots at step 2 (seed 0: loss 0.88 -> 2.35) and the next 48 steps recover.
FULL = MoonsSettings(points=100, steps=50, lr=1.0)
# --quick: 3 steps cannot recover from that overshoot, so they start where the full schedule heads
# (lr 0.1); the same model, loss, L2 and schedule shape, and the loss falls at every step.
QUICK = MoonsSettings(points=30, steps=3, lr=0.1)


def _say(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 66 - len(title)))


def _wrote(path: Any, what: str) -> None:
    print(f"  wrote {path}  ({what})")


def _render(graph: Any, path: Path, what: str) -> Path | None:
    from viz import RendererNotFound, render

    try:
        written = render(graph, path, format=path.suffix.lstrip("."))
    except RendererNotFound as e:
        print(f"  (could not render {path.name}: {str(e).splitlines()[0]})")
        return None
    _wrote(written, what)
    return written


def _html(write: Any, path: Path, what: str) -> Path | None:
    """Write an explorer page with ``write(path)``; skipped (with why) without a Graphviz renderer."""
    from viz import RendererNotFound

    try:
        written = Path(write(path))
    except RendererNotFound as e:
        print(f"  (could not write {path.name}: {str(e).splitlines()[0]})")
        return None
    _wrote(written, what)
    return written


def _save(fig: Any, path: Path, what: str) -> Path:
    figure = getattr(fig, "figure", fig)
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(figure)
    _wrote(path, what)
    return path


def worked_example() -> float:
    """Act 1: w ← w − η·∂L/∂w for y = w·x on x = [1, 2, 3], y = [2, 4, 6]; returns the final w."""
    from nn import SGD, mse_loss

    _say("1. One weight, one update at a time")
    xs, ys = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    w = Value(0.0, label="w")
    opt = SGD([w], lr=0.01)
    print("L = mean((y - w*x)^2) on x = [1, 2, 3], y = [2, 4, 6]; w starts at 0, lr = 0.01")
    for epoch in range(50):
        opt.zero_grad()
        loss = mse_loss([w * x for x in xs], ys)
        loss.backward()
        opt.step()
        if epoch % 10 == 0:
            print(
                f"Epoch {epoch} | Loss: {loss.data:.4f} | Weight: {w.data:.4f}"
                f"   (dL/dw = {w.grad:+.4f}, Δw = {opt.deltas[w]:+.4f})"
            )
    return w.data


def neuron(out: Path, lr: float = 0.1) -> Value:
    """Act 2: o = tanh(w1·x1 + w2·x2 + b), drawn and explained; returns o."""
    from viz import draw_graph, explain, explore

    _say("2. One neuron: the chain rule, factor by factor")
    v = {name: Value(x, label=name) for name, x in NEURON_VALUES.items()}
    # z = w1·x1 + w2·x2 + b as ONE node (autograd.dot), as nn's neurons compute it
    z = dot([v["w1"], v["w2"]], [v["x1"], v["x2"]], v["b"])
    o = z.tanh()
    o.label = "o"
    o.backward()
    print(explain(v["w1"], o, lr=lr))
    params = [v["w1"], v["w2"], v["b"]]
    _render(
        draw_graph(o, lr=lr, params=params),
        out / "neuron_graph.svg",
        f"the neuron's graph: data, grad and Δw = -{lr}·grad",
    )
    _html(
        lambda path: explore(o, lr=lr, path=path, params=params),
        out / "neuron_explorer.html",
        "open in a browser: step through the forward pass, backprop and the update (→ key)",
    )
    return o


def moons_setup(size: MoonsSettings, seed: int = 0) -> dict[str, Any]:
    """Act 3's problem at ``size``: the moons (labels ±1, as the max-margin loss wants), the model,
    its SGD and the linear schedule (lr falls to a tenth over 100 steps, as micrograd's does)."""
    from nn import MLP, SGD, LinearLR, make_moons

    X, y = make_moons(size.points, noise=0.1, seed=seed)
    model = MLP(2, [16, 16, 1], seed=seed)
    opt = SGD(model.parameters(), lr=size.lr)
    schedule = LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    return {"X": X, "labels": y * 2 - 1, "model": model, "optimizer": opt, "scheduler": schedule}


def train_moons(setup: dict[str, Any], size: MoonsSettings, seed: int = 0, **fit_args: Any) -> Any:
    """``size.steps`` full-batch steps on the max-margin loss + 1e-4·Σw²; returns the History."""
    from nn import fit

    return fit(
        setup["model"],
        setup["X"],
        setup["labels"],
        loss="hinge",
        optimizer=setup["optimizer"],
        scheduler=setup["scheduler"],
        epochs=size.steps,
        l2=1e-4,
        seed=seed,
        **fit_args,
    )


def moons(out: Path, seed: int = 0, quick: bool = False, progress: bool = True) -> Any:
    """Act 3: micrograd's recipe — MLP(2, [16, 16, 1]), max-margin loss + L2, SGD with lr 1.0 → 0.1 —
    on 100 moons (``quick``: the QUICK miniature), with a progress bar; returns the History."""
    from viz import RunRecorder

    _say("3. A network learns the two moons")
    size = QUICK if quick else FULL
    setup = moons_setup(size, seed)
    X, labels, model, opt = setup["X"], setup["labels"], setup["model"], setup["optimizer"]
    run = RunRecorder()  # every step's Δw and value of all 337 parameters: 50 × 337 × 2 floats
    callbacks: list[Any] = [run]
    frames = None
    if importlib.util.find_spec("matplotlib") is not None:  # the frames are matplotlib figures
        from viz import FrameRecorder

        frames = FrameRecorder("boundary", every=max(1, size.steps // 10), X=X, y=labels)
        callbacks.append(frames)
    else:
        print("  (no animation: matplotlib is missing; pip install 'deltaw[plot]')")
    print(
        f"MLP(2, [16, 16, 1]): {len(model.parameters())} weights; {len(X)} points; {size.steps} steps of SGD "
        f"(lr {size.lr} falling by {size.lr * 0.009:g} a step) on the max-margin loss + 1e-4·Σw²"
    )
    hist = train_moons(setup, size, seed, progress=progress, callbacks=callbacks)
    perfect = next((k for k, a in enumerate(hist.accuracy) if a == 1.0), None)
    print(
        f"loss {hist.loss[0]:.4f} -> {hist.loss[-1]:.4f}; training accuracy "
        f"{hist.accuracy[0]:.0%} -> {hist.accuracy[-1]:.0%} after {hist.steps} updates"
        + (f" (100% first at step {perfect})" if perfect is not None else "")
    )
    first, last = hist.delta[0], hist.delta[-1]
    print(
        "mean |Δw| per layer, first step -> last step: "
        + ", ".join(f"{name} {first[name]:.2e} -> {last[name]:.2e}" for name in first)
    )
    _moons_pictures(out, model, opt, X, labels, hist, frames, run)
    return hist


def _moons_pictures(out: Path, model: Any, opt: Any, X: Any, labels: Any, hist: Any, frames: Any, run: Any) -> None:
    from viz import draw_network, explore_run

    _render(
        draw_network(model, optimizer=opt, caption=f"after step {hist.steps - 1}"),
        out / "moons_network.svg",
        "the network after its last update: w, ∂L/∂w and Δw on every edge",
    )
    _html(
        lambda path: explore_run(model, run, path),
        out / "moons_run.html",
        "open in a browser: the network at every step of the training, edges coloured by that step's Δw",
    )
    try:
        from viz import plots
    except ImportError:
        print("  (no plots: matplotlib is missing; pip install 'deltaw[plot]')")
        return
    _save(
        plots.plot_losses(hist, title="Loss per step (moons, MLP 2-16-16-1)"), out / "moons_loss.png", "the loss curve"
    )
    _save(
        plots.plot_deltas(hist, title="Mean |Δw| per layer per step"),
        out / "moons_deltas.png",
        "mean |Δw| per layer per step",
    )
    _save(
        plots.plot_decision_boundary(model, X, labels, title=f"Decision boundary after {hist.steps} steps"),
        out / "moons_boundary.png",
        "the decision boundary with the data",
    )
    if frames is not None and frames.frames:
        from viz import animate

        _wrote(animate(frames, out / "moons_training.gif"), "the decision boundary taking shape, as a GIF")


def run(
    out: Path | str = Path("out") / "demo", *, seed: int = 0, quick: bool = False, progress: bool = True
) -> dict[str, Any]:
    """The whole tour; pictures go to ``out``.  Returns the measured results."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"deltaw demo: every number below is computed now; pictures go to {out}/")
    w = worked_example()
    o = neuron(out)
    hist = moons(out, seed=seed, quick=quick, progress=progress)
    _say("Done")
    print(f"w -> {w:.4f} (the best weight is 2); neuron output {o.data:.4f}; moons accuracy {hist.accuracy[-1]:.0%}")
    print("Next: python -m examples.optimizers, python -m examples.learning_rate, ... (see README.md)")
    return {"weight": w, "neuron": o.data, "history": hist}


if __name__ == "__main__":
    run()
