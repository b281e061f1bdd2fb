"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (``torch.nn.utils`` semantics).

These are the only functions in ``optim`` that modify ``.grad`` (in place, bumping its version).
The norm stays on the device (no host synchronisation) unless ``error_if_nonfinite=True``.
"""
from __future__ import annotations

import math

from ..autograd.tensor import Tensor

_wrap = Tensor._from_array


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _total_norm(grads, norm_type):
    first = grads[0]
    xp, b = first.backend.xp, first.backend
    dtype = first._data.dtype
    parts = []
    for g in grads:
        a = g._data
        if a.dtype != dtype:
            a = xp.astype(a, dtype)
        if math.isinf(norm_type):
            parts.append(xp.max(xp.abs(a)) if a.size else xp.zeros((), dtype=dtype, device=b.device))
        elif norm_type == 2:
            parts.append(xp.sum(a * a))
        elif norm_type == 1:
            parts.append(xp.sum(xp.abs(a)))
        elif norm_type == 0:
            parts.append(xp.sum(xp.astype(a != 0, dtype)))
        else:
            parts.append(xp.sum(xp.abs(a) ** norm_type))
    stacked = xp.stack(parts)
    if math.isinf(norm_type):
        total = xp.max(stacked) if norm_type > 0 else xp.min(stacked)
    else:
        total = xp.sum(stacked)
        if norm_type == 2:
            total = xp.sqrt(total)
        elif norm_type not in (0, 1):
            total = total ** (1.0 / norm_type)
    return xp.asarray(total, dtype=dtype, device=b.device)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Scale all gradients together so that their joint norm is at most ``max_norm``.

    .. math::
        N = \Big(\sum_{p} \|g_p\|_q^q\Big)^{1/q} \ (q = \text{norm\_type};\ \max_p \|g_p\|_\infty
            \text{ for } q = \infty), \qquad
        g_p \leftarrow g_p \cdot \min\!\Big(1,\ \frac{\text{max\_norm}}{N + 10^{-6}}\Big)

    Returns :math:`N` (the norm *before* clipping) as a 0-d Tensor. With ``error_if_nonfinite=True`` a
    NaN/inf norm raises ``RuntimeError`` and leaves the gradients untouched; otherwise non-finite
    gradients propagate (the scale becomes NaN, as in PyTorch).
    """
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        from ..autograd.creation import tensor

        return tensor(0.0)
    b = grads[0].backend
    total = _total_norm(grads, norm_type)
    if error_if_nonfinite:
        v = float(b.to_host(total))
        if not math.isfinite(v):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {v} "
                               "(non-finite); gradients were left unchanged. Find the NaN/inf (e.g. with "
                               "torch.autograd.detect_anomaly) or pass error_if_nonfinite=False.")
    xp = b.xp
    coef = xp.clip(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        a = g._data
        a *= xp.astype(coef, a.dtype, copy=False) if a.dtype != coef.dtype else coef
        g._data = a
        g._version += 1
    return _wrap(total, b)


def clip_grad_value_(parameters, clip_value, foreach=None):
    r"""Clamp every gradient element into :math:`[-c, c]` in place: :math:`g \leftarrow \operatorname{clip}(g, -c, c)`."""
    c = float(clip_value)
    if c < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        xp = g.backend.xp
        g._data[...] = xp.clip(g._data, -c, c)
        g._version += 1


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The joint ``norm_type`` norm of ``tensors`` (as ``clip_grad_norm_`` computes it), a 0-d Tensor."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    if not tensors:
        from ..autograd.creation import tensor

        return tensor(0.0)
    total = _total_norm(tensors, float(norm_type))
    if error_if_nonfinite and not math.isfinite(float(tensors[0].backend.to_host(total))):
        raise RuntimeError(f"get_total_norm: the total norm of order {norm_type} is non-finite")
    return _wrap(total, tensors[0].backend)
