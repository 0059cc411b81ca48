"""viz.explore: the page's embedded steps against the engine's numbers, its SVG's DOM contract,
no network references, and labels that cannot break out of the page."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import pytest

import nn
import viz
import viz.renderers
from autograd import Value, grad, topological_order
from viz.explorer import read_page

pytestmark = pytest.mark.requires_dot
HOSTILE = "</script><script>alert(1)</script>"


def _neuron(b_label: str = "b") -> tuple[Value, dict[str, Value]]:
    leaves = {
        "x1": Value(2.0, label="x1"),
        "x2": Value(0.0, label="x2"),
        "w1": Value(-3.0, label="w1"),
        "w2": Value(1.0, label="w2"),
        "b": Value(6.8814, label=b_label),
    }
    v = leaves
    out = (v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["b"]).tanh()
    out.backward()
    return out, leaves


def _mlp_loss() -> tuple[Value, nn.MLP]:
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    loss = nn.mse_loss([model(x) for x in ([0.5, -1.0], [1.0, 2.0])], [1.0, -1.0])
    loss.backward()
    return loss, model


def _data(page: str) -> dict:
    data = read_page(page)
    m = re.search(r'<script type="application/json" id="deltaw-data">(.*?)</script>', page, re.S)
    assert m is not None and "steps" not in json.loads(m.group(1))  # the page builds its steps itself
    return data


def _page(root: Value, tmp_path, **kw) -> tuple[str, dict]:
    result = viz.explore(root, path=tmp_path / "page.html", **kw)
    page = result.path.read_text(encoding="utf-8")
    assert page == result.html
    return page, _data(page)


def _check_steps(root: Value, data: dict) -> None:
    """Forward in creation order, backward in reverse topological order with the engine's numbers."""
    order = topological_order(root)
    steps = data["steps"]
    forward = [s for s in steps if s["phase"] == "forward"]
    backward = [s for s in steps if s["phase"] == "backward"]
    assert [s["node"] for s in forward] == list(range(len(order)))
    assert [s["value"] for s in forward] == [v.data for v in order]
    assert backward[0]["node"] == len(order) - 1 and backward[0]["grad"] == 1.0
    nodes = [s["node"] for s in backward]
    assert nodes == sorted(nodes, reverse=True)  # reverse topological (= reverse creation) order
    totals: dict[int, float] = {}
    for s in backward[1:]:
        node = order[s["node"]]
        assert s["g"] == node.grad  # a node's gradient is final before it is passed on
        assert s["product"] == s["g"] * s["d"]
        assert s["child"] in data["kids"][s["node"]]
        totals[s["child"]] = totals.get(s["child"], 0.0) + s["product"]
        assert s["total"] == pytest.approx(totals[s["child"]], rel=1e-12, abs=1e-15)
    last = {s["child"]: s["total"] for s in backward[1:]}
    leaves = [v for v in order if v.is_leaf]
    for k, total in last.items():
        assert total == pytest.approx(order[k].grad, rel=1e-12, abs=1e-15)
    for v, g in zip(leaves, grad(root, leaves)):
        assert last[order.index(v)] == pytest.approx(g, rel=1e-12, abs=1e-15)
    assert data["grad"] == [v.grad for v in order] and data["value"] == [v.data for v in order]
    for k, at in enumerate(data["final_at"]):  # the step of the last contribution (or the seed)
        contributions = [i for i, s in enumerate(steps) if s.get("child", s["node"]) == k and s["phase"] == "backward"]
        assert at == contributions[-1]


def test_neuron_steps_equal_the_engine_and_the_hand_derivation(tmp_path) -> None:
    out, v = _neuron()
    page, data = _page(out, tmp_path, lr=0.1)
    _check_steps(out, data)
    order = topological_order(out)
    backward = [s for s in data["steps"] if s["phase"] == "backward"]
    # ∂tanh(z)/∂z = 1 − tanh²z ≈ 0.5 here; ∂z/∂w1 = x1 = 2, so ∂out/∂w1 = 2(1 − tanh²z)
    into_w1 = [s for s in backward if s.get("child") == order.index(v["w1"])]
    assert len(into_w1) == 1 and into_w1[0]["d"] == 2.0
    assert into_w1[0]["total"] == pytest.approx(2 * (1 - out.data**2), rel=1e-12)
    update = [s for s in data["steps"] if s["phase"] == "update"]
    assert {order[s["node"]].label for s in update} == set(v)
    for s in update:
        assert s["delta"] == -0.1 * order[s["node"]].grad and s["after"] == s["before"] + s["delta"]
    _, data = _page(out, tmp_path, lr=0.1, params=[v["w1"], v["b"]])
    update = [s for s in data["steps"] if s["phase"] == "update"]
    assert [order[s["node"]].label for s in update] == ["w1", "b"]
    assert data["phase_start"] == {"forward": 0, "backward": len(order), "update": len(order) + len(backward)}


