"""The learned kernels of a convolutional network, and the last update Δw of each, as heatmaps.

``plot_kernels(model, optimizer)`` finds every ``Conv2d`` through ``nn.structure.describe``
(a conv layer's units are its output channels, each kernel's weights in (in, y, x) order)
and draws, per conv layer, one row per output channel and one column per input channel:
the kernel's weights and, when an optimizer is given, the Δw its last ``step()`` applied
(``optimizer.deltas``, through ``viz.deltas.resolve`` like ``draw_network``).  Every
panel's colours are symmetric around 0 (blue negative, red positive), one scale for the
weights and one for Δw per layer, so channels compare.  Needs matplotlib, imported on
first use like the other plots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograd import no_grad
from nn.structure import LayerInfo, describe

from .deltas import resolve
from .plots import Figure, _finish

__all__ = ["plot_kernels", "plot_feature_maps", "kernel_grids", "feature_maps"]

Grid = list[list[float]]  # one kernel slice [y][x]


def kernel_grids(layer: LayerInfo, value: Any) -> list[list[Grid]]:
    """``value(w)`` for every weight of a conv layer as [out][in][y][x] (units hold them in (in, y, x) order)."""
    kh, kw = layer.module.kernel_size
    out: list[list[Grid]] = []
    for unit in layer.units:
        flat = [value(w) for w in unit.weights]
        per_in = kh * kw
        out.append(
            [[flat[i * per_in + y * kw : i * per_in + (y + 1) * kw] for y in range(kh)] for i in range(layer.nin)]
        )
    return out


def _limit(grids: list[list[Grid]]) -> float:
    """The largest |value| of a layer's grids: the symmetric colour limit (1 when all are 0)."""
    top = max((abs(v) for kernel in grids for grid in kernel for row in grid for v in row), default=0.0)
    return top if top > 0 else 1.0


def _conv_layers(model: Any, where: str = "plot_kernels") -> list[LayerInfo]:
    """The model's Conv2d layers; a ValueError naming ``where`` when there are none (TypeError: no Module)."""
    try:
        layers = [layer for layer in describe(model).layers if layer.kind == "conv2d"]
    except TypeError as e:
        raise TypeError(f"{where}: {e}; pass a model holding an nn.Conv2d") from None
    except ValueError:
        layers = []
    if not layers:
        raise ValueError(f"{where}: {type(model).__name__} holds no Conv2d layer; there is nothing to draw")
    return layers


def _delta_of(src: Any) -> Any:
    """Δw of one weight from a ``DeltaSource`` (0 for a weight the last step did not move)."""
    return lambda w: float(src.delta(w) or 0.0)


def _panel(ax: Any, grid: Grid, limit: float, title: str, label: str) -> Any:
    """One kernel slice as a heatmap on [-limit, limit]; ``label`` names the axes for readers and tests."""
    image = ax.imshow(grid, vmin=-limit, vmax=limit, cmap="RdBu_r", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=7)
    ax.set_label(label)
    return image


def plot_kernels(model: Any, optimizer: Any = None, *, path: str | Path | None = None) -> Figure:
    """Each Conv2d's kernels (row: output channel, column: input channel) and, with ``optimizer``,
    their last Δw beside them, on colour scales symmetric around 0.

    Each axes is labelled ``"<layer> out o in i w"`` (or ``... dw``) for readers of the figure."""
    layers = _conv_layers(model)
    src = resolve(optimizer) if optimizer is not None else None
    with_delta = src is not None
    blocks = []
    for layer in layers:
        weights = kernel_grids(layer, lambda w: float(w.data))
        deltas = kernel_grids(layer, _delta_of(src)) if src is not None else None
        blocks.append((layer, weights, deltas))
    cols = max(layer.nin for layer in layers) * (2 if with_delta else 1)
    rows = sum(layer.nout for layer in layers)
    fig = Figure(figsize=(max(5.0, 1.3 * cols + 1.6), 1.3 * rows + 1.0), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    r0 = 0
    for layer, weights, deltas in blocks:
        name = layer.name or "conv"
        used: dict[str, list[Any]] = {"w": [], "dw": []}
        images: dict[str, Any] = {}
        for kind, grids in (("w", weights), ("dw", deltas)):
            if grids is None:
                continue
            limit, shift = _limit(grids), 0 if kind == "w" else layer.nin
            for o, kernel in enumerate(grids):
                for i, grid in enumerate(kernel):
                    ax = axes[r0 + o][shift + i]
                    title = f"{name} out {o} in {i}" + (" Δw" if kind == "dw" else "")
                    images[kind] = _panel(ax, grid, limit, title, f"{name} out {o} in {i} {kind}")
                    used[kind].append(ax)
        for o in range(layer.nout):
            for c in range(cols):
                if axes[r0 + o][c] not in used["w"] + used["dw"]:
                    axes[r0 + o][c].set_axis_off()
        for kind, text in (("w", "weight"), ("dw", "Δw (last step)")):
            if kind in images:
                fig.colorbar(images[kind], ax=used[kind], shrink=0.8, label=f"{name} {text}")
        r0 += layer.nout
    what = src.description if src is not None else "pass optimizer= to see each kernel's Δw"
    fig.suptitle(f"conv kernels (rows: output channels, columns: input channels)\n{what}", fontsize=8)
    return _finish(fig, path)


def feature_maps(model: Any, image: Any) -> list[tuple[str, list[Grid]]]:
    """The image and what every Conv2d of a ``Sequential`` makes of it: ``(name, [C][H][W] floats)``
    per stage, the input first, each conv's output (after its activation) next, in order."""
    convs = {layer.module: layer.name or "conv" for layer in _conv_layers(model, "plot_feature_maps")}
    stages = getattr(model, "layers", None)
    if not isinstance(stages, list) or not all(callable(m) for m in stages):
        raise TypeError("plot_feature_maps: pass an nn.Sequential (its stages are run one by one)")
    maps: list[tuple[str, list[Grid]]] = [("input", _floats(image))]
    x = image
    with no_grad():
        for module in stages:
            x = module(x)
            if module in convs:
                maps.append((convs[module], _floats(x)))
    return maps


def _floats(x: Any) -> list[Grid]:
    """A [C][H][W] nested list of Values or numbers as floats."""
    return [[[float(getattr(v, "data", v)) for v in row] for row in channel] for channel in x]


def plot_feature_maps(model: Any, image: Any, *, path: str | Path | None = None) -> Figure:
    """One image through a CNN: the input's channels, then every Conv2d's output channels, one row per
    stage (each row on its own colour scale).  Each axes is labelled ``"<stage> ch c"``."""
    maps = feature_maps(model, image)
    cols = max(len(channels) for _, channels in maps)
    fig = Figure(figsize=(max(4.0, 1.4 * cols + 1.2), 1.5 * len(maps) + 0.8), layout="constrained")
    axes = fig.subplots(len(maps), cols, squeeze=False)
    for r, (name, channels) in enumerate(maps):
        limit = _limit([channels])
        for c in range(cols):
            ax = axes[r][c]
            if c >= len(channels):
                ax.set_axis_off()
                continue
            image_ = _panel(ax, channels[c], limit, f"{name} ch {c}", f"{name} ch {c}")
        fig.colorbar(image_, ax=list(axes[r][: len(channels)]), shrink=0.8)
    fig.suptitle("feature maps: the image, then each convolution's output channels", fontsize=8)
    return _finish(fig, path)
