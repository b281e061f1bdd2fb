"""``tinygrad-dnn doctor`` (issue 15): runs on cpu + strict here (and cuda where present), exit status = verdict."""
import io
import subprocess
import sys
import time

import pytest

import tinygrad_dnn as torch


def run(*args):
    return subprocess.run([sys.executable, "-m", "tinygrad_dnn", *args], capture_output=True, text=True, timeout=300)


def test_doctor_checks_every_device_and_passes():
    t0 = time.perf_counter()
    r = run("doctor", "--no-bench")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "== device cpu ==" in out and "== device strict ==" in out
    for fam in ("elementwise", "reductions", "matmul/linear", "conv", "pooling", "normalization", "indexing",
                "losses", "shape"):
        assert f"ops: {fam}" in out
    assert "training step" in out and "random numbers" in out
    assert out.strip().splitlines()[-1].startswith("VERDICT: OK")
    assert "[FAIL]" not in out
    assert time.perf_counter() - t0 < 120  # < 1 minute on an idle machine; loose for a loaded CI box


def test_doctor_bench_row_names_pytorch_when_installed():
    r = run("doctor", "--device", "cpu")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "quick benchmark" in r.stdout and "MLP 784-512-512-10" in r.stdout
    try:
        import torch as _t  # noqa: F401

        assert "PyTorch" in r.stdout and "x)" in r.stdout
    except ImportError:
        assert "PyTorch not installed" in r.stdout


def test_doctor_asked_for_a_missing_gpu_says_why_and_fails():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    r = run("doctor", "--device", "cuda", "--no-bench")
    assert r.returncode == 1
    assert "VERDICT: PROBLEM" in r.stdout and "device 'cuda' requested but not available" in r.stdout
    assert "CuPy" in r.stdout or "array-api-compat" in r.stdout


def test_doctor_catches_a_device_that_computes_a_wrong_value(monkeypatch):
    pytest.importorskip("array_api_strict")
    from tinygrad_dnn import doctor
    from tinygrad_dnn.backend import get_backend

    be = get_backend("strict")
    real = be.erf
    monkeypatch.setattr(be, "erf", lambda x: real(x) * 1.01)  # a broken GELU kernel on 'strict' only
    buf = io.StringIO()
    rc = doctor.run(devices=["strict"], bench=False, out=buf)
    text = buf.getvalue()
    assert rc == 1 and "[FAIL] ops: elementwise" in text and "VERDICT: PROBLEM" in text
    assert "[ok  ] ops: conv" in text  # the other families still pass


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device / CuPy")
def test_doctor_on_the_gpu_passes_with_no_host_sync_per_step():
    from tinygrad_dnn import doctor
    import tinygrad_dnn.nn.functional as F

    assert doctor.count_host_syncs(torch, F, "cuda") == 0
    r = run("doctor", "--device", "cuda")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "host syncs per training step" in r.stdout and "GPU:" in r.stdout
