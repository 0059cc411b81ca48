"""``RunRecorder``: every parameter's Δw and value at every step of a training run, kept compactly.

Pass it to ``nn.fit(callbacks=[rec])`` or call ``rec.record(model, optimizer, loss)`` after each
``optimizer.step()`` of your own loop.  Row k of the float64 arrays describes the k-th recorded
step: ``steps[k]`` (the training step number), ``loss[k]``, and for parameter j (named
``names[j]``, the model's dotted ``named_parameters`` order) ``deltas[k, j]`` — exactly the
``optimizer.deltas`` entry that step applied (0.0 for a parameter the optimizer does not update)
— and ``values[k, j]``, its value after the step.  ``every`` records one step in ``every``;
``limit`` (rows) and ``max_bytes`` bound the memory: a model whose single row is already over
``max_bytes`` is refused at its first step, and a run that fills the budget stops being recorded
with one ``RunRecorderFull`` warning (training goes on).  ``save``/``load``: see
:mod:`viz.run_file`.  :func:`viz.explore_run` turns a recording into a page.
"""

from __future__ import annotations

import math
import os
import warnings
from numbers import Real
from operator import is_
from typing import Any

import numpy as np

from autograd import Value

__all__ = ["RunRecorder", "RunRecorderFull"]

DEFAULT_LIMIT = 100_000  # rows
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # deltas and values together


class RunRecorderFull(UserWarning):
    """The recorder reached ``limit`` or ``max_bytes``: later steps are not recorded."""


def _count(where: str, name: str, x: Any, low: int) -> int:
    if not isinstance(x, int) or isinstance(x, bool) or x < low:
        raise ValueError(f"{where}: {name} must be an int >= {low}, got {x!r}")
    return x


