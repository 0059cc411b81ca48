"""Estimate how much work ``dot`` will have with a drawing, before calling it.

``dot`` ranks nodes and replaces every edge that spans k ranks by a chain of
k−1 virtual nodes; crossing minimisation then works on real + virtual nodes.
A graph of 1,000 boxes can hide 100,000 virtual nodes when one value feeds
ops far apart (a hub), and then ``dot`` runs for minutes.  This counts them
with longest-path ranks (an upper bound on what ``dot``'s network simplex
ends with) in linear time, so :func:`viz.draw_graph` can collapse further.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


def dot_work(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> int:
    """Real nodes + edges + the virtual nodes long edges would add (cycles tolerated)."""
    nodes = list(nodes)
    edges = list(edges)
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    indeg: dict[str, int] = {n: 0 for n in nodes}
    for s, t in edges:
        succ.setdefault(s, []).append(t)
        indeg[t] = indeg.get(t, 0) + 1
        indeg.setdefault(s, 0)
    rank = {n: 0 for n in indeg}
    left = dict(indeg)
    done: set[str] = set()
    order = list(indeg)  # insertion order: deterministic cycle breaking
    pos = 0
    queue = deque(n for n, k in left.items() if k == 0)
    while len(done) < len(left):
        if not queue:
            # a cycle (collapsed boxes can form them): dot reverses an edge; start anywhere on it
            while order[pos] in done:
                pos += 1
            queue.append(order[pos])
            left[order[pos]] = 0
        n = queue.popleft()
        if n in done:
            continue
        done.add(n)
        r = rank[n] + 1
        for t in succ.get(n, ()):
            if t in done:
                continue
            if rank[t] < r:
                rank[t] = r
            left[t] -= 1
            if left[t] == 0:
                queue.append(t)
    virtual = 0
    for s, t in edges:
        span = abs(rank[t] - rank[s])
        if span > 1:
            virtual += span - 1
    return len(rank) + len(edges) + virtual
