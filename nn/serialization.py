"""Save and load parameters as JSON or numpy ``.npz`` (read with ``allow_pickle=False``); never pickle.

Every check runs before any parameter changes, so a failed load leaves the
model untouched; errors are ``ValueError``s naming the file, the parameter and
the mismatch.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from autograd import Value

__all__ = ["save", "load", "check_state", "FORMAT"]

#: the tag written into every file, so a foreign JSON file is recognised as such
FORMAT = "deltaw.state_dict"
VERSION = 1
_META = "__deltaw_format__"


def check_state(
    model: Any, state: Mapping[str, Any], strict: bool = True, source: str = "load_state_dict"
) -> list[tuple[Value, float]]:
    """Validate ``state`` against ``model``'s parameters; returns (parameter, new value) pairs."""
    if not isinstance(state, Mapping):
        raise ValueError(f"{source}: expected a mapping of parameter name -> number, got {type(state).__name__}")
    named = model.named_parameters()
    names = [name for name, _ in named]
    if strict:
        missing = [k for k in names if k not in state]
        unexpected = [k for k in state if k not in set(names)]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(
                    f"missing parameter {missing[0]!r}" + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
                )
            if unexpected:
                parts.append(
                    f"unexpected parameter {unexpected[0]!r}"
                    + (f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else "")
                )
            raise ValueError(
                f"{source}: {'; '.join(parts)} (the model has {len(names)} parameters, the state "
                f"{len(state)}); was it saved from a different architecture?"
            )
    out = []
    for name, p in named:
        if name not in state:
            continue
        x = state[name]
        if isinstance(x, np.ndarray):
            if x.shape != ():
                raise ValueError(f"{source}: parameter {name!r} has shape {x.shape}, expected a scalar")
            x = x.item()
        elif isinstance(x, np.generic):
            x = x.item()
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise ValueError(f"{source}: parameter {name!r} is {type(x).__name__} {x!r}, expected a number")
        if not math.isfinite(x):
            raise ValueError(f"{source}: parameter {name!r} is {x!r}; parameters must be finite")
        out.append((p, float(x)))
    return out


def _is_npz(path: str) -> bool:
    return str(path).lower().endswith(".npz")


def save(model: Any, path: str | os.PathLike) -> None:
    """Write ``model.state_dict()`` to ``path``: JSON, or ``.npz`` when the name ends with it."""
    path = os.fspath(path)
    state = model.state_dict()
    if _is_npz(path):
        arrays = {name: np.float64(x) for name, x in state.items()}
        if _META in arrays:
            raise ValueError(f"save: {path}: a parameter is named {_META!r}, which the format reserves")
        arrays[_META] = np.array(f"{FORMAT} v{VERSION} {type(model).__name__}")
        with open(path, "wb") as f:
            np.savez(f, **arrays)
        return
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "model": type(model).__name__,
        "num_parameters": len(state),
        "parameters": state,
    }
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
    os.replace(tmp, path)  # a crash mid-write never leaves a half-written file under the real name


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a finite number")


def _read_json(path: str) -> Mapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ValueError(
            f"load: {path}: not a text file; expected JSON written by model.save "
            "(or a .npz file with the .npz extension)"
        ) from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except ValueError as e:
        raise ValueError(f"load: {path}: not valid JSON ({e}); the file is truncated or corrupted") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'load: {path}: not a deltaw parameter file (no "format": "{FORMAT}" entry)')
    if doc.get("version") != VERSION:
        raise ValueError(f"load: {path}: format version {doc.get('version')!r}, this deltaw reads {VERSION}")
    params = doc.get("parameters")
    if not isinstance(params, dict):
        raise ValueError(f'load: {path}: "parameters" must be an object of name -> number')
    declared = doc.get("num_parameters")
    if declared is not None and declared != len(params):
        raise ValueError(
            f"load: {path}: declares {declared} parameters but holds {len(params)}; the file is truncated or edited"
        )
    return params


def _read_npz(path: str) -> Mapping[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if _META not in data.files:
                raise ValueError(f"load: {path}: not a deltaw parameter file (no {_META} entry)")
            meta = str(data[_META])
            if not meta.startswith(f"{FORMAT} v{VERSION}"):
                raise ValueError(f"load: {path}: unsupported format {meta!r}")
            return {k: data[k] for k in data.files if k != _META}
    except ValueError as e:
        msg = str(e)
        if msg.startswith("load:"):
            raise
        raise ValueError(
            f"load: {path}: unreadable .npz ({msg}); the file is corrupted or holds objects that would need pickle"
        ) from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"load: {path}: not a valid .npz archive ({e}); the file is truncated or corrupted") from None


def load(model: Any, path: str | os.PathLike) -> None:
    """Read a file written by ``save`` into ``model``; all-or-nothing (see module docstring)."""
    path = os.fspath(path)
    state = _read_npz(path) if _is_npz(path) else _read_json(path)
    try:
        values = check_state(model, state, strict=True, source="load")
    except ValueError as e:
        raise ValueError(f"load: {path}: {str(e)[len('load: ') :]}") from None
    for p, x in values:
        p.data = x
