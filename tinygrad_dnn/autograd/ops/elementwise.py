"""Elementwise ops. Backward formulas are written with Tensor ops so they differentiate again."""
from __future__ import annotations

import math

from ..function import Function
from ..grad_mode import _grad_enabled


def _d(x):
    """Raw array of a Tensor, or the Python scalar itself."""
    return x if type(x) in _SCALARS else x._data


_SCALARS = {int, float, bool}


def _const(ref, arr):
    """A constant (non-differentiable) Tensor on ``ref``'s backend."""
    from ..tensor import _wrap

    return _wrap(arr, ref.backend)


def _mask(ref, cond):
    """Float 0/1 constant with ``ref``'s dtype from a boolean array."""
    return _const(ref, ref.backend.xp.astype(cond, ref._data.dtype))


def _select(g, cond):
    """``g`` where ``cond`` (a boolean array of g's shape) else exactly 0, differentiable in ``g``.

    A select, not ``g * mask``: PyTorch's backward formulas use where / masked_fill, so an inf or nan
    arriving from upstream gives 0 outside ``cond`` (inf * 0 would be nan)."""
    if not _grad_enabled[0]:  # first order: one backend kernel
        return _const(g, g.backend.masked(g._data, cond))
    return Where.apply(_const(g, cond), g, _const(g, g.backend.xp.zeros_like(g._data)))


def _zeros(g):
    """A zero gradient of g's shape (PyTorch's zeros_like(grad): 0 even where g is inf or nan)."""
    return _const(g, g.backend.xp.zeros_like(g._data))


# ----------------------------------------------------------------- arithmetic
class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1 (broadcast undone by the engine)."""

    @staticmethod
    def forward(ctx, a, b):
        return _d(a) + _d(b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return _d(a) - _d(b)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx_tensor(a) else None, b if ctx_tensor(b) else None)
        ctx.scalars = (a, b)
        return _d(a) * _d(b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.saved_tensors
        a = sa if sa is not None else ctx.scalars[0]
        b = sb if sb is not None else ctx.scalars[1]
        need = ctx.needs_input_grad
        return (g * b if need[0] else None), (g * a if need[1] else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -(a/b)/b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx_tensor(a) else None, b if ctx_tensor(b) else None)
        ctx.scalars = (a, b)
        return _d(a) / _d(b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.saved_tensors
        a = sa if sa is not None else ctx.scalars[0]
        b = sb if sb is not None else ctx.scalars[1]
        need = ctx.needs_input_grad
        ga = g / b if need[0] else None
        gb = -g * ((a / b) / b) if need[1] else None  # PyTorch's order: b * b would overflow first
        return ga, gb


class Neg(Function):
    """z = -a."""

    @staticmethod
    def forward(ctx, a):
        return -a._data

    @staticmethod
    def backward(ctx, g):
        return -g


class PowScalar(Function):
    """z = a^p for a constant p;  dz/da = p a^(p-1), and exactly 0 for p = 0 (also at a = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, p):
        ctx.save_for_backward(a)
        ctx.p = p
        if p == 2:
            return a._data * a._data
        return a._data ** p

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.p
        if p == 2:
            return g * (2.0 * a), None
        if p == 1:
            return g, None
        if p == 0:  # d/da a^0 = 0 everywhere, not 0 * 0^-1 = nan at a = 0 (and 0 where g is nan, as PyTorch)
            return _zeros(g), None
        return g * (p * a ** (p - 1)), None


