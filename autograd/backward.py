"""Reverse-mode differentiation: a topological order, then one plain loop over it.

No recursion (depth is limited by memory, not by Python's recursion limit)
and no closures: each node's local derivatives were stored at forward time
(by the op table's rules, or the written-out + - * relu dot that follow them),
so the loop only multiplies and adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from .mode import enable_grad
from .value import NARY, Number, Value, children_of, locals_of

_creation = attrgetter("_seq")


def _reverse_creation_order(root: Value) -> tuple[list[Value], list[Value]]:
    """The nodes under ``root`` (root included) that an op made, newest first, and those of them
    that already hold a gradient (from an earlier backward through them); leaves are left out.

    Depth first, each node's later operand first: for an expression tree (a chain, an unrolled
    loop) that already is reverse creation order, which the walk notices, so only a graph with
    shared nodes gets sorted.
    """
    seen = {root}
    order: list[Value] = []
    holding: list[Value] = []
    stack = [root]
    push = stack.append
    pop = stack.pop
    mark = seen.add
    emit = order.append
    last = root._seq + 1
    ordered = True
    while stack:
        v = pop()
        emit(v)
        if v._seq > last:
            ordered = False
        last = v._seq
        if v.grad:
            holding.append(v)
        a = v._a
        b = v._b
        if b is None:
            if a._a is not None and a not in seen:
                mark(a)
                push(a)
        elif b is NARY:
            for c in a:
                if c._a is not None and c not in seen:
                    mark(c)
                    push(c)
        else:
            if a._a is not None and a not in seen:
                mark(a)
                push(a)
            if b._a is not None and b not in seen:
                mark(b)
                push(b)
    if not ordered:
        order.sort(key=_creation, reverse=True)
    return order, holding


def topological_order(root: Value) -> list[Value]:
    """Every node under ``root``, each after all of its children (root last).

    That is creation order: an op's operands always exist before its result.
    """
    if root._a is None:
        return [root]
    interior, _ = _reverse_creation_order(root)
    leaves = dict.fromkeys(c for v in interior for c in children_of(v) if c._a is None)
    order = [*leaves, *interior]
    order.sort(key=_creation)
    return order


def backward(root: Value, gradient: Number = 1.0) -> None:
    """Add ∂root/∂v·gradient to ``v.grad`` for every node v under ``root``."""
    if not isinstance(root, Value):
        raise TypeError(f"backward: expected a Value, got {type(root).__name__}")
    gradient = Value(gradient).data  # validates: a finite real number
    if root._a is None:  # a leaf: its derivative with respect to itself
        root.grad += gradient
        return
    # Reverse creation order: every node comes after all the nodes that consumed it.
    order, holding = _reverse_creation_order(root)
    # Leaves only accumulate; an op-made node that already holds a gradient (an earlier
    # backward through it) must not pass that on, so it is set aside and added back at the end.
    held = [v.grad for v in holding]
    for v in holding:
        v.grad = 0.0
    root.grad = gradient
    for v in order:
        g = v.grad
        if not g:
            continue
        a = v._a
        b = v._b
        if b is None:
            a.grad += g * v._da
        elif b is NARY:
            for c, d in zip(a, v._da):
                c.grad += g * d
        else:
            a.grad += g * v._da
            b.grad += g * v._db
    for v, g in zip(holding, held):
        v.grad += g


def zero_grad(root: Value) -> None:
    """Set ``grad`` to 0.0 on every node of the graph under ``root``."""
    for v in topological_order(root):
        v.grad = 0.0


def grad(output: Value, inputs: Sequence[Value] | Value, create_graph: bool = False) -> list:
    """∂output/∂x for each x of ``inputs``, without touching any ``.grad``.

    With ``create_graph=True`` the derivatives are ``Value``s built from the op
    table's local-derivative rules, so they can be differentiated again
    (second, third, ... derivatives).  An input that ``output`` does not depend
    on gets 0.0 (a constant ``Value(0.0)`` with ``create_graph``).
    A single Value as ``inputs`` returns a single derivative.
    """
    single = isinstance(inputs, Value)
    targets = [inputs] if single else list(inputs)
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    for i, x in enumerate(targets):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    order = topological_order(output)
    if create_graph:
        with enable_grad():
            grads = _grads_as_values(order, output)
        result = [grads.get(x, None) or Value(0.0) for x in targets]
    else:
        fgrads = _grads_as_floats(order, output)
        result = [fgrads.get(x, 0.0) for x in targets]
    return result[0] if single else result


def _grads_as_floats(order: list[Value], output: Value) -> dict[Value, float]:
    grads: dict[Value, float] = {output: 1.0}
    get = grads.get
    for v in reversed(order):
        g = get(v)
        if g:
            for c, d in zip(children_of(v), locals_of(v)):
                grads[c] = get(c, 0.0) + g * d
    return grads


def _grads_as_values(order: list[Value], output: Value) -> dict[Value, Value]:
    grads: dict[Value, Value] = {output: Value(1.0)}
    get = grads.get
    for v in reversed(order):
        g = get(v)
        if g is None or v._a is None:
            continue
        op = v._op
        ch = children_of(v)
        local = op.local(ch, v) if op.arity == 0 else op.local(*ch, v)
        for c, d in zip(ch, local):
            if d.__class__ is not Value:
                if d == 0.0:
                    continue
                term = g if d == 1.0 else g * d
            else:
                term = g * d
            prev = get(c)
            grads[c] = term if prev is None else prev + term
    return grads
