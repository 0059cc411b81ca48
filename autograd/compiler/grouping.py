"""Phase 2, grouping: live nodes grouped by level and op, and the groups that are a matmul."""

from __future__ import annotations

from itertools import compress
from operator import itemgetter
from typing import NamedTuple

from ..ops import Arrays, Op
from .trace import ELEM, SOP, NodeKind, Trace


class GroupKey(NamedTuple):
    """What the nodes of one group share; groups run in the order of their keys."""

    level: int  # leaves 0, every other live node 1 + its operands' highest level
    kind: NodeKind  # ELEM or SOP
    shape: int  # ELEM: the op's number (first-seen order); SOP: the number of terms
    linear: tuple[int, ...]  # SOP: the positions of the plain (non-product) terms


class DenseBlock(NamedTuple):
    """A sum-of-products group whose products are the cells of ``rows @ cols.T``.

    ``rows`` are the distinct a-operand rows (each neuron's weights), ``cols``
    the distinct b-operand rows (each sample's inputs) and ``cell[t]`` the
    (row, col) of the group's t-th node.
    """

    rows: list[tuple[int, ...]]
    cols: list[tuple[int, ...]]
    cell: list[tuple[int, int]]


def product_positions(key: GroupKey) -> list[int]:
    """The term positions of a sum-of-products group that are products."""
    linear = set(key.linear)
    return [p for p in range(key.shape) if p not in linear]


class Grouping:
    """The live nodes of a trace in groups that one numpy evaluation each can compute.

    ``keys`` in evaluation order, ``members[key]`` the nodes (trace positions),
    ``kernels[key]`` an elementwise group's numpy kernel (its op's registry
    facet ``op.arrays()``) and ``dense[key]`` the matmul structure of a
    sum-of-products group that has one.
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        live = trace.live_nodes()
        self.level = self._levels(live)
        self.ops: list[Op] = []  # the elementwise ops, numbered in the order first seen
        members: dict[tuple[int, NodeKind, int, tuple[int, ...]], list[int]] = {}
        op_number: dict[int, int] = {}
        for i in live:
            members.setdefault(self._key(i, op_number), []).append(i)
        self.members = {GroupKey(*key): nodes for key, nodes in members.items()}
        self.keys = sorted(self.members)
        self.kernels: dict[GroupKey, Arrays] = {
            key: self.ops[key.shape].arrays() for key in self.keys if key.kind is ELEM
        }
        self.dense: dict[GroupKey, DenseBlock] = {}
        for key in self.keys:
            block = self._dense_block(key) if key.kind is SOP else None
            if block is not None:
                self.dense[key] = block

    def _levels(self, live: list[int]) -> list[int]:
        """Leaves 0, every other live node 1 + its operands' highest level (operands are
        leaves or live nodes before it: an inlined node's terms moved to its consumer)."""
        tr = self.trace
        kind, elem_args, ta, tb = tr.kind, tr.elem_args, tr.ta, tr.tb
        level = [0] * (tr.n + 1)  # level[-1]: a 0 for the -1 that marks a plain term's missing b
        at = level.__getitem__
        for i in live:
            if kind[i] is ELEM:
                level[i] = 1 + max(map(at, elem_args[i]))
            else:
                level[i] = 1 + max(max(map(at, ta[i])), max(map(at, tb[i])))  # type: ignore[arg-type]
        del level[-1]
        return level

    def _key(self, i: int, op_number: dict[int, int]) -> tuple[int, NodeKind, int, tuple[int, ...]]:
        """Node i's group key as a plain tuple (a GroupKey per node would cost more than the rest)."""
        tr = self.trace
        if tr.kind[i] is ELEM:
            op = tr.elem_op[i]
            number = op_number.get(id(op))
            if number is None:
                number = op_number[id(op)] = len(self.ops)
                self.ops.append(op)
            return (self.level[i], ELEM, number, ())
        b = tr.tb[i]
        assert b is not None
        plain = map((0).__gt__, b)  # the positions where b is -1
        return (self.level[i], SOP, len(b), tuple(compress(range(len(b)), plain)))

    def _dense_block(self, key: GroupKey) -> DenseBlock | None:
        """The matmul structure of a sum-of-products group, if its products form one."""
        prod_pos = product_positions(key)
        members = self.members[key]
        if len(prod_pos) < 2 or len(members) < 2:
            return None
        terms = self.trace.terms
        products = itemgetter(*prod_pos)  # a tuple: there are at least two
        for i in members:
            if products(terms(i)[2]).count(1.0) != len(prod_pos):
                return None
        rows: dict[tuple[int, ...], int] = {}
        cols: dict[tuple[int, ...], int] = {}
        cell = []
        for i in members:
            a, b, _ = terms(i)
            r = rows.setdefault(products(a), len(rows))
            c = cols.setdefault(products(b), len(cols))
            cell.append((r, c))
        if len(set(cell)) != len(cell) or len(rows) * len(cols) > 2 * len(members):
            return None
        return DenseBlock(list(rows), list(cols), cell)
