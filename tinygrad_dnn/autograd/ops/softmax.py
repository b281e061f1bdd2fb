"""Softmax and log-softmax along one dim, computed stably (the max is subtracted first).

float16 inputs are computed in float32 and rounded once (as PyTorch): a float16 sum of exps overflows
at 65504, so a softmax over 65504 or more classes would be all zeros.
"""
from __future__ import annotations

from ..function import Function
from .reduce import _acc


class Softmax(Function):
    """y_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j;  dL/dx = y * (g - sum(g * y))."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = x.backend.xp
        ctx.dim = dim
        d, acc = x._data, _acc(xp, x._data)
        if acc is not None:
            d = xp.astype(d, acc)
        e = xp.exp(d - xp.max(d, axis=dim, keepdims=True))
        e /= xp.sum(e, axis=dim, keepdims=True)
        return xp.astype(e, x._data.dtype) if acc is not None else e

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return y * (g - (g * y).sum(dim=ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    """y = x - m - log sum_j exp(x_j - m);  dL/dx = g - softmax(x) * sum(g)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = x.backend.xp
        ctx.dim = dim
        d, acc = x._data, _acc(xp, x._data)
        if acc is not None:
            d = xp.astype(d, acc)
        s = d - xp.max(d, axis=dim, keepdims=True)
        s -= xp.log(xp.sum(xp.exp(s), axis=dim, keepdims=True))
        return xp.astype(s, x._data.dtype) if acc is not None else s

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return g - y.exp() * g.sum(dim=ctx.dim, keepdim=True), None