class RunRecorder:
    """Records loss, Δw and value of every parameter after each step (a ``fit`` callback).

    It reads an ``nn.optim`` optimizer's weights and Δw through ``weights_and_deltas`` (the bound
    arrays in ``fit(compile=True)``) and writes no parameter, so ``fit`` need not sync the Values
    for it (``touches_values = False``)."""

    #: read by ``fit``: this callback neither reads nor writes any parameter's .data/.grad
    touches_values = False

    def __init__(
        self, every: int = 1, *, limit: int | None = DEFAULT_LIMIT, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.every = _count("RunRecorder", "every", every, 1)
        self.limit = None if limit is None else _count("RunRecorder", "limit", limit, 1)
        self.max_bytes = _count("RunRecorder", "max_bytes", max_bytes, 1)
        self.names: list[str] = []
        self.truncated = False  # True once a step was left out because the budget was full
        self._params: list[Value] | None = None
        self._rows: list[tuple[int, float, np.ndarray, np.ndarray]] = []
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._calls = 0

    # ---- recording ---------------------------------------------------------------------
    def on_step(self, info: Any) -> None:
        """The ``nn.fit`` callback: records ``info.model`` and ``info.optimizer`` after step ``info.step``."""
        self.record(info.model, info.optimizer, info.loss, info.step)

    def record(self, model: Any, optimizer: Any, loss: Any, step: int | None = None) -> None:
        """Record the step just taken (call after ``optimizer.step()``); ``step`` defaults to a count
        of the calls so far.  Only steps divisible by ``every`` are kept."""
        where = "RunRecorder.record"
        if step is None:
            step = self._calls
        step = _count(where, "step", step, 0)
        self._calls += 1
        loss_value = _loss(where, loss)
        readable = callable(getattr(optimizer, "weights_and_deltas", None))  # checked first: .deltas builds a dict
        if not readable and not isinstance(getattr(optimizer, "deltas", None), dict):
            raise TypeError(
                f"{where}: optimizer must have a .deltas dict (parameter -> Δw of its last step), "
                f"got {type(optimizer).__name__}; pass an nn.optim optimizer"
            )
        params = self._bind(where, model)
        if step % self.every or not self._room(len(params)):
            return
        if self._rows and step <= self._rows[-1][0]:
            raise ValueError(f"{where}: step {step} comes after step {self._rows[-1][0]}; steps must increase")
        d, v = _read(optimizer, params)
        self._rows.append((step, loss_value, d, v))
        self._arrays = None

    def _bind(self, where: str, model: Any) -> list[Value]:
        """The model's parameters in ``named_parameters`` order; the same model at every step
        (checked with ``parameters()``: the same order, without building the names)."""
        named = getattr(model, "named_parameters", None)
        if not callable(named):
            raise TypeError(
                f"{where}: model must be an nn.Module (with named_parameters()), got {type(model).__name__}"
            )
        if self._params is not None:
            now = model.parameters()
            if len(now) == len(self._params) and all(map(is_, now, self._params)):
                return self._params
        pairs = named()
        if self._params is None:
            if self._rows:
                raise ValueError(
                    f"{where}: this recorder was loaded from a file; record a new run with a new RunRecorder"
                )
            if not pairs:
                raise ValueError(f"{where}: the model has no parameters to record")
            self.names = [n for n, _ in pairs]
            self._params = [p for _, p in pairs]
            row = 16 * len(pairs)
            if row > self.max_bytes:
                raise ValueError(
                    f"{where}: one step of this model's {len(pairs):,} parameters takes {row:,} bytes, more than "
                    f"max_bytes={self.max_bytes:,}; raise max_bytes or record a smaller model"
                )
        elif len(pairs) != len(self._params) or any(p is not q for (_, p), q in zip(pairs, self._params)):
            raise ValueError(
                f"{where}: the model's parameters changed since the first recorded step "
                f"({len(self._params)} then, {len(pairs)} now); use one RunRecorder per model"
            )
        return self._params

    def _room(self, n: int) -> bool:
        """False (warning once) when another row would pass ``limit`` or ``max_bytes``."""
        rows = len(self._rows) + 1
        over_limit = self.limit is not None and rows > self.limit
        over_bytes = rows * 16 * n > self.max_bytes
        if not (over_limit or over_bytes):
            return True
        if not self.truncated:
            self.truncated = True
            why = f"limit={self.limit:,} rows" if over_limit else f"max_bytes={self.max_bytes:,}"
            warnings.warn(
                f"RunRecorder: {len(self._rows):,} steps of {n:,} parameters reach {why}; later steps are not "
                f"recorded (training goes on). Record fewer steps with every= (now {self.every}) or raise the limit",
                RunRecorderFull,
                stacklevel=4,
            )
        return False

    # ---- reading -----------------------------------------------------------------------
    def _stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._arrays is None:
            n = len(self.names)
            rows = self._rows
            self._arrays = (
                np.array([r[0] for r in rows], dtype=np.int64),
                np.array([r[1] for r in rows], dtype=np.float64),
                np.stack([r[2] for r in rows]) if rows else np.zeros((0, n)),
                np.stack([r[3] for r in rows]) if rows else np.zeros((0, n)),
            )
        return self._arrays

    @property
    def steps(self) -> np.ndarray:
        """The training step number of each recorded row (int64, increasing)."""
        return self._stacked()[0]

    @property
    def loss(self) -> np.ndarray:
        """The loss of each recorded step (float64)."""
        return self._stacked()[1]

    @property
    def deltas(self) -> np.ndarray:
        """Δw of every parameter at each recorded step: shape (rows, parameters), float64."""
        return self._stacked()[2]

    @property
    def values(self) -> np.ndarray:
        """Every parameter's value after each recorded step: shape (rows, parameters), float64."""
        return self._stacked()[3]

    def __len__(self) -> int:
        """How many steps were recorded."""
        return len(self._rows)

    def column(self, name: str) -> int:
        """The column of parameter ``name`` in ``deltas`` and ``values``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"RunRecorder: no parameter named {name!r}; e.g. {self.names[:3]}") from None

    def __repr__(self) -> str:
        more = ", truncated" if self.truncated else ""
        return f"RunRecorder({len(self)} steps of {len(self.names)} parameters, every={self.every}{more})"

    # ---- files -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the recording to an ``.npz`` file atomically (no pickle); :meth:`load` reads it back."""
        from .run_file import save_run

        save_run(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> RunRecorder:
        """A recorder holding what ``save`` wrote; refuses damaged or hostile files (``ValueError``)
        and recordings bigger than ``max_bytes`` before reading them."""
        from .run_file import load_run

        return load_run(cls, path, max_bytes)

    @classmethod
    def _from_arrays(
        cls,
        names: list[str],
        every: int,
        truncated: bool,
        arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ) -> RunRecorder:
        """A finished recorder (as ``load`` returns): it holds rows but no model to record from."""
        rec = cls(every, limit=None, max_bytes=max(1, arrays[2].nbytes + arrays[3].nbytes))
        rec.names = list(names)
        rec.truncated = truncated
        steps, loss, deltas, values = arrays
        rec._rows = [(int(s), float(f), d, v) for s, f, d, v in zip(steps, loss, deltas, values)]
        rec._arrays = arrays
        return rec


def _read(optimizer: Any, params: list[Value]) -> tuple[np.ndarray, np.ndarray]:
    """(Δw, value) of every parameter: from an ``nn.optim`` optimizer's ``weights_and_deltas`` (exact
    without syncing bound arrays), else from ``deltas`` and ``.data`` (e.g. ``nn.evolve``'s optimizers)."""
    read = getattr(optimizer, "weights_and_deltas", None)
    if read is not None:
        v, d = read(params)
        return d, v
    deltas = optimizer.deltas
    d = np.fromiter((deltas.get(p, 0.0) for p in params), dtype=np.float64, count=len(params))
    v = np.fromiter((p.data for p in params), dtype=np.float64, count=len(params))
    return d, v


def _loss(where: str, loss: Any) -> float:
    """The loss as a finite float (a Value's data, or a number)."""
    x = loss.data if isinstance(loss, Value) else loss
    if not isinstance(x, Real) or isinstance(x, bool):
        raise TypeError(f"{where}: loss must be a number or a Value, got {type(loss).__name__}")
    if not math.isfinite(x):
        raise ValueError(f"{where}: loss is {x!r}; a recorded loss must be finite")
    return float(x)
