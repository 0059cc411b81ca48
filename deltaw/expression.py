"""Formulas typed on the command line, turned into ``autograd.Value`` graphs safely.

``deltaw draw "tanh(w1*x1 + w2*x2 + b)" --set x1=2 ...`` hands us text from a
user.  We parse it with :func:`ast.parse` and accept only a whitelist:

- names (variables, given values with ``--set``) and numbers (int or float);
- the binary operators ``+ - * / **`` and unary ``-`` / ``+``;
- calls of the engine's functions by name (:data:`FUNCTIONS`): ``tanh(x)``,
  ``exp(x)``, ... with one argument, and number parameters where the op has
  them, such as ``leaky_relu(x, slope)`` with a number as slope.

Everything else — attribute access, calls of any other name, lambdas,
subscripts, strings, comparisons, exponents above :data:`MAX_EXPONENT`,
nesting deeper than :data:`MAX_DEPTH`, text longer than :data:`MAX_LENGTH` —
is refused with an :class:`ExpressionError` that shows the offending part
and its column.  The checked tree is then walked node by node to build
Values: nothing is ever passed to ``eval``, ``exec`` or ``compile``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from autograd import Value, ops
from autograd.value import apply_op

__all__ = [
    "ExpressionError",
    "Expression",
    "parse",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "parse_assignments",
    "Function",
]


_OPERAND_NAMES = ("x", "y")


@dataclass(frozen=True)
class Function:
    """A function a formula may call: ``name(x)``, ``name(x, y)`` for two operands, and optional
    trailing number parameters, ``name(x, slope)``.

    ``apply(*operands, *numbers)`` builds the node; ``numbers`` lists the optional number
    parameters as (name, default), e.g. leaky_relu's ("slope", 0.01)."""

    name: str
    apply: Callable[..., Value]
    operands: int = 1
    numbers: tuple[tuple[str, float], ...] = ()

    @property
    def max_args(self) -> int:
        return self.operands + len(self.numbers)

    def _names(self) -> list[str]:
        return [*_OPERAND_NAMES[: self.operands], *(n for n, _ in self.numbers)]

    def arity(self) -> str:
        """``exactly 1 argument`` or ``1 or 2 arguments (x, slope)``."""
        fewest, most = self.operands, self.max_args
        if fewest == most:
            return f"exactly {most} argument" + ("s" if most > 1 else "")
        counts = f"{fewest} or {most}" if most == fewest + 1 else f"{fewest} to {most}"
        return f"{counts} arguments ({', '.join(self._names())})"

    def usage(self) -> str:
        """How to call it, e.g. ``leaky_relu(x, 0.01)``."""
        return (
            f"{self.name}(" + ", ".join([*_OPERAND_NAMES[: self.operands], *(f"{v:g}" for _, v in self.numbers)]) + ")"
        )


def _functions() -> dict[str, Function]:
    """The whitelist, read from the op registry: every op with a command-line name, applied by
    its ``Value`` method, or as the registry's op for a function without one (``max(a, b)``).
    A family's number parameter (leaky_relu's slope) is an optional trailing number argument.
    Adding an op to the registry adds it here; nothing to edit."""
    table: dict[str, Function] = {}
    for row in ops.entries():
        if row.cli is None or not 1 <= row.arity <= len(_OPERAND_NAMES):
            continue  # operators (+, **, ...) are syntax, not calls; n-ary ops have no call form here
        fewest, most = row.cli_arity
        numbers = ((row.param_name, row.default),) if most > fewest and row.default is not None else ()
        apply = getattr(Value, row.method) if row.method is not None else partial(apply_op, row.op())
        table[row.cli] = Function(row.cli, apply, row.arity, numbers)
    return table


#: the engine's functions an expression may call, by name (from the op registry)
FUNCTIONS: dict[str, Function] = _functions()
MAX_LENGTH = 1000  # characters of expression text
MAX_DEPTH = 40  # levels of the syntax tree (operators, calls, unary minus)
MAX_EXPONENT = 64  # |n| for a number exponent in x ** n
MAX_NUMBER = 1e15  # |literal|: keeps numbers (and their squares) far from overflow

_BINOPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_BINOPS: dict[type, str] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_KINDS: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "an if-expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.NamedExpr: "an assignment (:=)",
    ast.Starred: "a starred argument",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}


def _allowed_text() -> str:
    return "only names, numbers, + - * / **, unary minus and the functions " + ", ".join(FUNCTIONS) + " are allowed"


