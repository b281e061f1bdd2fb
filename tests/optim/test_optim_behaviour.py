"""Optimizer behaviour: hand-computed steps, weight decay vs L2, convergence, resume, invariants, bad input."""
import math

import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import optim

A = np.array([1.0, 4.0])  # f(x) = 0.5 * sum(A x^2), grad = A x


def _x(device, v=(3.0, -2.0)):
    return tg.tensor(list(v), dtype=tg.float64, device=device, requires_grad=True)


def _quad_step(opt, x):
    opt.zero_grad()
    (0.5 * (tg.tensor(A, dtype=tg.float64, device=x.device) * x * x).sum()).backward()
    opt.step()
    return x.numpy().copy()


# ----------------------------------------------------------------------------- closed forms
def test_sgd_hand_computed(device):
    x = _x(device)
    opt = optim.SGD([x], lr=0.1)
    x_np = np.array([3.0, -2.0])
    for _ in range(3):
        x_np = x_np - 0.1 * A * x_np
        np.testing.assert_allclose(_quad_step(opt, x), x_np, rtol=1e-14)


def test_sgd_momentum_and_nesterov_hand_computed(device):
    for nesterov in (False, True):
        x = _x(device)
        opt = optim.SGD([x], lr=0.1, momentum=0.9, nesterov=nesterov)
        xn, buf = np.array([3.0, -2.0]), None
        for _ in range(4):
            g = A * xn
            buf = g.copy() if buf is None else 0.9 * buf + g
            xn = xn - 0.1 * (g + 0.9 * buf if nesterov else buf)
            np.testing.assert_allclose(_quad_step(opt, x), xn, rtol=1e-13)


def test_adam_hand_computed(device):
    x = _x(device)
    opt = optim.Adam([x], lr=0.1)
    # step 1: m = 0.1 g, v = 0.001 g^2 -> m_hat = g, v_hat = g^2 -> x -= lr * g / (|g| + eps)
    g = A * np.array([3.0, -2.0])
    x1 = np.array([3.0, -2.0]) - 0.1 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(_quad_step(opt, x), x1, rtol=1e-13)
    g2 = A * x1
    m = 0.9 * 0.1 * g + 0.1 * g2
    v = 0.999 * 0.001 * g ** 2 + 0.001 * g2 ** 2
    x2 = x1 - 0.1 / (1 - 0.81) * m / (np.sqrt(v) / math.sqrt(1 - 0.999 ** 2) + 1e-8)
    np.testing.assert_allclose(_quad_step(opt, x), x2, rtol=1e-13)


def test_adagrad_rmsprop_adadelta_hand_computed(device):
    x0 = np.array([3.0, -2.0])
    g = A * x0
    x = _x(device)
    np.testing.assert_allclose(_quad_step(optim.Adagrad([x], lr=0.5), x), x0 - 0.5 * g / (np.abs(g) + 1e-10),
                               rtol=1e-13)
    x = _x(device)
    np.testing.assert_allclose(_quad_step(optim.RMSprop([x], lr=0.01), x),
                               x0 - 0.01 * g / (np.sqrt(0.01 * g * g) + 1e-8), rtol=1e-13)
    x = _x(device)
    v = 0.1 * g * g
    delta = np.sqrt(0 + 1e-6) / np.sqrt(v + 1e-6) * g
    np.testing.assert_allclose(_quad_step(optim.Adadelta([x]), x), x0 - delta, rtol=1e-13)


def test_sign_sgd_rprop_adamax_hand_computed(device):
    x0 = np.array([3.0, -2.0])
    x = _x(device)
    opt = optim.SignSGD([x], lr=0.25)
    np.testing.assert_allclose(_quad_step(opt, x), x0 - 0.25 * np.sign(A * x0))
    np.testing.assert_allclose(_quad_step(opt, x), x0 - 0.5 * np.sign(A * x0))
    x = _x(device)
    opt = optim.Rprop([x], lr=0.1)
    x1 = x0 - 0.1 * np.sign(x0)                 # first step: sign(g * 0) = 0 -> step size stays lr
    np.testing.assert_allclose(_quad_step(opt, x), x1, rtol=1e-14)
    x2 = x1 - 0.12 * np.sign(x1)                # same sign -> step size * 1.2
    np.testing.assert_allclose(_quad_step(opt, x), x2, rtol=1e-14)
    x = _x(device)
    g = A * x0
    np.testing.assert_allclose(_quad_step(optim.Adamax([x], lr=0.1), x),
                               x0 - 0.1 / 0.1 * (0.1 * g) / (np.abs(g) + 1e-8), rtol=1e-13)


