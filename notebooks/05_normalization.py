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
# # 5. Normalization
#
# "You want unit Gaussian activations? Just make them so" (COMP541, after Ioffe & Szegedy 2015).
# This notebook takes the normalization layers apart and checks them against hand computations:
#
# 1. BatchNorm in training mode (batch statistics) and eval mode (running statistics): momentum 0.1,
#    the *unbiased* running variance, `momentum=None` (cumulative average); cross-checked with PyTorch
#    when it is installed;
# 2. $\gamma = \sqrt{\sigma_B^2 + \epsilon}$, $\beta = \mu_B$ recovers the identity;
# 3. BN before versus after the activation;
# 4. BN widens the range of usable learning rates (the largest rate at which the net trains, with and without BN);
# 5. which axes BatchNorm, LayerNorm, InstanceNorm and GroupNorm normalize over;
# 6. batch size 1: BatchNorm cannot train on it (a clear error), LayerNorm can;
# 7. input normalization: standardization, PCA, whitening (`tinygrad_dnn.data` transforms).
#
# Errata and conventions (`curriculum.md`): the slides write $\hat x = (x - E[x])/\sqrt{\mathrm{Var}[x]}$
# without $\epsilon$ (one averages the std instead of the variance); the library follows PyTorch:
# $\hat x = (x - \mu_B)/\sqrt{\sigma_B^2 + \epsilon}$ with $\epsilon = 10^{-5}$ and the *biased* batch
# variance $\sigma_B^2 = \frac1m\sum_i (x_i - \mu_B)^2$, while the running variance is updated with
# the *unbiased* one ($\times\, m/(m-1)$). The LayerNorm slide has no $\epsilon$ either: 1e-5 here.

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
import importlib
import math
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np  # only for reference computations and plotting

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.data import PCA, DataLoader, Standardize, SubtractChannelMean, TensorDataset, Whitening, load_digits
from tinygrad_dnn.nn import functional as F
from tinygrad_dnn.train.models import MLP

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/05_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"05_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


try:  # the real PyTorch, only for cross-checks
    real_torch = importlib.import_module("torch")
except ImportError:
    real_torch = None
torch.manual_seed(0)

# %% [markdown]
# ## 1. BatchNorm by hand: training mode, running statistics, eval mode
#
# For a batch $x_1, \dots, x_m$ (per feature):
# $\mu_B = \frac1m\sum x_i$, $\sigma_B^2 = \frac1m\sum (x_i - \mu_B)^2$,
# $y_i = \gamma\,(x_i - \mu_B)/\sqrt{\sigma_B^2 + \epsilon} + \beta$. Each training step also updates
# (outside the graph)
#
# $$\text{running\_mean} \leftarrow (1 - m)\,\text{running\_mean} + m\,\mu_B, \qquad
#   \text{running\_var} \leftarrow (1 - m)\,\text{running\_var} + m\,\tfrac{M}{M-1}\sigma_B^2$$
#
# with momentum $m = 0.1$ (PyTorch's momentum is the weight of the *new* value, unlike an optimizer's
# momentum) and batch size $M$. In eval mode the layer uses the running estimates instead:
# $y = \gamma (x - \text{running\_mean})/\sqrt{\text{running\_var} + \epsilon} + \beta$.

# %%
M, C_FEAT, EPS, MOM = 8, 4, 1e-5, 0.1
bn = nn.BatchNorm1d(C_FEAT).double()
with torch.no_grad():
    bn.weight.copy_(torch.tensor([1.0, 2.0, 0.5, -1.0], dtype=torch.float64))
    bn.bias.copy_(torch.tensor([0.0, 1.0, -1.0, 3.0], dtype=torch.float64))
gamma, beta = bn.weight.detach().numpy().copy(), bn.bias.detach().numpy().copy()
batches = [torch.randn(M, C_FEAT, dtype=torch.float64) * torch.tensor([1.0, 2.0, 3.0, 0.5], dtype=torch.float64)
           + torch.tensor([0.0, 5.0, -2.0, 1.0], dtype=torch.float64) for _ in range(5)]

