"""Shared test settings.

- hypothesis runs derandomized (profile "ci") so every failure reproduces;
  HYPOTHESIS_PROFILE=dev explores new examples each run.
- ``@pytest.mark.requires_dot``: the one marker for tests that run the system
  Graphviz ``dot``.  Without ``dot`` they are skipped with the install
  command; with ``DELTAW_REQUIRE_DOT=1`` (CI, which installs Graphviz) a
  missing ``dot`` fails them instead, so CI can never skip them silently.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DOT_MISSING = (
    "needs the system Graphviz `dot`: apt-get install graphviz (Debian/Ubuntu) or brew install graphviz (macOS)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"requires_dot: the test runs the system Graphviz dot; {DOT_MISSING}")


def _system_dot() -> bool:
    """True when ``dot`` on PATH is the system Graphviz (graphviz-pure also installs a ``dot``)."""
    from viz.renderers import find_renderer

    r = find_renderer()
    return r is not None and r.name == "graphviz"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("requires_dot") is None:
        return
    if shutil.which("dot") is not None and _system_dot():
        return
    if os.environ.get("DELTAW_REQUIRE_DOT") == "1":
        pytest.fail(f"DELTAW_REQUIRE_DOT=1 but the system dot is missing; {DOT_MISSING}", pytrace=False)
    pytest.skip(DOT_MISSING)
