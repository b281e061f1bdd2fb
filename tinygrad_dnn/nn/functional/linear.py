"""Linear map, dropout and small tensor utilities (``torch.nn.functional``)."""
from __future__ import annotations

from ...autograd.errors import check_same_device
from ...autograd import creation as C
from ...autograd.ops import linalg as L
from ...autograd.tensor import Tensor, _wrap

__all__ = ["linear", "bilinear", "dropout", "dropout1d", "dropout2d", "gaussian_noise", "one_hot", "pad",
           "flatten"]


def linear(x, weight, bias=None):
    """y = x W^T + b with W of shape (out_features, in_features) (one fused op)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"F.linear: expected a Tensor input, got {type(x).__name__}")
    if weight.ndim != 2:
        raise RuntimeError(f"F.linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"F.linear: input of shape {tuple(x.shape)} does not match weight of shape "
                         f"{tuple(weight.shape)}: the input's last dim must be in_features={weight.shape[1]}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"F.linear: bias of shape {tuple(bias.shape)} does not match out_features={weight.shape[0]}")
    if x.dtype is not weight.dtype:
        raise RuntimeError(f"F.linear: input dtype {x.dtype} differs from weight dtype {weight.dtype}; convert the input "
                        f"(x.to({weight.dtype})) or the model (model.to({x.dtype}))")
    if x.backend is not weight.backend:
        check_same_device("F.linear", input=x, weight=weight, bias=bias)
    if bias is None:
        return L.Linear.apply(x, weight)
    return L.Linear.apply(x, weight, bias)


def bilinear(x1, x2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k with W of shape (out, in1, in2)."""
    y = ((x1.unsqueeze(-2).unsqueeze(-2) @ weight) .squeeze(-2) * x2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias


def _check_p(p, fn):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: dropout probability has to be between 0 and 1, but got {p!r} "
                         "(p is the probability of DROPPING a unit, as PyTorch)")
    return float(p)


def _keep_mask(x, shape, q):
    """Constant mask of ``shape``: 1/q where a U[0,1) draw is < q (kept), else 0. Drawn in float64 on the host."""
    be = x.backend
    xp = be.xp
    u = be.uniform(shape, xp.float64)
    m = xp.where(u < q, xp.asarray(1.0 / q, dtype=xp.float64, device=be.device),
                 xp.asarray(0.0, dtype=xp.float64, device=be.device))
    return _wrap(xp.astype(m, x._data.dtype), be)


def _inplace(x, fn, *args):
    """``inplace=True``: write ``fn(x, *args)`` into ``x``, recorded in the graph (autograd/views.py)."""
    from ...autograd.views import apply_inplace

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


def dropout2d(x, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, H, W) or (C, H, W) input: whole feature maps are zeroed with
    probability ``p``, kept ones scaled by 1/(1-p)."""
    p = _check_p(p, "F.dropout2d")
    if x.ndim not in (3, 4):
        raise ValueError(f"F.dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    if inplace:
        return _inplace(x, dropout2d, p, training)
    if p == 1.0:
        return x * 0.0
    shape = tuple(x.shape[:-2]) + (1, 1)
    return x * _keep_mask(x, shape, 1.0 - p)


def dropout1d(x, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, L) or (C, L) input."""
    p = _check_p(p, "F.dropout1d")
    if x.ndim not in (2, 3):
        raise ValueError(f"F.dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    if inplace:
        return _inplace(x, dropout1d, p, training)
    if p == 1.0:
        return x * 0.0
    return x * _keep_mask(x, tuple(x.shape[:-1]) + (1,), 1.0 - p)


def gaussian_noise(x, std=0.1, training=True):
    """x + std * N(0, 1) noise in training; identity otherwise."""
    if std < 0:
        raise ValueError(f"F.gaussian_noise: std must be >= 0, got {std}")
    if not training or std == 0:
        return x
    be = x.backend
    noise = be.xp.astype(be.normal(tuple(x.shape), be.xp.float64, 0.0, float(std)), x._data.dtype)
    return x + _wrap(noise, be)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding, shape ``tensor.shape + (num_classes,)``."""
    if num_classes >= 0 and tensor.numel():
        xp = tensor.backend.xp
        lo, hi = int(xp.min(tensor._data)), int(xp.max(tensor._data))
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"F.one_hot: class values must be in [0, {num_classes}), got values in [{lo}, {hi}] "
                             f"(labels of shape {tuple(tensor.shape)})")
    return C.one_hot(tensor, num_classes)


def pad(x, pad, mode="constant", value=0.0):
    """Constant padding: ``pad`` lists (left, right) pairs starting from the last dim."""
    return C.pad(x, pad, mode, value if value is not None else 0.0)


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)
