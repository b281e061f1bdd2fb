"""Softmax and log-softmax along one dim, computed stably (the max is subtracted first)."""
from __future__ import annotations

from ..function import Function


class Softmax(Function):
    """y_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j;  dL/dx = y * (g - sum(g * y))."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = x.backend.xp
        ctx.dim = dim
        e = xp.exp(x._data - xp.max(x._data, axis=dim, keepdims=True))
        e /= xp.sum(e, axis=dim, keepdims=True)
        return e

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
        s = x._data - xp.max(x._data, axis=dim, keepdims=True)
        s -= xp.log(xp.sum(xp.exp(s), axis=dim, keepdims=True))
        return s

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return g - y.exp() * g.sum(dim=ctx.dim, keepdim=True), None
