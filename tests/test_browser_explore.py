"""The explorer page in a real headless Chromium: press → through every step of the neuron and of a
small MLP loss and check, at each step, where the page is, which node is highlighted, the numbers
of ``#equation`` against the engine's, which nodes carry ``data-grad`` (exactly the final ones,
with the engine's ``.grad``), which numbers of the picture are visible, and that nothing was logged
as an error; then ← back, the phase buttons, the slider, Home/End and hover."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

import nn
import viz
from autograd import Value, topological_order
from autograd.node import edges
from viz.explorer import read_page
from viz.style import fmt

pytestmark = [pytest.mark.requires_browser, pytest.mark.requires_dot]

# one round trip per step: everything the checks read
STATE_JS = """
var vis = function (sel) {
  return Array.prototype.filter.call(document.querySelectorAll(sel), function (t) {
    return getComputedStyle(t).visibility === 'visible';
  }).map(function (t) { return t.closest('g.node').getAttribute('data-node'); });
};
var grads = {};
document.querySelectorAll('#graph g.node[data-grad]').forEach(function (g) {
  grads[g.getAttribute('data-node')] = g.getAttribute('data-grad');
});
return {
  step: document.body.getAttribute('data-step'),
  phase: document.body.getAttribute('data-phase'),
  equation: document.getElementById('equation').textContent,
  shown: document.getElementById('head').textContent + '\\n' + Array.prototype.map.call(
    document.querySelectorAll('#graph text'), function (t) { return t.textContent; }).join('\\n'),
  current: Array.prototype.map.call(document.querySelectorAll('#graph g.node.current[data-node]'),
    function (g) { return g.getAttribute('data-node'); }),
  grads: grads,
  data: vis('#graph text.n-data, #graph text.n-after'), grad: vis('#graph text.n-grad'), dw: vis('#graph text.n-dw'),
  slider: document.getElementById('slider').value
};
"""


SEEN: dict[Value, float] = {}  # a parameter's data before the optimizer's step changed it


def seen(v: Value) -> float:
    return SEEN.get(v, v.data)


def neuron() -> tuple[Value, dict[str, Any]]:
    """micrograd's neuron: tanh(w1*x1 + w2*x2 + b) with b chosen so that tanh'(z) = ½."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2, b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(6.8813735870195432, label="b")
    out = (w1 * x1 + w2 * x2 + b).tanh()
    out.backward()
    return out, {"lr": 0.1, "params": [w1, w2, b]}


def mlp_loss() -> tuple[Value, dict[str, Any]]:
    """An MLP(2, [3, 1]) with mse on two samples, after one SGD step with momentum (Δw recorded);
    the root is labelled ``loss``, so the formulas read ∂loss/∂w (the neuron's, unlabelled: ∂L/∂w)."""
    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    loss = nn.mse_loss([model(x) for x in ([0.5, -1.0], [1.0, 2.0])], [1.0, -1.0])
    loss.label = "loss"
    loss.backward()
    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    SEEN.update({p: p.data for p in model.parameters()})  # the values the forward pass used
    opt.step()
    return loss, {"optimizer": opt}


def open_page(browser: Any, root: Value, path: Path, **kw: Any) -> dict[str, Any]:
    page = viz.explore(root, path=path, **kw)
    browser.get(page.path.resolve().as_uri())
    return read_page(page.path)


def state(browser: Any) -> dict[str, Any]:
    return browser.execute_script(STATE_JS)  # type: ignore[no-any-return]


def press(browser: Any, key: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.TAG_NAME, "body").send_keys(key)


MINUS = "\u2212"  # the page writes a number's minus signs as U+2212, never the ASCII hyphen-minus


def number(shown: str) -> float:
    """A number of the page's text as a float: its minus signs (U+2212) read as ``-``."""
    assert "-" not in shown, f"an ASCII hyphen-minus in the number {shown!r}"
    return float(shown.replace(MINUS, "-"))


