"""The errors a replay raises when a gradient turns non-finite, worded like the eager engine's."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import OpOverflowError

_OPERAND = ("x", "y")


def gradient_error(
    op: str, args: Sequence[float], out: float, position: int, local: float, g: float
) -> ArithmeticError:
    """A non-finite gradient passed from one node to operand ``position``: op, values, derivative."""
    shown = ", ".join(map(repr, args))
    wrt = _OPERAND[position] if len(args) <= 2 else f"operand {position}"
    return OpOverflowError(
        f"{op}: the gradient through {op}({shown}) = {out!r} is not finite: ∂/∂{wrt} = {local!r} times the "
        f"incoming gradient {g!r} gives {g * local!r}; scale the inputs or the loss down"
    )


def accumulation_error(op: str, total: float) -> ArithmeticError:
    """The contributions of a node's uses are finite but their sum is not."""
    return OpOverflowError(
        f"{op}: adding up the gradient of an operand of {op} used in several places gives {total!r}; "
        "scale the inputs or the loss down"
    )
