"""Optimizers against hand-computed steps and an independent scalar re-derivation of torch's
documented algorithms; the Δw record; state dicts; schedulers; gradient clipping."""

import json
import math

import pytest

import nn
from autograd import Value, vsum
from nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop

# A fixed quadratic bowl: L(w) = Σ cᵢ (wᵢ − tᵢ)² + 0.3·w₀·w₁, so gradients change every step.
C = [1.0, 3.0, 0.5]
T = [0.5, -1.0, 2.0]
W0 = [1.0, 0.25, -0.75]


def loss_of(ws):
    return vsum([c * (w - t) ** 2 for c, w, t in zip(C, ws, T)]) + 0.3 * ws[0] * ws[1]


def grad_of(ws):
    g = [2 * c * (w - t) for c, w, t in zip(C, ws, T)]
    g[0] += 0.3 * ws[1]
    g[1] += 0.3 * ws[0]
    return g


def run_ours(cls, steps, **kw):
    ws = [Value(w) for w in W0]
    opt = cls(ws, **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss_of(ws).backward()
        opt.step()
    return [w.data for w in ws], opt


# ---- independent reference: torch's pseudo-code, one scalar at a time ----------------


def ref_sgd(steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    w = list(W0)
    b = [None] * len(w)
    for _ in range(steps):
        g = grad_of(w)
        for i in range(len(w)):
            gi = -g[i] if maximize else g[i]
            if weight_decay:
                gi = gi + weight_decay * w[i]
            if momentum:
                b[i] = gi if b[i] is None else momentum * b[i] + (1 - dampening) * gi
                gi = gi + momentum * b[i] if nesterov else b[i]
            w[i] = w[i] - lr * gi
    return w


def ref_adagrad(steps, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    w = list(W0)
    s = [initial_accumulator_value] * len(w)
    for t in range(1, steps + 1):
        g = grad_of(w)
        clr = lr / (1 + (t - 1) * lr_decay)
        for i in range(len(w)):
            gi = g[i] + weight_decay * w[i]
            s[i] += gi * gi
            w[i] -= clr * gi / (math.sqrt(s[i]) + eps)
    return w


def ref_rmsprop(steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    w = list(W0)
    v = [0.0] * len(w)
    gav = [0.0] * len(w)
    b = [0.0] * len(w)
    for _ in range(steps):
        g = grad_of(w)
        for i in range(len(w)):
            gi = g[i] + weight_decay * w[i]
            v[i] = alpha * v[i] + (1 - alpha) * gi * gi
            vt = v[i]
            if centered:
                gav[i] = alpha * gav[i] + (1 - alpha) * gi
                vt = vt - gav[i] ** 2
            d = gi / (math.sqrt(vt) + eps)
            if momentum > 0:
                b[i] = momentum * b[i] + d
                w[i] -= lr * b[i]
            else:
                w[i] -= lr * d
    return w


def ref_adam(steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    b1, b2 = betas
    w = list(W0)
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    vmax = [0.0] * len(w)
    for t in range(1, steps + 1):
        g = grad_of(w)
        for i in range(len(w)):
            gi = g[i]
            if decoupled:
                w[i] = w[i] * (1 - lr * weight_decay)
            else:
                gi = gi + weight_decay * w[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            mhat = m[i] / (1 - b1**t)
            vmax[i] = max(vmax[i], v[i])
            vhat = (vmax[i] if amsgrad else v[i]) / (1 - b2**t)
            w[i] -= lr * mhat / (math.sqrt(vhat) + eps)
    return w


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.8, dampening=0.5),
    dict(lr=0.1, weight_decay=0.2),
    dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.1),
    dict(lr=0.1, maximize=True),
]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_reference(kw):
    ours, _ = run_ours(SGD, 6, **kw)
    assert ours == pytest.approx(ref_sgd(6, **kw), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(lr=0.1, lr_decay=0.5),
        dict(lr=0.1, weight_decay=0.3),
        dict(lr=0.2, initial_accumulator_value=0.7, eps=1e-3),
    ],
)
def test_adagrad_matches_reference(kw):
    ours, _ = run_ours(Adagrad, 6, **kw)
    assert ours == pytest.approx(ref_adagrad(6, **kw), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(lr=0.01, centered=True),
        dict(lr=0.01, momentum=0.9),
        dict(lr=0.02, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1),
    ],
)
def test_rmsprop_matches_reference(kw):
    ours, _ = run_ours(RMSprop, 6, **kw)
    assert ours == pytest.approx(ref_rmsprop(6, **kw), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(lr=0.1),
        dict(lr=0.1, betas=(0.5, 0.9), eps=1e-3),
        dict(lr=0.05, weight_decay=0.1),
        dict(lr=0.05, amsgrad=True),
    ],
)
def test_adam_matches_reference(kw):
    ours, _ = run_ours(Adam, 8, **kw)
    assert ours == pytest.approx(ref_adam(8, **kw), rel=1e-11, abs=1e-13)


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.05, weight_decay=0.5), dict(lr=0.05, weight_decay=0.1, amsgrad=True)])
def test_adamw_matches_reference(kw):
    ours, _ = run_ours(AdamW, 8, **kw)
    full = dict(weight_decay=1e-2)
    full.update(kw)
    assert ours == pytest.approx(ref_adam(8, decoupled=True, **full), rel=1e-11, abs=1e-13)


