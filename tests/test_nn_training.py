"""fit and History: micrograd's demo, the three gradient-descent modes, streams, callbacks, bad input."""

import math
import random

import numpy as np
import pytest

import nn
from autograd import Value
from nn import MLP


def micrograd_data():
    # np.random.seed(1337); sklearn.datasets.make_moons(n_samples=100, noise=0.1)
    X, y = nn.make_moons(n_samples=100, noise=0.1, seed=np.random.RandomState(1337))
    return X, y * 2 - 1


def test_micrograd_demo_unchanged_reaches_100_percent():
    """micrograd's demo.ipynb loop, verbatim apart from imports, with its published numbers."""
    X, y = micrograd_data()
    random.seed(1337)
    model = MLP(2, [16, 16, 1])

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    for k in range(100):
        total_loss, acc = loss()
        if k == 0:
            # micrograd's notebook prints: step 0 loss 0.8958441028683222, accuracy 50.0%
            assert total_loss.data == pytest.approx(0.8958441028683222, rel=1e-12)
            assert acc == 0.5
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    # micrograd's notebook prints: step 99 loss 0.010978370135492717, accuracy 100.0%
    assert total_loss.data == pytest.approx(0.010978370135492717, rel=1e-9)
    assert acc == 1.0


@pytest.mark.parametrize("compile", [False, True])
def test_fit_runs_the_demo_recipe(compile):
    X, y = micrograd_data()
    model = MLP(2, [16, 16, 1], seed=random.Random(1337))
    opt = nn.SGD(model.parameters(), lr=1.0)
    sched = nn.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)  # lr = 1 - 0.9k/100
    hist = nn.fit(
        model, X, y, loss="hinge", optimizer=opt, l2=1e-4, epochs=100, scheduler=sched, progress=False, compile=compile
    )
    assert hist.steps == hist.epochs == 100
    assert hist.lr[:3] == pytest.approx([1.0, 0.991, 0.982])
    assert hist.loss[0] == pytest.approx(0.8958441028683222, rel=1e-12)
    assert hist.loss[-1] == pytest.approx(0.010978370135492717, rel=1e-9)
    scores = [model(list(x)).data for x in X]
    assert np.mean([(s > 0) == (t > 0) for s, t in zip(scores, y)]) == 1.0
    if not compile:
        assert hist.accuracy[-1] == 1.0 and hist.epoch_accuracy[-1] == 1.0
    assert set(hist.delta[0]) == {"layers.0", "layers.1", "layers.2"}
    assert all(v > 0 for v in hist.delta[0].values())


def test_history_delta_is_mean_abs_delta_per_layer():
    X, y = nn.make_linear(20, n_features=2, seed=0)
    model = MLP(2, [3, 1], seed=0)
    record = []
    hist = nn.fit(
        model,
        X,
        y,
        optimizer=nn.SGD(model.parameters(), lr=0.05),
        epochs=1,
        batch_size=5,
        shuffle=False,
        progress=False,
        callbacks=[lambda info: record.append(dict(info.optimizer.deltas))],
    )
    last = record[-1]
    layer0 = model.layers[0].parameters()
    assert hist.delta[-1]["layers.0"] == pytest.approx(sum(abs(last[p]) for p in layer0) / len(layer0))


@pytest.mark.parametrize("batch_size,expected", [(None, 1), (1, 30), (8, 4), (10, 3), (30, 1), (100, 1)])
def test_three_gradient_descent_modes_update_counts(batch_size, expected):
    X, y = nn.make_linear(30, seed=1)
    model = MLP(1, [4, 1], seed=0)
    hist = nn.fit(model, X, y, optimizer="sgd", lr=0.01, epochs=3, batch_size=batch_size, progress=False)
    assert hist.steps_per_epoch == [expected] * 3
    assert hist.steps == 3 * expected


