"""(5) MLP training step over batch B, width m and depth L (cost O(B m^2 L)), with a log-log plot.

Network: m inputs, L hidden relu layers of width m, 10 outputs; one SGD step (cross-entropy).
One factor varies at a time around the base point (B=256, m=512, L=2).
"""
from __future__ import annotations

import os

from ..models import init_weights, make_batch, mlp_impls


def grid(quick):
    if quick:
        base = {"B": 32, "m": 64, "L": 1}
        return base, {"B": [16, 64], "m": [32, 128], "L": [1, 2]}
    base = {"B": 256, "m": 512, "L": 2}
    return base, {"B": [32, 64, 128, 256, 512, 1024, 2048], "m": [64, 128, 256, 512, 1024, 2048],
                  "L": [1, 2, 4, 8]}


def run(ctx):
    base, axes = grid(ctx.quick)
    points = []
    measured = {}
    for axis, values in axes.items():
        for v in values:
            cfg = dict(base, **{axis: v})
            points.append((axis, cfg))
    series = ctx.series.setdefault("sweep", [])
    for axis, cfg in points:
        B, m, L = cfg["B"], cfg["m"], cfg["L"]
        key = (B, m, L)
        sizes = [m] * (L + 1) + [10]
        weights = init_weights(sizes)
        x, y = make_batch(B, m, 10)
        for impl, device, model in mlp_impls(ctx, weights):
            model.set_batch(x, y)
            case = f"B={B} m={m} L={L}"
            st = measured.get((key, impl, device))
            if st is None:  # the base point appears on every axis: measure and record it once
                st = ctx.timeit(model.step, sync=model.sync, repeats=5 if not ctx.quick else 3)
                measured[(key, impl, device)] = st
                ctx.record(case, impl, st, device=device, B=B, m=m, L=L, cost=B * m * m * L)
            series.append({"axis": axis, "B": B, "m": m, "L": L, "impl": impl, "device": device,
                           "median": st["median"], "cost": B * m * m * L})
    plot(series, os.path.join(ctx.out, "sweep_loglog" + ("_quick" if ctx.quick else "") + ".png"), ctx)


def plot(series, path, ctx):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 3, figsize=(14, 4))
    styles = {}
    for ax, axis in zip(axs, ("B", "m", "L")):
        for s in sorted({(r["impl"], r["device"]) for r in series}):
            pts = sorted((r[axis], r["median"]) for r in series if r["axis"] == axis and (r["impl"], r["device"]) == s)
            if pts:
                line, = ax.loglog([p[0] for p in pts], [p[1] * 1e3 for p in pts], "o-",
                                  label=f"{s[0]} [{s[1]}]", color=styles.get(s))
                styles[s] = line.get_color()
        ax.set_xlabel(axis)
        ax.set_ylabel("step time (ms)")
        ax.set_title(f"vary {axis}")
        ax.grid(True, which="both", alpha=0.3)
    axs[0].legend(fontsize=8)
    fig.suptitle("MLP step time vs B, m, L (expected slopes: 1, 2, 1 once compute-bound)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    ctx.plots.append(path)
