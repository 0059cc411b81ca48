"""Modules: micrograd's structure and numbers, parameter names, activations, dropout, Sequential."""

import random

import pytest

import nn
from autograd import Value, topological_order, vsum
from nn import MLP, Dropout, Layer, Neuron, Sequential


def test_mlp_has_micrograds_structure_and_labels():
    model = MLP(2, [16, 16, 1])
    assert [len(layer.neurons) for layer in model.layers] == [16, 16, 1]
    assert len(model.layers[1].neurons[3].w) == 16
    assert isinstance(model.layers[0].neurons[0].b, Value)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    names = [name for name, _ in model.named_parameters()]
    assert names[0] == "layers.0.neurons.0.w.0"
    assert "layers.1.neurons.3.w.0" in names and "layers.2.neurons.0.b" in names
    for name, p in model.named_parameters():
        assert p.label == name
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]


def test_default_init_is_micrograds_random_uniform():
    random.seed(7)
    model = MLP(3, [4, 2])
    random.seed(7)
    expected = [random.uniform(-1, 1) for _ in range(3 * 4 + 4 * 2)]
    got = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    assert got == expected
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)


def test_seeded_models_are_reproducible_and_layers_differ():
    a = MLP(2, [3, 3], seed=5)
    b = MLP(2, [3, 3], seed=5)
    c = MLP(2, [3, 3], seed=6)
    assert a.state_dict() == b.state_dict() != c.state_dict()
    first = [w.data for w in a.layers[0].neurons[0].w]
    second = [w.data for w in a.layers[1].neurons[0].w[:2]]
    assert first != second


def test_a_layer_honours_neurons_that_are_unfused_or_replaced():
    layer = Layer(2, 3, seed=5)
    x = [0.5, -1.5]
    expected = [n(x).data for n in layer.neurons]
    assert [z.data for z in layer(x)] == expected  # the layer's matvec equals each neuron's dot
    layer.neurons[1].fused = False
    out = layer(x)
    assert [z.data for z in out] == pytest.approx(expected, rel=1e-15)
    assert "dot" not in [v.op for v in topological_order(out[1])]

    class Doubled(Neuron):
        def _forward(self, xs):
            return super()._forward(xs) * 2

    layer.neurons[2] = Doubled(2, weights=[w.data for w in layer.neurons[2].w])
    assert layer(x)[2].data == pytest.approx(2 * expected[2])


def test_fused_and_chain_give_same_values_and_gradients():
    fused = MLP(3, [5, 4, 1], seed=1)
    chain = MLP(3, [5, 4, 1], seed=1, fused=False)
    x = [0.5, -1.25, 2.0]
    yf, yc = fused(x), chain(x)
    assert yf.data == pytest.approx(yc.data, rel=1e-14, abs=1e-14)
    yf.backward()
    yc.backward()
    for pf, pc in zip(fused.parameters(), chain.parameters()):
        assert pf.grad == pytest.approx(pc.grad, rel=1e-12, abs=1e-14)
    # one dot node per neuron versus micrograd's chain of binary nodes
    ops_f = [v.op for v in topological_order(yf)]
    ops_c = [v.op for v in topological_order(yc)]
    assert ops_f.count("dot") == 10 and "dot" not in ops_c
    assert ops_c.count("*") == 3 * 5 + 5 * 4 + 4 * 1 and "*" not in ops_f


def test_layer_inputs_are_shared_between_neurons():
    layer = Layer(2, 3, activation="linear", seed=0)
    out = layer([1.0, 2.0])
    inputs = [tuple(o.children[2:4]) for o in out]
    assert inputs[0][0] is inputs[1][0] is inputs[2][0]
    assert [x.data for x in inputs[0]] == [1.0, 2.0]
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)


@pytest.mark.parametrize(
    "act,check",
    [
        ("relu", lambda z: max(z, 0.0)),
        ("tanh", None),
        ("sigmoid", None),
        ("leaky_relu", lambda z: z if z > 0 else 0.01 * z),
        ("linear", lambda z: z),
    ],
)
def test_activations_by_name(act, check):
    import math

    n = Neuron(2, activation=act, weights=[1.0, -2.0], bias=0.5)
    for x in ([1.0, 2.0], [3.0, 0.25]):
        z = x[0] - 2 * x[1] + 0.5
        expected = {"tanh": math.tanh(z), "sigmoid": 1 / (1 + math.exp(-z))}.get(act) if check is None else check(z)
        assert n(x).data == pytest.approx(expected, rel=1e-14)


