"""Convolution (``torch.nn.functional.conv1d/conv2d/conv3d``) by im2col + one matmul per group.

Shapes (nd = 1, 2 or 3 spatial dims, G groups, Cg = C/G, Og = O/G, K = prod(kernel), L = prod(out)):

    x (N, C, *S)   weight (O, Cg, *k)   bias (O,)   ->   y (N, O, *out)
    out_i = floor((S_i + pad_lo_i + pad_hi_i - dilation_i (k_i - 1) - 1) / stride_i) + 1

Forward: zero-pad, take the strided window view of every output position
(``backend.sliding_windows``, a view on NumPy/CuPy), copy it once into the column matrix
``cols`` (G, Cg*K, N*L), and multiply: ``y = W (G, Og, Cg*K) @ cols`` -- one BLAS call per group.

Backward is three ops that differentiate into each other, so double backward works:

* ``ConvNd``          y = conv(x, W) (+ b)
* ``ConvTransposeNd`` dx = conv^T(g, W): cols_g = W^T @ g, then col2im (the adjoint of im2col:
  one strided add per kernel offset into the padded input, then the padding is cropped)
* ``ConvWeightGrad``  dW = g @ cols^T (the forward's column matrix is reused)

Their adjoints: d<gg, conv^T(g, W)> = (conv(gg, W), dW(gg, g)) and
d<ggW, dW(x, g)> = (conv^T(g, ggW), conv(x, ggW)).
"""
from __future__ import annotations

import itertools

from ...autograd.function import Function
from ...autograd.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d"]


# ------------------------------------------------------------------ geometry helpers (shared with pooling)
def _ntuple(v, n, name, op):
    """``v`` as a tuple of ``n`` ints (an int or a 1-tuple is repeated)."""
    if isinstance(v, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    if isinstance(v, int):
        return (v,) * n
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(t) == 1:
        t = t * n
    if len(t) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return t


class _Geom:
    """Everything about a convolution/pooling window except the arrays.

    ``in_shape`` (N, C, *S) of the unpadded input; ``ksize``, ``stride``, ``dilation`` per spatial dim;
    ``pads`` ((lo, hi), ...) per spatial dim; ``out`` the output spatial size; ``groups``.
    """

    __slots__ = ("nd", "in_shape", "ksize", "stride", "dilation", "pads", "groups", "out")

    def __init__(self, in_shape, ksize, stride, dilation, pads, groups=1, out=None):
        self.nd = len(ksize)
        self.in_shape = tuple(in_shape)
        self.ksize, self.stride, self.dilation = tuple(ksize), tuple(stride), tuple(dilation)
        self.pads, self.groups = tuple(pads), groups
        if out is None:
            sp = self.in_shape[-self.nd:]
            out = tuple((s + lo + hi - self.extent(i)) // st + 1
                        for i, (s, (lo, hi), st) in enumerate(zip(sp, self.pads, self.stride)))
        self.out = tuple(out)

    def extent(self, i):
        """Span of the dilated kernel along spatial dim ``i``."""
        return self.dilation[i] * (self.ksize[i] - 1) + 1

    def padded(self):
        sp = self.in_shape[-self.nd:]
        return tuple(s + lo + hi for s, (lo, hi) in zip(sp, self.pads))

    def with_shape(self, in_shape):
        return _Geom(in_shape, self.ksize, self.stride, self.dilation, self.pads, self.groups, self.out)

    def has_pad(self):
        return any(lo or hi for lo, hi in self.pads)


def _pad(be, a, pads, value=0.0):
    """Constant-pad the last len(pads) dims of array ``a`` (no graph: used inside ops)."""
    if not any(lo or hi for lo, hi in pads):
        return a
    xp = be.xp
    lead = a.shape[:a.ndim - len(pads)]
    shape = lead + tuple(s + lo + hi for s, (lo, hi) in zip(a.shape[len(lead):], pads))
    out = xp.full(shape, value, dtype=a.dtype, device=be.device)
    out[(slice(None),) * len(lead) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(a.shape[len(lead):], pads))] = a
    return out


def _crop(a, geom):
    """Inverse of ``_pad`` for the gradient: the unpadded region of the last nd dims."""
    if not geom.has_pad():
        return a
    sp = geom.in_shape[-geom.nd:]
    lead = a.ndim - geom.nd
    return a[(slice(None),) * lead + tuple(slice(lo, lo + s) for s, (lo, _) in zip(sp, geom.pads))]


def _windows(be, xpad, geom):
    """View (..., *out, *k) of the window of every output position over the last nd dims of ``xpad``."""
    nd = geom.nd
    ext = tuple(geom.extent(i) for i in range(nd))
    axes = tuple(range(xpad.ndim - nd, xpad.ndim))
    w = be.sliding_windows(xpad, ext, axes)
    lead = xpad.ndim - nd
    key = (slice(None),) * lead
    # stride-1 window count P - ext + 1, every stride-th one: exactly `out` (P may hold ceil-mode extra)
    key += tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(geom.out, geom.stride))
    key += tuple(slice(None, None, d) for d in geom.dilation)
    if key == (slice(None),) * len(key):
        return w
    return w[key]


