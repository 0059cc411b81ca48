"""A tiny GPT, one scalar at a time: a character-level transformer that learns to invent names.

Every number in this model is a deltaw ``Value``: 4,192 weights in nine
matrices (token and position embeddings, the attention's query, key, value
and output projections, the MLP's two layers and the output head).  Each
training step reads one name as ``[BOS, n, a, m, e, BOS]`` and, at every
position, predicts the next character from the ones before it: the attention
lets position t mix in what it finds at positions s <= t, weighted by a
softmax of how well its query matches their keys, and nothing from the
future.  The loss is the mean cross-entropy of those predictions; backprop
sends its gradient through the softmax and the dot products into every
matrix, and Adam (lr 0.01 decaying linearly to 0) takes a step.  We train the
default ``GPT`` on the shipped names (US Census, shuffled with the seed) for
1,000 steps, print the loss every 100 steps, save and reload the weights,
and sample 20 new names.  The pictures are the loss curve, each head's
attention over a sampled name (row t: where position t looks), the mean
|Δw| of each matrix per step (which matrices learn when), and the graph of
one attention head's output at one position, collapsed to readable size.

    python -m examples.gpt --seed 0
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python examples/gpt.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import Value, dot
from examples._common import Args, main_guard, picture, print_table, setup, wrote
from nn import GPT, Adam, CharTokenizer, History, LinearLR, layer_groups, load_names
from nn.activations import softmax

LR = 0.01
BETAS = (0.85, 0.99)
EVERY = 100  # print the loss every this many steps
SAMPLES = 20
TEMPERATURE = 0.5
BOS_LABEL = "·"  # how BOS is written on the pictures' axes


@dataclass
class Run:
    """One training run: the model, its tokenizer, the per-step History and the sampled names."""

    model: GPT
    tokenizer: CharTokenizer
    history: History = field(default_factory=History)
    samples: list[str] = field(default_factory=list)
    reload_gap: float = math.nan  # largest |w| difference between the trained and the reloaded weights


def documents(seed: int) -> tuple[list[str], CharTokenizer]:
    """The shipped names, shuffled with ``seed``, and the tokenizer of their characters."""
    names = load_names()
    random.Random(seed).shuffle(names)
    return names, CharTokenizer(names)


def train(names: Sequence[str], tokenizer: CharTokenizer, steps: int, seed: int, progress: bool) -> Run:
    """``steps`` Adam updates of a default ``GPT``, one name each; records loss and mean |Δw| per matrix."""
    from tqdm import tqdm

    model = GPT(tokenizer.vocab_size, seed=seed)
    opt = Adam(model.parameters(), lr=LR, betas=BETAS, eps=1e-8)
    sched = LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=steps)
    groups = layer_groups(model)  # one group per weight matrix: wte, wpe, blocks.0.attn.wq, ...
    run = Run(model, tokenizer)
    for step in tqdm(range(steps), disable=not progress, desc="gpt", unit="step"):
        loss = model.loss(tokenizer.document(names[step % len(names)]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run.history.loss.append(loss.data)
        deltas = opt.deltas
        run.history.delta.append({k: math.fsum(abs(deltas[p]) for p in ps) / len(ps) for k, ps in groups.items()})
    return run


def smoothed(losses: Sequence[float], width: int) -> list[float]:
    """Mean of each window of ``width`` steps (single names are noisy)."""
    return [math.fsum(losses[i : i + width]) / len(losses[i : i + width]) for i in range(0, len(losses), width)]


def head_output(model: GPT, tokens: Sequence[int], head: int = 0, feature: int = 0) -> Value:
    """Feature ``feature`` of head ``head``'s output at the last position of ``tokens`` (layer 0), built
    from the model's own weights: softmax(q·kₛ/√d) over the positions s, times each position's value."""
    block, hd = model.blocks[0], model.n_embd // model.n_head
    rows = slice(head * hd, (head + 1) * hd)
    xs = [
        block.norm_attn(model.norm([a + b for a, b in zip(model.wte(t), model.wpe(p))])) for p, t in enumerate(tokens)
    ]
    q = [dot(w, xs[-1]) for w in block.attn.wq.weight[rows]]
    keys = [[dot(w, x) for w in block.attn.wk.weight[rows]] for x in xs]
    values = [dot(block.attn.wv.weight[head * hd + feature], x) for x in xs]
    weights = softmax([dot(q, k) * (1.0 / math.sqrt(hd)) for k in keys])
    return dot(weights, values)


def save_and_reload(run: Run, path: Path) -> float:
    """Write the weights, load them into a freshly built GPT, and return the largest difference (0)."""
    run.model.save(str(path))
    wrote(path, "the trained weights")
    again = GPT(run.tokenizer.vocab_size, seed=12345).load(str(path))
    pairs = zip(run.model.parameters(), again.parameters())
    gap = max(abs(a.data - b.data) for a, b in pairs)
    run.model = again
    return gap


def run_example(args: Args) -> Run:
    steps = args.pick(1000, 20)
    names, tok = documents(args.seed)
    print(
        f"GPT(vocab_size={tok.vocab_size}, n_embd=16, n_head=4, n_layer=1, block_size=16), seed {args.seed}: "
        f"{len(names)} names, {steps} steps of one name each, Adam lr={LR} betas={BETAS} decaying linearly to 0"
    )
    run = train(names, tok, steps, args.seed, progress=not args.quick and sys.stderr.isatty())
    width = args.pick(EVERY, 5)
    for k in range(width, steps + 1, width):
        print(f"  step {k:5d}  loss {run.history.loss[k - 1]:.4f}")
    print_table(
        f"Mean loss per {width} steps (ln {tok.vocab_size} = {math.log(tok.vocab_size):.3f} is a uniform guess)",
        ["steps", "mean loss"],
        [
            [f"{i * width + 1}-{min(steps, (i + 1) * width)}", x]
            for i, x in enumerate(smoothed(run.history.loss, width))
        ],
    )
    run.reload_gap = save_and_reload(run, args.out / "gpt_weights.json")
    print(f"  reloaded into a new GPT: largest weight difference {run.reload_gap:g}")
    rng = random.Random(args.seed)
    run.samples = [tok.decode(run.model.generate(temperature=TEMPERATURE, seed=rng)) for _ in range(SAMPLES)]
    print(f"\n{SAMPLES} sampled names (temperature {TEMPERATURE}):\n  " + ", ".join(run.samples))
    pictures(args, run)
    return run


def pictures(args: Args, run: Run) -> None:
    """Loss curve, attention of a sampled name, |Δw| per matrix, and one head's graph."""
    picture(
        args,
        "plot_losses",
        args.out / "gpt_loss.png",
        run.history,
        log=False,
        title="GPT on names: loss per step (one name each)",
        what="loss curve",
    )
    name = next((s for s in run.samples if 2 <= len(s) <= run.model.block_size - 1), "emma")
    tokens = [run.tokenizer.bos, *run.tokenizer.encode(name)]
    labels = [BOS_LABEL, *name]
    picture(
        args,
        "plot_attention",
        args.out / "gpt_attention.png",
        run.model.attention_weights(tokens),
        labels,
        title=f"attention of each head reading {name!r} (· is BOS)",
        what="attention heatmaps",
    )
    picture(
        args,
        "plot_deltas",
        args.out / "gpt_deltas.png",
        run.history,
        title="mean |Δw| per step, per weight matrix",
        what="update sizes per matrix",
    )
    prefix = tokens[:3]
    root = head_output(run.model, prefix)
    root.backward()
    picture(
        args,
        "draw_graph",
        args.out / "gpt_head.svg",
        root,
        params=run.model.parameters(),
        max_nodes=60,
        what=f"head 0's output (feature 0) at position {len(prefix) - 1} of {labels[:3]}",
    )
    run.model.zero_grad()


def main(argv: Sequence[str] | None = None) -> Run:
    return run_example(setup(__doc__, argv))


if __name__ == "__main__":
    main_guard(main)
