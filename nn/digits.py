"""``make_digits``: small images of the digits 0-9 for convolutional networks, made offline and seeded.

Each digit is drawn from a 5x7 bitmap font (below), scaled by whole pixels when the image
is large enough, optionally made bolder (each stroke one pixel wider), shifted to a random
place in the image, given a random ink level, and covered with Gaussian noise; pixels
are then clipped to [0, 1].  Images come as a float64 array (n, 1, size, size), the
``[C][H][W]`` layout ``nn.Conv2d`` reads (``X[i]`` or ``X[i].tolist()``), labels as int64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import checks

__all__ = ["make_digits", "GLYPHS"]

#: The 5x7 font: one string of 7 rows per digit, ``#`` is ink.
GLYPHS: tuple[tuple[str, ...], ...] = (
    (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),  # 0
    ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),  # 1
    (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),  # 2
    ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),  # 3
    ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),  # 4
    ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),  # 5
    ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),  # 6
    ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),  # 7
    (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),  # 8
    (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),  # 9
)

_FONT = np.array([[[c == "#" for c in row] for row in glyph] for glyph in GLYPHS], dtype=np.float64)


def _glyph(digit: int, scale: int, bold: bool) -> np.ndarray:
    """The digit's bitmap, each font pixel a scale×scale block, one pixel wider per stroke if bold."""
    g = np.kron(_FONT[digit], np.ones((scale, scale)))
    if bold:
        g = np.maximum(np.pad(g, ((0, 0), (0, 1))), np.pad(g, ((0, 0), (1, 0))))
    return g


def make_digits(
    n_samples: int = 100, size: int = 8, noise: float = 0.1, seed: Any = None, bold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` images of digits (labels 0-9, as balanced as ``n_samples`` allows, in shuffled order).

    ``size``: the side of the square image, at least 8 (the font is 5x7; a size of 2·7+2 or
    more draws it twice as large, and so on).  ``noise``: the standard deviation of the
    Gaussian noise added to every pixel.  ``bold``: the probability that a digit is drawn
    with strokes one pixel wider.  ``seed``: an int or a numpy ``Generator``; same seed, same
    images.  Returns ``(X, y)``: X float64 of shape (n, 1, size, size) in [0, 1], y int64.
    """
    n = checks.integer("make_digits", "n_samples", n_samples, low=1)
    side = checks.integer("make_digits", "size", size, low=8, hint="the font is 5x7 and needs room to move")
    sd = checks.number("make_digits", "noise", noise, low=0.0, hint="it is a standard deviation")
    p_bold = checks.number("make_digits", "bold", bold, low=0.0, high=1.0, hint="it is a probability")
    rng = checks.generator("make_digits", seed)
    scale = max(1, (side - 2) // 7)
    y = rng.permutation(np.arange(n, dtype=np.int64) % 10)
    X = np.zeros((n, 1, side, side))
    for i, digit in enumerate(y):
        g = _glyph(int(digit), scale, bool(rng.random() < p_bold))
        top = int(rng.integers(0, side - g.shape[0] + 1))
        left = int(rng.integers(0, side - g.shape[1] + 1))
        X[i, 0, top : top + g.shape[0], left : left + g.shape[1]] = g * rng.uniform(0.7, 1.0)
    if sd:
        X += rng.normal(0.0, sd, size=X.shape)
    return np.clip(X, 0.0, 1.0), y
