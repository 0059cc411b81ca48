"""Where the Δw shown in a picture comes from: an optimizer's record or −lr·grad.

``draw_graph``, ``draw_network`` and ``explain`` all show "the weight update";
this module decides, once, which update that is and which leaves count as
parameters, so the three agree and their legends say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from autograd import Value


@dataclass
class DeltaSource:
    """The Δw of each parameter and a sentence saying what Δw means here."""

    kind: str  # "optimizer", "lr" or "none"
    description: str  # for legends and titles
    params: list[Value] = field(default_factory=list)  # parameters in a stable order
    _ids: set[Value] = field(default_factory=set)
    _deltas: dict[Value, float] = field(default_factory=dict)
    lr: float | None = None

    def is_param(self, v: Value) -> bool:
        """True when ``v`` is one of the parameters this source knows."""
        return v in self._ids

    def delta(self, v: Value) -> float | None:
        """Δw of parameter ``v`` (``None`` when there is none to show)."""
        if self.kind == "optimizer":
            d = self._deltas.get(v)
            return None if d is None else float(d)
        if self.kind == "lr" and self.lr is not None and v in self._ids:
            return -self.lr * v.grad
        return None


def _optimizer_params(optimizer: Any) -> list[Value]:
    """The parameters an optimizer updates, in its own order, from its public attributes."""
    found: list[Any] = []
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        for g in groups:
            ps = g.get("params", ()) if isinstance(g, dict) else getattr(g, "params", ())
            found.extend(ps)
    if not found:
        ps = getattr(optimizer, "params", None)
        if ps is None:
            ps = getattr(optimizer, "parameters", None)
            ps = ps() if callable(ps) else ps
        if ps is not None:
            found.extend(ps)
    return [p for p in found if isinstance(p, Value)]


def resolve(
    optimizer: Any = None, lr: float | None = None, params: Iterable[Value] | None = None, leaves: Iterable[Value] = ()
) -> DeltaSource:
    """Decide what Δw means for a drawing.

    - ``optimizer``: Δw is ``optimizer.deltas[p]``, the update its last
      ``step()`` applied; its parameters are the ones it updates.
    - ``lr``: Δw is the proposed plain gradient-descent step ``−lr·grad`` on
      ``params`` (or, without them, on every leaf that has a label).
    - neither: no Δw; parameters are ``params`` or the labelled leaves.
    """
    if optimizer is not None and lr is not None:
        raise ValueError("give optimizer= (Δw it applied) or lr= (Δw = −lr·grad), not both")
    if optimizer is not None:
        deltas = getattr(optimizer, "deltas", None)
        if not isinstance(deltas, dict):
            raise TypeError(
                f"optimizer: {type(optimizer).__name__} has no .deltas dict mapping parameters to Δw; "
                "use an nn.optim optimizer, or pass lr= to show −lr·grad instead"
            )
        plist = _optimizer_params(optimizer)
        seen = set(plist)
        plist += [p for p in deltas if p not in seen and isinstance(p, Value)]
        name = type(optimizer).__name__
        if deltas:
            desc = f"Δw = the update {name}.step() applied (optimizer.deltas)"
        else:
            desc = f"Δw: {name} has not stepped yet (optimizer.deltas is empty)"
        return DeltaSource("optimizer", desc, plist, set(plist), dict(deltas), getattr(optimizer, "lr", None))
    if lr is not None:
        if not isinstance(lr, Real) or isinstance(lr, bool) or not lr > 0:
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        lr = float(lr)
        if params is not None:
            plist = list(params)
            who = "the given params"
        else:
            plist = [v for v in leaves if v.label]
            who = "every labelled leaf"
        return DeltaSource("lr", f"Δw = −lr·grad with lr={lr:g} (proposed step on {who})", plist, set(plist), {}, lr)
    plist = list(params) if params is not None else [v for v in leaves if v.label]
    return DeltaSource("none", "no Δw (pass optimizer= or lr=)", plist, set(plist), {}, None)