def test_micrograd_nonlin_keyword():
    assert Neuron(2, nonlin=False).activation == "linear"
    assert Layer(2, 2, nonlin=True).activation == "relu"


def test_bad_names_and_widths_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown activation 'relux'.*leaky_relu"):
        MLP(2, [3, 1], activation="relux")
    with pytest.raises(ValueError, match="unknown init 'glorot'.*xavier_uniform"):
        MLP(2, [3, 1], init="glorot")
    model = MLP(2, [3, 1])
    with pytest.raises(ValueError, match="expected 2 inputs.*got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="seed"):
        MLP(2, [3], seed="x")
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, 3)


def test_softmax_is_stable_and_sums_to_one():
    probs = nn.softmax([Value(1000.0), Value(1001.0), Value(999.0)])
    assert sum(p.data for p in probs) == pytest.approx(1.0)
    assert probs[1].data > probs[0].data > probs[2].data


def test_dropout_keeps_expectation_and_is_off_in_eval():
    drop = Dropout(0.25, seed=3)
    xs = [Value(2.0) for _ in range(20000)]
    out = drop(xs)
    zeroed = sum(1 for o in out if o.data == 0.0)
    assert abs(zeroed / len(xs) - 0.25) < 0.015
    kept = {o.data for o in out if o.data != 0.0}
    assert kept == {2.0 * (1.0 / 0.75)}
    assert sum(o.data for o in out) / len(xs) == pytest.approx(2.0, rel=0.02)
    drop.eval()
    assert drop(xs) is xs
    again = Dropout(0.25, seed=3)
    assert [o.data for o in again(xs)] == [o.data for o in out]


def test_dropout_gradient_is_the_mask():
    drop = Dropout(0.5, seed=0)
    xs = [Value(1.0) for _ in range(50)]
    out = drop(xs)
    vsum(out).backward()
    for x, o in zip(xs, out):
        assert x.grad == (0.0 if o.data == 0.0 else 2.0)


def test_sequential_train_eval_and_names():
    model = Sequential(Layer(2, 4, seed=0), Dropout(0.5, seed=0), Layer(4, 1, activation="linear", seed=1))
    names = [n for n, _ in model.named_parameters()]
    assert names[0] == "layers.0.neurons.0.w.0" and names[-1] == "layers.2.neurons.0.b"
    model.eval()
    assert not model.layers[1].training
    a = model([0.3, -0.2]).data
    assert model([0.3, -0.2]).data == a
    model.train()
    assert model.layers[1].training
    sd = model.to_torch_state_dict()
    assert set(sd) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert len(sd["0.weight"]) == 4 and len(sd["0.weight"][0]) == 2


def test_to_torch_state_dict_layout():
    model = MLP(3, [2, 1], seed=0)
    sd = model.to_torch_state_dict()
    assert sd["0.weight"] == [[w.data for w in n.w] for n in model.layers[0].neurons]
    assert sd["0.bias"] == [0.0, 0.0]
    assert len(sd["1.weight"]) == 1 and len(sd["1.weight"][0]) == 2


def test_zero_grad_and_state_dict_round_trip():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 1.0]).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    sd = model.state_dict()
    other = MLP(2, [3, 1], seed=9)
    other.load_state_dict(sd)
    assert other.state_dict() == sd


def test_load_state_dict_is_all_or_nothing():
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    bad = dict(before)
    bad["layers.1.neurons.0.b"] = float("nan")
    with pytest.raises(ValueError, match="layers.1.neurons.0.b"):
        model.load_state_dict(bad)
    partial = dict(before)
    del partial["layers.0.neurons.2.w.1"]
    with pytest.raises(ValueError, match="missing parameter 'layers.0.neurons.2.w.1'"):
        model.load_state_dict(partial)
    assert model.state_dict() == before
    model.load_state_dict({"layers.0.neurons.0.b": 3.0}, strict=False)
    assert model.layers[0].neurons[0].b.data == 3.0


