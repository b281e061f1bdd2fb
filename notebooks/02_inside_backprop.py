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
# # 2. Inside backprop
#
# `loss.backward()` is a short algorithm: the forward pass records a **graph** of operations; the
# backward pass visits it in **reverse topological order**, and each node turns the gradient of its
# output into gradients of its inputs with a **vector-Jacobian product** (VJP), never building a
# Jacobian. This notebook opens the box:
#
# 1. the graph, printed and drawn (`tinygrad_dnn.autograd.to_text / to_dot / to_mermaid`);
# 2. topological order, and a 20-line backward engine that reproduces `backward()`;
# 3. VJPs, and un-broadcasting (`tinygrad_dnn.autograd.trace_backward`);
# 4. forward versus reverse mode: building a Jacobian takes `n_in` JVPs or `n_out` VJPs (timed);
# 5. the lecture's two-layer gradient formula, checked against autograd, and why $W = 0$ does not move;
# 6. the delta recursion $\delta^{\ell-1} = \sigma'(x^{\ell-1}) \odot (A^\ell)^\top \delta^\ell$, by hand,
#    and vanishing gradients.
#
# Lecture erratum (deck 001, "A visualization of back-prop"): the slide writes
# $\delta^\ell = \partial E / \partial A^\ell$; the gradient of the weights is
# $\partial E/\partial A^\ell = \delta^\ell\, \sigma(x^{\ell-1})^\top$ (an outer product with the
# layer's input), while $\delta^\ell = \partial E / \partial x^\ell = \partial E / \partial b^\ell$.

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
import re
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np  # only for timing statistics and plotting

import tinygrad_dnn as torch
from tinygrad_dnn.autograd import jacobian, jvp, to_dot, to_mermaid, to_text, trace_backward, vjp
from tinygrad_dnn.gradcheck import rel_error

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/02_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"02_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


torch.manual_seed(0)

# %% [markdown]
# ## 1. The graph
#
# A two-layer network and its squared loss. Only tensors with `requires_grad=True` (the weights)
# become leaves of the graph; the data `x, y` are constants. Each op's output carries `grad_fn`, the
# node that knows how to send gradients back to the op's inputs (`grad_fn.next`).

# %%
W1 = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
W2 = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
x = torch.randn(3, 5, dtype=torch.float64)  # 5 samples as columns
y = torch.randn(2, 5, dtype=torch.float64)

loss = ((y - W2 @ (W1 @ x).tanh()) ** 2).mean()
names = {"W1": W1, "W2": W2}
print(to_text(loss, names))

# %%
print(to_mermaid(loss, names))  # paste into any Mermaid renderer (GitHub Markdown, JupyterLab >= 4.1)

# %% [markdown]
# `to_dot` returns Graphviz text. No Graphviz binary is needed to look at it: the helper below lays the
# DOT text out with matplotlib (leaves at the bottom, the output on top; an arrow is the direction of
# the forward pass, gradients flow the other way).

# %%
def draw_dot(dot, ax, title=""):
    """Draw the DOT text from ``to_dot`` (nodes, labels, edges) in layers by longest path from a leaf."""
    labels = dict(re.findall(r'^\s*(\w+) \[label="([^"]*)"', dot, re.M))
    edges = re.findall(r"^\s*(\w+) -> (\w+);", dot, re.M)
    preds = {n: [] for n in labels}
    for a, b in edges:
        preds[b].append(a)
    level = {}

    def lev(n):
        if n not in level:
            level[n] = 0 if not preds[n] else 1 + max(lev(p) for p in preds[n])
        return level[n]

    for n in labels:
        lev(n)
    for n in labels:  # draw each leaf just below its first consumer
        if not preds[n]:
            level[n] = min(level[b] for a, b in edges if a == n) - 1
    rows = {}
    for n in labels:
        rows.setdefault(level[n], []).append(n)
    pos = {n: (i - (len(ns) - 1) / 2, lv) for lv, ns in rows.items() for i, n in enumerate(ns)}
    for a, b in edges:
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops=dict(arrowstyle="->", color="gray", shrinkA=12, shrinkB=12))
    for n, (px, py) in pos.items():
        color = "lightgreen" if n == "out" else ("lightblue" if not preds[n] else "white")
        ax.text(px, py, labels[n], ha="center", va="center", fontsize=12,
                bbox=dict(boxstyle="round", fc=color, ec="gray"))
    width = max(len(ns) for ns in rows.values())
    ax.set(xlim=(-width / 2 - 0.5, width / 2 + 0.5), ylim=(min(rows) - 0.6, max(rows) + 0.6), title=title)
    ax.axis("off")
    return level


