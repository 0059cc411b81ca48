"""The tour in notebooks/: every notebook runs top to bottom in a fresh kernel, shows the engine's
numbers, says in its prose the numbers it prints, and is stored without outputs.

Each notebook is executed once per test module with nbclient on the ``python3`` kernel, which
ipykernel provides for the interpreter running the tests (the .venv's under ``make test``;
``test_kernel_is_this_python`` holds that), in a temporary folder with ``TMPDIR`` pointing
there too, so nothing is written into the repository.  The content tests recompute every
number they check with the engine in this process and compare it with what the notebook
printed or displayed.
"""

from __future__ import annotations

import base64
import html
import os
import re
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import viz
from autograd import Value, topological_order, zero_grad
from nn import MLP, SGD, Adam, fit, make_moons, mse_loss
from viz.renderers import find_renderer

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
ENGINE, NEURON, MOONS, EXPLORER = (
    "01_engine_and_chain_rule.ipynb",
    "02_neuron_and_delta_w.ipynb",
    "03_mlp_moons_optimizers.ipynb",
    "04_explorer_inline.ipynb",
)
TOUR = [ENGINE, NEURON, MOONS, EXPLORER]
ALL = sorted(p.name for p in FOLDER.glob("*.ipynb"))
CELL_TIMEOUT = 180  # seconds per cell; each notebook needs a few seconds in all, this is for a loaded machine

# The graph pictures and the explorer need a Graphviz renderer: the system dot, or graphviz-pure (the
# render extra, which `make test` installs). With neither, their tests take conftest's requires_dot
# marker: skipped with the install command, or failed under DELTAW_REQUIRE_DOT=1 (CI).
DRAWING = {ENGINE, NEURON, EXPLORER}
NO_RENDERER = [pytest.mark.requires_dot] if find_renderer() is None else []


def drawing(test: Callable[..., None]) -> Callable[..., None]:
    """Mark ``test`` as needing a renderer when none is installed."""
    for mark in NO_RENDERER:
        test = mark(test)
    return test


Executed = Callable[[str], nbformat.NotebookNode]


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in place in a fresh ``python3`` kernel working in ``cwd``."""
    env = {**os.environ, "TMPDIR": str(cwd), "MPLBACKEND": "Agg"}
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.execute(env=env)
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Executed:
    """``executed(name)``: the notebook after one run (cached for the module)."""
    done: dict[str, nbformat.NotebookNode] = {}

    def get(name: str) -> nbformat.NotebookNode:
        if name not in done:
            cwd = tmp_path_factory.mktemp(Path(name).stem)
            done[name] = execute(nbformat.read(FOLDER / name, as_version=4), cwd)
        return done[name]

    return get


def code_cells(nb: nbformat.NotebookNode) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def printed(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells printed to stdout, in order."""
    return "".join(
        o.text for c in code_cells(nb) for o in c.outputs if o.output_type == "stream" and o.name == "stdout"
    )


def displayed(nb: nbformat.NotebookNode, mime: str) -> list[str]:
    """The ``mime`` data of every displayed result, in order."""
    return [o.data[mime] for c in code_cells(nb) for o in c.outputs if mime in o.get("data", {})]


def prose(nb: nbformat.NotebookNode) -> str:
    """The markdown cells' text on one line (every run of whitespace one space), the typographic minus as ``-``."""
    return " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown").replace("−", "-")


def says(nb: nbformat.NotebookNode, *numbers: str) -> None:
    """Each number is printed by the code and quoted in the prose."""
    out, text = printed(nb), prose(nb)
    for n in numbers:
        assert n in out, f"{n!r} is not printed"
        assert n in text, f"{n!r} is printed but the prose does not say it"


def svg_texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


# --- every notebook runs, cleanly stored ------------------------------------------------


def test_the_tour_is_complete() -> None:
    assert ALL[: len(TOUR)] == TOUR, f"notebooks/ holds {ALL}"


