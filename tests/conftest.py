"""Shared test settings.

- hypothesis runs derandomized (profile "ci") so every failure reproduces;
  HYPOTHESIS_PROFILE=dev explores new examples each run.
- ``@pytest.mark.requires_dot``: the one marker for tests that run the system
  Graphviz ``dot``.  Without ``dot`` they are skipped with the install
  command; with ``DELTAW_REQUIRE_DOT=1`` (CI, which installs Graphviz) a
  missing ``dot`` fails them instead, so CI can never skip them silently.
- ``@pytest.mark.requires_browser`` and the ``browser`` fixture: a real headless
  Chromium driven by selenium (Debian's ``chromium`` and ``chromium-driver``,
  ``make browser-deps``; started by ``examples.explorer_screenshot``, the one
  place that knows its flags).  Skipped with the install command where
  missing; ``DELTAW_REQUIRE_BROWSER=1`` (CI, which installs them) fails
  instead.  The ``browser_errors`` fixture reads the page's console errors.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

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
    config.addinivalue_line(
        "markers", "requires_browser: the test drives a real headless Chromium (make browser-deps; selenium)"
    )


def _system_dot() -> bool:
    """True when ``dot`` on PATH is the system Graphviz (graphviz-pure also installs a ``dot``)."""
    from viz.renderers import find_renderer

    r = find_renderer()
    return r is not None and r.name == "graphviz"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("requires_browser") is not None:
        from examples.explorer_screenshot import browser_missing  # imported only where a test needs it

        why = browser_missing()
        if why is not None:
            if os.environ.get("DELTAW_REQUIRE_BROWSER") == "1":
                pytest.fail(f"DELTAW_REQUIRE_BROWSER=1 but {why}", pytrace=False)
            pytest.skip(why)
    if item.get_closest_marker("requires_dot") is None:
        return
    if shutil.which("dot") is not None and _system_dot():
        return
    if os.environ.get("DELTAW_REQUIRE_DOT") == "1":
        pytest.fail(f"DELTAW_REQUIRE_DOT=1 but the system dot is missing; {DOT_MISSING}", pytrace=False)
    pytest.skip(DOT_MISSING)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (selenium WebDriver), with console logging on.

    Flags as this machine's network needs them: no sandbox (root in CI), no GPU, no
    background connections.  Use with ``@pytest.mark.requires_browser``."""
    from examples.explorer_screenshot import headless_chromium

    profile = tempfile.mkdtemp(prefix="deltaw-chromium-")
    driver = headless_chromium(1280, 900, profile=profile, console=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _severe(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture
def browser_errors() -> Any:
    """``browser_errors(driver)``: the console messages of level SEVERE (errors, uncaught
    exceptions, failed loads) logged since the last read of the log."""
    return _severe
