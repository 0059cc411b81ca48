"""A generative adversarial network: two networks, two optimizers, one game.

The generator G, a small MLP, turns 2-D Gaussian noise z into 2-D points; the
discriminator D, another MLP, gives each point a score (a logit) saying "real"
or "made up".  The real points come from a ring of 8 Gaussians (radius 2).  No
point carries a label to imitate: G never sees a real point, it only learns
from D's gradient.  Each step alternates two updates, each by its own
``nn.Adam``: D on a batch of real points (label 1) and of G's points taken as
constants (label 0), with ``bce_with_logits``; then G on fresh noise with the
non-saturating loss bce_with_logits(D(G(z)), 1) = mean log(1 + e^-D(G(z))),
whose gradient stays large while D still rejects G's points (the original
log(1 - σ(D)) goes flat exactly then).  The gradient flows back through D into
G, but only G's optimizer steps.  Both optimizers record their ``deltas``, so
we measure the seed's "supervised vs unsupervised weight updates": the mean
|Δw| of G and of D per step.  Adam's first step moves every weight whose
gradient is not zero by exactly lr (it divides by the gradient's size), so
step 1's mean is lr times the share of weights not behind a dead relu; later the two differ as each
network's gradient steadies or keeps turning: with seed 0, G's updates end
up about 1.4 times D's, and after 1000 steps G's points sit on all 8 modes.  How well G imitates the ring is measured
on a fixed noise sample: how many of the 8 modes have a generated point within
0.5 of their centre, and the mean distance of G's points to the nearest mode.
The pictures: G's points against the ring over training (a GIF and its last
frame) and the update sizes of G and D per step.

    python -m examples.gan --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/gan.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from autograd import no_grad
from examples._common import Args, DeltaMeter, main_guard, picture, print_table, save_figure, setup, wrote
from nn import MLP, Adam, History, bce_with_logits

MODES = 8
RADIUS = 2.0
SPREAD = 0.05  # standard deviation of each Gaussian of the ring
NEAR = 0.5  # a mode counts as covered when a generated point lies this close to its centre
LR = 5e-3
BETAS = (0.5, 0.999)  # the usual GAN choice: a shorter memory for the first moment
BATCH = 32  # real points and generated points per update
HIDDEN = 16  # units in each hidden layer of G and of D
QUICK_STEPS = 100  # --quick: about two seconds, and G already moves onto the ring


def centres() -> np.ndarray:
    """The 8 mode centres on the circle of radius RADIUS, as an (8, 2) array."""
    angles = 2 * np.pi * np.arange(MODES) / MODES
    return RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` real points: a random mode each, plus Gaussian noise of SPREAD."""
    return centres()[rng.integers(0, MODES, n)] + SPREAD * rng.standard_normal((n, 2))


def make_gan(seed: int, hidden: int) -> tuple[MLP, MLP]:
    """G: 2 -> hidden -> hidden -> 2 (linear output); D: 2 -> hidden -> hidden -> 1 (a logit)."""
    g = MLP(2, [hidden, hidden, 2], activation="relu", seed=seed)
    d = MLP(2, [hidden, hidden, 1], activation="relu", seed=seed + 1)
    return g, d


def generate(g: MLP, z: np.ndarray) -> np.ndarray:
    """G's points for the noise ``z`` as plain floats (no graph kept)."""
    with no_grad():
        return np.array([[v.data for v in g(row.tolist())] for row in z])  # type: ignore[union-attr]


def coverage(points: np.ndarray) -> tuple[int, float]:
    """How many modes have a point within NEAR, and the mean distance of the points to their nearest mode."""
    dist = np.linalg.norm(points[:, None, :] - centres()[None, :, :], axis=2)  # (n, 8)
    covered = int((dist.min(axis=0) <= NEAR).sum())
    return covered, float(dist.min(axis=1).mean())


def d_step(g: MLP, d: MLP, opt_d: Adam, real: np.ndarray, z: np.ndarray) -> float:
    """One update of D: real points are 1, G's points (constants here) are 0."""
    fake = generate(g, z)
    points = [*real.tolist(), *fake.tolist()]
    labels = [1.0] * len(real) + [0.0] * len(fake)
    loss = bce_with_logits([d(p) for p in points], labels)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.data


def g_step(g: MLP, d: MLP, opt_g: Adam, z: np.ndarray) -> float:
    """One update of G with the non-saturating loss: make D say 1 for G's points.

    The backward pass also fills D's gradients; D's optimizer zeroes them before its next step."""
    loss = bce_with_logits([d(g(row.tolist())) for row in z], [1.0] * len(z))
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return loss.data


