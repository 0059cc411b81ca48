"""``ArrayBinding``: an optimizer working on a compiled graph's parameter and gradient arrays.

After ``opt.bind(values, grads, params)`` (usually through ``fn.bind(opt)``,
where ``fn = autograd.compile(...)``), ``values[i]`` and ``grads[i]`` *are*
``params[i]``'s weight and gradient: ``opt.step()`` updates ``values`` in
place with the optimizer's own ``_update`` formulas, ``opt.zero_grad()``
zeroes ``grads``, and no ``Value`` is read or written.  The ``Value``s fall
behind until ``sync()`` writes ``.data`` and ``.grad`` back; ``reload()`` reads
them into the arrays again after someone changed them, and ``changed()`` says
cheaply whether anyone did (a write rebinds a slot to another float).
``fit(compile=True)`` syncs before a callback that may touch the Values and when
it ends (or fails), and reloads only when a callback rebound a weight.

Each parameter group is a set of positions in the arrays; its state vectors
(momentum, Adam's moments, ...) are kept in the arrays' order while bound, so
a group whose parameters fill a contiguous run of positions (the usual case:
one group holding every parameter) updates a slice (a view: nothing gathered
or scattered).  The optimizer's state in its own (group) order is rebuilt on
demand (``state_dict``, ``state``).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value

__all__ = ["ArrayBinding", "GroupSlots", "bound_to"]

#: the active bindings, so that code reading ``.grad`` directly (clip_grad_norm) can refuse stale Values
_ACTIVE: weakref.WeakSet[ArrayBinding] = weakref.WeakSet()


def bound_to(p: Value) -> ArrayBinding | None:
    """The active binding whose arrays hold ``p``'s weight and gradient, if any."""
    return next((b for b in _ACTIVE if b.active and id(p) in b.position), None)


class GroupSlots:
    """Where one parameter group lives in the bound arrays.

    ``where``: a slice (the group fills positions lo..hi in some order) or an
    index array, both in ascending array order; ``rank[j]`` is the group's
    j-th parameter's place in that order (group order -> array order)."""

    def __init__(self, positions: np.ndarray) -> None:
        order = np.sort(positions)
        lo = int(order[0]) if order.size else 0
        contiguous = order.size == 0 or int(order[-1]) - lo + 1 == order.size
        self.where: slice | np.ndarray = slice(lo, lo + order.size) if contiguous else order
        self.rank = positions - lo if contiguous else np.searchsorted(order, positions)
        self.positions = positions
        self.size = order.size
        self.ones = np.ones(self.size)

    def to_array_order(self, vector: np.ndarray) -> np.ndarray:
        """A group-order state vector rearranged into array order."""
        out = np.empty(self.size)
        out[self.rank] = vector
        return out

    def to_group_order(self, vector: np.ndarray) -> np.ndarray:
        """An array-order vector in group order (the optimizer's own order)."""
        return vector[self.rank]


