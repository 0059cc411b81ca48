"""Schedulers on parameter groups (torch's initial_lr and base_lrs), all-or-nothing steps, checked
settings and state; an lr that would leave float64 is a clear ValueError."""

import json
import math

import pytest

import nn
from autograd import Value
from nn.optim import SGD, Adam


def two_groups(lr=0.1, small=0.01):
    return SGD([{"params": [Value(1.0)]}, {"params": [Value(2.0)], "lr": small}], lr=lr)


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def test_a_scheduler_sets_every_group_from_its_own_base_lr():
    opt = two_groups()
    sched = nn.StepLR(opt, step_size=2, gamma=0.5)
    assert sched.base_lrs == [0.1, 0.01] and [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.01]
    seen = [lrs(opt)]
    for _ in range(4):
        sched.step()
        seen.append(lrs(opt))
    assert seen == [[0.1, 0.01], [0.1, 0.01], [0.05, 0.005], [0.05, 0.005], [0.025, 0.0025]]
    assert sched.get_last_lr() == [0.025, 0.0025] and sched.last_epoch == 4


def test_cosine_on_two_groups_matches_the_closed_form():
    opt = two_groups(0.3, 0.03)
    sched = nn.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    for epoch in range(1, 6):
        sched.step()
        for base, lr in zip((0.3, 0.03), lrs(opt)):
            assert lr == pytest.approx(0.01 + (base - 0.01) * (1 + math.cos(math.pi * epoch / 4)) / 2, rel=1e-12)


def test_schedulers_chain_as_in_torch():
    opt = two_groups()
    first = nn.ExponentialLR(opt, gamma=0.5)
    first.step()
    assert lrs(opt) == [0.05, 0.005]
    later = nn.StepLR(opt, step_size=2, gamma=0.1)
    assert later.base_lrs == [0.1, 0.01]  # group.setdefault("initial_lr", ...): the first one wins
    assert lrs(opt) == [0.05, 0.005]  # torch 2.13 gives these: step 0 of StepLR keeps the current lr
    for _ in range(2):
        first.step()
        later.step()
    assert lrs(opt) == [0.0012500000000000002, 0.000125]  # torch 2.13 (0.05 · 0.5² · 0.1)
    opt.lr = 0.3  # a manual change is carried forward, not overwritten by a closed form
    first.step()
    assert lrs(opt) == [0.15, 0.15]


def test_resuming_needs_initial_lr_in_every_group():
    opt = two_groups()
    with pytest.raises(ValueError, match=r"last_epoch=4 needs each group's initial_lr.*param_groups \[0, 1\]"):
        nn.StepLR(opt, step_size=2, last_epoch=4)
    nn.StepLR(opt, step_size=2)
    resumed = nn.StepLR(opt, step_size=2, last_epoch=4)
    assert resumed.base_lrs == [0.1, 0.01] and resumed.last_epoch == 5 and lrs(opt) == [0.1, 0.01]
    resumed.step()
    assert lrs(opt) == [0.010000000000000002, 0.001]  # torch 2.13: epoch 6 is a multiple of step_size


def test_exponential_overflow_is_a_clear_value_error_that_changes_nothing():
    opt = two_groups()
    sched = nn.ExponentialLR(opt, gamma=10.0)
    for _ in range(300):
        sched.step()
    before = (lrs(opt), sched.last_epoch, sched.get_last_lr())
    with pytest.raises(
        ValueError, match=r"ExponentialLR: at epoch 3\d\d the lr of param_groups\[0\] \(now 1e\+30\d.*beyond float64"
    ):
        for _ in range(20):
            sched.step()
    stopped = sched.last_epoch
    with pytest.raises(ValueError, match="gamma=10.0"):
        sched.step()
    assert sched.last_epoch == stopped and lrs(opt)[0] < math.inf and before[1] == 300


def test_resumed_schedules_follow_torch():
    # torch 2.13: the constructor's step keeps the lr (StepLR applies its rule), later steps chain
    opt = SGD([Value(0.0)], lr=0.2)
    nn.CosineAnnealingLR(opt, T_max=10)
    resumed = nn.CosineAnnealingLR(opt, T_max=10, eta_min=0.02, last_epoch=4)
    assert opt.lr == 0.2
    resumed.step()
    assert opt.lr == pytest.approx(0.1443769410125095, rel=1e-14)  # torch 2.13, float64
    nn.LinearLR(opt, start_factor=0.5, total_iters=4, last_epoch=1)
    assert opt.lr == pytest.approx(0.1443769410125095, rel=1e-14)
    nn.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    assert opt.lr == pytest.approx(0.1443769410125095, rel=1e-14)
    nn.StepLR(opt, step_size=2, gamma=0.5, last_epoch=3)  # epoch 4: a multiple of step_size
    assert opt.lr == pytest.approx(0.1443769410125095 / 2, rel=1e-14)


