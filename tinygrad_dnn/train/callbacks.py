"""Callbacks for :class:`~tinygrad_dnn.train.Trainer`: early stopping, LR scheduling, checkpoints, clipping.

A callback overrides any of these hooks (each gets the trainer first):
``on_train_begin``, ``on_epoch_begin(epoch)``, ``on_batch_begin(batch)``, ``on_after_backward``
(gradients are ready, before ``optimizer.step()``), ``on_batch_end(batch, logs)``,
``on_epoch_end(epoch, logs)`` (``logs`` has ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``,
``lr``), ``on_train_end``. Set ``trainer.stop_training = True`` to stop after the current epoch.
A callback with state implements ``state_dict()`` / ``load_state_dict()`` so checkpoints resume it.
Callbacks run sorted by ``order``: schedulers (10), user callbacks (50), checkpoints (100).
"""
from __future__ import annotations

import math
import os
import sys

from .checkpoint import clone_state


def _mode_is_min(monitor, mode):
    if mode == "min":
        return True
    if mode == "max":
        return False
    if mode != "auto":
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return "acc" not in monitor


def _monitored(trainer, logs, monitor, who):
    if monitor in logs:
        return logs[monitor]
    if monitor.startswith("val_") and monitor[4:] in logs and trainer.val_loader is None:
        if not getattr(trainer, f"_warned_{who}", False):
            print(f"warning: {who} monitors {monitor!r} but there is no validation loader; using {monitor[4:]!r}",
                  file=sys.stderr)
            setattr(trainer, f"_warned_{who}", True)
        return logs[monitor[4:]]
    raise KeyError(f"{who}: metric {monitor!r} is not in the epoch logs (available: {', '.join(sorted(logs))})")


