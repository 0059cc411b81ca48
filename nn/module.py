"""``Module``: the base class that finds a model's parameters by walking its attributes.

The one rule: a parameter is any ``Value`` held in a public attribute (directly, or in
lists, tuples and dicts at any depth), a sub-module is any ``Module`` held the same way;
attributes whose names start with ``_`` are private and skipped.  Names are dotted
paths of attribute names, list indices and dict keys (``layers.1.neurons.3.w.0``),
like torch's.  When a module has been built (its class's ``__init__`` has returned),
every parameter under it carries its name as its ``label``, so graphs show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from operator import countOf
from typing import Any

from autograd import Value

__all__ = ["Module"]


class _NamesParameters(type):
    """Module's metaclass: once ``SomeModule(...)`` has built a module, its parameters are labelled."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        module = super().__call__(*args, **kwargs)
        module.label_parameters()
        return module


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


#: attribute types that never hold a parameter (sizes, names, flags), skipped at once by ``_gather``
_PLAIN = frozenset({int, float, str, bool, type(None)})


def _gather(obj: Any, out: list[Value]) -> None:
    """``_walk``'s parameters without their names, appended to ``out`` (the fast path of ``parameters``)."""
    if obj.__class__ in _PLAIN:
        return
    if isinstance(obj, Value):
        out.append(obj)
    elif isinstance(obj, Module):
        for name, item in vars(obj).items():
            if not name.startswith("_"):
                _gather(item, out)
    elif isinstance(obj, (list, tuple)):
        if countOf(map(type, obj), Value) == len(obj):  # a row of weights, checked at C speed
            out.extend(obj)
        else:
            for item in obj:
                _gather(item, out)
    elif isinstance(obj, dict):
        for item in obj.values():
            _gather(item, out)


class _OnBuiltModel:
    """A method that needs a built model: called on the class (``MLP.load(path)``), it says why."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.__doc__ = method.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> Callable[..., Any]:
        if obj is not None:
            bound: Callable[..., Any] = self.method.__get__(obj, owner)
            return bound
        method = self.method

        def on_class(*args: Any, **kwargs: Any) -> Any:
            if args and owner is not None and isinstance(args[0], owner):  # MLP.load(model, path)
                return method(*args, **kwargs)
            name = owner.__name__ if owner is not None else "Module"
            raise TypeError(
                f"{name}.load: a file holds the parameters, not the architecture (layer sizes, activations), "
                f"so it loads into a model you have built: model = {name}(...same arguments...); model.load(path)"
            )

        return on_class


class Module(metaclass=_NamesParameters):
    """Base of every layer and model: parameters, names, modes and state dicts."""

    training: bool = True

    # ---- walking the attributes ---------------------------------------------------
    def _members(self) -> Iterator[tuple[str, Any]]:
        """``(name, Value or Module)`` directly under this module, sub-modules not entered."""
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

    def _collect(self, prefix: str, out: list[tuple[str, Value]], seen: set[int]) -> None:
        for name, obj in self._members():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(obj, Module):
                obj._collect(full, out, seen)
            elif id(obj) not in seen:
                seen.add(id(obj))
                out.append((full, obj))

    def parameters(self) -> list[Value]:
        """Every parameter ``Value``, in the order of ``named_parameters()``, each once."""
        out: list[Value] = []
        _gather(self, out)
        return list(dict.fromkeys(out))  # a shared (tied) parameter counts once, at its first place

    def label_parameters(self) -> None:
        """Set every parameter's ``label`` to its dotted name (done when a module is built)."""
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

    def _load(self, path: str) -> Module:
        """Read parameters written by ``save`` (never unpickles) into this built model; returns self.

        A wrong, truncated or mismatched file raises ``ValueError`` naming the
        file, the parameter and the mismatch, and leaves the model untouched.
        ``MLP.load(path)`` on the class is a ``TypeError`` saying why: a file holds
        parameters, not the architecture (sizes, activations), so build the model first.
        """
        from .serialization import load

        load(self, path)
        return self

    load = _OnBuiltModel(_load)

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