def one_step(cls, w, g, **kw):
    p = Value(w)
    opt = cls([p], **kw)
    p.grad = g
    opt.step()
    return p.data, opt


def test_hand_computed_steps():
    assert one_step(SGD, 1.0, 2.0, lr=0.1)[0] == pytest.approx(0.8)
    assert one_step(SGD, 1.0, 2.0, lr=0.1, weight_decay=0.5)[0] == pytest.approx(0.75)
    assert one_step(SGD, 1.0, 2.0, lr=0.1, momentum=0.9, nesterov=True)[0] == pytest.approx(0.62)
    # momentum: b1 = g = 2 -> 0.8; b2 = 0.9·2 + 2 = 3.8 -> 0.42; dampening 0.5: b2 = 1.8 + 1 -> 0.52
    for kw, second in ((dict(momentum=0.9), 0.42), (dict(momentum=0.9, dampening=0.5), 0.52)):
        p = Value(1.0)
        opt = SGD([p], lr=0.1, **kw)
        for expected in (0.8, second):
            p.grad = 2.0
            opt.step()
            assert p.data == pytest.approx(expected)
    # Adam's first step is lr·g/(|g| + eps) whatever the betas (bias correction)
    assert one_step(Adam, 1.0, 2.0, lr=0.1)[0] == pytest.approx(1.0 - 0.1 * 2.0 / (2.0 + 1e-8), rel=1e-15)
    assert one_step(Adam, 1.0, -4.0, lr=0.1, betas=(0.5, 0.5))[0] == pytest.approx(1.1, rel=1e-8)
    # AdamW decays first: 1·(1 − 0.1·0.5) − 0.1
    assert one_step(AdamW, 1.0, 2.0, lr=0.1, weight_decay=0.5)[0] == pytest.approx(0.85, rel=1e-8)
    # Adagrad's first step is lr·g/(|g| + eps); RMSprop's is lr·g/(√(1−α)·|g| + eps)
    assert one_step(Adagrad, 1.0, 2.0, lr=0.1)[0] == pytest.approx(0.9, rel=1e-9)
    assert one_step(RMSprop, 1.0, 2.0, lr=0.01)[0] == pytest.approx(0.9, rel=1e-7)
    # centered RMSprop's first step: v − ḡ² = 0.01·4 − 0.0004 = 0.0396
    assert one_step(RMSprop, 1.0, 2.0, lr=0.01, centered=True)[0] == pytest.approx(
        1.0 - 0.01 * 2.0 / (math.sqrt(0.0396) + 1e-8), rel=1e-12
    )


