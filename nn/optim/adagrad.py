"""Adagrad: per-weight step sizes shrinking with the sum of squared gradients (torch.optim.Adagrad)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .. import checks
from .groups import Check, nonnegative
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """At step t: clr = lr / (1 + (t − 1)·lr_decay); g ← ∇ + weight_decay·w; s ← s + g²;
    w ← w − clr·g / (√s + eps), with s starting at ``initial_accumulator_value``."""

    option_checks: ClassVar[dict[str, Check]] = {
        **Optimizer.option_checks,
        "lr_decay": nonnegative,
        "weight_decay": nonnegative,
        "initial_accumulator_value": nonnegative,
        "eps": nonnegative,
        "maximize": checks.flag,
    }
    state_names = ("sum",)
    nonnegative_state = ("sum",)
    suggested_lr = 1e-2

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(
        self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int, options: Mapping[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if options["weight_decay"] != 0:
            g = g + options["weight_decay"] * w
        clr = options["lr"] / (1 + (t - 1) * options["lr_decay"])
        s = state.get("sum")
        if s is None:
            s = np.full_like(w, options["initial_accumulator_value"])
        s = s + g * g
        state["sum"] = s
        std = np.sqrt(s) + options["eps"]
        return w + (-clr) * (g / std), state
