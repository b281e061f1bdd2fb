"""The CUDA path (issue 15): what can be checked without a GPU runs everywhere (missing packages are
simulated, the GPU-only behaviour is mimicked on the strict backend); the rest is marked ``gpu``."""
import sys
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest

import tinygrad_dnn as torch
import tinygrad_dnn.nn.functional as F
from tinygrad_dnn.backend import Device, get_backend
from tinygrad_dnn.backend import cupy_backend
from tinygrad_dnn.backend import random as brandom

ROOT = Path(__file__).resolve().parents[2]
HAS_CUDA = torch.cuda.is_available() and "cuda:0" in torch.available_devices()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device / CuPy")


def _fake_cupy(n_gpus=1):
    cp = types.ModuleType("cupy")
    cp.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: n_gpus))
    return cp


# ----------------------------------------------------------------- 1. array-api-compat is required
def test_missing_array_api_compat_is_a_clear_error_not_a_fallback(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    monkeypatch.setitem(sys.modules, "array_api_compat", None)  # `import array_api_compat` raises ImportError
    monkeypatch.setitem(sys.modules, "array_api_compat.cupy", None)
    with pytest.raises(ImportError, match="array-api-compat"):
        cupy_backend.load_namespace()
    with pytest.raises(ImportError, match="array-api-compat"):
        cupy_backend.CupyBackend(0)  # no silent fallback to bare cupy
    ok, why = cupy_backend.cuda_usable()
    assert not ok and "array-api-compat" in why and "cuda12" in why
    with pytest.raises(RuntimeError, match="array-api-compat"):
        get_backend("cuda")
    assert "cuda:0" not in torch.available_devices()


def test_missing_cupy_names_the_extras(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(ImportError, match=r"CuPy.*cuda12.*cuda13"):
        cupy_backend.load_namespace()
    with pytest.raises(RuntimeError, match="CuPy"):
        torch.zeros(2, device="cuda")


def test_namespace_uses_cupys_own_clip_sign_maximum_minimum():
    # numpy stands in for cupy; the compat stand-in's clip/sign would fail if they were used
    def boom(*a, **k):
        raise AssertionError("compat's clip/sign (boolean-mask indexing: a host sync) must not be used")

    compat = types.ModuleType("compat")
    compat.clip, compat.sign, compat.take, compat.exp = boom, boom, np.take, np.exp
    ns = cupy_backend.make_namespace(np, compat)
    x = np.array([-2.0, 0.5, 3.0], dtype=np.float32)
    assert ns.clip(x, min=-1.0, max=1.0).tolist() == [-1.0, 0.5, 1.0]
    assert ns.clip(x, min=np.float64(0.0)).dtype == np.float32  # the Array API keeps x's dtype
    assert ns.clip(x, max=0.0).tolist() == [-2.0, 0.0, 0.0]
    assert ns.sign(x).tolist() == [-1.0, 1.0, 1.0]
    assert ns.maximum is np.maximum and ns.minimum is np.minimum and ns.exp is np.exp


# ----------------------------------------------------------------- 2. extras per CUDA major
def test_pyproject_has_one_cuda_extra_per_major():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]

    def names(reqs):
        return {r.split("[")[0].split(">")[0].split("=")[0].strip() for r in reqs}

    assert names(extras["cuda12"]) == {"cupy-cuda12x", "array-api-compat"}
    assert names(extras["cuda13"]) == {"cupy-cuda13x", "array-api-compat"}
    assert all("[ctk]" in r for r in extras["cuda12"] + extras["cuda13"] if r.startswith("cupy"))
    assert extras["cuda"] == ["tinygrad-dnn[cuda12]"]  # an alias, never a second CuPy
    readme = (ROOT / "README.md").read_text()
    assert "nvidia-smi" in readme and "[cuda12]" in readme and "[cuda13]" in readme


# ----------------------------------------------------------------- 3. cuda:N, N >= 1, is refused
@pytest.mark.parametrize("name", ["cuda:1", "cuda:3"])
def test_cuda_index_above_zero_is_refused_before_anything_runs(name):
    assert Device(name).index == int(name[-1])  # parsing is torch's
    with pytest.raises(RuntimeError, match="CUDA_VISIBLE_DEVICES"):
        get_backend(name)
    with pytest.raises(RuntimeError, match=name):
        torch.ones(2, device=name)
    with pytest.raises(RuntimeError, match="cuda:0"):
        torch.ones(2).to(Device("cuda", 1))


# ----------------------------------------------------------------- 4. device RNG
def test_device_generators_are_seeded_from_manual_seed_per_device(monkeypatch):
    made = []

    class RS:
        def __init__(self, seed):
            made.append(seed)

    be = types.SimpleNamespace(index=0, cupy=types.SimpleNamespace(random=types.SimpleNamespace(RandomState=RS)))
    torch.manual_seed(7)
    g = brandom.device_generator(be)
    assert made == [7] and brandom.device_generator(be) is g  # made once, then reused
    torch.manual_seed(8)
    assert brandom.device_generator(be) is not g and made == [7, 8]  # manual_seed restarts it
    torch.cuda.manual_seed_all(11)
    brandom.device_generator(be)
    torch.cuda.manual_seed(12)  # GPU 0 only
    brandom.device_generator(be)
    assert made == [7, 8, 11, 12] and brandom.device_seed(1) == 11
    torch.manual_seed(0)
    assert brandom.device_seed(0) == 0 and brandom.device_seed(1) == 0


def test_cpu_dropout_mask_is_the_host_float64_stream(device):
    # the CPU/strict stream must not change: float64 U[0,1) draws from the host generator
    torch.manual_seed(3)
    x = torch.ones(64, 32, device=device)
    y = F.dropout(x, 0.25)
    ref = np.random.default_rng(3).uniform(0.0, 1.0, size=(64, 32))
    expect = np.where(ref < 0.75, np.float32(1 / 0.75), np.float32(0.0)).astype(np.float32)
    assert y.dtype == torch.float32
    np.testing.assert_array_equal(y.numpy(), expect)


@pytest.mark.gpu
@needs_cuda
def test_cuda_random_numbers_are_made_on_the_device_and_seeded():
    torch.manual_seed(1)
    a = torch.rand(1000, device="cuda")
    torch.manual_seed(1)
    b = torch.rand(1000, device="cuda")
    assert a.tolist() == b.tolist()
    assert a.dtype == torch.float32 and 0.4 < float(a.mean()) < 0.6
    torch.manual_seed(1)
    c = torch.rand(1000)  # the CPU stream differs (as in torch)
    assert a.tolist() != c.tolist()
    be = get_backend("cuda")
    m = be.keep_mask((256, 512), 0.5, be.xp.float32)
    assert m.dtype == be.xp.float32  # masks in the compute dtype, no float64 draw
    torch.manual_seed(2)
    x = torch.randn(512, 512, device="cuda")
    assert abs(float(x.std()) - 1.0) < 0.02
    torch.cuda.manual_seed(5)
    d = torch.rand(10, device="cuda")
    torch.cuda.manual_seed(5)
    assert torch.rand(10, device="cuda").tolist() == d.tolist()


# ----------------------------------------------------------------- 5/6. no host syncs, deferred checks
@pytest.fixture
def deferred_strict(monkeypatch):
    """The strict backend with the GPU's deferred checks turned on, counting host reads."""
    pytest.importorskip("array_api_strict")
    be = get_backend("strict")
    monkeypatch.setattr(be, "deferred_checks", True, raising=False)
    reads = {"n": 0}
    real = be.to_host

    def counting(arr):
        reads["n"] += 1
        return real(arr)

    monkeypatch.setattr(be, "to_host", counting)
    real_item = torch.Tensor.item

    def counting_item(self):
        reads["n"] += self.backend is be
        return real_item(self)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    be._pending = {}
    yield be, reads
    be._pending = {}


def test_cross_entropy_target_check_is_deferred_to_the_next_sync(deferred_strict):
    be, reads = deferred_strict
    logits = torch.randn(4, 3, device="strict", requires_grad=True)
    good = torch.tensor([0, 1, 2, 1], device="strict")
    loss = F.cross_entropy(logits, good)
    loss.backward()
    assert reads["n"] == 0  # no host read in the forward/backward of the loss
    bad = torch.tensor([0, 7, 2, 1], device="strict")
    loss = F.cross_entropy(logits, bad)  # does not raise here (no sync)
    assert reads["n"] == 0
    with pytest.raises(IndexError, match=r"cross_entropy: target 7 is out of bounds for 3 classes"):
        loss.item()
    assert not be._pending
    F.nll_loss(logits.log_softmax(1), torch.tensor([0, -3, 2, 1], device="strict"))
    with pytest.raises(IndexError, match=r"nll_loss: target -3"):
        torch.ones(1, device="strict").item()


def test_bce_and_one_hot_checks_are_deferred(deferred_strict):
    be, reads = deferred_strict
    F.binary_cross_entropy(torch.tensor([0.5, 1.5], device="strict"), torch.tensor([0.0, 1.0], device="strict"))
    F.one_hot(torch.tensor([0, 5], device="strict"), 3)
    assert reads["n"] == 0
    with pytest.raises((ValueError, IndexError)) as ei:
        torch.ones(1, device="strict").numpy()
    assert "binary_cross_entropy" in str(ei.value) or "one_hot" in str(ei.value)


def test_index_check_names_the_op_and_the_index(deferred_strict):
    be, reads = deferred_strict
    idx = be.asarray([1, 9, -2])
    be.check_index(idx, 4, "take (integer-array indexing)")
    be.check_index(be.asarray([0, 1]), 4, "take (integer-array indexing)")  # merged, first failure kept
    assert reads["n"] == 0 and len(be._pending) == 1
    with pytest.raises(IndexError, match=r"take \(integer-array indexing\): index 9 is out of bounds for a dimension of size 4"):
        be.raise_deferred()
    be.check_index(be.asarray([-5]), 4, "index_add")
    with pytest.raises(IndexError, match="index_add: index -5"):
        be.raise_deferred()
    be.check_index(be.asarray([-1, 3]), 4, "ok")
    be.raise_deferred()  # in range: nothing raised


def test_clip_grad_norm_stays_on_the_device(deferred_strict):
    be, reads = deferred_strict
    w = torch.randn(5, 5, device="strict", requires_grad=True)
    (w * w).sum().backward()
    n = torch.nn.utils.clip_grad_norm_([w], 0.1)
    assert reads["n"] == 0 and n.device == torch.device("strict")


def test_trainer_reads_losses_back_once_per_interval_and_matches_the_per_step_path(deferred_strict, monkeypatch):
    from tinygrad_dnn.train.loop import Trainer

    be, reads = deferred_strict

    def run(sync_every):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        rng = np.random.default_rng(0)
        data = [(torch.tensor(rng.standard_normal((5, 6)).astype(np.float32)),
                 torch.tensor(rng.integers(0, 3, 5))) for _ in range(12)]
        seen = []
        tr = Trainer(model, opt, device="strict", progress=False, verbose=False, sync_every=sync_every)
        tr._cb_orig = tr._cb

        def cb(hook, *args):
            if hook == "on_batch_end":
                seen.append((args[0], args[1]["loss"], tr.global_step))  # called right after each step
            return tr._cb_orig(hook, *args)

        tr._cb = cb
        reads["n"] = 0
        out = tr.train_epoch(data)
        out.update(tr.evaluate(data, prefix="val_"))
        return out, seen, reads["n"]  # (the float() of the logged losses below is after the count)

    monkeypatch.setattr(be, "deferred_checks", False)
    ref, seen_ref, reads_ref = run(1)
    monkeypatch.setattr(be, "deferred_checks", True)
    got, seen_got, reads_got = run(5)
    assert got == ref  # same epoch results
    # on_batch_end after every step, in order; the loss is a device Tensor there (read only if asked)
    assert [(b, st) for b, _, st in seen_got] == [(b, st) for b, _, st in seen_ref]
    assert [float(v) for _, v, _ in seen_got] == [v for _, v, _ in seen_ref]
    assert "val_loss" in got and "val_accuracy" in got
    # 12 steps + 12 evaluation batches: 3 + 1 reads of (losses, accuracies) vs 2 per batch
    assert reads_got <= 4 * 3 and reads_ref >= 48


@pytest.mark.gpu
@needs_cuda
def test_cuda_out_of_range_indices_raise_at_the_next_sync():
    x = torch.arange(4.0, device="cuda", requires_grad=True)
    y = x[torch.tensor([1, 4], device="cuda")]  # CuPy would wrap 4 -> 0 silently
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        y.sum().item()
    m = torch.zeros(3, 4, device="cuda")
    m[torch.tensor([0, 5], device="cuda"), torch.tensor([1, 2], device="cuda")]
    with pytest.raises(IndexError, match="index 5"):
        torch.cuda.synchronize()
    logits = torch.randn(2, 3, device="cuda")
    loss = F.cross_entropy(logits, torch.tensor([0, 3], device="cuda"))
    with pytest.raises(IndexError, match="cross_entropy: target 3"):
        loss.item()


@pytest.mark.gpu
@needs_cuda
def test_cuda_results_land_on_gpu_0():
    import cupy

    x = torch.randn(8, 8, device="cuda", requires_grad=True)
    y = (x @ x).relu().sum(0).softmax(0)
    y.sum().backward()
    for t in (x, y, x.grad):
        assert t.device == torch.device("cuda:0") and t._data.device.id == 0
    assert isinstance(y._data, cupy.ndarray)


# ----------------------------------------------------------------- 7. fused Adam
@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("cls,kw", [(torch.optim.Adam, {}), (torch.optim.AdamW, {}),
                                    (torch.optim.Adam, {"amsgrad": True, "weight_decay": 0.1})])
def test_fused_adam_on_cuda_matches_the_cpu_update(cls, kw, monkeypatch):
    be = get_backend("cuda")
    calls = {"n": 0}
    real = be.adam_update_

    def counting(*a):
        calls["n"] += 1
        return real(*a)

    monkeypatch.setattr(be, "adam_update_", counting)
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((17, 33)).astype(np.float32)
    grads = [rng.standard_normal((17, 33)).astype(np.float32) for _ in range(5)]
    out = {}
    for dev in ("cpu", "cuda"):
        w = torch.tensor(w0, device=dev, requires_grad=True)
        opt = cls([w], lr=1e-2, **kw)
        for g in grads:
            w.grad = torch.tensor(g, device=dev)
            opt.step()
        out[dev] = w.detach().cpu().numpy()
    assert calls["n"] == 5
    np.testing.assert_allclose(out["cuda"], out["cpu"], rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
@needs_cuda
def test_benchmark_gpu_peak_memory_reads_cupys_pool():
    sys.path.insert(0, str(ROOT))
    import cupy
    from benchmarks.harness import gpu_peak_memory

    keep = []

    def alloc():
        keep.clear()
        keep.append(cupy.ones(1 << 20, dtype=cupy.float32))  # 4 MiB
        del keep[:]

    peak = gpu_peak_memory(alloc, warmup=1)
    assert 4 * 2**20 <= peak < 16 * 2**20
