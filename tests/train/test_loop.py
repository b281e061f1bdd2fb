"""fit/Trainer: learning, history, NaN stop, Ctrl-C, checkpoints and exact resume, plots."""
import os
import signal

import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn, optim
from tinygrad_dnn.train import (CheckpointError, EarlyStopping, History, LambdaCallback, ModelCheckpoint,
                                NonFiniteLossError, Trainer, fit, plot_history)

from train_helpers import small_mlp, weights


def test_fit_learns_and_records_history(moons):
    tr, va = moons
    model = small_mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    h = fit(model, opt, tr, va, epochs=8, verbose=False, progress=False)
    assert isinstance(h, History) and len(h) == 8
    for k in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"):
        assert len(h[k]) == 8, k
    assert h["epoch"] == list(range(1, 9))
    assert h["loss"][-1] < h["loss"][0]
    assert h["val_accuracy"][-1] > 0.8
    assert h.stop_reason == "completed"
    assert h.best("val_loss")[0] in h["epoch"]
    assert model.training  # evaluate() restores the mode


def test_nan_loss_stops_with_epoch_and_batch(moons):
    tr, _ = moons
    model = small_mlp()
    calls = {"n": 0}

    def loss_fn(out, y):
        calls["n"] += 1
        loss = nn.functional.cross_entropy(out, y)
        return loss * float("nan") if calls["n"] == len(tr) + 3 else loss  # epoch 2, batch 3

    with pytest.raises(NonFiniteLossError) as ei:
        fit(model, optim.SGD(model.parameters(), lr=0.1), tr, epochs=5, loss_fn=loss_fn, verbose=False)
    assert ei.value.epoch == 2 and ei.value.batch == 3
    assert "epoch 2, batch 3" in str(ei.value) and "nan" in str(ei.value)
    assert len(ei.value.history) == 1


def test_diverging_lr_is_caught(moons):
    tr, _ = moons
    model = small_mlp(dropout=0.0, batchnorm=None)
    with pytest.raises(NonFiniteLossError, match="epoch"):
        fit(model, optim.SGD(model.parameters(), lr=1e30), tr, epochs=20, verbose=False)


def test_keyboard_interrupt_saves_checkpoint_and_returns(moons, tmp_path, capsys):
    tr, va = moons
    model = small_mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def boom(trainer, batch):
        if trainer.epoch == 1 and batch == 4:
            signal.raise_signal(signal.SIGINT)  # a real Ctrl-C: the step is finished, then the state saved

    path = tmp_path / "int.npz"
    h = fit(model, opt, tr, va, epochs=5, callbacks=[LambdaCallback(on_batch_begin=boom)], verbose=False,
            interrupt_checkpoint=str(path))
    assert h.stop_reason == "interrupted" and len(h) == 1
    assert path.exists()
    err = capsys.readouterr().err
    assert "interrupted" in err and "epoch 2, batch 4" in err and str(path) in err
    state = Trainer.read_checkpoint(path)
    assert state["epoch"] == 1 and state["mid_epoch"]
    # it resumes
    model2 = small_mlp()
    h2 = fit(model2, optim.Adam(model2.parameters(), lr=1e-2), tr, va, epochs=3, resume=path, verbose=False)
    assert h2["epoch"] == [1, 2, 3]


def _run(tr_seed, epochs, ckpt=None, resume=None, extra=(), interrupt=None):
    """A run with every kind of state: dropout, BN buffers, shuffling, Adam moments, plateau schedule,
    early stopping (never triggering) and a checkpoint each epoch."""
    from tinygrad_dnn.data import DataLoader, TensorDataset, make_moons

    tg.manual_seed(tr_seed)
    x, y = make_moons(n_samples=300, noise=0.2, seed=1)
    tr = DataLoader(TensorDataset(x[:200], y[:200]), batch_size=32, shuffle=True, seed=3)
    va = DataLoader(TensorDataset(x[200:], y[200:]), batch_size=100)
    model = small_mlp(dropout=0.3)
    opt = optim.Adam(model.parameters(), lr=5e-2)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    cbs = [EarlyStopping(patience=100, restore_best_weights=False)]
    if ckpt:
        cbs.append(ModelCheckpoint(ckpt))
    cbs += list(extra)
    h = fit(model, opt, tr, va, epochs=epochs, scheduler=sched, callbacks=cbs, verbose=False, resume=resume,
            interrupt_checkpoint=interrupt)
    return model, h