@pytest.mark.parametrize("name", [pytest.param(n, marks=NO_RENDERER if n in DRAWING else []) for n in ALL])
def test_notebook_runs_without_errors(name: str, executed: Executed) -> None:
    before = sorted(p.name for p in FOLDER.iterdir())
    nb = executed(name)
    for cell in code_cells(nb):
        assert cell.execution_count is not None, f"{name}: a cell did not run:\n{cell.source}"
        assert not [o for o in cell.outputs if o.output_type == "error"], f"{name}: error in\n{cell.source}"
        assert not [o for o in cell.outputs if o.get("name") == "stderr"], f"{name}: stderr from\n{cell.source}"
    assert sorted(p.name for p in FOLDER.iterdir()) == before, "running a notebook wrote into notebooks/"


@pytest.mark.parametrize("name", ALL)
def test_stored_notebook_is_clean(name: str) -> None:
    """Stored without outputs and execution counts, so git holds only what a person wrote."""
    nb = nbformat.read(FOLDER / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in code_cells(nb):
        assert cell.outputs == [], f"{name}: stored outputs in\n{cell.source}"
        assert cell.execution_count is None, f"{name}: stored execution count in\n{cell.source}"
    assert all(not c.get("attachments") for c in nb.cells), f"{name}: stored attachments"


def test_kernel_is_this_python(tmp_path: Path) -> None:
    """The notebooks run in the interpreter (and the deltaw checkout) that runs the tests."""
    cell = nbformat.v4.new_code_cell("import sys, autograd\nprint(sys.executable)\nprint(autograd.__file__)")
    nb = execute(nbformat.v4.new_notebook(cells=[cell]), tmp_path)
    executable, package = printed(nb).splitlines()
    assert executable == sys.executable  # not realpath: a venv's python is a symlink to the base one
    assert Path(package).resolve().parent == ROOT / "autograd"


def test_readme_links_every_notebook() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((notebooks/[^)\s]+)\)", readme)
    assert [link for link in links if not (ROOT / link).is_file()] == [], "README links a missing notebook"
    assert sorted({Path(link).name for link in links if link.endswith(".ipynb")}) == ALL


# --- what each notebook shows -------------------------------------------------------------


def _expression() -> tuple[dict[str, Value], Value]:
    """Notebook 1's L = (a·b + c)·f, built and backpropagated here."""
    v = {k: Value(x, label=k) for k, x in (("a", 2.0), ("b", -3.0), ("c", 10.0), ("f", -2.0))}
    v["e"] = v["a"] * v["b"]
    v["d"] = v["e"] + v["c"]
    v["L"] = v["d"] * v["f"]
    for k in ("e", "d", "L"):
        v[k].label = k
    v["L"].backward()
    return v, v["L"]


@drawing
def test_engine_notebook_shows_the_engines_chain_rule(executed: Executed) -> None:
    nb = executed(ENGINE)
    out = printed(nb)
    v, L = _expression()
    order = topological_order(L)
    assert f"backward: {' → '.join(n.label for n in reversed(order))}\n" in out
    # the hand-written loop: one product per (node, operand) in reverse topological order, the engine's numbers
    steps = re.findall(r"∂L/∂(\w+) \+= ∂L/∂(\w+) × \S+ = (\S+) × (\S+) = (\S+)", out)
    expected = [(c, n) for n in reversed(order) for c in n.children]
    assert [(child, node) for child, node, *_ in steps] == [(c.label, n.label) for c, n in expected]
    for (_, _, g, d, product), (child, node) in zip(steps, expected):
        local = node.local_grads[node.children.index(child)]
        assert (float(g), float(d), float(product)) == (node.grad, local, node.grad * local)
    for n in order:
        assert f"{n.label}.grad = {n.grad:g}\n" in out
    assert viz.explain(v["a"], L, lr=0.01) in out
    assert "gradcheck: True\ngradcheck, curved: True\n" in out
    gap = re.search(r"largest gap to backprop: (\S+)", out)
    assert gap is not None and float(gap.group(1)) < 1e-6
    says(nb, gap.group(1), "= -0.06")
    for k in "abcf":  # printed above as "a.grad = 6"
        assert f"∂L/∂{k} = {v[k].grad:g}" in prose(nb)


