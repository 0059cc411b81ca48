"""``python -m benchmarks.bench_explore``: the explorer page for 1k, 10k and 30k-node graphs.

Per graph (micrograd's moons MLP(2, [16, 16, 1]) mse loss over enough samples): the time
``viz.explore`` takes to build the page (median of ``--rounds``), the page's size and its number
of steps; then, in headless Chromium when it is installed (the browser tests' setup), the time to
load the page and the milliseconds one → takes: in the page (the key handler plus the style and
layout it causes, median over ``--keys`` presses) and through WebDriver (a real key event, round
trip included).  Timing lives here, never in the tests; nothing fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import viz  # noqa: E402
from autograd import Value, topological_order  # noqa: E402
from benchmarks.bench_viz import mlp_batch_loss  # noqa: E402
from examples.explorer_screenshot import headless_chromium  # noqa: E402

SIZES = (1_000, 10_000, 30_000)

# batches of presses of →, each followed by what the browser must do before it can paint (style,
# layout); per press: a batch's time over its presses (the browser's clock is coarse), median of batches
STEP_JS = """
var batches = arguments[0], per = arguments[1], times = [];
for (var b = 0; b < batches; b++) {
  var t = performance.now();
  for (var i = 0; i < per; i++) {
    document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}));
    document.getElementById('equation').getBoundingClientRect();
    document.querySelector('#graph g.node.current').getBoundingClientRect();
  }
  times.push((performance.now() - t) / per);
}
return times;
"""


def graph_of(nodes: int) -> Value:
    """The moons MLP loss whose graph has about ``nodes`` values."""
    per = len(topological_order(mlp_batch_loss(10, fused=False))) / 10
    return mlp_batch_loss(max(2, round(nodes / per)), fused=False)


def browser() -> Any:
    """Headless Chromium as the README's screenshot drives it, or None when it is not installed."""
    try:
        return headless_chromium()
    except RuntimeError:
        return None


def in_browser(driver: Any, page: Path, keys: int) -> dict[str, float]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    t = time.perf_counter()
    driver.get(page.resolve().as_uri())
    load = time.perf_counter() - t
    in_page = statistics.median(driver.execute_script(STEP_JS, 10, max(1, keys // 10)))
    body = driver.find_element(By.TAG_NAME, "body")
    trips = []
    for _ in range(min(keys, 30)):
        t = time.perf_counter()
        body.send_keys(Keys.ARROW_RIGHT)
        trips.append(time.perf_counter() - t)
    driver.find_element(By.ID, "to-update").click()
    t = time.perf_counter()
    driver.find_element(By.ID, "to-forward").click()  # a jump: every node's state again
    jump = time.perf_counter() - t
    return {"load_s": load, "step_ms": in_page, "key_ms": 1000 * statistics.median(trips), "jump_ms": 1000 * jump}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="page builds per size (median)")
    ap.add_argument("--keys", type=int, default=200, help="→ presses measured per page")
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = ap.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="deltaw-bench-explore-"))
    driver = browser()
    print(f"{'nodes':>7} {'steps':>8} {'build s':>8} {'page MB':>8}", end="")
    print(f" {'load s':>7} {'→ ms':>6} {'key ms':>7} {'jump ms':>8}" if driver else "  (no Chromium: build only)")
    try:
        for size in args.sizes:
            root = graph_of(size)
            builds = []
            for _ in range(args.rounds):
                t = time.perf_counter()
                page = viz.explore(root, lr=0.1, path=out / f"explore_{size}.html")
                builds.append(time.perf_counter() - t)
            steps = len(viz.explorer.read_page(page.html)["steps"])
            mb = page.path.stat().st_size / 1e6
            line = f"{len(topological_order(root)):>7} {steps:>8} {statistics.median(builds):>8.2f} {mb:>8.2f}"
            if driver:
                b = in_browser(driver, page.path, args.keys)
                line += f" {b['load_s']:>7.2f} {b['step_ms']:>6.2f} {b['key_ms']:>7.1f} {b['jump_ms']:>8.1f}"
            print(line, flush=True)
    finally:
        if driver:
            driver.quit()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
