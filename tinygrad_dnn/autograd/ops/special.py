"""Special functions and other logarithms: ``erf``, ``log2``, ``log10``."""
from __future__ import annotations

import math

from ..function import Function


class Erf(Function):
    """y = erf(x);  dL/dx = dL/dy * 2/sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.erf(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((-(x * x)).exp() * (2.0 / math.sqrt(math.pi)))


class Log2(Function):
    """y = log2(x);  dL/dx = dL/dy / (x ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.log2(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * math.log(2.0))


class Log10(Function):
    """y = log10(x);  dL/dx = dL/dy / (x ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.log10(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * math.log(10.0))
