"""BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm1d/2d: gradient checks with random output weights
(train and eval, second order in train), running statistics untouched by the checks, parity with PyTorch
(forward, grads, running statistics over several steps, momentum=None, eval), errors."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn
from tinygrad_dnn.gradcheck import gradcheck, gradgradcheck
from tinygrad_dnn.nn import functional as F

from _nn_helpers import functional


def _buffers(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items() if "running" in k or "num_batches" in k}


def _weighted(module, shape, device):
    """fn(x, *params) = module(x) * w_rand: a non-uniform output weight (a uniform one cancels in BN)."""
    f = functional(module)
    w = tg.tensor(np.random.default_rng(7).standard_normal(shape) + 1.0, dtype=tg.float64, device=device)
    return lambda x, *ps: f(x, *ps) * w


CASES = [
    ("BatchNorm1d", lambda: nn.BatchNorm1d(3), (5, 3)),
    ("BatchNorm1d-3d", lambda: nn.BatchNorm1d(3), (4, 3, 2)),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(2), (3, 2, 2, 3)),
    ("BatchNorm2d-momentum-None", lambda: nn.BatchNorm2d(2, momentum=None), (2, 2, 3, 2)),
    ("LayerNorm", lambda: nn.LayerNorm((2, 3)), (4, 2, 3)),
    ("LayerNorm-nobias", lambda: nn.LayerNorm(4, bias=False), (3, 4)),
    ("GroupNorm", lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
    ("InstanceNorm1d-affine", lambda: nn.InstanceNorm1d(3, affine=True), (2, 3, 4)),
    ("InstanceNorm2d-tracked", lambda: nn.InstanceNorm2d(2, affine=True, track_running_stats=True), (2, 2, 2, 3)),
]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_norm_gradcheck_input_and_params(name, make, shape, mode, device):
    tg.manual_seed(0)
    m = make().to(device).double()
    # non-trivial parameters and running statistics
    with tg.no_grad():
        for p in m.parameters():
            p.copy_(tg.tensor(np.random.default_rng(1).uniform(0.5, 1.5, tuple(p.shape)), device=device))
        if getattr(m, "running_var", None) is not None:
            m.running_mean.copy_(tg.tensor(np.random.default_rng(2).standard_normal(tuple(m.running_mean.shape)),
                                           device=device))
            m.running_var.copy_(tg.tensor(np.random.default_rng(3).uniform(0.5, 2, tuple(m.running_var.shape)),
                                          device=device))
    m.train(mode == "train")
    before = _buffers(m)
    x = tg.tensor(np.random.default_rng(4).standard_normal(shape) * 2 + 0.5, dtype=tg.float64, device=device,
                  requires_grad=True)
    params = [p.detach().requires_grad_() for p in m.parameters()]
    fn = _weighted(m, shape, device)
    assert gradcheck(fn, (x, *params), preserve=(m,), full_jacobian_max=200)
    if mode == "train":  # double backward in training mode
        assert gradgradcheck(fn, (x, *params), preserve=(m,))
    after = _buffers(m)
    assert before.keys() == after.keys()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=f"{name}: gradcheck changed buffer {k}")
    if mode == "train":  # gradgradcheck differentiates the create_graph gradient: it must equal the plain one
        plain = tg.grad(fn(x, *params).sum(), (x, *params))
        graph = tg.grad(fn(x, *params).sum(), (x, *params), create_graph=True)
        for a, b in zip(plain, graph):
            np.testing.assert_allclose(b.detach().numpy(), a.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape,cls", [((8, 3), "BatchNorm1d"), ((6, 3, 5), "BatchNorm1d"),
                                       ((4, 3, 5, 2), "BatchNorm2d")])
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm_matches_torch_over_steps(shape, cls, momentum, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    m = getattr(nn, cls)(3, momentum=momentum, device=device).double()
    tm = getattr(torch.nn, cls)(3, momentum=momentum).double()
    with tg.no_grad():
        w, b = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
        m.weight.copy_(tg.tensor(w, device=device))
        m.bias.copy_(tg.tensor(b, device=device))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(w))
        tm.bias.copy_(torch.tensor(b))
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step
        gy = rng.standard_normal(shape)
        X, tx = tg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = m(X), tm(tx)
        y.backward(tg.tensor(gy, device=device))
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(m.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-9)
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[k].numpy(), v.numpy(), rtol=1e-12, err_msg=k)
    assert m.num_batches_tracked.item() == 4 and m.num_batches_tracked.dtype is tg.int64
    # eval: running statistics, each sample independent of the rest of the batch
    m.eval()
    tm.eval()
    x = rng.standard_normal(shape)
    X, tx = tg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = m(X), tm(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m(X[:1]).numpy(), y.numpy()[:1], rtol=1e-12)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-9)
    assert m.num_batches_tracked.item() == 4  # eval does not count batches


def test_batchnorm_state_dict_round_trip_with_torch():
    torch = pytest.importorskip("torch")
    tm = torch.nn.BatchNorm2d(4)
    tm(torch.randn(8, 4, 3, 3) * 3 + 1)
    m = nn.BatchNorm2d(4)
    assert list(m.state_dict()) == list(tm.state_dict())
    m.load_state_dict({k: tg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    np.testing.assert_allclose(m.running_var.numpy(), tm.running_var.numpy())
    assert m.num_batches_tracked.item() == 1
    tm2 = torch.nn.BatchNorm2d(4)
    tm2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    m.eval(), tm.eval()
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(m(tg.tensor(x)).numpy(), tm2.eval()(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_batchnorm_one_value_per_channel_raises_in_training(device):
    bn = nn.BatchNorm1d(3, device=device)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(tg.randn(1, 3, device=device))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm2d(3, device=device)(tg.randn(1, 3, 1, 1, device=device))
    assert bn.num_batches_tracked.item() <= 1
    bn(tg.randn(1, 3, 4, device=device))  # (N=1, L=4): 4 values per channel is fine
    bn.eval()
    assert tuple(bn(tg.randn(1, 3, device=device)).shape) == (1, 3)  # eval works at batch size 1


def test_batchnorm_without_running_stats_and_without_affine(device):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((6, 3, 4))
    for kw in (dict(track_running_stats=False), dict(affine=False)):
        m, tm = nn.BatchNorm1d(3, **kw, device=device).double(), torch.nn.BatchNorm1d(3, **kw).double()
        assert list(m.state_dict()) == list(tm.state_dict())
        for mode in (True, False):
            m.train(mode), tm.train(mode)
            np.testing.assert_allclose(m(tg.tensor(x, device=device)).numpy(), tm(torch.tensor(x)).detach().numpy(),
                                       rtol=1e-10, atol=1e-12)


def test_batchnorm_input_checks():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        nn.BatchNorm2d(3)(tg.randn(4, 3))
    with pytest.raises(ValueError, match="expected 3"):
        nn.BatchNorm1d(3)(tg.randn(4, 5))


def test_functional_batch_norm_updates_given_running_stats():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    rm, rv = tg.zeros(2, dtype=tg.float64), tg.ones(2, dtype=tg.float64)
    trm, trv = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    y = F.batch_norm(tg.tensor(x), rm, rv, training=True, momentum=0.2)
    ty = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)
    assert not rm.requires_grad and rm.grad_fn is None


@pytest.mark.parametrize("ctor,tctor,shape", [
    (lambda nn_: nn_.LayerNorm(6), None, (1, 6)),            # batch size 1
    (lambda nn_: nn_.LayerNorm((3, 4)), None, (2, 5, 3, 4)),
    (lambda nn_: nn_.LayerNorm(4, elementwise_affine=False), None, (3, 4)),
    (lambda nn_: nn_.GroupNorm(3, 6), None, (2, 6, 5)),
    (lambda nn_: nn_.GroupNorm(1, 4, affine=False), None, (2, 4, 2, 3)),
    (lambda nn_: nn_.InstanceNorm1d(3), None, (2, 3, 5)),
    (lambda nn_: nn_.InstanceNorm2d(3, affine=True), None, (2, 3, 4, 2)),
], ids=["LN-batch1", "LN-2d", "LN-noaffine", "GN", "GN-1group", "IN1d", "IN2d-affine"])
def test_layer_group_instance_norm_match_torch(ctor, tctor, shape, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    m, tm = ctor(nn).to(device).double(), ctor(torch.nn).double()
    with tg.no_grad():
        for (k, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
            v = rng.uniform(0.5, 1.5, tuple(p.shape))
            p.copy_(tg.tensor(v, device=device))
            with torch.no_grad():
                tp.copy_(torch.tensor(v))
    assert list(m.state_dict()) == list(tm.state_dict())
    x = rng.standard_normal(shape) * 3 + 1
    gy = rng.standard_normal(shape)
    X, tx = tg.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = m(X), tm(tx)
    y.backward(tg.tensor(gy, device=device))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (k, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_instance_norm_running_stats_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    m = nn.InstanceNorm2d(3, track_running_stats=True, device=device).double()
    tm = torch.nn.InstanceNorm2d(3, track_running_stats=True).double()
    for _ in range(3):
        x = rng.standard_normal((2, 3, 4, 3)) * 2 + 1
        np.testing.assert_allclose(m(tg.tensor(x, device=device)).numpy(), tm(torch.tensor(x)).numpy(), rtol=1e-10,
                                   atol=1e-12)
    np.testing.assert_allclose(m.running_mean.numpy(), tm.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.running_var.numpy(), tm.running_var.numpy(), rtol=1e-12)
    m.eval(), tm.eval()
    x = rng.standard_normal((2, 3, 4, 3))
    np.testing.assert_allclose(m(tg.tensor(x, device=device)).numpy(), tm(torch.tensor(x)).numpy(), rtol=1e-10,
                               atol=1e-12)


def test_layer_group_instance_errors():
    with pytest.raises(ValueError, match=r"normalized_shape \(5,\)"):
        nn.LayerNorm(5)(tg.randn(2, 4))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(tg.randn(2, 3, 1))
    y = nn.InstanceNorm1d(3)(tg.randn(3, 5))  # unbatched
    assert tuple(y.shape) == (3, 5)


def test_layernorm_double_backward_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 5)), rng.uniform(0.5, 1.5, 5)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    X, W = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    v = rng.standard_normal((3, 5))
    ty = torch.nn.functional.layer_norm(tx, (5,), tw, None)
    (tgx,) = torch.autograd.grad((ty * torch.tensor(v)).sum(), tx, create_graph=True)
    (tgx ** 2).sum().backward()
    y = F.layer_norm(X, (5,), W, None)
    (gx,) = tg.grad((y * tg.tensor(v)).sum(), X, create_graph=True)
    (gx ** 2).sum().backward()
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(W.grad.numpy(), tw.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_batchnorm_double_backward_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3, 2, 2)), rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    v = rng.standard_normal((4, 3, 2, 2))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True)
    tgx, tgw = torch.autograd.grad((ty * torch.tensor(v)).sum(), (tx, tw), create_graph=True)
    ((tgx ** 2).sum() + (tgw * tgw).sum()).backward()
    X, W, B = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.batch_norm(X, None, None, W, B, training=True)
    gx, gw = tg.grad((y * tg.tensor(v)).sum(), (X, W), create_graph=True)
    ((gx ** 2).sum() + (gw * gw).sum()).backward()
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(W.grad.numpy(), tw.grad.numpy(), rtol=1e-8, atol=1e-10)
