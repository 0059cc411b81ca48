"""The ``deltaw`` command: ``demo``, ``draw`` and ``explain``.

    deltaw demo [--out DIR]
    deltaw draw "tanh(w1*x1 + w2*x2 + b)" --set x1=2 x2=0 w1=-3 w2=1 b=6.8814 --lr 0.1 -o graph.svg
    deltaw explain "tanh(w1*x1 + w2*x2 + b)" --set x1=2 x2=0 w1=-3 w2=1 b=6.8814 --wrt w1

Formulas are checked against a whitelist by :mod:`viz.expression` (never
``eval``).  Bad arguments print a message that says what to change and exit
with code 2; a missing Graphviz exits with code 3 after writing the ``.dot``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from autograd import DomainError, OpOverflowError, Value

from .expression import FUNCTIONS, MAX_DEPTH, MAX_EXPONENT, ExpressionError, parse, parse_assignments

EXIT_USAGE = 2
EXIT_NO_RENDERER = 3

NEURON = "tanh(w1*x1 + w2*x2 + b)"
NEURON_SET = "x1=2 x2=0 w1=-3 w2=1 b=6.8814"

EPILOG = f"""examples:
  deltaw demo --out out/demo
  deltaw draw "{NEURON}" --set {NEURON_SET} --lr 0.1 -o graph.svg
  deltaw draw "(w*x - y)**2" --set w=0.5 x=3 y=2 --lr 0.05 -o loss.png
  deltaw explain "{NEURON}" --set {NEURON_SET} --wrt w1 --lr 0.1

formulas: names, numbers, + - * / **, unary minus and the functions
  {", ".join(FUNCTIONS)};
  at most {MAX_DEPTH} levels deep, number exponents up to {MAX_EXPONENT}.
  Everything else (attributes, other calls, strings, subscripts, lambdas) is refused.
  A formula that starts with "-" needs a space first: deltaw draw " -w*x" --set w=1 x=2

