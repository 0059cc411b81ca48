"""Toy data sets: shapes, labels, seeds, and micrograd's (scikit-learn's) moons."""

import numpy as np
import pytest

import nn


@pytest.mark.parametrize("make", [nn.make_moons, nn.make_circles, nn.make_xor])
def test_binary_sets_shapes_labels_and_seeds(make):
    X, y = make(101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert set(np.unique(y)) == {0, 1}
    X2, y2 = make(101, noise=0.1, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(101, noise=0.1, seed=4)
    assert not np.array_equal(X, X3)


def test_moons_without_noise_lie_on_the_half_circles():
    X, y = nn.make_moons(50, seed=0)
    outer = X[y == 0]
    inner = X[y == 1]
    assert np.allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0)
    assert np.allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0)


def test_moons_with_a_randomstate_match_scikit_learns_draws():
    # scikit-learn: shuffle = RandomState.shuffle(arange(n)), then X += normal(scale=noise)
    rs = np.random.RandomState(1337)
    order = np.arange(100)
    rs.shuffle(order)
    noise = rs.normal(scale=0.1, size=(100, 2))
    clean, labels = nn.make_moons(100, shuffle=False)
    X, y = nn.make_moons(100, noise=0.1, seed=np.random.RandomState(1337))
    assert np.array_equal(y, labels[order])
    assert np.allclose(X, clean[order] + noise, rtol=0, atol=1e-15)


def test_xor_labels_follow_signs():
    X, y = nn.make_xor(200, seed=0)
    assert np.array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_circles_radii():
    X, y = nn.make_circles(40, factor=0.5, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.5)


def test_spiral_classes():
    X, y = nn.make_spiral(100, n_classes=4, seed=0)
    assert X.shape == (100, 2) and np.bincount(y).tolist() == [25, 25, 25, 25]


def test_linear_regression_data():
    X, y = nn.make_linear(500, n_features=2, w=[3.0, -1.0], b=0.5, noise=0.0, seed=0)
    assert np.allclose(y, X @ [3.0, -1.0] + 0.5)
    X, y = nn.make_linear(2000, n_features=1, noise=0.1, seed=1)
    assert np.std(y - X[:, 0]) == pytest.approx(0.1, rel=0.1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="noise"):
        nn.make_moons(10, noise=-1)
    with pytest.raises(ValueError, match="n_samples"):
        nn.make_xor(0)
    with pytest.raises(TypeError, match="seed"):
        nn.make_moons(10, seed="a")
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        list(nn.batches(np.zeros((3, 1)), [1, 2]))
    with pytest.raises(ValueError, match="sample 1 must be an \\(x, y\\) pair"):
        list(nn.stream_batches([([1.0], 1.0), 5]))


def test_sine_windows_are_seeded_pairs_of_window_and_next_value():
    import math

    from nn import make_sine_windows

    pairs = make_sine_windows(4, steps=3, noise=0.0, seed=5)
    assert pairs == make_sine_windows(4, steps=3, noise=0.0, seed=5)
    assert len(pairs) == 4 and all(len(w) == 3 for w, _ in pairs)
    for window, nxt in pairs:  # noise-free: consecutive samples of one sine, 0.6 apart
        phase = math.asin(max(-1.0, min(1.0, window[0])))
        candidates = [phase, math.pi - phase]
        assert any(
            abs(math.sin(p + 3 * 0.6) - nxt) < 1e-9 and abs(math.sin(p + 0.6) - window[1]) < 1e-9 for p in candidates
        )
    with pytest.raises(ValueError, match="steps"):
        make_sine_windows(4, steps=0)
