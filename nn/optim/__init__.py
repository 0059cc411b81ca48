"""Optimizers with torch.optim's arguments, defaults and update formulas; each records its Δw.

``opt.step()`` updates the parameters from their ``.grad``; afterwards
``opt.deltas[p]`` is exactly the change it applied to ``p``.  As in torch,
``opt.param_groups`` holds per-group options (``SGD([{"params": a},
{"params": b, "lr": 0.01}], lr=0.1)``), every option is checked whenever it is
set, and ``state_dict()`` has torch's shape.  Learning-rate schedulers (torch's
``lr_scheduler`` names) are re-exported here and in ``nn``.
"""

from ..schedulers import CosineAnnealingLR, ExponentialLR, LinearLR, LRScheduler, StepLR
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer, TrainingDiverged
from .rmsprop import RMSprop
from .sgd import SGD

OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}

__all__ = [
    "Optimizer",
    "TrainingDiverged",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "OPTIMIZERS",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "LinearLR",
    "CosineAnnealingLR",
]
