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
# # 4. Activations and initialization
#
# What goes between two linear layers, and where the weights start, decides whether a deep
# network's signals survive the trip forward and back. This notebook follows the lectures
# (decks 000/003 "Training DNNs", 001 "On the training of neural networks", 004 COMP541):
#
# 1. the activation zoo: sigmoid, tanh, ReLU, Leaky ReLU, ELU, GELU, Softplus, PReLU, Maxout and
#    sign, with their derivatives computed by autograd and checked against the closed forms;
# 2. $\mathrm{Var}(w^\top v) = d\,\mathrm{Var}(w_i)\mathrm{Var}(v_i)$, the reason for $1/\sqrt{\text{fan-in}}$;
# 3. the 10-layer x 500-unit activation-statistics experiment (COMP541) for tanh x0.01, tanh x1.0,
#    tanh "Xavier", ReLU + Xavier and ReLU + He, reproducing the lecture's per-layer numbers, plus a
#    mean-field prediction computed by Gaussian quadrature;
# 4. the initializers of `nn.init` (Xavier, Kaiming, LeCun, orthogonal) and LSUV;
# 5. zero/constant initialization: the symmetry is never broken by gradient descent;
# 6. vanishing (and exploding) gradients, layer by layer;
# 7. $E[\mathrm{ReLU}(z)^2] = 1/2$ for $z \sim N(0, 1)$: where He's factor 2 comes from.
#
# Lecture errata and conventions (`curriculum.md`): the Leaky ReLU slope is 0.1 on one COMP541 slide
# and 0.01 on the others; the library follows PyTorch (`negative_slope=0.01`), we plot both. ELU's
# `alpha` defaults to 1.0. The COMP541 code multiplies `X @ W` with `W` of shape (fan_in, fan_out);
# `nn.Linear` stores the transpose (out, in), which is why `nn.init` reads fan-in from `shape[1]`.
# The tanh "Xavier" of the slides is `randn / sqrt(fan_in)` (LeCun's variance $1/d_{in}$); Glorot's
# $2/(d_{in}+d_{out})$ is the same number only because fan-in = fan-out = 500 here.

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
import numpy as np  # only for reference formulas, quadrature and plotting

import tinygrad_dnn as torch
from tinygrad_dnn import nn
from tinygrad_dnn.data import load_digits
from tinygrad_dnn.nn import functional as F
from tinygrad_dnn.train.diagnostics import ActivationMonitor

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/04_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"04_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


torch.manual_seed(0)

# %% [markdown]
# ## 1. The activation zoo and its derivatives
#
# Every activation is an ordinary differentiable function of a tensor, so autograd gives its
# derivative: evaluate it on a grid `x` with `requires_grad=True`, sum, call `backward()`; then
# `x.grad[i]` $= f'(x_i)$ (the function acts elementwise, so the Jacobian is diagonal).
#
# | activation | $f(x)$ | $f'(x)$ |
# |---|---|---|
# | sigmoid | $1/(1+e^{-x})$ | $\sigma(x)(1-\sigma(x)) \le 1/4$ |
# | tanh | $\tanh x$ | $1 - \tanh^2 x$ |
# | ReLU | $\max(0, x)$ | $1[x > 0]$ |
# | Leaky ReLU | $\max(a x, x)$, $a = 0.01$ (PyTorch) or $0.1$ (one slide) | $1$ or $a$ |
# | ELU | $x$ if $x>0$ else $\alpha(e^x - 1)$ | $1$ or $f(x) + \alpha$ |
# | GELU | $x\,\Phi(x)$ | $\Phi(x) + x\,\varphi(x)$ |
# | Softplus | $\log(1 + e^x)$ | $\sigma(x)$ |
# | sign | $\mathrm{sign}(x)$ | $0$ almost everywhere: no gradient signal at all |
#
# The grid avoids $x = 0$ exactly, where ReLU-like functions have a kink (autograd uses $f'(0) = 0$
# for ReLU, as PyTorch).

# %%
xs = torch.linspace(-4, 4, 800, dtype=torch.float64)  # 800 points: 0 is not on the grid
x_np = xs.numpy()
sig = 1 / (1 + np.exp(-x_np))
Phi = 0.5 * (1 + np.vectorize(math.erf)(x_np / math.sqrt(2)))
phi = np.exp(-x_np ** 2 / 2) / math.sqrt(2 * math.pi)
elu_ref = np.where(x_np > 0, x_np, np.exp(x_np) - 1)

