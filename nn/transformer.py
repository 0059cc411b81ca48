"""The parts of a transformer on scalar Values, in torch's layouts: ``Embedding``, ``RMSNorm``,
``Linear`` (no bias), ``CausalSelfAttention`` with a key/value cache (``KVCache``), ``MLPBlock``
and ``Block``.  ``nn.gpt.GPT`` puts them together.

Weights are ``[out][in]`` lists of Values (torch's layout), drawn from N(0, init_std²) with
``seed`` (an int, a ``random.Random`` shared by several parts, or None for Python's global
``random``).  Parameter names are torch's plus the indices (``attn.wq.weight.3.1``);
``to_torch_state_dict()`` gives torch's names and nested lists (``attn.wq.weight``), and
``load_state_dict`` accepts either form (a numpy array or torch tensor per name too).

Attention runs one position at a time: ``attn(x, keys, values)`` appends the position's key
and value to one layer's cache, so position t attends to the t + 1 cached keys instead of
recomputing them.  Every W·x is one ``matvec`` (a ``dot`` node per row), every q·k one ``dot``,
each head's weighted sum of values one ``matvec``; softmax is nn's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import countOf
from typing import Any

from autograd import Value, dot, matvec

from . import checks
from .activations import softmax
from .module import Module

__all__ = ["Embedding", "RMSNorm", "Linear", "KVCache", "CausalSelfAttention", "MLPBlock", "Block"]

Vector = list[Value]
Matrix = list[list[Value]]


def _normal(rng: Any, rows: int, cols: int, std: float) -> Matrix:
    """rows × cols Values from N(0, std²), drawn row by row from ``rng`` (a random.Random or the module)."""
    gauss = rng.gauss
    return [[Value(gauss(0.0, std)) for _ in range(cols)] for _ in range(rows)]


def _shape(x: Any) -> tuple[int, ...]:
    return (len(x), *_shape(x[0])) if isinstance(x, list) and x else ((0,) if isinstance(x, list) else ())


def _flatten(name: str, x: Any, shape: tuple[int, ...], out: dict[str, Any], source: str) -> None:
    """``x`` (nested lists, a numpy array or a torch tensor of ``shape``) as ``{name.i.j: number}``."""
    if hasattr(x, "tolist") and not isinstance(x, Value):
        x = x.tolist()
    if not shape:
        out[name] = x
        return
    if not isinstance(x, (list, tuple)) or len(x) != shape[0]:
        got = f"{len(x)} entries" if isinstance(x, (list, tuple)) else type(x).__name__
        raise ValueError(
            f"{source}: {name!r} must have shape {list(shape)} (torch's layout), got {got} on that axis; "
            "was it saved from a model of another size?"
        )
    for i, item in enumerate(x):
        _flatten(f"{name}.{i}", item, shape[1:], out, source)


class _TorchNamed(Module):
    """A module whose ``load_state_dict`` takes torch's names (``to_torch_state_dict()``'s) too."""

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy ``state`` into the parameters: per-scalar names (``state_dict()``'s, e.g. ``wte.weight.0.3``)
        or torch's names and nested lists (``to_torch_state_dict()``'s, e.g. ``wte.weight``).
        Everything is checked before any parameter changes."""
        torch = self.to_torch_state_dict()
        if isinstance(state, Mapping) and state and all(k in torch for k in state):
            flat: dict[str, Any] = {}
            for key, value in state.items():
                _flatten(key, value, _shape(torch[key]), flat, "load_state_dict")
            state = flat
        super().load_state_dict(state, strict=strict)


def _vector(where: str, x: Any, n: int) -> Vector:
    """``x`` as a list of ``n`` Values (numbers wrapped once), or an error naming ``where``."""
    if x.__class__ is list and len(x) == n and countOf(map(type, x), Value) == n:  # the usual case, at C speed
        return x
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        raise checks.InputTypeError(
            f"{where}: the input must be a list of {n} Values or numbers, got {type(x).__name__}"
        )
    if len(x) != n:
        raise ValueError(f"{where}: the input has {len(x)} entries but must have {n}")
    out = []
    for i, v in enumerate(x):
        if not checks.is_scalar(v):
            raise checks.InputTypeError(f"{where}: input[{i}] must be a Value or a number, got {type(v).__name__}")
        out.append(v if isinstance(v, Value) else Value(checks.number(where, f"input[{i}]", v)))
    return out


