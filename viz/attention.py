"""Attention heatmaps: what each head of a causal transformer looks at, position by position.

``plot_attention(model.attention_weights(tokens), labels)`` draws one panel per
head (a row of panels per layer): row t of a panel is how position t spreads
its attention over the positions s <= t it has seen (each row sums to 1), so
the cells above the diagonal, the future, are 0.  Both axes are labelled with
the characters.  Like the other plots it needs matplotlib, imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .plots import Figure, _finish

__all__ = ["plot_attention", "attention_matrix"]

Weights = Sequence[Sequence[Sequence[Sequence[float]]]]  # [layer][head][t][s], row t holding s = 0..t


def attention_matrix(rows: Sequence[Sequence[float]]) -> list[list[float]]:
    """A head's causal rows (row t has t + 1 weights) as a square matrix, 0 above the diagonal."""
    n = len(rows)
    for t, row in enumerate(rows):
        if len(row) != t + 1:
            raise ValueError(
                f"plot_attention: row {t} of a head holds {len(row)} weights but a causal head's row t holds "
                f"t + 1 = {t + 1}; pass model.attention_weights(tokens) as it comes ([layer][head][t][s])"
            )
        bad = next((w for w in row if not isinstance(w, (int, float)) or not math.isfinite(w)), None)
        if bad is not None:
            raise ValueError(f"plot_attention: row {t} holds {bad!r}; attention weights must be finite numbers")
    return [[float(row[s]) if s <= t else 0.0 for s in range(n)] for t, row in enumerate(rows)]


def _check(weights: Any, labels: Sequence[str]) -> list[list[list[list[float]]]]:
    """``weights`` as square matrices [layer][head][t][s], or an error saying what was expected."""
    if not isinstance(weights, Sequence) or not weights or not all(isinstance(h, Sequence) and h for h in weights):
        raise ValueError(
            "plot_attention: weights must be a non-empty [layer][head][t][s] list, e.g. model.attention_weights(tokens)"
        )
    mats = [[attention_matrix(head) for head in layer] for layer in weights]
    sizes = {len(m) for layer in mats for m in layer}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(f"plot_attention: every head must cover the same positions, got lengths {sorted(sizes)}")
    (n,) = sizes
    if len(labels) != n:
        raise ValueError(
            f"plot_attention: got {len(labels)} labels for {n} positions; pass one label (character) per token"
        )
    return mats


def plot_attention(
    weights: Weights,
    labels: Sequence[str],
    *,
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """One heatmap per head (rows: layers), positions × positions, ticks labelled with ``labels``.

    ``weights`` is ``model.attention_weights(tokens)``; ``labels`` one string per
    token (e.g. its character).  Colours run from 0 to 1 in every panel, so heads compare."""
    mats = _check(weights, [str(x) for x in labels])
    n_layer, n_head, n = len(mats), max(len(layer) for layer in mats), len(labels)
    side = max(1.8, 0.28 * n + 0.9)
    fig = Figure(figsize=(side * n_head + 1.0, side * n_layer + 0.6), layout="constrained")
    axes = fig.subplots(n_layer, n_head, squeeze=False)
    image = None
    for i, layer in enumerate(mats):
        for h in range(n_head):
            ax = axes[i][h]
            if h >= len(layer):
                ax.set_axis_off()
                continue
            image = ax.imshow(layer[h], vmin=0.0, vmax=1.0, cmap="viridis", interpolation="nearest")
            ax.set_xticks(range(n), [str(x) for x in labels], fontsize=7)
            ax.set_yticks(range(n), [str(x) for x in labels], fontsize=7)
            ax.set_title(f"layer {i}, head {h}" if n_layer > 1 else f"head {h}", fontsize=9)
            if h == 0:
                ax.set_ylabel("position t (query)")
            if i == n_layer - 1:
                ax.set_xlabel("attends to s (key)")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    fig.suptitle(title or "attention weights per head (each row sums to 1; the future is 0)")
    return _finish(fig, path)
