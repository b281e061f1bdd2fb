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
# # 6. Regularization
#
# Ways to limit what a network can fit (COMP541 "Improving generalization"; deck 000 "Training
# DNNs"; deck 001 "On the training of neural networks"; deck 002 "Optimization in deep learning"),
# each checked against its formula:
#
# 1. L2 versus L1 penalties: L1 makes weights exactly sparse as $\lambda$ grows, L2 only shrinks them;
# 2. weight decay versus L2: the same for plain SGD, not for Adam (hence AdamW), and not for
#    SGD with momentum either;
# 3. dropout: vanilla (scale by the keep probability at test time) versus inverted, $E[a]$ for one
#    unit, Monte Carlo averaging versus the mean-field (weight-scaling) rule at test time;
# 4. early stopping (`train.callbacks.EarlyStopping`);
# 5. Gaussian input noise as ridge regression: $E[(y_{noisy} - t)^2] = (y - t)^2 + s^2\sum_i w_i^2$;
# 6. label smoothing, and mixup;
# 7. ridge regression: the closed form $(X^\top X + \lambda I)^{-1}X^\top y$ versus gradient descent;
# 8. random labels are memorized (Zhang et al. 2017).
#
# Conventions (`curriculum.md`): **on the slides dropout's $p$ is the KEEP probability**
# ("p = 0.5 # probability of keeping a unit active"); `nn.Dropout(p)` takes the DROP probability, as
# PyTorch, so "keep 0.8" is `nn.Dropout(0.2)`. Below $q$ always means the keep probability.
# PyTorch's `label_smoothing=e` puts $e/C$ on every class (the true one gets $1 - e + e/C$); the
# slide's $[\epsilon, \dots, 1-(m-1)\epsilon, \dots, \epsilon]$ is the same target with
# $\epsilon = e/C$. The ridge closed form is for the *sum* of squared errors; with a mean loss the
# same solution needs $\lambda_{mean} = \lambda/N$.

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
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np  # only for reference computations and plotting

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.data import DataLoader, Mixup, TensorDataset, load_digits, soft_target_cross_entropy
from tinygrad_dnn.nn import functional as F
from tinygrad_dnn.train import fit
from tinygrad_dnn.train.callbacks import EarlyStopping

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/06_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"06_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


torch.manual_seed(0)
digits = load_digits()
C = digits.num_classes

# %% [markdown]
# ## 1. L2 versus L1: shrinkage versus sparsity
#
# A linear regression with 40 features of which only 5 matter, trained by gradient descent on
# $\frac1N\|Xw - y\|^2 + \lambda\,\Omega(w)$ for a range of $\lambda$:
#
# * L2, $\Omega = \|w\|_2^2$: the update is $w \leftarrow (1 - 2\eta\lambda)w - \eta\nabla$: every
#   weight shrinks in proportion to its size and none reaches zero;
# * L1, $\Omega = \|w\|_1$: the (sub)gradient step $w \leftarrow w - \eta\lambda\,\mathrm{sign}(w)
#   - \eta\nabla$ pulls every weight towards 0 by a constant amount; a weight whose data gradient is
#   smaller than $\lambda$ ends up at zero (it then jitters within $\eta\lambda$ of 0, so we let
#   $\eta$ decay linearly to 0). "$\lambda
#   \uparrow \Rightarrow$ more weights become 0."
#
# All $\lambda$ train at once: the columns of one weight matrix are independent problems.

# %%
N_REG, D_REG, K_TRUE = 200, 40, 5
g = np.random.default_rng(0)
X_np = g.standard_normal((N_REG, D_REG))
w_true = np.zeros(D_REG)
w_true[:K_TRUE] = [3.0, -2.0, 1.5, 1.0, -0.5]
y_np = X_np @ w_true + 0.5 * g.standard_normal(N_REG)
X, y = torch.tensor(X_np), torch.tensor(y_np)

LAMBDAS = np.array([0.0, 0.01, 0.03, 0.1, 0.3, 1.0]) if SMALL else np.geomspace(1e-3, 2.0, 14)
LAMBDAS = np.concatenate([[0.0], LAMBDAS[LAMBDAS > 0]])
lam_t = torch.tensor(LAMBDAS)
STEPS_REG, LR_REG = (1500 if SMALL else 4000), 0.01


def fit_penalized(penalty):
    W = torch.zeros(D_REG, len(LAMBDAS), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([W], lr=LR_REG)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 - t / STEPS_REG)  # linear decay: the jitter dies out
    for _ in range(STEPS_REG):
        opt.zero_grad()
        data = ((X @ W - y.reshape(-1, 1)) ** 2).mean(0)  # one mean squared error per lambda
        pen = (W ** 2).sum(0) if penalty == "L2" else W.abs().sum(0)
        (data + lam_t * pen).sum().backward()
        opt.step()
        sched.step()
    return W.detach().numpy()


W_l2, W_l1 = fit_penalized("L2"), fit_penalized("L1")
ZERO = 1e-3  # "zero": within the jitter of the subgradient method (eta lambda, with eta decayed to ~0)
sparsity = {name: (np.abs(Wp) < ZERO).mean(0) for name, Wp in (("L1", W_l1), ("L2", W_l2))}
for i, lam in enumerate(LAMBDAS):
    print(f"lambda {lam:7.4f}: L1 zero weights {sparsity['L1'][i]:5.0%}  |w|_1 {np.abs(W_l1[:, i]).sum():6.2f}   "
          f"L2 zero weights {sparsity['L2'][i]:5.0%}  |w|_2 {np.linalg.norm(W_l2[:, i]):5.2f}")

