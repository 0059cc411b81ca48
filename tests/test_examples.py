"""Smoke tests for every example (``--quick``: tiny settings), the exact output of the worked
example, reproducibility from ``--seed``, and both ways of running an example."""

from __future__ import annotations

import importlib
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [
    "weight_update",
    "neuron",
    "moons",
    "optimizers",
    "learning_rate",
    "initialization",
    "batching",
    "regularization",
    "activations",
    "beyond_backprop",
    "recurrent",
    "autoencoder",
    "cnn",
    "gpt",
    "online",
    "gan",
    "weight_update_tables",
    "demo",
]


def run_example(name: str, out: Path, *extra: str) -> tuple[object, str]:
    module = importlib.import_module(f"examples.{name}")
    return module.main(["--quick", "--out", str(out), *extra])


def written_files(text: str) -> list[Path]:
    return [Path(line.split()[1]) for line in text.splitlines() if line.strip().startswith("wrote ")]


def test_every_example_listed_in_the_issue_exists_with_a_docstring_and_main():
    for name in EXAMPLES:
        module = importlib.import_module(f"examples.{name}")
        assert module.__doc__ and len(module.__doc__.split()) > 40, name  # a paragraph, not a label
        assert callable(module.main)


@pytest.mark.parametrize("name", [n for n in EXAMPLES if n != "weight_update_tables"])
def test_example_runs_quickly_and_writes_what_it_says(name, tmp_path, capsys):
    result = run_example(name, tmp_path)
    text = capsys.readouterr().out
    assert result is not None and text.strip()
    for path in written_files(text):
        assert path.exists() and path.stat().st_size > 0, path
        assert tmp_path in path.parents  # everything goes to --out
    if isinstance(result, list):  # the comparison examples return their table rows
        assert result and all(len(row) > 2 for row in result)
        assert "|---" in text or "|--" in text


def expected_worked_example() -> list[str]:
    """The specified lines, computed here independently of the example."""
    xs, ys, w, lr = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0], 0.0, 0.01
    lines = []
    for epoch in range(50):
        loss = sum((y - w * x) ** 2 for x, y in zip(xs, ys)) / 3
        w -= lr * (-2.0 * sum((y - w * x) * x for x, y in zip(xs, ys)) / 3)
        if epoch % 10 == 0:
            lines.append(f"Epoch {epoch} | Loss: {loss:.4f} | Weight: {w:.4f}")
    return lines


def test_weight_update_prints_exactly_the_specified_lines_twice_and_they_agree(tmp_path, capsys):
    from examples import weight_update

    gap = weight_update.main(["--out", str(tmp_path)])
    text = capsys.readouterr().out
    epoch_lines = [line for line in text.splitlines() if line.startswith("Epoch")]
    expected = expected_worked_example()
    assert expected[0] == "Epoch 0 | Loss: 18.6667 | Weight: 0.1867"
    assert epoch_lines == expected + expected  # deltaw run, then the hand-written gradient
    assert gap < 1e-12
    assert re.search(r"Largest difference .*: \d", text)


def test_the_same_seed_gives_the_same_numbers_and_another_seed_other_numbers(tmp_path, capsys):
    from examples import learning_rate

    first = learning_rate.main(["--quick", "--out", str(tmp_path), "--seed", "3"])
    again = learning_rate.main(["--quick", "--out", str(tmp_path), "--seed", "3"])
    other = learning_rate.main(["--quick", "--out", str(tmp_path), "--seed", "4"])
    capsys.readouterr()
    assert first == again
    assert first != other  # the numbers come from the run (new data), not from the text


def test_learning_rate_table_shows_each_regime_from_its_measurements(tmp_path, capsys):
    from examples import learning_rate

    rows = learning_rate.main(["--out", str(tmp_path)])  # the full run takes well under a second
    capsys.readouterr()
    by_rate = {row[0]: row for row in rows}
    assert by_rate["0.01"][-1] == "too slow"
    assert by_rate["0.5"][-1] == "converges"
    assert by_rate["0.9"][-1].startswith("oscillates")
    assert by_rate["1.5"][-1] == "diverges"
    assert by_rate["0.5"][1] < by_rate["0.1"][1]  # steps to the target: faster with the larger rate


