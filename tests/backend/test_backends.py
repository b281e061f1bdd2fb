import pytest

import tinygrad_dnn as torch
from tinygrad_dnn.backend import Device, get_backend


def test_device_parsing_and_equality():
    assert Device("cuda:1").index == 1 and Device("cuda").index == 0
    assert Device("cpu") == "cpu" and str(Device("strict")) == "strict"
    assert torch.device("cpu") == torch.ones(1).device


def test_index_add_accumulates_repeated_indices(device):
    b = get_backend(device)
    idx = b.asarray([0, 0, 2])
    vals = b.asarray([1.0, 2.0, 3.0])
    out = b.to_host(b.index_add((3,), vals.dtype, (idx,), vals))
    assert out.tolist() == [3.0, 0.0, 3.0]


def test_sliding_windows_shape(device):
    b = get_backend(device)
    x = b.from_host(__import__("numpy").arange(10.0))
    w = b.sliding_windows(x, (3,), (0,))
    assert tuple(w.shape) == (8, 3)


def test_rng_state_round_trip():
    torch.manual_seed(5)
    s = torch.get_rng_state()
    a = torch.rand(3).tolist()
    torch.set_rng_state(s)
    assert torch.rand(3).tolist() == a


@pytest.mark.gpu
def test_cupy_backend_runs_a_graph():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    x = torch.randn(4, 3, device="cuda", requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.device == torch.device("cuda:0")


def test_axpy_matches_the_plain_update_in_and_out_of_chunks(device):
    import numpy as np

    b = get_backend(device)
    rng = np.random.default_rng(0)
    for n in (10, 100_003):  # below and above the NumPy backend's chunk size
        y0, x0 = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
        y = b.from_host(y0.copy())
        out = b.axpy_(y, -0.1, b.from_host(x0))
        assert b.to_host(out).tolist() == (y0 - np.float32(0.1) * x0).tolist()
        assert b.to_host(y).tolist() == b.to_host(out).tolist()  # in place
