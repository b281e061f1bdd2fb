"""Loss Functions fused for PyTorch's exact numerics: ``BinaryCrossEntropy`` (log clamped at -100, torch's
finite gradient) and ``BCEWithLogits`` (stable log-sigmoid, torch's one-factor backward). The other losses
are compositions of Tensor ops in ``nn/functional/loss.py``.
"""
from __future__ import annotations

import math

from ..function import Function
from . import activation as Act

_BCE_EPS = 1e-12  # PyTorch's EPSILON in binary_cross_entropy_backward


class BinaryCrossEntropy(Function):
    """l = -[y max(log x, -100) + (1 - y) max(log(1 - x), -100)] per element (log(1 - x) as log1p(-x)), as PyTorch.

    dl/dx = (x - y) / max(x (1 - x), 1e-12)   (finite at x = 0 and x = 1: a saturated correct prediction
    gets gradient 0, a saturated wrong one a large finite gradient, never nan);
    dl/dy = log(1 - x) - log x (not clamped, as PyTorch).
    """

    @staticmethod
    def forward(ctx, x, y):
        xp = x.backend.xp
        ctx.save_for_backward(x, y)
        d = x._data
        lo = xp.asarray(-100.0, dtype=d.dtype, device=x.backend.device)
        return -(y._data * xp.maximum(xp.log(d), lo) + (1.0 - y._data) * xp.maximum(xp.log1p(-d), lo))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = g * (x - y) / ((1.0 - x) * x).clamp(min=_BCE_EPS) if need[0] else None
        gy = g * ((-x).log1p() - x.log()) if need[1] else None  # unclamped, as PyTorch (+-inf at x = 0, 1)
        return gx, gy


class BCEWithLogits(Function):
    """l = (1 - y) x + (1 + (p - 1) y) softplus(-x) per element (p = pos_weight, 1 if absent), the stable form
    of -[p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].

    dl/dx = (p y + 1 - y) sigmoid(x) - p y  (sigmoid(x) - y without p);  dl/dy = p softplus(-x) - softplus(x)
    (-x without p); p gets none (PyTorch: not differentiable in pos_weight or weight).  PyTorch's binary_cross_entropy_with_logits_backward: the
    derivative is one factor times g, so an infinite g gives +-inf, not inf - inf = nan from a sum of terms.
    """

    @staticmethod
    def forward(ctx, x, y, pw=None):
        xp = x.backend.xp
        ctx.save_for_backward(x, y, pw)
        d = x._data
        sp = xp.logaddexp(xp.zeros_like(d), -d)  # softplus(-x) = -log sigmoid(x)
        lw = 1.0 if pw is None else 1.0 + (pw._data - 1.0) * y._data
        return (1.0 - y._data) * d + lw * sp

    @staticmethod
    def backward(ctx, g):
        x, y, pw = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gy = None
        if pw is None:
            if need[0]:
                gx = (x.sigmoid() - y) * g
            if need[1]:
                gy = -x * g
            return gx, gy, None
        t = pw * y
        if need[0]:
            gx = ((t + 1.0 - y) * x.sigmoid() - t) * g
        if need[1]:  # log_sigmoid(-x) - p log_sigmoid(x)
            gy = (pw * Act.Softplus.apply(-x, 1.0, math.inf) - Act.Softplus.apply(x, 1.0, math.inf)) * g
        return gx, gy, None
