"""viz.RunRecorder: every step's Δw equal to the optimizer's (and to eager SGD's formula), the
values after each step, every/limit/max_bytes, and bad arguments named."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nn
import viz
from autograd import Value


def _moons(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    X, y = nn.make_moons(n, noise=0.1, seed=0)
    return X, y * 2.0 - 1.0


def _snapshots() -> tuple[list[dict[Value, float]], object]:
    """A second callback keeping a copy of optimizer.deltas and of every value after each step."""
    seen: list[dict[Value, float]] = []

    def keep(info) -> None:
        seen.append({"deltas": dict(info.optimizer.deltas), "values": [p.data for p in info.model.parameters()]})

    return seen, keep


def test_hand_loop_deltas_are_eager_sgds_formula_exactly():
    """w_new = w + (−lr)·g and Δw = w_new − w, in float64, for every parameter at every step."""
    X, y = _moons()
    model = nn.MLP(2, [5, 1], activation="tanh", seed=1)
    lr = 0.3
    opt = nn.SGD(model.parameters(), lr=lr)
    rec = viz.RunRecorder()
    expected_d, expected_v, losses = [], [], []
    for _ in range(6):
        opt.zero_grad()
        loss = nn.mse_loss([model(list(x)) for x in X], list(y))
        loss.backward()
        params = model.parameters()
        new = [p.data + (-lr) * p.grad for p in params]
        expected_d.append([n - p.data for n, p in zip(new, params)])
        expected_v.append(new)
        losses.append(loss.data)
        opt.step()
        rec.record(model, opt, loss)
    assert rec.steps.tolist() == list(range(6))
    assert rec.names == [n for n, _ in model.named_parameters()]
    assert rec.deltas.dtype == np.float64 and rec.deltas.shape == (6, len(model.parameters()))
    assert rec.deltas.tolist() == expected_d
    assert rec.values.tolist() == expected_v
    assert rec.loss.tolist() == losses
    assert np.count_nonzero(rec.deltas) > 0.9 * rec.deltas.size  # the check is not about zeros


@pytest.mark.parametrize("compile", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("make_opt", [lambda ps: nn.SGD(ps, lr=0.5, momentum=0.9), lambda ps: nn.Adam(ps, lr=0.05)])
def test_fit_callback_keeps_what_each_step_applied(make_opt, compile):
    X, y = _moons()
    model = nn.MLP(2, [6, 6, 1], seed=2)
    opt = make_opt(model.parameters())
    rec = viz.RunRecorder()
    seen, keep = _snapshots()
    hist = nn.fit(
        model, X, y, loss="hinge", optimizer=opt, epochs=4, batch_size=12, seed=0, progress=False,
        callbacks=[rec, keep], compile=compile,
    )  # fmt: skip
    params = model.parameters()
    assert len(rec) == hist.steps == 8
    assert rec.loss.tolist() == hist.loss
    for k, snap in enumerate(seen):
        assert rec.deltas[k].tolist() == [snap["deltas"][p] for p in params], k
        assert rec.values[k].tolist() == snap["values"], k
    assert rec.values[-1].tolist() == [p.data for p in params]
    # Δw is what moved the weight: value after − value before, exactly
    assert (rec.values[1:] - rec.values[:-1] == rec.deltas[1:]).all()


def test_a_parameter_the_optimizer_does_not_update_gets_zero():
    model = nn.MLP(2, [3, 1], seed=0)
    first = model.layers[0].parameters()
    opt = nn.SGD(first, lr=0.1)
    rec = viz.RunRecorder()
    X, y = _moons(8)
    nn.fit(model, X, y, loss="mse", optimizer=opt, epochs=2, progress=False, callbacks=[rec])
    frozen = [rec.column(n) for n, p in model.named_parameters() if p not in set(first)]
    assert frozen and (rec.deltas[:, frozen] == 0.0).all()
    assert (rec.deltas[:, : len(first)] != 0.0).any()


def test_every_keeps_one_step_in_every():
    model = nn.MLP(2, [3, 1], seed=0)
    rec = viz.RunRecorder(every=3)
    X, y = _moons(8)
    hist = nn.fit(model, X, y, loss="mse", optimizer="sgd", epochs=10, progress=False, callbacks=[rec])
    assert rec.steps.tolist() == [0, 3, 6, 9]
    assert rec.loss.tolist() == [hist.loss[s] for s in (0, 3, 6, 9)]


def test_limit_stops_recording_with_one_warning_and_training_goes_on():
    model = nn.MLP(2, [3, 1], seed=0)
    rec = viz.RunRecorder(limit=3)
    X, y = _moons(8)
    with pytest.warns(viz.RunRecorderFull, match=r"limit=3 rows.*every=") as caught:
        hist = nn.fit(model, X, y, loss="mse", optimizer="sgd", epochs=7, progress=False, callbacks=[rec])
    assert len(caught) == 1 and hist.steps == 7
    assert len(rec) == 3 and rec.truncated and "truncated" in repr(rec)


def test_max_bytes_bounds_the_rows_and_refuses_a_model_too_big_for_one_row():
    model = nn.MLP(2, [3, 1], seed=0)  # 13 parameters: 208 bytes a row
    rec = viz.RunRecorder(max_bytes=208 * 2)
    X, y = _moons(8)
    with pytest.warns(viz.RunRecorderFull, match="max_bytes=416"):
        nn.fit(model, X, y, loss="mse", optimizer="sgd", epochs=4, progress=False, callbacks=[rec])
    assert len(rec) == 2
    small = viz.RunRecorder(max_bytes=100)
    with pytest.raises(ValueError, match=r"RunRecorder.record: one step of this model's 13 parameters takes 208"):
        nn.fit(model, X, y, loss="mse", optimizer="sgd", epochs=1, progress=False, callbacks=[small])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"every": 0}, "every must be an int >= 1, got 0"),
        ({"every": 1.5}, "every must be an int >= 1, got 1.5"),
        ({"limit": 0}, "limit must be an int >= 1, got 0"),
        ({"max_bytes": True}, "max_bytes must be an int >= 1, got True"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=f"^RunRecorder: {message}"):
        viz.RunRecorder(**kwargs)


def _stepped() -> tuple[nn.MLP, nn.SGD, Value]:
    model = nn.MLP(2, [2, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    loss = nn.mse_loss([model([1.0, 2.0])], [0.5])
    loss.backward()
    opt.step()
    return model, opt, loss


def test_bad_record_arguments_are_named():
    model, opt, loss = _stepped()
    rec = viz.RunRecorder()
    with pytest.raises(TypeError, match="RunRecorder.record: model must be an nn.Module"):
        rec.record([1.0], opt, loss)
    with pytest.raises(TypeError, match=r"RunRecorder.record: optimizer must have a .deltas dict.*got str"):
        rec.record(model, "sgd", loss)
    with pytest.raises(TypeError, match="RunRecorder.record: loss must be a number or a Value, got str"):
        rec.record(model, opt, "0.5")
    with pytest.raises(ValueError, match="RunRecorder.record: loss is nan; a recorded loss must be finite"):
        rec.record(model, opt, float("nan"))
    with pytest.raises(ValueError, match="RunRecorder.record: step must be an int >= 0, got -1"):
        rec.record(model, opt, loss, step=-1)
    rec.record(model, opt, loss, step=5)
    with pytest.raises(ValueError, match="RunRecorder.record: step 5 comes after step 5; steps must increase"):
        rec.record(model, opt, loss, step=5)
    other, opt2, loss2 = _stepped()
    with pytest.raises(ValueError, match="the model's parameters changed since the first recorded step"):
        rec.record(other, opt2, loss2, step=6)
    with pytest.raises(KeyError, match="no parameter named 'nope'"):
        rec.column("nope")
    assert len(rec) == 1  # nothing refused was recorded


def test_an_empty_recorder_has_empty_arrays_and_warnings_stay_quiet_otherwise():
    rec = viz.RunRecorder()
    assert len(rec) == 0 and rec.deltas.shape == (0, 0) and rec.steps.tolist() == []
    model, opt, loss = _stepped()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec.record(model, opt, loss)
    assert rec.deltas.shape == (1, 9) and not rec.truncated
