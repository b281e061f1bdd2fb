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
# # 3. Gradient checking
#
# Every op in this framework is tested by comparing its analytic backward with **central finite
# differences**, $\frac{f(x + h e_j) - f(x - h e_j)}{2h}$. The check is simple, but it has pitfalls
# that fill this notebook:
#
# 1. the step $h$: too large and the Taylor error dominates, too small and rounding does;
#    the best $h$ is near $\varepsilon^{1/3}$ ($\varepsilon$ = machine epsilon), so **check in float64**;
# 2. how to compare: the **relative error** and its thresholds;
# 3. **kinks** (ReLU, abs at 0) where the derivative does not exist;
# 4. **randomness** (dropout): every evaluation must see the same random draws;
# 5. **BatchNorm couples the batch**: perturb one sample and every output moves;
# 6. writing your own `Function` and checking it (`tinygrad_dnn.testing.check_function`), and what a
#    failing report looks like.
#
# Tools: `tinygrad_dnn.gradcheck.gradcheck` (raises `GradcheckError` with a precise message),
# `check_gradients` (returns a report), `numerical_grad`, `rel_error`.

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
import numpy as np  # only for the step-size grid and plotting

import tinygrad_dnn as torch
from tinygrad_dnn.autograd import jacobian
from tinygrad_dnn.gradcheck import GradcheckError, check_gradients, gradcheck, numerical_grad, rel_error
from tinygrad_dnn.testing import check_function

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/03_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"03_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


torch.manual_seed(0)

# %% [markdown]
# ## 1. Error against step size, float32 and float64
#
# For $f = \exp$ on points in $[-1, 1]$ we know $f' = \exp$ exactly. The central difference has a
# truncation error $\approx h^2 |f'''| / 6$ and a rounding error $\approx \varepsilon |f| / h$; their sum
# is smallest at $h^* \approx (3\varepsilon)^{1/3} \sim \varepsilon^{1/3}$, with a floor
# $\sim \varepsilon^{2/3}$:
#
# | dtype | $\varepsilon$ | best $h \approx \varepsilon^{1/3}$ | error floor $\approx \varepsilon^{2/3}$ |
# |---|---|---|---|
# | float32 | 1.2e-7 | 5e-3 | 2e-5 |
# | float64 | 2.2e-16 | 6e-6 | 4e-11 |
#
# So $h = 10^{-6}$, a common default, is right for float64 and **useless in float32**.

# %%
N_POINTS = 200 if SMALL else 2000
hs = np.logspace(-10, -0.3, 30 if SMALL else 60)
x64 = torch.rand(N_POINTS, dtype=torch.float64) * 2 - 1
exact = x64.exp()  # f'(x) = exp(x), computed in float64
curves, best = {}, {}
for dt, eps_mach in [(torch.float32, 2.0 ** -23), (torch.float64, 2.0 ** -52)]:
    x = x64.to(dt)
    errs = []
    for h in hs:
        h = float(h)
        numeric = ((x + h).exp() - (x - h).exp()) / (2 * h)  # computed in dt
        errs.append(((numeric.double() - exact).abs() / exact).mean().item())
    curves[dt.name] = np.array(errs)
    i = int(np.argmin(errs))
    best[dt.name] = (hs[i], errs[i], eps_mach)
    print(f"{dt.name}: best h = {hs[i]:.1e} (eps^(1/3) = {eps_mach ** (1 / 3):.1e}), "
          f"error floor {errs[i]:.1e} (eps^(2/3) = {eps_mach ** (2 / 3):.1e}), "
          f"error at h=1e-6: {np.interp(-6, np.log10(hs), errs):.1e}")

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for (name, errs), color in zip(curves.items(), ["C3", "C0"]):
    h_best, floor, eps_mach = best[name]
    ax.loglog(hs, errs, "o-", ms=3, color=color, label=f"{name} (measured)")
    ax.loglog(hs, eps_mach / hs + hs ** 2 / 6, "--", color=color, lw=1, alpha=0.7,
              label=f"{name}: $\\varepsilon/h + h^2/6$")
    ax.axvline(eps_mach ** (1 / 3), color=color, ls=":", lw=1)
ax.set(xlabel="step h", ylabel="mean relative error of f'(x)", ylim=(1e-13, 10),
       title="central differences for f = exp: error against step size")
ax.legend()
savefig(fig, "error_vs_step")
plt.show()

