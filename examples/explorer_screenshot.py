"""The README's picture of the explorer: micrograd's neuron mid-backward, in headless Chromium.

``python -m examples.explorer_screenshot [--out docs/explorer.png]`` writes the explorer page of
``tanh(w1*x1 + w2*x2 + b)`` (lr 0.1), opens it in headless Chromium (Debian's ``chromium`` and
``chromium-driver`` with ``selenium``: ``make browser-deps``), steps with → to the chain-rule
product that gives ∂L/∂w1 and saves the window as a PNG.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import viz  # noqa: E402
import viz.atomic  # noqa: E402
from autograd import Value  # noqa: E402
from viz.explorer import read_page  # noqa: E402

CHROMIUM = os.environ.get("DELTAW_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DELTAW_CHROMEDRIVER", "/usr/bin/chromedriver")
MISSING = (
    "needs a headless Chromium and its driver: `make browser-deps` (apt-get install chromium chromium-driver, "
    "as root, on Debian/Ubuntu) and `pip install selenium` (in the test extra)"
)


def browser_missing() -> str | None:
    """Why no headless Chromium can be driven here, with what to install (None: all present)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} not found; {MISSING}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return f"selenium is not installed; {MISSING}"
    return None


def headless_chromium(
    width: int = 1280, height: int = 900, *, profile: str | None = None, console: bool = False
) -> Any:
    """A selenium WebDriver on headless Chromium with the flags this machine needs (no sandbox as
    root, no GPU, no background connections, which a closed network refuses); ``RuntimeError``
    saying what to install otherwise.  ``profile``: a fresh user-data folder; ``console``: keep
    the page's console log (``driver.get_log("browser")``).  The browser tests use it too."""
    missing = browser_missing()
    if missing is not None:
        raise RuntimeError(f"headless_chromium: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    if profile is not None:
        options.add_argument(f"--user-data-dir={profile}")
    if console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def neuron() -> tuple[Value, list[Value]]:
    """micrograd's neuron, b chosen so that tanh'(z) = ½, after backward(); and its parameters."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2, b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(6.8813735870195432, label="b")
    out = (w1 * x1 + w2 * x2 + b).tanh()
    out.backward()
    return out, [w1, w2, b]


def screenshot(out: Path) -> Path:
    """Write the page, step to ∂L/∂w1's product, save the PNG (atomically) to ``out``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root, params = neuron()
    tmp = Path(tempfile.mkdtemp(prefix="deltaw-explorer-shot-"))
    driver = headless_chromium(1180, 470)
    try:
        page = viz.explore(root, lr=0.1, path=tmp / "neuron.html", params=params)
        data = read_page(page.path)
        w1 = data["names"].index("w1")
        target = next(k for k, s in enumerate(data["steps"]) if s.get("child") == w1)
        driver.get(page.path.resolve().as_uri())
        body = driver.find_element(By.TAG_NAME, "body")
        for _ in range(target):
            body.send_keys(Keys.ARROW_RIGHT)
        assert body.get_attribute("data-step") == str(target)
        png = tmp / "explorer.png"
        driver.save_screenshot(str(png))
        out.parent.mkdir(parents=True, exist_ok=True)
        viz.atomic.write_bytes(out, png.read_bytes())
    finally:
        driver.quit()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/explorer.png"), help="the PNG (default docs/explorer.png)")
    args = ap.parse_args(argv)
    try:
        print(f"wrote {screenshot(args.out)}")
    except RuntimeError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main()
