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
# # 7. Optimizers
#
# The lectures teach each optimizer by its update rule. This notebook runs them:
#
# 1. trajectories on the ill-conditioned bowl $f = x_1^2 + 4x_2^2$, on Rosenbrock's banana and on the
#    saddle $x^2 - y^2$ for SGD, momentum (heavy ball), Nesterov, AdaGrad, RMSprop, Adam, AdamW and
#    sign-SGD; steps-to-tolerance of GD and heavy ball against the learning rate;
# 2. Adam as the paper and PyTorch define it, written by hand and checked against `optim.Adam`, and
#    the slides' variants (epsilon inside the root, no bias correction, $t$ starting at 0);
# 3. PyTorch's momentum convention against the slides' when the learning rate changes;
# 4. Nesterov momentum in the look-ahead form and in the change-of-variables form;
# 5. GD against SGD on least squares, per iteration and per epoch, and timed;
# 6. Newton's method (Hessian-vector products, conjugate gradient) and L-BFGS;
# 7. SAM (sharpness-aware minimization) on a landscape with a sharp and a flat minimum.
#
# Lecture errata shown here (see `curriculum.md`):
# * the slides' Adam puts $\varepsilon$ inside the square root (decks 000 and 001), drops the bias
#   correction (deck 004, "incomplete, but close") or starts the loop at `t = 0`, which divides by
#   $1 - \beta_1^0 = 0$ (deck 004, "full form"); PyTorch and the paper (Kingma & Ba) use
#   $\hat m_t / (\sqrt{\hat v_t} + \varepsilon)$ with $t = 1, 2, \dots$;
# * deck 004's SGD snippets write `x += learning_rate * dx` (that climbs; descent is `x -= ...`);
# * deck 004's AdamW algorithm initializes the moments with $\theta$ ($m_0 \leftarrow \theta$); they start at 0;
# * PyTorch's momentum (`v = mu v + g; p -= lr v`) and the slides' (`m = beta m - eta g; p += m`) are the
#   same with a constant learning rate, not when it changes (section 3).

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
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np  # reference computations and plotting only

import tinygrad_dnn as torch
from tinygrad_dnn.data import TEST_FUNCTIONS, make_least_squares, quadratic, rosenbrock, saddle

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/07_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"07_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


torch.manual_seed(0)
f64 = torch.float64

# %% [markdown]
# ## 1. Trajectories on three 2-D functions
#
# `trajectory` runs an optimizer from `torch.optim` on a single 2-vector parameter and records the
# path. Every optimizer here is PyTorch's, with PyTorch's defaults except the learning rate (and
# momentum / weight decay where named).

