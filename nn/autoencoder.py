"""``Autoencoder``: an encoder MLP squeezes each sample into a ``code`` of a few numbers, a decoder
MLP rebuilds the sample from it, and training minimises the reconstruction error.

Why: it is the unsupervised case of backprop — the targets are the inputs
themselves, so ``nn.fit(ae, X, X)`` trains it with no labels — and the code
it learns is a visible, low-dimensional summary of the data.
``make_latent`` makes a small data set with a known low-dimensional cause to
learn it from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value

from . import checks
from .init import Seed
from .layers import MLP
from .losses import mse_loss
from .module import Module

__all__ = ["Autoencoder", "make_latent"]


def _as_list(out: Any) -> list[Value]:
    return list(out) if isinstance(out, list) else [out]  # an MLP with one output returns a bare Value


class Autoencoder(Module):
    """``decoder(encoder(x))`` with ``encoder = MLP(nin, [*hidden, code])`` and
    ``decoder = MLP(code, [*reversed(hidden), nin])``.

    Hidden layers use ``activation``; the code and the reconstruction are linear
    (no squashing, so any real-valued data can be rebuilt).  ``init`` and ``seed``
    are passed to both MLPs (one random stream: the two get different weights)."""

    def __init__(
        self,
        nin: int,
        code: int,
        hidden: Sequence[int] = (8,),
        activation: Any = "tanh",
        init: Any = "xavier_uniform",
        seed: Seed = None,
    ) -> None:
        checks.integer("Autoencoder", "nin", nin, low=1)
        checks.integer("Autoencoder", "code", code, low=1)
        if isinstance(hidden, int):
            hidden = [hidden]
        hidden = [
            checks.integer("Autoencoder", f"hidden[{i}]", h, low=1, hint="e.g. hidden=[8]")
            for i, h in enumerate(hidden)
        ]
        rng = checks.random_source("Autoencoder", seed)
        self.encoder = MLP(nin, hidden + [code], activation=activation, init=init, seed=rng)
        self.decoder = MLP(code, hidden[::-1] + [nin], activation=activation, init=init, seed=rng)
        self.nin = nin
        self.code = code
        self.hidden = hidden

    def encode(self, x: Any) -> list[Value]:
        """The code of one sample: ``code`` Values."""
        return _as_list(self.encoder(x))

    def decode(self, z: Any) -> list[Value]:
        """The reconstruction of a code: ``nin`` Values."""
        return _as_list(self.decoder(z))

    def __call__(self, x: Any) -> list[Value]:
        return self.decode(self.encode(x))

    def reconstruction_loss(self, X: Any) -> Value:
        """Mean squared reconstruction error over every feature of every sample in ``X``."""
        rows = np.asarray(X, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.nin:
            raise ValueError(
                f"Autoencoder.reconstruction_loss: X must have shape (samples, {self.nin}), got {rows.shape}"
            )
        data = rows.tolist()
        return mse_loss([self(x) for x in data], data)

    def to_torch_state_dict(self) -> dict[str, Any]:
        """``encoder.i.weight``/``.bias`` and ``decoder.i.weight``/``.bias`` in ``torch.nn.Linear`` layout."""
        out: dict[str, Any] = {}
        for part in ("encoder", "decoder"):
            for k, v in getattr(self, part).to_torch_state_dict().items():
                out[f"{part}.{k}"] = v
        return out

    def __repr__(self) -> str:
        return f"Autoencoder(nin={self.nin}, code={self.code}, hidden={self.hidden})"


def make_latent(
    n_samples: int = 200, nin: int = 6, code: int = 2, noise: float = 0.02, seed: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """``nin``-dimensional data driven by ``code`` hidden causes: returns ``(X, Z)``.

    Z ~ U(−1, 1)^code; X = tanh(Z·A) + N(0, noise²) with a random mixing matrix
    A (code × nin), so X lies near a curved ``code``-dimensional surface: an
    autoencoder with a code of that size can rebuild it, a smaller code cannot."""
    for name, n in (("n_samples", n_samples), ("nin", nin), ("code", code)):
        checks.integer("make_latent", name, n, low=1)
    noise = checks.number("make_latent", "noise", noise, low=0.0, hint="it is a standard deviation")
    rng = checks.generator("make_latent", seed)
    Z = rng.uniform(-1.0, 1.0, size=(n_samples, code))
    A = rng.normal(0.0, 1.0, size=(code, nin))
    X = np.tanh(Z @ A) + rng.normal(0.0, noise, size=(n_samples, nin))
    return X, Z
