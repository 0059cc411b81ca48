"""Turn DOT into SVG/PNG/PDF with whatever Graphviz this machine has.

Search order: the system ``dot`` (Debian/Homebrew Graphviz) → the binary of
the ``graphviz-pure`` PyPI package (``pip install 'deltaw[render]'``, svg and
png only) → none: the ``.dot`` file is written and :class:`RendererNotFound`
says exactly how to install a renderer.  Renderers are run with
``subprocess``; nothing of the ``graphviz`` package's internals is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import graphviz

FORMATS = ("svg", "png", "pdf")
PURE_FORMATS = ("svg", "png")
PURE_NAMES = ("graphviz-pure", "dot")

INSTALL_HINT = (
    "Install Graphviz to render it:\n"
    "  Debian/Ubuntu:  apt-get install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  anywhere (pip): pip install 'deltaw[render]'   (graphviz-pure: svg and png)"
)


class RendererNotFound(RuntimeError):
    """No Graphviz renderer on this machine; the message says how to install one."""


class RenderError(RuntimeError):
    """The renderer ran and failed; the message holds its stderr."""


@dataclass(frozen=True)
class Renderer:
    """A Graphviz executable and the formats it writes."""

    name: str  # "graphviz" (system dot) or "graphviz-pure"
    path: str
    formats: tuple


def _is_pure(path: str) -> bool:
    """True when the executable at ``path`` is graphviz-pure (its -V says so)."""
    try:
        out = subprocess.run([path, "-V"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"graphviz-pure" in out.stdout + out.stderr


def _pure_in_scripts() -> str | None:
    """graphviz-pure's binary in this interpreter's scripts directory, if installed."""
    scripts = sysconfig.get_path("scripts")
    if not scripts:
        return None
    for name in PURE_NAMES:
        for suffix in ("", ".exe"):
            p = os.path.join(scripts, name + suffix)
            if os.path.isfile(p) and os.access(p, os.X_OK) and (name != "dot" or _is_pure(p)):
                return p
    return None


def find_renderer() -> Renderer | None:
    """The renderer :func:`render` would use now, or ``None``."""
    dot = shutil.which("dot")
    if dot:
        if _is_pure(dot):
            return Renderer("graphviz-pure", dot, PURE_FORMATS)
        return Renderer("graphviz", dot, FORMATS)
    pure = shutil.which("graphviz-pure") or _pure_in_scripts()
    if pure:
        return Renderer("graphviz-pure", pure, PURE_FORMATS)
    return None


def _source(graph: graphviz.Digraph | graphviz.Graph | str) -> str:
    if isinstance(graph, str):
        return graph
    source = getattr(graph, "source", None)
    if not isinstance(source, str):
        raise TypeError(f"render: expected a graphviz graph or DOT source text, got {type(graph).__name__}")
    return source


def pipe(graph: graphviz.Digraph | graphviz.Graph | str, format: str = "svg", timeout: float | None = 300) -> bytes:
    """The rendered bytes of ``graph`` in ``format`` (no file written).

    Raises :class:`RendererNotFound` when no renderer exists, ``ValueError``
    for a format the renderer cannot write, :class:`RenderError` when it fails.
    """
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}, got {format!r}")
    source = _source(graph)
    r = find_renderer()
    if r is None:
        raise RendererNotFound("render: no Graphviz renderer found.\n" + INSTALL_HINT)
    if format not in r.formats:
        raise ValueError(
            f"render: {r.name} ({r.path}) writes {' and '.join(r.formats)} only, not {format}; "
            "install the system Graphviz (apt-get install graphviz / brew install graphviz) for pdf"
        )
    try:
        out = subprocess.run(
            [r.path, f"-T{format}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"render: {r.name} took more than {timeout} s; draw fewer nodes (max_nodes=) or pass a larger timeout"
        ) from None
    if out.returncode != 0 or not out.stdout:
        err = out.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"render: {r.name} ({r.path}) failed with exit code {out.returncode}: {err}")
    return out.stdout


def render(
    graph: graphviz.Digraph | graphviz.Graph | str,
    path: str | os.PathLike,
    format: str = "svg",
    timeout: float | None = 300,
) -> Path:
    """Write ``graph`` to ``path`` as svg, png or pdf and return the path written.

    ``path`` gets the ``.{format}`` suffix when it has none.  Without any
    renderer the DOT source is written next to it (``.dot``) and
    :class:`RendererNotFound` explains how to install Graphviz.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix("." + format)
    source = _source(graph)
    try:
        data = pipe(source, format, timeout)
    except RendererNotFound:
        dot_path = path.with_suffix(".dot")
        dot_path.parent.mkdir(parents=True, exist_ok=True)
        dot_path.write_text(source, encoding="utf-8")
        raise RendererNotFound(
            f"render: no Graphviz renderer found; wrote the DOT source to {dot_path} instead.\n"
            + INSTALL_HINT
            + f"\nthen run: dot -T{format} {dot_path} -o {path}"
        ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
