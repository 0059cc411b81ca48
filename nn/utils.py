"""Gradient utilities: ``clip_grad_norm`` (torch's ``clip_grad_norm_``)."""

from __future__ import annotations

import math
from typing import Any

from . import checks

__all__ = ["clip_grad_norm"]


def clip_grad_norm(params: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``.

    ``params``: a model, a list of Values, or an optimizer (its parameters; when it is bound to
    a compiled graph's arrays (``fn.bind(opt)``), the bound gradients, with no Value touched).
    Returns the norm before clipping.
    As in torch, the scale is max_norm / (norm + 1e-6), applied only when it is
    below 1.  The norm is computed as m·‖g/m‖ with m = max|g|, so gradients of
    1e200 clip correctly; a norm beyond float64 is returned as inf, yet the
    gradients are still scaled to ``max_norm``.  A non-finite gradient (inf or
    nan) raises a ValueError with ``error_if_nonfinite=True``; otherwise the
    norm (inf or nan) is returned and, unlike torch (which would scale by 0 or
    nan and silently produce nan gradients), the gradients are left unchanged,
    so the next ``opt.step()`` reports the divergence by name."""
    import numpy as np  # here: `import nn` stays numpy-free

    from .optim.binding import bound_to
    from .optim.optimizer import Optimizer

    where = "clip_grad_norm"
    binding = params._binding if isinstance(params, Optimizer) else None
    ps = params.params if isinstance(params, Optimizer) else checks.parameter_list(where, params, allow_empty=True)
    max_norm = checks.number(where, "max_norm", max_norm, low=0.0, low_open=True)
    norm_type = checks.number(where, "norm_type", norm_type, low=0.0, low_open=True, finite=False)
    error_if_nonfinite = checks.flag(where, "error_if_nonfinite", error_if_nonfinite)
    if not ps:
        return 0.0
    if binding is None and bound_to(ps[0]) is not None:
        raise ValueError(
            f"{where}: the parameters' gradients live in a compiled graph's arrays (fn.bind(opt)), so their "
            ".grad is not current; pass the optimizer instead: clip_grad_norm(opt, max_norm)"
        )
    if binding is not None:
        grads = binding.grads[binding.delta_positions]  # the optimizer's order, as its params
    else:
        grads = np.fromiter([p.grad for p in ps], np.float64, len(ps))
    sizes = np.abs(grads)
    finite = np.isfinite(sizes)
    if not finite.all():
        i = int(np.argmax(~finite))
        total = math.nan if np.isnan(sizes).any() else math.inf
        if error_if_nonfinite:
            raise ValueError(
                f"{where}: parameter {i} ({ps[i].label or 'unlabelled'}) has gradient {float(grads[i])!r}, so the "
                f"gradient norm is {total}; the loss diverged — use a smaller lr"
            )
        return total
    biggest = float(sizes.max())
    if biggest == 0.0:
        return 0.0
    if norm_type == math.inf:
        relative = 1.0
    else:
        relative = math.fsum(((sizes / biggest) ** norm_type).tolist()) ** (1.0 / norm_type)  # in [1, n]
    total = biggest * relative  # inf (no exception) if the norm itself is beyond float64
    coef = max_norm / (total + 1e-6) if math.isfinite(total) else max_norm / biggest / relative
    if coef < 1.0:
        if binding is not None:
            binding.grads[binding.delta_positions] = grads * coef
            binding.in_sync = binding.grads_zero = False
        else:
            for p, g in zip(ps, (grads * coef).tolist()):
                p.grad = g
    return total
