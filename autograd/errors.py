"""Errors raised by the engine: each names the op, the value and what is valid instead."""

from __future__ import annotations


class DomainError(ValueError):
    """An op was applied outside its mathematical domain (log of 0, sqrt of -1, ...)."""


class ZeroDivision(DomainError, ZeroDivisionError):
    """Division by zero, or zero raised to a negative power."""


class OpOverflowError(OverflowError):
    """An op's result is too large for a float64 (it would be inf)."""


class GradcheckError(AssertionError):
    """Backprop and central differences disagree; the message holds one table row per mismatch."""

    def __init__(self, message: str, rows: list[tuple[int, float, float, float, float]]):
        super().__init__(message)
        self.rows = rows
