"""Indexing: ``x[key]`` and its adjoint, scatter-add into zeros (repeated indices accumulate)."""
from __future__ import annotations

from ..function import Function


class GetItem(Function):
    """y = x[key];  dL/dx = zeros with dL/dy added at ``key`` (scatter-add for integer arrays)."""

    @staticmethod
    def forward(ctx, x, key, advanced):
        ctx.shape, ctx.key, ctx.advanced = x._data.shape, key, advanced
        if advanced:
            axis = _single_array_axis(key)
            if axis is not None:  # x[:, idx] as a take: the portable form of integer-array indexing
                xp = x.backend.xp
                idx = key[axis]
                flat = xp.take(x._data, xp.reshape(idx, (-1,)), axis=axis)
                shp = x._data.shape
                return xp.reshape(flat, shp[:axis] + tuple(idx.shape) + shp[axis + 1:])
        if x.backend.deferred_checks:  # CuPy wraps out-of-range indices silently: checked, raised at the next sync
            for d, k in enumerate(key):
                if x.backend.is_array(k) and k.dtype.kind in "iu" and k.size:
                    x.backend.check_index(k, x._data.shape[d], "integer-array indexing x[idx]")
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


def _single_array_axis(key):
    """Axis of the only index array in ``key`` if every other entry is a full slice, else None."""
    axis = None
    for i, k in enumerate(key):
        if isinstance(k, slice):
            if k != slice(None):
                return None
        elif isinstance(k, int):
            return None
        elif axis is None:
            axis = i
        else:
            return None
    return axis
