"""Losses (mean over a batch, like torch's default ``reduction="mean"``) and weight penalties.

Predictions are a ``Value``, a list of Values (one sample's outputs or a batch of
scalar outputs) or a list of such lists; targets are numbers or Values of the
same shape.  ``cross_entropy`` takes logits per sample and class indices.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from autograd import OpOverflowError, Value, dot, vsum

from . import checks
from .activations import _log_sum_exp, _shifted

__all__ = [
    "mse_loss",
    "bce_loss",
    "bce_with_logits",
    "cross_entropy",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
    "LOSSES",
    "get_loss",
]

Pred = Value | Sequence[Any]

# torch clamps BCE's log terms at -100 so that p = 0 or 1 gives a finite loss.
_LOG_FLOOR = -100.0
_P_FLOOR = math.exp(_LOG_FLOOR)


def _flatten(x: Any, where: str, what: str) -> list[Any]:
    if checks.is_scalar(x):
        return [x]
    if hasattr(x, "tolist") and not isinstance(x, Value):  # numpy arrays and scalars
        x = x.tolist()
        if not isinstance(x, list):
            return [x]
    if isinstance(x, (list, tuple)):
        out: list[Any] = []
        for item in x:
            out.extend(_flatten(item, where, what))
        return out
    raise TypeError(f"{where}: {what} must be Values, numbers or (nested) lists of them, got {type(x).__name__}")


def _pairs(pred: Pred, target: Any, where: str) -> tuple[list[Value], list[Any]]:
    ps = _flatten(pred, where, "predictions")
    ts = _flatten(target, where, "targets")
    if len(ps) != len(ts):
        raise ValueError(f"{where}: {len(ps)} predictions but {len(ts)} targets; give one target per output")
    if not ps:
        raise ValueError(f"{where}: no predictions; the batch is empty")
    ps = [p if isinstance(p, Value) else Value(p) for p in ps]
    return ps, ts


def _mean(terms: list[Value]) -> Value:
    return vsum(terms) * (1.0 / len(terms)) if len(terms) > 1 else terms[0]


def mse_loss(pred: Pred, target: Any) -> Value:
    """mean((pred − target)²) over every output of every sample."""
    ps, ts = _pairs(pred, target, "mse_loss")
    return _mean([(p - t) ** 2 for p, t in zip(ps, ts)])


def _check_label01(t: Any, where: str) -> None:
    y = t.data if isinstance(t, Value) else float(t)
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"{where}: targets must lie in [0, 1] (class labels 0/1 or probabilities), got {y!r}")


def bce_loss(pred: Pred, target: Any) -> Value:
    """Binary cross-entropy of probabilities: mean(−[y·log p + (1−y)·log(1−p)]).

    log(1−p) is the registry's ``log1p`` of −p (one node, derivative −1/(1 − p)), so a tiny p
    keeps its digits (1 − p would round them away: p = 1e-17 gives log 1 = 0).  Each log is
    clamped at −100 as torch does, so p = 0 or 1 gives a finite loss (a clamped
    term is a constant with zero gradient)."""
    ps, ts = _pairs(pred, target, "bce_loss")
    terms = []
    for p, t in zip(ps, ts):
        _check_label01(t, "bce_loss")
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(
                f"bce_loss: predictions must be probabilities in [0, 1], got {p.data!r}; "
                "apply sigmoid first or use bce_with_logits on raw scores"
            )
        log_p = p.log() if p.data > _P_FLOOR else Value(_LOG_FLOOR)
        log_q = (-p).log1p() if 1.0 - p.data > _P_FLOOR else Value(_LOG_FLOOR)
        terms.append(-(t * log_p + (1.0 - t) * log_q))
    return _mean(terms)


def bce_with_logits(pred: Pred, target: Any) -> Value:
    """Binary cross-entropy of raw scores z: mean(max(z, 0) − y·z + log1p(e^−|z|)).

    The stable form: the softplus term only ever sees −|z|, so a confident correct
    score (z = 50, y = 1) gives its tiny loss and gradient σ(z) − y = −σ(−z)
    without cancelling to 0; the derivative is σ(z) − y on both sides of 0."""
    ps, ts = _pairs(pred, target, "bce_with_logits")
    terms = []
    for z, t in zip(ps, ts):
        _check_label01(t, "bce_with_logits")
        if z.data >= 0.0:  # z·(1 − y) + log(1 + e^−z)
            terms.append(z * (1.0 - t) + (-z).softplus())
        else:  # −y·z + log(1 + e^z)
            terms.append(z.softplus() - z * t)
    return _mean(terms)


def hinge_loss(pred: Pred, target: Any) -> Value:
    """micrograd's max-margin loss: mean(relu(1 − y·score)) with labels y in {−1, +1}."""
    ps, ts = _pairs(pred, target, "hinge_loss")
    terms = []
    for s, t in zip(ps, ts):
        y = t.data if isinstance(t, Value) else float(t)
        if y not in (-1.0, 1.0):
            raise ValueError(f"hinge_loss: labels must be -1 or +1, got {y!r}; map 0/1 labels with y*2 - 1")
        terms.append((1 + -t * s).relu())
    return _mean(terms)


