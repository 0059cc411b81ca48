"""deltaw's engine: scalar ``Value`` graphs, reverse-mode backprop, higher-order
gradients and gradient checks.  Standard library only."""

from typing import Any

from .backward import backward, grad, topological_order, zero_grad
from .check import gradcheck, numerical_grad
from .errors import DomainError, GradcheckError, NonFiniteGradError, OpOverflowError, ZeroDivision
from .functions import max_of, maximum, min_of, minimum
from .mode import enable_grad, is_grad_enabled, no_grad
from .ops import TABLE as OPS
from .value import Value, dot, matvec, vsum


def __getattr__(name: str) -> Any:
    # autograd.compile lives in autograd.compiler and loads numpy, so it is imported on first use:
    # `import autograd` stays standard-library only.
    if name == "compile":
        from .compiler import compile

        globals()["compile"] = compile
        return compile
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")


__all__ = [
    "Value",
    "dot",
    "matvec",
    "vsum",
    "maximum",
    "minimum",
    "max_of",
    "min_of",
    "backward",
    "grad",
    "zero_grad",
    "topological_order",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "numerical_grad",
    "gradcheck",
    "GradcheckError",
    "DomainError",
    "ZeroDivision",
    "OpOverflowError",
    "NonFiniteGradError",
    "OPS",
]
