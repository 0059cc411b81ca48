"""``python -m benchmarks.bench_gpt``: one GPT training step, deltaw vs a microgpt-style engine.

One step = forward over one name (``[BOS, ..., BOS]``), backward, one Adam update (lr 0.01,
betas (0.85, 0.99), eps 1e-8, lr decaying linearly to 0 over ``--steps``).  Three engines train
the default ``GPT`` (n_embd 16, 4 heads, 1 layer, block 16) from the same weights on the same
names (``load_names()`` shuffled with a fixed seed):

* ``baseline``: ``benchmarks.microgpt_style`` (its own Value, model code and hand-written Adam);
* ``native``: ``nn.GPT`` + ``nn.Adam`` + ``nn.LinearLR``;
* ``drop-in``: the baseline's model code and Adam with deltaw's ``autograd.Value``.
* ``compiled``: ``nn.GPT`` + ``nn.Adam`` with forward and backward replayed by ``autograd.compile``
  (``benchmarks.gpt_compiled``: one graph per sequence length, compiled before the timed steps).

Each round of each engine runs in a fresh process (``--worker``); the table gives the median
over ``--rounds`` of the mean wall and CPU time per step, the speed-up over the baseline, the
targets (native ≥ 10x, drop-in ≥ 2x), and the largest difference between the baseline's and
the native model's per-step losses (they must agree to 1e-9).  Python's cycle collector runs
as in a plain script unless ``--gc-paused`` (``nn.fit``'s habit) turns it off during each step.
Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import microgpt_style  # noqa: E402
from benchmarks.gpt_compiled import CompiledGPTLoss  # noqa: E402
from nn import GPT, Adam, CharTokenizer, LinearLR, load_names  # noqa: E402

ENGINES = ("baseline", "native", "drop-in", "compiled")
TARGETS = {"native": 10.0, "drop-in": 2.0}
SEED, DATA_SEED = 0, 42
LR, BETAS, EPS = 0.01, (0.85, 0.99), 1e-8
TOLERANCE = 1e-9
GPT_BLOCK = 16  # GPT's default block_size: the most lengths the compiled engine meets


def documents() -> tuple[CharTokenizer, list[list[int]]]:
    """The names as token documents, shuffled with ``DATA_SEED`` (the same order for every engine)."""
    names = load_names()
    tok = CharTokenizer(names)
    random.Random(DATA_SEED).shuffle(names)
    return tok, [tok.document(n) for n in names]


def trainer(engine: str, steps: int, batch: list[list[int]]) -> Any:
    """A function ``step(tokens) -> loss`` training ``engine``'s copy of ``GPT(seed=SEED)``
    (``compiled`` compiles the graphs of ``batch``'s lengths here, before any step)."""
    tok, _ = documents()
    gpt = GPT(tok.vocab_size, seed=SEED)
    if engine in ("native", "compiled"):
        opt = Adam(gpt.parameters(), lr=LR, betas=BETAS, eps=EPS)
        sched = LinearLR(opt, 1.0, 0.0, total_iters=steps)
        compiled = CompiledGPTLoss(gpt)
        if engine == "compiled":
            compiled.prepare(min(gpt.block_size, len(d) - 1) for d in batch)

        def native_step(tokens: list[int]) -> float:
            opt.zero_grad()
            if engine == "compiled":
                loss = compiled(tokens)
            else:
                node = gpt.loss(tokens)
                node.backward()
                loss = node.data
            opt.step()
            sched.step()
            return loss

        return native_step
    if engine not in ("baseline", "drop-in"):
        raise ValueError(f"bench_gpt: unknown engine {engine!r}; pick one of {ENGINES}")
    if engine == "baseline":
        value_cls: type = microgpt_style.Value
    else:
        from autograd import Value as value_cls
    model = microgpt_style.MicroGPT(gpt.to_torch_state_dict(), gpt.n_head, value_cls)
    hand = microgpt_style.HandAdam(model.parameters(), steps, lr=LR, betas=BETAS, eps=EPS)
    return lambda tokens: microgpt_style.train_step(model, hand, tokens)


def train(engine: str, steps: int, gc_paused: bool = False) -> dict[str, Any]:
    """Train ``steps`` steps; per-step losses and the mean wall/CPU seconds per step.  With
    ``gc_paused`` Python's cycle collector is off during each step (as ``nn.fit`` does)."""
    _, docs = documents()
    batch = [docs[i % len(docs)] for i in range(steps)]
    setup0 = time.perf_counter()
    step = trainer(engine, steps, batch)
    setup = time.perf_counter() - setup0
    losses = []
    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        if gc_paused:
            gc.disable()
        losses.append(step(batch[i]))
        gc.enable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"engine": engine, "losses": losses, "wall": wall / steps, "cpu": cpu / steps, "setup": setup}


