"""F.conv_transpose1d/2d and nn.ConvTranspose1d/2d against PyTorch: values and the gradients of input, weight
and bias over stride, padding, output_padding, groups and dilation (float64); gradcheck / gradgradcheck; a
torch state_dict loads; output_size; default init; errors as torch."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_dnn.nn import functional as F

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-11)

# (nd, N, Cin, Cout, spatial, kernel, stride, padding, output_padding, groups, dilation, bias)
CONFIGS = [
    (2, 2, 3, 4, (4, 5), (3, 3), 1, 0, 0, 1, 1, True),
    (2, 2, 4, 6, (4, 3), (3, 2), 2, 1, 1, 2, 1, True),
    (2, 1, 4, 4, (3, 4), (2, 3), (2, 3), (0, 1), (1, 2), 4, (1, 1), False),   # depthwise
    (2, 2, 2, 3, (3, 3), (3, 3), 1, (2, 1), (1, 0), 1, (2, 2), True),         # output_padding < dilation
    (2, 1, 2, 2, (2, 2), (1, 1), 3, 0, 2, 1, 1, True),                        # 1x1 strided: gaps of bias only
    (1, 3, 4, 6, (5,), (3,), 2, 1, 1, 2, 2, True),
    (1, 2, 3, 2, (6,), (4,), 1, 2, 0, 1, 1, False),
]
IDS = [f"ct{c[0]}d-k{c[5]}-s{c[6]}-p{c[7]}-op{c[8]}-g{c[9]}-d{c[10]}" for c in CONFIGS]


def _f(nd, lib=F):
    return lib.conv_transpose1d if nd == 1 else lib.conv_transpose2d


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_conv_transpose_matches_torch_forward_and_grads(cfg, device):
    nd, n, ci, co, sp, k, s, p, op, g, d, bias = cfg
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((n, ci) + sp), rng.standard_normal((ci, co // g) + k), rng.standard_normal(co)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = _f(nd, torch.nn.functional)(tx, tw, tb if bias else None, s, p, op, g, d)
    X, W, B = (tg.tensor(a, device=device, requires_grad=True) for a in (x, w, b))
    y = _f(nd)(X, W, B if bias else None, s, p, op, g, d)
    assert tuple(y.shape) == tuple(ty.shape) and y.dtype is tg.float64
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL)
    gy = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(gy))
    y.backward(tg.tensor(gy, device=device))
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(W.grad.numpy(), tw.grad.numpy(), **TOL)
    if bias:
        np.testing.assert_allclose(B.grad.numpy(), tb.grad.numpy(), **TOL)
    else:
        assert B.grad is None


@pytest.mark.parametrize("cfg", [CONFIGS[1], CONFIGS[3], CONFIGS[5]], ids=[IDS[1], IDS[3], IDS[5]])
def test_conv_transpose_gradcheck_gradgradcheck(cfg, device):
    nd, n, ci, co, sp, k, s, p, op, g, d, bias = cfg
    x = tg.randn(1, ci, *sp, dtype=tg.float64, device=device, requires_grad=True)
    w = tg.randn(ci, co // g, *k, dtype=tg.float64, device=device, requires_grad=True)
    b = tg.randn(co, dtype=tg.float64, device=device, requires_grad=True)

    def fn(x, w, b):
        return _f(nd)(x, w, b, s, p, op, g, d)

    assert gradcheck(fn, (x, w, b), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, (x, w, b), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_conv_transpose_is_the_input_gradient_of_conv(device):
    x = tg.randn(2, 3, 7, 6, dtype=tg.float64, device=device, requires_grad=True)
    w = tg.randn(4, 3, 3, 3, dtype=tg.float64, device=device)
    y = F.conv2d(x, w, stride=2, padding=1)
    g = tg.randn(*y.shape, dtype=tg.float64, device=device)
    (gx,) = tg.autograd.grad(y, x, g)
    ct = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(0, 1))
    np.testing.assert_allclose(ct.numpy(), gx.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nd", [1, 2])
def test_module_loads_torch_state_dict_and_matches(nd, device):
    cls = "ConvTranspose1d" if nd == 1 else "ConvTranspose2d"
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls)(4, 6, 3, **kw).double()
    m = getattr(nn, cls)(4, 6, 3, **kw).to(device).double()
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    m.load_state_dict({k: tg.tensor(v.numpy(), device=device) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 4) + (5,) * nd)
    tx, X = torch.tensor(x, requires_grad=True), tg.tensor(x, device=device, requires_grad=True)
    ty, y = tm(tx), m(X)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL)
    ty.sum().backward()
    y.sum().backward()
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), **TOL)
    np.testing.assert_allclose(m.bias.grad.numpy(), tm.bias.grad.numpy(), **TOL)
    # unbatched
    np.testing.assert_allclose(m(tg.tensor(x[0], device=device)).numpy(), tm(torch.tensor(x[0])).detach().numpy(),
                               **TOL)


def test_output_size_as_torch(device):
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1).double()
    m = nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1).to(device).double()
    m.load_state_dict({k: tg.tensor(v.numpy(), device=device) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 4))
    for size in [(10, 10), (11, 12), [1, 3, 12, 11]]:
        ty = tm(torch.tensor(x), output_size=size)
        y = m(tg.tensor(x, device=device), output_size=size)
        assert tuple(y.shape) == tuple(ty.shape)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL)
    with pytest.raises(ValueError):
        tm(torch.tensor(x), output_size=(13, 10))
    with pytest.raises(ValueError, match="output size"):
        m(tg.tensor(x, device=device), output_size=(13, 10))


def test_default_init_as_torch():
    m = nn.ConvTranspose2d(4, 6, (3, 2), groups=2)
    assert tuple(m.weight.shape) == (4, 3, 3, 2) and tuple(m.bias.shape) == (6,)
    bound = 1 / np.sqrt(3 * 3 * 2)  # fan_in from the weight's dim 1: out_channels / groups * prod(k)
    w, b = m.weight.numpy(), m.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    assert nn.ConvTranspose1d(2, 2, 3, bias=False).bias is None


def test_errors_as_torch():
    x, w = np.zeros((1, 3, 4, 4)), np.zeros((4, 2, 3, 3))
    tF = torch.nn.functional
    cases = [
        (dict(), RuntimeError),                                          # 3 channels, weight expects 4
        (dict(stride=2, output_padding=2), RuntimeError),                # output_padding >= stride and dilation
    ]
    for kw, exc in cases:
        with pytest.raises(exc):
            tF.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw)
        with pytest.raises(exc):
            F.conv_transpose2d(tg.tensor(x), tg.tensor(w), **kw)
    with pytest.raises(RuntimeError):
        tF.conv_transpose2d(torch.zeros(1, 4, 1, 1), torch.zeros(4, 2, 1, 1), padding=1)   # output size < 1
    with pytest.raises(RuntimeError, match="too small"):
        F.conv_transpose2d(tg.zeros(1, 4, 1, 1), tg.zeros(4, 2, 1, 1), padding=1)
    for mod in (torch.nn, nn):
        with pytest.raises(ValueError):
            mod.ConvTranspose2d(3, 4, 3, groups=2)
        with pytest.raises(ValueError):
            mod.ConvTranspose2d(2, 4, 3, padding_mode="reflect")
