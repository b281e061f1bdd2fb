"""The normalization Function ``Normalize`` (``F.batch_norm/layer_norm/group_norm/instance_norm`` call it).

All four normalize x over some dims with the batch statistics (biased variance), then apply an
optional per-feature affine map:

    xhat = (x - mean) / sqrt(var + eps),   y = xhat * w + b

``batch_norm``: stats over every dim but the channel dim 1; ``layer_norm``: over the last
len(normalized_shape) dims; ``group_norm``: over (channels of the group, space) per sample;
``instance_norm``: over space per sample and channel.

One fused op (``Normalize``) does the training-mode math. Its backward, with M elements per statistic,

    dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * w,   dw = sum g * xhat,  db = sum g

is the forward of ``NormalizeGrad`` (array math on the saved statistics), whose own backward is
differentiable, so every order of derivative is exact without a grad-mode branch. In evaluation mode batch/instance norm use the
running statistics, a fixed affine map written with Tensor ops. Running statistics are updated in
place outside the autograd graph: running = (1 - momentum) running + momentum batch_stat, the
variance unbiased (M / (M - 1)), as PyTorch.
"""
from __future__ import annotations

from .. import dtype as _dtype
from ..function import Function


class Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, statistics over ``dims`` (biased variance).

    ``w``/``b`` are None or Tensors broadcastable to x (right-aligned). ``stats`` optionally gives the
    already computed (mean, var, x - mean) arrays (keepdims) so callers that also need the batch
    statistics (running averages) do not compute them twice.
    """

    @staticmethod
    def forward(ctx, x, w, b, dims, eps, stats=None):
        xp = x.backend.xp
        if stats is None:
            stats = _stats(xp, x._data, dims)
        _, var, xc = stats  # float32 for a float16 x (see _stats)
        invstd = 1.0 / xp.sqrt(var + eps)
        xhat = xc * invstd
        y = xhat
        if w is not None:
            y = y * w._data
        if b is not None:
            y = y + b._data
        elif w is None:
            y = y + 0.0  # never hand out the saved xhat itself
        ctx.save_for_backward(x, w, b)
        ctx.dims, ctx.eps = dims, eps
        ctx.xhat, ctx.invstd = xhat, invstd
        return _cast(xp, y, x._data.dtype)

    @staticmethod
    def backward(ctx, g):
        x, w, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        if g._data.dtype != ctx.xhat.dtype:  # float16: the gradient math in float32, as the forward
            g = g.to(_dtype.dtype_of(ctx.xhat.dtype))
        saved = (ctx.xhat, ctx.invstd)
        gx = NormalizeGrad.apply(x, g * w if w is not None else g, ctx.dims, ctx.eps, saved) if need[0] else None
        gw = g * Standardize.apply(x, ctx.dims, ctx.eps, saved) if need[1] else None
        return gx, gw, (g if need[2] else None), None, None, None  # dw, db of x's shape: the engine sums


class Standardize(Function):
    """xhat = (x - mean) / sqrt(var + eps), statistics over ``dims``;  dxhat/dx applied to g is
    NormalizeGrad(x, g) = invstd (g - mean(g) - xhat mean(g xhat)).

    ``saved`` optionally gives the (xhat, invstd) arrays already computed (by ``Normalize``'s forward).
    """

    @staticmethod
    def forward(ctx, x, dims, eps, saved=None):
        if saved is None:
            xp = x.backend.xp
            _, var, xc = _stats(xp, x._data, dims)
            invstd = 1.0 / xp.sqrt(var + eps)
            saved = (xc * invstd, invstd)
        ctx.save_for_backward(x)
        ctx.dims, ctx.eps, ctx.stats = dims, eps, saved
        return saved[0] + 0.0  # never hand out the saved xhat itself

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return NormalizeGrad.apply(x, g, ctx.dims, ctx.eps, ctx.stats), None, None, None


class NormalizeGrad(Function):
    """gx = invstd (gh - mean(gh) - xhat mean(gh xhat)) (the input gradient of Normalize for gh = g w);
    with u the incoming gradient, dL/dgh = NormalizeGrad(x, u) (the map is symmetric) and
    dL/dx = -invstd (mean(u gx) xhat + mean(gh xhat) NormalizeGrad(x, u) + mean(u xhat) gx).

    The forward is array math on the saved statistics; the backward is Tensor ops and Functions, so
    every order of derivative is exact (Chainer's pattern: no grad-mode branch).
    """

    saves_output = True

    @staticmethod
    def forward(ctx, x, gh, dims, eps, saved):
        xp = x.backend.xp
        xhat, invstd = saved
        gd = gh._data
        if gd.dtype != xhat.dtype:
            gd = xp.astype(gd, xhat.dtype)
        gx = invstd * (gd - xp.mean(gd, axis=dims, keepdims=True)
                       - xhat * xp.mean(gd * xhat, axis=dims, keepdims=True))
        ctx.save_for_backward(x, gh)
        ctx.dims, ctx.eps, ctx.stats = dims, eps, saved
        return _cast(xp, gx, x._data.dtype)

    @staticmethod
    def backward(ctx, u):
        x, gh = ctx.saved_tensors
        dims, eps, saved = ctx.dims, ctx.eps, ctx.stats
        need = ctx.needs_input_grad
        nu = NormalizeGrad.apply(x, u, dims, eps, saved)
        gx_x = None
        if need[0]:
            xh = Standardize.apply(x, dims, eps, saved)
            xf = x if x._data.dtype == saved[0].dtype else x.to(xh.dtype)
            xc = xf - xf.mean(dim=dims, keepdim=True)
            invstd = ((xc * xc).mean(dim=dims, keepdim=True) + eps).rsqrt()
            gx = ctx.output()
            gx_x = -invstd * ((u * gx).mean(dim=dims, keepdim=True) * xh
                              + (gh * xh).mean(dim=dims, keepdim=True) * nu
                              + (u * xh).mean(dim=dims, keepdim=True) * gx)
            if gx_x.dtype != x.dtype:
                gx_x = gx_x.to(x.dtype)
        return gx_x, (nu if need[1] else None), None, None, None


def _cast(xp, a, dtype):
    return a if a.dtype == dtype else xp.astype(a, dtype)


def _stats(xp, a, dims):
    """(mean, biased var, a - mean) over ``dims`` (keepdims); float16 is computed in float32 (as PyTorch:
    values around 500 square to 250000 > 65504, the float16 maximum)."""
    if getattr(xp, "float16", None) is not None and a.dtype == xp.float16:
        a = xp.astype(a, xp.float32)
    mean = xp.mean(a, axis=dims, keepdims=True)
    xc = a - mean
    var = xp.mean(xc * xc, axis=dims, keepdims=True)
    return mean, var, xc