# %%
def trajectory(make_opt, fn, start, steps):
    """Path (steps + 1, 2) of the optimizer ``make_opt([p])`` minimizing ``fn(p)`` from ``start``."""
    p = torch.tensor(start, dtype=f64, requires_grad=True)
    opt = make_opt([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        fn(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def optimizers(lr_sgd, lr_adagrad, lr_rms, lr_adam, lr_sign):
    """The eight optimizers of the comparison; each value builds one from a parameter list."""
    return {
        "SGD": lambda ps: torch.optim.SGD(ps, lr=lr_sgd),
        "momentum 0.9": lambda ps: torch.optim.SGD(ps, lr=lr_sgd, momentum=0.9),
        "Nesterov 0.9": lambda ps: torch.optim.SGD(ps, lr=lr_sgd, momentum=0.9, nesterov=True),
        "AdaGrad": lambda ps: torch.optim.Adagrad(ps, lr=lr_adagrad),
        "RMSprop": lambda ps: torch.optim.RMSprop(ps, lr=lr_rms),
        "Adam": lambda ps: torch.optim.Adam(ps, lr=lr_adam),
        "AdamW (wd 0.1)": lambda ps: torch.optim.AdamW(ps, lr=lr_adam, weight_decay=0.1),
        "sign-SGD": lambda ps: torch.optim.SignSGD(ps, lr=lr_sign),
    }


SETTINGS = {  # per function: learning rates (SGD, AdaGrad, RMSprop, Adam, sign-SGD) and steps
    "quadratic": dict(lrs=(0.01, 1.0, 0.05, 0.2, 0.15), steps=150),
    "rosenbrock": dict(lrs=(5e-4, 0.1, 0.01, 0.05, 0.01), steps=500 if SMALL else 3000),
    "saddle": dict(lrs=(0.05, 0.5, 0.01, 0.05, 0.05), steps=100),
}
paths = {}
t0 = time.perf_counter()
for name, cfg in SETTINGS.items():
    tf = TEST_FUNCTIONS[name]
    paths[name] = {label: trajectory(make, tf, tf.start, cfg["steps"])
                   for label, make in optimizers(*cfg["lrs"]).items()}
print(f"{sum(len(p) for p in paths.values())} trajectories in {time.perf_counter() - t0:.1f} s")

# %%
COLORS = dict(zip(paths["quadratic"], plt.cm.tab10.colors))


def contour(ax, tf, levels):
    xs = np.linspace(*tf.xlim, 300)
    ys = np.linspace(*tf.ylim, 300)
    X, Y = np.meshgrid(xs, ys)
    Z = tf(X, Y)  # the test functions are plain arithmetic: they take NumPy arrays too
    ax.contour(X, Y, Z, levels=levels, colors="lightgray", linewidths=0.7)
    ax.set(xlim=tf.xlim, ylim=tf.ylim, title=tf.name)
    ax.plot(*tf.start, "ko")
    if tf.minimum is not None:
        ax.plot(*tf.minimum, "k*", ms=12)


STYLES = dict(zip(paths["quadratic"], ["-", "--", "-.", ":", "-", "--", "-.", ":"]))
fig, axes = plt.subplots(1, 2, figsize=(15, 6.5))
levels = {"quadratic": np.linspace(0, 40, 21) ** 1.0, "saddle": np.linspace(-2, 2, 21)}
for ax, name in zip(axes, ("quadratic", "saddle")):
    contour(ax, TEST_FUNCTIONS[name], levels[name])
    for label, path in paths[name].items():
        ax.plot(path[:, 0], path[:, 1], ls=STYLES[label], lw=2, color=COLORS[label], label=label)
axes[0].set_title(r"bowl $x_1^2 + 4x_2^2$")
axes[1].set_title(r"saddle $x_1^2 - x_2^2$")
fig.legend(*axes[0].get_legend_handles_labels(), loc="center right", bbox_to_anchor=(1.12, 0.5))
fig.suptitle("Optimizer paths (black dot: start, star: minimum)")
fig.tight_layout()
savefig(fig, "trajectories")
plt.show()

# %% [markdown]
# On Rosenbrock's banana every method follows the same curved valley, so the paths lie on top of each
# other; what separates them is *how fast* they move along it: the function value against the step.

# %%
fig, ax = plt.subplots(figsize=(10, 5.5))
rosen = TEST_FUNCTIONS["rosenbrock"]
for label, path in paths["rosenbrock"].items():
    fvals = rosen(path[:, 0], path[:, 1])
    ax.loglog(np.arange(1, len(path) + 1), fvals + 1e-16, ls=STYLES[label], lw=2, color=COLORS[label], label=label)
ax.set(xlabel="step", ylabel=r"$f(x) - f(x^*)$",
       title=r"Rosenbrock $(1 - x_1)^2 + 100 (x_2 - x_1^2)^2$: progress along the valley")
ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
savefig(fig, "rosenbrock")
plt.show()

# %% [markdown]
# What the pictures show, checked:
#
# * On the bowl, plain SGD at a small learning rate crawls along the flat $x_1$ direction; momentum
#   (and Nesterov) build up speed along it and arrive first, overshooting a little.
# * AdaGrad, RMSprop and Adam divide each coordinate by its gradient scale, so their first steps go
#   diagonally (equal size in $x_1$ and $x_2$), not down the steepest direction; sign-SGD takes steps of
#   exactly `lr` in each coordinate and ends up oscillating around the minimum at the scale of `lr`.
# * On the saddle, started a hair off the ridge ($y_0 = 10^{-3}$), SGD and momentum first slide down to
#   the saddle point and only leave it as the tiny $y$ grows geometrically; the adaptive and sign
#   methods rescale the tiny $y$-gradient and escape at once (Staib et al., 2020).

# %%
def dist(path, target):
    return np.linalg.norm(path - np.asarray(target), axis=1)


q = paths["quadratic"]
print({k: float(dist(v, (0, 0))[-1]) for k, v in q.items()})
assert dist(q["momentum 0.9"], (0, 0))[-1] < 0.1 * dist(q["SGD"], (0, 0))[-1]  # same lr, much closer
for label in ("AdaGrad", "RMSprop", "Adam"):
    step = q[label][1] - q[label][0]
    assert abs(abs(step[0]) - abs(step[1])) < 1e-6 * abs(step[0]), (label, step)  # a diagonal first step
s = q["sign-SGD"]
assert np.allclose(np.abs(np.diff(s, axis=0)), 0.15)  # every coordinate moves by exactly lr
assert dist(s, (0, 0))[-1] < 0.15 * 2 ** 0.5  # and ends at the scale of lr

escape = {k: int(np.argmax(np.abs(v[:, 1]) > 1.0)) or None for k, v in paths["saddle"].items()}
print("steps until |y| > 1 on the saddle:", escape)
for label in ("RMSprop", "Adam", "sign-SGD"):
    assert escape[label] is not None and escape[label] < escape["SGD"] / 2, (label, escape)

r = paths["rosenbrock"]
print("distance to (1, 1) after", len(r["SGD"]) - 1, "steps:", {k: round(float(dist(v, (1, 1))[-1]), 4)
                                                               for k, v in r.items()})
assert dist(r["Adam"], (1, 1))[-1] < dist(r["SGD"], (1, 1))[-1]

# %% [markdown]
# ### Heavy ball: fewer steps at the same learning rate (when the learning rate is small)
#
# The heavy-ball method $x_{k+1} = x_k - \alpha\nabla f(x_k) + \beta(x_k - x_{k-1})$ is PyTorch's
# `SGD(lr=alpha, momentum=beta)` while the learning rate is constant. On the bowl (Hessian
# $\mathrm{diag}(2, 8)$, condition number 4) count the steps until $\|x\| < 10^{-6}$:

# %%
def steps_to_tol(make_opt, fn=quadratic, start=(-4.0, 2.0), tol=1e-6, max_steps=5000):
    p = torch.tensor(start, dtype=f64, requires_grad=True)
    opt = make_opt([p])
    for k in range(1, max_steps + 1):
        opt.zero_grad()
        fn(p).backward()
        opt.step()
        norm = float(p.detach().norm())
        if norm < tol:
            return k
        if norm > 1e6:  # diverged
            return np.inf
    return np.inf


lrs = np.geomspace(3e-3, 0.3, 9 if SMALL else 25)
table = {}
for beta in (0.0, 0.5, 0.9):
    table[beta] = [steps_to_tol(lambda ps, lr=lr: torch.optim.SGD(ps, lr=lr, momentum=beta)) for lr in lrs]

fig, ax = plt.subplots(figsize=(6.5, 4))
for beta, ks in table.items():
    ax.loglog(lrs, ks, "o-", label="GD" if beta == 0 else f"heavy ball, beta={beta}")
ax.axvline(0.25, color="gray", ls=":", label="GD stability limit 2/L = 0.25")
ax.set(xlabel="learning rate", ylabel=r"steps to $\|x\| < 10^{-6}$", title=r"$f = x_1^2 + 4x_2^2$")
ax.legend()
savefig(fig, "momentum_steps")
plt.show()

k_gd = steps_to_tol(lambda ps: torch.optim.SGD(ps, lr=0.01))
k_hb = steps_to_tol(lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9))
print(f"lr 0.01: GD {k_gd} steps, momentum 0.9 {k_hb} steps")
assert k_hb < k_gd / 2
# ... but momentum is no free lunch: near GD's best learning rate 2/(L+mu) = 0.2, beta = 0.9 is slower
assert steps_to_tol(lambda ps: torch.optim.SGD(ps, lr=0.2, momentum=0.9)) > steps_to_tol(
    lambda ps: torch.optim.SGD(ps, lr=0.2))

# %% [markdown]
# ## 2. Adam by hand, and the slides' variants
#
# The paper's (and PyTorch's) Adam, for $t = 1, 2, \dots$:
#
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
# \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},\quad
# x_t = x_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}$$
#
# written in NumPy, with the gradient of the test function from autograd:

# %%
def grad_of(fn, x):
    """Gradient of ``fn`` at the NumPy point ``x`` (float64), by autograd."""
    p = torch.tensor(x, dtype=f64, requires_grad=True)
    fn(p).backward()
    return p.grad.numpy().copy()


def adam_by_hand(fn, x0, steps, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, variant="pytorch", weight_decay=0.0):
    """Adam in NumPy. variant: 'pytorch' (the paper), 'eps_inside' (sqrt(v_hat + eps)),
    'no_bias_correction' (deck 004's 'incomplete' Adam), 't_from_0' (deck 004's loop, t = 0, 1, ...)."""
    x = np.array(x0, dtype=np.float64)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    path = [x.copy()]
    for k in range(steps):
        g = grad_of(fn, x)
        x = x * (1 - lr * weight_decay)  # AdamW's decoupled decay (0 for Adam)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        t = k if variant == "t_from_0" else k + 1
        if variant == "no_bias_correction":
            m_hat, v_hat = m, v
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        with np.errstate(invalid="ignore"):
            denom = np.sqrt(v_hat + eps) if variant == "eps_inside" else np.sqrt(v_hat) + eps
            x = x - lr * m_hat / denom
        path.append(x.copy())
    return np.array(path)


n_adam = 100 if SMALL else 500
start = TEST_FUNCTIONS["rosenbrock"].start
ours = trajectory(lambda ps: torch.optim.Adam(ps, lr=0.05), rosenbrock, start, n_adam)
hand = adam_by_hand(rosenbrock, start, n_adam, lr=0.05)
print("max |optim.Adam - hand Adam| over", n_adam, "steps:", np.abs(ours - hand).max())
assert np.abs(ours - hand).max() < 1e-12

ours_w = trajectory(lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1), rosenbrock, start, n_adam)
hand_w = adam_by_hand(rosenbrock, start, n_adam, lr=0.05, weight_decay=0.1)
print("max |optim.AdamW - hand AdamW|:", np.abs(ours_w - hand_w).max())
assert np.abs(ours_w - hand_w).max() < 1e-12

# %% [markdown]
# **`t` starting at 0** (deck 004's `for t in range(num_iterations)`): the first bias correction divides
# by $1 - \beta^0 = 0$. $m/0 = \pm\infty$, $v/0 = +\infty$, and $\infty/\infty$ is NaN: the parameters are
# NaN after one step.

# %%
bad = adam_by_hand(quadratic, (-4.0, 2.0), 3, lr=0.1, variant="t_from_0")
print(bad)
assert np.isnan(bad[1]).all() and np.isnan(bad[-1]).all()

# %% [markdown]
# **No bias correction** (deck 004's "incomplete, but close" Adam). With $m_0 = v_0 = 0$ and a steady
# gradient $g$, $m_t = (1-\beta_1^t) g$ and $v_t = (1-\beta_2^t) g^2$, so the uncorrected step is
# $\eta\,\frac{1-\beta_1^t}{\sqrt{1-\beta_2^t}}$ in each coordinate instead of $\eta$: **larger**, not
# smaller, early on ($0.1/\sqrt{0.001} = 3.16$ at $t = 1$, up to 6.5 near $t = 10$), and equal only after
# a few thousand steps. The corrected step is $\eta$ from the first step.
#
# **Epsilon inside the root** ($\sqrt{\hat v_t + \varepsilon}$, decks 000 and 001) acts like an epsilon of
# $\sqrt{\varepsilon} = 10^{-4}$ outside: harmless while $|g| \gg 10^{-4}$, but Adam stops being invariant to
# the scale of the loss. On $s\,f$ with $s = 10^{-5}$ (gradients around $10^{-4}$) PyTorch's Adam follows
# the same path as on $f$; the variant slows down to SGD with learning rate $\eta/10^{-4}$.

# %%
steps_v = 200 if SMALL else 1000
x0 = (-4.0, 2.0)
variants = {v: adam_by_hand(quadratic, x0, steps_v, lr=0.05, variant=v)
            for v in ("pytorch", "no_bias_correction", "eps_inside")}
first = {v: np.abs(p[1] - p[0]) for v, p in variants.items()}
print("first step |dx|:", first)
assert np.allclose(first["pytorch"], 0.05, rtol=1e-6)
assert np.allclose(first["no_bias_correction"], 0.05 * 0.1 / np.sqrt(0.001), rtol=1e-4)

s = 1e-5


def scaled(p, y=None):
    return s * quadratic(p, y)


scaled_runs = {v: adam_by_hand(scaled, x0, steps_v, lr=0.05, variant=v) for v in ("pytorch", "eps_inside")}
ours_scaled = trajectory(lambda ps: torch.optim.Adam(ps, lr=0.05), scaled, x0, steps_v)
print("PyTorch Adam, f vs 1e-5 f: max path difference", np.abs(ours_scaled - variants["pytorch"]).max())
print("final distance to 0 on 1e-5 f:", {v: float(np.linalg.norm(p[-1])) for v, p in scaled_runs.items()})
assert np.abs(ours_scaled - variants["pytorch"]).max() < 0.05  # scale invariant (up to eps = 1e-8)
assert np.linalg.norm(scaled_runs["eps_inside"][-1]) > 5 * np.linalg.norm(scaled_runs["pytorch"][-1])

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 5))
tt = np.arange(1, 5001)
ratio_t = (1 - 0.9 ** tt) / np.sqrt(1 - 0.999 ** tt)
axes[0].semilogx(tt, ratio_t, color="C1")
axes[0].axhline(1, color="gray", ls=":")
k_peak = int(np.argmax(ratio_t))
axes[0].annotate(f"{ratio_t[k_peak]:.1f}x at t = {tt[k_peak]}", xy=(tt[k_peak], ratio_t[k_peak]),
                 xytext=(60, 5.5), arrowprops={"arrowstyle": "->"})
