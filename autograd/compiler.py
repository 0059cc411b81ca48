"""``autograd.compile`` (this module: ``autograd.compiler``): trace a scalar graph once, replay forward and backward with numpy.

A scalar ``Value`` graph is the clearest picture of backprop and the slowest
way to run it.  Most training graphs have the same shape every step, so this
module turns that shape into arrays once and then evaluates it group by group::

    fn = compile(loss, inputs=xs)     # xs: the input leaves loss was built from
    opt.zero_grad(); fn(batch); opt.step()   # batch: one number per input

1. **Trace.**  ``topological_order(root)`` gives every node.  Leaves listed in
   ``inputs`` take new values on every call; every other leaf is a
   *parameter*: its current ``.data`` is read on every call (optimizers change
   it between steps) and ∂root/∂p is added to its ``.grad``, exactly what
   eager ``backward()`` does.  Constants made from Python numbers are leaves
   too, so they count as parameters unless you pass ``parameters=`` (then the
   other leaves are constants frozen at their trace-time value, without
   ``.grad``).
2. **Flatten.**  ``+``, ``-``, unary minus, ``*``, ``dot`` and ``sum`` nodes are
   rewritten as sums of terms ``Σ ±aₖ·bₖ`` (a plain operand is a term with
   b = 1), kept in the eager evaluation order.  An operand that is itself
   such a sum, used only here, is inlined where that keeps the eager
   rounding (a single term anywhere, a longer sum as the leftmost operand),
   so micrograd's 784-long chain of ``+`` nodes becomes one node with 784
   product terms.  The chain's intermediate nodes pass the gradient through
   unchanged (local derivative 1), so nothing is lost by skipping them.
3. **Group.**  Nodes are grouped by topological level and op (sums by their
   term pattern).  A group is computed with one numpy call per op over
   index arrays; sums whose operand rows repeat (a dense layer: each
   neuron's weight row meets each sample's input row) become one
   ``numpy.matmul``.
4. **Lay out.**  Every node gets a slot in one float64 array.  Weight
   matrices, input matrices and each group's outputs get contiguous slots,
   which turns most gathers and scatters into views.
5. **Run.**  Forward over the groups in level order, one finiteness check,
   backward in reverse — only through nodes a parameter (or, with
   ``input_grads=True``, an input) feeds — with scatter-adds that handle
   repeated indices (``np.bincount`` on de-duplicated targets, never plain
   fancy ``+=``, which loses updates).

**Same semantics.**  Data-dependent ops (relu, abs, leaky_relu, powers and
sqrt at 0) are evaluated per call from the new values with the eager
derivatives (relu' = 0 at 0, abs' = sign, sqrt' = inf at 0, 0·inf = 0 where
the eager engine skips a zero gradient).  A domain error (log of a number
<= 0, division by zero, a negative base, overflow) raises the eager engine's
own error, produced by the eager op on the first offending element.

**Same numbers.**  With ``exact=True`` (the default) the forward pass is bit
for bit the eager one except inside matmul blocks and sums of more than 32
terms over several nodes: elementwise ops whose numpy kernels differ from
the C library in the last bit (tanh, exp, log, powers, sigmoid, softplus)
map the eager float rule over the elements, and sums add left to right.
Gradients agree with eager ``backward()`` to rounding (a shared node's
contributions are added in another order).  ``exact=False`` uses numpy's
kernels throughout: faster on transcendental-heavy graphs, equal to ~1 ulp.

**What is baked in.**  Python control flow in *your* code is fixed at trace
time: an ``if`` on a value (bce's clamp, hinge's label check), a loop whose
length depends on data, a dropout mask — the compiled function replays the
branch taken while tracing.  Re-trace when the shape of the computation
changes.  What can be detected is checked: the number of input values, a
listed parameter that the traced graph does not contain, inputs that are
not leaves, non-finite inputs and parameters.

Numpy is imported by this module only; ``import autograd`` stays
standard-library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np

from . import ops as _ops
from .backward import topological_order
from .errors import OpOverflowError
from .value import NARY, Value

__all__ = ["compile", "CompiledGraph"]

_get_data = attrgetter("data")

# Kinds of traced node.
_LEAF, _ELEM, _SOP = 0, 1, 2


# ---------------------------------------------------------------------------------
# numpy kernels: one per eager op, with the eager op's derivative conventions
# ---------------------------------------------------------------------------------


def _sigmoid_np(x: np.ndarray) -> np.ndarray:
    # Same stable formula as the eager op: exp only ever sees -|x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _libm(f: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """``f`` (a C-library function from ``math``) mapped over an array: the eager engine's bits."""
    return np.fromiter(map(f, x.tolist()), np.float64, x.size)