def shown_as(x: float) -> str:
    """How the page writes ``x``: Python's ``.6g`` (viz.style.fmt) with U+2212 for every minus."""
    return fmt(x, 6).replace("-", MINUS)


def same_at_6(shown: str, x: float) -> None:
    """A number of the text: Python's 6-significant-digit form of ``x``, and within its rounding."""
    assert shown == shown_as(x)
    if x != 0.0:
        assert abs(number(shown) - x) <= 5 * 10 ** (math.floor(math.log10(abs(x))) - 6)


def no_hyphen_before_a_digit(text: str) -> None:
    """Displayed text writes a negative number (or exponent) with U+2212, as the formulas do (−lr·…)."""
    assert re.search(r"-[0-9]", text) is None, re.findall(r".{0,30}-[0-9].{0,10}", text)


def check_equation(text: str, step: dict[str, Any], data: dict[str, Any], order: list[Value]) -> None:
    """The step's text names the right nodes and shows the engine's numbers."""
    name = data["names"]
    root = name[-1]  # the formulas name the root: its label, or L
    i = step["node"]
    if step["phase"] == "forward":
        v = order[i]
        kids = [c for c, _ in edges(v)]
        parts = text.split(" = ")
        assert parts[0] == name[i]
        same_at_6(parts[-1], seen(v))
        if kids:
            shown = re.split(r" [-+*/] |, ", re.sub(r"^[^(]*\(|\)$", "", parts[-2]) if "(" in parts[-2] else parts[-2])
            assert len(shown) == len(kids)
            for s, c in zip(shown, kids):
                same_at_6(s, seen(c))
    elif step["phase"] == "backward" and "child" not in step:
        assert text == f"∂{root}/∂{name[i]} = 1 (the start)" and order[i].grad == 1.0
    elif step["phase"] == "backward":
        k = step["child"]
        d = re.escape(f"∂{root}/∂")
        m = re.fullmatch(
            rf"{d}(.+) \+= {d}(.+) × ∂(.+)/∂(.+) = (\S+) × (\S+) = (\S+)  \({d}(.+) is now (\S+?)(, final)?\)", text
        )
        assert m is not None, text
        assert (m[1], m[2], m[3], m[4], m[8]) == (name[k], name[i], name[i], name[k], name[k])
        local = list(edges(order[i]))[step["pos"]][1]  # the engine's stored ∂node/∂child
        same_at_6(m[5], order[i].grad)
        same_at_6(m[6], float(local))
        same_at_6(m[7], order[i].grad * float(local))
        same_at_6(m[9], step["total"])
        if m[10]:  # the last contribution: the engine's gradient
            same_at_6(m[9], order[k].grad)
    elif i is None:
        assert text.startswith("no update to show: ")
    else:
        p = order[i]
        m = re.fullmatch(r"Δ(.+?) = (.+) = (\S+);  (.+): (\S+) → (\S+)", text)
        assert m is not None and m[1] == m[4] == name[i], text
        same_at_6(m[3], step["delta"])
        same_at_6(m[5], step["before"])
        same_at_6(m[6], step["after"])
        if data["update"]["kind"] == "lr":
            assert m[2] == f"−lr·∂{root}/∂{name[i]} = −{shown_as(data['update']['lr'])} × {shown_as(p.grad)}"
            assert step["delta"] == -data["update"]["lr"] * p.grad and step["before"] == p.data
        else:
            assert m[2] == "what the optimizer's step() applied" and step["after"] == p.data


