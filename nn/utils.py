"""Gradient utilities: ``clip_grad_norm`` (torch's ``clip_grad_norm_``)."""

from __future__ import annotations

import math
from typing import Any

from . import checks

__all__ = ["clip_grad_norm"]


def clip_grad_norm(params: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``.

    ``params``: a model or a list of Values.  Returns the norm before clipping.
    As in torch, the scale is max_norm / (norm + 1e-6), applied only when it is
    below 1.  The norm is computed as m·‖g/m‖ with m = max|g|, so gradients of
    1e200 clip correctly; a norm beyond float64 is returned as inf, yet the
    gradients are still scaled to ``max_norm``.  A non-finite gradient (inf or
    nan) raises a ValueError with ``error_if_nonfinite=True``; otherwise the
    norm (inf or nan) is returned and, unlike torch (which would scale by 0 or
    nan and silently produce nan gradients), the gradients are left unchanged,
    so the next ``opt.step()`` reports the divergence by name."""
    where = "clip_grad_norm"
    ps = checks.parameter_list(where, params, allow_empty=True)
    max_norm = checks.number(where, "max_norm", max_norm, low=0.0, low_open=True)
    norm_type = checks.number(where, "norm_type", norm_type, low=0.0, low_open=True, finite=False)
    error_if_nonfinite = checks.flag(where, "error_if_nonfinite", error_if_nonfinite)
    if not ps:
        return 0.0
    sizes = [abs(p.grad) for p in ps]
    biggest = max(sizes)
    if not math.isfinite(biggest) or any(s != s for s in sizes):  # max() may skip a nan
        i = next(i for i, s in enumerate(sizes) if not math.isfinite(s))
        total = math.nan if any(s != s for s in sizes) else math.inf
        if error_if_nonfinite:
            raise ValueError(
                f"{where}: parameter {i} ({ps[i].label or 'unlabelled'}) has gradient {ps[i].grad!r}, so the "
                f"gradient norm is {total}; the loss diverged — use a smaller lr"
            )
        return total
    if biggest == 0.0:
        return 0.0
    if norm_type == math.inf:
        relative = 1.0
    else:
        relative = math.fsum((s / biggest) ** norm_type for s in sizes) ** (1.0 / norm_type)  # in [1, n]
    total = biggest * relative  # inf (no exception) if the norm itself is beyond float64
    coef = max_norm / (total + 1e-6) if math.isfinite(total) else max_norm / biggest / relative
    if coef < 1.0:
        for p in ps:
            p.grad *= coef
    return total
