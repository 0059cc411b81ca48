"""Backward's walks: they read a node's slots directly, for speed; ``node.py`` defines the layout.

- ``reverse_creation_order(root)``: every op-made node under ``root``, newest first, without
  arithmetic (what ``topological_order`` uses);
- ``backpropagate(root, gradient)``: ``backward``'s one walk, which orders and propagates.

Both take the nodes from a window of buckets, one per creation number (no sort), and are linear
in nodes plus operands.  This module imports only ``node`` (no import cycle).
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

from .node import NARY, Node

__all__ = ["reverse_creation_order", "backpropagate", "Walk"]


#: The walk's window of buckets (one per creation number, newest first) starts _FIRST long and may
#: grow to _DENSE buckets per operand met in it plus _SLACK: memory stays linear in the graph, not
#: in its age.  A node further back waits in a heap.
_FIRST = 64
_DENSE = 16
_SLACK = 256


def reverse_creation_order(root: Node) -> tuple[list[Any], list[Any], list[Any]]:
    """``(order, holding, leaves)`` for the graph under ``root`` (an op-made node).

    ``order``: the nodes an op made (root included), newest first.  ``holding``: those of them
    that already hold a gradient (from an earlier backward through them).  ``leaves``: every leaf
    operand, once each.

    No sort: the walk keeps a window of buckets, one per creation number counted back from the
    window's newest node.  A node found as an operand goes into its bucket and the walk takes the
    buckets in order; operands are older than their consumers, so all of a node's consumers have
    been taken (and found it) before the walk reaches it.  The window grows (doubling) while it
    spans at most ``_DENSE`` buckets per operand met in it; a node further back (one made long
    before the graph that reuses it) waits in a heap and starts the next window when this one is
    done (:func:`_beyond`).  Time and memory are linear in nodes plus operands; only a node that
    has to wait pays a heap's log.
    """
    order: list[Any] = []
    holding: list[Any] = []
    leaves: list[Any] = []
    emit = order.append
    found = leaves.append
    seen: set[Any] = set()  # the leaves found so far
    mark = seen.add
    far: list[tuple[int, Any]] = []  # (-creation number, node) beyond the window: a heap, newest first
    waiting: set[Any] = set()
    top = root._seq  # bucket j holds the node numbered top - j
    slots: list[Any] = [None] * _FIRST
    slots[0] = root
    size = _FIRST
    room = 1  # operands met in this window: it may span _DENSE buckets per operand
    while True:
        for v in slots:  # also takes the buckets _beyond appends (see backpropagate)
            if v is None:
                continue
            emit(v)
            if v.grad:
                holding.append(v)
            a = v._a
            b = v._b
            if b is NARY:
                room += len(a)
                for c in a:
                    if c._a is None:
                        if c not in seen:
                            mark(c)
                            found(c)
                    else:
                        j = top - c._seq
                        if j >= size:
                            _beyond(c, j, top, slots, far, waiting, room)
                            size = len(slots)
                        elif slots[j] is None:
                            slots[j] = c
                continue
            if a._a is None:
                if a not in seen:
                    mark(a)
                    found(a)
            else:
                j = top - a._seq
                if j >= size:
                    room += _beyond(a, j, top, slots, far, waiting, room)
                    size = len(slots)
                elif slots[j] is None:
                    slots[j] = a
                    room += 1
            if b is None:
                continue
            if b._a is None:
                if b not in seen:
                    mark(b)
                    found(b)
            else:
                j = top - b._seq
                if j >= size:
                    room += _beyond(b, j, top, slots, far, waiting, room)
                    size = len(slots)
                elif slots[j] is None:
                    slots[j] = b
                    room += 1
        if not far:
            return order, holding, leaves
        # The window is done: the newest waiting node starts the next one.
        key, v = heappop(far)
        top = -key
        slots = [None] * _FIRST
        slots[0] = v
        size = _FIRST
        room = 1 + _drain(top, slots, far)


def _beyond(
    c: Any, j: int, top: int, slots: list[Any], far: list[tuple[int, Any]], waiting: set[Any], room: int
) -> int:
    """Node ``c`` belongs past the window's last bucket ``j``: grow the window to it while the window
    stays dense (memory linear in the graph, not in its age), else let ``c`` wait in ``far``.
    Returns how many nodes went into buckets.  ``slots`` grows in place, at its end: the walks'
    ``for v in slots`` loops take the new buckets too (never rebind, shrink or copy it here)."""
    limit = _DENSE * room + _SLACK
    if j >= limit:
        if c not in waiting:
            waiting.add(c)
            heappush(far, (-c._seq, c))
        return 0
    slots.extend([None] * (min(max(2 * len(slots), j + 1), limit) - len(slots)))
    slots[j] = c
    return 1 + _drain(top, slots, far)


def _drain(top: int, slots: list[Any], far: list[tuple[int, Any]]) -> int:
    """Move the waiting nodes that the window now reaches into their buckets; how many moved."""
    moved = 0
    size = len(slots)
    while far and top + far[0][0] < size:
        key, c = heappop(far)
        j = top + key
        if slots[j] is None:
            slots[j] = c
            moved += 1
    return moved


Walk = tuple[list[list[Any]], list[Any], list[float], list[Any], list[float]]


def backpropagate(root: Node, gradient: float) -> Walk:
    """Set ``root.grad`` to ``gradient`` and pass gradients down to every node under it, in one walk.

    Returns ``(windows, holding, held, leaves, before)``, what ``backward`` needs to check the walk
    and undo it exactly: ``windows``, the bucket lists taken, newest first (``None`` for an empty
    bucket; the rest are the op-made nodes under the root); ``holding`` / ``held``, those that held
    a gradient before the call and that gradient; ``leaves`` / ``before``, every leaf under the
    root, once each, and its gradient before the call.

    The walk is :func:`reverse_creation_order`'s (buckets by creation number), and it propagates
    as it goes: when a node is taken from its bucket all of its consumers have been taken, so its
    gradient is complete, and it adds ``grad · derivative`` to each operand at once.  An op-made
    operand found for the first time that already holds a gradient (an earlier backward) starts
    from 0 and is listed in ``holding`` (``backward`` adds it back); a leaf found for the first
    time has its gradient noted in ``before``.  A node whose gradient is 0 passes nothing (its
    derivatives are never read, so an infinite one there does not turn 0 into nan).  Unchecked:
    an inf or nan reaches a leaf, where ``backward`` looks once at the end.

    The "find an operand" block is written out for the n-ary, first and second operand on
    purpose: it runs once per edge, where a Python function call would add to every node's cost
    (check any change with the chain and dag cases of ``python -m benchmarks``).
    """
    windows: list[list[Any]] = []
    holding: list[Any] = []
    held: list[float] = []
    leaves: list[Any] = []
    before: list[float] = []
    hold = holding.append
    keep = held.append
    found = leaves.append
    note = before.append
    seen: set[Any] = set()  # the leaves found so far
    mark = seen.add
    far: list[tuple[int, Any]] = []  # (-creation number, node) beyond the window: a heap, newest first
    waiting: set[Any] = set()
    h = root.grad
    if h:
        hold(root)
        keep(h)
    root.grad = gradient
    top = root._seq
    slots: list[Any] = [None] * _FIRST
    slots[0] = root
    windows.append(slots)
    size = _FIRST
    room = 1
    while True:
        # A list's iterator compares its position with the list's current length at every step,
        # so this loop also takes the buckets that _beyond appends while it runs (the window
        # grows only at its end, ahead of the walk, and no bucket is ever removed): no index,
        # no resume.  Measured against the index loop: chain backward 10% faster, DAG 10³ 19%,
        # 10⁶ 10% (a range loop with a resume where the window grew gained 2% on the chain).
        for v in slots:
            if v is None:
                continue
            a = v._a
            b = v._b
            if b is NARY:
                room += len(a)
                for c in a:
                    if c._a is None:
                        if c not in seen:
                            mark(c)
                            found(c)
                            note(c.grad)
                    else:
                        j = top - c._seq
                        if j < size:
                            if slots[j] is None:  # found for the first time
                                slots[j] = c
                                if c.grad:
                                    hold(c)
                                    keep(c.grad)
                                    c.grad = 0.0
                        else:
                            _found_far(c, j, top, slots, far, waiting, room, holding, held)
                            size = len(slots)
                g = v.grad
                if g:
                    for c, d in zip(a, v._da):
                        c.grad += g * d
                continue
            if a._a is None:
                if a not in seen:
                    mark(a)
                    found(a)
                    note(a.grad)
            else:
                j = top - a._seq
                if j < size:
                    if slots[j] is None:  # found for the first time
                        slots[j] = a
                        room += 1
                        if a.grad:
                            hold(a)
                            keep(a.grad)
                            a.grad = 0.0
                else:
                    room += _found_far(a, j, top, slots, far, waiting, room, holding, held)
                    size = len(slots)
            if b is None:
                g = v.grad
                if g:
                    a.grad += g * v._da
                continue
            if b._a is None:
                if b not in seen:
                    mark(b)
                    found(b)
                    note(b.grad)
            else:
                j = top - b._seq
                if j < size:
                    if slots[j] is None:  # found for the first time
                        slots[j] = b
                        room += 1
                        if b.grad:
                            hold(b)
                            keep(b.grad)
                            b.grad = 0.0
                else:
                    room += _found_far(b, j, top, slots, far, waiting, room, holding, held)
                    size = len(slots)
            g = v.grad
            if g:
                a.grad += g * v._da
                b.grad += g * v._db
        if not far:
            return windows, holding, held, leaves, before
        # The window is done: the newest waiting node starts the next one.
        key, v = heappop(far)
        top = -key
        slots = [None] * _FIRST
        slots[0] = v
        windows.append(slots)
        size = _FIRST
        room = 1 + _drain(top, slots, far)


def _found_far(
    c: Any,
    j: int,
    top: int,
    slots: list[Any],
    far: list[tuple[int, Any]],
    waiting: set[Any],
    room: int,
    holding: list[Any],
    held: list[float],
) -> int:
    """:func:`_beyond` for :func:`backpropagate`'s operand ``c``: if it is found for the first
    time and holds a gradient, set that aside.  Returns how many nodes went into buckets."""
    if c in waiting:
        return 0  # found before
    moved = _beyond(c, j, top, slots, far, waiting, room)
    if c.grad:
        holding.append(c)
        held.append(c.grad)
        c.grad = 0.0
    return moved
