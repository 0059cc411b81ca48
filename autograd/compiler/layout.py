"""Phase 3, layout: a slot in one float64 array for every leaf and live node, and each group's index arrays.

Inputs come first (in the order given), then parameters in the order the
matmul blocks read them (so weight matrices are contiguous), then the other
parameters, then constants, then each group's outputs in a row.  Contiguous
slots turn most gathers and scatters into views.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..value import Value
from .elementwise import ElemGroup
from .grouping import Grouping, GroupKey, product_positions
from .index import Floats, Index
from .sums import SEQUENTIAL_TERMS, Linear, Matmul, MatmulGroup, Products, SumMode, Term, TermsGroup
from .trace import NodeKind

Step = ElemGroup | TermsGroup | MatmulGroup


class Layout:
    """Slots for a grouped trace, and the groups as steps that read and write them."""

    def __init__(
        self, grouping: Grouping, inputs: Sequence[Value], params: Sequence[Value], consts: Sequence[Value], exact: bool
    ) -> None:
        self.grouping = grouping
        self.trace = grouping.trace
        self.exact = exact
        self.slot = [-1] * self.trace.n
        self.n_slots = 0
        for x in inputs:  # an input the root does not use still gets its slot
            j = self.trace.index.get(x)
            if j is not None:
                self.slot[j] = self.n_slots
            self.n_slots += 1
        self.param_start = self.n_slots
        self.param_order = self._place_parameters([self.trace.index[p] for p in params])
        self.const_slots = [self._place(self.trace.index[c]) for c in consts]
        self.n_leaves = self.n_slots
        self.steps: list[Step] = [self._step(key) for key in grouping.keys]

    def _place(self, j: int) -> int:
        """Give trace node j the next slot."""
        self.slot[j] = self.n_slots
        self.n_slots += 1
        return self.slot[j]

    def _place_parameters(self, param_ids: list[int]) -> list[int]:
        """Parameters in the order the matmul blocks read them, then the rest; returns that order."""
        is_param = set(param_ids)
        order: list[int] = []
        for key in self.grouping.keys:
            block = self.grouping.dense.get(key)
            if block is None:
                continue
            for rows in (block.rows, block.cols):
                for row in rows:
                    for j in row:
                        if j in is_param and self.slot[j] < 0:
                            self._place(j)
                            order.append(j)
        for j in param_ids:
            if self.slot[j] < 0:
                self._place(j)
                order.append(j)
        return order

    def _outputs(self, members: list[int]) -> slice:
        """Consecutive slots for a group's nodes, in the members' order."""
        start = self.n_slots
        for i in members:
            self._place(i)
        return slice(start, self.n_slots)

    def _step(self, key: GroupKey) -> Step:
        members = self.grouping.members[key]
        if key.kind is NodeKind.ELEM:
            return self._elem_step(key, members)
        return self._sop_step(key, members)

    def _elem_step(self, key: GroupKey, members: list[int]) -> ElemGroup:
        slot, args = self.slot, self.trace.elem_args
        members.sort(key=lambda i: [slot[j] for j in args[i]])
        out = self._outputs(members)
        idx = [Index([slot[args[i][a]] for i in members]) for a in range(len(args[members[0]]))]
        return ElemGroup(self.grouping.kernels[key], out, idx, self.exact)

    def _sop_step(self, key: GroupKey, members: list[int]) -> TermsGroup | MatmulGroup:
        source = self.trace.product_op(members)
        if key in self.grouping.dense:
            matmul = self._matmul(key, members)  # orders the members
            out = self._outputs(members)
            return MatmulGroup(out, matmul, self._linear(members, key.linear), source)
        slot, tr = self.slot, self.trace
        if key.linear[:1] == (0,):  # the first term is plain: order by its operand
            members.sort(key=lambda i: slot[tr.terms(i)[0][0]])
        else:
            members.sort(key=lambda i: (slot[tr.terms(i)[1][0]], slot[tr.terms(i)[0][0]]))
        out = self._outputs(members)
        prod_pos = product_positions(key)
        products = self._products(members, prod_pos) if prod_pos else None
        mode = self._sum_mode(key, len(members))
        return TermsGroup(out, products, self._linear(members, key.linear), _term_order(key), mode, source)

    def _matmul(self, key: GroupKey, members: list[int]) -> Matmul:
        """Order a dense group's nodes row-major over its (rows, cols) and index the two matrices."""
        slot = self.slot
        rows, cols, cell = self.grouping.dense[key]
        rperm = sorted(range(len(rows)), key=lambda r: [slot[j] for j in rows[r]])
        cperm = sorted(range(len(cols)), key=lambda c: [slot[j] for j in cols[c]])
        rrank = {r: k for k, r in enumerate(rperm)}
        crank = {c: k for k, c in enumerate(cperm)}
        pos = sorted(range(len(members)), key=lambda t: (rrank[cell[t][0]], crank[cell[t][1]]))
        members[:] = [members[t] for t in pos]
        full = len(members) == len(rows) * len(cols)
        row_of = None if full else np.array([rrank[cell[t][0]] for t in pos], dtype=np.intp)
        col_of = None if full else np.array([crank[cell[t][1]] for t in pos], dtype=np.intp)
        a = Index([[slot[j] for j in rows[r]] for r in rperm])
        b = Index([[slot[j] for j in cols[c]] for c in cperm])
        return Matmul(a, b, row_of, col_of, full)

    def _products(self, members: list[int], prod_pos: list[int]) -> Products:
        slot, terms = self.slot, self.trace.terms
        a = Index([[slot[terms(i)[0][p]] for p in prod_pos] for i in members])
        b = Index([[slot[terms(i)[1][p]] for p in prod_pos] for i in members])
        return Products(a, b, _signs([[terms(i)[2][p] for p in prod_pos] for i in members]))

    def _linear(self, members: list[int], lin_pos: tuple[int, ...]) -> Linear | None:
        if not lin_pos:
            return None
        slot, terms = self.slot, self.trace.terms
        a = Index([[slot[terms(i)[0][p]] for p in lin_pos] for i in members])
        return Linear(a, _signs([[terms(i)[2][p] for p in lin_pos] for i in members]))

    def _sum_mode(self, key: GroupKey, n_members: int) -> SumMode:
        if not self.exact or key.shape == 1:
            return SumMode.PAIRWISE
        if key.shape <= SEQUENTIAL_TERMS:
            return SumMode.SEQUENTIAL
        return SumMode.ROW if n_members == 1 else SumMode.PAIRWISE


def _signs(rows: list[list[float]]) -> Floats | None:
    """The sign array of a group's terms, or None when every sign is +1."""
    signs = np.array(rows, dtype=np.float64)
    return None if (signs == 1.0).all() else signs


def _term_order(key: GroupKey) -> list[tuple[Term, int]]:
    """(Term, column) per position of the eager evaluation order."""
    linear = set(key.linear)
    order: list[tuple[Term, int]] = []
    n_prod = n_lin = 0
    for p in range(key.shape):
        if p in linear:
            order.append((Term.LINEAR, n_lin))
            n_lin += 1
        else:
            order.append((Term.PRODUCT, n_prod))
            n_prod += 1
    return order
