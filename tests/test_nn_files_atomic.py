"""Saves are atomic: a failed save (disk full half way) keeps the old file and leaves no
temporary file; concurrent saves never trip over each other and a concurrent load always
sees a whole file; a model with a non-finite weight is refused before anything is written."""

import errno
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nn
from nn.serialization import atomic_write

FORMATS = ["m.json", "m.npz"]
ROOT = str(Path(__file__).resolve().parents[1])
ENV = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run_python(code, *args, timeout=120):
    """Run ``code`` in a fresh interpreter (this venv, this repo) and return the finished process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
    )


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("name", FORMATS)
def test_save_cut_off_half_way_keeps_the_old_file(tmp_path, name):
    # A real short write: the child may write at most half the file's size (RLIMIT_FSIZE), so the
    # operating system fails the save mid-write with EFBIG, as a full disk does with ENOSPC.
    path = tmp_path / name
    nn.MLP(2, [3, 2, 1], seed=4).save(path)
    old = path.read_bytes()
    child = run_python(
        """
        import resource, signal, sys
        import nn
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        path, limit = sys.argv[1], int(sys.argv[2])
        model = nn.MLP(2, [3, 2, 1], seed=5)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        try:
            model.save(path)
        except OSError as e:
            print("errno", e.errno)
        else:
            print("saved")
        """,
        path,
        len(old) // 2,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["errno", str(errno.EFBIG)]
    assert path.read_bytes() == old
    assert listing(tmp_path) == [name]
    assert nn.MLP(2, [3, 2, 1], seed=0).load(path).state_dict() == nn.MLP(2, [3, 2, 1], seed=4).state_dict()


def test_atomic_write_disk_full_half_way(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old contents")

    def write(f):
        f.write(b"x" * 5000)
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as info:
        atomic_write(path, write)
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"old contents"
    assert listing(tmp_path) == ["out.bin"]


def test_atomic_write_interrupted_cleans_up(tmp_path):
    path = tmp_path / "out.bin"

    def write(f):
        f.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, write)
    assert listing(tmp_path) == []


def test_atomic_write_syncs_file_then_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        mode = os.fstat(fd).st_mode
        synced.append(("folder" if stat.S_ISDIR(mode) else "file", (tmp_path / "a.bin").exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(tmp_path / "a.bin", lambda f: f.write(b"data"))
    # the data is synced before the rename, the folder after it
    assert synced == [("file", False), ("folder", True)]
    assert (tmp_path / "a.bin").read_bytes() == b"data"


@pytest.mark.parametrize("name", FORMATS)
def test_save_keeps_permissions_and_follows_symlinks(tmp_path, name):
    model = nn.MLP(2, [3, 1], seed=1)
    real = tmp_path / ("real_" + name)
    model.save(real)
    os.chmod(real, 0o600)
    link = tmp_path / name
    link.symlink_to(real)
    changed = nn.MLP(2, [3, 1], seed=2)
    changed.save(link)
    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert nn.MLP(2, [3, 1], seed=0).load(real).state_dict() == changed.state_dict()
    assert listing(tmp_path) == sorted([name, "real_" + name])


@pytest.mark.parametrize("name", FORMATS)
def test_concurrent_saves_and_a_load_never_fail(tmp_path, name):
    # Two writers save different models to one path while a reader loads it; every save succeeds
    # and every load sees one whole model (a mix or a half-written file would not match either).
    path = tmp_path / name
    nn.MLP(2, [8, 1], seed=0).save(path)
    writer = """
        import sys
        import nn
        model = nn.MLP(2, [8, 1], seed=int(sys.argv[2]))
        for _ in range(150):
            model.save(sys.argv[1])
        print("ok")
        """
    reader = """
        import sys
        import nn
        seen = set()
        wanted = {s: nn.MLP(2, [8, 1], seed=s).state_dict() for s in (0, 1, 2)}
        model = nn.MLP(2, [8, 1], seed=9)
        for _ in range(300):
            state = model.load(sys.argv[1]).state_dict()
            seen.update(s for s, w in wanted.items() if w == state)
            assert any(w == state for w in wanted.values()), "a load saw a model nobody saved"
        print("ok", sorted(seen))
        """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), str(path), str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for code, seed in [(writer, 1), (writer, 2), (reader, 0)]
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert out.startswith("ok"), out
    assert listing(tmp_path) == [name]
    final = nn.MLP(2, [8, 1], seed=9).load(path).state_dict()
    assert final in (nn.MLP(2, [8, 1], seed=1).state_dict(), nn.MLP(2, [8, 1], seed=2).state_dict())


def poisoned(bad):
    model = nn.MLP(2, [3, 1], seed=3)
    model.layers[0].neurons[1].w[0].data = bad
    return model


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_saving_a_non_finite_weight_is_refused_before_writing(tmp_path, name, bad):
    path = tmp_path / name
    with pytest.raises(ValueError, match=r"parameter 'layers\.0\.neurons\.1\.w\.0' is (nan|inf|-inf)") as info:
        poisoned(bad).save(path)
    assert str(path) in str(info.value)
    assert listing(tmp_path) == []
    # an existing checkpoint stays as it was
    good = nn.MLP(2, [3, 1], seed=3)
    good.save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="non-finite"):
        poisoned(bad).save(path)
    assert path.read_bytes() == before
    assert listing(tmp_path) == [name]


def test_json_save_is_unchanged_text(tmp_path):
    # the format stays what it was: indent=1 JSON with the same keys, so old readers keep working
    model = nn.MLP(2, [3, 1], seed=3)
    model.save(tmp_path / "m.json")
    doc = {
        "format": "deltaw.state_dict",
        "version": 1,
        "model": "MLP",
        "num_parameters": 13,
        "parameters": model.state_dict(),
    }
    assert (tmp_path / "m.json").read_text(encoding="utf-8") == json.dumps(doc, indent=1)


def test_saving_into_a_missing_folder_names_the_file(tmp_path):
    path = tmp_path / "no" / "such" / "m.json"
    with pytest.raises(FileNotFoundError) as info:
        nn.MLP(2, [3, 1], seed=3).save(path)
    assert info.value.filename == str(path)
    assert listing(tmp_path) == []
