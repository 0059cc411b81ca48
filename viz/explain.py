"""``explain(weight, root)``: the chain rule for one weight, with this graph's numbers.

The text walks from the weight up to the loss: every op it feeds, the local
derivative of each step, the upstream gradient where paths meet, the
product ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w, and the update Δw = −η·∂L/∂w.
When the first op multiplies w by an input x (``*``, a neuron's ``dot``)
this reads as the textbook δ · x; for any other op (``+``, ``neg``,
``**2``, ``tanh``, …) the text states that op's own derivative ∂z/∂w.
Every factor is recomputed here and checked against the engine (the local
derivatives each node stored, ``autograd.grad`` and ``.grad``); a mismatch
is said in the text, never hidden.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from autograd import Value, grad, topological_order

from .deltas import resolve
from .stale import Change, changed_leaves
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


class _Names:
    """Display names for the nodes of the text, unique within it.

    A node with a label is called by its label (a later node with the same
    label gets primes); a generated name (``w``, ``L``, ``z``, ``a``, ``u2``)
    never equals a label of any other node of the graph, so the text cannot
    say "z → u1 → z" when a user labelled a node ``z``.
    """

    def __init__(self, order: list) -> None:
        self.labels = Counter(v.label for v in order if v.label)
        self.used: set[str] = set()
        self.of: dict = {}

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


class _Rule(NamedTuple):
    """∂z/∂w for the op ``z`` applies to ``w``.

    ``kind``: "input" when w multiplies an input x (∂z/∂w = x), "added" when
    ∂z/∂w = 1 because w is added (a bias, ``+``, ``sum``), else "other".
    ``formula``: the rule in words and symbols, shown after the number.
    ``value``: the derivative recomputed here from the data, or None when
    the op is not known here (then the engine's stored number is shown
    unchecked).
    """

    kind: str
    formula: str
    value: float | None


def _param(op: str, prefix: str = "", suffix: str = "") -> float | None:
    """The number in a parameterized op's name (``**2`` → 2, ``3**`` → 3, ``leaky_relu(0.1)`` → 0.1)."""
    try:
        return float(op[len(prefix) : len(op) - len(suffix)])
    except ValueError:
        return None


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _rule(z: Value, pos: int, w: str, zn: str, name_of: Callable[[Value], str]) -> _Rule:
    """The local derivative of ``z`` with respect to its operand ``pos`` (the weight, shown as ``w``).

    Parameterized ops carry their number only in the op name, printed with 6
    significant digits; when re-running the forward rule with that number
    does not give ``z`` back, the value is left to the engine (None).  So is
    a value that comes out complex or not a number (a domain the forward pass
    would have refused).
    """
    rule = _rule_of(z, pos, w, zn, name_of)
    if rule.value is not None and not (isinstance(rule.value, float) and not math.isnan(rule.value)):
        return rule._replace(value=None)
    return rule