# %%
s1 = sparsity["L1"]
assert np.all(np.diff(s1) >= -0.05)  # sparsity grows with lambda (up to one weight of jitter)
assert s1[-1] > s1[0] + 0.5 and s1[-1] >= (D_REG - K_TRUE) / D_REG - 0.05  # the irrelevant weights are 0
assert sparsity["L2"].max() < s1[-1] - 0.4  # L2 shrinks but does not zero
assert np.all(np.diff(np.linalg.norm(W_l2, axis=0)) < 0)  # ... shrinks monotonically
assert np.all(np.abs(W_l1[:K_TRUE, 1]) > 0.3)  # small lambda keeps the true features

fig, axes = plt.subplots(1, 3, figsize=(15, 4))
lam_plot = np.where(LAMBDAS == 0, LAMBDAS[1] / 3, LAMBDAS)
for ax, (name, Wp) in zip(axes, (("L1", W_l1), ("L2", W_l2))):
    for j in range(D_REG):
        ax.plot(lam_plot, Wp[j], color="C3" if j < K_TRUE else "gray", lw=1.5 if j < K_TRUE else 0.7)
    ax.set(xscale="log", xlabel=r"$\lambda$ (0 plotted at the left end)", ylabel="weight",
           title=f"{name} regularization path (red: the 5 true features)")
axes[2].plot(lam_plot, sparsity["L1"], "o-", label="L1")
axes[2].plot(lam_plot, sparsity["L2"], "s-", label="L2")
axes[2].set(xscale="log", xlabel=r"$\lambda$", ylabel=f"fraction of |w| < {ZERO}", title="sparsity")
axes[2].legend()
fig.tight_layout()
savefig(fig, "l1_l2")
plt.show()

# %% [markdown]
# ## 2. Weight decay versus L2
#
# Deck 001: for an algorithm $\mathcal A$ with update $\theta_{t+1} = \theta_t - \eta h_t$, "A + weight
# decay" is $\theta_{t+1} = (1 - \lambda\eta)\theta_t - \eta h_t$. For plain SGD, $h_t = \nabla
# \hat R$ and this equals SGD on $\hat R + \frac\lambda2\|\theta\|^2$. For Adam it does not: an L2
# term enters $h_t$ and gets divided by $\sqrt{v_t}$ (weights with large gradients are barely
# decayed); AdamW (Loshchilov & Hutter) decays the weights directly. With momentum the two differ as
# well: the L2 gradient accumulates in the velocity, decoupled decay does not.
#
# In `torch.optim`, `weight_decay=` means "add $\lambda\theta$ to the gradient" (= L2) for `SGD` and
# `Adam`, and decoupled decay for `AdamW`. Four comparisons on a small MLP fitting 256 digits
# (128 in small mode; float64, full batch, the same start):

# %%
N_WD = 128 if SMALL else 256
x_wd, y_wd = digits.x_train[:N_WD].double(), digits.y_train[:N_WD]
LAM, STEPS_WD = 0.05, (40 if SMALL else 200)


def wd_model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, C)).double()


def run_wd(make_opt, l2=0.0, decoupled=0.0):
    """Parameters after STEPS_WD steps: loss + l2/2 ||theta||^2 in the loss, and/or theta *= (1 - lr decoupled) by hand."""
    model = wd_model()
    opt = make_opt(model.parameters())
    norms = []
    for _ in range(STEPS_WD):
        opt.zero_grad()
        loss = F.cross_entropy(model(x_wd), y_wd)
        if l2:
            loss = loss + 0.5 * l2 * sum((p ** 2).sum() for p in model.parameters())
        loss.backward()
        if decoupled:
            with torch.no_grad():
                for p in model.parameters():
                    p.mul_(1 - opt.param_groups[0]["lr"] * decoupled)
        opt.step()
        norms.append(math.sqrt(sum((p.detach() ** 2).sum().item() for p in model.parameters())))
    return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]), np.array(norms)


def max_diff(a, b):
    return np.abs(a[0] - b[0]).max()


sgd = lambda lr=0.5, **kw: (lambda ps: torch.optim.SGD(ps, lr=lr, **kw))  # noqa: E731
runs_wd = {
    "SGD weight_decay": run_wd(sgd(weight_decay=LAM)),
    "SGD + L2 in the loss": run_wd(sgd(), l2=LAM),
    "SGD (1 - lr lambda) theta": run_wd(sgd(), decoupled=LAM),
    "SGD mom. weight_decay": run_wd(sgd(momentum=0.9, weight_decay=LAM)),
    "SGD mom. + L2 in the loss": run_wd(sgd(momentum=0.9), l2=LAM),
    "SGD mom. decoupled decay": run_wd(sgd(momentum=0.9), decoupled=LAM),
    "Adam weight_decay (= L2)": run_wd(lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=LAM)),
    "Adam + L2 in the loss": run_wd(lambda ps: torch.optim.Adam(ps, lr=0.01), l2=LAM),
    "AdamW weight_decay": run_wd(lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=LAM)),
    "Adam decoupled by hand": run_wd(lambda ps: torch.optim.Adam(ps, lr=0.01), decoupled=LAM),
    "no regularization (SGD)": run_wd(sgd()),
    "no regularization (Adam)": run_wd(lambda ps: torch.optim.Adam(ps, lr=0.01)),
}
pairs = [("SGD weight_decay", "SGD + L2 in the loss"), ("SGD weight_decay", "SGD (1 - lr lambda) theta"),
         ("SGD mom. weight_decay", "SGD mom. + L2 in the loss"), ("SGD mom. weight_decay", "SGD mom. decoupled decay"),
         ("Adam weight_decay (= L2)", "Adam + L2 in the loss"), ("AdamW weight_decay", "Adam decoupled by hand"),
         ("Adam weight_decay (= L2)", "AdamW weight_decay")]
