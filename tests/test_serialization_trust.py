"""issue 14 items 7, 9 and 10: save/load files you can trust (atomic saves that leave nothing behind,
decompression bombs refused, one copy per array, file objects, symlinks, permissions) and optimizer
state dicts validated up front."""
import io
import os
import stat
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import optim
from tinygrad_dnn.backend import serialization_io


# ------------------------------------------------------------------------------------ item 7
def test_save_removes_its_temp_file_on_every_error_and_stale_ones_from_dead_processes(tmp_path, monkeypatch):
    target = tmp_path / "ck.npz"
    tg.save({"w": tg.ones(3)}, target)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".tmp-{dead.pid}-abc123.npz"  # what a kill -9 mid-save leaves
    stale.write_bytes(b"x" * 100)
    alive = tmp_path / f".tmp-{os.getppid()}-def456.npz"  # another live process is writing: left alone
    alive.write_bytes(b"y")
    tg.save({"w": tg.zeros(3)}, target)
    assert not stale.exists() and alive.exists()
    alive.unlink()

    for exc in (KeyboardInterrupt(), OSError("disk full")):
        def boom(*a, exc=exc, **k):
            raise exc
        monkeypatch.setattr("tinygrad_dnn.serialization.write_npz", boom)
        with pytest.raises(type(exc)):
            tg.save({"w": tg.full((3,), 7.0)}, target)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"], exc
    monkeypatch.undo()
    assert tg.load(target)["w"].tolist() == [0.0, 0.0, 0.0]  # the old file is intact


# ------------------------------------------------------------------------------------ item 10
def _bomb(path, nbytes):
    """A valid-looking .npz whose one member inflates from a few KB to ``nbytes`` of zeros."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (nbytes // 4,)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("a0.npy", "w", force_zip64=True) as f:
            f.write(header.getvalue())
            chunk = b"\0" * (1 << 20)
            for _ in range(nbytes // len(chunk)):
                f.write(chunk)
        z.writestr("__tinygrad_dnn_meta__.npy", _npy(np.frombuffer(b'{"__tensor__": "a0"}', np.uint8)))


def _npy(arr):
    b = io.BytesIO()
    np.save(b, arr)
    return b.getvalue()


def test_decompression_bomb_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    _bomb(path, 256 << 20)
    assert os.path.getsize(path) < (2 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="decompression bomb"):
            tg.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (16 << 20)


def test_declared_sizes_are_checked(tmp_path):
    # a header that declares far more data than the member holds: no allocation, a clear error
    path = tmp_path / "liar.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 10,)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a0.npy", header.getvalue() + b"\0" * 64)
        z.writestr("__tinygrad_dnn_meta__.npy", _npy(np.frombuffer(b'{"__tensor__": "a0"}', np.uint8)))
    with pytest.raises(ValueError, match="declares"):
        tg.load(path)
    ok = tmp_path / "ok.npz"
    tg.save({"w": tg.ones(1000)}, ok)
    with pytest.raises(ValueError, match="limit"):
        tg.load(ok, max_member_bytes=100)


def test_load_keeps_one_copy_per_array(tmp_path):
    path = tmp_path / "big.npz"
    n = 4 << 20  # 16 MB of float32
    tg.save({"w": tg.ones(n)}, path)
    tracemalloc.start()
    try:
        out = tg.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out["w"].shape == (n,) and float(out["w"].sum().item()) == n
    assert peak < 1.5 * 4 * n


def test_file_objects_like_torch():
    buf = io.BytesIO()
    tg.save({"w": tg.arange(5.0), "n": 3}, buf)
    buf.seek(0)
    out = tg.load(buf)
    assert out["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and out["n"] == 3


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_saving_to_a_symlink_writes_its_target(tmp_path):
    real = tmp_path / "real.npz"
    link = tmp_path / "link.npz"
    tg.save({"w": tg.ones(2)}, real)
    link.symlink_to(real)
    tg.save({"w": tg.zeros(2)}, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert tg.load(real)["w"].tolist() == [0.0, 0.0]


def test_saved_files_get_the_permissions_open_would_give(tmp_path):
    old = os.umask(0o022)
    try:
        tg.save({"w": tg.ones(2)}, tmp_path / "a.npz")
        with open(tmp_path / "b.json", "w") as f:
            f.write("{}")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "b.json").st_mode) == 0o644
    os.chmod(tmp_path / "a.npz", 0o600)  # an existing file keeps its mode
    tg.save({"w": tg.ones(2)}, tmp_path / "a.npz")
    assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o600


def test_corrupted_member_is_still_detected(tmp_path):
    path = tmp_path / "c.npz"
    tg.save({"w": tg.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a valid"):
        tg.load(path)


# ------------------------------------------------------------------------------------ item 9
def _adam_with_state():
    w = tg.randn(3, 4, requires_grad=True)
    b = tg.randn(4, requires_grad=True)
    opt = optim.Adam([w, b], lr=1e-2)
    ((w.sum(1) ** 2).sum() + b.sum()).backward()
    opt.step()
    return w, b, opt


@pytest.mark.parametrize("breakage,needle", [
    (lambda sd: sd["state"][0].update(exp_avg=tg.zeros(4, 3)), "shape"),
    (lambda sd: sd["param_groups"][0].update(lr="0.01"), "lr="),
    (lambda sd: sd["param_groups"][0].pop("betas"), "betas"),
    (lambda sd: sd["param_groups"][0].update(betas=(0.9,)), "betas"),
    (lambda sd: sd["state"][1].update(exp_avg_sq=tg.zeros(4, dtype=tg.int64)), "dtype"),
])
def test_optimizer_load_state_dict_validates_up_front(breakage, needle):
    w, b, opt = _adam_with_state()
    sd = opt.state_dict()
    breakage(sd)
    w2 = w.detach().clone().requires_grad_()
    b2 = b.detach().clone().requires_grad_()
    opt2 = optim.Adam([w2, b2], lr=0.5)
    with pytest.raises(ValueError, match=needle):
        opt2.load_state_dict(sd)
    assert opt2.state == {} and opt2.param_groups[0]["lr"] == 0.5  # nothing changed
    opt2.load_state_dict(opt.state_dict())  # a good one loads and steps
    ((w2.sum(1) ** 2).sum() + b2.sum()).backward()
    opt2.step()
