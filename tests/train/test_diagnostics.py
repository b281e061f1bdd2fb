"""Babysitting diagnostics: activation statistics, dead ReLUs, saturation, gradient norms, update ratios,
initial loss, overfitting a tiny batch, the LR range test, and their plots."""
import math

import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import optim
from tinygrad_dnn.train import diagnostics as D, fit
from tinygrad_dnn.train.models import MLP

from train_helpers import weights

PNG = b"\x89PNG\r\n\x1a\n"


def test_activation_stats_dead_relu_and_saturation(tmp_path):
    m = MLP(10, 3, hidden=[20, 20])
    with tg.no_grad():
        m.net[1].bias.fill_(-100.0)  # first ReLU layer: every unit dead
    x = tg.randn(64, 10)
    st = D.activation_stats(m, x)
    assert [s["type"] for s in st] == ["ReLU", "ReLU"]
    assert st[0]["dead_fraction"] == 1.0 and st[0]["zero_fraction"] == 1.0 and st[0]["mean"] == 0.0
    assert st[1]["dead_fraction"] < 1.0
    assert st[0]["values"].shape == (64 * 20,)
    t = MLP(10, 3, hidden=[20], activation="tanh")
    with tg.no_grad():
        t.net[1].weight.mul_(50.0)
    s = D.activation_stats(t, x)[0]
    assert s["saturated_fraction"] > 0.5 and s["dead_fraction"] is None
    p = tmp_path / "act.png"
    D.plot_activations(st + [s], p)
    assert p.read_bytes()[:8] == PNG


def test_activation_stats_leave_model_unchanged():
    m = MLP(10, 3, hidden=[20], batchnorm="after", dropout=0.5)
    before, x = weights(m), tg.randn(32, 10)
    state = tg.get_rng_state()
    D.activation_stats(m, x, train_mode=True)
    after = weights(m)
    assert all((before[k] == after[k]).all() for k in before)  # BN running stats restored
    assert tg.get_rng_state() == state


def test_gradient_norms_and_plot(tmp_path):
    m = MLP(10, 3, hidden=[20])
    norms = D.compute_gradient_norms(m, tg.randn(16, 10), tg.randint(0, 3, (16,)))
    assert set(norms) == {n for n, _ in m.named_parameters()}
    assert all(v["grad_norm"] > 0 for v in norms.values())
    assert all(p.grad is None or float(p.grad.abs().sum().item()) == 0.0 for p in m.parameters())
    D.plot_gradient_norms(norms, tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == PNG


def test_update_ratios(moons, tmp_path):
    tr, va = moons
    m = MLP(2, 2, hidden=[16])
    mon = D.UpdateRatioMonitor(every=2)
    fit(m, optim.SGD(m.parameters(), lr=1e-2), tr, epochs=1, callbacks=[mon], verbose=False)
    assert set(mon.ratios) == {"net.1.weight", "net.3.weight"}
    assert len(mon.ratios["net.1.weight"]) == math.ceil(len(tr) / 2)
    assert all(r > 0 for _, r in mon.ratios["net.1.weight"])
    med = mon.summary()
    assert -6 < med["net.1.weight"] < 0
    # a 100x larger lr gives ~100x larger ratios
    x, y = next(iter(tr))
    m1, m2 = MLP(2, 2, hidden=[16]), MLP(2, 2, hidden=[16])
    m2.load_state_dict(m1.state_dict())
    r1 = D.measure_update_ratios(m1, optim.SGD(m1.parameters(), lr=1e-3), x, y, steps=1)
    r2 = D.measure_update_ratios(m2, optim.SGD(m2.parameters(), lr=1e-1), x, y, steps=1)
    assert r2["net.1.weight"][0] / r1["net.1.weight"][0] == pytest.approx(100, rel=1e-3)
    D.plot_update_ratios(mon.ratios, tmp_path / "u.png")
    D.plot_update_ratios(r1, tmp_path / "u2.png")
    assert (tmp_path / "u.png").read_bytes()[:8] == PNG


def test_initial_loss_check():
    x, y = tg.randn(128, 20), tg.randint(0, 10, (128,))
    m = MLP(20, 10, hidden=[32])
    with tg.no_grad():
        m.net[-1].weight.mul_(0.01)
    r = D.check_initial_loss(m, x, y)
    assert r["ok"] and r["expected"] == pytest.approx(math.log(10)) and "ok" in r["message"]
    with tg.no_grad():
        m.net[-1].weight.mul_(1e4)
    r = D.check_initial_loss(m, x, y)
    assert not r["ok"] and "initialization" in r["message"]


def test_overfit_tiny_batch(tmp_path):
    x, y = tg.randn(10, 8), tg.randint(0, 4, (10,))
    m = MLP(8, 4, hidden=[32, 32], batchnorm="after")
    before = weights(m)
    r = D.overfit_tiny_batch(m, x, y, steps=150, restore=True)
    assert r["ok"] and r["accuracy"] == 1.0 and r["final_loss"] < 0.1 * r["losses"][0]
    after = weights(m)
    assert all((before[k] == after[k]).all() for k in before)
    D.plot_loss_curve(r["losses"], tmp_path / "o.png")


def test_lr_range_test_restores_everything(moons, tmp_path):
    tr, _ = moons
    m = MLP(2, 2, hidden=[16])
    opt = optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    before, lstate = weights(m), tr.state_dict()
    r = D.lr_range_test(m, opt, tr, start_lr=1e-4, end_lr=100.0, num_iter=60)
    assert 3 <= len(r["lrs"]) <= 60 and r["lrs"][0] == pytest.approx(1e-4)
    assert all(b > a for a, b in zip(r["lrs"], r["lrs"][1:]))
    assert 1e-4 <= r["suggested_lr"] <= 100 and 1e-4 <= r["min_loss_lr"] <= 100
    after = weights(m)
    assert all((before[k] == after[k]).all() for k in before)
    assert opt.param_groups[0]["lr"] == 0.05 and tr.state_dict() == lstate
    D.plot_lr_range(r, tmp_path / "lr.png")
    assert (tmp_path / "lr.png").read_bytes()[:8] == PNG
