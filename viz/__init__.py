"""Pictures of backprop: computation graphs and networks with data, grad and Δw,
rendering with any Graphviz, training plots and animations, the chain rule
for any weight spelled out with its numbers, and HTML pages to step through
one backward pass (``explore``) or a recorded run (``RunRecorder`` + ``explore_run``).

The plots and animations need matplotlib (``pip install 'deltaw[plot]'``);
they are imported on first use, so the graph drawings work without it.
"""

import importlib
from typing import Any

from .digraph import Graph
from .explain import explain
from .graph import draw_graph
from .network import draw_network
from .record import FrameRecorder, WeightRecorder
from .renderers import RendererNotFound, RenderError, find_renderer, render

#: Names loaded on first use (matplotlib or Pillow), each from its module of viz.
_LAZY = {
    "plot_attention": "attention",  # a GPT's attention heatmaps
    "plot_kernels": "kernels",  # conv kernels and their Δw
    "plot_feature_maps": "kernels",  # an image through a CNN's convolutions
    "animate": "animation",
    "explore": "explorer",  # the stepping HTML page (pure Python; needs a Graphviz renderer)
    "explore_run": "run_view",  # a recorded run's page: the network stepping through its Δw
    "RunRecorder": "run_record",  # every step's Δw and values as numpy arrays (numpy on first use)
    "RunRecorderFull": "run_record",
}
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
    "WeightRecorder",
    "FrameRecorder",
    *_PLOTS,
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    """``viz.plot_*`` and ``viz.animate`` load matplotlib / Pillow only when first used."""
    if name in _PLOTS:
        from . import plots

        return getattr(plots, name)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
