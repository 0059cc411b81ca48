"""Bad input fails at the forward op with a message naming the op, the value and what is valid."""

import pytest

from autograd import DomainError, OpOverflowError, Value, ZeroDivision


@pytest.mark.parametrize(
    "f, exc, words",
    [
        (lambda: Value(-1.0).log(), DomainError, ["log", "-1.0", "> 0"]),
        (lambda: Value(0.0).log(), DomainError, ["log", "0.0", "> 0"]),
        (lambda: Value(-4.0).sqrt(), DomainError, ["sqrt", "-4.0", ">= 0"]),
        (lambda: Value(-8.0) ** 0.5, DomainError, ["pow", "-8.0", "integer exponent"]),
        (lambda: Value(-2.0) ** Value(2.0), DomainError, ["pow", "-2.0", "base >= 0"]),
        (lambda: (-2) ** Value(2.0), DomainError, ["pow", "-2.0", "base >= 0"]),
        (lambda: Value(0.0) ** -1, ZeroDivision, ["pow", "0.0", "negative power"]),
        (lambda: Value(0.0) ** Value(-1.0), ZeroDivision, ["pow", "0.0", "negative power"]),
        (lambda: Value(1.0) / 0, ZeroDivision, ["div", "1.0", "non-zero divisor"]),
        (lambda: 1 / Value(0.0), ZeroDivision, ["div", "0.0", "non-zero divisor"]),
        (lambda: Value(710.0).exp(), OpOverflowError, ["exp", "710.0", "709.78"]),
        (lambda: Value(10.0) ** 400, OpOverflowError, ["pow", "10.0", "400"]),
        (lambda: 10 ** Value(400.0), OpOverflowError, ["pow", "400.0"]),
        (lambda: Value(1e308) * 10, OpOverflowError, ["*", "1e+308", "float64"]),
        (lambda: Value(1e308) + Value(1e308), OpOverflowError, ["+", "1e+308", "float64"]),
        (lambda: Value(1e200) / Value(1e-200), OpOverflowError, ["/", "1e+200"]),
    ],
)
def test_errors_name_op_value_and_fix(f, exc, words):
    with pytest.raises(exc) as info:
        f()
    message = str(info.value)
    for word in words:
        assert word in message
    assert "math domain error" not in message


def test_error_types_are_standard_subclasses():
    assert issubclass(DomainError, ValueError)
    assert issubclass(ZeroDivision, ZeroDivisionError) and issubclass(ZeroDivision, ValueError)
    assert issubclass(OpOverflowError, OverflowError)


def test_operand_nan_is_refused_at_the_op():
    with pytest.raises(ValueError, match="finite"):
        Value(1.0) * float("nan")


def test_huge_int_is_refused_briefly():
    with pytest.raises(OpOverflowError, match=r"too large for float64") as info:
        Value(10**400)
    assert len(str(info.value)) < 120 and "401 digits" in str(info.value)
