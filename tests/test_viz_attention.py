"""``viz.plot_attention``: the panels show exactly ``GPT.attention_weights``, causal rows summing to 1."""

from __future__ import annotations

import math

import pytest

import viz
from nn import GPT

TOKENS = [4, 0, 2, 1, 3, 0]
LABELS = ["·", "a", "c", "b", "d", "a"]


def model_and_weights() -> tuple[GPT, list]:
    model = GPT(5, n_embd=8, n_head=2, n_layer=2, block_size=8, init_std=0.5, seed=3)
    return model, model.attention_weights(TOKENS)


def panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_images()]


def test_each_panel_is_that_heads_attention_weights_padded_with_zeros():
    _, weights = model_and_weights()
    fig = viz.plot_attention(weights, LABELS)
    axes = panels(fig)
    assert len(axes) == 2 * 2  # layers x heads, in that order
    n = len(TOKENS)
    for k, ax in enumerate(axes):
        layer, head = divmod(k, 2)
        shown = ax.get_images()[0].get_array()
        assert shown.shape == (n, n)
        for t in range(n):
            for s in range(n):
                expected = weights[layer][head][t][s] if s <= t else 0.0
                assert shown[t, s] == expected, (layer, head, t, s)


def test_rows_sum_to_one_and_the_future_is_zero():
    _, weights = model_and_weights()
    for ax in panels(viz.plot_attention(weights, LABELS)):
        shown = ax.get_images()[0].get_array()
        for t in range(len(TOKENS)):
            assert math.isclose(float(shown[t].sum()), 1.0, rel_tol=1e-12)
            assert all(float(shown[t, s]) == 0.0 for s in range(t + 1, len(TOKENS)))
            assert float(shown[t, : t + 1].min()) > 0.0  # a softmax never gives exactly 0


def test_axes_are_labelled_with_the_characters():
    _, weights = model_and_weights()
    for ax in panels(viz.plot_attention(weights, LABELS)):
        assert [x.get_text() for x in ax.get_xticklabels()] == LABELS
        assert [y.get_text() for y in ax.get_yticklabels()] == LABELS


def test_saves_to_path(tmp_path):
    _, weights = model_and_weights()
    out = tmp_path / "att.png"
    viz.plot_attention(weights, LABELS, path=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_is_a_clear_error():
    _, weights = model_and_weights()
    with pytest.raises(ValueError, match="plot_attention: got 5 labels for 6 positions"):
        viz.plot_attention(weights, LABELS[:5])
    square = [[[list(row) + [0.0] * (len(TOKENS) - len(row)) for row in head] for head in layer] for layer in weights]
    with pytest.raises(ValueError, match="plot_attention: row 0 of a head holds 6 weights"):
        viz.plot_attention(square, LABELS)
    with pytest.raises(ValueError, match="plot_attention: weights must be a non-empty"):
        viz.plot_attention([], LABELS)
    nan = [[[[math.nan]]]]
    with pytest.raises(ValueError, match="finite"):
        viz.plot_attention(nan, ["a"])
