"""Babysitting a network: look inside before (and while) you train.

From Python, and each as a PNG plot:

- :func:`activation_stats` / :class:`ActivationMonitor` (forward hooks): per-layer activation mean,
  std, histogram values, dead-ReLU fraction (units that are zero for every example of the batch) and
  saturation fraction (tanh ``|y| > 0.97``, sigmoid outside ``[0.015, 0.985]``) -> :func:`plot_activations`.
- :func:`gradient_norms` after ``backward()``: per-parameter gradient norm and grad/weight ratio
  -> :func:`plot_gradient_norms`.
- :func:`update_ratios` / :class:`UpdateRatioMonitor` (a ``fit`` callback): ``std(update) / std(weight)``
  per weight matrix and step; about ``1e-3`` is healthy (much lower: learning too slowly, much higher:
  unstable) -> :func:`plot_update_ratios`.
- :func:`check_initial_loss`: the loss at initialization should be close to ``log(C)`` for C classes.
- :func:`overfit_tiny_batch`: a working model and training loop can drive a handful of examples to
  100% training accuracy.
- :func:`lr_range_test`: exponentially increasing learning rate, loss vs lr (Smith's range test),
  with a suggested learning rate -> :func:`plot_lr_range`. Model, optimizer and random state are
  restored afterwards.

Statistics are computed with Tensor ops; histogram values go to matplotlib via ``.numpy()``.
"""
from __future__ import annotations

import math

import tinygrad_dnn as tg

from .batches import split_batch
from .callbacks import Callback
from .checkpoint import clone_state
from .plots import figure, save_figure

_RELU_LIKE = ("ReLU", "LeakyReLU", "ReLU6", "PReLU")
_SATURATING = {"Tanh": ("tanh", 0.97), "Sigmoid": ("sigmoid", 0.015)}
ACTIVATION_TYPES = ("ReLU", "LeakyReLU", "ReLU6", "PReLU", "ELU", "GELU", "Tanh", "Sigmoid", "Softplus", "SiLU")


def _loss_fn(loss_fn):
    if loss_fn is not None:
        return loss_fn
    from tinygrad_dnn.nn import functional as F

    return F.cross_entropy


def _layer_stats(name, module, y, keep_values):
    y = y.detach()
    kind = type(module).__name__
    flat = y.reshape(y.shape[0], -1) if y.ndim > 1 else y.reshape(-1, 1)
    st = {"name": name, "type": kind, "shape": tuple(y.shape),
          "mean": flat.mean().item(), "std": flat.std().item() if flat.numel() > 1 else 0.0}
    st["zero_fraction"] = (flat <= 0).float().mean().item() if kind in _RELU_LIKE else None
    # a unit is dead when it outputs <= 0 for every example of the batch
    st["dead_fraction"] = (flat <= 0).all(dim=0).float().mean().item() if kind in _RELU_LIKE else None
    if kind in _SATURATING:
        fn, th = _SATURATING[kind]
        sat = flat.abs() > th if fn == "tanh" else (flat < th) | (flat > 1 - th)
        st["saturated_fraction"] = sat.float().mean().item()
    else:
        st["saturated_fraction"] = None
    if keep_values:
        st["values"] = flat.reshape(-1).numpy().copy()
    return st


class ActivationMonitor:
    """Forward hooks on every activation module (or every module of ``layer_types``) that record
    :func:`activation_stats`-style statistics of their outputs on each forward pass.

    Use as a context manager::

        with ActivationMonitor(model) as mon:
            model(x)
        mon.stats   # list of dicts, in forward order
    """

    def __init__(self, model, layer_types=None, keep_values=True):
        self.model = model
        types = tuple(layer_types) if layer_types is not None else ACTIVATION_TYPES
        self.keep_values = keep_values
        self.stats = []
        self.handles = []
        for name, m in model.named_modules():
            tname = type(m).__name__
            if (isinstance(types[0], str) and tname in types) or (not isinstance(types[0], str) and isinstance(m, types)):
                self.handles.append(m.register_forward_hook(self._hook(name or tname)))
        if not self.handles:  # no activation modules: watch Linear/Conv outputs instead
            for name, m in model.named_modules():
                if type(m).__name__ in ("Linear", "Conv1d", "Conv2d"):
                    self.handles.append(m.register_forward_hook(self._hook(name)))

    def _hook(self, name):
        def hook(module, inputs, output):
            self.stats.append(_layer_stats(name, module, output, self.keep_values))
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def activation_stats(model, x, layer_types=None, train_mode=False, keep_values=True):
    """One forward pass of ``x`` (no grad) and the statistics of every activation layer's output.

    Returns a list of dicts: ``name, type, shape, mean, std, zero_fraction, dead_fraction,
    saturated_fraction`` (None where not applicable) and ``values`` (a host array for histograms).
    ``train_mode=True`` uses batch statistics / dropout (buffers and random state are restored).
    """
    was = model.training
    saved = clone_state(model.state_dict()) if train_mode else None
    with tg.fork_rng():
        model.train(train_mode)
        try:
            with ActivationMonitor(model, layer_types, keep_values) as mon, tg.no_grad():
                model(x)
        finally:
            model.train(was)
            if saved is not None:
                model.load_state_dict(saved)
    return mon.stats