rm, rv = np.zeros(C_FEAT), np.ones(C_FEAT)  # the hand-computed running statistics
bn.train()
for k, xb in enumerate(batches):
    x = xb.numpy()
    mu, var = x.mean(0), x.var(0)  # biased batch variance
    y_hand = gamma * (x - mu) / np.sqrt(var + EPS) + beta
    y = bn(xb).detach().numpy()
    assert np.allclose(y, y_hand, atol=1e-12), k
    rm = (1 - MOM) * rm + MOM * mu
    rv = (1 - MOM) * rv + MOM * var * M / (M - 1)  # unbiased
    assert np.allclose(bn.running_mean.numpy(), rm, atol=1e-12) and np.allclose(bn.running_var.numpy(), rv, atol=1e-12)
print("after", len(batches), "batches: num_batches_tracked =", bn.num_batches_tracked.item())
print("running_mean", np.round(rm, 4), "\nrunning_var ", np.round(rv, 4))
assert bn.num_batches_tracked.item() == len(batches)

bn.eval()
x_test = torch.randn(3, C_FEAT, dtype=torch.float64)
y_eval_hand = gamma * (x_test.numpy() - rm) / np.sqrt(rv + EPS) + beta
assert np.allclose(bn(x_test).detach().numpy(), y_eval_hand, atol=1e-12)
# in eval mode each sample is processed on its own: the output does not depend on the batch
assert np.allclose(bn(x_test[:1]).detach().numpy(), y_eval_hand[:1], atol=1e-12)
assert np.allclose(bn.running_mean.numpy(), rm)  # eval mode does not touch the running statistics

# the slide's variant without epsilon differs a little, most where the variance is small
x0 = batches[0].numpy()
no_eps = gamma * (x0 - x0.mean(0)) / x0.std(0) + beta
print("max |BN - BN without eps| on batch 0:", np.abs(no_eps - gamma * (x0 - x0.mean(0)) / np.sqrt(x0.var(0) + EPS) - beta).max())

# %% [markdown]
# `momentum=None` replaces the exponential average by the cumulative average of all batches seen so
# far ($m = 1/k$ at the $k$-th batch); starting from (0, 1) the first update overwrites them.

# %%
bn_cum = nn.BatchNorm1d(C_FEAT, momentum=None).double()
for xb in batches:
    bn_cum(xb)
means = np.stack([b.numpy().mean(0) for b in batches])
uvars = np.stack([b.numpy().var(0, ddof=1) for b in batches])
assert np.allclose(bn_cum.running_mean.numpy(), means.mean(0), atol=1e-12)
assert np.allclose(bn_cum.running_var.numpy(), uvars.mean(0), atol=1e-12)
print("momentum=None: running_mean == average of the 5 batch means:", np.round(bn_cum.running_mean.numpy(), 4))

# %% [markdown]
# The same numbers from PyTorch (skipped when it is not installed), and BatchNorm2d: one mean and
# variance per channel over $(N, H, W)$.

# %%
if real_torch is not None:
    tbn = real_torch.nn.BatchNorm1d(C_FEAT).double()
    with real_torch.no_grad():
        tbn.weight.copy_(real_torch.tensor(gamma))
        tbn.bias.copy_(real_torch.tensor(beta))
    for xb in batches:
        y_t = tbn(real_torch.tensor(xb.numpy())).detach().numpy()
    assert np.allclose(tbn.running_mean.numpy(), rm, atol=1e-12) and np.allclose(tbn.running_var.numpy(), rv, atol=1e-12)
    tbn.eval()
    assert np.allclose(tbn(real_torch.tensor(x_test.numpy())).detach().numpy(), y_eval_hand, atol=1e-12)
    print("PyTorch", real_torch.__version__, "agrees: running statistics and eval output")
