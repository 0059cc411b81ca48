"""viz.explore_run in headless Chromium: a real fit of a small MLP on the moons (SGD and Adam),
moved through every step with → and with the slider; at each step every edge's and neuron's
``data-delta``/``data-value`` equal the recorder's exact numbers, the colours follow the sign and
size of Δw on the run's fixed scale, ``#loss`` is the history's loss; no console errors; a
screenshot of the last step is saved in the test's folder."""

from __future__ import annotations

import math
import re

import pytest

import nn
import viz
from viz import style

pytestmark = [pytest.mark.requires_browser, pytest.mark.requires_dot]
STEPS = 20

# every drawn parameter's numbers and its path's (or box's) colour, read in one call per step
READ = """
return Array.from(document.querySelectorAll('g[data-param]')).map(function (g) {
  var shape = g.querySelector(g.classList.contains('edge') ? 'path' : 'polygon');
  return [g.getAttribute('data-param'), g.getAttribute('class'), g.getAttribute('data-delta'),
          g.getAttribute('data-value'), shape.getAttribute('stroke'), shape.getAttribute('stroke-opacity'),
          shape.getAttribute('stroke-width'), shape.getAttribute('fill')];
});
"""


def _train(optimizer: str) -> tuple[nn.MLP, viz.RunRecorder, nn.History]:
    X, y = nn.make_moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 4, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.2, momentum=0.5) if optimizer == "sgd" else nn.Adam(model.parameters(), 0.03)
    rec = viz.RunRecorder()
    hist = nn.fit(model, X, y * 2.0 - 1.0, loss="hinge", optimizer=opt, epochs=STEPS, progress=False, callbacks=[rec])
    assert hist.steps == STEPS == len(rec)
    return model, rec, hist


def _expected_stroke(d: float, w: float, d_scale: float, w_scale: float) -> tuple[str, float, float]:
    """The documented colour rule: sign → colour, √(|Δw|/D) → opacity, |w|/W → width."""
    colour = style.POS_LINE if d > 0 else style.NEG_LINE if d < 0 else style.ZERO_LINE
    return colour, 0.2 + 0.8 * math.sqrt(min(1.0, abs(d) / d_scale)), 0.4 + 3.2 * abs(w) / w_scale


def _check_step(driver, rec: viz.RunRecorder, hist: nn.History, row: int) -> None:
    body = driver.find_element("tag name", "body")
    assert body.get_attribute("data-row") == str(row)
    step = int(rec.steps[row])
    assert body.get_attribute("data-step") == str(step)
    assert float(driver.find_element("id", "loss").text) == hist.loss[step]
    drawn = [rec.column(n) for n in rec.names]
    d_scale = float(abs(rec.deltas[:, drawn]).max())
    w_scale = float(abs(rec.values[:, drawn]).max())
    seen = set()
    for name, cls, delta, value, stroke, opacity, width, fill in driver.execute_script(READ):
        col = rec.column(name)
        d, w = float(rec.deltas[row, col]), float(rec.values[row, col])
        assert float(delta) == d and float(value) == w, (name, row)
        if cls == "edge":
            colour, alpha, thick = _expected_stroke(d, w, d_scale, w_scale)
            assert stroke == colour and math.isclose(float(opacity), alpha, rel_tol=1e-12), (name, row)
            assert math.isclose(float(width), thick, rel_tol=1e-12), (name, row)
        else:
            assert fill == style.diverging(d, d_scale), (name, row)
        seen.add(name)
    assert seen == set(rec.names)  # every weight and bias of this small model is drawn and checked


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_every_step_shows_the_recorders_exact_numbers(browser, browser_errors, tmp_path, optimizer):
    model, rec, hist = _train(optimizer)
    page = viz.explore_run(model, rec, tmp_path / "run.html")
    browser_errors(browser)  # start with an empty log
    browser.get(page.path.resolve().as_uri())
    body = browser.find_element("tag name", "body")
    _check_step(browser, rec, hist, 0)
    for row in range(1, STEPS):
        body.send_keys("\ue014")  # →
        _check_step(browser, rec, hist, row)
    body.send_keys("\ue014")  # past the end: stays on the last step
    _check_step(browser, rec, hist, STEPS - 1)
    slider = browser.find_element("id", "slider")
    for row in (7, 0, 13, STEPS - 1):  # the slider, as a user drags it: value set, input event fired
        browser.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", slider, row
        )
        _check_step(browser, rec, hist, row)
    body.send_keys("\ue012")  # ←
    _check_step(browser, rec, hist, STEPS - 2)
    shot = tmp_path / f"run_view_{optimizer}.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    assert browser_errors(browser) == []


def test_play_hover_and_the_loss_marker(browser, browser_errors, tmp_path):
    model, rec, hist = _train("adam")
    page = viz.explore_run(model, rec, tmp_path / "run.html")
    browser_errors(browser)
    browser.get(page.path.resolve().as_uri())
    marker = browser.find_element("id", "loss-marker")
    start = (marker.get_attribute("cx"), marker.get_attribute("cy"))
    browser.find_element("id", "play").click()
    body = browser.find_element("tag name", "body")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: body.get_attribute("data-row") == str(STEPS - 1))
    assert browser.find_element("id", "play").text == "play"  # stopped by itself at the end
    assert (marker.get_attribute("cx"), marker.get_attribute("cy")) != start
    from selenium.webdriver import ActionChains

    edge = browser.find_element("css selector", "g.edge[data-param='layers.1.neurons.2.w.3'] path")
    ActionChains(browser).move_to_element(edge).perform()
    hover = browser.find_element("id", "hover")
    col = rec.column("layers.1.neurons.2.w.3")
    text = hover.text
    assert text.startswith("layers.1.neurons.2.w.3: value ")
    numbers = [float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]
    assert numbers[:2] == [rec.values[-1, col], rec.deltas[-1, col]]
    assert browser_errors(browser) == []


def test_inline_in_a_notebook_the_page_runs_in_its_iframe(browser, browser_errors, tmp_path):
    """``_repr_html_`` (what Jupyter shows): a sandboxed srcdoc iframe whose script still steps."""
    model, rec, hist = _train("sgd")
    cell = tmp_path / "notebook.html"
    inline = viz.explore_run(model, rec, tmp_path / "run.html")._repr_html_()
    cell.write_text(f"<!DOCTYPE html><html><body>{inline}</body></html>")
    browser_errors(browser)
    browser.get(cell.resolve().as_uri())
    browser.switch_to.frame(browser.find_element("tag name", "iframe"))
    try:
        for _ in range(3):
            browser.find_element("id", "next").click()
        _check_step(browser, rec, hist, 3)
    finally:
        browser.switch_to.default_content()
    assert browser_errors(browser) == []
