"""A ``RunRecorder`` on disk: one ``.npz`` (a plain zip), written atomically and read without trust.

The zip holds exactly five entries: ``meta.json`` (``{"format": "deltaw.run", "version": 1,
"every", "truncated", "rows", "names"}``) and four ``.npy`` arrays written by numpy without
pickle: ``steps`` (int64, rows), ``loss`` (float64, rows), ``deltas`` and ``values`` (float64,
rows × parameters).  Loading decides before it allocates: the entry names, the declared sizes,
the metadata and every ``.npy`` header (dtype, shape) are checked against each other and against
``max_bytes`` before any array is read; then every number must be finite and the steps must
increase.  Anything else is a ``ValueError`` naming the file and the entry.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from typing import IO, Any

import numpy as np

from nn._npz import MAX_HEADER_BYTES, ZIP_ERRORS, read_npy_header, read_vetted_array
from nn.serialization import loads_strict

from .atomic import write_file

__all__ = ["save_run", "load_run", "FORMAT", "VERSION"]

FORMAT = "deltaw.run"
VERSION = 1
META = "meta.json"
ARRAYS = {"steps": np.dtype("<i8"), "loss": np.dtype("<f8"), "deltas": np.dtype("<f8"), "values": np.dtype("<f8")}
MAX_META_BYTES = 64 * 1024 * 1024  # meta.json: the names of a few million parameters


def save_run(rec: Any, path: str | os.PathLike[str]) -> None:
    """Write ``rec`` (a RunRecorder) to ``path`` as the zip described above, atomically."""
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "every": rec.every,
        "truncated": rec.truncated,
        "rows": len(rec),
        "names": rec.names,
    }
    arrays = {"steps": rec.steps, "loss": rec.loss, "deltas": rec.deltas, "values": rec.values}

    def write(f: IO[bytes]) -> None:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(META, json.dumps(meta, allow_nan=False))
            for key, array in arrays.items():
                with zf.open(f"{key}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(array, ARRAYS[key]), allow_pickle=False)

    write_file(path, write)


def load_run(cls: Any, path: str | os.PathLike[str], max_bytes: int) -> Any:
    """Read a file ``save_run`` wrote into a new ``cls`` (a RunRecorder); refuses anything else."""
    where = f"RunRecorder.load: {os.fspath(path)}"
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise ValueError(f"RunRecorder.load: max_bytes must be an int >= 1, got {max_bytes!r}")
    try:
        with open(path, "rb") as f:
            zf = zipfile.ZipFile(f)
            with zf:
                entries = _entries(zf, where)
                meta = _meta(zf, entries[META], where, max_bytes)
                shapes = _shapes(meta, where, max_bytes)
                for key, info in entries.items():
                    if key != META:
                        _check_entry(zf, info, key, shapes[key], where)
                arrays = {key: read_vetted_array(zf, entries[key], where, entries[key].filename) for key in ARRAYS}
    except FileNotFoundError:
        raise
    except ZIP_ERRORS as e:
        raise ValueError(f"{where}: not a readable run file ({e}); the file is truncated or corrupted") from None
    _check_numbers(arrays, where)
    ordered = (arrays["steps"], arrays["loss"], arrays["deltas"], arrays["values"])
    return cls._from_arrays(meta["names"], meta["every"], meta["truncated"], ordered)


def _entries(zf: zipfile.ZipFile, where: str) -> dict[str, zipfile.ZipInfo]:
    """The five expected entries by key, refusing duplicates, strangers and absentees."""
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        key = info.filename.removesuffix(".npy") if info.filename != META else META
        if key in entries:
            raise ValueError(f"{where}: entry {info.filename!r} appears twice; the file is corrupted or edited")
        if key != META and (key not in ARRAYS or not info.filename.endswith(".npy")):
            raise ValueError(f"{where}: unexpected entry {info.filename!r}; not a file RunRecorder.save wrote")
        entries[key] = info
    missing = [k for k in (META, *ARRAYS) if k not in entries]
    if missing:
        raise ValueError(f"{where}: no {missing[0]!r} entry; not a file RunRecorder.save wrote (or truncated)")
    return entries


def _meta(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, max_bytes: int) -> dict[str, Any]:
    """``meta.json``, size-checked before reading, with every field's type checked."""
    limit = min(max_bytes, MAX_META_BYTES)
    if info.file_size > limit:
        raise ValueError(f"{where}: {META} would be {info.file_size:,} bytes, more than {limit:,}; refused unread")
    try:
        with zf.open(info) as member:
            text = member.read(limit + 1).decode("utf-8")
        meta = loads_strict(text)
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{where}: {META} is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f'{where}: not a deltaw run file ({META} has no "format": "{FORMAT}")')
    if meta.get("version") != VERSION:
        raise ValueError(f"{where}: format version {meta.get('version')!r:.40}, this deltaw reads {VERSION}")
    names, every, rows = meta.get("names"), meta.get("every"), meta.get("rows")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f'{where}: "names" must be a non-empty list of parameter names')
    if len(set(names)) != len(names):
        raise ValueError(f'{where}: "names" lists a parameter twice; the file is corrupted or edited')
    for key, x in (("every", every), ("rows", rows)):
        if not isinstance(x, int) or isinstance(x, bool) or x < (1 if key == "every" else 0):
            raise ValueError(f'{where}: "{key}" must be a whole number, got {x!r:.40}')
    if not isinstance(meta.get("truncated"), bool):
        raise ValueError(f'{where}: "truncated" must be true or false')
    return meta


