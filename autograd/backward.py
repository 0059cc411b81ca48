"""Reverse-mode differentiation: one walk, newest node first, that multiplies and adds.

No recursion (depth is limited by memory, not by Python's recursion limit), no closures, no
sort: each node's local derivatives were stored at forward time (by the op registry's rules, or
the written-out + - * relu dot that follow them), and ``autograd.walk.backpropagate`` takes the
nodes by creation number from buckets, each once its gradient is complete, passing it on as it
goes.

**No silent inf or nan.**  ``backward()`` and ``grad()`` raise ``NonFiniteGradError`` (an
``OverflowError``) when a gradient turns inf or nan: a local derivative that is infinite where
it is used (sqrt at 0, x**0.5 at 0) or beyond float64 (1/x at 1e-200, log at 1e-310), a product
with the upstream gradient that overflows (``log(z) * 1e200``), a sum that overflows.  The
message names the op, its operands' values, which derivative and the numbers that overflowed:
the first such step in backward order.  ``backward`` runs its walk unchecked (a non-finite
gradient always reaches a leaf), checks the leaves' gradients once at the end, and only then,
if one is not finite, finds that first step by replaying the walk with every product checked;
the error is raised before ``backward`` returns.  After the error every ``.grad`` of the graph is exactly as it was
before the call (``backward`` is all or nothing).  A derivative that is infinite at a node whose
gradient is 0 is never used (0·inf is not formed), as in the compiled replay.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from .errors import NonFiniteGradError
from .mode import enable_grad
from .node import (
    Node,
    check_data,
    edges,
    is_leaf,
    leaf,
    local_derivatives,
    op_of,
    operands,
)
from .ops import Op
from .walk import Walk, backpropagate, reverse_creation_order

_creation = attrgetter("_seq")
_grad_of = attrgetter("grad")


def topological_order(root: Node) -> list[Any]:
    """Every node under ``root``, each after all of its children (root last).

    That is creation order: an op's operands always exist before its result.
    """
    if is_leaf(root):
        return [root]
    interior, _, leaves = reverse_creation_order(root)
    order = [*leaves, *interior]
    order.sort(key=_creation)
    return order


def backward(root: Node, gradient: float = 1.0) -> None:
    """Add ∂root/∂v·gradient to ``v.grad`` for every node v under ``root``.

    Raises ``NonFiniteGradError`` if a gradient would turn inf or nan; every ``.grad`` is then
    left as it was before the call.
    """
    if not isinstance(root, Node):
        raise TypeError(f"backward: expected a Value, got {type(root).__name__}")
    gradient = check_data(gradient)  # a finite real number
    if is_leaf(root):  # a leaf: its derivative with respect to itself
        g = root.grad + gradient
        if g - g:
            raise NonFiniteGradError(
                f"backward: adding the gradient {gradient!r} to this leaf's grad {root.grad!r} gives {g!r}"
            )
        root.grad = g
        return
    # One walk in reverse creation order sets every gradient (autograd.walk.backpropagate); an
    # op-made node that already held a gradient (an earlier backward through it) started from 0
    # and gets it added back at the end.
    walk = backpropagate(root, gradient)
    _, holding, held, leaves, before = walk
    # A gradient that turned inf or nan anywhere reaches a leaf: one check of the leaves, then a
    # precise replay only if it fails.
    total = sum(map(_grad_of, leaves))  # finite unless a leaf's grad is (or the sum overflows)
    if total - total and not all(math.isfinite(c.grad) for c in leaves):
        order = [v for window in walk[0] for v in window if v is not None]  # newest first
        _restore(walk)
        error = _first_non_finite(order, root, gradient, lambda c: c.grad if is_leaf(c) else 0.0, "backward")
        if error is None:  # no step turned it non-finite: a leaf's grad already was (set by hand)
            bad = next(c for c, g in zip(leaves, before) if not math.isfinite(g))
            error = NonFiniteGradError(
                f"backward: the leaf {bad!r} already had a non-finite grad before this call; "
                "reset it (zero_grad) first; every .grad is left as it was"
            )
        raise error
    for v, g in zip(holding, held):
        total = v.grad + g
        if total - total:
            _restore(walk)
            raise NonFiniteGradError(
                f"backward: adding this call's gradient {v.grad!r} to the {g!r} that the node {op_name(v)} "
                f"already held gives {total!r}; every .grad is left as it was before this call"
            )
        v.grad = total


def _restore(walk: Walk) -> None:
    """Put every ``.grad`` the walk touched back as it was before ``backward`` started."""
    windows, holding, held, leaves, before = walk
    for window in windows:
        for v in window:
            if v is not None:
                v.grad = 0.0
    for v, g in zip(holding, held):
        v.grad = g
    for c, g in zip(leaves, before):
        c.grad = g


def _first_non_finite(
    order: list[Any], root: Node, seed: float, start: Callable[[Any], float], where: str
) -> NonFiniteGradError | None:
    """Replay the walk on the side (no ``.grad`` is touched), checking every product and sum;
    the error for the first step whose gradient is not finite, or None."""
    grads: dict[Any, float] = {root: seed}
    for v in order:
        g = grads.get(v, 0.0)
        if not g:
            continue
        for pos, (c, d) in enumerate(edges(v)):
            prev = grads[c] if c in grads else start(c)
            if prev - prev:
                return NonFiniteGradError(
                    f"{where}: the gradient of an operand of {op_name(v)} was already {prev!r} before this call "
                    "(a .grad set to inf or nan); reset it (zero_grad) first",
                    op=op_name(v),
                    inputs=_inputs(v),
                    out=v.data,
                    position=pos,
                    local=d,
                    upstream=g,
                )
            p = g * d
            total = prev + p
            if total - total:
                return _error(where, v, pos, d, g, p, prev, total)
            grads[c] = total
    return None


def op_name(v: Node) -> str:
    op = op_of(v)
    return op.name if op is not None else "a leaf"


def _inputs(v: Node) -> tuple[float, ...]:
    return tuple(float(c.data) for c in operands(v))


def _error(
    where: str, v: Node, pos: int, d: float, g: float, p: float, prev: float, total: float
) -> NonFiniteGradError:
    """The error for a gradient that turned non-finite at operand ``pos`` of node ``v``."""
    op = op_of(v)
    assert op is not None
    return non_finite_error(where, op, _inputs(v), v.data, pos, d, g, p, prev, total)


def non_finite_error(
    where: str,
    op: Op,
    inputs: Sequence[float],
    out: float,
    pos: int,
    local: float,
    upstream: float,
    product: float,
    previous: float,
    total: float,
    state: str | None = None,
) -> NonFiniteGradError:
    """The ``NonFiniteGradError`` for ``previous + upstream · local`` (= ``total``, not finite) at
    operand ``pos`` of ``op`` applied to ``inputs`` (giving ``out``); ``compile`` reports with it too.
    ``state`` says what became of ``.grad`` (default: by ``where``)."""
    xs = tuple(float(x) for x in inputs)
    names = [f"x{i}" for i in range(len(xs))]
    shown = ", ".join(f"{n} = {x!r}" for n, x in zip(names, xs))
    at = f"z = {op.text.formula(names)} ({op.name} at {shown}; z = {out!r})"
    which = f"∂z/∂{names[pos]} = {op.text.derivative(pos, names)}"
    if local - local:
        why = f"its local derivative {which} is {local!r} there (not differentiable there, or beyond float64)"
    elif product - product:
        why = f"the upstream gradient {upstream!r} times the local derivative {which} = {local!r} is {product!r}, "
        why += "beyond float64"
    else:
        why = f"adding {product!r} (upstream {upstream!r} × {which} = {local!r}) to the operand's gradient "
        why += f"{previous!r} gives {total!r}"
    if state is None:
        state = "every .grad is left as it was before this call" if where == "backward" else "no .grad was touched"
    return NonFiniteGradError(
        f"{where}: a gradient turned {'nan' if math.isnan(total) else 'inf'} at {at}: {why}; {state}. "
        "Keep the inputs away from that point, or scale them down",
        op=op.name,
        inputs=xs,
        out=out,
        position=pos,
        local=local,
        upstream=upstream,
    )


def zero_grad(root: Node) -> None:
    """Set ``grad`` to 0.0 on every node of the graph under ``root``."""
    for v in topological_order(root):
        v.grad = 0.0


def grad(output: Node, inputs: Sequence[Node] | Node, create_graph: bool = False) -> Any:
    """∂output/∂x for each x of ``inputs``, without touching any ``.grad``.

    With ``create_graph=True`` the derivatives are ``Value``s built from the op registry's
    local-derivative rules, so they can be differentiated again (second, third, ...
    derivatives).  An input that ``output`` does not depend on gets 0.0 (a constant
    ``Value(0.0)`` with ``create_graph``).  A single Value as ``inputs`` returns a single
    derivative.  A derivative that turns inf or nan raises ``NonFiniteGradError``.
    """
    single = isinstance(inputs, Node)
    targets: list[Any] = [inputs] if single else list(inputs)  # type: ignore[arg-type]
    if not isinstance(output, Node):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    for i, x in enumerate(targets):
        if not isinstance(x, Node):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    order = topological_order(output)
    result: list[Any]
    if create_graph:
        with enable_grad():
            grads = _grads_as_values(order, output)
        result = [grads[x] if x in grads else leaf(0.0) for x in targets]
    else:
        fgrads = _grads_as_floats(order, output)
        result = [fgrads.get(x, 0.0) for x in targets]
    return result[0] if single else result


def _grads_as_floats(order: list[Any], output: Node) -> dict[Any, float]:
    grads: dict[Any, float] = {output: 1.0}
    get = grads.get
    for v in reversed(order):
        g = get(v)
        if g:
            if g - g:
                break
            for c, d in zip(operands(v), local_derivatives(v)):
                grads[c] = get(c, 0.0) + g * d
    total = sum(grads.values())
    if total - total:
        interior = [v for v in reversed(order) if not is_leaf(v)]
        raise _first_non_finite(interior, output, 1.0, lambda c: 0.0, "grad") or NonFiniteGradError(
            "grad: a gradient turned inf or nan"
        )
    return grads


def _grads_as_values(order: list[Any], output: Node) -> dict[Any, Any]:
    grads: dict[Any, Any] = {output: leaf(1.0)}
    get = grads.get
    for v in reversed(order):
        g = get(v)
        if g is None or is_leaf(v):
            continue
        op = op_of(v)
        assert op is not None
        ch = operands(v)
        try:
            local = op.local(ch, v) if op.arity == 0 else op.local(*ch, v)
        except ArithmeticError:  # a derivative beyond float64 (1/x at 1e-200): name the op, not its pieces
            raise _local_overflow(v, g.data) from None
        for pos, (c, d) in enumerate(zip(ch, local)):
            if d.__class__ is float or d.__class__ is int:
                if d == 0.0:
                    continue
                if d - d:
                    raise _error("grad(create_graph=True)", v, pos, d, g.data, d * g.data, 0.0, d * g.data)
                term = g if d == 1.0 else _product(v, pos, g, d)
            else:
                term = _product(v, pos, g, d)
            prev = get(c)
            if prev is None:
                grads[c] = term
            else:
                try:
                    grads[c] = prev + term
                except ArithmeticError:
                    s = prev.data + term.data
                    raise _error("grad(create_graph=True)", v, pos, _data(d), g.data, term.data, prev.data, s) from None
    return grads


def _local_overflow(v: Node, g: float) -> NonFiniteGradError:
    """The error for an op whose local derivative, built from Values, overflowed."""
    stored = local_derivatives(v)
    pos = next((i for i, d in enumerate(stored) if not math.isfinite(d)), 0)
    d = stored[pos] if stored else math.inf
    return _error("grad(create_graph=True)", v, pos, d, g, g * d, 0.0, g * d)


def _data(d: Any) -> float:
    return float(d if isinstance(d, (int, float)) else d.data)


def _product(v: Node, pos: int, g: Any, d: Any) -> Any:
    """``g * d`` as a Value; an overflow is reported as the gradient of ``v``'s operand ``pos``."""
    try:
        return g * d
    except ArithmeticError:
        p = g.data * _data(d)
        raise _error("grad(create_graph=True)", v, pos, _data(d), g.data, p, 0.0, p) from None
