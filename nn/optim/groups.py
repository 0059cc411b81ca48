"""Parameter groups (torch's ``param_groups``) whose options are checked whenever they change.

``opt.param_groups`` is a list of dicts, one per group: ``"params"`` (the
group's Values) and every option of the optimizer (``"lr"``, ``"momentum"``,
...).  Changing an option (``opt.param_groups[0]["lr"] = 0.01``) goes through
the optimizer's checks, so a bad value is refused at once and leaves the group
unchanged; a group's parameters and its set of options are fixed once made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .. import checks

__all__ = ["Check", "ParamGroup", "FixedList", "GroupList", "ParamList", "nonnegative", "fraction", "betas"]

#: an option's check: (where, name, value) -> the value in canonical form, or a clear error
Check = Callable[[str, str, Any], Any]


class _Owner(Protocol):
    def _checked_group(self, where: str, label: str, group: dict[str, Any], *, new: bool = False) -> dict[str, Any]: ...


def nonnegative(where: str, name: str, x: Any) -> float:
    """A finite number >= 0 (lr, momentum, weight_decay, eps, ...)."""
    return checks.number(where, name, x, low=0.0)


def fraction(where: str, name: str, x: Any) -> float:
    """A number in [0, 1] (RMSprop's smoothing constant alpha)."""
    return checks.number(where, name, x, low=0.0, high=1.0)


def betas(where: str, name: str, x: Any) -> tuple[float, float]:
    """A pair (β₁, β₂), each in [0, 1): β = 1 would divide by 1 − βᵗ = 0 in the bias correction."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__") or len(x) != 2:
        raise checks.InputTypeError(
            f"{where}: {name} must be a pair (beta1, beta2) such as (0.9, 0.999), got {checks.short_repr(x)}"
        )
    b1, b2 = x
    return (
        checks.number(where, f"{name}[0]", b1, low=0.0, high=1.0, high_open=True),
        checks.number(where, f"{name}[1]", b2, low=0.0, high=1.0, high_open=True),
    )


class ParamGroup(dict):  # type: ignore[type-arg]
    """One parameter group: a dict whose option changes are checked by its optimizer before they apply."""

    def __init__(self, owner: _Owner, where: str, index: int, items: dict[str, Any]) -> None:
        super().__init__(items)
        self._owner = owner
        self._where = where
        self._index = index

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Change several options at once: all are checked first, so either all apply or none."""
        changes = dict(*args, **kwargs)
        if "params" in changes:
            raise TypeError(
                f"{self._where}: a parameter group's params cannot be replaced; "
                "use add_param_group for new parameters or build a new optimizer"
            )
        merged = {k: v for k, v in self.items() if k != "params"}
        merged.update(changes)
        checked = self._owner._checked_group(self._where, f"param_groups[{self._index}]", merged)
        for key in changes:
            dict.__setitem__(self, key, checked[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, other: Any) -> ParamGroup:  # type: ignore[misc]
        self.update(other)
        return self

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{self._where}: options cannot be removed from a parameter group; set a new value instead")

    __delitem__ = pop = popitem = clear = _refuse

    def __reduce_ex__(self, protocol: Any) -> Any:
        # copy and pickle would refill the dict through the checked __setitem__: rebuild it directly
        return (_rebuild, (type(self), self.__dict__, dict(self)))


def _rebuild(cls: type[ParamGroup], attrs: dict[str, Any], items: dict[str, Any]) -> ParamGroup:
    group = cls.__new__(cls)
    dict.update(group, items)
    group.__dict__.update(attrs)
    return group


class FixedList(list):  # type: ignore[type-arg]
    """A list that cannot be changed in place (reading, iterating and comparing work as for a list)."""

    #: what to do instead, for the error message
    advice = "it cannot be changed in place"

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{type(self).__name__}: {self.advice}")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild_list, (type(self), list(self)))


def _rebuild_list(cls: type[FixedList], items: list[Any]) -> FixedList:
    fixed = cls()
    list.extend(fixed, items)
    return fixed


class GroupList(FixedList):
    """``opt.param_groups``: grows only through ``add_param_group`` (which checks the group)."""

    advice = (
        "param_groups cannot be changed as a list; use optimizer.add_param_group({'params': [...], ...}) "
        "to add a group, or change a group's options in place (param_groups[0]['lr'] = 0.01)"
    )


class ParamList(FixedList):
    """A group's ``"params"``: fixed once the group is made (its state has one entry per parameter)."""

    advice = "a group's params are fixed; use optimizer.add_param_group({'params': [...]}) for new parameters"
