"""Shrink a big computation graph to at most ``max_nodes`` boxes before ``dot`` sees it.

``dot`` needs ~20-45 s for 5,000 nodes and minutes for 10,000, so big
graphs are collapsed here, in linear time:

1. When parameters carry ``nn``'s dotted names (``layers.1.neurons.3.w.0``),
   every node that belongs to one neuron (its parameters, the ops that read
   them, sums of those, and the activation on top) becomes one box per
   neuron; if that is still too many boxes, one per layer, and so on up
   the name.  Inputs and constants become one box.
2. Whatever remains is drawn node by node outward from the root while the
   budget lasts; each subgraph hanging below that frontier becomes one
   summary box, the largest ones kept separate, the rest merged.

The result says which node goes to which box, so the drawer can aggregate
edges between boxes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from autograd import Value

SINGLE = -1  # unit[i] for a node drawn on its own


@dataclass
class Box:
    """A group of nodes drawn as one box."""

    kind: str  # "neuron" (an nn module path), "inputs", "subgraph", "other"
    key: str  # module path, or the id of the subgraph's top node
    members: list = field(default_factory=list)


@dataclass
class Collapsed:
    """Which box each node of the topological order went to (``SINGLE``: drawn itself)."""

    unit: list
    boxes: list
    how: str  # one sentence for the graph's title


def module_path(label: str) -> list[str] | None:
    """``layers.1.neurons.3.w.0`` → ``[layers, 1, neurons, 3]``; ``None`` for other labels."""
    parts = label.split(".")
    if len(parts) < 2:
        return None
    if parts[-1].isdigit():
        parts = parts[:-2]
    else:
        parts = parts[:-1]
    return parts or None


def _cost(v: Value) -> int:
    return 1 if v.is_leaf else 2


def _neuron_units(order: list, index: dict, paths: dict, level: int) -> tuple[list, dict]:
    """Assign nodes to module groups at ``level`` (0 = deepest, e.g. a neuron).

    A parameter joins its module.  An op that reads a parameter directly
    joins that parameter's module and is "open"; an op whose operands are
    all open nodes of one module stays open in it (sums of w·x terms); a
    one-operand op on an open node closes the group (the activation).
    """
    unit = [SINGLE] * len(order)
    keys: dict[str, int] = {}
    is_open = [False] * len(order)
    for i, v in enumerate(order):
        if v.is_leaf:
            p = paths.get(v)
            if p is not None:
                cut = len(p) - 2 * level
                if cut >= 1:
                    unit[i] = keys.setdefault(".".join(p[:cut]), len(keys))
            continue
        kids = v.children
        g = SINGLE
        for c in kids:
            if c.is_leaf:
                u = unit[index[c]]
                if u != SINGLE:
                    g = u
                    break
        if g != SINGLE:
            unit[i] = g
            is_open[i] = True
            continue
        ks = [index[c] for c in kids]
        if len(ks) == 1:
            k = ks[0]
            if is_open[k]:
                unit[i] = unit[k]  # the activation closes the neuron
            continue
        first = unit[ks[0]]
        if first != SINGLE and all(is_open[k] and unit[k] == first for k in ks):
            unit[i] = first
            is_open[i] = True
    return unit, keys


def _summarize(order: list, index: dict, unit: list, boxes: list, budget: int) -> list:
    """Draw single nodes outward from the root while ``budget`` lasts; put each
    subgraph below that frontier into a summary box (largest kept, rest merged)."""
    n = len(order)
    reserve = max(1, min(40, budget // 5))
    spend = budget - reserve - len(boxes)
    included = [False] * n
    frontier: list[int] = []
    seen = [False] * n
    root = n - 1
    queue = deque([root])
    seen[root] = True
    while queue:
        i = queue.popleft()
        v = order[i]
        if unit[i] == SINGLE:
            c = _cost(v)
            if c <= spend:
                spend -= c
                included[i] = True
            else:
                frontier.append(i)
                continue
        for ch in v.children:
            k = index[ch]
            if not seen[k]:
                seen[k] = True
                queue.append(k)
    # each frontier node claims the single nodes below it that nobody claimed yet
    claimed = [-1] * n
    groups: list[list[int]] = []
    for f in frontier:
        if claimed[f] != -1:
            continue
        g = len(groups)
        members = []
        stack = [f]
        claimed[f] = g
        while stack:
            i = stack.pop()
            members.append(i)
            for ch in order[i].children:
                k = index[ch]
                if claimed[k] == -1 and not included[k] and unit[k] == SINGLE:
                    claimed[k] = g
                    stack.append(k)
        groups.append(members)
    leftovers = [i for i in range(n) if unit[i] == SINGLE and not included[i] and claimed[i] == -1]
    ranked = sorted(range(len(groups)), key=lambda g: (-len(groups[g]), groups[g][0]))
    keep = ranked[: max(0, reserve - 1)] if (leftovers or len(ranked) > reserve) else ranked
    rest = [i for g in ranked[len(keep) :] for i in groups[g]] + leftovers
    for g in keep:
        members = sorted(groups[g])
        b = len(boxes)
        boxes.append(Box("subgraph", str(groups[g][0]), members))
        for i in members:
            unit[i] = b
    if rest:
        b = len(boxes)
        boxes.append(Box("other", "rest", sorted(rest)))
        for i in rest:
            unit[i] = b
    return unit


def collapse(order: list, max_nodes: int) -> Collapsed:
    """Boxes for the graph whose topological order (root last) is ``order``."""
    index = {v: i for i, v in enumerate(order)}
    paths = {}
    for v in order:
        if v.is_leaf and v.label:
            p = module_path(v.label)
            if p is not None:
                paths[v] = p
    unit = [SINGLE] * len(order)
    boxes: list[Box] = []
    how = ""
    if paths:
        depth = max(len(p) for p in paths.values())
        for level in range((depth + 1) // 2):
            u, keys = _neuron_units(order, index, paths, level)
            if len(keys) <= max_nodes // 2 or level == (depth + 1) // 2 - 1:
                unit = u
                boxes = [Box("neuron", k) for k in keys]
                what = "neuron" if level == 0 else "module"
                how = f"one box per {what} ({len(keys)} boxes, from the parameters' names)"
                break
        for i, b in enumerate(unit):
            if b != SINGLE:
                boxes[b].members.append(i)
        # inputs and constants: one box
        leaves = [i for i, v in enumerate(order) if v.is_leaf and unit[i] == SINGLE]
        if leaves:
            b = len(boxes)
            boxes.append(Box("inputs", "inputs", leaves))
            for i in leaves:
                unit[i] = b
        how += "; inputs and constants in one box"
    cost = len(boxes) + sum(_cost(order[i]) for i in range(len(order)) if unit[i] == SINGLE)
    if cost > max_nodes:
        before = len(boxes)
        unit = _summarize(order, index, unit, boxes, max_nodes)
        extra = len(boxes) - before
        drawn = sum(1 for u in unit if u == SINGLE)
        sentence = f"{drawn} nodes nearest the output drawn one by one, the {extra} subgraphs below them summarized"
        how = f"{how}; {sentence}" if how else sentence
    return Collapsed(unit, boxes, how)
