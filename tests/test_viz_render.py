"""viz.render and inline display with each renderer: system dot, graphviz-pure, none."""

from __future__ import annotations

import os
import shutil
import sysconfig

import pytest

import viz
from autograd import Value
from viz import renderers as R

PNG = b"\x89PNG\r\n\x1a\n"


def small_graph() -> viz.Graph:
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b & <c>")
    L = (a * b + 1.0).tanh()
    L.label = "L"
    L.backward()
    return viz.draw_graph(L, lr=0.1)


def pure_binary() -> str:
    path = os.path.join(sysconfig.get_path("scripts"), "graphviz-pure")
    assert os.access(path, os.X_OK), "graphviz-pure must be installed: pip install 'deltaw[render]'"
    return path


@pytest.fixture
def only_pure(monkeypatch):
    """A machine without the system dot: PATH holds no Graphviz, graphviz-pure sits in the scripts dir."""
    real_which = shutil.which
    monkeypatch.setattr(R.shutil, "which", lambda name: None if name in ("dot", "graphviz-pure") else real_which(name))
    return pure_binary()


@pytest.fixture
def no_renderer(monkeypatch, tmp_path):
    monkeypatch.setattr(R.shutil, "which", lambda name: None)
    empty = tmp_path / "scripts"
    empty.mkdir()
    monkeypatch.setattr(R.sysconfig, "get_path", lambda name: str(empty))


@pytest.mark.requires_dot
def test_system_dot_is_found_and_renders_svg_png_pdf(tmp_path) -> None:
    r = R.find_renderer()
    assert r is not None and r.name == "graphviz" and "pdf" in r.formats
    g = small_graph()
    svg = viz.render(g, tmp_path / "g.svg")
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert "b &amp; &lt;c&gt;" in svg.read_text()
    png = viz.render(g, tmp_path / "g", format="png")
    assert png.suffix == ".png" and png.read_bytes().startswith(PNG)
    pdf = viz.render(g, tmp_path / "g.pdf", format="pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_graphviz_pure_renders_when_no_system_dot(tmp_path, only_pure) -> None:
    r = R.find_renderer()
    assert r == R.Renderer("graphviz-pure", only_pure, ("svg", "png"))
    g = small_graph()
    svg = viz.render(g, tmp_path / "g.svg").read_text(encoding="utf-8")
    assert "graphviz-pure" in svg and "b &amp; &lt;c&gt;" in svg
    assert viz.render(g, tmp_path / "g.png", format="png").read_bytes().startswith(PNG)
    with pytest.raises(ValueError, match="svg and png only"):
        viz.render(g, tmp_path / "g.pdf", format="pdf")


def test_jupyter_display_with_graphviz_pure(only_pure, monkeypatch) -> None:
    g = small_graph()
    bundle = g._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and "graphviz-pure" in bundle["image/svg+xml"]
    assert "<svg" in g._repr_svg_()
    # graphviz's own pipe() needs the system dot; ours falls back to graphviz-pure
    monkeypatch.setenv("PATH", "/nonexistent")
    assert g.pipe(format="svg").lstrip().startswith(b"<?xml")
    assert g.pipe(format="png").startswith(PNG)
    assert isinstance(g.pipe(format="svg", encoding="utf-8"), str)


@pytest.mark.requires_dot
def test_jupyter_display_with_system_dot() -> None:
    g = small_graph()
    assert isinstance(g, viz.Graph) and isinstance(g, __import__("graphviz").Digraph)
    assert "<svg" in g._repr_mimebundle_()["image/svg+xml"]
    assert g.pipe(format="svg").lstrip().startswith(b"<?xml")


def test_no_renderer_writes_dot_and_says_how_to_install(tmp_path, no_renderer) -> None:
    assert R.find_renderer() is None
    g = small_graph()
    with pytest.raises(viz.RendererNotFound) as e:
        viz.render(g, tmp_path / "out" / "graph.svg")
    msg = str(e.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "pip install 'deltaw[render]'"):
        assert hint in msg
    dot_file = tmp_path / "out" / "graph.dot"
    assert str(dot_file) in msg
    assert dot_file.read_text(encoding="utf-8") == g.source
    assert not (tmp_path / "out" / "graph.svg").exists()
    # notebooks show the same advice instead of a traceback
    assert "apt-get install graphviz" in g._repr_mimebundle_()["text/plain"]


def test_bad_format_and_bad_input(tmp_path) -> None:
    with pytest.raises(ValueError, match="format must be one of"):
        viz.render(small_graph(), tmp_path / "g.gif", format="gif")
    with pytest.raises(TypeError, match="graphviz graph or DOT source"):
        viz.render(42, tmp_path / "g.svg")


@pytest.mark.requires_dot
def test_render_error_carries_dot_message(tmp_path) -> None:
    with pytest.raises(viz.RenderError, match="syntax error"):
        viz.render("digraph { a -> }", tmp_path / "bad.svg")


def test_special_characters_with_graphviz_pure(only_pure) -> None:
    import html
    import re

    names = ['{ } | < > " \\ &', "\\N \\G", "naïve ∂L/∂w 中文 😀", "a:b"]
    vs = [Value(float(i), label=s) for i, s in enumerate(names)]
    out = vs[0] + vs[1] * vs[2] - vs[3]
    out.backward()
    svg = R.pipe(viz.draw_graph(out, lr=0.1), "svg").decode("utf-8")
    texts = html.unescape(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg)))
    for s in names:
        assert s in texts, s


@pytest.mark.requires_dot
def test_format_comes_from_the_suffix(tmp_path) -> None:
    g = small_graph()
    assert viz.render(g, tmp_path / "g.png").read_bytes().startswith(PNG)
    assert viz.render(g, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert viz.render(g, tmp_path / "G.SVG").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert viz.render(g, tmp_path / "g.dot").read_text(encoding="utf-8") == g.source
    assert viz.render(g, tmp_path / "plain").suffix == ".svg"
    assert viz.render(g, tmp_path / "g.png", "png").read_bytes().startswith(PNG)  # agreeing format= is fine


@pytest.mark.parametrize(
    "name, kw, message",
    [
        ("g.png", {"format": "svg"}, r"'g.png' ends in .png but format='svg'.*name the file g.svg"),
        ("g.pdf", {"format": "png"}, r"ends in .pdf but format='png'"),
        ("g.jpg", {}, r"cannot tell the format of 'g.jpg': .jpg is not one of .svg, .png, .pdf, .dot"),
        ("g.jpg", {"format": "jpg"}, r"format must be one of svg, png, pdf, dot, got 'jpg'"),
    ],
)
def test_a_suffix_that_disagrees_with_the_format_is_refused(tmp_path, name, kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        viz.render(small_graph(), tmp_path / name, **kw)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_failed_render_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch) -> None:
    target = tmp_path / "g.svg"
    target.write_text("the old picture", encoding="utf-8")
    monkeypatch.setattr(R, "pipe", lambda *a, **k: b"<svg>new</svg>")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        viz.render(small_graph(), target)
    assert target.read_text(encoding="utf-8") == "the old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]
    monkeypatch.undo()
    monkeypatch.setattr(R, "pipe", lambda *a, **k: b"<svg>new</svg>")
    viz.render(small_graph(), target)
    assert target.read_bytes() == b"<svg>new</svg>"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]