# ----------------------------------------------------------------------------- weight decay
def _train(opt_cls, device, penalty=0.0, steps=15, **kw):
    w = tg.tensor([1.5, -0.5, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    t = tg.tensor([0.3, 0.1, -0.2], dtype=tg.float64, device=device)
    opt = opt_cls([w], **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((w - t) ** 4).sum()
        if penalty:
            loss = loss + 0.5 * penalty * (w * w).sum()
        loss.backward()
        opt.step()
    return w.numpy()


def test_l2_penalty_equals_weight_decay_for_sgd(device):
    for kw in (dict(lr=0.01), dict(lr=0.01, momentum=0.9), dict(lr=0.01, momentum=0.9, nesterov=True)):
        a = _train(optim.SGD, device, weight_decay=0.1, **kw)
        b = _train(optim.SGD, device, penalty=0.1, **kw)
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_adam_l2_differs_from_adamw(device):
    adam_wd = _train(optim.Adam, device, lr=0.05, weight_decay=0.1)
    adam_l2 = _train(optim.Adam, device, penalty=0.1, lr=0.05)
    adamw = _train(optim.AdamW, device, lr=0.05, weight_decay=0.1)
    np.testing.assert_allclose(adam_wd, adam_l2, rtol=1e-12)  # Adam's weight_decay *is* an L2 penalty
    assert np.max(np.abs(adamw - adam_wd)) > 1e-3              # decoupled decay is not
    # AdamW == Adam(decoupled_weight_decay=True)
    np.testing.assert_allclose(adamw, _train(optim.Adam, device, lr=0.05, weight_decay=0.1,
                                             decoupled_weight_decay=True), rtol=0, atol=0)


# ----------------------------------------------------------------------------- convergence
CONVERGE = [
    (optim.SGD, dict(lr=0.1), 200),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True), 200),
    (optim.Adagrad, dict(lr=1.0), 300),
    (optim.RMSprop, dict(lr=0.01, centered=True), 800),
    (optim.Adadelta, dict(lr=1.0), 3000),  # hovers at |x2| ~ 0.02 (same in torch)
    (optim.Adam, dict(lr=0.1), 400),
    (optim.AdamW, dict(lr=0.1, weight_decay=1e-4), 400),
    (optim.NAdam, dict(lr=0.1), 400),
    (optim.Adamax, dict(lr=0.2), 400),
    (optim.Rprop, dict(), 100),
]


@pytest.mark.parametrize("cls,kw,steps", CONVERGE, ids=[c[0].__name__ + str(i) for i, c in enumerate(CONVERGE)])
def test_converges_on_ill_conditioned_quadratic(cls, kw, steps):
    x = _x("cpu")
    opt = cls([x], **kw)
    for _ in range(steps):
        opt.zero_grad()
        (x[0] ** 2 + 4 * x[1] ** 2).backward()
        opt.step()
    tol = 3e-2 if cls is optim.Adadelta else 2e-2
    assert np.abs(x.numpy()).max() < tol, (cls.__name__, x.numpy())


def _rosen(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


@pytest.mark.parametrize("cls,kw,steps", [(optim.Adam, dict(lr=0.02), 3000),
                                          (optim.SGD, dict(lr=1e-3, momentum=0.9), 4000)])
def test_converges_on_rosenbrock(cls, kw, steps):
    x = _x("cpu", (-1.5, 2.0))
    opt = cls([x], **kw)
    for _ in range(steps):
        opt.zero_grad()
        _rosen(x).backward()
        opt.step()
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=5e-2)


def test_lbfgs_and_newton_solve_rosenbrock(device):
    x = _x(device, (-1.5, 2.0))
    opt = optim.LBFGS([x], lr=1, max_iter=100, tolerance_grad=1e-10, tolerance_change=1e-14,
                      line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = _rosen(x)
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-6)

    y = _x(device, (-1.5, 2.0))
    newton = optim.NewtonCG([y], damping=1e-3)
    for _ in range(60):
        newton.step(lambda: _rosen(y))
    np.testing.assert_allclose(y.numpy(), [1.0, 1.0], atol=1e-6)


def test_newton_one_step_on_quadratic(device):
    x = _x(device)
    opt = optim.NewtonCG([x])
    loss = opt.step(lambda: x[0] ** 2 + 4 * x[1] ** 2 + x[0] * x[1])
    assert float(loss) == pytest.approx(9 + 16 - 6)
    np.testing.assert_allclose(x.numpy(), [0.0, 0.0], atol=1e-12)
    assert x.grad is None  # the Newton step does not touch .grad


# ----------------------------------------------------------------------------- resume
RESUME = [(optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)), (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
          (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)), (optim.Adadelta, dict()),
          (optim.Adam, dict(lr=0.05, amsgrad=True)), (optim.AdamW, dict(lr=0.05)), (optim.NAdam, dict(lr=0.05)),
          (optim.Adamax, dict(lr=0.05)), (optim.Rprop, dict()), (optim.SignSGD, dict(lr=0.01, momentum=0.9))]


