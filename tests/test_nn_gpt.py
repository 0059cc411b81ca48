"""The GPT and its parts: the forward against a plain-Python re-computation (whole sequences, no
cache, written here from the formulas), the KV cache against attention recomputed over the whole
prefix, gradients against central differences, state dicts in both naming schemes, seeded
sampling, microgpt's weight order and the argument errors."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import nn.transformer
from autograd import Value, no_grad
from nn.activations import softmax
from nn.gpt import GPT
from nn.loop import layer_groups
from nn.optim import Adam
from nn.transformer import Block, CausalSelfAttention, Embedding, KVCache, Linear, MLPBlock, RMSNorm

SMALL = dict(vocab_size=6, n_embd=8, n_head=2, n_layer=2, block_size=7, init_std=0.5, seed=3)


# ---- an independent reference: the forward on plain floats, one whole sequence at a time --------
def _lin(w, x):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def _rms(x):
    s = (sum(v * v for v in x) / len(x) + 1e-5) ** -0.5
    return [v * s for v in x]


def _softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    return [v / sum(e) for v in e]


def _attention(sd, name, xs, n_head, weights=None):
    """Causal attention of every position at once: Q, K, V of the whole sequence, masked scores;
    ``weights`` (a list) receives [head][t] -> the softmax over positions 0..t."""
    q, k, v = ([_lin(sd[f"{name}.{w}.weight"], x) for x in xs] for w in ("wq", "wk", "wv"))
    hd = len(xs[0]) // n_head
    per_head = [[] for _ in range(n_head)]
    outs = []
    for t in range(len(xs)):
        cat = []
        for h in range(n_head):
            cols = range(h * hd, (h + 1) * hd)
            scores = [sum(q[t][j] * k[s][j] for j in cols) / math.sqrt(hd) for s in range(t + 1)]
            w = _softmax(scores)
            per_head[h].append(w)
            cat += [sum(w[s] * v[s][j] for s in range(t + 1)) for j in cols]
        outs.append(_lin(sd[f"{name}.wo.weight"], cat))
    if weights is not None:
        weights.append(per_head)
    return outs


def reference_logits(sd, tokens, n_head, weights=None):
    xs = [_rms([a + b for a, b in zip(sd["wte.weight"][tok], sd["wpe.weight"][p])]) for p, tok in enumerate(tokens)]
    i = 0
    while f"blocks.{i}.attn.wq.weight" in sd:
        att = _attention(sd, f"blocks.{i}.attn", [_rms(x) for x in xs], n_head, weights)
        xs = [[a + b for a, b in zip(x, o)] for x, o in zip(xs, att)]
        fc1, fc2 = sd[f"blocks.{i}.mlp.fc1.weight"], sd[f"blocks.{i}.mlp.fc2.weight"]
        xs = [[a + b for a, b in zip(x, _lin(fc2, [max(v, 0.0) for v in _lin(fc1, _rms(x))]))] for x in xs]
        i += 1
    return [_lin(sd["lm_head.weight"], x) for x in xs]


def reference_loss(sd, tokens, n_head, block_size):
    n = min(block_size, len(tokens) - 1)
    logits = reference_logits(sd, tokens[:n], n_head)
    return sum(-math.log(_softmax(row)[t]) for row, t in zip(logits, tokens[1 : n + 1])) / n


def _data(rows):
    return [[v.data for v in row] for row in rows]


# ---- the forward ------------------------------------------------------------------------------
def test_forward_matches_the_plain_python_reference():
    model = GPT(**SMALL)
    tokens = [5, 0, 3, 3, 1, 4, 2]
    got = _data(model(tokens))
    want = reference_logits(model.to_torch_state_dict(), tokens, n_head=2)
    assert len(got) == len(tokens) and all(len(row) == 6 for row in got)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_loss_matches_the_reference_and_truncates_to_block_size():
    model = GPT(**SMALL)
    sd = model.to_torch_state_dict()
    short = [5, 1, 2, 5]
    long = [5, 0, 1, 2, 3, 4, 0, 1, 2, 5]  # 10 tokens: only positions 0..6 are read (block_size 7)
    for tokens in (short, long):
        assert model.loss(tokens).data == pytest.approx(reference_loss(sd, tokens, 2, 7), rel=1e-13)


def test_the_default_model_reads_a_name_like_microgpt():
    model = GPT(27)  # a names vocabulary: 26 letters + BOS
    doc = [26, 4, 12, 12, 0, 26]  # "emma"
    assert model.loss(doc).data == pytest.approx(reference_loss(model.to_torch_state_dict(), doc, 4, 16), rel=1e-13)
    assert model.num_parameters() == 4192  # microgpt's count for n_embd 16, 4 heads, 1 layer, block 16


def test_causal_a_later_token_never_changes_earlier_logits():
    model = GPT(**SMALL)
    a = _data(model([5, 1, 2, 3]))
    b = _data(model([5, 1, 2, 0]))
    assert a[:3] == b[:3] and a[3] != b[3]


def test_kv_cache_equals_attention_recomputed_over_the_whole_prefix():
    rng = random.Random(0)
    attn = CausalSelfAttention(6, 3, init_std=0.4, seed=1)
    xs = [[Value(rng.gauss(0, 1)) for _ in range(6)] for _ in range(5)]
    keys, values = [], []
    cached = [attn(x, keys, values) for x in xs]  # one position at a time, keys and values cached
    assert len(keys) == len(values) == 5
    sd = {f"a.{k}": v for k, v in attn.to_torch_state_dict().items()}
    for t in range(5):
        prefix = [[v.data for v in x] for x in xs[: t + 1]]  # recomputed from scratch for each prefix
        want = _attention(sd, "a", prefix, 3)[-1]
        np.testing.assert_allclose([v.data for v in cached[t]], want, rtol=1e-13, atol=1e-14)


def test_step_with_a_cache_equals_the_whole_sequence():
    model = GPT(**SMALL)
    tokens = [5, 2, 2, 4]
    cache = model.new_cache()
    stepped = [[v.data for v in model.step(t, cache)] for t in tokens]
    assert len(cache) == 4 and all(len(k) == 4 for k in cache.keys)
    assert stepped == _data(model(tokens))


def test_attention_weights_match_the_reference():
    model = GPT(**SMALL)
    tokens = [5, 0, 3, 3, 1]
    want = []
    reference_logits(model.to_torch_state_dict(), tokens, 2, want)
    got = model.attention_weights(tokens)
    assert len(got) == 2 and len(got[1]) == 2 and [len(row) for row in got[1][0]] == [1, 2, 3, 4, 5]
    for layer_got, layer_want in zip(got, want):
        for head_got, head_want in zip(layer_got, layer_want):
            for row_got, row_want in zip(head_got, head_want):
                assert row_got == pytest.approx(row_want, rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="GPT.attention_weights: got 8 tokens but block_size is 7"):
        model.attention_weights([5] * 8)


def test_one_parameter_group_per_matrix():
    groups = layer_groups(GPT(**SMALL))  # what History's mean |Δw| per layer reads
    assert {k: len(v) for k, v in groups.items()} == {
        "wte": 48,
        "wpe": 56,
        **{f"blocks.{i}.attn.{w}": 64 for i in range(2) for w in ("wq", "wk", "wv", "wo")},
        **{f"blocks.{i}.mlp.{w}": 256 for i in range(2) for w in ("fc1", "fc2")},
        "lm_head": 48,
    }


# ---- gradients --------------------------------------------------------------------------------
def test_loss_gradients_match_central_differences():
    model = GPT(vocab_size=5, n_embd=4, n_head=2, n_layer=1, block_size=5, init_std=0.6, seed=7)
    tokens = [4, 0, 2, 1, 3, 4]  # longer than block_size: the truncated loss
    loss = model.loss(tokens)
    model.zero_grad()
    loss.backward()
    named = model.named_parameters()
    picks = random.Random(1).sample(named, 24) + [named[0], named[-1]]  # wte row BOS is unused: 0
    names = {n for n, _ in picks}
    assert any(n.startswith(f"blocks.0.{part}") for n in names for part in ("attn.wq", "attn.wk", "attn.wv"))
    h = 1e-6
    for name, p in picks:
        x = p.data
        with no_grad():
            p.data = x + h
            up = model.loss(tokens).data
            p.data = x - h
            down = model.loss(tokens).data
        p.data = x
        numeric = (up - down) / (2 * h)
        assert p.grad == pytest.approx(numeric, rel=1e-5, abs=1e-8), name


def test_a_few_adam_steps_lower_the_loss():
    model = GPT(**SMALL)
    opt = Adam(model.parameters(), lr=0.05)
    doc = [5, 1, 2, 3, 5]
    first = None
    for _ in range(15):
        loss = model.loss(doc)
        first = loss.data if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.loss(doc).data < 0.5 * first


# ---- parts ------------------------------------------------------------------------------------
def test_rmsnorm_without_and_with_gain():
    x = [Value(3.0), Value(-4.0)]
    scale = (12.5 + 1e-5) ** -0.5
    assert [v.data for v in RMSNorm(2)(x)] == pytest.approx([3 * scale, -4 * scale], rel=1e-15)
    norm = RMSNorm(2, gain=True)
    norm.weight[1].data = 2.0
    y = norm([3.0, -4.0])
    assert [v.data for v in y] == pytest.approx([3 * scale, -8 * scale], rel=1e-15)
    y[1].backward()
    assert norm.weight[1].grad == pytest.approx(-4 * scale) and norm.weight[0].grad == 0.0
    assert RMSNorm(2).num_parameters() == 0 and norm.to_torch_state_dict() == {"weight": [1.0, 2.0]}


def test_embedding_and_linear_layouts():
    emb = Embedding(3, 2, seed=0)
    assert emb(2) == emb.weight[2] and emb(2) is not emb.weight[2]  # the Values, in a new list
    assert np.shape(emb.to_torch_state_dict()["weight"]) == (3, 2)
    lin = Linear(3, 2, seed=0)
    assert np.shape(lin.to_torch_state_dict()["weight"]) == (2, 3)
    assert [v.data for v in lin([1.0, 0.0, 0.0])] == [lin.weight[0][0].data, lin.weight[1][0].data]
    assert [n for n, _ in MLPBlock(2, seed=0).named_parameters()][::16] == ["fc1.weight.0.0", "fc2.weight.0.0"]


def test_weights_are_drawn_in_microgpts_order():
    model = GPT(4, n_embd=2, n_head=1, block_size=3, init_std=0.08, seed=11)
    rng = random.Random(11)
    draws = [rng.gauss(0.0, 0.08) for _ in range(4 * 2 + 3 * 2 + 4 * 2 + 4 * 4 + 8 * 2 * 2)]
    sd = model.to_torch_state_dict()
    order = ["wte.weight", "wpe.weight", "lm_head.weight"] + [
        f"blocks.0.{k}.weight" for k in ("attn.wq", "attn.wk", "attn.wv", "attn.wo", "mlp.fc1", "mlp.fc2")
    ]
    flat = [w for key in order for row in sd[key] for w in row]
    assert flat == draws
    assert GPT(4, seed=11).state_dict() == GPT(4, seed=11).state_dict() != GPT(4, seed=12).state_dict()


# ---- state dicts ------------------------------------------------------------------------------
TORCH_NAMES = [
    "wte.weight",
    "wpe.weight",
    *[f"blocks.{i}.attn.{w}.weight" for i in range(2) for w in ("wq", "wk", "wv", "wo")],
    *[f"blocks.{i}.mlp.{w}.weight" for i in range(2) for w in ("fc1", "fc2")],
    "lm_head.weight",
]


def test_torch_state_dict_names_and_shapes():
    sd = GPT(**SMALL).to_torch_state_dict()
    assert sorted(sd) == sorted(TORCH_NAMES)
    shapes = {k: np.shape(v) for k, v in sd.items()}
    assert shapes["wte.weight"] == (6, 8) and shapes["wpe.weight"] == (7, 8) and shapes["lm_head.weight"] == (6, 8)
    assert shapes["blocks.1.attn.wq.weight"] == (8, 8)
    assert shapes["blocks.0.mlp.fc1.weight"] == (32, 8) and shapes["blocks.0.mlp.fc2.weight"] == (8, 32)


def test_state_dict_round_trips_in_both_namings(tmp_path):
    source = GPT(**SMALL)
    tokens = [5, 3, 1]
    want = _data(source(tokens))
    for state in (
        source.state_dict(),
        source.to_torch_state_dict(),
        {k: np.array(v) for k, v in source.to_torch_state_dict().items()},  # arrays (torch tensors alike)
    ):
        target = GPT(**{**SMALL, "seed": 99})
        assert _data(target(tokens)) != want
        target.load_state_dict(state)
        assert _data(target(tokens)) == want and target.state_dict() == source.state_dict()
    path = tmp_path / "gpt.json"
    source.save(str(path))
    assert _data(GPT(**{**SMALL, "seed": 1}).load(str(path))(tokens)) == want


def test_a_torch_state_of_the_wrong_shape_is_refused_untouched():
    model = GPT(**SMALL)
    before = model.state_dict()
    state = GPT(**{**SMALL, "block_size": 5}).to_torch_state_dict()
    with pytest.raises(ValueError, match=r"'wpe.weight' must have shape \[7, 8\]"):
        model.load_state_dict(state)
    state = model.to_torch_state_dict()
    del state["lm_head.weight"]
    with pytest.raises(ValueError, match="missing parameter 'lm_head.weight.0.0'"):
        model.load_state_dict(state)
    assert model.state_dict() == before


# ---- sampling ---------------------------------------------------------------------------------
def test_generate_is_reproducible_by_seed():
    model = GPT(**{**SMALL, "init_std": 0.3})
    samples = [model.generate(temperature=1.0, seed=s) for s in range(8)]
    assert samples == [model.generate(temperature=1.0, seed=random.Random(s)) for s in range(8)]
    assert len({tuple(s) for s in samples}) > 1
    assert all(len(s) <= 7 and all(0 <= t < 5 for t in s) for s in samples)
    random.seed(4)
    a = model.generate()
    random.seed(4)
    assert model.generate() == a  # seed=None draws from Python's global random, as microgpt does


def test_generate_follows_a_hand_sampled_sequence():
    model = GPT(**{**SMALL, "init_std": 0.3})
    rng = random.Random(5)
    tokens, out = [5], []
    for _ in range(7):
        logits = reference_logits(model.to_torch_state_dict(), tokens, 2)[-1]
        tok = rng.choices(range(6), weights=_softmax([z / 0.7 for z in logits]))[0]
        if tok == 5:
            break
        out.append(tok)
        tokens.append(tok)
    assert model.generate(temperature=0.7, seed=5) == out


def test_sampling_and_attention_weights_build_no_graph(monkeypatch):
    model = GPT(**SMALL)
    seen = []

    def recording_softmax(xs):
        out = softmax(xs)
        seen.extend(out)
        return out

    monkeypatch.setattr(nn.transformer, "softmax", recording_softmax)
    model.generate(seed=0)
    model.attention_weights([5, 1, 2])
    assert len(seen) > 2 * 2 * 6 and all(v.is_leaf for v in seen)  # under no_grad: no graph kept alive
    model([5, 1])
    assert not seen[-1].is_leaf  # the recorder does see graphs where they are built


# ---- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tokens, match",
    [
        ([5, 6], r"GPT: tokens\[1\] must be an int in \[0, 5\], got 6"),
        ([5, -1], r"tokens\[1\] must be an int in \[0, 5\], got -1"),
        ([5, 1.0], r"tokens\[1\] must be an int"),
        ([True], r"tokens\[0\] must be an int"),
        ([], "tokens is empty"),
        ("abc", "encode text with a CharTokenizer first"),
        (5, "tokens must be a list of token ids"),
        ([5] * 8, "got 8 tokens but block_size is 7"),
    ],
)
def test_bad_tokens_are_refused(tokens, match):
    with pytest.raises(ValueError, match=match):
        GPT(**SMALL)(tokens)


@pytest.mark.parametrize(
    "tokens, match",
    [([5], "at least 2 tokens"), ([1, 2, 5], "start and end with BOS"), ([5, 1, 2], "tokenizer.document")],
)
def test_loss_needs_a_bos_document(tokens, match):
    with pytest.raises(ValueError, match=match):
        GPT(**SMALL).loss(tokens)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(vocab_size=1), "vocab_size must be an int >= 2"),
        (dict(vocab_size=5, n_embd=6, n_head=4), r"n_embd \(6\) must be a multiple of n_head \(4\)"),
        (dict(vocab_size=5, block_size=0), "block_size must be a positive int"),
        (dict(vocab_size=5, init_std=-0.1), "init_std must be >= 0"),
        (dict(vocab_size=5, seed="x"), "seed must be an int"),
    ],
)
def test_bad_model_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GPT(**kwargs)


def test_bad_generate_and_step_arguments():
    model = GPT(**SMALL)
    for t in (0, -1.0, float("nan"), "hot"):
        with pytest.raises(ValueError, match="GPT.generate: temperature"):
            model.generate(temperature=t)
    with pytest.raises(ValueError, match="too small for logits"):
        model.generate(temperature=1e-320)
    cache = model.new_cache()
    for _ in range(7):
        model.step(5, cache)
    with pytest.raises(ValueError, match="already holds block_size=7 positions"):
        model.step(5, cache)
    with pytest.raises(TypeError, match="cache must be model.new_cache()"):
        model.step(5, KVCache(1))
    with pytest.raises(ValueError, match="Embedding: index must be an int in"):
        Embedding(3, 2)(3)
    with pytest.raises(ValueError, match="Linear: the input has 2 entries but must have 3"):
        Linear(3, 2)([1.0, 2.0])
    with pytest.raises(TypeError, match=r"input\[1\] must be a Value or a number"):
        RMSNorm(2)([1.0, "x"])


def test_parts_repr_and_block_residuals():
    block = Block(4, 2, seed=0)
    x = [Value(float(i)) for i in range(4)]
    out = block(x, [], [])
    attn_out = [a.data - b.data for a, b in zip(out, x)]  # out = x + attn(norm x) + mlp(norm(x + attn))
    h = [xi.data + a for xi, a in zip(x, [v.data for v in block.attn(block.norm_attn(x), [], [])])]
    mlp = [v.data for v in block.mlp(block.norm_mlp([Value(v) for v in h]))]
    assert attn_out == pytest.approx([hi - xi.data + m for hi, xi, m in zip(h, x, mlp)], rel=1e-14, abs=1e-14)
    assert "n_head=2" in repr(block) and repr(GPT(5)).startswith("GPT(vocab_size=5")
