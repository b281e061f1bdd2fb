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
# # 1. From hand-written gradients to autograd
#
# Deck 000 ("Training DNNs: Basic Methods and Tricks") fits the cubic
# $y = a + b x + c x^2 + d x^3$ to $\sin x$ on $x \in [-\pi, \pi]$ (2000 points, sum of squared
# errors, 2000 steps, loss printed every 100 steps), five times, each time letting the library do
# more of the work:
#
# 1. raw tensors, **gradients derived by hand**;
# 2. **autograd**: `requires_grad=True`, `loss.backward()`, an update under `torch.no_grad()`;
# 3. **`torch.nn`**: `nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))` and `nn.MSELoss(reduction='sum')`;
# 4. a built-in **optimizer**: `optim.RMSprop(lr=1e-3)`;
# 5. a **custom `nn.Module`** with four `nn.Parameter`s.
#
# Every snippet is the slide's code with one change: `import tinygrad_dnn as torch`.
# Along the way we check the claim the whole course rests on: *autograd computes the same
# gradients we derive by hand* (and that finite differences agree).
#
# **Errata of the slides** (the code below is fixed; see also the course's `curriculum.md`):
#
# * the autograd slide loops with `for t in xrange(2000)`: `xrange` is Python 2, it is `range`;
# * the `torch.nn` slide's comment says it prepares "the tensor (y, x^2, x^3)": it is $(x, x^2, x^3)$
#   (the constant term $a$ is the bias of `nn.Linear`);
# * on the optimizer slide `optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()` are printed
#   *after* the loop, at indentation 0: as printed the model would take one step after 2000 forward
#   passes. They belong inside the loop;
# * the custom-`Module` slide stops at `model = Polynomial3()`; the training loop is the one of the
#   PyTorch tutorial the slide comes from (`MSELoss(reduction='sum')`, `SGD(lr=1e-6)`), and the
#   `string()` f-string is broken over two lines by the slide layout.

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
import numpy as np  # only for the closed-form reference solution and plotting

import tinygrad_dnn as torch
from tinygrad_dnn.gradcheck import numerical_grad, rel_error

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/01_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"01_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


# This notebook is cheap (2000 steps take well under a second), so SMALL only prints less.
STEPS = 2000
SEED = 0
losses = {}  # version name -> loss at every step, for the plot at the end

# %% [markdown]
# ## The best cubic, for reference
#
# The loss is a least-squares problem, so its minimum is known in closed form:
# with $X = [1, x, x^2, x^3]$, $w^* = \arg\min_w \|Xw - y\|^2$. Gradient descent should approach it.

# %%
xs = np.linspace(-math.pi, math.pi, 2000)
X_np = np.stack([xs ** 0, xs, xs ** 2, xs ** 3], axis=1)
w_star, *_ = np.linalg.lstsq(X_np, np.sin(xs), rcond=None)
best_loss = float(((X_np @ w_star - np.sin(xs)) ** 2).sum())
print("best cubic: y = %.4f + %.4f x + %.4f x^2 + %.4f x^3, loss %.3f" % (*w_star, best_loss))
# The reference comes from NumPy; what we check is the library. (1) Its normal-equations solve,
# torch.linalg.solve(X^T X, X^T y), finds the same w*; (2) autograd's gradient of the loss vanishes at w*
# (the optimality condition 2 X^T (X w* - y) = 0), relative to its size at w = 0. A wrong matmul,
# transpose or pow backward breaks one of them. Measured: 2e-15 and 4e-16 relative; thresholds 1e-9.
X_t, y_t = torch.tensor(X_np), torch.tensor(np.sin(xs))
w_solve = torch.linalg.solve(X_t.T @ X_t, X_t.T @ y_t).numpy()
print(f"torch.linalg.solve of the normal equations: max |w - w*| = {np.abs(w_solve - w_star).max():.1e}")
assert np.abs(w_solve - w_star).max() < 1e-9 * np.abs(w_star).max()
grads = []
for w0_ in (w_star, np.zeros(4)):
    w_t = torch.tensor(w0_, requires_grad=True)
    ((X_t @ w_t - y_t) ** 2).sum().backward()
    grads.append(np.abs(w_t.grad.numpy()).max())
print(f"autograd: max |dL/dw| at w* = {grads[0]:.1e}, at 0 = {grads[1]:.1e}")
assert grads[0] < 1e-9 * grads[1]

# %% [markdown]
# ## Version 1: gradients by hand
#
# With $r_i = \hat y_i - y_i$ and $L = \sum_i r_i^2$:
# $\partial L/\partial a = \sum 2 r_i$, $\partial L/\partial b = \sum 2 r_i x_i$,
# $\partial L/\partial c = \sum 2 r_i x_i^2$, $\partial L/\partial d = \sum 2 r_i x_i^3$.

