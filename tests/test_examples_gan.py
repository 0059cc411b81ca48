"""examples/gan.py: its numbers.  Each network's Δw comes from its own Adam, the generator's
loss is the non-saturating one, runs repeat from the seed, and training moves G onto the ring."""

from __future__ import annotations

import math

import numpy as np
import pytest

from examples import gan


def _nets(seed: int = 0) -> tuple[gan.MLP, gan.MLP, gan.Adam, gan.Adam]:
    g, d = gan.make_gan(seed, gan.HIDDEN)
    opt_g = gan.Adam(g.parameters(), lr=gan.LR, betas=gan.BETAS)
    opt_d = gan.Adam(d.parameters(), lr=gan.LR, betas=gan.BETAS)
    return g, d, opt_g, opt_d


def test_the_ring_has_eight_modes_of_radius_two_and_coverage_counts_them():
    c = gan.centres()
    assert c.shape == (8, 2)
    assert np.allclose(np.linalg.norm(c, axis=1), 2.0)
    assert gan.coverage(c) == (8, 0.0)
    assert gan.coverage(c[:3] + [0.3, 0.0]) == (3, pytest.approx(0.3))


def test_generator_first_adam_step_is_lr_times_sign_of_its_own_gradient_and_leaves_d_alone():
    g, d, opt_g, _ = _nets()
    d_before = [p.data for p in d.parameters()]
    g_before = {p: p.data for p in g.parameters()}
    gan.g_step(g, d, opt_g, np.random.default_rng(5).standard_normal((gan.BATCH, 2)))
    assert set(opt_g.deltas) == set(g.parameters())
    eps = 1e-8  # Adam's default; step 1 with bias correction: m̂ = g, v̂ = g², Δw = -lr·g/(|g| + eps)
    for p in g.parameters():
        expected = -gan.LR * p.grad / (abs(p.grad) + eps)
        assert opt_g.deltas[p] == pytest.approx(expected, rel=1e-9, abs=1e-15)
        assert p.data - g_before[p] == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert [p.data for p in d.parameters()] == d_before
    assert sum(p.grad != 0.0 for p in g.parameters()) > len(g.parameters()) // 2  # G really got a gradient


def test_discriminator_step_moves_only_d_with_its_own_adam():
    g, d, _, opt_d = _nets()
    rng = np.random.default_rng(6)
    g_before = [p.data for p in g.parameters()]
    gan.d_step(g, d, opt_d, gan.ring(gan.BATCH, rng), rng.standard_normal((gan.BATCH, 2)))
    assert set(opt_d.deltas) == set(d.parameters())
    for p in d.parameters():
        assert opt_d.deltas[p] == pytest.approx(-gan.LR * p.grad / (abs(p.grad) + 1e-8), rel=1e-9, abs=1e-15)
    assert [p.data for p in g.parameters()] == g_before


def test_generator_loss_is_the_non_saturating_one():
    g, d, opt_g, _ = _nets(3)
    z = np.random.default_rng(7).standard_normal((8, 2))
    scores = [d(g(row.tolist())).data for row in z]
    expected = math.fsum(math.log1p(math.exp(-s)) for s in scores) / len(scores)  # mean -log σ(D(G(z)))
    assert gan.g_step(g, d, opt_g, z) == pytest.approx(expected, rel=1e-12)


def test_the_meters_record_each_networks_own_updates():
    run = gan.train(0, 2, 8, gan.HIDDEN, snapshot_every=1)
    # after the last step G's params still hold the gradient of G's last update
    g_params = run.g.parameters()
    step = math.fsum(gan.LR * abs(p.grad) / (abs(p.grad) + 1e-8) for p in g_params) / len(g_params)
    assert run.meter_g.per_step[-1] != pytest.approx(step, rel=1e-9)  # step 2 is no longer lr·sign(g)
    assert run.meter_g.per_step[-1] == pytest.approx(
        math.fsum(abs(x) for x in run.opt_g.deltas.values()) / len(g_params), rel=1e-12
    )
    d_params = run.d.parameters()
    assert run.meter_d.per_step[-1] == pytest.approx(
        math.fsum(abs(x) for x in run.opt_d.deltas.values()) / len(d_params), rel=1e-12
    )
    assert set(run.opt_d.deltas) == set(d_params) and set(run.opt_g.deltas) == set(g_params)
    h = run.history()
    assert [x["generator"] for x in h.delta] == run.meter_g.per_step
    assert [x["discriminator"] for x in h.delta] == run.meter_d.per_step
    assert len(run.snapshots) == 3


def test_same_seed_same_run_other_seed_other_run():
    a, b, c = (gan.train(s, 3, 8, 8, snapshot_every=3) for s in (4, 4, 5))
    assert a.loss_d == b.loss_d and a.loss_g == b.loss_g
    assert a.meter_g.per_step == b.meter_g.per_step and a.meter_d.per_step == b.meter_d.per_step
    assert np.array_equal(a.snapshots[-1][1], b.snapshots[-1][1])
    assert a.loss_d != c.loss_d


def test_the_quick_run_moves_the_generated_points_towards_the_modes():
    ends = []
    for seed in (0, 1, 2):
        run = gan.train(seed, gan.QUICK_STEPS, gan.BATCH, gan.HIDDEN, snapshot_every=gan.QUICK_STEPS)
        ends.append((gan.coverage(run.snapshots[0][1]), gan.coverage(run.snapshots[-1][1])))
    # measured: distance 2.30 -> 0.89, 1.30 -> 1.15, 2.35 -> 1.16; modes 2 -> 5, 4 -> 3, 1 -> 5
    assert all(end[1] < start[1] for start, end in ends)
    assert sum(end[1] / start[1] for start, end in ends) / len(ends) < 0.75  # measured 0.59
    assert sum(end[0] for _, end in ends) >= sum(start[0] for start, _ in ends) + 3  # measured 7 -> 13
