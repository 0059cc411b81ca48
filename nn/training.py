"""``fit``: the training loop (batch, stochastic or mini-batch) and its ``History``.

One step = build the loss graph for a batch (``_loss_graph``), backprop,
``optimizer.step()``, record loss, accuracy and mean |Δw| per layer.  The loop
never prints; a tqdm bar shows progress unless ``progress=False``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from typing import Any, cast

import numpy as np

from autograd import Value, no_grad

from . import checks
from .data import _check_batch_size, batches, stream_batches
from .layers import Dropout
from .loop import History, Step, StepInfo, StopTraining, TrainingDiverged, layer_groups, run, split_callbacks
from .losses import _class_index, cross_entropy, cross_entropy_one_hot, get_loss, l1_penalty, l2_penalty
from .optim import OPTIMIZERS, Optimizer

__all__ = ["fit", "History", "StepInfo", "StopTraining", "TrainingDiverged", "layer_groups"]


def _accuracy_fn(loss_name: str) -> Callable[[list[Any], list[Any]], float] | None:
    def flat(xs: Any) -> list[float]:
        out: list[float] = []
        for x in xs:
            if isinstance(x, (list, tuple)):
                out.extend(flat(x))
            else:
                out.append(x.data if isinstance(x, Value) else float(x))
        return out

    def by_threshold(pred_cut: float, target_cut: float) -> Callable[[list[Any], list[Any]], float]:
        def acc(preds: list[Any], ys: list[Any]) -> float:
            ps, ts = flat(preds), flat(ys)
            return sum((p > pred_cut) == (t > target_cut) for p, t in zip(ps, ts)) / len(ps)

        return acc

    def argmax_acc(preds: list[Any], ys: list[Any]) -> float:
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
    loss_fn: Callable[..., Any],
    params: list[Value],
    l1: float = 0.0,
    l2: float = 0.0,
) -> tuple[Value, list[Any]]:
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
        cls = cast("type[Optimizer] | None", OPTIMIZERS.get(optimizer.lower()))
        if cls is None:
            raise ValueError(
                f"fit: unknown optimizer {optimizer!r}; valid names are {', '.join(OPTIMIZERS)} "
                "(or pass an nn.optim optimizer)"
            )
        make: Callable[..., Optimizer] = cls  # a concrete optimizer class: its own signature
        return make(params, lr=cls.suggested_lr if lr is None else lr)  # SGD suggests 0.1, the others torch's
    raise TypeError(f"fit: optimizer must be an nn.optim optimizer or a name, got {type(optimizer).__name__}")


def _rows(X: Any, where: str) -> np.ndarray:
    """X as float64 of shape (samples, features), or (samples, channels, height, width) for images."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: X must be numbers shaped (samples, features): {e}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim not in (2, 4):
        raise ValueError(
            f"{where}: X must be 2-D (samples, features) or 4-D images (samples, channels, height, width), "
            f"got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: X contains nan or inf; clean the data first")
    return arr


def _in_channels(model: Any) -> int | None:
    """The channel count the model's first layer reads, when that layer is a convolution (else None)."""
    first = getattr(model, "layers", [model])
    first = first[0] if isinstance(first, Sequence) and len(first) else model
    channels = getattr(first, "in_channels", None)
    return channels if isinstance(channels, int) else None


def _train_step(
    model: Any,
    opt: Optimizer,
    compiled: Any,
    xb: Any,
    yb: Any,
    loss_fn: Callable[..., Any],
    params: list[Value],
    l1: float,
    l2: float,
    acc_fn: Callable[..., Any] | None,
) -> tuple[float, float | None]:
    """zero_grad, loss graph, backward, optimizer step; returns (loss, batch accuracy or None).

    Compiled, the optimizer is bound to the graph's arrays: zero_grad, the call and
    ``opt.step()`` all work on them."""
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


def _wrap(x: Any) -> Any:
    """A sample (a number or nested lists of numbers) with every number as a Value leaf."""
    return [_wrap(v) for v in x] if isinstance(x, list) else Value(x)


def _leaves(x: Any) -> list[Value]:
    """The Value leaves of ``_wrap``'s nested lists, in row-major order."""
    return [u for v in x for u in _leaves(v)] if isinstance(x, list) else [x]