def test_batches_cover_every_sample_once():
    X = np.arange(10.0).reshape(10, 1)
    y = np.arange(10)
    got = [list(yb) for _, yb in nn.batches(X, y, batch_size=4, seed=0)]
    assert [len(b) for b in got] == [4, 4, 2]
    assert sorted(sum(got, [])) == list(range(10))
    assert [list(yb) for _, yb in nn.batches(X, y, batch_size=None, shuffle=False)] == [list(range(10))]
    assert got == [list(yb) for _, yb in nn.batches(X, y, batch_size=4, seed=0)]


def test_fit_learns_linear_regression_with_adam():
    X, y = nn.make_linear(64, n_features=2, w=[2.0, -1.0], b=0.5, noise=0.01, seed=0)
    model = nn.Layer(2, 1, activation="linear", seed=0)
    hist = nn.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=nn.Adam(model.parameters(), lr=0.05),
        epochs=60,
        batch_size=16,
        seed=0,
        progress=False,
    )
    assert hist.epoch_loss[-1] < 1e-3
    n = model.neurons[0]
    assert [w.data for w in n.w] == pytest.approx([2.0, -1.0], abs=0.03)
    assert n.b.data == pytest.approx(0.5, abs=0.03)
    assert hist.accuracy == []  # regression: no accuracy
    assert set(hist.delta[0]) == {"layer"}


def test_fit_cross_entropy_on_spiral_accuracy_improves():
    X, y = nn.make_spiral(60, n_classes=3, seed=0)
    model = MLP(2, [12, 3], activation="tanh", init="xavier_uniform", seed=0)
    hist = nn.fit(
        model, X, y, loss="cross_entropy", optimizer="adam", lr=0.05, epochs=30, batch_size=None, progress=False
    )
    assert hist.epoch_accuracy[-1] > hist.epoch_accuracy[0]
    assert hist.epoch_loss[-1] < hist.epoch_loss[0]


def test_fit_online_stream_batch_size_one():
    X, y = nn.make_linear(25, seed=3)
    pairs = ((list(x), t) for x, t in zip(X, y))  # a one-shot generator
    model = nn.Layer(1, 1, activation="linear", seed=0)
    hist = nn.fit(model, pairs, batch_size=1, optimizer="sgd", lr=0.1, progress=False)
    assert hist.steps == 25 and hist.steps_per_epoch == [25]
    with pytest.raises(ValueError, match="one-shot iterator"):
        nn.fit(model, iter([([0.0], 1.0)]), epochs=2, progress=False)
    with pytest.raises(ValueError, match="shuffle=True"):
        nn.fit(model, [([0.0], 1.0)], shuffle=True, progress=False)
    hist = nn.fit(model, [([0.0], 1.0), ([1.0], 2.0), ([2.0], 3.0)], batch_size=2, epochs=2, progress=False)
    assert hist.steps_per_epoch == [2, 2]


def test_callbacks_and_stop_training():
    X, y = nn.make_linear(10, seed=0)
    model = nn.Layer(1, 1, activation="linear", seed=0)
    seen = []

    class Watch:
        def __init__(self):
            self.epochs = []

        def on_epoch_end(self, info):
            self.epochs.append(info.epoch)

    def stop_after_three(info):
        seen.append(info.step)
        if info.step == 2:
            raise nn.StopTraining

    watch = Watch()
    hist = nn.fit(model, X, y, batch_size=1, epochs=5, callbacks=[stop_after_three, watch], progress=False)
    assert seen == [0, 1, 2] and hist.stopped_early and hist.steps == 3
    assert watch.epochs == []
    hist = nn.fit(model, X, y, epochs=2, callbacks=[watch], progress=False)
    assert watch.epochs == [0, 1]


