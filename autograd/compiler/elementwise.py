"""Replay of one elementwise group: ``out = f(x[, y])`` forward, its local derivatives backward."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import OpOverflowError
from ..ops import Arrays, Op
from .diagnose import Share
from .index import Flags, Floats, Index


class ElemGroup:
    """Nodes of one elementwise op at one level, computed with one numpy kernel call."""

    __slots__ = ("kernel", "op", "out", "args", "n", "libm_forward", "libm_local", "active")

    def __init__(self, kernel: Arrays, out: slice, args: list[Index], exact: bool) -> None:
        assert kernel.op is not None and kernel.scalar is not None, "kernel not made by Op.arrays()"
        self.kernel = kernel  # the op's numpy facet from the registry
        self.op: Op = kernel.op
        self.out = out  # the group's output slots
        self.args = args  # one index per operand
        self.n = out.stop - out.start
        self.libm_forward = exact and kernel.libm_forward
        self.libm_local = exact and kernel.libm_local
        self.active = True  # does any output need a gradient? (set by mark_needed)

    def bind(self, val: Floats, grad: Floats) -> None:
        """Make the operand views into the slot arrays."""
        for a in self.args:
            a.bind(val, grad)

    def mark_needed(self, need: Flags) -> None:
        """A node needs a gradient when one of its operands does; skip the rest in backward."""
        flags = [a.mark_needed(need) for a in self.args]
        need[self.out] = np.logical_or.reduce(flags)
        self.active = bool(need[self.out].any())

    def forward(self, val: Floats, saved: list[Any]) -> None:
        """Compute the outputs; push the operand arrays for backward."""
        xs = [a.gather(val) for a in self.args]
        k = self.kernel
        out = k.forward(*xs)
        if k.invalid is not None:
            bad = k.invalid(*xs)
            if bad.any():  # finite in numpy, an error in the eager engine: let diagnose() raise it
                out = np.where(bad, math.nan, out)
        if self.libm_forward and np.isfinite(out).all():
            # Valid everywhere: the eager op's own float rule, element by element.
            if k.exact_forward is not None:
                out = k.exact_forward(*xs)
            else:
                out = np.fromiter(k.scalar(*[x.tolist() for x in xs]), np.float64, self.n)  # type: ignore[misc]
        val[self.out] = out
        saved.append(xs)

    def _locals(self, xs: list[Floats], out: Floats) -> tuple[Any, ...]:
        """∂out/∂operand for each operand: an array, or one number for the whole group."""
        k = self.kernel
        if self.libm_local and k.exact_local is not None:
            return (k.exact_local(*xs, out),)
        if self.libm_local:
            rows = list(map(self.op.local, *[x.tolist() for x in xs], out.tolist()))
            table = np.array(rows, dtype=np.float64).reshape(self.n, k.arity)
            return tuple(table[:, j] for j in range(k.arity))
        local = k.local(*xs, out)
        return (local,) if k.arity == 1 else tuple(local)

    def backward(self, val: Floats, grad: Floats, saved: list[Any], careful: bool = False) -> None:
        """Add each operand's share of the outputs' gradient."""
        xs = saved.pop()
        if not self.active:
            return
        g = grad[self.out]
        mask = careful or self.kernel.infinite_local
        for a, d in zip(self.args, self._locals(xs, val[self.out])):
            if not a.needed:
                continue
            if isinstance(d, float):  # written out: this loop runs for every group on every call
                a.scatter_add(grad, g if d == 1.0 else g * d)
            else:
                a.scatter_add(grad, np.where(g == 0.0, 0.0, g * d) if mask else g * d)

    def _operands_at(self, val: Floats) -> list[Floats]:
        return [np.broadcast_to(a.gather(val), (self.n,)) for a in self.args]

    def diagnose(self, val: Floats) -> None:
        """Raise the eager op's error for the first element the eager engine rejects."""
        xs = self._operands_at(val)
        bad = ~np.isfinite(val[self.out])
        if self.kernel.invalid is not None:
            bad |= self.kernel.invalid(*xs)
        if not bad.any():
            return
        i = int(np.flatnonzero(bad)[0])
        args = tuple(float(x[i]) for x in xs)
        op = self.op
        z = op.forward(*args)  # raises the eager engine's error for a domain error
        raise OpOverflowError(
            f"{op.name}: the result of {op.name}({', '.join(map(repr, args))}) is {z}, beyond float64; "
            "scale the inputs down"
        )

    def shares(self, val: Floats, grad: Floats) -> list[Share]:
        """What each operand receives in a careful backward, node by node (for error messages)."""
        xs = self._operands_at(val)
        out, g = val[self.out], grad[self.out]
        inputs = np.stack(xs, axis=1)
        result = []
        for position, (a, d) in enumerate(zip(self.args, self._locals(xs, out))):
            if a.needed:
                local = np.broadcast_to(np.asarray(d, dtype=np.float64), (self.n,))
                share = np.where(g == 0.0, 0.0, g * local)
                slots = np.broadcast_to(a.idx, (self.n,))
                result.append(Share(self.op, position, slots, inputs, out, local, g, share))
        return result

    def describe(self) -> str:
        """The op, for messages."""
        return self.op.name

    @property
    def nbytes(self) -> int:
        """Bytes held by the index arrays."""
        return sum(a.nbytes for a in self.args)