class _Compiled:
    """Replays one traced loss graph per batch shape with ``autograd.compile`` (fit(compile=True)).

    The optimizer is bound to the graph in use (``fn.bind(opt)``): weights, gradients and
    optimizer state stay in arrays between steps, and the Values are synced by ``run``
    for the callbacks that touch them and by ``release`` when fit ends.  A batch of another shape (the last,
    smaller one) switches the binding to its graph (unbind syncs the Values, bind reads them).

    Every target is an input of the traced graph, so the graph must not depend on
    the targets' values.  For mse, hinge, bce and bce_with_logits it does not (the
    labels enter as numbers).  ``cross_entropy`` would pick the target's logit per
    sample, so it is traced as ``cross_entropy_one_hot``: the one-hot rows of the
    class indices are the inputs and one graph serves every labelling (a graph per
    target pattern would be classes^batch graphs).  Limits: bce_with_logits keeps the
    branch (z ≥ 0 or z < 0) and bce its log clamps and log1p correction of the traced
    batch, equal to the other form to rounding; a cross_entropy loss above ~709
    for one sample overflows and raises ``TrainingDiverged``."""

    def __init__(
        self,
        model: Any,
        opt: Optimizer,
        loss_fn: Callable[..., Any],
        params: list[Value],
        l1: float,
        l2: float,
    ) -> None:
        from autograd.compiler import compile as trace

        if any(isinstance(m, Dropout) and m.p and m.training for _, m in model.named_modules()):
            raise ValueError(
                "fit(compile=True) would freeze the dropout mask of the traced step; use compile=False or Dropout(p=0)"
            )
        self.trace = trace
        self.one_hot = loss_fn is cross_entropy
        self.args = (model, cross_entropy_one_hot if self.one_hot else loss_fn, params, l1, l2)
        self.graphs: dict[tuple[Any, ...], tuple[Any, int]] = {}
        self.opt = opt
        self.bound: Any = None  # the graph the optimizer works on

    def _targets(self, yb: np.ndarray, classes: int) -> np.ndarray:
        """The targets as the traced graph takes them: one-hot rows for cross_entropy, else as given."""
        if not self.one_hot:
            return yb
        _class_index(float(yb.max()), classes, "cross_entropy")  # eager's error for a class the model lacks
        rows = np.zeros((len(yb), classes))
        rows[np.arange(len(yb)), yb.astype(np.intp)] = 1.0
        return rows

    def _build(self, xb: np.ndarray, yb: np.ndarray) -> tuple[Any, int]:
        model, loss_fn, params, l1, l2 = self.args
        xs = [_wrap(row) for row in xb.tolist()]
        with no_grad():
            classes = len(model(xs[0])) if self.one_hot else 0
        targets = self._targets(yb, classes)
        ys = [Value(v) if not isinstance(v, list) else [Value(u) for u in v] for v in targets.tolist()]
        loss, _ = _loss_graph(model, xs, ys, loss_fn, params, l1, l2)
        leaves = [v for row in xs for v in _leaves(row)]  # row-major: the order of xb.ravel()
        leaves += [v for t in ys for v in (t if isinstance(t, list) else [t])]
        fn = self.trace(loss, inputs=leaves, parameters=params)
        fn.root = None  # keep the arrays only: the traced graph can be freed
        return fn, classes

    def __call__(self, xb: np.ndarray, yb: np.ndarray) -> float:
        yb = np.asarray(yb, dtype=np.float64)
        key = (xb.shape, yb.shape)
        entry = self.graphs.get(key)
        if entry is None:
            entry = self.graphs[key] = self._build(xb, yb)
        fn, classes = entry
        if fn is not self.bound:
            self.release()
            fn.bind(self.opt)
            self.bound = fn
        return float(fn(np.concatenate([xb.ravel(), self._targets(yb, classes).ravel()])))

    def release(self) -> None:
        """Sync the Values and unbind the optimizer (fit's end, an error, a graph switch)."""
        if self.bound is not None:
            self.bound.unbind()
            self.bound = None


def _check_scheduler(scheduler: Any, opt: Optimizer) -> None:
    """A scheduler must have ``step()`` and, when it names one, drive this very optimizer."""
    if scheduler is None:
        return
    if not callable(getattr(scheduler, "step", None)):
        raise TypeError(
            f"fit: scheduler must be an nn scheduler (anything with step()), got {checks.short_repr(scheduler)}; "
            "e.g. scheduler=nn.StepLR(opt, step_size=10)"
        )
    target = getattr(scheduler, "optimizer", opt)
    if target is not opt:
        raise ValueError("fit: the scheduler was built for a different optimizer than the one fit trains with")


def _arrays(model: Any, X: Any, y: Any, loss_name: str) -> tuple[np.ndarray, np.ndarray]:
    """X as (samples, features) float64 and y, both checked against each other, the loss and the model."""
    Xa = _rows(X, "fit")
    ya = np.asarray(y)
    if ya.ndim == 0 or len(Xa) != len(ya):
        raise ValueError(
            f"fit: X has {len(Xa)} samples but y has {ya.size if ya.ndim == 0 else len(ya)}; give one target per sample"
        )
    if len(Xa) == 0:
        raise ValueError("fit: X and y are empty (0 samples); pass at least one sample")
    if ya.dtype.kind not in "biuf":
        raise TypeError(f"fit: y must be numbers, got dtype {ya.dtype}")
    if ya.dtype.kind == "f" and not np.isfinite(ya).all():
        raise ValueError("fit: y contains nan or inf; clean the data first")
    _check_targets(loss_name, ya)
    if Xa.ndim == 4:
        channels = _in_channels(model)
        if channels is not None and Xa.shape[1] != channels:
            raise ValueError(
                f"fit: X has {Xa.shape[1]} channels per image but the model's first layer reads {channels}; "
                f"build it with in_channels={Xa.shape[1]} or fix X's axis 1 (images are (samples, C, H, W))"
            )
        return Xa, ya
    nin = getattr(model, "nin", None)
    if isinstance(nin, int) and Xa.shape[1] != nin:
        raise ValueError(
            f"fit: X has {Xa.shape[1]} features per sample but the model takes {nin}; "
            f"build the model with nin={Xa.shape[1]} or fix X's columns"
        )
    return Xa, ya