class Callback:
    order = 50

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_begin(self, trainer, batch):
        pass

    def on_after_backward(self, trainer):
        pass

    def on_batch_end(self, trainer, batch, logs):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs (Keras' rule).

    ``mode``: 'min', 'max' or 'auto' (max for names containing 'acc'). ``restore_best_weights``:
    at the end of training load the weights of the best epoch (kept as a copy of ``state_dict()``).
    ``baseline``: stop unless the metric beats this value within ``patience`` epochs.
    """

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, mode="auto", restore_best_weights=False,
                 baseline=None, verbose=True):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.lower = _mode_is_min(monitor, mode)
        self.restore_best_weights, self.baseline, self.verbose = restore_best_weights, baseline, verbose
        self.best = None
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None
        self.best_weights = None

    def _improved(self, value, ref):
        if ref is None:
            return True
        return value < ref - self.min_delta if self.lower else value > ref + self.min_delta

    def on_train_begin(self, trainer):
        if self.best is None and self.baseline is not None:
            self.best = float(self.baseline)

    def on_epoch_end(self, trainer, epoch, logs):
        value = float(_monitored(trainer, logs, self.monitor, "EarlyStopping"))
        if math.isnan(value):
            return
        if self._improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = clone_state(trainer.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.history.stop_reason = "early_stopping"
            if self.verbose:
                print(f"early stopping at epoch {epoch}: {self.monitor} has not improved for {self.wait} epochs "
                      f"(best {self.best:.4f} at epoch {self.best_epoch})", flush=True)

    def on_train_end(self, trainer):
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != trainer.epoch:
            trainer.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"restored the weights of epoch {self.best_epoch} ({self.monitor} {self.best:.4f})", flush=True)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state.get("best"), state.get("best_epoch")
        self.wait, self.stopped_epoch = int(state.get("wait", 0)), state.get("stopped_epoch")
        self.best_weights = state.get("best_weights")


def _scheduler_kind(scheduler):
    name = type(scheduler).__name__
    if name == "ReduceLROnPlateau":
        return "plateau"
    if name in ("OneCycleLR", "CyclicLR"):
        return "batch"
    return "epoch"


class LRScheduler(Callback):
    """Steps a learning-rate scheduler: per epoch, per batch (``OneCycleLR``, ``CyclicLR``) or, for
    ``ReduceLROnPlateau``, per epoch with the monitored metric (``monitor``, default ``val_loss``,
    falling back to the training loss without a validation loader).

    ``interval``: 'epoch', 'batch' or None (decide from the scheduler's class).
    """

    order = 10

    def __init__(self, scheduler, monitor="val_loss", interval=None):
        self.scheduler = scheduler
        self.monitor = monitor
        kind = _scheduler_kind(scheduler)
        if interval not in (None, "epoch", "batch"):
            raise ValueError(f"LRScheduler: interval must be 'epoch', 'batch' or None, got {interval!r}")
        self.plateau = kind == "plateau"
        self.interval = interval or ("batch" if kind == "batch" else "epoch")

    def on_batch_end(self, trainer, batch, logs):
        if self.interval == "batch" and not self.plateau:
            self.scheduler.step()

    def on_epoch_end(self, trainer, epoch, logs):
        if self.plateau:
            self.scheduler.step(float(_monitored(trainer, logs, self.monitor, "ReduceLROnPlateau")))
        elif self.interval == "epoch":
            self.scheduler.step()

    def state_dict(self):
        return self.scheduler.state_dict() if hasattr(self.scheduler, "state_dict") else {}

    def load_state_dict(self, state):
        if state and hasattr(self.scheduler, "load_state_dict"):
            self.scheduler.load_state_dict(state)


def _clip_functions():
    """``clip_grad_norm_`` / ``clip_grad_value_`` from ``tinygrad_dnn.nn.utils`` or ``tinygrad_dnn.optim``."""
    import importlib

    for mod in ("tinygrad_dnn.nn.utils", "tinygrad_dnn.optim", "tinygrad_dnn.optim.clip"):
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        if hasattr(m, "clip_grad_norm_") and hasattr(m, "clip_grad_value_"):
            return m.clip_grad_norm_, m.clip_grad_value_
    raise ImportError("gradient clipping needs clip_grad_norm_/clip_grad_value_ in tinygrad_dnn.nn.utils or "
                      "tinygrad_dnn.optim")


class GradientClipping(Callback):
    """Clip gradients before every optimizer step: by total norm (``max_norm``) and/or by value (``max_value``).

    The last total norm (before clipping) is ``self.last_norm``.
    """

    order = 20

    def __init__(self, max_norm=None, max_value=None, norm_type=2.0):
        if max_norm is None and max_value is None:
            raise ValueError("GradientClipping needs max_norm or max_value")
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"GradientClipping: max_norm must be > 0, got {max_norm}")
        if max_value is not None and not max_value > 0:
            raise ValueError(f"GradientClipping: max_value must be > 0, got {max_value}")
        self.max_norm, self.max_value, self.norm_type = max_norm, max_value, norm_type
        self.last_norm = None

    def on_after_backward(self, trainer):
        clip_norm, clip_value = _clip_functions()
        params = [p for p in trainer.model.parameters() if p.grad is not None]
        if self.max_value is not None:
            clip_value(params, self.max_value)
        if self.max_norm is not None:
            n = clip_norm(params, self.max_norm, norm_type=self.norm_type)
            self.last_norm = float(n.item() if hasattr(n, "item") else n)


class ModelCheckpoint(Callback):
    """Save the full trainer state (resumable) at the end of epochs, atomically (``tinygrad_dnn.save``).

    ``path`` may contain ``{epoch}`` (e.g. ``"ckpt/epoch{epoch:03d}.npz"``); ``every``: save every n epochs;
    ``save_best_only``: save only when ``monitor`` improves; ``best_path``: also keep the best epoch's state
    there. The file holds model, optimizer, scheduler, callbacks, epoch, history, RNG and DataLoader state,
    so ``fit(..., resume=path)`` continues exactly as if training had not stopped.
    """

    order = 100

    def __init__(self, path, monitor="val_loss", mode="auto", save_best_only=False, best_path=None, every=1,
                 verbose=False):
        if every < 1:
            raise ValueError(f"ModelCheckpoint: every must be >= 1, got {every}")
        self.path, self.monitor, self.mode = os.fspath(path), monitor, mode
        self.lower = _mode_is_min(monitor, mode)
        self.save_best_only, self.every, self.verbose = save_best_only, int(every), verbose
        self.best_path = os.fspath(best_path) if best_path is not None else None
        self.best = None
        self.last_saved = None

    def path_for(self, epoch):
        return self.path.format(epoch=epoch)

    def on_epoch_end(self, trainer, epoch, logs):
        improved = False
        if self.save_best_only or self.best_path:
            value = float(_monitored(trainer, logs, self.monitor, "ModelCheckpoint"))
            if not math.isnan(value) and (self.best is None or (value < self.best if self.lower else value > self.best)):
                self.best, improved = value, True
        if self.best_path and improved:
            trainer.save_checkpoint(self.best_path)
        if epoch % self.every and not trainer.stop_training and epoch != trainer.epochs:
            return
        if self.save_best_only and not improved:
            return
        path = self.path_for(epoch)
        trainer.save_checkpoint(path)
        self.last_saved = path
        if self.verbose:
            print(f"saved checkpoint {path}", flush=True)

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state.get("best")


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: ...)``."""

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)
