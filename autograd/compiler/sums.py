"""Replay of one sum-of-products group: ``out = Σ sₖ·aₖ·bₖ + Σ tⱼ·cⱼ``, term by term or as a matmul."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any, NamedTuple

import numpy as np

from .. import ops as _ops
from ..errors import OpOverflowError
from ..ops import Op
from .diagnose import Share
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


class SumGroup:
    """Sums with the same term pattern, evaluated together: what both kinds share.

    ``linear``: the plain terms; ``source``: the op the product terms came
    from (``*`` or ``dot``), named in error messages.
    """

    __slots__ = ("out", "n", "linear", "mode", "source", "active", "out_view")

    def __init__(self, out: slice, linear: Linear | None, mode: SumMode, source: Op) -> None:
        self.out = out
        self.n = out.stop - out.start
        self.linear = linear
        self.mode = mode
        self.source = source
        self.active = True  # does any output need a gradient? (set by mark_needed)
        self.out_view: Floats = np.empty(0)  # the outputs in the value array (set by bind)

    def indices(self) -> list[Index]:
        """Every index array the group reads through."""
        return [self.linear.a] if self.linear is not None else []

    def bind(self, val: Floats, grad: Floats) -> None:
        """Make the operand views and the output view into the slot arrays."""
        for ix in self.indices():
            ix.bind(val, grad)
        self.out_view = val[self.out]

    def mark_needed(self, need: Flags) -> None:
        """A node needs a gradient when one of its terms does; skip the rest in backward."""
        flags = self._needed_products(need)
        if self.linear is not None:
            flags |= self.linear.a.mark_needed(need)
        need[self.out] = flags
        self.active = bool(flags.any())

    def _needed_products(self, need: Flags) -> Flags:
        return np.zeros(self.n, dtype=bool)

    def diagnose(self, val: Floats) -> None:
        """Raise the eager engine's error for the first output that is not finite: the first
        product, or the first partial sum in the eager order, that overflows."""
        bad = np.flatnonzero(~np.isfinite(val[self.out]))
        if not bad.size:
            return
        total: float | None = None
        for a, b, sign in self.node_terms(val, int(bad[0])):
            if b is not None and not math.isfinite(a * b):
                raise _overflow(self.source.name, a, b)
            value = a if b is None else a * b
            if total is not None and not math.isfinite(total + sign * value):
                raise _overflow("+" if sign > 0 else "-", total, value)  # signs are ±1
            total = sign * value if total is None else total + sign * value
        raise OpOverflowError(f"+: a sum of products is {float(val[self.out][bad[0]])}, beyond float64")

    def node_terms(self, val: Floats, t: int) -> list[tuple[float, float | None, float]]:
        """Node t's terms (a, b or None for a plain term, sign), in the order it adds them."""
        return []

    def product_shares(self, val: Floats, g: Floats) -> list[Share]:
        """The shares of the product terms' operands (none here: see the subclasses)."""
        return []

    def shares(self, val: Floats, grad: Floats) -> list[Share]:
        """What each term operand receives in backward, term by term (for error messages)."""
        g, out = grad[self.out], val[self.out]
        result = []
        lin = self.linear
        if lin is not None and lin.a.needed:  # plain terms: named as a sum's operands
            vals = lin.a.gather(val)
            signs = np.ones(vals.shape) if lin.sign is None else np.broadcast_to(lin.sign, vals.shape)
            for k in range(vals.shape[1]):
                result.append(Share(_ops.SUM, k, lin.a.idx[:, k], vals, out, signs[:, k], g, g * signs[:, k]))
        return result + self.product_shares(val, g)

    @property
    def nbytes(self) -> int:
        """Bytes held by the index and sign arrays."""
        total = sum(ix.nbytes for ix in self.indices())
        return total + (self.linear.sign.nbytes if self.linear and self.linear.sign is not None else 0)


def _overflow(op: str, x: float, y: float) -> OpOverflowError:
    """The eager engine's words for ``op(x, y)`` beyond float64."""
    z = x + y if op == "+" else (x - y if op == "-" else x * y)
    return OpOverflowError(f"{op}: the result of {op}({x!r}, {y!r}) is {z}, beyond float64; scale the inputs down")


def _linear_row(lin: Linear | None, val: Floats, t: int) -> tuple[list[float], list[float]]:
    """Node t's plain-term values and signs."""
    if lin is None:
        return [], []
    vals = lin.a.gather(val)[t].tolist()
    return vals, [1.0] * len(vals) if lin.sign is None else lin.sign[t].tolist()