def test_resume_matches_uninterrupted_run_exactly(tmp_path):
    model_a, ha = _run(0, 6)
    ck = str(tmp_path / "ck.npz")
    _run(0, 3, ckpt=ck)
    # a fresh process would build everything again with another seed: resume must restore it all
    model_b, hb = _run(123, 6, ckpt=ck, resume=ck)
    assert hb["epoch"] == list(range(1, 7))
    for k in ("loss", "accuracy", "val_loss", "lr"):
        assert hb[k] == ha[k], k
    wa, wb = weights(model_a), weights(model_b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert (wa[k] == wb[k]).all(), k
    assert min(ha["lr"]) < 5e-2  # the plateau schedule did act


@pytest.mark.parametrize("where", [(2, 3), (3, 7), (1, 1)])
def test_ctrl_c_mid_epoch_resumes_bit_for_bit(tmp_path, where):
    """issue 14 item 1: a Ctrl-C mid-epoch, then resume, is the uninterrupted run: weights, every epoch's
    metrics, global_step and per-parameter optimizer steps (no half-applied step is ever saved)."""
    model_a, ha = _run(0, 5)
    ck, it = str(tmp_path / "ck.npz"), str(tmp_path / "interrupted.npz")

    def ctrl_c(trainer, batch):
        if (trainer.epoch + 1, batch) == where:
            signal.raise_signal(signal.SIGINT)

    _, hi = _run(0, 5, ckpt=ck, extra=[LambdaCallback(on_batch_begin=ctrl_c)], interrupt=it)
    assert hi.stop_reason == "interrupted"
    state = Trainer.read_checkpoint(it)
    steps = {int(v["step"]) for v in state["optimizer"]["state"].values()}
    assert len(steps) == 1 and state["global_step"] == steps.pop()  # every parameter took the same steps
    model_b, hb = _run(123, 5, ckpt=ck, resume=it)
    assert hb.trainer.global_step == ha.trainer.global_step
    for k in ("loss", "accuracy", "val_loss", "lr"):
        assert hb[k] == ha[k], k
    wa, wb = weights(model_a), weights(model_b)
    for k in wa:
        assert (wa[k] == wb[k]).all(), k


def test_trainer_load_state_dict_is_all_or_nothing(tmp_path, moons):
    """issue 14 item 9: a good model state with a bad optimizer state changes nothing."""
    tr, va = moons
    model = small_mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    fit(model, opt, tr, epochs=1, verbose=False)
    trainer = Trainer(model, opt, verbose=False)
    good = trainer.state_dict()
    other = small_mlp()
    t2 = Trainer(other, optim.Adam(other.parameters(), lr=1e-2), verbose=False)
    before = weights(other)
    bad = dict(good)
    bad["optimizer"] = {"state": {0: {"step": 3, "exp_avg": tg.zeros(5, 5), "exp_avg_sq": tg.zeros(5, 5)}},
                        "param_groups": good["optimizer"]["param_groups"]}
    with pytest.raises(CheckpointError, match="optimizer"):
        t2.load_state_dict(bad)
    after = weights(other)
    assert all((before[k] == after[k]).all() for k in before)
    assert t2.optimizer.state == {}
    t2.load_state_dict(good)  # and a good one loads
    assert all((weights(model)[k] == weights(other)[k]).all() for k in before)


def test_checkpoint_errors(tmp_path, moons):
    tr, va = moons
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupted"):
        Trainer.read_checkpoint(bad)
    assert bad.read_bytes() == b"not a checkpoint at all"
    with pytest.raises(CheckpointError, match="does not exist"):
        Trainer.read_checkpoint(tmp_path / "missing.npz")
    plain = tmp_path / "plain.npz"
    tg.save(small_mlp().state_dict(), plain)
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        Trainer.read_checkpoint(plain)
    ck = tmp_path / "ck.npz"
    model = small_mlp()
    fit(model, optim.SGD(model.parameters(), lr=0.1), tr, epochs=1, callbacks=[ModelCheckpoint(ck)], verbose=False)
    from tinygrad_dnn.train.models import MLP

    other = MLP(2, 2, hidden=[8])
    with pytest.raises(CheckpointError, match="does not match"):
        Trainer(other, optim.SGD(other.parameters(), lr=0.1), verbose=False).load_checkpoint(ck)


def test_model_checkpoint_best_and_every(tmp_path, moons):
    tr, va = moons
    model = small_mlp()
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}.npz"), every=2, best_path=str(tmp_path / "best.npz"))
    fit(model, optim.Adam(model.parameters(), lr=1e-2), tr, va, epochs=5, callbacks=[cb], verbose=False)
    names = sorted(os.listdir(tmp_path))
    assert "e2.npz" in names and "e4.npz" in names and "e5.npz" in names and "e1.npz" not in names
    assert "best.npz" in names
    best = Trainer.read_checkpoint(tmp_path / "best.npz")
    assert best["history"]["val_loss"][-1] == min(best["history"]["val_loss"])


def test_plot_history_png(tmp_path, moons):
    tr, va = moons
    model = small_mlp()
    h = fit(model, optim.Adam(model.parameters(), lr=1e-2), tr, va, epochs=2, verbose=False)
    p = tmp_path / "sub" / "curves.png"
    plot_history(h, p)
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_history(h.to_dict(), tmp_path / "c2.png")


def test_verbose_lines_and_device_argument(moons, capsys):
    tr, va = moons
    model = small_mlp()
    fit(model, optim.Adam(model.parameters(), lr=1e-2), tr, va, epochs=2, device="cpu")
    out = capsys.readouterr().out
    assert "epoch   1/2" in out and "val_accuracy" in out