dot = to_dot(loss, names)
fig, ax = plt.subplots(figsize=(6, 6))
draw_dot(dot, ax, "graph of ((y - W2 tanh(W1 x))^2).mean()")
savefig(fig, "graph")
plt.show()

# %% [markdown]
# Every op of the forward pass appears once, and both weights are leaves:

# %%
node_names = re.findall(r'\[label="(\w+Backward)"\]', dot)
print(sorted(node_names))
assert sorted(node_names) == sorted(["MeanBackward", "PowScalarBackward", "SubBackward", "MatMulBackward",
                                     "TanhBackward", "MatMulBackward"]), node_names
assert "W1 (4, 3)" in dot and "W2 (2, 4)" in dot

# %% [markdown]
# ## 2. Topological order and a backward engine in 20 lines
#
# A node may send its gradient only once it has received the gradients from *all* of its consumers
# (the sum rule). A depth-first search that appends a node after everything it feeds into gives such
# an order (reverse topological order of the forward graph). The example below shares `z` between two
# branches, so `MulBackward` must wait for both `TanhBackward` and `ExpBackward`.

# %%
def topo_order(out):
    """Nodes behind ``out``, each before the nodes it sends gradients to."""
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for nxt in node.next:  # the nodes (or leaf tensors) of the op's inputs
            if nxt is not None and not isinstance(nxt, torch.Tensor):
                visit(nxt)
        order.append(node)

    visit(out.grad_fn)
    return order[::-1]


a = torch.randn(3, dtype=torch.float64, requires_grad=True)
w = torch.randn(3, dtype=torch.float64, requires_grad=True)
z = a * w
out = (z.tanh() + z.exp()).sum()
print(to_text(out, {"a": a, "w": w}))
order = topo_order(out)
print("my order:    ", [n.name() for n in order])

trace = []
with trace_backward(printer=trace.append):
    out.backward(retain_graph=True)
engine_order = [line.split(":")[0] for line in trace]
print("engine order:", engine_order)
assert [n.name() for n in order][:2] == ["SumBackward", "AddBackward"] and order[-1].name() == "MulBackward"
assert engine_order.index("MulBackward") > max(engine_order.index("TanhBackward"), engine_order.index("ExpBackward"))
assert engine_order.count("MulBackward") == 1  # visited once, with the two gradients already summed


# %% [markdown]
# Now the engine itself. Each node's `fn.backward(ctx, grad)` is the op's VJP; the engine only routes
# and sums gradients, and sums a broadcast gradient down to the input's shape (section 3).

# %%
def my_backward(out):
    """Return {leaf tensor id: gradient} for a scalar ``out``: what ``out.backward()`` computes."""
    grads = {out.grad_fn: torch.ones_like(out)}
    leaf_grads = {}
    for node in topo_order(out):
        g = grads.pop(node)
        in_grads = node.fn.backward(node, g)  # the op's vector-Jacobian product
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for nxt, shape, gi in zip(node.next, node.in_shapes, in_grads):
            if nxt is None or gi is None:
                continue
            while gi.dim() > len(shape):  # un-broadcast: leading dimensions added by broadcasting
                gi = gi.sum(0)
            for d, s in enumerate(shape):  # ... and dimensions of size 1 that were stretched
                if s == 1 and gi.shape[d] != 1:
                    gi = gi.sum(d, keepdim=True)
            if isinstance(nxt, torch.Tensor):  # a leaf: accumulate, like .grad
                leaf_grads[id(nxt)] = leaf_grads.get(id(nxt), 0) + gi
            else:
                grads[nxt] = grads[nxt] + gi if nxt in grads else gi
    return leaf_grads


W1.grad = W2.grad = None
loss.backward(retain_graph=True)
mine = my_backward(loss)
print("W1: rel error %.1e, W2: rel error %.1e" % (rel_error(mine[id(W1)], W1.grad), rel_error(mine[id(W2)], W2.grad)))
assert rel_error(mine[id(W1)], W1.grad) < 1e-14 and rel_error(mine[id(W2)], W2.grad) < 1e-14