def test_fit_progress_false_is_silent(capsys):
    X, y = nn.make_linear(10, seed=0)
    nn.fit(nn.Layer(1, 1, activation="linear", seed=0), X, y, epochs=2, progress=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_fit_progress_bar_goes_to_stderr_only(capsys):
    X, y = nn.make_linear(10, seed=0)
    nn.fit(nn.Layer(1, 1, activation="linear", seed=0), X, y, epochs=2, progress=True)
    out = capsys.readouterr()
    assert out.out == "" and "fit" in out.err


def test_fit_bad_input():
    X, y = nn.make_linear(10, n_features=2, seed=0)
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        nn.fit(model, X, y[:9], progress=False)
    with pytest.raises(ValueError, match="X has 3 features per sample but the model takes 2"):
        nn.fit(model, np.ones((10, 3)), y, progress=False)
    with pytest.raises(ValueError, match="fit: lr must be > 0, got 0.0"):
        nn.fit(model, X, y, lr=0.0, progress=False)
    with pytest.raises(ValueError, match="lr must be > 0"):
        nn.SGD(model.parameters(), lr=-1.0)
    with pytest.raises(ValueError, match="unknown loss 'mae'.*hinge"):
        nn.fit(model, X, y, loss="mae", progress=False)
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        nn.fit(model, X, y, optimizer="adamax", progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        nn.fit(model, X, y, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        nn.fit(model, X, y, epochs=0, progress=False)
    with pytest.raises(ValueError, match="nan or inf"):
        nn.fit(model, np.full((10, 2), np.nan), y, progress=False)


def test_fit_divergence_names_the_step_and_suggests_smaller_lr():
    X, y = nn.make_linear(20, n_features=1, noise=0.0, seed=0)
    X = X * 1e3
    model = MLP(1, [8, 8, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(nn.TrainingDiverged, match=r"step \d+.*smaller lr") as info:
        nn.fit(model, X, y * 1e3, optimizer="sgd", lr=10.0, epochs=50, batch_size=1, progress=False)
    assert isinstance(info.value, ValueError)
    assert all(math.isfinite(v) for v in model.state_dict().values())
    assert model.state_dict() != before


def test_fit_checks_labels_for_the_loss():
    X, y = nn.make_moons(20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match="hinge.*-1 or \\+1.*y \\* 2 - 1"):
        nn.fit(model, X, y, loss="hinge", progress=False)
    with pytest.raises(ValueError, match="bce.*\\[0, 1\\]"):
        nn.fit(model, X, y * 2 - 1, loss="bce_with_logits", progress=False)
    with pytest.raises(ValueError, match="class index"):
        nn.fit(MLP(2, [4, 2], seed=0), X, y - 0.5, loss="cross_entropy", progress=False)
    hist = nn.fit(model, X, y, loss="bce_with_logits", optimizer="adam", lr=0.05, epochs=5, progress=False)
    assert len(hist.epoch_accuracy) == 5


def test_compile_refuses_active_dropout():
    X, y = nn.make_linear(8, seed=0)
    model = nn.Sequential(nn.Layer(1, 4, seed=0), nn.Dropout(0.5, seed=0), nn.Layer(4, 1, activation="linear"))
    model.eval()  # fit switches to training mode, where dropout is active
    with pytest.raises(ValueError, match="dropout"):
        nn.fit(model, X, y, compile=True, progress=False)


def test_fit_restores_the_garbage_collector_state():
    import gc

    X, y = nn.make_linear(6, seed=0)
    model = nn.Layer(1, 1, activation="linear", seed=0)
    during = []
    assert gc.isenabled()
    nn.fit(model, X, y, epochs=2, batch_size=2, progress=False, callbacks=[lambda info: during.append(gc.isenabled())])
    assert gc.isenabled() and during == [True] * 6  # callbacks run with the collector on
    gc.disable()
    try:
        nn.fit(model, X, y, progress=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_fit_is_reproducible_from_seeds():
    X, y = nn.make_moons(40, noise=0.2, seed=5)

    def run():
        model = MLP(2, [8, 8, 1], activation="tanh", init="xavier_uniform", seed=0)
        hist = nn.fit(
            model,
            X,
            y * 2 - 1,
            loss="hinge",
            optimizer="adam",
            lr=0.02,
            epochs=3,
            batch_size=7,
            seed=11,
            progress=False,
        )
        return hist.loss, model.state_dict()

    first, second = run(), run()
    assert first == second
    model = MLP(2, [8, 8, 1], activation="tanh", init="xavier_uniform", seed=0)
    other = nn.fit(
        model, X, y * 2 - 1, loss="hinge", optimizer="adam", lr=0.02, epochs=3, batch_size=7, seed=12, progress=False
    )
    assert other.loss != first[0]  # a different shuffle


def test_fit_checks_every_argument_before_the_first_step():
    X, y = nn.make_linear(12, n_features=2, seed=0)
    bad = [
        ({"scheduler": 42}, TypeError, "fit: scheduler must be an nn scheduler"),
        ({"callbacks": [42]}, TypeError, "fit: callback 42 is not callable"),
        ({"callbacks": 42}, TypeError, "fit: callbacks must be a list"),
        ({"progress": "yes"}, TypeError, "fit: progress must be True or False"),
        ({"compile": "no"}, TypeError, "fit: compile must be True or False"),
        ({"shuffle": "yes"}, TypeError, "fit: shuffle must be True or False"),
        ({"seed": "x"}, TypeError, "fit: seed must be an int"),
        ({"l2": -1.0}, ValueError, "fit: l2 must be >= 0, got -1.0"),
        ({"epochs": 2.5}, TypeError, "fit: epochs must be a positive int"),
    ]
    for kwargs, error, message in bad:
        model = MLP(2, [3, 1], seed=0)
        before = model.state_dict()
        steps = []
        kwargs = {"callbacks": [steps.append], "epochs": 2, **kwargs}
        with pytest.raises(error, match=message):
            nn.fit(model, X, y, **kwargs)
        assert steps == [] and model.state_dict() == before, kwargs
    model = MLP(2, [3, 1], seed=0)
    other = nn.StepLR(nn.SGD(MLP(2, [1], seed=1).parameters(), lr=0.1), step_size=1)
    with pytest.raises(ValueError, match="scheduler was built for a different optimizer"):
        nn.fit(model, X, y, optimizer=nn.SGD(model.parameters(), lr=0.1), scheduler=other, progress=False)


def test_an_empty_dataset_gets_a_clear_message():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match=r"fit: X and y are empty \(0 samples\)"):
        nn.fit(model, np.empty((0, 2)), np.empty(0), progress=False)
    with pytest.raises(ValueError, match="fit: the stream of \\(x, y\\) pairs is empty"):
        nn.fit(model, [], progress=False)
    with pytest.raises(ValueError, match=r"batches: X and y are empty \(0 samples\)"):
        list(nn.batches(np.empty((0, 2)), np.empty(0), batch_size=4))


def test_printing_a_history_shows_a_summary():
    X, y = nn.make_moons(40, seed=0)
    model = MLP(2, [4, 1], seed=0)
    hist = nn.fit(model, X, y, loss="bce_with_logits", epochs=30, batch_size=1, progress=False)
    text = repr(hist)
    assert str(hist) == text and len(text) < 200  # 1200 steps: the lists in full would be thousands of characters
    assert text.startswith("History(steps=1200; epochs=30; loss ")
    assert f"-> {hist.loss[-1]:.4g}" in text and "layers layers.0, layers.1" in text
    assert repr(nn.History()) == "History(steps=0, epochs=0)"


def test_an_optimizer_given_by_name_gets_its_suggested_lr():
    X, y = nn.make_linear(4, n_features=2, seed=0)
    expected = {"sgd": 0.1, "adagrad": 1e-2, "rmsprop": 1e-2, "adam": 1e-3, "adamw": 1e-3}  # torch's, but SGD's 0.1
    for name, lr in expected.items():
        hist = nn.fit(MLP(2, [1], seed=0), X, y, optimizer=name, progress=False)
        assert hist.lr == [lr], name
    assert nn.fit(MLP(2, [1], seed=0), X, y, optimizer="adam", lr=0.5, progress=False).lr == [0.5]
