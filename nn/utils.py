"""Gradient utilities: ``clip_grad_norm`` (torch's ``clip_grad_norm_``)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from autograd import Value

__all__ = ["clip_grad_norm"]


def clip_grad_norm(
    params: Iterable[Value], max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``.

    Returns the norm before clipping.  As in torch, the scale is
    max_norm / (norm + 1e-6), applied only when it is below 1."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    ps = list(params)
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"clip_grad_norm: params[{i}] is a {type(p).__name__}, not a Value")
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be a number > 0, got {max_norm!r}")
    if not ps:
        return 0.0
    grads = [p.grad for p in ps]
    if norm_type == math.inf:
        total = max(abs(g) for g in grads)
    else:
        if not norm_type > 0:
            raise ValueError(f"clip_grad_norm: norm_type must be > 0 or math.inf, got {norm_type!r}")
        total = math.fsum(abs(g) ** norm_type for g in grads) ** (1.0 / norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise ValueError(f"clip_grad_norm: the gradient norm is {total}; the loss diverged — use a smaller lr")
        return total
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in ps:
            p.grad *= coef
    return total
