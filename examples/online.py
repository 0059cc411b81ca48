"""Online learning: a classifier that keeps learning while the world it models drifts.

Points arrive one at a time, uniform in the square [-1, 1]², and are labelled by
which side of a line through the origin they fall on; the line turns slowly, by
180° over the stream, so the rule that was true at the start is exactly wrong
at the end.  A logistic regression (``Layer(2, 1)``, loss ``bce_with_logits``)
is first trained on the initial boundary.  Then two copies of it meet the same
stream: one is frozen, the other takes one SGD step on every sample as it
arrives (``fit`` over the stream, ``batch_size=1``): w ← w − lr·(σ(w·x + b) − y)·x.
Each sample is first predicted and only then learned from, so the accuracy over
the stream is honest (the "prequential" accuracy).  The frozen model's accuracy
falls with the angle the boundary has turned (roughly 1 − angle/180°); the online model
stays near its start, because every point it gets wrong pulls w towards the new
normal.  Its |Δw| per sample (from the optimizer's ``deltas``) is small while it
is right and jumps on each mistake, and the angle of its w follows the true
boundary's angle, lagging a little behind.  A weak L2 penalty keeps |w| from growing
without bound (separable data), so the steps keep turning it.

    python -m examples.online --seed 0
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/online.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from autograd import Value, no_grad
from examples._common import Args, DeltaMeter, main_guard, print_table, save_figure, setup, wrote
from nn import SGD, History, Layer, fit

TURN = math.pi  # the boundary turns by 180° over the stream
LR = 0.5
L2 = 1e-3
PHASES = 4


def true_angle(t: int, n: int) -> float:
    """The angle (radians) of the true boundary's normal at sample ``t`` of ``n``."""
    return TURN * t / max(1, n - 1)


def label(x: Sequence[float], angle: float) -> float:
    """1.0 if ``x`` lies on the side of the boundary its normal (cos a, sin a) points to, else 0.0."""
    return 1.0 if math.cos(angle) * x[0] + math.sin(angle) * x[1] > 0 else 0.0


def points(n: int, seed: int) -> list[list[float]]:
    """``n`` points uniform in [-1, 1]², seeded."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, 2)).tolist()


def drifting_stream(n: int, seed: int) -> list[tuple[list[float], float]]:
    """The stream: sample t is labelled by the boundary turned to ``true_angle(t, n)``."""
    return [(x, label(x, true_angle(t, n))) for t, x in enumerate(points(n, seed))]


def weights(model: Layer) -> list[float]:
    """(w1, w2, b) of the one-neuron model."""
    return [p.data for p in model.parameters()]


def learned_angle(w: Sequence[float]) -> float:
    """The angle (radians) of the model's normal (w1, w2)."""
    return math.atan2(w[1], w[0])


def predict(model: Layer, x: Sequence[float]) -> float:
    """The model's class (1.0 or 0.0) for ``x``, without building a graph."""
    with no_grad():
        out = model(list(x))
    assert isinstance(out, Value)  # one output neuron: one Value, the logit
    return 1.0 if out.data > 0 else 0.0


class Track:
    """A ``fit`` callback: the weights after every update (``after[k]``: after update k)."""

    def __init__(self) -> None:
        self.after: list[list[float]] = []

    def __call__(self, info: Any) -> None:
        self.after.append(weights(info.model))


@dataclass
class Results:
    """One run: per sample the hits of both models, the online |Δw|, weights and the true angle."""

    online_hits: list[float] = field(default_factory=list)
    frozen_hits: list[float] = field(default_factory=list)
    delta: list[float] = field(default_factory=list)  # mean |Δw| over (w1, w2, b) of each update
    start: list[float] = field(default_factory=list)  # weights after the initial training
    after: list[list[float]] = field(default_factory=list)  # online weights after each update
    truth: list[float] = field(default_factory=list)  # the true angle at each sample
    stream: list[tuple[list[float], float]] = field(default_factory=list)  # the samples, in arrival order
    history: History | None = None


def pretrain(seed: int, n: int, epochs: int) -> Layer:
    """A logistic regression trained on the initial boundary (angle 0)."""
    model = Layer(2, 1, activation="linear", seed=seed)
    X = points(n, seed + 1)
    y = [[label(x, 0.0)] for x in X]
    opt = SGD(model.parameters(), lr=LR)
    fit(
        model,
        X,
        y,
        loss="bce_with_logits",
        optimizer=opt,
        l2=L2,
        epochs=epochs,
        batch_size=1,
        seed=seed,
        progress=False,
    )
    return model


def experiment(seed: int, n_stream: int, n_init: int, epochs: int) -> Results:
    """Pretrain, copy to a frozen twin, then stream: the online copy learns from each sample after predicting it."""
    online = pretrain(seed, n_init, epochs)
    frozen = Layer(2, 1, activation="linear")
    frozen.load_state_dict(online.state_dict())
    stream = drifting_stream(n_stream, seed + 2)
    truth = [true_angle(t, n_stream) for t in range(n_stream)]
    res = Results(start=weights(online), truth=truth, stream=stream)
    res.frozen_hits = [float(predict(frozen, x) == y) for x, y in stream]
    meter, track = DeltaMeter(), Track()
    res.history = fit(
        online,
        iter(stream),  # a one-shot iterator: each sample is seen once, in order
        loss="bce_with_logits",
        optimizer=SGD(online.parameters(), lr=LR),
        l2=L2,
        batch_size=1,
        progress=False,
        callbacks=[meter, track],
    )
    res.online_hits = list(res.history.accuracy)  # measured on each sample before the update it caused
    res.delta, res.after = meter.per_step, track.after
    return res


