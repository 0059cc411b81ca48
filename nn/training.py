"""``fit``: the training loop (batch, stochastic or mini-batch) and its ``History``.

One step = build the loss graph for a batch (``_loss_graph``), backprop,
``optimizer.step()``, record loss, accuracy and mean |Δw| per layer.  The loop
never prints; a tqdm bar shows progress unless ``progress=False``.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import DomainError, Value

from .data import _check_batch_size, batches, stream_batches
from .layers import Dropout, Layer
from .losses import get_loss, l1_penalty, l2_penalty
from .module import Module
from .optim import OPTIMIZERS, Optimizer
from .optim.optimizer import TrainingDiverged

__all__ = ["fit", "History", "StepInfo", "StopTraining", "TrainingDiverged", "layer_groups"]


class StopTraining(Exception):
    """Raise from a callback to end ``fit`` cleanly after the current step."""


@dataclass
class History:
    """What ``fit`` saw, step by step and epoch by epoch.

    ``loss[k]``, ``lr[k]``, ``accuracy[k]`` (classifiers only) and ``delta[k]``
    (layer name -> mean |Δw| of that step) describe step k; ``epoch_loss`` and
    ``epoch_accuracy`` are sample-weighted means over each epoch, and
    ``steps_per_epoch`` counts the updates of each epoch.
    """

    loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    epoch_accuracy: list[float] = field(default_factory=list)
    delta: list[dict[str, float]] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    steps_per_epoch: list[int] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def steps(self) -> int:
        """How many optimizer steps were taken."""
        return len(self.loss)

    @property
    def epochs(self) -> int:
        """How many epochs were completed."""
        return len(self.epoch_loss)

    def layer_delta(self, name: str) -> list[float]:
        """Mean |Δw| of layer ``name`` at every step (one curve of ``delta``)."""
        return [d[name] for d in self.delta]


@dataclass
class StepInfo:
    """Passed to callbacks after every step (and at each epoch's end)."""

    step: int
    epoch: int
    loss: float
    accuracy: float | None
    lr: float
    model: Any
    optimizer: Optimizer
    history: History


def layer_groups(model: Any) -> dict[str, list[Value]]:
    """Parameters grouped by layer: each ``Layer`` (by its dotted name) is one group; a
    parameter outside any Layer belongs to the module that holds it."""
    groups: dict[str, list[Value]] = {}
    if not isinstance(model, Module):
        return groups

    def visit(m: Module, path: str, key: str | None) -> None:
        if key is None and isinstance(m, Layer):
            key = path or "layer"
        for name, obj in m._members():
            full = f"{path}.{name}" if path else name
            if isinstance(obj, Module):
                visit(obj, full, key)
            else:
                groups.setdefault(key if key is not None else (path or type(m).__name__), []).append(obj)

    visit(model, "", None)
    return groups


def _accuracy_fn(loss_name: str) -> Callable[[list, list], float] | None:
    def flat(xs: Any) -> list[float]:
        out: list[float] = []
        for x in xs:
            if isinstance(x, (list, tuple)):
                out.extend(flat(x))
            else:
                out.append(x.data if isinstance(x, Value) else float(x))
        return out

    def by_threshold(pred_cut: float, target_cut: float) -> Callable[[list, list], float]:
        def acc(preds: list, ys: list) -> float:
            ps, ts = flat(preds), flat(ys)
            return sum((p > pred_cut) == (t > target_cut) for p, t in zip(ps, ts)) / len(ps)

        return acc

    def argmax_acc(preds: list, ys: list) -> float:
        hits = 0
        for row, t in zip(preds, ys):
            vals = [v.data for v in row]
            hits += int(vals.index(max(vals)) == int(t))
        return hits / len(preds)

    return {
        "hinge": by_threshold(0.0, 0.0),
        "bce": by_threshold(0.5, 0.5),
        "bce_with_logits": by_threshold(0.0, 0.5),
        "cross_entropy": argmax_acc,
    }.get(loss_name)


def _loss_graph(
    model: Any,
    xs: Sequence[Any],
    ys: Sequence[Any],
    loss_fn: Callable,
    params: list[Value],
    l1: float = 0.0,
    l2: float = 0.0,
) -> tuple[Value, list]:
    """The loss of one batch as a Value graph, and the model's predictions.

    The single place a training graph is built, so ``autograd.compile`` can
    trace it once and replay it (``fit(compile=True)``)."""
    preds = [model(x) for x in xs]
    loss = loss_fn(preds, list(ys))
    if l2:
        loss = loss + l2_penalty(params, l2)
    if l1:
        loss = loss + l1_penalty(params, l1)
    return loss, preds


@contextmanager
def _gc_paused():
    """Pause Python's cycle collector for one training step.

    A step allocates hundreds of thousands of acyclic Values that reference
    counting frees as soon as the step ends; the cycle collector would only
    rescan them (40% of a fused=False step).  Callbacks run with it enabled."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _check_targets(loss_name: str, y: np.ndarray) -> None:
    """Labels that the named loss cannot use, caught before the first step (with the fix)."""
    if loss_name == "hinge" and not np.isin(y, (-1, 1)).all():
        raise ValueError(
            f"fit: loss='hinge' needs labels -1 or +1, got {np.unique(y)[:5].tolist()}; map 0/1 labels with y * 2 - 1"
        )
    if loss_name in ("bce", "bce_with_logits") and not ((y >= 0) & (y <= 1)).all():
        raise ValueError(f"fit: loss={loss_name!r} needs targets in [0, 1], got values from {y.min()} to {y.max()}")
    if loss_name == "cross_entropy" and (y.ndim != 1 or not (y == np.round(y)).all() or (y < 0).any()):
        raise ValueError("fit: loss='cross_entropy' needs one class index (an int >= 0) per sample")


def _make_optimizer(optimizer: Any, params: list[Value], lr: float | None) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError("fit: lr= only applies when optimizer is a name; set the lr on your optimizer instead")
        return optimizer
    if isinstance(optimizer, str):
        cls = OPTIMIZERS.get(optimizer.lower())
        if cls is None:
            raise ValueError(
                f"fit: unknown optimizer {optimizer!r}; valid names are {', '.join(OPTIMIZERS)} "
                "(or pass an nn.optim optimizer)"
            )
        if lr is None:
            return cls(params, lr=0.1) if cls.__name__ == "SGD" else cls(params)
        return cls(params, lr=lr)
    raise TypeError(f"fit: optimizer must be an nn.optim optimizer or a name, got {type(optimizer).__name__}")


def _rows(X: Any, where: str) -> np.ndarray:
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: X must be numbers shaped (samples, features): {e}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{where}: X must be 2-D (samples, features), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: X contains nan or inf; clean the data first")
    return arr


def _train_step(
    model: Any,
    opt: Optimizer,
    compiled: Any,
    xb: Any,
    yb: Any,
    loss_fn: Callable,
    params: list[Value],
    l1: float,
    l2: float,
    acc_fn: Callable | None,
) -> tuple[float, float | None]:
    """zero_grad, loss graph, backward, optimizer step; returns (loss, batch accuracy or None)."""
    opt.zero_grad()
    if compiled is not None:
        value = compiled(xb, yb)
        acc = None
    else:
        xs = xb.tolist() if isinstance(xb, np.ndarray) else list(xb)
        ys = yb.tolist() if isinstance(yb, np.ndarray) else list(yb)
        graph, preds = _loss_graph(model, xs, ys, loss_fn, params, l1, l2)
        graph.backward()
        value = graph.data
        acc = acc_fn(preds, ys) if acc_fn is not None else None
    if not math.isfinite(value):
        raise TrainingDiverged(f"the loss is {value}; use a smaller lr (now {opt.lr:g})")
    opt.step()
    return value, acc


class _Compiled:
    """Replays one traced loss graph per batch size with ``autograd.compile`` (fit(compile=True))."""

    def __init__(
        self, model: Any, loss_name: str, loss_fn: Callable, params: list[Value], l1: float, l2: float
    ) -> None:
        try:
            from autograd.compiler import compile as trace
        except ImportError:
            raise ValueError(
                "fit(compile=True) needs autograd.compile, which this autograd lacks; use compile=False"
            ) from None
        if loss_name == "cross_entropy":
            raise ValueError(
                "fit(compile=True) does not support cross_entropy (the class index picks a "
                "different graph per sample); use compile=False"
            )
        if any(isinstance(m, Dropout) and m.p and m.training for _, m in model.named_modules()):
            raise ValueError(
                "fit(compile=True) would freeze the dropout mask of the traced step; use compile=False or Dropout(p=0)"
            )
        self.trace = trace
        self.args = (model, loss_fn, params, l1, l2)
        self.graphs: dict[tuple, Any] = {}

    def __call__(self, xb: np.ndarray, yb: np.ndarray) -> float:
        yb = np.asarray(yb, dtype=np.float64)
        key = (xb.shape, yb.shape)
        fn = self.graphs.get(key)
        if fn is None:
            model, loss_fn, params, l1, l2 = self.args
            xs = [[Value(v) for v in row] for row in xb.tolist()]
            ys = [Value(v) if not isinstance(v, list) else [Value(u) for u in v] for v in yb.tolist()]
            loss, _ = _loss_graph(model, xs, ys, loss_fn, params, l1, l2)
            leaves = [v for row in xs for v in row]
            leaves += [v for t in ys for v in (t if isinstance(t, list) else [t])]
            fn = self.trace(loss, inputs=leaves, parameters=params)
            fn.root = None  # keep the arrays only: the traced Value graph can be freed now
            self.graphs[key] = fn
        return fn(np.concatenate([xb.ravel(), yb.ravel()]))


def fit(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    loss: Any = "mse",
    optimizer: Any = "sgd",
    lr: float | None = None,
    epochs: int = 1,
    batch_size: int | None = None,
    shuffle: bool | None = None,
    seed: Any = None,
    l1: float = 0.0,
    l2: float = 0.0,
    scheduler: Any = None,
    progress: bool = True,
    callbacks: Iterable[Any] = (),
    compile: bool = False,
) -> History:
    """Train ``model`` and return its ``History``.

    ``X``, ``y``: arrays of samples and targets; or ``y=None`` and ``X`` any
    iterable of ``(x, y)`` pairs (a stream, read in order: online learning).
    ``batch_size``: None = batch gradient descent (one step per epoch), 1 =
    stochastic, k = mini-batches of k.  Arrays are shuffled each epoch
    (``shuffle=None`` means True for arrays, False for streams) from ``seed``.  ``loss``: a name (mse, bce,
    bce_with_logits, cross_entropy, hinge) or ``f(predictions, targets)``.
    ``optimizer``: an ``nn.optim`` optimizer or a name (with ``lr``; sgd
    defaults to lr=0.1).  ``l1``/``l2`` add alpha·Σ|w| / alpha·Σw² to the loss.
    ``scheduler`` steps once per epoch.  ``callbacks``: callables called with a
    ``StepInfo`` after every step, or objects with ``on_step(info)`` and/or
    ``on_epoch_end(info)``; raise ``StopTraining`` to stop.  ``compile=True``
    replays the traced loss graph with ``autograd.compile`` (faster; no
    per-step accuracy).  A non-finite loss or gradient raises
    ``TrainingDiverged`` naming the step.
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    _check_batch_size(batch_size, "fit")
    for name, alpha in (("l1", l1), ("l2", l2)):
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha >= 0 or math.isinf(alpha):
            raise ValueError(f"fit: {name} must be a finite number >= 0, got {alpha!r}")
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0):
        raise ValueError(f"fit: lr must be > 0, got {lr!r}; typical values are 1e-3 to 1.0")
    loss_name, loss_fn = get_loss(loss)
    params = model.parameters() if hasattr(model, "parameters") else []
    opt = _make_optimizer(optimizer, params, lr)
    acc_fn = _accuracy_fn(loss_name)
    groups = layer_groups(model)
    cbs = list(callbacks)
    step_cbs = [cb if callable(cb) else cb.on_step for cb in cbs if callable(cb) or hasattr(cb, "on_step")]
    epoch_cbs = [cb.on_epoch_end for cb in cbs if hasattr(cb, "on_epoch_end")]
    for cb in cbs:
        if not (callable(cb) or hasattr(cb, "on_step") or hasattr(cb, "on_epoch_end")):
            raise TypeError(f"fit: callback {cb!r} is not callable and has no on_step/on_epoch_end")

    stream = y is None
    if stream:
        if shuffle:
            raise ValueError(
                "fit: shuffle=True needs arrays X, y; a stream of (x, y) pairs is read in order "
                "(pass shuffle=None or False)"
            )
        if epochs > 1 and iter(X) is X:
            raise ValueError("fit: a one-shot iterator can be read only once; use epochs=1 or pass a list")
        n = len(X) if hasattr(X, "__len__") else None
        Xa = ya = None
    else:
        Xa = _rows(X, "fit")
        ya = np.asarray(y)
        if ya.ndim == 0 or len(Xa) != len(ya):
            raise ValueError(
                f"fit: X has {len(Xa)} samples but y has {ya.size if ya.ndim == 0 else len(ya)}; "
                "give one target per sample"
            )
        if ya.dtype.kind not in "biuf":
            raise TypeError(f"fit: y must be numbers, got dtype {ya.dtype}")
        if ya.dtype.kind == "f" and not np.isfinite(ya).all():
            raise ValueError("fit: y contains nan or inf; clean the data first")
        _check_targets(loss_name, ya)
        nin = getattr(model, "nin", None)
        if isinstance(nin, int) and Xa.shape[1] != nin:
            raise ValueError(
                f"fit: X has {Xa.shape[1]} features per sample but the model takes {nin}; "
                f"build the model with nin={Xa.shape[1]} or fix X's columns"
            )
        n = len(Xa)
        shuffle = True if shuffle is None else bool(shuffle)
    per_epoch = None if n is None else (1 if batch_size is None else math.ceil(n / batch_size))
    if compile and stream:
        raise ValueError("fit(compile=True) needs arrays X, y, not a stream")
    if hasattr(model, "train"):
        model.train()
    compiled = _Compiled(model, loss_name, loss_fn, params, l1, l2) if compile else None
    hist = History()
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    from tqdm import tqdm  # on first use: `import nn` stays light (tqdm pulls in asyncio and more)

    bar = tqdm(
        total=None if per_epoch is None else per_epoch * epochs,
        disable=not progress,
        desc="fit",
        unit="step",
        dynamic_ncols=True,
    )
    step = 0
    try:
        for epoch in range(epochs):
            it = stream_batches(X, batch_size) if stream else batches(Xa, ya, batch_size, shuffle, rng)
            total, seen, hits, count = 0.0, 0, 0.0, 0
            for xb, yb in it:
                m = len(xb)
                try:
                    with _gc_paused():
                        value, acc = _train_step(model, opt, compiled, xb, yb, loss_fn, params, l1, l2, acc_fn)
                except TrainingDiverged as e:
                    raise TrainingDiverged(f"fit: step {step} (epoch {epoch}): {e}") from e
                except (OverflowError, DomainError, ZeroDivisionError) as e:
                    raise TrainingDiverged(
                        f"fit: step {step} (epoch {epoch}): the loss stopped being finite ({e}); "
                        f"use a smaller lr (now {opt.lr:g}) or clip gradients"
                    ) from e
                deltas = opt.deltas
                hist.loss.append(value)
                hist.lr.append(opt.lr)
                hist.delta.append(
                    {
                        name: sum(abs(deltas[p]) for p in ps) / len(ps)
                        for name, ps in groups.items()
                        if ps and ps[0] in deltas
                    }
                )
                if acc is not None:
                    hist.accuracy.append(acc)
                    hits += acc * m
                total += value * m
                seen += m
                count += 1
                bar.update(1)
                if progress:
                    bar.set_postfix(loss=f"{value:.4g}", epoch=epoch, refresh=False)
                info = StepInfo(step, epoch, value, acc, opt.lr, model, opt, hist)
                step += 1
                for cb in step_cbs:
                    cb(info)
            if seen == 0:
                raise ValueError(f"fit: epoch {epoch} had no samples; X is empty (or an exhausted iterator)")
            hist.epoch_loss.append(total / seen)
            if acc_fn is not None and compiled is None:
                hist.epoch_accuracy.append(hits / seen)
            hist.steps_per_epoch.append(count)
            if scheduler is not None:
                scheduler.step()
            info = StepInfo(
                step - 1,
                epoch,
                hist.epoch_loss[-1],
                hist.epoch_accuracy[-1] if hist.epoch_accuracy else None,
                opt.lr,
                model,
                opt,
                hist,
            )
            for cb in epoch_cbs:
                cb(info)
    except StopTraining:
        hist.stopped_early = True
    finally:
        bar.close()
    return hist
