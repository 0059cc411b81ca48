"""torch's param_groups: per-group options, add_param_group, defaults, torch-shaped state dicts,
options checked on every path (constructor, assignment, load_state_dict), non-leaf parameters refused."""

import copy
import inspect
import json
import math

import pytest

import nn
from autograd import Value, vsum
from nn.optim import OPTIMIZERS, SGD, Adagrad, Adam, AdamW, RMSprop

C = [1.0, 3.0, 0.5, 2.0]
T = [0.5, -1.0, 2.0, 0.25]
W0 = [1.0, 0.25, -0.75, 0.5]


def loss_of(ws):
    return vsum([c * (w - t) ** 2 for c, w, t in zip(C, ws, T)]) + 0.3 * ws[0] * ws[2]


def grad_of(w):
    g = [2 * c * (x - t) for c, x, t in zip(C, w, T)]
    g[0] += 0.3 * w[2]
    g[2] += 0.3 * w[0]
    return g


def train(opt, ws, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_of(ws).backward()
        opt.step()
    return [w.data for w in ws]


# ---- per-group options against an independent scalar re-derivation of torch's algorithms ------


def ref_sgd_momentum(steps, lrs, mus):
    """torch.optim.SGD with momentum, each parameter with its own lr and momentum."""
    w, b = list(W0), [None] * len(W0)
    for _ in range(steps):
        g = grad_of(w)
        for i in range(len(w)):
            b[i] = g[i] if b[i] is None else mus[i] * b[i] + g[i]
            w[i] -= lrs[i] * b[i]
    return w


def ref_adam(steps, lrs, beta_pairs, eps=1e-8):
    w, m, v = list(W0), [0.0] * len(W0), [0.0] * len(W0)
    for t in range(1, steps + 1):
        g = grad_of(w)
        for i in range(len(w)):
            b1, b2 = beta_pairs[i]
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            w[i] -= lrs[i] * (m[i] / (1 - b1**t)) / (math.sqrt(v[i] / (1 - b2**t)) + eps)
    return w


def test_sgd_groups_with_their_own_lr_and_momentum():
    ws = [Value(x) for x in W0]
    opt = SGD([{"params": ws[:2]}, {"params": ws[2:], "lr": 0.01, "momentum": 0.5}], lr=0.1, momentum=0.9)
    got = train(opt, ws, 7)
    expected = ref_sgd_momentum(7, [0.1, 0.1, 0.01, 0.01], [0.9, 0.9, 0.5, 0.5])
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-14)
    # and the groups really differ: one shared lr gives other weights
    assert got != pytest.approx(ref_sgd_momentum(7, [0.1] * 4, [0.9] * 4), rel=1e-6)


def test_adam_groups_with_their_own_lr_and_betas():
    ws = [Value(x) for x in W0]
    opt = Adam([{"params": [ws[0], ws[3]], "lr": 0.05, "betas": (0.5, 0.9)}, {"params": ws[1:3]}], lr=0.1)
    got = train(opt, ws, 9)
    expected = ref_adam(9, [0.05, 0.1, 0.1, 0.05], [(0.5, 0.9), (0.9, 0.999), (0.9, 0.999), (0.5, 0.9)])
    assert got == pytest.approx(expected, rel=1e-11, abs=1e-13)


@pytest.mark.parametrize(
    "cls,first,second",
    [
        (SGD, dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.02, weight_decay=0.1, dampening=0.3, momentum=0.5)),
        (Adagrad, dict(lr=0.1, lr_decay=0.2), dict(lr=0.3, initial_accumulator_value=0.5, eps=1e-3)),
        (RMSprop, dict(lr=0.01, centered=True), dict(lr=0.02, alpha=0.9, momentum=0.5, weight_decay=0.1)),
        (Adam, dict(lr=0.05, amsgrad=True), dict(lr=0.1, betas=(0.5, 0.8), weight_decay=0.1, maximize=True)),
        (AdamW, dict(lr=0.05), dict(lr=0.1, weight_decay=0.3, eps=1e-3)),
    ],
)
def test_each_group_steps_as_its_own_optimizer_would(cls, first, second):
    ws = [Value(x) for x in W0]
    grouped = cls([{"params": ws[:2], **first}, {"params": ws[2:], **second}])
    twins = [Value(x) for x in W0]
    alone = [cls(twins[:2], **first), cls(twins[2:], **second)]
    for _ in range(6):
        for opt in (grouped, *alone):
            opt.zero_grad()
        loss_of(ws).backward()
        loss_of(twins).backward()
        for opt in (grouped, *alone):
            opt.step()
    assert [w.data for w in ws] == [w.data for w in twins]
    assert list(grouped.deltas.values()) == [*alone[0].deltas.values(), *alone[1].deltas.values()]


