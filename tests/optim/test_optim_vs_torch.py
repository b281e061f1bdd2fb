"""Every optimizer against real torch.optim from identical float64 starting points (20+ steps, 1e-10)."""
import numpy as np
import pytest

import tinygrad_dnn as tg
from _optim_problems import loss_fn, make_params, to_np

STEPS = 25

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.02)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, alpha=0.9, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.01, eps=1e-5)),
    ("Adadelta", dict(maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05, maximize=True, eps=1e-6)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, betas=(0.8, 0.95), maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-4, 0.2), maximize=True)),
]


def _ids(case):
    name, kw = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.fixture(autouse=True)
def _torch_float64():
    """torch keeps scalar state (NAdam's mu_product, step) in its default dtype: make that float64."""
    torch = pytest.importorskip("torch")
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(prev)


def _run_torch(torch, name, kw, steps):
    ps = make_params(None, torch)
    opt = getattr(torch.optim, name)(ps, foreach=False, **kw) if name != "LBFGS" else None
    sign = -1.0 if kw.get("maximize") else 1.0
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(ps, torch, sign).backward()
        opt.step()
        traj.append([to_np(p).copy() for p in ps])
    return traj


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_torch(case, device):
    torch = pytest.importorskip("torch")
    name, kw = case
    expected = _run_torch(torch, name, kw, STEPS)
    ps = make_params(device)
    opt = getattr(tg.optim, name)(ps, **kw)
    sign = -1.0 if kw.get("maximize") else 1.0
    for k in range(STEPS):
        opt.zero_grad()
        loss_fn(ps, tg, sign, device).backward()
        opt.step()
        for p, e in zip(ps, expected[k]):
            np.testing.assert_allclose(p.numpy(), e, rtol=1e-10, atol=1e-10, err_msg=f"{name} {kw} step {k + 1}")
    for p in ps:
        assert p.dtype == tg.float64 and p.device.type == tg.tensor(0.0, device=device).device.type


@pytest.mark.torch
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(line_search_fn, device):
    torch = pytest.importorskip("torch")

    def run(lib, ps, opt, dev=None):
        def closure():
            opt.zero_grad()
            loss = loss_fn(ps, lib, 1.0, dev) if lib is tg else loss_fn(ps, lib)
            loss.backward()
            return loss
        traj = []
        for _ in range(3):
            opt.step(closure)
            traj.append([to_np(p).copy() for p in ps])
        return traj

    tps = make_params(None, torch)
    expected = run(torch, tps, torch.optim.LBFGS(tps, lr=0.8, max_iter=7, history_size=4,
                                                  line_search_fn=line_search_fn))
    ps = make_params(device)
    got = run(tg, ps, tg.optim.LBFGS(ps, lr=0.8, max_iter=7, history_size=4, line_search_fn=line_search_fn), device)
    for k, (a, b) in enumerate(zip(got, expected)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-10, err_msg=f"LBFGS outer step {k + 1}")


@pytest.mark.torch
def test_param_groups_and_grad_none_match_torch(device):
    """Per-group hyperparameters; a parameter without a gradient is skipped (state untouched)."""
    torch = pytest.importorskip("torch")

    def run(lib, dev=None):
        ps = make_params(dev, lib)
        extra = (tg if lib is tg else lib).zeros(3, dtype=(tg if lib is tg else lib).float64, requires_grad=True)
        if lib is tg and dev is not None:
            extra = tg.zeros(3, dtype=tg.float64, device=dev, requires_grad=True)
        opt = lib.optim.Adam([{"params": [ps[0]], "lr": 0.02}, {"params": [ps[1], extra], "betas": (0.5, 0.9)}],
                             lr=0.05)
        for _ in range(10):
            opt.zero_grad()
            (loss_fn(ps, lib, 1.0, dev) if lib is tg else loss_fn(ps, lib)).backward()
            opt.step()
        return [to_np(p) for p in ps + [extra]], opt

    exp, topt = run(torch)
    got, opt = run(tg, device)
    for a, b in zip(got, exp):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert len(opt.state) == 2  # 'extra' never had a gradient
