"""Normalization (``torch.nn.functional.batch_norm, layer_norm, group_norm, instance_norm``):
argument checking, which dims each one normalizes over, evaluation mode with the running statistics
(Tensor ops) and the running-statistics update.

The training-mode math, one fused Function ``Normalize`` with its backward, is in
``autograd/ops/norm.py``.
"""
from __future__ import annotations

from ...autograd.errors import check_float, check_same_device
from ...autograd.ops.norm import Normalize, _cast, _stats  # noqa: F401
from ...autograd.tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm"]


def _check_tensor(op, name, t, shape, x):
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(t).__name__}")
    if tuple(t.shape) != tuple(shape):
        raise RuntimeError(f"{op}: {name} of shape {tuple(t.shape)} does not match the expected shape {tuple(shape)} "
                         f"for input of shape {tuple(x.shape)}")
    if t.backend is not x.backend:
        check_same_device(op, input=x, **{name: t})


def _check_input(op, x, min_ndim):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim < min_ndim:
        raise ValueError(f"{op}: expected an input with at least {min_ndim} dims, got shape {tuple(x.shape)}")
    check_float(op, x)


def _affine(x, w, b, ndim_after_c):
    """Per-channel (dim 1) affine map with Tensor ops: x * w[:, None...] + b[:, None...]."""
    tail = (1,) * ndim_after_c
    if w is not None:
        x = x * w.reshape((w.shape[0],) + tail)
    if b is not None:
        x = x + b.reshape((b.shape[0],) + tail)
    return x


def _frozen_norm(x, mean, var, w, b, eps):
    """Evaluation mode: y = (x - mean) / sqrt(var + eps) * w + b with fixed (running) mean/var of shape (C,).

    Written as y = x * scale + shift with scale = w / sqrt(var + eps), shift = b - mean * scale (Tensor ops:
    differentiable in x, w and b; the running statistics are constants)."""
    tail = (1,) * (x.ndim - 2)
    c = mean.shape[0]
    scale = (var.detach() + eps).rsqrt()
    if w is not None:
        scale = scale * w
    shift = -(mean.detach() * scale)
    if b is not None:
        shift = shift + b
    return x * scale.reshape((c,) + tail) + shift.reshape((c,) + tail)


def _update_running(buf, new_stat, momentum):
    """buf <- (1 - momentum) buf + momentum new_stat, in place outside the graph (same Tensor object)."""
    xp = buf.backend.xp
    b = buf._data
    if b.dtype != new_stat.dtype:  # float16 buffers: average in the statistic's float32, round once
        wide = xp.result_type(b.dtype, new_stat.dtype)
        b, new_stat = xp.astype(b, wide), xp.astype(new_stat, wide)
    buf._data = _cast(xp, (1.0 - momentum) * b + momentum * new_stat, buf._data.dtype)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization over (N, C, *): statistics per channel over batch and space.

    training=True: normalize with the batch mean and biased variance, and update ``running_mean`` /
    ``running_var`` (if given) in place with ``momentum`` (the variance unbiased by M/(M-1)).
    training=False: normalize with the running statistics.
    """
    op = "F.batch_norm"
    _check_input(op, input, 2)
    x = input
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_tensor(op, name, t, (c,), x)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var must be given when training=False "
                             "(or use training=True to normalize with the batch statistics)")
        return _frozen_norm(x, running_mean, running_var, weight, bias, eps)
    dims = (0,) + tuple(range(2, x.ndim))
    m = x.numel() // c if c else 0
    if m <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)} "
                         f"({op}: the batch variance of one value is undefined; use a batch of at least 2, "
                         "call model.eval(), or use LayerNorm/GroupNorm)")
    xp = x.backend.xp
    stats = _stats(xp, x._data, dims)
    if running_mean is not None or running_var is not None:
        momentum = 0.0 if momentum is None else float(momentum)
        if running_mean is not None:
            _update_running(running_mean, xp.reshape(stats[0], (c,)), momentum)
        if running_var is not None:
            _update_running(running_var, xp.reshape(stats[1], (c,)) * (m / (m - 1)), momentum)
    tail = (1,) * (x.ndim - 2)
    w = None if weight is None else weight.reshape((c,) + tail)
    b = None if bias is None else bias.reshape((c,) + tail)
    return Normalize.apply(x, w, b, dims, float(eps), stats)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the last len(normalized_shape) dims (per sample; no running statistics).

    ``weight``/``bias`` have shape ``normalized_shape``. Works at batch size 1."""
    op = "F.layer_norm"
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    _check_input(op, input, len(ns))
    if len(ns) == 0 or tuple(input.shape[input.ndim - len(ns):]) != ns:
        raise ValueError(f"{op}: normalized_shape {ns} must match the last dims of the input, got input of shape "
                         f"{tuple(input.shape)} (expected [*, {', '.join(map(str, ns))}])")
    _check_tensor(op, "weight", weight, ns, input)
    _check_tensor(op, "bias", bias, ns, input)
    dims = tuple(range(input.ndim - len(ns), input.ndim))
    return Normalize.apply(input, weight, bias, dims, float(eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization: the C channels of (N, C, *) split into ``num_groups`` groups, each normalized
    over (its channels, space) per sample; then a per-channel affine map."""
    op = "F.group_norm"
    _check_input(op, input, 2)
    n, c = input.shape[0], input.shape[1]
    num_groups = int(num_groups)
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"{op}: num_channels={c} (input shape {tuple(input.shape)}) must be divisible by "
                         f"num_groups={num_groups}")
    _check_tensor(op, "weight", weight, (c,), input)
    _check_tensor(op, "bias", bias, (c,), input)
    xr = input.reshape(n, num_groups, -1)
    y = Normalize.apply(xr, None, None, (2,), float(eps)).reshape(tuple(input.shape))
    return _affine(y, weight, bias, input.ndim - 2)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalization of (N, C, *): per sample and channel over space.

    With ``use_input_stats`` the instance statistics are used (and the running statistics, if given,
    updated with their batch average); otherwise the running statistics are."""
    op = "F.instance_norm"
    _check_input(op, input, 3)
    x = input
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_tensor(op, name, t, (c,), x)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var must be given when use_input_stats=False")
        return _frozen_norm(x, running_mean, running_var, weight, bias, eps)
    dims = tuple(range(2, x.ndim))
    m = 1
    for d in dims:
        m *= x.shape[d]
    if m <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(x.shape)} "
                         f"({op})")
    xp = x.backend.xp
    stats = _stats(xp, x._data, dims)
    if running_mean is not None or running_var is not None:
        momentum = 0.0 if momentum is None else float(momentum)
        n = x.shape[0]
        if running_mean is not None:
            _update_running(running_mean, xp.mean(xp.reshape(stats[0], (n, c)), axis=0), momentum)
        if running_var is not None:
            _update_running(running_var, xp.mean(xp.reshape(stats[1], (n, c)), axis=0) * (m / (m - 1)), momentum)
    tail = (1,) * (x.ndim - 2)
    w = None if weight is None else weight.reshape((c,) + tail)
    b = None if bias is None else bias.reshape((c,) + tail)
    return Normalize.apply(x, w, b, dims, float(eps), stats)
