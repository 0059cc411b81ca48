"""The engines under comparison, each behind the same tiny interface: a Value class and an MLP."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any


def load(name: str) -> tuple[type, Callable[..., Any]]:
    """``(Value, make_mlp)`` for engine ``name``: make_mlp(nin, nouts, seed) -> (model, params)."""
    if name == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP

        def make_mlp(nin: int, nouts: list[int], seed: int):
            random.seed(seed)
            model = MLP(nin, nouts)
            return model, model.parameters()

        return Value, make_mlp
    if name in ("deltaw", "deltaw-dot"):
        from autograd import Value

        fused = name == "deltaw-dot"

        def make_mlp(nin: int, nouts: list[int], seed: int):
            model = _ValueMLP(Value, nin, nouts, seed, fused)
            return model, model.parameters()

        return Value, make_mlp
    if name in ("nn", "nn-unfused"):
        from autograd import Value
        from nn import MLP

        def make_mlp(nin: int, nouts: list[int], seed: int):
            random.seed(seed)  # nn's default init draws from Python's random, like micrograd
            model = MLP(nin, nouts, fused=name == "nn")
            return model, model.parameters()

        return Value, make_mlp
    raise SystemExit(f"unknown engine {name!r}; choose one of {ENGINES}")


ENGINES = ("micrograd", "deltaw", "deltaw-dot", "nn", "nn-unfused")


class _ValueMLP:
    """micrograd's MLP built from deltaw Values: the identical graph, or with one dot node per
    neuron (``autograd.matvec``, the engine's layer of dot nodes)."""

    def __init__(self, Value: type, nin: int, nouts: list[int], seed: int, fused: bool):
        rng = random.Random(seed)
        sizes = [nin] + nouts
        self.layers = []
        for i in range(len(nouts)):
            neurons = [([Value(rng.uniform(-1, 1)) for _ in range(sizes[i])], Value(0.0)) for _ in range(sizes[i + 1])]
            self.layers.append((neurons, i != len(nouts) - 1))
        self.fused = fused

    def __call__(self, x: list) -> Any:
        from autograd import matvec

        for neurons, nonlin in self.layers:
            if self.fused:  # one dot node per neuron, the layer's inputs read once
                outs = matvec([w for w, _ in neurons], x, [b for _, b in neurons])
            else:
                outs = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in neurons]
            x = [o.relu() for o in outs] if nonlin else outs
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list:
        return [p for neurons, _ in self.layers for w, b in neurons for p in w + [b]]


def allow_deep_recursion() -> None:
    """micrograd's backward is recursive: give it room for long chains."""
    sys.setrecursionlimit(10_000_000)
