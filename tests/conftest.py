"""Shared fixtures: every backend test runs on cpu (NumPy), strict (array-api-strict) and cuda (if present)."""
import os

import pytest

import tinygrad_dnn as torch
from tinygrad_dnn.backend import available_devices

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
    os.environ.setdefault("MPLBACKEND", "Agg")
