"""``deltaw demo`` writes two explorer pages: the neuron's (viz.explore) and the moons training's
run view (viz.explore_run); the wheel smoke check knows an HTML file by its first bytes."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import viz.renderers
from deltaw import demo
from viz.explorer import read_page

ROOT = Path(__file__).resolve().parent.parent


def _json(page: str, script_id: str) -> dict:
    m = re.search(rf'<script type="application/json" id="{script_id}">(.*?)</script>', page, re.S)
    assert m is not None, script_id
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("demo")
    import contextlib
    import io

    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        result = demo.run(out, quick=True, progress=False)
    return out, result, text.getvalue()


@pytest.mark.requires_dot
def test_the_quick_demo_writes_and_names_both_pages(quick):
    out, result, text = quick
    for name in ("neuron_explorer.html", "moons_run.html"):
        assert f"wrote {out / name}  (open in a browser" in text, name
        assert (out / name).read_bytes().startswith(b"<!DOCTYPE html>"), name


@pytest.mark.requires_dot
def test_the_run_page_holds_the_demos_training(quick):
    out, result, _ = quick
    data = _json((out / "moons_run.html").read_text(encoding="utf-8"), "deltaw-run")
    hist = result["history"]
    assert data["loss"] == hist.loss and data["steps"] == list(range(hist.steps)) == list(range(demo.QUICK.steps))
    assert len(data["params"]) == 337 and data["hidden"] == []  # MLP(2, [16, 16, 1]): every weight drawn


@pytest.mark.requires_dot
def test_the_neuron_page_steps_through_the_demos_neuron(quick):
    out, result, _ = quick
    page = (out / "neuron_explorer.html").read_text(encoding="utf-8")
    data = read_page(page)
    phases = [s["phase"] for s in data["steps"]]
    assert phases[0] == "forward" and "backward" in phases and phases[-1] == "update"
    assert data["names"][-1] == "o" and data["value"][-1] == result["neuron"]
    updates = {data["names"][s["node"]]: s["delta"] for s in data["steps"] if s["phase"] == "update"}
    grads = dict(zip(data["names"], data["grad"]))
    assert set(updates) == {"w1", "w2", "b"}
    assert all(updates[n] == -0.1 * grads[n] for n in updates)


def test_the_quick_demo_learns_its_loss_falls_at_every_step(quick):
    """--quick is a miniature of the full run, not a different story: training lowers the loss."""
    loss = quick[1]["history"].loss
    assert len(loss) == demo.QUICK.steps >= 3
    assert all(after < before for before, after in zip(loss, loss[1:])), loss
    assert "; 30 points; 3 steps of SGD (lr 0.1 falling by 0.0009 a step)" in quick[2]


@pytest.mark.parametrize("seed", range(8))
def test_the_quick_settings_learn_whatever_the_seed(seed):
    """deltaw demo --quick --seed N: the miniature's loss falls at every step for every seed tried."""
    setup = demo.moons_setup(demo.QUICK, seed)
    loss = demo.train_moons(setup, demo.QUICK, seed, progress=False).loss
    assert len(loss) == demo.QUICK.steps and all(after < before for before, after in zip(loss, loss[1:])), loss


def test_without_graphviz_the_pages_are_skipped_with_a_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(viz.renderers, "find_renderer", lambda: None)
    demo.run(tmp_path, quick=True, progress=False)
    text = capsys.readouterr().out
    assert "(could not write neuron_explorer.html: explore: " in text
    assert "(could not write moons_run.html: explore_run: " in text
    assert not list(tmp_path.glob("*.html"))


def _smoke_module():
    spec = importlib.util.spec_from_file_location("smoke_wheel", ROOT / ".ci" / "smoke_wheel.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_smoke_check_refuses_an_html_file_that_is_not_one(tmp_path, monkeypatch):
    smoke = _smoke_module()
    out = tmp_path / "demo"
    out.mkdir()
    (out / "neuron_explorer.html").write_text("<!DOCTYPE html>\n<html></html>")
    (out / "moons_run.html").write_text("Traceback (most recent call last): ...")
    stdout = "".join(f"  wrote {out / n}  (a page)\n" for n in ("neuron_explorer.html", "moons_run.html"))
    fake = subprocess.CompletedProcess([], 0, stdout=stdout, stderr="")
    monkeypatch.setattr(smoke, "run", lambda argv, where: fake)
    smoke.check_demo(tmp_path, out, with_plots=False)
    assert [f for f in smoke.failures if "not a .html file" in f] == [
        f"deltaw demo wrote {out / 'moons_run.html'}, which is not a .html file"
    ]
    assert any("did not write moons_network.svg, neuron_graph.svg" in f for f in smoke.failures)


@pytest.mark.requires_dot
def test_the_smoke_check_passes_on_this_install(tmp_path):
    smoke = _smoke_module()
    smoke.check_demo(Path(sys.executable).parent, tmp_path / "demo", with_plots=True)
    assert smoke.failures == []


@pytest.mark.requires_browser
@pytest.mark.requires_dot
def test_both_demo_pages_open_and_step_without_console_errors(quick, browser, browser_errors):
    out, result, _ = quick
    browser_errors(browser)
    for name, last in (("neuron_explorer.html", None), ("moons_run.html", result["history"].steps - 1)):
        browser.get((out / name).resolve().as_uri())
        body = browser.find_element("tag name", "body")
        for _ in range(4):
            body.send_keys("\ue014")  # →
        if last is not None:  # the run has 3 steps: → stops at the last
            assert body.get_attribute("data-step") == str(last)
            assert float(browser.find_element("id", "loss").text) == result["history"].loss[last]
        else:
            assert body.get_attribute("data-step") == "4"
        assert browser_errors(browser) == [], name