def _col2im_add(be, out_pad, gwin, geom):
    """out_pad[..., window positions] += gwin for every kernel offset (the adjoint of ``_windows``).

    ``gwin``: (..., *k, *out) with the same leading dims as ``out_pad`` (..., *padded). One strided add
    per kernel offset (a loop over the K kernel positions, never over pixels).
    """
    nd = geom.nd
    lead = out_pad.ndim - nd
    head = (slice(None),) * lead
    for kidx in itertools.product(*(range(k) for k in geom.ksize)):
        key = head + tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                           for i, d, s, o in zip(kidx, geom.dilation, geom.stride, geom.out))
        out_pad[key] += gwin[head + kidx + (Ellipsis,)]
    return out_pad


# ------------------------------------------------------------------ im2col / col2im for convolution
def _im2col(be, x, geom):
    """Column matrix (G, Cg*K, N*L) of input array ``x`` (N, C, *S): one copy of the window view."""
    xp = be.xp
    nd = geom.nd
    n, c = x.shape[0], x.shape[1]
    win = _windows(be, _pad(be, x, geom.pads), geom)  # (N, C, *out, *k)
    perm = (1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,) + tuple(range(2, 2 + nd))  # (C, *k, N, *out)
    k = _prod(geom.ksize)
    return xp.reshape(xp.permute_dims(win, perm), (geom.groups, (c // geom.groups) * k, n * _prod(geom.out)))


def _g_matrix(xp, g, groups):
    """Output gradient (N, O, *out) as (G, Og, N*L) (a transposing copy)."""
    o = g.shape[1]
    perm = (1, 0) + tuple(range(2, g.ndim))
    return xp.reshape(xp.permute_dims(g, perm), (groups, o // groups, -1))


def _prod(t):
    p = 1
    for v in t:
        p *= v
    return p


class ConvNd(Function):
    """y = conv(x, W) + b (cross-correlation, as PyTorch).

    dx = conv^T(g, W) (``ConvTransposeNd``), dW = g @ cols^T (``ConvWeightGrad``), db = sum of g over
    batch and space.
    """

    @staticmethod
    def forward(ctx, x, w, b, geom):
        be = x.backend
        xp = be.xp
        nd = geom.nd
        n, o = x._data.shape[0], w._data.shape[0]
        cols = _im2col(be, x._data, geom)                                   # (G, CgK, N*L)
        out = xp.matmul(xp.reshape(w._data, (geom.groups, o // geom.groups, -1)), cols)  # (G, Og, N*L)
        out = xp.reshape(out, (o, n) + geom.out)
        y = xp.empty((n, o) + geom.out, dtype=out.dtype, device=be.device)
        y[...] = xp.permute_dims(out, (1, 0) + tuple(range(2, 2 + nd)))  # contiguous (N, O, *out)
        if b is not None:
            y += xp.reshape(b._data, (o,) + (1,) * nd)
        ctx.save_for_backward(x, w)
        ctx.geom = geom
        ctx.cols = cols
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        geom = ctx.geom
        gx = ConvTransposeNd.apply(g, w, geom) if need[0] else None
        cols, ctx.cols = ctx.cols, None  # release the column matrix early (recomputed if backward runs again)
        gw = ConvWeightGrad.apply(x, g, geom, cols) if need[1] else None
        gb = g.sum(dim=(0,) + tuple(range(2, 2 + geom.nd))) if need[2] else None
        return gx, gw, gb, None


class ConvTransposeNd(Function):
    """dx = conv^T(g, W): the gradient of conv with respect to its input (col2im of W^T g).

    Adjoints: d/dg = conv(gg, W), d/dW = ConvWeightGrad(gg, g).
    """

    @staticmethod
    def forward(ctx, g, w, geom):
        be = g.backend
        xp = be.xp
        n, c = geom.in_shape[0], geom.in_shape[1]
        wt = xp.permute_dims(xp.reshape(w._data, (geom.groups, w._data.shape[0] // geom.groups, -1)), (0, 2, 1))
        gcols = xp.matmul(wt, _g_matrix(xp, g._data, geom.groups))      # (G, CgK, N*L)
        gwin = xp.reshape(gcols, (c,) + geom.ksize + (n,) + geom.out)   # (C, *k, N, *out)
        nd = geom.nd
        gwin = xp.permute_dims(gwin, (nd + 1, 0) + tuple(range(1, nd + 1)) + tuple(range(nd + 2, 2 * nd + 2)))
        gx = xp.zeros((n, c) + geom.padded(), dtype=g._data.dtype, device=be.device)
        _col2im_add(be, gx, gwin, geom)
        ctx.save_for_backward(g, w)
        ctx.geom = geom
        return _crop(gx, geom)

    @staticmethod
    def backward(ctx, gg):
        g, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        dg = ConvNd.apply(gg, w, None, ctx.geom) if need[0] else None
        dw = ConvWeightGrad.apply(gg, g, ctx.geom, None) if need[1] else None
        return dg, dw, None


class ConvWeightGrad(Function):
    """dW = g @ cols(x)^T per group: the gradient of conv with respect to its weight.

    Adjoints: d/dx = conv^T(g, ggW), d/dg = conv(x, ggW).
    """

    @staticmethod
    def forward(ctx, x, g, geom, cols=None):
        be = x.backend
        xp = be.xp
        if cols is None:
            cols = _im2col(be, x._data, geom)
        gm = _g_matrix(xp, g._data, geom.groups)                          # (G, Og, N*L)
        gw = xp.matmul(gm, xp.permute_dims(cols, (0, 2, 1)))              # (G, Og, CgK)
        o = g._data.shape[1]
        ctx.save_for_backward(x, g)
        ctx.geom = geom
        return xp.reshape(gw, (o, geom.in_shape[1] // geom.groups) + geom.ksize)

    @staticmethod
    def backward(ctx, ggw):
        x, g = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx = ConvTransposeNd.apply(g, ggw, ctx.geom) if need[0] else None
        dg = ConvNd.apply(x, ggw, None, ctx.geom) if need[1] else None
        return dx, dg, None, None


# ------------------------------------------------------------------ public functions
def _conv_padding(padding, nd, ksize, stride, dilation, op):
    """((lo, hi), ...) from an int, a tuple, 'valid' or 'same' (asymmetric for even kernels, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride}); use an explicit padding")
            pads = []
            for k, d in zip(ksize, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{op}: invalid padding string {padding!r}, expected 'valid' or 'same'")
    p = _ntuple(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((v, v) for v in p)


def _convnd(nd, op, input, weight, bias, stride, padding, dilation, groups):
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: expected bias to be a Tensor or None, got {type(bias).__name__}")
    if weight.ndim != nd + 2:
        raise ValueError(f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, *kernel), "
                         f"got shape {tuple(weight.shape)}")
    unbatched = input.ndim == nd + 1
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input "
                         f"(N, C, *spatial), got shape {tuple(input.shape)}")
    if unbatched:
        input = input.unsqueeze(0)
    groups = int(groups)
    if groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups}")
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(f"{op}: stride and dilation must be positive, got stride={stride}, dilation={dilation}")
    o, cg = weight.shape[0], weight.shape[1]
    ksize = tuple(weight.shape[2:])
    c = input.shape[1]
    if c != cg * groups:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} has {c} channels, but weight of shape "
                         f"{tuple(weight.shape)} with groups={groups} expects {cg * groups} "
                         f"(in_channels = weight.shape[1] * groups)")
    if o % groups:
        raise ValueError(f"{op}: out_channels={o} (weight shape {tuple(weight.shape)}) is not divisible by "
                         f"groups={groups}")
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op}: bias of shape {tuple(bias.shape)} does not match out_channels={o}")
    if input.dtype is not weight.dtype or (bias is not None and bias.dtype is not weight.dtype):
        raise RuntimeError(f"{op}: input dtype {input.dtype} and weight dtype {weight.dtype}"
                        + (f" (bias {bias.dtype})" if bias is not None else "") + " differ; convert the input "
                        f"(x.to({weight.dtype})) or the model (model.to({input.dtype}))")
    if not input.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}")
    pads = _conv_padding(padding, nd, ksize, stride, dilation, op)
    geom = _Geom(tuple(input.shape), ksize, stride, dilation, pads, groups)
    if any(v < 1 for v in geom.out):
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} with padding {pads} is smaller than the "
                         f"dilated kernel {tuple(geom.extent(i) for i in range(nd))} (weight {tuple(weight.shape)}, "
                         f"dilation {dilation}); calculated output size {geom.out} is too small")
    y = ConvNd.apply(input, weight, bias, geom)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution: input (N, C, L) or (C, L), weight (O, C/groups, k) -> (N, O, L_out).

    ``padding``: int, 1-tuple, 'valid' (none) or 'same' (output length = input length; stride 1).
    """
    return _convnd(1, "F.conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW) -> (N, O, H_out, W_out).

    ``stride``, ``padding``, ``dilation``: int or pair; ``padding`` may also be 'valid' or 'same'
    (for even kernels 'same' pads one more on the bottom/right, as PyTorch).
    """
    return _convnd(2, "F.conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution: input (N, C, D, H, W), weight (O, C/groups, kD, kH, kW)."""
    return _convnd(3, "F.conv3d", input, weight, bias, stride, padding, dilation, groups)
