"""Callbacks in ``fit(compile=True)``: what a callback reads is exact, what it writes is honoured.

Every test runs the same callbacks in eager ``fit`` and in compiled ``fit`` (weights in arrays)
and compares what the callbacks saw and where training ended, to 1e-12.  The cost side is held
by counting the binding's syncs and reloads (no clocks): a callback that says
``touches_values = False`` costs no sync, a callback that writes nothing costs no reload.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from autograd import Value
from autograd.compiler import compile as trace
from nn.optim.binding import ArrayBinding

RTOL = 1e-12
EPOCHS = 4  # 30 samples in batches of 8: 4 steps per epoch, the last batch (6) a second compiled graph


def _fit(compiled: bool, callbacks: list, optimizer: str = "adam") -> tuple[nn.MLP, nn.Optimizer, nn.History]:
    X, y = nn.make_spiral(30, n_classes=3, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 3], activation="tanh", seed=1)
    ps = model.parameters()
    opt = nn.Adam(ps, lr=0.01) if optimizer == "adam" else nn.SGD(ps[1::2], lr=0.05, momentum=0.9)
    hist = nn.fit(
        model, X, y, loss="cross_entropy", optimizer=opt, epochs=EPOCHS, batch_size=8, seed=3, progress=False,
        compile=compiled, callbacks=callbacks,
    )  # fmt: skip
    return model, opt, hist


def _close(actual: list[float], expected: list[float], what: str) -> None:
    assert len(actual) == len(expected), what
    scale = max(map(abs, expected), default=0.0)
    bad = [(i, a, e) for i, (a, e) in enumerate(zip(actual, expected)) if abs(a - e) > RTOL * max(abs(e), scale)]
    assert not bad, f"{what}: {len(bad)} of {len(actual)} differ, e.g. {bad[:3]}"


def _flat_state(sd: dict) -> list[float]:
    return [float(v) for i in sorted(sd["state"]) for _, v in sorted(sd["state"][i].items())]


def _both(make_callbacks, optimizer: str = "adam") -> list[tuple[nn.MLP, nn.Optimizer, nn.History, list]]:
    """Eager, then compiled, each with fresh callbacks from ``make_callbacks(seen)``."""
    out = []
    for compiled in (False, True):
        seen: list = []
        model, opt, hist = _fit(compiled, make_callbacks(seen), optimizer)
        out.append((model, opt, hist, seen))
    return out


def _same_end(eager, compiled, what: str) -> None:
    (m0, o0, h0, _), (m1, o1, h1, _) = eager, compiled
    _close(h1.loss, h0.loss, f"{what}: loss history")
    _close([p.data for p in m1.parameters()], [p.data for p in m0.parameters()], f"{what}: weights")
    _close(_flat_state(o1.state_dict()), _flat_state(o0.state_dict()), f"{what}: optimizer state")


# ---- reads ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "sgd-half-frozen"])
def test_a_callback_reads_exact_weights_gradients_deltas_and_state_at_every_step(optimizer):
    def make(seen):
        def look(info):
            ps = info.model.parameters()
            deltas = info.optimizer.deltas
            seen.append(
                [p.data for p in ps]
                + [p.grad for p in ps]
                + [deltas.get(p, 0.0) for p in ps]
                + _flat_state(info.optimizer.state_dict())
                + [float(v) for v in np.ravel(list(info.model.state_dict().values()))]
            )

        return [look]

    eager, compiled = _both(make, optimizer)
    assert len(eager[3]) == 4 * EPOCHS
    for k, (a, e) in enumerate(zip(compiled[3], eager[3])):
        _close(a, e, f"step {k}")
    _same_end(eager, compiled, optimizer)


def test_a_recorder_after_a_writing_callback_records_the_written_weights():
    from viz import RunRecorder

    def make(seen):
        def halve(info):
            if info.step % 3 == 1:
                for p in info.model.parameters()[::4]:
                    p.data = p.data * 0.5

        def read(info):  # touches Values (the default), so nothing is read back between halve and it
            ps = info.model.parameters()
            weights, deltas = info.optimizer.weights_and_deltas(ps)
            seen.append(weights.tolist() + deltas.tolist() + [p.data for p in ps])

        rec = RunRecorder()
        seen.append(rec)
        return [halve, rec, halve, read]

    eager, compiled = _both(make)
    rec0, rec1 = eager[3][0], compiled[3][0]
    assert len(rec1) == len(rec0) == 4 * EPOCHS
    _close(rec1.values.ravel().tolist(), rec0.values.ravel().tolist(), "recorded values")
    _close(rec1.deltas.ravel().tolist(), rec0.deltas.ravel().tolist(), "recorded deltas")
    for k, (a, e) in enumerate(zip(compiled[3][1:], eager[3][1:])):
        _close(a, e, f"weights read after a second write, step {k}")
    _same_end(eager, compiled, "halve + recorder")


def test_weights_and_deltas_reads_the_bound_arrays_exactly_without_a_sync():
    w, x = Value(2.0, label="w"), Value(1.0)
    b, c = Value(-1.0, label="b"), Value(0.5, label="c")
    fn = trace((w * x + b) ** 2 + c * x, inputs=[x], parameters=[w, b, c])
    opt = nn.SGD([w, b], lr=0.1)  # c is in the arrays but not updated: its Δw is 0
    fn.bind(opt)
    opt.zero_grad()
    fn([1.5])
    opt.step()
    assert w.data == 2.0  # the Values fell behind
    weights, deltas = opt.weights_and_deltas([c, w, b])
    fn.unbind()
    assert weights.tolist() == [c.data, w.data, b.data]
    assert deltas.tolist() == [0.0, opt.deltas[w], opt.deltas[b]]
    g = 2 * (2.0 * 1.5 - 1.0)
    assert deltas.tolist() == pytest.approx([0.0, -0.1 * g * 1.5, -0.1 * g], rel=1e-15)


# ---- writes -----------------------------------------------------------------------------------------


def _writer(kind: str):
    """A callback writing at steps 2 and 9 (kind: what it writes)."""

    def write(info):
        if info.step not in (2, 9):
            return
        ps = info.model.parameters()
        if kind == "weights":
            for p in ps[::3]:
                p.data = p.data * 0.5 - 0.01
        elif kind == "state":
            sd = info.optimizer.state_dict()
            for entry in list(sd["state"].values())[::2]:
                entry["exp_avg"] = 0.25 * entry["exp_avg"] + 0.001
            info.optimizer.load_state_dict(sd)
        elif kind == "same-value":
            for p in ps:
                p.data = p.data
        elif kind == "equal-float":
            for p in ps:
                p.data = float(repr(p.data))  # a new float object equal to the old
        elif kind == "one-weight":
            ps[5].data = ps[5].data + 1e-3

    return write


@pytest.mark.parametrize("kind", ["weights", "state", "same-value", "equal-float", "one-weight"])
def test_what_a_callback_writes_is_honoured_by_the_next_step(kind):
    eager, compiled = _both(lambda seen: [_writer(kind)])
    _same_end(eager, compiled, kind)


def test_a_write_in_an_epoch_end_callback_is_honoured():
    class Shrink:
        def on_epoch_end(self, info):
            for p in info.model.parameters()[1::2]:
                p.data *= 0.9

    eager, compiled = _both(lambda seen: [Shrink()])
    _same_end(eager, compiled, "epoch end")


def test_a_zero_whose_sign_flips_counts_as_a_change():
    w, x = Value(0.0, label="w"), Value(1.0)
    fn = trace(w * x + w * w, inputs=[x], parameters=[w])
    opt = nn.SGD([w], lr=0.1)
    binding = fn.bind(opt) or opt._binding
    assert isinstance(binding, ArrayBinding)
    assert not opt.values_changed()
    w.data = -0.0  # equal to 0.0, yet another number
    assert opt.values_changed()
    opt.reload()
    assert math.copysign(1.0, fn.param_values[0]) == -1.0
    assert not opt.values_changed()
    w.data = float("-0.0")  # the same number again, another object
    assert not opt.values_changed()
    w.data = math.nan
    assert opt.values_changed()


# ---- non-finite writes ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_callback_that_makes_a_weight_non_finite_raises_training_diverged_like_eager(bad):
    def spoil(info):
        if info.step == 5:
            info.model.parameters()[4].data = bad

    messages = []
    for compiled in (False, True):
        with pytest.raises(nn.TrainingDiverged) as err:
            _fit(compiled, [spoil])
        messages.append(str(err.value))
    assert messages[1] == messages[0]
    assert messages[0] == (
        f"fit: step 5 (epoch 1): a callback set parameter 4 (layers.0.neurons.1.w.1) to {bad!r}; "
        "weights must stay finite numbers"
    )


def test_a_nan_gradient_the_next_zero_grad_clears_changes_nothing_as_in_eager():
    def spoil(info):
        if info.step == 5:
            for p in info.model.parameters()[:2]:
                p.grad = math.nan

    eager, compiled = _both(lambda seen: [spoil])
    _same_end(eager, compiled, "adam")


def test_a_non_finite_gradient_of_a_parameter_no_optimizer_zeroes_raises_training_diverged_like_eager():
    # eager's next backward would refuse to add to it; fit names it right after the callback
    def spoil(info):
        if info.step == 5:
            info.model.parameters()[2].grad = -math.inf  # SGD updates ps[1::2] only

    messages = []
    for compiled in (False, True):
        with pytest.raises(nn.TrainingDiverged) as err:
            _fit(compiled, [spoil], "sgd-half-frozen")
        messages.append(str(err.value))
    assert messages[1] == messages[0]
    assert messages[0] == (
        "fit: step 5 (epoch 1): a callback set the gradient of parameter 2 (layers.0.neurons.0.b) to -inf; "
        "the optimizer does not zero it, so the next backward would refuse it"
    )


# ---- what it costs: counted, not timed --------------------------------------------------------------


class _Count:
    def __init__(self, monkeypatch):
        self.sync = self.reload = 0
        sync, reload = ArrayBinding.sync, ArrayBinding.reload

        def counted_sync(b):
            self.sync += not b.in_sync
            sync(b)

        def counted_reload(b):
            self.reload += 1
            reload(b)

        monkeypatch.setattr(ArrayBinding, "sync", counted_sync)
        monkeypatch.setattr(ArrayBinding, "reload", counted_reload)


class _Quiet:
    touches_values = False

    def __init__(self):
        self.losses = []

    def __call__(self, info):
        self.losses.append(info.history.loss[-1])


def test_callbacks_that_touch_no_value_cost_no_sync_and_readers_no_reload(monkeypatch):
    from viz import RunRecorder

    def plain(info):
        plain.steps += 1

    plain.steps = 0
    plain.touches_values = False  # a function says it with an attribute
    count = _Count(monkeypatch)
    quiet, rec = _Quiet(), RunRecorder()
    _fit(True, [quiet, rec, plain])
    # two graphs (batches of 8 and of 6): each bind reloads, each switch and fit's end sync once
    assert (count.sync, count.reload) == (2 * EPOCHS, 2 * EPOCHS)
    assert len(quiet.losses) == len(rec) == plain.steps == 4 * EPOCHS

    count = _Count(monkeypatch)
    _fit(True, [lambda info: [p.data for p in info.model.parameters()]])
    assert count.reload == 2 * EPOCHS  # the binds only: reading changes nothing
    # one sync per step for the reader; a graph switch syncs again (zero_grad came between), the end not
    assert count.sync == 4 * EPOCHS + (2 * EPOCHS - 1)

    count = _Count(monkeypatch)
    _fit(True, [_writer("one-weight")])
    assert count.reload == 2 * EPOCHS + 2  # a write is read back once, after the step that made it


def test_a_recorder_reads_an_optimizer_without_weights_and_deltas_through_deltas_and_data():
    from viz import RunRecorder

    class Search:  # the shape of nn.evolve's optimizers: a .deltas dict and nothing else
        deltas: dict = {}

    model = nn.MLP(2, [3, 1], seed=0)
    ps = model.parameters()
    rec, search = RunRecorder(), Search()
    rec.record(model, search, 1.0)
    ps[1].data += 0.25
    search.deltas = {ps[1]: 0.25}
    rec.record(model, search, 0.5)
    assert rec.deltas.tolist() == [[0.0] * len(ps), [0.0, 0.25] + [0.0] * (len(ps) - 2)]
    assert rec.values[1].tolist() == [p.data for p in ps] and rec.values[0][1] == ps[1].data - 0.25
