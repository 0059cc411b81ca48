"""``Optimizer``: the shared machinery of every update rule — parameters, state, Δw record.

Subclasses implement ``_update(w, g, state, t)`` on numpy float64 vectors (one
entry per parameter) and return the new weights and state, so a step either
applies completely or not at all.  State is kept per parameter *index*, which
makes ``state_dict()`` plain JSON-ready data, like torch's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from autograd import Value

__all__ = ["Optimizer", "TrainingDiverged"]


class TrainingDiverged(ValueError):
    """The loss, a gradient or a weight stopped being a finite number: the training diverged."""


def _param_list(params: Any, where: str) -> list[Value]:
    """A model's (or an iterable's) parameters as a list of distinct Values, with clear errors."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()  # a Module: take its parameters
    if isinstance(params, Value):
        raise TypeError(f"{where}: params must be an iterable of Values (e.g. model.parameters()), got one Value")
    try:
        ps = list(params)
    except TypeError:
        raise TypeError(f"{where}: params must be an iterable of Values, got {type(params).__name__}") from None
    if not ps:
        raise ValueError(f"{where}: no parameters (an empty list); pass model.parameters()")
    seen: set[int] = set()
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"{where}: params[{i}] is a {type(p).__name__}, not a Value")
        if id(p) in seen:
            raise ValueError(
                f"{where}: params[{i}] ({p.label or 'unlabelled'}) appears twice; each parameter must be listed once"
            )
        seen.add(id(p))
    return ps


