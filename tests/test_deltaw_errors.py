"""Every failure a user can cause ends in one line on stderr and the exit code ``deltaw --help``
documents: bad values, unwritable outputs, a failing or missing renderer, Ctrl-C, a closed pipe.
Run both in-process (``main([...])``) and as a real process (``python -m deltaw``)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deltaw import cli
from deltaw.app import (
    COMMANDS,
    EXIT_BUG,
    EXIT_CANNOT_WRITE,
    EXIT_CODES,
    EXIT_INTERRUPTED,
    EXIT_NO_RENDERER,
    EXIT_RENDER_FAILED,
    EXIT_USAGE,
)

ROOT = Path(__file__).resolve().parents[1]
HAS_PROC = Path("/proc/self").is_dir()  # Linux: /proc exists and refuses new files


def deltaw(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m deltaw ARGV`` in a fresh process, from ``cwd``."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "deltaw", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=full_env,
    )


def error_line(err: str, command: str) -> str:
    """The one line of ``err``, checked to be ``deltaw COMMAND: error: ...`` with no traceback."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"deltaw {command}: error: "), err
    return lines[0].removeprefix(f"deltaw {command}: error: ")


@pytest.fixture
def fake_dot(tmp_path, monkeypatch):
    """A ``dot`` first on PATH that fails like a crashing Graphviz (exit 1, a message on stderr)."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    exe = bin_dir / "dot"
    exe.write_text("#!/bin/sh\necho 'Error: fake renderer crashed' >&2\nexit 1\n", encoding="utf-8")
    exe.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    monkeypatch.setenv("PATH", path)
    return exe


NEURON = ["tanh(w*x + b)", "--set", "w=-3", "x=2", "b=6.8813735870195432"]


# ---- bad values: exit 2 --------------------------------------------------------------------------
def test_explain_of_a_formula_that_is_just_the_variable_is_a_usage_error(tmp_path):
    r = deltaw("explain", "w", "--set", "w=1", "--wrt", "w", cwd=tmp_path)
    assert r.returncode == EXIT_USAGE
    assert error_line(r.stderr, "explain") == (
        "the formula is just w, so ∂out/∂w = 1 with no chain rule to write out; "
        "give a formula that computes something from w, e.g. tanh(w)"
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["draw", "w*x", "--set", "w=1", "x=2e300", "--lr", "1e10", "-o", "g.dot"],
            "--lr 1e+10: Δw = −1e+10·2e+300 overflows float64; use a smaller --lr",
        ),
        (["demo", "--seed", "-3"], "--seed must be >= 0, got -3"),
        (
            ["draw", "w*x*x", "--set", "w=1e300", "x=1e300"],
            "the formula cannot be computed at these values: ",
        ),
    ],
)
def test_values_that_cannot_be_used_exit_2_in_one_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == EXIT_USAGE
    line = error_line(capsys.readouterr().err, argv[0])
    assert line.startswith(message) if message.endswith(": ") else line == message
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_derivative_that_is_not_finite_is_never_shown(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["draw", "sqrt(x)", "--set", "x=0", "-o", "g.dot"]) == EXIT_USAGE  # d√x/dx = ∞ at 0
    line = error_line(capsys.readouterr().err, "draw")
    assert line.startswith("the formula cannot be computed at these values: backward: a gradient turned inf at ")
    assert "(sqrt at x0 = 0.0; z = 0.0)" in line  # the engine names the op and the point
    assert not (tmp_path / "g.dot").exists()


# ---- outputs that cannot be written: exit 4 --------------------------------------------------------
def test_output_under_a_path_whose_parent_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    for target in ("afile/g.dot", "afile/sub/g.svg"):
        r = deltaw("draw", *NEURON, "-o", target, cwd=tmp_path)
        assert r.returncode == EXIT_CANNOT_WRITE
        assert error_line(r.stderr, "draw") == f"-o {target}: afile is a file, not a folder; choose another path"
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "x"


def test_output_that_is_a_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pics.svg").mkdir()
    assert cli.main(["draw", *NEURON, "-o", "pics.svg"]) == EXIT_CANNOT_WRITE
    line = error_line(capsys.readouterr().err, "draw")
    assert line == f"-o pics.svg: that is a folder; give a file name such as {Path('pics.svg') / 'graph.svg'}"


@pytest.mark.skipif(not HAS_PROC, reason="needs Linux's /proc, where no file can be created")
@pytest.mark.parametrize("name", ["g.dot", "sub/g.dot"])
def test_output_under_proc(name, tmp_path):
    r = deltaw("draw", *NEURON, "-o", f"/proc/{name}", cwd=tmp_path)
    assert r.returncode == EXIT_CANNOT_WRITE
    line = error_line(r.stderr, "draw")
    if "/" in name:
        assert line == "-o /proc/sub/g.dot: cannot create the folder /proc/sub (No such file or directory)"
    else:
        assert line == "cannot write /proc/g.dot: No such file or directory"
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not HAS_PROC, reason="needs Linux's /proc, where no file can be created")
def test_demo_out_unwritable(tmp_path):
    r = deltaw("demo", "--quick", "--no-progress", "--out", "/proc/deltaw-demo", cwd=tmp_path)
    assert r.returncode == EXIT_CANNOT_WRITE
    assert error_line(r.stderr, "demo") == (
        "--out /proc/deltaw-demo: cannot create the folder /proc/deltaw-demo (No such file or directory)"
    )
    assert r.stdout == ""  # refused before the tour starts


def test_demo_out_that_is_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    assert cli.main(["demo", "--quick", "--no-progress", "--out", "taken/demo"]) == EXIT_CANNOT_WRITE
    assert error_line(capsys.readouterr().err, "demo") == (
        "--out taken/demo: taken is a file, not a folder; choose another path"
    )


def test_an_os_error_from_any_write_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    """The boundary, not each command: an OSError while writing (disk full) is exit 4."""

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "g.svg"))

    monkeypatch.setattr("viz.render", full_disk)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["draw", *NEURON, "-o", "g.svg"]) == EXIT_CANNOT_WRITE
    assert error_line(capsys.readouterr().err, "draw") == f"cannot write {tmp_path / 'g.svg'}: No space left on device"


# ---- Graphviz: missing (3) or failing (5) ----------------------------------------------------------
def test_a_renderer_that_fails_exits_5_with_its_message(fake_dot, tmp_path):
    r = deltaw("draw", *NEURON, "-o", "g.svg", cwd=tmp_path)
    assert r.returncode == EXIT_RENDER_FAILED
    assert error_line(r.stderr, "draw") == (
        f"render: graphviz ({fake_dot}) failed with exit code 1: Error: fake renderer crashed"
    )
    assert not (tmp_path / "g.svg").exists()


def test_the_demo_with_a_failing_renderer_exits_5(fake_dot, tmp_path, monkeypatch, capsys):
    assert cli.main(["demo", "--quick", "--no-progress", "--out", str(tmp_path / "d")]) == EXIT_RENDER_FAILED
    assert "Error: fake renderer crashed" in error_line(capsys.readouterr().err, "demo")


def test_no_renderer_exits_3_in_one_line_after_writing_the_dot(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("viz.renderers.find_renderer", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["draw", *NEURON, "-o", "g.png"]) == EXIT_NO_RENDERER
    assert error_line(capsys.readouterr().err, "draw") == (
        "no Graphviz renderer found, so g.png was not drawn; wrote the DOT source to g.dot. Install one "
        "(apt-get install graphviz, brew install graphviz, or pip install 'deltaw[render]' for svg and png), "
        "then run: dot -Tpng g.dot -o g.png"
    )
    assert (tmp_path / "g.dot").read_text(encoding="utf-8").startswith("digraph")


# ---- interrupted, closed pipe, bugs ------------------------------------------------------------------
def _replace_run(monkeypatch, name, run):
    monkeypatch.setitem(COMMANDS, name, dataclasses.replace(COMMANDS[name], run=run))


def test_ctrl_c_exits_130_in_one_line(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    _replace_run(monkeypatch, "demo", interrupted)
    assert cli.main(["demo"]) == EXIT_INTERRUPTED
    assert error_line(capsys.readouterr().err, "demo") == "interrupted"


def test_a_closed_pipe_stops_quietly(tmp_path):
    """``deltaw explain ... | head -0``: no traceback, no 'Exception ignored' at exit."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(
        [sys.executable, "-m", "deltaw", "explain", *NEURON, "--wrt", "w"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # the reader goes away before deltaw writes
    err = p.stderr.read().decode("utf-8")
    assert p.wait(timeout=120) == EXIT_CANNOT_WRITE
    assert err == ""


def test_a_bug_keeps_its_traceback_and_exits_1(monkeypatch, capsys):
    def buggy(args):
        raise TypeError("an internal mistake")

    _replace_run(monkeypatch, "draw", buggy)
    assert cli.main(["draw", "w", "--set", "w=1"]) == EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "TypeError: an internal mistake" in err
    assert err.splitlines()[-1] == "deltaw draw: this is a bug in deltaw; please report it with the text above"


# ---- the codes are documented --------------------------------------------------------------------------
def test_every_exit_code_is_in_the_help_and_in_the_readme(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    help_lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cli_section = readme.split("## The command line: `deltaw`")[1].split("\n## ")[0]
    assert set(EXIT_CODES) == {0, 1, 2, 3, 4, 5, 130}
    for code, meaning in EXIT_CODES.items():
        assert f"{code}  {meaning}" in help_lines
        assert f"| {code} |" in cli_section, f"README's command-line section lacks exit code {code}"


def test_a_terminal_that_cannot_show_unicode_gets_escapes_not_a_failure(tmp_path):
    r = deltaw("explain", "w*x", "--set", "w=2", "x=3", "--wrt", "w", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.splitlines()[0] == "\\u2202out/\\u2202w for w = w: how out = 6 changes with w = 2"