# %% [markdown]
# The measured minima sit at $\varepsilon^{1/3}$ (dotted lines) and follow the model
# $\varepsilon / h + h^2/6$:

# %%
for name, (h_best, floor, eps_mach) in best.items():
    # measured (both sizes): h_best / eps^(1/3) = 0.79-1.08, floor / eps^(2/3) = 0.16-0.35; the h grid's
    # spacing is a factor 2.2 in small mode, so h_best within 3x, the floor within (1/10, 2)
    assert eps_mach ** (1 / 3) / 3 < h_best < 3 * eps_mach ** (1 / 3), (name, h_best)
    assert eps_mach ** (2 / 3) / 10 < floor < 2 * eps_mach ** (2 / 3), (name, floor)
assert 3e-3 / 3 < best["float32"][0] < 3 * 5e-3 and 6e-6 / 3 < best["float64"][0] < 3 * 6e-6  # curriculum.md
assert np.interp(-6, np.log10(hs), curves["float32"]) > 1e-2  # h = 1e-6 in float32: useless
assert np.interp(-6, np.log10(hs), curves["float64"]) < 1e-9  # ... but fine in float64

# %% [markdown]
# This is why `gradcheck` refuses float32 inputs unless told otherwise:

# %%
try:
    gradcheck(lambda t: t.exp(), (torch.randn(3, requires_grad=True),))
    raise AssertionError("float32 should have been refused")
except ValueError as e:
    print("ValueError:", e)
    assert "float64" in str(e)

# %% [markdown]
# ## 2. Relative error and its thresholds
#
# Gradients range over many orders of magnitude, so compare
# $\text{rel}(a, n) = \frac{|a - n|}{\max(10^{-8}, |a| + |n|)}$ (`rel_error`; the max guards
# against $0/0$). The usual rules of thumb (CS231n):
#
# | relative error | verdict |
# |---|---|
# | > 1e-2 | the gradient is probably wrong |
# | 1e-2 ... 1e-4 | uncomfortable |
# | 1e-4 ... 1e-7 | fine with kinks (ReLU); suspicious for smooth functions |
# | < 1e-7 | good |
#
# (Deep networks accumulate error: expect larger relative errors with depth.) `rel_error` takes the
# worst element, and elements with small gradients are the hardest. Below, the same two-layer tanh
# network checked four ways with `numerical_grad`.

# %%
Xd = torch.randn(20, 6, dtype=torch.float64)
yd = torch.randn(20, 2, dtype=torch.float64)
W1_64 = torch.randn(6, 8, dtype=torch.float64) / 6 ** 0.5
W2_64 = torch.randn(8, 2, dtype=torch.float64) / 8 ** 0.5


def net_loss(W1, X=Xd, y=yd, W2=W2_64):
    X, y, W2 = X.to(W1.dtype), y.to(W1.dtype), W2.to(W1.dtype)
    return (((X @ W1).tanh() @ W2 - y) ** 2).mean()


def autograd_grad(W1):
    W = W1.detach().requires_grad_()
    net_loss(W).backward()
    return W.grad


def buggy_grad(W1):  # forgot the factor 2 of the square
    X, y = Xd, yd
    H = (X @ W1).tanh()
    R = (H @ W2_64 - y) / y.numel()
    return X.T @ ((R @ W2_64.T) * (1 - H ** 2))


g_true = autograd_grad(W1_64)
rows = {
    "float64, h=6e-6": rel_error(g_true, numerical_grad(net_loss, W1_64, eps=6e-6)),
    "float32, h=5e-3": rel_error(autograd_grad(W1_64.float()), numerical_grad(net_loss, W1_64.float(), eps=5e-3)),
    "float32, h=1e-6": rel_error(autograd_grad(W1_64.float()), numerical_grad(net_loss, W1_64.float(), eps=1e-6)),
    "wrong backward (missing 2), float64": rel_error(buggy_grad(W1_64), numerical_grad(net_loss, W1_64, eps=6e-6)),
}
for k, v in rows.items():
    print(f"{k:<38} rel error {v:.1e}")
# Thresholds from 10 seeds of this network (X, y, W1, W2 redrawn): float64 1.5e-9..2.1e-8, float32 at its
# best step 7.7e-4..1.0e-2 (the worst element, heavy-tailed); windows about 3x outside those ranges
assert rows["float64, h=6e-6"] < 1e-7  # good
assert 3e-4 < rows["float32, h=5e-3"] < 3e-2  # the best float32 can do: "uncomfortable", not conclusive
assert rows["float32, h=1e-6"] > 0.5  # the differences round to 0 in float32: numerical gradient 0
assert rows["wrong backward (missing 2), float64"] > 0.3  # a factor 2 gives 1/3 exactly: clearly wrong
print("missing factor 2 -> rel error |a - 2a| / (|a| + |2a|) = 1/3")