def test_mlp_loss_steps_and_optimizer_deltas(tmp_path) -> None:
    loss, model = _mlp_loss()
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    page, data = _page(loss, tmp_path, lr=0.05)
    _check_steps(loss, data)
    before = {p: p.data for p in model.parameters()}
    opt.step()
    _, data = _page(loss, tmp_path, optimizer=opt)
    order = topological_order(loss)
    for i, v in enumerate(order):  # the forward pass shows the values it computed with
        assert data["value"][i] == before.get(v, v.data)
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    changed = [p for p in model.parameters() if p.data != before[p]]
    # the picture: the old value until the parameter's update step, then today's
    assert page.count('class="n-data stale"') == page.count('class="n-after"') == len(changed) > 0
    update = [s for s in data["steps"] if s["phase"] == "update"]
    assert len(update) == len(model.parameters())
    for s in update:
        p = order[s["node"]]
        assert s["delta"] == opt.deltas[p] and s["after"] == p.data


def test_every_value_group_in_the_svg_carries_data_node_and_data_value(tmp_path) -> None:
    loss, _ = _mlp_loss()
    page, data = _page(loss, tmp_path, lr=0.1)
    order = topological_order(loss)
    groups = re.findall(r'<g id="node\d+" class="node" data-node="(\d+)" data-value="([^"]+)">', page)
    assert sorted(int(i) for i, _ in groups) == list(range(len(order)))
    for i, value in groups:
        assert float(value) == order[int(i)].data
    ops = re.findall(r'<g id="node\d+" class="node" data-op="(\d+)">', page)
    assert sorted(int(i) for i in ops) == [i for i, v in enumerate(order) if not v.is_leaf]
    assert "<title>" not in page.split("<svg", 1)[1]  # no native tooltips telling every number early
    # the stylesheet hides each number until the step reaches it
    counts = {c: page.count(f'class="{c}"') for c in ("n-data", "n-grad", "f-grad", "n-dw", "f-dw")}
    n_dw = len(data["update"]["params"])
    assert counts == {"n-data": len(order), "n-grad": len(order), "f-grad": len(order), "n-dw": n_dw, "f-dw": n_dw}
    assert 'id="equation"' in page and '<body data-step="0" data-phase="forward">' in page


def test_page_has_no_external_references(tmp_path) -> None:
    out, _ = _neuron()
    page, _ = _page(out, tmp_path, lr=0.1)
    for bad in ("http:", "https:", "src=", "<link", "@import", "url("):
        assert bad not in page
    assert page.count("<script") == 2 and "<style>" in page and "<svg" in page


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.starts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.starts.append(tag)


def test_a_hostile_label_stays_inert(tmp_path) -> None:
    out, _ = _neuron(b_label=HOSTILE)
    page, data = _page(out, tmp_path, lr=0.1)
    tags = _Tags()
    tags.feed(page)
    assert tags.starts.count("script") == 2  # the JSON and the page's own script, nothing more
    assert HOSTILE not in page and "<script>alert" not in page
    assert HOSTILE in data["names"]  # the label round-trips as data
    inline = viz.explore(out, lr=0.1, path=tmp_path / "p2.html")._repr_html_()
    assert inline.startswith("<iframe srcdoc=") and "<script" not in inline