ZOO = {  # name: (function of a Tensor, reference f, reference f')
    "sigmoid": (torch.sigmoid, sig, sig * (1 - sig)),
    "tanh": (torch.tanh, np.tanh(x_np), 1 - np.tanh(x_np) ** 2),
    "ReLU": (F.relu, np.maximum(x_np, 0), (x_np > 0) * 1.0),
    "Leaky ReLU 0.01": (F.leaky_relu, np.maximum(0.01 * x_np, x_np), np.where(x_np > 0, 1.0, 0.01)),
    "Leaky ReLU 0.1": (lambda t: F.leaky_relu(t, 0.1), np.maximum(0.1 * x_np, x_np), np.where(x_np > 0, 1.0, 0.1)),
    "ELU": (F.elu, elu_ref, np.where(x_np > 0, 1.0, elu_ref + 1.0)),
    "GELU": (F.gelu, x_np * Phi, Phi + x_np * phi),
    "Softplus": (F.softplus, np.log1p(np.exp(x_np)), sig),
    "sign": (torch.sign, np.sign(x_np), np.zeros_like(x_np)),
}


def value_and_derivative(fn, x):
    x = x.detach().requires_grad_()
    y = fn(x)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


results = {}
for name, (fn, f_ref, df_ref) in ZOO.items():
    f, df = value_and_derivative(fn, xs)
    results[name] = (f, df)
    err_f, err_df = np.abs(f - f_ref).max(), np.abs(df - df_ref).max()
    print(f"{name:16s} max |f - ref| {err_f:.1e}   max |f' - ref'| {err_df:.1e}")
    assert err_f < 1e-10 and err_df < 1e-10, name

assert results["sigmoid"][1].max() <= 0.25  # a sigmoid shrinks every gradient by at least 4x
assert np.all(results["sign"][1] == 0)  # sign: autograd sees a zero derivative everywhere

# %% [markdown]
# **PReLU** learns its negative slope: $f(x) = \max(0, x) + a \min(0, x)$, so
# $\partial f/\partial a = \min(0, x)$ and backprop reaches $a$ like any weight ("backprop into
# $\alpha$", COMP541). **Maxout** takes the max of $k$ linear pieces,
# $\max(w_1^\top x + b_1, w_2^\top x + b_2)$: with $w_1 = 1, w_2 = 0, b = 0$ it *is* ReLU, with
# $w_2 = 0.01$ it is Leaky ReLU, at the price of $k$ times the parameters.

# %%
prelu = nn.PReLU(init=0.25).double()
f_prelu, df_prelu = value_and_derivative(prelu, xs)
prelu.zero_grad()
prelu(xs).sum().backward()
print("PReLU slope", prelu.weight.item(), " d(sum f)/da", prelu.weight.grad.item(),
      " sum min(0, x)", np.minimum(x_np, 0).sum())
assert abs(prelu.weight.grad.item() - np.minimum(x_np, 0).sum()) < 1e-9
assert np.allclose(f_prelu, np.where(x_np > 0, x_np, 0.25 * x_np))

maxout = nn.Maxout(1, 1, pool_size=2).double()
with torch.no_grad():  # pieces (w, b) = (1, 0) and (slope, 0)
    maxout.linear.bias.zero_()
    maxout.linear.weight.copy_(torch.tensor([[1.0], [0.0]], dtype=torch.float64))
    relu_like = maxout(xs.reshape(-1, 1)).reshape(-1).numpy()
    maxout.linear.weight.copy_(torch.tensor([[1.0], [0.01]], dtype=torch.float64))
    leaky_like = maxout(xs.reshape(-1, 1)).reshape(-1).numpy()
    maxout.linear.weight.copy_(torch.tensor([[1.0], [-1.0]], dtype=torch.float64))
    abs_like = maxout(xs.reshape(-1, 1)).reshape(-1).numpy()
assert np.array_equal(relu_like, np.maximum(x_np, 0))
assert np.allclose(leaky_like, results["Leaky ReLU 0.01"][0])
assert np.allclose(abs_like, np.abs(x_np))  # and |x|: Maxout is not even monotone
f_maxout, df_maxout = value_and_derivative(lambda t: maxout(t.reshape(-1, 1)).reshape(-1), xs)

# %%
panels = list(results.items()) + [("PReLU (a = 0.25)", (f_prelu, df_prelu)), ("Maxout (pieces x, -x)", (f_maxout, df_maxout))]
fig, axes = plt.subplots(3, 4, figsize=(13, 8.5), sharex=True)
for ax, (name, (f, df)) in zip(axes.flat, panels):
    ax.plot(x_np, f, label="f(x)")
    ax.plot(x_np, df, "--", label="f'(x) (autograd)")
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set_title(name)
    ax.set_ylim(-1.5, 4.2)
