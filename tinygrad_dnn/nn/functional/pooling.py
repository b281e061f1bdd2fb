"""Pooling (``torch.nn.functional.max_pool1d/2d, avg_pool1d/2d, adaptive_avg/max_pool1d/2d``):
argument checking, output geometry, and adaptive pooling written with Tensor ops.

The max/average pooling Functions and their backward ops are in ``autograd/ops/pool.py``.
"""
from __future__ import annotations

from ...autograd import creation as C
from ...autograd.errors import check_float
from ...autograd.ops.pool import (
    AvgPoolNd,
    MaxPoolNd,
    MaxUnpoolScatter,
    _window_sum,
    max_pool_indices,
)
from ...autograd.ops.windows import _Geom, _pad, _prod
from ...autograd.tensor import Tensor, _wrap
from .conv import _ntuple

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d"]


# ------------------------------------------------------------------ argument handling
def _pool_geom(nd, op, x, kernel_size, stride, padding, dilation, ceil_mode):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}-D (C, *spatial) or {nd + 2}-D (N, C, *spatial) input, "
                           f"got shape {tuple(x.shape)}")
    check_float(op, x)
    k = _ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _ntuple(stride, nd, "stride", op)
    p = _ntuple(padding, nd, "padding", op)
    d = _ntuple(dilation, nd, "dilation", op)
    if any(v < 1 for v in k + s + d):
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be positive, got kernel_size={k}, "
                           f"stride={s}, dilation={d}")
    ext = tuple(dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    if any(v < 0 or 2 * v > kk for v, kk in zip(p, k)):
        raise RuntimeError(f"{op}: padding should be non-negative and at most half of the kernel size, got "
                           f"padding={p}, kernel_size={k}")
    sp = tuple(x.shape[-nd:])
    out, extra = [], []
    for n_, kk, ss, pp, e in zip(sp, k, s, p, ext):
        span = n_ + 2 * pp - e
        if span < 0:
            raise RuntimeError(f"{op}: input of shape {tuple(x.shape)} (padding {p}) is smaller than the window "
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
    geom, _ = _pool_geom(nd, op, x, kernel_size, stride, padding, dilation, ceil_mode)
    y = MaxPoolNd.apply(x, geom)
    if return_indices:
        return y, _wrap(max_pool_indices(x, y, geom), x.backend)
    return y


def _avg_pool(nd, op, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    geom, extra = _pool_geom(nd, op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if int(divisor_override) <= 0:
            raise RuntimeError(f"{op}: divisor_override must be positive, got {divisor_override}")
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
        raise RuntimeError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, got shape {tuple(x.shape)}")
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise RuntimeError(f"{op}: output_size must be an int or a tuple of {nd}, got {output_size!r}")
    sp = tuple(x.shape[-nd:])
    out = tuple(s if o is None else int(o) for o, s in zip(output_size, sp))
    if any(o < 1 for o in out) or any(s < 1 for s in sp):
        raise RuntimeError(f"{op}: output_size {out} and input spatial size {sp} must be positive")
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


def _adaptive_max_dim(x, dim, n, o):
    """Max over the adaptive windows [floor(i n / o), ceil((i + 1) n / o)) along ``dim``: one slice max per
    output cell, concatenated (values, and the input index of each maximum along ``dim``)."""
    vals, idxs = [], []
    for i in range(o):
        a, b = (i * n) // o, -(-((i + 1) * n) // o)
        key = (slice(None),) * (dim % x.ndim) + (slice(a, b),)
        r = x[key].max(dim, keepdim=True)
        vals.append(r[0])
        idxs.append(r[1] + a)
    return C.cat(vals, dim), C.cat(idxs, dim)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length (any size; windows as PyTorch)."""
    (n,), (o,) = _adaptive_sizes(1, "F.adaptive_max_pool1d", input, output_size)
    if n % o == 0:
        return max_pool1d(input, n // o, return_indices=return_indices)
    y, idx = _adaptive_max_dim(input, -1, n, o)
    return (y, idx) if return_indices else y


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H_out, W_out) (any size; windows as PyTorch).

    Sizes dividing the input are a max pool; otherwise max over the row windows of the max over the
    column windows (max is separable), the gradient going to the first maximum in row-major order."""
    (h, w), (oh, ow) = _adaptive_sizes(2, "F.adaptive_max_pool2d", input, output_size)
    if h % oh == 0 and w % ow == 0:
        return max_pool2d(input, (h // oh, w // ow), return_indices=return_indices)
    yw, col = _adaptive_max_dim(input, -1, w, ow)       # (..., H, OW), column of each row's maximum
    y, row = _adaptive_max_dim(yw, -2, h, oh)            # (..., OH, OW), row of the maximum
    if not return_indices:
        return y
    colsel = _take_rows(col, row)
    return y, row * w + colsel


def _take_rows(col, row):
    """col[..., row[..., i, j], j] (the column index of the chosen row), without a gather op."""
    be = col.backend
    xp = be.xp
    h = col.shape[-2]
    onehot = xp.astype(xp.expand_dims(row._data, -3) == xp.reshape(xp.arange(h, device=be.device), (h, 1, 1)),
                       xp.int64)                                      # (..., H, OH, OW)
    return _wrap(xp.sum(onehot * xp.expand_dims(col._data, -2), axis=-3, dtype=xp.int64), be)


# ------------------------------------------------------------------ max unpooling
def _max_unpool(nd, op, input, indices, kernel_size, stride, padding, output_size):
    if not isinstance(input, Tensor) or not isinstance(indices, Tensor):
        raise TypeError(f"{op}: expected input and indices to be Tensors")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, got shape {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected shape of indices to be the same as that of the input tensor "
                           f"({tuple(input.shape)}) but got indices tensor with shape {tuple(indices.shape)}")
    if indices.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected indices to have dtype int64, got {indices.dtype}")
    k = _ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None else _ntuple(stride, nd, "stride", op)
    p = _ntuple(padding, nd, "padding", op)
    sp = tuple(input.shape[-nd:])
    default = tuple((i - 1) * st - 2 * pp + kk for i, st, pp, kk in zip(sp, s, p, k))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)[-nd:]
        if len(out) != nd:
            raise ValueError(f"{op}: output_size should have {nd} or {nd + 2} elements, got {output_size!r}")
        for o, dflt, st in zip(out, default, s):
            if not dflt - st < o < dflt + st:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)} (dim sizes must be between "
                                 f"{tuple(d - st + 1 for d, st in zip(default, s))} and "
                                 f"{tuple(d + st - 1 for d, st in zip(default, s))})")
    lead = tuple(input.shape[:-nd])
    plane = _prod(out)
    be = input.backend
    xp = be.xp
    idx = xp.reshape(indices._data, (-1, _prod(sp)))
    if idx.shape[0] and (int(xp.min(idx)) < 0 or int(xp.max(idx)) >= plane):
        raise RuntimeError(f"{op}: found an invalid max index {int(xp.max(idx))} (output volumes are of size "
                           f"{'x'.join(str(o) for o in out)})")
    base = xp.reshape(xp.arange(idx.shape[0], dtype=xp.int64, device=be.device) * plane, (-1, 1))
    key = (xp.reshape(idx + base, (-1,)),)
    y = MaxUnpoolScatter.apply(input.reshape(-1), idx.shape[0] * plane, key)
    return y.reshape(lead + out)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: the values put back at ``indices`` (from ``return_indices=True``),
    zeros elsewhere; gradient = the output gradient read at ``indices``."""
    return _max_unpool(1, "F.max_unpool1d", input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: (N, C, H, W) values put back at their flat ``indices`` in an
    (N, C, H_out, W_out) zero plane, H_out = (H - 1) stride - 2 padding + kernel_size (or ``output_size``)."""
    return _max_unpool(2, "F.max_unpool2d", input, indices, kernel_size, stride, padding, output_size)
