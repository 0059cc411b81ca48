"""Neural networks built from autograd Values: modules, layers, losses, optimizers that record
every Δw, schedulers, data and a training loop; recurrent cells, gradient-free optimizers
(``nn.evolve``: ``GeneticAlgorithm``, ``ParticleSwarm`` and their loop ``nn.evolve.evolve``) and
autoencoders.  ``fit`` and ``evolve`` share one loop (``nn.loop``), argument checks live in
``nn.checks``, and a model's parameters are found one way: ``Module``'s attribute walk.

The parts built on numpy (optimizers, schedulers, data, ``fit``, ``evolve``, ``Autoencoder``)
load on first use: a script that only builds and trains a model by hand, as micrograd's demo
does, never imports numpy (that keeps start-up short and leaves Python's cycle collector
fewer objects to rescan during every step).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import init, rnn
from .activations import ACTIVATIONS, log_softmax, softmax
from .layers import MLP, Dropout, Layer, Neuron, Sequential
from .losses import bce_loss, bce_with_logits, cross_entropy, hinge_loss, l1_penalty, l2_penalty, mse_loss
from .module import Module
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .utils import clip_grad_norm

#: Public names loaded on first use, and the submodule each comes from.
_LAZY: dict[str, str] = {
    "optim": "optim",
    "Optimizer": "optim",
    "SGD": "optim",
    "Adagrad": "optim",
    "RMSprop": "optim",
    "Adam": "optim",
    "AdamW": "optim",
    "LRScheduler": "schedulers",
    "StepLR": "schedulers",
    "ExponentialLR": "schedulers",
    "LinearLR": "schedulers",
    "CosineAnnealingLR": "schedulers",
    "make_moons": "data",
    "make_circles": "data",
    "make_xor": "data",
    "make_spiral": "data",
    "make_linear": "data",
    "make_sine_windows": "data",
    "batches": "data",
    "stream_batches": "data",
    "fit": "training",
    "History": "loop",
    "StepInfo": "loop",
    "StopTraining": "loop",
    "TrainingDiverged": "training",
    "layer_groups": "loop",
    "evolve": "evolve",
    "GeneticAlgorithm": "evolve",
    "ParticleSwarm": "evolve",
    "Autoencoder": "autoencoder",
    "make_latent": "autoencoder",
    # convolution (issue 16): Conv2d and friends import no numpy, make_digits does
    "Conv2d": "conv",
    "MaxPool2d": "conv",
    "Flatten": "conv",
    "make_digits": "data",
    # the character-level GPT (issue 13)
    "Embedding": "transformer",
    "RMSNorm": "transformer",
    "CausalSelfAttention": "transformer",
    "MLPBlock": "transformer",
    "Block": "transformer",
    "KVCache": "transformer",
    "GPT": "gpt",
    "CharTokenizer": "text",
    "load_names": "text",
}

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from . import evolve, optim
    from .autoencoder import Autoencoder, make_latent
    from .conv import Conv2d, Flatten, MaxPool2d
    from .data import (
        batches,
        make_circles,
        make_digits,
        make_linear,
        make_moons,
        make_sine_windows,
        make_spiral,
        make_xor,
        stream_batches,
    )
    from .evolve import GeneticAlgorithm, ParticleSwarm
    from .gpt import GPT
    from .loop import History, StepInfo, StopTraining, layer_groups
    from .optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
    from .schedulers import CosineAnnealingLR, ExponentialLR, LinearLR, LRScheduler, StepLR
    from .text import CharTokenizer, load_names
    from .training import TrainingDiverged, fit
    from .transformer import Block, CausalSelfAttention, Embedding, KVCache, MLPBlock, RMSNorm


def __getattr__(name: str) -> Any:
    source = _LAZY.get(name)
    if source is None:
        raise AttributeError(f"module 'nn' has no attribute {name!r}")
    module = importlib.import_module(f".{source}", __name__)
    value = module if name == source else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Sequential",
    "Dropout",
    "ACTIVATIONS",
    "softmax",
    "log_softmax",
    "mse_loss",
    "bce_loss",
    "bce_with_logits",
    "cross_entropy",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
    "optim",
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "LinearLR",
    "CosineAnnealingLR",
    "clip_grad_norm",
    "init",
    "make_moons",
    "make_circles",
    "make_xor",
    "make_spiral",
    "make_linear",
    "make_sine_windows",
    "batches",
    "stream_batches",
    "fit",
    "History",
    "StepInfo",
    "StopTraining",
    "TrainingDiverged",
    "layer_groups",
    "rnn",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "RNN",
    "LSTM",
    "GRU",
    "evolve",
    "GeneticAlgorithm",
    "ParticleSwarm",
    "Autoencoder",
    "make_latent",
    "Conv2d",
    "MaxPool2d",
    "Flatten",
    "make_digits",
    # the character-level GPT (issue 13)
    "Embedding",
    "RMSNorm",
    "CausalSelfAttention",
    "MLPBlock",
    "Block",
    "KVCache",
    "GPT",
    "CharTokenizer",
    "load_names",
]
