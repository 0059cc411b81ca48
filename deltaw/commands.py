"""The subcommands ``demo``, ``draw``, ``explain`` and ``explore``: each one function plus its registration.

They raise; :func:`deltaw.cli.main` turns what the user caused into one line and an exit code
(:mod:`deltaw.app`).  Formulas are checked by :mod:`deltaw.expression` (never ``eval``).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from autograd import Value

from .app import UsageError, command
from .expression import parse, parse_assignments
from .output import check_file, make_folder, write_text

NEURON = "tanh(w1*x1 + w2*x2 + b)"
NEURON_SET = "x1=2 x2=0 w1=-3 w2=1 b=6.8814"
FORMATS = ("svg", "png", "pdf", "dot")


# ---- demo -------------------------------------------------------------------------------------
def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("out") / "demo", help="folder for the pictures (default out/demo)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--quick", action="store_true", help="a few training steps only (for tests)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


@command(
    "demo",
    help="the guided tour: worked example, a neuron's chain rule, moons training",
    description="Run the guided tour and write its pictures to --out.",
    example="deltaw demo --out out/demo",
    arguments=_demo_arguments,
)
def demo(args: argparse.Namespace) -> int:
    """Run the tour of :mod:`deltaw.demo` into ``--out``."""
    from .demo import run

    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    run(make_folder(args.out, f"--out {args.out}"), seed=args.seed, quick=args.quick, progress=not args.no_progress)
    return 0


# ---- draw and explain: a formula, its values, backward() ----------------------------------------
def _formula_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("expression", help=f'the formula, quoted: "{NEURON}"')
    p.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="NAME=NUMBER",
        dest="assignments",
        help="a value for every variable of the formula",
    )
    p.add_argument(
        "--lr", type=float, default=None, help="learning rate η: show the gradient-descent update Δw = −η·∂out/∂w"
    )


def _graph_of(args: argparse.Namespace) -> tuple[Value, dict[str, Value]]:
    """Parse, check and build the formula of ``draw``/``explain``/``explore``, then run backward()."""
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a number > 0, got {args.lr:g}")
    expr = parse(args.expression)
    if not expr.names:
        raise UsageError("the formula has no variables; use names such as w, x, b and give them with --set")
    values = parse_assignments(args.assignments)
    unused = [n for n in values if n not in expr.names]
    if unused:
        raise UsageError(
            f"--set gives {', '.join(unused)}, which the formula does not use (its variables: {', '.join(expr.names)})"
        )
    expr.check_values(values)
    try:
        root, leaves = expr.build(values)
        root.backward()
    except (ArithmeticError, ValueError) as e:  # DomainError, OpOverflowError, ZeroDivision, NonFiniteGradError
        raise UsageError(f"the formula cannot be computed at these values: {e}") from None
    return root, leaves


def _deltas(leaves: dict[str, Value], params: list[Value], lr: float | None) -> dict[str, float]:
    """Δw = −lr·∂out/∂w for each parameter; an overflow is a usage error, never a silent inf."""
    if lr is None:
        return {}
    deltas = {name: -lr * v.grad + 0.0 for name, v in leaves.items() if v in params}
    for name, d in deltas.items():
        if not math.isfinite(d):
            raise UsageError(
                f"--lr {lr:g}: Δ{name} = −{lr:g}·{leaves[name].grad:g} overflows float64; use a smaller --lr"
            )
    return deltas


def _summary(root: Value, leaves: dict[str, Value], lr: float | None, deltas: dict[str, float]) -> None:
    """One line per variable: value, gradient and (with --lr) Δw."""
    print(f"out = {root.data:.6g}")
    for name, v in leaves.items():
        line = f"  {name:>6} = {v.data:<10.6g} ∂out/∂{name} = {v.grad:<+10.6g}"
        if name in deltas:
            line += f" Δ{name} = −{lr:g}·∂out/∂{name} = {deltas[name]:+.6g}"
        print(line)


def _inputs_argument(p: argparse.ArgumentParser) -> None:
    """``--inputs``: which variables are data (no Δw); shared by draw and explore."""
    p.add_argument(
        "--inputs",
        nargs="*",
        default=None,
        metavar="NAME",
        help="variables that are data, not parameters: they get no Δw (default: the names starting with x)",
    )


def _params(args: argparse.Namespace, leaves: dict[str, Value]) -> list[Value]:
    """The formula's parameters: every variable not named by ``--inputs`` (default: not starting with x)."""
    inputs = [n for n in leaves if n.startswith("x")] if args.inputs is None else list(args.inputs)
    unknown = [n for n in inputs if n not in leaves]
    if unknown:
        raise UsageError(
            f"--inputs {' '.join(unknown)}: not a variable of the formula (its variables: {', '.join(leaves)})"
        )
    return [v for n, v in leaves.items() if n not in inputs]


