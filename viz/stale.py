"""Has a graph gone stale?  Leaves whose ``.data`` changed after the forward pass.

A graph keeps what it computed: every op node stores its result and its local
derivatives as they were at forward time, while a leaf is a live object that
``opt.step()`` (or a user) may change afterwards.  Re-running each op's forward
rule on its operands' current data tells whether the graph still describes
them: a result that differs means an operand changed since.  Forward rules are
deterministic, so the comparison is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from autograd import Value
from autograd.ops import Op, op_of


@dataclass(frozen=True)
class Change:
    """A leaf whose data is not what the graph computed with."""

    leaf: Value
    now: float  # its data today
    then: float | None  # its data when the graph was built, when the graph tells it (else None)
    certain: bool = True  # False: this leaf or another operand of the same op changed


def _recomputed(v: Value, known: dict[int, float] | None = None) -> float | None:
    """``v``'s op run again on its operands' current data, operand ``i`` replaced by ``known[i]``
    (None when that raises: today's operands may be outside the op's domain)."""
    op = op_of(v)
    if op is None:
        return None
    xs = [c.data for c in v.children]
    for i, x in (known or {}).items():
        xs[i] = x
    try:
        return op.forward(xs) if op.arity == 0 else op.forward(*xs)
    except (ArithmeticError, ValueError, TypeError):
        return None


def seen_value(leaf: Value, z: Value, pos: int) -> float | None:
    """The data operand ``pos`` of ``z`` (``leaf``) had when ``z`` was computed, when ``z`` stores it.

    The registry's text says when a local derivative *is* another operand
    (∂(x·y)/∂y = x, a ``dot`` node's ∂/∂xᵢ = wᵢ): that stored derivative is
    the operand's value at forward time.  Other ops keep no copy (None).
    """
    op = op_of(z)
    kids = z.children
    if op is None or sum(1 for c in kids if c is leaf) > 1:
        return None
    k = _partners(op, len(kids))[pos]
    return None if k < 0 else float(z.local_grads[k])


@lru_cache(maxsize=1024)
def _partners(op: Op, n: int) -> tuple[int, ...]:
    """For each operand of ``op`` (with ``n`` operands), the operand whose local derivative is it (-1: none)."""
    names = [f"operand{k}" for k in range(n)]
    position = {name: k for k, name in enumerate(names)}
    partner = [-1] * n
    for k in range(n):
        p = position.get(op.text.derivative(k, names), -1)
        if p >= 0 and p != k:
            partner[p] = k
    return tuple(partner)


def changed_leaves(order: list[Value]) -> list[Change]:
    """Every leaf of ``order`` (a topological order) whose data changed since the graph was built.

    An op node's stored operands that are op nodes themselves still hold what it saw, so when
    its forward rule no longer gives its result, one of its leaf operands changed: the one whose
    stored copy (:func:`seen_value`) differs; a leaf without a copy changed when putting the
    copies back still does not give the result and it is the only such leaf (else it is
    reported as uncertain, ``certain=False``, unless seen unchanged elsewhere).
    """
    changed: dict[Value, Change] = {}
    maybe: dict[Value, Change] = {}
    same: set[Value] = set()
    for z in order:
        leaves = [(pos, c) for pos, c in enumerate(z.children) if c.is_leaf]
        if not leaves or _recomputed(z) == z.data:
            continue
        unknown = []
        known: dict[int, float] = {}
        for pos, c in leaves:
            then = seen_value(c, z, pos)
            if then is None:
                unknown.append(c)
                continue
            known[pos] = then
            if then == c.data:
                same.add(c)
            elif c not in changed or changed[c].then is None:
                changed[c] = Change(c, c.data, then)
        if not unknown:
            continue
        if known and _recomputed(z, known) == z.data:
            same.update(unknown)  # with the stored copies put back the op gives its result: the rest is as it was
        elif len(unknown) == 1:
            changed.setdefault(unknown[0], Change(unknown[0], unknown[0].data, None))
        else:
            for c in unknown:
                maybe.setdefault(c, Change(c, c.data, None, certain=False))
    left = [c for c in maybe if c not in changed and c not in same]
    sure = len(left) == 1 and not changed  # the only candidate for a change that happened
    return list(changed.values()) + [Change(c, c.data, None, certain=sure) for c in left]
