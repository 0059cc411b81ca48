"""Whether ops record a graph: on by default, off inside ``no_grad()`` (per thread and task)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

GRAD_ENABLED: ContextVar[bool] = ContextVar("deltaw_grad_enabled", default=True)


@contextmanager
def no_grad() -> Iterator[None]:
    """Build no graph inside the block: results are leaves, as in ``torch.no_grad()``.

    The switch lives in a ``ContextVar``, so one thread's (or asyncio task's)
    ``no_grad`` never affects another's.
    """
    token = GRAD_ENABLED.set(False)
    try:
        yield
    finally:
        GRAD_ENABLED.reset(token)


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record a graph inside the block even within ``no_grad()``."""
    token = GRAD_ENABLED.set(True)
    try:
        yield
    finally:
        GRAD_ENABLED.reset(token)


def is_grad_enabled() -> bool:
    """True when ops currently record a graph."""
    return GRAD_ENABLED.get()
