"""The ``requires_dot`` marker: skips with the install command without dot, fails under DELTAW_REQUIRE_DOT=1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent

SAMPLE = """
import pytest

@pytest.mark.requires_dot
def test_needs_dot():
    assert True

def test_plain():
    assert True
"""


def run_pytest(tmp_path: Path, path_env: str, **env: str) -> subprocess.CompletedProcess:
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PATH": path_env, **env},
        timeout=120,
    )


def test_skips_with_the_install_command_when_dot_is_missing(tmp_path) -> None:
    out = run_pytest(tmp_path, str(tmp_path / "no-such-dir"), DELTAW_REQUIRE_DOT="")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed, 1 skipped" in out.stdout
    assert "apt-get install graphviz" in out.stdout and "brew install graphviz" in out.stdout


def test_fails_when_ci_requires_dot_and_it_is_missing(tmp_path) -> None:
    out = run_pytest(tmp_path, str(tmp_path / "no-such-dir"), DELTAW_REQUIRE_DOT="1")
    assert out.returncode == 1
    assert "1 passed, 1 error" in out.stdout and "DELTAW_REQUIRE_DOT=1" in out.stdout


@pytest.mark.requires_dot
def test_runs_when_dot_is_installed(tmp_path) -> None:
    out = run_pytest(tmp_path, os.environ["PATH"], DELTAW_REQUIRE_DOT="1")
    assert out.returncode == 0 and "2 passed" in out.stdout, out.stdout
