"""Conv1d/Conv2d: gradient checks (first and second order), parity with PyTorch over stride, padding,
dilation and groups, default init, errors, and a small conv-BN-ReLU-pool-linear CNN training end to end."""
import math

import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_dnn.nn import functional as F

# (nd, N, C, O, spatial, kernel, stride, padding, dilation, groups, bias)
CONFIGS = [
    (2, 2, 3, 4, (7, 6), (3, 3), 1, 0, 1, 1, True),
    (2, 2, 4, 6, (9, 8), (3, 2), (2, 1), (1, 2), (1, 2), 2, True),
    (2, 2, 4, 4, (9, 8), (4, 4), 1, "same", 2, 4, False),      # depthwise, even kernel, asymmetric 'same'
    (2, 1, 2, 3, (5, 5), (5, 5), 3, 2, 1, 1, True),             # stride leaves input rows unused
    (2, 2, 3, 5, (6, 7), (1, 1), 2, "valid", 1, 1, True),       # 1x1 strided
    (1, 3, 4, 6, (11,), (3,), 2, 1, 2, 2, True),
    (1, 3, 4, 6, (11,), (4,), 1, "same", 1, 1, False),
]
IDS = [f"conv{c[0]}d-k{c[5]}-s{c[6]}-p{c[7]}-d{c[8]}-g{c[9]}" for c in CONFIGS]


def _conv(nd):
    return F.conv1d if nd == 1 else F.conv2d


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_conv_matches_torch_forward_and_grads(cfg, device):
    torch = pytest.importorskip("torch")
    nd, n, c, o, sp, k, s, p, d, g, bias = cfg
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((n, c) + sp), rng.standard_normal((o, c // g) + k), rng.standard_normal(o)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tf = torch.nn.functional.conv1d if nd == 1 else torch.nn.functional.conv2d
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about even kernels with 'same'
        ty = tf(tx, tw, tb if bias else None, s, p, d, g)
    gy = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(gy))
    X, W, B = (tg.tensor(a, device=device, requires_grad=True) for a in (x, w, b))
    y = _conv(nd)(X, W, B if bias else None, s, p, d, g)
    assert tuple(y.shape) == tuple(ty.shape)
    y.backward(tg.tensor(gy, device=device))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(B.grad.numpy(), tb.grad.numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert B.grad is None


@pytest.mark.parametrize("cfg", [CONFIGS[1], CONFIGS[2], CONFIGS[5]], ids=[IDS[1], IDS[2], IDS[5]])
def test_conv_gradcheck_and_gradgradcheck(cfg, device):
    nd, n, c, o, sp, k, s, p, d, g, bias = cfg
    x = tg.randn(n, c, *sp, dtype=tg.float64, device=device, requires_grad=True)
    w = tg.randn(o, c // g, *k, dtype=tg.float64, device=device, requires_grad=True)
    b = tg.randn(o, dtype=tg.float64, device=device, requires_grad=True)
    conv = _conv(nd)

    def fn(x, w, b=None):
        return conv(x, w, b, s, p, d, g)

    assert gradcheck(fn, (x, w, b) if bias else (x, w), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, (x, w, b) if bias else (x, w), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_conv_full_jacobian_gradcheck(device):
    """Small enough for the full Jacobian (every input element against every output element)."""
    x = tg.randn(1, 2, 4, 3, dtype=tg.float64, device=device, requires_grad=True)
    w = tg.randn(2, 1, 2, 2, dtype=tg.float64, device=device, requires_grad=True)
    b = tg.randn(2, dtype=tg.float64, device=device, requires_grad=True)
    fn = lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2)  # noqa: E731
    assert gradcheck(fn, (x, w, b), full_jacobian_max=10_000)


def test_conv_double_backward_hvp_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, stride=2, padding=1)
    tgx, tgw = torch.autograd.grad((ty ** 2).sum(), (tx, tw), create_graph=True)
    (tgx.sum() + (tgw ** 2).sum()).backward()
    X, W = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    y = F.conv2d(X, W, stride=2, padding=1)
    gx, gw = tg.grad((y ** 2).sum(), (X, W), create_graph=True)
    (gx.sum() + (gw ** 2).sum()).backward()
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(W.grad.numpy(), tw.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_conv_module_init_shapes_and_state_dict_match_torch(device):
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    m = nn.Conv2d(6, 8, (3, 5), stride=2, padding=1, groups=2, device=device)
    assert tuple(m.weight.shape) == (8, 3, 3, 5) and tuple(m.bias.shape) == (8,)
    bound = 1 / math.sqrt(3 * 3 * 5)
    w = m.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(m.bias.numpy()).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.2)  # U(-b, b) has std b / sqrt(3)
    tm = torch.nn.Conv2d(6, 8, (3, 5), stride=2, padding=1, groups=2)
    assert list(m.state_dict().keys()) == list(tm.state_dict().keys())
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    m.load_state_dict({k: tg.tensor(v.numpy(), device=device) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 6, 9, 10)).astype(np.float32)
    np.testing.assert_allclose(m(tg.tensor(x, device=device)).numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    m1 = nn.Conv1d(3, 4, 3, bias=False, padding="same")
    assert m1.bias is None and list(m1.state_dict()) == ["weight"]
    assert "bias=False" in repr(m1) and "padding='same'" in repr(m1)


def test_conv_same_seed_same_weights_on_every_device(device):
    tg.manual_seed(3)
    a = nn.Conv1d(2, 3, 4).weight.numpy()
    tg.manual_seed(3)
    b = nn.Conv1d(2, 3, 4, device=device).weight.numpy()
    np.testing.assert_array_equal(a, b)


def test_conv_keeps_float32_and_accepts_unbatched(device):
    x = tg.randn(3, 8, 8, device=device)
    m = nn.Conv2d(3, 5, 3, padding="same", device=device)
    y = m(x)
    assert tuple(y.shape) == (5, 8, 8) and y.dtype is tg.float32
    np.testing.assert_allclose(y.numpy(), m(x.unsqueeze(0))[0].numpy(), rtol=1e-6)


def test_conv_errors_name_shapes():
    x = tg.randn(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match=r"3 channels.*\(4, 2, 3, 3\)"):
        F.conv2d(x, tg.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match="too small"):
        F.conv2d(tg.randn(1, 3, 2, 2), tg.randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="strided"):
        F.conv2d(x, tg.randn(4, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="divisible by groups"):
        F.conv2d(tg.randn(1, 4, 5, 5), tg.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match="4-D"):
        F.conv2d(tg.randn(8, 8), tg.randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="dtype"):
        F.conv2d(x.double(), tg.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


class SmallCNN(nn.Module):
    def __init__(self, device=None):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, padding=1, bias=False, device=device)
        self.bn = nn.BatchNorm2d(6, device=device)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 8, 3, device=device)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 2, device=device)

    def forward(self, x):
        h = self.pool(self.bn(self.conv(x)).relu())
        h = self.gap(self.conv2(h).relu())
        return self.fc(h.flatten(1))


def _bars(n, rng):
    """Tiny synthetic images: class 0 has a vertical bar, class 1 a horizontal one, plus noise."""
    x = rng.standard_normal((n, 1, 8, 8)) * 0.3
    y = rng.integers(0, 2, n)
    pos = rng.integers(1, 7, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, :, pos[i]] += 2.0
        else:
            x[i, 0, pos[i], :] += 2.0
    return x.astype(np.float32), y


def test_small_cnn_trains_end_to_end(device):
    rng = np.random.default_rng(0)
    xs, ys = _bars(64, rng)
    x, y = tg.tensor(xs, device=device), tg.tensor(ys, device=device)
    tg.manual_seed(0)
    model = SmallCNN(device=device)
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0], losses
    assert model.bn.num_batches_tracked.item() == 30
    model.eval()
    xt, yt = _bars(64, rng)
    with tg.no_grad():
        acc = (model(tg.tensor(xt, device=device)).argmax(1).numpy() == yt).mean()
    assert acc >= 0.9


def test_conv_backward_twice_with_retain_graph(device):
    """The forward's column matrix is released after the first backward and recomputed for a second one."""
    x = tg.randn(2, 3, 6, 6, device=device, requires_grad=True)
    w = tg.randn(4, 3, 3, 3, device=device, requires_grad=True)
    y = F.conv2d(x, w, padding=1, stride=2).sum()
    y.backward(retain_graph=True)
    gw, gx = w.grad.numpy().copy(), x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * gw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 * gx, rtol=1e-5, atol=1e-6)


