"""Atomic file writes: a save either replaces the whole file or leaves the old one untouched.

The data goes to a uniquely named temporary file in the target's folder (so
concurrent writers never share a name and the final rename stays on one file
system), is flushed and fsynced, then ``os.replace``\\ s the target; the folder is
fsynced where the platform allows.  Any failure removes the temporary file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from typing import BinaryIO

__all__ = ["atomic_write"]

#: flags for the temporary file: create it, fail if the name exists, binary on Windows
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(f)`` on a fresh temporary binary file, then atomically put it at ``path``.

    Readers of ``path`` see either the old file or the whole new one, never a
    mix; if ``write`` (or the disk) fails, the exception propagates, the old file
    is untouched and no temporary file is left.  A symlink at ``path`` is
    followed (its target is replaced); an existing file's permission bits are kept.
    """
    path = os.fspath(path)
    if os.path.islink(path):
        path = os.path.realpath(path)
    folder = os.path.dirname(path) or "."
    try:
        fd, tmp = _create_temporary(folder, os.path.basename(path))
    except OSError as e:  # name the file the caller asked for, not the hidden temporary
        raise OSError(e.errno, e.strerror, path) from None
    try:
        _copy_permissions(path, fd)
        with os.fdopen(fd, "wb") as f:
            fd = -1  # the file object owns it now
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _create_temporary(folder: str, name: str) -> tuple[int, str]:
    """Open a new, uniquely named hidden file next to the target (never an existing one)."""
    prefix = os.path.join(folder, f".{name[:64]}.{os.getpid()}.")
    for _ in range(100):
        tmp = f"{prefix}{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"atomic_write: could not find a free temporary name like {prefix}*.tmp")


def _copy_permissions(path: str, fd: int) -> None:
    """Give the new file the old one's permission bits, so saving never widens access."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return  # no old file: the new one gets the default (0o666 minus the umask)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable; a no-op where folders cannot be opened (Windows)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the data itself is already synced
    finally:
        os.close(dir_fd)