for ax in axes.flat[len(panels):]:
    ax.axis("off")
axes[0, 0].legend(loc="upper left")
fig.suptitle("The activation zoo and its derivatives (autograd)")
fig.tight_layout()
savefig(fig, "activations")
plt.show()

# %% [markdown]
# ## 2. Why $1/\sqrt{\text{fan-in}}$: $\mathrm{Var}(w^\top v) = d\,\mathrm{Var}(w_i)\,\mathrm{Var}(v_i)$
#
# For independent zero-mean $w, v \in \mathbb{R}^d$, each product $w_i v_i$ has variance
# $\mathrm{Var}(w_i)\mathrm{Var}(v_i)$ and the $d$ terms are uncorrelated, so the variance of a
# pre-activation grows linearly in the fan-in. To keep it at the input's variance we need
# $\mathrm{Var}(w_i) = 1/d$ (LeCun; "Xavier" on the slides), or $2/d$ behind a ReLU (He), or the
# compromise $2/(d_{in} + d_{out})$ for the backward pass as well (Glorot & Bengio).

# %%
d, n_pairs = 500, (4000 if SMALL else 20000)
for w_std in (0.01, 1.0, 1 / math.sqrt(d)):
    w = torch.randn(n_pairs, d, dtype=torch.float64) * w_std
    v = torch.randn(n_pairs, d, dtype=torch.float64)
    s = (w * v).sum(1)
    measured, predicted = s.var().item(), d * w_std ** 2
    print(f"Var(w_i) = {w_std ** 2:.2e}: Var(w^T v) = {measured:.4g}, d Var(w_i) = {predicted:.4g}")
    assert abs(measured / predicted - 1) < 0.06

# %% [markdown]
# ## 3. Activation statistics in a 10-layer, 500-unit network
#
# The COMP541 experiment, line for line: input `D = randn(1000, 500)`, ten layers
# `H = act(X @ W)` without bias, `W = randn(fan_in, fan_out) * scale`. The lecture prints the mean
# and std of every hidden layer; its numbers at layers 1 / 5 / 10 are
#
# | setting | layer 1 | layer 5 | layer 10 |
# |---|---|---|---|
# | tanh, `* 0.01` | 0.213 | 0.00053 | ~0 (collapses) |
# | tanh, `* 1.0` | 0.98 | 0.98 | 0.98 (saturated at +-1) |
# | tanh, `/ sqrt(fan_in)` ("Xavier") | 0.628 | 0.321 | 0.228 |
# | ReLU, `/ sqrt(fan_in)` | 0.58 | 0.14 | 0.026 |
# | ReLU, `/ sqrt(fan_in / 2)` (He) | 0.83 | 0.83 | 0.84 |
#
# The numbers are random: with 500 units the per-layer gain fluctuates by a few percent, and ten
# layers compound it (ReLU most, since half the units carry no signal). We run several seeds and
# compare their median with the lecture at 20-25% tolerance.
#
# **A prediction without sampling.** In the wide limit every pre-activation is Gaussian with variance
# $q_\ell = d\,\sigma_w^2\, E[h_{\ell-1}^2]$ and $E[h_\ell^k] = E[\phi(\sqrt{q_\ell}\,Z)^k]$, a
# one-dimensional integral we evaluate by quadrature on a fine grid (NumPy, reference only). It
# recovers the table without any random numbers.

# %%
N_SAMPLES, WIDTH, DEPTH = 1000, 500, 10
SEEDS = range(3) if SMALL else range(7)
SETTINGS = {  # name: (activation on Tensors, the same on NumPy, scale of randn as a function of fan_in)
    "tanh x0.01": (torch.tanh, np.tanh, lambda fan_in: 0.01),
    "tanh x1.0": (torch.tanh, np.tanh, lambda fan_in: 1.0),
    "tanh Xavier": (torch.tanh, np.tanh, lambda fan_in: 1 / math.sqrt(fan_in)),
    "ReLU Xavier": (torch.relu, lambda z: np.maximum(z, 0), lambda fan_in: 1 / math.sqrt(fan_in)),
    "ReLU He": (torch.relu, lambda z: np.maximum(z, 0), lambda fan_in: 1 / math.sqrt(fan_in / 2)),
}
LECTURE = {"tanh x0.01": (0.213, 0.00053, 0.0), "tanh x1.0": (0.98, 0.98, 0.98),
           "tanh Xavier": (0.628, 0.321, 0.228), "ReLU Xavier": (0.58, 0.14, 0.026), "ReLU He": (0.83, 0.83, 0.84)}