def _class_index(t: Any, n: int, where: str) -> int:
    if isinstance(t, Value):
        t = t.data
    if hasattr(t, "item"):
        t = t.item()
    if isinstance(t, float) and t.is_integer():
        t = int(t)
    return checks.integer(where, "target", t, low=0, high=n - 1, hint=f"a target is a class index in 0..{n - 1}")


def cross_entropy(logits: Sequence[Any], target: Any) -> Value:
    """−log softmax(logits)[target] via log-sum-exp (stable), averaged over a batch.

    One sample: a list of logits and a class index.  A batch: a list of such
    lists and a list of class indices."""
    if isinstance(logits, Value) or not isinstance(logits, (list, tuple)) or not logits:
        raise TypeError("cross_entropy: logits must be a non-empty list of Values (one sample) or a list of lists")
    batch = isinstance(logits[0], (list, tuple))
    rows = list(logits) if batch else [logits]
    targets = _flatten(target, "cross_entropy", "targets") if batch else [target]
    if batch and len(targets) != len(rows):
        raise ValueError(f"cross_entropy: {len(rows)} samples of logits but {len(targets)} targets")
    terms = []
    for row, t in zip(rows, targets):
        k = _class_index(t, len(row), "cross_entropy")
        shifted = _shifted(row, "cross_entropy")
        target_shift = shifted[k]
        if target_shift is None:
            raise OpOverflowError(
                f"cross_entropy: the target's logit (class {k}) lies more than 1.8e308 below the largest, "
                "so the loss is beyond float64; scale the logits down"
            )
        terms.append(_log_sum_exp(shifted) - target_shift)  # −log softmax(row)[k]
    return _mean(terms)


def cross_entropy_one_hot(logits: Sequence[Sequence[Value]], one_hot: Sequence[Sequence[Value]]) -> Value:
    """cross_entropy with one-hot target rows: mean of log Σⱼ exp(zⱼ − s), s = Σⱼ yⱼ·zⱼ (the target's logit).

    The graph has the same shape whatever the classes are, so ``fit(compile=True)``
    traces it once with the one-hot rows as inputs.  Shifting by the target's logit
    (not the max, which would pick a logit per sample) keeps it exact for the
    target (0·z adds nothing, so zₖ − s = 0) and equal to ``cross_entropy`` to
    rounding; e^(zⱼ − zₖ) overflows only when a sample's loss exceeds ~709."""
    terms = []
    for row, y in zip(logits, one_hot):
        s = dot(y, row)
        terms.append(vsum([(z - s).exp() for z in row]).log())
    return _mean(terms)


def l1_penalty(params: Iterable[Value], alpha: float = 1.0) -> Value:
    """alpha · Σ|w| over ``params`` (a list of Values or a Module): pushes weights to exactly 0."""
    ps = checks.parameter_list("l1_penalty", params, allow_empty=True, distinct=False)
    return vsum([abs(p) for p in ps]) * checks.number("l1_penalty", "alpha", alpha)


def l2_penalty(params: Iterable[Value], alpha: float = 1.0) -> Value:
    """alpha · Σw² over ``params`` (micrograd's demo uses alpha = 1e-4): shrinks weights smoothly."""
    ps = checks.parameter_list("l2_penalty", params, allow_empty=True, distinct=False)
    return vsum([p * p for p in ps]) * checks.number("l2_penalty", "alpha", alpha)


#: Losses by name, for ``fit(loss="...")``.
LOSSES = {
    "mse": mse_loss,
    "bce": bce_loss,
    "bce_with_logits": bce_with_logits,
    "cross_entropy": cross_entropy,
    "hinge": hinge_loss,
}


def get_loss(loss: Any) -> tuple[str, Any]:
    """``(name, function)`` for a name from ``LOSSES`` (or a loss function's own name) or a callable."""
    if isinstance(loss, str):
        key = loss[:-5] if loss.endswith("_loss") else loss
        fn = LOSSES.get(key)
        if fn is None:
            raise ValueError(
                f"loss: unknown loss {loss!r}; valid names are {', '.join(LOSSES)} "
                "(or pass a callable loss(predictions, targets) -> Value)"
            )
        return key, fn
    if callable(loss):
        for name, fn in LOSSES.items():
            if fn is loss:
                return name, fn
        return getattr(loss, "__name__", "custom"), loss
    raise TypeError(f"loss: expected a name ({', '.join(LOSSES)}) or a callable, got {type(loss).__name__}")
