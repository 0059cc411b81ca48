"""clip_grad_norm on extreme gradients: scaled before squaring, non-finite gradients reported, not spread."""

import math

import pytest

import nn
from autograd import Value


def grads(*gs):
    ps = [Value(0.0) for _ in gs]
    for p, g in zip(ps, gs):
        p.grad = g
    return ps


def test_huge_gradients_with_a_finite_norm_clip_exactly():
    ps = grads(3e200, -4e200)  # (3e200)**2 overflowed: OverflowError before
    assert nn.clip_grad_norm(ps, max_norm=1.0) == pytest.approx(5e200, rel=1e-15)
    assert [p.grad for p in ps] == pytest.approx([0.6, -0.8], rel=1e-12)
    ps = grads(1e-200, 1e-200)  # squares underflow to 0 without the scaling
    assert nn.clip_grad_norm(ps, max_norm=1.0) == pytest.approx(math.sqrt(2) * 1e-200, rel=1e-15)
    assert ps[0].grad == 1e-200


def test_other_norms_match_the_definition():
    ps = grads(3.0, -4.0, 12.0)
    assert nn.clip_grad_norm(ps, 100.0, norm_type=1) == pytest.approx(19.0)
    assert nn.clip_grad_norm(ps, 100.0, norm_type=3) == pytest.approx((27 + 64 + 1728) ** (1 / 3), rel=1e-14)
    assert nn.clip_grad_norm(ps, 100.0, norm_type=math.inf) == 12.0
    assert nn.clip_grad_norm(grads(0.0, 0.0), 1.0) == 0.0
    assert nn.clip_grad_norm([], 1.0) == 0.0


def test_a_norm_beyond_float64_still_clips_to_max_norm():
    ps = grads(*[1.5e308] * 4)  # true norm 3e308
    assert nn.clip_grad_norm(ps, max_norm=2.0) == math.inf
    assert [p.grad for p in ps] == pytest.approx([1.0] * 4, rel=1e-12)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_gradients(bad):
    ps = grads(1.0, bad, 2.0)
    ps[1].label = "w"
    with pytest.raises(ValueError, match=rf"clip_grad_norm: parameter 1 \(w\) has gradient {bad!r}"):
        nn.clip_grad_norm(ps, 1.0, error_if_nonfinite=True)
    total = nn.clip_grad_norm(ps, 1.0)
    assert math.isnan(total) if bad != bad else total == math.inf
    assert ps[0].grad == 1.0 and ps[2].grad == 2.0  # left as they were, not zeroed or nan (torch's result)


def test_arguments_are_checked():
    ps = grads(1.0)
    for kw, text in (
        (dict(max_norm=0), "clip_grad_norm: max_norm must be > 0, got 0"),
        (dict(max_norm="1"), "max_norm must be a finite number > 0, got '1'"),
        (dict(max_norm=1.0, norm_type=0), "norm_type must be > 0, got 0"),
        (dict(max_norm=1.0, error_if_nonfinite="yes"), "error_if_nonfinite must be True or False"),
    ):
        with pytest.raises((TypeError, ValueError), match=text):
            nn.clip_grad_norm(ps, **kw)
    with pytest.raises(TypeError, match=r"params\[0\] must be a Value, got 1.0"):
        nn.clip_grad_norm([1.0], 1.0)
    model = nn.MLP(2, [2, 1], seed=0)
    for p in model.parameters():
        p.grad = 10.0
    nn.clip_grad_norm(model, 1.0)
    assert math.hypot(*[p.grad for p in model.parameters()]) == pytest.approx(1.0, rel=1e-5)