def _rule_of(z: Value, pos: int, w: str, zn: str, name_of: Callable[[Value], str]) -> _Rule:
    """:func:`_rule` without the final check of the recomputed value."""
    kids = z.children
    op = z.op
    x = kids[pos].data
    out = z.data
    try:
        if op == "*":
            other = kids[1 - pos]
            return _Rule("input", f" = x, the input {w} multiplies ({name_of(other)})", other.data)
        if op == "dot":
            half = len(kids) // 2
            if len(kids) % 2 and pos == len(kids) - 1:
                return _Rule("added", f" ({w} is the bias of this dot)", 1.0)
            other = kids[pos + half] if pos < half else kids[pos - half]
            return _Rule("input", f" = x, the input {w} multiplies ({name_of(other)})", other.data)
        if op == "+":
            return _Rule("added", f" ({zn} = {w} + …: {w} is added)", 1.0)
        if op == "sum":
            return _Rule("added", f" ({zn} sums {w} with {len(kids) - 1} others)", 1.0)
        if op == "-":
            if pos == 0:
                return _Rule("added", f" ({zn} = {w} − {name_of(kids[1])})", 1.0)
            return _Rule("other", f" ({zn} = {name_of(kids[0])} − {w}: {w} is subtracted)", -1.0)
        if op == "neg":
            return _Rule("other", f" ({zn} = −{w})", -1.0)
        if op == "/":
            if pos == 0:
                y = kids[1].data
                return _Rule("other", f" = 1/y ({zn} = {w} / y, y = {name_of(kids[1])})", 1.0 / y)
            num = kids[0].data
            return _Rule("other", f" = −x/{w}² ({zn} = x / {w}, x = {name_of(kids[0])})", -num / (x * x))
        if op == "**":
            if pos == 0:
                y = kids[1].data
                value = (math.inf if y > 0 else 0.0) if x == 0.0 and y < 1 else y * x ** (y - 1)
                return _Rule("other", f" = y·{w}^(y−1) ({zn} = {w} ** y, y = {name_of(kids[1])})", value)
            base = kids[0].data
            value = 0.0 if base == 0.0 else out * math.log(base)
            return _Rule("other", f" = {zn}·ln x ({zn} = x ** {w}, x = {name_of(kids[0])})", value)
        if op.startswith("**"):
            n = _param(op, "**")
            if n is None or not _close(x**n, out):
                return _Rule("other", f" = n·{w}^(n−1) ({zn} = {w}{op})", None)
            if n in (0.0, 1.0):
                value = 1.0 - n
            elif x == 0.0 and n < 1:
                value = math.inf
            else:
                value = n * x ** (n - 1)
            rule = f"{n:g}·{w}" if n == 2 else f"{n:g}·{w}^{n - 1:g}"
            return _Rule("other", f" = {rule} ({zn} = {w}{op})", value)
        if op.endswith("**"):
            c = _param(op, "", "**")
            if c is None or not _close(c**x, out):
                return _Rule("other", f" = {zn}·ln c ({zn} = {op}{w})", None)
            return _Rule("other", f" = {zn}·ln {c:g} ({zn} = {op}{w})", 0.0 if c == 0.0 else out * math.log(c))
        if op.startswith("leaky_relu(") and op.endswith(")"):
            s = _param(op, "leaky_relu(", ")")
            text = f" = 1 if {w} > 0 else the slope ({zn} = {op}({w}))"
            if x > 0.0:
                return _Rule("other", text, 1.0)
            return _Rule("other", text, s if s is not None and _close(s * x, out) else None)
        unary = {
            "exp": (f"e^{w} = {zn}", lambda: out),
            "log": (f"1/{w}", lambda: 1.0 / x),
            "sqrt": (f"1/(2·√{w})", lambda: math.inf if out == 0.0 else 0.5 / out),
            "tanh": (f"1 − {zn}²", lambda: 1.0 - out * out),
            "sigmoid": (f"{zn}·(1 − {zn})", lambda: out * (1.0 - out)),
            "relu": (f"1 if {w} > 0 else 0", lambda: 1.0 if x > 0.0 else 0.0),
            "softplus": (f"sigmoid({w})", lambda: 0.5 * (1.0 + math.tanh(0.5 * x))),
            "sin": (f"cos {w}", lambda: math.cos(x)),
            "cos": (f"−sin {w}", lambda: -math.sin(x)),
            "abs": (f"sign({w})", lambda: _sign(x)),
        }
        if op in unary:
            text, value = unary[op]
            return _Rule("other", f" = {text} ({zn} = {op}({w}))", value())
    except (ArithmeticError, ValueError, TypeError):  # a domain the forward pass would have refused
        pass
    return _Rule("other", f" (the derivative of {op} that the engine stored)", None)


def _graph_value(weight: Value, changes: list[Change], f: Callable[[float], str]) -> str:
    """The data ``weight`` had when the graph was built, as text (its data now when it did not change)."""
    for ch in changes:
        if ch.leaf is weight:
            return f(ch.then) if ch.then is not None else f"? (the graph keeps no copy; now {f(ch.now)})"
    return f(weight.data)


