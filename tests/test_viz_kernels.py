"""viz.plot_kernels: each panel holds exactly one kernel slice's weights or its Δw."""

from __future__ import annotations

import numpy as np
import pytest

import nn
import viz
from nn import Adam, Conv2d, Flatten, Layer, MaxPool2d, Sequential, fit
from nn.data import make_digits

pytest.importorskip("matplotlib")  # a third-party extra, not our own package


def _model() -> Sequential:
    return Sequential(
        Conv2d(2, 3, (2, 3), activation="tanh", seed=1),
        MaxPool2d(2),
        Flatten(),
        Layer(12, 10, activation="linear", seed=1),
    )


def _panels(fig: object) -> dict[str, np.ndarray]:
    """Each labelled axes' image array, by the label plot_kernels gives it."""
    return {ax.get_label(): np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images}  # type: ignore[attr-defined]


def _trained() -> tuple[Sequential, Adam]:
    model = _model()
    X, y = make_digits(4, seed=0)
    X = np.concatenate([X, X[:, :, ::-1]], axis=1)  # two input channels that differ
    opt = Adam(model.parameters(), lr=0.05)
    fit(model, X[:, :, :5, :7], y, loss="cross_entropy", optimizer=opt, epochs=2, progress=False)
    return model, opt


def test_weight_panels_equal_the_kernels() -> None:
    model, _ = _trained()
    conv = model.layers[0]
    panels = _panels(viz.plot_kernels(model))
    assert len(panels) == 3 * 2
    for o in range(3):
        for i in range(2):
            want = np.array([[w.data for w in row] for row in conv.weight[o][i]])
            got = panels[f"layers.0 out {o} in {i} w"]
            assert got.shape == (2, 3)
            np.testing.assert_array_equal(got, want)


def test_delta_panels_equal_the_optimizers_deltas() -> None:
    model, opt = _trained()
    conv = model.layers[0]
    panels = _panels(viz.plot_kernels(model, opt))
    assert len(panels) == 3 * 2 * 2
    for o in range(3):
        for i in range(2):
            want = np.array([[opt.deltas[w] for w in row] for row in conv.weight[o][i]])
            assert np.abs(want).max() > 0
            np.testing.assert_array_equal(panels[f"layers.0 out {o} in {i} dw"], want)
            np.testing.assert_array_equal(
                panels[f"layers.0 out {o} in {i} w"], [[w.data for w in row] for row in conv.weight[o][i]]
            )


def test_colour_scales_are_symmetric_around_zero() -> None:
    model, opt = _trained()
    fig = viz.plot_kernels(model, opt)
    for ax in fig.axes:
        if ax.images:
            lo, hi = ax.images[0].get_clim()
            assert lo == -hi and hi > 0


def test_saves_atomically_to_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, opt = _trained()
    out = tmp_path / "kernels.png"
    viz.plot_kernels(model, opt, path=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kernels.png"]


def test_a_model_without_conv_is_refused() -> None:
    with pytest.raises(ValueError, match="plot_kernels: MLP holds no Conv2d"):
        viz.plot_kernels(nn.MLP(2, [3, 1]))
    with pytest.raises(ValueError, match="plot_kernels: Sequential holds no Conv2d"):
        viz.plot_kernels(Sequential(Flatten()))
    with pytest.raises(TypeError, match="plot_kernels: describe: expected an nn.Module"):
        viz.plot_kernels("not a model")


def test_feature_map_panels_equal_the_image_and_each_convolution_output() -> None:
    model, _ = _trained()
    X, _ = make_digits(1, seed=3)
    image = np.concatenate([X, X[:, :, ::-1]], axis=1)[0, :, :5, :7].tolist()
    panels = _panels(viz.plot_feature_maps(model, image))
    conv_out = model.layers[0](image)  # [3][H][W] after tanh, computed here independently of the picture
    assert set(panels) == {"input ch 0", "input ch 1", "layers.0 ch 0", "layers.0 ch 1", "layers.0 ch 2"}
    for c in range(2):
        assert np.array_equal(panels[f"input ch {c}"], np.asarray(image[c]))
    for o in range(3):
        assert np.array_equal(panels[f"layers.0 ch {o}"], np.asarray([[v.data for v in row] for row in conv_out[o]]))


def test_feature_maps_need_a_sequential_with_a_convolution() -> None:
    with pytest.raises(ValueError, match="plot_feature_maps: MLP holds no Conv2d"):
        viz.plot_feature_maps(nn.MLP(2, [3, 1]), [[[0.0]]])
    with pytest.raises(TypeError, match="plot_feature_maps: pass an nn.Sequential"):
        viz.plot_feature_maps(Conv2d(1, 1, 1, seed=0), [[[0.0]]])
