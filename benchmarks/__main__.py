"""``python -m benchmarks``: every case, every engine, each run in a fresh process.

Rounds alternate between engines (so machine noise hits all of them alike) and
each figure is the median of the rounds.  Ratios compare engines measured in
this same run; nothing here is a pass/fail timing test.  Where the ``dag`` case's time per node
goes (ordering vs gradient arithmetic vs the memory system) is ``python -m benchmarks.dag_floor``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys

TARGETS = [
    # (description, function of results -> measured, target, higher_is_better)
    (
        "chain fwd+bwd speed-up vs micrograd",
        lambda r: r["chain"]["micrograd"]["total_ns"] / r["chain"]["deltaw"]["total_ns"],
        4.0,
        True,
    ),
    ("chain backward ns/op", lambda r: r["chain"]["deltaw"]["backward_ns"], 300.0, False),
    (
        "demo step speed-up, micrograd-identical graph",
        lambda r: r["demo_step"]["micrograd"]["step_s"] / r["demo_step"]["deltaw"]["step_s"],
        12.0,
        True,
    ),
    (
        "demo step speed-up, dot nodes",
        lambda r: r["demo_step"]["micrograd"]["step_s"] / r["demo_step"]["deltaw-dot"]["step_s"],
        50.0,
        True,
    ),
    (
        "backward per node on random DAGs, 10⁶ steps vs 10³ (CPU)",
        lambda r: r["dag"]["deltaw"]["near_1e6_cpu_ns"] / r["dag"]["deltaw"]["near_1e3_cpu_ns"],
        1.3,
        False,
    ),
    ("bytes per node", lambda r: r["memory"]["deltaw"]["bytes_per_node"], 250.0, False),
    (
        "nn.MLP demo step speed-up, fused=False",
        lambda r: r["demo_step"]["micrograd"]["step_s"] / r["demo_step"]["nn-unfused"]["step_s"],
        12.0,
        True,
    ),
    (
        "nn.MLP demo step speed-up, fused",
        lambda r: r["demo_step"]["micrograd"]["step_s"] / r["demo_step"]["nn"]["step_s"],
        50.0,
        True,
    ),
    (
        "nn.MLP demo step memory, share of micrograd's",
        lambda r: r["demo_memory"]["nn"]["step_peak_mb"] / r["demo_memory"]["micrograd"]["step_peak_mb"],
        0.25,
        False,
    ),
]

#: Cases whose numbers do not vary from run to run (allocation counts): one round is enough.
DETERMINISTIC = {"memory", "demo_memory"}

#: Which engines each case runs (micrograd first when installed).
CASE_ENGINES = {
    "chain": ["micrograd", "deltaw"],
    "memory": ["micrograd", "deltaw"],
    "demo_step": ["micrograd", "deltaw", "deltaw-dot", "nn-unfused", "nn"],
    "demo_memory": ["micrograd", "nn-unfused", "nn"],
    "dag": ["deltaw"],
}


def run_once(case: str, engine: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", case, engine], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark {case}/{engine} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="fresh-process rounds per engine (median reported)")
    parser.add_argument("--cases", nargs="*", default=list(CASE_ENGINES), choices=list(CASE_ENGINES))
    args = parser.parse_args(argv)
    have_micrograd = importlib.util.find_spec("micrograd") is not None
    if not have_micrograd:
        print("micrograd is not installed (pip install 'deltaw[bench]'): its rows and the ratios are skipped")
    results: dict[str, dict[str, dict[str, float]]] = {}
    for case in args.cases:
        case_engines = [e for e in CASE_ENGINES[case] if have_micrograd or e != "micrograd"]
        rounds: dict[str, list[dict[str, float]]] = {e: [] for e in case_engines}
        n_rounds = 1 if case in DETERMINISTIC else args.rounds
        for i in range(n_rounds):
            for engine in case_engines:  # alternate engines within each round
                rounds[engine].append(run_once(case, engine))
            print(f"  {case}: round {i + 1}/{n_rounds}", file=sys.stderr)
        results[case] = {e: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for e, runs in rounds.items()}
    print(
        f"\nMedians of {args.rounds} rounds (memory: 1 round, it is deterministic; demo_step: each "
        "round the mean of 10 steps after a warm-up step), each engine in a fresh process:\n"
    )
    print("| case | engine | " + " | ".join(["metric", "value"]) + " |")
    print("|---|---|---|---|")
    for case, per_engine in results.items():
        for engine, metrics in per_engine.items():
            for k, v in metrics.items():
                print(f"| {case} | {engine} | {k} | {v:.4g} |")
    if have_micrograd and set(args.cases) == set(CASE_ENGINES):
        print("\n| target | measured | goal | met |\n|---|---|---|---|")
        for name, measure, goal, higher in TARGETS:
            value = measure(results)
            met = value >= goal if higher else value <= goal
            sign = ">=" if higher else "<="
            print(f"| {name} | {value:.1f} | {sign} {goal:g} | {'yes' if met else 'NO'} |")


if __name__ == "__main__":
    main()
