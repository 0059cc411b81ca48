"""``explain(weight, root)``: the chain rule for one weight, with this graph's numbers.

The text walks from the weight up to the loss: every op it feeds, the local
derivative of each step, the upstream gradient where paths meet, the
product ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w = δ·x, and the update Δw = −η·δ·x.
Every factor is recomputed here from the local derivatives and checked
against the engine's own gradient (``autograd.grad`` and ``.grad``); a
mismatch is said in the text, never hidden.
"""

from __future__ import annotations

import math
from typing import Any

from autograd import Value, grad, topological_order
from autograd.value import locals_of

from .deltas import resolve
from .style import fmt

ACTIVATIONS = ("tanh", "relu", "sigmoid", "softplus")
MAX_USES_SHOWN = 3


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _mark(a: float, b: float) -> str:
    return "✓" if _close(a, b) else "✗ DIFFERS"


def _consumers(order: list) -> dict:
    """node → list of (consumer, operand position), in topological order."""
    users: dict = {}
    for v in order:
        for pos, c in enumerate(v.children):
            users.setdefault(c, []).append((v, pos))
    return users


def _chain(z: Value, root: Value, users: dict) -> list:
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


def _is_activation(op: str) -> bool:
    return op in ACTIVATIONS or op.startswith("leaky_relu")


def _what_multiplies(z: Value, pos: int, f: Any) -> str:
    """Name the factor ∂z/∂w: the input w multiplies (``*``, ``dot``) or 1 for a bias."""
    kids = z.children
    if z.op == "*":
        other = kids[1 - pos]
        return f" = x, the input w multiplies ({other.label or f(other.data)})"
    if z.op == "dot":
        half = len(kids) // 2
        if len(kids) % 2 and pos == len(kids) - 1:
            return " (w is the bias of this dot)"
        other = kids[pos + half] if pos < half else kids[pos - half]
        return f" = x, the input w multiplies ({other.label or f(other.data)})"
    return ""