@pytest.mark.parametrize(
    "cls,kw",
    [(SGD, dict(lr=0.1, momentum=0.9)), (Adagrad, {}), (RMSprop, dict(centered=True)), (Adam, {}), (AdamW, {})],
)
def test_deltas_record_exactly_new_minus_old(cls, kw):
    ws = [Value(w) for w in W0]
    opt = cls(ws, **kw)
    assert opt.deltas == {}
    for _ in range(3):
        before = [w.data for w in ws]
        opt.zero_grad()
        loss_of(ws).backward()
        opt.step()
        assert set(opt.deltas) == set(ws)
        for w, b in zip(ws, before):
            assert opt.deltas[w] == w.data - b
            assert opt.deltas[w] != 0.0


@pytest.mark.parametrize(
    "cls,kw",
    [
        (SGD, dict(lr=0.1, momentum=0.9)),
        (Adagrad, dict(lr_decay=0.1)),
        (RMSprop, dict(centered=True, momentum=0.5)),
        (Adam, dict(amsgrad=True)),
        (AdamW, {}),
    ],
)
def test_state_dict_round_trip_through_json_resumes_exactly(cls, kw):
    ws = [Value(w) for w in W0]
    opt = cls(ws, **kw)
    for _ in range(3):
        opt.zero_grad()
        loss_of(ws).backward()
        opt.step()
    saved = json.loads(json.dumps(opt.state_dict()))
    assert saved["state"]["0"]["step"] == 3
    clone = [Value(w.data) for w in ws]
    opt2 = cls(clone, **kw)
    opt2.load_state_dict(saved)
    for a, b in ((ws, opt), (clone, opt2)):
        for _ in range(2):
            b.zero_grad()
            loss_of(a).backward()
            b.step()
    assert [w.data for w in clone] == [w.data for w in ws]


