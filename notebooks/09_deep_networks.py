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
# # 9. Deep networks: vanishing gradients, loss landscapes, MLP vs CNN
#
# 1. "Derivatives for early layers tend to be **orders of magnitude** smaller than those for late layers"
#    (deck 000): per-layer gradient norms of 20-layer plain, residual and BatchNorm MLPs, and what that
#    does to training. The fixes from deck 001: skip connections
#    $x^{\ell+1} = x^\ell + h_\ell(x^\ell)$, so $\partial E/\partial x^\ell = \partial E/\partial x^L
#    \,(1 + \sum_i \partial h_i/\partial x^\ell)$ (the 1 keeps the gradient alive), and batch normalization.
# 2. The loss landscape (deck 004, "mode connectivity"; deck 002, flat vs sharp minima): the loss along
#    the straight line between two trained solutions (a barrier), along a trained quadratic Bezier curve
#    between the same two (no barrier: Garipov et al. 2018), and around a small-batch and a full-batch
#    solution (flat vs sharp, measured by the top Hessian eigenvalue).
# 3. MNIST-1D (Greydanus 2020): logistic regression vs MLP vs CNN, where the published test accuracies
#    are 32%, 68% and 94%, and an MLP on the 8x8 digits.

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
import math
import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np  # reference computations and plotting only

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.data import load_digits, load_mnist1d
from tinygrad_dnn.nn import functional as F
from tinygrad_dnn.nn.utils import parameters_to_vector, vector_to_parameters
from tinygrad_dnn.train import CNN1d, MLP, ResidualMLP
from tinygrad_dnn.train.diagnostics import compute_gradient_norms

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/09_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"09_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


torch.manual_seed(0)
T0 = time.perf_counter()

# the 8x8 digits, standardized with the training set's statistics
digits = load_digits()
mu, sd = digits.x_train.mean(0), digits.x_train.std(0) + 0.1
xtr, xte = (digits.x_train - mu) / sd, (digits.x_test - mu) / sd
ytr, yte = digits.y_train, digits.y_test
cross_entropy = nn.CrossEntropyLoss()


def evaluate(model, x, y):
    """(loss, accuracy) of ``model`` on ``(x, y)`` in eval mode."""
    model.eval()
    with torch.no_grad():
        out = model(x)
        return cross_entropy(out, y).item(), (out.argmax(1) == y).float().mean().item()


def train(model, x, y, steps, batch_size=64, lr=1e-3, seed=0, optimizer="adam"):
    """``steps`` minibatch steps (batches drawn with replacement from a seeded generator)."""
    opt = (torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=lr))
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(steps):
        idx = torch.tensor(rng.integers(0, len(y), batch_size))
        opt.zero_grad()
        cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return model


# %% [markdown]
# ## 1. Gradient norms per layer in a 20-layer MLP
#
# Five networks with 20 hidden layers of 64 units on a batch of 256 digits, PyTorch's default
# initialization ($U(\pm 1/\sqrt{\text{fan\_in}})$, so $\mathrm{std}(W)\sqrt{m} = 1/\sqrt 3$):
#
# * plain sigmoid and plain tanh: each layer multiplies the backward signal by roughly
#   $\sigma'(\cdot)\,\|W\| \approx 0.25 \cdot 0.58$ (sigmoid) or $0.58$ (tanh), so after 20 layers the
#   first layer's gradient is $10^{-5}$ (tanh) to $10^{-17}$ (sigmoid) of the last one's;
# * `ResidualMLP` with tanh (10 blocks of two layers: 20 layers of 64): the identity path carries the
#   gradient past every block;
# * `MLP(batchnorm='before')` with tanh or sigmoid: each layer's input is renormalized, so the backward
#   gain per layer stays near one.
#
# `compute_gradient_norms` runs one forward/backward and returns $\|\nabla_W L\|$ for every parameter; we
# keep the weight matrices in depth order.

