"""Adam and AdamW (decoupled weight decay), with torch.optim's bias correction and eps placement."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from autograd import Value

from .optimizer import Optimizer, _check_number

__all__ = ["Adam", "AdamW"]


def _check_betas(where: str, betas: Sequence[float]) -> tuple[float, float]:
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got {betas!r}") from None
    for i, b in enumerate((b1, b2)):
        _check_number(where, f"betas[{i}]", b)
        if not b < 1.0:
            raise ValueError(f"{where}: betas[{i}] must be in [0, 1), got {b!r}")
    return float(b1), float(b2)


class Adam(Optimizer):
    """At step t: g ← ∇ + weight_decay·w; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
    w ← w − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + eps).  ``amsgrad`` uses the running max of v."""

    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        where = type(self).__name__
        _check_number(where, "lr", lr, strict=True)
        _check_number(where, "eps", eps)
        _check_number(where, "weight_decay", weight_decay)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=_check_betas(where, betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=bool(amsgrad),
                maximize=bool(maximize),
            ),
        )

    def _update(self, w, g, state, t):
        h = self._hyper
        lr = h["lr"]
        b1, b2 = h["betas"]
        wd = h["weight_decay"]
        if wd != 0:
            if self._decoupled:
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
        if h["amsgrad"]:
            v = np.maximum(state.get("max_exp_avg_sq", zeros), v)
            state["max_exp_avg_sq"] = v
        denom = np.sqrt(v) / bias_correction2_sqrt + h["eps"]
        return w + (-step_size) * (m / denom), state


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w ← w·(1 − lr·weight_decay) first,
    then Adam's step on the plain gradient.  Default weight_decay 1e-2, as torch."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
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