class ExpressionError(ValueError):
    """The text is not an expression we accept; ``column`` (1-based) and ``fragment`` say where."""

    def __init__(
        self, text: str, reason: str, column: int | None = None, end: int | None = None, hint: str = ""
    ) -> None:
        self.text = text
        self.reason = reason
        self.column = column
        self.fragment = ""
        lines = [reason]
        if column is not None:
            stop = max(end if end is not None else column, column)
            self.fragment = text[column - 1 : stop - 1] if stop > column else text[column - 1 : column]
            where = f"column {column}"
            if self.fragment:
                where += f": {self.fragment!r}"
            lines = [f"{reason} at {where}"]
            if "\n" not in text and len(text) <= 200:
                width = max(1, len(self.fragment))
                lines += [f"  {text}", "  " + " " * (column - 1) + "^" * width]
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))


def _span(node: ast.AST) -> tuple[int | None, int | None]:
    """1-based start and end columns of ``node`` (single-line text)."""
    col = getattr(node, "col_offset", None)
    end = getattr(node, "end_col_offset", None)
    return (None if col is None else col + 1), (None if end is None else end + 1)


def _number(node: ast.AST) -> float | None:
    """The value of a number literal, with an optional sign; None for anything else."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        if isinstance(node.op, ast.USub):
            sign = -sign
        node = node.operand
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return sign * float(value)
    return None


@dataclass
class Expression:
    """A checked formula: its text, its tree and its variables in order of first use."""

    text: str
    tree: ast.Expression
    names: list[str]

    def check_values(self, values: Mapping[str, float]) -> None:
        """Raise ``ValueError`` naming the variables that have no value in ``values``, with the fix."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ValueError(
                "no value for "
                + ", ".join(missing)
                + "; give "
                + " ".join(f"{n}=NUMBER" for n in missing)
                + " after --set"
            )

    def build(self, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
        """The Value graph of the formula with ``values`` for its variables.

        Returns (root, leaves): each variable is ONE leaf Value labelled with its
        name, shared by every place the name appears.  Raises ``ValueError``
        naming the variables that have no value, and the engine's own errors
        (``DomainError``, ``OpOverflowError``) when an op is undefined there."""
        self.check_values(values)
        leaves = {n: Value(float(values[n]), label=n) for n in self.names}
        return self._value(self.tree.body, leaves), leaves

    def _value(self, node: ast.AST, leaves: dict[str, Value]) -> Value:
        # depth <= MAX_DEPTH was checked by parse(), so this recursion is shallow
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):  # parse() refused the rest
            return Value(float(node.value))
        if isinstance(node, ast.Name):
            return leaves[node.id]
        if isinstance(node, ast.UnaryOp):
            inner = self._value(node.operand, leaves)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            left = self._value(node.left, leaves)
            if isinstance(node.op, ast.Pow):
                n = _number(node.right)
                if n is not None:  # a number exponent stays a number: x ** 2, not x ** Value(2)
                    return left**n
            right = self._value(node.right, leaves)
            op = type(node.op)
            if op is ast.Add:
                return left + right
            if op is ast.Sub:
                return left - right
            if op is ast.Mult:
                return left * right
            if op is ast.Div:
                return left / right
            return left**right
        if isinstance(node, ast.Call):
            fn = FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
            operands = [self._value(a, leaves) for a in node.args[: fn.operands]]
            numbers = [_number(a) for a in node.args[fn.operands :]]  # checked by parse(): number literals
            return fn.apply(*operands, *numbers)
        raise AssertionError(f"unchecked node {type(node).__name__}")  # parse() refuses it first


def parse(text: str) -> Expression:
    """Check ``text`` against the whitelist and return the :class:`Expression`.

    Raises :class:`ExpressionError` pointing at the first refused part."""
    if not isinstance(text, str):
        raise TypeError(f"parse: expected the expression as a string, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError(text, "the expression is empty", hint='write a formula such as "tanh(w1*x1 + w2*x2 + b)"')
    if len(text) > MAX_LENGTH:
        raise ExpressionError(text, f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if "\n" in text or "\r" in text:
        raise ExpressionError(text, "the expression must be one line")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        col = e.offset if e.offset and e.offset >= 1 else None
        lead = len(text) - len(text.lstrip())
        raise ExpressionError(
            text, f"not a valid expression ({e.msg})", None if col is None else min(col + lead, len(text)), None
        ) from None
    except (ValueError, RecursionError, MemoryError) as e:  # e.g. an int literal with too many digits
        raise ExpressionError(text, f"not a valid expression ({e})") from None
    lead = len(text) - len(text.lstrip())
    raw = text.strip().encode("utf-8")
    for node in ast.walk(tree):  # ast counts UTF-8 bytes; report characters of the text as typed
        for attr in ("col_offset", "end_col_offset"):
            offset = getattr(node, attr, None)
            if offset is not None:
                setattr(node, attr, lead + len(raw[:offset].decode("utf-8", "replace")))
    names: list[str] = []
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:  # iterative: the check itself never recurses, however deep the text nests
        node, depth = stack.pop()
        _check(text, node, depth, names)
        for child in _operands(node):
            stack.append((child, depth + 1))
    return Expression(text, tree, names)


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.right, node.left]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):  # _check() has made sure it calls one of FUNCTIONS
        n = FUNCTIONS[node.func.id].operands  # type: ignore[attr-defined]
        return list(reversed(node.args[:n]))  # the number parameters after them are checked as numbers
    return []


