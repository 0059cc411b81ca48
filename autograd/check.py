"""Check backprop against central differences: ``numerical_grad`` and ``gradcheck``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from .backward import grad
from .errors import GradcheckError
from .value import Value

Function = Callable[..., "Value | float"]


def _point(xs: Sequence[Any], where: str) -> list[float]:
    """The point as floats: each entry a number or a ``Value`` (its ``.data``)."""
    point = []
    for i, x in enumerate(xs):
        if isinstance(x, Value):
            point.append(x.data)
        elif isinstance(x, Real) and not isinstance(x, bool):
            point.append(float(x))
        else:
            raise TypeError(f"{where}: xs[{i}] must be a number or a Value, got {type(x).__name__} {x!r}")
    return point


def _call(f: Function, xs: Sequence[float]) -> float:
    out = f(*[Value(x) for x in xs])
    if isinstance(out, Value):
        return out.data
    try:
        return float(out)
    except (TypeError, ValueError):
        raise TypeError(f"numerical_grad: f must return a Value or a number, got {type(out).__name__}") from None


def numerical_grad(f: Function, xs: Sequence[float | Value], eps: float = 1e-6) -> list[float]:
    """Central differences (f(x + eps·eᵢ) − f(x − eps·eᵢ)) / 2eps for each input i.

    ``xs`` holds numbers or ``Value``s (their ``.data`` is the point).  ``f`` is called as
    ``f(*values)`` with one new ``Value`` per entry of ``xs``.
    """
    if not eps > 0:
        raise ValueError(f"numerical_grad: eps must be > 0, got {eps!r}")
    point = _point(xs, "numerical_grad")
    result = []
    # Graphs are recorded (no no_grad here) so that f may itself differentiate, e.g. a
    # derivative computed with grad(create_graph=True) checked against its own central difference.
    for i in range(len(point)):
        up = point.copy()
        down = point.copy()
        up[i] += eps
        down[i] -= eps
        result.append((_call(f, up) - _call(f, down)) / (2 * eps))
    return result


def gradcheck(
    f: Function, xs: Sequence[float | Value], eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """True when backprop's ∂f/∂xᵢ agrees with central differences for every i:
    |analytic − numerical| <= atol + rtol·|numerical|.  Otherwise raises
    ``GradcheckError`` whose message is a table of every mismatch.  ``xs`` holds numbers or
    ``Value``s (checked at their ``.data``; their ``.grad`` is not touched)."""
    point = _point(xs, "gradcheck")
    values = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    analytic = grad(out, values)
    numeric = numerical_grad(f, point, eps)
    rows = []
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        err = abs(a - n)
        if not err <= atol + rtol * abs(n):
            rows.append((i, a, n, err, err / abs(n) if n else float("inf")))
    if rows:
        lines = [
            f"gradcheck: {len(rows)} of {len(xs)} derivatives disagree "
            f"(atol={atol:g}, rtol={rtol:g}, eps={eps:g}) at xs={point}",
            f"{'input':>5} {'analytic':>16} {'numerical':>16} {'abs err':>12} {'rel err':>12}",
        ]
        lines += [f"{i:>5} {a:>16.9g} {n:>16.9g} {e:>12.3g} {r:>12.3g}" for i, a, n, e, r in rows]
        raise GradcheckError("\n".join(lines), rows)
    return True
