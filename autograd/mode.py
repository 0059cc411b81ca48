"""Modes: whether ops record a graph (on by default, off inside ``no_grad()``, per thread and
task), and pausing Python's cycle collector while big acyclic graphs are made or read."""

from __future__ import annotations

import gc
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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector inside the block, then restore its state.

    A graph is acyclic and reference counting frees it as soon as its root goes; the collector
    would only rescan every Value again and again as a graph grows (most of the time of building a
    1.7-million-node graph).  Used by ``nn.fit`` around each step and by ``compile`` while tracing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
