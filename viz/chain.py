"""The chain rule's pieces for :func:`viz.explain`: paths from a weight to the root, and each
op's local derivative as the op registry states it.

Everything about an op comes from ``autograd.ops``: its formula and derivative as text
(``op.text``) and its local-derivative rule (``op.local``), which is run again here on the
operands' data as the graph saw it, so that the text can check it against the number the node
stored.  A new op needs no change here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from autograd import Value
from autograd.ops import op_of

MAX_ARGS = 60  # characters of an op's formula shown in a step


class Names:
    """Display names for the nodes of the text, unique within it.

    A node with a label is called by its label (a later node with the same
    label gets primes); a generated name (``w``, ``L``, ``z``, ``a``, ``u2``)
    never equals a label of any other node of the graph, so the text cannot
    say "z → u1 → z" when a user labelled a node ``z``.
    """

    def __init__(self, order: list[Value]) -> None:
        self.labels = Counter(v.label for v in order if v.label)
        self.used: set[str] = set()
        self.of: dict[Value, str] = {}

    def _taken(self, name: str, v: Value) -> bool:
        others = self.labels[name] - (1 if v.label == name else 0)
        return name in self.used or others > 0

    def name(self, v: Value, base: str, *, own_label: bool = True) -> str:
        """``v``'s name: its label (``own_label``) or ``base``, with primes/suffixes until unique."""
        if v in self.of:
            return self.of[v]
        if own_label and v.label and v.label not in self.used:
            name = v.label
        else:
            start = v.label if own_label and v.label else base
            name, i = start, 1
            while self._taken(name, v):
                i += 1
                name = start + "′" * (i - 1) if i <= 3 else f"{start}_{i}"
        self.used.add(name)
        self.of[v] = name
        return name

    def shown(self, c: Value, f: Callable[[float], str]) -> str:
        """An operand as the text shows it: its name if it has one here, else its label or number."""
        return self.of.get(c) or c.label or f(c.data)


def close(a: float, b: float) -> bool:
    """Equal up to rounding: how the text decides that a recomputed factor agrees with the engine."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def consumers(order: list[Value]) -> dict[Value, list[tuple[Value, int]]]:
    """node → list of (consumer, operand position), in topological order."""
    users: dict[Value, list[tuple[Value, int]]] = {}
    for v in order:
        for pos, c in enumerate(v.children):
            users.setdefault(c, []).append((v, pos))
    return users


def chain_from(z: Value, root: Value, users: dict[Value, list[tuple[Value, int]]]) -> list[Value]:
    """From ``z`` up while each node has exactly one consumer: [z, parent, ..., top]."""
    chain = [z]
    v = z
    while v is not root:
        us = users.get(v, ())
        if len(us) != 1:
            break
        v = us[0][0]
        chain.append(v)
    return chain


def is_activation(v: Value) -> bool:
    """True when ``v`` was made by an op the registry marks as an activation (its name will be ``a``)."""
    op = op_of(v)
    return op is not None and op.entry is not None and op.entry.activation


def clip(text: str, limit: int = MAX_ARGS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Rule(NamedTuple):
    """∂z/∂w for the op ``z`` applies to ``w``, read from the registry.

    ``kind``: "input" when the derivative is another operand (w multiplies an
    input x: ∂z/∂w = x), "added" when it is 1 (a bias, ``+``, ``sum``), else
    "other".  ``formula``: the rule in words and symbols, shown after the
    number.  ``value``: the op's local rule run again on the operands' data
    as the graph saw it, or None when that data is unknown (a stale leaf) or
    the rule gives no real number there.
    """

    kind: str
    formula: str
    value: float | None


def _graph_data(z: Value, then: dict[Value, float | None]) -> list[float] | None:
    """The data of ``z``'s operands when ``z`` was computed (None when a changed leaf's old value is unknown)."""
    out = []
    for c in z.children:
        if c in then:
            old = then[c]
            if old is None:
                return None
            out.append(old)
        else:
            out.append(c.data)
    return out


def _local_again(z: Value, pos: int, data: list[float] | None) -> float | None:
    """The registry's local derivative of ``z`` w.r.t. operand ``pos``, run on ``data``."""
    op = op_of(z)
    if op is None or data is None:
        return None
    try:
        ds = op.local(data, z.data) if op.arity == 0 else op.local(*data, z.data)
        value = float(ds[pos])
    except (ArithmeticError, ValueError, TypeError):  # a domain the forward pass would have refused
        return None
    return None if math.isnan(value) else value


def rule(z: Value, pos: int, w: str, zn: str, name_of: Callable[[Value], str], then: dict[Value, float | None]) -> Rule:
    """The local derivative of ``z`` with respect to its operand ``pos`` (the weight, shown as ``w``)."""
    op = op_of(z)
    assert op is not None, "explain: a use of the weight is an op node"
    kids = z.children
    names = [w if k == pos else name_of(c) for k, c in enumerate(kids)]
    deriv = op.text.derivative(pos, names, zn)
    formula = clip(op.text.formula(names, zn))
    value = _local_again(z, pos, _graph_data(z, then))
    others = [names[k] for k, c in enumerate(kids) if c is not kids[pos]]
    if deriv in others:
        return Rule("input", f" = x, the input {w} multiplies ({deriv})", value)
    if deriv == "1":
        return Rule("added", f" ({zn} = {formula}: {w} is added)", value)
    try:
        float(deriv.replace("−", "-"))
        return Rule("other", f" ({zn} = {formula})", value)  # a constant: the number says it all
    except ValueError:
        return Rule("other", f" = {deriv} ({zn} = {formula})", value)


class Use(NamedTuple):
    """One path from the weight to the root: the chain of single-consumer nodes and its numbers."""

    chain: list[Value]  # z (the op reading w), then each node above it while it has one consumer
    pos: int  # w's position among z's operands
    upstream: float  # ∂L/∂(top of the chain), from the engine (1 when the top is the root)
    local: list[float]  # ∂chain[k+1]/∂chain[k], as the nodes stored them
    dz_dw: float  # ∂z/∂w as z stored it
    term: float  # this path's contribution to ∂L/∂w

    @property
    def delta_z(self) -> float:
        """δ = ∂L/∂z along this path."""
        d = self.upstream
        for x in self.local:
            d *= x
        return d


def use_of(chain: list[Value], pos: int, root: Value, engine: dict[Value, float]) -> Use:
    top = chain[-1]
    upstream = 1.0 if top is root else engine[top]
    local = []
    for k in range(len(chain) - 1):
        parent = chain[k + 1]
        # a child can appear twice among a node's operands (x*x): sum its local derivatives
        local.append(sum(d for c, d in zip(parent.children, parent.local_grads) if c is chain[k]))
    dz_dw = chain[0].local_grads[pos]
    u = Use(chain, pos, upstream, local, dz_dw, 0.0)
    return u._replace(term=u.delta_z * dz_dw)
