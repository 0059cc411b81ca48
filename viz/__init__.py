"""Pictures of backprop: computation graphs and networks with data, grad and Δw,
rendering with any Graphviz, training plots and animations, and the chain rule
for any weight spelled out with its numbers.

The plots and animations need matplotlib (``pip install 'deltaw[plot]'``);
they are imported on first use, so the graph drawings work without it.
"""

from typing import Any

from .digraph import Graph
from .explain import explain
from .graph import draw_graph
from .network import draw_network
from .record import FrameRecorder, WeightRecorder
from .renderers import RendererNotFound, RenderError, find_renderer, render

_PLOTS = ("plot_losses", "plot_weights", "plot_deltas", "plot_runs", "plot_weight_histograms", "plot_decision_boundary")

__all__ = [
    "Graph",
    "draw_graph",
    "draw_network",
    "render",
    "find_renderer",
    "RendererNotFound",
    "RenderError",
    "explain",
    "animate",
    "WeightRecorder",
    "FrameRecorder",
    *_PLOTS,
    "plot_attention",
    "plot_kernels",
]


def __getattr__(name: str) -> Any:
    """``viz.plot_*`` and ``viz.animate`` load matplotlib / Pillow only when first used."""
    if name in _PLOTS:
        from . import plots

        return getattr(plots, name)
    if name == "plot_attention":  # attention heatmaps (viz/attention.py), also matplotlib
        from .attention import plot_attention

        return plot_attention
    if name == "plot_kernels":  # conv kernels and their Δw as heatmaps (viz/kernels.py), also matplotlib
        from .kernels import plot_kernels

        return plot_kernels
    if name == "animate":
        from .animation import animate

        return animate
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
