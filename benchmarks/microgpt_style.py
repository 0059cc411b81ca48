"""The baseline of ``bench_gpt``: a microgpt-style scalar engine and microgpt's model, written plainly.

The engine is what microgpt-style scripts use: a slotted ``Value`` that stores its operands and
its local gradients, binary ops only (``-``, ``/`` and ``**`` built from ``+``, ``*`` and a
power), ``backward()`` over an iterative topological sort.  The model code (``MicroGPT``) sums
rows with Python's ``sum`` (which starts from the int 0), softmaxes by hand and is trained by a
hand-written Adam (``HandAdam``).  It takes the Value class as a parameter, so the very same
code runs on deltaw's ``autograd.Value`` (the "drop-in" row of the benchmark).

The forward is nn.GPT's (x = rmsnorm(wte[t] + wpe[p]); x += wo(attn(rmsnorm x));
x += fc2(relu(fc1(rmsnorm x))); logits = lm_head(x)), from weights in torch's names
(``GPT.to_torch_state_dict()``), so both start from the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


class Value:
    """A scalar with its operands and the local derivative of itself with respect to each."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data: float, children: tuple = (), local_grads: tuple = ()) -> None:
        self.data = data
        self.grad = 0.0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k: float) -> Value:
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

    def log(self) -> Value:
        return Value(math.log(self.data), (self,), (1.0 / self.data,))

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def relu(self) -> Value:
        return Value(max(0.0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self) -> Value:
        return self * -1.0

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __sub__(self, other: Any) -> Value:
        return self + (-other)

    def __rsub__(self, other: Any) -> Value:
        return other + (-self)

    def __rmul__(self, other: Any) -> Value:
        return self * other

    def __truediv__(self, other: Any) -> Value:
        return self * other**-1

    def __rtruediv__(self, other: Any) -> Value:
        return other * self**-1

    def backward(self) -> None:
        """Gradients of this value with respect to every node below it (an iterative DFS post-order)."""
        topo: list[Value] = []
        visited: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                topo.append(v)
                continue
            if id(v) in visited:
                continue
            visited.add(id(v))
            stack.append((v, True))
            for child in v._children:
                if id(child) not in visited:
                    stack.append((child, False))
        self.grad = 1.0
        for v in reversed(topo):
            for child, local in zip(v._children, v._local_grads):
                child.grad += local * v.grad


class MicroGPT:
    """microgpt's model on ``value_cls`` scalars, from a torch-named state dict (nested lists of floats)."""

    def __init__(self, state: Mapping[str, Any], n_head: int, value_cls: type = Value) -> None:
        self.n_head = n_head
        self.sd = {name: [[value_cls(float(w)) for w in row] for row in rows] for name, rows in state.items()}
        self.n_layer = sum(1 for name in state if name.endswith("attn.wq.weight"))
        self.n_embd = len(self.sd["wte.weight"][0])
        self.bos = len(self.sd["wte.weight"]) - 1
        self.block_size = len(self.sd["wpe.weight"])

    def parameters(self) -> list[Any]:
        return [p for rows in self.sd.values() for row in rows for p in row]

    def forward(self, token: int, pos: int, keys: list[list[Any]], values: list[list[Any]]) -> list[Any]:
        """The logits after ``token`` at ``pos``, appending this position's keys and values per layer."""
        sd, hd = self.sd, self.n_embd // self.n_head
        x = rmsnorm([t + p for t, p in zip(sd["wte.weight"][token], sd["wpe.weight"][pos])])
        for i in range(self.n_layer):
            pre = f"blocks.{i}."
            residual = x
            x = rmsnorm(x)
            q = linear(x, sd[pre + "attn.wq.weight"])
            keys[i].append(linear(x, sd[pre + "attn.wk.weight"]))
            values[i].append(linear(x, sd[pre + "attn.wv.weight"]))
            x_attn: list[Any] = []
            for h in range(self.n_head):
                s = h * hd
                q_h = q[s : s + hd]
                k_h = [k[s : s + hd] for k in keys[i]]
                v_h = [v[s : s + hd] for v in values[i]]
                logits = [sum(q_h[j] * k_t[j] for j in range(hd)) / hd**0.5 for k_t in k_h]
                weights = softmax(logits)
                x_attn.extend(sum(weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(hd))
            x = [a + b for a, b in zip(linear(x_attn, sd[pre + "attn.wo.weight"]), residual)]
            residual = x
            hidden = [h.relu() for h in linear(rmsnorm(x), sd[pre + "mlp.fc1.weight"])]
            x = [a + b for a, b in zip(linear(hidden, sd[pre + "mlp.fc2.weight"]), residual)]
        return linear(x, sd["lm_head.weight"])

    def loss(self, tokens: Sequence[int]) -> Any:
        """Mean next-token cross-entropy (−log softmax) over a ``[BOS, ..., BOS]`` document."""
        n = min(self.block_size, len(tokens) - 1)
        keys: list[list[Any]] = [[] for _ in range(self.n_layer)]
        values: list[list[Any]] = [[] for _ in range(self.n_layer)]
        losses = []
        for pos in range(n):
            probs = softmax(self.forward(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log())
        return (1 / n) * sum(losses)


def linear(x: list[Any], w: list[list[Any]]) -> list[Any]:
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(logits: list[Any]) -> list[Any]:
    top = max(v.data for v in logits)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x: list[Any]) -> list[Any]:
    scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
    return [xi * scale for xi in x]


class HandAdam:
    """microgpt's Adam loop on floats, with the learning rate decaying linearly to 0 over ``steps``."""

    def __init__(self, params: list[Any], steps: int, lr: float = 0.01, betas=(0.85, 0.99), eps: float = 1e-8):
        self.params, self.steps, self.lr, self.eps = params, steps, lr, eps
        self.b1, self.b2 = betas
        self.m = [0.0] * len(params)
        self.v = [0.0] * len(params)
        self.t = 0

    def step(self) -> None:
        """One update of every parameter from its ``grad``, which it then resets to 0."""
        b1, b2, m, v, t = self.b1, self.b2, self.m, self.v, self.t
        lr_t = self.lr * (1 - t / self.steps)
        for i, p in enumerate(self.params):
            m[i] = b1 * m[i] + (1 - b1) * p.grad
            v[i] = b2 * v[i] + (1 - b2) * p.grad**2
            m_hat = m[i] / (1 - b1 ** (t + 1))
            v_hat = v[i] / (1 - b2 ** (t + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + self.eps)
            p.grad = 0.0
        self.t = t + 1


def train_step(model: MicroGPT, opt: HandAdam, tokens: Sequence[int]) -> float:
    """Forward over one document, backward, one Adam update; the loss before the update."""
    loss = model.loss(tokens)
    loss.backward()
    opt.step()
    return loss.data
