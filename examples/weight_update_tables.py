"""Every comparison of the examples, measured again in one run and written to ``out/tables.md``.

Runs the examples optimizers, learning_rate, initialization, batching,
regularization, activations, cnn, beyond_backprop, recurrent, autoencoder and
gan in reduced form (fewer steps; numbers only, no pictures) and collects one table
per question: which algorithm, which optimizer, how much momentum, which
initialization, which learning rate, which architecture, which batch size,
which activation, which regularization, supervised or not.  Every number
in the file comes from this run, with the seed written at the top: run it
again with the same seed and you get the same tables.

    python -m examples.weight_update_tables --seed 0
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: python examples/weight_update_tables.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples import (
    activations,
    autoencoder,
    batching,
    beyond_backprop,
    cnn,
    gan,
    initialization,
    learning_rate,
    optimizers,
    recurrent,
    regularization,
)
from examples._common import Args, main_guard, markdown_table, setup, wrote


def sections(args: Args) -> list[tuple[str, str, list[str], Callable[[], list[list[Any]]]]]:
    """(title, what it varies, headers, how to compute the rows) for each table, in the file's order."""
    cache: dict[str, Any] = {}

    def optimizer_rows() -> Any:
        if "opt" not in cache:
            cache["opt"] = optimizers.run(args)
        return cache["opt"]

    n_train, epochs, batch, cnn_at = cnn.sizes(args)
    at = min(cnn_at, gan.steps_for(args))  # the update both systems report

    def cnn_results() -> cnn.Results:
        if "cnn" not in cache:
            cache["cnn"] = cnn.experiment(args.seed, n_train, epochs, batch)
        return cache["cnn"]

    def supervised_vs_gan() -> list[list[Any]]:
        hist = cnn_results().histories["relu"]
        run = gan.train(args.seed, gan.steps_for(args), gan.BATCH, gan.HIDDEN, snapshot_every=gan.steps_for(args))
        rows = []
        for layer, name in (("layers.0", "CNN conv layer (relu)"), ("layers.3", "CNN dense layer")):
            run_mean = sum(d[layer] for d in hist.delta) / len(hist.delta)
            rows.append([name, "labels: cross-entropy on digits", hist.delta[at - 1][layer], run_mean])
        rows.append(
            ["GAN discriminator", "real/fake labels it is given", run.meter_d.per_step[at - 1], run.meter_d.mean]
        )
        rows.append(["GAN generator", "no labels: only D's gradient", run.meter_g.per_step[at - 1], run.meter_g.mean])
        return rows

    return [
        (
            "Algorithm",
            "backprop vs a genetic algorithm vs a particle swarm (examples/beyond_backprop.py)",
            beyond_backprop.HEADERS,
            lambda: beyond_backprop.run(args),
        ),
        (
            "Optimizer",
            "seven update rules on the same model and seed (examples/optimizers.py)",
            optimizers.HEADERS,
            lambda: optimizer_rows().table(),
        ),
        (
            "Momentum",
            "plain SGD vs momentum vs Nesterov, from the optimizer runs (examples/optimizers.py)",
            optimizers.HEADERS,
            lambda: optimizer_rows().table(optimizers.MOMENTUM),
        ),
        (
            "Initialization",
            "zeros, uniform, Xavier, He with tanh and relu (examples/initialization.py)",
            initialization.HEADERS,
            lambda: initialization.run(args),
        ),
        (
            "Learning rate",
            "plain SGD from too small to divergent (examples/learning_rate.py)",
            learning_rate.HEADERS,
            lambda: learning_rate.run(args),
        ),
        (
            "Architecture",
            "RNN vs LSTM vs GRU on the same sequence task (examples/recurrent.py)",
            recurrent.HEADERS,
            lambda: recurrent.run(args),
        ),
        (
            "Batch size",
            "batch, mini-batch and stochastic gradient descent (examples/batching.py)",
            batching.HEADERS,
            lambda: batching.run(args),
        ),
        (
            "Activation",
            "relu, sigmoid, tanh, leaky relu in a deep MLP (examples/activations.py)",
            activations.HEADERS,
            lambda: activations.run(args),
        ),
        (
            "Activation in a CNN",
            "relu, sigmoid, tanh in a small CNN classifying digits (examples/cnn.py)",
            cnn.headers(cnn_at),
            lambda: cnn_results().rows,
        ),
        (
            "Regularization",
            "none, L1, L2, dropout on 30 noisy points (examples/regularization.py)",
            regularization.HEADERS,
            lambda: regularization.run(args),
        ),
        (
            "Supervised vs unsupervised",
            "an autoencoder and its labelled twin (examples/autoencoder.py)",
            autoencoder.HEADERS,
            lambda: autoencoder.run(args),
        ),
        (
            "Supervised vs unsupervised: images vs a GAN",
            "a CNN classifying digits vs a GAN learning a ring of 8 Gaussians (examples/cnn.py, examples/gan.py)",
            ["system", "learns from", f"mean abs(Δw), update {at}", "mean abs(Δw) over the run"],
            supervised_vs_gan,
        ),
    ]


def main(argv: Sequence[str] | None = None) -> Path:
    args = setup(__doc__, argv)
    size = "quick" if args.quick else "reduced"
    run = Args(seed=args.seed, out=args.out, size=size, pictures=False)
    parts = [
        f"# Weight updates, measured\n\nWritten by `python -m examples.weight_update_tables --seed {args.seed}`"
        f" ({size} settings). Every number below was measured in that run.\n"
    ]
    start = time.perf_counter()
    for title, what, headers, rows in sections(run):
        print(f"\n### {title}: {what}")
        t0 = time.perf_counter()
        table = markdown_table(headers, rows())
        parts.append(f"## {title}\n\n{what}; measured in {time.perf_counter() - t0:.1f} s.\n\n{table}\n")
    path = args.out / "tables.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    print(f"\nAll tables in {time.perf_counter() - start:.1f} s")
    wrote(path, "one markdown table per question")
    return path


if __name__ == "__main__":
    main_guard(main)
