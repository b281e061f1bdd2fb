"""Elementwise ops other than arithmetic (``arith.py``) and activations (``activation.py``): the unary
math (exp, log, sqrt, abs, sin...), clamp, maximum/minimum, where, select, cast, rounding, and the small
helpers the other op files share. Backward formulas are written with Tensor ops so they differentiate again.
"""
from __future__ import annotations

from .. import function as _function
from ..function import Function


def _d(x):
    """Raw array of a Tensor, or the Python scalar itself."""
    return x if type(x) in _SCALARS else x._data


_SCALARS = {int, float, bool}


def _const(ref, arr):
    """A constant (non-differentiable) Tensor on ``ref``'s backend."""
    return _function._wrap(arr, ref.backend)


def _mask(ref, cond):
    """Float 0/1 constant with ``ref``'s dtype from a boolean array."""
    return _const(ref, ref.backend.xp.astype(cond, ref._data.dtype))


def _select(g, cond):
    """``g`` where ``cond`` (a boolean array of g's shape) else exactly 0, differentiable in ``g``.

    A select, not ``g * mask``: PyTorch's backward formulas use where / masked_fill, so an inf or nan
    arriving from upstream gives 0 outside ``cond`` (inf * 0 would be nan)."""
    return Select.apply(g, cond)



class Select(Function):
    """z = g where cond else 0 (``cond`` a constant boolean array; the gradient-side op of ``Relu``,
    ``Where``, ``Maximum``...);  dz/dg = select(gz, cond). One backend kernel forward, and
    differentiable again, so ``create_graph`` needs no separate branch."""

    @staticmethod
    def forward(ctx, g, cond):
        ctx.cond = cond
        return g.backend.masked(g._data, cond)

    @staticmethod
    def backward(ctx, gz):
        return Select.apply(gz, ctx.cond), None


def _zeros(g):
    """A zero gradient of g's shape (PyTorch's zeros_like(grad): 0 even where g is inf or nan)."""
    return _const(g, g.backend.xp.zeros_like(g._data))


def _safe_where(cond, value, t):
    from ..joining import where

    return where(_const(t, cond), value, t)


def _zero_where(t, cond):
    """``t`` with the entries where ``cond`` (a boolean array) replaced by exact zeros (differentiable in t)."""
    from ..joining import where

    return where(_const(t, cond), 0.0, t)


def ctx_tensor(x):
    return type(x) not in _SCALARS


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


class Rounding(Function):
    """floor / ceil / round / trunc: piecewise constant, so the gradient is 0 almost everywhere."""

    @staticmethod
    def forward(ctx, x, mode):
        return getattr(x.backend.xp, mode)(x._data)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g), None
