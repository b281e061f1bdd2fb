"""The training loop: :func:`fit` / :class:`Trainer`, the :class:`History` it returns, and :func:`plot_history`.

A minimal run::

    from tinygrad_dnn.train import fit, EarlyStopping
    history = fit(model, optimizer, train_loader, val_loader, epochs=100,
                  scheduler=ReduceLROnPlateau(optimizer, factor=0.2, patience=5, min_lr=1e-3),
                  callbacks=[EarlyStopping(patience=3)])
    plot_history(history, "curves.png")

What one epoch does: ``model.train()``; for every batch ``zero_grad``, forward, loss, a finite-loss
check (a NaN/inf loss stops training with :class:`NonFiniteLossError`, naming epoch and batch),
``backward``, gradient clipping, ``step``, per-batch schedulers; then ``model.eval()`` and the
validation pass under ``no_grad``; then the epoch-end callbacks in order: learning-rate schedulers
(``ReduceLROnPlateau`` gets the monitored metric), user callbacks (early stopping ...), checkpoints.

Checkpoints hold everything a resumed run needs to continue exactly as an uninterrupted one:
model, optimizer, scheduler and callback states, completed epochs, history, the global random
state (``tinygrad_dnn.get_rng_state()``) and the DataLoader's shuffling state.
Ctrl-C (KeyboardInterrupt) during :meth:`Trainer.fit` saves a checkpoint (when a path is known) and
returns the history with ``history.stop_reason == "interrupted"``.
"""
from __future__ import annotations

import math
import os
import sys
import time

import tinygrad_dnn as tg

from .callbacks import Callback, GradientClipping, LRScheduler, ModelCheckpoint, _mode_is_min

CHECKPOINT_FORMAT = "tinygrad_dnn.train.checkpoint"
CHECKPOINT_VERSION = 1


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite. Attributes: ``epoch`` (1-based), ``batch`` (1-based), ``value``, ``history``."""

    def __init__(self, message, epoch=None, batch=None, value=None, history=None):
        super().__init__(message)
        self.epoch, self.batch, self.value, self.history = epoch, batch, value, history


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from: corrupted, not a training checkpoint, or for another model."""


# ----------------------------------------------------------------------------------------- history
class History:
    """Per-epoch metrics, Keras-style: ``history["val_loss"]`` is a list with one value per epoch.

    Keys: ``epoch`` (1-based), ``loss``, ``accuracy`` (and other train metrics), ``val_loss``,
    ``val_accuracy`` (with a validation loader), ``lr`` (the learning rate used in the epoch),
    ``time`` (seconds). ``stop_reason`` is None, ``"early_stopping"``, ``"interrupted"`` or ``"completed"``.
    """

    def __init__(self, history=None):
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.stop_reason = None
        self.interrupted = False

    def append(self, logs):
        n = len(self)
        for k, v in logs.items():
            col = self.history.setdefault(k, [None] * n)
            col.append(v)
        for k, col in self.history.items():
            if len(col) < n + 1:
                col.append(None)

    def __len__(self):
        return len(self.history.get("epoch", []))

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def keys(self):
        return self.history.keys()

    def get(self, key, default=None):
        return self.history.get(key, default)

    def last(self, key=None):
        """The last epoch's logs (a dict), or one value."""
        if not len(self):
            return {} if key is None else None
        row = {k: v[-1] for k, v in self.history.items()}
        return row if key is None else row.get(key)

    def best(self, monitor="val_loss", mode="auto"):
        """``(epoch, value)`` of the best epoch for ``monitor``."""
        vals = [(e, v) for e, v in zip(self.history["epoch"], self.history[monitor]) if v is not None]
        if not vals:
            return None, None
        lower = _mode_is_min(monitor, mode)
        return (min if lower else max)(vals, key=lambda ev: ev[1])

    def to_dict(self):
        return {k: list(v) for k, v in self.history.items()}

    @classmethod
    def from_dict(cls, d):
        return cls(d)

    def __repr__(self):
        last = self.last()
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items() if k != "time")
        return f"History({len(self)} epochs{': ' + shown if shown else ''})"




# ----------------------------------------------------------------------------------------- helpers
def accuracy(output, target):
    """Fraction of rows whose arg-max matches the class index (or the arg-max of one-hot/soft targets)."""
    with tg.no_grad():
        pred = output.argmax(dim=1)
        if target.ndim == output.ndim:  # probabilities / one-hot
            target = target.argmax(dim=1)
        return (pred == target).float().mean().item()


