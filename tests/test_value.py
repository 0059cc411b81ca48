"""Construction, conversions, comparisons, identity and repr of Value."""

import math
from fractions import Fraction

import numpy as np
import pytest

from autograd import Value


@pytest.mark.parametrize("data", [3, 2.5, True, np.float64(1.5), np.float32(0.25), np.int64(7), Fraction(1, 4)])
def test_accepts_real_numbers_as_float(data):
    v = Value(data)
    assert type(v.data) is float and v.data == float(data)
    assert v.grad == 0.0 and v.label == "" and v.op == "" and v.children == () and v.is_leaf


@pytest.mark.parametrize("data", ["1.0", None, 1j, [1.0], {"a": 1}, np.array([1.0, 2.0]), np.complex128(1)])
def test_rejects_everything_else_naming_the_type(data):
    with pytest.raises(TypeError, match=type(data).__name__):
        Value(data)


@pytest.mark.parametrize("data", [math.nan, math.inf, -math.inf])
def test_rejects_non_finite(data):
    with pytest.raises(ValueError, match="finite"):
        Value(data)


def test_rejects_non_string_label():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_identity_equality_and_hashing():
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b
    assert len({a, b}) == 2
    d = {a: "a", b: "b"}
    assert d[a] == "a"


def test_ordering_compares_data():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a
    assert a < 1.5 and a >= 1 and 0.5 < a
    assert sorted([b, a]) == [a, b]
    assert max([a, b]) is b
    with pytest.raises(TypeError, match="compare"):
        _ = a < "x"


def test_float_and_repr():
    a = Value(2.0, label="a")
    assert float(a) == 2.0
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    c = a * 3
    assert repr(c) == "Value(data=6.0, grad=0.0, op='*')"
    assert c.op == "*" and c.children[0] is a and c.children[1].data == 3.0
    assert (a**2).op == "**2" and (2**a).op == "2**" and a.leaky_relu().op == "leaky_relu(0.01)"


def test_operands_of_wrong_type_raise_type_error_naming_op():
    a = Value(1.0)
    for f, op in (
        (lambda: a + "x", r"\+"),
        (lambda: a * None, r"\*"),
        (lambda: "x" - a, "-"),
        (lambda: a / [1], "/"),
        (lambda: a ** "2", r"\*\*"),
        (lambda: "2" ** a, r"\*\*"),
    ):
        with pytest.raises(TypeError, match=op):
            f()


def test_numpy_scalars_combine_with_values():
    a = Value(2.0)
    out = a * np.float64(3.0)
    assert isinstance(out, Value) and out.data == 6.0


def test_memory_per_node_is_small():
    import sys

    assert sys.getsizeof(Value(1.0)) <= 104  # 9 slots + the object header


def test_numpy_scalar_on_the_left_defers_to_value():
    a = Value(2.0)
    for out in (np.float64(3.0) * a, np.float64(3.0) + a, np.int64(1) - a):
        assert isinstance(out, Value)


def test_local_grads_line_up_with_children():
    from autograd import dot

    a, b = Value(2.0), Value(-3.0)
    assert (a * b).local_grads == (-3.0, 2.0)
    assert a.tanh().local_grads[0] == pytest.approx(1 - math.tanh(2.0) ** 2)
    d = dot([a, b], [b, 4.0], a)
    assert d.local_grads == (-3.0, 4.0, 2.0, -3.0, 1.0) and len(d.children) == 5
    assert a.local_grads == () and a.children == ()


def test_bool_is_data_nonzero_like_a_one_element_tensor():
    assert not Value(0.0) and not Value(-0.0) and not (Value(2.0) - 2.0)
    assert Value(1e-300) and Value(-3.0)


def test_deepcopy_copies_leaves_and_refuses_op_made_values():
    import copy

    w = Value(0.5, label="w")
    w.grad = 0.25
    params = [w, Value(-1.0, label="b"), w]  # a list sharing a leaf, like tied weights
    clone = copy.deepcopy(params)
    assert clone[0] is not w and clone[0] is clone[2]  # one copy per leaf, sharing kept
    assert (clone[0].data, clone[0].grad, clone[0].label) == (0.5, 0.25, "w")
    assert clone[0].is_leaf and clone[0]._seq != w._seq
    clone[0].data -= 1.0  # training the copy leaves the original alone
    clone[0].grad = 0.0
    assert (w.data, w.grad) == (0.5, 0.25)
    assert copy.copy(w) is w
    with pytest.raises(TypeError, match=r"deepcopy: this Value was made by the op '\*'"):
        copy.deepcopy(w * 2)
