"""Gradient-free weight updates: ``GeneticAlgorithm`` and ``ParticleSwarm``, and ``evolve``, their
training loop.

Why they exist: to compare backprop with search methods that only ever look at
the loss.  Both read and write a model's parameters as one vector, evaluate
candidate vectors with a loss closure under ``no_grad()`` (no graph is built, so
an evaluation is a plain forward pass), and keep the record the gradient
optimizers keep: after ``step(closure)`` the model holds the best vector found
so far and ``deltas`` maps every parameter to the change that step made, so
``History``, plots and ``viz.draw_network(model, optimizer=...)`` work unchanged.
``evaluations`` counts loss evaluations, the fair unit of cost for comparing
with backprop (one forward + one backward per step).

All randomness comes from one ``numpy.random.Generator`` made from ``seed``: the
same seed, model and closure give the same population, particles and weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd import DomainError, Value, no_grad

from . import checks
from .loop import History, Step, StepInfo, run, split_callbacks
from .losses import get_loss

__all__ = ["GeneticAlgorithm", "ParticleSwarm", "evolve"]

Closure = Callable[[], Any]


class _GradientFree:
    """The shared machinery: the parameter vector, fitness evaluation, ``deltas``, counters."""

    def __init__(self, model: Any, seed: Any, init_std: float) -> None:
        where = type(self).__name__
        self.params: list[Value] = checks.parameter_list(where, model)
        self.init_std = checks.number(where, "init_std", init_std, low=0.0)
        self.rng = checks.generator(where, seed)
        #: Δw of the last step: parameter -> new − old, exactly as applied
        self.deltas: dict[Value, float] = {}
        #: how many times the loss closure has been called
        self.evaluations = 0
        self.step_count = 0
        #: the lowest loss seen so far (the loss of the vector the model holds after a step)
        self.best_loss = math.inf

    # ---- the parameter vector --------------------------------------------------------------
    def get_vector(self) -> np.ndarray:
        """The parameters' current values as a float64 vector, in ``model.parameters()`` order."""
        return np.fromiter((p.data for p in self.params), dtype=np.float64, count=len(self.params))

    def set_vector(self, w: np.ndarray) -> None:
        """Write ``w`` into the parameters (``len(w)`` must equal the number of parameters)."""
        if len(w) != len(self.params):
            raise ValueError(f"{type(self).__name__}.set_vector: got {len(w)} values for {len(self.params)} parameters")
        for p, x in zip(self.params, w.tolist()):
            p.data = x

    def fitness(self, closure: Closure, w: np.ndarray) -> float:
        """The loss of parameter vector ``w`` (the closure's result, evaluated under ``no_grad``).

        A loss that overflows or is not finite counts as +inf: that candidate is
        simply the worst, the search goes on."""
        self.set_vector(w)
        self.evaluations += 1
        try:
            with no_grad():
                out = closure()
        except (OverflowError, DomainError, ZeroDivisionError):
            return math.inf
        value = out.data if isinstance(out, Value) else out
        if not checks.is_number(value):
            raise TypeError(
                f"{type(self).__name__}.step: the closure must return the loss as a Value or a "
                f"number, got {type(out).__name__}"
            )
        value = float(value)
        return value if math.isfinite(value) else math.inf

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (nothing here uses gradients; kept for drop-in loops)."""
        for p in self.params:
            p.grad = 0.0

    # ---- one step ------------------------------------------------------------------------
    def _advance(self, closure: Closure) -> tuple[np.ndarray, float]:
        raise NotImplementedError(f"{type(self).__name__} must implement _advance")

    def step(self, closure: Closure) -> float:
        """One generation (GA) or one swarm move (PSO); returns the best loss so far.

        ``closure()`` must compute the loss of the model's *current* parameters
        (as with torch's ``optimizer.step(closure)``); it is called once per
        candidate.  Afterwards the model holds the best vector found and
        ``deltas`` records each parameter's change.  If the closure raises, the model
        is left with the weights it had before the step and the error propagates."""
        if not callable(closure):
            raise TypeError(
                f"{type(self).__name__}.step: pass the loss as a closure, e.g. "
                f"opt.step(lambda: mse_loss([model(x) for x in X], y)); got {type(closure).__name__}"
            )
        old = self.get_vector()
        try:
            best, loss = self._advance(closure)
        except BaseException:
            self.set_vector(old)  # the closure failed mid-search: the model keeps the weights it had
            raise
        self.set_vector(best)
        self.best_loss = loss
        self.step_count += 1
        self.deltas = {p: after - before for p, before, after in zip(self.params, old.tolist(), best.tolist())}
        return loss

    def _initial(self, count: int) -> np.ndarray:
        """``count`` vectors around the model's weights: row 0 is the model itself, the others add N(0, init_std²)."""
        w = self.get_vector()
        pop: np.ndarray = w + self.init_std * self.rng.standard_normal((count, len(w)))
        pop[0] = w
        return pop


class GeneticAlgorithm(_GradientFree):
    """A real-valued genetic algorithm over the parameter vector.

    Each ``step`` is one generation: the ``elite`` best individuals survive
    unchanged; every other child takes two parents chosen by tournament (the
    best of ``tournament`` random individuals), mixes them gene by gene (uniform
    crossover) with probability ``crossover`` (else copies the first parent),
    and adds N(0, mutation_std²) noise to each gene with probability
    ``mutation_rate``.  The first step evaluates the initial population: the
    model's own weights plus ``population − 1`` copies perturbed by
    N(0, init_std²).  An elite's loss is reused, not recomputed, so the closure
    should be deterministic (a full-batch loss).  With ``elite >= 1`` the best
    loss never rises; with ``elite=0`` the model holds the best individual of
    the latest generation, which may be worse than an earlier one."""

    def __init__(
        self,
        model: Any,
        population: int = 50,
        mutation_std: float = 0.1,
        crossover: float = 0.7,
        elite: int = 2,
        seed: Any = None,
        *,
        mutation_rate: float = 1.0,
        tournament: int = 3,
        init_std: float = 1.0,
    ) -> None:
        super().__init__(model, seed, init_std)
        where = "GeneticAlgorithm"
        self.population_size = checks.integer(where, "population", population, low=2)
        self.mutation_std = checks.number(where, "mutation_std", mutation_std, low=0.0)
        self.crossover = checks.number(where, "crossover", crossover, low=0.0, high=1.0)
        self.elite = checks.integer(where, "elite", elite, low=0, high=self.population_size - 1)
        self.mutation_rate = checks.number(where, "mutation_rate", mutation_rate, low=0.0, high=1.0)
        self.tournament = checks.integer(where, "tournament", tournament, low=1, high=self.population_size)
        #: the current generation, one individual per row, best first after each step
        self.population: np.ndarray | None = None
        #: the loss of each row of ``population``
        self.losses: np.ndarray | None = None

    def _pick(self, losses: np.ndarray) -> int:
        entrants = self.rng.integers(0, len(losses), size=self.tournament)
        return int(entrants[np.argmin(losses[entrants])])

    def _advance(self, closure: Closure) -> tuple[np.ndarray, float]:
        if self.population is None:
            pop = self._initial(self.population_size)
            losses = np.array([self.fitness(closure, w) for w in pop])
        else:
            old, old_losses = self.population, self.losses
            assert old_losses is not None
            n = old.shape[1]
            pop = np.empty_like(old)
            losses = np.empty(len(old))
            pop[: self.elite] = old[: self.elite]  # sorted best first
            losses[: self.elite] = old_losses[: self.elite]
            for k in range(self.elite, len(old)):
                a = old[self._pick(old_losses)]
                b = old[self._pick(old_losses)]
                child = np.where(self.rng.random(n) < 0.5, a, b) if self.rng.random() < self.crossover else a.copy()
                mutate = self.rng.random(n) < self.mutation_rate
                child = child + mutate * self.rng.normal(0.0, self.mutation_std, n)
                pop[k] = child
                losses[k] = self.fitness(closure, child)
        order = np.argsort(losses, kind="stable")
        self.population, self.losses = pop[order], losses[order]
        return self.population[0].copy(), float(self.losses[0])

    def __repr__(self) -> str:
        return (
            f"GeneticAlgorithm({len(self.params)} parameters, population={self.population_size}, "
            f"mutation_std={self.mutation_std}, crossover={self.crossover}, elite={self.elite})"
        )


class ParticleSwarm(_GradientFree):
    """Particle swarm optimization (Kennedy & Eberhart, with inertia weight) over the parameter vector.

    Each particle i has a position xᵢ (a parameter vector), a velocity vᵢ and
    the best position pᵢ it has visited; g is the best position of the swarm.
    One ``step`` moves every particle::

        vᵢ ← inertia·vᵢ + c1·r1 ⊙ (pᵢ − xᵢ) + c2·r2 ⊙ (g − xᵢ)      r1, r2 ~ U(0, 1) per coordinate
        xᵢ ← xᵢ + vᵢ

    and evaluates the new positions.  The defaults are Clerc's constriction
    values (0.7298, 1.49618, 1.49618).  The first step evaluates the initial
    swarm (the model's weights plus perturbed copies, at rest);
    ``max_velocity`` optionally clamps each velocity coordinate."""

    def __init__(
        self,
        model: Any,
        particles: int = 30,
        inertia: float = 0.7298,
        c1: float = 1.49618,
        c2: float = 1.49618,
        seed: Any = None,
        *,
        init_std: float = 1.0,
        max_velocity: float | None = None,
    ) -> None:
        super().__init__(model, seed, init_std)
        where = "ParticleSwarm"
        self.particles = checks.integer(where, "particles", particles, low=1)
        self.inertia = checks.number(where, "inertia", inertia, low=0.0)
        self.c1 = checks.number(where, "c1", c1, low=0.0)
        self.c2 = checks.number(where, "c2", c2, low=0.0)
        self.max_velocity = (
            None if max_velocity is None else checks.number(where, "max_velocity", max_velocity, low=0.0, low_open=True)
        )
        #: current positions and velocities, one particle per row
        self.positions: np.ndarray | None = None
        self.velocities: np.ndarray | None = None
        #: each particle's best position so far and its loss
        self.best_positions: np.ndarray | None = None
        self.best_losses: np.ndarray | None = None

    def _advance(self, closure: Closure) -> tuple[np.ndarray, float]:
        if self.positions is None:
            x = self._initial(self.particles)
            v = np.zeros_like(x)
            losses = np.array([self.fitness(closure, w) for w in x])
            self.positions, self.velocities = x, v
            self.best_positions, self.best_losses = x.copy(), losses
        else:
            assert self.velocities is not None and self.best_positions is not None and self.best_losses is not None
            x, v = self.positions, self.velocities
            p, p_loss = self.best_positions, self.best_losses
            g = p[int(np.argmin(p_loss))]
            r1 = self.rng.random(x.shape)
            r2 = self.rng.random(x.shape)
            v = self.inertia * v + self.c1 * r1 * (p - x) + self.c2 * r2 * (g - x)
            if self.max_velocity is not None:
                v = np.clip(v, -self.max_velocity, self.max_velocity)
            x = x + v
            losses = np.array([self.fitness(closure, w) for w in x])
            better = losses < p_loss
            p[better] = x[better]
            p_loss[better] = losses[better]
            self.positions, self.velocities = x, v
        assert self.best_positions is not None and self.best_losses is not None
        i = int(np.argmin(self.best_losses))
        return self.best_positions[i].copy(), float(self.best_losses[i])

    def __repr__(self) -> str:
        return (
            f"ParticleSwarm({len(self.params)} parameters, particles={self.particles}, "
            f"inertia={self.inertia}, c1={self.c1}, c2={self.c2})"
        )


def evolve(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    optimizer: _GradientFree,
    loss: Any = "mse",
    generations: int = 100,
    target_loss: float | None = None,
    progress: bool = True,
    callbacks: Iterable[Callable[[StepInfo], Any]] = (),
) -> History:
    """Train ``model`` with a gradient-free ``optimizer`` and return a ``History`` like ``fit``'s.

    The fitness is the loss over every sample (``X``, ``y`` arrays, or ``y=None``
    and ``X`` a list of ``(x, y)`` pairs).  Each generation is one step and one
    epoch: ``History.loss`` is the best loss after it, ``delta`` the mean |Δw|
    per layer.  ``History.lr`` stays empty (there is no learning rate).  The
    model is put in ``eval()`` mode so that the fitness is deterministic
    (dropout off; elites keep their loss between generations).  Stops
    early (``stopped_early``) once the loss is <= ``target_loss``, or when a
    callback raises ``StopTraining``."""
    if not isinstance(optimizer, _GradientFree):
        raise TypeError(
            f"evolve: optimizer must be a GeneticAlgorithm or ParticleSwarm, got "
            f"{type(optimizer).__name__}; for gradient optimizers use nn.fit"
        )
    checks.integer("evolve", "generations", generations, low=1)
    if target_loss is not None:
        checks.number("evolve", "target_loss", target_loss)
    progress = checks.flag("evolve", "progress", progress)
    cbs = split_callbacks("evolve", callbacks)
    _, loss_fn = get_loss(loss)
    if y is None:
        pairs = list(X)
        xs, ys = [x for x, _ in pairs], [t for _, t in pairs]
    else:
        xs, ys = np.asarray(X, dtype=np.float64).tolist(), np.asarray(y).tolist()
        if len(xs) != len(ys):
            raise ValueError(f"evolve: X has {len(xs)} samples but y has {len(ys)}; give one target per sample")
    if not xs:
        raise ValueError("evolve: no samples; X is empty")

    def closure() -> Any:
        return loss_fn([model(x) for x in xs], ys)

    def generation(epoch: int) -> list[Step]:
        return [lambda: (optimizer.step(closure), None, 1)]

    def reached(hist: History) -> bool:
        return target_loss is not None and hist.loss[-1] <= target_loss

    if hasattr(model, "eval"):
        model.eval()
    return run(
        "evolve",
        model,
        optimizer,
        generations,
        generation,
        callbacks=cbs,
        progress=progress,
        total=generations,
        unit="gen",
        stop=reached,
    )