# %%
dtype = torch.float
device = torch.device("cpu")
torch.manual_seed(SEED)

# Create random input and output data
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# Randomly initialize weights
a = torch.randn(1, device=device, dtype=dtype)
b = torch.randn(1, device=device, dtype=dtype)
c = torch.randn(1, device=device, dtype=dtype)
d = torch.randn(1, device=device, dtype=dtype)
init = [a.item(), b.item(), c.item(), d.item()]  # versions 1 and 2 start from the same point

losses["1 manual gradients"] = []
learning_rate = 1e-6
for t in range(STEPS):
    # Forward pass: compute predicted y
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss
    loss = (y_pred - y).pow(2).sum().item()
    losses["1 manual gradients"].append(loss)
    if t % 100 == 99 and (not SMALL or t % 500 == 499):
        print(t, loss)

    # Backprop to compute gradients of a, b, c, d with respect to loss
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()

    # Update weights using gradient descent
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d

print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
manual_result = [a.item(), b.item(), c.item(), d.item()]

# %% [markdown]
# The loss falls by orders of magnitude to near the best cubic; the even coefficients $a, c$ head to
# zero (slowly: the constant and $x^2$ features are strongly correlated, a badly conditioned direction).

# %%
L1 = losses["1 manual gradients"]
assert L1[-1] < 1e-2 * L1[0] and L1[-1] < 1.5 * best_loss
assert abs(manual_result[0]) < 0.2 and abs(manual_result[2]) < 0.05
assert abs(manual_result[1] - w_star[1]) < 0.05 and abs(manual_result[3] - w_star[3]) < 0.01

# %% [markdown]
# ## Three ways to get the derivative, compared
#
# Before trusting `backward()`, compare at one point: the formulas above, central finite differences
# (`tinygrad_dnn.gradcheck.numerical_grad`) and autograd. We do it in float64, where finite
# differences are accurate to about 1e-9 relative (notebook 3 explains why float32 is not enough).

# %%
x64 = torch.linspace(-math.pi, math.pi, 2000, dtype=torch.float64)
y64 = torch.sin(x64)
w = torch.tensor(init, dtype=torch.float64, requires_grad=True)  # w = (a, b, c, d)


def cubic_loss(w):
    return (w[0] + w[1] * x64 + w[2] * x64 ** 2 + w[3] * x64 ** 3 - y64).pow(2).sum()


# by hand
r2 = 2.0 * (w.detach()[0] + w.detach()[1] * x64 + w.detach()[2] * x64 ** 2 + w.detach()[3] * x64 ** 3 - y64)
by_hand = torch.stack([r2.sum(), (r2 * x64).sum(), (r2 * x64 ** 2).sum(), (r2 * x64 ** 3).sum()])
# finite differences
numeric = numerical_grad(cubic_loss, w.detach(), eps=1e-6)
# autograd
cubic_loss(w).backward()
by_autograd = w.grad

print("by hand    ", by_hand.tolist())
print("numerical  ", numeric.tolist())
print("autograd   ", by_autograd.tolist())
print("rel error autograd vs hand: %.2e, vs numerical: %.2e"
      % (rel_error(by_autograd, by_hand), rel_error(by_autograd, numeric)))
assert rel_error(by_autograd, by_hand) < 1e-12
assert rel_error(by_autograd, numeric) < 1e-7

# %% [markdown]
# ## Version 2: autograd and a `no_grad` update
#
# The weights now have `requires_grad=True`; `loss.backward()` fills `a.grad, ..., d.grad`.
# The update runs under `torch.no_grad()` (it must not be recorded), and the gradients are reset to
# `None`, because `backward()` *accumulates* into `.grad`.

# %%
dtype = torch.float
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.set_default_device(device)
torch.manual_seed(SEED)

# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)

# Create random Tensors for weights, with requires_grad=True.
a = torch.randn(1, dtype=dtype, requires_grad=True)
b = torch.randn(1, dtype=dtype, requires_grad=True)
c = torch.randn(1, dtype=dtype, requires_grad=True)
d = torch.randn(1, dtype=dtype, requires_grad=True)
assert [a.item(), b.item(), c.item(), d.item()] == init  # same seed, same start as version 1

