"""Matrix products."""
from __future__ import annotations

from ..function import Function
from .shape import Permute


def _mT(t):
    """``t`` with its last two dims swapped (a plain op: backward formulas need no view bookkeeping)."""
    n = t._data.ndim
    return Permute.apply(t, tuple(range(n - 2)) + (n - 1, n - 2))


class MatMul(Function):
    """C = A @ B (NumPy matmul rules: 1-D operands are promoted and the added dim removed,
    batch dims broadcast).  dA = dC @ B^T,  dB = A^T @ dC."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._data @ b._data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:  # dot product, g is a scalar
            ga = g * b if need_a else None
            gb = g * a if need_b else None
        elif a.ndim == 1:  # (k) @ (..., k, n) -> (..., n)
            if need_a:
                ga = (g.unsqueeze(-2) @ b.mT).squeeze(-2)
            if need_b:
                gb = a.unsqueeze(-1) @ g.unsqueeze(-2)
        elif b.ndim == 1:  # (..., m, k) @ (k) -> (..., m)
            if need_a:
                ga = g.unsqueeze(-1) @ b.unsqueeze(-2)
            if need_b:
                gb = (a.mT @ g.unsqueeze(-1)).squeeze(-1)
        else:  # shapes agree by construction: the Functions directly, no operator checks
            if need_a:
                ga = MatMul.apply(g, _mT(b))
            if need_b:
                gb = MatMul.apply(_mT(a), g)
        return ga, gb


class Linear(Function):
    """y = x W^T + b (``W`` is (out_features, in_features), as PyTorch).

    dx = dy W,  dW = dy^T x (summed over all leading dims),  db = dy summed over leading dims (by the engine).
    One fused op instead of transpose + matmul + add: fewer nodes and temporaries per layer.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        y = x._data @ w._data.T
        if b is not None:
            y += b._data
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = MatMul.apply(g, w) if need[0] else None
        gw = gb = None
        if need[1]:
            if x.ndim == 2:
                gw = MatMul.apply(_mT(g), x)
            else:
                gw = g.reshape(-1, g.shape[-1]).mT @ x.reshape(-1, x.shape[-1])
        if len(need) > 2 and need[2]:
            gb = g  # of y's shape: the engine sums it down to b's (out_features,)
        return gx, gw, gb
