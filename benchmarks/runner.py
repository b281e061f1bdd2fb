"""Run suites and write reports: ``run(suites, quick, out)`` and the command line ``main(argv)``."""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from . import harness
from . import suites as _suites

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _devices():
    from .models import gpu_available

    return ["cpu", "cuda"] if gpu_available() else ["cpu"]


def targets(rows):
    """The issue's speed targets, evaluated from the rows of this run (None where not measured)."""
    def get(suite, case, impl, device="cpu"):
        return next((r for r in rows if r["suite"] == suite and r["case"] == case and r["impl"] == impl
                     and r["device"] == device), None)

    out = []

    def add(name, row, key, goal, limit, fmt="{:.2f}x"):
        v = row.get(key) if row else None
        out.append({"name": name, "measured": "-" if v is None else fmt.format(v), "value": v,
                    "goal": goal, "met": None if v is None else v <= limit})

    mlp = get("mlp", "step B=256", "tinygrad_dnn")
    add("MLP step vs PyTorch CPU", mlp, "vs_torch", "<= 1.0x", 1.0)
    add("MLP step vs hand-written NumPy", mlp, "vs_hand", "<= 1.0x", 1.0)
    # per-op forward overhead = tinygrad_dnn time minus the raw NumPy time of the same math (4x4 tensors)
    for kind in ("fwd", "fwd+graph"):
        over = []
        for r in rows:
            if r["suite"] == "overhead" and r["impl"] == "tinygrad_dnn" and r["case"].startswith(kind + " "):
                base = get("overhead", r["case"], "numpy")
                if base:
                    over.append((r["median"] - base["median"], r["case"]))
        if over:
            worst, case = max(over)
            out.append({"name": f"per-op forward overhead, {'inputs requiring grad' if kind != 'fwd' else 'no grad'} "
                                f"(worst: {case.split(' ', 1)[1]}; median over ops {sorted(o for o, _ in over)[len(over) // 2] * 1e6:.2f} us)",
                        "measured": f"{worst * 1e6:.2f} us", "value": worst, "goal": "<= 3.5 us", "met": worst <= 3.5e-6})
    add("20-op chain fwd+bwd vs PyTorch", get("overhead", "chain20 fwd+bwd", "tinygrad_dnn"), "vs_torch", "<= 2.0x", 2.0)
    add("small CNN step vs PyTorch CPU", get("cnn", "step B=64", "tinygrad_dnn"), "vs_torch", "<= 2.0x", 2.0)
    add("peak memory of the MLP step (B=256) vs hand-written NumPy", get("memory", "peak B=256", "tinygrad_dnn"),
        "vs_hand", "<= 1.2x", 1.2)
    mem = [r for r in rows if r["suite"] == "memory" and r["impl"] == "tinygrad_dnn" and r.get("vs_hand")]
    if mem:
        worst = max(mem, key=lambda r: r["vs_hand"])
        add(f"peak memory of MLP step vs hand-written NumPy (worst: {worst['case']})", worst, "vs_hand", "<= 1.2x", 1.2)
    gpu = get("mlp", "step B=4096", "tinygrad_dnn", "cuda")
    if gpu:
        add("CuPy MLP step vs PyTorch CUDA (B=4096)", gpu, "vs_torch", "<= 1.2x", 1.2)
    return out


def run(suites=None, quick=False, out=None, verbose=True, threads=None):
    """Run the named suites (all when None/empty) with ``threads`` CPU threads (default: every core) in
    NumPy's BLAS and in PyTorch; write JSON/Markdown/PNG under ``out``; return the report."""
    quick = quick or os.environ.get("TINYGRAD_DNN_BENCH_QUICK", "") not in ("", "0")
    out = out or DEFAULT_OUT
    names = list(suites) if suites else list(_suites.SUITES)
    for n in names:
        _suites.get(n)  # fail early on an unknown name
    os.makedirs(out, exist_ok=True)
    threads = harness.configure_threads(threads)
    ctx = harness.Context(quick=quick, out=out, devices=_devices())
    failures = {}
    for n in names:
        ctx.suite = n
        t0 = time.perf_counter()
        if verbose:
            print(f"[bench] {n}: {_suites.SUITES[n]}", file=sys.stderr, flush=True)
        try:
            _suites.get(n).run(ctx)
        except Exception as e:  # a broken suite must not hide the others' results
            failures[n] = "".join(traceback.format_exception(e))
            ctx.note(f"FAILED: {type(e).__name__}: {e}")
            if verbose:
                traceback.print_exc()
        if verbose:
            print(f"[bench] {n} done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    harness.add_ratios(ctx.rows)
    stem = "_quick" if quick else ""
    for n in names:
        p = harness.ratio_plot(ctx.rows, n, os.path.join(out, f"{n}_ratios{stem}.png"))
        if p:
            ctx.plots.append(p)
    report = {"quick": quick, "suites": names, "environment": harness.environment(threads),
              "rows": ctx.rows, "notes": ctx.notes, "plots": [os.path.basename(p) for p in ctx.plots],
              "series": ctx.series, "failures": failures}
    report["targets"] = targets(ctx.rows)
    jpath, mpath = harness.write_reports(report, out)
    report["paths"] = {"json": jpath, "markdown": mpath}
    if verbose:
        print(harness.markdown(report))
        print(f"[bench] wrote {jpath} and {mpath}", file=sys.stderr)
    return report


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description="tinygrad_dnn benchmarks: "
                                "tinygrad_dnn vs hand-written NumPy/CuPy vs PyTorch, same process, same threads.")
    p.add_argument("suites", nargs="*", help=f"suites to run (default: all): {', '.join(_suites.SUITES)}")
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run (also TINYGRAD_DNN_BENCH_QUICK=1)")
    p.add_argument("--out", default=None, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for NumPy's BLAS and PyTorch alike (default: every core)")
    p.add_argument("--list", action="store_true", help="list the suites and exit")
    a = p.parse_args(argv)
    if a.list:
        for k, v in _suites.SUITES.items():
            print(f"{k:14s} {v}")
        return 0
    report = run(a.suites, a.quick, a.out, threads=a.threads)
    return 1 if report["failures"] else 0
