"""Replay of one sum-of-products group: ``out = Σ sₖ·aₖ·bₖ + Σ tⱼ·cⱼ``, as a matmul where it is one."""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple

import numpy as np

from ..errors import OpOverflowError
from .diagnose import gradient_error
from .index import Flags, Floats, Index, Slots

#: Sums of up to this many terms are added left to right, one numpy call per term,
#: so they round exactly like the eager engine's chain of ``+`` nodes.
SEQUENTIAL_TERMS = 32


class SumMode(Enum):
    """How a group adds its terms."""

    SEQUENTIAL = "seq"  # left to right, one numpy call per term: bit-for-bit eager
    ROW = "row"  # left to right in Python: a single long sum, bit-for-bit eager
    PAIRWISE = "sum"  # numpy's pairwise sum: long sums over many nodes, or exact=False
    DENSE = "dense"  # the products as one matmul (rounding differs from eager)


class Term(Enum):
    """The kind of a term at one position of the eager evaluation order."""

    PRODUCT = "p"
    LINEAR = "l"


class Products(NamedTuple):
    """The product terms ``s·a·b``: (n, Lp) operand indices and signs (None: all +1)."""

    a: Index
    b: Index
    sign: Floats | None


class Linear(NamedTuple):
    """The plain terms ``t·c``: an (n, Ll) operand index and signs (None: all +1)."""

    a: Index
    sign: Floats | None


class Matmul(NamedTuple):
    """The products as ``A @ B.T``: A the distinct a-rows, B the distinct b-rows.

    ``row_of``/``col_of`` give each node's cell; None when every cell is a node (``full``).
    """

    a: Index
    b: Index
    row_of: Slots | None
    col_of: Slots | None
    full: bool