def _sigmoid_exact(x: np.ndarray) -> np.ndarray:
    # The eager formula with the C library's exp; the rest is IEEE arithmetic, exact in numpy too.
    e = _libm(math.exp, -np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus_exact(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0) + _libm(math.log1p, _libm(math.exp, -np.abs(x)))


class _Kernel:
    """The numpy form of one eager op: forward, local derivatives and conventions.

    ``local(x, out)`` (unary) or ``local(x, y, out)`` (binary) returns one array
    (or number) per operand.  ``infinite_local`` marks ops whose derivative can
    be inf (sqrt at 0, x**0.5 at 0): eager backward skips nodes whose gradient
    is 0, so 0·inf must give 0 there, not nan.  ``invalid(x, y)`` flags inputs
    that numpy would compute finitely but the eager op rejects.

    numpy's SIMD ``tanh``, ``exp``, ``log`` and ``power`` differ from the C
    library's in the last bit for a few percent of inputs; ill-conditioned
    graphs (1 - tanh² near saturation) magnify that.  ``libm_forward`` /
    ``libm_local`` mark the ops whose exact mode maps the eager op's own
    float rule over the elements instead, so values are bit-for-bit eager's.
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
        op: _ops.Op,
        arity: int,
        forward: Callable,
        local: Callable,
        infinite_local: bool = False,
        invalid: Callable | None = None,
        libm_forward: bool = False,
        libm_local: bool = False,
        scalar: Callable | None = None,
        exact_forward: Callable | None = None,
        exact_local: Callable | None = None,
    ) -> None:
        self.op = op
        self.arity = arity
        self.forward = forward
        self.local = local
        self.infinite_local = infinite_local
        self.invalid = invalid
        self.libm_forward = libm_forward
        self.libm_local = libm_local
        # scalar(*lists) -> iterator of floats: the eager op's float result on inputs already
        # known to be valid (so the eager checks can be skipped); default: the eager op itself.
        self.scalar = scalar if scalar is not None else (lambda *lists: map(op.forward, *lists))
        # Or whole-array versions of the same: numpy arithmetic (exact in IEEE) around libm maps.
        self.exact_forward = exact_forward
        self.exact_local = exact_local


def _param(op: _ops.Op) -> float:
    """The number a parameterized op (``**n``, ``c**``, ``leaky_relu(s)``) was built with."""
    if op.param is None:
        raise TypeError(f"compile: op {op.name!r} carries no parameter; the op table changed")
    return float(op.param)


def _pow_const_kernel(op: _ops.Op) -> _Kernel:
    n = _param(op)
    if n == 2.0:
        forward = np.square
    else:

        def forward(x):
            return np.power(x, n)

    if n == 0.0:

        def local(x, out):
            return 0.0
    elif n == 1.0:

        def local(x, out):
            return 1.0
    elif n == 2.0:

        def local(x, out):
            return 2.0 * x
    elif n < 1.0:

        def local(x, out):
            return np.where(x == 0.0, math.inf, n * np.power(x, n - 1.0))
    else:

        def local(x, out):
            return n * np.power(x, n - 1.0)

    trivial = n in (0.0, 1.0)
    return _Kernel(
        op,
        1,
        forward,
        local,
        infinite_local=n < 1.0,
        libm_forward=not trivial,
        libm_local=n not in (0.0, 1.0, 2.0),
        scalar=lambda xl: map(pow, xl, repeat(n)),
    )


def _rpow_const_kernel(op: _ops.Op) -> _Kernel:
    c = _param(op)
    log_c = math.log(c) if c > 0.0 else 0.0

    def forward(x):
        return np.power(c, x)

    def local(x, out):
        return 0.0 if c == 0.0 else out * log_c

    return _Kernel(op, 1, forward, local, libm_forward=True, scalar=lambda xl: map(pow, repeat(c), xl))


def _leaky_kernel(op: _ops.Op) -> _Kernel:
    s = _param(op)

    def forward(x):
        return np.where(x > 0.0, x, s * x)

    def local(x, out):
        return np.where(x > 0.0, 1.0, s)

    return _Kernel(op, 1, forward, local)


def _pow_local(x, y, out):
    at0 = x == 0.0
    dx = np.where(at0 & (y < 1.0), np.where(y > 0.0, math.inf, 0.0), y * np.power(x, y - 1.0))
    dy = np.where(at0, 0.0, out * np.log(np.where(at0, 1.0, x)))
    return dx, dy


_FIXED: dict[int, _Kernel] = {
    id(k.op): k
    for k in (
        _Kernel(_ops.ABS, 1, np.abs, lambda x, out: np.sign(x)),
        _Kernel(_ops.EXP, 1, np.exp, lambda x, out: out, libm_forward=True, scalar=partial(map, math.exp)),
        _Kernel(_ops.LOG, 1, np.log, lambda x, out: 1.0 / x, libm_forward=True, scalar=partial(map, math.log)),
        _Kernel(_ops.SQRT, 1, np.sqrt, lambda x, out: 0.5 / out, infinite_local=True),
        _Kernel(_ops.TANH, 1, np.tanh, lambda x, out: 1.0 - out * out, libm_forward=True),
        _Kernel(
            _ops.SIGMOID,
            1,
            _sigmoid_np,
            lambda x, out: out * (1.0 - out),
            libm_forward=True,
            exact_forward=_sigmoid_exact,
        ),
        _Kernel(_ops.RELU, 1, lambda x: np.where(x > 0.0, x, 0.0), lambda x, out: (x > 0.0).astype(np.float64)),
        _Kernel(
            _ops.SOFTPLUS,
            1,
            lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
            lambda x, out: _sigmoid_np(x),
            libm_forward=True,
            libm_local=True,
            exact_forward=_softplus_exact,
            exact_local=lambda x, out: _sigmoid_exact(x),
        ),
        _Kernel(_ops.SIN, 1, np.sin, lambda x, out: np.cos(x)),
        _Kernel(_ops.COS, 1, np.cos, lambda x, out: -np.sin(x)),
        _Kernel(_ops.DIV, 2, np.divide, lambda x, y, out: (1.0 / y, -out / y)),
        _Kernel(
            _ops.POW,
            2,
            np.power,
            _pow_local,
            infinite_local=True,
            invalid=lambda x, y: x < 0.0,
            libm_forward=True,
            libm_local=True,
            scalar=partial(map, pow),
        ),
    )
}


def _kernel_for(op: _ops.Op, cache: dict) -> _Kernel:
    """The numpy kernel of an elementwise eager op (cached per op object)."""
    k = cache.get(id(op))
    if k is not None:
        return k
    k = _FIXED.get(id(op))
    if k is None:
        name = op.name
        if name.startswith("**"):
            k = _pow_const_kernel(op)
        elif name.endswith("**"):
            k = _rpow_const_kernel(op)
        elif name.startswith("leaky_relu("):
            k = _leaky_kernel(op)
        else:
            raise TypeError(
                f"compile: op {name!r} has no numpy kernel; compile supports the op table "
                f"({', '.join(sorted(_ops.TABLE))}, **n, c**, leaky_relu(s))"
            )
    cache[id(op)] = k
    return k


# ---------------------------------------------------------------------------------
# index arrays that become views when the layout is contiguous
# ---------------------------------------------------------------------------------


def _range_start(flat: np.ndarray) -> int | None:
    """``s`` when ``flat`` is exactly ``s, s+1, ..., s+len-1``, else None."""
    if flat.size == 0:
        return None
    s = int(flat[0])
    if flat[-1] - s != flat.size - 1:
        return None
    if flat.size > 1 and not np.array_equal(flat, np.arange(s, s + flat.size)):
        return None
    return s


class _Index:
    """Where a group reads (gather) or adds (scatter) its operands in the slot array.

    Built once per index array: a slice view when the slots are a contiguous
    range (row- or column-major), a plain fancy index when they are unique,
    and a de-duplicated ``bincount`` scatter when a slot repeats (a weight
    shared by many nodes), so repeated updates are summed, not lost.
    """

    __slots__ = ("idx", "shape", "mode", "start", "uniq", "inverse", "val_view", "grad_view", "needed")

    def __init__(self, idx: np.ndarray) -> None:
        self.idx = np.ascontiguousarray(idx, dtype=np.intp)
        self.shape = self.idx.shape
        self.mode = "take"
        self.start = None
        self.uniq = self.inverse = None
        self.val_view = self.grad_view = None
        self.needed = True  # does any slot read here need a gradient? (set by mark_needed)
        flat = self.idx.ravel()
        s = _range_start(flat)
        if s is not None:
            self.mode, self.start = "slice", s
        elif self.idx.ndim == 2 and _range_start(self.idx.T.ravel()) is not None:
            self.mode, self.start = "slice_t", _range_start(self.idx.T.ravel())
        if self.mode == "take":
            uniq, inverse = np.unique(flat, return_inverse=True)
            if uniq.size != flat.size:
                self.uniq, self.inverse = uniq, inverse.ravel()

    def bind(self, val: np.ndarray, grad: np.ndarray) -> None:
        """Make the views into the (persistent) slot arrays."""
        if self.mode == "take":
            return
        n = self.idx.size
        s = self.start
        if self.mode == "slice":
            self.val_view = val[s : s + n].reshape(self.shape)
            self.grad_view = grad[s : s + n].reshape(self.shape)
        else:
            rows, cols = self.shape
            self.val_view = val[s : s + n].reshape(cols, rows).T
            self.grad_view = grad[s : s + n].reshape(cols, rows).T

    def mark_needed(self, need: np.ndarray) -> np.ndarray:
        """Record whether any of these slots needs a gradient; return the per-row flags."""
        flags = need[self.idx]
        self.needed = bool(flags.any())
        return flags if flags.ndim == 1 else flags.any(axis=1)

    def gather(self, val: np.ndarray) -> np.ndarray:
        v = self.val_view
        return val.take(self.idx) if v is None else v

    def scatter_add(self, grad: np.ndarray, x: Any) -> None:
        v = self.grad_view
        if v is not None:
            v += x
        elif self.uniq is None:
            grad[self.idx] += x
        else:
            w = np.broadcast_to(x, self.shape).ravel()
            grad[self.uniq] += np.bincount(self.inverse, weights=w, minlength=self.uniq.size)

    @property
    def nbytes(self) -> int:
        extra = 0 if self.uniq is None else self.uniq.nbytes + self.inverse.nbytes
        return self.idx.nbytes + extra


# ---------------------------------------------------------------------------------
# groups: one numpy evaluation each
# ---------------------------------------------------------------------------------


class _ElemGroup:
    """Nodes of one elementwise op at one level: ``out = f(x[, y])``."""

    def __init__(self, kernel: _Kernel, out: slice, args: list[_Index], exact: bool) -> None:
        self.kernel = kernel
        self.out = out
        self.args = args
        self.n = out.stop - out.start
        self.libm_forward = exact and kernel.libm_forward
        self.libm_local = exact and kernel.libm_local

    def bind(self, val, grad):
        for a in self.args:
            a.bind(val, grad)

    def mark_needed(self, need: np.ndarray) -> None:
        """A node needs a gradient when one of its operands does; skip the rest in backward."""
        flags = [a.mark_needed(need) for a in self.args]
        need[self.out] = np.logical_or.reduce(flags)
        self.active = bool(need[self.out].any())

    def forward(self, val: np.ndarray, saved: list) -> None:
        xs = [a.gather(val) for a in self.args]
        k = self.kernel
        out = k.forward(*xs)
        if k.invalid is not None:
            bad = k.invalid(*xs)
            if bad.any():  # finite in numpy, an error in the eager engine: let diagnose() raise it
                out = np.where(bad, math.nan, out)
        if self.libm_forward and np.isfinite(out).all():
            # Valid everywhere: the eager op's own float rule, element by element.
            if k.exact_forward is not None:
                out = k.exact_forward(*xs)
            else:
                out = np.fromiter(k.scalar(*[x.tolist() for x in xs]), np.float64, self.n)
        val[self.out] = out
        saved.append(xs)

    def backward(self, val: np.ndarray, grad: np.ndarray, saved: list) -> None:
        xs = saved.pop()
        if not self.active:
            return
        g = grad[self.out]
        k = self.kernel
        out = val[self.out]
        if self.libm_local and k.exact_local is not None:
            local = (k.exact_local(*xs, out),)
        elif self.libm_local:
            table = np.array(list(map(k.op.local, *[x.tolist() for x in xs], out.tolist())), dtype=np.float64)
            local = tuple(table[:, j] for j in range(k.arity))
        else:
            local = k.local(*xs, out)
            if k.arity == 1:
                local = (local,)
        for a, d in zip(self.args, local):
            if not a.needed:
                continue
            if isinstance(d, float):
                if d == 0.0:
                    continue
                ga = g if d == 1.0 else g * d
            else:
                ga = g * d
                if k.infinite_local:
                    ga = np.where(g == 0.0, 0.0, ga)
            a.scatter_add(grad, ga)

    def diagnose(self, val: np.ndarray) -> None:
        """Raise the eager op's error for the first element the eager engine rejects."""
        xs = [np.broadcast_to(a.gather(val), (self.n,)) for a in self.args]
        bad = ~np.isfinite(val[self.out])
        if self.kernel.invalid is not None:
            bad |= self.kernel.invalid(*xs)
        if not bad.any():
            return
        i = int(np.flatnonzero(bad)[0])
        args = tuple(float(x[i]) for x in xs)
        op = self.kernel.op
        z = op.forward(*args)  # raises the eager engine's error for a domain error
        raise OpOverflowError(
            f"{op.name}: the result of {op.name}({', '.join(map(repr, args))}) is {z}, beyond float64; "
            "scale the inputs down"
        )

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.args)