class ArrayBinding:
    """The arrays an optimizer updates instead of its parameters' Values (see the module docstring)."""

    def __init__(
        self, groups: Sequence[Sequence[Value]], values: np.ndarray, grads: np.ndarray, params: Sequence[Value]
    ):
        where = "Optimizer.bind"
        for name, arr in (("values", values), ("grads", grads)):
            if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.shape != (len(params),):
                raise ValueError(
                    f"{where}: {name} must be a float64 numpy vector of {len(params)} entries (one per parameter), "
                    f"got {getattr(arr, 'dtype', type(arr).__name__)} of shape {getattr(arr, 'shape', '?')}"
                )
        position = {id(p): i for i, p in enumerate(params)}
        if len(position) != len(params):
            raise ValueError(f"{where}: params lists a Value twice; each array entry belongs to one parameter")
        self.values, self.grads, self.params = values, grads, list(params)
        self.position = position
        self.groups: list[GroupSlots] = []
        for gi, ps in enumerate(groups):
            missing = [j for j, p in enumerate(ps) if id(p) not in position]
            if missing:
                p = ps[missing[0]]
                raise ValueError(
                    f"{where}: param_groups[{gi}]['params'][{missing[0]}] ({p.label or 'unlabelled'}) is not in the "
                    f"arrays ({len(missing)} of the group's parameters are not); bind arrays that hold every "
                    "parameter the optimizer updates (e.g. compile with parameters=opt.params)"
                )
            self.groups.append(GroupSlots(np.array([position[id(p)] for p in ps], dtype=np.intp)))
        #: each parameter's entry in ``delta``, in the optimizer's order (group after group)
        self.delta_positions = (
            np.concatenate([s.positions for s in self.groups]) if self.groups else np.empty(0, np.intp)
        )
        #: whether the optimizer updates every entry of the arrays
        self.covers_all = self.delta_positions.size == len(self.params)
        #: True when every bound gradient is 0 (after zero_grad): a call need not keep the old ones
        self.grads_zero = False
        #: per group, the state in array order ({"step": t, name: vector}); {} before the first step
        self.state: list[dict[str, Any]] = []
        #: the last step's Δw per array position (0 for a parameter no group updates), or None
        self.delta: np.ndarray | None = None
        #: True while the Values hold what the arrays hold (nothing changed since sync/reload)
        self.in_sync = True
        #: False once the optimizer is unbound: the arrays' owner then reads the Values again
        self.active = False
        #: the float lists the last sync/reload left in the Values' .data and .grad (see ``changed``)
        self._written: tuple[list[float], list[float]] | None = None

    def activate(self, group_states: Sequence[dict[str, Any]]) -> None:
        """Load the Values and the optimizer's state into the arrays and start serving them."""
        self.reload()
        self.load_state(group_states)
        self.active = True
        _ACTIVE.add(self)

    # ---- state, both orders ------------------------------------------------------------
    def load_state(self, group_states: Sequence[dict[str, Any]]) -> None:
        """Take the optimizer's group-order state (at bind and after load_state_dict)."""
        self.state = [
            {k: (v if k == "step" else slots.to_array_order(v)) for k, v in st.items()}
            for slots, st in zip(self.groups, group_states)
        ]

    def group_states(self) -> list[dict[str, Any]]:
        """The state in the optimizer's group order."""
        return [
            {k: (v if k == "step" else slots.to_group_order(v)) for k, v in st.items()}
            for slots, st in zip(self.groups, self.state)
        ]

    # ---- Values <-> arrays -------------------------------------------------------------
    def sync(self) -> None:
        """Write every bound parameter's ``.data`` and ``.grad`` from the arrays."""
        if self.in_sync:
            return
        values, grads = self.values.tolist(), self.grads.tolist()
        for p, w, g in zip(self.params, values, grads):
            p.data = w
            p.grad = g
        self._written = values, grads
        self.in_sync = True

    def reload(self) -> None:
        """Read every bound parameter's ``.data`` and ``.grad`` into the arrays (after someone changed them)."""
        n = len(self.params)
        data, grad = [p.data for p in self.params], [p.grad for p in self.params]
        values = np.fromiter(data, np.float64, n)
        grads = np.fromiter(grad, np.float64, n)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            p = self.params[int(bad[0])]
            raise ValueError(
                f"Optimizer.reload: parameter {p.label or 'unlabelled'} has .data {p.data!r}; parameters must be finite"
            )
        self.values[:] = values
        self.grads[:] = grads
        self._written = data, grad
        self.in_sync = True
        self.grads_zero = False

    def changed(self) -> bool:
        """Whether a bound parameter's ``.data`` (or ``.grad``, see below) differs from what the last
        ``sync``/``reload`` left there, so the arrays must be reloaded; only meaningful while ``in_sync``.

        Costs one read per parameter: a write rebinds the slot to another float, and comparing the lists
        is an identity test per entry (an equal float counts as unchanged: the arrays hold that number,
        except for a zero whose sign flipped, checked apart).  Gradients are compared only when the
        optimizer does not zero every one of them: a ``zero_grad`` clears a written gradient before
        any step reads it, in eager training too."""
        if self._written is None:
            return True
        values, grads = self._written
        now = [p.data for p in self.params]  # a comprehension: faster than map(attrgetter) here
        if now != values or any(math.copysign(1.0, now[i]) != math.copysign(1.0, values[i]) for i in self._zeros()):
            return True
        return not self.covers_all and [p.grad for p in self.params] != grads

    def _zeros(self) -> list[int]:
        """The positions whose synced weight is ±0.0 (where equal floats may still differ in sign)."""
        return np.flatnonzero(self.values == 0.0).tolist()

    def zero_grad(self) -> None:
        """Zero the optimizer's parameters' bound gradients, as ``opt.zero_grad()`` zeroes their ``.grad``
        (a parameter the optimizer does not update keeps accumulating, as in eager training)."""
        if self.covers_all:
            self.grads.fill(0.0)
            self.grads_zero = True  # the next call can write its gradients instead of adding them
        else:
            self.grads[self.delta_positions] = 0.0
        self.in_sync = False

    # ---- one group's step --------------------------------------------------------------
    def read(self, gi: int) -> tuple[np.ndarray, np.ndarray]:
        """(weights, gradients) of group ``gi`` in array order: views when the group is contiguous."""
        where = self.groups[gi].where
        return self.values[where], self.grads[where]

    def first_bad(self, gi: int, x: np.ndarray) -> tuple[int, float] | None:
        """The group's first parameter (in group order) whose entry of the array-order vector ``x``
        is not finite, with that entry; or None.  One BLAS dot checks all (a sum that overflows
        only costs the exact check)."""
        slots = self.groups[gi]
        with np.errstate(invalid="ignore", over="ignore"):
            total = x.dot(slots.ones)
        if math.isfinite(total):
            return None
        bad = np.flatnonzero(~np.isfinite(x))
        if not bad.size:
            return None
        inverse = np.empty(slots.size, np.intp)
        inverse[slots.rank] = np.arange(slots.size)
        j = int(inverse[bad].min())
        return j, float(x[slots.rank[j]])

    def write(self, gi: int, old: np.ndarray, new: np.ndarray, state: dict[str, Any]) -> None:
        """Commit group ``gi``'s update: record Δw = new − old, then store the new weights and state."""
        slots = self.groups[gi]
        if self.delta is None:
            self.delta = np.zeros(self.values.size)
        self.delta[slots.where] = new - old
        self.values[slots.where] = new
        self.state[gi] = state
        self.in_sync = False