def _mlp_params(device):
    rng = np.random.default_rng(0)
    return [tg.tensor(rng.normal(size=s), dtype=tg.float64, device=device, requires_grad=True)
            for s in [(4, 5), (5,), (5, 1)]]


def _mlp_loss(ps, device):
    x = tg.tensor(np.linspace(-1, 1, 24).reshape(6, 4), dtype=tg.float64, device=device)
    h = (x @ ps[0] + ps[1]).tanh()
    return ((h @ ps[2]) ** 2).mean()


@pytest.mark.parametrize("cls,kw", RESUME, ids=[c[0].__name__ for c in RESUME])
def test_state_dict_resume_bit_identical(cls, kw, device, tmp_path):
    def steps(opt, ps, n):
        for _ in range(n):
            opt.zero_grad()
            _mlp_loss(ps, device).backward()
            opt.step()

    ps = _mlp_params(device)
    opt = cls(ps, **kw)
    steps(opt, ps, 6)
    saved_params = [p.numpy().copy() for p in ps]
    sd = opt.state_dict()
    tg.save(sd, tmp_path / "opt.npz")
    steps(opt, ps, 6)  # continuing must not change the saved state dict
    ref = [p.numpy() for p in ps]

    ps2 = [tg.tensor(a, dtype=tg.float64, device=device, requires_grad=True) for a in saved_params]
    opt2 = cls(ps2, **kw)
    opt2.load_state_dict(tg.load(tmp_path / "opt.npz", map_location=device))
    steps(opt2, ps2, 6)
    for a, b in zip(ps2, ref):
        assert np.array_equal(a.numpy(), b)


def test_load_state_dict_mismatch_errors():
    ps = _mlp_params("cpu")
    sd = optim.Adam(ps).state_dict()
    with pytest.raises(ValueError, match="parameter group 0 has 3 parameters"):
        optim.Adam(ps[:2]).load_state_dict(sd)
    with pytest.raises(ValueError, match="groups"):
        optim.Adam([{"params": ps[:1]}, {"params": ps[1:]}]).load_state_dict(sd)


# ----------------------------------------------------------------------------- invariants
ALL = [(optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)), (optim.Adagrad, {}), (optim.RMSprop, {}),
       (optim.Adadelta, {}), (optim.Adam, dict(amsgrad=True)), (optim.AdamW, {}), (optim.NAdam, {}),
       (optim.Adamax, {}), (optim.Rprop, {}), (optim.SignSGD, dict(momentum=0.5))]


@pytest.mark.parametrize("cls,kw", ALL, ids=[c[0].__name__ for c in ALL])
def test_step_invariants(cls, kw, device):
    """float32 stays float32, device stays, .grad untouched, no graph, version bumped, 0-d params work."""
    w = tg.tensor([[0.5, -1.0], [2.0, 0.1]], device=device, requires_grad=True)
    s = tg.tensor(0.7, device=device, requires_grad=True)
    opt = cls([w, s], **kw)
    for _ in range(3):
        opt.zero_grad()
        ((w * w).sum() * s + s ** 3).backward()
        g_before = [w.grad.numpy().copy(), s.grad.numpy().copy()]
        g_ids = [id(w.grad._data), id(s.grad._data)]
        v = (w._version, s._version)
        opt.step()
        assert w.dtype == tg.float32 and s.dtype == tg.float32 and w._data.dtype == w.grad._data.dtype
        assert str(w.device) == str(tg.tensor(0.0, device=device).device)
        assert s.shape == () and w.shape == (2, 2)
        assert w.is_leaf and s.is_leaf and w.requires_grad
        assert np.array_equal(w.grad.numpy(), g_before[0]) and np.array_equal(s.grad.numpy(), g_before[1])
        assert [id(w.grad._data), id(s.grad._data)] == g_ids
        assert w._version > v[0] and s._version > v[1]
    for st in opt.state.values():
        for val in st.values():
            if isinstance(val, tg.Tensor):
                assert val.dtype == tg.float32 and val.grad_fn is None


