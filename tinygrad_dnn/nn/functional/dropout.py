"""Dropout and noise regularizers (``torch.nn.functional.dropout, dropout1d, dropout2d``, ``gaussian_noise``)."""
from __future__ import annotations

from ...autograd.tensor import _wrap
from ...autograd.views import apply_inplace

__all__ = ["dropout", "dropout1d", "dropout2d", "gaussian_noise"]


def _check_p(p, fn):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: dropout probability has to be between 0 and 1, but got {p!r} "
                         "(p is the probability of DROPPING a unit, as PyTorch)")
    return float(p)


def _keep_mask(x, shape, q):
    """Constant mask of ``shape``: 1/q where a U[0,1) draw is < q (kept), else 0 (``Backend.keep_mask``:
    float64 draws on the host for cpu/strict, the compute dtype on the GPU's own generator)."""
    return _wrap(x.backend.keep_mask(shape, q, x._data.dtype), x.backend)


def _inplace(x, fn, *args):
    """``inplace=True``: write ``fn(x, *args)`` into ``x``, recorded in the graph (autograd/views.py)."""
    return apply_inplace(x, fn.__name__ + "_", lambda s: fn(s, *args))


def dropout(x, p=0.5, training=True, inplace=False):
    """Inverted dropout: each element is zeroed with probability ``p`` and kept ones are scaled by
    1/(1-p), so E[y] = x. Identity when not training or p = 0; zeros when p = 1."""
    p = _check_p(p, "F.dropout")
    if not training or p == 0.0:
        return x
    if inplace:
        return _inplace(x, dropout, p, training)
    if p == 1.0:
        return x * 0.0
    return x * _keep_mask(x, tuple(x.shape), 1.0 - p)


def _channel_dropout(fn, nd, x, p, training, inplace, dims):
    """Dropout of whole channels: one mask entry per (sample, channel), broadcast over the ``nd``
    spatial dims; ``dims`` names the accepted layouts for the message."""
    p = _check_p(p, f"F.{fn.__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"F.{fn.__name__}: expected a {dims} input, got shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    if inplace:
        return _inplace(x, fn, p, training)
    if p == 1.0:
        return x * 0.0
    return x * _keep_mask(x, tuple(x.shape[:-nd]) + (1,) * nd, 1.0 - p)


def dropout2d(x, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, H, W) or (C, H, W) input: whole feature maps are zeroed with
    probability ``p``, kept ones scaled by 1/(1-p)."""
    return _channel_dropout(dropout2d, 2, x, p, training, inplace, "3-D (C, H, W) or 4-D (N, C, H, W)")


def dropout1d(x, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, L) or (C, L) input."""
    return _channel_dropout(dropout1d, 1, x, p, training, inplace, "2-D (C, L) or 3-D (N, C, L)")


def gaussian_noise(x, std=0.1, training=True):
    """x + std * N(0, 1) noise in training; identity otherwise."""
    if std < 0:
        raise ValueError(f"F.gaussian_noise: std must be >= 0, got {std}")
    if not training or std == 0:
        return x
    be = x.backend
    noise = be.xp.astype(be.normal(tuple(x.shape), be.xp.float64, 0.0, float(std)), x._data.dtype)
    return x + _wrap(noise, be)