def _refuse(text: str, node: ast.AST, reason: str, hint: str = "") -> ExpressionError:
    col, end = _span(node)
    return ExpressionError(text, reason, col, end, hint or _allowed_text())


def _check(text: str, node: ast.AST, depth: int, names: list[str]) -> None:
    """Raise for the first thing at ``node`` that is outside the whitelist."""
    if depth > MAX_DEPTH:
        raise _refuse(text, node, f"nesting deeper than {MAX_DEPTH} levels", "split the formula or simplify it")
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise _refuse(text, node, f"{v!r} is not a number")
        if isinstance(v, (str, bytes)):
            raise _refuse(text, node, "a string")
        if isinstance(v, complex):
            raise _refuse(text, node, "a complex number")
        try:
            big = not math.isfinite(float(v)) or abs(float(v)) > MAX_NUMBER
        except OverflowError:  # an int literal beyond float's range
            big = True
        if big:
            raise _refuse(text, node, f"the number is too large (the limit is {MAX_NUMBER:g})")
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise _refuse(text, node, f"the function {node.id!r} is used without a call", f"write {node.id}(...)")
        if node.id.startswith("__"):
            raise _refuse(
                text,
                node,
                f"the name {node.id!r} (names may not start with '__')",
                "use plain variable names such as w1, x, b",
            )
        if node.id not in names:
            names.append(node.id)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            sym = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), type(node.op).__name__)
            raise _refuse(text, node, f"the operator {sym!r}")
        return
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        if op not in _BINOPS:
            raise _refuse(text, node, f"the operator {_REFUSED_BINOPS.get(op, op.__name__)!r}")
        if op is ast.Pow:
            n = _number(node.right)
            if n is not None and abs(n) > MAX_EXPONENT:
                raise _refuse(text, node.right, f"the exponent {n:g} is too large (|exponent| <= {MAX_EXPONENT})")
            if isinstance(node.right, ast.BinOp) and isinstance(node.right.op, ast.Pow):
                raise _refuse(
                    text,
                    node.right,
                    "a power of a power (x ** y ** z) can be huge",
                    "write the exponent as one number or one variable: x ** 3, x ** p",
                )
        return
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            what = "attribute access" if isinstance(func, ast.Attribute) else "a call of something other than a name"
            raise _refuse(text, func, what)
        if func.id not in FUNCTIONS:
            raise _refuse(text, func, f"a call of {func.id!r}, which is not one of the engine's functions")
        fn = FUNCTIONS[func.id]
        if node.keywords:
            raise _refuse(
                text,
                node.keywords[0].value if node.keywords[0].arg is None else node,
                "keyword arguments",
                f"write {fn.usage()}",
            )
        if not fn.operands <= len(node.args) <= fn.max_args:
            raise _refuse(text, node, f"{fn.name} takes {fn.arity()}, got {len(node.args)}", f"write {fn.usage()}")
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise _refuse(text, a, "a starred argument")
        for (param, _), a in zip(fn.numbers, node.args[fn.operands :]):
            n = _number(a)
            if n is None or not abs(n) <= MAX_NUMBER:
                raise _refuse(text, a, f"the {param} of {fn.name} must be a number", f"write {fn.usage()}")
        return
    raise _refuse(text, node, _KINDS.get(type(node), f"the construct {type(node).__name__!r}"))


def parse_assignments(items: list[str]) -> dict[str, float]:
    """``["x1=2", "w1=-3"]`` (from ``--set``) as a dict; ``ValueError`` names a bad item and the fix."""
    values: dict[str, float] = {}
    for item in items:
        name, eq, number = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise ValueError(f"--set {item!r}: write NAME=NUMBER, e.g. --set x1=2 w1=-3")
        if not name.isidentifier():
            raise ValueError(f"--set {item!r}: {name!r} is not a variable name")
        try:
            v = float(number)
        except ValueError:
            raise ValueError(f"--set {item!r}: {number.strip()!r} is not a number") from None
        if not math.isfinite(v):
            raise ValueError(f"--set {item!r}: the value must be finite")
        if name in values:
            raise ValueError(f"--set: {name} is given twice")
        values[name] = v
    return values