axes[0].set(xlabel="step t", ylabel="uncorrected / corrected step",
            title=r"step ratio $\frac{1-\beta_1^t}{\sqrt{1-\beta_2^t}}$ ($\beta_1 = 0.9$, $\beta_2 = 0.999$)")
n_show = min(150, steps_v)
axes[1].semilogy(np.linalg.norm(variants["pytorch"][:n_show], axis=1) + 1e-16, color="C0", lw=3, label="PyTorch Adam")
axes[1].semilogy(np.linalg.norm(variants["no_bias_correction"][:n_show], axis=1) + 1e-16, color="C1", ls="--",
                 label="no bias correction")
axes[1].set(xlabel="step", ylabel=r"$\|x - x^*\|$", title=r"on $x_1^2 + 4x_2^2$ (lr 0.05): larger early steps")
axes[1].legend()
fig.suptitle(f"Adam without bias correction: early steps up to {ratio_t.max():.1f}x too large")
fig.tight_layout()
savefig(fig, "adam_bias_correction")
plt.show()

# %%
fig, ax = plt.subplots(figsize=(9, 5))
d_f = np.linalg.norm(variants["pytorch"], axis=1) + 1e-16
d_s = np.linalg.norm(ours_scaled, axis=1) + 1e-16
d_e = np.linalg.norm(scaled_runs["eps_inside"], axis=1) + 1e-16
ax.semilogy(d_f, color="C0", lw=5, alpha=0.4, label=r"PyTorch Adam on $f$")
ax.semilogy(d_s, color="C0", ls="--", label=r"PyTorch Adam on $10^{-5} f$ (nearly the same path)")
ax.semilogy(d_e, color="C3", ls="-.", lw=2.5, label=r"$\sqrt{\hat v + \varepsilon}$ (slides) on $10^{-5} f$")
ax.annotate(f"stalls: {d_e[-1]:.1e} after {steps_v} steps", xy=(steps_v, d_e[-1]), xytext=(0.45 * steps_v, 1e-3 * d_e[-1]),
            arrowprops={"arrowstyle": "->"}, color="C3")
