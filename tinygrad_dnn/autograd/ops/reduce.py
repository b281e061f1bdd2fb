"""Reductions over ``dim`` (None = all dims), with ``keepdim``."""
from __future__ import annotations

from ..function import Function
from .elementwise import _mask


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def norm_dims(dim, ndim, op="reduction"):
    """Normalize ``dim`` (int, tuple or None) to a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    out = []
    for d in dim:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))


class Sum(Function):
    """y = sum of x over dims;  dy/dx = 1 (the gradient is broadcast back)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x._data.shape, dims
        axis = None if len(dims) == len(ctx.shape) and not keepdim else dims  # the fast full reduction
        return x.backend.xp.sum(x._data, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(_kept_shape(ctx.shape, ctx.dims)).expand(ctx.shape), None, None


class Mean(Function):
    """y = (1/n) sum of x over dims;  dy/dx = 1/n."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x._data.shape, dims
        return x.backend.xp.mean(x._data, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        n = 1
        for d in ctx.dims:
            n *= ctx.shape[d]
        return g.reshape(_kept_shape(ctx.shape, ctx.dims)).expand(ctx.shape) * (1.0 / max(n, 1)), None, None


class Amax(Function):
    """y = max of x over dims; the gradient is split evenly among tied maxima (as torch.amax)."""

    reduce = "max"
    saves_output = True  # ctx.kept aliases the output: in-place changes to it must be caught

    @classmethod
    def forward(cls, ctx, x, dims, keepdim):
        xp = x.backend.xp
        f = xp.max if cls.reduce == "max" else xp.min
        ctx.save_for_backward(x)
        ctx.dims = dims
        ctx.kept = f(x._data, axis=dims, keepdims=True)
        return ctx.kept if keepdim else xp.reshape(ctx.kept, tuple(s for i, s in enumerate(x._data.shape) if i not in dims))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        ctx.output_data()  # version check of the output
        hit = _mask(x, x._data == ctx.kept)
        share = hit / hit.sum(dim=ctx.dims, keepdim=True)
        return g.reshape(ctx.kept.shape) * share, None, None


class Amin(Amax):
    """y = min of x over dims; ties split evenly."""

    reduce = "min"


class Prod(Function):
    """y = prod of x over dims;  dy/dx_i = y / x_i (requires non-zero x; documented limitation)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.shape, ctx.keepdim = dims, x._data.shape, keepdim
        return x.backend.xp.prod(x._data, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        kshape = _kept_shape(ctx.shape, ctx.dims)
        y = ctx.output().reshape(kshape)
        return g.reshape(kshape) * y / x, None, None