#: Sums of up to this many terms are added left to right, one numpy call per term,
#: so they round exactly like the eager engine's chain of ``+`` nodes.
_SEQUENTIAL_TERMS = 32


class _SopGroup:
    """Sums of products with the same term pattern: ``out = Σ sₖ·a[k]·b[k] + Σ tⱼ·c[j]``.

    The terms keep the eager evaluation order (``terms``: ("p", k) or ("l", j)
    per position).  ``mode`` says how they are added: "seq" left to right
    with one numpy call per term (bit-for-bit eager), "row" left to right in
    Python for a single long sum, "sum" with numpy's pairwise ``sum``.  With
    ``dense`` set, the product part is ``A @ B.T`` where A holds the distinct
    a-rows (each neuron's weights) and B the distinct b-rows (each sample's
    inputs): one ``numpy.matmul`` instead of n·L multiplies.
    """

    def __init__(
        self,
        out: slice,
        pa: _Index | None,
        pb: _Index | None,
        ps: np.ndarray | None,
        la: _Index | None,
        ls: np.ndarray | None,
        terms: list[tuple[str, int]],
        mode: str,
        dense: tuple | None = None,
    ) -> None:
        self.out = out
        self.n = out.stop - out.start
        self.pa, self.pb, self.ps = pa, pb, ps  # (n, Lp) indices and signs (None: all +1)
        self.la, self.ls = la, ls  # (n, Ll) indices and signs (None: all +1)
        self.terms = terms
        self.mode = mode
        self.dense = dense  # (A rows index, B rows index, row of node, col of node, full?)
        if mode == "row":
            n_prod = sum(1 for kind, _ in terms if kind == "p")
            # Position in [products..., linears...] of each term in eager order.
            self.perm = np.array([k if kind == "p" else n_prod + k for kind, k in terms], dtype=np.intp)
            self.perm_identity = bool((self.perm == np.arange(len(terms))).all())

    def bind(self, val, grad):
        for ix in (self.pa, self.pb, self.la):
            if ix is not None:
                ix.bind(val, grad)
        if self.dense is not None:
            self.dense[0].bind(val, grad)
            self.dense[1].bind(val, grad)
        self.out_view = val[self.out]

    def mark_needed(self, need: np.ndarray) -> None:
        """A node needs a gradient when one of its terms does; skip the rest in backward."""
        flags = np.zeros(self.n, dtype=bool)
        for ix in (self.pa, self.pb, self.la):
            if ix is not None:
                flags |= ix.mark_needed(need)
        if self.dense is not None:
            ai, bi, r, c, full = self.dense
            fr, fc = ai.mark_needed(need), bi.mark_needed(need)
            flags |= (fr[:, None] | fc[None, :]).ravel() if full else fr[r] | fc[c]
        need[self.out] = flags
        self.active = bool(flags.any())

    def forward(self, val: np.ndarray, saved: list) -> None:
        out = self.out_view
        dense = self.dense
        prod = lin = None
        if dense is not None:
            ai, bi, r, c, full = dense
            A = ai.gather(val)
            B = bi.gather(val)
            if full:
                np.matmul(A, B.T, out=out.reshape(A.shape[0], B.shape[0]))
            else:
                out[...] = (A @ B.T)[r, c]
            saved.append((A, B))
            if self.la is not None:
                lin = self.la.gather(val)
                if self.ls is not None:
                    lin = lin * self.ls
                out += lin[:, 0] if lin.shape[1] == 1 else lin.sum(axis=1)
            return
        if self.pa is not None:
            A = self.pa.gather(val)
            B = self.pb.gather(val)
            prod = A * B
            if self.ps is not None:
                prod *= self.ps
            saved.append((A, B))
        if self.la is not None:
            lin = self.la.gather(val)
            if self.ls is not None:
                lin = lin * self.ls
        mode = self.mode
        if mode == "seq":
            first = True
            for kind, k in self.terms:
                col = prod[:, k] if kind == "p" else lin[:, k]
                if first:
                    out[...] = col
                    first = False
                else:
                    out += col
        elif mode == "row":
            parts = [x[0] for x in (prod, lin) if x is not None]
            row = parts[0] if len(parts) == 1 else np.concatenate(parts)
            if not self.perm_identity:
                row = row[self.perm]
            it = iter(row.tolist())
            total = next(it)
            for t in it:
                total += t
            out[0] = total
        else:
            if prod is not None:
                np.sum(prod, axis=1, out=out)
                if lin is not None:
                    out += lin.sum(axis=1)
            else:
                np.sum(lin, axis=1, out=out)

    def backward(self, val: np.ndarray, grad: np.ndarray, saved: list) -> None:
        has_products = self.dense is not None or self.pa is not None
        if not self.active:
            if has_products:
                saved.pop()
            return
        g = grad[self.out]
        if self.la is not None and self.la.needed:
            gl = g[:, None]
            self.la.scatter_add(grad, gl if self.ls is None else gl * self.ls)
        dense = self.dense
        if dense is not None:
            A, B = saved.pop()
            ai, bi, r, c, full = dense
            if full:
                G = g.reshape(A.shape[0], B.shape[0])
            else:
                G = np.zeros((A.shape[0], B.shape[0]))
                G[r, c] = g
            if ai.needed:
                ai.scatter_add(grad, G @ B)
            if bi.needed:
                bi.scatter_add(grad, G.T @ A)
        elif self.pa is not None:
            A, B = saved.pop()
            gs = g[:, None] if self.ps is None else g[:, None] * self.ps
            if self.pa.needed:
                self.pa.scatter_add(grad, gs * B)
            if self.pb.needed:
                self.pb.scatter_add(grad, gs * A)

    def diagnose(self, val: np.ndarray) -> None:
        bad = ~np.isfinite(val[self.out])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise OpOverflowError(
                f"+/*/dot: a sum of products (compiled from +, -, *, dot and sum nodes) is "
                f"{float(val[self.out][i])}, beyond float64; scale the inputs or parameters down"
            )

    @property
    def nbytes(self) -> int:
        total = 0
        for ix in (self.pa, self.pb, self.la):
            if ix is not None:
                total += ix.nbytes
        for arr in (self.ps, self.ls):
            if arr is not None:
                total += arr.nbytes
        if self.dense is not None:
            total += self.dense[0].nbytes + self.dense[1].nbytes
            total += sum(x.nbytes for x in self.dense[2:4] if x is not None)
        return total


