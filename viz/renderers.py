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

from .atomic import write_bytes, write_text

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
    formats: tuple[str, ...]


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


def _target(path: Path, format: str | None) -> tuple[Path, str]:
    """The file and format to write: the format from the suffix, or the suffix from the format.

    A suffix that names another format than ``format`` is refused: a ``.png``
    holding SVG text is a broken file, not a picture.
    """
    writable = (*FORMATS, "dot")
    if format is not None and format not in writable:
        raise ValueError(f"render: format must be one of {', '.join(writable)}, got {format!r}")
    suffix = path.suffix.lower().lstrip(".")
    if not suffix:
        fmt = format or "svg"
        return path.with_suffix("." + fmt), fmt
    if format is None:
        if suffix not in writable:
            raise ValueError(
                f"render: cannot tell the format of {path.name!r}: .{suffix} is not one of "
                f".{', .'.join(writable)}; name the file with one of those suffixes"
            )
        return path, suffix
    if suffix != format:
        raise ValueError(
            f"render: {path.name!r} ends in .{suffix} but format={format!r}: the file would hold {format} "
            f"under a .{suffix} name; drop format= (the suffix decides) or name the file {path.stem}.{format}"
        )
    return path, format


def render(
    graph: graphviz.Digraph | graphviz.Graph | str,
    path: str | os.PathLike[str],
    format: str | None = None,
    timeout: float | None = 300,
) -> Path:
    """Write ``graph`` to ``path`` as svg, png, pdf or dot and return the path written.

    The format comes from the suffix (``graph.png`` is a PNG); ``format=``
    names it when ``path`` has no suffix (the default is svg) and must agree
    with a suffix that is there.  ``dot`` writes the DOT source and needs no
    renderer.  The file is written atomically (:mod:`viz.atomic`): a failed
    render leaves an existing file as it was.  Without any renderer the DOT
    source is written next to it (``.dot``) and :class:`RendererNotFound`
    explains how to install Graphviz.
    """
    path, fmt = _target(Path(path), format)
    source = _source(graph)
    if fmt == "dot":
        return write_text(path, source)
    try:
        data = pipe(source, fmt, timeout)
    except RendererNotFound:
        dot_path = write_text(path.with_suffix(".dot"), source)
        raise RendererNotFound(
            f"render: no Graphviz renderer found; wrote the DOT source to {dot_path} instead.\n"
            + INSTALL_HINT
            + f"\nthen run: dot -T{fmt} {dot_path} -o {path}"
        ) from None
    return write_bytes(path, data)
