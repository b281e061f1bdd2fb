# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 13. Data parallelism and large-batch training
#
# Data-parallel training runs N copies of the model, each on its own share of the batch, and
# averages their gradients after every backward pass (`nn.parallel.DistributedDataParallel` over
# MPI; see the README section "More than one machine"). This notebook connects it to the lectures'
# minibatch SGD (deck 000: "take a consecutive batch of size B each iteration"; deck 002: "small batch
# sizes have a regularizing effect; too small batch sizes underutilize the parallel hardware"):
#
# 1. The average of the N workers' gradients **is** the gradient of the batch of size B = N x B/N,
#    exactly, when the shares are equal (why `DistributedSampler` pads them to equal sizes).
# 2. So N workers make one step of batch B: more workers = a larger batch. The minibatch gradient's
#    noise shrinks like 1/B: $E\|g_B - g\|^2 \approx \frac{\sigma^2}{B}\frac{n-B}{n-1}$.
# 3. The price: a fixed number of epochs now makes fewer steps. The *linear scaling rule* (Goyal et
#    al., 2017: multiply the learning rate by k when the batch grows k-fold, with a warmup) recovers the
#    small-batch result up to a point, then the learning rate exceeds what the loss surface tolerates.
#
# Everything here runs in one process: the N workers are simulated by splitting the batch, which is
# the arithmetic `DistributedDataParallel` does across processes (the tests in `tests/distributed/`
# check the multi-process version against it). To run the real thing:
# `tinygrad-dnn train --nproc 2` or `mpiexec -n 2 python your_script.py`.

# %% [markdown]
# **Setup.** This notebook needs the `tinygrad_dnn` package. From the repository root:
# `pip install -e ".[notebooks]"` (Jupyter, jupytext, matplotlib, scikit-learn, tqdm), then open it in
# Jupyter. On **Colab**: upload the repository (or `!git clone` your copy of it), then run
# `!pip install -e "/content/<repository folder>[notebooks]"` and restart the session. The next cell
# checks the import and says what to do when it fails.

# %%
import importlib.util

if importlib.util.find_spec("tinygrad_dnn") is None:
    raise ImportError(
        "tinygrad_dnn is not installed in this kernel. From the repository root run\n"
        "    pip install -e \".[notebooks]\"\n"
        "then restart the kernel. On Colab: upload the repository or `!git clone` it, then\n"
        "    !pip install -e \"/content/<repository folder>[notebooks]\"\n"
        "and restart the session (Runtime > Restart session).")
import tinygrad_dnn

print(f"tinygrad_dnn {tinygrad_dnn.__version__} from {tinygrad_dnn.__file__}")

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np  # reference computations and plotting only

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.data import load_digits

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/13_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"13_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


torch.manual_seed(0)
digits = load_digits()
xtr, ytr = digits.x_train, digits.y_train
n = len(ytr)


def mlp(dtype=torch.float32):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(dtype)


def flat_grad(model, x, y):
    """The gradient of the mean cross-entropy over (x, y), flattened (NumPy, for comparisons)."""
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])


# %% [markdown]
# ## 1. The averaged gradient is the big-batch gradient
#
# Worker r computes $g_r = \frac{1}{B/N}\sum_{i \in \text{share}_r} \nabla \ell_i$; the all-reduce
# gives every worker $\frac{1}{N}\sum_r g_r = \frac{1}{B}\sum_{i=1}^{B} \nabla \ell_i$, the gradient
# of the whole batch. With unequal shares the mean of the means weights the samples unequally, which
# is why `DistributedSampler` pads every rank's share to the same length.

# %%
model = mlp(torch.float64)
x, y = xtr[:256].double(), ytr[:256]
g_big = flat_grad(model, x, y)
N = 4
g_avg = np.mean([flat_grad(model, x[r * 64:(r + 1) * 64], y[r * 64:(r + 1) * 64]) for r in range(N)], axis=0)
uneven = [(0, 100), (100, 150), (150, 200), (200, 256)]
g_uneven = np.mean([flat_grad(model, x[a:b], y[a:b]) for a, b in uneven], axis=0)
print(f"equal shares:   max |mean of worker gradients - batch gradient| = {np.abs(g_avg - g_big).max():.1e}")
print(f"unequal shares: max |mean of worker gradients - batch gradient| = {np.abs(g_uneven - g_big).max():.1e}")
assert np.abs(g_avg - g_big).max() < 1e-12      # equal shares: the same number, up to rounding
assert np.abs(g_uneven - g_big).max() > 1e-4    # unequal shares: a different (biased) gradient

# %% [markdown]
# ## 2. More workers, larger batch, less gradient noise
#
# At fixed weights, draw many batches of size B without replacement and measure how far their
# gradient is from the full-data gradient g. Sampling theory: $E\|g_B - g\|^2 = \frac{\sigma^2}{B}
# \frac{n-B}{n-1}$ with $\sigma^2$ the per-sample gradient variance, so $B\,E\|g_B-g\|^2 / \frac{n-B}{n-1}$
# should not depend on B.