# ---------------------------------------------------------------------------------
# tracing: the eager graph as sums of products and elementwise nodes
# ---------------------------------------------------------------------------------

_LINEAR = {id(_ops.ADD), id(_ops.SUB), id(_ops.MUL), id(_ops.NEG), id(_ops.DOT), id(_ops.SUM)}


class _Trace:
    """The traced graph in flat lists indexed by position in topological order.

    Every ``+ - * neg dot sum`` node becomes a sum of terms kept in the eager
    evaluation order: ``ta[i][k]·tb[i][k]·ts[i][k]`` for a product and
    ``ta[i][k]·ts[i][k]`` (``tb`` = -1) for a plain term.  An operand that is
    such a sum used by this node only is inlined when that keeps the eager
    rounding: always for a single term (``w*x`` inside a chain), and as the
    leftmost operand for a longer sum (``((b + w0·x0) + w1·x1) + ...`` is
    exactly a left-to-right sum).  Negation is exact, so ``-`` and ``neg``
    inline too.
    """

    def __init__(self, root: Value) -> None:
        order = topological_order(root)
        self.order = order
        n = len(order)
        index = {v: i for i, v in enumerate(order)}
        self.index = index
        uses = [0] * n
        for v in order:
            a = v._a
            if a is None:
                continue
            b = v._b
            if b is None:
                uses[index[a]] += 1
            elif b is NARY:
                for c in a:
                    uses[index[c]] += 1
            else:
                uses[index[a]] += 1
                uses[index[b]] += 1
        kind = [_LEAF] * n
        elem_op: dict[int, _ops.Op] = {}
        elem_args: dict[int, tuple] = {}
        # Per node: term operands a, b (-1 for a plain term) and signs; None once moved away.
        ta: list = [None] * n
        tb: list = [None] * n
        ts: list = [None] * n
        absorbed = bytearray(n)
        linear = _LINEAR
        ADD, SUB, MUL, NEG, DOT = _ops.ADD, _ops.SUB, _ops.MUL, _ops.NEG, _ops.DOT
        SOP = _SOP

        def take(i: int, j: int, sign: float) -> None:
            """Start node i's terms as node j's (the lists are moved, not copied: long chains stay linear)."""
            absorbed[j] = 1
            ta[i], tb[i], ts[i] = ta[j], tb[j], ts[j]
            ta[j] = tb[j] = ts[j] = None
            if sign != 1.0:
                ts[i][:] = [-x for x in ts[i]]

        def term(i: int, j: int, sign: float, first: bool) -> None:
            """Append operand j to node i: inlined when exact, else as a plain term."""
            if kind[j] == SOP and uses[j] == 1 and (first or len(ta[j]) == 1):
                absorbed[j] = 1
                ta[i] += ta[j]
                tb[i] += tb[j]
                ts[i] += ts[j] if sign == 1.0 else [-x for x in ts[j]]
                ta[j] = tb[j] = ts[j] = None
            else:
                ta[i].append(j)
                tb[i].append(-1)
                ts[i].append(sign)

        for i, v in enumerate(order):
            op = v._op
            if op is None:
                continue
            if id(op) not in linear:
                kind[i] = _ELEM
                elem_op[i] = op
                b = v._b
                elem_args[i] = (index[v._a],) if b is None else (index[v._a], index[b])
                continue
            kind[i] = SOP
            if op is ADD or op is SUB:
                j, k = index[v._a], index[v._b]
                if kind[j] == SOP and uses[j] == 1:
                    # The hot path of a chain: move j's lists to i, then append k inline.
                    absorbed[j] = 1
                    la, lb, ls_ = ta[j], tb[j], ts[j]
                    ta[j] = tb[j] = ts[j] = None
                    ta[i], tb[i], ts[i] = la, lb, ls_
                else:
                    ta[i], tb[i], ts[i] = la, lb, ls_ = [j], [-1], [1.0]
                sign = 1.0 if op is ADD else -1.0
                if kind[k] == SOP and uses[k] == 1 and len(ta[k]) == 1:
                    absorbed[k] = 1
                    la.append(ta[k][0])
                    lb.append(tb[k][0])
                    ls_.append(ts[k][0] * sign)
                    ta[k] = tb[k] = ts[k] = None
                else:
                    la.append(k)
                    lb.append(-1)
                    ls_.append(sign)
            elif op is MUL:
                ta[i], tb[i], ts[i] = [index[v._a]], [index[v._b]], [1.0]
            elif op is NEG:
                j = index[v._a]
                if kind[j] == SOP and uses[j] == 1:
                    take(i, j, -1.0)
                else:
                    ta[i], tb[i], ts[i] = [j], [-1], [-1.0]
            elif op is DOT:
                xs = v._a
                m = len(xs) // 2
                ids = [index[c] for c in xs]
                ta[i], tb[i], ts[i] = [], [], []
                if len(xs) % 2:  # the eager dot adds left to right starting from the bias
                    term(i, ids[-1], 1.0, True)
                ta[i] += ids[:m]
                tb[i] += ids[m : 2 * m]
                ts[i] += [1.0] * m
            else:  # SUM
                ta[i], tb[i], ts[i] = [], [], []
                for pos, c in enumerate(v._a):
                    term(i, index[c], 1.0, pos == 0)
        self.n = n
        self.kind = kind
        self.absorbed = absorbed
        self.elem_op, self.elem_args = elem_op, elem_args
        self.ta, self.tb, self.ts = ta, tb, ts


