"""Training plots with matplotlib: loss curves, weight trajectories, mean |Δw| per
layer, decision boundaries, and several runs side by side.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot,
so it works headless (Agg) and in loops without leaking figures; Jupyter
shows it inline, ``path=`` saves it (png/svg/pdf).  Figures use
``layout="constrained"``, labelled axes and sizes readable at README width.
Runs are given as one ``History``, a list of them, or a dict label → History.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value, enable_grad, no_grad
from autograd.ops import op_of
from nn.structure import describe

from .atomic import write_file

try:
    from matplotlib.figure import Figure as _MplFigure
except ImportError as e:  # pragma: no cover - exercised only without the [plot] extra
    raise ImportError("viz plots need matplotlib: pip install 'deltaw[plot]'") from e


class Figure(_MplFigure):
    """A matplotlib Figure that shows itself in Jupyter even when pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


Runs = Any  # one History (or list of losses), a sequence of them, or a mapping label -> History

WIDTH = 7.0  # inches: about README width at 100 dpi
HEIGHT = 4.0


class _Curve:
    """A plain list of losses dressed as a History (for ``plot_losses``)."""

    def __init__(self, values: Sequence[float]) -> None:
        self.loss = [float(v) for v in values]
        self.epoch_loss: list[float] = []
        self.accuracy: list[float] = []
        self.delta: list[dict[str, float]] = []
        self.steps_per_epoch: list[int] = []


def _is_curve(x: Any) -> bool:
    return isinstance(x, (list, tuple, np.ndarray)) and all(isinstance(v, (int, float, np.floating)) for v in x)


def _runs(runs: Runs, labels: Sequence[str] | None = None) -> list[tuple[str, Any]]:
    """``[(label, history), ...]`` from one History (or list of losses), a list or a dict of them."""
    if _is_curve(runs):
        runs = [_Curve(runs)]
    if isinstance(runs, Mapping):
        runs = {k: _Curve(v) if _is_curve(v) else v for k, v in runs.items()}
        items = [(str(k), v) for k, v in runs.items()]
    elif hasattr(runs, "loss"):
        items = [("", runs)]
    elif isinstance(runs, Sequence) and not isinstance(runs, str):
        items = [(f"run {i}", _Curve(h) if _is_curve(h) else h) for i, h in enumerate(runs)]
    else:
        raise TypeError(
            f"plots: expected a History (or a list of losses), a list of them or a dict "
            f"label -> History, got {type(runs).__name__}"
        )
    if labels is not None:
        if len(labels) != len(items):
            raise ValueError(f"plots: {len(labels)} labels for {len(items)} runs")
        items = [(str(lab), h) for lab, (_, h) in zip(labels, items)]
    for lab, h in items:
        if not hasattr(h, "loss"):
            raise TypeError(f"plots: run {lab!r} is a {type(h).__name__}, not an nn.History or a list of losses")
    return items


def _finish(fig: Figure, path: str | Path | None, dpi: int = 100) -> Figure:
    """Save ``fig`` to ``path`` (when given) atomically, in the format its suffix names (png without one)."""
    if path is not None:
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".png")
        fmt = path.suffix[1:].lower()
        write_file(path, lambda f: fig.savefig(f, dpi=dpi, format=fmt))
    return fig


