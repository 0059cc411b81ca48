"""``python -m benchmarks.bench_cnn``: one CNN training step on a batch of digits, eager and compiled.

The model is examples/cnn.py's: Conv2d(1, 4, 3, relu) -> MaxPool2d(2) ->
Flatten -> Layer(36, 10), on 8x8 ``make_digits`` images, cross-entropy
(``nn.losses.cross_entropy_one_hot``, so the targets can be graph inputs) and Adam.

* ``eager step``: the loss graph of a batch, ``backward()``, ``opt.step()``.
* ``eager fwd+bwd`` and ``compiled fwd+bwd``: the gradients of one batch at fixed
  weights, eagerly and by replaying the loss traced once by ``autograd.compile``
  (pixels and one-hot targets as inputs).

* ``compiled training step``: the loss traced once, the optimizer bound to its
  arrays (``fn.bind(opt)``), then ``zero_grad``, ``fn(batch)``, ``step()`` per batch:
  what ``fit(compile=True)`` does.  MaxPool2d's windows are registry ``max_first``
  nodes, so the replay picks each window's maximum from the new pixels and weights;
  its losses must equal the eager steps' to 1e-12 (the run is void otherwise).

The replay is compared with eager at the traced weights and batch (losses and
gradients must agree).  Reported: graph size and CPU ms (median of ``--rounds``
rounds of ``--steps`` repetitions).  Nothing here is a pass/fail timing test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from autograd import Value, compile, topological_order  # noqa: E402
from nn import Adam, Conv2d, Flatten, Layer, MaxPool2d, Sequential  # noqa: E402
from nn.data import make_digits  # noqa: E402
from nn.losses import cross_entropy_one_hot  # noqa: E402

CLASSES = 10


def make_model(seed: int) -> Sequential:
    """examples/cnn.py's network with relu in the convolution."""
    return Sequential(
        Conv2d(1, 4, 3, activation="relu", seed=seed), MaxPool2d(2), Flatten(), Layer(36, 10, "linear", seed=seed)
    )


def one_hot(label: int) -> list[float]:
    return [1.0 if k == label else 0.0 for k in range(CLASSES)]


def batches(n_batches: int, batch: int, seed: int) -> list[tuple[list[Any], list[list[float]]]]:
    """``n_batches`` batches of (images as nested lists, one-hot targets)."""
    X, y = make_digits(n_batches * batch, size=8, seed=seed)
    images, labels = X.tolist(), y.tolist()
    return [(images[i : i + batch], [one_hot(t) for t in labels[i : i + batch]]) for i in range(0, len(images), batch)]


def loss_of(model: Sequential, images: list[Any], targets: list[Any]) -> Value:
    return cross_entropy_one_hot([model(x) for x in images], targets)


def eager_steps(data: list[Any], seed: int) -> tuple[list[float], int]:
    """CPU seconds of each training step (graph, backward, Adam), and the graph's node count."""
    model = make_model(seed)
    opt = Adam(model.parameters(), lr=0.02)
    times, nodes = [], 0
    for images, targets in data:
        t0 = time.process_time()
        loss = loss_of(model, images, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.process_time() - t0)
        nodes = nodes or len(topological_order(loss))
    return times, nodes


def flat_inputs(images: list[Any], targets: list[Any]) -> list[float]:
    """A batch as the traced graph takes it: every pixel in row-major order, then the one-hot rows."""
    return [p for img in images for ch in img for row in ch for p in row] + [t for r in targets for t in r]


def compiled_steps(data: list[Any], seed: int) -> tuple[list[float], list[float]]:
    """CPU seconds of each compiled training step (weights and Adam's state on arrays), and its losses."""
    model = make_model(seed)
    params = model.parameters()
    images, targets = data[0]
    pixel_in = [[[[Value(p) for p in row] for row in ch] for ch in img] for img in images]
    target_in = [[Value(t) for t in row] for row in targets]
    flat = [v for img in pixel_in for ch in img for row in ch for v in row] + [v for r in target_in for v in r]
    fn = compile(loss_of(model, pixel_in, target_in), inputs=flat, parameters=params)
    opt = Adam(params, lr=0.02)
    fn.bind(opt)
    times, losses = [], []
    for images, targets in data:
        x = flat_inputs(images, targets)
        t0 = time.process_time()
        opt.zero_grad()
        losses.append(fn(x))
        opt.step()
        times.append(time.process_time() - t0)
    fn.unbind()
    return times, losses