# ---------------------------------------------------------------------------------
# the compiled function
# ---------------------------------------------------------------------------------


class CompiledGraph:
    """A traced graph replayed with numpy: ``fn(input_values)`` runs forward and backward.

    Calling it reads every parameter's current ``.data``, evaluates the graph
    at the new input values, sets ``root.data`` and adds ``1`` to
    ``root.grad`` and ∂root/∂p to ``p.grad`` for every parameter p — the
    same effect on parameters as eager ``root.backward()``, so
    ``zero_grad(); fn(x); opt.step()`` works unchanged.  Intermediate nodes
    and the input ``Value``s are not written (their numbers live in arrays);
    with ``input_grads=True``, ``input_grad`` holds ∂root/∂input of the last
    call (else None).  ``run()`` is the same step on arrays, touching no
    ``Value``: with thousands of parameters, reading and writing them one
    ``Value`` at a time costs more than the arithmetic.

    ``fn.root`` keeps the traced ``Value`` graph alive; set ``fn.root = None``
    to free it (the call then only returns the root's value) — the compiled
    form needs nothing from it.  ``fn.parameters`` lists the parameters in
    the order ``run`` uses (weight matrices contiguous), ``fn.inputs`` the
    inputs in the order given.

    Not thread-safe: one call at a time per compiled graph (it reuses its
    arrays between calls).
    """

    def __init__(
        self,
        root: Value,
        inputs: Sequence[Value],
        parameters: Sequence[Value] | None,
        exact: bool = True,
        input_grads: bool = False,
    ) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"compile: root must be a Value, got {type(root).__name__}")
        inputs = list(inputs)
        for k, x in enumerate(inputs):
            if not isinstance(x, Value):
                raise TypeError(f"compile: inputs[{k}] must be a Value, got {type(x).__name__}")
            if x._op is not None:
                raise ValueError(
                    f"compile: inputs[{k}] ({x!r}) is computed by op {x.op!r}; inputs must be "
                    "leaves (Values created from numbers)"
                )
        if len(set(inputs)) != len(inputs):
            raise ValueError("compile: inputs lists the same Value twice; list each input once")
        tr = _Trace(root)
        index = tr.index
        # An input the root does not depend on is allowed (its value is ignored, its gradient is 0),
        # as in the eager engine.
        input_set = set(inputs)
        leaves = [v for v in tr.order if v._op is None and v not in input_set]
        if parameters is None:
            params = leaves
            consts: list[Value] = []
        else:
            params = list(parameters)
            for k, p in enumerate(params):
                if not isinstance(p, Value):
                    raise TypeError(f"compile: parameters[{k}] must be a Value, got {type(p).__name__}")
            if len(set(params)) != len(params):
                raise ValueError("compile: parameters lists the same Value twice")
            both = [k for k, p in enumerate(params) if p in input_set]
            if both:
                raise ValueError(
                    f"compile: parameters {both[:10]} are also listed in inputs; a leaf is "
                    "either an input (new value each call) or a parameter (read from .data)"
                )
            absent = [k for k, p in enumerate(params) if p not in index or p._op is not None]
            if absent:
                names = [params[k].label or f"#{k}" for k in absent[:10]]
                raise ValueError(
                    f"compile: {len(absent)} parameters are not leaves of the traced graph "
                    f"(e.g. {names}); the traced code did not use them (a branch or dropout at trace "
                    "time?), so the compiled function would silently give them no gradient. "
                    "Trace with the code path that uses them, or leave them out of parameters="
                )
            pset = set(params)
            consts = [v for v in leaves if v not in pset]
        self.root = root
        self.inputs = inputs
        self._input_set = input_set
        self.parameters = params
        self.n_traced = tr.n
        self.exact = exact
        self.input_grads = input_grads
        self._build(tr, inputs, params, consts)

    # ---- layout and groups --------------------------------------------------------
    def _build(self, tr: _Trace, inputs: list, params: list, consts: list) -> None:
        n = tr.n
        kind, absorbed, index, order = tr.kind, tr.absorbed, tr.index, tr.order
        ta, tb, ts = tr.ta, tr.tb, tr.ts
        elem_args = tr.elem_args
        # Levels: leaves 0, every other live node 1 + its operands' highest level.
        level = [0] * n
        for i in range(n):
            k = kind[i]
            if k == _LEAF or absorbed[i]:
                continue
            if k == _ELEM:
                level[i] = 1 + max([level[j] for j in elem_args[i]])
            else:
                m = max([level[j] for j in ta[i]])
                bs = [level[j] for j in tb[i] if j >= 0]
                if bs:
                    m = max(m, max(bs))
                level[i] = m + 1
        kernels: dict = {}
        groups: dict[tuple, list[int]] = {}
        for i in range(n):
            k = kind[i]
            if k == _LEAF or absorbed[i]:
                continue
            if k == _ELEM:
                _kernel_for(tr.elem_op[i], kernels)
                key = (level[i], 0, id(tr.elem_op[i]), ())
            else:
                key = (level[i], 1, len(ta[i]), tuple([p for p, j in enumerate(tb[i]) if j < 0]))
            groups.setdefault(key, []).append(i)
        keys = sorted(groups)
        # Dense (matmul) structure of sum-of-product groups, found before slots exist.
        dense_info: dict[tuple, tuple] = {}
        for key in keys:
            if key[1] != 1:
                continue
            lin_pos = set(key[3])
            prod_pos = [p for p in range(key[2]) if p not in lin_pos]
            members = groups[key]
            if len(prod_pos) < 2 or len(members) < 2:
                continue
            if any(ts[i][p] != 1.0 for i in members for p in prod_pos):
                continue
            rows: dict[tuple, int] = {}
            cols: dict[tuple, int] = {}
            rc = []
            for i in members:
                a_, b_ = ta[i], tb[i]
                r = rows.setdefault(tuple([a_[p] for p in prod_pos]), len(rows))
                c = cols.setdefault(tuple([b_[p] for p in prod_pos]), len(cols))
                rc.append((r, c))
            if len(set(rc)) != len(rc) or len(rows) * len(cols) > 2 * len(members):
                continue
            dense_info[key] = (list(rows), list(cols), rc)
        # Slots: inputs, then parameters in the order the dense blocks read them
        # (so weight matrices are contiguous), then constants (and a 1.0), then group outputs.
        slot = [-1] * n
        nxt = 0
        for x in inputs:
            j = index.get(x)
            if j is not None:
                slot[j] = nxt
            nxt += 1
        is_param = bytearray(n)
        param_ids = [index[p] for p in params]
        for j in param_ids:
            is_param[j] = 1
        param_order: list[int] = []
        for key in keys:
            if key in dense_info:
                rows, cols, _ = dense_info[key]
                for block in (rows, cols):
                    for row in block:
                        for j in row:
                            if is_param[j] and slot[j] < 0:
                                slot[j] = nxt
                                nxt += 1
                                param_order.append(j)
        for j in param_ids:
            if slot[j] < 0:
                slot[j] = nxt
                nxt += 1
                param_order.append(j)
        const_ids = [index[c] for c in consts]
        for j in const_ids:
            slot[j] = nxt
            nxt += 1
        self._n_leaves = nxt
        self.parameters = [order[j] for j in param_order]
        self._param_start = len(inputs)
        exact = self.exact
        steps: list = []
        for key in keys:
            members = groups[key]
            if key[1] == 0:
                members.sort(key=lambda i: [slot[j] for j in elem_args[i]])
                start = nxt
                for i in members:
                    slot[i] = nxt
                    nxt += 1
                idx = [
                    _Index(np.array([slot[elem_args[i][a]] for i in members], dtype=np.intp))
                    for a in range(len(elem_args[members[0]]))
                ]
                steps.append(_ElemGroup(kernels[key[2]], slice(start, nxt), idx, exact))
                continue
            L, lin_pos = key[2], key[3]
            lin_set = set(lin_pos)
            prod_pos = [p for p in range(L) if p not in lin_set]
            dense = dense_info.get(key)
            if dense is not None:
                rows, cols, rc = dense
                rperm = sorted(range(len(rows)), key=lambda r: [slot[j] for j in rows[r]])
                cperm = sorted(range(len(cols)), key=lambda c: [slot[j] for j in cols[c]])
                rrank = {r: k for k, r in enumerate(rperm)}
                crank = {c: k for k, c in enumerate(cperm)}
                pos = sorted(range(len(members)), key=lambda t: (rrank[rc[t][0]], crank[rc[t][1]]))
                members[:] = [members[t] for t in pos]
                full = len(members) == len(rows) * len(cols)
                r_of = None if full else np.array([rrank[rc[t][0]] for t in pos], dtype=np.intp)
                c_of = None if full else np.array([crank[rc[t][1]] for t in pos], dtype=np.intp)
                A_idx = _Index(np.array([[slot[j] for j in rows[r]] for r in rperm], dtype=np.intp))
                B_idx = _Index(np.array([[slot[j] for j in cols[c]] for c in cperm], dtype=np.intp))
                dense = (A_idx, B_idx, r_of, c_of, full)
            else:
                members.sort(key=lambda i: slot[ta[i][0]] if tb[i][0] < 0 else (slot[tb[i][0]], slot[ta[i][0]]))
            start = nxt
            for i in members:
                slot[i] = nxt
                nxt += 1
            la_idx = ls_arr = pa_idx = pb_idx = ps_arr = None
            if lin_pos:
                la_idx = _Index(np.array([[slot[ta[i][p]] for p in lin_pos] for i in members], dtype=np.intp))
                lsa = np.array([[ts[i][p] for p in lin_pos] for i in members], dtype=np.float64)
                ls_arr = None if (lsa == 1.0).all() else lsa
            if prod_pos and dense is None:
                pa_idx = _Index(np.array([[slot[ta[i][p]] for p in prod_pos] for i in members], dtype=np.intp))
                pb_idx = _Index(np.array([[slot[tb[i][p]] for p in prod_pos] for i in members], dtype=np.intp))
                psa = np.array([[ts[i][p] for p in prod_pos] for i in members], dtype=np.float64)
                ps_arr = None if (psa == 1.0).all() else psa
            terms = []
            kp = kl = 0
            for p in range(L):
                if p in lin_set:
                    terms.append(("l", kl))
                    kl += 1
                else:
                    terms.append(("p", kp))
                    kp += 1
            if dense is not None:
                mode = "dense"
            elif not exact or L == 1:
                mode = "sum"
            elif L <= _SEQUENTIAL_TERMS:
                mode = "seq"
            elif len(members) == 1:
                mode = "row"
            else:
                mode = "sum"
            steps.append(_SopGroup(slice(start, nxt), pa_idx, pb_idx, ps_arr, la_idx, ls_arr, terms, mode, dense))
        self._steps = steps
        self._n_slots = nxt
        self._root_slot = slot[index[self.root]]
        self._val = np.zeros(nxt)
        self._grad = np.zeros(nxt)
        for j in const_ids:
            self._val[slot[j]] = order[j].data
        for s_ in steps:
            s_.bind(self._val, self._grad)
        # Which slots need a gradient: parameters (and inputs when asked), and every node
        # computed from one.  Backward skips the rest (e.g. the input side of a first layer).
        need = np.zeros(nxt, dtype=bool)
        need[self._param_start : self._param_start + len(params)] = True
        if self.input_grads:
            need[: len(inputs)] = True
        for s_ in steps:
            s_.mark_needed(need)
        self.input_grad = np.zeros(len(inputs)) if self.input_grads else None

    # ---- running ------------------------------------------------------------------
    def run(self, values: Any = None, params: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
        """Forward and backward without touching any ``Value``: returns
        ``(root value, ∂root/∂parameters, ∂root/∂inputs)`` as numpy arrays in the
        order of ``self.parameters`` and ``self.inputs``.

        ``values`` defaults to the inputs' current ``.data``; ``params``
        defaults to the parameters' current ``.data``.  The returned arrays
        are views into buffers reused by the next call: copy them to keep them.
        """
        val, grad = self._val, self._grad
        n_in = len(self.inputs)
        p0 = self._param_start
        p1 = p0 + len(self.parameters)
        if values is None:
            val[:n_in] = np.fromiter(map(_get_data, self.inputs), np.float64, n_in)
        else:
            x = np.asarray(values, dtype=np.float64)
            if x.size != n_in:
                raise ValueError(
                    f"compile: expected {n_in} input values (one per traced input, in the order of "
                    f"inputs=), got {x.size} (shape {x.shape}); the graph was traced for {n_in} inputs — "
                    "trace again for a different input size"
                )
            if not np.isfinite(x).all():
                raise ValueError("compile: input values must be finite; nan and inf would poison every gradient")
            val[:n_in] = x.ravel()
        if params is None:
            val[p0:p1] = np.fromiter([p.data for p in self.parameters], np.float64, p1 - p0)
        else:
            p = np.asarray(params, dtype=np.float64)
            if p.shape != (p1 - p0,):
                raise ValueError(f"compile: expected {p1 - p0} parameter values, got shape {p.shape}")
            val[p0:p1] = p
        saved: list = []
        with np.errstate(all="ignore"):
            for s in self._steps:
                s.forward(val, saved)
            if not np.isfinite(val).all():
                self._diagnose()
            grad.fill(0.0)
            grad[self._root_slot] += 1.0
            for s in reversed(self._steps):
                s.backward(val, grad, saved)
        return float(val[self._root_slot]), grad[p0:p1], (grad[:n_in] if self.input_grads else None)

    def _diagnose(self) -> None:
        val = self._val
        if not np.isfinite(val[: self._n_leaves]).all():
            bad = int(np.flatnonzero(~np.isfinite(val[: self._n_leaves]))[0])
            raise ValueError(
                f"compile: a parameter's .data is {val[bad]} (parameter or constant "
                f"#{bad - self._param_start}); parameters must be finite"
            )
        for s in self._steps:
            s.diagnose(val)
        raise OpOverflowError("compile: the forward pass produced a non-finite value")  # pragma: no cover

    def __call__(self, values: Any = None) -> float:
        """Run forward and backward at ``values`` (one number per traced input, any
        shape, read in C order; default: the inputs' current ``.data``).

        Sets ``root.data``, adds 1 to ``root.grad`` and ∂root/∂p to ``p.grad`` for
        every parameter (accumulating, like ``backward()``), stores ∂root/∂inputs
        in ``input_grad`` (with ``input_grads=True``) and returns the root's value.
        """
        out, gp, gx = self.run(values)
        for p, g in zip(self.parameters, gp.tolist()):
            p.grad += g
        if gx is not None:
            self.input_grad = gx.copy()
        root = self.root
        if root is not None:
            root.data = out
            if root._op is not None or root in self._input_set:  # a parameter root got its 1.0 above
                root.grad += 1.0
        return out

    # ---- introspection ------------------------------------------------------------
    @property
    def n_groups(self) -> int:
        """How many numpy evaluation groups the graph became (each one or a few numpy calls)."""
        return len(self._steps)

    @property
    def n_slots(self) -> int:
        """Slots in the value array: inputs, parameters, constants and surviving nodes."""
        return self._n_slots

    @property
    def nbytes(self) -> int:
        """Bytes held by the compiled form: value and gradient arrays plus index arrays."""
        return self._val.nbytes + self._grad.nbytes + sum(s.nbytes for s in self._steps)

    def __repr__(self) -> str:
        dense = sum(1 for s in self._steps if isinstance(s, _SopGroup) and s.dense is not None)
        return (
            f"CompiledGraph({self.n_traced} traced nodes -> {self.n_slots} slots in {self.n_groups} "
            f"groups ({dense} matmul), {len(self.inputs)} inputs, {len(self.parameters)} parameters)"
        )


def compile(
    root: Value,
    inputs: Iterable[Value] = (),
    parameters: Iterable[Value] | None = None,
    exact: bool = True,
    input_grads: bool = False,
) -> CompiledGraph:
    """Trace the graph under ``root`` once and return a ``CompiledGraph`` that replays it with numpy.

    ``inputs``: the leaves that take new values on each call, in the order the
    values will be passed.  ``parameters``: by default every other leaf (the
    eager engine gives every leaf a gradient, constants included); pass a
    list to restrict gradients to those leaves — the remaining leaves are
    then constants frozen at their trace-time value, and a listed parameter
    the graph does not contain is an error.

        fn = compile(loss, inputs=xs)          # xs: the input Values used to build loss
        model.zero_grad(); fn(batch); opt.step()

    ``exact``: bit-for-bit eager forward values outside matmul blocks (True)
    or numpy's own kernels, equal to ~1 ulp (False).  ``input_grads``: also
    compute ∂root/∂inputs (``fn.input_grad``); off by default, so a first
    layer's input side costs nothing.

    Control flow in the code that built the graph is fixed at trace time; see
    the module docstring.
    """
    return CompiledGraph(root, list(inputs), None if parameters is None else list(parameters), exact, input_grads)
