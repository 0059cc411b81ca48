"""The functions a formula may call come from the op registry (``autograd.ops``), never from a
list in the CLI: every op with a command-line name works in ``deltaw draw``/``explain`` the
moment its registry row exists (gelu, silu and erf were added that way)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import Value, ops
from autograd.value import apply_op
from deltaw import cli
from deltaw.expression import FUNCTIONS, ExpressionError, parse

ROOT = Path(__file__).resolve().parents[1]
CLI_ROWS = [row for row in ops.entries() if row.cli is not None]
UNARY_ROWS = [row for row in CLI_ROWS if row.arity == 1]
BINARY_ROWS = [row for row in CLI_ROWS if row.arity == 2]


def test_the_whitelist_is_exactly_the_registry_ops_with_a_command_line_name():
    assert CLI_ROWS, "the registry names no op for the command line"
    assert sorted(FUNCTIONS) == sorted(row.cli for row in CLI_ROWS)
    assert {"gelu", "silu", "tanh", "leaky_relu"} <= set(FUNCTIONS)


@pytest.mark.parametrize("row", UNARY_ROWS, ids=[row.cli for row in UNARY_ROWS])
def test_every_registry_function_builds_its_op_and_draws(row, tmp_path, monkeypatch, capsys):
    """``NAME(w*x)`` at w = 0.5, x = 2: the node is the registry's op, the numbers the engine's."""
    root, leaves = parse(f"{row.cli}(w*x)").build({"w": 0.5, "x": 2.0})
    assert root.op == row.op().name
    root.backward()
    one = Value(1.0)
    reference = getattr(one, row.method)()  # the op at w·x = 1, built by the engine directly
    reference.backward()
    assert root.data == reference.data
    assert leaves["w"].grad == one.grad * 2.0  # chain rule: ∂/∂w = f'(1)·x

    monkeypatch.chdir(tmp_path)
    assert cli.main(["draw", f"{row.cli}(w*x)", "--set", "w=0.5", "x=2", "--lr", "0.1", "-o", "g.dot"]) == 0
    lines = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == f"out = {reference.data:.6g}"
    dw = -0.1 * one.grad * 2.0 + 0.0
    assert lines[1] == f"       w = 0.5        ∂out/∂w = {one.grad * 2.0:<+10.6g} Δw = −0.1·∂out/∂w = {dw:+.6g}"
    assert f"label=<{row.op().name}>" in (tmp_path / "g.dot").read_text(encoding="utf-8")  # the op's node


@pytest.mark.parametrize("row", [r for r in CLI_ROWS if r.is_family], ids=lambda r: r.cli)
def test_a_family_takes_its_number_parameter_as_an_optional_second_argument(row):
    root, _ = parse(f"{row.cli}(x, 0.2)").build({"x": -1.0})
    assert root.op == row.op(0.2).name
    default, _ = parse(f"{row.cli}(x)").build({"x": -1.0})
    assert default.op == row.op().name
    with pytest.raises(ExpressionError, match=f"the {row.param_name} of {row.cli} must be a number"):
        parse(f"{row.cli}(x, y)")


@pytest.mark.parametrize("row", [r for r in UNARY_ROWS if not r.is_family], ids=lambda r: r.cli)
def test_a_fixed_op_takes_exactly_one_argument(row):
    with pytest.raises(ExpressionError, match=f"{row.cli} takes exactly 1 argument, got 2"):
        parse(f"{row.cli}(x, 1)")


def test_help_lists_every_function_of_the_registry(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    listed = text.split("unary minus and the functions")[1].split(";")[0]
    assert [name.strip() for name in listed.split(",")] == [row.cli for row in CLI_ROWS]


def test_gelu_on_the_command_line_matches_torch(tmp_path):
    """``deltaw draw "gelu(w*x)" --set w=0.5 x=2``: gelu(1) = Φ(1) (torch.nn.functional.gelu(1.0)
    = 0.8413447460685429 in float64), ∂/∂w = x·(Φ(1) + φ(1)), ∂/∂x = w·(Φ(1) + φ(1))."""
    phi, density = 0.5 * (1.0 + math.erf(1.0 / math.sqrt(2.0))), math.exp(-0.5) / math.sqrt(2.0 * math.pi)
    assert phi == pytest.approx(0.8413447460685429, abs=1e-15)
    slope = phi + density
    r = subprocess.run(
        [sys.executable, "-m", "deltaw", "draw", "gelu(w*x)", "--set", "w=0.5", "x=2", "-o", "gelu.dot"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (r.returncode, r.stderr) == (0, "")
    assert [line.rstrip() for line in r.stdout.splitlines()] == [
        "out = 0.841345",
        f"       w = 0.5        ∂out/∂w = {2.0 * slope:+.6g}",
        f"       x = 2          ∂out/∂x = {0.5 * slope:+.6g}",
        "wrote gelu.dot",
    ]
    assert f"{2.0 * slope:+.6g}" == "+2.16663"


@pytest.mark.parametrize("row", BINARY_ROWS, ids=[row.cli for row in BINARY_ROWS])
def test_every_two_operand_function_builds_its_op(row):
    """``NAME(w*x, y)`` at w = 0.5, x = 2, y = 0.25: the registry's op, the engine's numbers."""
    root, leaves = parse(f"{row.cli}(w*x, y)").build({"w": 0.5, "x": 2.0, "y": 0.25})
    assert root.op == row.op().name
    root.backward()
    a, b = Value(1.0), Value(0.25)
    reference = apply_op(row.op(), a, b)  # the op at (w·x, y) = (1, 0.25), built by the engine directly
    reference.backward()
    assert root.data == reference.data
    assert (leaves["w"].grad, leaves["y"].grad) == (a.grad * 2.0, b.grad)
    with pytest.raises(ExpressionError, match=f"{row.cli} takes exactly 2 arguments, got 1"):
        parse(f"{row.cli}(x)")
