"""Resampling and patches (``torch.nn.functional.interpolate/upsample``, ``unfold``/``fold``): compositions.

* ``interpolate``: 'nearest' is one integer-array take per spatial dim (output cell i copies input
  floor(i * scale)); 'linear'/'bilinear' multiply by a small interpolation matrix per spatial dim
  (y = A_h x A_w^T), with PyTorch's source-index rule for ``align_corners`` True/False. Both are
  linear in the input, so gradients (to any order) come from indexing and matmul.
* ``unfold`` (im2col) is a grouped convolution with a one-hot weight (output channel c*K + k copies
  input channel c at kernel offset k); ``fold`` (col2im, summing overlaps) is its adjoint, the transposed
  convolution with the same weight (``ConvTransposeNd``).
"""
from __future__ import annotations

import math
import struct

from ...autograd import creation as C
from ...autograd.errors import check_float
from ...autograd.ops.conv import ConvTransposeNd
from ...autograd.ops.windows import _Geom
from ...autograd.tensor import Tensor, _wrap
from .conv import _ntuple, conv2d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "unfold", "fold"]

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def _nearest_index(n, o, sf):
    """PyTorch's nearest source index: min(floor(i * scale), n - 1), scale in float32 (1/scale_factor if given)."""
    if o == n:
        return list(range(o))
    if o == 2 * n:
        return [i >> 1 for i in range(o)]
    scale = _f32(1.0 / sf) if sf is not None and sf > 0 else _f32(n / o)
    return [int(min(math.floor(_f32(_f32(float(i)) * scale)), n - 1)) for i in range(o)]