losses["2 autograd + no_grad"] = []
learning_rate = 1e-6
for t in range(STEPS):  # the slide says xrange (Python 2)
    # Forward pass: compute predicted y using operations on Tensors.
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss using operations on Tensors.
    loss = (y_pred - y).pow(2).sum()
    losses["2 autograd + no_grad"].append(loss.item())
    if t % 100 == 99 and (not SMALL or t % 500 == 499):
        print(t, loss.item())

    # Use autograd to compute the backward pass.
    loss.backward()

    # Manually update weights using gradient descent, without recording it in the graph.
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

    # Manually zero the gradients after updating weights
    a.grad = None
    b.grad = None
    c.grad = None
    d.grad = None

print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
torch.set_default_device(None)

# %% [markdown]
# Same start, same learning rate: if autograd's gradients equal the hand-derived ones, the two runs
# follow the same trajectory for 2000 steps (up to float32 rounding).

# %%
autograd_result = [a.item(), b.item(), c.item(), d.item()]
np.testing.assert_allclose(autograd_result, manual_result, rtol=1e-4, atol=1e-6)
np.testing.assert_allclose(losses["2 autograd + no_grad"], losses["1 manual gradients"], rtol=1e-4)
assert a.grad is None and a.requires_grad and a.is_leaf  # the no_grad update kept a a leaf

# %% [markdown]
# ## Version 3: `torch.nn` and `MSELoss(reduction='sum')`
#
# The model $y = [a\ b\ c\ d]^T [1\ x\ x^2\ x^3]$ is a linear layer on the features $(x, x^2, x^3)$;
# its bias plays $a$. `nn.Flatten(0, 1)` turns the (2000, 1) output into shape (2000,) like `y`.

# %%
torch.manual_seed(SEED)

# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# Prepare the tensor (x, x^2, x^3) (the slide's comment says "(y, x^2, x^3)").
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
assert tuple(xx.shape) == (2000, 3)

model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
loss_fn = torch.nn.MSELoss(reduction='sum')

# The gradient of the sum loss w.r.t. the layer is the hand formula again: 2 r^T [x, x^2, x^3] and sum 2 r.
linear = model[0]
r = model(xx) - y
loss_fn(model(xx), y).backward()
np.testing.assert_allclose(linear.weight.grad.reshape(-1).tolist(), (2 * r.detach() @ xx).tolist(), rtol=1e-4)
np.testing.assert_allclose(linear.bias.grad.tolist(), [(2 * r.detach()).sum().item()], rtol=1e-4, atol=1e-3)

losses["3 nn.Linear + MSELoss"] = []
learning_rate = 1e-6
for t in range(STEPS):
    # Forward pass: compute predicted y by passing x to the model.
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    losses["3 nn.Linear + MSELoss"].append(loss.item())
    if t % 100 == 99 and (not SMALL or t % 500 == 499):
        print(t, loss.item())

    # Zero the gradients before running the backward pass.
    model.zero_grad()

    # Backward pass: gradients of the loss with respect to all learnable parameters.
    loss.backward()

    # Update the weights using gradient descent.
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

print(f'Result: y = {linear.bias.item()} + {linear.weight[:, 0].item()} x + '
      f'{linear.weight[:, 1].item()} x^2 + {linear.weight[:, 2].item()} x^3')

# %%
L3 = losses["3 nn.Linear + MSELoss"]
assert len(list(model.parameters())) == 2  # weight (1, 3) and bias (1,)
assert L3[-1] < L3[0] and L3[-1] < 1.5 * best_loss

# %% [markdown]
# ## Version 4: a built-in optimizer, `RMSprop(lr=1e-3)`
#
# `optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()` inside the loop (the slide prints
# them after it). RMSprop divides each gradient by a running RMS of its past values, so every
# parameter moves by about `lr` per step regardless of the scale of its feature ($x^3$ reaches 31,
# $1$ does not): the learning rate can be 1000x larger than plain gradient descent's.

# %%
torch.manual_seed(SEED)

# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# Prepare the tensor (x, x^2, x^3).
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
loss_fn = torch.nn.MSELoss(reduction='sum')

losses["4 RMSprop"] = []
learning_rate = 1e-3
optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
for t in range(STEPS):
    # Forward pass: compute predicted y by passing x to the model.
    y_pred = model(xx)

    # Compute and print loss.
    loss = loss_fn(y_pred, y)
    losses["4 RMSprop"].append(loss.item())
    if t % 100 == 99 and (not SMALL or t % 500 == 499):
        print(t, loss.item())

    optimizer.zero_grad()  # on the slide these three lines are outside the loop

    # Backward pass: compute gradient of the loss with respect to model parameters
    loss.backward()

    # Calling the step function on an Optimizer makes an update to its parameters
    optimizer.step()

