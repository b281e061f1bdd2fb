"""Pooling: parity with PyTorch (forward and gradient, ties included), gradient checks (first and
second order), the tie convention of max pooling, modules and errors."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_dnn.nn import functional as F

CASES = [
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (2, 3, 9, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    ("max_pool2d", (2, 3, 9, 8), dict(kernel_size=2, ceil_mode=True)),
    ("max_pool2d", (3, 9, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),  # unbatched
    ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool1d", (2, 3, 9), dict(kernel_size=2)),
    ("avg_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("avg_pool2d", (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 10, 7), dict(kernel_size=3, divisor_override=5)),
    ("avg_pool1d", (2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("adaptive_avg_pool2d", (2, 3, 10, 7), dict(output_size=1)),
    ("adaptive_avg_pool2d", (2, 3, 10, 6), dict(output_size=(5, 3))),
    ("adaptive_avg_pool2d", (2, 3, 10, 7), dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", (2, 3, 10, 7), dict(output_size=(None, 4))),
    ("adaptive_avg_pool1d", (2, 3, 10), dict(output_size=4)),
    ("adaptive_max_pool2d", (2, 3, 10, 8), dict(output_size=(5, 2))),
]
IDS = [f"{n}-{'-'.join(f'{k}{v}' for k, v in kw.items())}" for n, _, kw in CASES]


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("name,shape,kw", CASES, ids=IDS)
def test_pool_matches_torch(name, shape, kw, ties, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x)  # many equal values inside windows
    gy_shape = tuple(getattr(torch.nn.functional, name)(torch.tensor(x), **kw).shape)
    gy = rng.standard_normal(gy_shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(torch.nn.functional, name)(tx, **kw)
    ty.backward(torch.tensor(gy))
    X = tg.tensor(x, device=device, requires_grad=True)
    y = getattr(F, name)(X, **kw)
    y.backward(tg.tensor(gy, device=device))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,shape,kw", [CASES[i] for i in (1, 2, 5, 9, 11, 16, 18)],
                         ids=[IDS[i] for i in (1, 2, 5, 9, 11, 16, 18)])
def test_pool_gradcheck_and_gradgradcheck(name, shape, kw, device):
    # distinct values far apart so no finite-difference step crosses a max tie
    n = int(np.prod(shape))
    x = tg.tensor(np.random.default_rng(1).permutation(n).reshape(shape) * 0.01, dtype=tg.float64, device=device,
                  requires_grad=True)
    fn = lambda x: getattr(F, name)(x, **kw)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_max_pool_tie_gradient_goes_to_the_first_maximum(device):
    x = tg.ones(1, 1, 2, 4, device=device, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    # one element per window receives the whole gradient (the first in row-major order), not a split
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])
    x = tg.tensor([[[1.0, 3.0, 2.0, 3.0, 0.0]]], device=device, requires_grad=True)
    F.max_pool1d(x, 3, stride=1).sum().backward()  # windows [1,3,2] [3,2,3] [2,3,0]: overlapping maxima add
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [0, 2, 0, 1, 0])


def test_pool_modules_and_shapes(device):
    x = tg.randn(2, 3, 9, 9, device=device)
    assert tuple(nn.MaxPool2d(2)(x).shape) == (2, 3, 4, 4)
    assert tuple(nn.MaxPool2d(3, stride=2, padding=1)(x).shape) == (2, 3, 5, 5)
    assert tuple(nn.AvgPool2d(3, stride=1, padding=1)(x).shape) == (2, 3, 9, 9)
    assert tuple(nn.AdaptiveAvgPool2d((2, 3))(x).shape) == (2, 3, 2, 3)
    assert tuple(nn.AdaptiveAvgPool2d(1)(x).shape) == (2, 3, 1, 1)
    assert tuple(nn.AdaptiveMaxPool2d(3)(x).shape) == (2, 3, 3, 3)
    x1 = tg.randn(2, 3, 10, device=device)
    assert tuple(nn.MaxPool1d(2)(x1).shape) == (2, 3, 5)
    assert tuple(nn.AvgPool1d(4, stride=3)(x1).shape) == (2, 3, 3)
    assert tuple(nn.AdaptiveAvgPool1d(3)(x1).shape) == (2, 3, 3)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).numpy()[..., 0, 0], x.numpy().mean(axis=(2, 3)),
                               rtol=1e-5, atol=1e-6)
    assert "kernel_size=2" in repr(nn.MaxPool2d(2)) and list(nn.MaxPool2d(2).state_dict()) == []


def test_pool_errors():
    with pytest.raises(RuntimeError, match="half of the kernel"):
        F.max_pool2d(tg.randn(1, 1, 6, 6), 2, padding=2)
    with pytest.raises(RuntimeError, match="smaller than the window"):
        F.avg_pool2d(tg.randn(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="4-D"):
        F.max_pool2d(tg.randn(6, 6), 2)
    with pytest.raises(RuntimeError, match="must be positive"):
        F.adaptive_max_pool2d(tg.randn(1, 1, 5, 5), 0)