def _check_number(where: str, name: str, x: Any, low: float = 0.0, strict: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise TypeError(f"{where}: {name} must be a finite number, got {x!r}")
    if x < low or (strict and x == low):
        raise ValueError(f"{where}: {name} must be {'>' if strict else '>='} {low:g}, got {x!r}")
    return float(x)


class Optimizer:
    """Base class: ``step()``, ``zero_grad()``, ``deltas``, ``lr``, ``state_dict()``."""

    #: names of the per-parameter state vectors, in state_dict order
    state_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], defaults: Mapping[str, Any]) -> None:
        name = type(self).__name__
        self.params: list[Value] = _param_list(params, name)
        self.defaults: dict[str, Any] = dict(defaults)
        self._hyper: dict[str, Any] = dict(defaults)
        self.lr = defaults["lr"]
        if self.lr <= 0:
            raise ValueError(f"{name}: lr must be > 0, got {self.lr!r}; typical values are 1e-3 to 1.0")
        self.state: dict[str, np.ndarray] = {}
        self.step_count = 0
        #: Δw of the last step: parameter -> new − old, exactly as applied
        self.deltas: dict[Value, float] = {}

    # ---- hyperparameters ----------------------------------------------------------
    @property
    def lr(self) -> float:
        """The learning rate used by the next ``step()``; schedulers and users may change it."""
        return self._hyper["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        # >= 0 rather than > 0: a schedule such as cosine annealing may reach exactly 0.
        self._hyper["lr"] = _check_number(type(self).__name__, "lr", value)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The current settings (lr, momentum, betas, ...) as a dict copy."""
        return dict(self._hyper)

    def __getattr__(self, name: str) -> Any:
        hyper = self.__dict__.get("_hyper")
        if hyper is not None and name in hyper:
            return hyper[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        hyper = self.__dict__.get("_hyper")
        if hyper is not None and name in hyper and name != "lr":
            old = hyper[name]
            if isinstance(old, bool):
                if not isinstance(value, bool):
                    raise TypeError(f"{type(self).__name__}: {name} must be True or False, got {value!r}")
            elif isinstance(old, tuple):
                value = tuple(float(_check_number(type(self).__name__, f"{name}[{i}]", v)) for i, v in enumerate(value))
            else:
                value = _check_number(type(self).__name__, name, value)
            hyper[name] = value
            return
        object.__setattr__(self, name, value)

    # ---- the update -----------------------------------------------------------------
    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def _update(
        self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def step(self) -> None:
        """Apply one update to every parameter from its ``.grad`` and record ``deltas``.

        Raises ``TrainingDiverged`` (a ``ValueError``; changing nothing) if a gradient or a new weight is
        not finite: the training diverged, and a smaller lr usually fixes it."""
        name = type(self).__name__
        ps = self.params
        n = len(ps)
        g = np.fromiter([p.grad for p in ps], dtype=np.float64, count=n)
        bad = ~np.isfinite(g)
        if bad.any():
            i = int(np.argmax(bad))
            raise TrainingDiverged(
                f"{name}.step: parameter {i} ({ps[i].label or 'unlabelled'}) has gradient {float(g[i])!r}; "
                f"the loss diverged — use a smaller lr (now {self.lr:g}) or clip gradients (nn.clip_grad_norm)"
            )
        old = [p.data for p in ps]
        w = np.array(old, dtype=np.float64)
        if self._hyper.get("maximize"):
            g = -g
        new, state = self._update(w, g, dict(self.state), self.step_count + 1)
        bad = ~np.isfinite(new)
        if bad.any():
            i = int(np.argmax(bad))
            raise TrainingDiverged(
                f"{name}.step: the update would make parameter {i} ({ps[i].label or 'unlabelled'}) {float(new[i])!r}; "
                f"use a smaller lr (now {self.lr:g})"
            )
        self.state = state
        self.step_count += 1
        deltas = {}
        for p, before, after in zip(ps, old, new.tolist()):
            p.data = after
            deltas[p] = after - before
        self.deltas = deltas

    # ---- serialization ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"optimizer", "hyperparameters", "step", "state": {index: {name: float}}}``."""
        per_param: dict[int, dict[str, float]] = {}
        if self.state:
            for i in range(len(self.params)):
                per_param[i] = {"step": self.step_count}
                for key in self.state_names:
                    if key in self.state:
                        per_param[i][key] = float(self.state[key][i])
        hyper = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self._hyper.items()}
        return {"optimizer": type(self).__name__, "hyperparameters": hyper, "step": self.step_count, "state": per_param}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what ``state_dict()`` returned (int or str indices); checks everything before changing anything."""
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where}: expected a dict from state_dict(), got {type(state_dict).__name__}")
        kind = state_dict.get("optimizer")
        if kind != name:
            raise ValueError(f"{where}: the state is for {kind!r}, not {name!r}")
        hyper = state_dict.get("hyperparameters")
        if not isinstance(hyper, Mapping) or set(hyper) != set(self._hyper):
            got = sorted(hyper) if isinstance(hyper, Mapping) else hyper
            raise ValueError(f"{where}: hyperparameters must have the keys {sorted(self._hyper)}, got {got}")
        step = state_dict.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValueError(f"{where}: 'step' must be an int >= 0, got {step!r}")
        raw = state_dict.get("state")
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: 'state' must be a dict of parameter index -> state")
        n = len(self.params)
        state: dict[str, np.ndarray] = {}
        if raw:
            entries: dict[int, Mapping] = {}
            for k, v in raw.items():
                try:
                    idx = int(k)
                except (TypeError, ValueError):
                    raise ValueError(f"{where}: state key {k!r} is not a parameter index") from None
                if not 0 <= idx < n:
                    raise ValueError(f"{where}: state for parameter {idx}, but this optimizer has {n} parameters")
                if not isinstance(v, Mapping):
                    raise ValueError(f"{where}: the state of parameter {idx} must be a dict, got {type(v).__name__}")
                entries[idx] = v
            if len(entries) != n:
                raise ValueError(f"{where}: state for {len(entries)} parameters, but this optimizer has {n}")
            keys = [k for k in self.state_names if k in entries[0]]
            for key in keys:
                vec = np.empty(n)
                for i in range(n):
                    x = entries[i].get(key)
                    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                        raise ValueError(f"{where}: parameter {i}: {key} must be a finite number, got {x!r}")
                    vec[i] = x
                state[key] = vec
        values = {}
        for k, v in hyper.items():
            values[k] = tuple(v) if isinstance(self._hyper[k], tuple) else v
        self._hyper.update(values)
        self.state = state
        self.step_count = step

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper.items())
        return f"{type(self).__name__}({len(self.params)} parameters, {args})"