class Pow(Function):
    """z = a^b (both may be tensors);  dz/da = b a^(b-1), dz/db = a^b log a.

    PyTorch's conventions where the formulas break down: dz/da = 0 where b = 0 (also at a = 0),
    dz/db = 0 where a = 0 and b >= 0; log a of a negative base is nan (not an error).
    """

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx_tensor(a) else None, b if ctx_tensor(b) else None)
        ctx.scalars = (a, b)
        return _d(a) ** _d(b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.saved_tensors
        a = sa if sa is not None else ctx.scalars[0]
        b = sb if sb is not None else ctx.scalars[1]
        need = ctx.needs_input_grad
        ga = gb = None
        if need[0]:
            ga = g * b * a ** (b - 1)
            if sb is None:
                if b == 0:
                    ga = _zeros(g)
            elif bool(sb.backend.xp.any(sb._data == 0)):  # d/da a^0 = 0, even at a = 0
                ga = _zero_where(ga, sb._data == 0)
        if need[1]:
            xp = sb.backend.xp
            if sa is not None:  # log of 1 instead of 0 where the result is 0 (keeps nan out of higher orders)
                hole = (sa._data == 0) & (sb._data >= 0)
                loga = _safe_where(hole, 1.0, a).log() if bool(xp.any(hole)) else a.log()
            elif a == 0:  # Python scalar base 0: log 0 = -inf only matters where b < 0 (0^b = inf)
                loga = _const(sb, xp.where(sb._data >= 0, xp.zeros_like(sb._data), xp.full_like(sb._data, -math.inf)))
            else:  # math.log would raise for a < 0; the log of a negative base is nan, as PyTorch
                loga = math.log(a) if a > 0 else math.nan
            gb = g * ctx.output() * loga
        return ga, gb


def _safe_where(cond, value, t):
    from ..creation import where

    return where(_const(t, cond), value, t)


def _zero_where(t, cond):
    """``t`` with the entries where ``cond`` (a boolean array) replaced by exact zeros (differentiable in t)."""
    from ..creation import where

    return where(_const(t, cond), 0.0, t)


def ctx_tensor(x):
    return type(x) not in _SCALARS


# ------------------------------------------------------------------- unary math
class Exp(Function):
    """y = e^x;  dy/dx = y."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x.backend.xp.exp(x._data)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.output()


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.log(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Log1p(Function):
    """y = ln(1 + x), exact for tiny x (a kernel, not log(1 + x));  dy/dx = 1 / (1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.log1p(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x + 1.0)


class Expm1(Function):
    """y = e^x - 1, exact for tiny x (a kernel, not exp(x) - 1);  dy/dx = e^x = y + 1."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x.backend.xp.expm1(x._data)

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.output() + 1.0)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x.backend.xp.sqrt(x._data)

    @staticmethod
    def backward(ctx, g):
        return g / (2.0 * ctx.output())


def _sign0(xp, d):
    """sign(d) with sign(nan) = 0, as PyTorch (NumPy gives nan)."""
    s = xp.sign(d)
    return xp.where(d != d, xp.zeros_like(s), s)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0 and at nan, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.abs(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _const(x, _sign0(x.backend.xp, x._data))


class Sign(Function):
    """y = sign(x) (sign(nan) = 0, as PyTorch);  dy/dx = 0 almost everywhere (no signal flows)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _sign0(x.backend.xp, x._data)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)


class Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.sin(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.cos(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -(g * x.sin())


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
    """y = max(x, 0);  dy/dx = 1 if x > 0 else 0."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return x.backend.xp.maximum(0.0, x._data)  # NumPy returns the 2nd argument on ties: relu(-0.0) = -0.0 as torch

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


def _clamp(x, lo, hi):
    """min(max(x, lo), hi) as PyTorch computes it: x itself where it equals a bound (clamp(-0.0, min=0.0) is
    -0.0), nan stays nan, and hi wins when lo > hi. (NumPy's clip may return the bound on ties.)"""
    xp, d = x.backend.xp, x._data
    if not x.dtype.is_floating_point:
        return xp.clip(d, min=lo, max=hi)
    if lo is not None:
        d = xp.where(d < lo, xp.asarray(lo, dtype=d.dtype, device=x.backend.device), d)
    if hi is not None:
        d = xp.where(d > hi, xp.asarray(hi, dtype=d.dtype, device=x.backend.device), d)
    return d


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0 (0 at nan)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return _clamp(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = x._data
        inside = d == d
        if ctx.lo is not None:
            inside = inside & (d >= ctx.lo)
        if ctx.hi is not None:
            inside = inside & (d <= ctx.hi)
        return _select(g, inside), None, None


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


class Maximum(Function):
    """z = max(a, b) elementwise; the gradient goes to the larger input, split 1/2-1/2 on ties; where a
    or b is nan (neither larger) both get the whole gradient (PyTorch's formula:
    dz/da = where(a == b, g/2, g) masked to 0 where a < b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.backend.xp.maximum(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(g, a._data, b._data, ctx.needs_input_grad)


class Minimum(Function):
    """z = min(a, b) elementwise; ties split 1/2-1/2, nan sends the gradient to both (see Maximum)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.backend.xp.minimum(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(g, b._data, a._data, ctx.needs_input_grad)


def _minmax_grads(g, hi, lo, need):
    """Gradients of max(a, b) given (hi, lo) = (a, b) (of min(a, b): (b, a)): where(a == b, g/2, g), then 0
    for the smaller input; nan compares false everywhere, so both inputs get g there."""
    xp = g.backend.xp
    tie = hi == lo
    half = Where.apply(_const(g, tie), g * 0.5, g) if bool(xp.any(tie)) else g
    return (_select(half, xp.logical_not(hi < lo)) if need[0] else None,
            _select(half, xp.logical_not(hi > lo)) if need[1] else None)


class Where(Function):
    """z = a where cond else b;  dL/da = g where cond else 0, dL/db = g where not cond else 0 (selects,
    so an inf or nan gradient does not leak into the other branch as inf * 0 = nan)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond._data
        return a.backend.xp.where(cond._data, a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        return (None, (_select(g, ctx.cond) if need[1] else None),
                (_select(g, g.backend.xp.logical_not(ctx.cond)) if need[2] else None))


class Cast(Function):
    """y = x converted to another dtype; the gradient is converted back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.backend.xp.astype(x._data, dtype)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.in_dtype), None


class Remainder(Function):
    """z = a mod b = a - floor(a / b) b (sign of b, as Python and torch.remainder);
    dz/da = 1, dz/db = -floor(a / b) (away from the jumps)."""

    @staticmethod
    def forward(ctx, a, b):
        xp = (a if ctx_tensor(a) else b).backend.xp
        ctx.save_for_backward(a if ctx_tensor(a) else None, b if ctx_tensor(b) else None)
        ctx.scalars = (a, b)
        return xp.remainder(_d(a), _d(b))

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        gb = None
        if need[1]:
            sa, sb = ctx.saved_tensors
            a = sa if sa is not None else ctx.scalars[0]
            q = (a / sb).detach()
            gb = -g * _const(q, q.backend.xp.floor(q._data))
        return (g if need[0] else None), gb


class Rounding(Function):
    """floor / ceil / round / trunc: piecewise constant, so the gradient is 0 almost everywhere."""

    @staticmethod
    def forward(ctx, x, mode):
        return getattr(x.backend.xp, mode)(x._data)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g), None


class FloorDivide(Function):
    """z = floor(a / b) as Python's float ``//`` (1.0 // 0.1 = 9.0, as torch).

    Piecewise constant; PyTorch defines no derivative for floor_divide and raises in backward,
    so this op does the same rather than silently returning 0.
    """

    @staticmethod
    def forward(ctx, a, b):
        return _d(a) // _d(b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: the derivative of floor_divide is not implemented (as torch). "
                           "Use (a / b).floor() for a zero gradient, or detach() the operands.")