linear = model[0]
print(f'Result: y = {linear.bias.item()} + {linear.weight[:, 0].item()} x + '
      f'{linear.weight[:, 1].item()} x^2 + {linear.weight[:, 2].item()} x^3')

# %%
L4 = losses["4 RMSprop"]
assert L4[-1] < L4[0] and L4[-1] < 1.5 * best_loss
assert abs(linear.weight[:, 0].item() - w_star[1]) < 0.05

# %% [markdown]
# ## Version 5: a custom `nn.Module`
#
# `nn.Parameter`s assigned as attributes are registered automatically, so `model.parameters()`
# yields `a, b, c, d`; any Tensor expression can go in `forward`.

# %%
class Polynomial3(torch.nn.Module):
    def __init__(self):
        """
        In the constructor we instantiate four parameters and assign them as
        member parameters.
        """
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(1))
        self.b = torch.nn.Parameter(torch.randn(1))
        self.c = torch.nn.Parameter(torch.randn(1))
        self.d = torch.nn.Parameter(torch.randn(1))

    def forward(self, x):
        """
        In the forward function we accept a Tensor of input data and we must return
        a Tensor of output data. We can use Modules defined in the constructor as
        well as arbitrary operators on Tensors.
        """
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        """
        Just like any class in Python, you can also define custom method on PyTorch modules
        """
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'


torch.manual_seed(SEED)

# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# Construct our model by instantiating the class defined above
model = Polynomial3()
assert [n for n, _ in model.named_parameters()] == ["a", "b", "c", "d"]
assert [q.item() for q in model.parameters()] == init  # same seed: the same start as versions 1 and 2

# (From here on the slide is cut off; this is the PyTorch tutorial's continuation.)
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
losses["5 Polynomial3 module + SGD"] = []
for t in range(STEPS):
    # Forward pass: Compute predicted y by passing x to the model
    y_pred = model(x)

    # Compute and print loss
    loss = criterion(y_pred, y)
    losses["5 Polynomial3 module + SGD"].append(loss.item())
    if t % 100 == 99 and (not SMALL or t % 500 == 499):
        print(t, loss.item())

    # Zero gradients, perform a backward pass, and update the weights.
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print(f'Result: {model.string()}')

# %% [markdown]
# Plain SGD on the same loss from the same start is version 1 again, so the module reproduces the
# hand-written run:

# %%
np.testing.assert_allclose([q.item() for q in model.parameters()], manual_result, rtol=1e-4, atol=1e-6)
np.testing.assert_allclose(losses["5 Polynomial3 module + SGD"], losses["1 manual gradients"], rtol=1e-4)

# %% [markdown]
# ## Loss curves and fits

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
styles = {"1 manual gradients": "-", "2 autograd + no_grad": ":", "3 nn.Linear + MSELoss": "-",
          "4 RMSprop": "-", "5 Polynomial3 module + SGD": "--"}
for name, L in losses.items():
    ax1.plot(range(1, len(L) + 1), L, styles[name], label=name, lw=2 if styles[name] != "-" else 1.5)
ax1.axhline(best_loss, color="k", lw=0.8, ls="-.", label=f"best cubic ({best_loss:.2f})")
ax1.set(xscale="log", yscale="log", xlabel="step", ylabel="sum of squared errors",
        title="Cubic fit of sin: five versions")
ax1.legend()

with torch.no_grad():
    ax2.plot(xs, np.sin(xs), "k", lw=3, alpha=0.3, label="sin x")
    ax2.plot(xs, X_np @ np.array(manual_result), label="versions 1, 2, 5 (GD)")
    rms_fit = (xx @ linear.weight.T + linear.bias).reshape(-1).tolist()
    ax2.plot(xs, rms_fit, "--", label="version 4 (RMSprop)")
    ax2.plot(xs, X_np @ w_star, ":", label="best cubic")
ax2.set(xlabel="x", ylabel="y", title="The fitted cubics")
ax2.legend()
fig.tight_layout()
savefig(fig, "loss_curves")
plt.show()

# %% [markdown]
# ## Take-aways
#
# * Autograd returns exactly the gradients derived by hand (relative error ~1e-16 in float64), and
#   finite differences agree to ~1e-9: the three ways of the slide give the same numbers.
# * Versions 1, 2 and 5 are the same algorithm (gradient descent, lr 1e-6) and follow the same
#   trajectory; the library only removes the bookkeeping.
# * With a sum loss, the gradient grows with the number of points and with the feature scale
#   ($x^3$ up to 31), so plain GD needs a tiny learning rate; RMSprop's per-parameter scaling lets it
#   use 1e-3.
