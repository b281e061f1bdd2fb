"""Initializers: bounds, variances (statistically, fixed seeds), orthogonality, determinism, LSUV."""
import math

import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.nn import init


def _w(*shape, device="cpu", dtype=torch.float64):
    return torch.empty(*shape, dtype=dtype, device=device)


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1.0 and init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swishy")


def test_matches_torch_gain_and_fans():
    real = pytest.importorskip("torch")
    for nl in ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
        assert init.calculate_gain(nl) == pytest.approx(real.nn.init.calculate_gain(nl))
    t = real.empty(6, 4, 3, 2)
    assert init._calculate_fan_in_and_fan_out(_w(6, 4, 3, 2)) == real.nn.init._calculate_fan_in_and_fan_out(t)


def test_uniform_normal_constant(device):
    torch.manual_seed(0)
    w = init.uniform_(_w(200, 300, device=device), -0.5, 1.5)
    a = w.numpy()
    assert a.min() >= -0.5 and a.max() < 1.5
    assert abs(a.mean() - 0.5) < 0.01 and abs(a.var() - 4 / 12) < 0.01
    a = init.normal_(_w(200, 300, device=device), 2.0, 0.5).numpy()
    assert abs(a.mean() - 2.0) < 0.01 and abs(a.std() - 0.5) < 0.01
    assert np.all(init.constant_(_w(3, 3, device=device), 1.5).numpy() == 1.5)
    assert np.all(init.zeros_(_w(3, device=device)).numpy() == 0.0)
    assert np.all(init.ones_(_w(3, device=device)).numpy() == 1.0)
    assert np.array_equal(init.eye_(_w(2, 3, device=device)).numpy(), np.eye(2, 3))


@pytest.mark.parametrize("fn,kw,var", [
    ("xavier_uniform_", {}, 2 / (300 + 200)),
    ("xavier_normal_", {"gain": 2.0}, 4 * 2 / (300 + 200)),
    ("kaiming_uniform_", {"nonlinearity": "relu"}, 2 / 300),
    ("kaiming_normal_", {"nonlinearity": "relu"}, 2 / 300),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, 2 / 200),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, 1 / (3 * 300)),
    ("kaiming_normal_", {"a": 0.2, "nonlinearity": "leaky_relu"}, 2 / (1.04 * 300)),
    ("lecun_normal_", {}, 1 / 300),
    ("lecun_uniform_", {}, 1 / 300),
])
def test_variance_scaling_statistics(fn, kw, var, device):
    torch.manual_seed(1)
    a = getattr(init, fn)(_w(200, 300, device=device), **kw).numpy()
    assert abs(a.mean()) < 4 * math.sqrt(var / a.size)
    assert abs(a.var() / var - 1) < 0.02  # 60000 samples: relative sd of the variance ~0.6-0.9%
    if "uniform" in fn:
        bound = math.sqrt(3 * var)
        assert a.max() <= bound and a.min() >= -bound and a.max() > 0.99 * bound


def test_conv_fans_use_receptive_field():
    torch.manual_seed(2)
    a = init.kaiming_normal_(_w(64, 16, 3, 3), nonlinearity="relu").numpy()
    assert abs(a.var() / (2 / (16 * 9)) - 1) < 0.05
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.xavier_uniform_(_w(5))


def test_trunc_normal(device):
    torch.manual_seed(3)
    a = init.trunc_normal_(_w(200, 300, device=device), mean=0.0, std=1.0, a=-2.0, b=2.0).numpy()
    assert a.min() >= -2.0 and a.max() <= 2.0 and a.max() > 1.95
    # variance of N(0,1) truncated to [-2, 2]
    phi = math.exp(-2) / math.sqrt(2 * math.pi)
    Z = math.erf(2 / math.sqrt(2))
    expected = 1 - 2 * 2 * phi / Z
    assert abs(a.var() / expected - 1) < 0.02
    a = init.trunc_normal_(_w(1000, device=device), mean=1.0, std=0.1, a=0.95, b=1.2).numpy()
    assert a.min() >= 0.95 and a.max() <= 1.2


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (8, 2, 3, 3)])
def test_orthogonal(shape, device):
    torch.manual_seed(4)
    w = init.orthogonal_(_w(*shape, device=device), gain=2.0).numpy().reshape(shape[0], -1)
    r, c = w.shape
    g = w @ w.T if r <= c else w.T @ w
    assert np.allclose(g, 4.0 * np.eye(min(r, c)), atol=1e-10)


def test_init_same_on_every_device_and_dtype(device):
    for fn in (init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_, init.trunc_normal_):
        torch.manual_seed(5)
        a = fn(_w(5, 7, device=device)).numpy()
        torch.manual_seed(5)
        b = fn(_w(5, 7)).numpy()
        torch.manual_seed(5)
        c = fn(_w(5, 7, dtype=torch.float32)).numpy()
        assert np.array_equal(a, b) and np.allclose(a, c, atol=1e-6), fn.__name__


def test_init_in_place_keeps_parameter_and_no_graph():
    lin = nn.Linear(3, 4)
    w = lin.weight
    out = init.xavier_normal_(lin.weight)
    assert out is w and lin.weight is w and w.requires_grad and w.grad_fn is None
    with pytest.raises(NotImplementedError, match="floating point"):  # torch: "normal_kernel_cpu" not implemented for 'Long'
        init.normal_(torch.zeros(3, dtype=torch.int64))


def test_lsuv_gives_unit_variance_outputs():
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(20, 50), nn.Tanh(), nn.Linear(50, 50), nn.ReLU(), nn.Linear(50, 10))
    data = torch.randn(256, 20) * 5.0
    init.lsuv_init(model, data, tol=0.02)
    x = data
    with torch.no_grad():
        for m in model:
            x = m(x)
            if isinstance(m, nn.Linear):
                assert abs(float(x.std()) - 1.0) < 0.02
    assert model.training
    with pytest.raises(ValueError, match="no Linear or Conv"):
        init.lsuv_init(nn.Sequential(nn.ReLU()), data)