def forward_stats(act, scale, seed, keep_values=False):
    """The lecture's loop: per-layer mean and std of H (and the values of every layer for histograms)."""
    torch.manual_seed(seed)
    X = torch.randn(N_SAMPLES, WIDTH)
    means, stds, values = [], [], []
    with torch.no_grad():
        for _ in range(DEPTH):
            fan_in = X.shape[1]
            W = torch.randn(fan_in, WIDTH) * scale(fan_in)  # layer initialization
            X = act(X @ W)
            means.append(X.mean().item())
            stds.append(X.std().item())
            if keep_values:
                values.append(X.numpy().ravel().copy())
    return np.array(means), np.array(stds), values


Z_GRID = np.linspace(-12, 12, 48001)  # a fine grid: tanh(22 z) is almost a step, too sharp for Gauss-Hermite
Z_WEIGHTS = np.exp(-Z_GRID ** 2 / 2)
Z_WEIGHTS /= Z_WEIGHTS.sum()  # E[g(Z)] ~ sum_i w_i g(z_i) for Z ~ N(0, 1)


def mean_field_stds(phi_np, scale):
    """Wide-network prediction of the per-layer std: q_l = d sigma^2 E[h_{l-1}^2], h_l = phi(sqrt(q_l) Z)."""
    z, wts = Z_GRID, Z_WEIGHTS
    m2_prev, out = 1.0, []  # the input is N(0, 1)
    for _ in range(DEPTH):
        q = WIDTH * scale(WIDTH) ** 2 * m2_prev
        h = phi_np(math.sqrt(q) * z)
        m1, m2_prev = (wts * h).sum(), (wts * h * h).sum()
        out.append(math.sqrt(max(m2_prev - m1 ** 2, 0.0)))
    return np.array(out)


STATS, THEORY, HISTS = {}, {}, {}
for name, (act, act_np, scale) in SETTINGS.items():
    runs = [forward_stats(act, scale, s, keep_values=(s == 0)) for s in SEEDS]
    STATS[name] = np.array([r[1] for r in runs])  # (seeds, layers)
    HISTS[name] = runs[0][2]
    THEORY[name] = mean_field_stds(act_np, scale)
    med = np.median(STATS[name], axis=0)
    print(f"{name:12s} median std at layers 1/5/10: {med[0]:.4g} / {med[4]:.3g} / {med[9]:.3g}   "
          f"mean-field {THEORY[name][0]:.4g} / {THEORY[name][4]:.3g} / {THEORY[name][9]:.3g}   "
          f"lecture {LECTURE[name]}   (layer-10 range over seeds {STATS[name][:, 9].min():.3g}..{STATS[name][:, 9].max():.3g})")
print("mean of the ReLU He layers (seed 0):", np.round(forward_stats(torch.relu, SETTINGS['ReLU He'][2], 0)[0], 3))

# %%
med = {k: np.median(v, axis=0) for k, v in STATS.items()}


def close(measured, lecture, rtol):
    return abs(measured / lecture - 1) < rtol


# Tolerances, measured: 10 seeds of this loop give a relative spread (max - min) / median of the tanh
# stds of 0.3% / 1.4% / 3.7% (x0.01, layers 1/5/10), <= 0.1% (x1.0), 0.2% / 0.8% / 2.3% (Xavier);
# the lecture's numbers are one draw printed to 2-3 digits. So rtol = 3x the spread + the lecture's rounding.
# tanh x0.01: the signal shrinks ~4.5x per layer and is gone by layer 10
assert close(med["tanh x0.01"][0], 0.213, 0.01) and close(med["tanh x0.01"][4], 0.00053, 0.05)
assert med["tanh x0.01"][9] < 1e-5  # measured 2.9e-7..3.0e-7
# tanh x1.0: every layer saturated at +-1 (std 0.98 printed; measured 0.9813..0.9821)
assert all(close(s, 0.98, 0.01) for s in med["tanh x1.0"])
# tanh "Xavier": a slow decline
for layer, ref, rtol in zip((0, 4, 9), LECTURE["tanh Xavier"], (0.01, 0.03, 0.07)):
    assert close(med["tanh Xavier"][layer], ref, rtol), (layer, med["tanh Xavier"][layer], ref)
# ReLU: half the units carry no signal and ten layers compound the per-layer gain's noise: 10 seeds
# spread by 25% (layer 5) and 72% (layer 10), so the median of 3-7 seeds is compared at 25%
# ReLU + Xavier: halves the variance at every layer
for layer, ref in zip((0, 4, 9), LECTURE["ReLU Xavier"]):
    assert close(med["ReLU Xavier"][layer], ref, 0.25), (layer, med["ReLU Xavier"][layer], ref)
