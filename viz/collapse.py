"""Shrink a big computation graph to at most ``max_nodes`` boxes before ``dot`` sees it.

``dot`` needs ~20-45 s for 5,000 nodes and minutes for 10,000, so big
graphs are collapsed here, in linear time:

1. Parameters are put into groups (:class:`Grouping`): with a model, the
   units ``nn.structure.describe`` names (a neuron; a recurrent hidden
   unit with its row of every gate), then its layers; without one, the
   parameters that the same ops read (a neuron's weights and bias meet in
   its ``dot`` or its chain of ``+``).  Every node that belongs to one
   group (its parameters, the ops that read them, sums of those, the
   activation on top; for a recurrent unit also the state updates that
   read only that unit) becomes one box; if that is still too many boxes,
   the next level (layers) is used.  Inputs and constants become one box.
2. Whatever remains is drawn node by node outward from the root while the
   budget lasts; each subgraph hanging below that frontier becomes one
   summary box, the largest ones kept separate, the rest merged.

The result says which node goes to which box, so the drawer can aggregate
edges between boxes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from autograd import Value

SINGLE = -1  # unit[i] for a node drawn on its own


@dataclass
class Box:
    """A group of nodes drawn as one box."""

    kind: str  # "unit" (a group of parameters), "inputs", "subgraph", "other"
    key: str  # the group's name, or the index of the subgraph's top node
    members: list[int] = field(default_factory=list)


@dataclass
class Collapsed:
    """Which box each node of the topological order went to (``SINGLE``: drawn itself)."""

    unit: list[int]
    boxes: list[Box]
    how: str  # one sentence for the graph's title
    roles: dict[Value, str] = field(default_factory=dict)  # a grouped parameter's name inside its box


@dataclass
class Grouping:
    """One level of grouping: each parameter's group, and how to name things in its box."""

    key_of: dict[Value, str]  # parameter -> group name
    what: str  # "neuron", "unit", "layer": for the title
    recurrent: set[str] = field(default_factory=set)  # groups whose state updates stay inside them
    role_of: dict[Value, str] = field(default_factory=dict)  # parameter -> its name inside the box


def model_groupings(structure: Any) -> list[Grouping]:
    """Units, then layers, of an ``nn.structure.Structure``."""
    units = Grouping({}, "unit")
    layers = Grouping({}, "layer")
    for li, layer in enumerate(structure.layers):
        lname = layer.name or f"layer {li}"
        for unit in layer.units:
            for role, p in unit.roles:
                units.key_of.setdefault(p, unit.name)
                units.role_of.setdefault(p, role)
                layers.key_of.setdefault(p, lname)
                layers.role_of.setdefault(p, f"{unit.name}: {role}")
            if unit.kind == "recurrent":
                units.recurrent.add(unit.name)
                layers.recurrent.add(lname)
    if all(u.kind == "neuron" for u in structure.units()):
        units.what = "neuron"
    return [units, layers]


def connected_grouping(order: list[Value], params: Iterable[Value]) -> Grouping:
    """Groups of parameters read by the same ops (no model needed): each neuron's weights and bias.

    An op that reads parameters directly joins them (and the open sums below it) into one
    group; an op whose operands are all such open sums joins those; a one-operand op closes.
    """
    index = {v: i for i, v in enumerate(order)}
    is_param = set(params)
    parent = list(range(len(order)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rep = [-1] * len(order)  # for an open node: a parameter index of its group
    for i, v in enumerate(order):
        if v.is_leaf:
            continue
        kids = [index[c] for c in v.children]
        direct = [k for k in kids if order[k] in is_param]
        opens = [rep[k] for k in kids if rep[k] >= 0]
        if direct or (len(kids) > 1 and len(opens) == len(kids)):
            first = find((direct + opens)[0])
            for k in direct + opens:
                parent[find(k)] = first
            rep[i] = first
    names: dict[int, str] = {}
    grouping = Grouping({}, "group of parameters read together")
    for i, v in enumerate(order):
        if v in is_param:
            r = find(i)
            grouping.key_of[v] = names.setdefault(r, f"unit {len(names)}")
            grouping.role_of[v] = v.label or f"v{i}"
    return grouping


def _cost(v: Value) -> int:
    return 1 if v.is_leaf else 2


def _assign(order: list[Value], index: dict[Value, int], g: Grouping) -> tuple[list[int], dict[str, int]]:
    """Put nodes into ``g``'s groups.

    A parameter joins its group.  An op that reads a parameter directly joins
    that parameter's group and is "open"; an op whose operands are all open
    nodes of one group stays open in it (sums of w·x terms); a one-operand op
    on an open node closes the group (the activation).  In a recurrent group,
    an op whose operands (constants aside) all belong to it joins it too: the
    state update of an LSTM or GRU unit stays in its box.
    """
    unit = [SINGLE] * len(order)
    keys: dict[str, int] = {}
    is_open = [False] * len(order)
    recurrent: list[bool] = []  # per group id
    for i, v in enumerate(order):
        if v.is_leaf:
            key = g.key_of.get(v)
            if key is not None:
                if key not in keys:
                    keys[key] = len(keys)
                    recurrent.append(key in g.recurrent)
                unit[i] = keys[key]
            continue
        ks = [index[c] for c in v.children]
        direct = next((unit[k] for k in ks if order[k].is_leaf and unit[k] != SINGLE), SINGLE)
        if direct != SINGLE:
            unit[i] = direct
            is_open[i] = True
            continue
        first = unit[ks[0]]
        if len(ks) > 1 and first != SINGLE and all(is_open[k] and unit[k] == first for k in ks):
            unit[i] = first
            is_open[i] = True
        elif len(ks) == 1 and is_open[ks[0]]:
            unit[i] = first  # the activation closes the neuron
        else:
            inside = {unit[k] for k in ks if not (order[k].is_leaf and unit[k] == SINGLE)}
            if len(inside) == 1 and (u := inside.pop()) != SINGLE and recurrent[u]:
                unit[i] = u
    return unit, keys


def _summarize(
    order: list[Value], index: dict[Value, int], unit: list[int], boxes: list[Box], budget: int
) -> list[int]:
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


def collapse(order: list[Value], max_nodes: int, levels: list[Grouping]) -> Collapsed:
    """Boxes for the graph whose topological order (root last) is ``order``.

    ``levels``: groupings from fine to coarse (see :func:`model_groupings` and
    :func:`connected_grouping`); the first that gives at most ``max_nodes // 2``
    boxes is used, else the coarsest.
    """
    index = {v: i for i, v in enumerate(order)}
    unit = [SINGLE] * len(order)
    boxes: list[Box] = []
    how = ""
    roles: dict[Value, str] = {}
    levels = [g for g in levels if g.key_of]
    for n, g in enumerate(levels):
        u, keys = _assign(order, index, g)
        if len(keys) <= max_nodes // 2 or n == len(levels) - 1:
            unit = u
            boxes = [Box("unit", k) for k in keys]
            roles = g.role_of
            how = f"one box per {g.what} ({len(keys)} boxes)"
            break
    if boxes:
        for i, b in enumerate(unit):
            if b != SINGLE:
                boxes[b].members.append(i)
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
    return Collapsed(unit, boxes, how, roles)
