"""The registry's types: ``Op`` (what a node stores), ``Entry`` (one row: an op or a family of
ops with a number parameter), and their facets ``Arg`` (domain), ``Text`` (explain) and
``Arrays`` (numpy kernels).  The rows themselves are in ``table.py``; the lookups are at the end.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["Arg", "Text", "Arrays", "Op", "Entry", "register", "entries", "entry", "by_cli_name", "activations"]


class Arg(NamedTuple):
    """Where one operand of an op is smooth (the domain facet; hypothesis strategies read it).

    ``low``: the operand must be > ``low`` (log, sqrt, fractional powers: 0; log1p: −1); strategies
    build it as ``low + u*u + 0.25``.  ``kinks``: points where the op is not differentiable (relu at
    0).  ``poles``: points where the op or its derivative is infinite (1/x at 0).  ``tie``: the op
    is not differentiable where this operand equals another one (max, min).  Points are kept
    ``margin`` away from kinks, poles and ties.
    """

    low: float | None = None
    kinks: tuple[float, ...] = ()
    poles: tuple[float, ...] = ()
    tie: bool = False

    @property
    def positive(self) -> bool:
        """True when the operand must be > 0 (``low == 0``)."""
        return self.low == 0.0

    def smooth_at(self, x: float, margin: float, others: Sequence[float] = ()) -> bool:
        """True when ``x`` is in this operand's domain and ``margin`` away from every kink and pole
        (and, for a ``tie`` operand, from each of the op's ``others`` operands)."""
        if self.low is not None and not x > self.low:
            return False
        if self.tie and any(abs(x - o) < margin for o in others):
            return False
        return all(abs(x - p) >= margin for p in self.kinks + self.poles)


ANY = Arg()


class Text:
    """An op's formula and each local derivative as text, for ``explain`` and the docs.

    Templates use ``{x}`` and ``{y}`` for the operands and ``{z}`` for the result (a number
    parameter is already written in).  N-ary ops give functions instead:
    ``formula(names) -> str`` and ``derivative(pos, names, z) -> str``.
    """

    __slots__ = ("_formula", "_derivatives")

    def __init__(
        self,
        formula: str | Callable[[Sequence[str]], str],
        derivatives: Sequence[str] | Callable[[int, Sequence[str], str], str],
    ) -> None:
        self._formula = formula
        self._derivatives = derivatives

    def formula(self, names: Sequence[str], z: str = "z") -> str:
        """The op applied to operands called ``names``, e.g. ``tanh(w)`` or ``w * x``."""
        f = self._formula
        if callable(f):
            return f(names)
        return f.format(x=names[0], y=names[-1], z=z)

    def derivative(self, pos: int, names: Sequence[str], z: str = "z") -> str:
        """∂z/∂(operand ``pos``) as text, e.g. ``1 − z²``; ``names[pos]`` is that operand."""
        d = self._derivatives
        if callable(d):
            return d(pos, names, z)
        return d[pos].format(x=names[0], y=names[-1], z=z)


class Arrays:
    """The numpy form of one op on float64 arrays, with the eager op's conventions (for compile,
    plots and nn).

    ``forward(*xs)``: the result array.  ``local(*xs, out)``: ∂out/∂xᵢ, one array (or number) per
    operand (a unary op returns it bare).  ``infinite_local``: the derivative can be inf (sqrt at
    0): eager backward skips nodes whose gradient is 0, so 0·inf must count as 0.  ``invalid(*xs)``:
    a mask of inputs numpy computes finitely but the eager op refuses.  numpy's SIMD ``tanh``,
    ``exp``, ``log``, ``power`` differ from the C library in the last bit on a few percent of
    inputs: ``libm_forward`` / ``libm_local`` mark ops whose exact mode maps the eager float rule
    over the elements (``scalar(*lists)``, default ``map(op.forward, *lists)`` on valid inputs),
    or uses ``exact_forward`` / ``exact_local`` (numpy arithmetic, exact in IEEE, around libm maps).
    """

    __slots__ = (
        "op",
        "arity",
        "forward",
        "local",
        "infinite_local",
        "invalid",
        "libm_forward",
        "libm_local",
        "scalar",
        "exact_forward",
        "exact_local",
    )

    def __init__(
        self,
        forward: Callable[..., Any],
        local: Callable[..., Any],
        *,
        infinite_local: bool = False,
        invalid: Callable[..., Any] | None = None,
        libm_forward: bool = False,
        libm_local: bool = False,
        scalar: Callable[..., Any] | None = None,
        exact_forward: Callable[..., Any] | None = None,
        exact_local: Callable[..., Any] | None = None,
    ) -> None:
        self.op: Op | None = None  # set by Op.arrays()
        self.arity = 0
        self.forward = forward
        self.local = local
        self.infinite_local = infinite_local
        self.invalid = invalid
        self.libm_forward = libm_forward
        self.libm_local = libm_local
        self.scalar = scalar
        self.exact_forward = exact_forward
        self.exact_local = exact_local


#: ``arrays(np) -> Arrays``: builds the numpy facet, given the numpy module (imported on first use).
ArraysMaker = Callable[[Any], Arrays]


class Op:
    """One op as a node stores it: a name, the forward rule and the local derivatives, plus the
    facets of its registry entry with any number parameter filled in.

    ``forward(*floats) -> float`` raises a clear error outside the op's domain.
    ``local(*inputs, out) -> tuple`` gives ∂out/∂input for each input; written once with ordinary
    arithmetic, it runs on floats (stored on the node at forward time) and on ``Value``s
    (``grad(create_graph=True)``).  N-ary ops (arity 0) take their inputs as one sequence.
    """

    __slots__ = ("name", "arity", "forward", "local", "param", "text", "domain", "entry", "_make_arrays", "_arrays")

    def __init__(
        self,
        name: str,
        arity: int,
        forward: Callable[..., float],
        local: Callable[..., tuple[Any, ...]],
        *,
        text: Text,
        domain: tuple[Arg, ...],
        arrays: ArraysMaker,
        param: float | None = None,
    ) -> None:
        self.name = name
        self.arity = arity  # 1, 2, or 0 for n-ary (inputs passed as one sequence)
        self.forward = forward
        self.local = local
        self.param = param  # the number a family member was built with (x**n, c**x, leaky slope)
        self.text = text
        self.domain = domain  # one Arg per operand (n-ary: one Arg for all)
        self.entry: Entry | None = None  # set by the entry that made it
        self._make_arrays = arrays
        self._arrays: Arrays | None = None

    def arrays(self) -> Arrays:
        """The numpy facet (imports numpy the first time; cached per op)."""
        a = self._arrays
        if a is None:
            a = self._make_arrays(importlib.import_module("numpy"))
            a.op = self
            a.arity = self.arity
            if a.scalar is None:
                a.scalar = lambda *lists: map(self.forward, *lists)
            self._arrays = a
        return a

    def arg(self, pos: int) -> Arg:
        """The domain of operand ``pos``."""
        return self.domain[0] if self.arity == 0 else self.domain[pos]

    def smooth_at(self, xs: Sequence[float], margin: float) -> bool:
        """True when every operand of ``xs`` is ``margin`` inside its domain (``Arg.smooth_at``,
        ties measured against the other operands)."""
        return all(self.arg(i).smooth_at(x, margin, [o for j, o in enumerate(xs) if j != i]) for i, x in enumerate(xs))

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


class Entry:
    """One row of the registry: a fixed op, or a family of ops with a number parameter.

    ``key``: the row's name (a fixed op's node name, or ``"**n"``, ``"c**x"``, ``"leaky_relu"``).
    ``method``: the ``Value`` method that applies it (``"tanh"``, ``"__add__"``, ...), generated
    from the row for unary ops.  ``cli``: the function name an expression on the command line
    may call (None for operators), with ``cli_arity`` = (fewest, most) arguments (the number
    parameter is the optional second).  ``activation``: usable by name as an ``nn`` activation
    (``MLP(..., activation=NAME)``).  ``doc``: one line for the method's docstring.  A family
    builds its ops with ``op(param)``, has ``default`` and ``param_name`` (the method's optional
    argument, e.g. ``slope=0.01``) and
    ``samples`` (parameters the strategies and facet tests exercise); a fixed op has ``fixed``.
    """

    __slots__ = (
        "key",
        "arity",
        "method",
        "cli",
        "cli_arity",
        "activation",
        "doc",
        "fixed",
        "make",
        "default",
        "param_name",
        "samples",
    )

    def __init__(
        self,
        key: str,
        *,
        op: Op | None = None,
        make: Callable[[float], Op] | None = None,
        method: str | None = None,
        cli: str | None = None,
        activation: bool = False,
        doc: str = "",
        default: float | None = None,
        param_name: str = "param",
        samples: tuple[float, ...] = (),
    ) -> None:
        if (op is None) == (make is None):
            raise TypeError(f"registry entry {key!r}: give exactly one of op= (a fixed op) or make= (a family)")
        self.key = key
        self.fixed = op
        self.make = make
        self.method = method
        self.cli = cli
        self.activation = activation
        self.doc = doc
        self.default = default
        self.param_name = param_name
        self.samples = samples
        if op is not None:
            op.entry = self
            self.arity = op.arity
        else:
            assert make is not None
            self.arity = make(samples[0] if samples else 1.0).arity
        optional = 1 if make is not None and default is not None else 0
        self.cli_arity = (self.arity, self.arity + optional) if cli is not None else (0, 0)

    @property
    def is_family(self) -> bool:
        """True for a row with a number parameter (``**n``, ``c**x``, ``leaky_relu``)."""
        return self.make is not None

    def op(self, param: float | None = None) -> Op:
        """The node op: the fixed op, or the family's op for ``param`` (its default when None)."""
        if self.fixed is not None:
            if param is not None:
                raise TypeError(f"{self.key}: this op takes no number parameter, got {param!r}")
            return self.fixed
        p = self.default if param is None else param
        if p is None:
            raise TypeError(f"{self.key}: this family needs a number parameter")
        assert self.make is not None
        op = self.make(float(p))
        op.entry = self
        return op

    def ops(self) -> list[Op]:
        """The fixed op, or one op per sample parameter: what tests and strategies exercise."""
        return [self.fixed] if self.fixed is not None else [self.op(p) for p in self.samples]

    def __repr__(self) -> str:
        return f"Entry({self.key!r})"


_ENTRIES: dict[str, Entry] = {}


def register(row: Entry) -> Entry:
    """Add a row to the registry (its key, method and CLI name must be new)."""
    for other in _ENTRIES.values():
        clash = (row.key == other.key) or (row.method is not None and row.method == other.method)
        if clash or (row.cli is not None and row.cli == other.cli):
            raise ValueError(f"registry: {row.key!r} clashes with {other.key!r}")
    _ENTRIES[row.key] = row
    return row


def entries() -> list[Entry]:
    """Every row, in registration order."""
    return list(_ENTRIES.values())


def entry(key: str) -> Entry:
    """The row called ``key`` (``"tanh"``, ``"**n"``, ``"leaky_relu"``, ``"+"``, ...)."""
    try:
        return _ENTRIES[key]
    except KeyError:
        raise KeyError(f"no op {key!r} in the registry; known: {', '.join(_ENTRIES)}") from None


def by_cli_name(name: str) -> Entry | None:
    """The row a command-line expression calls as ``name(...)``, or None."""
    for row in _ENTRIES.values():
        if row.cli == name:
            return row
    return None


def activations() -> dict[str, Entry]:
    """Rows usable as ``nn`` activations, by name (``relu``, ``tanh``, ..., ``gelu``, ``silu``)."""
    return {row.cli: row for row in _ENTRIES.values() if row.activation and row.cli is not None}
