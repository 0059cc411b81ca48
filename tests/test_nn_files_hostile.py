"""Loaders decide before they allocate: hostile files (zip bombs, lying .npy headers, a .npy
named .npz, deeply nested or huge JSON, giant integers) are refused with a ValueError naming
the file and the entry, without reading their data and with the model unchanged."""

import io
import json
import random
import tracemalloc
import zipfile

import numpy as np
import pytest

import nn

KEY = "layers.0.neurons.1.w.0"


@pytest.fixture
def model():
    return nn.MLP(2, [3, 1], seed=4)


def npy(array):
    """The bytes of one .npy file."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=True)
    return buf.getvalue()


def npy_header(shape, descr="<f8"):
    """A .npy header alone (version 1.0), as numpy writes it, for a claimed shape."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def members_of(model):
    out = {k: npy(np.float64(v)) for k, v in model.state_dict().items()}
    out["__deltaw_format__"] = npy(np.array("deltaw.state_dict v1 MLP"))
    return out


def write_npz(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name + ".npy", data)
    return path


def refused(model, path, *patterns):
    """Load ``path``, expect a ValueError naming the file and matching every pattern; model untouched."""
    before = model.state_dict()
    with pytest.raises(ValueError) as info:
        model.load(path)
    message = str(info.value)
    assert str(path) in message
    for pattern in patterns:
        assert pattern in message, message
    assert model.state_dict() == before
    return message


def test_zip_bomb_is_refused_from_the_zip_headers(tmp_path, model):
    # 64 MiB of zeros claimed as one parameter, deflated to about 64 KiB
    path = tmp_path / "bomb.npz"
    members = members_of(model)
    del members[KEY]
    write_npz(path, members)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open(KEY + ".npy", "w", force_zip64=True) as m:
            m.write(npy_header((8 * 2**20,)))
            for _ in range(64):
                m.write(bytes(2**20))
    assert path.stat().st_size < 2**20
    before = model.state_dict()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"loading the bomb traced {peak} bytes"  # the old loader: 68 MB
    message = str(info.value)
    assert str(path) in message and repr(KEY) in message and "would inflate to 67108992 bytes" in message
    assert model.state_dict() == before


def test_a_highly_compressed_small_entry_is_refused(tmp_path, model):
    # under the size limit, but a ratio no file of scalars reaches
    members = members_of(model)
    members[KEY] = npy_header((4000,)) + bytes(32000)
    path = write_npz(tmp_path / "ratio.npz", members, compression=zipfile.ZIP_DEFLATED)
    refused(model, path, repr(KEY), "zip bomb")


def test_header_claiming_a_huge_shape_is_refused(tmp_path, model):
    members = members_of(model)
    members[KEY] = npy_header((10**13,)) + bytes(8)
    path = write_npz(tmp_path / "huge.npz", members)
    refused(model, path, repr(KEY), "shape (10000000000000,)")


@pytest.mark.parametrize(
    ("array", "says"),
    [
        (np.array("3.5"), "dtype <U3"),
        (np.complex128(1 + 2j), "dtype complex128"),
        (np.longdouble(0.5), "dtype float128"),
        (np.array(None, dtype=object), "pickle"),
    ],
)
def test_wrong_dtypes_are_refused_from_the_header(tmp_path, model, array, says):
    if array.dtype.itemsize == 8 and array.dtype.kind == "f":  # platforms without a long double
        pytest.skip("longdouble is float64 here")
    members = members_of(model)
    members[KEY] = npy(array)
    path = write_npz(tmp_path / "dtype.npz", members)
    refused(model, path, repr(KEY), says)


def test_names_are_checked_before_any_data_is_read(tmp_path, model):
    # an extra entry whose data is garbage: the name check refuses the file first
    members = members_of(model)
    members["layers.9.b"] = npy_header(()) + b"\x00"  # too short to hold a float64
    path = write_npz(tmp_path / "extra.npz", members)
    refused(model, path, "unexpected parameter 'layers.9.b'")


