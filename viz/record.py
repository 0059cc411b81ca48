"""Callbacks for ``nn.fit`` that record what plots and animations need.

``History`` holds losses, accuracies and mean |Δw| per layer; it does not
keep every weight, and it cannot keep pictures.  These recorders only read
the model and optimizer that ``fit`` hands to callbacks after each step:

- :class:`WeightRecorder`: the value of chosen weights after every step
  (for :func:`viz.plot_weights`);
- :class:`FrameRecorder`: a picture every ``every`` steps — the network
  diagram or the decision boundary — for :func:`viz.animate`;
- :class:`viz.RunRecorder` (in :mod:`viz.run_record`): every parameter's Δw
  and value at every step, as float64 arrays, for :func:`viz.explore_run`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any


class WeightRecorder:
    """Pass to ``nn.fit(callbacks=[rec])``; afterwards ``rec.values[name]`` is that weight per step.

    ``names``: which parameters (dotted names); default every parameter of
    the model, at most ``limit`` of them (the first ones) so a big model
    does not fill memory.
    """

    def __init__(self, names: Sequence[str] | None = None, limit: int = 200) -> None:
        self.names = list(names) if names is not None else None
        self.limit = limit
        self.steps: list[int] = []
        self.values: dict[str, list[float]] = {}
        self._params: list[tuple[str, Any]] | None = None

    def on_step(self, info: Any) -> None:
        if self._params is None:
            named = info.model.named_parameters()
            if self.names is None:
                chosen = named[: self.limit]
            else:
                lookup = dict(named)
                missing = [n for n in self.names if n not in lookup]
                if missing:
                    raise ValueError(
                        f"WeightRecorder: no parameters named {missing}; the model has e.g. {[n for n, _ in named[:4]]}"
                    )
                chosen = [(n, lookup[n]) for n in self.names]
            self._params = chosen
            for n, _ in chosen:
                self.values[n] = []
        self.steps.append(info.step)
        for n, p in self._params:
            self.values[n].append(p.data)


class FrameRecorder:
    """Pass to ``nn.fit(callbacks=[rec])``; afterwards ``viz.animate(rec, "train.gif")``.

    ``kind="network"``: :func:`viz.draw_network` of the model with the Δw of
    the step just taken (rendered with the Graphviz that :func:`viz.render`
    finds).  ``kind="boundary"``: :func:`viz.plot_decision_boundary` on
    ``X``, ``y``.  A frame every ``every`` steps, at most ``max_frames``.
    """

    def __init__(
        self,
        kind: str = "network",
        *,
        every: int = 1,
        X: Any = None,
        y: Any = None,
        max_frames: int = 200,
        dpi: int = 80,
        **draw_kw: Any,
    ) -> None:
        if kind not in ("network", "boundary"):
            raise ValueError(f"FrameRecorder: kind must be 'network' or 'boundary', got {kind!r}")
        if kind == "boundary" and (X is None or y is None):
            raise ValueError("FrameRecorder: kind='boundary' needs the data, X= and y=")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"FrameRecorder: every must be a positive int, got {every!r}")
        self.kind = kind
        self.every = every
        self.X = X
        self.y = y
        self.max_frames = max_frames
        self.dpi = dpi
        self.draw_kw = draw_kw
        self.frames: list[Any] = []  # PIL images

    def on_step(self, info: Any) -> None:
        if info.step % self.every or len(self.frames) >= self.max_frames:
            return
        self.frames.append(self.frame(info.model, info.optimizer, info.step, info.loss))

    def frame(self, model: Any, optimizer: Any, step: int, loss: float) -> Any:
        """One picture of the model now, as a PIL image."""
        if self.kind == "network":
            from PIL import Image

            from .network import draw_network
            from .renderers import pipe

            g = draw_network(model, optimizer=optimizer, caption=f"step {step} · loss {loss:.4g}", **self.draw_kw)
            png = pipe(g, "png")
            return Image.open(io.BytesIO(png)).convert("RGB")
        from .plots import figure_to_image, plot_decision_boundary

        fig = plot_decision_boundary(model, self.X, self.y, title=f"step {step} · loss {loss:.4g}", **self.draw_kw)
        return figure_to_image(fig, dpi=self.dpi)
