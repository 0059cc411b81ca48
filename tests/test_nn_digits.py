"""make_digits: shapes, ranges, balance, seeds, the font's drawing, and classes a simple classifier tells apart."""

from __future__ import annotations

import numpy as np
import pytest

import nn
import nn.data
from nn.digits import GLYPHS, make_digits


def test_shapes_range_and_balanced_labels() -> None:
    X, y = make_digits(95, seed=0)
    assert X.shape == (95, 1, 8, 8) and X.dtype == np.float64
    assert y.shape == (95,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert sorted(np.bincount(y, minlength=10).tolist()) == [9] * 5 + [10] * 5
    assert (y[:10] != np.arange(10)).any()  # shuffled, not 0, 1, 2, ... in order


def test_the_same_seed_gives_the_same_images() -> None:
    X1, y1 = make_digits(20, seed=3, size=12)
    X2, y2 = make_digits(20, seed=np.random.default_rng(3), size=12)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    X3, _ = make_digits(20, seed=4, size=12)
    assert not np.array_equal(X1, X3)
    assert nn.make_digits is make_digits and nn.data.make_digits is make_digits


def _ink_boxes(X: np.ndarray) -> list[tuple[int, int, int, int]]:
    boxes = []
    for image in X[:, 0]:
        ys, xs = np.nonzero(image > 0)
        boxes.append((int(ys.min()), int(xs.min()), int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)))
    return boxes


def test_without_noise_each_image_is_its_glyph_shifted_and_sometimes_bold() -> None:
    X, y = make_digits(60, seed=1, size=10, noise=0.0)
    boxes = _ink_boxes(X)
    assert len({top for top, _, _, _ in boxes}) == 4  # shifted down by 0..3 rows (10 - 7 + 1 places)
    assert len({left for _, left, _, _ in boxes}) > 4  # and across
    assert {h for _, _, h, _ in boxes} == {7}  # the font is 7 rows high at scale 1
    widths = {w for _, _, _, w in boxes}
    assert 6 in widths and 5 in widths and widths <= {3, 4, 5, 6}  # bold strokes are one pixel wider
    plain = 0
    for image, digit, (top, left, _, w) in zip(X[:, 0], y, boxes):
        glyph = np.array([[c == "#" for c in row] for row in GLYPHS[digit]])
        cols = np.nonzero(glyph.any(axis=0))[0]
        assert w in (len(cols), len(cols) + 1)  # the glyph's ink, or one pixel wider when bold
        if w == len(cols):  # plain: the ink is exactly the font's, at one ink level in [0.7, 1]
            plain += 1
            crop = image[top : top + 7, left - cols[0] : left - cols[0] + 5] > 0
            assert np.array_equal(crop, glyph)
            assert 0.7 <= image.max() <= 1.0 and len(set(image[image > 0].tolist())) == 1
    assert 15 < plain < 45  # bold=0.5


def test_large_images_draw_the_font_larger() -> None:
    X, _ = make_digits(10, seed=2, size=16, noise=0.0, bold=0.0)
    assert {h for _, _, h, _ in _ink_boxes(X)} == {14}


def _aligned(X: np.ndarray) -> np.ndarray:
    """Each image moved so that its ink starts at the top left corner (undoing the random shift)."""
    out = np.zeros((len(X), 2 * X.shape[2], 2 * X.shape[3]))
    for i, image in enumerate(X[:, 0]):
        ys, xs = np.nonzero(image > 0.5)
        out[i, : image.shape[0] - ys.min(), : image.shape[1] - xs.min()] = image[ys.min() :, xs.min() :]
    return out.reshape(len(X), -1)


@pytest.mark.parametrize("size", [8, 16])
def test_each_digit_is_told_apart_by_a_nearest_centroid_classifier(size: int) -> None:
    X, y = make_digits(300, seed=5, size=size)
    Xt, yt = make_digits(200, seed=6, size=size)
    A, At = _aligned(X), _aligned(Xt)
    centroids = np.stack([A[y == k].mean(axis=0) for k in range(10)])
    guess = ((At[:, None, :] - centroids[None]) ** 2).sum(axis=-1).argmin(axis=1)
    assert (guess == yt).mean() >= 0.9


def test_the_font_has_ten_different_5x7_glyphs() -> None:
    assert len(GLYPHS) == 10 and len(set(GLYPHS)) == 10
    assert all(len(g) == 7 and all(len(row) == 5 and set(row) <= {"#", "."} for row in g) for g in GLYPHS)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_samples=0), "make_digits: n_samples must be a positive int, got 0"),
        (dict(size=7), "make_digits: size must be an int >= 8, got 7; the font is 5x7"),
        (dict(noise=-0.1), "make_digits: noise must be >= 0, got -0.1"),
        (dict(bold=2), r"make_digits: bold must be in \[0, 1\], got 2"),
        (dict(seed="x"), "make_digits: seed must be an int >= 0"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_digits(**kwargs)  # type: ignore[arg-type]
