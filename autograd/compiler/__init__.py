"""``autograd.compile`` (``autograd.compiler``): trace a scalar graph once, replay forward and backward with numpy.

A scalar ``Value`` graph is the clearest picture of backprop and the slowest
way to run it.  Most training graphs have the same shape every step, so this
package turns that shape into arrays once and then evaluates it group by group::

    fn = compile(loss, inputs=xs)     # xs: the input leaves loss was built from
    opt.zero_grad(); fn(batch); opt.step()   # batch: one number per input

Reading and writing thousands of parameter ``Value``s costs more than the
arithmetic, so training keeps them in arrays: ``fn.bind(opt)`` makes the
optimizer update ``fn.param_values`` from ``fn.param_grads`` in place (its
own formulas, on vectors); ``opt.zero_grad(); fn(batch); opt.step()`` then
touches no ``Value``, and ``fn.sync()`` / ``fn.unbind()`` write ``.data`` and
``.grad`` back when something reads them (``nn.fit(compile=True)`` does this
around callbacks and at its end)::

    fn.bind(opt)
    for batch in batches:
        opt.zero_grad(); fn(batch); opt.step()
    fn.unbind()

Each phase is one module: ``roles`` (which leaf is what), ``trace`` (1, 2),
``grouping`` (3), ``layout`` (4), ``replay`` (5) with the group kinds it runs
(``elementwise``, ``sums``), their gathers and scatters (``index``) and the
diagnosis of a failed gradient check (``diagnose``); ``graph`` is the public
``compile``/``CompiledGraph``.  Nodes are read through ``autograd.node`` and
each op's numpy kernel is its registry facet ``op.arrays()``, so a new op in
the registry compiles with no change here.

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
   fancy ``+=``, which loses updates), then one finiteness check of the
   gradients returned (a BLAS dot of them with ones).  Only when that fails
   does backward run again, step by step.

**Same semantics.**  Data-dependent ops (relu, abs, leaky_relu, powers and
sqrt at 0) are evaluated per call from the new values with the eager
derivatives (relu' = 0 at 0, abs' = sign).  A domain error (log of a number
<= 0, division by zero, a negative base, overflow) raises the eager engine's
own error, produced by the eager op on the first offending element.  A
gradient that turns inf or nan (a local derivative that is infinite where it
is used, like sqrt' at 0, or beyond float64, like log' at 1e-310; a product
with the upstream gradient that overflows; inf·0; a shared node's shares
that overflow when added) raises ``NonFiniteGradError`` with the diagnosis
eager ``backward()`` gives: the op, its operands' values, which derivative
and the numbers.  No ``.grad`` and not ``root.data`` is touched then.  As in
eager backward, a derivative behind a zero gradient is never used (0·inf is
0, not nan): the careful second pass gives eager's finite numbers.

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

**What tracing costs.**  Linear in nodes plus operands, a few passes of
plain Python over the node list (micrograd's 784-32-10 graph, 1.7 million
nodes: ~1.7 s of CPU; ``benchmarks/bench_trace.py``).  The passes are kept
few and their inner work in C (``map``, ``bincount``); the ``+ - *`` nodes
are flattened inline; only live nodes (a few thousand) reach grouping.
Python's cycle collector is paused while tracing (its state restored after):
the trace's temporaries are acyclic and freed by reference counting.

Numpy is imported by this package only; ``import autograd`` stays
standard-library only.
"""

from .graph import CompiledGraph, compile

__all__ = ["compile", "CompiledGraph"]