# %% [markdown]
# ## 3. Vector-Jacobian products and un-broadcasting
#
# For $y = f(x)$ with $x \in \mathbb{R}^n$, $y \in \mathbb{R}^m$, `y.backward(v)` computes
# $v^\top J$ (shape of $x$) where $J = \partial y / \partial x$ is $m \times n$. For a scalar loss
# $v = 1$ and $v^\top J$ is the gradient. Below: the VJP equals $v^\top J$ with the full Jacobian
# (`tinygrad_dnn.autograd.jacobian`, one backward pass per output element).

# %%
A = torch.randn(6, 4, dtype=torch.float64)


def f(x):
    return (A @ x).tanh() * 2.0


x0 = torch.randn(4, dtype=torch.float64)
v = torch.randn(6, dtype=torch.float64)
J = jacobian(f, x0)  # (6, 4)
xr = x0.clone().requires_grad_()
f(xr).backward(v)
print("J shape", tuple(J.shape), " v^T J =", (v @ J).tolist())
assert rel_error(xr.grad, v @ J) < 1e-14
_, vj = vjp(f, x0, v)  # the same product, as a function
assert rel_error(vj, v @ J) < 1e-14

# %% [markdown]
# A VJP never materializes $J$. For a linear layer $Y = X W^\top$ with $X$ of shape $(B, n)$ the
# Jacobian $\partial Y / \partial X$ has $(B\,m) \times (B\,n)$ entries, but its VJP is one matrix
# product, $G W$; for the weights, $G^\top X$:

# %%
B, n_in_, n_out_ = 8, 5, 3
X = torch.randn(B, n_in_, dtype=torch.float64, requires_grad=True)
Wl = torch.randn(n_out_, n_in_, dtype=torch.float64, requires_grad=True)
G = torch.randn(B, n_out_, dtype=torch.float64)
(X @ Wl.T).backward(G)
assert rel_error(X.grad, G @ Wl) < 1e-14 and rel_error(Wl.grad, G.T @ X) < 1e-14
print(f"full Jacobian dY/dX would hold {B * n_out_ * B * n_in_} numbers; the VJP G W holds {B * n_in_}")

# %% [markdown]
# **Un-broadcasting.** When an op broadcasts an input (a bias of shape `(4,)` added to a `(3, 4)`
# batch, a column `(3, 1)` stretched across 4 columns), the same input value is used many times, so its
# gradient is the **sum** of the gradients of all its copies. The op's backward returns the broadcast
# shape; the engine sums it down. `trace_backward` prints each step:

# %%
col = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
bias = torch.randn(4, dtype=torch.float64, requires_grad=True)
lines = []
with trace_backward(printer=lines.append):
    out = ((col + bias) ** 2).sum()
    out.backward()
print("\n".join(lines))
assert any("un-broadcast to (3, 1)" in s for s in lines) and any("un-broadcast to (4,)" in s for s in lines)
g = 2 * (col.detach() + bias.detach())  # gradient of the (3, 4) sum of squares w.r.t. col + bias
assert rel_error(col.grad, g.sum(1, keepdim=True)) < 1e-14  # summed over the broadcast columns
assert rel_error(bias.grad, g.sum(0)) < 1e-14  # summed over the batch rows

# %% [markdown]
# ## 4. Forward mode versus reverse mode
#
# Reverse mode computes $v^\top J$ (a **row** combination) per pass; forward mode pushes a tangent
# $u$ through the computation and gets $J u$ (a **column** combination) per pass. A full Jacobian
# costs $n_{out}$ VJPs or $n_{in}$ JVPs. Training has one scalar loss and millions of inputs, which
# is why deep learning uses reverse mode.
#
# `tinygrad_dnn.autograd.jvp` is built from two reverse passes (the "double-VJP" trick:
# $J u = \partial_w \langle J^\top w, u\rangle$), so it costs about 3 passes. For a true forward
# pass we also write forward mode by hand for our MLP: every intermediate value carries its tangent,
# $\dot z = W \dot h$, $\dot h = (1 - \tanh^2 z) \odot \dot z$.

# %%
HID = 64


def make_mlp(n_in, n_out):
    Ws = [torch.randn(HID, n_in, dtype=torch.float64) / n_in ** 0.5,
          torch.randn(HID, HID, dtype=torch.float64) / HID ** 0.5,
          torch.randn(n_out, HID, dtype=torch.float64) / HID ** 0.5]

    def mlp(x):
        h = (Ws[0] @ x).tanh()
        h = (Ws[1] @ h).tanh()
        return Ws[2] @ h

    def mlp_forward_mode(x, u):
        """(mlp(x), J u) in one forward pass carrying tangents."""
        h, dh = x, u
        for W in Ws[:2]:
            z, dz = W @ h, W @ dh
            h = z.tanh()
            dh = (1 - h * h) * dz
        return Ws[2] @ h, Ws[2] @ dh

    return mlp, mlp_forward_mode


