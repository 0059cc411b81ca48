"""Argument checks shared by all of ``nn``: numbers, ints, flags, seeds and parameter lists.

Every check takes ``where`` (the function or class a user called, e.g. ``"SGD"``)
first and, for a single argument, its ``name``; on bad input it raises an
error naming both, the value and what is expected, and on good input it returns
the value in its canonical form (``float``, ``int``, ``bool``, a random source,
a ``list`` of Values).

A value of the wrong kind (``"0.1"``, ``True`` for a number, ``None``) raises
``InputTypeError``, which is both a ``TypeError`` and a ``ValueError`` (as
numpy's ``AxisError`` is both a ``ValueError`` and an ``IndexError``): callers
catching either keep working.  A value of the right kind outside its range
(``-1``, ``nan``, ``10**400``) raises a plain ``ValueError``.  Messages read
``"SGD: lr must be > 0, got -1.0; typical values are 1e-3 to 1.0"`` (range),
``"SGD: lr must be a finite number > 0, got 'oops'"`` (kind, nan or inf); the
optional ``hint`` says what to do.

This module does not import numpy (``import nn`` stays light): numpy bools are
recognised only once numpy is loaded, and ``generator`` imports it on use.
"""

from __future__ import annotations

import math
import random
import sys
from numbers import Integral, Real
from typing import Any

from autograd import Value

__all__ = [
    "InputTypeError",
    "short_repr",
    "is_number",
    "is_scalar",
    "number",
    "integer",
    "flag",
    "random_source",
    "generator",
    "parameter_list",
]


class InputTypeError(TypeError, ValueError):
    """An argument of the wrong kind (a str or bool where a number belongs, ...)."""


def short_repr(x: Any, limit: int = 60) -> str:
    """``repr(x)`` cut to ``limit`` characters, so a 400-digit int or a long list keeps a message readable."""
    try:
        text = repr(x)
    except ValueError:  # a huge int beyond sys.get_int_max_str_digits
        return f"a {type(x).__name__} too large to print"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _got(x: Any) -> str:
    kind = type(x).__name__
    shown = short_repr(x)
    return shown if isinstance(x, (int, float, str)) and not isinstance(x, bool) else f"{kind} {shown}"


def _tail(hint: str) -> str:
    return f"; {hint}" if hint else ""


def _is_bool(x: Any) -> bool:
    if isinstance(x, bool):
        return True
    np = sys.modules.get("numpy")  # without numpy loaded there are no numpy bools (and `import nn` stays light)
    return np is not None and isinstance(x, np.bool_)


def is_number(x: Any) -> bool:
    """True for real numbers (int, float, numpy scalars, ...) but not bools: ``True`` is not a learning rate."""
    return isinstance(x, Real) and not isinstance(x, bool)  # numpy's bool_ is not a Real