def test_custom_module_finds_parameters():
    class Affine(nn.Module):
        def __init__(self):
            self.scale = Value(2.0)
            self.inner = Layer(1, 2, seed=0)

        def __call__(self, x):
            return [self.scale * o for o in self.inner(x)]

    m = Affine()
    assert [n for n, _ in m.named_parameters()][:2] == ["scale", "inner.neurons.0.w.0"]
    assert m.scale.label == "scale"
    assert len(m([1.0])) == 2


def test_default_to_torch_state_dict_nests_submodules():
    class Two(nn.Module):
        def __init__(self):
            self.encoder = MLP(2, [3, 2], seed=0)
            self.head = Layer(2, 1, activation="linear", seed=1)
            self.temperature = Value(1.5)

        def __call__(self, x):
            return self.head(self.encoder(x))

    sd = Two().to_torch_state_dict()
    assert set(sd) == {
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.1.weight",
        "encoder.1.bias",
        "head.weight",
        "head.bias",
        "temperature",
    }
    assert sd["temperature"] == 1.5


def test_parameters_in_dicts_and_private_attributes():
    class Heads(nn.Module):
        def __init__(self):
            self.heads = {"left": Layer(1, 1, seed=0), "right": Layer(1, 1, seed=1)}
            self._cache = Value(9.0)  # private: not a parameter

    names = [n for n, _ in Heads().named_parameters()]
    assert names == [
        "heads.left.neurons.0.w.0",
        "heads.left.neurons.0.b",
        "heads.right.neurons.0.w.0",
        "heads.right.neurons.0.b",
    ]


def test_parameters_in_nested_lists_and_dicts_are_found_and_named():
    from autograd import Value
    from nn import Module

    class Grid(Module):
        def __init__(self):
            self.matrix = [[Value(1.0), Value(2.0)], [Value(3.0)]]
            self.table = {"a": [Value(4.0)], "b": {"c": Value(5.0)}}

    names = [n for n, _ in Grid().named_parameters()]
    assert names == ["matrix.0.0", "matrix.0.1", "matrix.1.0", "table.a.0", "table.b.c"]
    assert [p.label for p in Grid().parameters()] == names