for a_, b_ in pairs:
    print(f"{a_:26s} vs {b_:26s}: max |theta difference| = {max_diff(runs_wd[a_], runs_wd[b_]):.2e}")
for k, v in runs_wd.items():
    print(f"final ||theta|| {k:26s} {v[1][-1]:.3f}")

# %%
# plain SGD: weight decay == L2 (the same numbers up to rounding)
assert max_diff(runs_wd["SGD weight_decay"], runs_wd["SGD + L2 in the loss"]) < 1e-10
assert max_diff(runs_wd["SGD weight_decay"], runs_wd["SGD (1 - lr lambda) theta"]) < 1e-10
# momentum: PyTorch's weight_decay is L2 (it enters the velocity), decoupled decay is something else
assert max_diff(runs_wd["SGD mom. weight_decay"], runs_wd["SGD mom. + L2 in the loss"]) < 1e-10
assert max_diff(runs_wd["SGD mom. weight_decay"], runs_wd["SGD mom. decoupled decay"]) > 1e-3
# Adam: weight_decay is L2; AdamW is decoupled decay; the two disagree
assert max_diff(runs_wd["Adam weight_decay (= L2)"], runs_wd["Adam + L2 in the loss"]) < 1e-10
assert max_diff(runs_wd["AdamW weight_decay"], runs_wd["Adam decoupled by hand"]) < 1e-10
assert max_diff(runs_wd["Adam weight_decay (= L2)"], runs_wd["AdamW weight_decay"]) > 1e-2

# %% [markdown]
# Reading the numbers: plain SGD gives *bitwise* the same parameters whether the decay is in the
# loss or in the optimizer. With momentum 0.9, the L2 gradient is accumulated in the velocity, so its
# effective strength is about $\lambda/(1 - 0.9)$; the decoupled $(1 - \eta\lambda)$ shrink is not,
# and the two runs end far apart (the decoupled one decays much less at the same $\lambda$). For
# Adam, the L2 gradient is rescaled by $1/\sqrt{v_t}$ like any gradient, while AdamW shrinks by
# $\eta\lambda$ per step independently of the gradient statistics: the same `weight_decay=0.05` is a
# different regularizer (here a much weaker one: $\eta\lambda = 5\cdot 10^{-4}$ per step).

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
for k in ("no regularization (SGD)", "SGD weight_decay", "SGD mom. weight_decay", "SGD mom. decoupled decay",
          "no regularization (Adam)", "Adam weight_decay (= L2)", "AdamW weight_decay"):
    ax.plot(runs_wd[k][1], label=k, ls="--" if "Adam" in k else "-")
ax.set(xlabel="step", ylabel=r"$\|\theta\|$", title=rf"weight norm: L2 vs decoupled weight decay ($\lambda$ = {LAM})")
ax.legend()
savefig(fig, "weight_decay")
plt.show()

# %% [markdown]
# ## 3. Dropout
#
# ### Vanilla versus inverted
#
# Deck 000's code, with $q$ the keep probability: in training, `U = (rand(*H.shape) < q)`; then
#
# * **vanilla**: `H * U` in training, and `H * q` at test time (the expected value of the training
#   output);
# * **inverted**: `H * U / q` in training ("Notice /p!"), and `H` unchanged at test time. This is
#   what `nn.Dropout(p=1-q)` does. Both have the same expected training output as their test output.
#
# With the same seed, `nn.Dropout` draws the same uniforms as `torch.rand(..., dtype=float64)`, so we
# can reproduce its mask exactly. We use $q = 0.8$ (not $0.5$, where keep and drop coincide).

# %%
q = 0.8
H = torch.rand(1000, 50, dtype=torch.float64) + 0.5
drop = nn.Dropout(p=1 - q)  # DROP probability 0.2
torch.manual_seed(123)
out_layer = drop(H)
torch.manual_seed(123)
U = (torch.rand(1000, 50, dtype=torch.float64) < q).double()
assert np.array_equal(out_layer.numpy(), (H * (U / q)).numpy())  # inverted dropout, bit for bit
print(f"fraction dropped {1 - U.mean().item():.3f} (p = {1 - q:.1f}); kept values scaled by 1/q = {1 / q}")
assert abs(1 - U.mean().item() - (1 - q)) < 0.01
drop.eval()
assert drop(H) is H or np.array_equal(drop(H).numpy(), H.numpy())  # test time: unchanged

vanilla_train, vanilla_test = (H * U), H * q
inverted_train, inverted_test = out_layer, H
for name, tr, te in (("vanilla", vanilla_train, vanilla_test), ("inverted", inverted_train, inverted_test)):
    print(f"{name:8s}: mean activation in training {tr.mean().item():.4f}, at test {te.mean().item():.4f}")
    assert abs(tr.mean().item() / te.mean().item() - 1) < 0.01

