"""Reading an optimizer's ``state_dict`` back: every key, size, option and number checked first.

``load_groups`` returns the new options and per-group state, or raises a clear
``ValueError``/``TypeError``; the optimizer applies them only when all passed,
so a bad state dict leaves it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import checks

if TYPE_CHECKING:
    from .optimizer import Optimizer

__all__ = ["load_groups"]

_KEYS = ("optimizer", "state", "param_groups")
_MAX_STEP = 2**53  # steps stay exact as floats (Adagrad's (t − 1)·lr_decay, Adam's βᵗ)


def load_groups(opt: Optimizer, state_dict: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Checked options (one dict per group) and group states (``{"step", name: vector}``) from ``state_dict``."""
    name = type(opt).__name__
    where = f"{name}.load_state_dict"
    if not isinstance(state_dict, Mapping):
        raise checks.InputTypeError(
            f"{where}: expected the dict from state_dict(), got {checks.short_repr(state_dict)}"
        )
    unknown = sorted(str(k) for k in state_dict if k not in _KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; a state_dict() has 'state' and 'param_groups'")
    kind = state_dict.get("optimizer", name)
    if kind != name:
        raise ValueError(f"{where}: the state is for {checks.short_repr(kind)}, not {name!r}")
    options, indices = _options(opt, where, state_dict.get("param_groups"))
    return options, _group_states(opt, where, state_dict.get("state", {}), indices)


def _options(opt: Optimizer, where: str, saved_groups: Any) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """Each saved group's options, checked, and its parameter indices (matched to ours by position)."""
    ours = opt.param_groups
    if not isinstance(saved_groups, Sequence) or isinstance(saved_groups, (str, bytes)):
        raise ValueError(f"{where}: 'param_groups' must be a list of dicts, got {checks.short_repr(saved_groups)}")
    if len(saved_groups) != len(ours):
        raise ValueError(f"{where}: the state has {len(saved_groups)} parameter groups, this optimizer has {len(ours)}")
    options: list[dict[str, Any]] = []
    indices: list[list[int]] = []
    seen: set[int] = set()
    for gi, (saved, group) in enumerate(zip(saved_groups, ours)):
        label = f"param_groups[{gi}]"
        if not isinstance(saved, Mapping):
            raise ValueError(f"{where}: {label} must be a dict, got {checks.short_repr(saved)}")
        ids = saved.get("params")
        n = len(group["params"])
        if not isinstance(ids, Sequence) or isinstance(ids, (str, bytes)) or len(ids) != n:
            got = len(ids) if isinstance(ids, Sequence) else checks.short_repr(ids)
            raise ValueError(f"{where}: {label}['params'] has {got} parameter indices, this optimizer's group has {n}")
        group_ids = [checks.integer(where, f"{label}['params'][{j}]", k, low=0) for j, k in enumerate(ids)]
        if len(set(group_ids)) != n or seen.intersection(group_ids):
            raise ValueError(f"{where}: parameter indices repeat in param_groups; each parameter is listed once")
        seen.update(group_ids)
        missing = [k for k in opt.option_checks if k not in saved]
        if missing:
            raise ValueError(f"{where}: {label} lacks the options {missing}")
        options.append(opt._checked_group(where, label, {k: v for k, v in saved.items() if k != "params"}))
        indices.append(group_ids)
    return options, indices


def _group_states(opt: Optimizer, where: str, raw: Any, indices: list[list[int]]) -> list[dict[str, Any]]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: 'state' must be a dict of parameter index -> state, got {checks.short_repr(raw)}")
    position = {idx: (gi, j) for gi, ids in enumerate(indices) for j, idx in enumerate(ids)}
    entries: list[dict[int, Mapping[str, Any]]] = [{} for _ in indices]
    for key, entry in raw.items():
        idx = _index(where, key)
        if idx not in position:
            raise ValueError(f"{where}: state for parameter {idx}, which no parameter group lists")
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: state[{idx}] must be a dict, got {checks.short_repr(entry)}")
        gi, j = position[idx]
        entries[gi][j] = entry
    return [_one_group(opt, where, got, ids) for got, ids in zip(entries, indices)]


def _one_group(opt: Optimizer, where: str, got: dict[int, Mapping[str, Any]], ids: list[int]) -> dict[str, Any]:
    """One group's state: none (never stepped) or one entry per parameter, with one step and the same names."""
    if not got:
        return {}
    n = len(ids)
    if len(got) != n:
        raise ValueError(f"{where}: state for {len(got)} of a group's {n} parameters; a group steps all together")
    names = set(got[0])
    unknown = sorted(str(k) for k in names - {"step", *opt.state_names})
    if unknown:
        raise ValueError(f"{where}: state[{ids[0]}] has unknown entries {unknown}; expected {list(opt.state_names)}")
    keys = [k for k in opt.state_names if k in names]
    vectors = {k: np.empty(n) for k in keys}
    steps = set()
    for j in range(n):
        entry, idx = got[j], ids[j]
        if set(entry) != names:
            raise ValueError(f"{where}: state[{idx}] has entries {sorted(entry)}, state[{ids[0]}] {sorted(names)}")
        steps.add(checks.integer(where, f"state[{idx}]['step']", entry.get("step"), low=1, high=_MAX_STEP))
        for k in keys:
            low = 0.0 if k in opt.nonnegative_state else None
            vectors[k][j] = checks.number(where, f"state[{idx}][{k!r}]", entry[k], low=low)
    if len(steps) != 1:
        raise ValueError(f"{where}: the parameters of one group have different steps {sorted(steps)}")
    return {"step": steps.pop(), **vectors}


def _index(where: str, key: Any) -> int:
    """A state key: an int, or its decimal text (JSON turns int keys into strings)."""
    if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) < 19:
        return int(key)
    return checks.integer(where, "a state key (a parameter index)", key, low=0)
