"""Learning-rate schedules: sequences vs closed forms and vs torch.optim.lr_scheduler; state_dict resume."""
import math

import pytest

import tinygrad_dnn as tg
from tinygrad_dnn.optim import lr_scheduler as L


def _opt(lib, lr=0.1, kind="SGD", groups=1):
    ps = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
    if kind == "SGD":
        return lib.optim.SGD([{"params": [p]} for p in ps], lr=lr, momentum=0.9)
    return lib.optim.Adam([{"params": [p]} for p in ps], lr=lr)


def _seq(lib, make, steps=30, kind="SGD", groups=1, metrics=None):
    opt = _opt(lib, kind=kind, groups=groups)
    sched = make(lib.optim.lr_scheduler, opt)
    out = [list(sched.get_last_lr())]
    mom = []
    for i in range(steps):
        opt.step()
        if metrics is not None:
            sched.step(metrics[i])
        else:
            sched.step()
        out.append(list(sched.get_last_lr()))
        g = opt.param_groups[0]
        mom.append(g["betas"][0] if "betas" in g else g["momentum"])
    return out, mom


SCHEDULES = {
    "LambdaLR": lambda S, o: S.LambdaLR(o, lambda e: 0.95 ** e),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9),
    "StepLR": lambda S, o: S.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[3, 10, 10, 20], gamma=0.3),
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=4),
    "LinearLR": lambda S, o: S.LinearLR(o, start_factor=0.1, total_iters=8),
    "LinearLR-decay": lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=10),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, gamma=0.9),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=12, power=2.0),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.001),
    "CyclicLR-triangular": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=4, step_size_down=6),
    "CyclicLR-triangular2": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="triangular2"),
    "CyclicLR-exp_range": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.97),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=30),
    "OneCycleLR-linear-3phase": lambda S, o: S.OneCycleLR(o, max_lr=[0.5], epochs=3, steps_per_epoch=10,
                                                          anneal_strategy="linear", three_phase=True),
    "SequentialLR": lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    S.ExponentialLR(o, gamma=0.9)], milestones=[5]),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.1, total_iters=3),
                                                         S.ExponentialLR(o, gamma=0.9)]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    torch = pytest.importorskip("torch")
    make = SCHEDULES[name]
    got, gm = _seq(tg, make)
    exp, em = _seq(torch, make)
    assert len(got) == len(exp)
    for a, b in zip(got, exp):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15)
    assert gm == pytest.approx(em, rel=1e-12)


@pytest.mark.torch
def test_cycle_momentum_with_adam_betas_matches_torch():
    torch = pytest.importorskip("torch")
    make = SCHEDULES["OneCycleLR"]
    (got, gm), (exp, em) = _seq(tg, make, kind="Adam"), _seq(torch, make, kind="Adam")
    assert [a[0] for a in got] == pytest.approx([b[0] for b in exp], rel=1e-12)
    assert gm == pytest.approx(em, rel=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("kw", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.05, cooldown=2),
                                dict(factor=0.2, patience=5, min_lr=1e-3)])
def test_reduce_on_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch")
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.96, 0.97, 0.94, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99,
               0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]

    def make(S, o):
        return S.ReduceLROnPlateau(o, **{"patience": 2, **kw})

    got, exp = _seq(tg, make, metrics=metrics)[0], _seq(torch, make, metrics=metrics)[0]
    assert [a[0] for a in got] == pytest.approx([b[0] for b in exp], rel=1e-12)