def fresh_round(engine: str, steps: int, gc_paused: bool) -> dict[str, Any]:
    """``train`` in a new Python process, so no engine inherits another's heap or caches."""
    cmd = [sys.executable, "-m", "benchmarks.bench_gpt", "--worker", engine, "--steps", str(steps)]
    cmd += ["--gc-paused"] if gc_paused else []
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(steps: int, rounds: int, gc_paused: bool = False) -> dict[str, dict[str, Any]]:
    """Median wall/CPU per step of each engine over ``rounds`` fresh processes (rounds interleaved)."""
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in ENGINES}
    for _ in range(rounds):
        for engine in ENGINES:
            runs[engine].append(fresh_round(engine, steps, gc_paused))
    return {
        e: {
            "wall": statistics.median(r["wall"] for r in rs),
            "cpu": statistics.median(r["cpu"] for r in rs),
            "losses": rs[0]["losses"],
            "walls": [r["wall"] for r in rs],
            "setup": statistics.median(r["setup"] for r in rs),
        }
        for e, rs in runs.items()
    }


def report(results: dict[str, dict[str, Any]], steps: int) -> bool:
    """Print the table, the loss agreement and the 1,000-step projection; True if every target is met."""
    base = results["baseline"]
    print(f"{'engine':<10} {'ms/step wall':>13} {'ms/step cpu':>12} {'x wall':>7} {'x cpu':>7}  target")
    ok = True
    for engine, r in results.items():
        xw, xc = base["wall"] / r["wall"], base["cpu"] / r["cpu"]
        target = TARGETS.get(engine)
        verdict = "" if target is None else f">= {target:g}x: {'met' if xw >= target else 'MISSED'}"
        ok = ok and (target is None or xw >= target)
        print(f"{engine:<10} {r['wall'] * 1e3:>13.2f} {r['cpu'] * 1e3:>12.2f} {xw:>7.2f} {xc:>7.2f}  {verdict}")
    for engine in ENGINES[1:]:
        diff = max(abs(a - b) for a, b in zip(base["losses"], results[engine]["losses"]))
        agree = diff <= TOLERANCE
        ok = ok and agree
        print(
            f"losses over {steps} steps, baseline vs {engine}: last {base['losses'][-1]:.12f} vs "
            f"{results[engine]['losses'][-1]:.12f}, max |diff| {diff:.2e} ({'<=' if agree else '>'} {TOLERANCE:g})"
        )
    spread = ", ".join(
        f"{e} {min(b / w for b, w in zip(base['walls'], r['walls'])):.2f}-"
        f"{max(b / w for b, w in zip(base['walls'], r['walls'])):.2f}x"
        for e, r in results.items()
        if e != "baseline"
    )
    print(f"x wall round by round (each round's engines run back to back): {spread}")
    print(f"projected 1,000 steps of the native model: {results['native']['wall'] * 1000:.1f} s wall")
    compiled = results["compiled"]
    print(
        f"compiled: {compiled['setup']:.2f} s compiling one graph per length met (not in ms/step); 1,000 steps "
        f"~ {compiled['wall'] * 1000:.1f} s + compiling at most {GPT_BLOCK} lengths"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=30, help="training steps per round (default 30)")
    ap.add_argument("--rounds", type=int, default=3, help="fresh-process rounds per engine (default 3)")
    ap.add_argument("--quick", action="store_true", help="5 steps, 1 round: a smoke run")
    ap.add_argument("--gc-paused", action="store_true", help="pause the cycle collector during each step")
    ap.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(train(args.worker, args.steps, args.gc_paused)))
        return 0
    steps, rounds = (5, 1) if args.quick else (args.steps, args.rounds)
    if steps < 1 or rounds < 1:
        ap.error("--steps and --rounds must be at least 1")
    gc_note = "cycle collector paused per step" if args.gc_paused else "cycle collector on"
    print(f"GPT training step (default model, names), {steps} steps x {rounds} fresh-process rounds, {gc_note}")
    report(measure(steps, rounds, args.gc_paused), steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
