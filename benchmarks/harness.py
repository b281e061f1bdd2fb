"""Benchmark harness: honest timing, machine/thread/version records, JSON + Markdown + PNG reports.

Timing rules (see :func:`measure`):
- warm-up calls first (caches, BLAS thread pools, lazy imports, CuPy kernel compilation);
- the inner loop count ``number`` is calibrated so one sample lasts at least ``min_sample`` seconds
  (tiny ops are timed over thousands of calls; a 10 ms step is timed one call at a time);
- ``repeats`` samples; we report the median per call, the inter-quartile range and the minimum;
- on a GPU the device is synchronized (``sync``) before the clock is read, after every sample.

Every result row names its suite, case, implementation and device. Ratios are computed per case
against the hand-written array-library column (NumPy on the CPU, CuPy on the GPU) and against
PyTorch on the same device, measured in the same process and run.
"""
from __future__ import annotations

import datetime as _dt
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field

# implementation names used in the tables
TG = "tinygrad_dnn"
NP = "numpy"          # hand-written NumPy (the floor for a NumPy framework)
TORCH = "torch"       # PyTorch eager
CUPY = "cupy"         # hand-written CuPy
BASELINES = {"cpu": (NP, TORCH), "cuda": (CUPY, TORCH)}


# ------------------------------------------------------------------ timing
def _quantiles(xs):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def measure(fn, *, repeats=7, warmup=2, min_sample=0.02, max_number=100_000, sync=None):
    """Time ``fn()``; returns a dict of per-call seconds: median, q1, q3, iqr, min, mean, plus counts.

    ``sync`` (e.g. ``backend.synchronize``) is called after the warm-up and at the end of every
    sample, so queued GPU work is inside the measured interval.
    """
    sync = sync or (lambda: None)
    for _ in range(max(1, warmup)):
        fn()
    sync()
    # calibrate the inner loop so one sample is long enough for perf_counter to be meaningful
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        dt = time.perf_counter() - t0
        if dt >= min_sample or number >= max_number:
            break
        number = min(max_number, max(number * 2, int(number * min_sample / max(dt, 1e-9) * 1.2)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        samples.append((time.perf_counter() - t0) / number)
    q1, q3 = _quantiles(samples)
    return {"median": statistics.median(samples), "q1": q1, "q3": q3, "iqr": q3 - q1,
            "min": min(samples), "mean": statistics.fmean(samples), "repeats": repeats,
            "number": number, "warmup": warmup}


def cuda_event_time(fn, cupy, *, repeats=7, warmup=2, number=10):
    """GPU time of ``fn`` with CUDA events (``cupy.cuda.Event``); same dict layout as :func:`measure`."""
    for _ in range(warmup):
        fn()
    cupy.cuda.Device().synchronize()
    samples = []
    for _ in range(repeats):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        for _ in range(number):
            fn()
        end.record()
        end.synchronize()
        samples.append(cupy.cuda.get_elapsed_time(start, end) / 1e3 / number)
    q1, q3 = _quantiles(samples)
    return {"median": statistics.median(samples), "q1": q1, "q3": q3, "iqr": q3 - q1,
            "min": min(samples), "mean": statistics.fmean(samples), "repeats": repeats,
            "number": number, "warmup": warmup, "clock": "cuda events"}


def peak_memory(fn, *, warmup=1):
    """Peak bytes allocated (tracemalloc) while running ``fn`` once, above what was live before.

    NumPy reports its data buffers to tracemalloc, so this counts arrays (and Python objects)
    for NumPy-based code. It does not see PyTorch's or CuPy's allocators.
    """
    import tracemalloc

    for _ in range(warmup):
        fn()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def gpu_peak_memory(fn, *, warmup=1):
    """Peak bytes in use in CuPy's default memory pool while running ``fn`` once, above what was in use
    before (the GPU counterpart of :func:`peak_memory`; CuPy's pool has no peak counter, so a
    ``MemoryHook`` reads ``used_bytes()`` after every allocation). None without CuPy."""
    try:
        import cupy
        from cupy.cuda.memory_hook import MemoryHook
    except ImportError:
        return None
    pool = cupy.get_default_memory_pool()

    class _Peak(MemoryHook):
        name = "tinygrad_dnn_peak"

        def __init__(self):
            self.peak = pool.used_bytes()

        def malloc_postprocess(self, *args, **kwargs):
            self.peak = max(self.peak, pool.used_bytes())

    for _ in range(warmup):
        fn()
    cupy.cuda.Device().synchronize()
    gc.collect()
    base = pool.used_bytes()
    hook = _Peak()
    with hook:
        fn()
    cupy.cuda.Device().synchronize()
    return max(hook.peak, pool.used_bytes()) - base


def torch_cuda_peak_memory(torch, fn, *, warmup=1):
    """Peak bytes of PyTorch's CUDA caching allocator while running ``fn`` once, above the live baseline."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


# ------------------------------------------------------------------ environment
def blas_threads():
    """(thread count of NumPy's BLAS or None, threadpoolctl info or numpy.show_config text)."""
    import numpy as np  # noqa: F401  (loads the BLAS so threadpoolctl can see it)

    try:
        from threadpoolctl import threadpool_info

        info = threadpool_info()
        n = next((d["num_threads"] for d in info if d.get("user_api") == "blas"), None)
        return n, info
    except ImportError:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            np.show_config()
        return None, buf.getvalue()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cuda_info():
    """Name and count of CUDA devices if CuPy and a GPU answer, else None."""
    try:
        import cupy

        n = cupy.cuda.runtime.getDeviceCount()
        if n == 0:
            return None
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        return {"count": n, "name": name, "cupy": cupy.__version__,
                "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion()}
    except Exception:
        return None


def torch_module():
    """The real PyTorch if installed (never tinygrad_dnn), else None."""
    try:
        import torch

        if getattr(torch, "__name__", "") != "torch" or not hasattr(torch, "_C"):
            return None
        return torch
    except ImportError:
        return None


def configure_threads(n=None):
    """Set NumPy's BLAS (hence tinygrad_dnn's CPU kernels) to ``n`` threads (default: every core this
    process may use) and PyTorch to the same count; return the thread record.

    ``import tinygrad_dnn`` sets the BLAS pool from the machine's load (backend/threads.py), so it is
    imported first and the count set afterwards: otherwise NumPy and tinygrad_dnn could run on fewer
    threads than PyTorch while the record claimed otherwise.
    """
    import tinygrad_dnn

    if n is None:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    tinygrad_dnn.set_num_threads(int(n))
    got, info = blas_threads()
    rec = {"blas_threads": got, "cpu_count": os.cpu_count(), "blas_info": info}
    torch = torch_module()
    if torch is not None:
        torch.set_num_threads(got or int(n))
        rec["torch_threads"] = torch.get_num_threads()
        rec["torch_interop_threads"] = torch.get_num_interop_threads()
    return rec


def environment(threads):
    import numpy as np

    import tinygrad_dnn

    env = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "numpy": np.__version__,
        "tinygrad_dnn": getattr(tinygrad_dnn, "__version__", "?"),
        "threads": threads,
        "cuda": cuda_info(),
    }
    torch = torch_module()
    env["torch"] = torch.__version__ if torch is not None else None
    try:
        import subprocess

        env["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                           text=True, cwd=os.path.dirname(__file__)).stdout.strip() or None
    except Exception:
        env["git_commit"] = None
    return env


# ------------------------------------------------------------------ results
@dataclass
class Context:
    """What a suite gets: quick flag, the timing helpers, and the place to record rows."""

    quick: bool
    out: str
    devices: list = field(default_factory=lambda: ["cpu"])
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    plots: list = field(default_factory=list)
    series: dict = field(default_factory=dict)
    suite: str = ""

    @property
    def torch(self):
        return torch_module()

    def timeit(self, fn, sync=None, **kw):
        if self.quick:
            kw.setdefault("repeats", 3)
            kw.setdefault("warmup", 1)
            kw.setdefault("min_sample", 0.002)
        return measure(fn, sync=sync, **kw)

    def record(self, case, impl, stats, device="cpu", unit="s", **extra):
        row = {"suite": self.suite, "case": case, "impl": impl, "device": device, "unit": unit}
        row.update(stats)
        row.update(extra)
        self.rows.append(row)
        return row

    def note(self, text):
        self.notes.append(f"{self.suite}: {text}")


def add_ratios(rows):
    """For each (suite, case, device): ratio of every row's median to the hand-written and PyTorch rows."""
    groups = {}
    for r in rows:
        groups.setdefault((r["suite"], r["case"], r["device"]), {})[r["impl"]] = r
    for (suite, case, device), by_impl in groups.items():
        hand, torch_name = BASELINES.get(device, (NP, TORCH))
        for r in by_impl.values():
            for label, base in (("vs_hand", hand), ("vs_torch", torch_name)):
                b = by_impl.get(base)
                if b is not None and b.get("median") and r.get("median") is not None:
                    r[label] = r["median"] / b["median"]
                else:
                    r[label] = None
    return rows


def _fmt_value(v, unit):
    if v is None:
        return "-"
    if unit == "s":
        if v < 1e-3:
            return f"{v * 1e6:.2f} us"
        if v < 1:
            return f"{v * 1e3:.3f} ms"
        return f"{v:.3f} s"
    if unit == "B":
        return f"{v / 2**20:.2f} MiB"
    return f"{v:.4g} {unit}"


def _fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def markdown(report):
    env = report["environment"]
    th = env["threads"]
    lines = ["# tinygrad_dnn benchmarks", "",
             f"- date: {env['date']}  commit: {env.get('git_commit')}  mode: {'quick' if report['quick'] else 'full'}",
             f"- machine: {env['cpu_model']}, {env['cores']} cores, {env['platform']}",
             f"- python {env['python']}, numpy {env['numpy']}, torch {env['torch']}, tinygrad_dnn {env['tinygrad_dnn']}",
             f"- threads: BLAS {th.get('blas_threads')}, torch {th.get('torch_threads')} (set equal)",
             f"- GPU: {env['cuda']['name'] if env.get('cuda') else 'none (CuPy/CUDA rows skipped)'}",
             "",
             "Times are medians per call over several repeats after warm-up (IQR = inter-quartile range). "
             "`vs hand` = ratio to the hand-written NumPy (CPU) / CuPy (GPU) code, `vs torch` = ratio to "
             "PyTorch eager on the same device; < 1 means faster.", ""]
    if report.get("targets"):
        lines += ["## Targets", "", "| target | measured | goal | met |", "|---|---|---|---|"]
        for t in report["targets"]:
            met = "-" if t["met"] is None else ("yes" if t["met"] else "**no**")
            lines.append(f"| {t['name']} | {t['measured']} | {t['goal']} | {met} |")
        lines.append("")
    suites = []
    for r in report["rows"]:
        if r["suite"] not in suites:
            suites.append(r["suite"])
    for s in suites:
        lines += [f"## {s}", "", "| case | impl | device | median | IQR | min | vs hand | vs torch |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in report["rows"]:
            if r["suite"] != s:
                continue
            u = r.get("unit", "s")
            lines.append(f"| {r['case']} | {r['impl']} | {r['device']} | {_fmt_value(r.get('median'), u)} | "
                         f"{_fmt_value(r.get('iqr'), u)} | {_fmt_value(r.get('min'), u)} | "
                         f"{_fmt_ratio(r.get('vs_hand'))} | {_fmt_ratio(r.get('vs_torch'))} |")
        lines.append("")
    if report.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in report["notes"]] + [""]
    if report.get("plots"):
        lines += ["## Plots", ""] + [f"![{os.path.basename(p)}]({os.path.basename(p)})" for p in report["plots"]] + [""]
    return "\n".join(lines)


def ratio_plot(rows, suite, path, title=None):
    """Bar chart of each implementation's time relative to the hand-written column, per case."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = [r for r in rows if r["suite"] == suite and r.get("vs_hand") is not None and r.get("unit", "s") == "s"]
    if not rs:
        return None
    cases = []
    for r in rs:
        key = f"{r['case']} [{r['device']}]"
        if key not in cases:
            cases.append(key)
    impls = []
    for r in rs:
        if r["impl"] not in impls:
            impls.append(r["impl"])
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(cases) * len(impls)), 4))
    w = 0.8 / len(impls)
    for j, impl in enumerate(impls):
        vals = []
        for c in cases:
            r = next((r for r in rs if f"{r['case']} [{r['device']}]" == c and r["impl"] == impl), None)
            vals.append(r["vs_hand"] if r else math.nan)
        ax.bar([i + j * w for i in range(len(cases))], vals, w, label=impl)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks([i + 0.4 - w / 2 for i in range(len(cases))])
    ax.set_xticklabels(cases, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("time / hand-written time")
    ax.set_title(title or suite)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_reports(report, out):
    os.makedirs(out, exist_ok=True)
    stem = "benchmarks_quick" if report["quick"] else "benchmarks"
    jpath = os.path.join(out, stem + ".json")
    mpath = os.path.join(out, stem + ".md")

    def default(o):
        try:
            return float(o)
        except Exception:
            return str(o)

    with open(jpath, "w") as f:
        json.dump(report, f, indent=1, default=default)
    with open(mpath, "w") as f:
        f.write(markdown(report))
    return jpath, mpath
