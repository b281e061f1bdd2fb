"""(2) The lectures' MLP 784-512-512-10, batch 256, float32, one SGD training step (cross-entropy)."""
from __future__ import annotations

from ..models import init_weights, make_batch, mlp_impls, tg_api


def run(ctx):
    sizes = [784, 512, 512, 10]
    weights = init_weights(sizes)
    batches = [256] + ([] if ctx.quick else [1024]) + (["gpu-large"] if "cuda" in ctx.devices else [])
    for B in batches:
        devices = ctx.devices
        if B == "gpu-large":  # the GPU target is stated at batch >= 1024
            B, devices = 4096, ["cpu", "cuda"]
        x, y = make_batch(B, sizes[0], sizes[-1])
        for impl, device, m in mlp_impls(ctx, weights, devices=devices):
            m.set_batch(x, y)
            st = ctx.timeit(m.step, sync=m.sync, repeats=15 if not ctx.quick else 3)
            ctx.record(f"step B={B}", impl, st, device=device,
                       api=tg_api() if impl == "tinygrad_dnn" else None)
    ctx.note(f"tinygrad_dnn API used: {tg_api()}; all three start from the same float32 weights; "
             "the update is plain SGD lr=0.1; zero_grad sets grads to None.")
