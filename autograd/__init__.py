"""deltaw's engine: scalar ``Value`` graphs, reverse-mode backprop, higher-order
gradients and gradient checks.  Standard library only."""

from .backward import backward, grad, topological_order, zero_grad
from .check import gradcheck, numerical_grad
from .errors import DomainError, GradcheckError, OpOverflowError, ZeroDivision
from .mode import enable_grad, is_grad_enabled, no_grad
from .ops import TABLE as OPS
from .value import Value, dot, vsum

__all__ = [
    "Value", "dot", "vsum", "backward", "grad", "zero_grad", "topological_order",
    "no_grad", "enable_grad", "is_grad_enabled", "numerical_grad", "gradcheck",
    "GradcheckError", "DomainError", "ZeroDivision", "OpOverflowError", "OPS",
]
