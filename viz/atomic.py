"""Every file viz writes goes through :func:`write_file`: whole or not at all.

The work is ``nn.serialization.atomic_write`` (a unique temporary file in the
target's folder, flushed and fsynced, then ``os.replace``): a failure (a
renderer crash, a full disk, Ctrl-C) leaves the old file as it was and no
temporary file behind, and a reader sees the old file or the new one, never
half of one.  This module only adds what pictures need: the folder is
created, and the writer gets a binary file object (matplotlib, Pillow and
plain bytes all write to one).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_file(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Create ``path``'s folder, then atomically put there what ``write(f)`` writes; returns the path."""
    from nn.serialization import atomic_write  # nn loads numpy; pictures that write nothing never need it

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, write)
    return target


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    return write_file(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically; returns the path."""
    return write_bytes(path, text.encode("utf-8"))