# %% [markdown]
# ### One unit: $E[a] = q\,(w_0 x + w_1 y)$, i.e. $0.5\,(w_0 x + w_1 y)$ at $q = 0.5$
#
# The deck's example: a unit $a = w_0 x m_0 + w_1 y m_1$ whose two inputs are each kept with
# probability $q$. Averaging over the four masks at $q = 0.5$:
# $\frac14[(w_0x + w_1y) + w_0x + w_1y + 0] = \frac12(w_0x + w_1y)$. In general
# $E[a] = q\,(w_0x + w_1y)$, which is why vanilla dropout multiplies by $q$ at test time (and
# inverted dropout divides by $q$ in training instead).

# %%
w0, w1, xv, yv = 1.5, -0.7, 2.0, 3.0
for q_ in (0.5, 0.8, 0.3):
    masks = [(m0, m1) for m0 in (0, 1) for m1 in (0, 1)]
    probs = [(q_ if m0 else 1 - q_) * (q_ if m1 else 1 - q_) for m0, m1 in masks]
    exact = sum(pr * (w0 * xv * m0 + w1 * yv * m1) for pr, (m0, m1) in zip(probs, masks))  # arithmetic only
    # The library: Monte Carlo with nn.functional.dropout (inverted: E[a] is the full w0 x + w1 y; a
    # dropout that forgot the 1/q would give the vanilla q (w0 x + w1 y), 0.18-0.63 away here)
    n_mc = 50_000 if SMALL else 200_000
    inp = torch.tensor([[xv, yv]], dtype=torch.float64).expand(n_mc, 2)
    a = F.dropout(inp, p=1 - q_) @ torch.tensor([w0, w1], dtype=torch.float64)
    se = a.std().item() / math.sqrt(n_mc)  # standard error of the Monte Carlo mean
    print(f"keep q = {q_}: exact E[a] (vanilla) = {exact:.4f} = q (w0 x + w1 y); Monte Carlo E[a] with "
          f"nn.functional.dropout (inverted) = {a.mean().item():.4f} +- {se:.4f} vs w0 x + w1 y = {w0 * xv + w1 * yv:.4f}")
    assert abs(a.mean().item() - (w0 * xv + w1 * yv)) < 4 * se  # 4 standard errors: fails by chance 6e-5

# %% [markdown]
# ### At test time: Monte Carlo averaging versus the mean-field rule
#
# Deck 001: dropout trains the ensemble $F_\theta(x) = E_\xi[F(x; \xi, \theta)]$. At test time we can
# approximate it by Monte Carlo, averaging $T$ stochastic passes (dropout on: `model.train()`), or
# by the cheap mean-field rule $E[F(x; \xi)] \approx F(x; E[\xi])$, which is exactly the eval-mode
# network (`model.eval()`). For a network that is *linear* after the dropout layer the two agree
# exactly in the limit; with nonlinearities after it, the mean field is only an approximation,
# though a good one. We train an MLP with dropout (keep 0.5, i.e. `nn.Dropout(0.5)`) on the digits.

# %%
x_tr, y_tr = digits.x_train, digits.y_train
x_te, y_te = digits.x_test, digits.y_test
if SMALL:
    x_tr, y_tr = x_tr[:600], y_tr[:600]
torch.manual_seed(0)
HID = 64 if SMALL else 128
dnet = nn.Sequential(nn.Linear(64, HID), nn.ReLU(), nn.Dropout(0.5), nn.Linear(HID, HID), nn.ReLU(),
                     nn.Dropout(0.5), nn.Linear(HID, C))
opt = torch.optim.Adam(dnet.parameters(), lr=3e-3)
loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=64, shuffle=True, seed=0)
for _ in range(10 if SMALL else 40):
    dnet.train()
    for xb, yb in loader:
        opt.zero_grad()
        F.cross_entropy(dnet(xb), yb).backward()
        opt.step()

dnet.eval()
with torch.no_grad():
    logits_mf = dnet(x_te)
    p_mf = logits_mf.softmax(1).numpy()
    T_MAX = 50 if SMALL else 400
    dnet.train()
    samples = np.stack([dnet(x_te).softmax(1).numpy() for _ in range(T_MAX)])
dnet.eval()
Ts = np.unique(np.geomspace(1, T_MAX, 12).astype(int))
mc_acc = [(samples[:t].mean(0).argmax(1) == y_te.numpy()).mean() for t in Ts]
mc_gap = [np.abs(samples[:t].mean(0) - p_mf).mean() for t in Ts]
acc_mf = (p_mf.argmax(1) == y_te.numpy()).mean()
agree = (samples.mean(0).argmax(1) == p_mf.argmax(1)).mean()
print(f"mean-field (eval mode) test accuracy {acc_mf:.3f}; MC average of {T_MAX} passes {mc_acc[-1]:.3f}; "
      f"single pass {mc_acc[0]:.3f}; predictions agree on {agree:.1%}")
assert abs(mc_acc[-1] - acc_mf) < 0.03 and agree > 0.95
assert mc_acc[-1] >= mc_acc[0]  # averaging passes beats one stochastic pass

# a linear readout after dropout: the MC average converges to the eval-mode output itself
lin = nn.Sequential(nn.Dropout(0.5), nn.Linear(64, C)).double()
x_te64 = x_te.double()
with torch.no_grad():
    lin.eval()
    ref = lin(x_te64).numpy()
    lin.train()
    lin_samples = np.stack([lin(x_te64).numpy() for _ in range(T_MAX)])