def windowed(values: Sequence[float], size: int) -> list[float]:
    """Means over consecutive windows of ``size`` samples (the last may be shorter)."""
    return [math.fsum(values[i : i + size]) / len(values[i : i + size]) for i in range(0, len(values), size)]


def phase_rows(res: Results) -> list[list[Any]]:
    """One table row per phase of the drift: accuracy online vs frozen, mean |Δw|, angles at the phase's end."""
    n = len(res.truth)
    rows = []
    for k in range(PHASES):
        lo, hi = k * n // PHASES, (k + 1) * n // PHASES
        mean = lambda xs, lo=lo, hi=hi: math.fsum(xs[lo:hi]) / (hi - lo)
        rows.append(
            [
                f"{math.degrees(res.truth[lo]):.0f}°-{math.degrees(res.truth[hi - 1]):.0f}°",
                f"{mean(res.online_hits):.0%}",
                f"{mean(res.frozen_hits):.0%}",
                mean(res.delta),
                f"{math.degrees(learned_angle(res.after[hi - 1])):.0f}°",
                f"{math.degrees(res.truth[hi - 1]):.0f}°",
            ]
        )
    return rows


def split_by_hits(res: Results) -> tuple[float, float]:
    """Mean |Δw| of the updates after a right prediction and after a mistake (nan if there were none)."""
    mean = lambda xs: math.fsum(xs) / len(xs) if xs else math.nan
    hit = [d for d, h in zip(res.delta, res.online_hits) if h == 1.0]
    miss = [d for d, h in zip(res.delta, res.online_hits) if h != 1.0]
    return mean(hit), mean(miss)


def plot_stream(res: Results, window: int, path: Path) -> Path | None:
    """Three panels over the stream: windowed accuracy of both models, |Δw| per sample, angle learned vs true."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        print(f"  (no stream picture: {e}; pip install 'deltaw[plot]')")
        return None
    fig = Figure(figsize=(7, 8), layout="constrained")
    acc, dw, ang = fig.subplots(3, 1, sharex=True)
    mids = [i + window / 2 for i in range(0, len(res.truth), window)]
    acc.plot(mids, windowed(res.online_hits, window), marker=".", label="online (SGD per sample)")
    acc.plot(mids, windowed(res.frozen_hits, window), marker=".", label="frozen after initial training")
    acc.set_ylabel(f"accuracy per {window} samples")
    acc.set_ylim(-0.02, 1.02)
    acc.legend()
    dw.semilogy(range(1, len(res.delta) + 1), res.delta, lw=0.5, color="C0", alpha=0.5, label="each update")
    dw.semilogy(mids, windowed(res.delta, window), marker=".", color="C0", label=f"mean per {window}")
    dw.legend()
    dw.set_ylabel("mean |Δw| of the update")
    ang.plot([math.degrees(a) for a in res.truth], label="true boundary", color="k")
    learned = np.degrees(np.unwrap([learned_angle(w) for w in res.after]))
    ang.plot(learned, label="online model's w", ls="--")
    ang.axhline(math.degrees(learned_angle(res.start)), color="C1", ls=":", label="frozen model's w")
    ang.set_ylabel("angle of the normal (°)")
    ang.set_xlabel("sample of the stream")
    ang.legend()
    fig.suptitle("online learning under drift: the boundary turns by 180°")
    written = save_figure(fig, path)
    wrote(written, "accuracy over the stream, |Δw| per sample, angle learned vs true")
    return written


def run(args: Args) -> list[list[Any]]:
    n_stream = args.pick(2000, 400)
    n_init, epochs = args.pick(200, 100), args.pick(5, 3)
    window = args.pick(100, 50)
    print(
        f"Logistic regression Layer(2, 1) (seed {args.seed}), pretrained on {n_init} points x {epochs} epochs; "
        f"then a stream of {n_stream} points whose boundary turns by {math.degrees(TURN):.0f}°; "
        f"SGD lr={LR}, l2={L2}, one update per sample"
    )
    res = experiment(args.seed, n_stream, n_init, epochs)
    rows = phase_rows(res)
    print_table(
        "Accuracy over the stream (each sample predicted before it is learned), per phase of the drift",
        ["boundary angle", "online accuracy", "frozen accuracy", "online mean |Δw|", "online w's angle", "true angle"],
        rows,
    )
    hit, miss = split_by_hits(res)
    print(
        f"  mean |Δw| per sample over the whole stream: {math.fsum(res.delta) / len(res.delta):.4g} "
        f"(after a right prediction {hit:.4g}, after a mistake {miss:.4g})"
    )
    if args.pictures:
        plot_stream(res, window, args.out / "online_stream.png")
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
