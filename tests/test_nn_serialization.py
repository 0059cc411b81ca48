"""Save/load in JSON and .npz: round trips, and every kind of wrong file raising ValueError
that names the file, the parameter and the mismatch while leaving the model untouched."""

import json
import zipfile

import numpy as np
import pytest

import nn


@pytest.fixture
def model():
    return nn.MLP(2, [3, 2, 1], seed=4)


@pytest.mark.parametrize("name", ["model.json", "model.npz", "weights.txt"])
def test_round_trip(tmp_path, model, name):
    path = tmp_path / name
    model.save(path)
    other = nn.MLP(2, [3, 2, 1], seed=99)
    assert other.state_dict() != model.state_dict()
    assert other.load(path) is other
    assert other.state_dict() == model.state_dict()  # bit-exact floats
    x = [0.3, -0.7]
    assert other(x).data == model(x).data


def test_npz_never_needs_pickle(tmp_path, model):
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def test_json_is_plain_and_labelled(tmp_path, model):
    path = tmp_path / "m.json"
    model.save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "deltaw.state_dict" and doc["model"] == "MLP"
    assert doc["parameters"]["layers.0.neurons.2.w.1"] == model.layers[0].neurons[2].w[1].data


def write_json(path, doc):
    path.write_text(json.dumps(doc))
    return path


def corrupt_cases(tmp_path, model):
    good = tmp_path / "good.json"
    model.save(good)
    doc = json.loads(good.read_text())
    text = good.read_text()
    cases = {}
    cases["truncated"] = (tmp_path / "t.json", "not valid JSON.*truncated")
    cases["truncated"][0].write_text(text[: len(text) // 2])
    cases["empty"] = (tmp_path / "e.json", "not valid JSON")
    cases["empty"][0].write_text("")
    cases["binary"] = (tmp_path / "b.json", "not a text file|not valid JSON")
    cases["binary"][0].write_bytes(b"\x80\x81\xff\x00")
    cases["foreign"] = (write_json(tmp_path / "f.json", {"weights": [1, 2]}), "not a deltaw parameter file")
    cases["list"] = (write_json(tmp_path / "l.json", [1, 2]), "not a deltaw parameter file")
    v = dict(doc, version=7)
    cases["version"] = (write_json(tmp_path / "v.json", v), "version 7")
    missing = json.loads(text)
    del missing["parameters"]["layers.1.neurons.1.b"]
    missing["num_parameters"] -= 1
    cases["missing"] = (write_json(tmp_path / "m.json", missing), "missing parameter 'layers.1.neurons.1.b'")
    extra = json.loads(text)
    extra["parameters"]["layers.3.neurons.0.b"] = 0.0
    extra["num_parameters"] += 1
    cases["extra"] = (write_json(tmp_path / "x.json", extra), "unexpected parameter 'layers.3.neurons.0.b'")
    count = json.loads(text)
    del count["parameters"]["layers.0.neurons.0.w.0"]
    cases["count"] = (write_json(tmp_path / "c.json", count), "declares 20 parameters but holds 19")
    string = json.loads(text)
    string["parameters"]["layers.0.neurons.0.w.1"] = "0.5"
    cases["string"] = (write_json(tmp_path / "s.json", string), "'layers.0.neurons.0.w.1' is str")
    null = json.loads(text)
    null["parameters"]["layers.2.neurons.0.w.0"] = None
    cases["null"] = (write_json(tmp_path / "n.json", null), "'layers.2.neurons.0.w.0' is NoneType")
    nan = tmp_path / "nan.json"
    nan.write_text(text.replace(repr(model.layers[0].neurons[1].w[0].data), "NaN", 1))
    cases["nan"] = (nan, "NaN is not a finite number")
    big = json.loads(text)
    big["parameters"]["layers.0.neurons.0.b"] = 1e400
    big_path = tmp_path / "big.json"
    big_path.write_text(json.dumps(big).replace("Infinity", "1e400"))
    cases["overflow"] = (big_path, "'layers.0.neurons.0.b' is inf")
    other = tmp_path / "other.json"
    nn.MLP(2, [4, 1], seed=0).save(other)
    cases["architecture"] = (other, "different architecture")
    # .npz cases
    npz_trunc = tmp_path / "t.npz"
    model.save(npz_trunc)
    data = npz_trunc.read_bytes()
    npz_trunc.write_bytes(data[: len(data) // 2])
    cases["npz truncated"] = (npz_trunc, "not a valid .npz archive|unreadable .npz")
    npz_text = tmp_path / "x.npz"
    npz_text.write_text("hello")
    cases["npz not zip"] = (npz_text, "not a valid .npz|unreadable .npz")
    npz_foreign = tmp_path / "foreign.npz"
    np.savez(npz_foreign, a=np.zeros(3))
    cases["npz foreign"] = (npz_foreign, "not a deltaw parameter file")
    npz_obj = tmp_path / "obj.npz"
    sd = {k: np.float64(v) for k, v in model.state_dict().items()}
    sd["layers.0.neurons.0.b"] = np.array([{"evil": 1}], dtype=object)
    sd["__deltaw_format__"] = np.array("deltaw.state_dict v1 MLP")
    np.savez(npz_obj, **sd)
    cases["npz pickled object"] = (npz_obj, "pickle|layers.0.neurons.0.b")
    npz_shape = tmp_path / "shape.npz"
    sd = {k: np.float64(v) for k, v in model.state_dict().items()}
    sd["layers.0.neurons.1.w.0"] = np.zeros(2)
    sd["__deltaw_format__"] = np.array("deltaw.state_dict v1 MLP")
    np.savez(npz_shape, **sd)
    cases["npz shape"] = (npz_shape, "'layers.0.neurons.1.w.0' has shape \\(2,\\)")
    npz_missing = tmp_path / "missing.npz"
    sd = {k: np.float64(v) for k, v in model.state_dict().items() if k != "layers.2.neurons.0.b"}
    sd["__deltaw_format__"] = np.array("deltaw.state_dict v1 MLP")
    np.savez(npz_missing, **sd)
    cases["npz missing"] = (npz_missing, "missing parameter 'layers.2.neurons.0.b'")
    return cases


def test_every_corrupted_file_raises_and_leaves_model_untouched(tmp_path, model):
    cases = corrupt_cases(tmp_path, model)
    target = nn.MLP(2, [3, 2, 1], seed=123)
    before = target.state_dict()
    for name, (path, pattern) in cases.items():
        with pytest.raises(ValueError, match=pattern) as info:
            target.load(path)
        assert str(path) in str(info.value), name
        assert target.state_dict() == before, name
    assert len(cases) == 20  # a repeated dict key would silently drop a case


def test_missing_file_is_a_file_not_found_error(tmp_path, model):
    with pytest.raises(FileNotFoundError):
        model.load(tmp_path / "nope.json")
    with pytest.raises(FileNotFoundError):
        model.load(tmp_path / "nope.npz")


def test_save_leaves_no_temporary_file(tmp_path, model):
    model.save(tmp_path / "a.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
    model.save(tmp_path / "b.npz")
    assert zipfile.is_zipfile(tmp_path / "b.npz")
