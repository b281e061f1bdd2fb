"""Snapshot ensembles (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for free") as a callback.

One training run of ``T`` iterations is split into ``M`` cycles of ``L = T / M`` iterations; in each
cycle the learning rate follows a cosine from ``lr0`` down to (almost) 0,

    lr(t) = lr0 / 2 * (cos(pi * (t mod L) / L) + 1),        t = 0, 1, ..., T - 1,

so each cycle ends in a (local) minimum and the restart kicks the weights out again. A copy of the
weights -- a snapshot -- is taken at the end of every cycle. The ensemble predicts with the mean of
the snapshots' softmax outputs, ``p(y | x) = (1/M) sum_m softmax(f_m(x))``.
"""
from __future__ import annotations

import math
import os

import tinygrad_dnn as tg

from .callbacks import Callback
from .checkpoint import clone_state

__all__ = ["SnapshotEnsemble", "snapshot_lr"]


def snapshot_lr(t, total, cycles, lr0):
    """The cyclic cosine learning rate of iteration ``t`` (0-based) of ``total`` split into ``cycles``."""
    length = math.ceil(total / cycles)
    return lr0 / 2 * (math.cos(math.pi * (t % length) / length) + 1)


class SnapshotEnsemble(Callback):
    """Cyclic cosine learning rate (set before every batch) and a snapshot of the weights at each cycle's end.

    ``cycles`` (M) must divide the number of epochs given to ``fit``, so cycles end with epochs; the
    learning rate restarts at ``lr0`` (the optimizer's initial ``lr`` of each parameter group, or
    ``lr_max``) and decays per batch. ``snapshots`` holds the M state dicts (copies), ``snapshot_epochs``
    the epochs they were taken at; with ``path`` (may contain ``{cycle}``, 1-based) each is also saved
    with ``tinygrad_dnn.save``. :meth:`predict` averages the snapshots' softmax outputs. Do not combine
    it with another learning-rate scheduler.
    """

    order = 10

    def __init__(self, cycles, lr_max=None, path=None, keep_last=None):
        if not isinstance(cycles, int) or cycles < 1:
            raise ValueError(f"SnapshotEnsemble: cycles must be a positive integer, got {cycles!r}")
        if keep_last is not None and keep_last < 1:
            raise ValueError(f"SnapshotEnsemble: keep_last must be >= 1 or None, got {keep_last!r}")
        self.cycles, self.lr_max, self.keep_last = cycles, lr_max, keep_last
        self.path = os.fspath(path) if path is not None else None
        self.snapshots, self.snapshot_epochs, self.base_lrs = [], [], None
        self._epochs_per_cycle = self._batches = None

    def on_train_begin(self, trainer):
        epochs = trainer.epochs
        if epochs % self.cycles:
            raise ValueError(f"SnapshotEnsemble: cycles={self.cycles} must divide the number of epochs ({epochs}) "
                             "so that every cycle ends with an epoch")
        if not hasattr(trainer.train_loader, "__len__"):
            raise TypeError("SnapshotEnsemble needs a training loader with a length (batches per epoch)")
        self._epochs_per_cycle, self._batches = epochs // self.cycles, len(trainer.train_loader)
        if self.base_lrs is None:
            groups = trainer.optimizer.param_groups
            self.base_lrs = [float(self.lr_max if self.lr_max is not None else g["lr"]) for g in groups]

    def lr_at(self, t, group=0):
        """The learning rate of 0-based iteration ``t``."""
        total = self._epochs_per_cycle * self.cycles * self._batches
        return snapshot_lr(t, total, self.cycles, self.base_lrs[group])

    def on_batch_begin(self, trainer, batch):
        t = trainer.epoch * self._batches + batch - 1  # trainer.epoch = completed epochs
        for i, g in enumerate(trainer.optimizer.param_groups):
            g["lr"] = self.lr_at(t, i)

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch % self._epochs_per_cycle:
            return
        self.snapshots.append(clone_state(trainer.model.state_dict()))
        self.snapshot_epochs.append(epoch)
        if self.keep_last is not None:
            del self.snapshots[:-self.keep_last], self.snapshot_epochs[:-self.keep_last]
        if self.path is not None:
            tg.save(self.snapshots[-1], self.path.format(cycle=epoch // self._epochs_per_cycle))

    def predict(self, model, x, last=None):
        """Mean softmax (over dim 1) of the last ``last`` (default: all) snapshots loaded into ``model``.

        ``model`` is put in eval mode for the predictions; its own weights are restored afterwards.
        """
        if not self.snapshots:
            raise RuntimeError("SnapshotEnsemble.predict: no snapshot yet; train with fit(..., callbacks=[this])")
        snaps = self.snapshots[-last:] if last else self.snapshots
        current, was_training = clone_state(model.state_dict()), model.training
        model.eval()
        try:
            with tg.no_grad():
                total = None
                for s in snaps:
                    model.load_state_dict(s)
                    p = model(x).softmax(1)
                    total = p if total is None else total + p
        finally:
            model.load_state_dict(current)
            model.train(was_training)
        return total / len(snaps)

    def state_dict(self):
        return {"snapshots": self.snapshots, "snapshot_epochs": list(self.snapshot_epochs), "base_lrs": self.base_lrs}

    def load_state_dict(self, state):
        self.snapshots = list(state.get("snapshots") or [])
        self.snapshot_epochs = list(state.get("snapshot_epochs") or [])
        self.base_lrs = state.get("base_lrs")
