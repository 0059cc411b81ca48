"""The one training loop that ``fit`` and ``evolve`` share, and what it records (``History``).

A loop run is: for each epoch, take that epoch's steps (each one a callable that
updates the weights and returns its loss), record per step the loss, the learning
rate, the accuracy and the mean |Δw| of every layer (from ``optimizer.deltas``),
call the callbacks, then close the epoch (sample-weighted means, the scheduler,
the epoch callbacks).  What a step *is* — backprop and a gradient step, or a
generation of a search — is the caller's business.

With weights kept in arrays (``fit(compile=True)``), a callback costs what it
touches: one that says ``touches_values = False`` costs nothing; any other gets
the Values synced before it and, if it rebound a weight, the arrays reloaded
after it.  A weight a callback made non-finite raises ``TrainingDiverged``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from autograd import DomainError, Value
from autograd.mode import collector_paused

from .layers import Layer
from .module import Module
from .optim.optimizer import TrainingDiverged

__all__ = [
    "History",
    "StepInfo",
    "StopTraining",
    "TrainingDiverged",
    "layer_groups",
    "split_callbacks",
    "run",
    "touches_values",
]

#: One step: updates the weights and returns (loss, batch accuracy or None, samples in the batch).
Step = Callable[[], "tuple[float, float | None, int]"]


class StopTraining(Exception):
    """Raise from a callback to end ``fit`` cleanly after the current step."""


@dataclass(repr=False)
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

    def __repr__(self) -> str:
        """A summary (counts, first and last loss, layers), not every list in full."""
        if not self.loss:
            return "History(steps=0, epochs=0)"
        parts = [f"steps={self.steps}", f"epochs={self.epochs}", f"loss {self.loss[0]:.4g} -> {self.loss[-1]:.4g}"]
        if self.epoch_accuracy:
            parts.append(f"epoch_accuracy {self.epoch_accuracy[-1]:.3g}")
        if self.lr:
            parts.append(f"lr {self.lr[-1]:.4g}")
        if self.delta and self.delta[-1]:
            parts.append(f"layers {', '.join(self.delta[-1])}")
        if self.stopped_early:
            parts.append("stopped early")
        return f"History({'; '.join(parts)})"


@dataclass
class StepInfo:
    """Passed to callbacks after every step (and at each epoch's end)."""

    step: int
    epoch: int
    loss: float
    accuracy: float | None
    lr: float
    model: Any
    optimizer: Any
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


def split_callbacks(where: str, callbacks: Iterable[Any]) -> tuple[list[Callable[..., Any]], list[Callable[..., Any]]]:
    """``(after each step, at each epoch's end)``: callables are step callbacks; objects may have
    ``on_step(info)`` and/or ``on_epoch_end(info)``.  Anything else is refused before training."""
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise TypeError(f"{where}: callbacks must be a list of callables, got {type(callbacks).__name__}")
    cbs = list(callbacks)
    for cb in cbs:
        if not (callable(cb) or hasattr(cb, "on_step") or hasattr(cb, "on_epoch_end")):
            raise TypeError(f"{where}: callback {cb!r} is not callable and has no on_step/on_epoch_end")
    step_cbs = [cb if callable(cb) else cb.on_step for cb in cbs if callable(cb) or hasattr(cb, "on_step")]
    epoch_cbs = [cb.on_epoch_end for cb in cbs if hasattr(cb, "on_epoch_end")]
    return step_cbs, epoch_cbs


def _mean_deltas(deltas: dict[Value, float], groups: dict[str, list[Value]]) -> dict[str, float]:
    """Mean |Δw| per layer group for one step."""
    return {name: sum(abs(deltas[p]) for p in ps) / len(ps) for name, ps in groups.items() if ps and ps[0] in deltas}


def touches_values(cb: Callable[..., Any]) -> bool:
    """Whether a callback may read or write parameters' ``.data``/``.grad`` (its, or its object's,
    ``touches_values`` attribute; True unless it says otherwise)."""
    flag = getattr(cb, "touches_values", None)
    if flag is None:
        flag = getattr(getattr(cb, "__self__", None), "touches_values", True)
    return bool(flag)


class _Callbacks:
    """One list of callbacks and what running them needs: which ones touch the Values, and the
    parameters whose weights must stay finite (``model.parameters()``, else the optimizer's;
    an error names one by its index there and its label)."""

    def __init__(self, where: str, cbs: list[Callable[..., Any]], params: list[Value], optimizer: Any) -> None:
        self.where, self.cbs, self.params = where, cbs, params
        self.touching = [touches_values(cb) for cb in cbs]
        zeroed = {id(p) for p in getattr(optimizer, "params", [])}
        #: (index, parameter) whose gradient no zero_grad clears: a non-finite one would stop the next backward
        self.kept_grads = [(i, p) for i, p in enumerate(params) if id(p) not in zeroed]

    def __call__(self, info: StepInfo, arrays: Any) -> None:
        """Call each callback with ``info``.  Bound arrays are synced to the Values before the first
        callback that touches them and, if one rebound a weight, read back before the next callback
        that reads the arrays (and at the end), so every callback reads exact numbers and a write is
        seen by the next step.  A weight a callback made non-finite raises ``TrainingDiverged``."""
        dirty = False
        for cb, touching in zip(self.cbs, self.touching):
            if touching:
                if arrays is not None:
                    arrays.sync()
                cb(info)
                dirty = True
            else:
                if dirty:
                    self._take_writes(info, arrays)
                    dirty = False
                cb(info)
        if dirty:
            self._take_writes(info, arrays)

    def _take_writes(self, info: StepInfo, arrays: Any) -> None:
        """After callbacks that may have written: refuse a non-finite weight, then (bound) reload
        the arrays when a Value was rebound."""
        if arrays is not None and not arrays.values_changed():
            return
        where = f"{self.where}: step {info.step} (epoch {info.epoch}): a callback set"
        for i, p in enumerate(self.params):
            if not math.isfinite(p.data):
                raise TrainingDiverged(
                    f"{where} parameter {i} ({p.label or 'unlabelled'}) to {p.data!r}; weights must stay finite numbers"
                )
        for i, p in self.kept_grads:
            if not math.isfinite(p.grad):
                raise TrainingDiverged(
                    f"{where} the gradient of parameter {i} ({p.label or 'unlabelled'}) to {p.grad!r}; "
                    "the optimizer does not zero it, so the next backward would refuse it"
                )
        if arrays is not None:
            arrays.reload()


def run(
    where: str,
    model: Any,
    optimizer: Any,
    epochs: int,
    epoch_steps: Callable[[int], Iterable[Step]],
    *,
    callbacks: tuple[list[Callable[..., Any]], list[Callable[..., Any]]] = ([], []),
    progress: bool = True,
    total: int | None = None,
    unit: str = "step",
    scheduler: Any = None,
    stop: Callable[[History], bool] | None = None,
    arrays: Any = None,
) -> History:
    """Run ``epochs`` epochs of ``epoch_steps(epoch)`` and return the ``History``.

    The learning rate is recorded when ``optimizer`` has one (``lr``); ``stop(history)``,
    checked after each epoch, ends the run early; an arithmetic error inside a step
    becomes ``TrainingDiverged`` naming the step and epoch.  ``arrays``: an optimizer whose
    weights live in arrays (``bind``): synced to the Values before a callback that may touch
    them (see ``touches_values``) and reloaded only when a callback rebound a weight, so a
    callback reads and may change ``.data`` as usual."""
    from tqdm import tqdm  # on first use: `import nn` stays light (tqdm pulls in asyncio and more)

    groups = layer_groups(model)
    watched = model.parameters() if isinstance(model, Module) else list(getattr(optimizer, "params", []))
    step_cbs, epoch_cbs = (_Callbacks(where, cbs, watched, optimizer) for cbs in callbacks)
    has_lr = hasattr(optimizer, "lr")
    hist = History()
    bar = tqdm(total=total, disable=not progress, desc=where, unit=unit, dynamic_ncols=True)
    step = 0
    try:
        for epoch in range(epochs):
            total_loss, seen, hits, count, acc = 0.0, 0, 0.0, 0, None
            for take in epoch_steps(epoch):
                lr = optimizer.lr if has_lr else math.nan
                try:
                    with collector_paused():  # a step's Values are acyclic; callbacks run with it on
                        value, acc, m = take()
                except TrainingDiverged as e:
                    raise TrainingDiverged(f"{where}: step {step} (epoch {epoch}): {e}") from e
                except (OverflowError, DomainError, ZeroDivisionError) as e:
                    hint = f"use a smaller lr (now {lr:g}) or clip gradients" if has_lr else "scale the data down"
                    raise TrainingDiverged(
                        f"{where}: step {step} (epoch {epoch}): the loss stopped being finite ({e}); {hint}"
                    ) from e
                hist.loss.append(value)
                if has_lr:
                    hist.lr.append(lr)
                means = getattr(optimizer, "delta_means", None)  # from the Δw vector, without a dict
                hist.delta.append(means(groups) if means is not None else _mean_deltas(optimizer.deltas, groups))
                if acc is not None:
                    hist.accuracy.append(acc)
                    hits += acc * m
                total_loss += value * m
                seen += m
                count += 1
                bar.update(1)
                if progress:
                    bar.set_postfix(loss=f"{value:.4g}", epoch=epoch, refresh=False)
                info = StepInfo(step, epoch, value, acc, lr, model, optimizer, hist)
                step += 1
                step_cbs(info, arrays)
            if seen == 0:
                raise ValueError(f"{where}: epoch {epoch} had no samples; X is empty (or an exhausted iterator)")
            hist.epoch_loss.append(total_loss / seen)
            if acc is not None:
                hist.epoch_accuracy.append(hits / seen)
            hist.steps_per_epoch.append(count)
            if scheduler is not None:
                scheduler.step()
            lr = optimizer.lr if has_lr else math.nan
            info = StepInfo(
                step - 1,
                epoch,
                hist.epoch_loss[-1],
                hits / seen if acc is not None else None,
                lr,
                model,
                optimizer,
                hist,
            )
            epoch_cbs(info, arrays)
            if stop is not None and stop(hist):
                hist.stopped_early = True
                break
    except StopTraining:
        hist.stopped_early = True
    finally:
        bar.close()
    return hist