def test_closed_forms():
    lr0 = 0.1
    cases = {
        "StepLR": lambda t: lr0 * 0.5 ** (t // 7),
        "ExponentialLR": lambda t: lr0 * 0.9 ** t,
        "CosineAnnealingLR": lambda t: 0.01 + (lr0 - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2,
        "LinearLR": lambda t: lr0 * (0.1 + 0.9 * min(t, 8) / 8),
        "PolynomialLR": lambda t: lr0 * (1 - min(t, 12) / 12) ** 2,
    }
    for name, f in cases.items():
        got, _ = _seq(tg, SCHEDULES[name], steps=25)
        for t, lrs in enumerate(got):
            assert lrs[0] == pytest.approx(f(t), rel=1e-12, abs=1e-15), (name, t)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_closed_form(staircase):
    opt = _opt(tg, lr=0.5)
    s = L.InverseTimeLR(opt, decay_rate=0.3, decay_steps=1 if not staircase else 4, staircase=staircase)
    for t in range(40):
        tau = t if not staircase else t // 4
        assert s.get_last_lr()[0] == pytest.approx(0.5 / (1 + 0.3 * tau), rel=1e-12)
        assert opt.param_groups[0]["lr"] == s.get_last_lr()[0]
        opt.step()
        s.step()
    s.step(10)  # epoch jump uses the closed form
    assert s.get_last_lr()[0] == pytest.approx(0.5 / (1 + 0.3 * (10 if not staircase else 2)))


def test_warm_restarts_closed_form():
    got, _ = _seq(tg, SCHEDULES["CosineAnnealingWarmRestarts"], steps=27)
    # periods 4, 8, 16 starting at 0, 4, 12
    for t, lrs in enumerate(got):
        start, T = (0, 4) if t < 4 else (4, 8) if t < 12 else (12, 16)
        want = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * (t - start) / T)) / 2
        assert lrs[0] == pytest.approx(want, rel=1e-12)


def test_reduce_on_plateau_keras_recipe():
    """Keras: ReduceLROnPlateau(factor=0.2, patience=5, min_lr=1e-3) on a stalled loss."""
    opt = tg.optim.SGD([tg.zeros(2, requires_grad=True)], lr=0.1)
    s = L.ReduceLROnPlateau(opt, factor=0.2, patience=5, min_lr=1e-3)
    lrs = []
    for epoch in range(30):
        s.step(1.0)  # never improves after the first epoch
        lrs.append(s.get_last_lr()[0])
    # first epoch sets best; 6 bad epochs (> patience) trigger each reduction
    assert lrs[:6] == [0.1] * 6
    assert lrs[6] == pytest.approx(0.02)
    assert lrs[12] == pytest.approx(0.004)
    assert lrs[18] == pytest.approx(1e-3)  # clamped at min_lr
    assert lrs[-1] == pytest.approx(1e-3)


def test_scheduler_state_dict_resume():
    make = SCHEDULES["OneCycleLR"]
    ref, _ = _seq(tg, make, steps=30)
    opt = _opt(tg)
    s = make(L, opt)
    for _ in range(12):
        opt.step()
        s.step()
    sd_opt, sd_s = opt.state_dict(), s.state_dict()
    opt2 = _opt(tg)
    opt2.load_state_dict(sd_opt)
    s2 = L.OneCycleLR(opt2, max_lr=1.0, total_steps=30, last_epoch=s.last_epoch)
    s2.load_state_dict(sd_s)
    rest = []
    for _ in range(18):
        opt2.step()
        s2.step()
        rest.append(s2.get_last_lr())
    assert rest == ref[13:]


def test_warns_when_scheduler_steps_first():
    opt = _opt(tg)
    s = L.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()


def test_scheduler_errors():
    opt = _opt(tg)
    with pytest.raises(TypeError, match="not an Optimizer"):
        L.StepLR(object(), 3)
    with pytest.raises(ValueError, match="factor"):
        L.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="total_steps"):
        L.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        L.CyclicLR(tg.optim.Adagrad([tg.zeros(1, requires_grad=True)]), 0.1, 1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        L.StepLR(_opt(tg), 3, last_epoch=5)
    with pytest.raises(ValueError, match="milestones"):
        L.SequentialLR(opt, [L.StepLR(opt, 2), L.StepLR(opt, 3)], milestones=[])


def test_torch_style_access():
    assert tg.optim.lr_scheduler.StepLR is L.StepLR
    import tinygrad_dnn.optim.lr_scheduler as mod

    assert mod.ReduceLROnPlateau is L.ReduceLROnPlateau
