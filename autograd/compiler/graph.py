"""The public face: ``compile(root, inputs=...)`` runs the phases and returns a ``CompiledGraph``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, Protocol

import numpy as np

from ..mode import collector_paused
from ..node import is_leaf
from ..value import Value
from .grouping import Grouping
from .index import Floats
from .layout import Layout
from .replay import Replay
from .roles import check_root_and_inputs, split_leaves
from .sums import MatmulGroup
from .trace import Trace

_get_data = attrgetter("data")


class Binding(Protocol):
    """What an optimizer's ``bind`` returns (``nn.optim``'s ``ArrayBinding``): the arrays' shared state."""

    active: bool
    in_sync: bool
    grads_zero: bool

    def sync(self) -> None: ...


class Bindable(Protocol):
    """An optimizer that can update a compiled graph's arrays in place (every ``nn.optim`` optimizer)."""

    def bind(self, values: Floats, grads: Floats, params: list[Value]) -> Binding: ...

    def unbind(self) -> None: ...


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

    ``fn.bind(opt)`` keeps the training in arrays: the parameters' weights
    and gradients stay in ``param_values`` and ``param_grads``, ``fn(x)``
    writes no ``Value`` and ``opt.step()`` updates the arrays in place with
    its usual formulas; ``fn.sync()`` writes ``.data`` and ``.grad`` back,
    ``fn.unbind()`` syncs and returns to Values (see ``bind``).

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
        self.inputs = check_root_and_inputs(root, inputs)
        with collector_paused():
            trace = Trace(root)
            params, consts = split_leaves(trace, self.inputs, parameters)
            layout = Layout(Grouping(trace), self.inputs, params, consts, exact)
        self.root: Value | None = root
        self.parameters = [trace.order[j] for j in layout.param_order]
        self.n_traced = trace.n
        self.exact = exact
        self.input_grads = input_grads
        self.input_grad: Floats | None = np.zeros(len(self.inputs)) if input_grads else None
        self._input_set = set(self.inputs)
        root_slot = layout.slot[trace.index[root]]
        self._replay = Replay(layout, [c.data for c in consts], root_slot, input_grads)
        r = self._replay
        #: the parameters' weights in the value array (a view, in the order of ``parameters``)
        self.param_values: Floats = r.param_values
        #: ∂root/∂parameters of the last call (a view into the gradient array)
        self.param_grads: Floats = r.grad[r.param_start : r.param_stop]
        self._binding: Binding | None = None
        self._optimizer: Bindable | None = None

    # ---- arrays kept across calls ----------------------------------------------------
    def bind(self, optimizer: Bindable) -> None:
        """Train on this graph's arrays: ``optimizer`` updates ``param_values`` from ``param_grads``.

        From now on ``fn(x)`` runs at the weights in ``param_values`` and adds ∂root/∂p to
        ``param_grads`` (accumulating like ``backward()``; a call that raises adds nothing;
        ``fn.run`` replaces them), and ``opt.step()``, ``opt.zero_grad()`` work on the arrays:
        no ``Value`` is read or written (except ``root.data``), so zero gradients with
        ``opt.zero_grad()`` (``model.zero_grad()`` reaches only the Values).  The Values fall
        behind: ``fn.sync()`` (or ``opt.sync()``) writes every parameter's ``.data`` and
        ``.grad``, ``opt.reload()`` reads Values you changed back into the arrays, and
        ``fn.unbind()`` (or ``opt.unbind()``) syncs and ends the binding.
        ``opt.deltas``, ``opt.state_dict()`` and ``opt.state`` stay exact while bound::

            fn = compile(loss, inputs=xs, parameters=model.parameters())
            opt = nn.Adam(model.parameters(), lr=1e-3)
            fn.bind(opt)
            for xb in batches:
                opt.zero_grad(); fn(xb); opt.step()
            fn.unbind()
        """
        if self._binding is not None and self._binding.active:
            raise ValueError("compile: this graph is already bound to an optimizer; call fn.unbind() first")
        self._binding = optimizer.bind(self.param_values, self.param_grads, self.parameters)
        self._optimizer = optimizer

    @property
    def bound(self) -> bool:
        """Whether an optimizer works on this graph's arrays (``bind``)."""
        return self._binding is not None and self._binding.active

    def sync(self) -> None:
        """Write every parameter's ``.data`` and ``.grad`` from the arrays (nothing to do unbound)."""
        if self._binding is not None and self._binding.active:
            self._binding.sync()

    def unbind(self) -> None:
        """Sync the Values and end the binding: calls read and write Values again."""
        if self._optimizer is not None and self.bound:
            self._optimizer.unbind()
        self._binding = self._optimizer = None

    def run(self, values: Any = None, params: Any = None) -> tuple[float, Floats, Floats | None]:
        """Forward and backward without touching any ``Value``: returns
        ``(root value, ∂root/∂parameters, ∂root/∂inputs)`` as numpy arrays in the
        order of ``self.parameters`` and ``self.inputs``.

        ``values`` defaults to the inputs' current ``.data``; ``params``
        defaults to the parameters' current ``.data`` (bound: to ``param_values``).
        The returned arrays are views into buffers reused by the next call:
        copy them to keep them.
        """
        r = self._replay
        n_in, n_p = len(self.inputs), len(self.parameters)
        if self._binding is not None and self._binding.active:
            self._binding.in_sync = self._binding.grads_zero = False  # run() replaces the gradients
            if params is None:
                params = r.param_values
        if values is None:
            x = np.fromiter(map(_get_data, self.inputs), np.float64, n_in)
        else:
            x = np.asarray(values, dtype=np.float64)
            if x.size != n_in:
                raise ValueError(
                    f"compile: expected {n_in} input values (one per traced input, in the order of "
                    f"inputs=), got {x.size} (shape {x.shape}); the graph was traced for {n_in} inputs — "
                    "trace again for a different input size"
                )
            x = x.ravel()  # finiteness: checked with every value after the forward pass
        if params is None:
            p = np.fromiter([q.data for q in self.parameters], np.float64, n_p)
        else:
            p = np.asarray(params, dtype=np.float64)
            if p.shape != (n_p,):
                raise ValueError(f"compile: expected {n_p} parameter values, got shape {p.shape}")
        value = r.run(x, None if p is r.param_values else p)
        grad = r.grad
        return value, grad[r.param_start : r.param_stop], (grad[:n_in] if self.input_grads else None)

    def __call__(self, values: Any = None) -> float:
        """Run forward and backward at ``values`` (one number per traced input, any
        shape, read in C order; default: the inputs' current ``.data``).

        Sets ``root.data``, adds 1 to ``root.grad`` and ∂root/∂p to ``p.grad`` for
        every parameter (accumulating, like ``backward()``), stores ∂root/∂inputs
        in ``input_grad`` (with ``input_grads=True``) and returns the root's value.
        A gradient that turns inf or nan raises ``NonFiniteGradError`` (as eager
        ``backward()`` does) before any ``.grad`` or ``root.data`` is written.
        """
        b = self._binding
        if b is not None and b.active:
            return self._call_bound(values, b)
        out, gp, gx = self.run(values)
        for p, g in zip(self.parameters, gp.tolist()):
            p.grad += g
        if gx is not None:
            self.input_grad = gx.copy()
        root = self.root
        if root is not None:
            root.data = out
            if not is_leaf(root) or root in self._input_set:  # a parameter root got its 1.0 above
                root.grad += 1.0
        return out

    def _call_bound(self, values: Any, b: Binding) -> float:
        """A call while bound: the gradients are added to ``param_grads`` (written, when zero_grad
        left them all 0); no parameter Value is touched.  A call that raises changes no gradient."""
        kept = None if b.grads_zero else self.param_grads.copy()
        try:
            out, _, gx = self.run(values)  # the replay computes fresh gradients in place
        except BaseException:
            if kept is None:
                self.param_grads.fill(0.0)
            else:
                self.param_grads[...] = kept
            raise
        if kept is not None:
            self.param_grads += kept
        b.grads_zero = False
        if gx is not None:
            self.input_grad = gx.copy()
        if self.root is not None:
            self.root.data = out
        return out

    # ---- introspection ------------------------------------------------------------
    @property
    def n_groups(self) -> int:
        """How many numpy evaluation groups the graph became (each one or a few numpy calls)."""
        return len(self._replay.steps)

    @property
    def n_slots(self) -> int:
        """Slots in the value array: inputs, parameters, constants and surviving nodes."""
        return self._replay.val.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the compiled form: value, gradient and check arrays plus index arrays."""
        r = self._replay
        return r.val.nbytes + r.grad.nbytes + r.ones.nbytes + sum(s.nbytes for s in r.steps)

    def __repr__(self) -> str:
        dense = sum(1 for s in self._replay.steps if isinstance(s, MatmulGroup))
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
    the ``autograd.compiler`` docstring.
    """
    return CompiledGraph(root, list(inputs), None if parameters is None else list(parameters), exact, input_grads)