else:
    print("PyTorch not installed: cross-check skipped")

imgs = torch.randn(6, 3, 5, 5, dtype=torch.float64) * 2 + 1
bn2 = nn.BatchNorm2d(3).double()
xi = imgs.numpy()
mu2, var2 = xi.mean((0, 2, 3), keepdims=True), xi.var((0, 2, 3), keepdims=True)
assert np.allclose(bn2(imgs).detach().numpy(), (xi - mu2) / np.sqrt(var2 + EPS), atol=1e-12)
n_per_channel = 6 * 5 * 5
assert np.allclose(bn2.running_var.numpy(), 0.9 + 0.1 * var2.ravel() * n_per_channel / (n_per_channel - 1))

# %% [markdown]
# ## 2. $\gamma = \sqrt{\sigma_B^2 + \epsilon}$, $\beta = \mu_B$ recovers the identity
#
# The scale and shift give back everything the normalization took away: "the network can learn
# $\gamma^{(k)} = \sqrt{\mathrm{Var}[x^{(k)}]}$, $\beta^{(k)} = E[x^{(k)}]$ to recover the identity
# mapping" (with $\epsilon$ inside the root, exactly).

# %%
xb = batches[0]
ident = nn.BatchNorm1d(C_FEAT).double()
with torch.no_grad():
    ident.weight.copy_(torch.tensor(np.sqrt(xb.numpy().var(0) + EPS)))
    ident.bias.copy_(torch.tensor(xb.numpy().mean(0)))
err = np.abs(ident(xb).detach().numpy() - xb.numpy()).max()
print("max |BN(x) - x| with gamma = sqrt(var + eps), beta = mean:", err)
assert err < 1e-12

# %% [markdown]
# ## 3. BatchNorm before or after the activation?
#
# The paper (and COMP541: "usually inserted after fully connected layers, and before the
# nonlinearity") normalizes the pre-activation $Wx$; the Linear then needs no bias, $\beta$ replaces
# it. Many practitioners put it after the activation instead. `train.models.MLP(batchnorm='before' |
# 'after')` builds both. Before: each ReLU sees a unit Gaussian-like input, so about half its outputs
# are zero. After: the next layer sees zero-mean, unit-variance inputs. On the digits both train well.

# %%
digits = load_digits()
x_train, y_train, x_test_d, y_test_d = digits.x_train, digits.y_train, digits.x_test, digits.y_test
if SMALL:
    x_train, y_train = x_train[:800], y_train[:800]


