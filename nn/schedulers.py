"""Learning-rate schedules with torch.optim.lr_scheduler's semantics.

As in torch, a scheduler acts on every parameter group: creating one records
each group's ``initial_lr`` (unless an earlier scheduler did) as ``base_lrs``
and performs step 0 (which may change the lr at once, e.g. ``LinearLR``); each
``scheduler.step()`` after an epoch (or a training step) advances
``last_epoch`` by one and updates every group's ``lr`` with torch's chainable
rule, from the group's current lr, so schedulers can be stacked and a manual
change of the lr is carried forward, exactly as in torch.  Each class docstring
gives the closed form the schedule follows when nothing else changes the lr.
A step whose lr would leave float64 (an ``ExponentialLR`` with gamma > 1 run
long enough) raises a ``ValueError`` and changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from . import checks
from .optim.groups import Check, nonnegative
from .optim.optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR"]

_MAX_EPOCH = 2**53  # epochs stay exact as floats (cosine's π·epoch/T_max)


def _positive_int(where: str, name: str, x: Any) -> int:
    return checks.integer(where, name, x, low=1)


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``last_epoch``, ``base_lrs``, ``state_dict()``."""

    #: every setting of the schedule and its check (used by __init__ and load_state_dict)
    settings: ClassVar[dict[str, Check]] = {}

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1, **settings: Any) -> None:
        where = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise checks.InputTypeError(
                f"{where}: expected an nn.optim optimizer, got {type(optimizer).__name__}; "
                "pass the optimizer whose lr the schedule sets"
            )
        epoch = checks.integer(where, "last_epoch", last_epoch, low=-1, high=_MAX_EPOCH)
        for name, value in settings.items():
            setattr(self, name, self.settings[name](where, name, value))
        self.optimizer = optimizer
        if epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        missing = [i for i, g in enumerate(optimizer.param_groups) if "initial_lr" not in g]
        if missing:
            raise ValueError(
                f"{where}: resuming with last_epoch={epoch} needs each group's initial_lr (set by a scheduler "
                f"created with last_epoch=-1); param_groups {missing} have none"
            )
        self.base_lrs: list[float] = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = epoch
        self._last_lr: list[float] = []
        self._step(initial=True)

    @property
    def base_lr(self) -> float:
        """The first group's base lr (the only one in the usual one-group case)."""
        return self.base_lrs[0]

    def _next(self, lr: float, base_lr: float, epoch: int, initial: bool) -> float:
        """torch's chainable rule: the lr at ``epoch`` from the group's current ``lr`` and its ``base_lr``
        (``initial``: the step the constructor takes, which in torch 2.13 mostly keeps the lr)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _next")

    def _next_lrs(self, epoch: int, initial: bool) -> list[float]:
        """Every group's lr at ``epoch``; a ValueError if one would leave float64."""
        out = []
        for i, (group, base) in enumerate(zip(self.optimizer.param_groups, self.base_lrs)):
            try:
                lr = self._next(group["lr"], base, epoch, initial)
            except OverflowError:
                lr = math.inf
            if not math.isfinite(lr):
                raise ValueError(
                    f"{type(self).__name__}: at epoch {epoch} the lr of param_groups[{i}] (now {group['lr']:g}, base "
                    f"{base:g}) would be beyond float64 ({self._describe()}); use a schedule that stays finite, "
                    "e.g. gamma <= 1, or fewer epochs"
                )
            out.append(lr)
        return out

    def _describe(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self.settings)

    def step(self) -> None:
        """Advance one epoch and set every group's lr (all or nothing: a bad lr changes nothing)."""
        self._step(initial=False)

    def _step(self, initial: bool) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                f"{type(self).__name__}.step: the optimizer has {len(groups)} parameter groups but the schedule "
                f"was made for {len(self.base_lrs)}; create the scheduler after add_param_group"
            )
        lrs = self._next_lrs(self.last_epoch + 1, initial)
        checked = [
            self.optimizer._checked_group(type(self).__name__, "", {**g, "lr": lr}) for g, lr in zip(groups, lrs)
        ]
        for group, options in zip(groups, checked):
            dict.__setitem__(group, "lr", options["lr"])
        self.last_epoch += 1
        self._last_lr = [g["lr"] for g in groups]

    def get_last_lr(self) -> list[float]:
        """The lr of each group set by the latest ``step()`` (torch's shape)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Every setting and the position, JSON-ready (the optimizer is not included)."""
        settings = {name: getattr(self, name) for name in self.settings}
        return {
            **settings,
            "base_lrs": list(self.base_lrs),
            "last_epoch": self.last_epoch,
            "_last_lr": self.get_last_lr(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict()`` returned, checked first (the optimizer's lr is not touched)."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise checks.InputTypeError(f"{where}: expected the dict from state_dict(), got {checks.short_repr(state)}")
        expected = set(self.state_dict())
        if set(state) != expected:
            raise ValueError(f"{where}: expected the keys {sorted(expected)}, got {sorted(map(str, state))}")
        n = len(self.base_lrs)
        new = {name: check(where, name, state[name]) for name, check in self.settings.items()}
        new["last_epoch"] = checks.integer(where, "last_epoch", state["last_epoch"], low=-1, high=_MAX_EPOCH)
        for key in ("base_lrs", "_last_lr"):
            values = state[key]
            if not isinstance(values, (list, tuple)) or len(values) != n:
                raise ValueError(
                    f"{where}: {key} must be a list of {n} learning rates, got {checks.short_repr(values)}"
                )
            new[key] = [nonnegative(where, f"{key}[{i}]", x) for i, x in enumerate(values)]
        self.__dict__.update(new)


class StepLR(LRScheduler):
    """lr = base_lr · gamma^⌊epoch / step_size⌋: multiply by ``gamma`` every ``step_size`` epochs."""

    settings: ClassVar[dict[str, Check]] = {"step_size": _positive_int, "gamma": nonnegative}
    step_size: int
    gamma: float

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        super().__init__(optimizer, last_epoch, step_size=step_size, gamma=gamma)

    def _next(self, lr: float, base_lr: float, epoch: int, initial: bool) -> float:
        return lr * self.gamma if epoch > 0 and epoch % self.step_size == 0 else lr


class ExponentialLR(LRScheduler):
    """lr = base_lr · gamma^epoch."""

    settings: ClassVar[dict[str, Check]] = {"gamma": nonnegative}
    gamma: float

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        super().__init__(optimizer, last_epoch, gamma=gamma)

    def _next(self, lr: float, base_lr: float, epoch: int, initial: bool) -> float:
        return lr if initial else lr * self.gamma


def _start_factor(where: str, name: str, x: Any) -> float:
    return checks.number(where, name, x, low=0.0, high=1.0, low_open=True)


def _end_factor(where: str, name: str, x: Any) -> float:
    return checks.number(where, name, x, low=0.0, high=1.0)


class LinearLR(LRScheduler):
    """lr = base_lr · (start + (end − start)·min(epoch, total_iters)/total_iters): a linear warm-up (or -down)."""

    settings: ClassVar[dict[str, Check]] = {
        "start_factor": _start_factor,
        "end_factor": _end_factor,
        "total_iters": _positive_int,
    }
    start_factor: float
    end_factor: float
    total_iters: int

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        super().__init__(
            optimizer, last_epoch, start_factor=start_factor, end_factor=end_factor, total_iters=total_iters
        )

    def _next(self, lr: float, base_lr: float, epoch: int, initial: bool) -> float:
        start, end, n = self.start_factor, self.end_factor, self.total_iters
        if epoch == 0:
            return lr * start
        if initial or epoch > n:
            return lr
        return lr * (1.0 + (end - start) / (n * start + (epoch - 1) * (end - start)))


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr − eta_min)·(1 + cos(π·epoch/T_max))/2; past T_max it rises again
    along the same cosine, as torch's recursive form does."""

    settings: ClassVar[dict[str, Check]] = {"T_max": _positive_int, "eta_min": nonnegative}
    T_max: int
    eta_min: float

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        super().__init__(optimizer, last_epoch, T_max=T_max, eta_min=eta_min)

    def _next(self, lr: float, base_lr: float, epoch: int, initial: bool) -> float:
        T, eta = self.T_max, self.eta_min
        if initial:
            return lr
        if (epoch - 1 - T) % (2 * T) == 0:  # the trough: the ratio below would divide by 0
            return lr + (base_lr - eta) * (1 - math.cos(math.pi / T)) / 2
        return (1 + math.cos(math.pi * epoch / T)) / (1 + math.cos(math.pi * (epoch - 1) / T)) * (lr - eta) + eta
