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
# # 10. CPU vs GPU: what a training step costs, and how to time it honestly
#
# The lectures give the cost of backprop through an MLP of depth $L$ and width $m$ on a batch of $B$:
# **time $O(B\,m^2 L)$** (every layer is a $B\times m$ by $m\times m$ matrix product, forward and
# twice backward) and **memory $O(B\,m\,L + m^2 L)$** (stored activations plus weights).
#
# This notebook
# 1. explains how the numbers in `benchmarks/results/` were measured (warm-up, medians,
#    synchronization, threads) and shows why each rule matters;
# 2. shows the recorded results: the MLP training step of tinygrad_dnn against the same step written by
#    hand in NumPy (the floor for a NumPy framework) and PyTorch eager; the per-op overhead on tiny
#    tensors; the $B$, $m$, $L$ sweep with fitted log-log slopes (1, 2, 1 expected);
# 3. runs a tiny live benchmark on this machine's CPU (the harness's quick mode) and, when a GPU is
#    present (`torch.cuda.is_available()`, CuPy backend), the same on the GPU. Without a GPU it says so and
#    the recorded results are what you see.

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
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np  # reference computations, fits and plotting only

import tinygrad_dnn as torch

SMALL = os.environ.get("TINYGRAD_DNN_NOTEBOOK_SMALL") == "1"  # reduced size for CI
# A plain run saves figures to a scratch folder; TINYGRAD_DNN_NOTEBOOK_FIGURES=figures (what
# `python notebooks/build_ipynb.py --figures` sets) regenerates the committed notebooks/figures/*.png.
FIGURES = Path(os.environ.get("TINYGRAD_DNN_NOTEBOOK_FIGURES")
               or Path(tempfile.gettempdir()) / "tinygrad_dnn_figures")
FIGURES.mkdir(parents=True, exist_ok=True)


def savefig(fig, what):
    """Save a key figure as FIGURES/10_<what>.png (it is also shown inline)."""
    fig.savefig(FIGURES / f"10_{what}.png", dpi=110, bbox_inches="tight")

# Slide-ready figures: >= 12 pt text everywhere (legends and ticks included), thicker lines.
plt.rcParams.update({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12,
                     "xtick.labelsize": 12, "ytick.labelsize": 12, "figure.titlesize": 15,
                     "lines.linewidth": 2})


ROOT = Path(torch.__file__).resolve().parents[1]  # the repository (installed with pip install -e)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # benchmarks/ is a folder of the repository, not part of the package
from benchmarks import harness, run as run_benchmarks  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "benchmarks.json"
report = json.loads(RESULTS.read_text())
rows = report["rows"]
env = report["environment"]
print(f"recorded {env['date']} at commit {env.get('git_commit')} ({'quick' if report['quick'] else 'full'} run)")
print(f"machine: {env['cpu_model']}, {env['cores']} cores, {env['platform']}")
print(f"numpy {env['numpy']}, torch {env.get('torch')}, threads {dict((k, v) for k, v in env['threads'].items() if k != 'blas_info')}")
print(f"GPU in the recorded run: {env.get('cuda') or 'none'}")
print("the recorded results come from a", "QUICK run (noisy, small sizes)" if report["quick"] else "full run")


def claim(text, holds):
    """Print whether a statement about the *recorded* data holds: data display, not a test of the library."""
    print(f"[{'holds' if holds else 'DOES NOT HOLD'}] recorded data: {text}")


def row(suite, case, impl, device="cpu"):
    return next((r for r in rows if r["suite"] == suite and r["case"] == case and r["impl"] == impl
                 and r["device"] == device), None)


def fmt(s):
    return f"{s * 1e6:.2f} us" if s < 1e-3 else f"{s * 1e3:.3f} ms"