ax.set(xlabel="step", ylabel=r"distance to the minimum $\|x - x^*\|$",
       title=r"$\varepsilon$ inside the root: Adam is no longer invariant to the loss scale")
ax.legend(loc="lower left")
savefig(fig, "adam_variants")
plt.show()

# %% [markdown]
# ## 3. Momentum: PyTorch's convention against the slides'
#
# * PyTorch: $v \leftarrow \mu v + g$, $\;p \leftarrow p - \eta v$ (the velocity is a sum of gradients);
# * slides (deck 002, Sutskever et al.): $m \leftarrow \beta m - \eta g$, $\;p \leftarrow p + m$ (the velocity
#   is a sum of *steps*, each with the learning rate of its time).
#
# With a constant $\eta$, $m = -\eta v$ and the iterates agree. When the learning rate drops (here
# tenfold at step 30), PyTorch's whole velocity is rescaled at once, while the slides' velocity still
# carries steps taken with the old learning rate and fades out over about $1/(1-\mu)$ steps.

# %%
def momentum_by_hand(convention, x0, lr_at, steps, mu=0.9, fn=quadratic):
    x = np.array(x0, dtype=np.float64)
    v = np.zeros_like(x)
    path = [x.copy()]
    for k in range(steps):
        g = grad_of(fn, x)
        if convention == "pytorch":
            v = mu * v + g
            x = x - lr_at(k) * v
        else:  # slides
            v = mu * v - lr_at(k) * g
            x = x + v
        path.append(x.copy())
    return np.array(path)