def train_digits(model, lr, epochs, seed=0):
    """Plain SGD (batch 64): per-epoch mean training loss (stops at a non-finite loss) and test accuracy."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True, seed=seed)
    losses = []
    for _ in range(epochs):
        model.train()
        total, n = 0.0, 0
        for xb_, yb_ in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb_), yb_)
            loss.backward()
            opt.step()
            total, n = total + loss.item(), n + 1
        losses.append(total / n)
        if not math.isfinite(losses[-1]):
            break
    model.eval()
    with torch.no_grad():
        acc = (model(x_test_d).argmax(1) == y_test_d).float().mean().item() if math.isfinite(losses[-1]) else 0.1
    return np.array(losses), acc


def mlp(batchnorm, seed=0):
    torch.manual_seed(seed)
    return MLP(64, 10, depth=3, width=64, activation="relu", batchnorm=batchnorm)


print(mlp("before").net)
placement = {}
for where in ("before", "after"):
    model = mlp(where)
    losses, acc = train_digits(model, 0.1, 6 if SMALL else 15)
    bn_layer = [m for m in model.net if isinstance(m, nn.BatchNorm1d)][1]  # the second hidden block
    relu_layer = [m for m in model.net if isinstance(m, nn.ReLU)][1]
    captured = {}
    hooks = [bn_layer.register_forward_hook(lambda m, i, o: captured.__setitem__("bn", o.detach().numpy())),
             relu_layer.register_forward_hook(lambda m, i, o: captured.__setitem__("relu", o.detach().numpy()))]
    model.train()
    with torch.no_grad():
        model(x_train[:512])
    for h in hooks:
        h.remove()
    placement[where] = (losses, acc, captured, (bn_layer.bias.detach().numpy(), bn_layer.weight.detach().numpy()))
    print(f"BN {where:6s} the activation: final train loss {losses[-1]:.3f}, test accuracy {acc:.3f}, "
          f"ReLU zeros {np.mean(captured['relu'] == 0):.0%}")
    assert acc > 0.9
assert 0.4 < np.mean(placement["before"][2]["relu"] == 0) < 0.6  # ReLU of a standardized input: half zero
# BN after the ReLU: the next layer sees mean beta and std |gamma| per feature (learned, started at 0 and 1)
post = placement["after"][2]["bn"]
alive = post.std(0) > 1e-3
print(f"BN after: batch mean - beta max {np.abs(post.mean(0) - placement['after'][3][0]).max():.1e}, "
      f"alive units {alive.mean():.0%}")
assert np.allclose(post.mean(0), placement["after"][3][0], atol=1e-5)
assert np.allclose(post.std(0)[alive], np.abs(placement["after"][3][1])[alive], rtol=0.02)

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
axes[0].hist(placement["before"][2]["bn"].ravel(), bins=60, color="C0")
axes[0].set_title("BN before ReLU: the ReLU's input (BN output)")
axes[1].hist(placement["after"][2]["bn"].ravel(), bins=60, color="C1")
axes[1].set_title("BN after ReLU: the next layer's input (BN output)")
for where, c in (("before", "C0"), ("after", "C1")):
    axes[2].plot(np.arange(1, len(placement[where][0]) + 1), placement[where][0], "o-", color=c,
                 label=f"BN {where} (test acc {placement[where][1]:.2f})")
axes[2].set(xlabel="epoch", ylabel="training loss", yscale="log", title="digits, SGD lr 0.1")
axes[2].legend()
fig.tight_layout()
savefig(fig, "before_after")
plt.show()

# %% [markdown]
# ## 4. BatchNorm allows much larger learning rates
#
# Ioffe & Szegedy trained their BN-Inception at 5x (BN-x5) and 30x (BN-x30) the original learning
# rate. The reason: a layer followed by BN is invariant to the scale of its weights, so a large step
# that inflates the weights does not blow up the activations (it shrinks the effective step
# instead). "30x" depends on the base rate, though: measured against a base far below the plain
# network's best rate, any factor looks large. The fair comparison is the **range of usable rates**:
# the same 3-hidden-layer ReLU MLP on the digits, plain SGD (batch 64, 15 epochs), without and with BN
# (before the activation), on a grid of rates; a rate is *usable* when the final training loss is
# below 0.5 (a fifth of chance's $\log 10 = 2.3$). We compare the largest usable rate of each.

# %%
GRID = [0.2, 0.8, 3.2] if SMALL else [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4]
EPOCHS, USABLE = 15, 0.5
lr_runs = {}
for bn_where in (None, "before"):
    for lr in GRID:
        lr_runs[(bn_where, lr)] = train_digits(mlp(bn_where), lr, EPOCHS)
        losses, acc = lr_runs[(bn_where, lr)]
        print(f"{'BN   ' if bn_where else 'plain'} lr {lr:5.3g}: final train loss {losses[-1]:.3g}, "
              f"test accuracy {acc:.3f}")


def usable(bn_where):
    return [lr for lr in GRID if math.isfinite(lr_runs[(bn_where, lr)][0][-1])
            and lr_runs[(bn_where, lr)][0][-1] < USABLE]


best_plain = min(GRID, key=lambda lr: lr_runs[(None, lr)][0][-1]
                 if math.isfinite(lr_runs[(None, lr)][0][-1]) else math.inf)
max_plain, max_bn = max(usable(None)), max(usable("before"))
print(f"usable rates: plain {usable(None)}, BN {usable('before')}; the plain net's best rate {best_plain}")
print(f"largest usable rate: BN {max_bn} / plain {max_plain} = {max_bn / max_plain:.0f}x")

# %%
fig, ax = plt.subplots(figsize=(8, 5))
for bn_where, c, label in ((None, "C3", "plain"), ("before", "C0", "BatchNorm")):
    final = [lr_runs[(bn_where, lr)][0][-1] for lr in GRID]
    ax.plot(GRID, [min(f, 5) if math.isfinite(f) else 5 for f in final], "o-", color=c, label=label)
    top = max(usable(bn_where))
    ax.axvline(top, color=c, ls="--", lw=1.5)
    ax.annotate(f"largest usable\n{label}: {top:g}", xy=(top, 1.2 if bn_where else 0.004),
                xytext=(8, 0), textcoords="offset points", color=c)
ax.axhline(USABLE, color="gray", ls=":", label=f"usable: final loss < {USABLE}")
ax.set(xscale="log", yscale="log", ylim=(3e-3, 6), xlabel="learning rate (SGD)",
       ylabel=f"training loss after {EPOCHS} epochs",
       title=f"BatchNorm: usable learning rates up to {max_bn / max_plain:.0f}x larger")
ax.legend(loc="upper left")
savefig(fig, "bn_learning_rates")
plt.show()

# %%
# Measured, batch-order seeds 0-2: the largest usable rate is 0.4 plain / 3.2 BN (full size, all seeds),
# 0.2 / 3.2 (small grid 0.2, 0.8, 3.2); 6.4 fails for both; ratio 8-16x. Asserted: at least 4x
assert max_bn >= 4 * max_plain
assert set(usable(None)) <= set(usable("before"))  # BN trains wherever the plain net does ...
assert lr_runs[("before", best_plain)][0][-1] < lr_runs[(None, best_plain)][0][-1]  # ... and better at its best

# %% [markdown]
# ## 5. Which axes? BatchNorm, LayerNorm, InstanceNorm, GroupNorm
#
# For activations of shape $(N, C, H, W)$ every method computes a mean and a variance over a set of
# axes and normalizes with them (Wu & He 2018, Fig. 2):
#
# | layer | statistics over | one $(\mu, \sigma)$ per | learnable $\gamma, \beta$ |
# |---|---|---|---|
# | `BatchNorm2d(C)` | $N, H, W$ | channel | per channel |
# | `LayerNorm((C, H, W))` | $C, H, W$ | sample | per element of (C, H, W) |
# | `InstanceNorm2d(C)` | $H, W$ | sample and channel | none by default (`affine=False`) |
# | `GroupNorm(G, C)` | $C/G$ channels, $H, W$ | sample and group | per channel |
#
# GroupNorm with $G = 1$ is LayerNorm (up to the shape of $\gamma$), with $G = C$ InstanceNorm.
# Only BatchNorm mixes samples and keeps running statistics; the others behave the same in training
# and eval.

# %%
N_, C_, H_, W_ = 4, 6, 5, 5
G = 3
x4 = torch.randn(N_, C_, H_, W_, dtype=torch.float64) * 3 + 2
a = x4.numpy()


def normalize_over(arr, axes):
    return (arr - arr.mean(axes, keepdims=True)) / np.sqrt(arr.var(axes, keepdims=True) + EPS)


by_hand = {
    "BatchNorm2d": normalize_over(a, (0, 2, 3)),
    "LayerNorm": normalize_over(a, (1, 2, 3)),
    "InstanceNorm2d": normalize_over(a, (2, 3)),
    "GroupNorm": normalize_over(a.reshape(N_, G, C_ // G, H_, W_), (2, 3, 4)).reshape(a.shape),
}
layers_ = {
    "BatchNorm2d": nn.BatchNorm2d(C_).double(),
    "LayerNorm": nn.LayerNorm((C_, H_, W_)).double(),
    "InstanceNorm2d": nn.InstanceNorm2d(C_).double(),
    "GroupNorm": nn.GroupNorm(G, C_).double(),
}
for name, layer in layers_.items():
    out = layer(x4).detach().numpy()
    print(f"{name:15s} max |layer - by hand| = {np.abs(out - by_hand[name]).max():.1e}   "
          f"buffers: {[n for n, _ in layer.named_buffers()]}")
    assert np.allclose(out, by_hand[name], atol=1e-12), name
assert np.allclose(nn.GroupNorm(1, C_).double()(x4).detach().numpy(), by_hand["LayerNorm"], atol=1e-12)
assert np.allclose(nn.GroupNorm(C_, C_).double()(x4).detach().numpy(), by_hand["InstanceNorm2d"], atol=1e-12)
# LayerNorm on an MLP's features: statistics over the last dim, one per sample
feats = torch.randn(5, 10, dtype=torch.float64) * 4 - 1
assert np.allclose(nn.LayerNorm(10).double()(feats).detach().numpy(), normalize_over(feats.numpy(), (1,)), atol=1e-12)

# %%
fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
groups = {  # which (sample, channel) cells share one mean/variance with the highlighted one (H, W folded)
    "BatchNorm": lambda n, c: c == 1,
    "LayerNorm": lambda n, c: n == 1,
    "InstanceNorm": lambda n, c: n == 1 and c == 1,
    f"GroupNorm (G={G})": lambda n, c: n == 1 and c // (C_ // G) == 0,
}
for ax, (name, member) in zip(axes, groups.items()):
    grid = np.array([[1.0 if member(n, c) else 0.0 for c in range(C_)] for n in range(N_)])
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=1.3)
    ax.set_xticks(range(C_))
    ax.set_yticks(range(N_))
    ax.set(xlabel="channel C", ylabel="sample N", title=name)
    for n in range(N_):
        for c in range(C_):
            ax.text(c, n, "H,W", ha="center", va="center", fontsize=12, color="gray")
fig.suptitle("cells normalized together with one mean and variance (each cell = all H x W positions)")
fig.tight_layout()
savefig(fig, "norm_axes")
plt.show()

# %% [markdown]
# ## 6. Batch size 1: BatchNorm cannot train on it, LayerNorm can
#
# With one sample per batch the batch variance of each feature is 0 (the sample minus itself) and
# the "normalized" output is just $\beta$: there is nothing to learn from. PyTorch refuses such a
# batch in training mode, and so does this library, with a message that says what to do. In eval
# mode BN uses its running statistics and works at any batch size. LayerNorm normalizes each sample
# on its own: it works at batch size 1, in training and eval alike, and has no running statistics.

# %%
bn_1 = nn.BatchNorm1d(C_FEAT)
one = torch.randn(1, C_FEAT)
try:
    bn_1(one)
    raised = None
except ValueError as e:
    raised = str(e)
print("BatchNorm1d, training, batch of 1 ->", raised)
assert raised is not None and "LayerNorm" in raised
bn_1.eval()
print("BatchNorm1d, eval, batch of 1   ->", bn_1(one).detach().numpy())

ln = nn.LayerNorm(C_FEAT)
y1 = ln(one).detach().numpy()
print("LayerNorm, training, batch of 1 ->", np.round(y1, 4), "  buffers:", list(dict(ln.named_buffers())))
assert np.allclose(y1.mean(), 0, atol=1e-6) and np.allclose(y1.std(), 1, atol=1e-3)
assert list(dict(ln.named_buffers())) == []
# ... and a sample's LayerNorm output does not depend on what else is in the batch
many = torch.cat([one, torch.randn(7, C_FEAT)])
assert np.allclose(ln(many).detach().numpy()[:1], y1, atol=1e-6)

# %% [markdown]
# ## 7. Input normalization: standardize, PCA, whiten
#
# COMP541: scale the inputs to similar variances (balanced learning rates per weight) and, ideally,
# decorrelate them. With the data matrix $X$ ($N \times D$, one example per row):
#
# * `Standardize`: $(x - \mu)/\sigma$ per feature (statistics fitted on the training set only);
# * `PCA`: center and rotate onto the principal axes, $(x - \mu) V^\top$ from the SVD
#   $X - \mu = U S V^\top$: the covariance becomes diagonal;
# * `Whitening`: divide each principal coordinate by its std, $(x - \mu) V^\top / (S/\sqrt N + \epsilon)$:
#   the covariance becomes $I$;
# * images: subtract the mean image or the per-channel mean (`SubtractChannelMean`): "in practice for
#   images: center only".

# %%
rng = np.random.default_rng(0)
n_pts = 500
A = np.array([[3.0, 0.0], [1.6, 0.6]])
X2 = torch.tensor(rng.standard_normal((n_pts, 2)) @ A.T + np.array([4.0, -2.0]))

centered = X2 - X2.mean(0)
std_t = Standardize().fit(X2)
pca_t = PCA().fit(X2)
white_t = Whitening().fit(X2)
views = {"original": X2, "centered": centered, "standardized": std_t(X2), "PCA (decorrelated)": pca_t(X2),
         "whitened": white_t(X2)}
covs = {k: np.cov(v.numpy().T, bias=True) for k, v in views.items()}
for k, cv in covs.items():
    print(f"{k:20s} mean {np.round(views[k].numpy().mean(0), 3)}  cov {np.round(cv, 3).tolist()}")
assert np.allclose(views["standardized"].numpy().mean(0), 0, atol=1e-12)
assert np.allclose(np.diag(covs["standardized"]), 1, atol=1e-9)
assert abs(covs["standardized"][0, 1]) > 0.5  # still correlated
assert abs(covs["PCA (decorrelated)"][0, 1]) < 1e-9  # decorrelated
assert np.allclose(covs["whitened"], np.eye(2), atol=1e-4)
print("explained variance ratio:", np.round(pca_t.explained_variance_ratio_, 3))

# %%
fig, axes = plt.subplots(1, 5, figsize=(17, 3.6))
for ax, (k, v) in zip(axes, views.items()):
    p = v.numpy()
    ax.scatter(p[:, 0], p[:, 1], s=4, alpha=0.5)
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set_aspect("equal")
    ax.set_xlim(-9, 9)
    ax.set_ylim(-9, 9)
    ax.set_title(k)
fig.suptitle("input preprocessing (tinygrad_dnn.data transforms)")
fig.tight_layout()
savefig(fig, "preprocessing")
plt.show()

# %%
# on the digits: whitening the 64 pixels (fitted on the training set, applied to the test set);
# always-blank pixels have zero variance: PCA keeps only the non-degenerate directions
d_white = Whitening(n_components=40).fit(digits.x_train)
zw = d_white(digits.x_train).numpy()
assert np.allclose(np.cov(zw.T, bias=True), np.eye(40), atol=1e-3)
print("digits: 40 whitened components, train covariance = I; test covariance diagonal range",
      np.round(np.diag(np.cov(d_white(digits.x_test).numpy().T)).min(), 2), "..",
      np.round(np.diag(np.cov(d_white(digits.x_test).numpy().T)).max(), 2))
# per-channel mean subtraction on image-shaped data (N, C, H, W)
imgs_c = torch.tensor(rng.standard_normal((20, 3, 4, 4)) + np.array([1.0, -2.0, 0.5])[None, :, None, None])
sub = SubtractChannelMean().fit(imgs_c)
assert np.allclose(sub(imgs_c).numpy().mean((0, 2, 3)), 0, atol=1e-12)