# ReLU + He: flat
for layer, ref in zip((0, 4, 9), LECTURE["ReLU He"]):
    assert close(med["ReLU He"][layer], ref, 0.25), (layer, med["ReLU He"][layer], ref)
# the quadrature prediction agrees with the lecture too (layers 1 and 5, where sampling noise is small)
for name in SETTINGS:
    for layer in (0, 4):
        assert close(THEORY[name][layer], LECTURE[name][layer // 4], 0.1), (name, layer, THEORY[name][layer])

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
layers = np.arange(1, DEPTH + 1)
for i, name in enumerate(SETTINGS):
    c = f"C{i}"
    for s in STATS[name]:
        axes[0].plot(layers, s, color=c, alpha=0.25, lw=1)
    axes[0].plot(layers, med[name], "o-", color=c, label=name)
    axes[0].plot(layers, np.maximum(THEORY[name], 1e-12), ":", color=c)
    lec = LECTURE[name]
    axes[0].plot([1, 5, 10], np.maximum(lec, 1e-12), "x", color=c, ms=10, mew=2)
axes[0].set(yscale="log", ylim=(1e-7, 2), xlabel="layer", ylabel="std of H",
            title="per-layer std: seeds (thin), median (o), mean-field (:), lecture (x)")
axes[0].legend()
for i, name in enumerate(SETTINGS):
    axes[1].plot(layers, med[name], "o-", color=f"C{i}", label=name)
axes[1].set(xlabel="layer", ylabel="std of H", title="same, linear scale")
fig.tight_layout()
savefig(fig, "layer_stds")
plt.show()

# %%
fig, axes = plt.subplots(len(SETTINGS), DEPTH, figsize=(16, 8), sharey="row")
for r, name in enumerate(SETTINGS):
    rng_hist = (-1, 1) if name.startswith("tanh") else (0, 3)
    for c in range(DEPTH):
        ax = axes[r, c]
        ax.hist(HISTS[name][c], bins=30, range=rng_hist, color=f"C{r}")
        ax.set_yticks([])
        ax.set_xticks((-1, 0, 1) if name.startswith("tanh") else (0, 3))
        if r == 0:
            ax.set_title(f"layer {c + 1}", fontsize=12)
    axes[r, 0].set_ylabel(name, fontsize=12)
fig.suptitle("Histograms of the hidden activations (seed 0; as on the COMP541 slides)")
fig.subplots_adjust(left=0.06, right=0.99, bottom=0.05, top=0.91, wspace=0.15, hspace=0.45)
savefig(fig, "layer_histograms")
plt.show()

# %% [markdown]
# ## 4. `nn.init`: the same experiment with library initializers, and LSUV
#
# The lecture's recipes are in `nn.init` (weights of shape (out, in)):
#
# | initializer | distribution |
# |---|---|
# | `xavier_normal_` / `xavier_uniform_` | $N(0, 2/(d_{in}+d_{out}))$ / $U(\pm\sqrt{6/(d_{in}+d_{out})})$ (times `gain`) |
# | `kaiming_normal_(nonlinearity='relu')` / `kaiming_uniform_` | $N(0, 2/d_{in})$ / $U(\pm\sqrt{6/d_{in}})$ |
# | `lecun_normal_` | $N(0, 1/d_{in})$ |
# | `orthogonal_` | $W W^\top = I$ (or $W^\top W = I$), times `gain` |
# | Linear's default | `kaiming_uniform_(a=sqrt(5))` $= U(\pm 1/\sqrt{d_{in}})$ |
#
# Defazio & Bottou's $c/\sqrt{d_{in} d_{out}}$ is a one-liner with `normal_`. We check each on a
# 300 x 200 weight (fan-in 200, fan-out 300).

# %%
w = torch.empty(300, 200, dtype=torch.float64)
fan_in, fan_out = 200, 300
checks = {
    "xavier_normal_": (lambda t: nn.init.xavier_normal_(t), math.sqrt(2 / (fan_in + fan_out))),
    "xavier_uniform_": (lambda t: nn.init.xavier_uniform_(t), math.sqrt(2 / (fan_in + fan_out))),
    "kaiming_normal_ (relu)": (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / fan_in)),
    "kaiming_uniform_ (relu)": (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / fan_in)),
    "lecun_normal_": (lambda t: nn.init.lecun_normal_(t), math.sqrt(1 / fan_in)),
    "Defazio-Bottou c=1": (lambda t: nn.init.normal_(t, 0.0, 1 / math.sqrt(fan_in * fan_out)), 1 / math.sqrt(fan_in * fan_out)),
    "Linear default": (lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(3 * fan_in)),
}
for name, (init_fn, std) in checks.items():
    init_fn(w)
    print(f"{name:24s} std {w.std().item():.5f}  expected {std:.5f}  max |w| {w.abs().max().item():.4f}")
    assert close(w.std().item(), std, 0.03), name
