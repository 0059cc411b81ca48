"""Phase 1, trace: the eager graph as flat lists of sums of products and elementwise nodes."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from itertools import chain
from typing import Any

import numpy as np

from .. import ops as _ops
from ..backward import topological_order
from ..node import op_of, operands
from ..value import Value


class NodeKind(IntEnum):
    """What a traced node became."""

    LEAF = 0  # an input, parameter or constant
    ELEM = 1  # an elementwise op: out = f(x[, y])
    SOP = 2  # a sum of products: out = Σ sₖ·aₖ·bₖ + Σ tⱼ·cⱼ


#: Bits of ``Trace.sources``: a node's product terms came from ``*`` nodes, ``dot`` nodes.
MUL_TERMS, DOT_TERMS = 1, 2

# The members as plain names: an Enum attribute lookup costs ~0.1 µs per node.
LEAF, ELEM, SOP = NodeKind


class Trace:
    """The traced graph in flat lists indexed by position in topological order.

    Every ``+ - * neg dot sum`` node becomes a sum of terms kept in the eager
    evaluation order: ``ta[i][k]·tb[i][k]·ts[i][k]`` for a product and
    ``ta[i][k]·ts[i][k]`` (``tb`` = -1) for a plain term.  An operand that is
    such a sum used by this node only is inlined (``absorbed``) when that
    keeps the eager rounding: always for a single term (``w*x`` inside a
    chain), and as the leftmost operand for a longer sum (``((b + w0·x0) +
    w1·x1) + ...`` is exactly a left-to-right sum).  Negation is exact, so
    ``-`` and ``neg`` inline too.  The chain's inner nodes pass the gradient
    through unchanged (local derivative 1), so nothing is lost by skipping them.
    """

    __slots__ = (
        "order",
        "n",
        "index",
        "uses",
        "kind",
        "absorbed",
        "leaves",
        "elem_op",
        "elem_args",
        "ta",
        "tb",
        "ts",
        "sources",
    )

    def __init__(self, root: Value) -> None:
        self.order = topological_order(root)
        self.n = n = len(self.order)
        self.index = dict(zip(self.order, range(n)))
        self.uses = self._count_uses()
        self.kind = [LEAF] * n
        self.absorbed = bytearray(n)
        self.leaves: list[int] = []  # the positions of the leaves, in order
        self.elem_op: dict[int, _ops.Op] = {}
        self.elem_args: dict[int, tuple[int, ...]] = {}
        # Per node: term operands a, b (-1 for a plain term) and signs; None once moved away.
        self.ta: list[list[int] | None] = [None] * n
        self.tb: list[list[int] | None] = [None] * n
        self.ts: list[list[float] | None] = [None] * n
        # Per node: which ops its product terms came from (MUL_TERMS | DOT_TERMS), for error messages.
        self.sources = bytearray(n)
        self._flatten_all()

    def _count_uses(self) -> list[int]:
        """How many times each node is an operand (a node used once may be inlined): one bincount."""
        every_operand = chain.from_iterable(map(operands, self.order))
        positions = np.fromiter(map(self.index.__getitem__, every_operand), dtype=np.intp)
        uses: list[int] = np.bincount(positions, minlength=self.n).tolist()
        return uses

    def terms(self, i: int) -> tuple[list[int], list[int], list[float]]:
        """Node i's term operands a, b and signs (node i must be a live sum of products)."""
        a, b, s = self.ta[i], self.tb[i], self.ts[i]
        assert a is not None and b is not None and s is not None, f"node {i} holds no terms"
        return a, b, s

    def _inlinable(self, j: int, first: bool) -> bool:
        """Can operand j's terms move into its only consumer without changing the rounding?"""
        if self.kind[j] is not SOP or self.uses[j] != 1:
            return False
        return first or len(self.ta[j]) == 1  # type: ignore[arg-type]

    def _absorb(self, j: int, i: int) -> tuple[list[int], list[int], list[float]]:
        """Take node j's term lists for node i (moved, not copied: long chains stay linear)."""
        ta, tb, ts = self.ta, self.tb, self.ts
        a, b, s = ta[j], tb[j], ts[j]
        self.absorbed[j] = 1
        self.sources[i] |= self.sources[j]
        ta[j] = tb[j] = ts[j] = None
        return a, b, s  # type: ignore[return-value]

    def _start(self, i: int, a: list[int], b: list[int], s: list[float]) -> None:
        self.kind[i] = SOP
        self.ta[i], self.tb[i], self.ts[i] = a, b, s

    def _append(self, i: int, j: int, sign: float, first: bool) -> None:
        """Append operand j to node i: inlined when exact, else as a plain term."""
        a, b, s = self.ta[i], self.tb[i], self.ts[i]
        assert a is not None and b is not None and s is not None
        if self._inlinable(j, first):
            ja, jb, js = self._absorb(j, i)
            a += ja
            b += jb
            s += js if sign == 1.0 else [-x for x in js]
        else:
            a.append(j)
            b.append(-1)
            s.append(sign)

    def _flatten_all(self) -> None:
        """Record every op-made node as a sum of products or an elementwise node (one pass; the
        ``+ - *`` nodes, nearly all of a micrograd graph, are handled inline)."""
        other: dict[_ops.Op, Callable[[int, list[int]], None]] = {
            _ops.NEG: self._neg,
            _ops.DOT: self._dot,
            _ops.SUM: self._sum,
        }
        add, sub, mul = _ops.ADD, _ops.SUB, _ops.MUL
        position = self.index.__getitem__
        kind, uses, absorbed, sources, leaf = self.kind, self.uses, self.absorbed, self.sources, self.leaves.append
        # Lists or None: the kind and use checks below read only the lists of live sums.
        ta: list[Any] = self.ta
        tb: list[Any] = self.tb
        ts: list[Any] = self.ts
        for i, v in enumerate(self.order):
            op = op_of(v)
            if op is None:
                leaf(i)
            elif op is mul:
                x, y = operands(v)
                kind[i] = SOP
                ta[i], tb[i], ts[i] = [position(x)], [position(y)], [1.0]
                sources[i] = MUL_TERMS
            elif op is add or op is sub:
                x, y = operands(v)
                j, k = position(x), position(y)
                kind[i] = SOP
                if kind[j] is SOP and uses[j] == 1:  # the chain so far: its lists move here
                    a, b, s = ta[j], tb[j], ts[j]
                    ta[j] = tb[j] = ts[j] = None
                    absorbed[j] = 1
                    sources[i] = sources[j]
                else:
                    a, b, s = [j], [-1], [1.0]
                ta[i], tb[i], ts[i] = a, b, s
                kb = tb[k]
                if kind[k] is SOP and uses[k] == 1 and kb is not None and len(kb) == 1:  # one term: w*x
                    a += ta[k]
                    b += kb
                    s.append(ts[k][0] if op is add else -ts[k][0])
                    ta[k] = tb[k] = ts[k] = None
                    absorbed[k] = 1
                    sources[i] |= sources[k]
                else:
                    a.append(k)
                    b.append(-1)
                    s.append(1.0 if op is add else -1.0)
            else:
                args = list(map(position, operands(v)))
                flatten = other.get(op)
                if flatten is not None:
                    flatten(i, args)
                else:
                    kind[i] = ELEM
                    self.elem_op[i] = op
                    self.elem_args[i] = tuple(args)

    def _neg(self, i: int, args: list[int]) -> None:
        self._start(i, [], [], [])
        self._append(i, args[0], -1.0, True)

    def _sum(self, i: int, args: list[int]) -> None:
        self._start(i, [], [], [])
        for pos, j in enumerate(args):
            self._append(i, j, 1.0, pos == 0)

    def _dot(self, i: int, args: list[int]) -> None:
        """``b + w0·x0 + w1·x1 + ...``: the eager dot adds left to right starting from the bias."""
        m = len(args) // 2
        a: list[int] = []
        b: list[int] = []
        s: list[float] = []
        self._start(i, a, b, s)
        if len(args) % 2:
            self._append(i, args[-1], 1.0, True)
        a += args[:m]
        b += args[m : 2 * m]
        s += [1.0] * m
        if m:
            self.sources[i] |= DOT_TERMS

    def product_op(self, members: list[int]) -> _ops.Op:
        """The op the product terms of these nodes came from (``*``, or ``dot`` when only dot), for messages."""
        bits = 0
        for i in members:
            bits |= self.sources[i]
        return _ops.DOT if bits == DOT_TERMS else _ops.MUL

    def live_nodes(self) -> list[int]:
        """The positions of the nodes a group evaluates (not leaves, not inlined), in order."""
        dead = np.frombuffer(self.absorbed, dtype=np.uint8).copy()
        dead[self.leaves] = 1
        live: list[int] = np.flatnonzero(dead == 0).tolist()
        return live

    def live(self, i: int) -> bool:
        """Is node i evaluated by a group (not a leaf, not inlined into its consumer)?"""
        return self.kind[i] is not LEAF and not self.absorbed[i]
