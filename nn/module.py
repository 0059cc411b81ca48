"""``Module``: the base class that finds a model's parameters by walking its attributes.

A parameter is any ``Value`` held in an attribute (directly, or in lists, tuples
and dicts at any depth), a sub-module is any ``Module`` held the same way; attributes whose
names start with ``_`` are private and skipped.  Names are dotted paths of
attribute names and list indices (``layers.1.neurons.3.w.0``), like torch's, and
every parameter carries its name as its ``label`` so graphs show it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from autograd import Value

__all__ = ["Module"]


def _label_after_init(init):
    """Wrap a subclass ``__init__`` so that parameters are (re)labelled once it returns."""

    @functools.wraps(init)
    def wrapped(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._relabel()

    wrapped._deltaw_labels = True  # type: ignore[attr-defined]
    return wrapped


def _walk(name: str, obj: Any) -> Iterator[tuple[str, Any]]:
    """The Values and Modules in ``obj``, inside lists, tuples and dicts at any depth
    (a weight matrix as a list of rows gives names such as ``weight_ih.2.0``)."""
    if isinstance(obj, (Value, Module)):
        yield name, obj
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _walk(f"{name}.{i}", item)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _walk(f"{name}.{key}", item)


class Module:
    """Base of every layer and model: parameters, names, modes and state dicts."""

    training: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_deltaw_labels", False):
            cls.__init__ = _label_after_init(init)  # type: ignore[method-assign]

    # ---- walking the attributes ---------------------------------------------------
    def _members(self) -> Iterator[tuple[str, Any]]:
        for name, obj in vars(self).items():
            if not name.startswith("_"):
                yield from _walk(name, obj)

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every sub-module under it, depth first."""
        yield prefix, self
        for name, obj in self._members():
            if isinstance(obj, Module):
                yield from obj.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Value]]:
        """``(dotted name, Value)`` for every parameter, in definition order, each once."""
        out: list[tuple[str, Value]] = []
        seen: set[int] = set()
        self._collect(prefix, out, seen)
        return out

    def _collect(self, prefix: str, out: list, seen: set) -> None:
        for name, obj in self._members():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(obj, Module):
                obj._collect(full, out, seen)
            elif id(obj) not in seen:
                seen.add(id(obj))
                out.append((full, obj))

    def parameters(self) -> list[Value]:
        """Every parameter ``Value``, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def _relabel(self) -> None:
        for name, p in self.named_parameters():
            p.label = name

    # ---- gradients and modes ------------------------------------------------------
    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (micrograd's and torch's ``zero_grad``)."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) for this module and all sub-modules; returns self."""
        for _, m in self.named_modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off); the same as ``train(False)``."""
        return self.train(False)

    def num_parameters(self) -> int:
        """How many scalar parameters the model has."""
        return len(self.named_parameters())

    # ---- state --------------------------------------------------------------------
    def state_dict(self) -> dict[str, float]:
        """``{dotted name: float}`` for every parameter: a plain, JSON-ready snapshot."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy ``state``'s numbers into the parameters of the same name.

        Every entry is checked before any parameter changes, so on a ``ValueError``
        (missing or unexpected names, a value that is not a finite real number)
        the model is untouched.  ``strict=False`` skips missing and unexpected names.
        """
        from .serialization import check_state

        values = check_state(self, state, strict=strict, source="load_state_dict")
        for p, x in values:
            p.data = x

    def save(self, path: str) -> None:
        """Write the parameters to ``path``: JSON, or numpy ``.npz`` when the name ends in ``.npz``."""
        from .serialization import save

        save(self, path)

    def load(self, path: str) -> Module:
        """Read parameters written by ``save`` (never unpickles); returns self.

        A wrong, truncated or mismatched file raises ``ValueError`` naming the
        file, the parameter and the mismatch, and leaves the model untouched.
        """
        from .serialization import load

        load(self, path)
        return self

    def to_torch_state_dict(self) -> dict[str, Any]:
        """Weights in torch layouts (nested lists), for moving a model to PyTorch.

        Layers, MLPs and cells define their own (``Linear``: ``weight`` [out, in],
        ``bias``); this default gathers the sub-modules' dicts under their
        attribute names, like torch's dotted keys."""
        out: dict[str, Any] = {}
        for name, obj in self._members():
            if isinstance(obj, Module):
                for key, value in obj.to_torch_state_dict().items():
                    out[f"{name}.{key}"] = value
            else:
                out[name] = obj.data
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