def _stale_lines(weight: Value, changes: list[Change], w: str, L: str, f: Callable[[float], str]) -> list[str]:
    """A warning when leaves changed after the forward pass (e.g. ``opt.step()``): the text is the graph's."""
    if not changes:
        return []
    mine = next((ch for ch in changes if ch.leaf is weight), None)
    others = [ch for ch in changes if ch.leaf is not weight and ch.certain]
    unsure = [ch for ch in changes if not ch.certain]
    out = ["⚠ STALE GRAPH: leaves changed after this graph was built (opt.step() or an edit of .data):"]
    if mine is not None and mine.certain:
        then = f"{f(mine.then)}" if mine.then is not None else "another value"
        out.append(f"  {w} holds {f(mine.now)} now, but {L} was computed with {w} = {then}")
    if others:
        shown = ", ".join(
            f"{ch.leaf.label or 'an unlabelled leaf'}"
            + (f" ({f(ch.then)} → {f(ch.now)})" if ch.then is not None else f" (now {f(ch.now)})")
            for ch in others[:4]
        )
        more = f" and {len(others) - 4} more" if len(others) > 4 else ""
        out.append(f"  {len(others)} other leaves too: {shown}{more}")
    if unsure:
        names = ", ".join(w if ch.leaf is weight else ch.leaf.label or "an unlabelled leaf" for ch in unsure[:4])
        out.append(f"  one or more of {names} changed (their ops keep no copy of them to tell which)")
    out.append(
        "  every number below is the graph's (data and local derivatives stored at the forward pass, "
        f"grads from its backward); run the forward pass and backward() again to explain {w} as it is now"
    )
    return out


