"""A character-level GPT on scalar Values: ``Embedding``, ``RMSNorm``, ``Linear`` (no bias),
``CausalSelfAttention`` with a key/value cache, ``MLPBlock``, ``Block`` and ``GPT``.

The forward is microgpt's, exactly, so numbers can be compared with other implementations::

    x = rmsnorm(wte[token] + wpe[pos])
    per block:  x = x + wo(attention(rmsnorm(x)))
                x = x + fc2(relu(fc1(rmsnorm(x))))
    logits = lm_head(x)

rmsnorm(x) = x · (mean(x²) + 1e-5)^−½ (no gain); attention is causal and multi-head, each
head's scores q·k/√head_dim softmaxed over the positions seen so far.  A sequence is fed one
position at a time (``GPT.step``); each layer's keys and values are kept in a ``KVCache``, so
position t attends to the t + 1 cached keys instead of recomputing them.

Weights are ``[out][in]`` lists of Values (torch's layout), drawn from N(0, init_std²) with
``random.Random(seed).gauss`` in microgpt's order (wte, wpe, lm_head, then per layer wq, wk,
wv, wo, fc1, fc2, each row by row).  Parameter names are torch's plus the indices
(``blocks.0.attn.wq.weight.3.1``); ``to_torch_state_dict()`` gives torch's names
(``blocks.0.attn.wq.weight``: a nested list) and ``load_state_dict`` accepts either form.

Every W·x is one ``matvec`` (a ``dot`` node per row), every q·k one ``dot``, the attention's
weighted sum of values one ``matvec``, and softmax and cross-entropy are nn's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import countOf
from typing import Any

from autograd import Value, dot, matvec, no_grad

from . import checks
from .activations import softmax
from .losses import cross_entropy
from .module import Module

__all__ = ["Embedding", "RMSNorm", "Linear", "KVCache", "CausalSelfAttention", "MLPBlock", "Block", "GPT"]

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


class GPT(_TorchNamed):
    """A GPT over ``vocab_size`` tokens, the last of which is BOS (``CharTokenizer``'s convention).

    ``model(tokens)`` gives one list of logits per position (each sees only the positions up to
    it); ``model.loss(tokens)`` the mean next-token cross-entropy of a ``[BOS, ..., BOS]``
    document; ``model.generate()`` samples a document.  See the module's doc for the forward."""

    def __init__(
        self,
        vocab_size: int,
        n_embd: int = 16,
        n_head: int = 4,
        n_layer: int = 1,
        block_size: int = 16,
        init_std: float = 0.08,
        seed: Any = 0,
    ) -> None:
        self.vocab_size = checks.integer("GPT", "vocab_size", vocab_size, low=2, hint="the characters plus BOS")
        self.n_embd = checks.integer("GPT", "n_embd", n_embd, low=1)
        self.n_head = checks.integer("GPT", "n_head", n_head, low=1)
        self.n_layer = checks.integer("GPT", "n_layer", n_layer, low=0)
        self.block_size = checks.integer("GPT", "block_size", block_size, low=1, hint="the longest sequence it reads")
        self.init_std = checks.number("GPT", "init_std", init_std, low=0.0)
        if n_embd % n_head:
            raise ValueError(
                f"GPT: n_embd ({n_embd}) must be a multiple of n_head ({n_head}); each head takes n_embd // n_head "
                f"features (e.g. n_embd={n_head * max(1, round(n_embd / n_head))})"
            )
        rng = checks.random_source("GPT", seed)
        std = self.init_std
        wte = Embedding(vocab_size, n_embd, std, rng)  # microgpt's draw order: wte, wpe, lm_head, blocks
        wpe = Embedding(block_size, n_embd, std, rng)
        lm_head = Linear(n_embd, vocab_size, std, rng)
        blocks = [Block(n_embd, n_head, std, rng) for _ in range(n_layer)]
        self.wte, self.wpe, self.blocks, self.lm_head = wte, wpe, blocks, lm_head  # torch's order of names
        self.norm = RMSNorm(n_embd)

    @property
    def bos(self) -> int:
        """The BOS token's id: the last one, ``vocab_size - 1``."""
        return self.vocab_size - 1

    def new_cache(self) -> KVCache:
        """An empty key/value cache for feeding a sequence one token at a time with ``step``."""
        return KVCache(self.n_layer)

    def step(self, token: int, cache: KVCache) -> Vector:
        """The logits after ``token`` at the next position (``len(cache)``), which it adds to ``cache``."""
        return self._step(token, cache, None)

    def _step(self, token: int, cache: KVCache, records: list[list[list[Vector]]] | None) -> Vector:
        if not isinstance(cache, KVCache) or len(cache.keys) != self.n_layer:
            raise checks.InputTypeError(f"GPT.step: cache must be model.new_cache(), got {checks.short_repr(cache)}")
        pos = cache.length
        if pos >= self.block_size:
            raise ValueError(
                f"GPT.step: the cache already holds block_size={self.block_size} positions; the model reads "
                "no longer sequences (start a new cache, or build the model with a larger block_size)"
            )
        x = self.norm([t + p for t, p in zip(self.wte(self._token("GPT.step", "token", token)), self.wpe(pos))])
        for i, (block, keys, values) in enumerate(zip(self.blocks, cache.keys, cache.values)):
            x = block(x, keys, values, None if records is None else records[i])
        cache.length = pos + 1
        return self.lm_head(x)

    def __call__(self, tokens: Sequence[int]) -> list[Vector]:
        """One list of ``vocab_size`` logits per position of ``tokens`` (at most ``block_size`` of them)."""
        toks = self._sequence("GPT", tokens)
        cache = self.new_cache()
        return [self._step(t, cache, None) for t in toks]

    def attention_weights(self, tokens: Sequence[int]) -> list[list[list[list[float]]]]:
        """``[layer][head][t][s]``: how much position t attends to position s <= t (each row sums to 1),
        as floats, for pictures of what each head looks at.  No graph is built."""
        toks = self._sequence("GPT.attention_weights", tokens)
        records: list[list[list[Vector]]] = [[] for _ in self.blocks]  # [layer][t][head] -> weights
        cache = self.new_cache()
        with no_grad():
            for t in toks:
                self._step(t, cache, records)
        return [[[[w.data for w in per_t[h]] for per_t in layer] for h in range(self.n_head)] for layer in records]

    def loss(self, tokens: Sequence[int]) -> Value:
        """Mean cross-entropy of predicting tokens[t + 1] from tokens[..t], t = 0..n−1, n = min(block_size,
        len(tokens) − 1), for a document ``[BOS, ..., BOS]`` (``CharTokenizer.document``)."""
        toks = self._tokens("GPT.loss", tokens)
        bos = self.bos
        if len(toks) < 2 or toks[0] != bos or toks[-1] != bos:
            raise ValueError(
                f"GPT.loss: tokens must start and end with BOS ({bos}) and hold at least 2 tokens, got "
                f"{checks.short_repr(toks)}; pass tokenizer.document(text), not tokenizer.encode(text)"
            )
        n = min(self.block_size, len(toks) - 1)
        return cross_entropy(self(toks[:n]), toks[1 : n + 1])

    def generate(self, temperature: float = 0.5, seed: Any = None) -> list[int]:
        """Token ids sampled from BOS until the model emits BOS or ``block_size`` tokens (BOS not
        included).  Logits are divided by ``temperature`` (lower: surer); ``seed`` is an int,
        a ``random.Random`` or None (Python's global ``random``, as microgpt draws)."""
        t = checks.number("GPT.generate", "temperature", temperature, low=0.0, low_open=True, hint="try 0.5")
        rng = checks.random_source("GPT.generate", seed)
        ids = range(self.vocab_size)
        token, out = self.bos, []
        cache = self.new_cache()
        with no_grad():
            for _ in range(self.block_size):
                scaled = [z.data / t for z in self.step(token, cache)]
                top = max(scaled)
                if not math.isfinite(top) or not math.isfinite(min(scaled)):
                    raise ValueError(
                        f"GPT.generate: temperature {t!r} is too small for logits up to "
                        f"{max(abs(z) for z in scaled) * t:g} (their quotient is beyond float64); use a larger one"
                    )
                exps = [math.exp(z - top) for z in scaled]
                total = sum(exps)
                token = rng.choices(ids, weights=[e / total for e in exps])[0]
                if token == self.bos:
                    break
                out.append(token)
        return out

    def _token(self, where: str, name: str, token: Any) -> int:
        if token.__class__ is int and 0 <= token < self.vocab_size:
            return int(token)
        return checks.integer(where, name, token, low=0, high=self.vocab_size - 1, hint="a token id")

    def _sequence(self, where: str, tokens: Any) -> list[int]:
        """``_tokens``, and at most ``block_size`` of them."""
        toks = self._tokens(where, tokens)
        if len(toks) > self.block_size:
            raise ValueError(
                f"{where}: got {len(toks)} tokens but block_size is {self.block_size}; "
                f"pass at most {self.block_size} (or build the model with a larger block_size)"
            )
        return toks

    def _tokens(self, where: str, tokens: Any) -> list[int]:
        """``tokens`` as a non-empty list of ids in 0..vocab_size−1, or an error naming the first bad one."""
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence):
            raise checks.InputTypeError(
                f"{where}: tokens must be a list of token ids, got {type(tokens).__name__} "
                f"{checks.short_repr(tokens)}; encode text with a CharTokenizer first"
            )
        if not tokens:
            raise ValueError(f"{where}: tokens is empty; pass at least one token id")
        return [self._token(where, f"tokens[{i}]", tok) for i, tok in enumerate(tokens)]

    def __repr__(self) -> str:
        return (
            f"GPT(vocab_size={self.vocab_size}, n_embd={self.n_embd}, n_head={self.n_head}, "
            f"n_layer={self.n_layer}, block_size={self.block_size})"
        )