exit codes: 0 done, 2 bad arguments or formula, 3 no Graphviz renderer (the .dot file is written)."""


class UsageError(Exception):
    """A bad argument: printed as ``deltaw <command>: error: ...`` with exit code 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="deltaw",
        description="deltaw: see backprop and every weight update, exactly.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", metavar="{demo,draw,explain}")
    sub.required = True

    demo = sub.add_parser(
        "demo",
        help="the guided tour: worked example, a neuron's chain rule, moons training",
        description="Run the guided tour and write its pictures to --out.",
        epilog="example:\n  deltaw demo --out out/demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--out", type=Path, default=Path("out") / "demo", help="folder for the pictures (default out/demo)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--quick", action="store_true", help="a few training steps only (for tests)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")

    def formula_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("expression", help='the formula, quoted: "tanh(w1*x1 + w2*x2 + b)"')
        q.add_argument(
            "--set",
            nargs="+",
            default=[],
            metavar="NAME=NUMBER",
            dest="assignments",
            help="a value for every variable of the formula",
        )
        q.add_argument(
            "--lr", type=float, default=None, help="learning rate η: show the gradient-descent update Δw = −η·∂out/∂w"
        )

    draw = sub.add_parser(
        "draw",
        help="draw a formula's graph with data, grad and Δw",
        description="Draw the computation graph of a formula after backward(): every node's "
        "data and grad, and with --lr the update Δw = −lr·grad of each parameter.",
        epilog=f'example:\n  deltaw draw "{NEURON}" --set {NEURON_SET} --lr 0.1 -o graph.svg',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    formula_args(draw)
    draw.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("graph.svg"),
        help="the picture: .svg, .png or .pdf, or .dot for the DOT text (default graph.svg)",
    )
    draw.add_argument(
        "--inputs",
        nargs="*",
        default=None,
        metavar="NAME",
        help="variables that are data, not parameters: they get no Δw (default: the names starting with x)",
    )

    explain = sub.add_parser(
        "explain",
        help="the chain rule for one variable, with the numbers",
        description="Write out ∂out/∂w by the chain rule with this formula's numbers, "
        "each factor checked against the engine.",
        epilog=f'example:\n  deltaw explain "{NEURON}" --set {NEURON_SET} --wrt w1',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    formula_args(explain)
    explain.add_argument("--wrt", required=True, metavar="NAME", help="the variable to differentiate by")
    return p


def _graph_of(args: argparse.Namespace) -> tuple[Value, dict[str, Value]]:
    """Parse, check and build the formula of ``draw``/``explain``, then run backward()."""
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a number > 0, got {args.lr:g}")
    expr = parse(args.expression)
    if not expr.names:
        raise UsageError("the formula has no variables; use names such as w, x, b and give them with --set")
    try:
        values = parse_assignments(args.assignments)
    except ValueError as e:
        raise UsageError(str(e)) from None
    unused = [n for n in values if n not in expr.names]
    if unused:
        raise UsageError(
            f"--set gives {', '.join(unused)}, which the formula does not use (its variables: {', '.join(expr.names)})"
        )
    try:
        root, leaves = expr.build(values)
    except (DomainError, OpOverflowError) as e:
        raise UsageError(f"the formula cannot be computed at these values: {e}") from None
    except ValueError as e:
        raise UsageError(str(e)) from None
    root.backward()
    return root, leaves


def _draw(args: argparse.Namespace) -> int:
    from .graph import draw_graph
    from .renderers import RendererNotFound, render

    out: Path = args.output
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf", "dot"):
        raise UsageError(f"-o {out}: the file must end in .svg, .png, .pdf or .dot")
    root, leaves = _graph_of(args)
    if args.inputs is None:
        inputs = [n for n in leaves if n.startswith("x")]
    else:
        inputs = list(args.inputs)
        unknown = [n for n in inputs if n not in leaves]
        if unknown:
            raise UsageError(
                f"--inputs {' '.join(unknown)}: not a variable of the formula (its variables: {', '.join(leaves)})"
            )
    params = [v for n, v in leaves.items() if n not in inputs]
    graph = draw_graph(root, lr=args.lr, params=params)
    _summary(root, leaves, args.lr, params)
    if fmt == "dot":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(graph.source, encoding="utf-8")
        print(f"wrote {out}")
        return 0
    try:
        written = render(graph, out, format=fmt)
    except RendererNotFound as e:
        print(f"deltaw draw: {e}", file=sys.stderr)
        return EXIT_NO_RENDERER
    except ValueError as e:  # a format this renderer cannot write
        raise UsageError(str(e)) from None
    print(f"wrote {written}")
    return 0


def _summary(root: Value, leaves: dict[str, Value], lr: float | None, params: list[Value]) -> None:
    """One line per variable: value, gradient and (with --lr) Δw."""
    print(f"out = {root.data:.6g}")
    for name, v in leaves.items():
        line = f"  {name:>6} = {v.data:<10.6g} ∂out/∂{name} = {v.grad:<+10.6g}"
        if lr is not None and v in params:
            line += f" Δ{name} = −{lr:g}·∂out/∂{name} = {-lr * v.grad + 0.0:+.6g}"
        print(line)


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain

    root, leaves = _graph_of(args)
    if args.wrt not in leaves:
        raise UsageError(f"--wrt {args.wrt}: not a variable of the formula (its variables: {', '.join(leaves)})")
    root.label = root.label or "out"
    print(explain(leaves[args.wrt], root, lr=args.lr))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run

    run(args.out, seed=args.seed, quick=args.quick, progress=not args.no_progress)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deltaw`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)  # exits with 2 (and usage) on unknown options
    try:
        return {"demo": _demo, "draw": _draw, "explain": _explain}[args.command](args)
    except ExpressionError as e:
        print(f"deltaw {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as e:
        print(f"deltaw {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
