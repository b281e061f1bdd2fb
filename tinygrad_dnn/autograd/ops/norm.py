"""The normalization Function ``Normalize`` (``F.batch_norm/layer_norm/group_norm/instance_norm`` call it).

All four normalize x over some dims with the batch statistics (biased variance), then apply an
optional per-feature affine map:

    xhat = (x - mean) / sqrt(var + eps),   y = xhat * w + b

``batch_norm``: stats over every dim but the channel dim 1; ``layer_norm``: over the last
len(normalized_shape) dims; ``group_norm``: over (channels of the group, space) per sample;
``instance_norm``: over space per sample and channel.

One fused op (``Normalize``) does the training-mode math. Its backward, with M elements per statistic,

    dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * w,   dw = sum g * xhat,  db = sum g

is computed on arrays for a plain backward and with Tensor ops (recomputing the statistics from x)
under ``create_graph``, so double backward is exact. In evaluation mode batch/instance norm use the
running statistics, a fixed affine map written with Tensor ops. Running statistics are updated in
place outside the autograd graph: running = (1 - momentum) running + momentum batch_stat, the
variance unbiased (M / (M - 1)), as PyTorch.
"""
from __future__ import annotations

from .. import function as _function
from ..function import Function
from ..grad_mode import _grad_enabled


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
        dims, eps = ctx.dims, ctx.eps
        if not _grad_enabled[0]:  # plain backward: array math on the saved xhat / invstd
            be = g.backend
            xp = be.xp
            gd = g._data
            xhat = ctx.xhat
            if gd.dtype != xhat.dtype:  # float16: the gradient math in float32, as the forward
                gd = xp.astype(gd, xhat.dtype)
            gx = gw = gb = None
            if need[0]:
                gh = gd * w._data if w is not None else gd
                gx = ctx.invstd * (gh - xp.mean(gh, axis=dims, keepdims=True)
                                   - xhat * xp.mean(gh * xhat, axis=dims, keepdims=True))
                gx = _function._wrap(_cast(xp, gx, x._data.dtype), be)
            if need[1]:  # of x's shape: the engine sums it down to w's shape, as for every op
                gw = _function._wrap(gd * xhat, be)
            if need[2]:
                gb = _function._wrap(gd, be) if gd is not g._data else g
            return gx, gw, gb, None, None, None
        # create_graph: the same formulas as Tensor ops, statistics recomputed from x (differentiable)
        mean = x.mean(dim=dims, keepdim=True)
        xc = x - mean
        invstd = ((xc * xc).mean(dim=dims, keepdim=True) + eps).rsqrt()
        xhat = xc * invstd
        gx = gw = gb = None
        if need[0]:
            gh = g * w if w is not None else g
            gx = invstd * (gh - gh.mean(dim=dims, keepdim=True) - xhat * (gh * xhat).mean(dim=dims, keepdim=True))
        if need[1]:
            gw = g * xhat
        if need[2]:
            gb = g
        return gx, gw, gb, None, None, None


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
