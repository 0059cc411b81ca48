"""Phase 4, replay: forward over the steps in level order, backward in reverse, on two slot arrays.

Everything here is arrays: a ``Replay`` never touches a ``Value``.  Its
parameters live in one contiguous slice of the value array
(``param_values``), so a caller can keep them there between calls.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import OpOverflowError
from .diagnose import explain
from .index import Flags, Floats
from .layout import Layout, Step


class Replay:
    """The compiled steps over persistent value and gradient arrays (one call at a time)."""

    def __init__(self, layout: Layout, const_values: list[float], root_slot: int, input_grads: bool) -> None:
        self.steps: list[Step] = layout.steps
        self.n_inputs = layout.param_start
        self.param_start = layout.param_start
        self.param_stop = layout.param_start + len(layout.param_order)
        self.n_leaves = layout.n_leaves
        self.root_slot = root_slot
        self.val: Floats = np.zeros(layout.n_slots)
        self.grad: Floats = np.zeros(layout.n_slots)
        self.val[layout.const_slots] = const_values
        # The parameters' slots (a view: writing it changes the next run; run(params=None) keeps it).
        self.param_values: Floats = self.val[self.param_start : self.param_stop]
        for s in self.steps:
            s.bind(self.val, self.grad)
        self.need = self._mark_needed(input_grads)
        # The gradients run() returns, checked on every call: their sum (one BLAS dot with ones,
        # half the cost of isfinite().all()) is inf or nan when one of them is, or when it
        # overflows, which only costs a careful second pass.
        self.checked = slice(0 if input_grads else self.param_start, self.param_stop)
        self.ones: Floats = np.ones(self.param_stop - self.checked.start)

    def _mark_needed(self, input_grads: bool) -> Flags:
        """Which slots need a gradient: parameters (and inputs when asked), and every node
        computed from one.  Backward skips the rest (e.g. the input side of a first layer)."""
        need = np.zeros(self.val.size, dtype=bool)
        need[self.param_start : self.param_stop] = True
        if input_grads:
            need[: self.n_inputs] = True
        for s in self.steps:
            s.mark_needed(need)
        return need

    def run(self, inputs: Floats | None = None, params: Floats | None = None) -> float:
        """Forward and backward; ``None`` keeps what the input or parameter slots hold.

        Afterwards ``grad`` holds ∂root/∂slot for every slot that needs one.
        """
        val, grad = self.val, self.grad
        if inputs is not None:
            val[: self.n_inputs] = inputs
        if params is not None:
            val[self.param_start : self.param_stop] = params
        saved: list[Any] = []
        with np.errstate(all="ignore"):
            for s in self.steps:
                s.forward(val, saved)
            if not np.isfinite(val).all():
                self._diagnose_forward()
            grad.fill(0.0)
            grad[self.root_slot] += 1.0
            for s in reversed(self.steps):
                s.backward(val, grad, saved)
            if not math.isfinite(grad[self.checked].dot(self.ones)):
                self._backward_carefully()
        return float(val[self.root_slot])

    def _diagnose_forward(self) -> None:
        """Raise the error of the first non-finite value: an input, a parameter, or the eager op's own error."""
        val = self.val
        leaves = val[: self.n_leaves]
        if not np.isfinite(leaves).all():
            bad = int(np.flatnonzero(~np.isfinite(leaves))[0])
            if bad < self.n_inputs:  # checked here, not before the run: the forward check covers them
                raise ValueError(
                    f"compile: input values must be finite; nan and inf would poison every gradient "
                    f"(input #{bad} is {val[bad]})"
                )
            raise ValueError(
                f"compile: a parameter's .data is {val[bad]} (parameter or constant "
                f"#{bad - self.param_start}); parameters must be finite"
            )
        for s in self.steps:
            s.diagnose(val)
        raise OpOverflowError("compile: the forward pass produced a non-finite value")  # pragma: no cover

    def _backward_carefully(self) -> None:
        """Backward again with eager's semantics checked step by step: a zero gradient times an
        infinite local derivative is 0 (eager skips it), and the first step whose share of a
        gradient is not finite raises naming its op, values and derivative."""
        val, grad, need = self.val, self.grad, self.need
        saved: list[Any] = []
        for s in self.steps:  # the saved operands were used up by the first pass
            s.forward(val, saved)
        grad.fill(0.0)
        grad[self.root_slot] += 1.0
        for s in reversed(self.steps):
            before = grad.copy()
            s.backward(val, grad, saved, careful=True)
            bad = np.flatnonzero(need & ~np.isfinite(grad))
            if bad.size:
                raise explain(s.shares(val, grad), before, int(bad[0]))