def _stream_length(X: Any, epochs: int, shuffle: Any) -> int | None:
    """The number of (x, y) pairs in a stream when it is known; a stream is read in order."""
    if shuffle:
        raise ValueError(
            "fit: shuffle=True needs arrays X, y; a stream of (x, y) pairs is read in order "
            "(pass shuffle=None or False)"
        )
    if isinstance(X, (str, bytes)) or not isinstance(X, Iterable):
        raise TypeError(f"fit: with y=None, X must be an iterable of (x, y) pairs, got {type(X).__name__}")
    if epochs > 1 and iter(X) is X:
        raise ValueError("fit: a one-shot iterator can be read only once; use epochs=1 or pass a list")
    n = len(X) if isinstance(X, Sized) else None
    if n == 0:
        raise ValueError("fit: the stream of (x, y) pairs is empty; pass at least one pair")
    return n


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

    ``X``, ``y``: arrays of samples (rows, or images (n, C, H, W)) and targets; or ``y=None`` and ``X`` any
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
    per-step accuracy), with weights, gradients and optimizer state kept in
    arrays between steps, and the Values brought up to date when fit returns or
    raises.  A callback reads exact numbers and its writes (``p.data``,
    ``opt.load_state_dict``) are honoured by the next step, as in eager training;
    what that costs per step: nothing for a callback that declares
    ``touches_values = False`` (it reads neither ``.data`` nor ``.grad``; it may
    read ``info.history``, ``opt.deltas``, ``opt.state_dict()`` and
    ``opt.weights_and_deltas(params)``, as ``viz.RunRecorder`` does); otherwise
    one sync of every parameter's ``.data``/``.grad`` before it and a check of
    which weights it rebound after it (~1.3 ms together per 25k parameters),
    and a reload only if it rebound one.  Every argument is checked before the first step.  A
    non-finite loss or gradient, or a weight a callback made non-finite, raises
    ``TrainingDiverged`` naming the step.
    """
    if not callable(model):
        raise TypeError(f"fit: model must be callable (a Module), got {type(model).__name__}")
    checks.integer("fit", "epochs", epochs, low=1)
    _check_batch_size(batch_size, "fit")
    l1 = checks.number("fit", "l1", l1, low=0.0)
    l2 = checks.number("fit", "l2", l2, low=0.0)
    if lr is not None:
        checks.number("fit", "lr", lr, low=0.0, low_open=True, hint="typical values are 1e-3 to 1.0")
    progress = checks.flag("fit", "progress", progress)
    compile = checks.flag("fit", "compile", compile)
    if shuffle is not None:
        shuffle = checks.flag("fit", "shuffle", shuffle)
    rng = checks.generator("fit", seed)
    loss_name, loss_fn = get_loss(loss)
    cbs = split_callbacks("fit", callbacks)
    params = checks.parameter_list("fit", model, allow_empty=True) if hasattr(model, "parameters") else []
    opt = _make_optimizer(optimizer, params, lr)
    _check_scheduler(scheduler, opt)
    acc_fn = _accuracy_fn(loss_name)

    stream = y is None
    if stream:
        if compile:
            raise ValueError("fit(compile=True) needs arrays X, y, not a stream")
        n = _stream_length(X, epochs, shuffle)
        Xa = ya = np.empty(0)
    else:
        Xa, ya = _arrays(model, X, y, loss_name)
        n = len(Xa)
        shuffle = True if shuffle is None else shuffle
    if hasattr(model, "train"):
        model.train()  # before tracing: compile refuses a graph whose dropout mask would freeze
    compiled = _Compiled(model, opt, loss_fn, params, l1, l2) if compile else None

    def epoch_steps(epoch: int) -> Iterator[Step]:
        it = stream_batches(X, batch_size) if stream else batches(Xa, ya, batch_size, bool(shuffle), rng)
        for xb, yb in it:

            def take(xb: Any = xb, yb: Any = yb) -> tuple[float, float | None, int]:
                value, acc = _train_step(model, opt, compiled, xb, yb, loss_fn, params, l1, l2, acc_fn)
                return value, acc, len(xb)

            yield take

    per_epoch = None if n is None else (1 if batch_size is None else math.ceil(n / batch_size))
    total = None if per_epoch is None else per_epoch * epochs
    try:
        return run(
            "fit", model, opt, epochs, epoch_steps, callbacks=cbs, progress=progress, total=total,
            scheduler=scheduler, arrays=opt if compiled is not None else None,
        )  # fmt: skip
    finally:
        if compiled is not None:
            compiled.release()  # the Values and the optimizer's state are current when fit returns or raises
