"""Pictures of backprop: computation graphs and networks with data, grad and Δw,
rendering with any Graphviz, training plots and animations, and the chain rule
for any weight spelled out with its numbers."""

from .digraph import Graph
from .graph import draw_graph
from .renderers import RenderError, RendererNotFound, find_renderer, render

__all__ = ["Graph", "draw_graph", "render", "find_renderer", "RendererNotFound", "RenderError"]
from .explain import explain

__all__ += ["explain"]
from .network import draw_network

__all__ += ["draw_network"]
