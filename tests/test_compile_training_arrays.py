"""Training on a compiled graph's arrays (``fn.bind(opt)``, ``fit(compile=True)``) equals eager training.

Every optimizer with its options, every loss fit accepts, schedulers, l1/l2 and
gradient clipping: 20 steps eager and 20 steps on arrays from the same seed give
the same loss histories, weights, Δw and optimizer state to 1e-12 (relative),
and the Values are synced whenever something can read them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from autograd import Value
from autograd.compiler import compile as trace

RTOL = 1e-12
STEPS = 20

OPTIMIZERS = {
    "sgd": lambda ps: nn.SGD(ps, lr=0.05),
    "sgd-momentum-dampening-wd": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, dampening=0.2, weight_decay=1e-2),
    "sgd-nesterov": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3),
    "sgd-maximize": lambda ps: nn.SGD(ps, lr=0.01, momentum=0.5, maximize=True),
    "sgd-two-groups": lambda ps: nn.SGD(
        [{"params": ps[::2]}, {"params": ps[1::2], "lr": 0.02, "momentum": 0.9}], lr=0.05
    ),
    "sgd-some-frozen": lambda ps: nn.SGD(ps[1::3], lr=0.05, momentum=0.9),  # the rest stay as they are
    "adagrad": lambda ps: nn.Adagrad(ps, lr=0.05, lr_decay=0.01, weight_decay=1e-3, initial_accumulator_value=0.1),
    "rmsprop": lambda ps: nn.RMSprop(ps, lr=0.01),
    "rmsprop-centered-momentum": lambda ps: nn.RMSprop(ps, lr=0.005, centered=True, momentum=0.5, weight_decay=1e-3),
    "adam": lambda ps: nn.Adam(ps, lr=0.01),
    "adam-amsgrad-wd-maximize": lambda ps: nn.Adam(ps, lr=0.005, amsgrad=True, weight_decay=1e-2, maximize=True),
    "adamw-amsgrad": lambda ps: nn.AdamW(ps, lr=0.01, amsgrad=True),
}

SCHEDULERS = {
    "none": None,
    "step": lambda opt: nn.StepLR(opt, step_size=2, gamma=0.5),
    "exponential": lambda opt: nn.ExponentialLR(opt, gamma=0.9),
    "linear": lambda opt: nn.LinearLR(opt, start_factor=0.5, total_iters=3),
    "cosine": lambda opt: nn.CosineAnnealingLR(opt, T_max=4),
}

LOSSES = ["mse", "bce", "bce_with_logits", "hinge", "cross_entropy"]


def _data(loss: str) -> tuple[np.ndarray, np.ndarray, nn.MLP]:
    """Inputs, targets and a fresh model whose outputs suit ``loss``."""
    if loss == "cross_entropy":
        X, y = nn.make_spiral(30, n_classes=3, noise=0.1, seed=0)
        return X, y, nn.MLP(2, [8, 3], activation="tanh", seed=1)
    X, labels = nn.make_moons(30, noise=0.1, seed=0)
    head = "sigmoid" if loss == "bce" else "linear"
    model = nn.MLP(2, [8, 1], activation="tanh", output_activation=head, seed=1)
    if loss == "mse":
        return X, np.sin(X.sum(axis=1)), model
    if loss == "hinge":
        return X, labels * 2.0 - 1.0, model
    return X, labels.astype(np.float64), model


def _train(loss: str, optimizer: str, compiled: bool, scheduler: str = "none", **kw) -> dict:
    X, y, model = _data(loss)
    opt = OPTIMIZERS[optimizer](model.parameters())
    sched = SCHEDULERS[scheduler]
    # 30 samples in batches of 8: 4 steps per epoch, the last batch (6) a second compiled graph
    hist = nn.fit(
        model, X, y, loss=loss, optimizer=opt, epochs=STEPS // 4, batch_size=8, seed=3, progress=False,
        compile=compiled, scheduler=sched(opt) if sched else None, **kw,
    )  # fmt: skip
    return {
        "loss": list(hist.loss),
        "lr": list(hist.lr),
        "weights": [p.data for p in model.parameters()],
        "grads": [p.grad for p in model.parameters()],
        "deltas": [opt.deltas.get(p, 0.0) for p in model.parameters()],
        "delta_means": [v for d in hist.delta for v in d.values()],
        "state": _flat_state(opt.state_dict()),
        "bound": opt.bound,
    }


def _flat_state(sd: dict) -> list[float]:
    return [float(v) for i in sorted(sd["state"]) for _, v in sorted(sd["state"][i].items())]


def _close(actual: list[float], expected: list[float], what: str, atol: float = 0.0) -> None:
    assert len(actual) == len(expected), what
    bad = [(i, a, e) for i, (a, e) in enumerate(zip(actual, expected)) if abs(a - e) > max(RTOL * abs(e), atol)]
    assert not bad, f"{what}: {len(bad)} of {len(actual)} differ, e.g. {bad[:3]}"


def _compare(eager: dict, arrays: dict, what: str) -> None:
    assert len(eager["loss"]) == STEPS
    _close(arrays["loss"], eager["loss"], f"{what}: loss history")
    assert arrays["lr"] == eager["lr"], what
    for key in ("weights", "grads", "deltas", "delta_means", "state"):
        # an entry that cancellation left near 0 keeps only absolute precision
        scale = max(map(abs, eager[key]), default=0.0)
        _close(arrays[key], eager[key], f"{what}: {key}", RTOL * scale)
    assert not arrays["bound"], "fit unbinds the optimizer when it returns"


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_fit_on_arrays_matches_eager_for_every_optimizer_and_loss(optimizer, loss):
    eager = _train(loss, optimizer, compiled=False)
    _compare(eager, _train(loss, optimizer, compiled=True), f"{optimizer}/{loss}")


@pytest.mark.parametrize("scheduler", [s for s in SCHEDULERS if s != "none"])
@pytest.mark.parametrize("optimizer", ["sgd-momentum-dampening-wd", "adam", "rmsprop-centered-momentum"])
def test_fit_on_arrays_matches_eager_with_schedulers_and_penalties(optimizer, scheduler):
    kw = {"l1": 1e-3, "l2": 1e-3}
    eager = _train("cross_entropy", optimizer, False, scheduler, **kw)
    _compare(eager, _train("cross_entropy", optimizer, True, scheduler, **kw), f"{optimizer}/{scheduler}")


# ---- your own loop: fn.bind(opt) ---------------------------------------------------------------


def _loop_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(12, 3)), rng.normal(size=(12, 2))


def _loop_loss(model, xb, tb):
    """The loss of a batch (rows of numbers or of Values) as a Value graph."""
    wrap = lambda rows: [[v if isinstance(v, Value) else Value(v) for v in row] for row in rows]  # noqa: E731
    xs, ts = wrap(xb), wrap(tb)
    return nn.mse_loss([model(x) for x in xs], ts), [v for row in xs + ts for v in row]


def _batches(X, T):
    return [(X[k : k + 4], T[k : k + 4]) for k in range(0, 12, 4)]


@pytest.mark.parametrize("clip", [None, 0.05])
def test_own_loop_with_bind_matches_the_eager_loop(clip):
    X, T = _loop_data()
    model = nn.MLP(3, [5, 2], activation="tanh", seed=0)
    opt = nn.Adam(model.parameters(), lr=0.02, amsgrad=True)
    eager_losses = []
    for _ in range(7):  # 21 steps
        for xb, tb in _batches(X, T):
            loss, _ = _loop_loss(model, xb.tolist(), tb.tolist())
            opt.zero_grad()
            loss.backward()
            if clip:
                nn.clip_grad_norm(opt, clip)
            opt.step()
            eager_losses.append(loss.data)
    eager_w = [p.data for p in model.parameters()]
    eager_state = _flat_state(opt.state_dict())
    eager_deltas = [opt.deltas[p] for p in model.parameters()]

    model = nn.MLP(3, [5, 2], activation="tanh", seed=0)
    loss, inputs = _loop_loss(model, np.zeros((4, 3)).tolist(), np.zeros((4, 2)).tolist())
    fn = trace(loss, inputs=inputs, parameters=model.parameters())
    opt = nn.Adam(model.parameters(), lr=0.02, amsgrad=True)
    fn.bind(opt)
    losses = []
    for _ in range(7):
        for xb, tb in _batches(X, T):
            opt.zero_grad()
            losses.append(fn(np.concatenate([xb.ravel(), tb.ravel()])))
            if clip:
                nn.clip_grad_norm(opt, clip)
            opt.step()
    assert fn.bound and opt.bound
    _close(losses, eager_losses, "loss history")
    _close(_flat_state(opt.state_dict()), eager_state, "state while bound", RTOL)
    _close([opt.deltas[p] for p in model.parameters()], eager_deltas, "deltas while bound", RTOL)
    fn.unbind()
    _close([p.data for p in model.parameters()], eager_w, "weights after unbind", RTOL)
    assert not opt.bound and not fn.bound


def _bound_fn(optimizer=lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9)):
    """A compiled batch loss with its optimizer bound, and a batch for it."""
    X, T = _loop_data()
    model = nn.MLP(3, [5, 2], activation="tanh", seed=0)
    loss, inputs = _loop_loss(model, X[:4].tolist(), T[:4].tolist())
    fn = trace(loss, inputs=inputs, parameters=model.parameters())
    opt = optimizer(model.parameters())
    fn.bind(opt)
    return fn, opt, model, np.concatenate([X[:4].ravel(), T[:4].ravel()])


def test_deltas_while_bound_are_exactly_new_minus_old():
    fn, opt, model, batch = _bound_fn(lambda ps: nn.Adam(ps, lr=0.01))
    for _ in range(3):
        fn(batch)
        before = {p: w for p, w in zip(fn.parameters, fn.param_values.tolist())}
        opt.step()
    fn.sync()
    assert set(opt.deltas) == set(model.parameters())
    for p in model.parameters():
        assert opt.deltas[p] == p.data - before[p]  # exact: the subtraction the step recorded
        assert opt.deltas[p] != 0.0
    layers = nn.layer_groups(model)
    means = opt.delta_means(layers)
    for name, ps in layers.items():
        assert means[name] == pytest.approx(sum(abs(opt.deltas[p]) for p in ps) / len(ps), rel=1e-15)


def test_values_fall_behind_until_sync_and_grads_follow_the_arrays():
    fn, opt, model, batch = _bound_fn()
    w0 = [p.data for p in model.parameters()]
    fn(batch)
    opt.step()
    assert [p.data for p in model.parameters()] == w0  # not written: the arrays hold the weights
    assert all(p.grad == 0.0 for p in model.parameters())
    fn.sync()
    order = {p: i for i, p in enumerate(fn.parameters)}
    assert [p.data for p in model.parameters()] == [float(fn.param_values[order[p]]) for p in model.parameters()]
    assert [p.grad for p in model.parameters()] == [float(fn.param_grads[order[p]]) for p in model.parameters()]
    assert [p.data for p in model.parameters()] != w0
    opt.zero_grad()
    assert not fn.param_grads.any()
    fn.sync()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_reload_takes_values_changed_by_hand_and_unbinding_the_optimizer_frees_the_graph():
    fn, opt, model, batch = _bound_fn()
    fn(batch)
    opt.step()
    fn.sync()
    p = model.parameters()[0]
    p.data = 0.25
    opt.reload()
    assert fn.param_values[fn.parameters.index(p)] == 0.25
    opt.unbind()
    assert not fn.bound
    p.data = -0.5  # unbound: the call reads the Values again
    p.grad = 0.0
    fn(batch)
    assert fn.param_values[fn.parameters.index(p)] == -0.5 and p.grad != 0.0


def test_binding_refuses_what_it_cannot_hold():
    fn, opt, model, batch = _bound_fn()
    with pytest.raises(ValueError, match="already bound"):
        fn.bind(nn.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="bound to arrays; call unbind"):
        opt.add_param_group({"params": [Value(1.0)]})
    with pytest.raises(ValueError, match="clip_grad_norm: .*arrays.*clip_grad_norm\\(opt, max_norm\\)"):
        nn.clip_grad_norm(model, 1.0)
    fn.unbind()
    stray = Value(2.0, label="stray")
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['params'\]\[0\] \(stray\) is not in the arrays"):
        fn.bind(nn.SGD([{"params": model.parameters()}, {"params": [stray]}], lr=0.1))
    assert not fn.bound


def test_a_diverging_step_on_arrays_names_the_same_parameter_as_eager_and_changes_nothing():
    messages = []
    for bound in (False, True):
        X, T = _loop_data()
        model = nn.MLP(3, [5, 2], activation="tanh", seed=0)
        for i, p in enumerate(model.parameters()):
            p.label = f"p{i}"
        loss, inputs = _loop_loss(model, X[:4].tolist(), T[:4].tolist())
        ps = model.parameters()
        bias, weight = ps[3], ps[0]  # neuron 0's bias and first weight: the arrays hold the weight first
        bias.data, weight.data = 1.0, 1e-300  # weight decay 1e300 overflows the bias's update only
        rest = [p for p in ps if p is not bias and p is not weight]
        opt = nn.SGD([{"params": rest}, {"params": [bias, weight], "lr": 1e10, "weight_decay": 1e300}], lr=0.1)
        if bound:
            fn = trace(loss, inputs=inputs, parameters=ps)
            fn.bind(opt)
            fn(np.concatenate([X[:4].ravel(), T[:4].ravel()]))
        else:
            loss.backward()
        with pytest.raises(nn.TrainingDiverged) as err:
            opt.step()
        messages.append(str(err.value))
        if bound:
            assert opt.step_count == 0 and not opt.deltas
            fn.unbind()
        assert opt.step_count == 0
    assert f"the update would make parameter {len(ps) - 2} (p3) -inf" in messages[0]
    assert messages[1] == messages[0]


def test_load_state_dict_while_bound_continues_like_eager():
    fn, opt, model, batch = _bound_fn(lambda ps: nn.RMSprop(ps, lr=0.01, momentum=0.5, centered=True))
    eager_model = nn.MLP(3, [5, 2], activation="tanh", seed=0)
    eager = nn.RMSprop(eager_model.parameters(), lr=0.01, momentum=0.5, centered=True)
    X, T = _loop_data()
    for _ in range(2):
        loss, _ = _loop_loss(eager_model, X[:4].tolist(), T[:4].tolist())
        eager.zero_grad()
        loss.backward()
        eager.step()
    for p, q in zip(model.parameters(), eager_model.parameters()):
        p.data = q.data
    opt.reload()
    opt.load_state_dict(eager.state_dict())
    assert _flat_state(opt.state_dict()) == _flat_state(eager.state_dict())
    loss, _ = _loop_loss(eager_model, X[:4].tolist(), T[:4].tolist())
    eager.zero_grad()
    loss.backward()
    eager.step()
    fn(batch)
    opt.step()
    fn.unbind()
    _close([p.data for p in model.parameters()], [p.data for p in eager_model.parameters()], "weights", 1e-15)
    _close(_flat_state(opt.state_dict()), _flat_state(eager.state_dict()), "state", 1e-15)


# ---- fit: callbacks and errors see synced Values -----------------------------------------------


def _fit(compiled: bool, callbacks=(), optimizer="adam"):
    X, y, model = _data("cross_entropy")
    opt = OPTIMIZERS[optimizer](model.parameters())
    try:
        nn.fit(
            model, X, y, loss="cross_entropy", optimizer=opt, epochs=5, batch_size=8, seed=3, progress=False,
            compile=compiled, callbacks=callbacks,
        )  # fmt: skip
    finally:
        weights = [p.data for p in model.parameters()]
    return model, opt, weights


def test_callbacks_and_recorders_see_the_weights_of_every_step():
    from viz.record import WeightRecorder

    seen = []
    for compiled in (False, True):
        rec = WeightRecorder()
        epoch_ends: list[dict] = []

        class Watch:
            def on_epoch_end(self, info, ends=epoch_ends):
                ends.append(info.model.state_dict())

        _fit(compiled, [rec, Watch()])
        seen.append((rec, epoch_ends))
    (eager, eager_ends), (arrays, arrays_ends) = seen
    assert eager.steps == arrays.steps and len(eager.steps) == STEPS
    for name in eager.values:
        _close(arrays.values[name], eager.values[name], name, 1e-12)
    assert len(arrays_ends) == 5
    for a, e in zip(arrays_ends, eager_ends):
        _close(
            [float(v) for k in e for v in np.ravel(a[k])], [float(v) for k in e for v in np.ravel(e[k])], "sd", 1e-12
        )


def test_a_callback_that_changes_weights_is_seen_by_the_next_step():
    def nudge(info):
        if info.step in (2, 9):
            for p in info.model.parameters()[::3]:
                p.data = p.data * 0.5

    (_, eager_opt, eager_w), (_, opt, w) = _fit(False, [nudge]), _fit(True, [nudge])
    _close(w, eager_w, "weights", 1e-12)
    _close(_flat_state(opt.state_dict()), _flat_state(eager_opt.state_dict()), "state", 1e-12)


def test_an_exception_in_a_callback_leaves_the_values_synced():
    class Boom(Exception):
        pass

    def boom(info):
        if info.step == 6:
            raise Boom

    results = []
    for compiled in (False, True):
        with pytest.raises(Boom):
            _fit(compiled, [lambda info: None, boom])  # noqa: B023
        results.append(_fit_weights_after_raise(compiled, boom, Boom))
    _close(results[1][0], results[0][0], "weights", 1e-12)
    _close(results[1][1], results[0][1], "grads", 1e-12)
    assert not results[1][2]


def _fit_weights_after_raise(compiled, cb, exc):
    X, y, model = _data("cross_entropy")
    opt = nn.Adam(model.parameters(), lr=0.01)
    with pytest.raises(exc):
        nn.fit(
            model, X, y, loss="cross_entropy", optimizer=opt, epochs=5, batch_size=8, seed=3, progress=False,
            compile=compiled, callbacks=[cb],
        )  # fmt: skip
    return [p.data for p in model.parameters()], [p.grad for p in model.parameters()], opt.bound


def test_a_diverging_compiled_fit_leaves_the_last_good_weights_in_the_values():
    results = []
    for compiled in (False, True):
        X, y, model = _data("mse")
        opt = nn.SGD(model.parameters(), lr=1e200)
        with pytest.raises(nn.TrainingDiverged) as err:
            nn.fit(model, X, y, optimizer=opt, batch_size=8, seed=3, progress=False, compile=compiled)
        ps = model.parameters()
        results.append((str(err.value), [p.data for p in ps], opt.bound, [p.grad for p in ps]))
    assert results[1][0] == results[0][0]
    _close(results[1][1], results[0][1], "weights")
    assert results[1][3] == results[0][3]  # zero_grad then a backward that raised: 0
    assert not results[1][2]
    assert math.isfinite(sum(results[1][1]))


def test_binding_a_non_finite_weight_is_refused_and_leaves_nothing_bound():
    fn, opt, model, batch = _bound_fn()
    fn.unbind()
    p = model.parameters()[2]
    p.label, p.data = "w2", math.nan
    with pytest.raises(ValueError, match=r"reload: parameter w2 has .data nan; parameters must be finite"):
        fn.bind(opt)
    assert not opt.bound and not fn.bound


def test_bound_calls_accumulate_gradients_until_zero_grad_and_a_failing_call_adds_nothing():
    fn, opt, model, batch = _bound_fn()
    opt.zero_grad()
    fn(batch)
    once = fn.param_grads.copy()
    fn(batch)
    assert np.allclose(fn.param_grads, 2 * once, rtol=1e-15, atol=0) and once.any()
    opt.zero_grad()
    assert not fn.param_grads.any()


def test_a_call_whose_backward_fails_leaves_the_bound_gradients_as_they_were():
    from autograd import NonFiniteGradError

    w, x = Value(2.0, label="w"), Value(1.0)
    fn = trace((w * x).sqrt() + w * w, inputs=[x], parameters=[w])
    opt = nn.SGD([w], lr=0.1)
    fn.bind(opt)
    fn([1.0])
    before = fn.param_grads.copy()
    assert before[0] == pytest.approx(0.5 / math.sqrt(2.0) + 4.0)
    with pytest.raises(NonFiniteGradError):
        fn([0.0])  # sqrt' at 0 is infinite: backward raises after the replay overwrote the gradients
    assert np.array_equal(fn.param_grads, before)
    opt.zero_grad()
    with pytest.raises(NonFiniteGradError):
        fn([0.0])
    assert not fn.param_grads.any()
