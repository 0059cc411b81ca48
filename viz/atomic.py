"""Write files whole or not at all: every file viz writes goes through here.

The data goes to a uniquely named temporary file in the target's folder, is
flushed and fsynced, then ``os.replace``\\ s the target in one step.  A
failure (a renderer crash, a full disk, Ctrl-C) leaves the old file as it
was and no temporary file behind; two processes writing one path never
collide, and a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _mode_for(target: Path) -> int:
    """The target's current permission bits, or what ``open()`` would give a new file under the umask."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path to write to; on success it replaces ``path`` atomically.

    The temporary name keeps ``path``'s suffix, so writers that pick the
    format from the name (matplotlib, Pillow) still do.  Parent folders are
    created.  On any exception the temporary file is removed and ``path``
    is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, _mode_for(target))  # mkstemp makes it 0600; keep the mode a plain write would give
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # whatever wrote it, its bytes reach the disk before the rename
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns the path."""
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically; returns the path."""
    return write_bytes(path, text.encode("utf-8"))