def _metric_name(m):
    return m if isinstance(m, str) else getattr(m, "__name__", type(m).__name__)


def _to_device(batch, device):
    if device is None:
        return batch
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if hasattr(batch, "to") and hasattr(batch, "device"):
        return batch if str(batch.device) == str(device) else batch.to(device)
    return batch


def _split_batch(batch):
    if isinstance(batch, dict):
        return batch["x"] if "x" in batch else batch["input"], batch["y"] if "y" in batch else batch["target"]
    if isinstance(batch, (list, tuple)) and len(batch) >= 2:
        return batch[0], batch[1]
    raise TypeError(f"fit: a batch must be (inputs, targets), got {type(batch).__name__}")


def _batch_size(x):
    try:
        return int(x.shape[0])
    except Exception:
        return len(x)


def _clone_state(obj):
    """A deep copy of a (nested) state dict, cloning tensors so later in-place updates do not leak in."""
    if isinstance(obj, tg.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone_state(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone_state(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_clone_state(v) for v in obj)
    if hasattr(obj, "copy") and hasattr(obj, "shape"):
        return obj.copy()
    return obj


def loader_state(loader):
    """The shuffling state of a DataLoader (its generator's state), or None when it has none to save."""
    if loader is None:
        return None
    if hasattr(loader, "state_dict") and callable(loader.state_dict):
        return {"state_dict": loader.state_dict()}
    gen = getattr(loader, "generator", None)
    if gen is not None and hasattr(gen, "get_state"):
        return {"generator": gen.get_state()}
    sampler = getattr(loader, "sampler", None)
    gen = getattr(sampler, "generator", None)
    if gen is not None and hasattr(gen, "get_state"):
        return {"sampler_generator": gen.get_state()}
    return None


def set_loader_state(loader, state):
    if loader is None or not state:
        return
    if "state_dict" in state:
        loader.load_state_dict(state["state_dict"])
    elif "generator" in state and getattr(loader, "generator", None) is not None:
        loader.generator.set_state(state["generator"])
    elif "sampler_generator" in state:
        loader.sampler.generator.set_state(state["sampler_generator"])


def _is_terminal():
    try:
        return sys.stdout.isatty()
    except Exception:
        return False


# ----------------------------------------------------------------------------------------- trainer
class Trainer:
    """Owns a model, an optimizer, the loss, metrics and callbacks; :meth:`fit` runs epochs.

    Args:
        model, optimizer: a ``Module`` and an ``Optimizer``.
        loss_fn: ``loss_fn(output, target)`` returning a scalar Tensor (default: cross-entropy).
        metrics: names (``"accuracy"``) or callables ``fn(output, target) -> float`` averaged per sample.
        callbacks: :class:`~tinygrad_dnn.train.callbacks.Callback` objects.
        scheduler: an LR scheduler; stepped per epoch (``ReduceLROnPlateau`` with the value of
            ``scheduler_monitor``, default ``val_loss``) or per batch (``OneCycleLR``, ``CyclicLR``).
        clip_grad_norm / clip_grad_value: gradient clipping before every step.
        device: move the model and every batch there (``"cpu"``, ``"cuda"``, ``"strict"``).
        progress: a tqdm bar per epoch (only when stdout is a terminal).
        verbose: print one summary line per epoch.
        interrupt_checkpoint: where Ctrl-C saves the state (default: next to a ModelCheckpoint's file).
    """

    def __init__(self, model, optimizer, loss_fn=None, metrics=("accuracy",), callbacks=(), scheduler=None,
                 scheduler_monitor="val_loss", clip_grad_norm=None, clip_grad_value=None, device=None,
                 progress=True, verbose=True, interrupt_checkpoint=None, config=None):
        self.model = model
        self.optimizer = optimizer
        if loss_fn is None:
            from tinygrad_dnn.nn import functional as F

            loss_fn = F.cross_entropy
        self.loss_fn = loss_fn
        self.metrics = list(metrics or [])
        for m in self.metrics:
            if isinstance(m, str) and m not in ("accuracy", "acc"):
                raise ValueError(f"unknown metric {m!r}: use 'accuracy' or a callable fn(output, target)")
        cbs = list(callbacks or [])
        if scheduler is not None:
            cbs.append(LRScheduler(scheduler, monitor=scheduler_monitor))
        if clip_grad_norm is not None or clip_grad_value is not None:
            cbs.append(GradientClipping(max_norm=clip_grad_norm, max_value=clip_grad_value))
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback objects, got {type(cb).__name__}")
        # stable sort: schedulers first, then user callbacks, checkpoints last
        self.callbacks = sorted(cbs, key=lambda c: c.order)
        self.device = device
        if device is not None:
            model.to(device)
        self.progress = progress
        self.verbose = verbose
        self.interrupt_checkpoint = interrupt_checkpoint
        self.config = dict(config or {})
        self.history = History()
        self.epoch = 0  # completed epochs
        self.global_step = 0
        self.stop_training = False
        self.train_loader = None
        self.val_loader = None
        self.epochs = None
        self._batch_in_epoch = 0

    # ------------------------------------------------------------------ state
    @property
    def scheduler(self):
        for cb in self.callbacks:
            if isinstance(cb, LRScheduler):
                return cb.scheduler
        return None

    def _callback_keys(self):
        return [f"{i}:{type(cb).__name__}" for i, cb in enumerate(self.callbacks)]

    def state_dict(self, mid_epoch=False):
        """Everything needed to resume: model, optimizer, callbacks (schedulers...), epoch, history, RNG, loader."""
        sched = self.scheduler
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "mid_epoch": bool(mid_epoch),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": sched.state_dict() if sched is not None and hasattr(sched, "state_dict") else None,
            "callbacks": {k: cb.state_dict() for k, cb in zip(self._callback_keys(), self.callbacks)},
            "history": self.history.to_dict(),
            "rng_state": tg.get_rng_state(),
            "loader_state": loader_state(self.train_loader),
            "config": self.config,
        }

    def save_checkpoint(self, path, mid_epoch=False):
        """Write :meth:`state_dict` to ``path`` atomically (``tinygrad_dnn.save``)."""
        tg.save(self.state_dict(mid_epoch=mid_epoch), path)
        return path

    @staticmethod
    def read_checkpoint(path):
        """Load and validate a training checkpoint; raises :class:`CheckpointError` with a clear message."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise CheckpointError(f"checkpoint {path!r} does not exist")
        try:
            state = tg.load(path)
        except Exception as e:
            raise CheckpointError(f"cannot resume from {path!r}: the file is corrupted or not a tinygrad_dnn "
                                  f"checkpoint ({e})") from e
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"cannot resume from {path!r}: it is not a training checkpoint written by "
                                  "tinygrad_dnn.train (no trainer state inside; a bare state_dict can be loaded "
                                  "with model.load_state_dict(tinygrad_dnn.load(path)))")
        if state.get("version", 0) > CHECKPOINT_VERSION:
            raise CheckpointError(f"cannot resume from {path!r}: checkpoint version {state.get('version')} is newer "
                                  f"than this tinygrad_dnn understands ({CHECKPOINT_VERSION})")
        return state

    def load_state_dict(self, state, path="checkpoint"):
        """Restore a :meth:`state_dict`. The model is checked first so a mismatch changes nothing."""
        try:
            self.model.load_state_dict(state["model"])
        except Exception as e:
            raise CheckpointError(f"cannot resume from {path}: its model does not match this model ({e})") from e
        try:
            self.optimizer.load_state_dict(state["optimizer"])
        except Exception as e:
            raise CheckpointError(f"cannot resume from {path}: its optimizer state does not match this "
                                  f"optimizer ({type(e).__name__}: {e})") from e
        saved_cbs = state.get("callbacks") or {}
        for key, cb in zip(self._callback_keys(), self.callbacks):
            if key in saved_cbs:
                cb.load_state_dict(saved_cbs[key])
        sched = self.scheduler
        if sched is not None and state.get("scheduler") is not None and hasattr(sched, "load_state_dict"):
            sched.load_state_dict(state["scheduler"])
        self.history = History.from_dict(state.get("history") or {})
        self.epoch = int(state.get("epoch", 0))
        self.global_step = int(state.get("global_step", 0))
        if state.get("rng_state") is not None:
            tg.set_rng_state(state["rng_state"])
        self._pending_loader_state = state.get("loader_state")

    def load_checkpoint(self, path):
        self.load_state_dict(self.read_checkpoint(path), path=repr(os.fspath(path)))
        return self

    # ------------------------------------------------------------------ loops
    def _cb(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    @property
    def lr(self):
        return float(self.optimizer.param_groups[0]["lr"])

    def _compute_metrics(self, out, y):
        vals = {}
        for m in self.metrics:
            name = "accuracy" if m in ("accuracy", "acc") else _metric_name(m)
            v = accuracy(out, y) if isinstance(m, str) else m(out, y)
            vals[name] = float(v.item() if hasattr(v, "item") else v)
        return vals

    def train_epoch(self, loader):
        """One pass over ``loader`` in training mode; returns ``{'loss': ..., 'accuracy': ...}``."""
        self.model.train()
        e = self.epoch + 1
        bar = None
        it = loader
        if self.progress and _is_terminal():
            try:
                from tqdm.auto import tqdm

                n = len(loader) if hasattr(loader, "__len__") else None
                try:
                    cols = os.get_terminal_size(sys.stderr.fileno()).columns
                except OSError:
                    cols = 0
                bar = tqdm(loader, total=n, desc=f"epoch {e}/{self.epochs}", leave=False, file=sys.stderr,
                           dynamic_ncols=cols > 0, ncols=None if cols > 0 else 100)
                it = bar
            except ImportError:  # pragma: no cover
                bar = None
        sums, count = {}, 0
        self._batch_in_epoch = 0
        try:
            for b, batch in enumerate(it, start=1):
                self._batch_in_epoch = b
                x, y = _split_batch(_to_device(batch, self.device))
                self._cb("on_batch_begin", b)
                self.optimizer.zero_grad()
                out = self.model(x)
                loss = self.loss_fn(out, y)
                lv = loss.item()
                if not math.isfinite(lv):
                    raise NonFiniteLossError(
                        f"training stopped: the loss became {lv} at epoch {e}, batch {b} (learning rate {self.lr:.3g}). "
                        "Lower the learning rate, clip gradients (clip_grad_norm=1.0 / --clip-grad-norm 1), "
                        "or check the inputs for NaN/inf.", epoch=e, batch=b, value=lv, history=self.history)
                loss.backward()
                self._cb("on_after_backward")
                self.optimizer.step()
                self.global_step += 1
                n = _batch_size(x)
                count += n
                sums["loss"] = sums.get("loss", 0.0) + lv * n
                for k, v in self._compute_metrics(out.detach(), y).items():
                    sums[k] = sums.get(k, 0.0) + v * n
                self._cb("on_batch_end", b, {"loss": lv})
                if bar is not None:
                    bar.set_postfix(loss=f"{sums['loss'] / count:.4f}", refresh=False)
        finally:
            if bar is not None:
                bar.close()
        return {k: v / max(count, 1) for k, v in sums.items()}

    def evaluate(self, loader, prefix=""):
        """Loss and metrics over ``loader`` in eval mode under ``no_grad``; restores the previous mode."""
        was_training = getattr(self.model, "training", False)
        self.model.eval()
        sums, count = {}, 0
        try:
            with tg.no_grad():
                for batch in loader:
                    x, y = _split_batch(_to_device(batch, self.device))
                    out = self.model(x)
                    lv = self.loss_fn(out, y).item()
                    n = _batch_size(x)
                    count += n
                    sums["loss"] = sums.get("loss", 0.0) + lv * n
                    for k, v in self._compute_metrics(out, y).items():
                        sums[k] = sums.get(k, 0.0) + v * n
        finally:
            self.model.train(was_training)
        return {prefix + k: v / max(count, 1) for k, v in sums.items()}

    def _default_interrupt_path(self):
        if self.interrupt_checkpoint:
            return self.interrupt_checkpoint
        for cb in self.callbacks:
            if isinstance(cb, ModelCheckpoint):
                return os.path.join(os.path.dirname(os.path.abspath(cb.path_for(self.epoch))), "interrupted.npz")
        return None

    def fit(self, train_loader, val_loader=None, epochs=10, resume=None):
        """Train until ``epochs`` epochs are completed in total (resumed epochs count), early stopping or Ctrl-C."""
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        self.train_loader, self.val_loader, self.epochs = train_loader, val_loader, epochs
        if resume is not None:
            self.load_checkpoint(resume)
        pending, self._pending_loader_state = getattr(self, "_pending_loader_state", None), None
        if pending is not None:
            set_loader_state(train_loader, pending)
        self.stop_training = False
        self.history.stop_reason = None
        self._cb("on_train_begin")
        try:
            while self.epoch < epochs and not self.stop_training:
                e = self.epoch + 1
                t0 = time.perf_counter()
                lr = self.lr
                self._cb("on_epoch_begin", e)
                logs = {"epoch": e}
                logs.update(self.train_epoch(train_loader))
                if val_loader is not None:
                    vlogs = self.evaluate(val_loader, prefix="val_")
                    if not math.isfinite(vlogs["val_loss"]):
                        raise NonFiniteLossError(
                            f"training stopped: the validation loss became {vlogs['val_loss']} at epoch {e}. "
                            "Lower the learning rate or clip gradients.", epoch=e, value=vlogs["val_loss"],
                            history=self.history)
                    logs.update(vlogs)
                logs["lr"] = lr
                logs["time"] = time.perf_counter() - t0
                self.epoch = e
                self.history.append(logs)
                self._cb("on_epoch_end", e, logs)
                if self.verbose:
                    self._print_epoch(logs)
            self.history.stop_reason = self.history.stop_reason or ("early_stopping" if self.stop_training
                                                                    else "completed")
        except KeyboardInterrupt:
            self.history.stop_reason = "interrupted"
            self.history.interrupted = True
            path = self._default_interrupt_path()
            msg = f"interrupted (Ctrl-C) during epoch {self.epoch + 1}, batch {self._batch_in_epoch}"
            if path is not None:
                self.save_checkpoint(path, mid_epoch=True)
                msg += (f"; saved the current state to {path} (resuming continues epoch {self.epoch + 1} "
                        "from the next batch)")
            print(msg, file=sys.stderr, flush=True)
            self.interrupted_checkpoint = path
            return self.history
        self._cb("on_train_end")
        return self.history

    def _print_epoch(self, logs):
        parts = [f"epoch {logs['epoch']:>3}/{self.epochs}"]
        for k in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if k in logs:
                parts.append(f"{k} {logs[k]:.4f}")
        for k, v in logs.items():
            if k not in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time") and isinstance(v, float):
                parts.append(f"{k} {v:.4f}")
        parts.append(f"lr {logs['lr']:.3g}")
        parts.append(f"{logs['time']:.2f}s")
        line = "  ".join(parts)
        try:
            from tqdm.auto import tqdm

            tqdm.write(line, file=sys.stdout)
        except ImportError:  # pragma: no cover
            print(line, flush=True)


def fit(model, optimizer, train_loader, val_loader=None, epochs=10, loss_fn=None, metrics=("accuracy",),
        callbacks=(), scheduler=None, clip_grad_norm=None, clip_grad_value=None, device=None, progress=True,
        verbose=True, resume=None, scheduler_monitor="val_loss", interrupt_checkpoint=None):
    """Train ``model`` and return its :class:`History` (see :class:`Trainer` for the arguments).

    ``resume`` is a checkpoint path written by :class:`ModelCheckpoint` (or Ctrl-C); training then
    continues from the saved epoch up to ``epochs`` in total. The trainer is ``history.trainer``.
    """
    trainer = Trainer(model, optimizer, loss_fn=loss_fn, metrics=metrics, callbacks=callbacks, scheduler=scheduler,
                      scheduler_monitor=scheduler_monitor, clip_grad_norm=clip_grad_norm,
                      clip_grad_value=clip_grad_value, device=device, progress=progress, verbose=verbose,
                      interrupt_checkpoint=interrupt_checkpoint)
    history = trainer.fit(train_loader, val_loader, epochs=epochs, resume=resume)
    history.trainer = trainer
    return history


# ----------------------------------------------------------------------------------------- plots
def _figure(nrows, ncols, size):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, path):
    """Save a matplotlib Figure to PNG atomically-ish (temp file + rename); returns the path."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    fig.tight_layout()
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, path)
    return path