def _draw_arguments(p: argparse.ArgumentParser) -> None:
    _formula_arguments(p)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("graph.svg"),
        help="the picture: .svg, .png or .pdf, or .dot for the DOT text (default graph.svg)",
    )
    _inputs_argument(p)


@command(
    "draw",
    help="draw a formula's graph with data, grad and Δw",
    description="Draw the computation graph of a formula after backward(): every node's "
    "data and grad, and with --lr the update Δw = −lr·grad of each parameter.",
    example=f'deltaw draw "{NEURON}" --set {NEURON_SET} --lr 0.1 -o graph.svg',
    arguments=_draw_arguments,
)
def draw(args: argparse.Namespace) -> int:
    """Draw the formula's graph to ``-o`` and print each variable's numbers."""
    from viz import RendererNotFound, draw_graph, render

    out: Path = args.output
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise UsageError(f"-o {out}: the file must end in .svg, .png, .pdf or .dot")
    root, leaves = _graph_of(args)
    params = _params(args, leaves)
    deltas = _deltas(leaves, params, args.lr)
    graph = draw_graph(root, lr=args.lr, params=params)
    check_file(out, "-o")
    _summary(root, leaves, args.lr, deltas)
    if fmt == "dot":
        print(f"wrote {write_text(out, graph.source)}")
        return 0
    try:
        written = render(graph, out, format=fmt)
    except RendererNotFound:
        dot = out.with_suffix(".dot")
        raise RendererNotFound(
            f"no Graphviz renderer found, so {out} was not drawn; wrote the DOT source to {dot}. Install one "
            "(apt-get install graphviz, brew install graphviz, or pip install 'deltaw[render]' for svg and png), "
            f"then run: dot -T{fmt} {dot} -o {out}"
        ) from None
    print(f"wrote {written}")
    return 0


def _explain_arguments(p: argparse.ArgumentParser) -> None:
    _formula_arguments(p)
    p.add_argument("--wrt", required=True, metavar="NAME", help="the variable to differentiate by")


@command(
    "explain",
    help="the chain rule for one variable, with the numbers",
    description="Write out ∂out/∂w by the chain rule with this formula's numbers, "
    "each factor checked against the engine.",
    example=f'deltaw explain "{NEURON}" --set {NEURON_SET} --wrt w1',
    arguments=_explain_arguments,
)
def explain(args: argparse.Namespace) -> int:
    """Print the chain rule for ∂out/∂(--wrt)."""
    from viz import explain as explain_text

    root, leaves = _graph_of(args)
    wrt = args.wrt
    if wrt not in leaves:
        raise UsageError(f"--wrt {wrt}: not a variable of the formula (its variables: {', '.join(leaves)})")
    if root is leaves[wrt]:
        raise UsageError(
            f"the formula is just {wrt}, so ∂out/∂{wrt} = 1 with no chain rule to write out; "
            f"give a formula that computes something from {wrt}, e.g. tanh({wrt})"
        )
    root.label = root.label or "out"
    print(explain_text(leaves[wrt], root, lr=args.lr))
    return 0


# ---- explore: the stepping page ------------------------------------------------------------------
def _explore_arguments(p: argparse.ArgumentParser) -> None:
    _formula_arguments(p)
    p.add_argument(
        "-o", "--output", type=Path, default=Path("explore.html"), help="the page, an .html file (default explore.html)"
    )
    _inputs_argument(p)


@command(
    "explore",
    help="one HTML page stepping through forward, backward and the update",
    description="Write a self-contained HTML page that steps through the formula's forward pass, "
    "every chain-rule product of backward() with its numbers, and with --lr the update Δw = −lr·grad.",
    example=f'deltaw explore "{NEURON}" --set {NEURON_SET} --lr 0.1 -o page.html',
    arguments=_explore_arguments,
)
def explore(args: argparse.Namespace) -> int:
    """Write the explorer page of the formula to ``-o``."""
    from viz import explore as explore_page

    out: Path = args.output
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {out}: the page must end in .html")
    root, leaves = _graph_of(args)
    params = _params(args, leaves)
    _deltas(leaves, params, args.lr)  # an overflowing Δw is a usage error
    check_file(out, "-o")
    print(f"wrote {explore_page(root, lr=args.lr, path=out, params=params).path}")
    return 0