# %% [markdown]
# ## 1. Honest timing
#
# `benchmarks/harness.py` follows four rules; each one fixes a way a naive `time.time()` around one call
# lies.
#
# * **Warm-up.** The first call pays for lazy imports, memory allocation (the first time a buffer of a
#   given size is requested), BLAS thread-pool start-up and, on a GPU, kernel compilation and the CUDA
#   context. The harness runs the function a few times before measuring.
# * **Calibrated inner loop, many samples, median.** `time.perf_counter()` has sub-microsecond resolution,
#   but a 2 us op timed once is dominated by noise; the harness repeats the call `number` times per sample
#   (so one sample lasts >= 20 ms) and takes 7-15 samples. It reports the **median** (robust to the
#   occasional sample hit by another process or the garbage collector), the **inter-quartile range**
#   (how noisy the machine was) and the **minimum** (the best case).
# * **Synchronization.** GPU kernels are launched asynchronously: `y = a @ b` on CuPy returns as soon as the
#   kernel is queued. Reading the clock without `synchronize()` measures the launch (microseconds), not the
#   work. The harness synchronizes after the warm-up and at the end of every sample (and can time with CUDA
#   events).
# * **Threads.** NumPy's BLAS and PyTorch each have a thread pool. The harness sets PyTorch's intra-op
#   thread count equal to the BLAS's and records both, so "PyTorch is faster" is not "PyTorch used more
#   cores". On a shared or oversubscribed machine (say two processes with two BLAS threads each on two
#   cores) multi-threaded BLAS can become many times *slower* than one thread, because its threads spin
#   waiting for each other: the IQR column is where that shows.
#
# A small live illustration of the first two rules: a cold first call against the median of warm calls,
# and the spread of single-call timings.

# %%
x = torch.randn(256, 512)
w = torch.randn(512, 512, requires_grad=True)


def step():
    loss = (x @ w).tanh().sum()
    loss.backward()
    w.grad = None


t0 = time.perf_counter()
step()
first = time.perf_counter() - t0
single = []
for _ in range(30 if SMALL else 200):
    t0 = time.perf_counter()
    step()
    single.append(time.perf_counter() - t0)
min_sample = 0.01 if SMALL else 0.02
stats = harness.measure(step, repeats=5 if SMALL else 9, min_sample=min_sample)
print(f"first (cold) call         : {fmt(first)}")
print(f"single calls, min / median / max: {fmt(min(single))} / {fmt(statistics.median(single))} / {fmt(max(single))}")
print(f"harness.measure           : median {fmt(stats['median'])}, IQR {fmt(stats['iqr'])}, "
      f"{stats['repeats']} samples x {stats['number']} calls")
print(f"single calls: max / median = {max(single) / statistics.median(single):.1f}x  (the scatter the median hides)")
# the harness's calibration: one sample (number calls) must last about min_sample or more, so that the
# clock's resolution and the loop's overhead do not matter; a broken calibration (number = 1) fails here
assert stats["number"] * stats["median"] >= 0.5 * min_sample, stats

# %% [markdown]
# ## 2. The recorded results
#
# This section reads `benchmarks/results/benchmarks.json` (committed by `python -m benchmarks`). Lines marked
# `[holds]` / `[DOES NOT HOLD]` are statements about that recorded data, printed, not asserted: they test
# nothing about the library on this machine (the benchmark code itself is tested in `tests/benchmarks/`).
#
# ### The MLP training step (784-512-512-10, float32, SGD)
#
# One step = forward, cross-entropy, backward, update. All three implementations start from the same
# weights; "numpy" is the step written out by hand (no graph, no autograd), the floor a NumPy framework
# can reach; "torch" is PyTorch eager on the same CPU with the same thread count.

# %%
mlp_rows = [r for r in rows if r["suite"] == "mlp"]
print(f"{'case':14s} {'impl':13s} {'device':6s} {'median':>10s} {'IQR':>10s} {'vs hand':>8s} {'vs torch':>8s}")
for r in mlp_rows:
    print(f"{r['case']:14s} {r['impl']:13s} {r['device']:6s} {fmt(r['median']):>10s} {fmt(r['iqr']):>10s} "
          f"{r['vs_hand'] or float('nan'):8.2f} {r['vs_torch'] or float('nan'):8.2f}")

cases = sorted({(r["case"], r["device"]) for r in mlp_rows}, key=lambda c: (c[1], int(c[0].split("=")[1]) if c[0].split("=")[1].isdigit() else 0))
impls = ["tinygrad_dnn", "numpy", "torch", "cupy"]
fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.25
for k, impl in enumerate(impls):
    vals = [(i, row("mlp", c, impl, d)) for i, (c, d) in enumerate(cases)]
    vals = [(i, r["median"] * 1e3, r["iqr"] * 1e3) for i, r in vals if r]
    if vals:
        ax.bar([i + (k - 1) * width for i, _, _ in vals], [v for _, v, _ in vals], width,
               yerr=[e for _, _, e in vals], label=impl, capsize=3)
