"""Which leaf is an input (new value each call), a parameter (read from ``.data``, given a gradient) or a constant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..node import is_leaf
from ..value import Value
from .trace import Trace


def check_root_and_inputs(root: Any, inputs: Sequence[Any]) -> list[Value]:
    """The inputs as a list, after checking that root is a Value and the inputs distinct leaves."""
    if not isinstance(root, Value):
        raise TypeError(f"compile: root must be a Value, got {type(root).__name__}")
    inputs = list(inputs)
    for k, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"compile: inputs[{k}] must be a Value, got {type(x).__name__}")
        if not is_leaf(x):
            raise ValueError(
                f"compile: inputs[{k}] ({x!r}) is computed by op {x.op!r}; inputs must be "
                "leaves (Values created from numbers)"
            )
    if len(set(inputs)) != len(inputs):
        raise ValueError("compile: inputs lists the same Value twice; list each input once")
    return inputs


def split_leaves(
    trace: Trace, inputs: Sequence[Value], parameters: Sequence[Any] | None
) -> tuple[list[Value], list[Value]]:
    """(parameters, constants) among the traced leaves that are not inputs.

    By default every such leaf is a parameter, as in eager ``backward()``.  An
    input the root does not depend on is allowed (its value is ignored, its
    gradient is 0), as in the eager engine.
    """
    input_set = set(inputs)
    leaves = [v for v in map(trace.order.__getitem__, trace.leaves) if v not in input_set]
    if parameters is None:
        return leaves, []
    params = list(parameters)
    for k, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"compile: parameters[{k}] must be a Value, got {type(p).__name__}")
    if len(set(params)) != len(params):
        raise ValueError("compile: parameters lists the same Value twice")
    both = [k for k, p in enumerate(params) if p in input_set]
    if both:
        raise ValueError(
            f"compile: parameters {both[:10]} are also listed in inputs; a leaf is "
            "either an input (new value each call) or a parameter (read from .data)"
        )
    absent = [k for k, p in enumerate(params) if p not in trace.index or not is_leaf(p)]
    if absent:
        names = [params[k].label or f"#{k}" for k in absent[:10]]
        raise ValueError(
            f"compile: {len(absent)} parameters are not leaves of the traced graph "
            f"(e.g. {names}); the traced code did not use them (a branch or dropout at trace "
            "time?), so the compiled function would silently give them no gradient. "
            "Trace with the code path that uses them, or leave them out of parameters="
        )
    pset = set(params)
    return params, [v for v in leaves if v not in pset]