@pytest.mark.parametrize(
    "make,text",
    [
        (lambda o: nn.StepLR(o, step_size=0), "StepLR: step_size must be a positive int, got 0"),
        (lambda o: nn.StepLR(o, step_size=2.0), "StepLR: step_size must be a positive int, got 2.0"),
        (lambda o: nn.ExponentialLR(o, gamma=-1), "ExponentialLR: gamma must be >= 0, got -1"),
        (lambda o: nn.ExponentialLR(o, gamma=10**400), "gamma must be a finite number >= 0.*beyond float64"),
        (lambda o: nn.LinearLR(o, start_factor=0), r"LinearLR: start_factor must be in \(0, 1\], got 0"),
        (lambda o: nn.CosineAnnealingLR(o, T_max=True), "T_max must be a positive int, got bool True"),
        (
            lambda o: nn.StepLR(o, step_size=1, last_epoch=-2),
            r"last_epoch must be an int in \[-1, 9.0072e\+15\], got -2",
        ),
        (lambda o: nn.StepLR(42, step_size=1), "StepLR: expected an nn.optim optimizer, got int"),
    ],
)
def test_settings_are_checked(make, text):
    with pytest.raises((TypeError, ValueError), match=text):
        make(two_groups())


def test_state_dict_round_trip_and_checked_load():
    opt = two_groups()
    sched = nn.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        sched.step()
    state = json.loads(json.dumps(sched.state_dict()))
    assert state == dict(step_size=2, gamma=0.1, base_lrs=[0.1, 0.01], last_epoch=3, _last_lr=lrs(opt))
    opt2 = two_groups(1.0, 1.0)
    sched2 = nn.StepLR(opt2, step_size=5)
    opt2.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    sched2.load_state_dict(state)
    sched.step()
    sched2.step()
    assert lrs(opt2) == lrs(opt) == pytest.approx([0.001, 0.0001])
    for key, bad, text in (
        ("gamma", "x", "StepLR.load_state_dict: gamma must be a finite number >= 0, got 'x'"),
        ("step_size", -1, "step_size must be a positive int, got -1"),
        ("last_epoch", 10**400, r"last_epoch must be an int in \[-1, 9.0072e\+15\], got 1000"),
        ("base_lrs", [0.1], "base_lrs must be a list of 2 learning rates"),
        ("base_lrs", [0.1, -1], r"base_lrs\[1\] must be >= 0, got -1"),
    ):
        broken = dict(state, **{key: bad})
        before = sched2.state_dict()
        with pytest.raises((TypeError, ValueError), match=text):
            sched2.load_state_dict(broken)
        assert sched2.state_dict() == before
    with pytest.raises(ValueError, match="expected the keys"):
        sched2.load_state_dict({**state, "optimizer": None})


def test_an_adam_group_lr_of_zero_from_a_schedule_is_allowed():
    opt = Adam([Value(1.0)], lr=0.1)
    sched = nn.CosineAnnealingLR(opt, T_max=2)
    sched.step()
    sched.step()
    assert opt.lr == pytest.approx(0.0, abs=1e-18) and sched.base_lr == 0.1


def test_a_group_added_after_the_scheduler_is_not_silently_left_out():
    opt = two_groups()
    sched = nn.ExponentialLR(opt, gamma=0.5)
    opt.add_param_group({"params": [Value(3.0)], "lr": 1.0})
    with pytest.raises(ValueError, match="ExponentialLR.step: the optimizer has 3 parameter groups but"):
        sched.step()
    assert lrs(opt) == [0.1, 0.01, 1.0]


@pytest.mark.parametrize(
    "name,kw,at7,at19",
    [  # torch 2.13, float64: SGD groups with lr 0.3 and 0.03, lrs before epochs 7 and 19
        ("StepLR", dict(step_size=3, gamma=0.5), [0.075, 0.0075], [0.0046875, 0.00046875]),
        (
            "ExponentialLR",
            dict(gamma=0.9),
            [0.14348907000000002, 0.014348907000000003],
            [0.040525551530189774, 0.004052555153018977],
        ),
        ("LinearLR", dict(start_factor=0.25, total_iters=6), [0.2999999999999999, 0.03], [0.2999999999999999, 0.03]),
        (
            "CosineAnnealingLR",
            dict(T_max=5, eta_min=0.01),
            [0.11019253581563264, 0.016909830056250526],
            [0.27230746418436763, 0.02809016994374948],
        ),
    ],
)
def test_two_groups_match_torch_exactly(name, kw, at7, at19):
    opt = two_groups(0.3, 0.03)
    sched = getattr(nn, name)(opt, **kw)
    seen = []
    for _ in range(20):
        seen.append(lrs(opt))
        sched.step()
    assert seen[7] == at7 and seen[19] == at19