def test_zero_grad(device):
    x = _x(device)
    opt = optim.SGD([x], lr=0.1)
    (x * x).sum().backward()
    g = x.grad
    opt.zero_grad(set_to_none=False)
    assert x.grad is g and np.array_equal(g.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert x.grad is None
    opt.step()  # no gradients: nothing happens
    np.testing.assert_array_equal(x.numpy(), [3.0, -2.0])


def test_closure_and_add_param_group(device):
    x, y = _x(device), _x(device, (1.0, 1.0))
    opt = optim.SGD([x], lr=0.1)
    opt.add_param_group({"params": [y], "lr": 0.5, "momentum": 0.9})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["dampening"] == 0

    def closure():
        opt.zero_grad()
        loss = (x * x).sum() + (y * y).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == pytest.approx(15.0)
    np.testing.assert_allclose(x.numpy(), [2.4, -1.6])
    np.testing.assert_allclose(y.numpy(), [0.0, 0.0])


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs():
    x = tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"SGD: invalid learning rate lr=-0.1"):
        optim.SGD([x], lr=-0.1)
    with pytest.raises(ValueError, match=r"Adam: invalid beta parameter at index 1: betas=\(0.9, 1.0\)"):
        optim.Adam([x], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"AdamW: invalid beta parameter at index 0: betas=\(-0.1, 0.999\)"):
        optim.AdamW([x], betas=(-0.1, 0.999))
    with pytest.raises(ValueError, match="RMSprop: invalid epsilon eps=-1"):
        optim.RMSprop([x], eps=-1)
    with pytest.raises(ValueError, match="Adagrad: invalid weight_decay=-0.5"):
        optim.Adagrad([x], weight_decay=-0.5)
    with pytest.raises(ValueError, match="SGD: Nesterov momentum requires"):
        optim.SGD([x], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam(iter([]))
    with pytest.raises(ValueError, match="Adam: parameter 0 .* does not require grad"):
        optim.Adam([tg.zeros(3)])
    with pytest.raises(ValueError, match="Adam: can't optimize a non-leaf Tensor"):
        optim.Adam([x * 2])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [x]}, {"params": [x]}], lr=0.1)
    with pytest.raises(ValueError, match="same parameter twice"):
        optim.SGD([x, x], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(x, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    opt = optim.SGD([x], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [x]})
    with pytest.raises(ValueError, match="SGD: invalid learning rate lr=-1"):
        opt.add_param_group({"params": [tg.zeros(1, requires_grad=True)], "lr": -1})


# ----------------------------------------------------------------------------- lecture snippets
def test_lecture_snippet_runs_unchanged():
    import tinygrad_dnn as torch

    torch.manual_seed(0)
    W = torch.randn(3, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    X = torch.randn(64, 3)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    optimizer = torch.optim.RMSprop([W, b], lr=1e-2)
    losses = []
    for _ in range(300):
        optimizer.zero_grad()
        loss = ((X @ W + b - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]


def test_keras_recipes():
    """SGD(lr=0.01, momentum=0.9, nesterov=True) + ReduceLROnPlateau(0.2, 5, 1e-3) + clipping by value/norm."""
    import tinygrad_dnn as torch

    torch.manual_seed(1)
    W = torch.randn(3, 1, requires_grad=True)
    X = torch.randn(32, 3)
    y = X @ torch.tensor([[0.5], [1.0], [-1.0]])
    opt = torch.optim.SGD([W], lr=0.01, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.2, patience=5, min_lr=1e-3)
    for epoch in range(200):
        opt.zero_grad()
        loss = ((X @ W - y) ** 2).mean()
        loss.backward()
        torch.optim.clip_grad_value_([W], 0.5)
        assert float(W.grad.abs().max()) <= 0.5
        norm = torch.optim.clip_grad_norm_([W], max_norm=1.0)
        assert float(norm) >= 0 and float((W.grad ** 2).sum().sqrt()) <= 1.0 + 1e-6
        opt.step()
        sched.step(loss.item())
    assert loss.item() < 1e-3
