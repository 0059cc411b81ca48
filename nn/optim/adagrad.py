"""Adagrad: per-weight step sizes shrinking with the sum of squared gradients (torch.optim.Adagrad)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd import Value

from .optimizer import Optimizer, _check_number

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """At step t: clr = lr / (1 + (t − 1)·lr_decay); g ← ∇ + weight_decay·w; s ← s + g²;
    w ← w − clr·g / (√s + eps), with s starting at ``initial_accumulator_value``."""

    state_names = ("sum",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        _check_number("Adagrad", "lr", lr, strict=True)
        for name, x in (
            ("lr_decay", lr_decay),
            ("weight_decay", weight_decay),
            ("initial_accumulator_value", initial_accumulator_value),
            ("eps", eps),
        ):
            _check_number("Adagrad", name, x)
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
                maximize=bool(maximize),
            ),
        )

    def _update(self, w, g, state, t):
        h = self._hyper
        if h["weight_decay"] != 0:
            g = g + h["weight_decay"] * w
        clr = h["lr"] / (1 + (t - 1) * h["lr_decay"])
        s = state.get("sum")
        if s is None:
            s = np.full_like(w, float(h["initial_accumulator_value"]))
        s = s + g * g
        state["sum"] = s
        std = np.sqrt(s) + h["eps"]
        return w + (-clr) * (g / std), state
