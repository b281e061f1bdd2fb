"""Indexing: ``x[key]`` and its adjoint, scatter-add into zeros (repeated indices accumulate)."""
from __future__ import annotations

from ..function import Function


class GetItem(Function):
    """y = x[key];  dL/dx = zeros with dL/dy added at ``key`` (scatter-add for integer arrays)."""

    @staticmethod
    def forward(ctx, x, key, advanced):
        ctx.shape, ctx.key, ctx.advanced = x._data.shape, key, advanced
        return x._data[key]

    @staticmethod
    def backward(ctx, g):
        return IndexAdd.apply(g, ctx.shape, ctx.key, ctx.advanced), None, None


class IndexAdd(Function):
    """y = zeros(shape); y[key] += g.  Its own adjoint is indexing: dL/dg = dL/dy[key]."""

    @staticmethod
    def forward(ctx, g, shape, key, advanced):
        ctx.key, ctx.advanced = key, advanced
        b = g.backend
        if advanced:
            return b.index_add(shape, g._data.dtype, key, g._data)
        out = b.xp.zeros(shape, dtype=g._data.dtype, device=b.device)
        out[key] = g._data
        return out

    @staticmethod
    def backward(ctx, gg):
        return GetItem.apply(gg, ctx.key, ctx.advanced), None, None, None
