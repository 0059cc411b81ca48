"""viz.explore_run without a browser: the page's embedded numbers are the recorder's, every drawn
weight and neuron is tagged, the thinned weights are aggregated, nothing is fetched, and bad
arguments are named.  (The page's behaviour in Chromium: tests/test_browser_run_view.py.)"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import nn
import viz
import viz.renderers
from viz import run_view

pytestmark = pytest.mark.requires_dot


def _run(hidden: list[int], steps: int = 6, seed: int = 0) -> tuple[nn.MLP, viz.RunRecorder]:
    X, y = nn.make_moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [*hidden, 1], seed=seed)
    rec = viz.RunRecorder()
    nn.fit(model, X, y * 2.0 - 1.0, loss="hinge", optimizer=nn.Adam(model.parameters(), lr=0.05), epochs=steps,
           progress=False, callbacks=[rec])  # fmt: skip
    return model, rec


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="deltaw-run">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))


class _Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_the_page_embeds_the_recording_exactly_and_tags_every_weight(tmp_path):
    model, rec = _run([4, 3])
    result = viz.explore_run(model, rec, tmp_path / "run.html")
    page = Path(result).read_text(encoding="utf-8")
    assert page == result.html and page.startswith("<!DOCTYPE html>")
    data = _data(page)
    weights = [n for n, _ in model.named_parameters() if ".w." in n]
    biases = [n for n, _ in model.named_parameters() if n.endswith(".b")]
    assert sorted(data["params"]) == sorted(weights + biases)  # 29 weights: all drawn
    cols = [rec.column(n) for n in data["params"]]
    assert data["delta"] == rec.deltas[:, cols].tolist() and data["value"] == rec.values[:, cols].tolist()
    assert data["loss"] == rec.loss.tolist() and data["steps"] == rec.steps.tolist()
    assert data["scale"]["delta"] == float(np.abs(rec.deltas).max())
    assert data["hidden"] == []
    tags = _tags(page)
    edges = [a["data-param"] for t, a in tags if t == "g" and a.get("class") == "edge"]
    nodes = [a["data-param"] for t, a in tags if t == "g" and a.get("class") == "node" and "data-param" in a]
    assert sorted(edges) == sorted(weights) and sorted(nodes) == sorted(biases)
    body = next(a for t, a in tags if t == "body")
    assert body == {"data-step": "0", "data-row": "0"}
    for needed in ("loss", "step", "slider", "play", "prev", "next", "hidden", "loss-marker", "loss-curve"):
        assert any(a.get("id") == needed for _, a in tags), needed


def test_the_page_is_self_contained(tmp_path):
    model, rec = _run([3])
    page = viz.explore_run(model, rec, tmp_path / "run.html").html
    tags = _tags(page)
    assert [t for t, _ in tags].count("script") == 2  # the JSON and the page's script
    assert not [a for _, a in tags if a.get("src") or a.get("href")]
    assert "http://" not in page and "https://" not in page and "xlink" not in page
    assert "<title>" not in page.split("<body", 1)[1]  # no one-moment tooltips in the diagram
    inline = viz.explore_run(model, rec, tmp_path / "again.html")._repr_html_()
    assert inline.startswith("<iframe srcdoc=") and "<script" not in inline


def test_a_big_model_draws_the_largest_mean_deltas_and_aggregates_the_rest(tmp_path):
    model, rec = _run([16, 16], steps=4)
    page = viz.explore_run(model, rec, tmp_path / "run.html", max_edges=100).html
    data = _data(page)
    drawn = set(data["params"])
    mean = np.abs(rec.deltas).mean(axis=0)
    hidden = data["hidden"]
    assert [h["layer"] for h in hidden] == [1]  # 32 + 16 weights fit; layer 1's 256 do not
    layer = model.layers[1]
    names = [f"layers.1.neurons.{j}.w.{i}" for j in range(16) for i in range(16)]
    undrawn = [n for n in names if n not in drawn]
    assert hidden[0]["hidden"] == len(undrawn) > 0 and hidden[0]["total"] == 256
    cols = [rec.column(n) for n in undrawn]
    assert hidden[0]["mean"] == np.abs(rec.deltas[:, cols]).mean(axis=1).tolist()
    for j in range(len(layer.neurons)):  # into each neuron: the largest mean |Δw| are the ones drawn
        row = [f"layers.1.neurons.{j}.w.{i}" for i in range(16)]
        kept = [mean[rec.column(n)] for n in row if n in drawn]
        left = [mean[rec.column(n)] for n in row if n not in drawn]
        assert kept and left and min(kept) >= max(left)


def test_without_a_path_it_writes_a_temporary_file():
    model, rec = _run([2], steps=2)
    result = viz.explore_run(model, rec)
    try:
        assert result.path.name.startswith("deltaw-run-") and result.path.read_text(encoding="utf-8") == result.html
    finally:
        result.path.unlink()


def test_bad_arguments_are_named(tmp_path, monkeypatch):
    model, rec = _run([3], steps=2)
    other, _ = _run([4], steps=1)
    with pytest.raises(TypeError, match="explore_run: recorder must be a viz.RunRecorder, got list"):
        viz.explore_run(model, [], tmp_path / "a.html")
    with pytest.raises(ValueError, match="explore_run: the recorder holds no steps"):
        viz.explore_run(model, viz.RunRecorder(), tmp_path / "a.html")
    with pytest.raises(ValueError, match="explore_run: the recording is of another model"):
        viz.explore_run(other, rec, tmp_path / "a.html")
    with pytest.raises(TypeError, match="explore_run: model must be an nn.MLP"):
        viz.explore_run(object(), rec, tmp_path / "a.html")
    rnn = nn.RNN(2, 3)
    rnn_rec = viz.RunRecorder()
    rnn_rec.record(rnn, nn.SGD(rnn.parameters(), lr=0.1), 1.0)  # no step yet: every Δw is 0
    with pytest.raises(ValueError, match="^explore_run: draws a stack of dense layers"):
        viz.explore_run(rnn, rnn_rec, tmp_path / "a.html")
    with pytest.raises(ValueError, match="^explore_run: max_edges must be a positive int or None, got 0"):
        viz.explore_run(model, rec, tmp_path / "a.html", max_edges=0)
    with pytest.raises(ValueError, match="^explore_run: every must be an int >= 1, got 0"):
        viz.explore_run(model, rec, tmp_path / "a.html", every=0)
    monkeypatch.setattr(viz.renderers, "find_renderer", lambda: None)
    with pytest.raises(viz.RendererNotFound, match="(?s)^explore_run: .*apt-get install graphviz"):
        viz.explore_run(model, rec, tmp_path / "a.html")
    assert not (tmp_path / "a.html").exists()


def test_every_shows_one_recorded_step_in_every_and_a_huge_page_is_refused(tmp_path, monkeypatch):
    model, rec = _run([3], steps=7)
    data = _data(viz.explore_run(model, rec, tmp_path / "run.html", every=3).html)
    assert data["steps"] == [0, 3, 6] and data["loss"] == rec.loss[[0, 3, 6]].tolist()
    cols = [rec.column(n) for n in data["params"]]
    assert data["delta"] == rec.deltas[[0, 3, 6]][:, cols].tolist()
    assert len(data["loss_xy"]) == 3
    monkeypatch.setattr(run_view, "MAX_PAGE_NUMBERS", 100)  # 13 drawn parameters, 7 steps: 182 numbers
    with pytest.raises(
        ValueError, match=r"^explore_run: 7 steps × 13 drawn parameters would put 182 numbers.*every=3 to"
    ):
        viz.explore_run(model, rec, tmp_path / "big.html")
    assert len(_data(viz.explore_run(model, rec, tmp_path / "ok.html", every=3).html)["steps"]) == 3
    with pytest.raises(
        ValueError,
        match="^explore_run: 4 steps × 13 drawn parameters would put 104 numbers in the page .at most 100.; "
        "pass every=3",
    ):
        viz.explore_run(model, rec, tmp_path / "big.html", every=2)
    assert not (tmp_path / "big.html").exists()