def check_step(browser: Any, browser_errors: Any, k: int, data: dict[str, Any], order: list[Value]) -> None:
    """Everything at step ``k``: where, highlight, equation, data-grad, visible numbers, no errors."""
    assert browser_errors(browser) == []
    st = state(browser)
    step = data["steps"][k]
    assert (st["step"], st["phase"], st["slider"]) == (str(k), step["phase"], str(k))
    assert st["current"] == ([] if step["node"] is None else [str(step["node"])])
    check_equation(st["equation"], step, data, order)
    no_hyphen_before_a_digit(st["shown"])
    final = {i for i, at in enumerate(data["final_at"]) if at is not None and at <= k}
    assert {int(i) for i in st["grads"]} == final
    for i, g in st["grads"].items():
        assert float(g) == order[int(i)].grad
    assert sorted(map(int, st["grad"])) == sorted(final)  # the picture's grads: only the final ones
    assert sorted(map(int, st["data"])) == list(range(min(k + 1, len(order))))  # values as computed
    u = data["update"]
    assert sorted(map(int, st["dw"])) == sorted(
        p for j, p in enumerate(u["params"]) if data["phase_start"]["update"] + j <= k
    )


def walk(browser: Any, browser_errors: Any, data: dict[str, Any], order: list[Value]) -> None:
    """→ through every step, then ← back to the start, checking each step both ways."""
    n = len(data["steps"])
    for k in range(n):
        check_step(browser, browser_errors, k, data, order)
        press(browser, "\ue014")  # → (the last step stays put)
    check_step(browser, browser_errors, n - 1, data, order)
    for k in range(n - 2, -1, -1):
        press(browser, "\ue012")  # ←
        check_step(browser, browser_errors, k, data, order)


