"""Stochastic gradient descent with torch.optim.SGD's momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .. import checks
from .groups import Check, nonnegative
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """w ← w − lr·g, where (torch's algorithm, step t):

    g ← ∇ + weight_decay·w;  with momentum μ: b ← g at t = 1, else b ← μ·b + (1 − dampening)·g;
    then g ← g + μ·b (Nesterov) or g ← b.  ``maximize`` ascends instead.
    """

    option_checks: ClassVar[dict[str, Check]] = {
        **Optimizer.option_checks,
        "momentum": nonnegative,
        "dampening": nonnegative,
        "weight_decay": nonnegative,
        "nesterov": checks.flag,
        "maximize": checks.flag,
    }
    state_names = ("momentum_buffer",)
    suggested_lr = 0.1

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_options(self, where: str, options: dict[str, Any]) -> None:
        if options.get("nesterov") and (options.get("momentum", 0) <= 0 or options.get("dampening", 0) != 0):
            raise ValueError(
                f"{where}: nesterov=True needs momentum > 0 and dampening = 0, got momentum="
                f"{options.get('momentum')!r}, dampening={options.get('dampening')!r}; set nesterov=False first"
            )

    def _update(
        self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int, options: Mapping[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if options["weight_decay"] != 0:
            g = g + options["weight_decay"] * w
        mu = options["momentum"]
        if mu != 0:
            buf = state.get("momentum_buffer")
            buf = g.copy() if buf is None else buf * mu + (1.0 - options["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + mu * buf if options["nesterov"] else buf
        return w + (-options["lr"]) * g, state
