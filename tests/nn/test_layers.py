"""Layers and activations: gradient checks (input and every parameter, train and eval, float64,
first and second order) on every backend, and parity with PyTorch."""
import math

import numpy as np
import pytest

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.nn import functional as F

from _nn_helpers import check_module

LAYERS = {
    "linear": (lambda: nn.Linear(4, 3), (2, 4)),
    "linear_nobias": (lambda: nn.Linear(4, 3, bias=False), (2, 4)),
    "linear_3d": (lambda: nn.Linear(3, 2), (2, 2, 3)),
    "bilinear": None,
    "identity": (lambda: nn.Identity(), (2, 3)),
    "flatten": (lambda: nn.Flatten(), (2, 2, 3)),
    "unflatten": (lambda: nn.Unflatten(1, (2, 3)), (2, 6)),
    "maxout": (lambda: nn.Maxout(3, 2, pool_size=3), (2, 3)),
    "prelu": (lambda: nn.PReLU(), (2, 5)),
    "prelu_channels": (lambda: nn.PReLU(3, init=0.1), (2, 3, 2)),
    "residual": (lambda: nn.Residual(nn.Sequential(nn.Linear(3, 3), nn.Tanh())), (2, 3)),
    "relu": (lambda: nn.ReLU(), (2, 5)),
    "relu6": (lambda: nn.ReLU6(), (2, 5)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), (2, 5)),
    "elu": (lambda: nn.ELU(0.7), (2, 5)),
    "selu": (lambda: nn.SELU(), (2, 5)),
    "gelu": (lambda: nn.GELU(), (2, 5)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), (2, 5)),
    "sigmoid": (lambda: nn.Sigmoid(), (2, 5)),
    "tanh": (lambda: nn.Tanh(), (2, 5)),
    "softplus": (lambda: nn.Softplus(beta=2.0, threshold=3.0), (2, 5)),
    "silu": (lambda: nn.SiLU(), (2, 5)),
    "mish": (lambda: nn.Mish(), (2, 5)),
    "softsign": (lambda: nn.Softsign(), (2, 5)),
    "logsigmoid": (lambda: nn.LogSigmoid(), (2, 5)),
    "softmax": (lambda: nn.Softmax(dim=1), (2, 4)),
    "softmax0": (lambda: nn.Softmax(dim=0), (3, 2)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=-1), (2, 4)),
    "softmin": (lambda: nn.Softmin(dim=1), (2, 4)),
    "dropout": (lambda: nn.Dropout(0.3), (3, 4)),
    "dropout2d": (lambda: nn.Dropout2d(0.4), (2, 3, 2, 2)),
    "dropout1d": (lambda: nn.Dropout1d(0.4), (2, 3, 2)),
    "gaussian_noise": (lambda: nn.GaussianNoise(0.5), (2, 3)),
    "mlp": (lambda: nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Dropout(0.25), nn.Linear(4, 2)), (3, 3)),
}
LAYERS = {k: v for k, v in LAYERS.items() if v is not None}
SECOND_ORDER = {"linear", "linear_3d", "maxout", "prelu", "residual", "elu", "gelu", "gelu_tanh", "sigmoid",
                "tanh", "softplus", "silu", "softmax", "log_softmax", "dropout", "mlp", "leaky_relu", "mish"}


def _input(shape, device):
    x = torch.randn(*shape, dtype=torch.float64, device=device)
    # keep away from kinks (relu at 0 etc.) where finite differences are meaningless
    return torch.where(x.abs() < 0.05, x + 0.2, x)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gradcheck_layer(name, mode, device):
    make, shape = LAYERS[name]
    m = make().to(device)
    m.train(mode == "train")
    check_module(m, _input(shape, device), second_order=name in SECOND_ORDER)


def test_gradcheck_bilinear(device):
    from tinygrad_dnn.gradcheck import gradcheck

    m = nn.Bilinear(2, 3, 2).double().to(device)
    x1 = torch.randn(2, 2, dtype=torch.float64, device=device, requires_grad=True)
    x2 = torch.randn(2, 3, dtype=torch.float64, device=device, requires_grad=True)
    w = m.weight.detach().requires_grad_()
    b = m.bias.detach().requires_grad_()
    assert gradcheck(lambda a, c, w_, b_: F.bilinear(a, c, w_, b_), (x1, x2, w, b))


def test_dropout_gradcheck_uses_the_same_mask(device):
    """Dropout in train mode: the gradient is mask/(1-p) and matches finite differences (state replayed)."""
    m = nn.Dropout(0.5).to(device)
    x = torch.randn(4, 5, dtype=torch.float64, device=device, requires_grad=True)
    torch.manual_seed(3)
    y = m(x)
    y.sum().backward()
    keep = (y.detach() != 0).to(torch.float64)
    assert np.allclose(x.grad.numpy(), 2.0 * keep.numpy())
    check_module(m, x)


# ----------------------------------------------------------------------------- layer semantics
def test_linear_default_init_bounds_and_shapes():
    torch.manual_seed(0)
    m = nn.Linear(400, 300)
    assert tuple(m.weight.shape) == (300, 400) and tuple(m.bias.shape) == (300,)
    b = 1 / math.sqrt(400)
    w = m.weight.numpy()
    assert w.max() <= b and w.min() >= -b and w.max() > 0.95 * b and w.min() < -0.95 * b
    assert abs(w.var() - b * b / 3) < 0.03 * b * b / 3  # U(-b, b) variance b^2/3
    assert np.abs(m.bias.numpy()).max() <= b
    y = m(torch.randn(7, 5, 400))
    assert tuple(y.shape) == (7, 5, 300)


