"""Adam and AdamW (decoupled weight decay), with torch.optim's bias correction and eps placement."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .. import checks
from .groups import Check, betas, nonnegative
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """At step t: g ← ∇ + weight_decay·w; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
    w ← w − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + eps).  ``amsgrad`` uses the running max of v."""

    option_checks: ClassVar[dict[str, Check]] = {
        **Optimizer.option_checks,
        "betas": betas,
        "eps": nonnegative,
        "weight_decay": nonnegative,
        "amsgrad": checks.flag,
        "maximize": checks.flag,
    }
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    nonnegative_state = ("exp_avg_sq", "max_exp_avg_sq")
    #: AdamW: decay the weights directly instead of adding weight_decay·w to the gradient
    decoupled: ClassVar[bool] = False

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _update(
        self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int, options: Mapping[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        lr = options["lr"]
        b1, b2 = options["betas"]
        wd = options["weight_decay"]
        if wd != 0:
            if self.decoupled:
                w = w * (1.0 - lr * wd)
            else:
                g = g + wd * w
        zeros = np.zeros_like(w)
        m = state.get("exp_avg", zeros)
        m = m + (1.0 - b1) * (g - m)  # torch's lerp(m, g, 1 − β₁)
        v = state.get("exp_avg_sq", zeros) * b2 + (1.0 - b2) * (g * g)
        state["exp_avg"] = m
        state["exp_avg_sq"] = v
        bias_correction1 = 1.0 - b1**t
        bias_correction2_sqrt = math.sqrt(1.0 - b2**t)
        step_size = lr / bias_correction1
        if options["amsgrad"]:
            v = np.maximum(state.get("max_exp_avg_sq", zeros), v)
            state["max_exp_avg_sq"] = v
        denom = np.sqrt(v) / bias_correction2_sqrt + options["eps"]
        return w + (-step_size) * (m / denom), state


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w ← w·(1 − lr·weight_decay) first,
    then Adam's step on the plain gradient.  Default weight_decay 1e-2, as torch."""

    decoupled = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
