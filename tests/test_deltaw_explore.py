"""``deltaw explore``: writes the explorer page for a formula; bad input gets one line and an exit code."""

from __future__ import annotations

import pytest

from deltaw import cli
from viz.explorer import read_page

NEURON = "tanh(w1*x1 + w2*x2 + b)"
SET = ["--set", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]


@pytest.mark.requires_dot
def test_explore_writes_the_page_with_the_neurons_numbers(tmp_path, capsys):
    out = tmp_path / "page.html"
    assert cli.main(["explore", NEURON, *SET, "--lr", "0.1", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    page = out.read_text(encoding="utf-8")
    data = read_page(page)
    grads = dict(zip(data["names"], data["grad"]))
    # tanh(z) at z = atanh(√½): 1 − tanh² = ½, so ∂/∂w1 = ½·x1 = 1, ∂/∂x1 = ½·w1 = −1.5, ∂/∂b = ½
    assert grads["w1"] == pytest.approx(1.0) and grads["x1"] == pytest.approx(-1.5) and grads["b"] == pytest.approx(0.5)
    update = {data["names"][s["node"]]: s["delta"] for s in data["steps"] if s["phase"] == "update"}
    assert update["w1"] == pytest.approx(-0.1) and update["w2"] == 0.0
    assert sorted(update) == ["b", "w1", "w2"]  # x1, x2 are data (the names starting with x): no Δ


def test_explore_refuses_an_unknown_input(tmp_path, capsys):
    out = tmp_path / "page.html"
    assert cli.main(["explore", "w*x", "--set", "w=2", "x=3", "--inputs", "zz", "-o", str(out)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["deltaw explore: error: --inputs zz: not a variable of the formula (its variables: w, x)"]
    assert not out.exists()


@pytest.mark.requires_dot
def test_explore_inputs_option_decides_which_variables_get_a_delta(tmp_path, capsys):
    out = tmp_path / "page.html"
    args = ["explore", "w*x - y", "--set", "w=2", "x=3", "y=1", "--lr", "0.5", "-o", str(out)]
    assert cli.main([*args, "--inputs", "y"]) == 0
    page = out.read_text(encoding="utf-8")
    data = read_page(page)
    update = {data["names"][s["node"]]: s["delta"] for s in data["steps"] if s["phase"] == "update"}
    assert update == {"w": -0.5 * 3.0, "x": -0.5 * 2.0}


def test_explore_refuses_a_non_html_output(tmp_path, capsys):
    assert cli.main(["explore", NEURON, *SET, "-o", str(tmp_path / "page.svg")]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"deltaw explore: error: -o {tmp_path / 'page.svg'}: the page must end in .html"]
    assert not (tmp_path / "page.svg").exists()


def test_explore_without_a_renderer_exits_3(tmp_path, monkeypatch, capsys):
    from viz import renderers

    monkeypatch.setattr(renderers, "find_renderer", lambda: None)
    out = tmp_path / "page.html"
    assert cli.main(["explore", NEURON, *SET, "-o", str(out)]) == cli.EXIT_NO_RENDERER
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert not out.exists()
