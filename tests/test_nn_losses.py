"""Every loss and penalty: values by hand, gradients against autograd.numerical_grad, stability."""

import math

import pytest

import nn
from autograd import Value, grad, numerical_grad, topological_order
from nn.losses import bce_loss, bce_with_logits, cross_entropy, hinge_loss, l1_penalty, l2_penalty, mse_loss


def check_grads(f, xs, tol=1e-6):
    values = [Value(x) for x in xs]
    analytic = grad(f(*values), values)
    numeric = numerical_grad(f, xs)
    assert analytic == pytest.approx(numeric, rel=tol, abs=tol)


def test_mse_value_and_gradient():
    assert mse_loss([Value(1.0), Value(3.0)], [0.0, 1.0]).data == pytest.approx((1 + 4) / 2)
    assert mse_loss(Value(2.0), 0.5).data == pytest.approx(2.25)
    # a batch of two samples with two outputs each: the mean over all four
    assert mse_loss([[Value(1.0), Value(0.0)], [Value(2.0), Value(2.0)]], [[0, 0], [0, 0]]).data == pytest.approx(2.25)
    check_grads(lambda a, b, c: mse_loss([a, b, c], [0.3, -1.0, 2.0]), [0.7, 0.1, -0.4])


def test_bce_value_gradient_and_clamp():
    p = [0.9, 0.2, 0.6]
    y = [1.0, 0.0, 0.3]
    expected = -sum(t * math.log(q) + (1 - t) * math.log(1 - q) for q, t in zip(p, y)) / 3
    assert bce_loss([Value(q) for q in p], y).data == pytest.approx(expected, rel=1e-14)
    check_grads(lambda a, b, c: bce_loss([a, b, c], y), p)
    # torch clamps log at -100: p = 0 with y = 1 costs 100, not inf
    assert bce_loss([Value(0.0)], [1.0]).data == pytest.approx(100.0)
    assert bce_loss([Value(1.0)], [1.0]).data == pytest.approx(0.0)
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\].*bce_with_logits"):
        bce_loss([Value(1.5)], [1.0])
    with pytest.raises(ValueError, match="targets must lie in \\[0, 1\\]"):
        bce_loss([Value(0.5)], [2.0])


def test_bce_with_logits_matches_bce_of_sigmoid_and_is_stable():
    zs = [2.0, -1.0, 0.3]
    y = [1.0, 0.0, 1.0]
    a = bce_with_logits([Value(z) for z in zs], y).data
    b = bce_loss([Value(z).sigmoid() for z in zs], y).data
    assert a == pytest.approx(b, rel=1e-12)
    check_grads(lambda p, q, r: bce_with_logits([p, q, r], y), zs)
    assert bce_with_logits([Value(1000.0)], [0.0]).data == pytest.approx(1000.0)
    assert bce_with_logits([Value(-1000.0)], [0.0]).data == pytest.approx(0.0)


def test_cross_entropy_value_gradient_and_stability():
    logits = [1.0, 2.0, 0.5]
    expected = math.log(sum(math.exp(v) for v in logits)) - logits[1]
    assert cross_entropy([Value(v) for v in logits], 1).data == pytest.approx(expected, rel=1e-14)
    check_grads(lambda a, b, c: cross_entropy([a, b, c], 2), logits)
    # a batch: the mean of the per-sample losses
    batch = cross_entropy([[Value(1.0), Value(2.0)], [Value(0.0), Value(0.0)]], [0, 1]).data
    assert batch == pytest.approx((math.log(1 + math.e) + math.log(2)) / 2, rel=1e-12)
    check_grads(lambda a, b, c, d: cross_entropy([[a, b], [c, d]], [1, 0]), [0.5, -0.2, 1.3, 0.1])
    # log-sum-exp: huge logits do not overflow
    assert cross_entropy([Value(1000.0), Value(0.0)], 1).data == pytest.approx(1000.0)
    with pytest.raises(ValueError, match="class index in 0..2"):
        cross_entropy([Value(1.0), Value(2.0), Value(3.0)], 3)


def test_hinge_is_micrograds_max_margin():
    scores = [0.5, -2.0, 1.5]
    y = [1, 1, -1]
    expected = (0.5 + 3.0 + 2.5) / 3
    assert hinge_loss([Value(s) for s in scores], y).data == pytest.approx(expected)
    check_grads(lambda a, b, c: hinge_loss([a, b, c], y), scores)
    with pytest.raises(ValueError, match="-1 or \\+1.*y\\*2 - 1"):
        hinge_loss([Value(0.5)], [0])


def test_penalties():
    ws = [0.5, -2.0, 1.5]
    assert l1_penalty([Value(w) for w in ws]).data == pytest.approx(4.0)
    assert l2_penalty([Value(w) for w in ws], alpha=1e-4).data == pytest.approx(1e-4 * 6.5)
    check_grads(lambda a, b, c: l1_penalty([a, b, c], alpha=0.3), ws)
    check_grads(lambda a, b, c: l2_penalty([a, b, c], alpha=0.3), ws)
    model = nn.MLP(2, [2, 1], seed=0)
    assert l2_penalty(model).data == pytest.approx(sum(p.data**2 for p in model.parameters()))


