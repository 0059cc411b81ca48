"""The ``.npz`` side of nn.serialization: write a plain zip of ``.npy`` scalars, and read one
without trusting it.

Reading decides before it allocates: the zip directory (entry names, uncompressed
sizes, compression ratios) and every ``.npy`` header (dtype, shape) are checked
against the model's parameter names before any array data is read, so a zip
bomb, a header claiming a huge shape or an object array needing pickle is refused
as a ``ValueError`` naming the file and the entry.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import IO, Any

import numpy as np

__all__ = [
    "write_npz",
    "read_npz",
    "read_npy_header",
    "read_vetted_array",
    "NPY_MAGIC",
    "MAX_HEADER_BYTES",
    "ZIP_ERRORS",
]

NPY_MAGIC = b"\x93NUMPY"
#: largest uncompressed entry accepted: a scalar's .npy is 136 bytes, the format tag a few hundred
MAX_ENTRY_BYTES = 64 * 1024
#: largest compression ratio accepted for an entry bigger than 1 KiB (plain scalars barely compress)
MAX_RATIO = 50
#: largest .npy header read (numpy's own default is 10000)
MAX_HEADER_BYTES = 4096
#: the errors a damaged or hostile zip can raise while being read
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    zlib.error,
    NotImplementedError,  # an unsupported compression method
    RuntimeError,  # an encrypted entry
)


def write_npz(f: IO[bytes], state: Mapping[str, float], meta_key: str, meta: str) -> None:
    """Write ``state`` as float64 scalars plus the format tag, laid out exactly as ``np.savez``."""
    arrays: dict[str, np.ndarray] = {name: np.asarray(np.float64(x)) for name, x in state.items()}
    arrays[meta_key] = np.array(meta)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def read_npz(
    f: IO[bytes], where: str, meta_key: str, check_meta: Callable[[str], None], check_keys: Callable[[list[str]], None]
) -> dict[str, np.ndarray]:
    """Read and vet an ``.npz`` file object: tag, names, sizes and headers first, then the data.

    ``where`` ("load: <path>") starts every message; ``check_meta`` validates the
    format tag and ``check_keys`` the parameter names (against the model), both
    before any parameter's data is read.
    """
    if f.read(len(NPY_MAGIC)) == NPY_MAGIC:
        raise ValueError(
            f"{where}: this is a single-array .npy file, not an .npz archive; "
            "use a file written by model.save(...'.npz')"
        )
    f.seek(0)
    try:
        zf = zipfile.ZipFile(f)
    except ZIP_ERRORS as e:
        raise ValueError(f"{where}: not a valid .npz archive ({e}); the file is truncated or corrupted") from None
    with zf:
        entries = _entries(zf, where)
        if meta_key not in entries:
            raise ValueError(f"{where}: not a deltaw parameter file (no {meta_key} entry)")
        _check_header(zf, entries[meta_key], where, meta_key, _is_text)
        check_meta(str(read_vetted_array(zf, entries[meta_key], where, meta_key)))
        keys = [k for k in entries if k != meta_key]
        check_keys(keys)
        for key in keys:
            _check_header(zf, entries[key], where, key, _is_number)
        return {key: read_vetted_array(zf, entries[key], where, key) for key in keys}


def _entries(zf: zipfile.ZipFile, where: str) -> dict[str, zipfile.ZipInfo]:
    """Map each entry's key (its name without ``.npy``) to its zip header, refusing bombs and duplicates."""
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        key = info.filename[: -len(".npy")] if info.filename.endswith(".npy") else info.filename
        if key in entries:
            raise ValueError(f"{where}: entry {key!r} appears twice; the file is corrupted or edited")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_ENTRY_BYTES:
            raise ValueError(
                f"{where}: entry {key!r} would inflate to {info.file_size} bytes "
                f"({info.compress_size} stored, ratio {ratio:.0f}:1); a parameter file holds scalars "
                f"(at most {MAX_ENTRY_BYTES} bytes an entry), so it was refused before reading"
            )
        if info.file_size > 1024 and ratio > MAX_RATIO:
            raise ValueError(
                f"{where}: entry {key!r} compresses {ratio:.0f}:1, more than the {MAX_RATIO}:1 "
                "a parameter file ever reaches; refused as a zip bomb before reading"
            )
        entries[key] = info
    return entries


def _is_number(dtype: np.dtype[Any]) -> str | None:
    """Why ``dtype`` cannot hold a parameter, or None: real numbers of at most 8 bytes only."""
    if dtype.hasobject:
        return "holds Python objects that would need pickle; refused"
    if dtype.kind not in "fiu" or dtype.itemsize > 8:
        return f"has dtype {dtype}, expected float64"
    return None


def _is_text(dtype: np.dtype[Any]) -> str | None:
    """Why ``dtype`` cannot hold the format tag, or None."""
    return None if dtype.kind == "U" else f"has dtype {dtype}, expected the text format tag"


def _check_header(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, key: str, why_not: Callable[[np.dtype[Any]], str | None]
) -> None:
    """Read only the ``.npy`` header of one entry; refuse anything but a scalar of an accepted dtype."""
    try:
        with zf.open(info) as member:
            shape, _, dtype = read_npy_header(member)
    except ValueError as e:
        raise ValueError(f"{where}: entry {key!r} has no valid .npy header ({e})") from None
    except ZIP_ERRORS as e:
        raise ValueError(f"{where}: entry {key!r} is unreadable ({e}); the file is truncated or corrupted") from None
    if shape != ():
        raise ValueError(f"{where}: parameter {key!r} has shape {shape}, expected a scalar ()")
    problem = why_not(dtype)
    if problem:
        raise ValueError(f"{where}: parameter {key!r} {problem}")


def read_npy_header(
    member: IO[bytes], max_header_size: int = MAX_HEADER_BYTES
) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """(shape, fortran_order, dtype) from a ``.npy`` stream, reading nothing past the header
    (also used by viz's run files: one reader of untrusted headers)."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member, max_header_size=max_header_size)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(member, max_header_size=max_header_size)
    raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported")


def read_vetted_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, key: str) -> np.ndarray:
    """One entry's array, without pickle; call only after its header and size were vetted
    (here a scalar; viz's run files vet their shapes first).  Damage is a ValueError naming the entry."""
    try:
        with zf.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False, max_header_size=MAX_HEADER_BYTES)
    except ValueError as e:
        raise ValueError(f"{where}: entry {key!r} is unreadable ({e})") from None
    except ZIP_ERRORS as e:
        raise ValueError(f"{where}: entry {key!r} is unreadable ({e}); the file is truncated or corrupted") from None
