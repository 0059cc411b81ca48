"""Output files and folders of the ``deltaw`` subcommands: checked before writing, written whole."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .app import OutputError


def make_folder(folder: Path, what: str) -> Path:
    """Create ``folder`` and its parents for ``what`` (e.g. ``--out DIR``); :class:`OutputError` says why not."""
    for existing in (folder, *folder.parents):
        if existing.exists():
            if not existing.is_dir():
                raise OutputError(f"{what}: {existing} is a file, not a folder; choose another path")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{what}: cannot create the folder {folder} ({e.strerror or e})") from None
    return folder


def check_file(path: Path, option: str) -> None:
    """Refuse an output path that is a folder, and create the folder it goes in."""
    what = f"{option} {path}"
    if path.is_dir():
        raise OutputError(f"{what}: that is a folder; give a file name such as {path / 'graph.svg'}")
    make_folder(path.parent, what)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically: a unique temporary file in the same folder, then
    ``os.replace``; a failed write leaves the old file as it was and no temporary file behind."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
        raise
    return path
