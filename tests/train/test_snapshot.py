"""SnapshotEnsemble: the cyclic cosine learning rate per batch, M snapshots at the cycle ends (in memory and
on disk), the ensemble's mean softmax, resuming from a checkpoint, errors."""
import math

import numpy as np
import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import nn, optim
from tinygrad_dnn.data import DataLoader, TensorDataset
from tinygrad_dnn.train import LambdaCallback, ModelCheckpoint, SnapshotEnsemble, fit, snapshot_lr

from train_helpers import weights


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return TensorDataset(tg.tensor(x), tg.tensor(y))


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))


def test_lr_schedule_snapshots_and_ensemble(tmp_path):
    tg.manual_seed(0)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.5)
    loader = DataLoader(_data(), batch_size=16, shuffle=True)  # 3 batches per epoch
    snap = SnapshotEnsemble(cycles=3, path=tmp_path / "snap{cycle}.pt")
    lrs, states = [], {}
    rec = LambdaCallback(on_batch_end=lambda tr, b, logs: lrs.append(tr.optimizer.param_groups[0]["lr"]),
                         on_epoch_end=lambda tr, e, logs: states.__setitem__(e, weights(tr.model)))
    fit(model, opt, loader, epochs=6, callbacks=[snap, rec], progress=False, verbose=False)
    # closed form: T = 6 epochs x 3 batches = 18 iterations, M = 3 cycles of L = 6
    expect = [0.5 / 2 * (math.cos(math.pi * (t % 6) / 6) + 1) for t in range(18)]
    np.testing.assert_allclose(lrs, expect, rtol=1e-12)
    assert lrs[0] == lrs[6] == lrs[12] == 0.5 and min(lrs) < 0.05  # restarts and decays
    assert snapshot_lr(5, 18, 3, 0.5) == pytest.approx(expect[5])
    # M snapshots, taken at the cycle ends (epochs 2, 4, 6), equal to the weights of those epochs
    assert snap.snapshot_epochs == [2, 4, 6] and len(snap.snapshots) == 3
    for e, s in zip([2, 4, 6], snap.snapshots):
        for k, v in s.items():
            np.testing.assert_array_equal(v.numpy(), states[e][k])
        on_disk = tg.load(tmp_path / f"snap{e // 2}.pt")
        for k, v in on_disk.items():
            np.testing.assert_array_equal(np.asarray(v.numpy()), states[e][k])
    assert not np.allclose(states[2]["0.weight"], states[4]["0.weight"])  # distinct members
    # the ensemble: mean over the snapshots of softmax(f_m(x)), computed by hand with fresh models
    x = tg.tensor(np.random.default_rng(3).standard_normal((10, 4)).astype(np.float32))
    probs = []
    for e in (2, 4, 6):
        m = _model()
        m.load_state_dict(states[e])
        z = m(x).detach().numpy().astype(np.float64)
        p = np.exp(z - z.max(1, keepdims=True))
        probs.append(p / p.sum(1, keepdims=True))
    before = weights(model)
    model.train()
    got = snap.predict(model, x).numpy()
    # float32 softmax vs float64 by hand: differences ~1e-7 measured; 1e-5 is well above and far below
    # the difference between members (checked next)
    np.testing.assert_allclose(got, np.mean(probs, 0), atol=1e-5)
    assert np.abs(probs[0] - probs[2]).max() > 1e-3
    np.testing.assert_allclose(snap.predict(model, x, last=1).numpy(), probs[2], atol=1e-5)
    assert model.training  # the model's mode and weights are restored
    for k, v in weights(model).items():
        np.testing.assert_array_equal(v, before[k])


def test_resume_keeps_snapshots(tmp_path):
    def run(stop_at=None, resume=None):
        tg.manual_seed(1)
        model = _model()
        opt = optim.SGD(model.parameters(), lr=0.3)
        snap = SnapshotEnsemble(cycles=2)
        ck = ModelCheckpoint(tmp_path / "ck.npz")
        stop = LambdaCallback(on_epoch_end=lambda tr, e, logs: setattr(tr, "stop_training", e == stop_at))
        fit(model, opt, DataLoader(_data(), batch_size=16, shuffle=True), epochs=4, callbacks=[snap, stop, ck],
            progress=False, verbose=False, resume=resume)
        return snap

    full = run()
    assert run(stop_at=2).snapshot_epochs == [2]  # stopped after the first cycle, checkpoint written
    resumed = run(resume=tmp_path / "ck.npz")
    assert resumed.snapshot_epochs == [2, 4]
    for a, b in zip(full.snapshots, resumed.snapshots):
        for k in a:  # same machine: the resumed run replays the uninterrupted one
            np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), rtol=1e-6, atol=1e-7)


def test_errors_and_keep_last():
    with pytest.raises(ValueError, match="cycles must be a positive integer"):
        SnapshotEnsemble(0)
    model = _model()
    with pytest.raises(ValueError, match="must divide the number of epochs"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), DataLoader(_data(), batch_size=16), epochs=5,
            callbacks=[SnapshotEnsemble(2)], progress=False, verbose=False)
    with pytest.raises(RuntimeError, match="no snapshot yet"):
        SnapshotEnsemble(2).predict(model, tg.zeros(1, 4))
    snap = SnapshotEnsemble(4, keep_last=2, lr_max=0.2)
    opt = optim.SGD(model.parameters(), lr=0.01)
    fit(model, opt, DataLoader(_data(), batch_size=48), epochs=4, callbacks=[snap], progress=False, verbose=False)
    assert snap.snapshot_epochs == [3, 4] and len(snap.snapshots) == 2 and snap.base_lrs == [0.2]