# %%
DEPTH, WIDTH = 20, 64
xb, yb = xtr[:256], ytr[:256]
NETS = {
    "plain sigmoid": lambda: MLP(64, 10, depth=DEPTH, width=WIDTH, activation="sigmoid"),
    "plain tanh": lambda: MLP(64, 10, depth=DEPTH, width=WIDTH, activation="tanh"),
    "residual tanh": lambda: ResidualMLP(64, 10, width=WIDTH, n_blocks=DEPTH // 2, activation="tanh"),
    "BatchNorm tanh": lambda: MLP(64, 10, depth=DEPTH, width=WIDTH, activation="tanh", batchnorm="before"),
    "BatchNorm sigmoid": lambda: MLP(64, 10, depth=DEPTH, width=WIDTH, activation="sigmoid", batchnorm="before"),
}


def layer_grad_norms(model):
    norms = compute_gradient_norms(model, xb, yb)
    params = dict(model.named_parameters())
    return np.array([v["grad_norm"] for k, v in norms.items() if k.endswith("weight") and params[k].ndim == 2])


grads = {}
for name, make in NETS.items():
    torch.manual_seed(0)
    grads[name] = g = layer_grad_norms(make())
    print(f"{name:18s} {len(g)} weight matrices: first {g[0]:.2e}, last {g[-1]:.2e}, "
          f"last/first {g[-1] / g[0]:.1e}, max/min {g.max() / g.min():.1f}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, g in grads.items():
    ax.semilogy(np.arange(1, len(g) + 1), g, "o-", ms=3, label=name)
ax.set_xlabel("layer (1 = input side)")
ax.set_ylabel(r"$\|\nabla_W L\|$")
ax.set_title(f"gradient norm per layer at initialization, {DEPTH} hidden layers x {WIDTH}")
ax.legend()
savefig(fig, "gradient_norms")
plt.show()

# plain nets: the first layer's gradient is orders of magnitude below the last layer's
assert grads["plain sigmoid"][-1] / grads["plain sigmoid"][0] > 1e10
assert grads["plain tanh"][-1] / grads["plain tanh"][0] > 1e3
# residual and BatchNorm nets: all layers within a modest factor of each other
for name in ("residual tanh", "BatchNorm tanh", "BatchNorm sigmoid"):
    assert grads[name].max() / grads[name].min() < 20, name

# %% [markdown]
# What the gradient norms mean for training: the same five networks, Adam (lr $10^{-3}$), batches of 64.
# The plain sigmoid net does not move from chance: its first layers get no signal and the
# rest sees noise. The residual and BatchNorm nets train like shallow ones.

# %%
STEPS = 120 if SMALL else 600
accs = {}
for name, make in NETS.items():
    torch.manual_seed(0)
    model = train(make(), xtr, ytr, STEPS)
    accs[name] = evaluate(model, xte, yte)[1]
    print(f"{name:18s} test accuracy after {STEPS} steps: {accs[name]:.3f}")
assert accs["plain sigmoid"] < 0.3
for name in ("residual tanh", "BatchNorm tanh", "BatchNorm sigmoid"):
    assert accs[name] > 0.85, name

# %% [markdown]
# ## 2. The loss landscape between and around solutions
#
# ### Two solutions from two seeds: the straight line and a curve
#
# Two copies of a 64-64-64-10 ReLU MLP trained from different seeds (SGD with momentum) reach zero
# training error. On the straight line $\theta(\alpha) = (1-\alpha)\theta_A + \alpha\theta_B$ the loss rises to
# a **barrier**: hidden units can be permuted without changing the function, so the two solutions are
# different points, and their average is not a solution. Garipov et al. (2018) showed that a simple
# curve connects them: a quadratic Bezier curve
# $\theta(t) = (1-t)^2\theta_A + 2t(1-t)\theta_M + t^2\theta_B$ whose middle point $\theta_M$ is trained by
# minimizing the loss at random $t \sim U(0,1)$. We write the network as a function of the flat parameter
# vector (`F.linear` on slices of it) so the gradient reaches $\theta_M$ through the curve.

# %%
def make_mlp(seed, h=64):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 10))


SHAPES = [tuple(p.shape) for p in make_mlp(0).parameters()]


def mlp_from_vector(v, x):
    """The same MLP as a function of its flattened parameters (weights and biases in order)."""
    ps, i = [], 0
    for s in SHAPES:
        n = math.prod(s)
        ps.append(v[i:i + n].reshape(s))
        i += n
    h = x
    for k in range(0, len(ps), 2):
        h = F.linear(h, ps[k], ps[k + 1])
        if k + 2 < len(ps):
            h = h.relu()
    return h


