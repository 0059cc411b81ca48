"""Backprop vs a genetic algorithm vs a particle swarm: three ways to change the same weights.

Backprop asks the loss for its slope at the current weights and steps
downhill: one forward and one backward pass per update, and every weight
moves.  A genetic algorithm never asks for a slope: it keeps a population
of weight vectors, keeps the best (elites), mixes pairs (crossover) and adds
noise (mutation); one generation costs one forward pass per individual.  A
particle swarm moves each of its particles toward the best place it has seen
and the best place any particle has seen.  Both gradient-free methods record
Δw exactly like an optimizer (``optimizer.deltas``), so the same numbers are
compared: the loss reached, the number of loss evaluations it took, and the
mean |Δw| per iteration.  Same model, same data, same seed.

    python -m examples.beyond_backprop --seed 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/beyond_backprop.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples._common import Args, DeltaMeter, main_guard, moons, picture, print_table, setup, steps_to
from nn import MLP, Adam, History, fit
from nn.evolve import GeneticAlgorithm, ParticleSwarm, evolve

TARGET = 0.3
HEADERS = [
    "method",
    "iterations",
    "final loss",
    f"iterations to loss <= {TARGET}",
    f"loss evaluations to loss <= {TARGET}",
    "loss evaluations",
    "gradient evaluations",
    "mean abs(Δw) per iteration",
]


def model_for(seed: int) -> MLP:
    return MLP(2, [6, 1], activation="tanh", init="xavier_uniform", seed=seed)


def experiment(seed: int, iterations: int, population: int) -> tuple[dict[str, History], list[list[Any]]]:
    """Each method trains a fresh copy of the same MLP(2, [6, 1]) for ``iterations`` iterations."""
    X, y = moons(60, seed)
    histories: dict[str, History] = {}
    rows: list[list[Any]] = []

    model = model_for(seed)
    meter = DeltaMeter()
    hist = fit(
        model,
        X,
        y,
        loss="bce_with_logits",
        optimizer=Adam(model.parameters(), lr=0.05),
        epochs=iterations,
        seed=seed,
        progress=False,
        callbacks=[meter],
    )
    histories["backprop (Adam)"] = hist
    reached = steps_to(hist.loss, TARGET)  # loss[k] is the forward pass of step k: k + 1 evaluations
    rows.append(
        [
            "backprop (Adam lr=0.05)",
            hist.steps,
            hist.loss[-1],
            reached,
            None if reached is None else reached + 1,
            hist.steps,
            hist.steps,
            meter.mean,
        ]
    )

    searches = {
        f"genetic algorithm ({population} individuals)": lambda m: GeneticAlgorithm(
            m, population=population, mutation_std=0.1, elite=2, seed=seed
        ),
        f"particle swarm ({population} particles)": lambda m: ParticleSwarm(m, particles=population, seed=seed),
    }
    for name, make in searches.items():
        model = model_for(seed)
        opt = make(model)
        meter = DeltaMeter()
        evaluations: list[int] = []  # the evaluation count after each generation
        hist = evolve(
            model,
            X,
            y,
            optimizer=opt,
            loss="bce_with_logits",
            generations=iterations,
            progress=False,
            callbacks=[meter, lambda info, o=opt, e=evaluations: e.append(o.evaluations)],
        )
        histories[name] = hist
        reached = steps_to(hist.loss, TARGET)  # loss[k] is the best after generation k
        rows.append(
            [
                name,
                hist.steps,
                hist.loss[-1],
                reached,
                None if reached is None else evaluations[reached],
                opt.evaluations,
                0,
                meter.mean,
            ]
        )
    return histories, rows


def run(args: Args) -> list[list[Any]]:
    iterations = args.pick(100, 3, reduced=60)
    population = args.pick(30, 6, reduced=20)
    print(
        f"MLP(2, [6, 1]), tanh, Xavier init (seed {args.seed}); 60 moons; binary cross-entropy; "
        f"{iterations} iterations of each method"
    )
    histories, rows = experiment(args.seed, iterations, population)
    print_table("Backprop vs gradient-free search", HEADERS, rows)
    picture(
        args,
        "plot_losses",
        args.out / "beyond_backprop_loss.png",
        histories,
        log=True,
        title="Loss per iteration",
        xlabel="iteration (step or generation)",
        what="loss per method",
    )
    picture(
        args,
        "plot_deltas",
        args.out / "beyond_backprop_deltas.png",
        histories,
        what="mean |Δw| per iteration per method",
    )
    return rows


def main(argv: Sequence[str] | None = None) -> list[list[Any]]:
    return run(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