def test_conv_and_pool_shape_errors_have_torchs_type():
    # autograd/errors.py: a shape or value error inside an op is a RuntimeError, as torch raises it
    pt = pytest.importorskip("torch")
    calls = [
        lambda lib, F: F.conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 2, 3, 3)),
        lambda lib, F: F.conv2d(lib.ones(1, 3, 2, 2), lib.ones(4, 3, 3, 3)),
        lambda lib, F: F.conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), stride=2, padding="same"),
        lambda lib, F: F.conv2d(lib.ones(8, 8), lib.ones(4, 3, 3, 3)),
        lambda lib, F: F.conv2d(lib.ones(2, 3, 8, 8), lib.ones(4, 3, 3, 3), groups=0),
        lambda lib, F: F.conv_transpose2d(lib.ones(8, 8), lib.ones(3, 4, 3, 3)),
        lambda lib, F: F.max_pool2d(lib.ones(1, 1, 4, 4), 2, padding=2),
        lambda lib, F: F.max_pool2d(lib.ones(5), 2),
        lambda lib, F: F.avg_pool2d(lib.ones(1, 1, 4, 4), 2, divisor_override=0),
        lambda lib, F: F.adaptive_avg_pool2d(lib.ones(5), 2),
    ]
    for i, call in enumerate(calls):
        for lib, Fm in ((pt, pt.nn.functional), (tg, F)):
            with pytest.raises(RuntimeError) as e:
                call(lib, Fm)
            assert not isinstance(e.value, (NotImplementedError,)), (i, lib.__name__)