@drawing
def test_engine_notebook_draws_the_graph(executed: Executed) -> None:
    texts = svg_texts(displayed(executed(ENGINE), "image/svg+xml")[-1])
    _, L = _expression()
    for n in topological_order(L):
        i = texts.index(n.label)
        assert texts[i + 1 : i + 3] == [f"data {n.data:g}", f"grad {n.grad:g}"]


def _neuron() -> tuple[dict[str, Value], Value]:
    """Notebook 2's neuron from binary ops, after o.backward()."""
    v = {k: Value(x, label=k) for k, x in (("x1", 2.0), ("x2", 0.0), ("w1", -3.0), ("w2", 1.0))}
    v["b"] = Value(6.8813735870195432, label="b")
    v["x1w1"] = v["x1"] * v["w1"]
    v["x2w2"] = v["x2"] * v["w2"]
    v["x1w1x2w2"] = v["x1w1"] + v["x2w2"]
    v["n"] = v["x1w1x2w2"] + v["b"]
    v["o"] = v["n"].tanh()
    v["o"].backward()
    return v, v["o"]


@drawing
def test_neuron_notebook_prints_the_engines_grads_and_updates(executed: Executed) -> None:
    nb = executed(NEURON)
    out = printed(nb)
    v, o = _neuron()
    shown = {k: float(g) for k, g in re.findall(r"^\s*(\w+)\.grad = (\S+)", out, flags=re.M)}
    assert shown == {k: float(f"{x.grad:.6g}") for k, x in v.items()}
    says(nb, f"{o.data:.6g}", f"{v['n'].data:.6g}", f"{v['x1'].grad:.6g}")

    zero_grad(o)
    e = o - 1.0
    L = e**2
    L.backward()
    params = [v["w1"], v["w2"], v["b"]]
    grads = {p.label: p.grad for p in params}
    for name, g in grads.items():
        assert f"∂L/∂{name} = {g:.6g}\n" in out
    opt = SGD(params, lr=0.1)
    opt.step()
    for p in params:
        assert f"Δ{p.label} = {opt.deltas[p]:+.6g}" in out
        assert opt.deltas[p] == pytest.approx(-0.1 * grads[p.label], rel=1e-12, abs=1e-15)
    o_new = (v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]).tanh()
    L_new = (o_new - 1.0) ** 2
    drop = L.data - L_new.data
    predicted = 0.1 * sum(g * g for g in grads.values())
    says(nb, f"{L.data:.6g}", f"{L_new.data:.6g}", f"{drop:.6g}", f"{predicted:.6g}", f"{drop / predicted:.3f}")
    says(nb, f"{opt.deltas[v['w1']]:.6g}", f"{v['w1'].data:.6g}", f"{v['b'].data:.6g}")


@drawing
def test_neuron_notebook_draws_grads_and_delta_w(executed: Executed) -> None:
    first, last = displayed(executed(NEURON), "image/svg+xml")
    v, _ = _neuron()
    texts = svg_texts(first)
    i = texts.index("w1")
    assert texts[i + 1 : i + 3] == ["data -3", f"grad {v['w1'].grad:.4g}"]
    texts = svg_texts(last)
    assert "⚠ stale graph" in texts
    i = texts.index("w1")
    assert texts[i + 3] == "Δw 0.05858"


