"""Stochastic gradient descent with torch.optim.SGD's momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable

from autograd import Value

from .optimizer import Optimizer, _check_number

__all__ = ["SGD"]


class SGD(Optimizer):
    """w ← w − lr·g, where (torch's algorithm, step t):

    g ← ∇ + weight_decay·w;  with momentum μ: b ← g at t = 1, else b ← μ·b + (1 − dampening)·g;
    then g ← g + μ·b (Nesterov) or g ← b.  ``maximize`` ascends instead.
    """

    state_names = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_number("SGD", "lr", lr, strict=True)
        _check_number("SGD", "momentum", momentum)
        _check_number("SGD", "dampening", dampening)
        _check_number("SGD", "weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=bool(nesterov),
                maximize=bool(maximize),
            ),
        )

    def _update(self, w, g, state, t):
        h = self._hyper
        if h["weight_decay"] != 0:
            g = g + h["weight_decay"] * w
        mu = h["momentum"]
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = g.copy()
            else:
                buf = buf * mu + (1.0 - h["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + mu * buf if h["nesterov"] else buf
        return w + (-h["lr"]) * g, state