def train_sgd(model, steps, batch_size=32, lr=0.05, momentum=0.9, seed=0):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = torch.tensor(rng.integers(0, len(ytr), batch_size))
        opt.zero_grad()
        cross_entropy(model(xtr[idx]), ytr[idx]).backward()
        opt.step()
    return model


SOL_STEPS = 500 if SMALL else 1500
A, B = train_sgd(make_mlp(0), SOL_STEPS, seed=0), train_sgd(make_mlp(1), SOL_STEPS, seed=1)
va, vb = (parameters_to_vector(m.parameters()).detach() for m in (A, B))
for name, m in (("A", A), ("B", B)):
    print(f"solution {name}: train loss {evaluate(m, xtr, ytr)[0]:.4f}, test accuracy {evaluate(m, xte, yte)[1]:.3f}")
with torch.no_grad():  # the functional form computes the same network
    assert abs(cross_entropy(mlp_from_vector(va, xtr), ytr).item() - evaluate(A, xtr, ytr)[0]) < 1e-5


def losses_along(vectors, x=xtr, y=ytr):
    """Training and test loss of the functional MLP at each parameter vector."""
    with torch.no_grad():
        return (np.array([cross_entropy(mlp_from_vector(v, x), y).item() for v in vectors]),
                np.array([cross_entropy(mlp_from_vector(v, xte), yte).item() for v in vectors]))


alphas = np.linspace(-0.25, 1.25, 25 if SMALL else 61)
line_train, line_test = losses_along([(1 - a) * va + a * vb for a in alphas])

# the Bezier curve: train its middle point, starting from the midpoint of the line
M = ((va + vb) / 2).detach().requires_grad_(True)
opt = torch.optim.SGD([M], lr=0.05, momentum=0.9)
rng = np.random.default_rng(0)
for _ in range(SOL_STEPS):
    t = float(rng.uniform())
    idx = torch.tensor(rng.integers(0, len(ytr), 32))
    opt.zero_grad()
    v = (1 - t) ** 2 * va + 2 * t * (1 - t) * M + t ** 2 * vb
    cross_entropy(mlp_from_vector(v, xtr[idx]), ytr[idx]).backward()
    opt.step()
ts = np.linspace(0, 1, 21)
M = M.detach()
curve_train, curve_test = losses_along([(1 - t) ** 2 * va + 2 * t * (1 - t) * M + t ** 2 * vb for t in ts])

fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogy(alphas, line_train, "C0-", label="straight line, train")
ax.semilogy(alphas, line_test, "C0--", label="straight line, test")
ax.semilogy(ts, curve_train, "C1-", label="trained Bezier curve, train")
ax.semilogy(ts, curve_test, "C1--", label="trained Bezier curve, test")
ax.axvline(0, color="gray", lw=0.5)
ax.axvline(1, color="gray", lw=0.5)
ax.set_xlabel(r"$\alpha$ (line) / $t$ (curve): 0 = solution A, 1 = solution B")
ax.set_ylabel("cross-entropy")
ax.set_title("mode connectivity: two solutions from two seeds")
ax.legend()
savefig(fig, "mode_connectivity")
plt.show()

ends = max(line_train[alphas == 0][0], line_train[alphas == 1][0])
inside = (alphas > 0) & (alphas < 1)
line_barrier, curve_barrier = line_train[inside].max() - ends, curve_train.max() - ends
print(f"train loss at the ends <= {ends:.4f}; barrier on the line {line_barrier:.3f}, on the curve {curve_barrier:.4f}")
assert line_barrier > 0.1 and line_barrier > 10 * ends  # a real barrier on the straight line
assert curve_barrier < line_barrier / 5  # the trained curve removes (most of) it

# %% [markdown]
# ### Flat vs sharp: small-batch SGD vs full-batch gradient descent
#
# Keskar et al. (2017): large-batch training tends to end in **sharper** minima than small-batch SGD, whose
# gradient noise (scale $\approx \eta / B$) keeps it out of narrow valleys. We train the same network
# twice from the same initialization with the same learning rate on 512 training digits, once with
# batches of 8 and once with all 512 (gradient descent), each until its training loss is below 0.02
# (checked every 8 steps), so both are solutions of equal quality. Sharpness = the largest eigenvalue $\lambda_{\max}$ of the Hessian of the
# training loss, by power iteration on Hessian-vector products (`torch.hvp`: double backward). Then the
# loss of a perturbed copy $\theta + s\,d$ along the top eigenvector $d$ (curvature $\lambda_{\max}$) and
# along a random unit direction. Most directions of a trained network are flat, so a random direction
# barely separates the two (right panel); the top eigenvector does.

