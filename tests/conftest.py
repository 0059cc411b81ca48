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


BROWSER_MISSING = (
    "needs a headless Chromium and its driver: `make browser-deps` (apt-get install chromium chromium-driver, "
    "as root, on Debian/Ubuntu) and `pip install selenium` (in the test extra)"
)
CHROMIUM = os.environ.get("DELTAW_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DELTAW_CHROMEDRIVER", "/usr/bin/chromedriver")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"requires_dot: the test runs the system Graphviz dot; {DOT_MISSING}")
    config.addinivalue_line("markers", f"requires_browser: the test drives a real Chromium; {BROWSER_MISSING}")


def _system_dot() -> bool:
    """True when ``dot`` on PATH is the system Graphviz (graphviz-pure also installs a ``dot``)."""
    from viz.renderers import find_renderer

    r = find_renderer()
    return r is not None and r.name == "graphviz"


def _browser_missing() -> str | None:
    """Why no browser can be driven here (None when Chromium, its driver and selenium are all present)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} not found; {BROWSER_MISSING}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return f"selenium is not installed; {BROWSER_MISSING}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("requires_browser") is not None:
        why = _browser_missing()
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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="deltaw-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
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
