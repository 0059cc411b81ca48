"""The op registry: one row per op (or family of ops) carrying every facet the project needs.

Adding an op is one ``_row(Op(...), ...)`` block in ``table.py`` (see ``GELU`` / ``SILU``; a family
with a number parameter is one maker plus one ``register(Entry(...))`` in ``families.py``; the
binary max/min rows are in ``minmax.py``); the
``Value`` method, ``explain``, ``compile``, the CLI, the strategies and nn's activations follow.

**Op** (what a node stores in ``_op``; ``autograd.node.op_of(v)`` returns it):

- ``name`` (the node's ``v.op``: ``"tanh"``, ``"**2"``, ``"leaky_relu(0.1)"``), ``arity``
  (1, 2, or 0 for n-ary ``dot``/``sum`` whose inputs come as one sequence), ``param`` (the number
  of a family member, else None), ``entry`` (its registry row);
- ``forward(*floats) -> float`` (clear DomainError/ZeroDivision/OpOverflowError outside its
  domain); ``local(*inputs, out) -> tuple`` (∂out/∂input each; floats or ``Value``s);
- ``arrays() -> Arrays`` (numpy, imported on first use): ``forward(*xs)``, ``local(*xs, out)``
  (bare array for unary ops), ``infinite_local``, ``invalid``, ``libm_forward``, ``libm_local``,
  ``scalar``, ``exact_forward``, ``exact_local`` — see ``registry.Arrays``;
- ``text.formula(names, z="z")`` and ``text.derivative(pos, names, z="z")``: e.g.
  ``TANH.text.derivative(0, ["w"], "a") == "1 − a²"``; ``pow_const(2).text.formula(["w"]) == "w**2"``;
  a derivative equal to another operand's name (``*``, ``dot``) means "the input it multiplies";
- ``domain``: one ``Arg(low, kinks, poles, tie)`` per operand (n-ary: one for all): the operand
  must be > ``low`` (log: 0, log1p: −1); ``tie`` marks max/min's kink where the operands are equal;
  ``arg(pos)`` picks it, ``Arg.smooth_at(x, margin, others)`` tests one operand,
  ``Op.smooth_at(xs, margin)`` all of them.

**Entry** (a row): ``key`` (``"tanh"``, ``"**n"``, ``"c**x"``, ``"leaky_relu"``, ``"+"``, ...),
``arity``, ``method`` (the ``Value`` method: ``"tanh"``, ``"__add__"``; unary ones are generated
from the row), ``cli`` (function name on the command line, None for operators) and
``cli_arity`` = (fewest, most) arguments, ``activation`` (usable as ``MLP(activation=cli)``),
``doc``, ``is_family``; ``op(param=None)`` gives the node op (a family's default param when None),
``default`` and ``samples`` (params that tests exercise), ``ops()`` (the op, or one per sample).

**Lookups**: ``entries()``, ``entry(key)``, ``by_cli_name(name)``, ``activations()``
(name -> Entry), ``op_of(value)``; ``TABLE`` (fixed ops by node name; exported as
``autograd.OPS``); the family makers ``pow_const(n)``, ``rpow_const(c)``, ``leaky_relu_op(s)``.
"""

from __future__ import annotations

from ..node import NARY, op_of
from .families import leaky_relu_op, pow_const, rpow_const
from .minmax import MAX, MAX_FIRST, MIN, MIN_FIRST
from .registry import Arg, Arrays, Entry, Op, Text, activations, by_cli_name, entries, entry, register
from .scalar import EXP_MAX, dot_value
from .table import (
    ABS,
    ADD,
    COS,
    DIV,
    DOT,
    ERF,
    EXP,
    GELU,
    LOG,
    LOG1P,
    MISH,
    MUL,
    NEG,
    ONES2,
    POW,
    RELU,
    SIGMOID,
    SILU,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    SUM,
    TANH,
)

#: Every fixed op by its node name (``"+"``, ``"tanh"``, ``"dot"``, ...), for tests and docs.
TABLE: dict[str, Op] = {row.key: row.op() for row in entries() if not row.is_family}

__all__ = [
    "Op",
    "Entry",
    "Arg",
    "Text",
    "Arrays",
    "TABLE",
    "NARY",
    "EXP_MAX",
    "register",
    "entries",
    "entry",
    "by_cli_name",
    "activations",
    "op_of",
    "dot_value",
    "pow_const",
    "rpow_const",
    "leaky_relu_op",
    "ONES2",
    "ADD",
    "SUB",
    "MUL",
    "DIV",
    "POW",
    "NEG",
    "ABS",
    "EXP",
    "LOG",
    "LOG1P",
    "SQRT",
    "TANH",
    "SIGMOID",
    "RELU",
    "SOFTPLUS",
    "SIN",
    "COS",
    "ERF",
    "GELU",
    "SILU",
    "MISH",
    "MAX",
    "MIN",
    "MAX_FIRST",
    "MIN_FIRST",
    "DOT",
    "SUM",
]
