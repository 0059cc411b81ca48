"""``nn.GPT`` trained through ``autograd.compile``: one compiled graph per sequence length.

A document's graph depends on its tokens only through which embedding rows it reads and which
logit each position is scored on.  So each length n gets one graph whose inputs are the n
embedded rows (wte[token] + wpe[pos], as floats) and n one-hot target rows; the blocks and
lm_head are the model's own parameters.  ∂loss/∂inputs (``input_grads``) is added back to the
wte and wpe rows that were read.  The loss is log-sum-exp(logits) − logits·onehot per
position with the shift (the max logit) frozen at trace time: exact in exact arithmetic, and
equal to ``GPT.loss`` to rounding while the logits stay within ~700 of their traced max (the
replay raises, never returns inf, if they do not).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autograd import Value, dot, vsum
from autograd import compile as compile_graph
from nn import GPT


class CompiledGPTLoss:
    """``step(tokens)``: the mean next-token cross-entropy of a [BOS, ..., BOS] document, with
    gradients added to the model's ``.grad`` like ``gpt.loss(tokens).backward()``."""

    def __init__(self, gpt: GPT) -> None:
        self.gpt = gpt
        embeddings = {id(p) for table in (gpt.wte.weight, gpt.wpe.weight) for row in table for p in row}
        self.params = [p for p in gpt.parameters() if id(p) not in embeddings]
        self.graphs: dict[int, Any] = {}

    def prepare(self, lengths: Iterable[int]) -> None:
        """Compile the graphs of these sequence lengths now (each is compiled once, on first use)."""
        for n in lengths:
            if n not in self.graphs:
                self.graphs[n] = self._compile(n)

    def _compile(self, n: int) -> Any:
        gpt, dim, vocab = self.gpt, self.gpt.n_embd, self.gpt.vocab_size
        rows = [[Value(0.0) for _ in range(dim)] for _ in range(n)]
        targets = [[Value(0.0) for _ in range(vocab)] for _ in range(n)]
        cache = gpt.new_cache()
        terms = []
        for t in range(n):
            x = gpt.norm(rows[t])
            for block, keys, values in zip(gpt.blocks, cache.keys, cache.values):
                x = block(x, keys, values)
            cache.length += 1
            logits = gpt.lm_head(x)
            top = max(z.data for z in logits)
            terms.append(vsum([(z - top).exp() for z in logits]).log() + top - dot(targets[t], logits))
        loss = vsum(terms) * (1.0 / n)
        inputs = [v for row in rows for v in row] + [v for row in targets for v in row]
        return compile_graph(loss, inputs=inputs, parameters=self.params, input_grads=True)

    def __call__(self, tokens: list[int]) -> float:
        gpt, dim, vocab = self.gpt, self.gpt.n_embd, self.gpt.vocab_size
        n = min(gpt.block_size, len(tokens) - 1)
        self.prepare([n])
        wte, wpe = gpt.wte.weight, gpt.wpe.weight
        values = [a.data + b.data for t in range(n) for a, b in zip(wte[tokens[t]], wpe[t])]
        onehot = [0.0] * (n * vocab)
        for t in range(n):
            onehot[t * vocab + tokens[t + 1]] = 1.0
        graph = self.graphs[n]
        loss = graph(values + onehot)
        grads = graph.input_grad
        for t in range(n):
            for j, (a, b) in enumerate(zip(wte[tokens[t]], wpe[t])):
                g = float(grads[t * dim + j])
                a.grad += g
                b.grad += g
        return float(loss)
