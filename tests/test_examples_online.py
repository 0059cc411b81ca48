"""The numbers of examples/online.py: a reproducible drifting stream, online SGD that beats the frozen
model late in the stream, and per-sample |Δw| equal to the SGD step derived here by hand."""

from __future__ import annotations

import math

import pytest

from examples import online

N_STREAM, N_INIT, EPOCHS = 400, 100, 3  # the --quick sizes


@pytest.fixture(scope="module")
def run0():
    return online.experiment(0, N_STREAM, N_INIT, EPOCHS)


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def late(values):
    """Mean over the last quarter of the stream (the boundary has turned by 135°-180°)."""
    tail = values[3 * len(values) // 4 :]
    return sum(tail) / len(tail)


def test_parameters_are_w1_w2_then_bias():
    names = [name for name, _ in online.Layer(2, 1, activation="linear", seed=0).named_parameters()]
    assert len(names) == 3 and names[-1].endswith("b"), names


def test_the_stream_turns_its_boundary_by_half_a_turn():
    stream = online.drifting_stream(N_STREAM, seed=5)
    assert len(stream) == N_STREAM
    for t, (x, y) in enumerate(stream):
        angle = math.pi * t / (N_STREAM - 1)  # derived here: 0 at the start, 180° at the end
        assert all(-1.0 <= v <= 1.0 for v in x)
        assert y == (1.0 if x[0] * math.cos(angle) + x[1] * math.sin(angle) > 0 else 0.0)
    # the first and the last labelling disagree on (almost) every point
    flipped = sum(online.label(x, 0.0) != y for x, y in stream[-50:])
    assert flipped >= 45


def test_reproducible_by_seed(run0):
    again = online.experiment(0, N_STREAM, N_INIT, EPOCHS)
    assert again.stream == run0.stream
    assert again.start == run0.start and again.after == run0.after
    assert again.delta == run0.delta
    assert again.online_hits == run0.online_hits and again.frozen_hits == run0.frozen_hits
    other = online.experiment(1, N_STREAM, N_INIT, EPOCHS)
    assert other.stream != run0.stream and other.delta != run0.delta


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_online_beats_frozen_late_in_the_stream(seed):
    res = online.experiment(seed, N_STREAM, N_INIT, EPOCHS)
    assert len(res.online_hits) == len(res.frozen_hits) == N_STREAM
    on, off = late(res.online_hits), late(res.frozen_hits)
    # the frozen model's expected accuracy there is about 1 - 157.5°/180° = 12.5%; the online one stays high
    assert off < 0.3
    assert on > 0.7
    assert on - off > 0.5


def test_the_online_weights_turn_with_the_boundary(run0):
    end = math.degrees(online.learned_angle(run0.after[-1]))
    assert abs(end - 180.0) < 35.0 or abs(end + 180.0) < 35.0  # near the true 180°, atan2 may say -180°
    assert abs(math.degrees(online.learned_angle(run0.start))) < 15.0  # pretrained on the boundary at 0°


def test_delta_is_the_sgd_step_derived_by_hand(run0):
    """Δw = −lr·(∂bce_with_logits/∂w + 2·l2·w), with ∂/∂w = (σ(w·x + b) − y)·(x1, x2, 1)."""
    assert len(run0.delta) == len(run0.after) == N_STREAM
    before = run0.start
    for k, ((x, y), after) in enumerate(zip(run0.stream, run0.after)):
        w1, w2, b = before
        err = sigmoid(w1 * x[0] + w2 * x[1] + b) - y
        step = [-online.LR * (err * xi + 2 * online.L2 * wi) for xi, wi in zip([x[0], x[1], 1.0], before)]
        assert after == pytest.approx([wi + si for wi, si in zip(before, step)], rel=1e-12, abs=1e-14), k
        # what was recorded for this sample is the mean |Δw| actually applied
        applied = sum(abs(a - c) for a, c in zip(after, before)) / 3
        assert run0.delta[k] == pytest.approx(applied, rel=1e-9, abs=1e-15), k
        assert run0.delta[k] == pytest.approx(sum(map(abs, step)) / 3, rel=1e-9), k
        before = after


def test_accuracy_is_measured_before_each_update(run0):
    """Sample k is predicted with the weights before update k (prequential), by both models."""
    before = run0.start
    for k, ((x, y), after) in enumerate(zip(run0.stream, run0.after)):
        w1, w2, b = before
        assert run0.online_hits[k] == float((w1 * x[0] + w2 * x[1] + b > 0) == (y == 1.0)), k
        w1, w2, b = run0.start
        assert run0.frozen_hits[k] == float((w1 * x[0] + w2 * x[1] + b > 0) == (y == 1.0)), k
        before = after


def test_mistakes_move_the_weights_more(run0):
    hit, miss = online.split_by_hits(run0)
    assert miss > 3 * hit


def test_phase_table(run0):
    rows = online.phase_rows(run0)
    assert len(rows) == online.PHASES
    assert rows[0][0] == "0°-45°" and rows[-1][0] == "135°-180°"
    assert rows[-1][2] == f"{late(run0.frozen_hits):.0%}"
    assert rows[-1][3] == pytest.approx(late(run0.delta))
