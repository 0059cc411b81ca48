"""Plots and GIFs: files written, non-empty, with the curves and frames they claim."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

import nn
import viz
from autograd import Value
from viz import plots


@pytest.fixture(scope="module")
def trained():
    X, y = nn.make_moons(40, noise=0.1, seed=0)
    y = y * 2 - 1
    runs = {}
    rec = viz.WeightRecorder()
    boundary = viz.FrameRecorder("boundary", X=X, y=y, every=5)
    network = viz.FrameRecorder("network", every=5)
    model = None
    for name, opt, lr in (("SGD lr=0.1", "sgd", 0.1), ("Adam lr=0.01", "adam", 0.01)):
        m = nn.MLP(2, [6, 6, 1], activation="tanh", seed=0)
        cbs = [rec, boundary, network] if opt == "sgd" else []
        runs[name] = nn.fit(
            m, X, y, loss="hinge", optimizer=opt, lr=lr, epochs=15, progress=False, seed=0, callbacks=cbs
        )
        model = model or m
    return dict(X=X, y=y, runs=runs, rec=rec, boundary=boundary, network=network, model=model)


def png_ok(path, min_size=(300, 200)) -> Image.Image:
    assert path.stat().st_size > 5_000
    im = Image.open(path)
    assert im.format == "PNG" and im.width >= min_size[0] and im.height >= min_size[1]
    # not a blank canvas
    assert len(set(im.convert("L").tobytes())) > 20
    return im


def test_loss_curves_of_several_runs(trained, tmp_path) -> None:
    fig = viz.plot_losses(trained["runs"], path=tmp_path / "loss.png")
    png_ok(tmp_path / "loss.png")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "SGD lr=0.1" in labels and "Adam lr=0.01" in labels
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "SGD lr=0.1")
    assert list(line.get_ydata()) == trained["runs"]["SGD lr=0.1"].loss
    assert fig._repr_png_().startswith(b"\x89PNG")  # Jupyter shows it without pyplot
    epochs = viz.plot_losses(list(trained["runs"].values()), per="epoch")
    assert epochs.axes[0].get_xlabel() == "epoch"


def test_weight_trajectories(trained, tmp_path) -> None:
    rec = trained["rec"]
    model = trained["model"]
    assert len(rec.steps) == trained["runs"]["SGD lr=0.1"].steps
    # the recorder's last values are the model's final weights
    for name, p in model.named_parameters():
        assert rec.values[name][-1] == p.data
    fig = viz.plot_weights(rec, path=tmp_path / "w.png", max_lines=5)
    png_ok(tmp_path / "w.png")
    assert len(fig.axes[0].get_lines()) == 5
    chosen = viz.plot_weights(rec, names=["layers.2.neurons.0.b"])
    assert list(chosen.axes[0].get_lines()[0].get_ydata()) == rec.values["layers.2.neurons.0.b"]
    with pytest.raises(ValueError, match="no parameters named"):
        viz.WeightRecorder(names=["nope"]).on_step(type("I", (), {"model": model, "step": 0})())


def test_weight_trajectories_from_a_plain_dict(tmp_path) -> None:
    # documented input: name -> weights over steps (a dict's .values is a method, not the record)
    paths = {"a": [0.0, 0.5, 1.0], "b": [1.0, 1.0, 1.0], "c": [2.0, -2.0, 3.0]}
    fig = viz.plot_weights(paths, max_lines=2, path=tmp_path / "d.png")
    png_ok(tmp_path / "d.png")
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["c", "a"]  # the two that moved most
    assert list(lines[0].get_ydata()) == paths["c"]
    assert list(lines[0].get_xdata()) == [1, 2, 3]
    assert [ln.get_label() for ln in viz.plot_weights(paths, names=["b"]).axes[0].get_lines()] == ["b"]
    with pytest.raises(ValueError, match="nothing recorded"):
        viz.plot_weights({})
    with pytest.raises(ValueError, match="no weights named"):
        viz.plot_weights(paths, names=["zz"])


def test_mean_abs_delta_per_layer(trained, tmp_path) -> None:
    h = trained["runs"]["SGD lr=0.1"]
    fig = viz.plot_deltas(h, path=tmp_path / "d.png")
    png_ok(tmp_path / "d.png")
    lines = fig.axes[0].get_lines()
    assert len(lines) == len(h.delta[0])
    first = next(iter(h.delta[0]))
    assert list(lines[0].get_ydata()) == h.layer_delta(first)
    assert fig.axes[0].get_yscale() == "log"
    several = viz.plot_deltas(trained["runs"], path=tmp_path / "d2.png")
    png_ok(tmp_path / "d2.png")
    assert [ax.get_title() for ax in several.axes] == list(h.delta[0])  # a panel per layer
    assert all(len(ax.get_lines()) == 2 for ax in several.axes)  # a line per run


def test_weight_histograms(trained, tmp_path) -> None:
    model = trained["model"]
    fig = viz.plot_weight_histograms(
        {"trained": model, "zeros": [0.0] * 10, "list": [0.5, -0.5, 0.25]}, path=tmp_path / "h.png", bins=10
    )
    png_ok(tmp_path / "h.png")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == f"trained ({len(model.parameters())} weights)"
    with pytest.raises(ValueError, match="dict label"):
        viz.plot_weight_histograms([])


def test_runs_side_by_side(trained, tmp_path) -> None:
    fig = viz.plot_runs(trained["runs"], path=tmp_path / "runs.png", title="optimizers")
    png_ok(tmp_path / "runs.png", (800, 300))
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "update size"]
    assert len(fig.axes[0].get_lines()) == 2


def test_decision_boundary_matches_the_model(trained, tmp_path) -> None:
    model, X, y = trained["model"], trained["X"], trained["y"]
    fig = viz.plot_decision_boundary(model, X, y, path=tmp_path / "b.png", resolution=60)
    png_ok(tmp_path / "b.png")
    # the numpy fast path computes exactly what the model computes
    pts = np.array([[0.1, 0.2], [-1.0, 0.5], [2.0, -0.3]])
    fast = plots._numpy_forward(model, pts)[:, 0]
    slow = [model([float(a), float(b)]).data for a, b in pts]
    assert fast == pytest.approx(slow, rel=1e-12)
    assert fig.axes[0].get_xlabel() == "x₀"
    # a model the fast path cannot read (custom activation) goes through Values
    odd = nn.MLP(2, [3, 1], activation=lambda z: z.tanh() * 0.5, seed=0)
    assert plots._numpy_forward(odd, pts) is None
    viz.plot_decision_boundary(odd, X, y, resolution=15, path=tmp_path / "odd.png")
    png_ok(tmp_path / "odd.png")
    with pytest.raises(ValueError, match=r"shape \(samples, 2\)"):
        viz.plot_decision_boundary(model, np.zeros((3, 3)), [0, 1, 0])


def test_gif_of_network_and_of_boundary(trained, tmp_path) -> None:
    for kind in ("network", "boundary"):
        rec = trained[kind]
        assert len(rec.frames) == 3  # 15 steps, a frame every 5
        out = viz.animate(rec, tmp_path / f"{kind}.gif", fps=5)
        assert out.stat().st_size > 10_000
        im = Image.open(out)
        assert im.format == "GIF" and im.n_frames == 3
        # frames differ: the weights moved
        im.seek(0)
        a = im.convert("RGB").tobytes()
        im.seek(2)
        assert im.convert("RGB").tobytes() != a


def test_animate_any_frames_and_errors(tmp_path) -> None:
    m = nn.MLP(2, [3, 1], seed=0)
    frames = [viz.draw_network(m), viz.plot_losses(nn.History(loss=[1.0, 0.5], epoch_loss=[0.75]))]
    out = viz.animate(frames, tmp_path / "mixed")
    assert out.suffix == ".gif" and Image.open(out).n_frames == 2
    with pytest.raises(ValueError, match="no frames"):
        viz.animate([], tmp_path / "none.gif")
    with pytest.raises(TypeError, match="cannot make a frame"):
        viz.animate([42], tmp_path / "bad.gif")
    with pytest.raises(ValueError, match="kind"):
        viz.FrameRecorder("movie")
    with pytest.raises(TypeError, match="not an nn.History"):
        viz.plot_losses({"a": 1})


def test_plots_and_gifs_are_written_atomically(tmp_path, monkeypatch) -> None:
    def fail(src, dst):
        raise OSError(28, "No space left on device")

    hist = nn.History(loss=[1.0, 0.5], epoch_loss=[0.75])
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "blue")]
    for name, write in (
        ("loss.png", lambda p: viz.plot_losses(hist, path=p)),
        ("train.gif", lambda p: viz.animate(frames, p)),
    ):
        target = tmp_path / name
        target.write_bytes(b"old")
        with monkeypatch.context() as m:
            m.setattr(os, "replace", fail)
            with pytest.raises(OSError, match="No space left"):
                write(target)
        assert target.read_bytes() == b"old"
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
        write(target)
        assert target.read_bytes() != b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "train.gif"]
    assert viz.plot_losses(hist, path=tmp_path / "nosuffix") is not None and (tmp_path / "nosuffix.png").exists()


@pytest.mark.parametrize("activation", ["gelu", "silu", "leaky_relu", "softplus"])
def test_decision_boundary_fast_path_reads_the_op_registry(activation, monkeypatch) -> None:
    # any registry activation (gelu and silu were added after plots was written) gets its numpy
    # form from the registry: the element-by-element fallback is never needed
    fn = getattr(Value, activation)
    model = nn.MLP(2, [5, 1], activation=fn, seed=0)
    assert model.layers[0].activation == activation
    monkeypatch.setattr(np, "frompyfunc", lambda *a: pytest.fail("used the elementwise fallback"))
    pts = np.array([[0.1, 0.2], [-1.0, 0.5], [2.0, -0.3], [-3.0, -2.0]])
    fast = plots._numpy_forward(model, pts)
    assert fast is not None
    slow = [model([float(a), float(b)]).data for a, b in pts]
    assert fast[:, 0] == pytest.approx(slow, rel=1e-12, abs=1e-15)