def test_mismatched_lengths_and_types():
    with pytest.raises(ValueError, match="2 predictions but 3 targets"):
        mse_loss([Value(1.0), Value(2.0)], [1, 2, 3])
    with pytest.raises(TypeError, match="predictions"):
        mse_loss("abc", [1])


def test_softmax_and_log_softmax_gradients():
    check_grads(lambda a, b, c: nn.softmax([a, b, c])[0], [0.2, -1.0, 3.0])
    check_grads(lambda a, b, c: nn.log_softmax([a, b, c])[2], [0.2, -1.0, 3.0])


# ---- numerics at the edges, against PyTorch 2.13 float64 (values pasted as constants) ----------


def test_bce_of_a_tiny_probability_keeps_its_digits():
    # torch.nn.functional.binary_cross_entropy(tensor(p, float64), tensor(0.)) for p = 1e-9, 1e-17
    for p, torch_loss in ((1e-9, 1.0000000005000001e-09), (1e-17, 1e-17)):
        x = Value(p)
        loss = bce_loss([x], [0.0])
        assert loss.data == pytest.approx(torch_loss, rel=1e-15, abs=0)
        loss.backward()
        # d/dp −log(1 − p) = 1/(1 − p), exactly (torch clamps its gradient's denominator at 1e-12,
        # so its 1e-17 gradient is 1.000000004e-05: the exact value is the reference here)
        assert x.grad == pytest.approx(1.0 / (1.0 - p), rel=1e-15, abs=0)
    check_grads(lambda a, b: bce_loss([a, b], [0.0, 0.25]), [1e-2, 0.2])


def test_bce_is_torchs_log1p_form_bit_for_bit_for_large_probabilities():
    # torch.nn.functional.binary_cross_entropy(tensor(p, float64), tensor(0.)) and its gradient:
    # torch takes log1p(−p) for every p; these p are ones where log(1 − p) rounds differently
    for p, torch_loss, torch_grad in (
        (0.567048, 0.8371284116279261, 2.309724865574013),
        (0.995279, 5.355734637417992, 211.81952976064505),
        (0.621127, 0.9705542224039818, 2.6394068724876143),
        (0.836568, 1.8113582772967844, 6.118752753438739),
    ):
        x = Value(p)
        loss = bce_loss([x], [0.0])
        loss.backward()
        assert loss.data == torch_loss, p  # bit for bit
        # torch's gradient is p/((1 − p)·p) (its denominator clamped at 1e-12): rounding apart, 1/(1 − p)
        assert x.grad == pytest.approx(torch_grad, rel=4e-16, abs=0)
        assert "log1p" in {v.op for v in topological_order(loss)}


def test_bce_with_logits_keeps_a_confident_correct_score_finite_and_exact():
    # torch's binary_cross_entropy_with_logits (float64): z=20, y=1 and z=50, y=1
    for z, y, torch_loss in ((20.0, 1.0, 2.061153620314381e-09), (50.0, 1.0, 1.9287498479639178e-22)):
        x = Value(z)
        loss = bce_with_logits([x], [y])
        assert loss.data == pytest.approx(torch_loss, rel=1e-15, abs=0)
        loss.backward()
        assert x.grad == pytest.approx(-1.0 / (1.0 + math.exp(z)), rel=1e-14, abs=0)  # σ(z) − 1 = −σ(−z)
    # the mirror case, z=-20 with y=0, is the same number (torch itself gives 2.061153026e-09 there)
    assert bce_with_logits([Value(-20.0)], [0.0]).data == pytest.approx(math.log1p(math.exp(-20.0)), rel=1e-15, abs=0)
    # the derivative σ(z) − y on both sides of 0 and at 0, against central differences
    check_grads(lambda a, b, c, d: bce_with_logits([a, b, c, d], [1.0, 0.0, 0.3, 1.0]), [8.0, -7.0, 0.0, -0.5])


def test_softmax_and_cross_entropy_take_logits_at_the_ends_of_float64():
    # torch.softmax([1e308, -1e308]) = [1, 0]; its gradients (of output 0) are 0
    xs = [Value(1e308), Value(-1e308)]
    probs = nn.softmax(xs)
    assert [p.data for p in probs] == [1.0, 0.0]
    probs[0].backward()
    assert [x.grad for x in xs] == [0.0, 0.0]
    # torch.nn.functional.cross_entropy: 0.0 with zero gradients for the winning class
    xs = [Value(1e308), Value(-1e308)]
    loss = cross_entropy(xs, 0)
    loss.backward()
    assert loss.data == 0.0 and [x.grad for x in xs] == [0.0, 0.0]
    xs = [Value(-1e308), Value(5.0), Value(-1e308)]
    loss = cross_entropy(xs, 1)
    loss.backward()
    assert loss.data == 0.0 and [x.grad for x in xs] == [0.0, 0.0, 0.0]
    # a loss beyond float64 (torch: inf) is an error naming the function, not a silent inf
    with pytest.raises(OverflowError, match="cross_entropy: the target's logit"):
        cross_entropy([Value(1e308), Value(-1e308)], 1)
    with pytest.raises(OverflowError, match="log_softmax: entry 1"):
        nn.log_softmax([Value(1e308), Value(-1e308)])