def test_import_nn_loads_numpy_only_when_a_numpy_part_is_used():
    import subprocess
    import sys

    code = (
        "import sys, nn\n"
        "assert 'numpy' not in sys.modules and 'tqdm' not in sys.modules\n"
        "model = nn.MLP(2, [3, 1])\n"
        "loss = nn.hinge_loss([model([0.5, -1.0])], [1.0]) + nn.l2_penalty(model.parameters(), 1e-4)\n"
        "loss.backward()\n"
        "assert 'numpy' not in sys.modules\n"
        "opt = nn.SGD(model.parameters(), lr=0.1)\n"
        "assert 'numpy' in sys.modules and nn.optim.SGD is nn.SGD is type(opt)\n"
        "missing = [name for name in nn.__all__ if getattr(nn, name, None) is None]\n"
        "assert not missing, missing\n"
        "assert set(nn.__all__) <= set(dir(nn))\n"
        "assert callable(nn.evolve.evolve) and nn.evolve.__name__ == 'nn.evolve'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="module 'nn' has no attribute 'fitt'"):
        nn.fitt  # noqa: B018


def test_parameters_is_the_named_walk_for_every_model_and_subclass():
    # one way to find parameters: parameters() lists exactly named_parameters()'s Values, even when a
    # subclass of a built-in model adds its own (a hand-written MLP.parameters() would miss them)
    class Scaled(MLP):
        def __init__(self):
            super().__init__(2, [3, 1], seed=0)
            self.scale = Value(2.0)
            self.layers.append(Layer(1, 1, seed=1))  # added after the list was assigned

    shared = Value(0.5)

    class Tied(nn.Module):
        def __init__(self):
            self.a = [shared, Value(1.0)]
            self.b = {"again": shared}

    models = [Scaled(), Tied(), Layer(2, 3, seed=0), nn.rnn.LSTM(2, 3, seed=0), nn.Autoencoder(3, 1, seed=0)]
    for model in models:
        named = model.named_parameters()
        assert model.parameters() == [p for _, p in named]
        assert [p.label for _, p in named] == [name for name, _ in named]  # labelled once it was built
    scaled = models[0]
    assert scaled.scale in scaled.parameters() and scaled.scale.label == "scale"
    assert scaled.layers[2].neurons[0].b.label == "layers.2.neurons.0.b"
    assert models[1].parameters() == [shared, models[1].a[1]]  # a tied parameter counts once


def test_deepcopy_of_a_model_is_independent():
    import copy

    model = MLP(2, [3, 1], seed=0)
    model.train()
    snapshot = copy.deepcopy(model)
    assert snapshot.state_dict() == model.state_dict()
    assert [p.label for p in snapshot.parameters()] == [p.label for p in model.parameters()]
    assert not {id(p) for p in snapshot.parameters()} & {id(p) for p in model.parameters()}
    for p in model.parameters():
        p.data += 1.0
    assert snapshot.state_dict() != model.state_dict()
    drop = nn.Sequential(MLP(2, [2], seed=0), nn.Dropout(0.5))  # Dropout on Python's global random
    assert copy.deepcopy(drop)([1.0, 2.0]) is not None
    lstm = nn.LSTM(2, 3, seed=0)
    twin = copy.deepcopy(lstm).cells[0]  # the cell's fused rows point at the copy's own weights
    assert twin._rows[5][0] is twin.weight_ih[5][0] and twin.weight_ih[5][0] is not lstm.cells[0].weight_ih[5][0]
    xs = [[0.5, -1.0], [0.2, 0.3]]
    assert [v.data for v in copy.deepcopy(lstm)(xs)[0][-1]] == [v.data for v in lstm(xs)[0][-1]]


def test_dropout_names_itself_on_bad_input_in_both_modes():
    drop = nn.Dropout(0.5, seed=0)
    for mode in (drop.train, drop.eval):
        mode()
        for bad in (None, "ab", [1.0, "a"], True):
            with pytest.raises(TypeError, match="Dropout: the input must be a Value, a number or a list"):
                drop(bad)
    assert drop([1.0, 2.0]) == [1.0, 2.0]  # eval: the identity


def test_load_on_the_class_says_why_it_needs_a_built_model(tmp_path):
    path = tmp_path / "m.json"
    model = MLP(2, [3, 1], seed=0)
    model.save(path)
    with pytest.raises(TypeError, match=r"MLP.load: a file holds the parameters, not the architecture.*model.load"):
        MLP.load(path)
    other = MLP(2, [3, 1], seed=1)
    assert other.load(path) is other and other.state_dict() == model.state_dict()
    assert MLP.load(MLP(2, [3, 1], seed=2), path).state_dict() == model.state_dict()  # the unbound form


def test_a_400_digit_integer_in_load_state_dict_is_a_value_error_naming_the_key():
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match="layers.1.neurons.0.b"):
        model.load_state_dict({**before, "layers.1.neurons.0.b": 10**400})
    assert model.state_dict() == before


# torch.nn.functional.gelu / silu (float64) of w·x + b with w = [0.5, -1.5], b = 0.25, x = [1.0, 0.3]:
# (value, d/dw0, d/dw1, d/db), pasted from PyTorch 2.13
TORCH_ACTIVATIONS = {
    "gelu": (0.18537342665668582, 0.7323277668271099, 0.21969833004813297, 0.7323277668271099),
    "silu": (0.17233275504349774, 0.6477800103188829, 0.19433400309566487, 0.6477800103188829),
}


@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_registry_activations_work_by_name_like_torch(name):
    neuron = nn.Neuron(2, name, weights=[0.5, -1.5], bias=0.25)
    out = neuron([1.0, 0.3])
    out.backward()
    got = (out.data, neuron.w[0].grad, neuron.w[1].grad, neuron.b.grad)
    assert got == pytest.approx(TORCH_ACTIVATIONS[name], rel=1e-14, abs=0)
    assert MLP(2, [8, 1], activation=name, seed=0).layers[0].activation == name


def test_every_registry_activation_is_an_nn_activation():
    from autograd.ops import activations

    assert set(activations()) | {"linear"} == set(nn.ACTIVATIONS)
    for name, row in activations().items():
        assert nn.ACTIVATIONS[name] is getattr(Value, row.method)
