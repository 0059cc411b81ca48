"""A character-level GPT on scalar Values (microgpt's model), built from ``nn.transformer``'s parts.

The forward is microgpt's, exactly, so numbers can be compared with other implementations::

    x = rmsnorm(wte[token] + wpe[pos])
    per block:  x = x + wo(attention(rmsnorm(x)))
                x = x + fc2(relu(fc1(rmsnorm(x))))
    logits = lm_head(x)

rmsnorm(x) = x · (mean(x²) + 1e-5)^−½ (no gain); attention is causal and multi-head, each
head's scores q·k/√head_dim softmaxed over the positions seen so far.  A sequence is fed one
position at a time (``GPT.step``) with each layer's keys and values kept in a ``KVCache``.

Weights are drawn from N(0, init_std²) with ``random.Random(seed).gauss`` in microgpt's order
(wte, wpe, lm_head, then per layer wq, wk, wv, wo, fc1, fc2, each row by row), so a
microgpt-style script seeded the same way starts from the same numbers.  Names:
``wte.weight``, ``wpe.weight``, ``blocks.{i}.attn.wq.weight`` (wk, wv, wo),
``blocks.{i}.mlp.fc1.weight``, ``blocks.{i}.mlp.fc2.weight``, ``lm_head.weight``
(``to_torch_state_dict()``; ``state_dict()`` adds the indices).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from autograd import Value, no_grad

from . import checks
from .losses import cross_entropy
from .transformer import Block, Embedding, KVCache, Linear, RMSNorm, Vector, _TorchNamed

__all__ = ["GPT"]


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