ax.set_xticks(range(len(cases)))
ax.set_xticklabels([f"{c} [{d}]" for c, d in cases])
ax.set_ylabel("ms per step (median, IQR bar)")
ax.set_title("MLP 784-512-512-10 training step")
ax.legend()
savefig(fig, "mlp_step")
plt.show()

tg = row("mlp", "step B=256", "tinygrad_dnn")
print(f"B=256: tinygrad_dnn / hand NumPy = {tg['vs_hand']:.2f}x, / PyTorch = {tg['vs_torch']:.2f}x")
# at this size the step is a handful of matrix products: the framework adds little on top of NumPy
claim(f"tinygrad_dnn step within 1.5x of hand NumPy ({tg['vs_hand']:.2f}x) and 2x of PyTorch ({tg['vs_torch']:.2f}x)",
      tg["vs_hand"] < 1.5 and tg["vs_torch"] < 2.0)

# %% [markdown]
# ### Per-op overhead on tiny tensors
#
# On 4x4 tensors the arithmetic is nothing; what is left is the cost of the framework itself: argument
# checks, creating the output `Tensor`, recording the graph node (`fwd+graph`, inputs requiring grad) and
# running the backward engine (`fwd+bwd`). The "numpy" rows are the array math alone. Overhead
# = tinygrad_dnn's time minus NumPy's.

# %%
ops = [c.split(" ", 1)[1] for c in dict.fromkeys(r["case"] for r in rows if r["suite"] == "overhead")
       if c.startswith("fwd ")]
kinds = ["fwd", "fwd+graph", "fwd+bwd"]
over = {k: [] for k in kinds}
print(f"{'op':12s}" + "".join(f"{k + ' (tg / torch)':>26s}" for k in kinds))
for op in ops:
    line = f"{op:12s}"
    for k in kinds:
        t, n, p = (row("overhead", f"{k} {op}", i) for i in ("tinygrad_dnn", "numpy", "torch"))
        over[k].append((t["median"] - n["median"]) * 1e6)
        line += f"{t['median'] * 1e6:14.2f} / {p['median'] * 1e6:6.2f} us"
    print(line)
for k in kinds:
    print(f"median overhead per op, {k:9s}: {statistics.median(over[k]):6.2f} us")

fig, ax = plt.subplots(figsize=(8, 3.5))
for j, k in enumerate(kinds):
    ax.bar(np.arange(len(ops)) + (j - 1) * 0.27, over[k], 0.27, label=k)
ax.set_xticks(range(len(ops)))
ax.set_xticklabels(ops)
ax.set_yscale("log")
ax.set_ylabel("tinygrad_dnn - NumPy (us per call)")
ax.set_title("framework overhead per op on 4x4 tensors")
ax.legend()
savefig(fig, "overhead")
plt.show()
# a few microseconds per op forward: invisible next to a 512x512 matmul (~1 ms), dominant on 4x4 tensors
claim("median overhead per op < 10 us forward, < 20 us with the graph",
      0 < statistics.median(over["fwd"]) < 10 and statistics.median(over["fwd+graph"]) < 20)
chain = row("overhead", "chain20 fwd+bwd", "tinygrad_dnn")
print(f"20-op chain forward+backward: {fmt(chain['median'])} ({chain['vs_torch']:.2f}x PyTorch)")

# %% [markdown]
# ### The $O(B\,m^2 L)$ sweep
#
# One factor varies at a time around $B = 256$, $m = 512$, $L = 2$ (the network is $m$ inputs, $L$ hidden
# ReLU layers of width $m$, 10 outputs). On a log-log plot time $\propto B^a m^b L^c$ is a straight line of
# slope $a$, $b$ or $c$. For small sizes the fixed per-op overhead (microseconds, section above) and
# memory traffic dominate and the slope is below the asymptotic one; we fit the slopes on the large sizes
# ($B \ge 256$, $m \ge 512$, all $L$).

# %%
series = report["series"]["sweep"]
FIT_FROM = {"B": 256, "m": 512, "L": 1}
EXPECTED = {"B": 1.0, "m": 2.0, "L": 1.0}


def sweep_points(series, axis, impl, device="cpu"):
    pts = sorted({(r[axis], r["median"]) for r in series
                  if r["axis"] == axis and r["impl"] == impl and r["device"] == device})
    return np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float)