def test_param_groups_look_like_torch():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    opt = SGD([{"params": [a, b]}, {"params": c, "lr": 0.01}], lr=0.1, momentum=0.9)
    assert isinstance(opt.param_groups, list) and all(isinstance(g, dict) for g in opt.param_groups)
    assert opt.param_groups[0] == dict(
        params=[a, b], lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
    )
    assert opt.param_groups[1]["params"] == [c] and opt.param_groups[1]["lr"] == 0.01
    assert opt.defaults["lr"] == 0.1 and opt.params == [a, b, c]
    d = Value(4.0)
    opt.add_param_group({"params": [d], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    # the shortcut reads the first group and sets every group
    assert opt.lr == 0.1 and opt.momentum == 0.9
    opt.lr = 0.5
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5, 0.5]
    assert "3 parameters" not in repr(opt) and "in 3 groups" in repr(opt)


def test_one_group_from_a_model_or_a_list():
    model = nn.MLP(2, [3, 1], seed=0)
    for params in (model, model.parameters(), iter(model.parameters())):
        opt = Adam(params, lr=0.01)
        assert len(opt.param_groups) == 1 and opt.param_groups[0]["params"] == model.parameters()


def test_bad_groups_are_refused():
    a, b = Value(1.0, label="a"), Value(2.0)
    with pytest.raises(ValueError, match=r"params\[0\] \(a\) is already in parameter group 0"):
        SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)
    with pytest.raises(ValueError, match="SGD: unknown option 'lrr'"):
        SGD([{"params": [a], "lrr": 0.1}], lr=0.1)
    with pytest.raises(TypeError, match="all Values or all parameter-group dicts"):
        SGD([a, {"params": [b]}], lr=0.1)
    with pytest.raises(TypeError, match="as a list of dicts"):
        SGD({"params": [a]}, lr=0.1)
    with pytest.raises(TypeError, match="a dict with 'params'"):
        SGD([a], lr=0.1).add_param_group([b])
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['lr'\] must be > 0, got 0"):
        SGD([{"params": [a]}, {"params": [b], "lr": 0}], lr=0.1)


# ---- options checked on every path -----------------------------------------------------


