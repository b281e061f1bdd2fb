"""The pooling Functions (``F.max_pool*``/``F.avg_pool*`` check arguments and call them).

Windows are taken over the last nd dims, so every leading dim (batch, channels, or none) is pooled
independently. Each op loops over the K kernel offsets (never over pixels): the elements at offset k of
all windows form one strided slice of the (padded) input, so max pooling is K-1 elementwise maxima and
its gradient K masked strided writes.

* max pooling: y = max over the window. The gradient goes to ONE element per window, the first
  maximum in row-major window order (PyTorch's choice): ties are not split. A value that is the
  maximum of several overlapping windows receives the sum of their gradients. Padding is -inf.
* average pooling: y = sum over the window / divisor, with zero padding; the divisor is the window
  size (``count_include_pad=True``), the number of real input elements (``False``), or
  ``divisor_override``. With ``ceil_mode`` the extra windows at the end are clipped as PyTorch.
* adaptive average pooling: output cell i averages input [floor(i n / o), ceil((i+1) n / o)), any
  output size; written as two small averaging matrices (P_h x P_w^T), so it is differentiable to any order.

Backward ops are linear and adjoint to each other (max: scatter <-> gather at the argmax; average:
col2im of g / divisor <-> average pooling), so double backward works.
"""
from __future__ import annotations

import itertools
import math

from ..function import Function
from .windows import _crop, _pad, _prod  # noqa: F401


def _keys(geom, lead):
    """Index of every kernel offset's strided slice (the window elements at that offset, all outputs at once)."""
    head = (slice(None),) * lead
    return [head + tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                         for i, d, s, o in zip(kidx, geom.dilation, geom.stride, geom.out))
            for kidx in itertools.product(*(range(k) for k in geom.ksize))]


def _disjoint(geom):
    """True when no input element lies in two windows (stride >= dilated kernel span in every dim)."""
    return all(s >= geom.extent(i) for i, s in enumerate(geom.stride))


def _scatter(be, parts, geom, shape, dtype):
    """zeros(padded input) with ``parts[k]`` added at kernel offset k's slice, then the padding cropped."""
    xp = be.xp
    lead = len(shape) - geom.nd
    out = xp.zeros(tuple(shape[:lead]) + geom.padded(), dtype=dtype, device=be.device)
    disjoint = _disjoint(geom)
    for key, part in zip(_keys(geom, lead), parts):
        if disjoint:
            out[key] = part
        else:
            out[key] += part
    return _crop(out, geom)


def _first_max_masks(be, xpad, best, keys):
    """Per kernel offset k, the boolean mask of the outputs whose window maximum is first (row-major) at k."""
    masks, taken = [], None
    for key in keys:
        m = xpad[key] == best
        if taken is not None:
            m = m & ~taken
        masks.append(m)
        taken = m if taken is None else taken | m
    return masks


# ------------------------------------------------------------------ max pooling
class MaxPoolNd(Function):
    """y = max over each window (a maximum over the K kernel-offset slices);
    dy/dx = 1 at the window's first maximum, 0 elsewhere (found in backward: inference pays nothing)."""

    saves_output = True

    @staticmethod
    def forward(ctx, x, geom):
        be = x.backend
        xp = be.xp
        xpad = _pad(be, x._data, geom.pads, -math.inf)
        keys = _keys(geom, xpad.ndim - geom.nd)
        best = xpad[keys[0]]
        for key in keys[1:]:
            best = xp.maximum(best, xpad[key])
        if len(keys) == 1:
            best = xp.asarray(best, copy=True)
        ctx.save_for_backward(x)
        ctx.geom = geom
        return best

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        be = x.backend
        geom = ctx.geom
        xpad = _pad(be, x._data, geom.pads, -math.inf)
        masks = _first_max_masks(be, xpad, ctx.output_data()[0], _keys(geom, xpad.ndim - geom.nd))
        return MaxPoolScatter.apply(g, masks, geom), None


class MaxPoolScatter(Function):
    """dx = zeros; dx[first maximum of each window] += g (linear in g; adjoint: ``MaxPoolGather``)."""

    @staticmethod
    def forward(ctx, g, masks, geom):
        be = g.backend
        xp = be.xp
        ctx.masks, ctx.geom = masks, geom
        zero = xp.zeros((), dtype=g._data.dtype, device=be.device)
        parts = (xp.where(m, g._data, zero) for m in masks)
        return _scatter(be, parts, geom, geom.in_shape, g._data.dtype)

    @staticmethod
    def backward(ctx, gg):
        return MaxPoolGather.apply(gg, ctx.masks, ctx.geom), None, None


