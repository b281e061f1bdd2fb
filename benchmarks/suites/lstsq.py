"""(7) GD vs SGD on least squares, X 10000x500 float32: time per iteration and loss per epoch.

loss(w) = mean((X w - y)^2). GD: one full-batch step per epoch with lr = 1/L (L the gradient's
Lipschitz constant, 2 lambda_max(X^T X / n)). SGD: minibatches of 100 rows (100 steps per epoch)
with lr = 0.2/L. tinygrad_dnn and PyTorch use autograd; NumPy/CuPy use the closed-form gradient.
"""
from __future__ import annotations

import os

import numpy as np

from ..models import cupy_or_none, torch_cuda

N, D, BS = 10000, 500, 100


def problem(quick):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D)).astype(np.float32)
    w_true = rng.standard_normal(D).astype(np.float32)
    y = (X @ w_true + 0.1 * rng.standard_normal(N)).astype(np.float32)
    lam = float(np.linalg.eigvalsh((X.T @ X).astype(np.float64) / N)[-1])
    return X, y, 1.0 / (2 * lam), 0.2 / (2 * lam)


def _tg(X, y, device):
    import tinygrad_dnn as tg

    Xt, yt = tg.tensor(X, device=device), tg.tensor(y, device=device)
    w = tg.zeros(D, device=device, requires_grad=True)

    def step(lo, hi, lr):
        w.grad = None
        xb, yb = (Xt, yt) if (lo, hi) == (0, N) else (Xt[lo:hi], yt[lo:hi])
        r = xb @ w - yb
        (r * r).mean().backward()
        with tg.no_grad():
            w.sub_(w.grad * lr)

    def loss():
        with tg.no_grad():
            r = Xt @ w - yt
            return float((r * r).mean())

    def reset():
        with tg.no_grad():
            w.zero_()
    return step, loss, reset, Xt.backend.synchronize


def _hand(X, y, xp):
    Xh, yh = xp.asarray(X), xp.asarray(y)
    w = xp.zeros(D, dtype=xp.float32)

    def step(lo, hi, lr):
        xb, yb = Xh[lo:hi], yh[lo:hi]
        r = xb @ w
        r -= yb
        g = r @ xb
        g *= 2.0 * lr / (hi - lo)
        w[...] -= g

    def loss():
        r = Xh @ w - yh
        return float((r * r).mean())

    def reset():
        w[...] = 0
    return step, loss, reset, (lambda: None) if xp is np else xp.cuda.Device().synchronize


def _torch(X, y, torch, device):
    Xt, yt = torch.tensor(X, device=device), torch.tensor(y, device=device)
    w = torch.zeros(D, device=device, requires_grad=True)

    def step(lo, hi, lr):
        w.grad = None
        r = Xt[lo:hi] @ w - yt[lo:hi]
        (r * r).mean().backward()
        with torch.no_grad():
            w.sub_(w.grad * lr)

    def loss():
        with torch.no_grad():
            r = Xt @ w - yt
            return float((r * r).mean())

    def reset():
        with torch.no_grad():
            w.zero_()
    return step, loss, reset, (torch.cuda.synchronize if device == "cuda" else None)


def run(ctx):
    X, y, lr_gd, lr_sgd = problem(ctx.quick)
    epochs = 2 if ctx.quick else 10
    torch = ctx.torch
    curves = ctx.series.setdefault("lstsq", {})
    for device in ctx.devices:
        impls = [("tinygrad_dnn", _tg(X, y, device))]
        impls.append(("numpy", _hand(X, y, np)) if device == "cpu" else ("cupy", _hand(X, y, cupy_or_none())))
        if torch is not None and (device == "cpu" or torch_cuda(torch)):
            impls.append(("torch", _torch(X, y, torch, device)))
        for name, (step, loss, reset, sync) in impls:
            ctx.record("GD iteration (full batch)", name, ctx.timeit(lambda: step(0, N, lr_gd), sync=sync), device=device)
            ctx.record(f"SGD iteration (batch {BS})", name, ctx.timeit(lambda: step(0, BS, lr_sgd), sync=sync),
                       device=device)
            for method in ("GD", "SGD"):
                reset()
                hist = [loss()]
                for _ in range(epochs):
                    if method == "GD":
                        step(0, N, lr_gd)
                    else:
                        for lo in range(0, N, BS):
                            step(lo, lo + BS, lr_sgd)
                    hist.append(loss())
                curves[f"{method} {name} [{device}]"] = hist
    ctx.note(f"lstsq: loss per epoch (epoch 0 = initial) after {epochs} epochs: " + "; ".join(
        f"{k}: {v[-1]:.4g}" for k, v in curves.items()))
    plot(curves, os.path.join(ctx.out, "lstsq_loss" + ("_quick" if ctx.quick else "") + ".png"), ctx)


def plot(curves, path, ctx):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for k, v in curves.items():
        ax.semilogy(range(len(v)), v, "o-" if k.startswith("GD") else "s--", label=k, ms=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared residual")
    ax.set_title("least squares, X 10000x500: GD vs SGD (batch 100)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    ctx.plots.append(path)