lin_gap = [np.abs(lin_samples[:t].mean(0) - ref).mean() for t in Ts]
print("linear readout: mean |MC - eval| at T = 1 / T_max:", f"{lin_gap[0]:.3f} / {lin_gap[-1]:.4f}")
assert lin_gap[-1] < lin_gap[0] / 5  # ~ 1/sqrt(T): an unbiased estimate of the eval output

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
axes[0].plot(Ts, mc_acc, "o-", label="Monte Carlo average of T passes")
axes[0].axhline(acc_mf, color="C1", ls="--", label="mean field (model.eval())")
axes[0].set(xscale="log", xlabel="T (stochastic passes)", ylabel="test accuracy", title="digits MLP with Dropout(0.5)")
axes[0].legend()
axes[1].plot(Ts, mc_gap, "o-", label="MLP (nonlinear after dropout)")
axes[1].plot(Ts, lin_gap, "s-", label="linear readout after dropout")
axes[1].plot(Ts, lin_gap[0] / np.sqrt(Ts), ":", color="gray", label="1/sqrt(T)")
axes[1].set(xscale="log", yscale="log", xlabel="T", ylabel="mean |MC average - eval output|",
            title="MC converges to the mean field only for a linear net")
axes[1].legend()
fig.tight_layout()
savefig(fig, "dropout_mc")
plt.show()

# %% [markdown]
# ## 4. Early stopping
#
# "Stop when the validation error doesn't improve" (deck 000; Keras' `EarlyStopping` in deck 002).
# To make the overfitting visible we train an MLP with no other regularization on 300 training digits
# whose labels are 40% wrong (replaced by random classes): the network first learns the digits (the
# validation loss falls), then memorizes the wrong labels (the validation loss rises again while the
# training loss keeps falling). `EarlyStopping(monitor='val_loss', patience=...)` stops after
# `patience` epochs without improvement and, with `restore_best_weights=True`, puts back the weights of
# the best epoch. We run the same training twice: without the callback (the whole curve) and with it.

# %%
n_small, NOISE = 300, 0.4
rng_es = np.random.default_rng(0)
y_noisy = digits.y_train[:n_small].numpy().copy()
flip = rng_es.random(n_small) < NOISE
y_noisy[flip] = rng_es.integers(0, C, int(flip.sum()))
print(f"{(y_noisy != digits.y_train[:n_small].numpy()).mean():.0%} of the {n_small} training labels are wrong")
MAX_EPOCHS, PATIENCE = (40 if SMALL else 100), 10


def es_run(callbacks, epochs):
    train = DataLoader(TensorDataset(digits.x_train[:n_small], torch.tensor(y_noisy)), batch_size=32,
                       shuffle=True, seed=0)
    val = DataLoader(TensorDataset(digits.x_test, digits.y_test), batch_size=512)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, C))
    h = fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), train, val, epochs=epochs,
            callbacks=callbacks, progress=False, verbose=False)
    return model, h


_, full = es_run([], MAX_EPOCHS)  # what happens without early stopping
stopper = EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=True)
es_model, hist = es_run([stopper], MAX_EPOCHS)
best_epoch, best_val = hist.best("val_loss")
es_model.eval()
with torch.no_grad():
    restored_val = F.cross_entropy(es_model(digits.x_test), digits.y_test).item()
print(f"stopped after {len(hist)} of {MAX_EPOCHS} epochs ({hist.stop_reason}); best val_loss {best_val:.4f} at "
      f"epoch {best_epoch}; restored model's val_loss {restored_val:.4f}; without stopping, epoch {MAX_EPOCHS}: "
      f"val_loss {full['val_loss'][-1]:.4f}, training loss {full['loss'][-1]:.4f}")
assert hist.stop_reason == "early_stopping" and len(hist) < MAX_EPOCHS
assert len(hist) == best_epoch + PATIENCE
assert abs(restored_val - best_val) < 1e-4  # the best weights are back
# same seed, same data order: the stopped run is the first epochs of the full one (same machine, same BLAS)
assert np.allclose(hist["val_loss"], full["val_loss"][:len(hist)], rtol=1e-6)
# overfitting: the final validation loss is well above the best one. Seeds 0-4 (model, data order and
# label noise): final / best = 1.15-1.48 after 40 epochs, 1.97-2.81 after 100; thresholds below both ranges
assert full["val_loss"][-1] > (1.1 if SMALL else 1.5) * best_val
assert full["loss"][-1] < full["loss"][best_epoch - 1]  # ... while the training loss keeps falling

fig, ax = plt.subplots(figsize=(8, 4.5))
ax.plot(full["epoch"], full["loss"], color="C0", label="training loss")
ax.plot(full["epoch"], full["val_loss"], color="C1", label="validation loss")
ax.axvline(best_epoch, color="gray", ls="--", label=f"best epoch {best_epoch} (restored)")
ax.axvline(len(hist), color="C3", ls=":", label=f"early stop (patience {PATIENCE})")
ax.set(xlabel="epoch", ylabel="cross-entropy",
       title=f"Early stopping: validation loss turns up ({NOISE:.0%} label noise)")
ax.legend()
savefig(fig, "early_stopping")
plt.show()

