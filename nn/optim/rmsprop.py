"""RMSprop: steps divided by a running RMS of the gradient (torch.optim.RMSprop, centered and momentum)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .. import checks
from .groups import Check, fraction, nonnegative
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """g ← ∇ + weight_decay·w; v ← α·v + (1 − α)·g²; ṽ = v − ḡ² with ḡ ← α·ḡ + (1 − α)·g when
    ``centered`` (else ṽ = v); d = g / (√ṽ + eps); with momentum μ > 0: b ← μ·b + d, w ← w − lr·b,
    else w ← w − lr·d.  All state starts at 0."""

    option_checks: ClassVar[dict[str, Check]] = {
        **Optimizer.option_checks,
        "alpha": fraction,
        "eps": nonnegative,
        "weight_decay": nonnegative,
        "momentum": nonnegative,
        "centered": checks.flag,
        "maximize": checks.flag,
    }
    state_names = ("square_avg", "grad_avg", "momentum_buffer")
    nonnegative_state = ("square_avg",)
    suggested_lr = 1e-2

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(
        self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int, options: Mapping[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        a = options["alpha"]
        if options["weight_decay"] != 0:
            g = g + options["weight_decay"] * w
        zeros = np.zeros_like(w)
        sq = state.get("square_avg", zeros) * a + (1.0 - a) * (g * g)
        state["square_avg"] = sq
        if options["centered"]:
            ga = state.get("grad_avg", zeros)
            ga = ga + (1.0 - a) * (g - ga)
            state["grad_avg"] = ga
            # v − ḡ² >= 0 in exact arithmetic; clamp rounding below 0 (torch would give nan)
            avg = np.sqrt(np.maximum(sq - ga * ga, 0.0)) + options["eps"]
        else:
            avg = np.sqrt(sq) + options["eps"]
        if options["momentum"] > 0:
            buf = state.get("momentum_buffer", zeros) * options["momentum"] + g / avg
            state["momentum_buffer"] = buf
            return w + (-options["lr"]) * buf, state
        return w + (-options["lr"]) * (g / avg), state
