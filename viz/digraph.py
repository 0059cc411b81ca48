"""``Graph``: the ``graphviz.Digraph`` that viz returns, shown inline everywhere.

``graphviz.Digraph`` shows itself in Jupyter by running the system ``dot``;
where only ``graphviz-pure`` is installed that fails.  This subclass renders
through :mod:`viz.renderers` instead, so notebooks show the SVG with either
renderer, and without one they show how to install it.  ``pipe()`` falls
back the same way; everything else is the plain ``graphviz.Digraph``.
"""

from __future__ import annotations

from typing import Any

import graphviz

from . import renderers as _render


class Graph(graphviz.Digraph):  # type: ignore[misc]  # graphviz ships no type hints
    """A ``graphviz.Digraph`` whose Jupyter display and ``pipe()`` work with graphviz-pure too."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, str]:
        try:
            svg = _render.pipe(self.source, "svg").decode("utf-8")
        except _render.RendererNotFound as e:
            return {"text/plain": str(e)}
        return {"image/svg+xml": svg}

    def _repr_svg_(self) -> str:
        return _render.pipe(self.source, "svg").decode("utf-8")

    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: Any = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> Any:
        """``graphviz.Digraph.pipe``; without the system ``dot`` it renders with graphviz-pure."""
        try:
            return super().pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine, encoding=encoding)
        except graphviz.ExecutableNotFound:
            if renderer or formatter or neato_no_op or engine not in (None, "dot"):
                raise
            data = _render.pipe(self.source, format or self.format)
            return data.decode(encoding) if encoding else data
