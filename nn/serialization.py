r"""Save and load parameters as JSON or numpy ``.npz``; nothing lost, nothing trusted, never pickle.

Saving refuses non-finite parameters before writing, then writes atomically
(``atomic_write``: a unique temporary file, fsync, ``os.replace``), so a failed or
concurrent save never leaves a half-written file.  Loading decides before it
allocates (file size, JSON nesting, zip sizes and ``.npy`` headers are checked
against the model first) and checks every value before any parameter changes,
so a failed load leaves the model untouched; errors are ``ValueError``\ s naming
the file, the parameter and the mismatch.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import numpy as np

from autograd import Value

from ._atomic import atomic_write
from ._npz import read_npz, write_npz

__all__ = ["save", "load", "check_state", "check_names", "atomic_write", "FORMAT"]

#: the tag written into every file, so a foreign JSON file is recognised as such
FORMAT = "deltaw.state_dict"
VERSION = 1
_META = "__deltaw_format__"
#: deepest JSON nesting accepted (a deltaw file nests 2 levels); deeper is refused before parsing
MAX_JSON_DEPTH = 16


def _count(items: list[str], what: str) -> str:
    """'missing parameter 'a' and 3 more': the first name and how many others."""
    more = f" and {len(items) - 1} more" if len(items) > 1 else ""
    return f"{what} parameter {items[0]!r}{more}"


def check_names(names: Sequence[str], keys: Sequence[str], source: str) -> None:
    """Refuse a state whose ``keys`` are not exactly the model's parameter ``names``."""
    known, given = set(names), set(keys)
    missing = [k for k in names if k not in given]
    unexpected = [k for k in keys if k not in known]
    if missing or unexpected:
        parts = ([_count(missing, "missing")] if missing else []) + (
            [_count(unexpected, "unexpected")] if unexpected else []
        )
        raise ValueError(
            f"{source}: {'; '.join(parts)} (the model has {len(names)} parameters, the state "
            f"{len(keys)}); was it saved from a different architecture?"
        )


