"""Where a group reads (gather) and adds (scatter) its operands in the slot arrays."""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Slots = NDArray[np.intp]
Flags = NDArray[np.bool_]


class Access(Enum):
    """How an index array reaches its slots."""

    TAKE = "take"  # fancy indexing (scatter with bincount when a slot repeats)
    SLICE = "slice"  # a contiguous range in row-major order: a view
    SLICE_T = "slice_t"  # a contiguous range in column-major order: a transposed view


def range_start(flat: Slots) -> int | None:
    """``s`` when ``flat`` is exactly ``s, s+1, ..., s+len-1``, else None."""
    if flat.size == 0:
        return None
    s = int(flat[0])
    if flat[-1] - s != flat.size - 1:
        return None
    if flat.size > 1 and not np.array_equal(flat, np.arange(s, s + flat.size)):
        return None
    return s


class Index:
    """One array of slots (1-d per node, or 2-d: a row of operand slots per node).

    Built once: a slice view when the slots are a contiguous range (row- or
    column-major), a plain fancy index when they are unique, and a
    de-duplicated ``bincount`` scatter when a slot repeats (a weight shared by
    many nodes), so repeated updates are summed, not lost.
    """

    __slots__ = ("idx", "shape", "access", "start", "uniq", "inverse", "val_view", "grad_view", "needed")

    def __init__(self, idx: Any) -> None:
        self.idx: Slots = np.ascontiguousarray(idx, dtype=np.intp)
        self.shape = self.idx.shape
        self.access = Access.TAKE
        self.start = 0
        self.uniq: Slots | None = None
        self.inverse: Slots | None = None
        self.val_view: Floats | None = None
        self.grad_view: Floats | None = None
        self.needed = True  # does any slot read here need a gradient? (set by mark_needed)
        flat = self.idx.ravel()
        s = range_start(flat)
        s_t = range_start(self.idx.T.ravel()) if s is None and self.idx.ndim == 2 else None
        if s is not None:
            self.access, self.start = Access.SLICE, s
        elif s_t is not None:
            self.access, self.start = Access.SLICE_T, s_t
        else:
            uniq, inverse = np.unique(flat, return_inverse=True)
            if uniq.size != flat.size:
                self.uniq, self.inverse = uniq, inverse.ravel()

    def bind(self, val: Floats, grad: Floats) -> None:
        """Make the views into the (persistent) slot arrays."""
        n, s = self.idx.size, self.start
        if self.access is Access.SLICE:
            self.val_view = val[s : s + n].reshape(self.shape)
            self.grad_view = grad[s : s + n].reshape(self.shape)
        elif self.access is Access.SLICE_T:
            rows, cols = self.shape
            self.val_view = val[s : s + n].reshape(cols, rows).T
            self.grad_view = grad[s : s + n].reshape(cols, rows).T

    def mark_needed(self, need: Flags) -> Flags:
        """Record whether any of these slots needs a gradient; return the per-row flags."""
        flags = need[self.idx]
        self.needed = bool(flags.any())
        return flags if flags.ndim == 1 else np.logical_or.reduce(flags, axis=1)

    def gather(self, val: Floats) -> Floats:
        """The values at these slots, shaped like the index."""
        v = self.val_view
        return val.take(self.idx) if v is None else v

    def scatter_add(self, grad: Floats, x: Any) -> None:
        """Add ``x`` (broadcast to the index's shape) to the gradients at these slots."""
        v = self.grad_view
        if v is not None:
            v += x
        elif self.uniq is None:
            grad[self.idx] += x
        else:
            w = np.broadcast_to(x, self.shape).ravel()
            grad[self.uniq] += np.bincount(self.inverse, weights=w, minlength=self.uniq.size)  # type: ignore[arg-type]

    @property
    def nbytes(self) -> int:
        """Bytes held by the index arrays."""
        extra = 0 if self.uniq is None or self.inverse is None else self.uniq.nbytes + self.inverse.nbytes
        return self.idx.nbytes + extra
