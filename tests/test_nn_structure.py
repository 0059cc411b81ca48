"""nn.structure.describe: layers, sizes, activations and which Values are which unit's parameters."""

from __future__ import annotations

import pytest

import nn
from autograd import Value
from nn.structure import describe


def test_mlp_layers_units_and_parameters() -> None:
    model = nn.MLP(3, [4, 2], activation="tanh", seed=0)
    st = describe(model)
    assert [(L.name, L.kind, L.nin, L.nout, L.activation) for L in st.layers] == [
        ("layers.0", "dense", 3, 4, "tanh"),
        ("layers.1", "dense", 4, 2, "linear"),
    ]
    assert st.nin == 3 and st.is_dense_stack()
    n = model.layers[1].neurons[1]
    unit = st.layers[1].units[1]
    assert unit.name == "layers.1.neurons.1" and unit.kind == "neuron"
    assert unit.weights == tuple(n.w) and unit.bias is n.b and unit.biases == (n.b,)
    assert [r for r, _ in unit.roles] == ["w.0", "w.1", "w.2", "w.3", "b"]
    # every parameter of the model belongs to exactly one unit, and the units hold nothing else
    owned = [p for u in st.units() for p in u.parameters()]
    assert sorted(map(id, owned)) == sorted(map(id, model.parameters()))
    assert st.unit_of(n.w[2]) is unit and st.layer_of(n.b) is st.layers[1]
    assert st.unit_of(Value(1.0)) is None
    assert st.layers[0].function() is nn.ACTIVATIONS["tanh"]


def test_sequential_layer_neuron_and_a_callable_activation() -> None:
    seq = nn.Sequential(nn.Layer(2, 3, seed=0), nn.Dropout(0.5, seed=0), nn.Layer(3, 1, activation="relu", seed=1))
    st = describe(seq)
    assert [L.name for L in st.layers] == ["layers.0", "layers.2"] and st.is_dense_stack()
    assert describe(nn.Layer(3, 2, seed=0)).layers[0].units[1].name == "neurons.1"
    lone = describe(nn.Neuron(2, "sigmoid", seed=0)).layers[0]
    assert (lone.nin, lone.nout, lone.activation) == (2, 1, "sigmoid")
    odd = describe(nn.MLP(2, [3, 1], activation=lambda z: z.tanh() * 0.5, seed=0))
    assert odd.layers[0].function() is None  # not a named activation: readers must use the model itself


@pytest.mark.parametrize(
    "cls, gates, activation", [(nn.RNN, "h", "tanh"), (nn.LSTM, "ifgo", "lstm"), (nn.GRU, "rzn", "gru")]
)
def test_recurrent_units_hold_their_row_of_every_gate(cls, gates: str, activation: str) -> None:
    model = cls(2, 3, num_layers=2, seed=0)
    st = describe(model)
    assert [(L.name, L.kind, L.nin, L.nout) for L in st.layers] == [
        ("cells.0", cls.__name__.lower(), 2, 3),
        ("cells.1", cls.__name__.lower(), 3, 3),
    ]
    assert not st.is_dense_stack()
    cell = model.cells[1]
    unit = st.layers[1].units[2]
    assert unit.name == "cells.1 unit 2" and unit.kind == "recurrent" and unit.activation == activation
    rows = [k * 3 + 2 for k in range(len(gates))]  # torch's layout: gate k's unit 2 is row 3k + 2
    assert unit.weights == tuple(w for r in rows for w in cell.weight_ih[r])
    assert unit.recurrent == tuple(w for r in rows for w in cell.weight_hh[r])
    assert unit.biases == tuple(cell.bias_ih[r] for r in rows) + tuple(cell.bias_hh[r] for r in rows)
    assert unit.roles[0][0] == f"{gates[0]}: W_ih.0"
    owned = [p for u in st.units() for p in u.parameters()]
    assert sorted(map(id, owned)) == sorted(map(id, model.parameters()))


def test_errors_name_describe() -> None:
    with pytest.raises(TypeError, match="describe: expected an nn.Module"):
        describe(object())
    with pytest.raises(ValueError, match="describe: Dropout holds no Layer"):
        describe(nn.Dropout(0.5))
