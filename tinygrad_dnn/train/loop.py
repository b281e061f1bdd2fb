"""The training loop: :func:`fit` / :class:`Trainer`.

Beside it: ``history.py`` (the :class:`History` it returns), ``checkpoint.py`` (the checkpoint format,
reading one back, state snapshots), ``batches.py`` (moving and splitting batches) and ``plots.py``
(:func:`plot_history`).

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
Ctrl-C during :meth:`Trainer.fit` (in the main thread) never interrupts an optimizer step: the
current batch is finished, then the complete state is saved (when a path is known) -- including the
position inside the epoch (the DataLoader's order and index), the RNG, the metrics accumulated so
far and ``global_step`` -- and ``fit`` returns the history with ``history.stop_reason == "interrupted"``.
Resuming from that file reproduces the uninterrupted run bit for bit (same machine and settings).
A second Ctrl-C stops at once and saves nothing.
"""
from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time

import tinygrad_dnn as tg

from .batches import batch_size, split_batch, to_device
from .callbacks import Callback, GradientClipping, LRScheduler, ModelCheckpoint
from .checkpoint import (CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, clone_state,  # noqa: F401
                         loader_state, read_checkpoint, set_loader_state)
from .history import History
from .plots import plot_history  # noqa: F401  (re-exported: tinygrad_dnn.train.loop.plot_history)