def eager_losses(data: list[Any], seed: int) -> list[float]:
    """The eager training run's losses (no timing), to hold the compiled run to."""
    model = make_model(seed)
    opt = Adam(model.parameters(), lr=0.02)
    out = []
    for images, targets in data:
        loss = loss_of(model, images, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(loss.data)
    return out


def gradients(batch: Any, seed: int, steps: int) -> tuple[list[float], list[float], float, float]:
    """CPU seconds of eager and replayed forward+backward at fixed weights, compile seconds, and the
    largest difference between their gradients (relative to the largest gradient)."""
    model = make_model(seed)
    params = model.parameters()
    images, targets = batch
    eager = []
    for _ in range(steps):
        t0 = time.process_time()
        for p in params:
            p.grad = 0.0
        loss_of(model, images, targets).backward()
        eager.append(time.process_time() - t0)
    want = [p.grad for p in params]
    pixel_in = [[[[Value(p) for p in row] for row in ch] for ch in img] for img in images]
    target_in = [[Value(t) for t in row] for row in targets]
    flat = [v for img in pixel_in for ch in img for row in ch for v in row] + [v for r in target_in for v in r]
    t0 = time.process_time()
    fn = compile(loss_of(model, pixel_in, target_in), inputs=flat, parameters=params)
    compile_s = time.process_time() - t0
    replay = []
    for _ in range(steps):
        t0 = time.process_time()
        for p in params:
            p.grad = 0.0
        fn()
        replay.append(time.process_time() - t0)
    scale = max(abs(g) for g in want) or 1.0
    worst = max(abs(p.grad - g) for p, g in zip(params, want)) / scale
    return eager, replay, compile_s, worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cnn", description=__doc__)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="steps per round (the first is a warm-up)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    step_ms, eager_ms, replay_ms, compile_s, train_ms = [], [], [], [], []
    nodes, worst, drift = 0, 0.0, 0.0
    for r in range(args.rounds):
        data = batches(args.steps, args.batch, seed=args.seed + r)
        s_t, nodes = eager_steps(data, args.seed)
        e_t, c_t, c_s, w = gradients(data[0], args.seed, args.steps)
        worst = max(worst, w)
        t_t, losses = compiled_steps(data, args.seed)
        drift = max(drift, max(abs(a - b) / abs(b) for a, b in zip(losses, eager_losses(data, args.seed))))
        train_ms.append(1e3 * statistics.median(t_t[1:]))
        step_ms.append(1e3 * statistics.median(s_t[1:]))
        eager_ms.append(1e3 * statistics.median(e_t[1:]))
        replay_ms.append(1e3 * statistics.median(c_t[1:]))
        compile_s.append(c_s)
    e, c = statistics.median(eager_ms), statistics.median(replay_ms)
    print(f"CNN (Conv2d(1,4,3,relu) -> MaxPool2d(2) -> Flatten -> Layer(36,10)), batch {args.batch} of 8x8 digits")
    print(f"cross-entropy, Adam; medians of {args.rounds} rounds x {args.steps - 1} repetitions (CPU time)")
    print(f"graph: {nodes} nodes per step")
    print(f"eager training step   {statistics.median(step_ms):8.2f} ms")
    print(f"eager fwd+bwd         {e:8.2f} ms")
    print(
        f"compiled fwd+bwd      {c:8.2f} ms  ({e / c:.1f}x eager; compiling once: {statistics.median(compile_s):.2f} s)"
    )
    t = statistics.median(train_ms)
    print(f"compiled training step {t:7.2f} ms  ({statistics.median(step_ms) / t:.1f}x faster than the eager step)")
    print(f"gradients, eager vs compiled: largest difference {worst:.1e} of the largest gradient")
    print(f"training losses, eager vs compiled: largest relative difference {drift:.1e}")
    if worst > 1e-12 or drift > 1e-12:
        raise SystemExit("eager and compiled runs disagree: the comparison is void")


if __name__ == "__main__":
    main()
