"""Seeded toy data sets (numpy float64) and ``batches``: batch, stochastic or mini-batch order.

Every generator takes ``seed`` (an int or a ``numpy.random.Generator``): same
seed, same data.  Classification sets return ``X`` of shape (n, 2) and integer
labels ``y`` in 0..k−1 (use ``y * 2 - 1`` for hinge's ±1).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from . import checks
from .digits import make_digits  # images for Conv2d, in their own file

__all__ = [
    "make_moons",
    "make_circles",
    "make_xor",
    "make_spiral",
    "make_linear",
    "make_sine_windows",
    "make_digits",
    "batches",
    "stream_batches",
]


def _rng(seed: Any, where: str) -> Any:
    return checks.generator(where, seed, legacy=True)  # a RandomState draws scikit-learn's numbers


def _permutation(rng: Any, n: int) -> np.ndarray:
    if isinstance(rng, np.random.RandomState):  # scikit-learn's shuffle: the same data as sklearn
        order = np.arange(n)
        rng.shuffle(order)
        return order
    return np.asarray(rng.permutation(n))


def _check_n(n: Any, where: str, low: int = 1) -> int:
    return checks.integer(where, "n_samples", n, low=low)


def _noise(noise: float | None, where: str) -> float:
    return 0.0 if noise is None else checks.number(where, "noise", noise, low=0.0, hint="it is a standard deviation")


def make_moons(
    n_samples: int = 100, noise: float | None = None, seed: Any = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, Gaussian ``noise`` added.

    The construction is scikit-learn's; with ``seed=np.random.RandomState(k)`` (or
    ``np.random.mtrand._rand`` after ``np.random.seed(k)``) the draws are too, so
    micrograd's demo data (``np.random.seed(1337)``; ``make_moons(100, noise=0.1)``)
    comes out identical."""
    n = _check_n(n_samples, "make_moons", 2)
    sd = _noise(noise, "make_moons")
    rng = _rng(seed, "make_moons")
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(t_out), 1 - np.cos(t_in)), np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]).T
    return _two_classes(X, n_out, n_in, rng, shuffle, sd)


def _two_classes(
    X: np.ndarray, n_out: int, n_in: int, rng: Any, shuffle: bool, sd: float
) -> tuple[np.ndarray, np.ndarray]:
    """Labels 0 for the first ``n_out`` rows and 1 for the rest; then shuffle, then add noise
    (in that order, so a seed always draws the same permutation and the same noise)."""
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    if shuffle:
        order = _permutation(rng, n_out + n_in)
        X, y = X[order], y[order]
    if sd:
        X = X + rng.normal(scale=sd, size=X.shape)
    return X, y