def test_other_float_scalars_still_load(tmp_path, model):
    # today's behaviour: any real scalar dtype (float32, ints) is accepted and converted
    members = members_of(model)
    members[KEY] = npy(np.float32(0.25))
    members["layers.1.neurons.0.b"] = npy(np.int16(-3))
    path = write_npz(tmp_path / "mixed.npz", members)
    model.load(path)
    assert model.state_dict()[KEY] == 0.25 and model.state_dict()["layers.1.neurons.0.b"] == -3.0


def test_duplicate_npz_entries_are_refused(tmp_path, model):
    path = write_npz(tmp_path / "dup.npz", members_of(model))
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(KEY + ".npy", npy(np.float64(7.0)))
    refused(model, path, repr(KEY), "appears twice")


def test_a_npy_file_named_npz_is_refused(tmp_path, model):
    path = tmp_path / "single.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    refused(model, path, ".npy file, not an .npz archive")


def json_doc(model, **parameters):
    state = dict(model.state_dict(), **parameters)
    return {
        "format": "deltaw.state_dict",
        "version": 1,
        "model": "MLP",
        "num_parameters": len(state),
        "parameters": state,
    }


def test_deeply_nested_json_is_refused(tmp_path, model):
    path = tmp_path / "deep.json"
    text = json.dumps(json_doc(model, **{KEY: 0.0}))
    path.write_text(text.replace("0.0", "[" * 100_000 + "]" * 100_000, 1))
    refused(model, path, "nested more than")


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path, model):
    path = tmp_path / "s.json"
    doc = json_doc(model)
    doc["model"] = "[[[[" * 20 + '"{' * 10
    path.write_text(json.dumps(doc))
    model.load(path)  # the name is free text: it loads


def test_a_400_digit_integer_in_a_file_is_refused(tmp_path, model):
    path = tmp_path / "int.json"
    path.write_text(json.dumps(json_doc(model, **{KEY: int("9" * 400)})))
    refused(model, path, repr(KEY), "400 digits")


def test_a_400_digit_integer_in_load_state_dict_is_refused(model):
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"load_state_dict: parameter 'layers\.0\.neurons\.1\.w\.0' .*400 digits"):
        model.load_state_dict(dict(before, **{KEY: -int("9" * 400)}))
    assert model.state_dict() == before


def test_a_duplicate_json_key_is_refused(tmp_path, model):
    path = tmp_path / "dup.json"
    text = json.dumps(json_doc(model))
    path.write_text(text.replace('"parameters": {', '"parameters": {"' + KEY + '": 1.0, '))
    refused(model, path, repr(KEY), "appears twice")


@pytest.mark.parametrize("name", ["big.json", "big.npz"])
def test_a_file_far_larger_than_the_model_needs_is_refused_before_reading(tmp_path, model, name):
    path = tmp_path / name
    model.save(path)
    with open(path, "ab") as f:
        f.write(b" " * (3 * 2**20))
    tracemalloc.start()
    try:
        refused(model, path, "refused before reading")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def mutate(data, rng):
    """Flip, cut or insert a few bytes, as a bad disk or a careless edit would."""
    out = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 5])):
        pos, roll = rng.randrange(len(out)), rng.random()
        if roll < 0.6:
            out[pos] = rng.randrange(256)
        elif roll < 0.8:
            del out[pos : pos + rng.randrange(1, 40)]
        else:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 10)))
    return bytes(out)


@pytest.mark.parametrize("name", ["m.npz", "m.json"])
def test_damaged_files_raise_value_errors_only(tmp_path, model, name):
    # 300 seeded random damages: each load raises a ValueError naming the file with the model
    # unchanged, or succeeds; a damaged .npz that loads has the saved values (zip CRCs catch the rest)
    good = tmp_path / ("good_" + name)
    model.save(good)
    data, saved = good.read_bytes(), model.state_dict()
    rng = random.Random(1)
    path = tmp_path / name
    outcomes = set()
    for _ in range(300):
        path.write_bytes(mutate(data, rng))
        target = nn.MLP(2, [3, 1], seed=8)
        before = target.state_dict()
        try:
            target.load(path)
        except ValueError as e:
            assert str(path) in str(e) and target.state_dict() == before, str(e)
            outcomes.add("refused")
        else:
            assert name.endswith(".json") or target.state_dict() == saved
            outcomes.add("loaded")
    assert outcomes == {"refused", "loaded"}