# %% [markdown]
# ## 5. Gaussian input noise is (almost) ridge regression
#
# COMP541 (Hinton): add $\varepsilon \sim N(0, s^2 I)$ to the inputs of a linear unit $y = w^\top x$.
# Then $y_{noisy} = y + w^\top\varepsilon$ and, as $E[\varepsilon] = 0$,
#
# $$E[(y_{noisy} - t)^2] = (y - t)^2 + s^2 \sum_i w_i^2 :$$
#
# minimizing the expected squared error on noisy inputs is minimizing the squared error plus an L2
# penalty with $\lambda = s^2$ per example ($N s^2$ for a sum over $N$ examples). For a nonlinear
# network it is only approximately so ("not exactly equivalent to using an L2 weight penalty").
# `nn.GaussianNoise(std)` (or `data.GaussianNoise`) adds this noise in training mode only.

# %%
s_noise = 0.3
w_lin = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
x_one = torch.tensor([0.5, 1.0, -1.0, 0.2], dtype=torch.float64)
t_target = 1.0
noise_layer = nn.GaussianNoise(s_noise)
reps = 50_000 if SMALL else 400_000
y_noisy = noise_layer(x_one.expand(reps, 4)) @ w_lin
mc = ((y_noisy - t_target) ** 2).mean().item()
clean = ((x_one @ w_lin).item() - t_target) ** 2
formula = clean + s_noise ** 2 * (w_lin ** 2).sum().item()
print(f"Monte Carlo E[(y_noisy - t)^2] = {mc:.4f};  (y - t)^2 + s^2 |w|^2 = {clean:.4f} + {formula - clean:.4f} = {formula:.4f}")
assert abs(mc / formula - 1) < 0.02
noise_layer.eval()
assert np.array_equal(noise_layer(x_one).numpy(), x_one.numpy())  # no noise at test time

# training a linear regression on noisy inputs lands near the ridge solution with lambda = N s^2
Xs, ys = X[:, :8], y
ridge_noise = np.linalg.solve(Xs.numpy().T @ Xs.numpy() + N_REG * s_noise ** 2 * np.eye(8), Xs.numpy().T @ ys.numpy())
ols = np.linalg.lstsq(Xs.numpy(), ys.numpy(), rcond=None)[0]
wn = torch.zeros(8, dtype=torch.float64, requires_grad=True)
opt_n = torch.optim.SGD([wn], lr=0.02)
noise_in = nn.GaussianNoise(s_noise)
avg, n_avg = np.zeros(8), 0
steps_noise = 2000 if SMALL else 6000
for step in range(steps_noise):
    opt_n.zero_grad()
    ((noise_in(Xs) @ wn - ys) ** 2).mean().backward()
    opt_n.step()
    if step >= steps_noise // 2:  # average the iterates of the second half (Polyak)
        avg, n_avg = avg + wn.detach().numpy(), n_avg + 1
avg /= n_avg
print("trained on noisy inputs:", np.round(avg[:5], 3), "\nridge, lambda = N s^2:  ", np.round(ridge_noise[:5], 3),
      "\nleast squares:          ", np.round(ols[:5], 3))
assert np.linalg.norm(avg - ridge_noise) < 0.25 * np.linalg.norm(ols - ridge_noise)

# %% [markdown]
# ## 6. Label smoothing and mixup
#
# Deck 000: with one-hot targets the wrong classes contribute nothing and the loss pushes the true
# logit to infinity. Label smoothing trains on the soft target
# $q = (1 - e)\,\mathrm{onehot}(y) + e/C$ (PyTorch's `label_smoothing=e`), i.e. the slide's
# $[\epsilon, \dots, 1 - (C-1)\epsilon, \dots, \epsilon]$ with $\epsilon = e/C$. Its loss is
# $-\sum_c q_c \log p_c$; its minimizer is $p = q$: finite logits.

# %%
eps_ls = 0.1
logits = torch.randn(16, C, dtype=torch.float64) * 2
labels = torch.randint(0, C, (16,))
q_soft = (1 - eps_ls) * F.one_hot(labels, C).double() + eps_ls / C
by_formula = -(q_soft * logits.log_softmax(1)).sum(1).mean().item()
library = F.cross_entropy(logits, labels, label_smoothing=eps_ls).item()
slide_eps = eps_ls / C
slide_target = np.full((16, C), slide_eps)
slide_target[np.arange(16), labels.numpy()] = 1 - (C - 1) * slide_eps
print(f"cross_entropy(label_smoothing={eps_ls}) = {library:.10f}; by the formula {by_formula:.10f}")
assert abs(library - by_formula) < 1e-12
# the slide's target, given to the library as class probabilities, gives the same loss as label_smoothing=e
slide_loss = F.cross_entropy(logits, torch.tensor(slide_target)).item()
print(f"cross_entropy with the slide's soft target (epsilon = e/C) = {slide_loss:.10f}")
assert abs(slide_loss - library) < 1e-12
assert abs(nn.CrossEntropyLoss(label_smoothing=eps_ls)(logits, labels).item() - by_formula) < 1e-12

# the optimum is p_true = 1 - e + e/C, not 1
z = torch.zeros(1, C, dtype=torch.float64, requires_grad=True)
opt_z = torch.optim.SGD([z], lr=5.0)
for _ in range(300):
    opt_z.zero_grad()
    F.cross_entropy(z, torch.tensor([3]), label_smoothing=eps_ls).backward()
    opt_z.step()
p_opt = z.detach().softmax(1).numpy()[0]
print(f"optimal probabilities: true class {p_opt[3]:.4f} (1 - e + e/C = {1 - eps_ls + eps_ls / C}), others {p_opt[0]:.4f} (e/C = {eps_ls / C})")
assert abs(p_opt[3] - (1 - eps_ls + eps_ls / C)) < 1e-6 and np.all(np.isfinite(z.detach().numpy()))