def test_without_a_renderer_it_raises_renderer_not_found(tmp_path, monkeypatch) -> None:
    out, _ = _neuron()
    monkeypatch.setattr(viz.renderers, "find_renderer", lambda: None)
    with pytest.raises(viz.RendererNotFound, match="(?s)^explore: .*apt-get install graphviz"):
        viz.explore(out, path=tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_bad_root_and_no_update_source(tmp_path) -> None:
    with pytest.raises(TypeError, match="explore: root must be an autograd.Value"):
        viz.explore(1.0)  # type: ignore[arg-type]
    out, _ = _neuron()
    _, data = _page(out, tmp_path)
    update = [s for s in data["steps"] if s["phase"] == "update"]
    assert len(update) == 1 and update[0]["node"] is None
    assert data["update"]["kind"] == "none" and "no Δw" in data["update"]["description"]
    assert not math.isnan(data["steps"][-1].get("delta", 0.0))


def test_grads_not_from_one_backward_are_refused(tmp_path) -> None:
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    out = (x * w).tanh()
    with pytest.raises(ValueError, match=r"explore: L\.grad is 0\.0 but one backward\(\) from the root gives 1\.0"):
        viz.explore(out, path=tmp_path / "page.html")  # backward() never called
    out.backward()
    out.backward()  # twice: every grad doubled
    with pytest.raises(ValueError, match="call root.backward\\(\\) once"):
        viz.explore(out, path=tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_unlabelled_nodes_get_readable_names_that_never_equal_a_label(tmp_path) -> None:
    x, w = Value(2.0, label="x"), Value(-3.0, label="mul₂")  # a label that looks generated
    c = Value(0.5)
    out = ((x * w + c) * (x * c)).tanh()
    out.backward()
    _, data = _page(out, tmp_path, lr=0.1)
    order = topological_order(out)
    names = dict(zip(order, data["names"]))
    assert names[x] == "x" and names[w] == "mul₂" and names[c] == "c₁" and names[out] == "L"
    ops = [names[v] for v in order if v.op and v is not out]
    assert ops == ["mul₁", "add₁", "mul₂′", "mul₃"]  # per-op counters; the label mul₂ keeps its name
    assert len(set(data["names"])) == len(order)
    x, w, c = Value(2.0, label="x"), Value(-3.0, label="mul₂"), Value(0.5)
    y = (((x**2 - c) / w).exp().tanh() * 1.0).relu()
    y.backward()
    names = _page(y, tmp_path)[1]["names"]
    assert names == ["x", "mul₂", "c₁", "pow₁", "sub₁", "div₁", "exp₁", "tanh₁", "c₂", "mul₁", "L"]


def test_a_collapsed_graph_tags_each_box_with_its_members(tmp_path) -> None:
    model = nn.MLP(2, [16, 16, 1], activation="tanh", seed=0)
    xs = [[0.1 * i, -0.05 * i] for i in range(40)]
    loss = nn.mse_loss([model(x) for x in xs], [1.0 if i % 2 else -1.0 for i in range(40)])
    loss.backward()
    page, data = _page(loss, tmp_path, lr=0.1)
    order = topological_order(loss)
    singles = [int(i) for i in re.findall(r'class="node" data-node="(\d+)" data-value=', page)]
    boxes = re.findall(r'class="node" data-box="(\d+)" data-node="([\d ]*)"', page)
    assert boxes and len(singles) + len(boxes) < 1000
    members = [int(i) for _, m in boxes for i in m.split()]
    assert sorted(singles + members) == list(range(len(order)))  # each node drawn once, alone or in a box
    assert len(data["steps"]) == len(order) + 1 + sum(len(k) for k in data["kids"]) + len(data["update"]["params"])


def test_read_page_refuses_a_page_without_explorer_data(tmp_path) -> None:
    with pytest.raises(ValueError, match="read_page: no deltaw explorer data"):
        read_page("<html><body>hello</body></html>")


def test_read_page_takes_the_returned_page_a_path_or_the_text(tmp_path) -> None:
    out, _ = _neuron()
    page = viz.explore(out, lr=0.1, path=tmp_path / "n.html")
    from_text = read_page(page.html)
    assert read_page(page) == read_page(page.path) == from_text
    assert from_text["grad"][-1] == out.grad == 1.0


def test_the_pictures_numbers_use_the_minus_sign_and_the_attributes_stay_ascii(tmp_path) -> None:
    """Displayed numbers (and an op's, **-1) write U+2212 as the formulas do; a label is the user's
    text, kept as written; data-value stays Python's repr for scripts to parse."""
    x, w, c = Value(-2.0, label="x-1"), Value(-0.5, label="w"), Value(-3e-7, label="c")
    y = ((x * w) ** -1 + x + c).tanh()  # tanh(−1 − 3e−7): every gradient non-zero
    y.backward()
    page, data = _page(y, tmp_path, lr=0.1)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", page.split("<svg", 1)[1])
    numbers = [t for t in texts if t != "x&#45;1"]  # every text but the label
    assert len(numbers) < len(texts)
    assert [t for t in numbers if re.search(r"(&#45;|-)[0-9.]", t)] == []
    for shown in ("data −2", "data −3e−07", "**−1", "grad −"):
        assert any(t.startswith(shown) for t in texts), shown
    assert 'data-value="-2.0"' in page and 'data-value="-3e-07"' in page  # repr, as README promises
    assert data["value"][:3] == [-2.0, -0.5, -3e-07]