def _shapes(meta: dict[str, Any], where: str, max_bytes: int) -> dict[str, tuple[int, ...]]:
    """The shape each array must have, once the recording is known to fit in ``max_bytes``."""
    rows, n = meta["rows"], len(meta["names"])
    size = 16 * rows * n + 16 * rows
    if size > max_bytes:
        raise ValueError(
            f"{where}: {rows:,} steps of {n:,} parameters take {size:,} bytes, more than max_bytes={max_bytes:,}; "
            "refused before reading (pass a larger max_bytes to load it)"
        )
    return {"steps": (rows,), "loss": (rows,), "deltas": (rows, n), "values": (rows, n)}


def _check_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, shape: tuple[int, ...], where: str) -> None:
    """The declared size fits the shape, and the ``.npy`` header says exactly that dtype and shape."""
    data = math.prod(shape) * 8
    if not data <= info.file_size <= data + MAX_HEADER_BYTES + 16:
        raise ValueError(
            f"{where}: entry {info.filename!r} declares {info.file_size:,} bytes, but {META} implies "
            f"{data:,} bytes of data; refused unread"
        )
    try:
        with zf.open(info) as member:
            got, fortran, dtype = read_npy_header(member, MAX_HEADER_BYTES)
    except ValueError as e:
        raise ValueError(f"{where}: entry {info.filename!r} has no valid .npy header ({e})") from None
    if dtype.hasobject:
        raise ValueError(f"{where}: entry {info.filename!r} holds Python objects that would need pickle; refused")
    if dtype != ARRAYS[key] or fortran or got != shape:
        raise ValueError(
            f"{where}: entry {info.filename!r} is {dtype} of shape {got}"
            f"{' (Fortran order)' if fortran else ''}; expected {ARRAYS[key]} of shape {shape}"
        )


def _check_numbers(arrays: dict[str, np.ndarray], where: str) -> None:
    """Every loss, Δw and value finite; the steps at least 0 and increasing."""
    for key in ("loss", "deltas", "values"):
        bad = ~np.isfinite(arrays[key])
        if bad.any():
            at = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))
            raise ValueError(
                f"{where}: {key}{list(at)} is {float(arrays[key][at])!r}; a recording holds finite numbers"
            )
    steps = arrays["steps"]
    if steps.size and (steps[0] < 0 or (np.diff(steps) <= 0).any()):
        raise ValueError(f"{where}: the step numbers must be >= 0 and increasing; the file is corrupted or edited")