# %% [markdown]
# ## 3. Kinks
#
# ReLU and abs are not differentiable at 0. The library follows PyTorch: $\text{relu}'(0) = 0$,
# $\text{abs}'(0) = \text{sign}(0) = 0$. At exactly $x = 0$ the central difference of ReLU is
# $\frac{h - 0}{2h} = 0.5$; and any point closer to the kink than $h$ (here $10^{-7}$) gives a wrong
# numerical derivative for both. `check_kinks=True` compares the one-sided differences: if the left
# and right slopes disagree the element is reported as a skipped kink instead of a failure.

# %%
xk = torch.tensor([-1.0, 0.0, 1e-7, 2.0], dtype=torch.float64, requires_grad=True)
for name, fn in [("relu", lambda t: t.relu()), ("abs", lambda t: t.abs())]:
    rep = check_gradients(fn, (xk,))
    rep_k = check_gradients(fn, (xk,), check_kinks=True)
    fails = [(xk[m.element[0]].item(), m.analytic, round(m.numeric, 3)) for m in rep.failures]
    print(f"{name}: passed={rep.passed}, failures (x, analytic, numeric) = {fails}; "
          f"with check_kinks: passed={rep_k.passed}, kinks skipped = {len(rep_k.kinks)}")
    assert not rep.passed and rep_k.passed and len(rep_k.kinks) == len(rep.failures)
    assert all(xk[m.element[0]].item() in (0.0, 1e-7) for m in rep.failures)  # only at / near the kink

# %% [markdown]
# Away from the kinks ReLU checks cleanly. In practice: keep inputs away from 0 by more than $h$
# (e.g. `x + 0.1 * x.sign()`), or use `check_kinks=True`. A mismatch that `check_kinks` does *not*
# excuse is a real bug.

# %%
assert gradcheck(lambda t: t.relu(), (torch.tensor([-1.0, -0.3, 0.4, 2.0], dtype=torch.float64, requires_grad=True),))

# %% [markdown]
# ## 4. Randomness: dropout
#
# Inverted dropout as on the slides, with keep probability $p$: `mask = (rand < p) / p`, `y = x * mask`.
# Each call draws a new mask, so a naive finite difference compares $f$ with two *different* masks
# and produces garbage. `gradcheck` saves the random state and replays it before every evaluation,
# so all evaluations (and the analytic pass) see the same mask.

# %%
def dropout(x, p_keep=0.8):
    mask = (torch.rand(*x.shape, dtype=x.dtype) < p_keep) / p_keep
    return x * mask


xd = torch.randn(30, dtype=torch.float64, requires_grad=True)
v = torch.randn(30, dtype=torch.float64)


def dropped_loss(x):
    return (dropout(x) * v).sum()


torch.manual_seed(1)
dropped_loss(xd).backward()
naive = numerical_grad(dropped_loss, xd.detach())  # a new mask at every evaluation
print(f"naive finite differences: rel error {rel_error(xd.grad, naive):.2f}")
assert rel_error(xd.grad, naive) > 0.1

rep = check_gradients(lambda x: dropout(x) * v, (xd,))
print(f"gradcheck (random state replayed): passed={rep.passed}, max rel error {rep.max_rel_error:.1e}")
assert rep.passed

# %% [markdown]
# The same with the library's `nn.Dropout(p)` -- note that `p` there is the **drop** probability
# (PyTorch's convention), while the slides' $p$ is the keep probability.

# %%
drop = torch.nn.Dropout(p=0.2)
drop.train()
assert gradcheck(drop, (xd,))
with torch.no_grad():
    kept = (drop(torch.ones(10000, dtype=torch.float64)) != 0).double().mean().item()
print(f"nn.Dropout(p=0.2) keeps {kept:.3f} of the units")
assert abs(kept - 0.8) < 0.02

# %% [markdown]
# ## 5. BatchNorm couples the batch
#
# In training mode BatchNorm normalizes with the batch mean and variance, so output $y_i$ depends on
# **every** input $x_j$ of the batch. Its Jacobian is not block-diagonal over samples, and a gradient
# "per sample" that treats the batch statistics as constants is wrong. Below, BatchNorm written from
# the formula, and its Jacobian for a batch of 4 samples with 2 features.