nn.init.xavier_uniform_(w)
assert w.abs().max().item() <= math.sqrt(6 / (fan_in + fan_out))
nn.init.kaiming_uniform_(w, a=math.sqrt(5))
assert w.abs().max().item() <= 1 / math.sqrt(fan_in)
nn.init.orthogonal_(w)
gram = (w.T @ w).numpy()
print("orthogonal_: max |W^T W - I| =", np.abs(gram - np.eye(fan_in)).max())
assert np.allclose(gram, np.eye(fan_in), atol=1e-12)

# %% [markdown]
# In an `nn.Sequential` of ten `Linear(500, 500, bias=False)` layers, `xavier_normal_` is the
# lecture's tanh "Xavier" (fan-in = fan-out) and `kaiming_normal_(nonlinearity='relu')` its He
# init; `tinygrad_dnn.train.diagnostics.ActivationMonitor` records every activation's statistics
# with forward hooks. An orthogonal init (`gain=calculate_gain('tanh') = 5/3`) keeps tanh's
# signal from decaying. LSUV (Mishkin & Matas) goes further and measures: it starts from
# orthogonal matrices and rescales each layer, first to last, until its output std on a data batch
# is 1.

# %%
def deep_net(act_cls, init_fn, seed=0, width=WIDTH):
    torch.manual_seed(seed)
    layers = []
    for _ in range(DEPTH):
        lin = nn.Linear(width, width, bias=False)
        init_fn(lin.weight)
        layers += [lin, act_cls()]
    return nn.Sequential(*layers)


torch.manual_seed(1)
D = torch.randn(N_SAMPLES, WIDTH)


def act_stds(model, x, types=("Tanh", "ReLU")):
    with ActivationMonitor(model, layer_types=types, keep_values=False) as mon, torch.no_grad():
        model(x)
    return np.array([s["std"] for s in mon.stats])


lib_stats = {
    "tanh xavier_normal_": act_stds(deep_net(nn.Tanh, nn.init.xavier_normal_), D),
    "ReLU kaiming_normal_": act_stds(deep_net(nn.ReLU, lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu")), D),
}
# orthogonal_ and LSUV run a QR per layer on the host: a narrower net in small mode
SMALL_WIDTH = 200 if SMALL else WIDTH
D_small = D[:, :SMALL_WIDTH]
lib_stats["tanh orthogonal_ (gain 5/3)"] = act_stds(
    deep_net(nn.Tanh, lambda t: nn.init.orthogonal_(t, gain=nn.init.calculate_gain("tanh")), width=SMALL_WIDTH), D_small)
for name, s in lib_stats.items():
    print(f"{name:28s} std per layer: {np.round(s, 3)}")
assert close(lib_stats["tanh xavier_normal_"][9], 0.228, 0.15)
assert close(lib_stats["ReLU kaiming_normal_"][9], 0.84, 0.25)
assert lib_stats["tanh orthogonal_ (gain 5/3)"][9] > 0.5  # no decay

lsuv_model = deep_net(nn.Tanh, nn.init.normal_, width=SMALL_WIDTH)  # a terrible start: N(0, 1) weights, saturated
before = act_stds(lsuv_model, D_small, types=("Linear",))
nn.init.lsuv_init(lsuv_model, D_small[:500], tol=0.02)
after = act_stds(lsuv_model, D_small, types=("Linear",))
print("pre-activation std per layer before LSUV:", np.round(before, 2))
print("pre-activation std per layer after  LSUV:", np.round(after, 3))
assert np.all(np.abs(after - 1) < 0.05)

# %% [markdown]
# ## 5. Zero (or any constant) initialization never breaks the symmetry
#
# "Q: what happens when W = 0 init is used?" If every hidden unit starts with the same incoming and
# outgoing weights, every unit computes the same activation, receives the same gradient and takes
# the same step, forever: the layer behaves like a single unit. We check it after many SGD steps on
# the digits, for $W = 0$ and for a constant $0.1$, by the *spread* of the units' weights,
# $\max_{ij}|W_{ij} - W_{0j}| / \max|W|$; a random init breaks the tie at once (spread ~1).
# (With $W_2 = 0$ too, $W_1$ gets no gradient at all in the first step: notebook 2.)
#
# Why a tolerance and not bitwise equality? In exact arithmetic the rows stay identical. In floating
# point, a matrix product $A W^\top$ with identical rows of $W$ gives identical columns only if every
# column is summed in the same order, and optimized BLAS kernels do not promise that: OpenBLAS's
# Haswell/Zen kernels (AMD EPYC machines) sum edge columns in another order than the main block, so
# columns differ by one ulp ($1.2\cdot10^{-7}$ relative in float32) and SGD carries that along. Measured
# over OpenBLAS's SkylakeX, Haswell, Zen and Sandybridge kernels with 1 and 2 threads: spread 0 to
# $3.7\cdot10^{-7}$ after 300 steps, against ~1.3 for a random init. The threshold $10^{-5}$ sits
# between the two by orders of magnitude, so a genuine symmetry break still fails it.

# %%
digits = load_digits()
x_tr, y_tr = digits.x_train, digits.y_train
if SMALL:
    x_tr, y_tr = x_tr[:300], y_tr[:300]
steps = 60 if SMALL else 300


def train_mlp(init):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
    if init is not None:
        for p in model.parameters():
            nn.init.constant_(p, init)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x_tr), y_tr)
        loss.backward()
        opt.step()
    return model, loss.item()


