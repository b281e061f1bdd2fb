"""Gradient clipping (vs torch.nn.utils), Lookahead, SAM, EMA / AveragedModel."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import optim

G = [np.array([[3.0, -4.0], [0.5, 0.0]]), np.array([12.0, -1.0])]


def _with_grads(device, grads=G):
    ps = []
    for g in grads:
        p = tg.zeros(*g.shape, dtype=tg.float64, device=device, requires_grad=True)
        p.grad = tg.tensor(g, dtype=tg.float64, device=device)
        ps.append(p)
    return ps


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [1.0, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, device):
    torch = pytest.importorskip("torch")
    tps = []
    for g in G:
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(g)
        tps.append(p)
    tn = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    ps = _with_grads(device)
    gref = ps[0].grad
    n = optim.clip_grad_norm_(ps, max_norm, norm_type)
    assert isinstance(n, tg.Tensor) and n.shape == () and n.dtype == tg.float64
    assert float(n) == pytest.approx(float(tn), rel=1e-12)
    assert ps[0].grad is gref  # in place
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_clip_grad_norm_nonfinite(device):
    ps = _with_grads(device, [np.array([1.0, np.inf])])
    with pytest.raises(RuntimeError, match="non-finite"):
        optim.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert np.isinf(ps[0].grad.numpy()[1])  # left untouched
    n = optim.clip_grad_norm_(ps, 1.0)
    assert np.isinf(float(n))
    assert optim.clip_grad_norm_([tg.zeros(2, requires_grad=True)], 1.0).item() == 0.0  # no grads


def test_clip_grad_value(device):
    ps = _with_grads(device)
    v0 = ps[1].grad._version
    optim.clip_grad_value_(ps, 0.5)
    np.testing.assert_array_equal(ps[0].grad.numpy(), [[0.5, -0.5], [0.5, 0.0]])
    np.testing.assert_array_equal(ps[1].grad.numpy(), [0.5, -0.5])
    assert ps[1].grad._version > v0
    single = _with_grads(device, [np.array([2.0, -0.1])])[0]
    optim.clip_grad_value_(single, 1.0)  # a single Tensor works too
    np.testing.assert_array_equal(single.grad.numpy(), [1.0, -0.1])


def _quad(x):
    return x[0] ** 2 + 4 * x[1] ** 2


def test_lookahead_closed_form(device):
    x = tg.tensor([3.0, -2.0], dtype=tg.float64, device=device, requires_grad=True)
    opt = optim.Lookahead(optim.SGD([x], lr=0.1), k=3, alpha=0.5)
    xn = np.array([3.0, -2.0])
    slow = xn.copy()
    for i in range(9):
        opt.zero_grad()
        _quad(x).backward()
        opt.step()
        xn = xn - 0.1 * np.array([2.0, 8.0]) * xn
        if (i + 1) % 3 == 0:
            slow = slow + 0.5 * (xn - slow)
            xn = slow.copy()
        np.testing.assert_allclose(x.numpy(), xn, rtol=1e-13)
    # a scheduler drives the base optimizer's lr through Lookahead
    s = optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    s.step()
    assert opt.base_optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


def test_lookahead_resume(device):
    def build():
        x = tg.tensor([3.0, -2.0], dtype=tg.float64, device=device, requires_grad=True)
        return x, optim.Lookahead(optim.Adam([x], lr=0.1), k=4)

    def run(x, opt, n):
        for _ in range(n):
            opt.zero_grad()
            _quad(x).backward()
            opt.step()

    x, opt = build()
    run(x, opt, 6)
    sd, saved = opt.state_dict(), x.numpy().copy()
    run(x, opt, 7)
    x2, opt2 = build()
    with tg.no_grad():
        x2.copy_(tg.tensor(saved, dtype=tg.float64, device=device))
    opt2.load_state_dict(sd)
    run(x2, opt2, 7)
    assert np.array_equal(x.numpy(), x2.numpy())


@pytest.mark.parametrize("adaptive", [False, True])
def test_sam_matches_manual(adaptive, device):
    x = tg.tensor([3.0, -2.0], dtype=tg.float64, device=device, requires_grad=True)
    opt = optim.SAM([x], optim.SGD, rho=0.1, adaptive=adaptive, lr=0.05, momentum=0.9)
    xn, buf = np.array([3.0, -2.0]), None
    grad = lambda v: np.array([2.0, 8.0]) * v  # noqa: E731

    def closure():
        opt.zero_grad()
        loss = _quad(x)
        loss.backward()
        return loss

    for _ in range(5):
        loss = opt.step(closure)
        g = grad(xn)
        assert float(loss) == pytest.approx(xn[0] ** 2 + 4 * xn[1] ** 2)
        t = np.abs(xn) if adaptive else np.ones(2)
        e = 0.1 * t * t * g / (np.linalg.norm(t * g) + 1e-12)
        g2 = grad(xn + e)
        buf = g2.copy() if buf is None else 0.9 * buf + g2
        xn = xn - 0.05 * buf
        np.testing.assert_allclose(x.numpy(), xn, rtol=1e-12)
    assert opt.param_groups is opt.base_optimizer.param_groups
    assert "momentum_buffer" in opt.state[x]


def test_sam_two_step_api(device):
    x = tg.tensor([1.0, 1.0], dtype=tg.float64, device=device, requires_grad=True)
    opt = optim.SAM([x], optim.SGD, rho=0.5, lr=0.1)
    _quad(x).backward()
    opt.first_step(zero_grad=True)
    assert x.grad is None
    perturbed = x.numpy().copy()
    assert not np.allclose(perturbed, [1.0, 1.0])
    _quad(x).backward()
    opt.second_step(zero_grad=True)
    np.testing.assert_allclose(x.numpy(), np.array([1.0, 1.0]) - 0.1 * np.array([2.0, 8.0]) * perturbed)
    with pytest.raises(ValueError, match="closure"):
        opt.step()


def test_ema_swap_in_for_evaluation(device):
    w = tg.tensor([1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    ema = optim.ExponentialMovingAverage([w], decay=0.9)
    avg = np.array([1.0, 2.0])
    opt = optim.SGD([w], lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        ema.update()
        avg = 0.9 * avg + 0.1 * w.numpy()
    live = w.numpy().copy()
    with ema.average_parameters():
        np.testing.assert_allclose(w.numpy(), avg, rtol=1e-13)
    np.testing.assert_array_equal(w.numpy(), live)
    sd = ema.state_dict()
    ema2 = optim.ExponentialMovingAverage([w], decay=0.5)
    ema2.load_state_dict(sd)
    ema2.copy_to()
    np.testing.assert_allclose(w.numpy(), avg, rtol=1e-13)


def test_averaged_model_swa_and_ema(device):
    w = tg.tensor([0.0, 0.0], dtype=tg.float64, device=device, requires_grad=True)
    swa = optim.swa_utils.AveragedModel([w])
    ema = optim.AveragedModel([w], avg_fn=optim.get_ema_avg_fn(0.5))
    vals = [np.array([1.0, 2.0]), np.array([3.0, 0.0]), np.array([5.0, 4.0])]
    e = None
    for v in vals:
        with tg.no_grad():
            w.copy_(tg.tensor(v, dtype=tg.float64, device=device))
        swa.update_parameters([w])
        ema.update_parameters([w])
        e = v if e is None else 0.5 * e + 0.5 * v
    np.testing.assert_allclose(swa.parameters()[0].numpy(), np.mean(vals, axis=0), rtol=1e-13)
    np.testing.assert_allclose(ema.parameters()[0].numpy(), e, rtol=1e-13)
    assert swa.n_averaged == 3 and swa.parameters()[0] is not w


def test_with_nn_modules():
    nn = tg.nn
    if not hasattr(nn, "Linear"):
        pytest.skip("nn.Linear not available yet")
    tg.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x, y = tg.randn(16, 3), tg.randn(16, 1)
    opt = optim.Adam(m.parameters(), lr=1e-2)
    named = optim.SGD(m.named_parameters(), lr=0.1)
    assert named.param_groups[0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    swa = optim.swa_utils.AveragedModel(m, avg_fn=optim.get_ema_avg_fn(0.9))
    first = None
    for _ in range(20):
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        swa.update_parameters(m)
        first = first if first is not None else loss.item()
    assert loss.item() < first
    assert swa(x).shape == (16, 1)
    sd = swa.state_dict()
    assert "module.0.weight" in sd and sd["n_averaged"] == 20