def jacobian_by_rows(func, x, n_out):  # n_out VJPs
    return torch.stack([vjp(func, x, torch.eye(n_out, dtype=torch.float64)[i])[1] for i in range(n_out)])


def jacobian_by_columns(func, x, n_in):  # n_in JVPs (library: double-VJP)
    return torch.stack([jvp(func, x, torch.eye(n_in, dtype=torch.float64)[j])[1] for j in range(n_in)], dim=1)


def jacobian_by_columns_forward(fwd, x, n_in):  # n_in true forward-mode passes
    return torch.stack([fwd(x, torch.eye(n_in, dtype=torch.float64)[j])[1] for j in range(n_in)], dim=1)


def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


WIDE = 64 if SMALL else 256
REPEAT = 2 if SMALL else 5
timings = {}
for case, (n_in, n_out) in {f"wide input ({WIDE} -> 1)": (WIDE, 1), f"wide output (2 -> {WIDE})": (2, WIDE)}.items():
    mlp, mlp_fwd = make_mlp(n_in, n_out)
    x0 = torch.randn(n_in, dtype=torch.float64)
    J_rev = jacobian_by_rows(mlp, x0, n_out)
    J_fwd = jacobian_by_columns(mlp, x0, n_in)
    J_true_fwd = jacobian_by_columns_forward(mlp_fwd, x0, n_in)
    assert tuple(J_rev.shape) == (n_out, n_in)
    assert rel_error(J_rev, J_fwd) < 1e-10 and rel_error(J_rev, J_true_fwd) < 1e-10  # same Jacobian, 3 ways
    timings[case] = {
        f"reverse: {n_out} VJPs": best_time(lambda: jacobian_by_rows(mlp, x0, n_out), REPEAT),
        f"forward (jvp, double-VJP): {n_in} JVPs": best_time(lambda: jacobian_by_columns(mlp, x0, n_in), REPEAT),
        f"forward (by hand): {n_in} JVPs": best_time(lambda: jacobian_by_columns_forward(mlp_fwd, x0, n_in), REPEAT),
    }
    for k, t in timings[case].items():
        print(f"{case:>24}  {k:<36} {t * 1e3:8.2f} ms")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
for ax, (case, tt) in zip(axes, timings.items()):
    ax.barh(list(tt), [t * 1e3 for t in tt.values()], color=["C0", "C1", "C2"])
    ax.set(xscale="log", xlabel="ms to build the full Jacobian", title=case)
fig.tight_layout()
savefig(fig, "forward_vs_reverse")
plt.show()

# %% [markdown]
# With one output, one reverse pass gives the whole gradient while forward mode needs one pass per
# input; with two inputs and many outputs it is the other way round. (The ratio is generous: the
# asserts only require a factor 4.)

# %%
t_wide_in, t_wide_out = timings.values()
rev_in, jvp_in, fwd_in = t_wide_in.values()
rev_out, jvp_out, fwd_out = t_wide_out.values()
assert 4 * rev_in < fwd_in and 4 * rev_in < jvp_in  # wide input: reverse mode wins
assert 4 * fwd_out < rev_out and 4 * jvp_out < rev_out  # wide output: forward mode wins

# %% [markdown]
# ## 5. The two-layer gradient formula
#
# Deck 000 ("Where to initialize for DNNs?"):
# $F(W_1, W_2) = \frac1m \sum_i \|y_i - W_2 \sigma(W_1 x_i)\|^2$ and
#
# $$\nabla_{W_1} F = -\frac{2}{m} \sum_{i=1}^m \left[W_2^\top \big(y_i - W_2 \sigma(W_1 x_i)\big) \odot \sigma'(W_1 x_i)\right] x_i^\top .$$
#
# With the samples as the columns of $X$ and $Y$, the sum of outer products is one matrix product.

# %%
m, d, k, p = 50, 5, 8, 3
X = torch.randn(d, m, dtype=torch.float64)
Y = torch.randn(p, m, dtype=torch.float64)


def F(W1, W2, s):
    return ((Y - W2 @ s(W1 @ X)) ** 2).sum() / m


def grad_W1_formula(W1, W2, s, s_prime):
    Z = W1 @ X
    return -(2 / m) * ((W2.T @ (Y - W2 @ s(Z))) * s_prime(Z)) @ X.T


