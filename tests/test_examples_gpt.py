"""``examples/gpt.py``: the quick run is reproducible by seed, its loss falls, the weights reload exactly,
and the drawn head graph computes what the model's attention computes."""

from __future__ import annotations

import math

from autograd import dot
from examples import gpt
from nn import GPT


def quick(tmp_path, seed: int) -> gpt.Run:
    return gpt.main(["--quick", "--seed", str(seed), "--out", str(tmp_path)])


def test_quick_run_is_reproducible_by_seed(tmp_path):
    a, b = quick(tmp_path / "a", 0), quick(tmp_path / "b", 0)
    assert a.history.loss == b.history.loss
    assert a.history.delta == b.history.delta
    assert a.samples == b.samples and len(a.samples) == gpt.SAMPLES
    c = quick(tmp_path / "c", 1)
    assert c.history.loss != a.history.loss  # another seed: other names, other weights


def test_quick_run_loss_falls_below_a_uniform_guess(tmp_path):
    losses = quick(tmp_path, 0).history.loss
    assert len(losses) == 20
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first - 0.1
    assert last < math.log(27)


def test_the_saved_weights_reload_into_a_new_model(tmp_path):
    run = quick(tmp_path, 0)
    assert run.reload_gap == 0.0  # the file holds the trained weights, read back bit for bit
    untrained = GPT(run.tokenizer.vocab_size, seed=0)
    assert [p.data for p in untrained.parameters()] != [p.data for p in run.model.parameters()]
    again = GPT(run.tokenizer.vocab_size, seed=99).load(str(tmp_path / "gpt_weights.json"))
    doc = run.tokenizer.document("anna")
    assert again.loss(doc).data == run.model.loss(doc).data
    assert [p.data for p in again.parameters()] == [p.data for p in run.model.parameters()]


def test_head_output_is_the_models_attention_times_its_values():
    model = GPT(6, n_embd=8, n_head=2, n_layer=1, block_size=8, init_std=0.5, seed=4)
    tokens = [5, 2, 0, 3]
    weights = model.attention_weights(tokens)[0][1][-1]  # layer 0, head 1, last position
    block = model.blocks[0]
    values = []
    for p, t in enumerate(tokens):
        x = block.norm_attn(model.norm([a + b for a, b in zip(model.wte(t), model.wpe(p))]))
        values.append(dot(block.attn.wv.weight[4 + 1], x).data)  # head 1 starts at feature 4; feature 1
    expected = math.fsum(w * v for w, v in zip(weights, values))
    assert math.isclose(gpt.head_output(model, tokens, head=1, feature=1).data, expected, rel_tol=1e-12)