def explain(weight: Value, root: Value, *, optimizer: Any = None, lr: float | None = None,
            precision: int = 6) -> str:
    """The chain rule for ∂root/∂weight, written out with the current numbers.

    ``weight`` is any node of the graph under ``root`` (usually a parameter,
    e.g. ``model.layers[0].neurons[1].w[0]``).  With ``optimizer=`` the text
    ends with the Δw its last step applied (``optimizer.deltas``); with
    ``lr=`` with the plain gradient-descent step −lr·∂L/∂w.
    """
    if not isinstance(weight, Value) or not isinstance(root, Value):
        raise TypeError(f"explain: weight and root must be autograd.Values, got "
                        f"{type(weight).__name__} and {type(root).__name__}")
    if weight is root:
        raise ValueError("explain: weight is the root itself; ∂L/∂L = 1 needs no chain rule")
    order = topological_order(root)
    index = {v: i for i, v in enumerate(order)}
    if weight not in index:
        raise ValueError(
            f"explain: {weight!r} is not in the graph under the root; pass the loss that was computed from it")
    p = precision
    f = lambda x: fmt(x, p)
    users = _consumers(order)
    uses = users.get(weight, [])
    L = root.label or "L"
    w = "w"

    chains = [(_chain(z, root, users), z, pos) for z, pos in uses]
    nodes = sorted({u for c, _, _ in chains for u in c} | {weight}, key=index.__getitem__)
    engine = dict(zip(nodes, grad(root, nodes)))

    lines = [f"∂{L}/∂w for w = {weight.label or 'this node'}: how {L} = {f(root.data)} changes "
             f"with w = {f(weight.data)}"]
    if len(uses) > 1:
        lines.append(f"{w} feeds {len(uses)} ops; ∂{L}/∂{w} is the sum of one chain per use.")
    total = 0.0
    ok = True
    for n, (chain, z, pos) in enumerate(chains):
        names = []
        for k, u in enumerate(chain):
            if u is root:
                names.append(L)
            elif u.label:
                names.append(u.label)
            elif k == 0:
                names.append("z")
            elif k == 1 and _is_activation(u.op):
                names.append("a")
            else:
                names.append(f"u{k}")
        top = chain[-1]
        upstream = 1.0 if top is root else engine[top]
        dz_dw = locals_of(z)[pos]
        local = [locals_of(chain[k + 1])[chain[k + 1].children.index(chain[k])] for k in range(len(chain) - 1)]
        # a child can appear twice among a node's operands (x*x): sum its local derivatives
        for k in range(len(chain) - 1):
            parent = chain[k + 1]
            kids = parent.children
            if kids.count(chain[k]) > 1:
                ls = locals_of(parent)
                local[k] = sum(ls[j] for j, c in enumerate(kids) if c is chain[k])
        term = upstream
        for d in local:
            term *= d
        delta_z = term
        term *= dz_dw
        total += term
        if n >= MAX_USES_SHOWN:
            continue
        head = f"use {n + 1}: " if len(uses) > 1 else ""
        lines.append("")
        lines.append(f"{head}{w} → " + " → ".join(names))
        for k, u in enumerate(chain):
            if u.op == "dot":
                half = len(u.children) // 2
                args = f"Σ {half} weights · {half} inputs" + (" + bias" if len(u.children) % 2 else "")
            else:
                args = ", ".join(names[k - 1] if (k and c is chain[k - 1]) else (c.label or f(c.data))
                                 for c in u.children)
            if len(args) > 60:
                args = args[:57] + "..."
            step = f"  {names[k]} = {u.op}({args}) = {f(u.data)}"
            if k:
                step += f";  local ∂{names[k]}/∂{names[k - 1]} = {f(local[k - 1])}"
            lines.append(step)
        factors = [f"∂{L}/∂{names[-1]}"] if top is not root else []
        values = [f(upstream)] if top is not root else []
        for k in range(len(chain) - 2, -1, -1):
            factors.append(f"∂{names[k + 1]}/∂{names[k]}")
            values.append(f(local[k]))
        factors.append(f"∂{names[0]}/∂{w}")
        values.append(f(dz_dw))
        if top is not root:
            lines.append(f"  ∂{L}/∂{names[-1]} = {f(upstream)}  (the engine's gradient; "
                         f"{names[-1]} feeds {len(users.get(top, ()))} ops, so the paths meet here)")
        x_note = _what_multiplies(z, pos, f)
        lines.append(f"  ∂{names[0]}/∂{w} = {f(dz_dw)}{x_note}")
        if len(factors) > 1:
            lines.append(f"  ∂{L}/∂{w} = " + " · ".join(factors))
            lines.append("        = " + " · ".join(f"({v})" for v in values))
        lines.append(f"        = δ · x  with δ = ∂{L}/∂{names[0]} = {f(delta_z)}, x = {f(dz_dw)}")
        lines.append(f"        = {f(term)}")
        # check every factor of this chain against the engine
        checks = []
        run = upstream
        for k in range(len(chain) - 2, -1, -1):
            run *= local[k]
            e = engine[chain[k]]
            good = _close(run, e)
            ok &= good
            checks.append(f"∂{L}/∂{names[k]} = {f(run)} (engine {f(e)} {_mark(run, e)})")
        if checks:
            lines.append("  check: " + "; ".join(checks))
    if len(uses) > MAX_USES_SHOWN:
        lines.append("")
        lines.append(f"… {len(uses) - MAX_USES_SHOWN} more uses, the same way.")
    if not uses:
        lines.append(f"{w} feeds no op: ∂{L}/∂{w} = 0")
    e = engine[weight]
    lines.append("")
    if len(uses) > 1:
        lines.append(f"∂{L}/∂{w} = sum over the {len(uses)} uses = {f(total)}")
    good = _close(total, e)
    ok &= good
    lines.append(f"engine: autograd.grad gives {f(e)} {_mark(total, e)}; "
                 f"{w}.grad holds {f(weight.grad)} {_mark(total, weight.grad)}")
    if not _close(total, weight.grad):
        lines.append(f"  ({w}.grad differs: backward() not called, called more than once, or zero_grad() missing)")
    lines.append("every factor agrees with the engine" if ok else "SOME FACTORS DIFFER FROM THE ENGINE (marked ✗)")

    src = resolve(optimizer, lr, params=[weight], leaves=())
    if src.kind == "optimizer":
        d = src.delta(weight)
        if d is None:
            lines.append(f"Δw: {type(optimizer).__name__} has no recorded step for {w}")
        else:
            lines.append(f"Δw = {f(d)}: the update {type(optimizer).__name__}'s last step applied "
                         f"(plain gradient descent with its lr would be "
                         f"{f(-src.lr * total) if src.lr else 'n/a'})")
    elif src.kind == "lr":
        lines.append(f"Δw = −η·δ·x = −η·∂{L}/∂{w} = −{src.lr:g} · ({f(total)}) = {f(-src.lr * total)}")
    else:
        lines.append(f"Δw = −η·∂{L}/∂{w} (pass lr= or optimizer= for the number)")
    return "\n".join(lines)
