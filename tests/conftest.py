"""Shared fixtures: every backend test runs on cpu (NumPy), strict (array-api-strict) and cuda (if present).

Thread counts: the suite runs with ``-n 2`` (two worker processes on CI's two cores), so each process,
and every subprocess it starts (the notebooks' kernels, the CLI tests), gets one BLAS/OpenMP thread
unless the caller chose a count. That is set here, before NumPy loads its BLAS, so the README's test
command alone behaves like ``.ci/run``. No test depends on the count: results that go through a BLAS
kernel are compared with tolerances (issue 10), because their last bits vary with the kernel
(OpenBLAS SkylakeX/Haswell/Zen...) and the thread count.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

import tinygrad_dnn as torch  # noqa: E402
from tinygrad_dnn.backend import available_devices  # noqa: E402

_AVAILABLE = available_devices()
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("strict", id="strict",
                 marks=pytest.mark.skipif("strict" not in _AVAILABLE, reason="array-api-strict not installed")),
    pytest.param("cuda", id="cuda",
                 marks=[pytest.mark.gpu, pytest.mark.skipif(not any(d.startswith("cuda") for d in _AVAILABLE),
                                                            reason="no CUDA device / CuPy")]),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """The device name to run on: 'cpu', 'strict' or 'cuda'."""
    return request.param


@pytest.fixture(autouse=True)
def _seed_and_defaults():
    torch.manual_seed(0)
    prev = torch.get_default_dtype()
    yield
    torch.set_default_dtype(prev)
    torch.set_default_device(None)


def pytest_configure(config):
    # NumPy may have been imported (and its BLAS pool sized) by a plugin before this file: cap it too.
    n = os.environ.get("OPENBLAS_NUM_THREADS")
    if n and n.isdigit():
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # installed with scikit-learn (the test extra); without it the env vars still apply
            return
        threadpool_limits(limits=int(n), user_api="blas")
