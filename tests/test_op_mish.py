"""mish, added as one registry row to show that an op needs nothing else: its facets are checked
by test_registry.py; here its numbers are held to torch.nn.functional.mish (float64)."""

import pytest

import nn
from autograd import Value, grad

# Generated once with torch 2.13.0: x, F.mish(x), its first derivative (autograd.grad) and its
# second (autograd.grad of the first with create_graph=True).
TORCH_MISH = [
    (-30.0, -2.807286890651921e-12, -2.713710660963392e-12, -2.620134431274741e-12),
    (-5.0, -0.033576237730161704, -0.02674749801990194, -0.01985067826260836),
    (-1.5, -0.29809974216680674, -0.06409781589225866, 0.15461475356154317),
    (-0.3, -0.15113317713833455, 0.40851087693570215, 0.6212317330497977),
    (0.0, 0.0, 0.6, 0.64),
    (0.7, 0.5611483776438518, 0.9687948682001859, 0.3539764156171277),
    (2.0, 1.9439589595339946, 1.0693179342794896, -0.05772466740829399),
    (8.0, 7.999998200644843, 1.0000033725836872, -6.2920095065510445e-06),
    (40.0, 40.0, 1.0, 0.0),
]


@pytest.mark.parametrize("x, value, first, second", TORCH_MISH)
def test_mish_equals_torch_float64_to_the_second_derivative(x, value, first, second):
    v = Value(x)
    out = v.mish()
    d1 = grad(out, v, create_graph=True)
    d2 = grad(d1, v)
    assert out.data == pytest.approx(value, rel=1e-15, abs=0)
    assert d1.data == pytest.approx(first, rel=2e-15, abs=0)
    # mish'' subtracts terms of size ~1 for x >> 0 (1 − t², t → 1): torch and we both keep it to a
    # few ulps of 1 there (at x = 8 the exact value is -6.2920095078779e-06; torch is 1.3e-15 off).
    assert d2 == pytest.approx(second, rel=1e-13, abs=4e-15)


def test_mish_is_an_activation_with_no_nn_edit():
    model = nn.MLP(2, [3, 1], activation="mish", seed=0)
    hidden = model.layers[0]([0.5, -1.0])
    assert [h.op for h in hidden] == ["mish"] * 3