def test_load_state_dict_rejects_mismatches():
    ws = [Value(w) for w in W0]
    opt = Adam(ws)
    opt.zero_grad()
    loss_of(ws).backward()
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="for 'Adam', not 'SGD'"):
        SGD(ws, lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 2"):
        Adam(ws[:2]).load_state_dict(sd)
    broken = json.loads(json.dumps(sd))
    broken["state"]["1"]["exp_avg"] = "x"
    fresh = Adam(ws)
    with pytest.raises(
        ValueError, match=r"Adam.load_state_dict: state\[1\]\['exp_avg'\] must be a finite number, got 'x'"
    ):
        fresh.load_state_dict(broken)
    assert fresh.step_count == 0 and fresh.state == {}


def test_lr_is_adjustable_and_validated():
    p = Value(1.0)
    opt = SGD([p], lr=0.1)
    opt.lr = 0.5
    p.grad = 1.0
    opt.step()
    assert p.data == 0.5
    with pytest.raises(ValueError, match="SGD: lr must be >= 0, got -1.0; typical values"):
        opt.lr = -1.0
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0, got nan"):
        opt.lr = float("nan")
    with pytest.raises(ValueError, match="lr must be > 0"):
        Adam([p], lr=0.0)
    with pytest.raises(ValueError, match="nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="appears twice"):
        SGD([p, p], lr=0.1)
    assert opt.momentum == 0.0 and Adam([p]).betas == (0.9, 0.999)


def test_step_with_non_finite_gradient_changes_nothing():
    p, q = Value(1.0), Value(2.0)
    opt = SGD([p, q], lr=0.1, momentum=0.9)
    p.grad, q.grad = 1.0, math.inf
    with pytest.raises(ValueError, match=r"parameter 1 .*gradient inf.*smaller lr"):
        opt.step()
    assert (p.data, q.data, opt.step_count, opt.state) == (1.0, 2.0, 0, {})
    assert opt.state_dict()["state"] == {}


def test_optimizer_accepts_a_module():
    model = nn.MLP(2, [3, 1], seed=0)
    opt = SGD(model, lr=0.1)
    assert opt.params == model.parameters()


# ---- schedulers: closed forms against torch's recursive (chainable) rules ----------------


def chainable(kind, base, epochs, **kw):
    lrs = []
    lr = base
    for e in range(epochs):
        if kind == "step":
            if e > 0 and e % kw["step_size"] == 0:
                lr *= kw["gamma"]
        elif kind == "exp":
            if e > 0:
                lr *= kw["gamma"]
        elif kind == "linear":
            s, t, n = kw["start_factor"], kw["end_factor"], kw["total_iters"]
            if e == 0:
                lr = base * s
            elif e <= n:
                lr *= 1 + (t - s) / (n * s + (e - 1) * (t - s))
        elif kind == "cos":
            T, eta = kw["T_max"], kw["eta_min"]
            if e == 0:
                lr = base
            elif (e - 1 - T) % (2 * T) == 0:
                lr = lr + (base - eta) * (1 - math.cos(math.pi / T)) / 2
            else:
                lr = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (lr - eta) + eta
        lrs.append(lr)
    return lrs


@pytest.mark.parametrize(
    "cls,kind,kw",
    [
        (nn.StepLR, "step", dict(step_size=3, gamma=0.5)),
        (nn.ExponentialLR, "exp", dict(gamma=0.9)),
        (nn.LinearLR, "linear", dict(start_factor=0.25, end_factor=1.0, total_iters=6)),
        (nn.LinearLR, "linear", dict(start_factor=1.0, end_factor=0.1, total_iters=10)),
        (nn.CosineAnnealingLR, "cos", dict(T_max=5, eta_min=0.01)),
    ],
)
def test_schedulers_match_torch_chainable_form(cls, kind, kw):
    opt = SGD([Value(0.0)], lr=0.3)
    sched = cls(opt, **kw)
    got = [opt.lr]
    for _ in range(19):
        sched.step()
        got.append(opt.lr)
    assert got == pytest.approx(chainable(kind, 0.3, 20, **kw), rel=1e-9, abs=1e-15)
    assert sched.get_last_lr() == [opt.lr] and sched.last_epoch == 19


def test_scheduler_state_dict_resumes():
    opt = SGD([Value(0.0)], lr=1.0)
    sched = nn.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        sched.step()
    state = json.loads(json.dumps(sched.state_dict()))
    opt_state = json.loads(json.dumps(opt.state_dict()))
    opt2 = SGD([Value(0.0)], lr=1.0)
    sched2 = nn.StepLR(opt2, step_size=5)
    opt2.load_state_dict(opt_state)  # as in torch: the lr lives in the optimizer's state
    sched2.load_state_dict(state)
    sched.step()
    sched2.step()
    assert opt2.lr == opt.lr == pytest.approx(0.01)


def test_clip_grad_norm():
    a, b = Value(0.0), Value(0.0)
    a.grad, b.grad = 3.0, 4.0
    total = nn.clip_grad_norm([a, b], max_norm=1.0)
    assert total == 5.0
    assert math.hypot(a.grad, b.grad) == pytest.approx(1.0, rel=1e-6)
    assert a.grad / b.grad == pytest.approx(0.75)
    a.grad, b.grad = 0.3, 0.4
    assert nn.clip_grad_norm([a, b], max_norm=1.0) == pytest.approx(0.5)
    assert (a.grad, b.grad) == (0.3, 0.4)
    a.grad, b.grad = -3.0, 2.0
    assert nn.clip_grad_norm([a, b], max_norm=1.5, norm_type=math.inf) == 3.0
    assert a.grad == pytest.approx(-1.5, rel=1e-6)
    with pytest.raises(ValueError, match="max_norm"):
        nn.clip_grad_norm([a], max_norm=0)


def test_hyperparameters_are_settable_attributes():
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.momentum = 0.0
    assert opt.param_groups[0]["momentum"] == 0.0
    p.grad = 1.0
    opt.step()
    p.grad = 1.0
    opt.step()
    assert p.data == pytest.approx(0.8)  # no momentum any more
    with pytest.raises(ValueError, match="SGD: weight_decay must be >= 0, got -1.0"):
        opt.weight_decay = -1.0
    adam = Adam([p])
    adam.betas = (0.5, 0.6)
    assert adam.state_dict()["param_groups"][0]["betas"] == [0.5, 0.6]
