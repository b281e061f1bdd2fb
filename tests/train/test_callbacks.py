"""EarlyStopping, LR scheduling (ReduceLROnPlateau on a metric, per-batch schedules), clipping, the lectures' recipe."""
import math

import pytest

import tinygrad_dnn as tg
from tinygrad_dnn import optim
from tinygrad_dnn.train import Callback, EarlyStopping, GradientClipping, LRScheduler, fit

from train_helpers import small_mlp, weights


class FakeTrainer:
    def __init__(self, model=None):
        self.model = model
        self.stop_training = False
        self.val_loader = object()
        self.epoch = 0

        class H:
            stop_reason = None

        self.history = H()


def _feed(cb, values, key="val_loss", trainer=None):
    t = trainer or FakeTrainer()
    cb.on_train_begin(t)
    for e, v in enumerate(values, start=1):
        t.epoch = e
        cb.on_epoch_end(t, e, {key: v})
        if t.stop_training:
            return e
    return None


def test_early_stopping_patience_and_min_delta():
    assert _feed(EarlyStopping(patience=3, verbose=False), [1.0, 0.9, 0.95, 0.91, 0.92]) == 5
    assert _feed(EarlyStopping(patience=3, verbose=False), [1.0, 0.9, 0.95, 0.85, 0.92, 0.9, 0.86]) == 7
    # improvements smaller than min_delta do not count
    assert _feed(EarlyStopping(patience=2, min_delta=0.05, verbose=False), [1.0, 0.99, 0.98]) == 3
    # mode max (auto for accuracy)
    assert _feed(EarlyStopping("val_accuracy", patience=2, verbose=False), [0.5, 0.6, 0.59, 0.58], "val_accuracy") == 4
    assert _feed(EarlyStopping(patience=2, verbose=False), [3, 2, 1, 0.5]) is None
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)


def test_early_stopping_restores_best_weights(moons):
    tr, va = moons
    model = small_mlp()
    es = EarlyStopping(patience=2, restore_best_weights=True, verbose=False)
    snapshots = {}

    class Snap(Callback):
        order = 60

        def on_epoch_end(self, trainer, epoch, logs):
            snapshots[epoch] = weights(trainer.model)

    # a large lr makes val_loss bounce, so it stops
    h = fit(model, optim.SGD(model.parameters(), lr=2.0), tr, va, epochs=40, callbacks=[es, Snap()], verbose=False)
    if h.stop_reason == "early_stopping":
        assert len(h) == es.best_epoch + 2
    best = snapshots[es.best_epoch]
    now = weights(model)
    for k in best:
        assert (best[k] == now[k]).all()


def test_reduce_lr_on_plateau_gets_the_monitored_metric():
    p = tg.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.2, patience=1, min_lr=1e-3)
    cb = LRScheduler(sched)
    assert cb.plateau and cb.interval == "epoch"
    t = FakeTrainer()
    for e, v in enumerate([1.0] * 12, start=1):
        cb.on_epoch_end(t, e, {"val_loss": v, "loss": 0.0})
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3)  # floored at min_lr


def test_onecycle_steps_per_batch(moons):
    tr, _ = moons
    model = small_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3 * len(tr))
    h = fit(model, opt, tr, epochs=3, scheduler=sched, verbose=False)
    assert LRScheduler(sched).interval == "batch"
    assert h["lr"][0] < h["lr"][1]  # warming up at the start of epoch 2
    assert opt.param_groups[0]["lr"] < 1e-3  # annealed at the end


def test_gradient_clipping_before_step(moons):
    tr, _ = moons
    model = small_mlp()
    seen = []

    class Check(Callback):
        order = 30  # after clipping (20), before the optimizer step

        def on_after_backward(self, trainer):
            total = math.sqrt(sum((p.grad.detach() ** 2).sum().item() for p in trainer.model.parameters()
                                  if p.grad is not None))
            seen.append(total)

    clip = GradientClipping(max_norm=1e-3)
    fit(model, optim.SGD(model.parameters(), lr=0.1), tr, epochs=1, callbacks=[clip, Check()], verbose=False)
    assert max(seen) <= 1e-3 * (1 + 1e-4)
    assert clip.last_norm > 1e-3
    seen.clear()
    fit(model, optim.SGD(model.parameters(), lr=0.1), tr, epochs=1, clip_grad_value=1e-4,
        callbacks=[Check()], verbose=False)
    n_params = sum(p.numel() for p in model.parameters())
    assert max(seen) <= 1e-4 * math.sqrt(n_params) * (1 + 1e-4)


def test_lectures_recipe_through_fit():
    """Early stopping (patience 3) + ReduceLROnPlateau(factor 0.2, patience 5, min_lr 1e-3),
    up to 100 epochs of batch 64 with shuffling."""
    from tinygrad_dnn.data import DataLoader, TensorDataset, make_spirals

    x, y = make_spirals(n_per_class=100, noise=0.2, seed=0)
    xv, yv = make_spirals(n_per_class=40, noise=0.2, seed=1)
    tr = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
    va = DataLoader(TensorDataset(xv, yv), batch_size=64)
    from tinygrad_dnn.train.models import MLP

    model = MLP(2, 3, hidden=[64, 64])
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.2, patience=5, min_lr=1e-3)
    h = fit(model, opt, tr, va, epochs=100, scheduler=sched,
            callbacks=[EarlyStopping(patience=3, verbose=False)], verbose=False)
    assert h.stop_reason in ("early_stopping", "completed")
    assert len(h) <= 100
    assert max(h["val_accuracy"]) > 0.6
    assert all(lr >= 1e-3 for lr in h["lr"])