class MaxPoolGather(Function):
    """y = x at the first maximum of each window (selection masks saved; adjoint of ``MaxPoolScatter``)."""

    @staticmethod
    def forward(ctx, x, masks, geom):
        be = x.backend
        xp = be.xp
        ctx.masks, ctx.geom = masks, geom
        xpad = _pad(be, x._data, geom.pads, 0.0)
        zero = xp.zeros((), dtype=x._data.dtype, device=be.device)
        out = None
        for m, key in zip(masks, _keys(geom, xpad.ndim - geom.nd)):
            part = xp.where(m, xpad[key], zero)
            out = part if out is None else out + part
        return out

    @staticmethod
    def backward(ctx, gg):
        return MaxPoolScatter.apply(gg, ctx.masks, ctx.geom), None, None


# ------------------------------------------------------------------ average pooling
def _window_sum(be, xpad, geom):
    xp = be.xp
    keys = _keys(geom, xpad.ndim - geom.nd)
    out = xp.asarray(xpad[keys[0]], copy=True)
    for key in keys[1:]:
        out += xpad[key]
    return out


class AvgPoolNd(Function):
    """y = (sum of the window) / divisor;  dx = g / divisor added back over each window (``AvgPoolBackward``)."""

    @staticmethod
    def forward(ctx, x, geom, div):
        be = x.backend
        ctx.geom, ctx.div = geom, div
        out = _window_sum(be, _pad(be, x._data, geom.pads, 0.0), geom)
        out /= div
        return out

    @staticmethod
    def backward(ctx, g):
        return AvgPoolBackward.apply(g, ctx.geom, ctx.div), None, None


class AvgPoolBackward(Function):
    """dx = sum over the windows containing x of g / divisor (adjoint: average pooling again)."""

    @staticmethod
    def forward(ctx, g, geom, div):
        be = g.backend
        ctx.geom, ctx.div = geom, div
        q = g._data / div
        return _scatter(be, (q for _ in range(_prod(geom.ksize))), geom, geom.in_shape, g._data.dtype)

    @staticmethod
    def backward(ctx, gg):
        return AvgPoolNd.apply(gg, ctx.geom, ctx.div), None, None


# ------------------------------------------------------------------ max pooling indices (no gradient)
def max_pool_indices(x, y, geom):
    """int64 array (shape of ``y``): the flat index, in the input's spatial plane, of each window's first
    maximum (``return_indices=True``, the indices ``max_unpool`` takes), as PyTorch."""
    be = x.backend
    xp = be.xp
    xpad = _pad(be, x._data, geom.pads, -math.inf)
    lead = xpad.ndim - geom.nd
    keys = _keys(geom, lead)
    masks = _first_max_masks(be, xpad, y._data, keys)
    sp = geom.in_shape[-geom.nd:]
    out = xp.zeros(y._data.shape, dtype=xp.int64, device=be.device)
    for kidx, m in zip(itertools.product(*(range(k) for k in geom.ksize)), masks):
        flat = None
        for d in range(geom.nd):
            coord = (xp.arange(geom.out[d], dtype=xp.int64, device=be.device) * geom.stride[d]
                     + kidx[d] * geom.dilation[d] - geom.pads[d][0])
            coord = xp.reshape(coord, (geom.out[d],) + (1,) * (geom.nd - 1 - d))
            flat = coord if flat is None else flat * sp[d] + coord
        out = xp.where(m, flat, out)
    return out


class MaxUnpoolScatter(Function):
    """y = zeros(size); y[idx] = v (flat; a repeated index keeps one of its values, as PyTorch);
    dv = g[idx] (the output gradient read back at each value's index, as PyTorch's max_unpool).

    The gradient is the indexing op, whose own adjoint is a scatter-add, so double backward works.
    """

    @staticmethod
    def forward(ctx, v, size, key):
        be = v.backend
        out = be.xp.zeros((size,), dtype=v._data.dtype, device=be.device)
        be.index_put_(out, key, v._data)
        ctx.key = key
        return out

    @staticmethod
    def backward(ctx, g):
        from .index import GetItem

        return GetItem.apply(g, ctx.key, True), None, None