def _to_float(x: Any, name: str, source: str) -> float:
    """One state entry as a finite float, or a ValueError naming the parameter."""
    if isinstance(x, np.ndarray):
        if x.shape != ():
            raise ValueError(f"{source}: parameter {name!r} has shape {x.shape}, expected a scalar")
        x = x.item()
    elif isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{source}: parameter {name!r} is {type(x).__name__} {x!r:.80}, expected a number")
    try:
        value = float(x)
    except OverflowError:  # only an int can overflow float()
        bits = int(x).bit_length()  # str() of a huge int is slow, and refused past 4300 digits
        digits = len(str(abs(x))) if bits < 14000 else f"about {int(bits * math.log10(2)) + 1}"
        raise ValueError(
            f"{source}: parameter {name!r} is an integer of {digits} digits, beyond float64; "
            "parameters must be finite numbers"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{source}: parameter {name!r} is {value!r}; parameters must be finite")
    return value


def check_state(
    model: Any, state: Mapping[str, Any], strict: bool = True, source: str = "load_state_dict"
) -> list[tuple[Value, float]]:
    """Validate ``state`` against ``model``'s parameters; returns (parameter, new value) pairs."""
    if not isinstance(state, Mapping):
        raise ValueError(f"{source}: expected a mapping of parameter name -> number, got {type(state).__name__}")
    named = model.named_parameters()
    if strict:
        check_names([name for name, _ in named], list(state), source)
    return [(p, _to_float(state[name], name, source)) for name, p in named if name in state]


def _is_npz(path: str) -> bool:
    return str(path).lower().endswith(".npz")


def _meta(model: Any) -> str:
    return f"{FORMAT} v{VERSION} {type(model).__name__}"


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model.state_dict()`` to ``path``: JSON, or ``.npz`` when the name ends with it.

    Non-finite parameters are refused before anything is written (load would
    refuse them too); the write is atomic (see ``atomic_write``).
    """
    path = os.fspath(path)
    state = model.state_dict()
    for name, x in state.items():
        if not math.isfinite(x):
            raise ValueError(
                f"save: {path}: parameter {name!r} is {x!r}; refusing to save a non-finite weight "
                "(load would reject it). Find where training diverged, or restore a finite checkpoint"
            )
    if _is_npz(path):
        if _META in state:
            raise ValueError(f"save: {path}: a parameter is named {_META!r}, which the format reserves")
        atomic_write(path, lambda f: write_npz(f, state, _META, _meta(model)))
        return
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "model": type(model).__name__,
        "num_parameters": len(state),
        "parameters": state,
    }
    data = json.dumps(doc, indent=1, allow_nan=False).encode("utf-8")
    atomic_write(path, lambda f: f.write(data))


def _size_limit(names: Sequence[str]) -> int:
    """Largest file accepted for a model: generous room per parameter, but bounded before reading."""
    return 1024 * 1024 + sum(1024 + 8 * len(name) for name in names)


def loads_strict(text: str) -> Any:
    """``json.loads`` that refuses NaN/Infinity and a key written twice (json would keep the last):
    the one JSON reader for files deltaw did not necessarily write (viz's run files use it too)."""
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a finite number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key written twice (json would silently keep the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} appears twice")
        out[key] = value
    return out


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _check_depth(text: str, where: str) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH before parsing (no RecursionError, no big trees)."""
    depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise ValueError(
                f"{where}: JSON nested more than {MAX_JSON_DEPTH} levels deep (near character {m.start()}); "
                "a deltaw parameter file nests 2 levels, so it is corrupted or not one"
            )


def _read_json(f: IO[bytes], where: str, limit: int) -> Mapping[str, Any]:
    try:
        text = f.read(limit + 1).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(
            f"{where}: not a text file; expected JSON written by model.save (or a .npz file with the .npz extension)"
        ) from None
    _check_depth(text, where)
    try:
        doc = loads_strict(text)
    except ValueError as e:
        raise ValueError(f"{where}: not valid JSON ({e}); the file is truncated or corrupted") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'{where}: not a deltaw parameter file (no "format": "{FORMAT}" entry)')
    if doc.get("version") != VERSION:
        raise ValueError(f"{where}: format version {doc.get('version')!r:.40}, this deltaw reads {VERSION}")
    params = doc.get("parameters")
    if not isinstance(params, dict):
        raise ValueError(f'{where}: "parameters" must be an object of name -> number')
    declared = doc.get("num_parameters")
    if declared is not None and declared != len(params):
        raise ValueError(
            f"{where}: declares {declared!r:.40} parameters but holds {len(params)}; the file is truncated or edited"
        )
    return params


def _check_meta(where: str) -> Callable[[str], None]:
    def check(meta: str) -> None:
        if not meta.startswith(f"{FORMAT} v{VERSION}"):
            raise ValueError(f"{where}: unsupported format {meta!r:.200}")

    return check


def load(model: Any, path: str | os.PathLike[str]) -> None:
    """Read a file written by ``save`` into ``model``; all-or-nothing (see module docstring)."""
    path = os.fspath(path)
    where = f"load: {path}"
    names = [name for name, _ in model.named_parameters()]
    limit = _size_limit(names)
    with open(path, "rb") as f:  # one open file: a concurrent save cannot swap it mid-read
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise ValueError(
                f"{where}: the file has {size} bytes, more than the {limit} any parameter file of this "
                f"model ({len(names)} parameters) needs; refused before reading"
            )
        if _is_npz(path):
            state: Mapping[str, Any] = read_npz(
                f, where, _META, _check_meta(where), lambda keys: check_names(names, keys, where)
            )
        else:
            state = _read_json(f, where, limit)
    values = check_state(model, state, strict=True, source=where)
    for p, x in values:
        p.data = x
