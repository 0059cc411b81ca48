"""``autograd.compile``: trace a scalar graph once, replay forward and backward with numpy.

A scalar ``Value`` graph is the clearest picture of backprop and the slowest
way to run it.  Most training graphs have the same shape every step, so this
module turns that shape into arrays once and then evaluates it group by group:

1. **Trace.**  ``topological_order(root)`` gives every node.  Leaves listed in
   ``inputs`` take new values on every call; every other leaf is a
   *parameter*: its current ``.data`` is read on every call (optimizers change
   it between steps) and ∂root/∂p is added to its ``.grad``, exactly what
   eager ``backward()`` does.  Constants made from Python numbers are leaves
   too, so they count as parameters unless you pass ``parameters=`` (then the
   other leaves are frozen constants and get no ``.grad``).
2. **Flatten.**  ``+``, ``-``, unary minus, ``*``, ``dot`` and ``sum`` nodes are
   rewritten as *sums of products* ``Σ ±aᵢ·bᵢ + Σ ±cⱼ``; an operand that is
   itself such a node used only once is inlined, so micrograd's 784-long
   chain of ``+`` nodes becomes one node with 784 product terms.  The
   chain's intermediate nodes pass the gradient through unchanged (local
   derivative 1), so nothing is lost by skipping them.
3. **Group.**  Nodes are grouped by topological level and op (sums of
   products also by their number of terms).  A group is computed with one
   numpy call over index arrays; groups of sums of products whose operand
   rows repeat (a dense layer: each neuron's weight row meets each sample's
   input row) become one ``numpy.matmul``.
4. **Lay out.**  Every node gets a slot in one float64 array.  Slots are
   assigned so that weight matrices, input matrices and each group's
   outputs are contiguous, which turns most gathers and scatters into views.
5. **Run.**  Forward over the groups in level order, one finiteness check,
   backward in reverse with scatter-adds that handle repeated indices
   (``np.bincount`` on de-duplicated targets, never plain fancy ``+=``).

Semantics match the eager engine: data-dependent ops (relu, abs,
leaky_relu, powers at 0, sqrt at 0) are evaluated per call from the new
values with the eager derivatives (relu' = 0 at 0, abs' = sign).  A domain
error (log of a number <= 0, division by zero, overflow) raises the *same*
error as the eager engine, produced by the eager op on the first offending
element.  Gradients agree with eager ``backward()`` to rounding (the sums
here are added in a different order).

Python control flow in *your* code is baked in at trace time: an ``if`` on a
value, a loop whose length depends on data, dropout masks — the compiled
function replays the branch taken while tracing.  Re-trace when the shape of
the computation changes.  What can be detected is checked: the number of
input values, parameters that the traced graph does not contain, inputs that
are not leaves.

Numpy is imported by this module only; ``import autograd`` stays
standard-library only.
"""

from __future__ import annotations

import math
from operator import attrgetter
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import ops as _ops
from .backward import topological_order
from .errors import OpOverflowError
from .value import NARY, Value

__all__ = ["compile", "CompiledGraph"]

_get_data = attrgetter("data")
_get_grad = attrgetter("grad")

# Kinds of traced node.
_LEAF, _ELEM, _SOP = 0, 1, 2


# ---------------------------------------------------------------------------------
# numpy kernels: one per eager op, with the eager op's derivative conventions
# ---------------------------------------------------------------------------------

def _sigmoid_np(x: np.ndarray) -> np.ndarray:
    # Same stable formula as the eager op: exp only ever sees -|x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


class _Kernel:
    """The numpy form of one eager op: forward, local derivatives and conventions.

    ``local(x, out)`` (unary) or ``local(x, y, out)`` (binary) returns one array
    (or number) per operand.  ``infinite_local`` marks ops whose derivative can
    be inf (sqrt at 0, x**0.5 at 0): eager backward skips nodes whose gradient
    is 0, so 0·inf must give 0 there, not nan.  ``invalid(x, y)`` flags inputs
    that numpy would compute finitely but the eager op rejects.
    """

    __slots__ = ("op", "arity", "forward", "local", "infinite_local", "invalid")

    def __init__(self, op: _ops.Op, arity: int, forward: Callable, local: Callable,
                 infinite_local: bool = False, invalid: Callable | None = None) -> None:
        self.op = op
        self.arity = arity
        self.forward = forward
        self.local = local
        self.infinite_local = infinite_local
        self.invalid = invalid