class SopGroup:
    """Sums of products with the same term pattern, evaluated together.

    ``order`` lists (Term, column) per position, in the eager evaluation order.
    """

    __slots__ = ("out", "n", "products", "linear", "order", "mode", "matmul", "perm", "active", "out_view", "source")

    def __init__(
        self,
        out: slice,
        products: Products | None,
        linear: Linear | None,
        order: list[tuple[Term, int]],
        mode: SumMode,
        matmul: Matmul | None = None,
        source: str = "*/dot",
    ) -> None:
        self.out = out
        self.n = out.stop - out.start
        self.products = products
        self.linear = linear
        self.order = order
        self.mode = mode
        self.matmul = matmul
        self.source = source  # the op(s) the product terms came from, for messages
        self.perm: Slots | None = None  # ROW: position in [products..., linears...] of each term, if not identity
        if mode is SumMode.ROW:
            n_prod = sum(1 for kind, _ in order if kind is Term.PRODUCT)
            perm = np.array([k if kind is Term.PRODUCT else n_prod + k for kind, k in order], dtype=np.intp)
            self.perm = None if (perm == np.arange(len(order))).all() else perm
        self.active = True  # does any output need a gradient? (set by mark_needed)
        self.out_view: Floats = np.empty(0)

    def _indices(self) -> list[Index]:
        ix = [self.products.a, self.products.b] if self.products is not None else []
        if self.matmul is not None:
            ix += [self.matmul.a, self.matmul.b]
        return ix + ([self.linear.a] if self.linear is not None else [])

    def bind(self, val: Floats, grad: Floats) -> None:
        """Make the operand views and the output view into the slot arrays."""
        for ix in self._indices():
            ix.bind(val, grad)
        self.out_view = val[self.out]

    def mark_needed(self, need: Flags) -> None:
        """A node needs a gradient when one of its terms does; skip the rest in backward."""
        flags = np.zeros(self.n, dtype=bool)
        if self.products is not None:
            flags |= self.products.a.mark_needed(need) | self.products.b.mark_needed(need)
        if self.linear is not None:
            flags |= self.linear.a.mark_needed(need)
        mm = self.matmul
        if mm is not None:
            fr, fc = mm.a.mark_needed(need), mm.b.mark_needed(need)
            if mm.full:
                flags |= (fr[:, None] | fc[None, :]).ravel()
            else:
                assert mm.row_of is not None and mm.col_of is not None
                flags |= fr[mm.row_of] | fc[mm.col_of]
        need[self.out] = flags
        self.active = bool(flags.any())

    # ---- forward ------------------------------------------------------------------
    def _linear_terms(self, val: Floats) -> Floats | None:
        if self.linear is None:
            return None
        lin = self.linear.a.gather(val)
        return lin if self.linear.sign is None else lin * self.linear.sign

    def forward(self, val: Floats, saved: list[Any]) -> None:
        """Compute the outputs; push the product operands for backward."""
        if self.matmul is not None:
            self._forward_dense(val, saved)
            return
        prod = None
        if self.products is not None:
            A = self.products.a.gather(val)
            B = self.products.b.gather(val)
            prod = A * B
            if self.products.sign is not None:
                prod *= self.products.sign
            saved.append((A, B))
        lin = self._linear_terms(val)
        if self.mode is SumMode.SEQUENTIAL:
            self._add_sequential(prod, lin)
        elif self.mode is SumMode.ROW:
            self._add_row(prod, lin)
        else:
            self._add_pairwise(prod, lin)

    def _forward_dense(self, val: Floats, saved: list[Any]) -> None:
        mm = self.matmul
        assert mm is not None
        out = self.out_view
        A = mm.a.gather(val)
        B = mm.b.gather(val)
        if mm.full:
            np.matmul(A, B.T, out=out.reshape(A.shape[0], B.shape[0]))
        else:
            out[...] = (A @ B.T)[mm.row_of, mm.col_of]
        saved.append((A, B))
        lin = self._linear_terms(val)
        if lin is not None:
            out += lin[:, 0] if lin.shape[1] == 1 else lin.sum(axis=1)

    def _add_sequential(self, prod: Floats | None, lin: Floats | None) -> None:
        out = self.out_view
        first = True
        for kind, k in self.order:
            col = prod[:, k] if kind is Term.PRODUCT else lin[:, k]  # type: ignore[index]
            if first:
                out[...] = col
                first = False
            else:
                out += col

    def _add_row(self, prod: Floats | None, lin: Floats | None) -> None:
        parts = [x[0] for x in (prod, lin) if x is not None]
        row = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if self.perm is not None:
            row = row[self.perm]
        it = iter(row.tolist())
        total = next(it)
        for t in it:
            total += t
        self.out_view[0] = total

    def _add_pairwise(self, prod: Floats | None, lin: Floats | None) -> None:
        out = self.out_view
        if prod is not None:
            np.sum(prod, axis=1, out=out)
            if lin is not None:
                out += lin.sum(axis=1)
        elif lin is not None:
            np.sum(lin, axis=1, out=out)

    # ---- backward -----------------------------------------------------------------
    def backward(self, val: Floats, grad: Floats, saved: list[Any], careful: bool = False) -> None:
        """Add each term operand's share of the outputs' gradient (0·x is 0 here: x is a finite value)."""
        has_products = self.matmul is not None or self.products is not None
        if not self.active:
            if has_products:
                saved.pop()
            return
        g = grad[self.out]
        lin = self.linear
        if lin is not None and lin.a.needed:
            gl = g[:, None]
            lin.a.scatter_add(grad, gl if lin.sign is None else gl * lin.sign)
        if self.matmul is not None:
            self._backward_dense(grad, g, *saved.pop())
        elif self.products is not None:
            A, B = saved.pop()
            p = self.products
            gs = g[:, None] if p.sign is None else g[:, None] * p.sign
            if p.a.needed:
                p.a.scatter_add(grad, gs * B)
            if p.b.needed:
                p.b.scatter_add(grad, gs * A)

    def _cell_gradients(self, g: Floats, rows: int, cols: int) -> Floats:
        """The outputs' gradient as a (rows, cols) matrix over the matmul's cells (0 where no node)."""
        mm = self.matmul
        assert mm is not None
        if mm.full:
            return g.reshape(rows, cols)
        G = np.zeros((rows, cols))
        G[mm.row_of, mm.col_of] = g
        return G

    def _backward_dense(self, grad: Floats, g: Floats, A: Floats, B: Floats) -> None:
        mm = self.matmul
        assert mm is not None
        G = self._cell_gradients(g, A.shape[0], B.shape[0])
        if mm.a.needed:
            mm.a.scatter_add(grad, G @ B)
        if mm.b.needed:
            mm.b.scatter_add(grad, G.T @ A)

    # ---- errors -------------------------------------------------------------------
    def diagnose(self, val: Floats) -> None:
        """Raise for the first output that is not finite."""
        bad = ~np.isfinite(val[self.out])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise OpOverflowError(
                f"+/*/dot: a sum of products (compiled from +, -, *, dot and sum nodes) is "
                f"{float(val[self.out][i])}, beyond float64; scale the inputs or parameters down"
            )

    def _operand_rows(self, val: Floats) -> tuple[Floats, Floats, Floats] | None:
        """Per node: the product operands a, b (n, Lp) and signs, or None without products."""
        mm = self.matmul
        if mm is not None:
            A, B = mm.a.gather(val), mm.b.gather(val)
            cells = np.arange(self.n)
            r = cells // B.shape[0] if mm.row_of is None else mm.row_of
            c = cells % B.shape[0] if mm.col_of is None else mm.col_of
            return A[r], B[c], np.ones((self.n, A.shape[1]))
        p = self.products
        if p is None:
            return None
        A, B = p.a.gather(val), p.b.gather(val)
        return A, B, np.ones(A.shape) if p.sign is None else np.broadcast_to(p.sign, A.shape)

    def gradient_error(self, val: Floats, grad: Floats) -> ArithmeticError | None:
        """The error for the first product term that passes a non-finite gradient to an operand, if any."""
        rows = self._operand_rows(val)
        if rows is None:
            return None  # plain terms pass a finite gradient on unchanged (times ±1)
        A, B, sign = rows
        gs = grad[self.out][:, None] * sign
        for position, local in ((0, B), (1, A)):
            share = gs * local
            bad = np.argwhere(~np.isfinite(share))
            if bad.size:
                t, k = map(int, bad[0])
                a, b = float(A[t, k]), float(B[t, k])
                return gradient_error(self.source, [a, b], a * b, position, float(local[t, k]), float(gs[t, k]))
        return None

    def describe(self) -> str:
        """The ops these nodes were compiled from, for messages."""
        return "+" if self.products is None and self.matmul is None else self.source

    @property
    def nbytes(self) -> int:
        """Bytes held by the index and sign arrays."""
        total = sum(ix.nbytes for ix in self._indices())
        signs = [self.products.sign if self.products else None, self.linear.sign if self.linear else None]
        total += sum(s.nbytes for s in signs if s is not None)
        if self.matmul is not None:
            total += sum(x.nbytes for x in (self.matmul.row_of, self.matmul.col_of) if x is not None)
        return total
