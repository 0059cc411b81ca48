"""``explain(weight, root)``: the chain rule for one weight, with this graph's numbers.

The text walks from the weight up to the loss: every op it feeds, the local
derivative of each step, the upstream gradient where paths meet, the
product ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w, and the update Δw = −η·∂L/∂w.
When the first op multiplies w by an input x (``*``, a neuron's ``dot``)
this reads as the textbook δ · x; for any other op the text states that
op's own derivative ∂z/∂w, as the op registry writes it (:mod:`viz.chain`).
Every factor is checked against the engine (the local derivatives each
node stored, ``autograd.grad`` and ``.grad``); a mismatch is said in the
text, never hidden.  When leaves changed after the forward pass
(``opt.step()``), the text says so first and uses the values the graph
used (:mod:`viz.stale`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd import Value, grad, topological_order
from autograd.ops import op_of

from .chain import Names, Use, chain_from, clip, close, consumers, is_activation, rule, use_of
from .deltas import resolve
from .stale import Change, changed_leaves
from .style import fmt

MAX_USES_SHOWN = 3

Fmt = Callable[[float], str]


def _mark(a: float, b: float) -> str:
    return "✓" if close(a, b) else "✗ DIFFERS"


def _graph_value(weight: Value, changes: list[Change], f: Fmt) -> str:
    """The data ``weight`` had when the graph was built, as text (its data now when it did not change)."""
    for ch in changes:
        if ch.leaf is weight:
            return f(ch.then) if ch.then is not None else f"? (the graph keeps no copy; now {f(ch.now)})"
    return f(weight.data)


def _stale_lines(weight: Value, changes: list[Change], w: str, L: str, f: Fmt) -> list[str]:
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


def _chain_names(path: Use, names: Names) -> list[str]:
    """z for the op reading w, a for an activation right above it, u2, u3, ... further up."""
    out = []
    for k, u in enumerate(path.chain):
        if k == 0:
            out.append(names.name(u, "z"))
        elif k == 1 and is_activation(u):
            out.append(names.name(u, "a"))
        else:
            out.append(names.name(u, f"u{k}"))
    return out


def _steps(path: Use, cn: list[str], w: str, weight: Value, names: Names, f: Fmt) -> list[str]:
    """One line per node of the chain: its formula (the registry's text), value and local derivative."""
    lines = []
    for k, u in enumerate(path.chain):
        below = path.chain[k - 1] if k else weight
        args = [(cn[k - 1] if k else w) if c is below else names.shown(c, f) for c in u.children]
        op = op_of(u)
        formula = clip(op.text.formula(args, cn[k])) if op is not None else u.op
        step = f"  {cn[k]} = {formula} = {f(u.data)}"
        if k:
            step += f";  local ∂{cn[k]}/∂{cn[k - 1]} = {f(path.local[k - 1])}"
        lines.append(step)
    return lines


def _product(path: Use, cn: list[str], w: str, L: str, root: Value, f: Fmt) -> list[str]:
    """∂L/∂w as the product of the chain's factors, symbols then numbers."""
    top_is_root = path.chain[-1] is root
    factors = [] if top_is_root else [f"∂{L}/∂{cn[-1]}"]
    values = [] if top_is_root else [f(path.upstream)]
    for k in range(len(path.chain) - 2, -1, -1):
        factors.append(f"∂{cn[k + 1]}/∂{cn[k]}")
        values.append(f(path.local[k]))
    factors.append(f"∂{cn[0]}/∂{w}")
    values.append(f(path.dz_dw))
    if len(factors) == 1:
        return []
    return [f"  ∂{L}/∂{w} = " + " · ".join(factors), "        = " + " · ".join(f"({v})" for v in values)]


def _chain_text(
    n: int, path: Use, weight: Value, root: Value, ctx: dict[str, Any], f: Fmt
) -> tuple[list[str], bool, str]:
    """The lines for use ``n`` of the weight, whether every factor agrees with the engine, and the rule's kind."""
    names: Names = ctx["names"]
    w, L, engine = ctx["w"], ctx["L"], ctx["engine"]
    cn = _chain_names(path, names)
    r = rule(path.chain[0], path.pos, w, cn[0], lambda c: names.shown(c, f), ctx["then"])
    head = f"use {n + 1}: " if ctx["uses"] > 1 else ""
    lines = ["", f"{head}{w} → " + " → ".join(cn)] + _steps(path, cn, w, weight, names, f)
    top = path.chain[-1]
    if top is not root:
        lines.append(
            f"  ∂{L}/∂{cn[-1]} = {f(path.upstream)}  (the engine's gradient; "
            f"{cn[-1]} feeds {len(ctx['users'].get(top, ()))} ops, so the paths meet here)"
        )
    ok = True
    if r.value is None:
        lines.append(f"  ∂{cn[0]}/∂{w} = {f(path.dz_dw)}{r.formula}")
    else:
        ok = close(r.value, path.dz_dw)
        check = "" if ok else f"  ✗ DIFFERS from the engine's stored {f(path.dz_dw)}"
        lines.append(f"  ∂{cn[0]}/∂{w} = {f(r.value)}{r.formula}{check}")
    lines += _product(path, cn, w, L, root, f)
    delta = f"δ = ∂{L}/∂{cn[0]} = {f(path.delta_z)}"
    if r.kind == "input":
        lines.append(f"        = δ · x  with {delta}, x = {f(path.dz_dw)}")
    elif r.kind == "added":
        lines.append(f"        = δ · 1  with {delta}  (∂{cn[0]}/∂{w} = 1: ∂{L}/∂{w} is δ itself)")
    else:
        lines.append(f"        = δ · ∂{cn[0]}/∂{w}  with {delta}, ∂{cn[0]}/∂{w} = {f(path.dz_dw)}")
    lines.append(f"        = {f(path.term)}")
    checks = []
    run = path.upstream
    for k in range(len(path.chain) - 2, -1, -1):  # every factor of this chain against the engine
        run *= path.local[k]
        e = engine[path.chain[k]]
        ok &= close(run, e)
        checks.append(f"∂{L}/∂{cn[k]} = {f(run)} (engine {f(e)} {_mark(run, e)})")
    if r.value is not None:
        checks.append(
            f"∂{cn[0]}/∂{w} = {f(r.value)} (engine's stored local derivative {f(path.dz_dw)} "
            f"{_mark(r.value, path.dz_dw)})"
        )
    if checks:
        lines.append("  check: " + "; ".join(checks))
    return lines, ok, r.kind


def _total_lines(paths: list[Use], weight: Value, ctx: dict[str, Any], f: Fmt) -> tuple[list[str], bool]:
    """The sum over uses and the engine's ∂L/∂w and .grad beside it."""
    w, L = ctx["w"], ctx["L"]
    total = sum(p.term for p in paths)
    e = ctx["engine"][weight]
    lines = []
    if len(paths) > MAX_USES_SHOWN:
        lines += ["", f"… {len(paths) - MAX_USES_SHOWN} more uses, the same way."]
    if not paths:
        lines.append(f"{w} feeds no op: ∂{L}/∂{w} = 0")
    lines.append("")
    if len(paths) > 1:
        lines.append(f"∂{L}/∂{w} = sum over the {len(paths)} uses = {f(total)}")
    lines.append(
        f"engine: autograd.grad gives {f(e)} {_mark(total, e)}; "
        f"{w}.grad holds {f(weight.grad)} {_mark(total, weight.grad)}"
    )
    if not close(total, weight.grad):
        lines.append(f"  ({w}.grad differs: backward() not called, called more than once, or zero_grad() missing)")
    return lines, close(total, e)


def _delta_line(weight: Value, w: str, L: str, optimizer: Any, lr: Any, total: float, kind: str, f: Fmt) -> str:
    """Δw: what the optimizer's last step applied, or −lr·∂L/∂w, or how to get a number."""
    src = resolve(optimizer, lr, params=[weight], leaves=())
    if src.kind == "optimizer":
        d = src.delta(weight)
        if d is None:
            return f"Δw: {type(optimizer).__name__} has no recorded step for {w}"
        gd = f(-src.lr * total) if src.lr else "n/a"
        return (
            f"Δw = {f(d)}: the update {type(optimizer).__name__}'s last step applied "
            f"(plain gradient descent with its lr would be {gd})"
        )
    if src.kind == "lr" and src.lr is not None:
        short = {"input": "−η·δ·x = ", "added": "−η·δ = "}.get(kind, "")
        return f"Δw = {short}−η·∂{L}/∂{w} = −{src.lr:g} · ({f(total)}) = {f(-src.lr * total)}"
    return f"Δw = −η·∂{L}/∂{w} (pass lr= or optimizer= for the number)"


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

    def f(x: float) -> str:
        return fmt(x, precision)

    users = consumers(order)
    chains = [(chain_from(z, root, users), pos) for z, pos in users.get(weight, [])]
    nodes = sorted({u for c, _ in chains for u in c} | {weight}, key=index.__getitem__)
    engine = dict(zip(nodes, grad(root, nodes)))
    paths = [use_of(c, pos, root, engine) for c, pos in chains]
    changes = changed_leaves(order)
    names = Names(order)
    L = names.name(root, "L")
    w = names.name(weight, "w", own_label=False)
    ctx = dict(names=names, w=w, L=L, engine=engine, users=users, uses=len(paths))
    ctx["then"] = {ch.leaf: ch.then for ch in changes}
    lines = [
        f"∂{L}/∂{w} for {w} = {weight.label or 'this node'}: how {L} = {f(root.data)} changes "
        f"with {w} = {_graph_value(weight, changes, f)}"
    ]
    lines += _stale_lines(weight, changes, w, L, f)
    if len(paths) > 1:
        lines.append(f"{w} feeds {len(paths)} ops; ∂{L}/∂{w} is the sum of one chain per use.")
    ok = True
    kinds = []
    for n, path in enumerate(paths[:MAX_USES_SHOWN]):
        text, good, kind = _chain_text(n, path, weight, root, ctx, f)
        lines += text
        ok &= good
        kinds.append(kind)
    text, good = _total_lines(paths, weight, ctx, f)
    lines += text
    lines.append(
        "every factor agrees with the engine" if ok and good else "SOME FACTORS DIFFER FROM THE ENGINE (marked ✗)"
    )
    total = sum(p.term for p in paths)
    lines.append(_delta_line(weight, w, L, optimizer, lr, total, kinds[0] if len(paths) == 1 else "", f))
    return "\n".join(lines)
