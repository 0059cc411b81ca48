"""The ``deltaw`` command (also ``python -m deltaw``): ``demo``, ``draw`` and ``explain``.

    deltaw demo [--out DIR]
    deltaw draw "tanh(w1*x1 + w2*x2 + b)" --set x1=2 x2=0 w1=-3 w2=1 b=6.8814 --lr 0.1 -o graph.svg
    deltaw explain "tanh(w1*x1 + w2*x2 + b)" --set x1=2 x2=0 w1=-3 w2=1 b=6.8814 --wrt w1

The parser is built from the registered subcommands (:mod:`deltaw.commands`), and every
subcommand runs inside :func:`main`'s one error boundary: a failure the user caused is one
line on stderr, ``deltaw COMMAND: error: ...``, and the exit code listed in ``--help``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from . import __version__
from . import commands as _commands  # noqa: F401  (importing it registers the subcommands)
from .app import COMMANDS, EXIT_BUG, EXIT_CANNOT_WRITE, EXIT_CODES, EXIT_NO_RENDERER, EXIT_USAGE, failure
from .expression import FUNCTIONS, MAX_DEPTH, MAX_EXPONENT

__all__ = ["main", "EXIT_USAGE", "EXIT_NO_RENDERER"]


def _epilog() -> str:
    """``deltaw --help``'s examples, formula rules and exit codes."""
    calls = "\n".join(f"  {c.example}" for c in COMMANDS.values())
    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    return f"""examples:
{calls}
  deltaw draw "(w*x - y)**2" --set w=0.5 x=3 y=2 --lr 0.05 -o loss.png

formulas: names, numbers, + - * / **, unary minus and the functions
  {", ".join(FUNCTIONS)};
  at most {MAX_DEPTH} levels deep, number exponents up to {MAX_EXPONENT}.
  Everything else (attributes, other calls, strings, subscripts, lambdas) is refused.
  A formula that starts with "-" needs a space first: deltaw draw " -w*x" --set w=1 x=2

exit codes:
{codes}"""


def _parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per registered subcommand."""
    p = argparse.ArgumentParser(
        prog="deltaw",
        description="deltaw: see backprop and every weight update, exactly.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"deltaw {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    sub.required = True
    for c in COMMANDS.values():
        q = sub.add_parser(
            c.name,
            help=c.help,
            description=c.description,
            epilog=f"example:\n  {c.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        c.arguments(q)
    return p


def _quiet_stdout() -> None:
    """After a broken pipe (``deltaw ... | head``), send what is left to /dev/null, silently."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (tests)
        pass


def _tolerant_stdout() -> None:
    """On a terminal that cannot show ∂ or Δ (an ASCII or cp1252 locale), print them escaped
    (``\\u2202``) instead of failing halfway through the output."""
    try:
        "∂Δ−·✓".encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deltaw`` console script; returns the exit code."""
    _tolerant_stdout()
    args = _parser().parse_args(argv)  # exits with 2 (and usage) on bad options, 0 on --help
    try:
        return _run(args)
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as other tools do
        _quiet_stdout()
        return EXIT_CANNOT_WRITE


def _run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand inside the one error boundary: a failure the user caused is
    one line on stderr and its exit code; anything else is a bug and keeps its traceback."""
    try:
        code = COMMANDS[args.command].run(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then one of ours to handle
        return code
    except BrokenPipeError:
        raise
    except (Exception, KeyboardInterrupt) as e:
        known = failure(e)
        if known is None:
            traceback.print_exc()
            print(
                f"deltaw {args.command}: this is a bug in deltaw; please report it with the text above", file=sys.stderr
            )
            return EXIT_BUG
        code, message = known
        print(f"deltaw {args.command}: error: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
