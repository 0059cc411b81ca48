"""``Optimizer``: the shared machinery of every update rule — parameter groups, state, Δw record.

As in torch, ``opt.param_groups`` is a list of dicts (``"params"`` plus every
option), built from ``SGD(params, lr=...)`` (one group) or from
``SGD([{"params": a}, {"params": b, "lr": 0.01}], lr=0.1)`` (options missing
from a group come from ``opt.defaults``).  Options are checked on every path:
the constructor, ``add_param_group``, assignment (``param_groups[0]["lr"] = x``
or the shortcut ``opt.lr = x``, which sets every group) and ``load_state_dict``.

A subclass declares ``option_checks`` (option -> check) and ``state_names``,
and implements ``_update(w, g, state, t, options)`` on numpy float64 vectors
(one entry per parameter of a group), returning the new weights and state, so
a step either applies completely or not at all.

The same formulas run on a compiled graph's arrays: after ``opt.bind(values,
grads, params)`` (``fn.bind(opt)``) a step reads and writes those arrays and no
``Value`` (see ``binding``).  ``deltas`` is built from the last step's Δw vector
when first read, exactly ``new − old`` either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from autograd import Value

from .. import checks
from .binding import ArrayBinding
from .groups import Check, GroupList, ParamGroup, ParamList
from .state import load_groups

__all__ = ["Optimizer", "TrainingDiverged"]


class TrainingDiverged(ValueError):
    """The loss, a gradient or a weight stopped being a finite number: the training diverged."""


def _lr(where: str, name: str, x: Any) -> float:
    return checks.number(where, name, x, low=0.0, hint="typical values are 1e-3 to 1.0")


def _new_lr(where: str, name: str, x: Any) -> float:
    # > 0 when a group is made; later >= 0, as a schedule such as cosine annealing may reach exactly 0
    return checks.number(where, name, x, low=0.0, low_open=True, hint="typical values are 1e-3 to 1.0")


def _option_property(name: str) -> property:
    def getter(self: Optimizer) -> Any:
        return self.param_groups[0][name]

    def setter(self: Optimizer, value: Any) -> None:
        self._set_everywhere(name, value)

    doc = f"The first group's {name}; setting it sets every group's (checked first)."
    return property(getter, setter, doc=doc)


class Optimizer:
    """Base class: ``step()``, ``zero_grad()``, ``deltas``, ``param_groups``, ``state_dict()``, ``bind()``."""

    #: every per-group option and its check (subclasses add theirs to lr)
    option_checks: ClassVar[dict[str, Check]] = {"lr": _lr}
    #: names of the per-parameter state vectors, in state_dict order
    state_names: ClassVar[tuple[str, ...]] = ()
    #: the state vectors that are never negative (sums of squares), checked so by load_state_dict
    nonnegative_state: ClassVar[tuple[str, ...]] = ()
    #: the lr ``fit`` uses when given this optimizer by name and no lr (torch's default lr,
    #: except SGD: 0.1, as torch's 1e-3 barely moves a small model)
    suggested_lr: ClassVar[float] = 1e-3

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.option_checks:  # opt.momentum, opt.betas, ...: shortcuts to every group
            if not hasattr(cls, name):
                setattr(cls, name, _option_property(name))

    def __init__(self, params: Any, defaults: Mapping[str, Any]) -> None:
        where = type(self).__name__
        self.defaults: dict[str, Any] = self._checked_group(where, "", dict(defaults), new=True)
        self.param_groups: GroupList = GroupList()
        self._group_state: list[dict[str, Any]] = []
        # Δw of the last step: a vector, its entry per parameter (None: in group order), the dict once built
        self._delta_vec: np.ndarray | None = None
        self._delta_pos: np.ndarray | None = None
        self._deltas: dict[Value, float] | None = {}
        self._means_cache: tuple[Any, Any, dict[str, np.ndarray]] | None = None
        self._binding: ArrayBinding | None = None
        self._read_cache: tuple[Any, ...] | None = None  # weights_and_deltas' index arrays
        for group in _as_groups(where, params):
            self._add_group(where, group)

    # ---- groups and their options -----------------------------------------------------
    def _checked_group(self, where: str, label: str, group: dict[str, Any], *, new: bool = False) -> dict[str, Any]:
        """Every option of ``group`` checked and canonical (no ``params``); refuses unknown options."""
        out: dict[str, Any] = {}
        for key, value in group.items():
            if key == "params":
                continue
            name = f"{label}[{key!r}]" if label else key
            if key == "initial_lr":  # set by schedulers, as in torch
                check: Check | None = _lr
            elif key == "lr" and new:
                check = _new_lr
            else:
                check = self.option_checks.get(key)
            if check is None:
                raise ValueError(
                    f"{where}: unknown option {key!r}; {type(self).__name__}'s options are "
                    f"{', '.join(self.option_checks)} (and a group's 'params')"
                )
            out[key] = check(where, name, value)
        self._check_options(where, out)
        return out

    def _check_options(self, where: str, options: dict[str, Any]) -> None:
        """Rules tying options together (SGD's nesterov); checked whenever an option changes."""

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add ``{"params": [...], option: value, ...}``; missing options come from ``defaults``."""
        self._add_group(f"{type(self).__name__}.add_param_group", param_group)

    def _add_group(self, where: str, group: Any) -> None:
        if not isinstance(group, Mapping) or "params" not in group:
            raise checks.InputTypeError(
                f"{where}: a parameter group must be a dict with 'params' (a list of Values), "
                f"got {checks.short_repr(group)}"
            )
        index = len(self.param_groups)
        raw = group["params"]
        ps = checks.parameter_list(where, [raw] if isinstance(raw, Value) else raw, leaves=True)
        taken = {id(p): i for i, g in enumerate(self.param_groups) for p in g["params"]}
        for j, p in enumerate(ps):
            if id(p) in taken:
                raise ValueError(
                    f"{where}: params[{j}] ({p.label or 'unlabelled'}) is already in parameter group "
                    f"{taken[id(p)]}; each parameter belongs to one group"
                )
        if getattr(self, "_binding", None) is not None:
            raise ValueError(f"{where}: the optimizer is bound to arrays; call unbind() before adding a group")
        label = f"param_groups[{index}]"
        options = self._checked_group(where, label, {**self.defaults, **group}, new=True)
        list.append(
            self.param_groups, ParamGroup(self, type(self).__name__, index, {"params": ParamList(ps), **options})
        )
        self._group_state.append({})
        self._means_cache = self._read_cache = None  # a new group: the parameters are indexed again

    def _set_everywhere(self, name: str, value: Any) -> None:
        where = type(self).__name__
        checked = [self._checked_group(where, "", {**g, name: value}) for g in self.param_groups]
        for group, options in zip(self.param_groups, checked):
            dict.__setitem__(group, name, options[name])

    # ---- shortcuts for the common one-group case ------------------------------------
    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's (schedulers set each group)."""
        return float(self.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        self._set_everywhere("lr", value)

    @property
    def params(self) -> list[Value]:
        """Every parameter, group after group (the order of ``state_dict``'s indices)."""
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def step_count(self) -> int:
        """How many steps the optimizer has taken (restored by ``load_state_dict``)."""
        return max((s.get("step", 0) for s in self._states()), default=0)

    @property
    def state(self) -> dict[Value, dict[str, float]]:
        """torch's view: parameter -> {"step": t, state name: value}; empty before the first step."""
        out: dict[Value, dict[str, float]] = {}
        for group, st in zip(self.param_groups, self._states()):
            for j, p in enumerate(group["params"]):
                if st:
                    out[p] = {"step": st["step"], **{k: float(st[k][j]) for k in self.state_names if k in st}}
        return out

    # ---- the update -----------------------------------------------------------------
    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (the bound gradient array, when bound)."""
        if self._binding is not None:
            self._binding.zero_grad()
            return
        for p in self.params:
            p.grad = 0.0

    def _update(
        self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], t: int, options: Mapping[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def step(self) -> None:
        """Apply one update to every parameter from its ``.grad`` and record ``deltas``.

        Raises ``TrainingDiverged`` (a ``ValueError``; changing nothing) if a gradient or a new weight is
        not finite: the training diverged, and a smaller lr usually fixes it.  When bound, the same
        update runs on the bound arrays (see ``bind``)."""
        b = self._binding
        states = b.state if b is not None else self._group_state
        plans = []
        offset = 0
        for gi, (group, st) in enumerate(zip(self.param_groups, states)):
            ps = group["params"]
            if b is None:
                g = np.fromiter([p.grad for p in ps], dtype=np.float64, count=len(ps))
                w = np.fromiter([p.data for p in ps], dtype=np.float64, count=len(ps))
            else:
                w, g = b.read(gi)
            bad = _first_bad(g) if b is None else b.first_bad(gi, g)
            if bad is not None:
                i, x = bad
                raise TrainingDiverged(
                    f"{type(self).__name__}.step: parameter {offset + i} ({ps[i].label or 'unlabelled'}) has "
                    f"gradient {x!r}; the loss diverged — use a smaller lr (now {group['lr']:g}) "
                    "or clip gradients (nn.clip_grad_norm)"
                )
            if group.get("maximize"):
                g = -g
            t = st.get("step", 0) + 1
            state = {k: st[k] for k in self.state_names if k in st}
            with np.errstate(over="ignore", invalid="ignore"):  # a non-finite result is reported below
                new, state = self._update(w, g, state, t, group)
            bad = _first_bad(new) if b is None else b.first_bad(gi, new)
            if bad is not None:
                i, x = bad
                raise TrainingDiverged(
                    f"{type(self).__name__}.step: the update would make parameter {offset + i} "
                    f"({ps[i].label or 'unlabelled'}) {x!r}; use a smaller lr (now {group['lr']:g})"
                )
            plans.append((w, new, {"step": t, **state}))
            offset += len(ps)
        if b is not None:
            for gi, (w, new, state) in enumerate(plans):
                b.write(gi, w, new, state)
            self._delta_vec, self._delta_pos = b.delta, b.delta_positions
        else:
            for gi, (_, new, state) in enumerate(plans):
                self._group_state[gi] = state
                for p, after in zip(self.param_groups[gi]["params"], new.tolist()):
                    p.data = after
            self._delta_vec = np.concatenate([new - w for w, new, _ in plans]) if plans else np.empty(0)
            self._delta_pos = None
        self._deltas = None

    @property
    def deltas(self) -> dict[Value, float]:
        """Δw of the last step: parameter -> new − old, exactly as applied (built when first read)."""
        if self._deltas is None:
            vec = self._delta_vec if self._delta_pos is None else self._delta_vec[self._delta_pos]  # type: ignore[index]
            self._deltas = dict(zip(self.params, vec.tolist()))  # type: ignore[union-attr]
        return self._deltas

    def delta_means(self, layers: Mapping[str, list[Value]]) -> dict[str, float]:
        """Mean |Δw| of the last step per named list of parameters (those this optimizer updates),
        from the Δw vector without building ``deltas``: what ``fit`` records after every step."""
        vec = self._delta_vec
        if vec is None:
            return {}
        cache = self._means_cache
        if cache is None or cache[0] is not layers or cache[1] is not self._binding:
            pos = self._delta_pos
            at = {id(p): (i if pos is None else int(pos[i])) for i, p in enumerate(self.params)}
            index = {
                name: np.array([at[id(p)] for p in ps], dtype=np.intp)
                for name, ps in layers.items()
                if ps and all(id(p) in at for p in ps)
            }
            cache = self._means_cache = (layers, self._binding, index)
        return {name: float(np.abs(vec[idx]).sum()) / len(idx) for name, idx in cache[2].items()}

    # ---- arrays instead of Values ----------------------------------------------------
    def bind(self, values: np.ndarray, grads: np.ndarray, params: list[Value]) -> ArrayBinding:
        """Update ``values`` (the weights) from ``grads`` in place from now on, not the Values.

        ``values[i]``/``grads[i]`` belong to ``params[i]``, which must include every parameter of this
        optimizer; both arrays are loaded from the Values' ``.data``/``.grad`` here.  ``sync()`` writes
        them back to the Values, ``reload()`` reads the Values again, ``unbind()`` syncs and returns to
        Values.  ``fn.bind(opt)`` does this with a compiled graph's own arrays."""
        if self._binding is not None:
            raise ValueError(f"{type(self).__name__}.bind: already bound to arrays; call unbind() first")
        binding = ArrayBinding([g["params"] for g in self.param_groups], values, grads, params)
        binding.activate(self._group_state)
        self._binding = binding
        return binding

    @property
    def bound(self) -> bool:
        """Whether ``step()`` works on bound arrays (``bind``) rather than on the Values."""
        return self._binding is not None

    def sync(self) -> None:
        """Bring every bound parameter's ``.data`` and ``.grad`` up to date (nothing to do unbound)."""
        if self._binding is not None:
            self._binding.sync()

    def reload(self) -> None:
        """Read the bound parameters' ``.data`` and ``.grad`` into the arrays (after they were changed)."""
        if self._binding is not None:
            self._binding.reload()

    def values_changed(self) -> bool:
        """Whether a bound parameter's ``.data`` (or a gradient a ``zero_grad`` would not clear) was
        rebound since the last ``sync``/``reload``: then ``reload()`` is needed.  False unbound."""
        return self._binding is not None and self._binding.changed()

    def weights_and_deltas(self, params: list[Value]) -> tuple[np.ndarray, np.ndarray]:
        """``params``' current weights and last Δw (0.0 for one this optimizer does not update) as
        float64 vectors, exact without a ``sync``: the weights come from the bound arrays while they
        are ahead of the Values, else from ``.data`` (in sync, a Value written since is the truth
        until ``reload``).  Cheap when called again with the same list (a recorder's read path)."""
        b = self._binding
        key = self._read_cache
        if key is None or key[0] is not params or key[1] is not b or key[2] is not self._delta_pos:
            at = {id(p): (i if self._delta_pos is None else int(self._delta_pos[i])) for i, p in enumerate(self.params)}
            d_idx = np.array([at.get(id(p), -1) for p in params], dtype=np.intp)
            w_idx = None
            if b is not None and all(id(p) in b.position for p in params):
                w_idx = np.array([b.position[id(p)] for p in params], dtype=np.intp)
            key = self._read_cache = (params, b, self._delta_pos, d_idx, w_idx)
        d_idx, w_idx = key[3], key[4]
        if w_idx is not None and b is not None and not b.in_sync:  # the arrays are ahead of the Values
            weights = b.values[w_idx]
        else:
            weights = np.fromiter([p.data for p in params], np.float64, len(params))
        vec = self._delta_vec
        if vec is None or vec.size == 0:
            return weights, np.zeros(len(params))
        deltas = np.where(d_idx >= 0, vec[np.maximum(d_idx, 0)], 0.0) if d_idx.size else np.zeros(0)
        return weights, deltas

    def unbind(self) -> None:
        """Sync the Values and the state, and work on the Values again."""
        b = self._binding
        if b is None:
            return
        b.sync()
        self._group_state = b.group_states()
        b.active = False
        self._binding = self._means_cache = None  # the last Δw vector stays: no later step writes it

    def _states(self) -> list[dict[str, Any]]:
        """The per-group state in group order, read from the arrays when bound."""
        return self._binding.group_states() if self._binding is not None else self._group_state

    # ---- serialization ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-ready, torch's shape: ``{"state": {index: {"step", name: float}}, "param_groups":
        [{option: value, "params": [index, ...]}]}`` plus ``"optimizer"`` (the class name)."""
        groups = []
        state: dict[int, dict[str, float]] = {}
        offset = 0
        for group, st in zip(self.param_groups, self._states()):
            n = len(group["params"])
            options = {k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items() if k != "params"}
            groups.append({**options, "params": list(range(offset, offset + n))})
            for j in range(n if st else 0):
                entry = {k: float(st[k][j]) for k in self.state_names if k in st}
                state[offset + j] = {"step": st["step"], **entry}
            offset += n
        return {"optimizer": type(self).__name__, "state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what ``state_dict()`` returned (int or str indices, e.g. after JSON).

        Checks everything (options, sizes, numbers) before changing anything."""
        options, group_state = load_groups(self, state_dict)
        for group, opts in zip(self.param_groups, options):
            for key in [k for k in group if k != "params" and k not in opts]:
                dict.__delitem__(group, key)  # e.g. an initial_lr the saved groups do not have
            dict.update(group, opts)
        self._group_state = group_state
        if self._binding is not None:
            self._binding.load_state(group_state)

    def __repr__(self) -> str:
        n = len(self.params)
        groups = [", ".join(f"{k}={v!r}" for k, v in g.items() if k != "params") for g in self.param_groups]
        if len(groups) == 1:
            return f"{type(self).__name__}({n} parameters, {groups[0]})"
        return f"{type(self).__name__}({n} parameters in {len(groups)} groups: " + "; ".join(groups) + ")"


def _first_bad(x: np.ndarray) -> tuple[int, float] | None:
    """The first non-finite entry of ``x`` and its value, or None."""
    bad = ~np.isfinite(x)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    return i, float(x[i])


def _as_groups(where: str, params: Any) -> list[Any]:
    """The constructor's ``params`` as a list of group dicts: a model, a list of Values or a list of dicts."""
    if callable(getattr(params, "parameters", None)):
        return [{"params": params.parameters()}]
    if isinstance(params, Mapping):
        raise checks.InputTypeError(
            f"{where}: parameter groups must be given as a list of dicts, e.g. [{{'params': ...}}]; got one dict"
        )
    if isinstance(params, (Value, str, bytes)) or not isinstance(params, Iterable):
        return [{"params": checks.parameter_list(where, params)}]  # raises its clear error
    items = list(params)
    dicts = [isinstance(x, Mapping) for x in items]
    if items and all(dicts):
        return items
    if any(dicts):
        raise checks.InputTypeError(f"{where}: params must be all Values or all parameter-group dicts, not a mix")
    return [{"params": items}]