def plot_activations(stats, path=None, bins=50):
    """A histogram per layer, titled with mean/std and dead or saturated fraction. Returns the Figure."""
    n = max(len(stats), 1)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = figure(rows, cols, (3.3 * cols, 2.6 * rows))
    for i, st in enumerate(stats):
        ax = axes[i // cols][i % cols]
        if st.get("values") is not None:
            ax.hist(st["values"], bins=bins, color="tab:blue", alpha=0.8)
        extra = ""
        if st.get("dead_fraction") is not None:
            extra = f"\ndead {st['dead_fraction']:.1%} zero {st['zero_fraction']:.1%}"
        elif st.get("saturated_fraction") is not None:
            extra = f"\nsaturated {st['saturated_fraction']:.1%}"
        ax.set_title(f"{st['name']} ({st['type']})\nmean {st['mean']:+.3f} std {st['std']:.3f}{extra}", fontsize=8)
        ax.tick_params(labelsize=7)
    for j in range(len(stats), rows * cols):
        axes[j // cols][j % cols].axis("off")
    if path is not None:
        save_figure(fig, path)
    return fig


def gradient_norms(model):
    """After ``backward()``: ``{name: {'grad_norm', 'weight_norm', 'ratio'}}`` for every parameter with a gradient."""
    out = {}
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        g = p.grad.detach().norm().item()
        w = p.detach().norm().item()
        out[name] = {"grad_norm": g, "weight_norm": w, "ratio": g / w if w > 0 else float("inf")}
    return out


def compute_gradient_norms(model, x, y, loss_fn=None):
    """Forward + backward on one batch (gradients are zeroed before and after) and :func:`gradient_norms`."""
    loss_fn = _loss_fn(loss_fn)
    model.zero_grad()
    loss_fn(model(x), y).backward()
    norms = gradient_norms(model)
    model.zero_grad()
    return norms


def plot_gradient_norms(norms, path=None):
    """Bar chart of per-parameter gradient norms (log scale) and grad/weight ratios. Returns the Figure."""
    names = list(norms)
    fig, axes = figure(1, 2, (max(6.0, 0.45 * len(names) + 3), 3.8))
    for ax, key, title in ((axes[0][0], "grad_norm", "gradient norm"), (axes[0][1], "ratio", "|grad| / |weight|")):
        vals = [norms[n][key] for n in names]
        ax.bar(range(len(names)), vals, color="tab:orange")
        if vals and all(v > 0 and math.isfinite(v) for v in vals):
            ax.set_yscale("log")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=70, fontsize=7, ha="right")
        ax.set_title(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def _weights(model):
    """(name, param) for weight matrices/kernels (ndim >= 2): the ones whose update ratio matters."""
    return [(n, p) for n, p in model.named_parameters() if p.ndim >= 2]


def update_ratios(model, before):
    """``{name: std(w_after - w_before) / std(w_before)}`` given ``before = {name: tensor copy}``."""
    out = {}
    for name, p in _weights(model):
        if name not in before:
            continue
        w0 = before[name]
        sd = w0.std().item()
        out[name] = (p.detach() - w0).std().item() / sd if sd > 0 else float("nan")
    return out


class UpdateRatioMonitor(Callback):
    """A ``fit`` callback recording, every ``every`` steps, per-layer update/weight ratios
    (``self.ratios[name]`` is a list of ``(step, ratio)``) and gradient norms (``self.grad_norms``)."""

    def __init__(self, every=1):
        self.every = max(1, int(every))
        self.ratios = {}
        self.grad_norms = {}
        self._before = None

    def on_after_backward(self, trainer):
        step = trainer.global_step
        if step % self.every:
            self._before = None
            return
        for name, g in gradient_norms(trainer.model).items():
            self.grad_norms.setdefault(name, []).append((step, g["grad_norm"]))
        self._before = {n: p.detach().clone() for n, p in _weights(trainer.model)}

    def on_batch_end(self, trainer, batch, logs):
        if self._before is None:
            return
        step = trainer.global_step - 1
        for name, r in update_ratios(trainer.model, self._before).items():
            self.ratios.setdefault(name, []).append((step, r))
        self._before = None

    def summary(self):
        """Median log10 ratio per layer over the recorded steps."""
        out = {}
        for name, pts in self.ratios.items():
            vals = sorted(math.log10(r) for _, r in pts if r > 0 and math.isfinite(r))
            if vals:
                out[name] = vals[len(vals) // 2]
        return out


def measure_update_ratios(model, optimizer, x, y, loss_fn=None, steps=10):
    """Take ``steps`` optimizer steps on ``(x, y)`` and return :class:`UpdateRatioMonitor`-style ratios
    ``{name: [ratio per step]}``. (This trains the model; snapshot it first if that matters.)"""
    loss_fn = _loss_fn(loss_fn)
    model.train()
    out = {}
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        before = {n: p.detach().clone() for n, p in _weights(model)}
        optimizer.step()
        for name, r in update_ratios(model, before).items():
            out.setdefault(name, []).append(r)
    return out


def plot_update_ratios(ratios, path=None, target=1e-3):
    """log10(update/weight) per layer over steps with the healthy ``target`` line. ``ratios`` is
    ``monitor.ratios`` (lists of (step, ratio)) or ``{name: [ratio per step]}``. Returns the Figure."""
    fig, axes = figure(1, 1, (7.0, 4.0))
    ax = axes[0][0]
    for name, pts in ratios.items():
        if pts and not isinstance(pts[0], (tuple, list)):
            pts = list(enumerate(pts))
        pts = [(s, math.log10(r)) for s, r in pts if r > 0 and math.isfinite(r)]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=name)
    ax.axhline(math.log10(target), color="k", ls="--", lw=1, label=f"{target:g}")
    ax.set_xlabel("step")
    ax.set_ylabel("log10(std(update) / std(weight))")
    ax.set_title("update-to-weight ratio")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    if path is not None:
        save_figure(fig, path)
    return fig


def check_initial_loss(model, x, y, num_classes=None, loss_fn=None, rtol=0.25):
    """Loss of the untrained model on ``(x, y)`` compared with ``log(num_classes)`` (uniform predictions).

    Runs in training mode under ``no_grad`` (as the first step would) and restores buffers and random
    state. Returns ``{'loss', 'expected', 'ratio', 'ok', 'message'}``; ``ok`` when within ``rtol``.
    """
    loss_fn = _loss_fn(loss_fn)
    was = model.training
    saved = clone_state(model.state_dict())
    with tg.fork_rng(), tg.no_grad():
        model.train()
        try:
            out = model(x)
            loss = loss_fn(out, y).item()
        finally:
            model.load_state_dict(saved)
            model.train(was)
    c = int(num_classes if num_classes is not None else out.shape[-1])
    expected = math.log(c)
    ratio = loss / expected
    ok = abs(ratio - 1) <= rtol
    msg = (f"initial loss {loss:.4f} vs log({c}) = {expected:.4f} (ratio {ratio:.2f}): "
           + ("ok" if ok else "too far from uniform predictions; check the output layer's initialization "
              "and scale (logits should start small), the loss function and the labels"))
    return {"loss": loss, "expected": expected, "ratio": ratio, "ok": ok, "message": msg}


def overfit_tiny_batch(model, x, y, optimizer=None, loss_fn=None, steps=200, lr=1e-2, restore=False):
    """Train on one tiny batch ``(x, y)`` for ``steps`` steps; a healthy model reaches 100% accuracy.

    ``optimizer`` defaults to Adam(lr). Returns ``{'losses', 'final_loss', 'accuracy', 'ok', 'message'}``
    (accuracy measured in eval mode). ``restore=True`` puts the weights back afterwards.
    """
    loss_fn = _loss_fn(loss_fn)
    saved = clone_state(model.state_dict()) if restore else None
    if optimizer is None:
        from tinygrad_dnn import optim

        optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
        loss.backward()
        optimizer.step()
    model.eval()
    with tg.no_grad():
        acc = (model(x).argmax(dim=1) == y).float().mean().item()
    model.train()
    if saved is not None:
        model.load_state_dict(saved)
    ok = acc == 1.0
    msg = (f"overfit {len(y)} examples in {len(losses)} steps: loss {losses[0]:.4f} -> {losses[-1]:.4g}, "
           f"accuracy {acc:.1%}: " + ("ok" if ok else "could not memorize a tiny batch: look for a bug in the "
                                      "model or the loop, or raise the learning rate / steps"))
    return {"losses": losses, "final_loss": losses[-1], "accuracy": acc, "ok": ok, "message": msg}


def plot_loss_curve(losses, path=None, title="loss"):
    fig, axes = figure(1, 1, (6.0, 3.8))
    ax = axes[0][0]
    ax.plot(range(1, len(losses) + 1), losses)
    if all(v > 0 for v in losses):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if path is not None:
        save_figure(fig, path)
    return fig


def lr_range_test(model, optimizer, loader, loss_fn=None, start_lr=1e-7, end_lr=10.0, num_iter=100,
                  smooth=0.05, diverge=4.0, device=None):
    """Smith's LR range test: raise the learning rate exponentially from ``start_lr`` to ``end_lr`` over
    ``num_iter`` steps (cycling through ``loader``) and record the (exponentially smoothed) loss.

    Stops early when the smoothed loss exceeds ``diverge`` x the best one. The model, optimizer and
    random state are restored afterwards. Returns ``{'lrs', 'losses', 'raw_losses', 'suggested_lr',
    'min_loss_lr'}``: ``suggested_lr`` is where the smoothed loss falls fastest (steepest negative
    slope in log-lr), ``min_loss_lr`` where it is lowest (a common pick is min_loss_lr / 10).
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_range_test: need 0 < start_lr < end_lr, got {start_lr}, {end_lr}")
    loss_fn = _loss_fn(loss_fn)
    saved_model = clone_state(model.state_dict())
    saved_opt = clone_state(optimizer.state_dict())
    saved_lrs = [g["lr"] for g in optimizer.param_groups]
    loader_saved = loader.state_dict() if hasattr(loader, "state_dict") else None
    factor = (end_lr / start_lr) ** (1.0 / max(num_iter - 1, 1))
    lrs, losses, raw = [], [], []
    avg, best = None, float("inf")
    with tg.fork_rng():
        model.train()
        try:
            it = iter(loader)
            for i in range(num_iter):
                try:
                    batch = next(it)
                except StopIteration:
                    it = iter(loader)
                    batch = next(it)
                x, y = split_batch(batch)
                if device is not None:
                    x, y = x.to(device), y.to(device)
                lr = start_lr * factor ** i
                for g in optimizer.param_groups:
                    g["lr"] = lr
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                lv = loss.item()
                if not math.isfinite(lv):
                    break
                loss.backward()
                optimizer.step()
                avg = lv if avg is None else smooth * lv + (1 - smooth) * avg
                corrected = avg
                lrs.append(lr)
                raw.append(lv)
                losses.append(corrected)
                best = min(best, corrected)
                if corrected > diverge * best and i > 5:
                    break
        finally:
            model.load_state_dict(saved_model)
            optimizer.load_state_dict(saved_opt)
            for g, lr in zip(optimizer.param_groups, saved_lrs):
                g["lr"] = lr
            if loader_saved is not None:
                loader.load_state_dict(loader_saved)
    suggested = min_lr = None
    if len(losses) >= 3:
        logs = [math.log10(v) for v in lrs]
        slopes = [(losses[i + 1] - losses[i - 1]) / (logs[i + 1] - logs[i - 1]) for i in range(1, len(losses) - 1)]
        k = min(range(len(slopes)), key=lambda i: slopes[i])
        suggested = lrs[k + 1]
        min_lr = lrs[min(range(len(losses)), key=lambda i: losses[i])]
    return {"lrs": lrs, "losses": losses, "raw_losses": raw, "suggested_lr": suggested, "min_loss_lr": min_lr}


def plot_lr_range(result, path=None):
    """Smoothed loss vs learning rate (log x) with the suggested lr marked. Returns the Figure."""
    fig, axes = figure(1, 1, (6.0, 4.0))
    ax = axes[0][0]
    ax.plot(result["lrs"], result["raw_losses"], color="0.75", lw=0.8, label="raw")
    ax.plot(result["lrs"], result["losses"], color="tab:blue", label="smoothed")
    ax.set_xscale("log")
    if result.get("suggested_lr"):
        ax.axvline(result["suggested_lr"], color="tab:red", ls="--", lw=1,
                   label=f"steepest descent {result['suggested_lr']:.2g}")
    if result.get("min_loss_lr"):
        ax.axvline(result["min_loss_lr"], color="tab:green", ls=":", lw=1, label=f"min loss {result['min_loss_lr']:.2g}")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title("LR range test")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if path is not None:
        save_figure(fig, path)
    return fig


__all__ = ["ActivationMonitor", "activation_stats", "plot_activations", "gradient_norms", "compute_gradient_norms",
           "plot_gradient_norms", "update_ratios", "UpdateRatioMonitor", "measure_update_ratios",
           "plot_update_ratios", "check_initial_loss", "overfit_tiny_batch", "plot_loss_curve", "lr_range_test",
           "plot_lr_range"]