class TermsGroup(SumGroup):
    """Sums added term by term in the eager order (``order``: (Term, column) per position)."""

    __slots__ = ("products", "columns", "perm", "add_terms")

    def __init__(
        self,
        out: slice,
        products: Products | None,
        linear: Linear | None,
        order: list[tuple[Term, int]],
        mode: SumMode,
        source: Op,
    ) -> None:
        super().__init__(out, linear, mode, source)
        self.products = products
        # Resolved once: an Enum member lookup costs ~0.1 µs, too much per term per call.
        self.columns = [(kind is Term.PRODUCT, k) for kind, k in order]
        # ROW and SEQUENTIAL: position in [products..., linears...] of each term, if not the identity
        self.perm: Slots | None = None
        if mode in (SumMode.ROW, SumMode.SEQUENTIAL):
            n_prod = sum(1 for kind, _ in order if kind is Term.PRODUCT)
            perm = np.array([k if kind is Term.PRODUCT else n_prod + k for kind, k in order], dtype=np.intp)
            self.perm = None if (perm == np.arange(len(order))).all() else perm
        adders = {SumMode.SEQUENTIAL: self._add_sequential, SumMode.ROW: self._add_row}
        self.add_terms = adders.get(mode, self._add_pairwise)

    def indices(self) -> list[Index]:
        """Every index array the group reads through."""
        p = self.products
        return super().indices() + ([p.a, p.b] if p is not None else [])

    def _needed_products(self, need: Flags) -> Flags:
        if self.products is None:
            return np.zeros(self.n, dtype=bool)
        return self.products.a.mark_needed(need) | self.products.b.mark_needed(need)

    def forward(self, val: Floats, saved: list[Any]) -> None:
        """Compute the outputs; push the product operands for backward."""
        prod = lin = None
        p = self.products
        if p is not None:
            A = p.a.gather(val)
            B = p.b.gather(val)
            prod = A * B
            if p.sign is not None:
                prod *= p.sign
            saved.append((A, B))
        if self.linear is not None:
            lin = self.linear.a.gather(val)
            if self.linear.sign is not None:
                lin = lin * self.linear.sign
        self.add_terms(prod, lin)

    def _add_sequential(self, prod: Floats | None, lin: Floats | None) -> None:
        # the terms as columns in the eager order, added left to right: accumulate is sequential
        parts = [x for x in (prod, lin) if x is not None]
        terms = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        if self.perm is not None:
            terms = terms[:, self.perm]
        self.out_view[...] = np.add.accumulate(terms, axis=1)[:, -1]

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

    def backward(self, val: Floats, grad: Floats, saved: list[Any], careful: bool = False) -> None:
        """Add each term operand's share of the outputs' gradient (0·x is 0 here: x is a finite value)."""
        p = self.products
        if not self.active:
            if p is not None:
                saved.pop()
            return
        g = grad[self.out]
        lin = self.linear
        if lin is not None and lin.a.needed:  # plain terms: the gradient times their sign
            lin.a.scatter_add(grad, g[:, None] if lin.sign is None else g[:, None] * lin.sign)
        if p is not None:
            A, B = saved.pop()
            gs = g[:, None] if p.sign is None else g[:, None] * p.sign
            if p.a.needed:
                p.a.scatter_add(grad, gs * B)
            if p.b.needed:
                p.b.scatter_add(grad, gs * A)

    def node_terms(self, val: Floats, t: int) -> list[tuple[float, float | None, float]]:
        """Node t's terms (a, b or None for a plain term, sign), in the eager order."""
        lin_vals, lin_signs = _linear_row(self.linear, val, t)
        p = self.products
        prods: list[tuple[float, float | None, float]] = []
        if p is not None:
            a, b = p.a.gather(val)[t].tolist(), p.b.gather(val)[t].tolist()
            signs = [1.0] * len(a) if p.sign is None else p.sign[t].tolist()
            prods = list(zip(a, b, signs))
        return [prods[k] if is_product else (lin_vals[k], None, lin_signs[k]) for is_product, k in self.columns]

    def product_shares(self, val: Floats, g: Floats) -> list[Share]:
        """The shares of the product terms' operands."""
        p = self.products
        if p is None:
            return []
        A, B = p.a.gather(val), p.b.gather(val)
        sign = np.ones(A.shape) if p.sign is None else np.broadcast_to(p.sign, A.shape)
        return _product_shares(self.source, A, B, sign, g, (p.a, p.a.idx), (p.b, p.b.idx))

    @property
    def nbytes(self) -> int:
        """Bytes held by the index and sign arrays."""
        p = self.products
        return super().nbytes + (p.sign.nbytes if p is not None and p.sign is not None else 0)