# %% [markdown]
# **mixup** (Zhang et al. 2018, deck 002): train on convex combinations of pairs of examples and of
# their one-hot labels, $\tilde x = \lambda x_i + (1 - \lambda)x_j$, $\tilde y = \lambda y_i +
# (1-\lambda) y_j$, $\lambda \sim \mathrm{Beta}(\alpha, \alpha)$, with the cross-entropy of soft
# targets (`data.Mixup`, `data.soft_target_cross_entropy`).

# %%
mixup = Mixup(alpha=0.4, num_classes=C, seed=0)
xb8, yb8 = digits.x_train[:8], digits.y_train[:8]
xm, ym = mixup(xb8, yb8)
lam_, perm = mixup.last_lam, mixup.last_perm
assert np.allclose(xm.numpy(), lam_ * xb8.numpy() + (1 - lam_) * xb8.numpy()[perm], atol=1e-6)
onehot = np.eye(C)[yb8.numpy()]
assert np.allclose(ym.numpy(), lam_ * onehot + (1 - lam_) * onehot[perm], atol=1e-6)
# the soft-target loss is the cross-entropy with probability targets
lg = torch.randn(8, C)
assert abs(soft_target_cross_entropy(lg, ym).item() - F.cross_entropy(lg, ym).item()) < 1e-5


def lambda_draws(alpha, n):
    mix = Mixup(alpha=alpha, num_classes=C, seed=0)
    out = []
    for _ in range(n):
        mix(xb8[:2], yb8[:2])
        out.append(mix.last_lam)
    return np.array(out)


draws = {a: lambda_draws(a, 1000 if SMALL else 5000) for a in (0.2, 1.0)}
for a, d in draws.items():
    print(f"alpha {a}: mean lambda {d.mean():.3f} (Beta mean 0.5), var {d.var():.4f} (1/(4(2a+1)) = {1 / (4 * (2 * a + 1)):.4f})")
    assert abs(d.var() - 1 / (4 * (2 * a + 1))) < 0.01

fig, axes = plt.subplots(2, 5, figsize=(12, 5.2))
for i in range(4):
    axes[0, i].imshow(xm[i].numpy().reshape(8, 8), cmap="gray_r")
    top = np.argsort(ym[i].numpy())[::-1][:2]
    axes[0, i].set_title(" + ".join(f"{ym[i].numpy()[c]:.2f}x'{c}'" for c in top if ym[i].numpy()[c] > 0), fontsize=12)
    axes[1, i].imshow(xb8[i].numpy().reshape(8, 8), cmap="gray_r")
    axes[1, i].set_title(f"original '{yb8[i].item()}'", fontsize=12)
for ax in axes[:, :4].flat:
    ax.set_xticks([])
    ax.set_yticks([])
for a, d in draws.items():
    axes[0, 4].hist(d, bins=30, alpha=0.6, density=True, label=f"alpha {a}")
axes[0, 4].set_title(r"$\lambda \sim \mathrm{Beta}(\alpha, \alpha)$", fontsize=12)
axes[0, 4].legend()
axes[1, 4].axis("off")
fig.suptitle(rf"mixup on the digits (this batch: $\lambda$ = {lam_:.2f})")
fig.tight_layout()
savefig(fig, "mixup")
plt.show()

# %% [markdown]
# ## 7. Ridge regression: closed form versus gradient descent
#
# Deck 002: $\arg\min_\theta \|y - X\theta\|_2^2 + \lambda\|\theta\|_2^2 = (X^\top X + \lambda I)^{-1}
# X^\top y$. Gradient descent on the same (sum) loss converges to it. With the *mean* squared error
# $\frac1N\|y - X\theta\|^2 + \lambda'\|\theta\|^2$ the minimizer is the ridge solution with
# $\lambda = N\lambda'$: scaling the loss changes what a given $\lambda$ means.

# %%
lam_r = 20.0
A_np = X_np.T @ X_np
theta_star = np.linalg.solve(A_np + lam_r * np.eye(D_REG), X_np.T @ y_np)
theta = torch.zeros(D_REG, dtype=torch.float64, requires_grad=True)
L_max = np.linalg.eigvalsh(A_np + lam_r * np.eye(D_REG)).max()
opt_r = torch.optim.SGD([theta], lr=1.0 / (2 * L_max))  # the sum loss has Hessian 2 (X^T X + lambda I)
errs = []
for _ in range(400 if SMALL else 1000):
    opt_r.zero_grad()
    (((X @ theta - y) ** 2).sum() + lam_r * (theta ** 2).sum()).backward()
    opt_r.step()
    errs.append(np.linalg.norm(theta.detach().numpy() - theta_star))
print(f"sum loss, lambda {lam_r}: |theta_GD - theta*| = {errs[-1]:.2e}")
assert errs[-1] < 1e-8

theta_m = torch.zeros(D_REG, dtype=torch.float64, requires_grad=True)
opt_m = torch.optim.SGD([theta_m], lr=N_REG / (2 * L_max))
lam_mean = lam_r / N_REG
for _ in range(400 if SMALL else 1000):
    opt_m.zero_grad()
    (((X @ theta_m - y) ** 2).mean() + lam_mean * (theta_m ** 2).sum()).backward()
    opt_m.step()