@dataclass
class Training:
    """One GAN run: the networks, their optimizers, the per-step records and snapshots of G's points."""

    g: MLP
    d: MLP
    opt_g: Adam
    opt_d: Adam
    z_fixed: np.ndarray
    meter_g: DeltaMeter = field(default_factory=DeltaMeter)
    meter_d: DeltaMeter = field(default_factory=DeltaMeter)
    loss_g: list[float] = field(default_factory=list)
    loss_d: list[float] = field(default_factory=list)
    snapshots: list[tuple[int, np.ndarray]] = field(default_factory=list)

    def history(self) -> History:
        """The run as an ``nn.History``: D's loss per step and the mean |Δw| of G and D, for ``plot_deltas``."""
        delta = [{"generator": a, "discriminator": b} for a, b in zip(self.meter_g.per_step, self.meter_d.per_step)]
        return History(loss=list(self.loss_d), delta=delta)


def train(seed: int, steps: int, batch: int, hidden: int, snapshot_every: int) -> Training:
    """Alternate one D update and one G update ``steps`` times; everything drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    g, d = make_gan(seed, hidden)
    run = Training(
        g,
        d,
        Adam(g.parameters(), lr=LR, betas=BETAS),
        Adam(d.parameters(), lr=LR, betas=BETAS),
        rng.standard_normal((64, 2)),
    )
    run.snapshots.append((0, generate(g, run.z_fixed)))
    for step in range(1, steps + 1):
        run.loss_d.append(d_step(g, d, run.opt_d, ring(batch, rng), rng.standard_normal((batch, 2))))
        run.meter_d.record(run.opt_d)
        run.loss_g.append(g_step(g, d, run.opt_g, rng.standard_normal((batch, 2))))
        run.meter_g.record(run.opt_g)
        if step % snapshot_every == 0 or step == steps:
            run.snapshots.append((step, generate(g, run.z_fixed)))
    return run


def frame(points: np.ndarray, target: np.ndarray, step: int) -> Any:
    """One picture: the ring's points (grey), the mode centres (x) and G's points (red) after ``step`` steps."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(target[:, 0], target[:, 1], s=6, c="0.7", label="real (ring of 8)")
    ax.scatter(centres()[:, 0], centres()[:, 1], marker="x", c="k", s=30)
    ax.scatter(points[:, 0], points[:, 1], s=8, c="C3", label="generated")
    ax.set_xlim(-3.2, 3.2)
    ax.set_ylim(-3.2, 3.2)
    ax.set_aspect("equal")
    ax.set_title(f"step {step}: modes covered {coverage(points)[0]}/{MODES}", fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    return fig


def pictures(args: Args, run: Training) -> None:
    """The GIF of G's points over training, its last frame, and mean |Δw| of G and D per step."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        print(f"  (no pictures of the points: {e}; pip install 'deltaw[plot]')")
    else:
        target = ring(400, np.random.default_rng(args.seed + 1000))
        frames = [frame(p, target, s) for s, p in run.snapshots]
        gif = args.out / "gan_points.gif"
        picture(args, "animate", gif, frames, gif, fps=3, what="G's points against the ring over training")
        wrote(save_figure(frames[-1], args.out / "gan_points.png"), "G's points at the end")
    picture(
        args,
        "plot_deltas",
        args.out / "gan_deltas.png",
        run.history(),
        title="mean |Δw| per step: generator vs discriminator (each its own Adam)",
        what="update sizes of G and D",
    )


def steps_for(args: Args) -> int:
    """How many D-then-G steps this run's size trains."""
    return args.pick(1000, QUICK_STEPS, reduced=200)


def run(args: Args) -> list[list[Any]]:
    steps = steps_for(args)
    batch, hidden = BATCH, HIDDEN
    print(
        f"GAN on a ring of {MODES} Gaussians: G = MLP(2, [{hidden}, {hidden}, 2]), "
        f"D = MLP(2, [{hidden}, {hidden}, 1]), relu (seed {args.seed}); batches of {batch}, "
        f"Adam lr={LR} betas={BETAS} each, {steps} steps of D then G"
    )
    res = train(args.seed, steps, batch, hidden, snapshot_every=steps // args.pick(20, 5))
    at = sorted({s for s in (1, 10, 100, steps) if s <= steps})
    g_at, d_at = res.meter_g.per_step, res.meter_d.per_step
    rows: list[list[Any]] = [[s, g_at[s - 1], d_at[s - 1], g_at[s - 1] / d_at[s - 1]] for s in at]
    rows.append(["mean", res.meter_g.mean, res.meter_d.mean, res.meter_g.mean / res.meter_d.mean])
    print_table(
        "Weight updates: generator (learns only from D's gradient) vs discriminator (labelled real/fake)",
        ["step", "mean abs(Δw) G", "mean abs(Δw) D", "G / D"],
        rows,
    )
    (s0, first), (s1, last) = res.snapshots[0], res.snapshots[-1]
    print_table(
        f"How well G covers the ring ({len(res.z_fixed)} points from fixed noise)",
        ["step", f"modes with a point within {NEAR}", "mean distance to nearest mode", "D loss", "G loss"],
        [
            [s0, f"{coverage(first)[0]}/{MODES}", coverage(first)[1], "n/a", "n/a"],
            [s1, f"{coverage(last)[0]}/{MODES}", coverage(last)[1], res.loss_d[-1], res.loss_g[-1]],
        ],
    )
    if args.pictures:
        pictures(args, res)
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
