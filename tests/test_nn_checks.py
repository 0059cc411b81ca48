"""nn.checks: the one home of argument checks (numbers, ints, flags, seeds, parameter lists)."""

import math
import random

import numpy as np
import pytest

import nn
from autograd import Value
from nn import checks
from nn.checks import InputTypeError


def test_number_accepts_and_canonicalizes():
    assert checks.number("f", "x", 3) == 3.0 and type(checks.number("f", "x", 3)) is float
    assert checks.number("f", "x", np.float64(0.5), low=0, high=1) == 0.5
    assert checks.number("f", "x", 0.0, low=0) == 0.0
    assert checks.number("f", "x", math.inf, finite=False) == math.inf


@pytest.mark.parametrize(
    "x,kw,err,text",
    [
        (True, {}, InputTypeError, "f: x must be a finite number, got bool True"),
        ("0.1", {}, InputTypeError, "got '0.1'"),
        (None, {}, InputTypeError, "got NoneType None"),
        (Value(1.0), {}, InputTypeError, "got Value"),
        (math.nan, dict(finite=False), ValueError, "got nan"),
        (math.inf, {}, ValueError, "must be a finite number, got inf"),
        (-1, dict(low=0), ValueError, "f: x must be >= 0, got -1$"),
        (0.0, dict(low=0, low_open=True), ValueError, "x must be > 0, got 0.0"),
        (1.0, dict(low=0, high=1, high_open=True), ValueError, r"x must be in \[0, 1\), got 1.0"),
        (2, dict(high=1), ValueError, "x must be <= 1, got 2"),
        (math.inf, dict(low=0), ValueError, "x must be a finite number >= 0, got inf"),
        pytest.param(10**400, {}, ValueError, r"got 1000000.*\.\.\. \(beyond float64\)", id="400-digit-int"),
    ],
)
def test_number_refuses_with_a_clear_message(x, kw, err, text):
    with pytest.raises(err, match=text) as info:
        checks.number("f", "x", x, **kw)
    assert type(info.value) is err  # a range error is not reported as a type error
    assert len(str(info.value)) < 200


def test_wrong_kinds_are_both_type_and_value_errors():
    for catch in (TypeError, ValueError):
        with pytest.raises(catch):
            checks.number("f", "x", "oops")
    with pytest.raises(ValueError, match="x must be > 0, got -5; try 0.1"):
        checks.number("f", "x", -5, low=0, low_open=True, hint="try 0.1")


def test_integer_and_flag():
    assert checks.integer("f", "n", np.int64(4), low=1) == 4
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        checks.integer("f", "n", 0, low=1)
    with pytest.raises(InputTypeError, match=r"n must be an int >= 2, got 2.0"):
        checks.integer("f", "n", 2.0, low=2)
    with pytest.raises(InputTypeError, match="got bool True"):
        checks.integer("f", "n", True)
    assert checks.flag("f", "b", np.bool_(True)) is True
    with pytest.raises(InputTypeError, match="b must be True or False, got 1"):
        checks.flag("f", "b", 1)


def test_seeds():
    assert checks.random_source("f", None) is random
    r = random.Random(1)
    assert checks.random_source("f", r) is r
    assert checks.random_source("f", 5).random() == random.Random(5).random()
    with pytest.raises(InputTypeError, match="f: seed must be an int, a random.Random or None, got 'a'"):
        checks.random_source("f", "a")
    g = np.random.default_rng(0)
    assert checks.generator("f", g) is g
    assert checks.generator("f", 3).random() == np.random.default_rng(3).random()
    rs = np.random.RandomState(0)
    assert checks.generator("f", rs, legacy=True) is rs
    with pytest.raises(InputTypeError, match="numpy Generator or None, got RandomState"):
        checks.generator("f", rs)
    with pytest.raises(ValueError, match="seed must be an int >= 0, got -1"):
        checks.generator("f", -1)
    with pytest.raises(InputTypeError):
        checks.generator("f", True)


def test_parameter_list():
    model = nn.MLP(2, [2, 1], seed=0)
    assert checks.parameter_list("f", model) == model.parameters()
    a, b = Value(1.0, label="a"), Value(2.0)
    assert checks.parameter_list("f", iter([a, b])) == [a, b]
    assert checks.parameter_list("f", [], allow_empty=True) == []
    assert checks.parameter_list("f", [a, a], distinct=False) == [a, a]
    for bad, err, text in (
        ([], ValueError, "no parameters"),
        (a, InputTypeError, "got one Value"),
        ("ab", InputTypeError, "got 'ab'"),
        (3, InputTypeError, "a model or a list of Values"),
        ([a, 1.0], InputTypeError, r"params\[1\] must be a Value, got 1.0"),
        ([a, b, a], ValueError, r"params\[2\] \(a\) appears twice"),
    ):
        with pytest.raises(err, match=text):
            checks.parameter_list("f", bad)
    c = a * 2
    assert checks.parameter_list("f", [c]) == [c]
    with pytest.raises(ValueError, match=r"f: params\[1\] \(unlabelled, 2.0\) was computed by the op '\*'"):
        checks.parameter_list("f", [a, c], leaves=True)


def test_short_repr():
    assert checks.short_repr("x" * 10) == repr("x" * 10)
    assert len(checks.short_repr(list(range(1000)))) == 60


def test_checks_do_not_load_numpy():
    import subprocess
    import sys

    code = (
        "import sys\nfrom nn import checks\n"
        "checks.number('f', 'x', 1.0); checks.flag('f', 'b', True); checks.random_source('f', 3)\n"
        "assert 'numpy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