def jumps(browser: Any, browser_errors: Any, data: dict[str, Any], order: list[Value]) -> None:
    """The phase buttons, the slider, Home and End land on the right step with the right state."""
    from selenium.webdriver.common.by import By

    last = len(data["steps"]) - 1
    for p in ("backward", "update", "forward", "update", "backward"):
        browser.find_element(By.ID, f"to-{p}").click()
        check_step(browser, browser_errors, data["phase_start"][p], data, order)
    for k in (last // 2, 3, last, 1, data["phase_start"]["backward"] + 2):
        browser.execute_script(
            "var s = document.getElementById('slider'); s.value = arguments[0]; s.dispatchEvent(new Event('input'));", k
        )
        check_step(browser, browser_errors, k, data, order)
    press(browser, "\ue010")  # End
    check_step(browser, browser_errors, last, data, order)
    press(browser, "\ue011")  # Home
    check_step(browser, browser_errors, 0, data, order)


def test_neuron_every_step_in_the_browser(browser, browser_errors, tmp_path) -> None:
    root, kw = neuron()
    data = open_page(browser, root, tmp_path / "neuron.html", **kw)
    order = topological_order(root)
    assert "natural" not in browser.find_element("id", "graph").get_attribute("class")  # fits the width
    walk(browser, browser_errors, data, order)
    jumps(browser, browser_errors, data, order)
    browser.find_element("id", "to-backward").click()
    for _ in range(6):
        press(browser, "\ue014")
    browser.save_screenshot(str(tmp_path / "neuron_mid_backward.png"))
    press(browser, "\ue010")
    browser.save_screenshot(str(tmp_path / "neuron_final.png"))
    assert (tmp_path / "neuron_final.png").stat().st_size > 10_000


def test_mlp_loss_every_step_with_optimizer_deltas(browser, browser_errors, tmp_path) -> None:
    root, kw = mlp_loss()
    data = open_page(browser, root, tmp_path / "mlp.html", **kw)
    assert data["update"]["kind"] == "optimizer" and len(data["update"]["params"]) == 13
    order = topological_order(root)
    walk(browser, browser_errors, data, order)
    jumps(browser, browser_errors, data, order)
    press(browser, "\ue010")
    browser.save_screenshot(str(tmp_path / "mlp_final.png"))


def hover(browser: Any, node: int) -> dict[str, str]:
    """Move the mouse onto value ``node`` and read the tooltip: ``{"name": ..., "data": ..., ...}``."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    group = browser.find_element(By.CSS_SELECTOR, f'#graph g.node[data-node="{node}"]')
    ActionChains(browser).move_to_element(group).perform()
    tip = browser.find_element(By.ID, "tooltip")
    assert tip.is_displayed() and tip.get_attribute("data-node") == str(node)
    text = browser.execute_script("return document.getElementById('tooltip').textContent")
    no_hyphen_before_a_digit(text)
    lines = text.split("\n")
    out = {"name": lines[0]}
    for line in lines[1:]:
        key, _, rest = line.partition(" = ") if " = " in line else line.partition(": ")
        out[key] = rest
    return out


def test_hover_shows_each_nodes_full_numbers_as_far_as_the_step_has_them(browser, browser_errors, tmp_path) -> None:
    root, kw = neuron()
    data = open_page(browser, root, tmp_path / "neuron.html", **kw)
    order = topological_order(root)
    for _ in range(3):  # x1, x2, w1 computed; the rest not yet
        press(browser, "\ue014")
    assert hover(browser, 2) == {"name": "w1", "data": "−3", "grad": "not final yet", "Δw": "not applied yet"}
    assert hover(browser, 5) == {"name": "mul₁ (op *)", "data": "not computed yet", "grad": "not final yet"}
    press(browser, "\ue010")  # End: everything known
    params = dict(zip(data["update"]["params"], data["update"]["delta"]))
    for i, v in enumerate(order):
        tip = hover(browser, i)
        assert tip["name"] == data["names"][i] + (f" (op {v.op})" if v.op else "")
        assert number(tip["data"]) == v.data and number(tip["grad"]) == v.grad  # full precision
        assert ("Δw" in tip) == (i in params)
        if i in params:
            assert number(tip["Δw"]) == params[i] == -0.1 * v.grad
            assert number(tip["data after the update"]) == v.data + params[i]
    assert browser_errors(browser) == []


def test_a_labelled_root_names_every_formula_and_negative_numbers_use_the_minus_sign(
    browser, browser_errors, tmp_path
) -> None:
    """The root labelled ``o`` (as the demo's neuron): ∂o/∂w in every step, as the graph's title
    says; negative values, exponents and the op **-1 written with U+2212 in the text and tooltip."""
    x, w, c = Value(-2.0, label="x"), Value(-0.5, label="w"), Value(-3e-7, label="c")
    o = ((x * w) ** -1 + x + c).tanh()  # tanh(−1 − 3e−7): negative data, grads and Δw
    o.label = "o"
    o.backward()
    data = open_page(browser, o, tmp_path / "o.html", lr=0.1)
    order = topological_order(o)
    assert data["names"][-1] == "o" and "∂o/∂node" in state(browser)["shown"]  # draw_graph's title
    walk(browser, browser_errors, data, order)
    press(browser, "\ue010")  # End
    pow_node = next(i for i, v in enumerate(order) if v.op == "**-1")
    assert hover(browser, pow_node)["name"] == f"{data['names'][pow_node]} (op **−1)"
    assert number(hover(browser, 2)["data"]) == -3e-7  # c: every digit, its exponent's sign U+2212
    assert browser_errors(browser) == []


def test_inline_in_a_notebook_the_iframe_runs_the_explorer(browser, browser_errors, tmp_path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    root, kw = neuron()
    page = viz.explore(root, path=tmp_path / "neuron.html", **kw)
    host = tmp_path / "notebook.html"
    host.write_text(f"<!DOCTYPE html><html><body><p>a notebook cell</p>{page._repr_html_()}</body></html>", "utf-8")
    browser.get(host.resolve().as_uri())
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        data = read_page(page.path)
        order = topological_order(root)
        check_step(browser, browser_errors, 0, data, order)
        browser.find_element(By.ID, "equation").click()  # as a reader does: keys go to the focused frame
        for k in range(1, 14):
            ActionChains(browser).send_keys("\ue014").perform()
            check_step(browser, browser_errors, k, data, order)
    finally:
        browser.switch_to.default_content()
    assert browser_errors(browser) == []


def big_loss(samples: int) -> Value:
    """An MLP(2, [16, 16, 1]) mse loss: about 71 values per sample (30,000 at 420 samples)."""
    model = nn.MLP(2, [16, 16, 1], activation="tanh", seed=0)
    xs = [[0.01 * i, -0.005 * i] for i in range(samples)]
    loss = nn.mse_loss([model(x) for x in xs], [1.0 if i % 2 else -1.0 for i in range(samples)])
    loss.backward()
    return loss


def test_a_30000_node_graph_opens_collapsed_and_steps(browser, browser_errors, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    root = big_loss(420)
    order = topological_order(root)
    assert len(order) >= 29_000
    data = open_page(browser, root, tmp_path / "big.html", lr=0.1)
    members = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#graph g.node[data-node]'),"
        " function (g) { return g.getAttribute('data-node'); });"
    )
    ids = [int(i) for m in members for i in m.split()]
    assert sorted(ids) == list(range(len(order)))  # every node drawn once: alone or in one box
    assert len(members) < 1000 and browser.find_elements(By.CSS_SELECTOR, "#graph g.node[data-box]")
    singles = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#graph g.node[data-value]'),"
        " function (g) { return Number(g.getAttribute('data-node')); });"
    )

    def at(k: int) -> None:
        assert browser_errors(browser) == []
        st = state(browser)
        step = data["steps"][k]
        assert (st["step"], st["phase"]) == (str(k), step["phase"])
        lit = browser.execute_script(
            "return Array.prototype.map.call(document.querySelectorAll('#graph g.node.current[data-node]'),"
            " function (g) { return g.getAttribute('data-node'); });"
        )
        assert len(lit) == 1 and str(step["node"]) in lit[0].split()  # the node, or the box holding it
        assert {int(i) for i in st["grads"]} == {
            i for i in singles if data["final_at"][i] is not None and data["final_at"][i] <= k
        }

    graph = browser.find_element(By.ID, "graph")
    assert "natural" in graph.get_attribute("class")  # too big to fit: its own scale, scrolled to the step
    browser.find_element(By.ID, "zoom").click()
    assert "natural" not in graph.get_attribute("class")
    browser.find_element(By.ID, "zoom").click()
    for k in range(4):
        at(k)
        press(browser, "\ue014")
    browser.find_element(By.ID, "to-backward").click()
    b = data["phase_start"]["backward"]
    for k in range(b, b + 30):
        at(k)
        press(browser, "\ue014")
    press(browser, "\ue010")
    at(len(data["steps"]) - 1)
    press(browser, "\ue012")
    at(len(data["steps"]) - 2)
    browser.save_screenshot(str(tmp_path / "big.png"))


TRICKY = [1e-05, 1.23456789e-05, 0.0001, 0.000123456789, 123456.5, 999999.7, 999999.4, 1234567.0, -2.5e10, 1e16]
TRICKY += [0.1 + 0.2, 5e-324, 1.7976931348623157e308, -0.000999999951, 2.5, 0.5e-4, 100000.0, 1 / 3]
TRICKY += [1234565.0, 1234575.0, -123456.5, 999999.5, 0.0001234565, 12345.65, 2.0**-20 * 1234565]  # ties


def test_the_pages_numbers_read_as_pythons_6_significant_digits(browser, browser_errors, tmp_path) -> None:
    """Each forward step of leaves shows its value: the page's formatting is viz.style.fmt's."""
    leaves = [Value(x, label=f"t{k}") for k, x in enumerate(TRICKY)]
    root = sum(leaves[1:], leaves[0]) * 0.0
    root.backward()
    open_page(browser, root, tmp_path / "numbers.html")
    for k, x in enumerate(TRICKY):
        st = state(browser)
        assert st["equation"] == f"t{k} = {shown_as(x)}"
        no_hyphen_before_a_digit(st["shown"])
        press(browser, "\ue014")
    assert browser_errors(browser) == []