def lr_at(k):
    return 0.02 if k < 30 else 0.002


n_mom = 80
hand_pt = momentum_by_hand("pytorch", (-4.0, 2.0), lr_at, n_mom)
hand_sl = momentum_by_hand("slides", (-4.0, 2.0), lr_at, n_mom)
p = torch.tensor([-4.0, 2.0], dtype=f64, requires_grad=True)
opt = torch.optim.SGD([p], lr=0.02, momentum=0.9)
ours_m = [p.detach().numpy().copy()]
for k in range(n_mom):
    for group in opt.param_groups:
        group["lr"] = lr_at(k)  # what a scheduler does
    opt.zero_grad()
    quadratic(p).backward()
    opt.step()
    ours_m.append(p.detach().numpy().copy())
ours_m = np.array(ours_m)

print("optim.SGD vs PyTorch convention by hand:", np.abs(ours_m - hand_pt).max())
print("before the drop, PyTorch vs slides:", np.abs(hand_pt[:31] - hand_sl[:31]).max())
print("after the drop, PyTorch vs slides:", np.abs(hand_pt[31:] - hand_sl[31:]).max())
assert np.abs(ours_m - hand_pt).max() < 1e-12
assert np.abs(hand_pt[:31] - hand_sl[:31]).max() < 1e-12
assert np.abs(hand_pt[31:] - hand_sl[31:]).max() > 1e-2

fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogy(np.linalg.norm(np.diff(hand_pt, axis=0), axis=1), label="PyTorch: v = mu v + g, p -= lr v")
ax.semilogy(np.linalg.norm(np.diff(hand_sl, axis=0), axis=1), "--", label="slides: m = mu m - lr g, p += m")
ax.axvline(30, color="gray", ls=":", label="lr / 10")
ax.set(xlabel="step", ylabel=r"$\|\Delta x\|$", title="momentum 0.9 with a learning-rate drop")
ax.legend()
savefig(fig, "momentum_conventions")
plt.show()

# %% [markdown]
# ## 4. Nesterov momentum in two forms
#
# The look-ahead form (decks 002, 004): $v_{t+1} = \rho v_t - \alpha\nabla f(x_t + \rho v_t)$,
# $x_{t+1} = x_t + v_{t+1}$ evaluates the gradient at a point the parameters never occupy. Deck 004
# changes variables to $\tilde x_t = x_t + \rho v_t$, which gives an update in terms of the gradient at
# the current parameters:
#
# ```
# dx = compute_gradient(x)
# old_v = v
# v = rho * v - learning_rate * dx
# x += -rho * old_v + (1 + rho) * v
# ```
#
# PyTorch's `SGD(nesterov=True)` ($v \leftarrow \mu v + g$, $p \leftarrow p - \eta(g + \mu v)$) is this
# second form with $v_{\text{slides}} = -\eta\, v_{\text{PyTorch}}$.

# %%
def nesterov_lookahead(x0, steps, lr, rho, fn=rosenbrock):
    x, v = np.array(x0, dtype=np.float64), np.zeros(2)
    xs, vs = [x.copy()], [v.copy()]
    for _ in range(steps):
        v = rho * v - lr * grad_of(fn, x + rho * v)
        x = x + v
        xs.append(x.copy())
        vs.append(v.copy())
    return np.array(xs), np.array(vs)


def nesterov_change_of_variables(x0, steps, lr, rho, fn=rosenbrock):
    x, v = np.array(x0, dtype=np.float64), np.zeros(2)
    xs = [x.copy()]
    for _ in range(steps):
        dx = grad_of(fn, x)
        old_v = v
        v = rho * v - lr * dx
        x = x + (-rho * old_v + (1 + rho) * v)
        xs.append(x.copy())
    return np.array(xs)


n_nag = 100 if SMALL else 400
x_la, v_la = nesterov_lookahead(start, n_nag, 5e-4, 0.9)
x_cv = nesterov_change_of_variables(start, n_nag, 5e-4, 0.9)
x_pt = trajectory(lambda ps: torch.optim.SGD(ps, lr=5e-4, momentum=0.9, nesterov=True), rosenbrock, start, n_nag)
print("change of variables vs optim.SGD(nesterov=True):", np.abs(x_cv - x_pt).max())
print("look-ahead x + rho v vs change of variables:", np.abs(x_la + 0.9 * v_la - x_cv).max())
assert np.abs(x_cv - x_pt).max() < 1e-10
assert np.abs(x_la + 0.9 * v_la - x_cv).max() < 1e-10

