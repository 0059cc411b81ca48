"""RunRecorder.save / load: an exact round trip, an atomic write, and hostile files refused
before anything big is read (no pickle, sizes and headers checked first)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import nn
import viz


@pytest.fixture(scope="module")
def rec() -> viz.RunRecorder:
    X, y = nn.make_moons(16, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    r = viz.RunRecorder(every=2)
    nn.fit(model, X, y * 2.0 - 1.0, loss="hinge", optimizer=nn.Adam(model.parameters(), lr=0.05), epochs=9,
           progress=False, callbacks=[r])  # fmt: skip
    return r


def test_round_trip_is_exact(rec, tmp_path):
    rec.save(tmp_path / "run.npz")
    back = viz.RunRecorder.load(tmp_path / "run.npz")
    assert back.names == rec.names and back.every == 2 and back.truncated is False and len(back) == 5
    for key in ("steps", "loss", "deltas", "values"):
        a, b = getattr(back, key), getattr(rec, key)
        assert a.dtype == b.dtype and a.tolist() == b.tolist(), key
    assert back.steps.tolist() == [0, 2, 4, 6, 8]
    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match="RunRecorder.record: this recorder was loaded from a file"):
        back.record(model, nn.SGD(model.parameters(), lr=0.1), 1.0, step=10)
    assert len(back) == 5 and back.names == rec.names


def test_save_is_atomic(rec, tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    path.write_bytes(b"the old file")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        rec.save(path)
    assert path.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]


def _parts(rec: viz.RunRecorder, tmp_path) -> dict[str, bytes]:
    """The saved file's entries, to be edited into hostile variants."""
    rec.save(tmp_path / "good.npz")
    with zipfile.ZipFile(tmp_path / "good.npz") as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _write(path, parts: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def _meta_with(parts: dict[str, bytes], **changes) -> dict[str, bytes]:
    meta = json.loads(parts["meta.json"])
    meta.update(changes)
    return {**parts, "meta.json": json.dumps(meta).encode()}


def _hostile(parts: dict[str, bytes], rows: int, n: int) -> dict[str, dict[str, bytes]]:
    nan = np.zeros((rows, n))
    nan[1, 2] = np.nan
    return {
        "missing entry": {k: v for k, v in parts.items() if k != "values.npy"},
        "stranger entry": {**parts, "evil.py": b"print(1)"},
        "object array": {**parts, "loss.npy": _npy(np.array([object()] * rows), allow_pickle=True)},
        "float32": {**parts, "deltas.npy": _npy(np.zeros((rows, 2 * n), dtype=np.float32))},  # as many bytes
        "wrong shape": {**parts, "deltas.npy": _npy(np.zeros((rows, n + 1)))},
        "fortran order": {**parts, "values.npy": _npy(np.asfortranarray(np.zeros((rows, n))))},
        "nan": {**parts, "deltas.npy": _npy(nan)},
        "steps decrease": {**parts, "steps.npy": _npy(np.arange(rows, dtype=np.int64)[::-1].copy())},
        "other format": _meta_with(parts, format="deltaw.state_dict"),
        "newer version": _meta_with(parts, version=2),
        "names twice": _meta_with(parts, names=["a"] * n),
        "rows lie": _meta_with(parts, rows=rows + 1),
        "not json": {**parts, "meta.json": b"{not json"},
        "NaN constant": {**parts, "meta.json": parts["meta.json"].replace(b'"every": 2', b'"every": NaN')},
        "duplicate key": {**parts, "meta.json": parts["meta.json"].replace(b'{"format"', b'{"every": 2, "format"')},
        "truncated not bool": _meta_with(parts, truncated="no"),
    }


HOSTILE_MESSAGES = {
    "missing entry": "no 'values' entry",
    "stranger entry": "unexpected entry 'evil.py'",
    "object array": "entry 'loss.npy' holds Python objects that would need pickle; refused",
    "float32": r"entry 'deltas.npy' is float32 of shape \(5, 34\); expected float64 of shape \(5, 17\)",
    "wrong shape": r"entry 'deltas.npy' is float64 of shape \(5, 18\); expected float64 of shape \(5, 17\)",
    "fortran order": r"entry 'values.npy' is float64 of shape \(5, 17\) \(Fortran order\)",
    "nan": r"deltas\[1, 2\] is nan; a recording holds finite numbers",
    "steps decrease": "the step numbers must be >= 0 and increasing",
    "other format": 'not a deltaw run file .meta.json has no "format": "deltaw.run"',
    "newer version": "format version 2, this deltaw reads 1",
    "names twice": '"names" lists a parameter twice',
    "rows lie": r"entry 'steps.npy' is int64 of shape \(5,\); expected int64 of shape \(6,\)",
    "not json": "meta.json is not valid JSON",
    "NaN constant": "NaN is not a finite number",
    "duplicate key": "key 'every' appears twice",
    "truncated not bool": '"truncated" must be true or false',
}


@pytest.mark.parametrize("case", sorted(HOSTILE_MESSAGES))
def test_hostile_files_are_refused_with_the_file_and_entry_named(rec, tmp_path, case):
    parts = _parts(rec, tmp_path)
    path = tmp_path / f"{case.replace(' ', '_')}.npz"
    _write(path, _hostile(parts, len(rec), len(rec.names))[case])
    with pytest.raises(ValueError, match=f"^RunRecorder.load: {path}: .*{HOSTILE_MESSAGES[case]}"):
        viz.RunRecorder.load(path)


def test_not_a_zip_truncated_and_a_duplicate_entry(rec, tmp_path):
    rec.save(tmp_path / "good.npz")
    data = (tmp_path / "good.npz").read_bytes()
    for name, content in (("text.npz", b"hello"), ("cut.npz", data[: len(data) // 2])):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=f"^RunRecorder.load: {tmp_path / name}: not a readable run file"):
            viz.RunRecorder.load(tmp_path / name)
    parts = _parts(rec, tmp_path)
    with zipfile.ZipFile(tmp_path / "twice.npz", "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        for name, content in [*parts.items(), ("loss.npy", parts["loss.npy"])]:
            zf.writestr(name, content)
    with pytest.raises(ValueError, match="entry 'loss.npy' appears twice"):
        viz.RunRecorder.load(tmp_path / "twice.npz")
    with pytest.raises(FileNotFoundError):
        viz.RunRecorder.load(tmp_path / "absent.npz")


def test_a_bomb_and_a_huge_declared_run_are_refused_before_reading(rec, tmp_path):
    parts = _parts(rec, tmp_path)
    # 5 rows × 17 parameters declared as 10**6 rows: refused from meta.json alone, by max_bytes
    _write(tmp_path / "huge.npz", _meta_with(parts, rows=10**6))
    with pytest.raises(ValueError, match="1,000,000 steps of 17 parameters take .* more than max_bytes=1,000,000"):
        viz.RunRecorder.load(tmp_path / "huge.npz", max_bytes=1_000_000)
    # a compressed entry that inflates far beyond what meta.json says
    bomb = {**parts, "deltas.npy": parts["deltas.npy"] + b"\0" * 50_000_000}
    _write(tmp_path / "bomb.npz", bomb, compression=zipfile.ZIP_DEFLATED)
    assert (tmp_path / "bomb.npz").stat().st_size < 200_000
    with pytest.raises(ValueError, match="entry 'deltas.npy' declares 50,000,808 bytes.*refused unread"):
        viz.RunRecorder.load(tmp_path / "bomb.npz")
    with pytest.raises(ValueError, match="RunRecorder.load: max_bytes must be an int >= 1, got 0"):
        viz.RunRecorder.load(tmp_path / "bomb.npz", max_bytes=0)