# %%
N_SUB = 512
xs_, ys_ = xtr[:N_SUB], ytr[:N_SUB]


def train_until(model, batch_size, lr, target=0.02, max_steps=4000, check_every=8, seed=0):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    rng, steps = np.random.default_rng(seed), 0
    while steps < max_steps:
        perm = torch.tensor(rng.permutation(N_SUB))
        for i in range(0, N_SUB, batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            cross_entropy(model(xs_[idx]), ys_[idx]).backward()
            opt.step()
            steps += 1
            if steps % check_every == 0 and evaluate(model, xs_, ys_)[0] < target:
                return model, steps
    return model, steps


def top_hessian_eigen(v0, iters=20, seed=0):
    """Largest Hessian eigenvalue of the training loss at ``v0`` and its eigenvector (power iteration)."""
    gen = torch.Generator().manual_seed(seed)
    d = torch.randn(v0.shape[0], generator=gen)
    lam = 0.0
    for _ in range(iters):
        d = d / d.norm()
        _, hd = torch.hvp(lambda v: cross_entropy(mlp_from_vector(v, xs_), ys_), v0, d)
        lam, d = (hd * d).sum().item(), hd.detach()
    return lam, d / d.norm()


LR = 0.2
runs = {}
for label, bs in (("batch 8", 8), ("full batch", N_SUB)):
    t0 = time.perf_counter()
    model, steps = train_until(make_mlp(0), bs, LR)
    v = parameters_to_vector(model.parameters()).detach()
    lam, d = top_hessian_eigen(v, iters=10 if SMALL else 30)
    runs[label] = {"v": v, "lam": lam, "d": d, "steps": steps}
    print(f"{label:10s}: {steps:5d} steps, train loss {evaluate(model, xs_, ys_)[0]:.4f}, "
          f"test accuracy {evaluate(model, xte, yte)[1]:.3f}, lambda_max {lam:.3f} ({time.perf_counter() - t0:.1f} s)")

scales = np.linspace(-1, 1, 17 if SMALL else 41)
gen = torch.Generator().manual_seed(1)
rand_dir = torch.randn(va.shape[0], generator=gen)
rand_dir = rand_dir / rand_dir.norm()
fig, axs = plt.subplots(1, 2, figsize=(13, 5))
for label, r in runs.items():
    top, _ = losses_along([r["v"] + s * r["d"] for s in scales], xs_, ys_)
    rnd, _ = losses_along([r["v"] + 10 * s * rand_dir for s in scales], xs_, ys_)
    axs[0].plot(scales, top, label=f"{label}, $\\lambda_{{max}}$ = {r['lam']:.2f}")
    axs[1].plot(10 * scales, rnd, label=label)
axs[0].set_title("along the top Hessian eigenvector")
axs[1].set_title("along a random unit direction")
for ax in axs:
    ax.set_xlabel("s (distance in parameter space)")
    ax.set_ylabel("training loss")
    ax.legend()
fig.suptitle("A perturbed copy of each solution: small batch (flat) vs full batch (sharp)")
fig.tight_layout()
savefig(fig, "flat_vs_sharp")
plt.show()
# near the minimum the loss along the top eigenvector grows like lambda_max s^2 / 2.
# One initialization is an anecdote: repeat with other seeds (initialization and batch order).
SHARP_SEEDS = range(3) if SMALL else range(5)
ratios_fs = [runs["full batch"]["lam"] / runs["batch 8"]["lam"]]
for seed in SHARP_SEEDS[1:]:
    lams = {}
    for label, bs in (("batch 8", 8), ("full batch", N_SUB)):
        model, _ = train_until(make_mlp(seed), bs, LR, seed=seed)
        lams[label] = top_hessian_eigen(parameters_to_vector(model.parameters()).detach(),
                                        iters=10 if SMALL else 30)[0]
    ratios_fs.append(lams["full batch"] / lams["batch 8"])
print("lambda_max full batch / batch 8, per seed:", " ".join(f"{r:.2f}" for r in ratios_fs))
# Measured, seeds 0-5: 1.10-1.63 (median of seeds 0-2: 1.51 small, of seeds 0-4: 1.45 full). Asserted: the
# median above 1.25 and no seed reversed (all above 0.95; the smallest measured is 1.07)
assert np.median(ratios_fs) > 1.25 and min(ratios_fs) > 0.95

# %% [markdown]
# ## 3. MNIST-1D: logistic regression vs MLP vs CNN, and the digits
#
# MNIST-1D (generated locally with the reference recipe: 4000 training and 1000 test signals of length
# 40, 10 classes) is small but hard for a model without translation invariance: the digit template is
# shifted, scaled, sheared and padded with correlated noise. Published test accuracies: logistic
# regression 32%, MLP 68%, CNN 94%. Adam, lr $10^{-2}$, batches of 100 as in the reference; the CNN is
# `train.CNN1d` (three Conv1d(k=5, 16 channels)-BatchNorm-ReLU blocks, max pooling). Small mode trains for a few
# hundred steps only; the full run uses the reference's 6000 steps (2000 for the CNN, which converges
# much faster and costs ~10x more per step on two CPU cores).

# %%
m1d = load_mnist1d()
steps_1d = {"logistic": 300, "MLP": 300, "CNN": 200} if SMALL else {"logistic": 6000, "MLP": 6000, "CNN": 2000}
models_1d = {
    "logistic": lambda: nn.Linear(40, 10),
    "MLP": lambda: MLP(40, 10, hidden=[100, 100]),
    "CNN": lambda: CNN1d(40, 10, channels=16),
}
acc_1d = {}
for name, make in models_1d.items():
    torch.manual_seed(0)
    t0 = time.perf_counter()
    model = train(make(), m1d.x_train, m1d.y_train, steps_1d[name], batch_size=100, lr=1e-2)
    acc_1d[name] = evaluate(model, m1d.x_test, m1d.y_test)[1]
    print(f"MNIST-1D {name:8s}: test accuracy {acc_1d[name]:.3f} after {steps_1d[name]} steps "
          f"({time.perf_counter() - t0:.1f} s)")

published = {"logistic": 0.32, "MLP": 0.68, "CNN": 0.94}
fig, ax = plt.subplots(figsize=(6, 3.5))
xs = np.arange(len(published))
ax.bar(xs - 0.2, [acc_1d[k] for k in published], 0.4, label="tinygrad_dnn" + (" (small mode)" if SMALL else ""))
ax.bar(xs + 0.2, list(published.values()), 0.4, label="Greydanus 2020")
ax.axhline(0.1, color="gray", ls=":", label="chance")
ax.set_xticks(xs)
ax.set_xticklabels(list(published))
ax.set_ylabel("test accuracy")
ax.set_title("MNIST-1D")
ax.legend()
savefig(fig, "mnist1d")
plt.show()

# Small mode, initialization seeds 0-3 (300/300/200 steps): logistic 0.305-0.311, MLP 0.573-0.598, CNN
# 0.920-0.959; thresholds about 3x the spread below the lowest: the order logistic < MLP < CNN, clearly
if SMALL:
    assert abs(acc_1d["logistic"] - 0.31) < 0.03 and acc_1d["MLP"] > 0.5 and acc_1d["CNN"] > 0.8
else:  # the published scale
    assert abs(acc_1d["logistic"] - 0.32) < 0.08 and abs(acc_1d["MLP"] - 0.68) < 0.1 and acc_1d["CNN"] > 0.88
assert acc_1d["logistic"] + 0.15 < acc_1d["MLP"] and acc_1d["MLP"] + 0.15 < acc_1d["CNN"]

# %% [markdown]
# The 8x8 digits are easy by comparison: a standardized MLP reaches about 97% (the reference range is
# 97-98%).

# %%
torch.manual_seed(0)
digits_mlp = train(MLP(64, 10, hidden=[128, 64]), xtr, ytr, 400 if SMALL else 2000, batch_size=64, lr=1e-3)
digits_acc = evaluate(digits_mlp, xte, yte)[1]
print(f"digits MLP test accuracy: {digits_acc:.3f}")
assert digits_acc >= 0.95
print(f"notebook time {time.perf_counter() - T0:.1f} s")