# %% [markdown]
# ## 5. GD against SGD on least squares
#
# Deck 000: $\min_w \|y - Xw\|^2$ with $X \in \mathbb{R}^{10000\times 500}$ (small mode: $2000 \times 100$),
# here as the mean squared residual with some noise so that the minimizer $w^\star$ (closed form,
# `lstsq`) has a positive loss. GD uses the whole data per step with $\eta = 1/\lambda_{\max}(H)$;
# minibatch SGD (batch 100, reshuffled each epoch) makes $n/100$ cheap steps per epoch with a constant
# learning rate. "By iteration GD is faster; by iteration of GD against epoch of SGD, SGD is faster:
# one epoch of SGD costs about one GD iteration."

# %%
n, d = (2000, 100) if SMALL else (10000, 500)
ls = make_least_squares(n_samples=n, n_features=d, noise=1.0, seed=0, dtype=f64)
X, y, w_star = ls["X"], ls["y"], ls["w_star"]
Xn, yn = X.numpy(), y.numpy()
H = 2 * Xn.T @ Xn / n
lr_gd = 1.0 / np.linalg.eigvalsh(H)[-1]
loss_star = ls["loss_star"]
print(f"n={n}, d={d}, lambda_max(H)={1 / lr_gd:.2f}, condition number {np.linalg.cond(H):.1f}, "
      f"loss at w* {loss_star:.4f}")


def mse(w):
    return ((X @ w - y) ** 2).mean()


def run_gd(iters):
    w = torch.zeros(d, dtype=f64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr_gd)
    losses, t0 = [float(mse(w))], time.perf_counter()
    for _ in range(iters):
        opt.zero_grad()
        loss = mse(w)
        loss.backward()
        opt.step()
        losses.append(float(mse(w).detach()))
    return w, np.array(losses), (time.perf_counter() - t0) / iters


B = 100
lr_sgd = 0.1 * B / (2 * d)  # well inside the stable range for a batch of B rows of norm^2 ~ d


