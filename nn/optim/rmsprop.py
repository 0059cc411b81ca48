"""RMSprop: steps divided by a running RMS of the gradient (torch.optim.RMSprop, centered and momentum)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd import Value

from .optimizer import Optimizer, _check_number

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """g ← ∇ + weight_decay·w; v ← α·v + (1 − α)·g²; ṽ = v − ḡ² with ḡ ← α·ḡ + (1 − α)·g when
    ``centered`` (else ṽ = v); d = g / (√ṽ + eps); with momentum μ > 0: b ← μ·b + d, w ← w − lr·b,
    else w ← w − lr·d.  All state starts at 0."""

    state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_number("RMSprop", "lr", lr, strict=True)
        for name, x in (("alpha", alpha), ("eps", eps), ("weight_decay", weight_decay), ("momentum", momentum)):
            _check_number("RMSprop", name, x)
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=bool(centered),
                maximize=bool(maximize),
            ),
        )

    def _update(self, w, g, state, t):
        h = self._hyper
        a = h["alpha"]
        if h["weight_decay"] != 0:
            g = g + h["weight_decay"] * w
        zeros = np.zeros_like(w)
        sq = state.get("square_avg", zeros) * a + (1.0 - a) * (g * g)
        state["square_avg"] = sq
        if h["centered"]:
            ga = state.get("grad_avg", zeros)
            ga = ga + (1.0 - a) * (g - ga)
            state["grad_avg"] = ga
            # v − ḡ² >= 0 in exact arithmetic; clamp rounding below 0 (torch would give nan)
            avg = np.sqrt(np.maximum(sq - ga * ga, 0.0)) + h["eps"]
        else:
            avg = np.sqrt(sq) + h["eps"]
        if h["momentum"] > 0:
            buf = state.get("momentum_buffer", zeros) * h["momentum"] + g / avg
            state["momentum_buffer"] = buf
            return w + (-h["lr"]) * buf, state
        return w + (-h["lr"]) * (g / avg), state