class MatmulGroup(SumGroup):
    """Sums whose products are the cells of one ``A @ B.T`` (a dense layer): one ``numpy.matmul``."""

    __slots__ = ("matmul",)

    def __init__(self, out: slice, matmul: Matmul, linear: Linear | None, source: Op) -> None:
        super().__init__(out, linear, SumMode.DENSE, source)
        self.matmul = matmul

    def indices(self) -> list[Index]:
        """Every index array the group reads through."""
        return super().indices() + [self.matmul.a, self.matmul.b]

    def _needed_products(self, need: Flags) -> Flags:
        mm = self.matmul
        fr, fc = mm.a.mark_needed(need), mm.b.mark_needed(need)
        if mm.full:
            return (fr[:, None] | fc[None, :]).ravel()
        assert mm.row_of is not None and mm.col_of is not None
        return fr[mm.row_of] | fc[mm.col_of]

    def forward(self, val: Floats, saved: list[Any]) -> None:
        """Compute the outputs; push the two matrices for backward."""
        mm = self.matmul
        out = self.out_view
        A = mm.a.gather(val)
        B = mm.b.gather(val)
        if mm.full:
            np.matmul(A, B.T, out=out.reshape(A.shape[0], B.shape[0]))
        else:
            out[...] = (A @ B.T)[mm.row_of, mm.col_of]
        saved.append((A, B))
        lin = self.linear
        if lin is not None:
            t = lin.a.gather(val)
            if lin.sign is not None:
                t = t * lin.sign
            out += t[:, 0] if t.shape[1] == 1 else t.sum(axis=1)

    def backward(self, val: Floats, grad: Floats, saved: list[Any], careful: bool = False) -> None:
        """Add the shares of both matrices' operands (and the plain terms')."""
        A, B = saved.pop()
        if not self.active:
            return
        g = grad[self.out]
        lin = self.linear
        if lin is not None and lin.a.needed:  # plain terms: the gradient times their sign
            lin.a.scatter_add(grad, g[:, None] if lin.sign is None else g[:, None] * lin.sign)
        mm = self.matmul
        if mm.full:  # the outputs' gradient over the matmul's cells (0 where no node)
            G = g.reshape(A.shape[0], B.shape[0])
        else:
            G = np.zeros((A.shape[0], B.shape[0]))
            G[mm.row_of, mm.col_of] = g
        if mm.a.needed:
            mm.a.scatter_add(grad, G @ B)
        if mm.b.needed:
            mm.b.scatter_add(grad, G.T @ A)

    def node_terms(self, val: Floats, t: int) -> list[tuple[float, float | None, float]]:
        """Node t's terms: its cell's products (matmul adds them in its own order), then plain terms."""
        mm = self.matmul
        A, B = mm.a.gather(val), mm.b.gather(val)
        r = t // B.shape[0] if mm.row_of is None else int(mm.row_of[t])
        c = t % B.shape[0] if mm.col_of is None else int(mm.col_of[t])
        terms: list[tuple[float, float | None, float]] = [(a, b, 1.0) for a, b in zip(A[r].tolist(), B[c].tolist())]
        lin_vals, lin_signs = _linear_row(self.linear, val, t)
        return terms + [(x, None, s) for x, s in zip(lin_vals, lin_signs)]

    def product_shares(self, val: Floats, g: Floats) -> list[Share]:
        """The shares of the matrices' operands, node by node (each node is one cell)."""
        mm = self.matmul
        A, B = mm.a.gather(val), mm.b.gather(val)
        cells = np.arange(self.n)
        r = cells // B.shape[0] if mm.row_of is None else mm.row_of
        c = cells % B.shape[0] if mm.col_of is None else mm.col_of
        sign = np.ones((self.n, A.shape[1]))
        return _product_shares(self.source, A[r], B[c], sign, g, (mm.a, mm.a.idx[r]), (mm.b, mm.b.idx[c]))

    @property
    def nbytes(self) -> int:
        """Bytes held by the index arrays."""
        mm = self.matmul
        return super().nbytes + sum(x.nbytes for x in (mm.row_of, mm.col_of) if x is not None)


def _product_shares(
    op: Op, A: Floats, B: Floats, sign: Floats, g: Floats, a: tuple[Index, Slots], b: tuple[Index, Slots]
) -> list[Share]:
    """Shares of products ``sign·a·b`` ((n, L) each) in sums with upstream ``g``: a gets g·sign·b, b g·sign·a."""
    up = (g[:, None] * sign).ravel()
    inputs = np.stack([A.ravel(), B.ravel()], axis=1)
    out = (A * B).ravel()
    result = []
    for position, local, (ix, slots) in ((0, B.ravel(), a), (1, A.ravel(), b)):
        if ix.needed:
            result.append(Share(op, position, slots.ravel(), inputs, out, local, up, up * local))
    return result