def _linear_matrix(x, n, o, sf, align_corners):
    """(o, n) interpolation matrix: row i holds the two weights of output i's source neighbours."""
    if align_corners:
        scale = (n - 1) / (o - 1) if o > 1 else 0.0
    else:
        scale = 1.0 / sf if sf is not None and sf > 0 else n / o
    rows = []
    for i in range(o):
        src = scale * i if align_corners else max(scale * (i + 0.5) - 0.5, 0.0)
        i0 = min(int(src), n - 1)
        lam = src - i0
        i1 = i0 + (1 if i0 < n - 1 else 0)
        row = [0.0] * n
        row[i0] += 1.0 - lam
        row[i1] += lam
        rows.append(row)
    be = x.backend
    return _wrap(be.xp.asarray(rows, dtype=x._data.dtype, device=be.device), be)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize the spatial dims of (N, C, *spatial) to ``size`` or ``floor(spatial * scale_factor)``.

    ``mode``: 'nearest' (any 1-3 spatial dims), 'linear' (3-D input), 'bilinear' (4-D), 'trilinear' (5-D).
    ``align_corners`` (linear modes only, default False): True maps the corner pixel centres onto each
    other (src = i (n-1)/(o-1)); False uses half-pixel centres (src = (i + 0.5) n/o - 0.5, clamped at 0).
    With ``scale_factor`` the index scale is 1/scale_factor unless ``recompute_scale_factor=True``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"F.interpolate: expected a Tensor input, got {type(input).__name__}")
    if mode not in ("nearest",) + tuple(_LINEAR):
        raise NotImplementedError(f"F.interpolate: mode {mode!r} is not supported (nearest, linear, bilinear, "
                                  "trilinear)")
    if antialias:
        raise NotImplementedError("F.interpolate: antialias=True is not supported")
    nd = input.ndim - 2
    if nd < 1 or nd > 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    else:
        if _LINEAR[mode] != nd:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode] + 2}D input")
        align_corners = bool(align_corners)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    sp = tuple(input.shape[2:])
    if size is not None:
        out = (int(size),) * nd if isinstance(size, int) else tuple(int(s) for s in size)
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {list(sp)} and output size of {list(out)}. Please provide input "
                             f"tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        sfs = (None,) * nd
    else:
        sfs = (float(scale_factor),) * nd if isinstance(scale_factor, (int, float)) else \
            tuple(float(s) for s in scale_factor)
        if len(sfs) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(sp)} and scale_factor of shape {list(sfs)}.")
        out = tuple(int(math.floor(s * f)) for s, f in zip(sp, sfs))
        if recompute_scale_factor:
            sfs = (None,) * nd
    if any(o <= 0 for o in out):
        raise RuntimeError(f"F.interpolate: output size {out} must be positive (input spatial size {sp})")
    y = input
    for d in range(nd):
        n, o = sp[d], out[d]
        dim = 2 + d
        if mode == "nearest":
            if o == n:
                continue
            idx = C.tensor(_nearest_index(n, o, sfs[d]), device=input.device)
            y = y[(slice(None),) * dim + (idx,)]
        else:
            if o == n and not (align_corners is False and sfs[d] is not None and sfs[d] != 1.0):
                continue
            a = _linear_matrix(input, n, o, sfs[d], align_corners)          # (o, n)
            y = (y.transpose(dim, -1) @ a.mT).transpose(-1, dim)
    return y


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear upsampling with ``align_corners=True`` (as PyTorch's deprecated ``upsample_bilinear``)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------ unfold / fold (im2col / col2im)
def _onehot_weight(x, c, k, ksize):
    """(C*K, 1, *k) weight: output channel c*K + j is the indicator of kernel offset j."""
    eye = C.eye(k, dtype=x.dtype, device=x.device).reshape((1, k, 1) + ksize)
    return eye.expand((c, k, 1) + ksize).reshape((c * k, 1) + ksize)


def _patch_args(op, kernel_size, dilation, padding, stride):
    k = _ntuple(kernel_size, 2, "kernel_size", op)
    d = _ntuple(dilation, 2, "dilation", op)
    p = _ntuple(padding, 2, "padding", op)
    s = _ntuple(stride, 2, "stride", op)
    if any(v <= 0 for v in k + d + s) or any(v < 0 for v in p):
        raise RuntimeError(f"{op}: kernel_size, dilation and stride must be positive and padding non-negative, got "
                           f"kernel_size={k}, dilation={d}, padding={p}, stride={s}")
    return k, d, p, s


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) (or (C, H, W)) -> (N, C * kH * kW, L), column l holding the window of output
    position l (row-major), channels major then kernel offsets, as PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"F.unfold: expected a Tensor input, got {type(input).__name__}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)")
    k, d, p, s = _patch_args("F.unfold", kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    c = x.shape[1]
    kk = k[0] * k[1]
    y = conv2d(x, _onehot_weight(x, c, kk, k), None, s, p, d, c)       # (N, C*K, oh, ow)
    y = y.reshape(y.shape[0], c * kk, -1)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: (N, C * kH * kW, L) (or unbatched (C*K, L)) -> (N, C, *output_size), overlapping window
    entries summed; the adjoint of ``unfold`` with the same arguments."""
    if not isinstance(input, Tensor):
        raise TypeError(f"F.fold: expected a Tensor input, got {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {input.ndim}D)")
    osz = _ntuple(output_size, 2, "output_size", "F.fold")
    k, d, p, s = _patch_args("F.fold", kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    n, ck, L = x.shape
    kk = k[0] * k[1]
    if ck % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={ck} and kernel_size={k}")
    c = ck // kk
    geom = _Geom((n, c) + osz, k, s, d, tuple((v, v) for v in p), c)
    if any(v < 1 for v in geom.out) or geom.out[0] * geom.out[1] != L:
        raise RuntimeError(f"Given output_size={osz}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{geom.out[0]} * {geom.out[1]} = {geom.out[0] * geom.out[1]}, but got input.size(2)={L}.")
    check_float("F.fold", x)
    y = ConvTransposeNd.apply(x.reshape(n, ck, *geom.out), _onehot_weight(x, c, kk, k), geom)
    return y.squeeze(0) if unbatched else y