class Embedding(_TorchNamed):
    """A table of ``num`` vectors of ``dim`` Values: ``emb(i)`` is row i (torch.nn.Embedding; ``weight`` [num, dim]).

    Weights come from N(0, init_std²) (torch's default std is 1) drawn with ``seed``."""

    def __init__(self, num: int, dim: int, init_std: float = 1.0, seed: Any = None) -> None:
        self.num = checks.integer("Embedding", "num", num, low=1)
        self.dim = checks.integer("Embedding", "dim", dim, low=1)
        std = checks.number("Embedding", "init_std", init_std, low=0.0)
        self.weight = _normal(checks.random_source("Embedding", seed), num, dim, std)

    def __call__(self, index: int) -> Vector:
        """Row ``index`` (the Values themselves, so gradients reach the table)."""
        if index.__class__ is not int or not 0 <= index < self.num:
            index = checks.integer("Embedding", "index", index, low=0, high=self.num - 1)
        return list(self.weight[index])

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``{"weight": [num][dim]}``: torch.nn.Embedding's layout."""
        return {"weight": [[w.data for w in row] for row in self.weight]}

    def __repr__(self) -> str:
        return f"Embedding({self.num}, {self.dim})"


class RMSNorm(_TorchNamed):
    """x · (mean(x²) + eps)^−½, times a learned ``weight`` per feature when ``gain=True`` (torch.nn.RMSNorm)."""

    def __init__(self, dim: int, eps: float = 1e-5, gain: bool = False) -> None:
        self.dim = checks.integer("RMSNorm", "dim", dim, low=1)
        self.eps = checks.number("RMSNorm", "eps", eps, low=0.0, low_open=True)
        self.gain = checks.flag("RMSNorm", "gain", gain)
        if self.gain:
            self.weight = [Value(1.0) for _ in range(dim)]

    def __call__(self, x: Sequence[Any]) -> Vector:
        xs = _vector("RMSNorm", x, self.dim)
        scale = (dot(xs, xs) * (1.0 / self.dim) + self.eps) ** -0.5
        if self.gain:
            return [xi * scale * g for xi, g in zip(xs, self.weight)]
        return [xi * scale for xi in xs]

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``{"weight": [dim]}`` with a gain, else ``{}`` (torch's ``elementwise_affine=False``)."""
        return {"weight": [w.data for w in self.weight]} if self.gain else {}

    def __repr__(self) -> str:
        return f"RMSNorm({self.dim}, eps={self.eps:g}, gain={self.gain})"


class Linear(_TorchNamed):
    """W·x with ``weight`` [nout][nin] and no bias (torch.nn.Linear(nin, nout, bias=False)): one dot node per row."""

    def __init__(self, nin: int, nout: int, init_std: float = 0.08, seed: Any = None) -> None:
        self.nin = checks.integer("Linear", "nin", nin, low=1)
        self.nout = checks.integer("Linear", "nout", nout, low=1)
        std = checks.number("Linear", "init_std", init_std, low=0.0)
        self.weight = _normal(checks.random_source("Linear", seed), nout, nin, std)

    def __call__(self, x: Sequence[Any]) -> Vector:
        xs = _vector("Linear", x, self.nin)
        return matvec(self.weight, xs)

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``{"weight": [nout][nin]}``: torch.nn.Linear's layout."""
        return {"weight": [[w.data for w in row] for row in self.weight]}

    def __repr__(self) -> str:
        return f"Linear({self.nin}, {self.nout}, bias=False)"


class KVCache:
    """Each layer's keys and values of the positions seen so far (``keys[layer][t]``: position t's key)."""

    def __init__(self, n_layer: int) -> None:
        self.keys: list[list[Vector]] = [[] for _ in range(n_layer)]
        self.values: list[list[Vector]] = [[] for _ in range(n_layer)]
        self.length = 0  # positions fed so far (GPT.step advances it)

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        return f"KVCache(layers={len(self.keys)}, positions={self.length})"


class CausalSelfAttention(_TorchNamed):
    """Multi-head causal self-attention for one position at a time: wq, wk, wv, wo (no biases).

    ``attn(x, keys, values)`` appends this position's key and value to ``keys``/``values``
    (one layer's cache), then each head attends over all of them: softmax(q·kₜ/√head_dim)
    weights the values; the heads' outputs, concatenated, go through ``wo``."""

    def __init__(self, n_embd: int, n_head: int, init_std: float = 0.08, seed: Any = None) -> None:
        self.n_embd = checks.integer("CausalSelfAttention", "n_embd", n_embd, low=1)
        self.n_head = checks.integer("CausalSelfAttention", "n_head", n_head, low=1)
        if n_embd % n_head:
            raise ValueError(
                f"CausalSelfAttention: n_embd ({n_embd}) must be a multiple of n_head ({n_head}); "
                "each head takes n_embd // n_head features"
            )
        rng = checks.random_source("CausalSelfAttention", seed)
        self.wq, self.wk, self.wv, self.wo = (Linear(n_embd, n_embd, init_std, rng) for _ in range(4))
        self.head_dim = n_embd // n_head

    def __call__(
        self, x: Sequence[Any], keys: list[Vector], values: list[Vector], record: list[list[Vector]] | None = None
    ) -> Vector:
        """This position's output; with ``record`` (a list), each head's attention weights are appended
        to it as one list per call: ``record[t][head]`` is position t's softmax over positions 0..t."""
        xs = _vector("CausalSelfAttention", x, self.n_embd)
        q = self.wq(xs)
        keys.append(self.wk(xs))
        values.append(self.wv(xs))
        hd = self.head_dim
        scale = 1.0 / math.sqrt(hd)
        out: Vector = []
        heads: list[Vector] = []
        for start in range(0, self.n_embd, hd):
            stop = start + hd
            q_h = q[start:stop]
            weights = softmax([dot(q_h, k[start:stop]) * scale for k in keys])
            heads.append(weights)
            columns = [[v[j] for v in values] for j in range(start, stop)]  # feature j of each position's value
            out.extend(matvec(columns, weights))
        if record is not None:
            record.append(heads)
        return self.wo(out)

    def __repr__(self) -> str:
        return f"CausalSelfAttention(n_embd={self.n_embd}, n_head={self.n_head})"


class MLPBlock(_TorchNamed):
    """fc2(relu(fc1(x))) with fc1 [4·n_embd][n_embd] and fc2 [n_embd][4·n_embd], no biases."""

    def __init__(self, n_embd: int, init_std: float = 0.08, seed: Any = None) -> None:
        self.n_embd = checks.integer("MLPBlock", "n_embd", n_embd, low=1)
        rng = checks.random_source("MLPBlock", seed)
        self.fc1 = Linear(n_embd, 4 * n_embd, init_std, rng)
        self.fc2 = Linear(4 * n_embd, n_embd, init_std, rng)

    def __call__(self, x: Sequence[Any]) -> Vector:
        return self.fc2([h.relu() for h in self.fc1(x)])

    def __repr__(self) -> str:
        return f"MLPBlock(n_embd={self.n_embd})"


class Block(_TorchNamed):
    """One transformer block, pre-norm with residuals: x + attn(rmsnorm(x)), then + mlp(rmsnorm(x))."""

    def __init__(self, n_embd: int, n_head: int, init_std: float = 0.08, seed: Any = None) -> None:
        rng = checks.random_source("Block", seed)
        self.attn = CausalSelfAttention(n_embd, n_head, init_std, rng)
        self.mlp = MLPBlock(n_embd, init_std, rng)
        self.norm_attn = RMSNorm(n_embd)
        self.norm_mlp = RMSNorm(n_embd)

    def __call__(
        self, x: Vector, keys: list[Vector], values: list[Vector], record: list[list[Vector]] | None = None
    ) -> Vector:
        x = [a + b for a, b in zip(x, self.attn(self.norm_attn(x), keys, values, record))]
        return [a + b for a, b in zip(x, self.mlp(self.norm_mlp(x)))]

    def __repr__(self) -> str:
        return f"Block(n_embd={self.attn.n_embd}, n_head={self.attn.n_head})"