# %%
model = mlp(torch.float64)
xd = xtr.double()
g_full = flat_grad(model, xd, ytr)
rng = np.random.default_rng(0)
draws = 60 if SMALL else 300
batch_sizes = [8, 32, 128, 512]
noise = []
for B in batch_sizes:
    d2 = [np.sum((flat_grad(model, xd[idx], ytr[idx]) - g_full) ** 2)
          for idx in (torch.tensor(rng.choice(n, B, replace=False)) for _ in range(draws))]
    noise.append(float(np.mean(d2)))
sigma2 = [v * B / ((n - B) / (n - 1)) for v, B in zip(noise, batch_sizes)]
for B, v, s in zip(batch_sizes, noise, sigma2):
    print(f"B = {B:4d}: E|g_B - g|^2 = {v:.4f}   B E|g_B - g|^2 / ((n-B)/(n-1)) = {s:.2f}")
assert max(sigma2) / min(sigma2) < 1.35  # the same sigma^2 for every B: noise ~ 1/B (measured spread ~5%)

# %% [markdown]
# ## 3. The linear scaling rule, and where it stops
#
# Train the same MLP for a fixed number of epochs (SGD, momentum 0.9) with batch B = 32k:
#
# * **fixed learning rate** 0.05: k times fewer steps per epoch, so after the same epochs the loss is
#   higher the larger the batch;
# * **linear scaling** 0.05 k (Goyal et al.), also with a one-epoch linear warmup: each large step
#   replaces k small ones, which holds while the learning rate stays small enough for the curvature
#   (the lectures' $\eta < 2/\lambda_{max}$); beyond that the rule breaks down.

# %%
def train(B, lr, epochs, warmup_epochs=0):
    """Final training loss after ``epochs`` epochs of batch B (same init and data order seed for all)."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    steps = n // B
    warm = warmup_epochs * steps
    order = np.random.default_rng(0)
    k = 0
    for _ in range(epochs):
        perm = order.permutation(n)
        for s in range(steps):
            idx = torch.tensor(perm[s * B:(s + 1) * B])
            if warm:
                for group in opt.param_groups:
                    group["lr"] = lr * min(1.0, (k + 1) / warm)
            opt.zero_grad()
            nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
            k += 1
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(xtr), ytr))


epochs = 6 if SMALL else 10
Bs = [32, 128, 512] if SMALL else [32, 64, 128, 256, 512]
fixed = [train(B, 0.05, epochs) for B in Bs]
scaled = [train(B, 0.05 * B / 32, epochs) for B in Bs]
warmed = [train(B, 0.05 * B / 32, epochs, warmup_epochs=1) for B in Bs]
for row in zip(Bs, fixed, scaled, warmed):
    print("B = {:4d}: loss after {} epochs: lr fixed {:.3f}, lr scaled {:.3f}, scaled + warmup {:.3f}".format(
        row[0], epochs, *row[1:]))
i128, i512 = Bs.index(128), Bs.index(512)
assert fixed[i128] > 1.8 * fixed[0]       # a 4x batch at the same lr: clearly behind after the same epochs
assert scaled[i128] < 2.0 * scaled[0]     # with the lr scaled 4x: about the small-batch result
assert fixed[i512] > 3 * scaled[i512]     # the rule helps even where it no longer fully works
assert scaled[i512] > 1.5 * scaled[0]     # k = 16: the rule breaks down (lr 0.8 with momentum 0.9)

# %%
fig, ax = plt.subplots(1, 2, figsize=(11, 4))
ax[0].loglog(batch_sizes, noise, "o-", label="measured")
ax[0].loglog(batch_sizes, [np.mean(sigma2) / B * (n - B) / (n - 1) for B in batch_sizes], "k--",
             label=r"$\sigma^2/B \cdot (n-B)/(n-1)$")
ax[0].set(xlabel="batch size B", ylabel=r"$E\|g_B - g\|^2$", title="gradient noise vs batch size")
ax[0].legend()
ax[1].semilogy(Bs, fixed, "o-", label="lr 0.05 (fixed)")
ax[1].semilogy(Bs, scaled, "s-", label="lr 0.05 B/32 (linear rule)")
ax[1].semilogy(Bs, warmed, "^--", label="linear rule + 1 epoch warmup")
ax[1].set_xscale("log", base=2)
ax[1].set(xlabel="batch size B (= N workers x B/N)", ylabel=f"training loss after {epochs} epochs",
          title="same epochs, larger batch")
ax[1].legend()
savefig(fig, "large_batch")
plt.show()

# %% [markdown]
# What this shows, and what it does not:
#
# * The linear rule kept the loss of a 4x larger batch close to the small-batch one; at 16x it no
#   longer does. On this small problem the one-epoch warmup did not help (it was designed against the
#   instability of the first iterations of large networks, Goyal et al.); measure before relying on it.
# * Data parallelism buys wall-clock time per epoch only when the N workers really compute in
#   parallel and the all-reduce is cheap next to a step: `python -m benchmarks distributed` measures
#   both on this machine (2 cores cannot show a real speed-up).
# * `tinygrad-dnn train --nproc N` keeps `--batch-size` as the global batch and `--lr` as given, so
#   adding processes does not change the run; to use a larger global batch, scale `--lr` as above.
