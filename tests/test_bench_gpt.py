"""bench_gpt compares like with like: the microgpt-style baseline, its code on deltaw's Value, and
nn.GPT + nn.Adam + nn.LinearLR give the same losses from the same weights (no timing here)."""

from __future__ import annotations

import pytest

from autograd import Value
from benchmarks import microgpt_style
from benchmarks.bench_gpt import BETAS, EPS, LR, documents
from benchmarks.gpt_compiled import CompiledGPTLoss
from nn import GPT, Adam, LinearLR

STEPS = 3


def _native_losses(gpt: GPT, docs: list[list[int]]) -> list[float]:
    opt = Adam(gpt.parameters(), lr=LR, betas=BETAS, eps=EPS)
    sched = LinearLR(opt, 1.0, 0.0, total_iters=STEPS)
    losses = []
    for doc in docs:
        opt.zero_grad()
        loss = gpt.loss(doc)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.data)
    return losses


def _baseline_losses(gpt: GPT, docs: list[list[int]], value_cls: type) -> list[float]:
    model = microgpt_style.MicroGPT(gpt.to_torch_state_dict(), gpt.n_head, value_cls)
    opt = microgpt_style.HandAdam(model.parameters(), STEPS, lr=LR, betas=BETAS, eps=EPS)
    return [microgpt_style.train_step(model, opt, doc) for doc in docs]


@pytest.mark.parametrize("value_cls", [microgpt_style.Value, Value], ids=["baseline", "drop-in"])
def test_baseline_matches_native_gpt_for_three_steps(value_cls: type) -> None:
    tok, docs = documents()
    docs = docs[:STEPS]
    # a small model with 2 layers, so every part (residuals across blocks, several heads) is compared
    native = GPT(tok.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8, seed=3)
    expected = _native_losses(native, docs)
    got = _baseline_losses(GPT(tok.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8, seed=3), docs, value_cls)
    assert got[0] == pytest.approx(expected[0], abs=1e-12)  # same weights, same document: same loss
    assert got == pytest.approx(expected, abs=1e-12)  # and the same after each update
    assert len(set(got)) == STEPS  # the weights did move between steps


def test_baseline_value_gradients_match_deltaw() -> None:
    xs = [1.5, -0.7, 2.0]

    def f(v: type) -> tuple[float, list[float]]:
        a, b, c = (v(x) for x in xs)
        out = ((a * b - c / a) ** 2 + (b - 3.0).exp() + (c * c).log() - (2.0 / c) + (a * b).relu()) * -1.0
        out.backward()
        return out.data, [a.grad, b.grad, c.grad]

    base, ours = f(microgpt_style.Value), f(Value)
    assert base[0] == pytest.approx(ours[0], abs=1e-12)
    assert base[1] == pytest.approx(ours[1], abs=1e-12)


def test_compiled_gpt_loss_and_gradients_match_eager() -> None:
    tok, docs = documents()
    gpt = GPT(tok.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=8, seed=5)
    compiled = CompiledGPTLoss(gpt)
    for doc in docs[:3]:  # a token read twice, or at two positions, adds both gradients to its row
        gpt.zero_grad()
        loss = gpt.loss(doc)
        loss.backward()
        expected = [p.grad for p in gpt.parameters()]
        gpt.zero_grad()
        got = compiled(doc)
        assert got == pytest.approx(loss.data, abs=1e-12)
        assert [p.grad for p in gpt.parameters()] == pytest.approx(expected, abs=1e-12)
