"""The application package: ``python -m deltaw``, ``deltaw --version`` from the one version in
pyproject, subcommands as one function plus a registration, and the one-way layering
(deltaw -> viz -> nn -> autograd: the libraries never import the application)."""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import deltaw
from deltaw import cli
from deltaw.app import COMMANDS, command

ROOT = Path(__file__).resolve().parents[1]


def pyproject_version() -> str:
    """The version written in pyproject.toml's [project] table, read independently of deltaw."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("\n[project]\n", 1)[1].split("\n[", 1)[0]
    (version,) = re.findall(r'^version = "(.+)"$', project, re.M)
    return version


# ---- the version ---------------------------------------------------------------------------------
def test_version_is_pyprojects(capsys):
    assert deltaw.__version__ == pyproject_version()
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"deltaw {pyproject_version()}\n"


def test_version_comes_from_the_installed_metadata_first(monkeypatch):
    monkeypatch.setattr(metadata, "version", lambda name: "7.8.9" if name == "deltaw" else "?")
    assert deltaw._version() == "7.8.9"


def _not_installed(name: str) -> str:
    raise metadata.PackageNotFoundError(name)


def test_version_from_a_source_tree_without_install_reads_the_project_table(monkeypatch, tmp_path):
    monkeypatch.setattr(metadata, "version", _not_installed)
    assert deltaw._version() == pyproject_version()  # this checkout's pyproject.toml
    fake = tmp_path / "pyproject.toml"
    fake.write_text(
        '[tool.other]\nversion = "1.0"\n\n[project]\nname = "deltaw"\nversion = "2.5.0rc1"\n\n'
        '[project.scripts]\ndeltaw = "deltaw.cli:main"\n',
        encoding="utf-8",
    )
    assert deltaw._version(fake) == "2.5.0rc1"
    fake.write_text('[tool.other]\nversion = "1.0"\n', encoding="utf-8")
    assert deltaw._version(fake) == "0+unknown"
    assert deltaw._version(tmp_path / "missing.toml") == "0+unknown"


def test_python_m_deltaw_is_the_same_command(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "deltaw"]
    version = subprocess.run([*run, "--version"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert (version.returncode, version.stdout) == (0, f"deltaw {pyproject_version()}\n")
    ok = subprocess.run(
        [*run, "explain", "w*x", "--set", "w=2", "x=3", "--wrt", "w"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert ok.returncode == 0
    assert "engine: autograd.grad gives 3 ✓; w.grad holds 3 ✓" in [line.strip() for line in ok.stdout.splitlines()]


# ---- subcommands: one function plus its registration -------------------------------------------------
def test_the_documented_subcommands_are_registered_in_help_order():
    assert list(COMMANDS) == ["demo", "draw", "explain", "explore"]


def test_a_new_subcommand_is_one_function_and_its_registration(capsys):
    def arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", default="world")

    try:

        @command("hello", help="say hello", description="Say hello.", example="deltaw hello", arguments=arguments)
        def hello(args: argparse.Namespace) -> int:
            print(f"hello {args.name}")
            return 0

        assert cli.main(["hello", "--name", "Δw"]) == 0
        assert capsys.readouterr().out == "hello Δw\n"
        with pytest.raises(SystemExit):
            cli.main(["--help"])
        help_text = capsys.readouterr().out
        assert "{demo,draw,explain,explore,hello}" in help_text and "  deltaw hello\n" in help_text
        with pytest.raises(ValueError, match="'hello' is registered twice"):
            command("hello", help="", description="", example="", arguments=arguments)(hello)
    finally:
        COMMANDS.pop("hello", None)


# ---- layering: the libraries never import the application ---------------------------------------------
LIBRARIES = ("autograd", "nn", "viz")


def _imports(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("library", LIBRARIES)
def test_no_library_imports_deltaw(library):
    files = sorted((ROOT / library).rglob("*.py"))
    assert files
    offenders = [str(f.relative_to(ROOT)) for f in files if "deltaw" in _imports(f)]
    assert offenders == []


def test_viz_is_a_drawing_library_without_the_command_line():
    for gone in ("cli.py", "demo.py", "expression.py"):
        assert not (ROOT / "viz" / gone).exists()
    code = "import sys, viz, nn, autograd; print(sorted(m for m in sys.modules if m.split('.')[0] == 'deltaw'))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert (r.returncode, r.stdout) == (0, "[]\n"), r.stderr
