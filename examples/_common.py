"""What every example needs and none of them is about: arguments, the output folder,
tables of measured numbers, the mean |Δw| of each update, and pictures that are
written only when the viz part of deltaw (and a renderer) is there.

Every example takes ``--seed`` (same seed, same numbers), ``--out`` (default
``out/``, ignored by git) and ``--quick`` (tiny settings for the smoke tests;
the environment variable ``DELTAW_QUICK=1`` does the same).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

QUICK_ENV = "DELTAW_QUICK"


SIZES = ("full", "reduced", "quick")


@dataclass
class Args:
    """The parsed command line of an example.

    ``size`` is "full" (the tutorial), "reduced" (what ``weight_update_tables``
    runs) or "quick" (``--quick``: seconds, for the smoke tests)."""

    seed: int
    out: Path
    size: str = "full"
    extra: argparse.Namespace | None = None
    pictures: bool = True  # False: numbers only (weight_update_tables)

    @property
    def quick(self) -> bool:
        return self.size == "quick"

    def pick(self, full: T, quick: T, reduced: T | None = None) -> T:
        """The setting for this size: ``reduced`` defaults to ``full``."""
        if self.size == "quick":
            return quick
        if self.size == "reduced" and reduced is not None:
            return reduced
        return full


def setup(
    doc: str | None, argv: Sequence[str] | None = None, extend: Callable[[argparse.ArgumentParser], None] | None = None
) -> Args:
    """Parse an example's arguments (its docstring is the ``--help`` text) and create ``--out``."""
    text = (doc or "").strip()
    first, _, rest = text.partition("\n")
    p = argparse.ArgumentParser(
        description=first, epilog=rest.strip() or None, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seed", type=int, default=0, help="random seed: same seed, same numbers (default 0)")
    p.add_argument("--out", type=Path, default=Path("out"), help="folder for pictures and tables (default out/)")
    p.add_argument("--quick", action="store_true", help=f"tiny settings, for smoke tests (also: {QUICK_ENV}=1)")
    if extend is not None:
        extend(p)
    ns = p.parse_args(argv)
    quick = ns.quick or os.environ.get(QUICK_ENV, "") not in ("", "0")
    ns.out.mkdir(parents=True, exist_ok=True)
    return Args(seed=ns.seed, out=ns.out, size="quick" if quick else "full", extra=ns)


# ---- measuring ------------------------------------------------------------------------------
class DeltaMeter:
    """A ``fit`` callback (or call ``record(optimizer)`` yourself): the mean |Δw| over
    every parameter, for each update, read from ``optimizer.deltas``."""

    def __init__(self) -> None:
        self.per_step: list[float] = []

    def record(self, optimizer: Any) -> None:
        deltas = optimizer.deltas
        if deltas:
            self.per_step.append(math.fsum(abs(d) for d in deltas.values()) / len(deltas))

    def __call__(self, info: Any) -> None:
        self.record(info.optimizer)

    @property
    def mean(self) -> float:
        """Mean |Δw| per parameter per update over the whole run (nan before any step)."""
        return math.fsum(self.per_step) / len(self.per_step) if self.per_step else math.nan


def steps_to(losses: Sequence[float], target: float) -> int | None:
    """How many updates came before the loss first reached ``target`` (None: never).

    ``losses[k]`` is the loss measured before update k, so the answer k means
    k updates were enough."""
    for k, loss in enumerate(losses):
        if loss <= target:
            return k
    return None


# ---- printing -------------------------------------------------------------------------------
def cell(x: Any) -> str:
    """One table cell: floats with 4 significant digits, None as "never", the rest as str."""
    if x is None:
        return "never"
    if isinstance(x, float):
        if math.isnan(x):
            return "n/a"
        if math.isinf(x):
            return "diverged" if x > 0 else "-inf"
        return f"{x:.4g}"
    return str(x)


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub markdown table, columns padded so it also reads well in a terminal."""
    body = [[cell(x) for x in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in body]
    return "\n".join(out)


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Print ``title`` and the table; return the table's markdown."""
    table = markdown_table(headers, list(rows))
    print(f"\n{title}\n{table}")
    return table


def wrote(path: Path | str, what: str) -> None:
    """Tell the reader where a file went."""
    print(f"  wrote {path}  ({what})")


# ---- pictures (optional: viz, matplotlib and Graphviz) ---------------------------------------
_warned: set[str] = set()


def _skip(what: str, why: str) -> None:
    if what not in _warned:
        _warned.add(what)
        print(f"  (no {what}: {why})")


def viz_function(name: str) -> Callable | None:
    """``viz.<name>`` when this installation has it, else None (and say so once)."""
    try:
        import viz
    except ImportError as e:
        _skip(f"viz.{name}", f"viz cannot be imported ({e})")
        return None
    fn = getattr(viz, name, None)
    if fn is None:
        _skip(f"viz.{name}", "this version of viz does not provide it yet")
    return fn


def render_graph(graph: Any, path: Path) -> Path | None:
    """Render a ``graphviz.Digraph`` to ``path`` (svg/png by suffix); None if no renderer exists."""
    render = viz_function("render")
    if render is None:
        return None
    fmt = path.suffix.lstrip(".") or "svg"
    try:
        return render(graph, path, format=fmt)
    except RuntimeError as e:  # RendererNotFound / RenderError: the message says how to fix it
        _skip("rendered graph", str(e).splitlines()[0])
        return None


def save_figure(fig: Any, path: Path) -> Path:
    """Save a matplotlib figure (what the viz plots return) to ``path``."""
    fig.savefig(path, dpi=110)
    return path


def picture(run: Args | None, name: str, path: Path, *args: Any, what: str = "", **kwargs: Any) -> Path | None:
    """Call ``viz.<name>(*args, **kwargs)`` and write its result to ``path``.

    Graphs (``graphviz.Digraph``) are rendered, figures saved, files written by
    the function itself (``path=`` keyword, e.g. ``animate``) just reported.
    Returns the path written, or None when that part of viz is missing or
    ``run.pictures`` is off."""
    if run is not None and not run.pictures:
        return None
    fn = viz_function(name)
    if fn is None:
        return None
    try:
        result = fn(*args, **kwargs)
    except ImportError as e:  # matplotlib (extra [plot]) missing
        _skip(f"viz.{name}", f"{e}; pip install 'deltaw[plot]'")
        return None
    if hasattr(result, "source"):
        written = render_graph(result, path)
    elif isinstance(result, (str, os.PathLike)):
        written = Path(result)
    else:
        written = save_figure(result, path)
    if written is not None:
        wrote(written, what or name)
    return written


def main_guard(main: Callable[[Sequence[str] | None], Any]) -> None:
    """Run ``main`` and turn a clean ``KeyboardInterrupt`` into exit code 130."""
    try:
        main(None)
    except KeyboardInterrupt:
        sys.exit(130)


# ---- the shared task ------------------------------------------------------------------------
def moons(n: int, seed: int, noise: float = 0.1) -> tuple[Any, Any]:
    """``n`` points of the two moons (labels 0/1), the task most examples compare on."""
    from nn import make_moons

    return make_moons(n, noise=noise, seed=seed)


def layer_grad_sizes(model: Any, loss: Any) -> dict[str, float]:
    """Backprop ``loss`` once and return the mean |∂L/∂w| of each layer's parameters."""
    from nn import layer_groups

    model.zero_grad()
    loss.backward()
    return {name: math.fsum(abs(p.grad) for p in ps) / len(ps) for name, ps in layer_groups(model).items()}