def test_tables_writes_one_measured_table_per_question(tmp_path, capsys):
    from examples import weight_update_tables

    path = weight_update_tables.main(["--quick", "--out", str(tmp_path)])
    capsys.readouterr()
    text = path.read_text(encoding="utf-8")
    for title in (
        "Algorithm",
        "Optimizer",
        "Momentum",
        "Initialization",
        "Learning rate",
        "Architecture",
        "Batch size",
        "Activation",
        "Regularization",
        "Supervised vs unsupervised",
        "Activation in a CNN",
        "Supervised vs unsupervised: images vs a GAN",
    ):
        assert f"## {title}\n" in text
    assert "LSTM" in text and "GRU" in text and "genetic algorithm" in text and "autoencoder" in text
    assert text.count("\n|---") == 12  # one separator row per table
    numbers = [float(x) for x in re.findall(r"\| (-?\d+\.\d+(?:e[+-]\d+)?) ", text)]
    assert numbers and all(math.isfinite(x) for x in numbers)


def test_momentum_table_is_a_subset_of_the_optimizer_runs():
    from examples.optimizers import MOMENTUM, OPTIMIZERS

    assert set(MOMENTUM) < set(OPTIMIZERS)


@pytest.mark.parametrize("how", ["file", "module"])
def test_an_example_runs_as_a_file_and_as_a_module(how, tmp_path):
    target = [str(ROOT / "examples" / "weight_update.py")] if how == "file" else ["-m", "examples.weight_update"]
    done = subprocess.run(
        [sys.executable, *target, "--out", str(tmp_path / "o")],
        cwd=ROOT if how == "module" else tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Epoch 40 | Loss: 0.0074 | Weight: 1.9640" in done.stdout
    assert (tmp_path / "o").is_dir()


def test_example_help_is_its_docstring(capsys):
    from examples import optimizers

    with pytest.raises(SystemExit) as info:
        optimizers.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--seed" in out and "--out" in out and "--quick" in out and "Momentum" in out


def test_quick_can_also_come_from_the_environment(monkeypatch, tmp_path):
    from examples._common import QUICK_ENV, setup

    monkeypatch.setenv(QUICK_ENV, "1")
    assert setup("doc", ["--out", str(tmp_path)]).quick
    monkeypatch.setenv(QUICK_ENV, "0")
    assert not setup("doc", ["--out", str(tmp_path)]).quick


def test_cnn_rows_come_from_the_run_and_its_first_adam_steps_move_every_weight_by_lr():
    from examples import cnn

    first, again, other = (cnn.experiment(seed, 20, 1, 10) for seed in (1, 1, 2))
    assert first.rows == again.rows and first.grads == again.grads
    assert first.rows != other.rows  # new data and weights, new numbers
    for row, grads in zip(first.rows, first.grads):
        assert row[6] == pytest.approx(row[4] / row[5])  # conv / dense
        assert grads[3] == pytest.approx(grads[1] / grads[2])
    # held-out accuracy is the share of argmax hits: a model that always says 3
    from autograd import Value

    always_three = lambda x: [Value(1.0 if k == 3 else 0.0) for k in range(10)]
    assert cnn.accuracy(always_three, [(None, 3), (None, 3), (None, 1), (None, 0)]) == 0.5
    for act in ("sigmoid", "tanh"):  # slopes never 0: every weight gets a gradient >> eps
        # Adam's first update is lr·g/(|g| + eps) per weight, so each layer's mean |Δw| is lr
        assert first.histories[act].delta[0] == pytest.approx({"layers.0": cnn.LR, "layers.3": cnn.LR}, rel=1e-4)
    # seed 1: a relu kernel is off on every pixel of the first batch, its weights and the dense weights
    # reading it get no gradient (10 + 9·10 of 410 parameters), so its first update moves 310 weights by lr
    relu = first.grads[0]
    assert relu[0] == "relu" and relu[4] == "24%"
    assert first.histories["relu"].delta[0]["layers.0"] == pytest.approx(cnn.LR * 30 / 40, rel=1e-4)
