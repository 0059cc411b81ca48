"""Every loss and penalty: values by hand, gradients against autograd.numerical_grad, stability."""

import math

import pytest

import nn
from autograd import Value, grad, numerical_grad
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