def _closure_value(op: _ops.Op, name: str) -> float:
    """The number a parameterized op (``**n``, ``c**``, ``leaky_relu(s)``) was built with."""
    fn = op.forward
    names = fn.__code__.co_freevars
    if name not in names or fn.__closure__ is None:
        raise TypeError(f"compile: cannot read the parameter of op {op.name!r}; the op table changed")
    return float(fn.__closure__[names.index(name)].cell_contents)


def _pow_const_kernel(op: _ops.Op) -> _Kernel:
    n = _closure_value(op, "n")
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
    return _Kernel(op, 1, forward, local, infinite_local=n < 1.0)


def _rpow_const_kernel(op: _ops.Op) -> _Kernel:
    c = _closure_value(op, "c")
    log_c = math.log(c) if c > 0.0 else 0.0

    def forward(x):
        return np.power(c, x)

    def local(x, out):
        return 0.0 if c == 0.0 else out * log_c
    return _Kernel(op, 1, forward, local)


def _leaky_kernel(op: _ops.Op) -> _Kernel:
    s = _closure_value(op, "slope")

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


_FIXED: dict[int, _Kernel] = {id(k.op): k for k in (
    _Kernel(_ops.ABS, 1, np.abs, lambda x, out: np.sign(x)),
    _Kernel(_ops.EXP, 1, np.exp, lambda x, out: out),
    _Kernel(_ops.LOG, 1, np.log, lambda x, out: 1.0 / x),
    _Kernel(_ops.SQRT, 1, np.sqrt, lambda x, out: 0.5 / out, infinite_local=True),
    _Kernel(_ops.TANH, 1, np.tanh, lambda x, out: 1.0 - out * out),
    _Kernel(_ops.SIGMOID, 1, _sigmoid_np, lambda x, out: out * (1.0 - out)),
    _Kernel(_ops.RELU, 1, lambda x: np.where(x > 0.0, x, 0.0), lambda x, out: (x > 0.0).astype(np.float64)),
    _Kernel(_ops.SOFTPLUS, 1, lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
            lambda x, out: _sigmoid_np(x)),
    _Kernel(_ops.SIN, 1, np.sin, lambda x, out: np.cos(x)),
    _Kernel(_ops.COS, 1, np.cos, lambda x, out: -np.sin(x)),
    _Kernel(_ops.DIV, 2, np.divide, lambda x, y, out: (1.0 / y, -out / y)),
    _Kernel(_ops.POW, 2, np.power, _pow_local, infinite_local=True, invalid=lambda x, y: x < 0.0),
)}


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
            raise TypeError(f"compile: op {name!r} has no numpy kernel; compile supports the op table "
                            f"({', '.join(sorted(_ops.TABLE))}, **n, c**, leaky_relu(s))")
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

    __slots__ = ("idx", "shape", "mode", "start", "uniq", "inverse", "val_view", "grad_view")

    def __init__(self, idx: np.ndarray) -> None:
        self.idx = np.ascontiguousarray(idx, dtype=np.intp)
        self.shape = self.idx.shape
        self.mode = "take"
        self.start = None
        self.uniq = self.inverse = None
        self.val_view = self.grad_view = None
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
            self.val_view = val[s:s + n].reshape(self.shape)
            self.grad_view = grad[s:s + n].reshape(self.shape)
        else:
            rows, cols = self.shape
            self.val_view = val[s:s + n].reshape(cols, rows).T
            self.grad_view = grad[s:s + n].reshape(cols, rows).T

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

    def __init__(self, kernel: _Kernel, out: slice, args: list[_Index]) -> None:
        self.kernel = kernel
        self.out = out
        self.args = args
        self.n = out.stop - out.start

    def bind(self, val, grad):
        for a in self.args:
            a.bind(val, grad)

    def forward(self, val: np.ndarray, saved: list) -> None:
        xs = [a.gather(val) for a in self.args]
        out = self.kernel.forward(*xs)
        val[self.out] = out
        saved.append(xs)

    def backward(self, val: np.ndarray, grad: np.ndarray, saved: list) -> None:
        xs = saved.pop()
        g = grad[self.out]
        k = self.kernel
        local = k.local(*xs, val[self.out])
        if k.arity == 1:
            local = (local,)
        for a, d in zip(self.args, local):
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
            "scale the inputs down")

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.args)