@pytest.mark.parametrize(
    "cls,kw,text",
    [
        (SGD, dict(lr="oops"), "SGD: lr must be a finite number > 0, got 'oops'"),
        (SGD, dict(lr=True), "SGD: lr must be a finite number > 0, got bool True"),
        (SGD, dict(lr=10**400), r"SGD: lr must be a finite number > 0, got 1000.*\.\.\. \(beyond float64\)"),
        (SGD, dict(lr=0.1, momentum=-0.5), "SGD: momentum must be >= 0, got -0.5"),
        (SGD, dict(lr=0.1, nesterov="yes"), "SGD: nesterov must be True or False, got 'yes'"),
        (Adam, dict(betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
        (Adam, dict(betas=(2.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 2.0"),
        (AdamW, dict(betas=0.9), r"AdamW: betas must be a pair \(beta1, beta2\)"),
        (Adam, dict(amsgrad=1), "Adam: amsgrad must be True or False, got 1"),
        (RMSprop, dict(alpha=1.5), r"RMSprop: alpha must be in \[0, 1\], got 1.5"),
        (Adagrad, dict(eps=math.nan), "Adagrad: eps must be a finite number >= 0, got nan"),
    ],
)
def test_constructor_refuses_bad_options(cls, kw, text):
    with pytest.raises((TypeError, ValueError), match=text):
        cls([Value(1.0)], **kw)


def snapshot(opt):
    return json.dumps(opt.state_dict(), sort_keys=True)


@pytest.mark.parametrize(
    "change,text",
    [
        (lambda o: o.param_groups[0].__setitem__("lr", -1), r"Adam: param_groups\[0\]\['lr'\] must be >= 0, got -1"),
        (lambda o: o.param_groups[1].__setitem__("lr", "oops"), r"param_groups\[1\]\['lr'\] must be a finite number"),
        (lambda o: setattr(o, "betas", (2.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 2.0"),
        (lambda o: setattr(o, "betas", (0.9, 1.0)), r"Adam: betas\[1\] must be in \[0, 1\), got 1.0"),
        (lambda o: o.param_groups[0].update(lr=0.5, betas=[5, 5]), r"Adam: param_groups\[0\]\['betas'\]\[0\]"),
        (lambda o: setattr(o, "lr", math.inf), "Adam: lr must be a finite number >= 0, got inf"),
        (lambda o: setattr(o, "weight_decay", 10**400), r"Adam: weight_decay must be .*\(beyond float64\)"),
        (lambda o: setattr(o, "eps", None), "Adam: eps must be a finite number >= 0, got NoneType None"),
        (lambda o: setattr(o, "amsgrad", "no"), "Adam: amsgrad must be True or False, got 'no'"),
        (lambda o: o.param_groups[0].__setitem__("lrr", 0.1), "Adam: unknown option 'lrr'"),
        (lambda o: o.param_groups[0].__setitem__("params", []), "params cannot be replaced"),
        (lambda o: o.param_groups[0].pop("lr"), "options cannot be removed"),
        (lambda o: o.param_groups[0].__delitem__("lr"), "options cannot be removed"),
        (lambda o: o.param_groups.append({"params": [Value(0.0)]}), "use optimizer.add_param_group"),
        (lambda o: o.param_groups.__setitem__(0, {}), "use optimizer.add_param_group"),
        (lambda o: o.param_groups[0]["params"].append(Value(0.0)), "a group's params are fixed"),
        (lambda o: o.param_groups[1]["params"].__setitem__(0, Value(0.0) * 2), "a group's params are fixed"),
    ],
)
def test_assignment_is_checked_and_a_refusal_changes_nothing(change, text):
    ws = [Value(x) for x in W0]
    opt = Adam([{"params": ws[:2]}, {"params": ws[2:], "lr": 0.01}], lr=0.1)
    train(opt, ws, 2)
    before = snapshot(opt)
    with pytest.raises((TypeError, ValueError), match=text):
        change(opt)
    assert snapshot(opt) == before and len(opt.param_groups) == 2


def test_a_refused_value_would_have_broken_the_step():
    # betas[0] = 1 makes the bias correction 1 − β₁ᵗ = 0: once a ZeroDivisionError inside step()
    p = Value(1.0)
    opt = Adam([p])
    with pytest.raises(ValueError, match="betas"):
        opt.param_groups[0]["betas"] = (1.0, 0.999)
    p.grad = 1.0
    opt.step()
    assert p.data == pytest.approx(1.0 - 1e-3, rel=1e-6)


def test_nesterov_rule_holds_on_every_path():
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    with pytest.raises(ValueError, match="SGD: nesterov=True needs momentum > 0 and dampening = 0"):
        opt.momentum = 0.0
    with pytest.raises(ValueError, match="nesterov=True needs"):
        opt.param_groups[0]["dampening"] = 0.5
    opt.param_groups[0].update(nesterov=False, momentum=0.0)
    assert opt.param_groups[0]["momentum"] == 0.0


@pytest.mark.parametrize(
    "edit,text",
    [
        (lambda sd: sd["param_groups"][0].update(lr="oops"), r"param_groups\[0\]\['lr'\] must be a finite number"),
        (lambda sd: sd["param_groups"][1].update(lr=-5), r"param_groups\[1\]\['lr'\] must be >= 0, got -5"),
        (lambda sd: sd["param_groups"][0].update(betas=[5, 5]), r"param_groups\[0\]\['betas'\]\[0\] must be in"),
        (lambda sd: sd["param_groups"][0].update(lr=10**400), r"\['lr'\] must be a finite number.*beyond float64"),
        (lambda sd: sd["param_groups"][0].update(amsgrad="true"), r"\['amsgrad'\] must be True or False, got 'true'"),
        (lambda sd: sd["param_groups"][0].update(momentum=0.9), "unknown option 'momentum'"),
        (lambda sd: sd["param_groups"][0].pop("eps"), r"param_groups\[0\] lacks the options \['eps'\]"),
        (lambda sd: sd["param_groups"].pop(), "the state has 1 parameter groups, this optimizer has 2"),
        (lambda sd: sd["param_groups"][0]["params"].pop(), "has 1 parameter indices, this optimizer's group has 2"),
        (lambda sd: sd["param_groups"][1].update(params=[0, 1]), "indices repeat"),
        (
            lambda sd: sd["state"]["3"].update(step=10**400),
            r"state\[3\]\['step'\] must be an int in \[1, 9.0072e\+15\], got 1000",
        ),
        (lambda sd: sd["state"]["3"].update(exp_avg_sq=-1.0), r"state\[3\]\['exp_avg_sq'\] must be >= 0"),
        (lambda sd: sd["state"]["0"].update(exp_avg=1e999), r"state\[0\]\['exp_avg'\] must be a finite number"),
        (lambda sd: sd["state"].pop("3"), "state for 1 of a group's 2 parameters"),
        (lambda sd: sd["state"].update({"7": {}}), "state for parameter 7, which no parameter group lists"),
        (lambda sd: sd.update(optimizer="SGD"), "the state is for 'SGD', not 'Adam'"),
        (lambda sd: sd.update(hyperparameters={}), r"unknown keys \['hyperparameters'\]"),
    ],
)
def test_load_state_dict_checks_everything_and_changes_nothing_on_error(edit, text):
    ws = [Value(x) for x in W0]
    opt = Adam([{"params": ws[:2]}, {"params": ws[2:], "lr": 0.01}], lr=0.1)
    train(opt, ws, 3)
    good = json.loads(json.dumps(opt.state_dict()))
    edit(good)
    fresh = Adam([{"params": ws[:2]}, {"params": ws[2:], "lr": 0.02}], lr=0.1)
    before = snapshot(fresh)
    with pytest.raises((TypeError, ValueError), match=text):
        fresh.load_state_dict(good)
    assert snapshot(fresh) == before


def test_state_dict_has_torchs_shape_and_resumes_exactly():
    ws = [Value(x) for x in W0]
    opt = SGD([{"params": ws[:3]}, {"params": ws[3:], "lr": 0.01}], lr=0.05, momentum=0.9)
    train(opt, ws, 3)
    sd = opt.state_dict()
    assert set(sd) == {"optimizer", "state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1, 2], [3]]
    assert sd["param_groups"][1] == dict(
        lr=0.01, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False, params=[3]
    )
    assert sorted(sd["state"]) == [0, 1, 2, 3] and set(sd["state"][3]) == {"step", "momentum_buffer"}
    clone = [Value(w.data) for w in ws]
    opt2 = SGD([{"params": clone[:3]}, {"params": clone[3:]}], lr=0.3)
    opt2.load_state_dict(json.loads(json.dumps(sd)))
    assert opt2.param_groups[1]["lr"] == 0.01 and opt2.step_count == 3
    assert train(opt2, clone, 2) == train(opt, ws, 2)


def test_a_group_added_later_starts_its_own_state():
    # torch keeps state per parameter: Adam's first step on the new group is bias-corrected as step 1
    a, b = Value(1.0), Value(1.0)
    opt = Adam([a], lr=0.1)
    for _ in range(3):
        a.grad = 2.0
        opt.step()
    opt.add_param_group({"params": [b], "lr": 0.2})
    a.grad, b.grad = 2.0, -4.0
    opt.step()
    assert b.data == pytest.approx(1.0 + 0.2 * 4.0 / (4.0 + 1e-8), rel=1e-12)
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 4 and sd["state"][1]["step"] == 1


def test_an_optimizer_copy_stays_checked():
    p = Value(1.0)
    opt = SGD([{"params": [p]}], lr=0.1)
    twin = copy.deepcopy(opt)
    with pytest.raises(ValueError, match=r"SGD: param_groups\[0\]\['lr'\] must be >= 0, got -1.0"):
        twin.param_groups[0]["lr"] = -1.0
    twin.param_groups[0]["lr"] = 0.2
    assert twin.lr == 0.2 and opt.lr == 0.1


# ---- non-leaf parameters ------------------------------------------------------------------


@pytest.mark.parametrize("cls", list(OPTIMIZERS.values()))
def test_non_leaf_parameters_are_refused(cls):
    w = Value(1.0, label="w")
    with pytest.raises(ValueError, match=rf"{cls.__name__}: params\[0\] \(unlabelled, 2.0\) was computed by the op"):
        cls([w * 2])
    with pytest.raises(ValueError, match="not a leaf"):
        cls([{"params": [w]}, {"params": [w + 1]}])
    with pytest.raises(ValueError, match="not a leaf"):
        cls([w]).add_param_group({"params": [w.tanh()]})


# ---- fit's default lr -----------------------------------------------------------------------


def test_suggested_lr_is_torchs_default_except_sgd():
    assert SGD.suggested_lr == 0.1
    for cls in OPTIMIZERS.values():
        if cls is not SGD:
            assert cls.suggested_lr == inspect.signature(cls).parameters["lr"].default