def test_moons_notebook_prints_what_fit_gives(executed: Executed) -> None:
    nb = executed(MOONS)
    out = printed(nb)
    X, y = make_moons(100, noise=0.1, seed=0)
    model = MLP(2, [8, 8, 1], activation="tanh", init="xavier_uniform", seed=0)
    opt = Adam(model.parameters(), lr=0.02)
    hist = fit(model, X, y, loss="bce_with_logits", optimizer=opt, epochs=100, batch_size=None, seed=0, progress=False)
    reached = next(k for k, loss in enumerate(hist.loss) if loss <= 0.1)
    row = f"{'Adam':<10} {hist.loss[0]:>10.4f} {hist.loss[-1]:>10.4f} {hist.accuracy[-1]:>8.0%}  {reached}\n"
    assert row in out
    sizes = ", ".join(f"{layer} {size:.2e}" for layer, size in hist.delta[0].items())
    assert f"Adam      mean |Δw| at update 0: {sizes}\n" in out
    assert f"after {reached} updates" in prose(nb)
    rows = re.findall(r"^(SGD|momentum|Adam) +(\S+) +(\S+) +(\d+%)", out, flags=re.M)
    assert [r[0] for r in rows] == ["SGD", "momentum", "Adam"]
    for _, first, final, accuracy in rows:
        says(nb, first, final, accuracy if accuracy != "100%" else first)
    assert f"parameters: {len(model.parameters())}\n" in out


def test_moons_notebook_shows_its_figures(executed: Executed) -> None:
    pngs = displayed(executed(MOONS), "image/png")
    assert len(pngs) == 3  # loss curves, mean |Δw|, decision boundary
    assert all(base64.b64decode(p).startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)


class _Page(HTMLParser):
    """An explorer page's DOM contract, as written: body attributes, #equation, node groups."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str | None] = {}
        self.equations = 0
        self.values: dict[str, float] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if a.get("data-node") is not None and a.get("data-value") is not None:
            self.values[str(a["data-node"])] = float(str(a["data-value"]))
        self.equations += a.get("id") == "equation"


def _iframes(nb: nbformat.NotebookNode) -> list[_Page]:
    """The pages inside the notebook's inline iframes (``srcdoc``), parsed."""
    pages = []
    for shown in displayed(nb, "text/html"):
        match = re.search(r'<iframe\s[^>]*?srcdoc="([^"]*)"[^>]*>', shown)
        assert match is not None, shown[:200]
        assert 'sandbox="allow-scripts"' in match.group(0)  # the page's script runs, cut off from the notebook
        page = _Page()
        page.feed(html.unescape(match.group(1)))
        pages.append(page)
    return pages


@drawing
def test_explorer_notebook_shows_both_pages_inline(executed: Executed) -> None:
    nb = executed(EXPLORER)
    neuron_page, mlp_page = _iframes(nb)
    _, o = _neuron()
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    loss = mse_loss([model(x) for x in [[2.0, -1.0], [-0.5, 1.5]]], [1.0, -1.0])
    loss.backward()
    for page, root in ((neuron_page, o), (mlp_page, loss)):
        assert (page.body.get("data-step"), page.body.get("data-phase")) == ("0", "forward")
        assert page.equations == 1  # its text is the script's to write
        assert sorted(page.values.values()) == sorted(v.data for v in topological_order(root))
    out, text = printed(nb), prose(nb)
    nodes, edges = len(topological_order(o)), sum(len(v.children) for v in topological_order(o))
    assert f"forward: {nodes} steps; backward: 1 + {edges} steps" in out
    assert f'elements with id="equation": 1\n{nodes} groups with data-value' in out
    assert f"{nodes} nodes and {edges} operand edges" in text
    assert f"{nodes} forward steps, {1 + edges} backward steps and 3 updates" in text
    order = topological_order(loss)
    edges = sum(len(v.children) for v in order)
    assert f"{len(order)} nodes, {edges} edges, {len(model.parameters())} parameters" in out
    assert f"{len(order)} forward steps, 1 + {edges} backward steps and {len(model.parameters())} updates" in text