def plot_history(history, path=None):
    """Loss, accuracy and learning-rate curves per epoch (train and validation) to a PNG.

    ``history`` is a :class:`History` or its ``to_dict()``. Returns the matplotlib Figure (and
    writes ``path`` when given). Uses the Agg canvas, so no display is needed.
    """
    h = history.history if isinstance(history, History) else dict(history)
    epochs = h.get("epoch") or list(range(1, len(h.get("loss", [])) + 1))
    panels = [("loss", "loss"), ("accuracy", "accuracy")]
    panels = [p for p in panels if p[0] in h or "val_" + p[0] in h]
    show_lr = "lr" in h
    fig, axes = _figure(1, len(panels) + show_lr, (4.2 * (len(panels) + show_lr), 3.4))
    for ax, (key, title) in zip(axes[0], panels):
        for k, label, style in ((key, "train", "-"), ("val_" + key, "validation", "--")):
            if k in h:
                pts = [(e, v) for e, v in zip(epochs, h[k]) if v is not None]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="." if len(pts) < 30 else None,
                            label=label)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    if show_lr:
        ax = axes[0][-1]
        ax.plot(epochs, h["lr"], color="tab:green")
        if all(v is not None and v > 0 for v in h["lr"]):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title("learning rate")
        ax.grid(alpha=0.3)
    if path is not None:
        save_figure(fig, path)
    return fig