gap_mean = np.linalg.norm(theta_m.detach().numpy() - theta_star)
wrong = np.linalg.solve(A_np + lam_mean * np.eye(D_REG), X_np.T @ y_np)
print(f"mean loss, lambda' = lambda/N = {lam_mean}: |theta - theta*| = {gap_mean:.2e}; "
      f"the closed form with lambda' instead of N lambda' is off by {np.linalg.norm(wrong - theta_star):.3f}")
assert gap_mean < 1e-8 and np.linalg.norm(wrong - theta_star) > 1e-2

# The library's weight_decay is this ridge penalty: SGD(weight_decay=2 lambda) on the plain sum loss
# (gradient 2 X^T (X theta - y) + 2 lambda theta) converges to the closed form, and the norm of the
# solution shrinks as lambda grows
norms = []
for lam_ in (20.0, 200.0, 2000.0):
    theta_w = torch.zeros(D_REG, dtype=torch.float64, requires_grad=True)
    L_ = np.linalg.eigvalsh(A_np + lam_ * np.eye(D_REG)).max()
    opt_w = torch.optim.SGD([theta_w], lr=1.0 / (2 * L_), weight_decay=2 * lam_)
    for _ in range(400 if SMALL else 1000):
        opt_w.zero_grad()
        ((X @ theta_w - y) ** 2).sum().backward()
        opt_w.step()
    closed = np.linalg.solve(A_np + lam_ * np.eye(D_REG), X_np.T @ y_np)
    norms.append(np.linalg.norm(theta_w.detach().numpy()))
    print(f"lambda {lam_:6.0f}: |theta| = {norms[-1]:.4f}, |theta - closed form| = "
          f"{np.linalg.norm(theta_w.detach().numpy() - closed):.1e}")
    assert np.linalg.norm(theta_w.detach().numpy() - closed) < 1e-8
assert norms[0] > norms[1] > norms[2]

lam_grid = np.geomspace(1e-2, 1e5, 30)  # the closed-form path, for the figure
path = np.array([np.linalg.solve(A_np + lm * np.eye(D_REG), X_np.T @ y_np) for lm in lam_grid])

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
axes[0].semilogy(errs)
axes[0].set(xlabel="GD step", ylabel=r"$\|\theta - \theta^*\|$", title=rf"GD on the ridge sum loss ($\lambda$ = {lam_r})")
axes[1].plot(lam_grid, path[:, :K_TRUE], color="C3")
axes[1].plot(lam_grid, path[:, K_TRUE:], color="gray", lw=0.6)
axes[1].set(xscale="log", xlabel=r"$\lambda$", ylabel=r"$\theta^*$", title="ridge path (closed form): shrinks to 0, never exactly")
fig.tight_layout()
savefig(fig, "ridge")
plt.show()

# %% [markdown]
# ## 8. Random labels are memorized
#
# Zhang et al. (2017), quoted in deck 001: networks reach 100% training accuracy on CIFAR-10 with
# *random* labels (test accuracy: chance, 9.78%). Capacity is not what keeps networks from
# overfitting. On a small subset of the digits with shuffled labels, a wide MLP memorizes them all
# (it takes longer than the true labels), and its test accuracy stays at chance.

# %%
n_mem = 100 if SMALL else 300
x_mem = digits.x_train[:n_mem]
y_true_mem = digits.y_train[:n_mem]
y_rand_mem = torch.tensor(np.random.default_rng(0).integers(0, C, n_mem))


MEM_WIDTH = 128 if SMALL else 256


def memorize(labels, steps):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, MEM_WIDTH), nn.ReLU(), nn.Linear(MEM_WIDTH, MEM_WIDTH), nn.ReLU(),
                          nn.Linear(MEM_WIDTH, C))
    opt_ = torch.optim.Adam(model.parameters(), lr=3e-3)
    accs = []
    for _ in range(steps):
        opt_.zero_grad()
        out = model(x_mem)
        F.cross_entropy(out, labels).backward()
        opt_.step()
        accs.append((out.argmax(1) == labels).float().mean().item())
    with torch.no_grad():
        test_acc = (model(digits.x_test).argmax(1) == digits.y_test).float().mean().item()
    return np.array(accs), test_acc


MEM_STEPS = 120 if SMALL else 400
acc_true, test_true = memorize(y_true_mem, MEM_STEPS)
acc_rand, test_rand = memorize(y_rand_mem, MEM_STEPS)
print(f"true labels:   train accuracy {acc_true[-1]:.3f} (100% first at step {np.argmax(acc_true == 1.0)}), test {test_true:.3f}")
print(f"random labels: train accuracy {acc_rand[-1]:.3f} (100% first at step {np.argmax(acc_rand == 1.0)}), test {test_rand:.3f}")
assert acc_rand[-1] >= 0.99 and test_rand < 0.2  # memorized; chance on the test set
assert acc_true[-1] == 1.0 and test_true > 0.75
assert np.argmax(acc_rand >= 0.99) > np.argmax(acc_true >= 0.99)  # random labels take longer

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(acc_true, label=f"true labels (test acc {test_true:.2f})")
ax.plot(acc_rand, label=f"random labels (test acc {test_rand:.2f})")
ax.axhline(0.1, color="gray", ls=":", label="chance")
ax.set(xlabel="step (full batch, Adam)", ylabel="training accuracy", title=f"memorizing {n_mem} digits")
ax.legend()
savefig(fig, "random_labels")
plt.show()