def explain(weight: Value, root: Value, *, optimizer: Any = None, lr: float | None = None, precision: int = 6) -> str:
    """The chain rule for ∂root/∂weight, written out with the current numbers.

    ``weight`` is any node of the graph under ``root`` (usually a parameter,
    e.g. ``model.layers[0].neurons[1].w[0]``).  With ``optimizer=`` the text
    ends with the Δw its last step applied (``optimizer.deltas``); with
    ``lr=`` with the plain gradient-descent step −lr·∂L/∂w.
    """
    if not isinstance(weight, Value) or not isinstance(root, Value):
        raise TypeError(
            f"explain: weight and root must be autograd.Values, got {type(weight).__name__} and {type(root).__name__}"
        )
    if weight is root:
        raise ValueError("explain: weight is the root itself; ∂L/∂L = 1 needs no chain rule")
    order = topological_order(root)
    index = {v: i for i, v in enumerate(order)}
    if weight not in index:
        raise ValueError(
            f"explain: {weight!r} is not in the graph under the root; pass the loss that was computed from it"
        )
    p = precision
    f = lambda x: fmt(x, p)
    users = _consumers(order)
    uses = users.get(weight, [])
    names = _Names(order)
    L = names.name(root, "L")
    w = names.name(weight, "w", own_label=False)

    def shown(c: Value) -> str:
        """An operand as the text shows it: its name if it has one here, else its label or number."""
        return names.of.get(c) or c.label or f(c.data)

    chains = [(_chain(z, root, users), z, pos) for z, pos in uses]
    nodes = sorted({u for c, _, _ in chains for u in c} | {weight}, key=index.__getitem__)
    engine = dict(zip(nodes, grad(root, nodes)))

    changes = changed_leaves(order)
    lines = [
        f"∂{L}/∂{w} for {w} = {weight.label or 'this node'}: how {L} = {f(root.data)} changes "
        f"with {w} = {_graph_value(weight, changes, f)}"
    ]
    lines += _stale_lines(weight, changes, w, L, f)
    if len(uses) > 1:
        lines.append(f"{w} feeds {len(uses)} ops; ∂{L}/∂{w} is the sum of one chain per use.")
    total = 0.0
    ok = True
    kinds = set()
    for n, (chain, z, pos) in enumerate(chains):
        top = chain[-1]
        upstream = 1.0 if top is root else engine[top]
        dz_dw = z.local_grads[pos]
        local = []
        for k in range(len(chain) - 1):
            parent = chain[k + 1]
            # a child can appear twice among a node's operands (x*x): sum its local derivatives
            local.append(sum(d for c, d in zip(parent.children, parent.local_grads) if c is chain[k]))
        term = upstream
        for d in local:
            term *= d
        delta_z = term
        term *= dz_dw
        total += term
        if n >= MAX_USES_SHOWN:
            continue
        cn = []
        for k, u in enumerate(chain):
            if k == 0:
                cn.append(names.name(u, "z"))
            elif k == 1 and _is_activation(u.op):
                cn.append(names.name(u, "a"))
            else:
                cn.append(names.name(u, f"u{k}"))
        rule = _rule(z, pos, w, cn[0], shown)
        kinds.add(rule.kind)
        head = f"use {n + 1}: " if len(uses) > 1 else ""
        lines.append("")
        lines.append(f"{head}{w} → " + " → ".join(cn))
        for k, u in enumerate(chain):
            below = chain[k - 1] if k else weight
            if u.op == "dot":
                half = len(u.children) // 2
                args = f"Σ {half} weights · {half} inputs" + (" + bias" if len(u.children) % 2 else "")
            else:
                args = ", ".join((cn[k - 1] if k else w) if c is below else shown(c) for c in u.children)
            if len(args) > 60:
                args = args[:57] + "..."
            step = f"  {cn[k]} = {u.op}({args}) = {f(u.data)}"
            if k:
                step += f";  local ∂{cn[k]}/∂{cn[k - 1]} = {f(local[k - 1])}"
            lines.append(step)
        factors = [f"∂{L}/∂{cn[-1]}"] if top is not root else []
        values = [f(upstream)] if top is not root else []
        for k in range(len(chain) - 2, -1, -1):
            factors.append(f"∂{cn[k + 1]}/∂{cn[k]}")
            values.append(f(local[k]))
        factors.append(f"∂{cn[0]}/∂{w}")
        values.append(f(dz_dw))
        if top is not root:
            lines.append(
                f"  ∂{L}/∂{cn[-1]} = {f(upstream)}  (the engine's gradient; "
                f"{cn[-1]} feeds {len(users.get(top, ()))} ops, so the paths meet here)"
            )
        if rule.value is None:
            lines.append(f"  ∂{cn[0]}/∂{w} = {f(dz_dw)}{rule.formula}")
        else:
            good = _close(rule.value, dz_dw)
            ok &= good
            check = "" if good else f"  ✗ DIFFERS from the engine's stored {f(dz_dw)}"
            lines.append(f"  ∂{cn[0]}/∂{w} = {f(rule.value)}{rule.formula}{check}")
        if len(factors) > 1:
            lines.append(f"  ∂{L}/∂{w} = " + " · ".join(factors))
            lines.append("        = " + " · ".join(f"({v})" for v in values))
        delta = f"δ = ∂{L}/∂{cn[0]} = {f(delta_z)}"
        if rule.kind == "input":
            lines.append(f"        = δ · x  with {delta}, x = {f(dz_dw)}")
        elif rule.kind == "added":
            lines.append(f"        = δ · 1  with {delta}  (∂{cn[0]}/∂{w} = 1: ∂{L}/∂{w} is δ itself)")
        else:
            lines.append(f"        = δ · ∂{cn[0]}/∂{w}  with {delta}, ∂{cn[0]}/∂{w} = {f(dz_dw)}")
        lines.append(f"        = {f(term)}")
        # check every factor of this chain against the engine
        checks = []
        run = upstream
        for k in range(len(chain) - 2, -1, -1):
            run *= local[k]
            e = engine[chain[k]]
            good = _close(run, e)
            ok &= good
            checks.append(f"∂{L}/∂{cn[k]} = {f(run)} (engine {f(e)} {_mark(run, e)})")
        if rule.value is not None:
            checks.append(
                f"∂{cn[0]}/∂{w} = {f(rule.value)} (engine's stored local derivative {f(dz_dw)} "
                f"{_mark(rule.value, dz_dw)})"
            )
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
    lines.append(
        f"engine: autograd.grad gives {f(e)} {_mark(total, e)}; "
        f"{w}.grad holds {f(weight.grad)} {_mark(total, weight.grad)}"
    )
    if not _close(total, weight.grad):
        lines.append(f"  ({w}.grad differs: backward() not called, called more than once, or zero_grad() missing)")
    lines.append("every factor agrees with the engine" if ok else "SOME FACTORS DIFFER FROM THE ENGINE (marked ✗)")

    src = resolve(optimizer, lr, params=[weight], leaves=())
    if src.kind == "optimizer":
        d = src.delta(weight)
        if d is None:
            lines.append(f"Δw: {type(optimizer).__name__} has no recorded step for {w}")
        else:
            lines.append(
                f"Δw = {f(d)}: the update {type(optimizer).__name__}'s last step applied "
                f"(plain gradient descent with its lr would be "
                f"{f(-src.lr * total) if src.lr else 'n/a'})"
            )
    elif src.kind == "lr":
        short = {"input": "−η·δ·x = ", "added": "−η·δ = "}.get(kinds.pop(), "") if len(uses) == 1 else ""
        lines.append(f"Δw = {short}−η·∂{L}/∂{w} = −{src.lr:g} · ({f(total)}) = {f(-src.lr * total)}")
    else:
        lines.append(f"Δw = −η·∂{L}/∂{w} (pass lr= or optimizer= for the number)")
    return "\n".join(lines)
