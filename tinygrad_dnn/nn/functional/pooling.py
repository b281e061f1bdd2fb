"""Pooling (``torch.nn.functional.max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d``).

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

from ...autograd.function import Function
from ...autograd.tensor import Tensor, _wrap
from .conv import _crop, _Geom, _ntuple, _pad, _prod

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d"]


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


# ------------------------------------------------------------------ argument handling
def _pool_geom(nd, op, x, kernel_size, stride, padding, dilation, ceil_mode):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 1}-D (C, *spatial) or {nd + 2}-D (N, C, *spatial) input, "
                         f"got shape {tuple(x.shape)}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")
    k = _ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _ntuple(stride, nd, "stride", op)
    p = _ntuple(padding, nd, "padding", op)
    d = _ntuple(dilation, nd, "dilation", op)
    if any(v < 1 for v in k + s + d):
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got kernel_size={k}, "
                         f"stride={s}, dilation={d}")
    ext = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    if any(v < 0 or 2 * v > kk for v, kk in zip(p, k)):
        raise ValueError(f"{op}: padding should be non-negative and at most half of the kernel size, got "
                         f"padding={p}, kernel_size={k}")
    sp = tuple(x.shape[-nd:])
    out, extra = [], []
    for n_, kk, ss, pp, e in zip(sp, k, s, p, ext):
        span = n_ + 2 * pp - e
        if span < 0:
            raise ValueError(f"{op}: input of shape {tuple(x.shape)} (padding {p}) is smaller than the window "
                             f"{ext}; output size would be empty")
        if ceil_mode:
            o = -(-span // ss) + 1
            if (o - 1) * ss >= n_ + pp:  # the last window must start inside the input or left padding
                o -= 1
        else:
            o = span // ss + 1
        out.append(o)
        extra.append(max(0, (o - 1) * ss + e - (n_ + 2 * pp)))
    pads = tuple((pp, pp + ex) for pp, ex in zip(p, extra))
    return _Geom(tuple(x.shape), k, s, d, pads, 1, tuple(out)), extra


def _max_pool(nd, op, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices=True is not supported; the gradient is handled internally")
    geom, _ = _pool_geom(nd, op, x, kernel_size, stride, padding, dilation, ceil_mode)
    return MaxPoolNd.apply(x, geom)


def _avg_pool(nd, op, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    geom, extra = _pool_geom(nd, op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if int(divisor_override) <= 0:
            raise ValueError(f"{op}: divisor_override must be positive, got {divisor_override}")
        div = float(divisor_override)
    elif (count_include_pad or not geom.has_pad()) and not any(extra):
        div = float(_prod(geom.ksize))
    else:  # per-output-position divisor: count of the cells of each window that are counted
        be = x.backend
        xp = be.xp
        sp = tuple(x.shape[-nd:])
        if count_include_pad:  # the padded input counts, the ceil-mode overhang does not
            padded = tuple(s + 2 * lo for s, (lo, _) in zip(sp, geom.pads))
            ones = xp.ones(padded, dtype=x._data.dtype, device=be.device)
            mask = _pad(be, ones, tuple((0, e) for e in extra))
        else:
            mask = _pad(be, xp.ones(sp, dtype=x._data.dtype, device=be.device), geom.pads)
        div = _window_sum(be, mask, geom)
    return AvgPoolNd.apply(x, geom, div)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L); ``stride`` defaults to ``kernel_size``.

    Gradient: to the first maximum of each window (ties are not split)."""
    return _max_pool(1, "F.max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``; -inf padding.

    Gradient: to the first maximum (row-major) of each window (ties are not split), as PyTorch."""
    return _max_pool(2, "F.max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling; zero padding counted in the divisor unless ``count_include_pad=False``."""
    return _avg_pool(1, "F.avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling; zero padding counted in the divisor unless ``count_include_pad=False``."""
    return _avg_pool(2, "F.avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ------------------------------------------------------------------ adaptive pooling
def _adaptive_sizes(nd, op, x, output_size):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, got shape {tuple(x.shape)}")
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got {output_size!r}")
    sp = tuple(x.shape[-nd:])
    out = tuple(s if o is None else int(o) for o, s in zip(output_size, sp))
    if any(o < 1 for o in out) or any(s < 1 for s in sp):
        raise ValueError(f"{op}: output_size {out} and input spatial size {sp} must be positive")
    return sp, out


def _avg_matrix(x, n, o):
    """(o, n) matrix averaging input cells [floor(i n / o), ceil((i + 1) n / o)) into output cell i."""
    rows = []
    for i in range(o):
        a, b = (i * n) // o, -(-((i + 1) * n) // o)
        rows.append([1.0 / (b - a) if a <= j < b else 0.0 for j in range(n)])
    be = x.backend
    return _wrap(be.xp.asarray(rows, dtype=x._data.dtype, device=be.device), be)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length (any size; windows as PyTorch)."""
    (n,), (o,) = _adaptive_sizes(1, "F.adaptive_avg_pool1d", input, output_size)
    if o == 1:
        return input.mean(dim=-1, keepdim=True)
    if n % o == 0:
        return avg_pool1d(input, n // o)
    return input @ _avg_matrix(input, n, o).mT


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H_out, W_out) (int, pair, None entries keep the input size).

    Output size 1 is a mean; sizes dividing the input are an average pool; any other size uses the
    averaging matrices P_h (H_out, H) and P_w (W_out, W): y = P_h x P_w^T."""
    (h, w), (oh, ow) = _adaptive_sizes(2, "F.adaptive_avg_pool2d", input, output_size)
    if oh == 1 and ow == 1:
        return input.mean(dim=(-2, -1), keepdim=True)
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(input, (h // oh, w // ow))
    y = input if ow == w else input @ _avg_matrix(input, w, ow).mT
    return y if oh == h else _avg_matrix(input, h, oh) @ y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length that divides the input length."""
    (n,), (o,) = _adaptive_sizes(1, "F.adaptive_max_pool1d", input, output_size)
    if n % o:
        raise NotImplementedError(f"F.adaptive_max_pool1d: output size {o} must divide the input length {n}")
    return max_pool1d(input, n // o, return_indices=return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H_out, W_out) that divides the input size."""
    (h, w), (oh, ow) = _adaptive_sizes(2, "F.adaptive_max_pool2d", input, output_size)
    if h % oh or w % ow:
        raise NotImplementedError(f"F.adaptive_max_pool2d: output size {(oh, ow)} must divide the input size "
                                  f"{(h, w)}")
    return max_pool2d(input, (h // oh, w // ow), return_indices=return_indices)
