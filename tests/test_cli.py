"""The ``deltaw`` command line: the formula whitelist (every refused construct and where the
message points), the graphs and text of ``draw``/``explain``, exit codes and ``--help``."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import Value
from deltaw import cli
from deltaw.expression import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, ExpressionError, parse, parse_assignments

NEURON = "tanh(w1*x1 + w2*x2 + b)"
SET = ["--set", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]


# ---- the whitelist: what is accepted ---------------------------------------------------------
def test_neuron_builds_the_engine_graph_with_shared_named_leaves():
    expr = parse(NEURON)
    assert expr.names == ["w1", "x1", "w2", "x2", "b"]
    root, leaves = expr.build({"x1": 2, "x2": 0, "w1": -3, "w2": 1, "b": 6.8813735870195432})
    root.backward()
    assert root.data == pytest.approx(math.sqrt(0.5))
    assert leaves["w1"].grad == pytest.approx(1.0)
    assert leaves["w2"].grad == 0.0
    assert leaves["x1"].grad == pytest.approx(-1.5)
    assert all(v.label == n for n, v in leaves.items())


@pytest.mark.parametrize(
    "text, values, expected",
    [
        ("x**2 + 3*x - 1/x", {"x": 2.0}, 4 + 6 - 0.5),
        ("-x + +y", {"x": 1.0, "y": 5.0}, 4.0),
        ("x ** -2", {"x": 2.0}, 0.25),
        ("2 ** x", {"x": 3.0}, 8.0),
        ("x ** y", {"x": 2.0, "y": 3.0}, 8.0),
        ("exp(log(x)) + sqrt(x) + abs(-x)", {"x": 4.0}, 4 + 2 + 4),
        ("sigmoid(x) + relu(-x) + softplus(x) + sin(x) + cos(x)", {"x": 0.0}, 0.5 + 0 + math.log(2) + 0 + 1),
        ("leaky_relu(x) + leaky_relu(x, 0.2) + leaky_relu(x, -0.5)", {"x": -1.0}, -0.01 - 0.2 + 0.5),
        ("x * x", {"x": 3.0}, 9.0),
    ],
)
def test_every_whitelisted_construct_evaluates_like_the_engine(text, values, expected):
    root, _ = parse(text).build(values)
    assert root.data == pytest.approx(expected)


def test_a_name_used_twice_is_one_leaf_and_its_gradient_sums_both_uses():
    root, leaves = parse("x * x").build({"x": 3.0})
    root.backward()
    assert list(leaves) == ["x"] and leaves["x"].grad == pytest.approx(6.0)


def test_number_exponents_stay_numbers_so_no_constant_leaf_appears():
    root, _ = parse("x ** 2").build({"x": 3.0})
    assert all(isinstance(c, Value) for c in root.children)
    assert len(root.children) == 1  # x ** 2 is a unary node with the exponent in its op


# ---- the whitelist: what is refused, and where the message points -----------------------------
REFUSED = [
    # text, words in the reason, the fragment shown
    ("x.__class__", "attribute access", "x.__class__"),
    ("w * x.real", "attribute access", "x.real"),
    ("x.exp()", "attribute access", "x.exp"),
    ("__import__('os')", "'__import__', which is not one of the engine's functions", "__import__"),
    ("eval(x)", "'eval', which is not one of the engine's functions", "eval"),
    ("open(x)", "'open'", "open"),
    ("lambda x: x", "a lambda", "lambda x: x"),
    ("(lambda: x)()", "a call of something other than a name", "lambda: x"),
    ("x[0]", "a subscript", "x[0]"),
    ("'abc'", "a string", "'abc'"),
    ("x + 'a'", "a string", "'a'"),
    ("x ** 1000", f"the exponent 1000 is too large (|exponent| <= {MAX_EXPONENT})", "1000"),
    ("x ** -65", "the exponent -65 is too large", "-65"),
    ("2 ** 10 ** 10", "a power of a power", "10 ** 10"),
    ("x < 1", "a comparison", "x < 1"),
    ("x and y", "'and'/'or'", "x and y"),
    ("x if y else 1", "an if-expression", "x if y else 1"),
    ("[x]", "a list", "[x]"),
    ("(x, y)", "a tuple", "(x, y)"),
    ("{x: 1}", "a dict", "{x: 1}"),
    ("[x for x in y]", "a comprehension", "[x for x in y]"),
    ("(y := 2)", "an assignment (:=)", "y := 2"),
    ("f'{x}'", "an f-string", "f'{x}'"),
    ("x % 2", "the operator '%'", "x % 2"),
    ("x // 2", "the operator '//'", "x // 2"),
    ("x @ y", "the operator '@'", "x @ y"),
    ("x ^ y", "the operator '^'", "x ^ y"),
    ("not x", "the operator 'not'", "not x"),
    ("~x", "the operator '~'", "~x"),
    ("tanh(x, 1)", "tanh takes exactly 1 argument, got 2", "tanh(x, 1)"),
    ("tanh()", "tanh takes exactly 1 argument, got 0", "tanh()"),
    ("tanh(x=1)", "keyword arguments", "tanh(x=1)"),
    ("leaky_relu(x, y)", "the slope of leaky_relu must be a number", "y"),
    ("tanh(*x)", "a starred argument", "*x"),
    ("tanh + 1", "the function 'tanh' is used without a call", "tanh"),
    ("True + x", "True is not a number", "True"),
    ("None", "None is not a number", "None"),
    ("x + 1j", "a complex number", "1j"),
    ("x * 1e300", "the number is too large", "1e300"),
    ("__builtins__", "names may not start with '__'", "__builtins__"),
]


@pytest.mark.parametrize("text, reason, fragment", REFUSED, ids=[t for t, _, _ in REFUSED])
def test_refused_constructs_name_the_construct_and_point_at_it(text, reason, fragment):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    e = info.value
    assert reason in e.reason
    assert e.fragment == fragment
    assert text[e.column - 1 :].startswith(fragment)  # the column is 1-based and points at it
    msg = str(e)
    assert f"column {e.column}" in msg and repr(fragment) in msg
    caret = msg.splitlines()[2]
    assert caret.index("^") - 2 == e.column - 1 and caret.count("^") == len(fragment)


def test_refusal_column_counts_leading_spaces():
    with pytest.raises(ExpressionError) as info:
        parse("   x.y")
    assert info.value.column == 4 and info.value.fragment == "x.y"


def test_refusal_column_counts_characters_not_utf8_bytes():
    with pytest.raises(ExpressionError) as info:
        parse("αβ * x.real")
    assert info.value.column == 6 and info.value.fragment == "x.real"


def test_nesting_deeper_than_the_limit_is_refused_where_it_gets_too_deep():
    ok = "tanh(" * (MAX_DEPTH - 2) + "x" + ")" * (MAX_DEPTH - 2)
    parse(ok)
    deep = "tanh(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(ExpressionError, match=f"nesting deeper than {MAX_DEPTH} levels"):
        parse(deep)
    with pytest.raises(ExpressionError, match="nesting deeper"):
        parse("-" * 200 + "x")
    with pytest.raises(ExpressionError, match="nesting deeper"):
        parse(" + ".join(["x"] * 100))  # a long sum is a deep left-leaning tree


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "the expression is empty"),
        ("   ", "the expression is empty"),
        ("x" * (MAX_LENGTH + 1), f"the limit is {MAX_LENGTH}"),
        ("x +", "not a valid expression"),
        ("x = 1", "not a valid expression"),
        ("import os", "not a valid expression"),
        ("x\n+ 1", "must be one line"),
        ("1" * 900, "the number is too large"),
    ],
)
def test_text_that_is_not_one_short_expression_is_refused(text, reason):
    with pytest.raises(ExpressionError, match=reason.replace("(", r"\(")):
        parse(text)


def test_syntax_errors_point_at_a_column():
    with pytest.raises(ExpressionError) as info:
        parse("w * (x + ")
    assert info.value.column is not None and "column" in str(info.value)


def test_parse_never_evaluates_anything(monkeypatch):
    import ast
    import builtins

    calls = []
    for name in ("eval", "exec", "compile"):
        real = getattr(builtins, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append((_name, kwargs.get("flags", args[3] if len(args) > 3 else 0)))
            return _real(*args, **kwargs)

        monkeypatch.setattr(builtins, name, spy)
    root, _ = parse(NEURON).build({"x1": 2, "x2": 0, "w1": -3, "w2": 1, "b": 1})
    root.backward()
    # ast.parse itself calls compile(..., flags=PyCF_ONLY_AST): a syntax tree, never code
    assert all(name == "compile" and flags & ast.PyCF_ONLY_AST for name, flags in calls)


def test_missing_values_are_named_with_the_fix():
    with pytest.raises(ValueError, match="no value for w2, b; give w2=NUMBER b=NUMBER after --set"):
        parse("w1*x + w2 + b").build({"w1": 1, "x": 2})


@pytest.mark.parametrize(
    "items, message",
    [
        (["x1"], "write NAME=NUMBER"),
        (["=3"], "write NAME=NUMBER"),
        (["x=abc"], "'abc' is not a number"),
        (["1x=2"], "is not a variable name"),
        (["x=inf"], "must be finite"),
        (["x=1", "x=2"], "x is given twice"),
    ],
)
def test_bad_assignments(items, message):
    with pytest.raises(ValueError, match=message):
        parse_assignments(items)


def test_assignments_parse_numbers():
    assert parse_assignments(["x1=2", "w1=-3", "b=6.8814", "e=1e-3"]) == {
        "x1": 2.0,
        "w1": -3.0,
        "b": 6.8814,
        "e": 0.001,
    }


# ---- draw -------------------------------------------------------------------------------------
def test_draw_writes_dot_with_data_grad_and_the_gradient_descent_step(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert cli.main(["draw", NEURON, *SET, "--lr", "0.1", "-o", str(out)]) == 0
    dot = out.read_text(encoding="utf-8")
    assert dot.startswith("digraph")
    for name in ("w1", "w2", "x1", "x2", "b", "tanh"):
        assert name in dot
    # w1's box: data -3, grad ∂tanh(z)/∂w1 = (1 − tanh²z)·x1 = 0.5·2 = 1, Δw1 = −0.1·1
    w1_box = next(line for line in dot.splitlines() if "<b>w1</b>" in line)
    assert "<td>data -3</td>" in w1_box and ">grad 1</td>" in w1_box and "<b>Δw -0.1</b>" in w1_box
    lines = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    # z = -6 + 0 + 6.8814 = 0.8814, tanh z = √½; ∂/∂w = 0.5·x, ∂/∂x = 0.5·w, ∂/∂b = 0.5; Δ = −0.1·∂
    assert lines == [
        "out = 0.707107",
        "      w1 = -3         ∂out/∂w1 = +1         Δw1 = −0.1·∂out/∂w1 = -0.1",
        "      x1 = 2          ∂out/∂x1 = -1.5",
        "      w2 = 1          ∂out/∂w2 = +0         Δw2 = −0.1·∂out/∂w2 = +0",
        "      x2 = 0          ∂out/∂x2 = +0.5",
        "       b = 6.88137    ∂out/∂b = +0.5       Δb = −0.1·∂out/∂b = -0.05",
        f"wrote {out}",
    ]


def test_draw_inputs_option_decides_which_variables_get_a_delta(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert (
        cli.main(["draw", "w*x - y", "--set", "w=2", "x=3", "y=1", "--lr", "0.5", "--inputs", "x", "y", "-o", str(out)])
        == 0
    )
    text = capsys.readouterr().out
    assert "Δw = −0.5·∂out/∂w = -1.5" in text and "Δy" not in text and "Δx" not in text


@pytest.mark.requires_dot
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_draw_renders_through_graphviz(tmp_path, suffix, magic, capsys):
    out = tmp_path / f"graph{suffix}"
    assert cli.main(["draw", NEURON, *SET, "--lr", "0.1", "-o", str(out)]) == 0
    assert magic in out.read_bytes()[:400]


def test_draw_without_a_renderer_writes_the_dot_and_exits_3(tmp_path, monkeypatch, capsys):
    from viz import renderers

    monkeypatch.setattr(renderers, "find_renderer", lambda: None)
    out = tmp_path / "graph.svg"
    assert cli.main(["draw", NEURON, *SET, "-o", str(out)]) == cli.EXIT_NO_RENDERER
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8").startswith("digraph")
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "pip install 'deltaw[render]'" in err


# ---- explain ----------------------------------------------------------------------------------
def test_explain_prints_the_chain_rule_checked_against_the_engine(capsys):
    assert cli.main(["explain", NEURON, *SET, "--wrt", "w1", "--lr", "0.1"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "out = tanh(u2) = 0.707107;  local ∂out/∂u2 = 0.5" in lines  # 1 − tanh² = 1 − ½
    assert "= (0.5) · (1) · (1) · (2)" in lines
    assert lines.count("= 1") == 1  # ∂out/∂w1 = 0.5 · x1 = 0.5 · 2
    assert "engine: autograd.grad gives 1 ✓; w.grad holds 1 ✓" in lines
    assert "every factor agrees with the engine" in lines
    assert lines[-1] == "Δw = −η·δ·x = −η·∂out/∂w = −0.1 · (1) = -0.1"
    assert not any("✗" in line for line in lines)


def test_a_formula_starting_with_minus_works_after_a_space(capsys):
    assert cli.main(["explain", " -w*x", "--set", "w=2", "x=3", "--wrt", "w"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "z = −w = -2" in lines  # the leading minus is a neg node (the registry writes it −w)
    assert "= -3" in lines  # ∂(−w·x)/∂w = −x = −3
    assert "engine: autograd.grad gives -3 ✓; w.grad holds -3 ✓" in lines


def test_explain_of_an_input_works_too(capsys):
    assert cli.main(["explain", NEURON, *SET, "--wrt", "x1"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "= (0.5) · (1) · (1) · (-3)" in lines  # ∂out/∂x1 = 0.5 · w1
    assert "engine: autograd.grad gives -1.5 ✓; w.grad holds -1.5 ✓" in lines


# ---- errors and exit codes --------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, message",
    [
        (["draw", "x.y", "--set", "x=1"], "attribute access at column 1: 'x.y'"),
        (["draw", "w*x", "--set", "w=1"], "no value for x; give x=NUMBER after --set"),
        (["draw", "w*x", "--set", "w=1", "x=2", "z=3"], "--set gives z, which the formula does not use"),
        (["draw", "w*x", "--set", "w=1", "x"], "write NAME=NUMBER"),
        (["draw", "w*x", "--set", "w=1", "x=2", "--lr", "-1"], "--lr must be a number > 0"),
        (["draw", "w*x", "--set", "w=1", "x=2", "-o", "g.gif"], "must end in .svg, .png, .pdf or .dot"),
        (["draw", "w*x", "--set", "w=1", "x=2", "--inputs", "q"], "--inputs q: not a variable"),
        (["draw", "log(w)", "--set", "w=-1"], "cannot be computed at these values"),
        (["draw", "1 + 2"], "the formula has no variables"),
        (["draw", "x / 0", "--set", "x=1"], "cannot be computed at these values: div"),
        (["draw", "exp(exp(exp(x)))", "--set", "x=10"], "cannot be computed at these values: exp"),
        (["explain", "w*x", "--set", "w=1", "x=2", "--wrt", "v"], "--wrt v: not a variable of the formula"),
        (["explain", "tanh(w", "--set", "w=1", "--wrt", "w"], "not a valid expression"),
    ],
)
def test_bad_arguments_exit_2_with_a_message_that_says_what_to_change(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"deltaw {argv[0]}: error: ") and message in err
    assert not list(tmp_path.iterdir())  # nothing written on an error


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["draw"],
        ["explain", "w", "--set", "w=1"],
        ["draw", "w", "--lr", "abc"],
        ["demo", "--seed", "x"],
    ],
)
def test_argparse_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "usage: deltaw" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--help"], ["examples:", "deltaw draw", "deltaw explain", "deltaw demo", "exit codes"]),
        (["draw", "--help"], ["--set", "--lr", "--inputs", "-o", "example:"]),
        (["explain", "--help"], ["--wrt", "example:"]),
        (["demo", "--help"], ["--out", "example:"]),
    ],
)
def test_help_shows_examples_and_exits_0(argv, expected, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    for word in expected:
        assert word in out


def _console_script() -> str | None:
    here = Path(sys.executable).parent / ("deltaw.exe" if os.name == "nt" else "deltaw")
    return str(here) if here.exists() else shutil.which("deltaw")


def test_the_installed_console_script_runs_and_returns_exit_codes(tmp_path):
    exe = _console_script()
    assert exe is not None, "the deltaw console script is not installed: run make test (pip install -e .)"
    ok = subprocess.run(
        [exe, "explain", "x*w", "--set", "x=3", "w=2", "--wrt", "w"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0 and "every factor agrees with the engine" in ok.stdout
    bad = subprocess.run([exe, "draw", "x.y", "--set", "x=1"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert bad.returncode == 2 and "attribute access" in bad.stderr


# ---- demo -------------------------------------------------------------------------------------
def test_demo_quick_runs_every_act_and_names_its_files(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path), "--quick", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Epoch 40 | Loss: 0.0074 | Weight: 1.9640" in text
    assert "every factor agrees with the engine" in text
    assert "training accuracy" in text
    for line in text.splitlines():
        if line.strip().startswith("wrote "):
            path = Path(line.split()[1])
            assert path.exists() and path.stat().st_size > 0


@pytest.mark.requires_dot
def test_demo_quick_draws_the_neuron_and_the_network(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path), "--quick", "--no-progress"]) == 0
    for name in ("neuron_graph.svg", "moons_network.svg"):
        assert (tmp_path / name).read_bytes().lstrip().startswith((b"<?xml", b"<svg")), name
