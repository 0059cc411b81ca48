"""Errors raised by the engine: each names the op, the value and what is valid instead."""

from __future__ import annotations


class DomainError(ValueError):
    """An op was applied outside its mathematical domain (log of 0, sqrt of -1, ...)."""


class ZeroDivision(DomainError, ZeroDivisionError):
    """Division by zero, or zero raised to a negative power."""


class OpOverflowError(OverflowError):
    """An op's result is too large for a float64 (it would be inf)."""


class NonFiniteGradError(OpOverflowError):
    """A gradient turned inf or nan in ``backward()`` or ``grad()``: at an op whose local
    derivative is infinite there (sqrt at 0, 1/x at 1e-200), or whose product with the upstream
    gradient (or sum with the operand's gradient so far) is beyond float64.

    ``op`` (the op's node name), ``inputs`` (its operands' data), ``out`` (its result),
    ``position`` (which operand's derivative), ``local`` (∂out/∂operand) and ``upstream``
    (∂root/∂out) say where; the message says the same in words.
    """

    def __init__(
        self,
        message: str,
        *,
        op: str = "",
        inputs: tuple[float, ...] = (),
        out: float = 0.0,
        position: int = 0,
        local: float = 0.0,
        upstream: float = 0.0,
    ) -> None:
        super().__init__(message)
        self.op = op
        self.inputs = inputs
        self.out = out
        self.position = position
        self.local = local
        self.upstream = upstream


class GradcheckError(AssertionError):
    """Backprop and central differences disagree; the message holds one table row per mismatch."""

    def __init__(self, message: str, rows: list[tuple[int, float, float, float, float]]):
        super().__init__(message)
        self.rows = rows
