"""Shared small problems for the optimizer tests (float64, deterministic)."""
import numpy as np

import tinygrad_dnn as tg

RNG = np.random.default_rng(1234)
X = RNG.normal(size=(5, 4))
W0 = RNG.normal(size=(4, 3)) * 0.5
B0 = RNG.normal(size=(3,)) * 0.1


def make_params(device, lib=tg):
    """Two float64 leaf parameters (W, b) in ``lib`` (tinygrad_dnn or torch)."""
    if lib is tg:
        return [tg.tensor(W0, dtype=tg.float64, device=device, requires_grad=True),
                tg.tensor(B0, dtype=tg.float64, device=device, requires_grad=True)]
    return [lib.tensor(W0, dtype=lib.float64, requires_grad=True),
            lib.tensor(B0, dtype=lib.float64, requires_grad=True)]


def loss_fn(params, lib=tg, sign=1.0, device=None):
    """A smooth non-quadratic loss: sum(tanh(X W + b)^2) + 0.1 sum(W^4) (times ``sign``)."""
    W, b = params
    x = lib.tensor(X, dtype=lib.float64, device=device) if lib is tg else lib.tensor(X, dtype=lib.float64)
    h = (x @ W + b).tanh()
    return ((h * h).sum() + 0.1 * (W ** 4).sum()) * sign


def to_np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