def slope(xs, ts, lo):
    keep = xs >= lo
    return np.polyfit(np.log(xs[keep]), np.log(ts[keep]), 1)[0]


def sweep_figure(series, title, fit_from):
    impl_dev = sorted({(r["impl"], r["device"]) for r in series})
    fig, axs = plt.subplots(1, 3, figsize=(18, 6))
    slopes = {}
    for ax, axis in zip(axs, ("B", "m", "L")):
        for impl, dev in impl_dev:
            xs, ts = sweep_points(series, axis, impl, dev)
            if len(xs) < 2:
                continue
            s = slope(xs, ts, fit_from[axis]) if (xs >= fit_from[axis]).sum() >= 2 else float("nan")
            slopes[(axis, impl, dev)] = s
            ax.loglog(xs, ts * 1e3, "o-", label=f"{impl} [{dev}] slope {s:.2f}")
        xs, ts = sweep_points(series, axis, "tinygrad_dnn")
        ref = ts[-1] * 1e3 * (xs / xs[-1]) ** EXPECTED[axis]
        ax.loglog(xs, ref, "k--", lw=1, label=f"slope {EXPECTED[axis]:.0f} (guide)")
        ax.minorticks_off()
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{v:g}" for v in xs], rotation=45)
        ax.set_xlabel(axis)
        ax.set_ylabel("ms per step")
        ax.set_title(f"vary {axis} (fit on {axis} >= {fit_from[axis]})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig, slopes


fig, slopes = sweep_figure(series, "recorded: MLP step time vs B, m, L", FIT_FROM)
savefig(fig, "sweep_loglog")
plt.show()
for (axis, impl, dev), s in slopes.items():
    print(f"slope in {axis}: {impl:13s} [{dev}] {s:5.2f}   (expected {EXPECTED[axis]:.0f})")
for axis, lo, hi in (("B", 0.75, 1.25), ("m", 1.6, 2.4), ("L", 0.8, 1.2)):
    for impl in ("tinygrad_dnn", "numpy", "torch"):
        s_ = slopes[(axis, impl, "cpu")]
        claim(f"slope in {axis} of {impl} = {s_:.2f} is in ({lo}, {hi})", lo < s_ < hi)

# %% [markdown]
# Per-call times of the sweep, and the achieved throughput: a step does about $6 B m^2 L$ floating-point
# operations in the $m\times m$ layers (2 forward, 4 backward per multiply-add pair), so time per unit of
# $B m^2 L$ flattens out once the step is compute-bound.

# %%
print(f"{'B':>5s} {'m':>5s} {'L':>3s} {'tinygrad_dnn':>12s} {'numpy':>11s} {'torch':>11s} {'tg GFLOP/s':>11s}")
done = set()
for r in series:
    key = (r["B"], r["m"], r["L"])
    if key in done or r["impl"] != "tinygrad_dnn" or r["device"] != "cpu":
        continue
    done.add(key)
    t = {i: row("sweep", f"B={key[0]} m={key[1]} L={key[2]}", i) for i in ("tinygrad_dnn", "numpy", "torch")}
    gflops = 6 * key[0] * key[1] ** 2 * key[2] / t["tinygrad_dnn"]["median"] / 1e9
    print(f"{key[0]:5d} {key[1]:5d} {key[2]:3d} " + " ".join(f"{fmt(t[i]['median']):>11s}" for i in t)
          + f" {gflops:11.1f}")

# %% [markdown]
# ### The other suites and the speed targets
#
# The small CNN is far behind PyTorch on the CPU: im2col + matrix product in NumPy against oneDNN's
# direct convolutions (the hand-written NumPy CNN is just as slow). Peak memory is measured with
# `tracemalloc` (NumPy buffers), so it covers tinygrad_dnn and hand-written NumPy only.

# %%
for suite in ("cnn", "deep_forward", "memory", "lstsq"):
    for r in (r for r in rows if r["suite"] == suite):
        val = f"{r['median'] / 2**20:.2f} MiB" if r.get("unit") == "B" else fmt(r["median"])
        vs_h = f"{r['vs_hand']:.2f}x" if r.get("vs_hand") else "-"
        vs_t = f"{r['vs_torch']:.2f}x" if r.get("vs_torch") else "-"
        print(f"{suite:12s} {r['case']:26s} {r['impl']:13s} {r['device']:5s} {val:>11s}  vs hand {vs_h:>6s}  vs torch {vs_t:>6s}")
print()
for t in report["targets"]:
    print(f"[{'met' if t['met'] else 'MISSED' if t['met'] is False else ' - '}] {t['name']}: {t['measured']} (goal {t['goal']})")

# %% [markdown]
# ## 3. Live: a tiny benchmark on this machine
#
# `benchmarks.run(suites, quick=True, out=...)` runs the same code as the recorded results with small
# sizes and few repeats (seconds). It runs every suite on the CPU and, when tinygrad_dnn sees a CUDA
# device with CuPy, on the GPU as well (hand-written CuPy and PyTorch CUDA as the baselines there).
# Quick-mode numbers are noisy (3 samples, and CI machines are shared): look at them, don't trust a ratio
# to two digits.

# %%
HAS_GPU = torch.cuda.is_available()
if HAS_GPU:
    print("GPU found: the live run below includes the cuda rows (CuPy backend).")
else:
    print("No GPU here (torch.cuda.is_available() is False): the live run is CPU only; the GPU story is "
          "in the recorded results when they were taken on a GPU machine, and in the text below.")
suites = ["mlp", "sweep"] if SMALL else ["overhead", "mlp", "sweep", "deep_forward"]
with tempfile.TemporaryDirectory() as out:
    t0 = time.perf_counter()
    live = run_benchmarks(suites, quick=True, out=out, verbose=False)
    print(f"live quick run of {suites}: {time.perf_counter() - t0:.1f} s")
assert not live["failures"], live["failures"]
live_rows = live["rows"]
assert all(r["median"] > 0 and math.isfinite(r["median"]) for r in live_rows)
devices = sorted({r["device"] for r in live_rows})
assert ("cuda" in devices) == HAS_GPU
for r in (r for r in live_rows if r["suite"] == "mlp"):
    vs_h = f"{r['vs_hand']:.2f}x" if r.get("vs_hand") else "-"
    vs_t = f"{r['vs_torch']:.2f}x" if r.get("vs_torch") else "-"
    print(f"live {r['case']:12s} {r['impl']:13s} [{r['device']}] {fmt(r['median']):>10s} (IQR {fmt(r['iqr'])})  "
          f"vs hand {vs_h}, vs torch {vs_t}")

# shown, not saved: a quick sweep has 2-3 small sizes per axis, too few for slopes worth projecting
fig, live_slopes = sweep_figure(live["series"]["sweep"], "live quick sweep (small sizes: overhead-bound, slopes < 1, 2, 1)",
                                {"B": 0, "m": 0, "L": 0})
plt.show()

# %% [markdown]
# ### GPU
#
# On a GPU the same step is a few large kernels plus the Python overhead of launching them. That changes
# the picture:
#
# * for small $B$ and $m$ the GPU is *not* faster: each op costs a kernel launch (~5-10 us) plus the
#   framework's per-op overhead, and the arithmetic is too small to fill the device (the sweep's slopes are
#   near 0 there);
# * once $B m^2$ is large (the recorded GPU run uses $B = 4096$), the matrix products dominate and the
#   GPU wins by one to two orders of magnitude over two CPU cores;
# * host-device copies (`.to("cuda")`, `.item()`, `.numpy()`) synchronize and cost tens of microseconds:
#   keep data on the device, and read the loss back every N steps, not every step.

# %%
gpu_rows = [r for r in rows + live_rows if r["device"] == "cuda"]
if gpu_rows:
    for r in gpu_rows:
        print(f"{r['suite']:10s} {r['case']:22s} {r['impl']:13s} {fmt(r['median']):>10s}  "
              f"vs hand {r.get('vs_hand') or float('nan'):.2f}x  vs torch {r.get('vs_torch') or float('nan'):.2f}x")
    cpu = row("mlp", "step B=256", "tinygrad_dnn")
    gpu = next((r for r in gpu_rows if r["suite"] == "mlp" and r["impl"] == "tinygrad_dnn"), None)
    if cpu and gpu:
        print(f"tinygrad_dnn MLP step: CPU {fmt(cpu['median'])} (B=256) vs GPU {fmt(gpu['median'])} ({gpu['case']})")
else:
    print("No GPU rows: neither the recorded run nor this machine had a GPU. Rerun "
          "`python -m benchmarks` on a CUDA machine with CuPy installed to add them.")