def test_linear_errors_name_shapes_and_dtypes():
    m = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=3\): input of shape \(2, 5\)"):
        m(torch.randn(2, 5))
    with pytest.raises(RuntimeError, match="float64 differs from weight dtype .*float32"):
        m(torch.randn(2, 4, dtype=torch.float64))


def test_init_deterministic_across_devices(device):
    torch.manual_seed(11)
    a = nn.Linear(5, 4, device=device)
    torch.manual_seed(11)
    b = nn.Linear(5, 4)
    assert np.array_equal(a.weight.numpy(), b.weight.numpy())
    assert np.array_equal(a.bias.numpy(), b.bias.numpy())


def test_flatten_unflatten_identity_residual():
    x = torch.randn(2, 3, 4, 5)
    assert tuple(nn.Flatten()(x).shape) == (2, 60)
    assert tuple(nn.Flatten(0, 1)(x).shape) == (6, 4, 5)
    assert tuple(nn.Flatten(-2)(x).shape) == (2, 3, 20)
    assert tuple(nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape) == (2, 3, 20)
    with pytest.raises(ValueError, match="multiply to 10"):
        nn.Unflatten(1, (2, 5))(torch.randn(2, 6))
    assert nn.Identity(3, foo=1)(x) is x
    r = nn.Residual(nn.Linear(5, 5))
    assert np.allclose(r(x).numpy(), (x + r.module(x)).numpy())
    with pytest.raises(ValueError, match="same shape"):
        nn.Residual(nn.Linear(5, 2))(x)


def test_maxout_is_max_of_pieces():
    m = nn.Maxout(3, 2, pool_size=2)
    x = torch.randn(4, 3)
    z = m.linear(x).reshape(4, 2, 2)
    assert np.allclose(m(x).numpy(), np.maximum(z.numpy()[..., 0], z.numpy()[..., 1]))
    assert m.num_parameters() == 2 * (3 * 2 + 2)


def test_prelu_learns_slope():
    m = nn.PReLU()
    assert float(m.weight) == 0.25
    x = torch.tensor([[-2.0, 3.0]])
    y = m(x)
    assert y.tolist() == [[-0.5, 3.0]]
    y.sum().backward()
    assert m.weight.grad.tolist() == [-2.0]
    with pytest.raises(ValueError, match="channels"):
        nn.PReLU(4)(torch.randn(2, 3))


def test_softmax_implicit_dim_and_errors():
    x = torch.randn(2, 3)
    assert np.allclose(nn.Softmax()(x).numpy().sum(1), 1.0)  # legacy implicit dim=1 for 2-D
    with pytest.raises(IndexError):
        F.softmax(x, dim=2)
    with pytest.raises(NotImplementedError, match="floating point"):  # torch: NotImplementedError, a RuntimeError
        F.gelu(torch.tensor([1, 2]))


# ----------------------------------------------------------------------------- PyTorch parity
ACTS = [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}), ("selu", {}),
        ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("sigmoid", {}), ("tanh", {}),
        ("softplus", {"beta": 2.0, "threshold": 3.0}), ("silu", {}), ("mish", {}), ("softsign", {}),
        ("logsigmoid", {}), ("softmax", {"dim": 1}), ("log_softmax", {"dim": 1}), ("relu6", {}),
        ("hardtanh", {})]


@pytest.mark.parametrize("name,kw", ACTS, ids=[f"{a}{'_' + '_'.join(map(str, k.values())) if k else ''}" for a, k in ACTS])
def test_activation_matches_torch(name, kw):
    real = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)) * 4
    g = rng.standard_normal((4, 6))
    ours = torch.tensor(x, requires_grad=True)
    theirs = real.tensor(x, requires_grad=True)
    yo = getattr(F, name)(ours, **kw)
    yt = getattr(real.nn.functional, name)(theirs, **kw)
    assert np.allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    yo.backward(torch.tensor(g))
    yt.backward(real.tensor(g))
    assert np.allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_activation_modules_match_torch_modules():
    real = pytest.importorskip("torch")
    pairs = [(nn.ReLU(), real.nn.ReLU()), (nn.LeakyReLU(), real.nn.LeakyReLU()), (nn.ELU(), real.nn.ELU()),
             (nn.GELU(), real.nn.GELU()), (nn.Sigmoid(), real.nn.Sigmoid()), (nn.Tanh(), real.nn.Tanh()),
             (nn.Softplus(), real.nn.Softplus()), (nn.Softmax(dim=1), real.nn.Softmax(dim=1)),
             (nn.LogSoftmax(dim=1), real.nn.LogSoftmax(dim=1))]
    x = np.random.default_rng(1).standard_normal((3, 5)) * 30  # large values: stability
    for o, t in pairs:
        assert np.allclose(o(torch.tensor(x)).numpy(), t(real.tensor(x)).numpy(), rtol=1e-10, atol=1e-12), repr(o)
        assert repr(o) == repr(t)


def test_linear_prelu_forward_and_grads_match_torch():
    real = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 4))
    ours = nn.Sequential(nn.Linear(4, 6), nn.PReLU(), nn.Linear(6, 2)).double()
    theirs = real.nn.Sequential(real.nn.Linear(4, 6), real.nn.PReLU(), real.nn.Linear(6, 2)).double()
    theirs.load_state_dict({k: real.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    xo, xt = torch.tensor(x, requires_grad=True), real.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert np.allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(yo.shape)
    yo.backward(torch.tensor(g))
    yt.backward(real.tensor(g))
    assert np.allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert np.allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12), n
    assert repr(ours) == repr(theirs)