tanh, dtanh = (lambda z: z.tanh()), (lambda z: 1 - z.tanh() ** 2)
sigmoid, dsigmoid = (lambda z: z.sigmoid()), (lambda z: z.sigmoid() * (1 - z.sigmoid()))

W1 = torch.randn(k, d, dtype=torch.float64, requires_grad=True)
W2 = torch.randn(p, k, dtype=torch.float64, requires_grad=True)
for name, s, ds in [("tanh", tanh, dtanh), ("sigmoid", sigmoid, dsigmoid)]:
    W1.grad = None
    F(W1, W2, s).backward()
    formula = grad_W1_formula(W1.detach(), W2.detach(), s, ds)
    print(f"{name}: rel error formula vs autograd {rel_error(formula, W1.grad):.1e}")
    assert rel_error(formula, W1.grad) < 1e-12

# %% [markdown]
# **$W = 0$ gives no movement.** With $W_2 = 0$ the bracket is $0$, so $\nabla_{W_1} F = 0$. With
# $\sigma = \tanh$ also $\nabla_{W_2} F = -\frac2m \sum_i (y_i - 0)\,\tanh(0)^\top = 0$: gradient
# descent from zero never moves. With the sigmoid ($\sigma(0) = 1/2$) $W_2$ moves first and then
# $W_1$, but every hidden unit receives the same update, so the hidden units stay identical copies
# (the symmetry problem of notebook 4).

# %%
def gd_from_zero(s, steps=50, lr=0.1):
    W1 = torch.zeros(k, d, dtype=torch.float64, requires_grad=True)
    W2 = torch.zeros(p, k, dtype=torch.float64, requires_grad=True)
    first = None
    for _ in range(steps):
        W1.grad = W2.grad = None
        F(W1, W2, s).backward()
        if first is None:
            first = (W1.grad.abs().max().item(), W2.grad.abs().max().item())
        with torch.no_grad():
            W1 -= lr * W1.grad
            W2 -= lr * W2.grad
    return W1.detach(), W2.detach(), first


W1t, W2t, first_t = gd_from_zero(tanh)
print("tanh:    first |grad W1|, |grad W2| =", first_t, " after 50 steps max|W1|, max|W2| =",
      W1t.abs().max().item(), W2t.abs().max().item())
assert first_t == (0.0, 0.0) and W1t.abs().max().item() == 0.0 and W2t.abs().max().item() == 0.0

W1s, W2s, first_s = gd_from_zero(sigmoid)
print("sigmoid: first |grad W1|, |grad W2| =", first_s, " after 50 steps max|W1| =", W1s.abs().max().item())
assert first_s[0] == 0.0 and first_s[1] > 0  # W1 does not move at the first step, W2 does
assert W1s.abs().max().item() > 1e-4  # ... later W1 moves,
assert (W1s - W1s[0:1]).abs().max().item() < 1e-12  # but all hidden units (rows of W1) stay identical

# %% [markdown]
# ## 6. The delta recursion
#
# Deck 001: with pre-activations $x^\ell = A^\ell \sigma(x^{\ell-1}) + b^\ell$ ($x^0 = x$) and
# $\delta^\ell = \partial E / \partial x^\ell$,
#
# $$\delta^L = \ell'(x^L, y), \qquad \delta^{\ell-1} = \sigma'(x^{\ell-1}) \odot (A^\ell)^\top \delta^\ell, \qquad
# \frac{\partial E}{\partial A^\ell} = \delta^\ell \sigma(x^{\ell-1})^\top,\quad \frac{\partial E}{\partial b^\ell} = \delta^\ell .$$
#
# Backprop by hand, for a batch stored as columns (the outer products sum over the batch), checked
# against autograd for every layer. The forward pass must **keep every $x^\ell$**: that is the
# $O(BmL)$ part of the memory cost $O(BmL + m^2L)$; the matrix products cost $O(Bm^2L)$.

# %%
def deep_net(L, width, batch, act, gain=1.0):
    As = [(gain * torch.randn(width, width, dtype=torch.float64) / width ** 0.5).requires_grad_() for _ in range(L)]
    bs = [torch.zeros(width, 1, dtype=torch.float64, requires_grad=True) for _ in range(L)]
    x = torch.randn(width, batch, dtype=torch.float64)
    y = torch.randn(width, batch, dtype=torch.float64)
    return As, bs, x, y


