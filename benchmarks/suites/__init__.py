"""Benchmark suites, runnable by name. Each module has ``run(ctx)`` (ctx: ``harness.Context``)."""
from __future__ import annotations

import importlib

SUITES = {
    "overhead": "per-op overhead on tiny tensors (forward, forward+backward) and a 20-op chain",
    "mlp": "MLP 784-512-512-10, batch 256, float32: one SGD step with cross-entropy",
    "cnn": "small CNN training step on 28x28, batch 64",
    "deep_forward": "10-layer x 500-unit tanh forward on a 1000x500 input",
    "sweep": "MLP step over batch B, width m, depth L (cost O(B m^2 L)), log-log plot",
    "memory": "peak memory (tracemalloc) of an MLP step against batch size",
    "rnn": "LSTM training step (B=64, T=40, H=128) and a causal attention block fwd+bwd (B=16, T=64, d=64, 4 heads)",
    "distributed": "data parallel on the CPU (mpiexec): all-reduce time vs message size; MLP/CNN steps on 1 and 2 "
                   "processes, scaling efficiency",
    "lstsq": "GD vs SGD on least squares, X 10000x500: time per iteration and loss per epoch",
}


def get(name):
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; choose from {', '.join(SUITES)}")
    return importlib.import_module(f"{__name__}.{name}")
