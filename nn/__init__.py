"""Neural networks built from autograd Values: modules, layers, losses, optimizers that record
every Δw, schedulers, data and a training loop; recurrent cells, gradient-free optimizers
(``nn.evolve``: ``GeneticAlgorithm``, ``ParticleSwarm`` and their loop ``nn.evolve.evolve``) and
autoencoders.  Names follow DESIGN.md (section nn)."""

from . import evolve, init, optim, rnn
from .autoencoder import Autoencoder, make_latent
from .activations import ACTIVATIONS, log_softmax, softmax
from .data import (batches, make_circles, make_linear, make_moons, make_sine_windows, make_spiral, make_xor,
                   stream_batches)
from .layers import MLP, Dropout, Layer, Neuron, Sequential
from .losses import bce_loss, bce_with_logits, cross_entropy, hinge_loss, l1_penalty, l2_penalty, mse_loss
from .module import Module
from .evolve import GeneticAlgorithm, ParticleSwarm
from .optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .schedulers import CosineAnnealingLR, ExponentialLR, LinearLR, LRScheduler, StepLR
from .training import History, StepInfo, StopTraining, TrainingDiverged, fit, layer_groups
from .utils import clip_grad_norm

__all__ = [
    "Module", "Neuron", "Layer", "MLP", "Sequential", "Dropout",
    "ACTIVATIONS", "softmax", "log_softmax",
    "mse_loss", "bce_loss", "bce_with_logits", "cross_entropy", "hinge_loss", "l1_penalty", "l2_penalty",
    "optim", "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "LRScheduler", "StepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR", "clip_grad_norm",
    "init", "make_moons", "make_circles", "make_xor", "make_spiral", "make_linear", "make_sine_windows", "batches",
    "stream_batches",
    "fit", "History", "StepInfo", "StopTraining", "TrainingDiverged", "layer_groups",
    "rnn", "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    "evolve", "GeneticAlgorithm", "ParticleSwarm", "Autoencoder", "make_latent",
]