def forward(As, bs, x, s):
    xs = [x]  # every pre-activation is stored for the backward pass
    for A, b in zip(As, bs):
        xs.append(A @ s(xs[-1]) + b)
    return xs


def backprop_by_hand(As, xs, y, s, ds):
    """Gradients of E = 0.5 ||x^L - y||^2 (summed over the batch) by the delta recursion."""
    L = len(As)
    delta = xs[L] - y  # delta^L = l'(x^L, y)
    gA, gb, deltas = [None] * L, [None] * L, [None] * (L + 1)
    deltas[L] = delta
    for ell in range(L, 0, -1):  # layers L, ..., 1 (A^ell is As[ell - 1])
        gA[ell - 1] = delta @ s(xs[ell - 1]).T  # dE/dA^ell = delta^ell sigma(x^{ell-1})^T
        gb[ell - 1] = delta.sum(1, keepdim=True)  # dE/db^ell = delta^ell
        delta = ds(xs[ell - 1]) * (As[ell - 1].detach().T @ delta)  # delta^{ell-1}
        deltas[ell - 1] = delta
    return gA, gb, deltas


L_DEPTH, WIDTH, BATCH = 10, (32 if SMALL else 128), (16 if SMALL else 64)
As, bs, x, y = deep_net(L_DEPTH, WIDTH, BATCH, tanh)
with torch.no_grad():
    xs_nograd = forward(As, bs, x, tanh)
gA, gb, _ = backprop_by_hand(As, xs_nograd, y, tanh, dtanh)
xs = forward(As, bs, x, tanh)
(0.5 * ((xs[-1] - y) ** 2).sum()).backward()
worst = max(max(rel_error(g, A.grad) for g, A in zip(gA, As)), max(rel_error(g, b.grad) for g, b in zip(gb, bs)))
print(f"{L_DEPTH} layers: worst relative error, delta recursion vs autograd: {worst:.1e}")
assert worst < 1e-10

# %% [markdown]
# Unrolling the recursion, $\delta^\ell$ is a product of $L - \ell$ factors
# $\sigma'(x) \odot (A)^\top$: roughly $\delta^\ell \approx (\sigma'(x)\,\|A\|)^{L-\ell}$. With the
# sigmoid, $\sigma' \le 1/4$ and the signal **vanishes** towards the first layers; with tanh
# ($\tanh'(0) = 1$) and weights scaled by $1/\sqrt{\text{fan-in}}$ it decays much more slowly.

# %%
norms = {}
for name, s, ds in [("tanh", tanh, dtanh), ("sigmoid", sigmoid, dsigmoid)]:
    torch.manual_seed(1)
    As, bs, x, y = deep_net(L_DEPTH, WIDTH, BATCH, s)
    with torch.no_grad():
        xs_ = forward(As, bs, x, s)
        _, _, deltas = backprop_by_hand(As, xs_, y, s, ds)
    norms[name] = [(dl ** 2).mean().sqrt().item() for dl in deltas[1:]]  # layers 1..L

fig, ax = plt.subplots(figsize=(6, 3.8))
for name, nn_ in norms.items():
    ax.semilogy(range(1, L_DEPTH + 1), nn_, "o-", label=name)
ax.set(xlabel="layer $\\ell$", ylabel="RMS of $\\delta^\\ell$", title="delta recursion: gradient signal per layer")
ax.legend()
savefig(fig, "delta_norms")
plt.show()
print({k: [f"{v:.1e}" for v in vals] for k, vals in norms.items()})

# %%
assert norms["sigmoid"][0] < 1e-4 * norms["sigmoid"][-1]  # vanishes by orders of magnitude
assert norms["tanh"][0] > 1e-2 * norms["tanh"][-1]  # tanh keeps it within two orders of magnitude
assert all(a < b for a, b in zip(norms["sigmoid"], norms["sigmoid"][1:]))  # monotone towards the input

# %% [markdown]
# ## Take-aways
#
# * The graph is recorded during the forward pass; `backward()` walks it in reverse topological order
#   and each node applies its VJP. Twenty lines reproduce the engine exactly.
# * Broadcasting in the forward pass becomes a sum in the backward pass.
# * A Jacobian costs $n_{out}$ reverse passes or $n_{in}$ forward passes; a scalar loss makes reverse
#   mode the right choice for training.
# * The two-layer formula is what autograd computes; at $W = 0$ the gradient vanishes identically.
# * The delta recursion is backprop for an MLP; its products of $\sigma'$ and $A^\top$ explain
#   vanishing gradients.