def is_scalar(x: Any) -> bool:
    """True for a Value or a number (see ``is_number``): what ops accept as one operand."""
    return isinstance(x, Value) or is_number(x)


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def _in_range(x: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    if low is not None and (x < low or (low_open and x == low)):
        return False
    return not (high is not None and (x > high or (high_open and x == high)))


def number(
    where: str,
    name: str,
    x: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
    hint: str = "",
) -> float:
    """``x`` as a float, checked: a number (not a bool), never nan, finite unless ``finite=False``,
    and within ``low``/``high`` (inclusive, or exclusive with ``low_open``/``high_open``)."""
    bounds = _bounds(low, high, low_open, high_open)
    kind = f"a {'finite ' if finite else ''}number{bounds}"
    if not is_number(x):
        raise InputTypeError(f"{where}: {name} must be {kind}, got {_got(x)}{_tail(hint)}")
    try:
        value = float(x)
    except OverflowError:
        raise ValueError(f"{where}: {name} must be {kind}, got {_got(x)} (beyond float64){_tail(hint)}") from None
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{where}: {name} must be {kind}, got {_got(x)}{_tail(hint)}")
    if not _in_range(value, low, high, low_open, high_open):
        raise ValueError(f"{where}: {name} must be{bounds}, got {_got(x)}{_tail(hint)}")
    return value


def integer(where: str, name: str, x: Any, *, low: int | None = None, high: int | None = None, hint: str = "") -> int:
    """``x`` as an int, checked: an int or numpy integer (not a bool) within ``low``..``high`` inclusive."""
    if low == 1 and high is None:
        kind = "a positive int"
    else:
        kind = f"an int{_bounds(low, high, False, False)}"
    if not isinstance(x, Integral) or isinstance(x, bool):
        raise InputTypeError(f"{where}: {name} must be {kind}, got {_got(x)}{_tail(hint)}")
    value = int(x)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{where}: {name} must be {kind}, got {_got(x)}{_tail(hint)}")
    return value


def flag(where: str, name: str, x: Any) -> bool:
    """``x`` as a bool, checked: only True or False (numpy's too), so ``amsgrad="no"`` is not silently on."""
    if not _is_bool(x):
        raise InputTypeError(f"{where}: {name} must be True or False, got {_got(x)}")
    return bool(x)


def random_source(where: str, seed: Any) -> Any:
    """Python's random source for ``seed``: the global ``random`` module for None (micrograd's
    behaviour: ``random.seed(k)`` first reproduces its draws), ``random.Random(seed)`` for an int,
    a ``random.Random`` itself."""
    if seed is None or seed is random:
        return random
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, Integral) and not isinstance(seed, bool):
        return random.Random(int(seed))
    raise InputTypeError(f"{where}: seed must be an int, a random.Random or None, got {_got(seed)}")


def generator(where: str, seed: Any, *, legacy: bool = False) -> Any:
    """numpy's random source for ``seed``: ``default_rng(seed)`` for None or an int >= 0, a
    ``numpy.random.Generator`` itself, and with ``legacy=True`` a ``RandomState`` too (scikit-learn's)."""
    import numpy as np  # here, not at the top: `import nn` does not load numpy

    if isinstance(seed, np.random.Generator) or (legacy and isinstance(seed, np.random.RandomState)):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{where}: seed must be an int >= 0, got {_got(seed)}")
        return np.random.default_rng(int(seed))
    kinds = "a numpy Generator (or RandomState)" if legacy else "a numpy Generator"
    raise InputTypeError(f"{where}: seed must be an int >= 0, {kinds} or None, got {_got(seed)}")


def parameter_list(
    where: str, params: Any, *, allow_empty: bool = False, distinct: bool = True, leaves: bool = False
) -> list[Value]:
    """A model's parameters (anything with ``parameters()``) or an iterable of Values, as a list.

    Refuses a single Value, non-Values, an empty list (unless ``allow_empty``), a Value listed twice
    (unless ``distinct=False``) and, with ``leaves=True``, Values computed by an op (``w * 2``):
    an optimizer can only update the leaves themselves, as in torch."""
    if callable(getattr(params, "parameters", None)):
        params = params.parameters()  # a Module
    if isinstance(params, Value):
        raise InputTypeError(f"{where}: params must be a list of Values (e.g. model.parameters()), got one Value")
    if isinstance(params, (str, bytes)):
        raise InputTypeError(f"{where}: params must be a list of Values (e.g. model.parameters()), got {_got(params)}")
    try:
        ps = list(params)
    except TypeError:
        raise InputTypeError(
            f"{where}: params must be a model or a list of Values (e.g. model.parameters()), got {_got(params)}"
        ) from None
    if not ps and not allow_empty:
        raise ValueError(f"{where}: no parameters (an empty list); pass model.parameters()")
    seen: set[int] = set()
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise InputTypeError(f"{where}: params[{i}] must be a Value, got {_got(p)}")
        if leaves and not p.is_leaf:
            raise ValueError(
                f"{where}: params[{i}] ({p.label or 'unlabelled'}, {p.data!r}) was computed by the op {p.op!r}, "
                "so it is not a leaf and cannot be updated; pass the Values you created (model.parameters()), "
                "not expressions of them"
            )
        if distinct:
            if id(p) in seen:
                raise ValueError(
                    f"{where}: params[{i}] ({p.label or 'unlabelled'}) appears twice; list each parameter once"
                )
            seen.add(id(p))
    return ps