# %%
def batchnorm(x, gamma, beta, eps=1e-5):
    mu = x.mean(0, keepdim=True)
    var = ((x - mu) ** 2).mean(0, keepdim=True)  # biased batch variance
    return gamma * (x - mu) / (var + eps).sqrt() + beta


def batchnorm_stats_as_constants(x, gamma, beta, eps=1e-5):  # WRONG backward: ignores d mu/dx, d var/dx
    mu = x.mean(0, keepdim=True).detach()
    var = ((x - mu) ** 2).mean(0, keepdim=True).detach()
    return gamma * (x - mu) / (var + eps).sqrt() + beta


B, C = 4, 2
xb = torch.randn(B, C, dtype=torch.float64, requires_grad=True)
gamma = (torch.rand(C, dtype=torch.float64) + 0.5).requires_grad_()
beta = torch.randn(C, dtype=torch.float64, requires_grad=True)
Jbn = jacobian(lambda t: batchnorm(t, gamma.detach(), beta.detach()), xb).reshape(B * C, B * C)
Jconst = jacobian(lambda t: batchnorm_stats_as_constants(t, gamma.detach(), beta.detach()), xb).reshape(B * C, B * C)

fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
lim = Jbn.abs().max().item()
for ax, J_, title in [(axes[0], Jbn, r"BatchNorm: $\partial y / \partial x$ (true)"),
                      (axes[1], Jconst, "batch statistics treated as constants")]:
    im = ax.imshow(np.array(J_.tolist()), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set(title=title, xlabel="input (sample, feature)", xticks=range(B * C), yticks=range(B * C))
    ax.set_xticklabels([f"{i},{c}" for i in range(B) for c in range(C)], fontsize=12)
    ax.set_yticklabels([f"{i},{c}" for i in range(B) for c in range(C)], fontsize=12)
axes[0].set_ylabel("output (sample, feature)")
fig.suptitle("BatchNorm couples the samples of a batch: off-diagonal blocks")
fig.colorbar(im, ax=axes, shrink=0.8)
savefig(fig, "batchnorm_jacobian")
plt.show()

# %%
# output (i, c) depends on input (j, c) for every sample j != i: off-diagonal blocks are non-zero
cross = max(abs(Jbn[i * C + c, j * C + c].item()) for i in range(B) for j in range(B) if i != j for c in range(C))
print(f"largest cross-sample entry of the BatchNorm Jacobian: {cross:.3f}")
assert cross > 0.05
# (features never mix: output (i, c) does not depend on input (j, c') for c' != c)
assert max(abs(Jbn[i * C + c, j * C + (1 - c)].item()) for i in range(B) for j in range(B) for c in range(C)) < 1e-12

# %% [markdown]
# `gradcheck` perturbs each input element and recomputes **the whole batch** forward, so it sees the
# coupling and rejects the "per-sample" backward, while the true one passes. A pitfall on the way: the
# plain sum of BatchNorm outputs is constant in $x$ (each column of $(x - \mu)$ sums to 0), so its gradient
# is exactly zero and would hide bugs; the check uses random output weights (`gradcheck` itself does
# the same with random directions for large outputs).

# %%
xb.grad = None
batchnorm(xb, gamma, beta).sum().backward()
print("gradient of sum(BN(x)) w.r.t. x: max |.| =", xb.grad.abs().max().item())
assert xb.grad.abs().max().item() < 1e-12

assert gradcheck(batchnorm, (xb, gamma, beta))
rep = check_gradients(batchnorm_stats_as_constants, (xb, gamma, beta))
print(f"stats as constants: passed={rep.passed}, {len(rep.failures)} of {rep.n_checks} entries disagree, "
      f"inputs with mismatches {sorted({m.input_index for m in rep.failures})}")
assert not rep.passed and {m.input_index for m in rep.failures} == {0}  # gamma and beta are still right

# %% [markdown]
# The library's `nn.BatchNorm1d` in training mode checks the same way. Each evaluation would also update
# the running statistics; `gradcheck` restores the module's buffers around every evaluation (the module
# is `fn` itself here; pass `preserve=(module,)` when `fn` is a function that calls a module), so the
# check leaves the module as it found it. (The cell runs once the normalization layers exist.)

# %%
if hasattr(torch.nn, "BatchNorm1d"):
    bn = torch.nn.BatchNorm1d(C).double()
    bn.train()
    before = [b.tolist() for b in bn.buffers()]
    assert gradcheck(bn, (xb,))
    assert [b.tolist() for b in bn.buffers()] == before  # running statistics untouched by the check
    print("nn.BatchNorm1d passes gradcheck; running statistics unchanged")
else:
    print("nn.BatchNorm1d is not in this version of tinygrad_dnn yet: skipped")

# %% [markdown]
# ## 6. Writing a `Function` and checking it
#
# A custom op is a `tinygrad_dnn.Function` with two static methods. `forward(ctx, x)` computes with the
# backend's array namespace (`x.backend.xp`, Array API functions on `x._data`) and saves what backward
# needs; `backward(ctx, grad)` returns one gradient per input, **written with Tensor ops**, so that it
# can itself be differentiated (second-order checks, Hessian-vector products).
#
# Example: SiLU (swish), $y = x\,\sigma(x)$, $y' = \sigma(x) + x\,\sigma(x)(1 - \sigma(x))$.

# %%
class SiLU(torch.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp = x.backend.xp
        return x._data / (1 + xp.exp(-x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return grad * (s + x * s * (1 - s))


xs = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
assert rel_error(SiLU.apply(xs), xs * xs.sigmoid()) < 1e-15
assert check_function(SiLU, xs)  # gradcheck and gradgradcheck (second order), float64
print("SiLU: first- and second-order checks pass")

# %% [markdown]
# ### A deliberately wrong backward, and the failing report
#
# Two classic bugs: forgetting a term of the product rule (`SiLUWrong`), and a wrong gradient for the
# *second* input of a two-input op (`ScaleWrong`; a check that only looks at the first input misses
# it -- `gradcheck` checks every input that requires grad).

# %%
class SiLUWrong(torch.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data / (1 + x.backend.xp.exp(-x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()  # BUG: dropped x * s * (1 - s)


class ScaleWrong(torch.Function):
    """y = x * w with w broadcast over rows."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x._data * w._data

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad * w, grad  # BUG: d/dw is grad * x (the engine sums it over the broadcast rows)


w = torch.randn(3, dtype=torch.float64, requires_grad=True)
messages = {}
for name, fn, inputs in [("SiLUWrong", SiLUWrong.apply, (xs,)), ("ScaleWrong", ScaleWrong.apply, (xs, w))]:
    try:
        gradcheck(fn, inputs)
        raise AssertionError(f"{name} should fail")
    except GradcheckError as e:
        messages[name] = str(e)
        print(f"--- {name} ---\n{e}\n")

assert "Inputs with mismatches: [0]" in messages["SiLUWrong"]
assert "Inputs with mismatches: [1]" in messages["ScaleWrong"]  # the first input's gradient is right

# %% [markdown]
# The report names the output and input elements, both values, the errors, `eps` and the seed, and
# `check_gradients` returns the same information as data:

# %%
rep = check_gradients(SiLUWrong.apply, (xs,))
worst = rep.worst
print(f"passed={rep.passed}, {len(rep.failures)}/{rep.n_checks} entries wrong, worst at input element "
      f"{worst.element[:2]}: analytic {worst.analytic:.4f} vs numeric {worst.numeric:.4f}")
x_bad = xs[worst.element[0], worst.element[1]].detach()
s_bad = x_bad.sigmoid()
assert abs(worst.analytic - s_bad.item()) < 1e-12  # exactly the buggy formula
assert abs(worst.numeric - (s_bad + x_bad * s_bad * (1 - s_bad)).item()) < 1e-8  # the true derivative

# %% [markdown]
# ## Take-aways
#
# * Check gradients in **float64** with $h \approx 10^{-6}$; in float32 the best possible relative
#   error is about $10^{-5}$ (at $h \approx 5 \cdot 10^{-3}$) and $h = 10^{-6}$ is useless.
# * Judge by the relative error: below 1e-7 is good for smooth functions, a factor-2 bug gives 1/3.
# * Kinks give spurious failures within $h$ of the kink: move the inputs or use `check_kinks=True`.
# * Random ops need the random state replayed for every evaluation; BatchNorm needs the whole batch
#   recomputed (and its running statistics restored).
# * A custom `Function` is two static methods; `check_function` runs first- and second-order checks,
#   and a failing check tells which input and element are wrong.
