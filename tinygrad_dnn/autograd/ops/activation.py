"""Activation functions: tanh, sigmoid, relu, leaky relu, elu, gelu (and the normal CDF), silu, mish,
softplus, hardtanh."""
from __future__ import annotations

import math

from ..function import Function
from .elementwise import Where, _clamp, _const, _mask, _select


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y^2."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x.backend.xp.tanh(x._data)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return g * (1.0 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x), computed stably;  dy/dx = y (1 - y).

    With e = e^-|x| (never overflows): y = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, so
    y keeps full relative precision for very negative x (sigmoid(-20) = 2.06e-9 in float32, not 0).
    """

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        xp = x.backend.xp
        d = x._data
        e = xp.exp(-xp.abs(d))
        r = 1.0 / (1.0 + e)
        return xp.where(d >= 0, r, e * r)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return g * (y * (1.0 - y))


class Relu(Function):
    """y = max(x, 0);  dy/dx = 1 if x > 0 else 0. Integer input gives an integer result, as PyTorch."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        d = x._data
        if d.dtype not in x.backend.float_dtypes:
            return x.backend.xp.maximum(d, x.backend.xp.zeros_like(d))
        return x.backend.xp.maximum(0.0, d)  # NumPy returns the 2nd argument on ties: relu(-0.0) = -0.0 as torch

    @staticmethod
    def backward(ctx, g):
        y = ctx.output_data()[0]
        keep = g.backend.xp.logical_not(y <= 0)  # relu'(nan) = 1, as PyTorch (y = nan is not <= 0)
        return _select(g, keep)


class LeakyRelu(Function):
    """y = x if x > 0 else slope * x;  dy/dx = 1 or slope."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        xp = x.backend.xp
        return xp.where(x._data > 0, x._data, x._data * slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        pos = _mask(x, x._data > 0)
        return g * (pos * (1.0 - ctx.slope) + ctx.slope), None


class Elu(Function):
    """y = x if x > 0 else alpha (e^x - 1);  dy/dx = alpha e^x where x <= 0, else 1 (also at nan: PyTorch's
    elu_backward formula, x <= 0 ? ... : g, which its scalar loop computes; its SIMD loop, used on parts of
    larger tensors, gives nan there instead)."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        xp = x.backend.xp
        d = x._data
        pos = d > 0
        return xp.where(pos, d, alpha * xp.expm1(xp.where(pos, xp.zeros_like(d), d)))  # elu(-0.0) = -0.0

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        neg = _const(x, x._data <= 0)
        return Where.apply(neg, g * (x.clamp(max=0.0).exp() * ctx.alpha), g), None


class NormalCdf(Function):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2;  dPhi/dx = exp(-x^2/2) / sqrt(2 pi)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (1.0 + x.backend.erf(x._data * (1.0 / math.sqrt(2.0))))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x * x) * -0.5).exp() * (1.0 / math.sqrt(2.0 * math.pi))


_GELU_K = math.sqrt(2.0 / math.pi)  # tanh approximation: 0.5 x (1 + tanh(K (x + 0.044715 x^3)))


class Gelu(Function):
    """y = x Phi(x) (Phi = standard normal CDF); ``approximate='tanh'``: y = 0.5 x (1 + tanh(K (x + c x^3))),
    K = sqrt(2/pi), c = 0.044715.

    dy/dx = Phi(x) + x phi(x) (phi the normal density);  tanh: 0.5 (1 + t) + 0.5 x (1 - t^2) K (1 + 3 c x^2).
    The backward multiplies g by that derivative as one factor, as PyTorch's gelu_backward: an infinite g
    at a large x gives inf, not inf * 0 = nan from a product rule through x * Phi(x).
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.tanh = approximate == "tanh"
        d = x._data
        if ctx.tanh:
            return 0.5 * d * (1.0 + x.backend.xp.tanh(_GELU_K * (d + 0.044715 * (d * d * d))))
        return d * (0.5 * (1.0 + x.backend.erf(d * (1.0 / math.sqrt(2.0)))))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.tanh:
            x2 = x * x
            t = (_GELU_K * (x + 0.044715 * (x2 * x))).tanh()
            return g * (0.5 * (1.0 + t) + (0.5 * x) * (1.0 - t * t) * (_GELU_K * (1.0 + 0.134145 * x2))), None
        pdf = ((x * x) * -0.5).exp() * (1.0 / math.sqrt(2.0 * math.pi))
        return g * (NormalCdf.apply(x) + x * pdf), None


class Silu(Function):
    """y = x sigmoid(x);  dy/dx = s (1 + x (1 - s)), s = sigmoid(x), applied as PyTorch's silu_backward
    (g s) (1 + x (1 - s)): one factor, so an infinite g stays infinite where the derivative is finite."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data * Sigmoid.forward(ctx, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return (g * s) * (1.0 + x * (1.0 - s))


class Mish(Function):
    """y = x tanh(softplus(x));  dy/dx = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x)) (PyTorch's
    mish_backward, one factor times g)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp = x.backend.xp
        d = x._data
        return d * xp.tanh(xp.logaddexp(xp.zeros_like(d), d))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = Softplus.apply(x, 1.0, math.inf).tanh()
        return g * (t + x * x.sigmoid() * (1.0 - t * t))


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta (y = x where beta x > threshold);  dy/dx = sigmoid(beta x)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        xp = x.backend.xp
        bx = x._data * beta
        soft = xp.logaddexp(xp.zeros_like(bx), bx) / beta
        return xp.where(bx > threshold, x._data, soft)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lin = _mask(x, x._data * ctx.beta > ctx.threshold)
        return g * (lin + (1.0 - lin) * (x * ctx.beta).sigmoid()), None, None


class Hardtanh(Function):
    """y = min(max(x, lo), hi) (hardtanh, relu6);  dy/dx = 0 at and beyond the bounds, else 1 (PyTorch's
    hardtanh_backward, (x <= lo or x >= hi) ? 0 : g). So 1 at nan, as the formula and PyTorch's scalar loop
    give; its SIMD loop, used on parts of larger tensors, gives 0 there. ``clamp`` differs: 1 at the bounds,
    0 at nan."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return _clamp(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = x._data
        return _select(g, g.backend.xp.logical_not((d <= ctx.lo) | (d >= ctx.hi))), None, None