def figure_to_image(fig: Figure, dpi: int = 80) -> Any:
    """A figure as an RGB PIL image (for GIF frames)."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def _epoch_x(h: Any) -> np.ndarray:
    """The step at which each epoch ended (for epoch curves drawn over steps)."""
    spe = list(getattr(h, "steps_per_epoch", []) or [])
    if spe:
        return np.cumsum(spe)[: len(h.epoch_loss)]
    return np.arange(1, len(h.epoch_loss) + 1)


def _loss_axes(ax: Any, items: list[tuple[str, Any]], per: str, logy: bool) -> None:
    for lab, h in items:
        if per == "step":
            y = np.asarray(h.loss, float)
            (line,) = ax.plot(np.arange(1, len(y) + 1), y, lw=1.2, label=lab or "loss per step")
            if len(h.epoch_loss) > 1 and len(h.epoch_loss) < len(y):
                ax.plot(
                    _epoch_x(h),
                    h.epoch_loss,
                    "o",
                    ms=3,
                    color=line.get_color(),
                    label=f"{lab} epoch mean" if lab else "epoch mean",
                )
        else:
            ax.plot(
                np.arange(1, len(h.epoch_loss) + 1),
                h.epoch_loss,
                lw=1.5,
                marker="o",
                ms=3,
                label=lab or "loss per epoch",
            )
    ax.set_xlabel("step" if per == "step" else "epoch")
    ax.set_ylabel("loss")
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)


def plot_losses(
    runs: Runs,
    *,
    labels: Sequence[str] | None = None,
    per: str = "step",
    log: bool = True,
    title: str | None = None,
    xlabel: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Loss curves of one or several runs: per step (with epoch means) or per epoch.

    ``runs``: a History, a list of losses, or a list/dict of either (dict
    keys become the legend).  ``log``: logarithmic loss axis (when all
    losses are > 0).
    """
    if per not in ("step", "epoch"):
        raise ValueError(f"plot_losses: per must be 'step' or 'epoch', got {per!r}")
    items = _runs(runs, labels)
    fig = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    ax = fig.add_subplot()
    _loss_axes(ax, items, per, log and all(min(h.loss or [1.0]) > 0 for _, h in items))
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_title(title or "training loss")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_weights(
    recorder: Any,
    *,
    names: Sequence[str] | None = None,
    max_lines: int = 12,
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Weight trajectories: w after each step, from a :class:`viz.WeightRecorder`
    (or a dict name → values).  Without ``names`` the ``max_lines`` weights
    that moved most are shown.

    A dict is used as it is (checked first: a dict's own ``.values`` is the
    method, not a recording); anything else must carry a ``.values`` dict, as
    ``WeightRecorder`` does.
    """
    values = recorder if isinstance(recorder, Mapping) else getattr(recorder, "values", None)
    if not isinstance(values, Mapping) or not values:
        raise ValueError(
            "plot_weights: nothing recorded; pass viz.WeightRecorder() to nn.fit(callbacks=[...]), "
            f"or a non-empty dict name -> list of weights (got {type(recorder).__name__})"
        )
    unknown = [n for n in (names or []) if n not in values]
    if unknown:
        raise ValueError(f"plot_weights: no weights named {unknown}; recorded are e.g. {list(values)[:4]}")
    if names is None:
        moved = sorted(values, key=lambda n: -(max(values[n]) - min(values[n])) if values[n] else 0.0)
        names = moved[:max_lines]
    fig = Figure(figsize=(WIDTH + 2, HEIGHT), layout="constrained")
    ax = fig.add_subplot()
    steps = getattr(recorder, "steps", None)
    for n in names:
        ys = values[n]
        xs = steps if steps and len(steps) == len(ys) else range(1, len(ys) + 1)
        ax.plot(list(xs), ys, lw=1.2, label=n)
    ax.set_xlabel("step")
    ax.set_ylabel("weight value w")
    ax.set_title(title or f"weight trajectories ({len(names)} of {len(values)} weights, most moved)")
    ax.grid(alpha=0.3)
    fig.legend(fontsize=7, loc="outside right upper")
    return _finish(fig, path)


def _delta_axes(ax: Any, items: list[tuple[str, Any]]) -> None:
    """One colour per layer for a single run; with several runs one colour per run
    and one line style per layer."""
    styles = ["-", "--", ":", "-."]
    for r, (lab, h) in enumerate(items):
        if not h.delta:
            continue
        layers = list(h.delta[0])
        for k, name in enumerate(layers):
            ys = [d.get(name, math.nan) for d in h.delta]
            kw = {"color": f"C{k}"} if len(items) == 1 else {"color": f"C{r}", "ls": styles[k % len(styles)]}
            ax.plot(range(1, len(ys) + 1), ys, lw=1.2, label=f"{lab} {name}".strip(), **kw)
    ax.set_xlabel("step")
    ax.set_ylabel("mean |Δw|")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)


def plot_deltas(
    runs: Runs, *, labels: Sequence[str] | None = None, title: str | None = None, path: str | Path | None = None
) -> Figure:
    """Mean |Δw| per layer over the steps (``History.delta``): how big each update was.

    One run: a line per layer.  Several runs: a panel per layer (up to 4)
    with a line per run, so optimizers or learning rates compare directly.
    """
    items = _runs(runs, labels)
    items = [(lab, h) for lab, h in items if h.delta]
    if not items:
        raise ValueError("plot_deltas: the histories hold no Δw records (History.delta is empty)")
    layers: list[str] = []
    for _, h in items:
        layers += [k for k in h.delta[0] if k not in layers]
    if len(items) == 1 or len(layers) == 1 or len(layers) > 4:
        fig = Figure(figsize=(WIDTH + 2, HEIGHT), layout="constrained")
        ax = fig.add_subplot()
        _delta_axes(ax, items)
        ax.set_title(title or "size of the weight updates, per layer")
        fig.legend(fontsize=7, loc="outside right upper")
        return _finish(fig, path)
    fig = Figure(figsize=(3.6 * len(layers), HEIGHT), layout="constrained")
    axes = fig.subplots(1, len(layers), sharey=True)
    for ax, name in zip(axes, layers):
        for r, (lab, h) in enumerate(items):
            ys = [d.get(name, math.nan) for d in h.delta]
            ax.plot(range(1, len(ys) + 1), ys, lw=1.2, color=f"C{r}", label=lab)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean |Δw|")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=min(len(items), 4), fontsize=8)
    fig.suptitle(title or "size of the weight updates, per layer")
    return _finish(fig, path)


def plot_runs(
    runs: Runs, *, labels: Sequence[str] | None = None, title: str | None = None, path: str | Path | None = None
) -> Figure:
    """Several runs side by side: loss, accuracy (when recorded) and mean |Δw|,
    one colour per run with a shared legend — for comparing optimizers,
    learning rates or inits."""
    items = _runs(runs, labels)
    has_acc = any(h.accuracy for _, h in items)
    panels = 3 if has_acc else 2
    fig = Figure(figsize=(4.2 * panels, HEIGHT), layout="constrained")
    axes = fig.subplots(1, panels)
    colours = {lab: f"C{i}" for i, (lab, _) in enumerate(items)}
    for lab, h in items:
        axes[0].plot(range(1, len(h.loss) + 1), h.loss, lw=1.2, color=colours[lab], label=lab)
        if has_acc and h.accuracy:
            axes[1].plot(range(1, len(h.accuracy) + 1), h.accuracy, lw=1.2, color=colours[lab])
        if h.delta:
            mean = [float(np.mean(list(d.values()))) if d else math.nan for d in h.delta]
            axes[-1].plot(range(1, len(mean) + 1), mean, lw=1.2, color=colours[lab])
    axes[0].set_ylabel("loss")
    if all(min(h.loss or [1.0]) > 0 for _, h in items):
        axes[0].set_yscale("log")
    axes[0].set_title("loss")
    if has_acc:
        axes[1].set_ylabel("accuracy")
        axes[1].set_ylim(0, 1.02)
        axes[1].set_title("accuracy")
    axes[-1].set_ylabel("mean |Δw| over all layers")
    axes[-1].set_yscale("log")
    axes[-1].set_title("update size")
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=min(len(items), 6), fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_weight_histograms(
    weights: Mapping[str, Any], *, bins: int = 40, title: str | None = None, path: str | Path | None = None
) -> Figure:
    """Histograms of weight values, one outline per entry of ``weights``
    (label → list of values, or label → model): sparsity from L1, shrinkage
    from L2, the spread an init produces."""
    if not isinstance(weights, Mapping) or not weights:
        raise ValueError("plot_weight_histograms: pass a dict label -> list of weights (or -> model)")
    data = {}
    for lab, ws in weights.items():
        if hasattr(ws, "parameters"):
            ws = [p.data for p in ws.parameters()]
        data[str(lab)] = np.asarray([w.data if isinstance(w, Value) else float(w) for w in ws], dtype=float)
    lo = min(float(v.min()) for v in data.values() if len(v))
    hi = max(float(v.max()) for v in data.values() if len(v))
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    fig = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    ax = fig.add_subplot()
    for lab, v in data.items():
        ax.hist(v, bins=list(edges), histtype="step", lw=1.5, label=f"{lab} ({len(v)} weights)")
    ax.set_xlabel("weight value w")
    ax.set_ylabel("number of weights")
    ax.set_title(title or "weight values")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, path)


# ---- decision boundary ----------------------------------------------------------
def _array_form(fn: Callable[[Value], Value]) -> Callable[[np.ndarray], np.ndarray]:
    """An activation applied elementwise to an array.

    When ``fn`` is one op of the registry (probed on a Value: ``relu``,
    ``leaky_relu`` with its slope, ``gelu``, ...), that op's numpy form
    (``op.arrays().forward``); the identity stays the identity; anything else
    is ``fn`` itself mapped over the elements (exact, slower).
    """
    probe = Value(0.5)
    with enable_grad():  # the probe's node must record its op even inside a no_grad block
        out = fn(probe)
    if out is probe:
        return lambda z: z
    op = op_of(out)
    if op is not None and op.arity == 1 and out.children == (probe,):
        forward = op.arrays().forward
        return lambda z: np.asarray(forward(z), dtype=float)
    each = np.frompyfunc(lambda z: fn(Value(float(z))).data, 1, 1)
    return lambda z: np.asarray(each(z), dtype=float)


def _numpy_forward(model: Any, grid: np.ndarray) -> np.ndarray | None:
    """The model on many points at once with numpy, when ``nn.structure`` reads it as a stack of
    dense layers with named activations; ``None`` otherwise (then the Value forward is used)."""
    try:
        st = describe(model)
    except (TypeError, ValueError):
        return None
    if not st.is_dense_stack() or any(layer.function() is None for layer in st.layers):
        return None
    h = grid
    for layer in st.layers:
        W = np.array([[w.data for w in u.weights] for u in layer.units])
        b = np.array([u.bias.data for u in layer.units])
        h = _array_form(layer.function())(h @ W.T + b)  # type: ignore[arg-type]
    return h


def _predict(model: Any, grid: np.ndarray) -> np.ndarray:
    out = _numpy_forward(model, grid)
    if out is None:
        rows = []
        with no_grad():
            for p in grid:
                o = model([float(p[0]), float(p[1])])
                o = o if isinstance(o, list) else [o]
                rows.append([v.data if isinstance(v, Value) else float(v) for v in o])
        out = np.array(rows)
    return out


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    *,
    resolution: int = 120,
    threshold: float | None = None,
    title: str | None = None,
    ax: Any = None,
    path: str | Path | None = None,
) -> Figure:
    """The regions a 2-D classifier assigns to each class, with the data on top.

    One output: the boundary is ``output = threshold``, by default halfway
    between the two labels (0.5 for 0/1 labels, 0 for ±1 labels as with the
    hinge loss); pass ``threshold=0`` for a model that outputs logits with
    0/1 labels.  Several outputs: the argmax class.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (samples, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: {len(X)} samples but {len(y)} labels")
    pad = 0.1 * (X.max(0) - X.min(0) + 1e-9)
    lo, hi = X.min(0) - pad, X.max(0) + pad
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    out = _predict(model, grid)
    if ax is None:
        fig = Figure(figsize=(5.0, 4.4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    if out.shape[1] == 1:
        score = out[:, 0].reshape(gx.shape)
        if threshold is None:
            labs = np.unique(y).astype(float) if np.issubdtype(y.dtype, np.number) else np.array([0.0, 1.0])
            threshold = float(labs.min() + labs.max()) / 2 if len(labs) > 1 else 0.5
        span = max(abs(score.max() - threshold), abs(score.min() - threshold), 1e-12)
        cf = ax.contourf(
            gx, gy, score, levels=21, cmap="RdBu_r", vmin=threshold - span, vmax=threshold + span, alpha=0.75
        )
        ax.contour(gx, gy, score, levels=[threshold], colors="k", linewidths=1.5)
        fig.colorbar(cf, ax=ax, label="model output", shrink=0.85)
    else:
        cls = out.argmax(1).reshape(gx.shape)
        ax.contourf(gx, gy, cls, levels=np.arange(out.shape[1] + 1) - 0.5, cmap="tab10", alpha=0.35)
    labels = np.unique(y)
    markers = "os^vD<>p*h"
    for i, c in enumerate(labels):
        m = y == c
        ax.scatter(
            X[m, 0],
            X[m, 1],
            s=18,
            marker=markers[i % len(markers)],
            edgecolors="k",
            linewidths=0.5,
            label=f"class {c:g}" if np.issubdtype(labels.dtype, np.number) else f"class {c}",
        )
    ax.set_xlabel("x₀")
    ax.set_ylabel("x₁")
    ax.set_title(title or "decision boundary")
    ax.legend(fontsize=8, loc="upper right")
    return _finish(fig, path)