def make_circles(
    n_samples: int = 100, noise: float | None = None, factor: float = 0.8, seed: Any = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (label 1, radius ``factor``) inside a unit circle (label 0)."""
    n = _check_n(n_samples, "make_circles", 2)
    sd = _noise(noise, "make_circles")
    factor = checks.number("make_circles", "factor", factor, low=0.0, high=1.0, high_open=True)
    rng = _rng(seed, "make_circles")
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([np.append(np.cos(t_out), factor * np.cos(t_in)), np.append(np.sin(t_out), factor * np.sin(t_in))]).T
    return _two_classes(X, n_out, n_in, rng, shuffle, sd)


def make_xor(n_samples: int = 100, noise: float | None = None, seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [−1, 1]²; label 1 where the two coordinates have opposite signs."""
    n = _check_n(n_samples, "make_xor")
    sd = _noise(noise, "make_xor")
    rng = _rng(seed, "make_xor")
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    if sd:
        X = X + rng.normal(scale=sd, size=X.shape)
    return X, y


def make_spiral(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms (CS231n's data set); noise perturbs the angle."""
    n = _check_n(n_samples, "make_spiral", 1)
    checks.integer("make_spiral", "n_classes", n_classes, low=2)
    sd = _noise(noise, "make_spiral")
    rng = _rng(seed, "make_spiral")
    counts = [n // n_classes + (1 if k < n % n_classes else 0) for k in range(n_classes)]
    Xs, ys = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) + rng.normal(scale=sd, size=m)
        Xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(m, k, dtype=np.int64))
    return np.vstack(Xs), np.concatenate(ys)


def make_linear(
    n_samples: int = 100, n_features: int = 1, w: Any = None, b: float = 0.0, noise: float = 0.1, seed: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Regression data y = X·w + b + N(0, noise²), X ~ U(−1, 1); ``w`` defaults to all ones."""
    n = _check_n(n_samples, "make_linear")
    checks.integer("make_linear", "n_features", n_features, low=1)
    sd = _noise(noise, "make_linear")
    rng = _rng(seed, "make_linear")
    coef = np.ones(n_features) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    if coef.shape != (n_features,):
        raise ValueError(f"make_linear: w has {coef.size} entries but n_features is {n_features}")
    X = rng.uniform(-1.0, 1.0, size=(n, n_features))
    y = X @ coef + float(b)
    if sd:
        y = y + rng.normal(scale=sd, size=n)
    return X, y


def make_sine_windows(
    n_samples: int = 32, steps: int = 5, noise: float = 0.05, spacing: float = 0.6, seed: Any = None
) -> list[tuple[list[float], float]]:
    """A sequence task for recurrent cells: ``(window, next)`` pairs, where ``window`` is ``steps``
    noisy samples of a sine with a random phase (``spacing`` apart) and ``next`` the clean value
    that follows.  A stream of pairs, as ``fit(model, pairs)`` and the cells' wrappers take it."""
    n = _check_n(n_samples, "make_sine_windows")
    checks.integer("make_sine_windows", "steps", steps, low=1)
    sd = _noise(noise, "make_sine_windows")
    rng = _rng(seed, "make_sine_windows")
    pairs = []
    for _ in range(n):
        t = np.arange(steps + 1) * spacing + rng.uniform(0, 2 * np.pi)
        wave = np.sin(t)
        pairs.append(((wave[:steps] + rng.normal(0, sd, steps)).tolist(), float(wave[steps])))
    return pairs


def _check_batch_size(batch_size: Any, where: str) -> None:
    if batch_size is not None:
        checks.integer(
            where, "batch_size", batch_size, low=1, hint="None (all samples), 1 (stochastic) or k > 1 (mini-batches)"
        )


def batches(
    X: Any, y: Any, batch_size: int | None = None, shuffle: bool = True, seed: Any = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of ``(X_batch, y_batch)``: ``batch_size=None`` gives one batch of every sample
    (batch gradient descent), 1 gives single samples (stochastic), k gives mini-batches of k
    (the last may be smaller).  ``shuffle`` permutes the order with ``seed``."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim == 1:
        X = X[:, None]
    if len(X) != len(y):
        raise ValueError(f"batches: X has {len(X)} samples but y has {len(y)}; they must match")
    _check_batch_size(batch_size, "batches")
    n = len(X)
    if n == 0:
        raise ValueError("batches: X and y are empty (0 samples); pass at least one sample")
    order = _rng(seed, "batches").permutation(n) if shuffle else np.arange(n)
    k = n if batch_size is None else int(batch_size)
    for start in range(0, n, k):
        idx = order[start : start + k]
        yield X[idx], y[idx]


def stream_batches(
    samples: Iterable[tuple[Any, Any]], batch_size: int | None = 1
) -> Iterator[tuple[list[Any], list[Any]]]:
    """Group a stream of ``(x, y)`` pairs, in arrival order, into lists of ``batch_size``
    (``None``: the whole stream as one batch).  For online learning from any iterable."""
    _check_batch_size(batch_size, "stream_batches")
    xs: list[Any] = []
    ys: list[Any] = []
    for i, pair in enumerate(samples):
        try:
            x, t = pair
        except (TypeError, ValueError):
            raise ValueError(f"stream_batches: sample {i} must be an (x, y) pair, got {pair!r}") from None
        xs.append(x)
        ys.append(t)
        if batch_size is not None and len(xs) == batch_size:
            yield xs, ys
            xs, ys = [], []
    if xs:
        yield xs, ys