class _SopGroup:
    """Sums of products with the same term counts: ``out = Σₖ sₖ·a[k]·b[k] + Σⱼ tⱼ·c[j]``.

    With ``dense`` set, the product part is ``A @ B.T`` where A holds the
    distinct a-rows (e.g. each neuron's weights) and B the distinct b-rows
    (e.g. each sample's inputs): numpy.matmul instead of n·L multiplies.
    """

    def __init__(self, out: slice, pa: _Index | None, pb: _Index | None, ps: np.ndarray | None,
                 la: _Index | None, ls: np.ndarray | None,
                 dense: tuple | None = None) -> None:
        self.out = out
        self.n = out.stop - out.start
        self.pa, self.pb, self.ps = pa, pb, ps  # (n, L) indices and signs (None: all +1)
        self.la, self.ls = la, ls
        self.dense = dense  # (A rows index, B rows index, row of node, col of node, full?)

    def bind(self, val, grad):
        for ix in (self.pa, self.pb, self.la):
            if ix is not None:
                ix.bind(val, grad)
        if self.dense is not None:
            self.dense[0].bind(val, grad)
            self.dense[1].bind(val, grad)
        self.out_view = val[self.out]

    def forward(self, val: np.ndarray, saved: list) -> None:
        out = self.out_view
        dense = self.dense
        if dense is not None:
            ai, bi, r, c, full = dense
            A = ai.gather(val)
            B = bi.gather(val)
            if full:
                np.matmul(A, B.T, out=out.reshape(A.shape[0], B.shape[0]))
            else:
                out[...] = (A @ B.T)[r, c]
            saved.append((A, B))
        elif self.pa is not None:
            A = self.pa.gather(val)
            B = self.pb.gather(val)
            prod = A * B
            if self.ps is not None:
                prod *= self.ps
            if prod.shape[1] == 1:
                out[...] = prod[:, 0]
            else:
                np.sum(prod, axis=1, out=out)
            saved.append((A, B))
        else:
            out[...] = 0.0
        if self.la is not None:
            lin = self.la.gather(val)
            if self.ls is not None:
                lin = lin * self.ls
            out += lin[:, 0] if lin.shape[1] == 1 else lin.sum(axis=1)

    def backward(self, val: np.ndarray, grad: np.ndarray, saved: list) -> None:
        g = grad[self.out]
        if self.la is not None:
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
            ai.scatter_add(grad, G @ B)
            bi.scatter_add(grad, G.T @ A)
        elif self.pa is not None:
            A, B = saved.pop()
            gs = g[:, None] if self.ps is None else g[:, None] * self.ps
            self.pa.scatter_add(grad, gs * B)
            self.pb.scatter_add(grad, gs * A)

    def diagnose(self, val: np.ndarray) -> None:
        bad = ~np.isfinite(val[self.out])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise OpOverflowError(
                f"+/*/dot: a sum of products (compiled from +, -, *, dot and sum nodes) is "
                f"{float(val[self.out][i])}, beyond float64; scale the inputs or parameters down")

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
    """The traced graph in flat lists indexed by position in topological order."""

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
        # Elementwise nodes: their op and operand ids.
        elem_op: dict[int, _ops.Op] = {}
        elem_args: dict[int, tuple] = {}
        # Sums of products: product terms (pa, pb, ps) and linear terms (la, ls).
        pa: dict[int, list] = {}
        pb: dict[int, list] = {}
        ps: dict[int, list] = {}
        la: dict[int, list] = {}
        ls: dict[int, list] = {}
        absorbed = bytearray(n)
        linear = _LINEAR
        ADD, SUB, MUL, NEG, DOT = _ops.ADD, _ops.SUB, _ops.MUL, _ops.NEG, _ops.DOT

        def inlinable(j: int) -> bool:
            return kind[j] == _SOP and uses[j] == 1

        def absorb(i: int, j: int, sign: float) -> None:
            """Move node j's terms into node i's (with ``sign``); j is then dead."""
            absorbed[j] = 1
            if sign == 1.0:
                pa[i] += pa.pop(j)
                pb[i] += pb.pop(j)
                ps[i] += ps.pop(j)
                la[i] += la.pop(j)
                ls[i] += ls.pop(j)
            else:
                pa[i] += pa.pop(j)
                pb[i] += pb.pop(j)
                ps[i] += [-s for s in ps.pop(j)]
                la[i] += la.pop(j)
                ls[i] += [-s for s in ls.pop(j)]

        def take(i: int, j: int, sign: float) -> None:
            """Start node i's term lists from node j's (stolen: no copy for long chains)."""
            absorbed[j] = 1
            pa[i] = pa.pop(j)
            pb[i] = pb.pop(j)
            ps[i] = s_ = ps.pop(j)
            la[i] = la.pop(j)
            ls[i] = t_ = ls.pop(j)
            if sign != 1.0:
                s_[:] = [-s for s in s_]
                t_[:] = [-s for s in t_]

        def term(i: int, j: int, sign: float) -> None:
            if inlinable(j):
                absorb(i, j, sign)
            else:
                la[i].append(j)
                ls[i].append(sign)

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
            kind[i] = _SOP
            if op is ADD or op is SUB:
                j, k = index[v._a], index[v._b]
                sign = 1.0 if op is ADD else -1.0
                if j != k and inlinable(j):
                    take(i, j, 1.0)
                    term(i, k, sign)
                elif j != k and inlinable(k):
                    take(i, k, sign)
                    la[i].append(j)
                    ls[i].append(1.0)
                else:
                    pa[i], pb[i], ps[i], la[i], ls[i] = [], [], [], [j, k], [1.0, sign]
            elif op is MUL:
                pa[i], pb[i], ps[i], la[i], ls[i] = [index[v._a]], [index[v._b]], [1.0], [], []
            elif op is NEG:
                j = index[v._a]
                if inlinable(j):
                    take(i, j, -1.0)
                else:
                    pa[i], pb[i], ps[i], la[i], ls[i] = [], [], [], [j], [-1.0]
            elif op is DOT:
                xs = v._a
                m = len(xs) // 2
                ids = [index[c] for c in xs]
                pa[i], pb[i], ps[i] = ids[:m], ids[m:2 * m], [1.0] * m
                la[i], ls[i] = [], []
                if len(xs) % 2:
                    term(i, ids[-1], 1.0)
            else:  # SUM
                ids = [index[c] for c in v._a]
                pa[i], pb[i], ps[i], la[i], ls[i] = [], [], [], [], []
                seen_here: set = set()
                for j in ids:
                    if j in seen_here:  # used twice by this node: uses > 1, never inlined
                        la[i].append(j)
                        ls[i].append(1.0)
                        continue
                    seen_here.add(j)
                    term(i, j, 1.0)
        self.n = n
        self.kind = kind
        self.absorbed = absorbed
        self.elem_op, self.elem_args = elem_op, elem_args
        self.pa, self.pb, self.ps, self.la, self.ls = pa, pb, ps, la, ls


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
    ``input_grad`` holds ∂root/∂input of the last call.

    Not thread-safe: one call at a time per compiled graph (it reuses its
    arrays between calls).
    """

    def __init__(self, root: Value, inputs: Sequence[Value], parameters: Sequence[Value] | None) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"compile: root must be a Value, got {type(root).__name__}")
        inputs = list(inputs)
        for k, x in enumerate(inputs):
            if not isinstance(x, Value):
                raise TypeError(f"compile: inputs[{k}] must be a Value, got {type(x).__name__}")
            if x._op is not None:
                raise ValueError(f"compile: inputs[{k}] ({x!r}) is computed by op {x.op!r}; inputs must be "
                                 "leaves (Values created from numbers)")
        if len(set(inputs)) != len(inputs):
            raise ValueError("compile: inputs lists the same Value twice; list each input once")
        tr = _Trace(root)
        index = tr.index
        missing = [k for k, x in enumerate(inputs) if x not in index]
        if missing:
            raise ValueError(f"compile: inputs {missing[:10]} are not in the graph under root, so the "
                             "result cannot depend on them; pass only the leaves the root was computed from")
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
                raise ValueError(f"compile: parameters {both[:10]} are also listed in inputs; a leaf is "
                                 "either an input (new value each call) or a parameter (read from .data)")
            absent = [k for k, p in enumerate(params) if p not in index or p._op is not None]
            if absent:
                names = [params[k].label or f"#{k}" for k in absent[:10]]
                raise ValueError(
                    f"compile: {len(absent)} parameters are not leaves of the traced graph "
                    f"(e.g. {names}); the traced code did not use them (a branch or dropout at trace "
                    "time?), so the compiled function would silently give them no gradient. "
                    "Trace with the code path that uses them, or leave them out of parameters=")
            pset = set(params)
            consts = [v for v in leaves if v not in pset]
        self.root = root
        self.inputs = inputs
        self.parameters = params
        self.n_traced = tr.n
        self._build(tr, inputs, params, consts)

    # ---- layout and groups --------------------------------------------------------
    def _build(self, tr: _Trace, inputs: list, params: list, consts: list) -> None:
        n = tr.n
        kind, absorbed, index = tr.kind, tr.absorbed, tr.index
        pa, pb, ps, la, ls = tr.pa, tr.pb, tr.ps, tr.la, tr.ls
        elem_args = tr.elem_args
        # Levels: leaves 0, every other live node 1 + its operands' highest level.
        level = [0] * n
        for i in range(n):
            k = kind[i]
            if k == _LEAF or absorbed[i]:
                continue
            if k == _ELEM:
                level[i] = 1 + max(level[j] for j in elem_args[i])
            else:
                m = 0
                for lst in (pa[i], pb[i], la[i]):
                    if lst:
                        t = max(level[j] for j in lst)
                        if t > m:
                            m = t
                level[i] = m + 1
        kernels: dict = {}
        groups: dict[tuple, list[int]] = {}
        for i in range(n):
            k = kind[i]
            if k == _LEAF or absorbed[i]:
                continue
            if k == _ELEM:
                key = (level[i], 0, id(tr.elem_op[i]), 0)
                _kernel_for(tr.elem_op[i], kernels)
            else:
                key = (level[i], 1, len(pa[i]), len(la[i]))
            groups.setdefault(key, []).append(i)
        keys = sorted(groups)
        # Dense (matmul) structure of sum-of-product groups, found before slots exist.
        dense_info: dict[tuple, tuple] = {}
        for key in keys:
            if key[1] != 1 or key[2] < 2:
                continue
            members = groups[key]
            if len(members) < 2 or any(s != 1.0 for i in members for s in ps[i]):
                continue
            rows: dict[tuple, int] = {}
            cols: dict[tuple, int] = {}
            rc = []
            for i in members:
                r = rows.setdefault(tuple(pa[i]), len(rows))
                c = cols.setdefault(tuple(pb[i]), len(cols))
                rc.append((r, c))
            if len(set(rc)) != len(rc) or len(rows) * len(cols) > 2 * len(members):
                continue
            dense_info[key] = (list(rows), list(cols), rc)
        # Slots: inputs, then parameters in the order the dense blocks read them
        # (so weight matrices are contiguous), then constants, then group outputs.
        slot = [-1] * n
        nxt = 0
        for x in inputs:
            slot[index[x]] = nxt
            nxt += 1
        param_ids = [index[p] for p in params]
        is_param = bytearray(n)
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
        order = tr.order
        self.parameters = [order[j] for j in param_order]
        self._param_start = len(inputs)
        steps = []
        for key in keys:
            members = groups[key]
            if key[1] == 0:
                args = elem_args
                members.sort(key=lambda i: tuple(slot[j] for j in args[i]))
                start = nxt
                for i in members:
                    slot[i] = nxt
                    nxt += 1
                arity = len(args[members[0]])
                idx = [_Index(np.array([slot[args[i][a]] for i in members], dtype=np.intp))
                       for a in range(arity)]
                steps.append(_ElemGroup(kernels[key[2]], slice(start, nxt), idx))
                continue
            dense = dense_info.get(key)
            if dense is not None:
                rows, cols, rc = dense
                rperm = sorted(range(len(rows)), key=lambda r: [slot[j] for j in rows[r]])
                cperm = sorted(range(len(cols)), key=lambda c: [slot[j] for j in cols[c]])
                rrank = {r: k for k, r in enumerate(rperm)}
                crank = {c: k for k, c in enumerate(cperm)}
                pos = sorted(range(len(members)), key=lambda t: (rrank[rc[t][0]], crank[rc[t][1]]))
                members[:] = [members[t] for t in pos]
                r_of = np.array([rrank[rc[t][0]] for t in pos], dtype=np.intp)
                c_of = np.array([crank[rc[t][1]] for t in pos], dtype=np.intp)
                A_idx = _Index(np.array([[slot[j] for j in rows[r]] for r in rperm], dtype=np.intp))
                B_idx = _Index(np.array([[slot[j] for j in cols[c]] for c in cperm], dtype=np.intp))
                full = len(members) == len(rows) * len(cols)
            else:
                members.sort(key=lambda i: (slot[pb[i][0]] if pb[i] else slot[la[i][0]] if la[i] else 0))
            start = nxt
            for i in members:
                slot[i] = nxt
                nxt += 1
            out = slice(start, nxt)
            Lp, Ll = key[2], key[3]
            la_idx = ls_arr = None
            if Ll:
                la_idx = _Index(np.array([[slot[j] for j in la[i]] for i in members], dtype=np.intp))
                lsa = np.array([ls[i] for i in members], dtype=np.float64)
                ls_arr = None if (lsa == 1.0).all() else lsa
            if dense is not None:
                steps.append(_SopGroup(out, None, None, None, la_idx, ls_arr,
                                       dense=(A_idx, B_idx, None if full else r_of, None if full else c_of,
                                              full)))
                continue
            pa_idx = pb_idx = ps_arr = None
            if Lp:
                pa_idx = _Index(np.array([[slot[j] for j in pa[i]] for i in members], dtype=np.intp))
                pb_idx = _Index(np.array([[slot[j] for j in pb[i]] for i in members], dtype=np.intp))
                psa = np.array([ps[i] for i in members], dtype=np.float64)
                ps_arr = None if (psa == 1.0).all() else psa
            steps.append(_SopGroup(out, pa_idx, pb_idx, ps_arr, la_idx, ls_arr))
        self._steps = steps
        self._n_slots = nxt
        self._root_slot = slot[index[self.root]]
        self._val = np.zeros(nxt)
        self._grad = np.zeros(nxt)
        for j in const_ids:
            self._val[slot[j]] = order[j].data
        for s in steps:
            s.bind(self._val, self._grad)
        self.input_grad = np.zeros(len(inputs))

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
                    "trace again for a different input size")
            if not np.isfinite(x).all():
                raise ValueError("compile: input values must be finite; nan and inf would poison every gradient")
            val[:n_in] = x.ravel()
        if params is None:
            val[p0:p1] = np.fromiter(map(_get_data, self.parameters), np.float64, p1 - p0)
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
        return float(val[self._root_slot]), grad[p0:p1], grad[:n_in]

    def _diagnose(self) -> None:
        val = self._val
        if not np.isfinite(val[:self._n_leaves]).all():
            bad = int(np.flatnonzero(~np.isfinite(val[:self._n_leaves]))[0])
            raise ValueError(f"compile: a parameter's .data is {val[bad]} (parameter or constant "
                             f"#{bad - self._param_start}); parameters must be finite")
        for s in self._steps:
            s.diagnose(val)
        raise OpOverflowError("compile: the forward pass produced a non-finite value")  # pragma: no cover

    def __call__(self, values: Any = None) -> float:
        """Run forward and backward at ``values`` (one number per traced input, any
        shape, read in C order; default: the inputs' current ``.data``).

        Sets ``root.data``, adds 1 to ``root.grad`` and ∂root/∂p to ``p.grad`` for
        every parameter (accumulating, like ``backward()``), stores ∂root/∂inputs
        in ``input_grad`` and returns the root's value.
        """
        out, gp, gx = self.run(values)
        for p, g in zip(self.parameters, gp.tolist()):
            p.grad += g
        self.input_grad = gx.copy()
        root = self.root
        root.data = out
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
        return (f"CompiledGraph({self.n_traced} traced nodes -> {self.n_slots} slots in {self.n_groups} "
                f"groups ({dense} matmul), {len(self.inputs)} inputs, {len(self.parameters)} parameters)")


def compile(root: Value, inputs: Iterable[Value] = (), parameters: Iterable[Value] | None = None
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

    Control flow in the code that built the graph is fixed at trace time; see
    the module docstring.
    """
    return CompiledGraph(root, list(inputs), None if parameters is None else list(parameters))
