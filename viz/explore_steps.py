"""The explorer's steps: what the page embeds (numbers and names, compactly) and what it shows.

The page embeds, per node of the topological order, its name, op, ``data``, ``grad``, operands
and stored local derivatives, plus the update's Δw; the page script builds every step and its
text from these (``explore_page.js``).  :func:`expand` builds the same step sequence here, in
Python, for tests and for :func:`read_page`: the browser tests check the page against it.

The sequence (``n`` nodes, root last):

- forward: step ``i`` (0 ≤ i < n) computes node ``i`` (creation order);
- backward: the seed ``∂L/∂L = 1``, then for each node from the root down, one step per operand
  (``∂L/∂child += ∂L/∂node × ∂node/∂child``), in the engine's order of operands; the page writes
  the root by its name (``∂o/∂w`` for a root labelled ``o``; ``L`` when it has no label);
- update: one step per parameter with a Δw (a single note when there is none).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograd import Value
from autograd.node import edges

from .chain import Names
from .deltas import DeltaSource
from .stale import changed_leaves

FORMAT = 1  # the embedded data's version, stored as "format"
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
OP_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div"}


def _local(d: Any) -> float:
    """A stored local derivative as a float (it is a Value when built for higher derivatives)."""
    return float(d.data if isinstance(d, Value) else d)


def _op_word(op: str) -> str:
    """An op as a name: ``mul`` for ``*`` (and add, sub, div, pow), else its leading word."""
    if op.startswith("**"):
        return "pow"
    m = re.match(r"[A-Za-z_]+", op)
    return OP_WORDS.get(op) or (m.group(0) if m else "op")


def display_names(order: list[Value]) -> list[str]:
    """A unique readable name per node: its label; else ``L`` for the root, the op's word with a
    per-op counter for an op node (``mul₁``, ``add₂``, ``tanh₁``), ``c₁``, ``c₂`` … for an
    unlabelled leaf (a constant).  A generated name never equals another node's label."""
    names = Names(order)
    counts: dict[str, int] = {}
    last = len(order) - 1
    out = []
    for i, v in enumerate(order):
        base = "L" if i == last else (_op_word(v.op) if v.op else "c")
        if i != last and not v.label:
            counts[base] = counts.get(base, 0) + 1
            base += str(counts[base]).translate(SUBSCRIPT)
        out.append(names.name(v, base))
    return out


def graph_values(order: list[Value], src: DeltaSource) -> list[float]:
    """Each node's data as the forward pass computed with it: a leaf changed since (by the
    optimizer's step) shows its old value, from the graph's own copy or as data − Δw."""
    value = [v.data for v in order]
    changed = {c.leaf: c.then for c in changed_leaves(order)}
    if not changed:
        return value
    for i, v in enumerate(order):
        if v in changed:
            then, d = changed[v], src.delta(v) if src.kind == "optimizer" else None
            value[i] = then if then is not None else v.data - d if d is not None else v.data
    return value


def page_data(order: list[Value], src: DeltaSource) -> dict[str, Any]:
    """The numbers and names the page builds its steps from (column lists, one entry per node)."""
    index = {v: i for i, v in enumerate(order)}
    kids: list[list[int]] = []
    local: list[list[float]] = []
    for v in order:
        pairs = list(edges(v))
        kids.append([index[c] for c, _ in pairs])
        local.append([_local(d) for _, d in pairs])
    update: dict[str, Any] = {"kind": src.kind, "lr": src.lr, "description": src.description}
    update.update(params=[], delta=[], before=[], after=[])
    for p in src.params:
        d = src.delta(p)
        if p not in index or d is None:
            continue
        # lr: the step is proposed (data is before it); optimizer: step() applied it (data is after)
        before, after = (p.data, p.data + d) if src.kind == "lr" else (p.data - d, p.data)
        for key, x in (("params", index[p]), ("delta", d), ("before", before), ("after", after)):
            update[key].append(x)
    return {
        "format": FORMAT,
        "names": display_names(order),
        "ops": [v.op for v in order],
        "value": graph_values(order, src),
        "grad": [v.grad for v in order],
        "kids": kids,
        "local": local,
        "update": update,
    }


def _backward(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The seed, then one step per (node, operand) from the root down, replaying the sums."""
    n = len(data["names"])
    root = n - 1
    totals = [0.0] * n
    totals[root] = 1.0
    steps: list[dict[str, Any]] = [{"phase": "backward", "node": root, "grad": 1.0}]
    for i in range(root, -1, -1):
        g = data["grad"][i]  # final by now: every consumer of i came later in creation order
        for pos, (k, d) in enumerate(zip(data["kids"][i], data["local"][i])):
            product = g * d
            totals[k] += product
            step = {"phase": "backward", "node": i, "child": k, "pos": pos, "g": g, "d": d}
            steps.append(step | {"product": product, "total": totals[k]})
    return steps


def expand(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step of the page, in order, with the numbers its text shows (no text)."""
    names, value = data["names"], data["value"]
    steps = [{"phase": "forward", "node": i, "value": value[i]} for i in range(len(names))]
    steps += _backward(data)
    u = data["update"]
    for i, d, before, after in zip(u["params"], u["delta"], u["before"], u["after"]):
        steps.append({"phase": "update", "node": i, "delta": d, "before": before, "after": after})
    if not u["params"]:
        steps.append({"phase": "update", "node": None})
    return steps


def final_at(steps: list[dict[str, Any]], n: int) -> list[int | None]:
    """The step at which each node's gradient is final: its last contribution, or the seed."""
    final: list[int | None] = [None] * n
    for s, step in enumerate(steps):
        if step["phase"] == "backward":
            final[step.get("child", step["node"])] = s
    return final


def phase_start(steps: list[dict[str, Any]]) -> dict[str, int]:
    return {p: next(s for s, st in enumerate(steps) if st["phase"] == p) for p in ("forward", "backward", "update")}


def check_grads(data: dict[str, Any], close: Callable[[float, float], bool] | None = None) -> None:
    """The page shows one ``root.backward()``: every ``.grad`` must be what the replay computes."""
    close = close or (lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12))
    replay = [0.0] * len(data["names"])
    for step in _backward(data):
        replay[step.get("child", step["node"])] = step.get("total", step.get("grad", 0.0))
    for g, name, r in reversed(list(zip(data["grad"], data["names"], replay))):  # the root first
        if not close(g, r):
            raise ValueError(
                f"explore: {name}.grad is {g!r} but one backward() from the root gives {r!r}; "
                "the page shows a single backward pass, so zero the gradients (zero_grad), call "
                "root.backward() once, then explore(root)"
            )


_DATA = re.compile(r'<script type="application/json" id="deltaw-data">(.*?)</script>', re.S)


def read_page(page: str | os.PathLike[str]) -> dict[str, Any]:
    """The data embedded in an explorer page, with ``steps`` expanded: ``page`` is the page's text,
    or a path (a ``pathlib.Path``, or the ``ExplorerPage`` that ``explore`` returned)."""
    text = Path(os.fspath(page)).read_text(encoding="utf-8") if isinstance(page, os.PathLike) else page
    m = _DATA.search(text)
    if m is None:
        raise ValueError("read_page: no deltaw explorer data in this page")
    data: dict[str, Any] = json.loads(m.group(1))
    data["steps"] = expand(data)
    data["final_at"] = final_at(data["steps"], len(data["names"]))
    data["phase_start"] = phase_start(data["steps"])
    return data