def spread(W, axis):
    """Largest difference between the units' weight vectors, relative to the largest weight (0 if W = 0)."""
    first = W[:1] if axis == 0 else W[:, :1]
    return float(np.abs(W - first).max() / max(np.abs(W).max(), np.finfo(W.dtype).tiny))


SYMMETRIC = 1e-5  # measured <= 3.7e-7 over BLAS kernels (see above); a random init gives ~1
for init in (0.0, 0.1, None):
    model, loss = train_mlp(init)
    W1, W2 = model[0].weight.detach().numpy(), model[2].weight.detach().numpy()
    s_rows = spread(W1, 0)  # every hidden unit's incoming weights (rows of W1)
    s_cols = spread(W2, 1)  # every hidden unit's outgoing weights (columns of W2)
    moved = np.abs(W1 - (init or 0.0)).max()
    print(f"init {init!s:5s}: loss after {steps} steps {loss:.3f}; spread of W1 rows {s_rows:.2g}, "
          f"of W2 columns {s_cols:.2g}; max |W1 - W1(0)| {moved:.3g}")
    if init is None:
        assert s_rows > 0.1 and s_cols > 0.1 and loss < 1.0
    else:
        assert s_rows < SYMMETRIC and s_cols < SYMMETRIC  # still one unit, up to BLAS rounding
        assert loss > 1.0  # 32 identical units = 1 unit: the net cannot fit 10 classes

# %% [markdown]
# ## 6. Vanishing (and exploding) gradients, layer by layer
#
# Backward through `H = act(X @ W)`: $\partial L/\partial X = (\partial L/\partial H \odot
# \mathrm{act}'(XW))\,W^\top$ and $\partial L/\partial W = X^\top(\partial L/\partial H \odot
# \mathrm{act}'(XW))$. We send the same random output gradient $G$ (loss $= \sum H_{10} \odot G$)
# back through the five settings and read $\|\partial L/\partial H_\ell\|$ with `retain_grad()`.
#
# * **tanh x0.01**: each layer multiplies the backward signal by about $0.01\sqrt{500} \approx 0.22$:
#   it vanishes towards the input. The weight gradients $X^\top(\cdot)$ are *all* tiny: the inputs $X$
#   of the late layers are ~0 (COMP541's hint: "think about the backward pass for a W*X gate").
# * **tanh x1.0**: almost every unit is saturated, so its local derivative $1 - \tanh^2$ is ~0, as
#   the slide says ("gradients will be all zero"). But the few unsaturated units pass the signal on
#   multiplied by weights of size 1 over 500 inputs, so the *total* backward signal here explodes
#   (~5x per layer). Either way the gradients are useless.
# * **sigmoid Xavier**: $\sigma' \le 1/4$ and a non-zero mean: the classic vanishing gradient.
# * **tanh Xavier** decays mildly; **ReLU He** is flat in both directions.

# %%
GRAD_SETTINGS = dict(SETTINGS)
GRAD_SETTINGS["sigmoid Xavier"] = (torch.sigmoid, None, lambda fan_in: 1 / math.sqrt(fan_in))


def backward_norms(act, scale, seed=0):
    torch.manual_seed(seed)
    X = torch.randn(N_SAMPLES, WIDTH)
    Hs, Ws = [], []
    for _ in range(DEPTH):
        W = (torch.randn(X.shape[1], WIDTH) * scale(X.shape[1])).requires_grad_()
        X = act(X @ W)
        X.retain_grad()
        Hs.append(X)
        Ws.append(W)
    G = torch.randn(N_SAMPLES, WIDTH)
    (X * G).sum().backward()
    saturated = ((1 - Hs[4].detach() ** 2) < 1e-3).float().mean().item() if act is torch.tanh else None
    return (np.array([h.grad.norm().item() for h in Hs]), np.array([w.grad.norm().item() for w in Ws]), saturated)


