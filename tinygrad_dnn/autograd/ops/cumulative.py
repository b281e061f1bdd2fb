"""Cumulative sums and products along one dim (``cumsum``, ``cumprod``)."""
from __future__ import annotations

from ..function import Function


class Cumsum(Function):
    """y_j = sum_{i<=j} x_i;  dL/dx_i = sum_{j>=i} dL/dy_j (a reversed cumulative sum of dL/dy)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = x.backend.xp
        return xp.cumulative_sum(x._data, axis=dim, dtype=x._data.dtype)

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(Cumsum.apply(Flip.apply(g, (ctx.dim,)), ctx.dim), (ctx.dim,)), None


class Cumprod(Function):
    """y_j = prod_{i<=j} x_i;  dL/dx_i = sum_{j>=i} dL/dy_j prod_{k<=j, k!=i} x_k (exact at zeros, as torch;
    without zeros it is computed as revcumsum(dL/dy * y) / x)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = x.backend.xp
        y = xp.cumulative_prod(x._data, axis=dim, dtype=x._data.dtype)
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = ctx.dim
        xp = x.backend.xp
        if x.shape[d] == 0:
            return g, None
        if not bool(xp.any(x._data == 0)):
            y = Cumprod.apply(x, d)
            return Flip.apply(Cumsum.apply(Flip.apply(g * y, (d,)), d), (d,)) / x, None
        # with zeros: P[..., i, j] = prod_{k<=j, k!=i} x_k, the product with x_i replaced by 1
        from ..creation import _wrap

        xm, gm = x.transpose(d, -1), g.transpose(d, -1)
        n = xm.shape[-1]
        r = xp.arange(n, device=x.backend.device)
        eye = _wrap(r[:, None] == r[None, :], x.backend)
        upper = _wrap(r[:, None] <= r[None, :], x.backend)  # j >= i
        big = tuple(xm.shape[:-1]) + (n, n)
        X = xm.unsqueeze(-2).expand(big).masked_fill(eye, 1.0)
        P = Cumprod.apply(X, X.ndim - 1)
        gx = (P * gm.unsqueeze(-2)).masked_fill(~upper, 0.0).sum(-1)
        return gx.transpose(d, -1), None


class Flip(Function):
    """y = x reversed along ``dims``;  dL/dx = dL/dy reversed along the same dims."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.backend.xp.flip(x._data, axis=dims)

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.dims), None


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims``;  dL/dx = dL/dy rolled back by -shifts."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        xp = x.backend.xp
        if dims is None:
            return xp.reshape(xp.roll(xp.reshape(x._data, (-1,)), shifts), x._data.shape)
        return xp.roll(x._data, shifts, axis=dims)

    @staticmethod
    def backward(ctx, g):
        s = ctx.shifts
        neg = tuple(-v for v in s) if isinstance(s, tuple) else -s
        return Roll.apply(g, neg, ctx.dims), None, None
