"""The convolution Functions (``F.conv1d/conv2d/conv3d`` check arguments and call ``ConvNd``), by im2col + one matmul per group.

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

from ..function import Function
from .windows import _col2im_add, _crop, _g_matrix, _im2col, _prod  # noqa: F401


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