GRADS = {name: backward_norms(act, scale) for name, (act, _, scale) in GRAD_SETTINGS.items()}
for name, (dh, dw, sat) in GRADS.items():
    extra = f"   tanh' < 1e-3 for {sat:.0%} of layer-5 units" if sat is not None else ""
    print(f"{name:15s} |dL/dH| layer 1 / 10 = {dh[0] / dh[9]:.3g}   |dL/dW| layers 1, 5, 10: "
          f"{dw[0]:.3g}, {dw[4]:.3g}, {dw[9]:.3g}{extra}")

ratio = {name: g[0][0] / g[0][9] for name, g in GRADS.items()}
assert ratio["tanh x0.01"] < 1e-4 and ratio["sigmoid Xavier"] < 1e-4  # vanish
assert ratio["tanh x1.0"] > 1e3 and GRADS["tanh x1.0"][2] > 0.8  # saturated units, yet it explodes
assert 0.1 < ratio["tanh Xavier"] < 1.0  # mild decay
assert 0.5 < ratio["ReLU He"] < 2.0  # flat
assert GRADS["tanh x0.01"][1].max() < 1e-4 * GRADS["ReLU He"][1].min()  # every weight gradient is ~0

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
for i, (name, (dh, dw, _)) in enumerate(GRADS.items()):
    axes[0].plot(layers, dh, "o-", color=f"C{i}", label=name)
    axes[1].plot(layers, dw, "o-", color=f"C{i}", label=name)
axes[0].set(yscale="log", xlabel="layer", ylabel=r"$\|\partial L / \partial H_\ell\|$", title="backward signal per layer")
axes[1].set(yscale="log", xlabel="layer", ylabel=r"$\|\partial L / \partial W_\ell\|$", title="weight gradient per layer")
axes[0].legend()
fig.tight_layout()
savefig(fig, "gradients_per_layer")
plt.show()

# %% [markdown]
# ## 7. $E[\mathrm{ReLU}(z)^2] = 1/2$, and He's factor 2
#
# For $z \sim N(0, \sigma^2)$, ReLU keeps the positive half: $E[\mathrm{ReLU}(z)^2] = \sigma^2/2$ by
# symmetry. So a ReLU layer halves the second moment, and $\mathrm{Var}(w_i) = 2/d_{in}$ (He)
# restores it: $q_\ell = d_{in}\cdot\frac{2}{d_{in}}\cdot\frac{q_{\ell-1}}{2} = q_{\ell-1}$. With
# Xavier's $1/d_{in}$ it halves every layer: $0.58 \to 0.026$ over ten layers is roughly
# $2^{-9/2} \approx 0.044$, the rest being the mean. (The "ReLU bias 0.01" habit of the slides keeps
# units alive at the start; it does not change this balance.)

# %%
z = torch.randn(200_000 if SMALL else 2_000_000, dtype=torch.float64)
second = (F.relu(z) ** 2).mean().item()
zq, wq = np.polynomial.hermite_e.hermegauss(80)
quad = (wq * np.maximum(zq, 0) ** 2).sum() / wq.sum()
print(f"Monte Carlo E[ReLU(z)^2] = {second:.4f}, quadrature {quad:.6f}, E[ReLU(z)] = {F.relu(z).mean().item():.4f} "
      f"(1/sqrt(2 pi) = {1 / math.sqrt(2 * math.pi):.4f})")
assert abs(second - 0.5) < 0.01  # the library's relu on 2e5-2e6 samples (NumPy's quadrature: printed only)
assert abs(F.relu(z).mean().item() - 1 / math.sqrt(2 * math.pi)) < 0.01
# He layer 1: z ~ N(0, 2) -> std of ReLU(z) = sqrt(2) sqrt(1/2 - 1/(2 pi)) = 0.826, the lecture's 0.83.
# The check is the library's layer-1 std of section 3 against this formula: 10 seeds give 0.8231..0.8273
# (spread 0.5%), so 1.5%. (A He init with gain 1 instead of sqrt(2) gives 0.58; without the ReLU, 1.41.)
he_std = math.sqrt(2) * math.sqrt(0.5 - 1 / (2 * math.pi))
print(f"predicted He layer-1 std {he_std:.4f}; measured (median over seeds, section 3) {med['ReLU He'][0]:.4f}")
assert close(med["ReLU He"][0], he_std, 0.015)
