"""(4) The lectures' 10-layer x 500-unit tanh network, forward only, on a 1000x500 float32 input.

Measured with the parameters requiring grad (the graph is recorded, as in training) and under
``no_grad`` (inference); hand-written NumPy/CuPy is ``tanh(h @ W.T + b)`` with in-place kernels.
"""
from __future__ import annotations

import numpy as np

from ..models import cupy_or_none, init_weights, torch_cuda


def run(ctx):
    import tinygrad_dnn as tg
    from tinygrad_dnn.autograd.ops.linalg import Linear

    torch = ctx.torch
    weights = init_weights([500] * 11)
    x_np = np.random.default_rng(1).standard_normal((1000, 500)).astype(np.float32)
    for device in ctx.devices:
        # tinygrad_dnn
        ps = [(tg.tensor(w, device=device, requires_grad=True), tg.tensor(b, device=device, requires_grad=True))
              for w, b in weights]
        x = tg.tensor(x_np, device=device)
        be = x.backend

        def tg_fwd():
            h = x
            for w, b in ps:
                h = Linear.apply(h, w, b).tanh()
            return h

        def tg_fwd_nograd():
            with tg.no_grad():
                return tg_fwd()
        ctx.record("forward (graph)", "tinygrad_dnn", ctx.timeit(tg_fwd, sync=be.synchronize), device=device)
        ctx.record("forward (no_grad)", "tinygrad_dnn", ctx.timeit(tg_fwd_nograd, sync=be.synchronize), device=device)
        # hand-written
        xp = np if device == "cpu" else cupy_or_none()
        W = [(xp.asarray(w), xp.asarray(b)) for w, b in weights]
        xh = xp.asarray(x_np)
        sync = (lambda: None) if xp is np else xp.cuda.Device().synchronize

        def hand():
            h = xh
            for w, b in W:
                z = h @ w.T
                z += b
                xp.tanh(z, out=z)
                h = z
            return h
        name = "numpy" if xp is np else "cupy"
        for case in ("forward (graph)", "forward (no_grad)"):
            ctx.record(case, name, ctx.timeit(hand, sync=sync), device=device)
        # PyTorch
        if torch is not None and (device == "cpu" or torch_cuda(torch)):
            tp = [(torch.tensor(w, device=device, requires_grad=True), torch.tensor(b, device=device, requires_grad=True))
                  for w, b in weights]
            xt = torch.tensor(x_np, device=device)
            F = torch.nn.functional
            tsync = torch.cuda.synchronize if device == "cuda" else None

            def t_fwd():
                h = xt
                for w, b in tp:
                    h = torch.tanh(F.linear(h, w, b))
                return h

            def t_nograd():
                with torch.no_grad():
                    return t_fwd()
            ctx.record("forward (graph)", "torch", ctx.timeit(t_fwd, sync=tsync), device=device)
            ctx.record("forward (no_grad)", "torch", ctx.timeit(t_nograd, sync=tsync), device=device)
