"""What every ``deltaw`` subcommand shares: how it is registered, its exit codes, and how a
failure the user caused becomes one line on stderr.

A subcommand is one function ``run(args) -> exit code`` plus its registration::

    @command("name", help="...", description="...", example="deltaw name ...", arguments=add_args)
    def name(args: argparse.Namespace) -> int: ...

:func:`deltaw.cli.main` builds the argument parser from :data:`COMMANDS` and runs the chosen
one inside :func:`failure`'s mapping, so no subcommand handles errors on its own.
"""

from __future__ import annotations

import argparse
import errno
from collections.abc import Callable
from dataclasses import dataclass

from viz import RendererNotFound, RenderError

from .expression import ExpressionError

EXIT_OK = 0
EXIT_BUG = 1  # an error deltaw did not expect: a bug, shown with its traceback
EXIT_USAGE = 2
EXIT_NO_RENDERER = 3
EXIT_CANNOT_WRITE = 4
EXIT_RENDER_FAILED = 5
EXIT_INTERRUPTED = 130

#: every exit code and what it means, for ``deltaw --help`` (and the README, which a test compares)
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done",
    EXIT_BUG: "a bug in deltaw (the traceback is printed; please report it)",
    EXIT_USAGE: "bad arguments, formula or values (the message says what to change)",
    EXIT_NO_RENDERER: "no Graphviz renderer (draw still writes the .dot file; the message says how to install one)",
    EXIT_CANNOT_WRITE: "an output file or folder cannot be written (no permission, a file in the way, disk full)",
    EXIT_RENDER_FAILED: "Graphviz ran and failed (its message is shown)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


class UsageError(Exception):
    """A bad argument or value: exit code 2 with a message that says what to change."""


class OutputError(Exception):
    """An output file or folder that cannot be written: exit code 4."""


Runner = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, its help texts and what it does."""

    name: str
    help: str  # one line in ``deltaw --help``
    description: str  # the paragraph of ``deltaw NAME --help``
    example: str  # shown in both
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Runner


#: the subcommands, in the order ``deltaw --help`` lists them
COMMANDS: dict[str, Command] = {}


def command(
    name: str, *, help: str, description: str, example: str, arguments: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Runner], Runner]:
    """Register the decorated function as the subcommand ``deltaw NAME``."""

    def register(run: Runner) -> Runner:
        if name in COMMANDS:
            raise ValueError(f"deltaw: the subcommand {name!r} is registered twice")
        COMMANDS[name] = Command(name, help, description, example, arguments, run)
        return run

    return register


def one_line(text: str) -> str:
    """``text`` with its lines joined: a failure is reported on one line."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _os_error(e: OSError) -> str:
    """``cannot write PATH: reason`` for an OSError from writing an output."""
    where = e.filename if e.filename is not None else ""
    reason = e.strerror or str(e)
    if e.errno == errno.EEXIST:
        reason = "a file of that name is in the way (a folder was needed)"
    elif e.errno == errno.ENOTDIR:
        reason = "a part of the path is a file, not a folder"
    return f"cannot write {where}: {reason}" if where else f"cannot write the output: {reason}"


def failure(e: BaseException) -> tuple[int, str] | None:
    """The exit code and message for a failure the user can cause; ``None`` for a bug.

    The library raises ``ValueError``/``ArithmeticError`` subclasses with clear messages for
    bad input, and the CLI hands it nothing but the user's input, so those are usage errors."""
    if isinstance(e, ExpressionError):
        return EXIT_USAGE, str(e)  # several lines on purpose: the formula with a caret under the fault
    if isinstance(e, (UsageError, ValueError, ArithmeticError)):
        return EXIT_USAGE, one_line(str(e))
    if isinstance(e, RendererNotFound):
        return EXIT_NO_RENDERER, one_line(str(e))
    if isinstance(e, OutputError):
        return EXIT_CANNOT_WRITE, one_line(str(e))
    if isinstance(e, OSError):
        return EXIT_CANNOT_WRITE, one_line(_os_error(e))
    if isinstance(e, RenderError):
        return EXIT_RENDER_FAILED, one_line(str(e))
    if isinstance(e, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    return None
