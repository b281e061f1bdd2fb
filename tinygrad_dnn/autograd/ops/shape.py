"""Shape ops: reshape, permute, expand, cat, pad. All are linear, so backward is another shape op."""
from __future__ import annotations

from ..function import Function


class Reshape(Function):
    """y = x viewed with a new shape;  backward reshapes the gradient back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._data.shape
        return x.backend.xp.reshape(x._data, shape)

    @staticmethod
    def backward(ctx, g):
        return Reshape.apply(g, ctx.shape), None


class Permute(Function):
    """y = x with axes reordered;  backward applies the inverse permutation."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.backend.xp.permute_dims(x._data, dims)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return Permute.apply(g, tuple(inv)), None


class Expand(Function):
    """y = x broadcast to ``shape``;  backward sums over the broadcast dims."""

    @staticmethod
    def forward(ctx, x, shape):
        return x.backend.xp.broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine sums g back to x's shape


class Cat(Function):
    """y = concatenation of tensors along ``dim``;  backward slices the gradient."""

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        ctx.sizes = [t._data.shape[dim] for t in tensors]
        return tensors[0].backend.xp.concat([t._data for t in tensors], axis=dim)

    @staticmethod
    def backward(ctx, g):
        out, start = [None], 0
        idx = [slice(None)] * g.ndim
        for n, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            if need:
                idx[ctx.dim] = slice(start, start + n)
                out.append(g[tuple(idx)])
            else:
                out.append(None)
            start += n
        return tuple(out)


class Pad(Function):
    """Constant padding. ``pads`` is a list of (before, after) per dim;  backward crops the gradient."""

    @staticmethod
    def forward(ctx, x, pads, value):
        xp = x.backend.xp
        shape = tuple(s + a + b for s, (a, b) in zip(x._data.shape, pads))
        out = xp.full(shape, value, dtype=x._data.dtype, device=x.backend.device)
        ctx.key = tuple(slice(a, a + s) for s, (a, b) in zip(x._data.shape, pads))
        out[ctx.key] = x._data
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.key], None, None
