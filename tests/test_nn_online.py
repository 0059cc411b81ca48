"""Learning without a fixed labelled data set: online learning from a stream (``fit`` with
``y=None``, ``batch_size=1``: one update per arriving sample, each recorded in the History) and
the autoencoder (unsupervised: the targets are the inputs)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from autograd import no_grad
from nn.autoencoder import Autoencoder, make_latent
from nn.layers import MLP
from nn.losses import mse_loss
from nn.optim import SGD, Adam
from nn.training import StopTraining, fit


def linear_stream(n, w, b, seed):
    """A one-shot generator of (x, y) pairs with y = w·x + b: data that arrives, is seen once, is gone."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = float(rng.uniform(-1, 1))
        yield [x], w * x + b


def test_one_update_per_sample_in_arrival_order():
    model = MLP(1, [3, 1], activation="tanh", seed=0)
    twin = MLP(1, [3, 1], activation="tanh", seed=0)
    hist = fit(
        model,
        linear_stream(50, 1.5, -0.2, seed=1),
        batch_size=1,
        shuffle=False,
        optimizer=SGD(model.parameters(), lr=0.1),
        progress=False,
    )
    assert hist.steps == len(hist.loss) == len(hist.delta) == len(hist.lr) == 50
    assert hist.epochs == 1 and hist.steps_per_epoch == [50]
    # the same updates by hand, sample by sample: identical weights and per-step losses
    opt = SGD(twin.parameters(), lr=0.1)
    losses = []
    for x, y in linear_stream(50, 1.5, -0.2, seed=1):
        opt.zero_grad()
        loss = mse_loss([twin(x)], [y])
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert hist.loss == losses
    assert [p.data for p in model.parameters()] == [p.data for p in twin.parameters()]
    assert hist.epoch_loss == [pytest.approx(sum(losses) / 50)]


def test_online_learning_tracks_a_target_that_changes():
    # the relation flips half way through the stream; an online learner follows it
    def drifting():
        yield from linear_stream(300, 2.0, 0.0, seed=0)
        yield from linear_stream(300, -1.0, 0.5, seed=1)

    model = MLP(1, [1], seed=0)
    hist = fit(model, drifting(), batch_size=1, optimizer=SGD(model.parameters(), lr=0.1), progress=False)
    w, b = (p.data for p in model.parameters())
    assert w == pytest.approx(-1.0, abs=0.01) and b == pytest.approx(0.5, abs=0.01)
    assert max(hist.loss[300:305]) > 1.0  # the change hurts at first ...
    assert max(hist.loss[-50:]) < 1e-4  # ... and is learned away
    assert hist.steps == 600


def test_an_endless_stream_is_consumed_until_a_callback_stops():
    def endless():
        for k in itertools.count():
            x = math.sin(k)
            yield [x], 3.0 * x

    model = MLP(1, [1], seed=0)
    seen = []

    def stop_when_learned(info):
        seen.append(info.step)
        if len(seen) >= 10 and max(info.history.loss[-10:]) < 1e-8:
            raise StopTraining

    hist = fit(
        model,
        endless(),
        batch_size=1,
        optimizer=SGD(model.parameters(), lr=0.2),
        progress=False,
        callbacks=[stop_when_learned],
    )
    assert hist.stopped_early and hist.steps == len(seen) and seen == list(range(hist.steps))
    assert model.layers[0].neurons[0].w[0].data == pytest.approx(3.0, abs=1e-3)


def test_mini_batches_from_a_stream_and_stream_errors():
    model = MLP(1, [1], seed=0)
    hist = fit(model, linear_stream(10, 1.0, 0.0, seed=0), batch_size=4, progress=False)
    assert hist.steps_per_epoch == [3]  # 4 + 4 + 2 samples
    with pytest.raises(ValueError, match="one-shot iterator"):
        fit(model, linear_stream(10, 1.0, 0.0, seed=0), batch_size=1, epochs=2, progress=False)
    with pytest.raises(ValueError, match="shuffle=True needs arrays"):
        fit(model, linear_stream(10, 1.0, 0.0, seed=0), batch_size=1, shuffle=True, progress=False)


# ---- the autoencoder: unsupervised learning of a low-dimensional code ------------------------
def test_autoencoder_shapes_names_and_seed():
    ae = Autoencoder(6, 2, hidden=[5, 4], seed=3)
    assert len(ae.encode([0.1] * 6)) == 2 and len(ae([0.1] * 6)) == 6
    assert len(Autoencoder(3, 1, hidden=4, seed=0).encode([0.0] * 3)) == 1
    sd = ae.to_torch_state_dict()
    assert list(sd)[:2] == ["encoder.0.weight", "encoder.0.bias"]
    assert np.shape(sd["encoder.2.weight"]) == (2, 4) and np.shape(sd["decoder.2.weight"]) == (6, 5)
    assert ae.state_dict() == Autoencoder(6, 2, hidden=[5, 4], seed=3).state_dict()
    assert ae.state_dict() != Autoencoder(6, 2, hidden=[5, 4], seed=4).state_dict()
    with pytest.raises(ValueError, match="code must be a positive int"):
        Autoencoder(6, 0)
    with pytest.raises(ValueError, match=r"X must have shape \(samples, 6\)"):
        ae.reconstruction_loss([[1.0, 2.0]])


def code_quality(ae, X, Z):
    """Reconstruction loss, and how well the code determines the true causes Z (R² of a linear fit)."""
    with no_grad():
        loss = ae.reconstruction_loss(X).data
        codes = np.array([[v.data for v in ae.encode(x)] for x in X.tolist()])
    A = np.column_stack([codes, np.ones(len(codes))])
    fit_z = A @ np.linalg.lstsq(A, Z, rcond=None)[0]
    r2 = 1 - ((fit_z - Z) ** 2).sum(0) / ((Z - Z.mean(0)) ** 2).sum(0)
    return loss, r2


def test_autoencoder_learns_the_low_dimensional_cause_without_labels():
    X, Z = make_latent(100, nin=6, code=2, noise=0.02, seed=0)
    results = {}
    for code in (1, 2):
        ae = Autoencoder(6, code, hidden=[8], seed=0)
        before, _ = code_quality(ae, X, Z)
        hist = fit(ae, X, X, optimizer=Adam(ae.parameters(), lr=0.02), batch_size=10, epochs=60, seed=0, progress=False)
        after, r2 = code_quality(ae, X, Z)
        assert hist.epoch_loss[-1] < hist.epoch_loss[0]
        results[code] = (before / after, r2)
    ratio, r2 = results[2]
    assert ratio >= 20  # a 2-number code rebuilds 6-number samples made from 2 causes
    assert min(r2) > 0.9  # and the code it found carries both causes
    assert results[1][0] < ratio / 5  # one number is not enough: the bottleneck matters
