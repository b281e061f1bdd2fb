"""Gather and scatter along one dim (``gather``, ``scatter``, ``scatter_add``, and through them
``take_along_dim``, ``sort``/``topk`` values), on flat element positions.

``index`` gives, for every output element, the position along ``dim``; the other coordinates are the
element's own. Both ops address the input through flat (row-major) offsets, so they only need the
portable ``take`` and the backends' scatter-add kernel (``Backend.index_add``).
"""
from __future__ import annotations

from ..function import Function


def flat_offsets(backend, shape, dim, index):
    """Row-major offsets into an array of ``shape``: ``index`` along ``dim``, the element's own coordinate
    along every other dim (``index`` may be smaller than ``shape`` there, as torch allows)."""
    xp = backend.xp
    nd = len(shape)
    strides = [1] * nd
    for k in range(nd - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]
    lin = xp.astype(index, xp.int64) * strides[dim] if nd else xp.astype(index, xp.int64)
    for k in range(nd):
        if k == dim or index.shape[k] == 1 and shape[k] == 1:
            continue
        ar = xp.arange(index.shape[k], dtype=xp.int64, device=backend.device) * strides[k]
        lin = lin + xp.reshape(ar, tuple(index.shape[k] if j == k else 1 for j in range(nd)))
    return xp.reshape(lin, (-1,))


class Gather(Function):
    """y[i][j][k] = x[i][index[i][j][k]][k] (dim 1);  dL/dx = scatter_add(zeros_like(x), dim, index, dL/dy)."""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index, ctx.shape = dim, index, x._data.shape
        xp = x.backend.xp
        lin = flat_offsets(x.backend, x._data.shape, dim, index._data)
        return xp.reshape(xp.take(xp.reshape(x._data, (-1,)), lin), tuple(index._data.shape))

    @staticmethod
    def backward(ctx, g):
        from ..creation import zeros

        z = zeros(ctx.shape, dtype=g.dtype, device=g.device)
        return ScatterAdd.apply(z, ctx.dim, ctx.index, g), None, None


class ScatterAdd(Function):
    """y = x; y[i][index[i][j][k]][k] += src[i][j][k] (dim 1);  dL/dx = dL/dy, dL/dsrc = gather(dL/dy, dim, index)."""

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index, ctx.src_shape = dim, index, src._data.shape
        b = x.backend
        xp = b.xp
        shape = x._data.shape
        lin = flat_offsets(b, shape, dim, index._data)
        n = 1
        for s in shape:
            n *= s
        vals = src._data[tuple(slice(0, s) for s in index._data.shape)]  # torch reads src only where index is
        added = b.index_add((n,), x._data.dtype, (lin,), xp.reshape(vals, (-1,)))
        return x._data + xp.reshape(added, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None, None, _src_grad(g, ctx)


class Scatter(Function):
    """y = x; y[i][index[i][j][k]][k] = src[i][j][k] (dim 1);  dL/dx = dL/dy with the written places zeroed,
    dL/dsrc = gather(dL/dy, dim, index)."""

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index, ctx.src_shape = dim, index, src._data.shape
        b = x.backend
        xp = b.xp
        shape = x._data.shape
        lin = flat_offsets(b, shape, dim, index._data)
        out = xp.reshape(b.copy_c(x._data), (-1,))
        vals = src._data[tuple(slice(0, s) for s in index._data.shape)]
        b.index_put_(out, (lin,), xp.reshape(vals, (-1,)))
        return xp.reshape(out, shape)

    @staticmethod
    def backward(ctx, g):
        from ..creation import zeros

        z = zeros(tuple(ctx.index.shape), dtype=g.dtype, device=g.device)
        return Scatter.apply(g, ctx.dim, ctx.index, z), None, None, _src_grad(g, ctx)


def _src_grad(g, ctx):
    """gather(g, dim, index), zero-padded to src's shape where src is larger than index (unread elements)."""
    from .index import IndexAdd

    gs = Gather.apply(g, ctx.dim, ctx.index)
    if tuple(gs.shape) == tuple(ctx.src_shape):
        return gs
    return IndexAdd.apply(gs, ctx.src_shape, tuple(slice(0, s) for s in gs.shape), False)