class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite. Attributes: ``epoch`` (1-based), ``batch`` (1-based), ``value``, ``history``."""

    def __init__(self, message, epoch=None, batch=None, value=None, history=None):
        super().__init__(message)
        self.epoch, self.batch, self.value, self.history = epoch, batch, value, history


# ----------------------------------------------------------------------------------------- helpers
def accuracy(output, target):
    """Fraction of rows whose arg-max matches the class index (or the arg-max of one-hot/soft targets)."""
    return _accuracy_tensor(output, target).item()


def _accuracy_tensor(output, target):
    with tg.no_grad():
        pred = output.argmax(dim=1)
        if target.ndim == output.ndim:  # probabilities / one-hot
            target = target.argmax(dim=1)
        return (pred == target).float().mean()


def _host_floats(values):
    """Python floats of a list of 0-d tensors / numbers, with one host read for the tensors."""
    idx = [i for i, v in enumerate(values) if hasattr(v, "detach")]
    out = [float(v) if not hasattr(v, "detach") else 0.0 for v in values]
    if idx:
        read = tg.stack([values[i].float() for i in idx]).tolist()
        for j, i in enumerate(idx):
            out[i] = float(read[j])
    return out


def _metric_name(m):
    return m if isinstance(m, str) else getattr(m, "__name__", type(m).__name__)


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
        sync_every: on a GPU, the losses and metrics stay on the device and are read back every
            ``sync_every`` steps and at the end of each epoch (the non-finite-loss check runs then);
            ``on_batch_end`` still runs after every step, with ``logs["loss"]`` a 0-d device Tensor.
            On the CPU every step, as before.
    """

    def __init__(self, model, optimizer, loss_fn=None, metrics=("accuracy",), callbacks=(), scheduler=None,
                 scheduler_monitor="val_loss", clip_grad_norm=None, clip_grad_value=None, device=None,
                 progress=True, verbose=True, interrupt_checkpoint=None, config=None, sync_every=50):
        self.model = model
        self.sync_every = max(1, int(sync_every))  # GPU only: steps between host reads of the losses
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
        self._epoch_progress = None  # while an epoch runs: {"sums", "count", "lr", "elapsed"} after each step
        self._resume_progress = None
        self._interrupt_requested = False

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
            # the epoch under way when saved mid-epoch (Ctrl-C): batches done, their metric sums, its lr
            "epoch_progress": clone_state(self._epoch_progress) if mid_epoch else None,
            "config": self.config,
        }

    def save_checkpoint(self, path, mid_epoch=False):
        """Write :meth:`state_dict` to ``path`` atomically (``tinygrad_dnn.save``)."""
        tg.save(self.state_dict(mid_epoch=mid_epoch), path)
        return path

    read_checkpoint = staticmethod(read_checkpoint)

    def load_state_dict(self, state, path="checkpoint"):
        """Restore a :meth:`state_dict`, all or nothing: if any part (model, optimizer, scheduler,
        callbacks) does not fit, every part is put back as it was and :class:`CheckpointError` is raised."""
        sched = self.scheduler
        backup = {"model": clone_state(self.model.state_dict()), "optimizer": self.optimizer.state_dict(),
                  "scheduler": sched.state_dict() if sched is not None and hasattr(sched, "state_dict") else None,
                  "callbacks": [clone_state(cb.state_dict()) for cb in self.callbacks]}
        try:
            self._load_parts(state, path)
        except BaseException:
            self.model.load_state_dict(backup["model"])
            self.optimizer.load_state_dict(backup["optimizer"])
            if backup["scheduler"] is not None:
                sched.load_state_dict(backup["scheduler"])
            for cb, st in zip(self.callbacks, backup["callbacks"]):
                cb.load_state_dict(st)
            raise
        self.history = History.from_dict(state.get("history") or {})
        self.epoch = int(state.get("epoch", 0))
        self.global_step = int(state.get("global_step", 0))
        if state.get("rng_state") is not None:
            tg.set_rng_state(state["rng_state"])
        self._pending_loader_state = state.get("loader_state")
        self._resume_progress = clone_state(state.get("epoch_progress")) if state.get("mid_epoch") else None

    def _load_parts(self, state, path):
        try:
            self.model.load_state_dict(state["model"])
        except Exception as e:
            raise CheckpointError(f"cannot resume from {path}: its model does not match this model ({e})") from e
        try:
            self.optimizer.load_state_dict(state["optimizer"])
        except Exception as e:
            raise CheckpointError(f"cannot resume from {path}: its optimizer state does not match this "
                                  f"optimizer ({type(e).__name__}: {e})") from e
        try:
            saved_cbs = state.get("callbacks") or {}
            for key, cb in zip(self._callback_keys(), self.callbacks):
                if key in saved_cbs:
                    cb.load_state_dict(saved_cbs[key])
            sched = self.scheduler
            if sched is not None and state.get("scheduler") is not None and hasattr(sched, "load_state_dict"):
                sched.load_state_dict(state["scheduler"])
        except Exception as e:
            raise CheckpointError(f"cannot resume from {path}: its scheduler/callback state does not match "
                                  f"({type(e).__name__}: {e})") from e

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

    def _compute_metrics(self, out, y, host=True):
        vals = {}
        for m in self.metrics:
            name = "accuracy" if m in ("accuracy", "acc") else _metric_name(m)
            if not host:  # keep device values on the device (read back in a batch by the caller)
                v = _accuracy_tensor(out, y) if isinstance(m, str) else m(out, y)
                vals[name] = v.detach() if hasattr(v, "detach") else float(v)
                continue
            v = accuracy(out, y) if isinstance(m, str) else m(out, y)
            vals[name] = float(v.item() if hasattr(v, "item") else v)
        return vals

    def train_epoch(self, loader, lr=None):
        """One pass over ``loader`` in training mode; returns ``{'loss': ..., 'accuracy': ...}``.

        After every step ``self._epoch_progress`` holds what a mid-epoch checkpoint needs (batches done,
        metric sums); a resumed mid-epoch state continues from there with the loader's next batch.
        """
        self.model.train()
        e = self.epoch + 1
        progress, self._resume_progress = self._resume_progress, None
        sums = dict(progress["sums"]) if progress else {}
        count = int(progress["count"]) if progress else 0
        done = int(progress["batch"]) if progress else 0
        self._epoch_progress = {"sums": dict(sums), "count": count, "batch": done, "lr": lr}
        if progress and hasattr(loader, "__len__") and done >= len(loader):
            return {k: v / max(count, 1) for k, v in sums.items()}  # interrupted after the epoch's last step
        bar = None
        it = loader_iter = iter(loader)
        if self.progress and _is_terminal():
            try:
                from tqdm.auto import tqdm

                n = len(loader) if hasattr(loader, "__len__") else None
                try:
                    cols = os.get_terminal_size(sys.stderr.fileno()).columns
                except OSError:
                    cols = 0
                bar = tqdm(loader_iter, total=n, initial=done, desc=f"epoch {e}/{self.epochs}", leave=False,
                           file=sys.stderr, dynamic_ncols=cols > 0, ncols=None if cols > 0 else 100)
                it = bar
            except ImportError:  # pragma: no cover
                bar = None
        self._batch_in_epoch = done
        # On a GPU (a backend with deferred checks) reading the loss back every batch is a host
        # synchronization per step: there the losses and metrics stay on the device and are read back
        # together every ``sync_every`` steps and at the end of the epoch (the non-finite check and the
        # running sums then, for each buffered step in order); callbacks' on_batch_end still runs after
        # every step (schedulers step per batch), with logs["loss"] a 0-d device Tensor (float() reads it).
        # On the CPU: every step, as before.
        deferred = getattr(self.device_backend(), "deferred_checks", False)
        pending = []
        state = {"sums": sums, "count": count}

        def record(b, lv, n, metric_vals, callback=True):
            if not math.isfinite(lv):
                raise NonFiniteLossError(
                    f"training stopped: the loss became {lv} at epoch {e}, batch {b} (learning rate {self.lr:.3g}). "
                    "Lower the learning rate, clip gradients (clip_grad_norm=1.0 / --clip-grad-norm 1), "
                    "or check the inputs for NaN/inf.", epoch=e, batch=b, value=lv, history=self.history)
            state["count"] += n
            sums["loss"] = sums.get("loss", 0.0) + lv * n
            for k, v in metric_vals.items():
                sums[k] = sums.get(k, 0.0) + v * n
            if callback:
                self._cb("on_batch_end", b, {"loss": lv})
            if bar is not None:
                bar.set_postfix(loss=f"{sums['loss'] / state['count']:.4f}", refresh=False)
            self._epoch_progress = {"sums": dict(sums), "count": state["count"], "batch": b, "lr": lr}

        def flush():
            if not pending:
                return
            items = list(pending)
            pending.clear()
            losses = tg.stack([it_[1] for it_ in items]).tolist()  # one host read for the interval
            names = list(items[0][3])
            cols = {k: _host_floats([it_[3][k] for it_ in items]) for k in names}
            for i, (b, _, n, _m) in enumerate(items):
                record(b, float(losses[i]), n, {k: cols[k][i] for k in names}, callback=False)

        try:
            for b, batch in enumerate(it, start=done + 1):
                self._in_step = True
                self._batch_in_epoch = b
                x, y = split_batch(to_device(batch, self.device))
                self._cb("on_batch_begin", b)
                self.optimizer.zero_grad()
                out = self.model(x)
                loss = self.loss_fn(out, y)
                if not deferred:
                    lv = loss.item()
                    if not math.isfinite(lv):
                        record(b, lv, 0, {})  # raises NonFiniteLossError before the step
                loss.backward()
                self._cb("on_after_backward")
                self.optimizer.step()
                self.global_step += 1
                n = batch_size(x)
                if deferred:
                    pending.append((b, loss.detach(), n, self._compute_metrics(out.detach(), y, host=False)))
                    self._cb("on_batch_end", b, {"loss": pending[-1][1]})
                    if len(pending) >= self.sync_every:
                        flush()
                else:
                    record(b, lv, n, self._compute_metrics(out.detach(), y))
                self._in_step = False
                if self._interrupt_requested:  # Ctrl-C arrived during this step: stop here, between steps
                    flush()
                    raise KeyboardInterrupt
            flush()
        finally:
            if bar is not None:
                bar.close()
            close = getattr(loader_iter, "close", None)
            if close is not None:  # a DataLoader's position is final now (not whenever GC runs)
                close()
        count = state["count"]
        return {k: v / max(count, 1) for k, v in sums.items()}

    def device_backend(self):
        """The backend of ``self.device`` (None if no device was set)."""
        if self.device is None:
            return None
        from tinygrad_dnn.backend import get_backend

        return get_backend(self.device)

    def evaluate(self, loader, prefix=""):
        """Loss and metrics over ``loader`` in eval mode under ``no_grad``; restores the previous mode."""
        was_training = getattr(self.model, "training", False)
        self.model.eval()
        sums, count = {}, 0
        deferred = getattr(self.device_backend(), "deferred_checks", False)  # a GPU: one host read at the end
        pending = []
        try:
            with tg.no_grad():
                for batch in loader:
                    x, y = split_batch(to_device(batch, self.device))
                    out = self.model(x)
                    n = batch_size(x)
                    if deferred:
                        pending.append((self.loss_fn(out, y).detach(), n, self._compute_metrics(out, y, host=False)))
                        continue
                    lv = self.loss_fn(out, y).item()
                    count += n
                    sums["loss"] = sums.get("loss", 0.0) + lv * n
                    for k, v in self._compute_metrics(out, y).items():
                        sums[k] = sums.get(k, 0.0) + v * n
            if pending:
                losses = tg.stack([p_[0] for p_ in pending]).tolist()
                names = list(pending[0][2])
                cols = {k: _host_floats([p_[2][k] for p_ in pending]) for k in names}
                for i, (_, n, _m) in enumerate(pending):
                    count += n
                    sums["loss"] = sums.get("loss", 0.0) + float(losses[i]) * n
                    for k in names:
                        sums[k] = sums.get(k, 0.0) + cols[k][i] * n
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
        self._interrupt_requested = self._hard_interrupt = self._in_step = False
        restore_handler = self._install_sigint_handler()
        try:
            return self._fit_loop(train_loader, val_loader, epochs)
        finally:
            restore_handler()

    def _install_sigint_handler(self):
        """Defer Ctrl-C to the end of the current step (main thread, default handler only)."""
        if threading.current_thread() is not threading.main_thread() or \
                signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return lambda: None

        def handler(signum, frame):
            if self._interrupt_requested:  # the second Ctrl-C: stop now, save nothing
                self._hard_interrupt = True
                raise KeyboardInterrupt
            self._interrupt_requested = True
            try:
                os.write(2, b"\nCtrl-C: stopping after the current step (press again to stop at once, "
                            b"without saving)\n")
            except OSError:
                pass

        signal.signal(signal.SIGINT, handler)
        return lambda: signal.signal(signal.SIGINT, signal.default_int_handler)

    def _fit_loop(self, train_loader, val_loader, epochs):
        self._cb("on_train_begin")
        try:
            while self.epoch < epochs and not self.stop_training:
                if self._interrupt_requested:  # Ctrl-C during validation/callbacks: stop at the epoch boundary
                    raise KeyboardInterrupt
                e = self.epoch + 1
                t0 = time.perf_counter()
                resumed = self._resume_progress
                lr = resumed["lr"] if resumed and resumed.get("lr") is not None else self.lr
                if not resumed:
                    self._cb("on_epoch_begin", e)
                logs = {"epoch": e}
                logs.update(self.train_epoch(train_loader, lr=lr))
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
                self._in_step = True  # from here to the end of the callbacks the state is not resumable
                self.epoch = e
                self._epoch_progress = None
                self.history.append(logs)
                self._cb("on_epoch_end", e, logs)
                self._in_step = False
                if self.verbose:
                    self._print_epoch(logs)
            self.history.stop_reason = self.history.stop_reason or ("early_stopping" if self.stop_training
                                                                    else "completed")
        except KeyboardInterrupt:
            self.history.stop_reason = "interrupted"
            self.history.interrupted = True
            path = self._default_interrupt_path()
            msg = f"interrupted (Ctrl-C) during epoch {self.epoch + 1}, batch {self._batch_in_epoch}"
            if self._in_step or self._hard_interrupt:
                # an optimizer step (or the epoch-end callbacks) may be half applied: never saved
                path = None
                msg += ("; stopped inside an optimizer step or epoch-end update, so nothing was saved (the last "
                        "epoch-end checkpoint is intact)")
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
