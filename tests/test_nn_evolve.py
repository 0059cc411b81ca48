"""Gradient-free optimizers: they solve XOR with a 2-4-1 MLP and the linear task, replay exactly from
a seed, record ``deltas`` equal to each parameter's change, count evaluations, never build a graph,
and plug into ``History`` and ``viz.draw_graph`` like the gradient optimizers."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Value, is_grad_enabled
from nn.data import make_linear
from nn.evolve import GeneticAlgorithm, ParticleSwarm, evolve
from nn.layers import MLP
from nn.losses import mse_loss
from nn.training import StopTraining

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [0.0, 1.0, 1.0, 0.0]


def ga(model, seed=0):
    return GeneticAlgorithm(model, population=40, mutation_std=0.2, crossover=0.7, elite=2, seed=seed)


def pso(model, seed=0):
    return ParticleSwarm(model, particles=30, inertia=0.7298, c1=1.49618, c2=1.49618, seed=seed)


def xor_closure(model):
    return lambda: mse_loss([model(x) for x in XOR_X], XOR_Y)


@pytest.mark.parametrize("make", [ga, pso], ids=["ga", "pso"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solves_xor_with_a_2_4_1_mlp(make, seed):
    model = MLP(2, [4, 1], activation="tanh", seed=seed)
    opt = make(model, seed)
    hist = evolve(model, XOR_X, XOR_Y, optimizer=opt, generations=300, target_loss=0.01, progress=False)
    assert hist.stopped_early and hist.loss[-1] <= 0.01
    preds = [model(x).data for x in XOR_X]
    assert all(abs(p - t) < 0.5 for p, t in zip(preds, XOR_Y)), preds
    # every generation but the first re-evaluates the whole population minus the elite
    per_gen = 38 if isinstance(opt, GeneticAlgorithm) else 30
    assert opt.evaluations == (40 if isinstance(opt, GeneticAlgorithm) else 30) + per_gen * (hist.steps - 1)


@pytest.mark.parametrize("make", [ga, pso], ids=["ga", "pso"])
def test_fits_the_linear_task_to_the_least_squares_optimum(make):
    X, y = make_linear(40, 2, w=[2.0, -1.0], b=0.5, noise=0.1, seed=0)
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    best = float(np.mean((A @ coef - y) ** 2))
    model = MLP(2, [1], seed=0)
    opt = make(model)
    hist = evolve(model, X, y, optimizer=opt, generations=400, target_loss=1.02 * best, progress=False)
    assert hist.stopped_early, hist.loss[-1] / best
    w = [p.data for p in model.parameters()]
    np.testing.assert_allclose(w, coef, atol=0.1)
    assert hist.loss[0] > 10 * best


@pytest.mark.parametrize("make", [ga, pso], ids=["ga", "pso"])
def test_deltas_equal_each_parameters_change_and_the_model_holds_the_best(make):
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    opt = make(model)
    closure = xor_closure(model)
    losses = []
    for _ in range(6):
        before = {p: p.data for p in model.parameters()}
        loss = opt.step(closure)
        assert set(opt.deltas) == set(model.parameters())
        for p in model.parameters():
            assert opt.deltas[p] == p.data - before[p]
        assert closure().data == loss == opt.best_loss  # the model holds the vector of the reported loss
        losses.append(loss)
    assert losses == sorted(losses, reverse=True)  # elitism / global best: never worse
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("make", [ga, pso], ids=["ga", "pso"])
def test_reproducible_from_a_seed(make):
    def run(seed):
        model = MLP(2, [4, 1], activation="tanh", seed=5)
        opt = make(model, seed)
        for _ in range(5):
            opt.step(xor_closure(model))
        state = opt.population if isinstance(opt, GeneticAlgorithm) else opt.positions
        return state.copy(), [p.data for p in model.parameters()]

    a, wa = run(7)
    b, wb = run(7)
    c, _ = run(8)
    np.testing.assert_array_equal(a, b)
    assert wa == wb
    assert not np.array_equal(a, c)


def test_population_starts_at_the_model_and_is_sorted_best_first():
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    start = [p.data for p in model.parameters()]
    opt = ga(model)
    opt.step(xor_closure(model))
    assert opt.population.shape == (40, 17)
    assert list(opt.losses) == sorted(opt.losses)
    assert any(np.array_equal(row, start) for row in opt.population)  # individual 0 was the model itself
    other = MLP(2, [4, 1], activation="tanh", seed=0)
    swarm = pso(other)
    swarm.step(xor_closure(other))
    np.testing.assert_array_equal(swarm.positions[0], start)
    np.testing.assert_array_equal(swarm.velocities, 0.0)


def test_fitness_is_evaluated_without_a_graph():
    model = MLP(2, [4, 1], seed=0)
    seen = []

    def closure():
        seen.append(is_grad_enabled())
        out = mse_loss([model(x) for x in XOR_X], XOR_Y)
        assert out.is_leaf  # no_grad: the loss is a plain number, no graph behind it
        return out

    opt = ParticleSwarm(model, particles=4, seed=0)
    opt.step(closure)
    opt.step(closure)
    assert seen == [False] * 8 and opt.evaluations == 8


def test_an_overflowing_candidate_counts_as_worst_not_as_an_error():
    w = Value(0.0)

    def closure():
        if w.data > 0.5:
            raise OverflowError("exp overflow")
        return (w - 0.3) ** 2 if w.data > -0.5 else float("nan")

    opt = GeneticAlgorithm([w], population=20, mutation_std=0.5, seed=0)
    for _ in range(10):
        opt.step(closure)
    assert abs(w.data - 0.3) < 0.05
    # the candidates whose closure overflowed or gave nan hold loss inf (the worst), the others their loss
    ws, losses = opt.population[:, 0], opt.losses
    failed = (ws > 0.5) | (ws <= -0.5)
    assert failed.any() and np.isinf(losses[failed]).all()
    assert losses[~failed] == pytest.approx((ws[~failed] - 0.3) ** 2, rel=1e-12, abs=0)


def test_history_records_one_entry_per_generation():
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    opt = ga(model)
    pairs = list(zip(XOR_X, XOR_Y))
    steps = []
    hist = evolve(
        model, pairs, optimizer=opt, generations=5, progress=False, callbacks=[lambda i: steps.append(i.step)]
    )
    assert hist.steps == hist.epochs == 5 == len(hist.delta) and steps == [0, 1, 2, 3, 4]
    assert set(hist.delta[0]) == {"layers.0", "layers.1"}
    last = {
        name: np.mean([abs(opt.deltas[p]) for p in ps])
        for name, ps in (("layers.0", model.layers[0].parameters()), ("layers.1", model.layers[1].parameters()))
    }
    assert hist.delta[-1] == pytest.approx(last)
    assert hist.lr == [] and not hist.stopped_early
    assert not model.training  # evaluated in eval mode: dropout off, a deterministic fitness

    def stop(info):
        if info.step == 1:
            raise StopTraining

    hist = evolve(model, XOR_X, XOR_Y, optimizer=opt, generations=50, progress=False, callbacks=[stop])
    assert hist.steps == 2 and hist.stopped_early


def test_draw_graph_shows_the_evolved_deltas():
    import viz

    model = MLP(2, [2, 1], seed=0)
    opt = pso(model)
    evolve(model, XOR_X, XOR_Y, optimizer=opt, generations=3, progress=False)
    p = model.layers[0].neurons[0].w[0]
    src = viz.draw_graph(mse_loss([model(x) for x in XOR_X], XOR_Y), optimizer=opt).source
    assert "ParticleSwarm.step() applied" in src
    assert f"Δw={opt.deltas[p]!r}" in src


def test_errors_name_the_argument():
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="population must be an int >= 2"):
        GeneticAlgorithm(model, population=1)
    with pytest.raises(ValueError, match=r"elite must be an int in \[0, 9\], got 10"):
        GeneticAlgorithm(model, population=10, elite=10)
    with pytest.raises(ValueError, match=r"crossover must be in \[0, 1\], got 1.5"):
        GeneticAlgorithm(model, crossover=1.5)
    with pytest.raises(ValueError, match="inertia must be >= 0"):
        ParticleSwarm(model, inertia=-0.1)
    with pytest.raises(TypeError, match="seed must be an int"):
        ParticleSwarm(model, seed="a")
    with pytest.raises(TypeError, match="pass the loss as a closure"):
        ParticleSwarm(model).step(0.5)
    with pytest.raises(TypeError, match="for gradient optimizers use nn.fit"):
        evolve(model, XOR_X, XOR_Y, optimizer="sgd")
    with pytest.raises(ValueError, match="no parameters"):
        GeneticAlgorithm([])


@pytest.mark.parametrize(
    "make", [lambda m: GeneticAlgorithm(m, population=6, seed=0), lambda m: ParticleSwarm(m, particles=4, seed=0)]
)
def test_a_failing_closure_leaves_the_weights_of_before_the_step(make):
    model = MLP(2, [3, 1], seed=0)
    opt = make(model)
    calls, fail_at = [0], [3]

    def closure():
        calls[0] += 1
        if calls[0] == fail_at[0]:
            raise RuntimeError("the data loader broke")
        return mse_loss([model(x) for x in XOR_X], XOR_Y)

    before = model.state_dict()
    with pytest.raises(RuntimeError, match="data loader"):
        opt.step(closure)  # the first step, while it evaluates the initial population
    assert model.state_dict() == before
    fail_at[0] = 0
    opt.step(closure)  # a clean step: the model now holds the best vector found
    before = model.state_dict()
    calls[0], fail_at[0] = 0, 2
    with pytest.raises(RuntimeError, match="data loader"):
        opt.step(closure)  # a later step
    assert model.state_dict() == before