def run_sgd(epochs, seed=0):
    w = torch.zeros(d, dtype=f64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr_sgd)
    gen = np.random.default_rng(seed)
    losses, elapsed = [float(mse(w))], 0.0
    for _ in range(epochs):
        perm = gen.permutation(n)
        for i in range(0, n, B):
            idx = torch.tensor(perm[i:i + B])
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = ((X[idx] @ w - y[idx]) ** 2).mean()
            loss.backward()
            opt.step()
            elapsed += time.perf_counter() - t0
            losses.append(float(mse(w).detach()))
    return w, np.array(losses), elapsed / (epochs * (n // B))


iters = 40 if SMALL else 60
w_gd, loss_gd, t_gd = run_gd(iters)
epochs = 5 if SMALL else 10
w_sgd, loss_sgd, t_sgd = run_sgd(epochs)
per_epoch = n // B
print(f"GD:  {t_gd * 1e3:.2f} ms per iteration (= per epoch)")
print(f"SGD: {t_sgd * 1e3:.3f} ms per iteration, {t_sgd * per_epoch * 1e3:.2f} ms per epoch "
      f"({per_epoch} iterations; flops per epoch = one GD iteration)")
rel = float((w_gd.detach() - w_star).norm() / w_star.norm())
print(f"GD after {iters} iterations: ||w - w*|| / ||w*|| = {rel:.2e}")

# %%
assert rel < 1e-6  # GD converges to the closed-form least-squares solution
assert abs(loss_gd[-1] - loss_star) < 1e-9 * loss_star
assert loss_gd[10] < loss_sgd[10]  # by iteration, GD is faster
assert loss_sgd[per_epoch] < loss_gd[1]  # by epoch of SGD against iteration of GD, SGD is faster
assert loss_sgd[-1] > loss_star * (1 + 1e-4)  # constant-lr SGD stalls at a medium accuracy

fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
axes[0].semilogy(np.maximum(loss_gd - loss_star, 1e-16), "o-", ms=3, label="GD")
axes[0].semilogy(loss_sgd[:iters + 1] - loss_star, label=f"SGD (batch {B})")
axes[0].set(xlabel="iteration", ylabel="loss - loss*", title="per iteration: GD is faster")
axes[1].semilogy(np.maximum(loss_gd - loss_star, 1e-16), "o-", ms=3, label="GD (x: iterations)")
axes[1].semilogy(np.arange(len(loss_sgd)) / per_epoch, loss_sgd - loss_star, label="SGD (x: epochs)")
axes[1].set(xlabel="GD iterations / SGD epochs", xlim=(0, min(iters, 3 * epochs)),
            title="per epoch: SGD is faster to a medium accuracy")
for ax in axes:
    ax.legend()
savefig(fig, "gd_vs_sgd")
plt.show()

# %% [markdown]
# The wall time per SGD epoch is larger than its flop count suggests: each of its `n/B` steps pays the
# framework's fixed per-op cost (tens of microseconds in Python) on a tiny matrix product. That fixed
# cost is why frameworks like larger batches on fast hardware.
#
# ## 6. Newton's method and L-BFGS
#
# Newton's step solves $H\,\Delta = -\nabla f$. On a neural network $H$ is never formed: autograd gives
# the Hessian-vector product $Hv = \nabla(\nabla f \cdot v)$ for the cost of about two gradients
# (`torch.autograd.hvp`), and conjugate gradient solves $H\Delta = -g$ with products only. First, the
# products against Rosenbrock's Hessian by hand:
#
# $$H = \begin{pmatrix} 2 - 400(y - 3x^2) & -400x \\ -400x & 200 \end{pmatrix}$$

# %%
def rosen_hessian(x, y):
    return np.array([[2 - 400 * (y - 3 * x ** 2), -400 * x], [-400 * x, 200.0]])


pt = torch.tensor([-1.5, 2.0], dtype=f64)
vec = torch.tensor([0.3, -0.7], dtype=f64)
_, hv = torch.autograd.hvp(rosenbrock, pt, vec)
print("H v by autograd:", hv.numpy(), " by hand:", rosen_hessian(-1.5, 2.0) @ vec.numpy())
assert np.allclose(hv.numpy(), rosen_hessian(-1.5, 2.0) @ vec.numpy(), rtol=1e-12)
assert np.allclose(torch.autograd.hessian(rosenbrock, pt).numpy(), rosen_hessian(-1.5, 2.0), rtol=1e-12)


def conjugate_gradient(hvp_fn, b, iters=50, tol=1e-10):
    """Solve H x = b with Hessian-vector products only (H symmetric positive definite)."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rs = float((r * r).sum())
    for _ in range(iters):
        Hp = hvp_fn(p)
        alpha = rs / float((p * Hp).sum())
        x = x + alpha * p
        r = r - alpha * Hp
        rs_new = float((r * r).sum())
        if rs_new ** 0.5 < tol:
            break
        p = r + (rs_new / rs) * p
        rs = rs_new
    return x


def newton_cg(fn, x0, steps, tol=1e-10):
    """Newton's method with the step from CG on Hessian-vector products; returns the path."""
    x = torch.tensor(x0, dtype=f64)
    path = [x.numpy().copy()]
    for _ in range(steps):
        xg = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(xg), xg)
        if float(g.norm()) < tol:
            break
        step = conjugate_gradient(lambda v: torch.autograd.hvp(fn, x, v)[1], -g)
        x = x + step
        path.append(x.numpy().copy())
    return np.array(path)


newton_path = newton_cg(rosenbrock, start, 50)
print(f"Newton-CG: {len(newton_path) - 1} steps to (1, 1); last point {newton_path[-1]}")
assert np.allclose(newton_path[-1], (1.0, 1.0), atol=1e-10) and len(newton_path) - 1 <= 15

# the library's optimizer does the same: NewtonCG's closure returns the loss (it differentiates twice)
p = torch.tensor(start, dtype=f64, requires_grad=True)
newton = torch.optim.NewtonCG([p])
lib_path = [p.detach().numpy().copy()]
for _ in range(len(newton_path) - 1):
    newton.step(lambda: rosenbrock(p))
    lib_path.append(p.detach().numpy().copy())
print("optim.NewtonCG vs the hand version:", np.abs(np.array(lib_path) - newton_path).max())
assert np.abs(np.array(lib_path) - newton_path).max() < 1e-8

# %% [markdown]
# L-BFGS (`torch.optim.LBFGS`) builds a low-rank inverse-Hessian estimate from the last few gradient
# differences. It needs a closure because its line search evaluates the function several times per
# iteration; one `step(closure)` runs up to `max_iter` iterations. The closure records every point
# it is called at.

# %%
p = torch.tensor(start, dtype=f64, requires_grad=True)
lbfgs = torch.optim.LBFGS([p], lr=1, max_iter=200, history_size=10, tolerance_grad=1e-12,
                          tolerance_change=1e-15, line_search_fn="strong_wolfe")
lbfgs_path = []


def closure():
    lbfgs.zero_grad()
    loss = rosenbrock(p)
    loss.backward()
    lbfgs_path.append(p.detach().numpy().copy())
    return loss


lbfgs.step(closure)
lbfgs_path = np.array(lbfgs_path)
n_iter = lbfgs.state[p]["n_iter"] if "n_iter" in lbfgs.state[p] else None
print(f"L-BFGS: {n_iter} iterations, {len(lbfgs_path)} function evaluations, last point {p.detach().numpy()}")
assert np.linalg.norm(p.detach().numpy() - 1.0) < 1e-8 and len(lbfgs_path) < 100

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
contour(axes[0], TEST_FUNCTIONS["rosenbrock"], np.logspace(-1, 3.5, 20))
axes[0].plot(*newton_path.T, "o-", label=f"Newton-CG ({len(newton_path) - 1} steps)")
axes[0].plot(*lbfgs_path.T, "s-", ms=3, label=f"L-BFGS ({len(lbfgs_path)} evaluations)")
axes[0].plot(*paths["rosenbrock"]["Adam"].T, "-", lw=1, label=f"Adam ({len(paths['rosenbrock']['Adam']) - 1} steps)")
axes[0].legend()
for label, pth in (("Newton-CG", newton_path), ("L-BFGS", lbfgs_path), ("Adam", paths["rosenbrock"]["Adam"]),
                   ("momentum 0.9", paths["rosenbrock"]["momentum 0.9"])):
    axes[1].semilogy(np.maximum(rosenbrock(pth[:, 0], pth[:, 1]), 1e-30), label=label)
axes[1].set(xscale="log", xlabel="step", ylabel="f", title="Rosenbrock: second order vs first order")
axes[1].legend()
savefig(fig, "newton_lbfgs")
plt.show()

# %% [markdown]
# ## 7. SAM: sharpness-aware minimization
#
# SAM (Foret et al., 2021) minimizes $\max_{\|\epsilon\| \le \rho} f(w + \epsilon)$. One step: climb to
# $w + \hat\epsilon$ with $\hat\epsilon = \rho\, g / \|g\|$, take the gradient there, and apply it at $w$
# with the base optimizer.
#
# A landscape with a whole valley of minima of different sharpness: $f(u, v) = (uv - 1)^2$. Every
# point with $uv = 1$ is a global minimum, and the Hessian's largest eigenvalue there is
# $2(u^2 + v^2)$: the balanced minimum $u = v = 1$ is the flattest (sharpness 4). Gradient descent from
# an unbalanced start keeps $u^2 - v^2$ almost unchanged (exactly, under gradient flow) and lands on a
# sharp minimum; SAM's ascent step sees the sharpness and drifts along the valley to flatter minima.

# %%
def factorization(p, y=None):
    u, v = (p[..., 0], p[..., 1]) if y is None else (p, y)
    return (u * v - 1) ** 2


def sam_by_hand(start, steps, lr, rho, fn=factorization):
    """SAM with plain SGD as the base optimizer, four lines per step."""
    w = torch.tensor(start, dtype=f64, requires_grad=True)
    path = [w.detach().numpy().copy()]
    for _ in range(steps):
        (g,) = torch.autograd.grad(fn(w), w)
        e = rho * g / (g.norm() + 1e-12)  # climb to the worst point of the rho-ball (first order)
        (g_sam,) = torch.autograd.grad(fn(w + e), w)  # the gradient there ...
        with torch.no_grad():
            w -= lr * g_sam  # ... applied at w
        path.append(w.detach().numpy().copy())
    return np.array(path)


def sharpness(point, fn=factorization):
    """Largest eigenvalue of the Hessian at ``point`` (autograd Hessian)."""
    return float(np.linalg.eigvalsh(torch.autograd.hessian(fn, torch.tensor(point, dtype=f64)).numpy())[-1])


sam_start, n_sam = (2.5, 0.1), 300 if SMALL else 1000
gd_path = trajectory(lambda ps: torch.optim.SGD(ps, lr=0.02), factorization, sam_start, n_sam)
sam_path = sam_by_hand(sam_start, n_sam, lr=0.02, rho=0.2)
for label, pth in (("GD", gd_path), ("SAM", sam_path)):
    print(f"{label}: ends at {pth[-1]}, loss {factorization(*pth[-1]):.1e}, sharpness {sharpness(pth[-1]):.2f}")
assert factorization(*gd_path[-1]) < 1e-10 and factorization(*sam_path[-1]) < 1e-2  # both found the valley
assert sharpness(sam_path[-1]) < 0.5 * sharpness(gd_path[-1])  # SAM's minimum is much flatter

# torch.optim.SAM (closure called twice per step) follows the hand-written path
p = torch.tensor(sam_start, dtype=f64, requires_grad=True)
sam = torch.optim.SAM([p], torch.optim.SGD, rho=0.2, lr=0.02)


def sam_closure():
    sam.zero_grad()
    loss = factorization(p)
    loss.backward()
    return loss


lib_sam = [p.detach().numpy().copy()]
for _ in range(n_sam):
    sam.step(sam_closure)
    lib_sam.append(p.detach().numpy().copy())
print("optim.SAM vs the hand version:", np.abs(np.array(lib_sam) - sam_path).max())
assert np.abs(np.array(lib_sam) - sam_path).max() < 1e-10

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
us, vs = np.meshgrid(np.linspace(0, 3, 300), np.linspace(0, 2, 200))
axes[0].contour(us, vs, factorization(us, vs), levels=np.logspace(-3, 1, 15), colors="lightgray")
uu = np.linspace(0.5, 3, 100)
axes[0].plot(uu, 1 / uu, "k:", label="minima uv = 1")
axes[0].plot(*gd_path.T, ".-", ms=2, label="GD")
axes[0].plot(*sam_path.T, ".-", ms=2, label="SAM (rho 0.2)")
axes[0].plot(1, 1, "k*", ms=12)
axes[0].set(xlabel="u", ylabel="v", title=r"$f = (uv - 1)^2$", xlim=(0, 3), ylim=(0, 2))
axes[0].legend()
every = max(1, n_sam // 50)
for label, pth in (("GD", gd_path), ("SAM", sam_path)):
    axes[1].plot(np.arange(0, len(pth), every), [sharpness(x) for x in pth[::every]], label=label)
axes[1].axhline(4, color="gray", ls=":", label="flattest minimum (u = v = 1)")
axes[1].set(xlabel="step", ylabel="largest Hessian eigenvalue", title="sharpness along the path")
axes[1].legend()
savefig(fig, "sam")
plt.show()
