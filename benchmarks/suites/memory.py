"""(6) Peak memory of one MLP (784-512-512-10) training step against batch size (O(B m L) activations).

Measured with tracemalloc (NumPy reports its buffers to it): peak bytes above what was live before
the step, after one warm-up step (so gradients/optimizer state from the previous step are counted as
they are in a training loop). PyTorch's allocator is invisible to tracemalloc and is not shown.
On a GPU the same rows are recorded with device ``cuda`` from CuPy's memory pool (tinygrad_dnn and
hand-written CuPy) and PyTorch's CUDA allocator, beside the CPU's.
"""
from __future__ import annotations

import numpy as np

from ..harness import gpu_peak_memory, peak_memory, torch_cuda_peak_memory
from ..models import HandMLP, TgMLP, TorchMLP, cupy_or_none, gpu_available, init_weights, make_batch


def run(ctx):
    weights = init_weights([784, 512, 512, 10])
    batches = [32, 64] if ctx.quick else [64, 128, 256, 512, 1024, 2048]
    for B in batches:
        x, y = make_batch(B, 784, 10)
        for impl, model in (("tinygrad_dnn", TgMLP(weights, "cpu")), ("numpy", HandMLP(weights, np))):
            model.set_batch(x, y)
            peak = peak_memory(model.step, warmup=2)
            ctx.record(f"peak B={B}", impl, {"median": peak, "min": peak, "iqr": 0}, unit="B", B=B)
        if "cuda" in ctx.devices and gpu_available():
            _gpu_rows(ctx, weights, B, x, y)
    ctx.note("memory rows: values are bytes (tracemalloc peak during one step above the live baseline); "
             "weights (2.6 MiB) are not included, activations/gradients/temporaries are.")


def _gpu_rows(ctx, weights, B, x, y):
    cupy = cupy_or_none()
    impls = [("tinygrad_dnn", TgMLP(weights, "cuda")), ("cupy", HandMLP(weights, cupy))]
    for impl, model in impls:
        model.set_batch(x, y)
        peak = gpu_peak_memory(model.step, warmup=2)
        if peak is not None:
            ctx.record(f"peak B={B}", impl, {"median": peak, "min": peak, "iqr": 0}, device="cuda", unit="B", B=B)
    try:
        import torch
    except ImportError:
        return
    if torch.cuda.is_available():
        model = TorchMLP(weights, "cuda")
        model.set_batch(x, y)
        peak = torch_cuda_peak_memory(torch, model.step, warmup=2)
        ctx.record(f"peak B={B}", "torch", {"median": peak, "min": peak, "iqr": 0}, device="cuda", unit="B", B=B)
