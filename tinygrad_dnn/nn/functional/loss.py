"""Loss functions (``torch.nn.functional``) with PyTorch's ``reduction`` semantics.

``reduction``: 'none' (per-element losses), 'mean' (average; a weighted average for
cross_entropy/nll_loss with ``weight``), 'sum'. All are stable for extreme logits: logits go
through log_softmax / softplus, never through exp then log.
"""
from __future__ import annotations

import math

from ...autograd.errors import check_float, check_same_device
from ...autograd.grad_mode import _grad_enabled
from ...autograd.joining import where
from ...autograd.ops import activation as Act
from ...autograd.ops import elementwise as E
from ...autograd.ops.loss import BCEWithLogits, BinaryCrossEntropy
from ...autograd.tensor import Tensor, _wrap

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div", "hinge_embedding_loss",
           "multi_margin_loss", "soft_margin_loss"]

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss, reduction, fn):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_reduction(reduction, fn, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS + tuple(extra)}, got {reduction!r}")


def _check_pair(input, target, fn, float_target=True):
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{fn}: expected Tensors, got {type(input).__name__} and {type(target).__name__}")
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{fn}: target shape {tuple(target.shape)} differs from input shape {tuple(input.shape)}; "
                         "they must match (reshape the target, e.g. target.view_as(input) or input.squeeze(-1))")
    check_float(fn, input)
    if input.backend is not target.backend:
        check_same_device(fn, input=input, target=target)
    if float_target and target.dtype is not input.dtype:
        target = target.to(input.dtype)
    return input, target


def mse_loss(input, target, reduction="mean"):
    """(x - y)^2, reduced."""
    _check_reduction(reduction, "F.mse_loss")
    input, target = _check_pair(input, target, "F.mse_loss")
    d = input - target
    return _reduce(d * d, reduction, "F.mse_loss")


def l1_loss(input, target, reduction="mean"):
    """|x - y|, reduced."""
    _check_reduction(reduction, "F.l1_loss")
    input, target = _check_pair(input, target, "F.l1_loss")
    return _reduce((input - target).abs(), reduction, "F.l1_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, with d = x - y (beta = 0 gives L1)."""
    _check_reduction(reduction, "F.smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"F.smooth_l1_loss: beta must be >= 0, got {beta}")
    input, target = _check_pair(input, target, "F.smooth_l1_loss")
    d = input - target
    a = d.abs()
    if beta == 0:
        return _reduce(a, reduction, "F.smooth_l1_loss")
    small = _wrap(a.backend.xp.logical_not(a._data >= beta), a.backend)  # nan on the quadratic side, as torch
    ds = where(small, d, 0.0)  # d only where it is used: an infinite d gives no inf * 0 = nan in the backward
    loss = where(small, (0.5 / beta) * ds * ds, a - 0.5 * beta)
    return _reduce(loss, reduction, "F.smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta)  (= delta * smooth_l1 with beta = delta)."""
    _check_reduction(reduction, "F.huber_loss")
    if delta <= 0:
        raise ValueError(f"F.huber_loss: delta must be > 0, got {delta}")
    input, target = _check_pair(input, target, "F.huber_loss")
    d = input - target
    a = d.abs()
    small = _wrap(a.backend.xp.logical_not(a._data >= delta), a.backend)  # nan on the quadratic side, as torch
    ds = where(small, d, 0.0)  # see smooth_l1_loss
    loss = where(small, 0.5 * ds * ds, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction, "F.huber_loss")


def _weight(w, ref, fn, name="weight", differentiable=True):
    if w is None:
        return None
    if not differentiable and isinstance(w, Tensor) and w.requires_grad and _grad_enabled[0]:
        raise RuntimeError(f"{fn}: not differentiable with respect to {name} (as PyTorch), but {name} requires grad; "
                           f"pass {name}.detach() or compute the loss under no_grad()")
    if not isinstance(w, Tensor):
        raise TypeError(f"{fn}: weight must be a Tensor, got {type(w).__name__}")
    if w.backend is not ref.backend:
        check_same_device(fn, input=ref, **{name: w})
    return w if w.dtype is ref.dtype else w.to(ref.dtype)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w [y log x + (1 - y) log(1 - x)] for probabilities x in [0, 1]; each log is clamped at -100 (as PyTorch)."""
    _check_reduction(reduction, "F.binary_cross_entropy")
    input, target = _check_pair(input, target, "F.binary_cross_entropy")
    be = input.backend
    xp = be.xp
    if input.numel():
        ok = xp.all((input._data >= 0) & (input._data <= 1))  # nan too, as torch
        msg = (f"F.binary_cross_entropy: all input values must be probabilities in [0, 1] (input shape "
               f"{tuple(input.shape)}); for logits use binary_cross_entropy_with_logits")
        if be.deferred_checks:  # a GPU: checked on the device, raised at the next synchronization
            be.defer_check("F.binary_cross_entropy", ~ok, xp.zeros((), dtype=xp.float32, device=be.device),
                           lambda v: msg, ValueError)
        elif not bool(ok):
            raise ValueError(msg)
    w = _weight(weight, input, "F.binary_cross_entropy", differentiable=False)
    loss = BinaryCrossEntropy.apply(input, target)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction, "F.binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """-w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] computed stably as
    (1 - y) x + (1 + (p - 1) y) softplus(-x)  (p = pos_weight, broadcast along the last dim)."""
    _check_reduction(reduction, "F.binary_cross_entropy_with_logits")
    input, target = _check_pair(input, target, "F.binary_cross_entropy_with_logits")
    pw = _weight(pos_weight, input, "F.binary_cross_entropy_with_logits", "pos_weight", differentiable=False)
    w = _weight(weight, input, "F.binary_cross_entropy_with_logits", differentiable=False)
    if pw is not None:
        loss = BCEWithLogits.apply(input, target, pw)
    else:
        loss = BCEWithLogits.apply(input, target)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction, "F.binary_cross_entropy_with_logits")


def _class_targets(input, target, fn, ignore_index):
    """Validate class-index targets for (N, C, d1, ...) or (C,) input; return (C, valid-mask array, safe targets)."""
    shp = tuple(input.shape)
    if input.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dim, got a 0-d tensor")
    expected = shp[:1] + shp[2:] if input.ndim >= 2 else ()
    C = shp[1] if input.ndim >= 2 else shp[0]
    if tuple(target.shape) != expected:
        raise ValueError(f"{fn}: target of shape {tuple(target.shape)} does not match input of shape {shp}: class-index "
                         f"targets must have shape {expected} (the input without its class dim 1)"
                         + ("; for probabilities pass a float target of the input's shape" if target.ndim == len(shp) else ""))
    if target.dtype.is_floating_point or target.dtype.name == "bool":
        raise TypeError(f"{fn}: class-index target must be an integer tensor (int64), got {target.dtype} of shape "
                        f"{tuple(target.shape)} (input shape {shp}); use target.long(), or a float target with the "
                        "input's shape for class probabilities")
    if target.backend is not input.backend:
        check_same_device(fn, input=input, target=target)
    be = input.backend
    xp = be.xp
    t = target._data
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= C))
    if be.deferred_checks:  # a GPU: no host sync per step; checked on the device, raised at the next sync
        vals = xp.where(bad, t, xp.zeros_like(t))
        hi = xp.max(vals) if vals.size else xp.zeros((), dtype=t.dtype, device=be.device)
        lo = xp.min(vals) if vals.size else hi
        be.defer_check(fn + " target", xp.any(bad), xp.where(hi >= C, hi, lo), lambda v: (
            f"{fn}: target {v} is out of bounds for {C} classes (input shape {shp}, target shape "
            f"{tuple(target.shape)}); labels must be in [0, {C - 1}] or equal ignore_index={ignore_index}"))
    elif bool(xp.any(bad)):
        vals = xp.where(bad, t, xp.zeros_like(t))
        first = int(xp.max(vals)) if bool(xp.any(vals >= C)) else int(xp.min(vals))
        raise IndexError(f"{fn}: target {first} is out of bounds for {C} classes (input shape {shp}, target shape "
                         f"{tuple(target.shape)}); labels must be in [0, {C - 1}] or equal ignore_index={ignore_index}")
    safe = xp.where(valid, t, xp.zeros_like(t))
    return C, valid, safe


def _classes_last(x):
    """(N, C, d1, ...) -> (N * d1 * ..., C); (C,) -> (1, C); (N, C) unchanged."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.permute(*perm).reshape(-1, x.shape[1])


def _nll_parts(logp, target, weight, ignore_index, fn):
    """Per-element -w[y] logp[y] (0 where ignored), and per-element weights w[y] (0 where ignored), shaped as target."""
    C, valid, safe = _class_targets(logp, target, fn, ignore_index)
    be = logp.backend
    xp = be.xp
    flat = _classes_last(logp)
    tflat = xp.reshape(safe, (-1,))
    vflat = xp.astype(xp.reshape(valid, (-1,)), logp._data.dtype)
    hot = xp.expand_dims(tflat, axis=-1) == xp.arange(C, device=be.device)
    onehot = xp.astype(hot, logp._data.dtype)
    if weight is not None:
        if tuple(weight.shape) != (C,):
            raise ValueError(f"{fn}: weight of shape {tuple(weight.shape)} must have one entry per class ({C},) "
                             f"(input shape {tuple(logp.shape)})")
        wy = (weight * _wrap(onehot, be)).sum(-1) * _wrap(vflat, be)  # w[y_i], 0 where ignored
    else:
        wy = _wrap(vflat, be)
    # select, not multiply: a masked class has log-probability -inf, and -inf * 0 would be nan
    hot = hot & xp.expand_dims(xp.reshape(valid, (-1,)), axis=-1)  # ignored elements pick nothing
    picked = E.Where.apply(_wrap(hot, be), flat, _wrap(xp.zeros_like(flat._data), be)).sum(-1)
    loss = -(picked * wy)
    out_shape = tuple(target.shape)
    return loss.reshape(out_shape), wy.reshape(out_shape), valid


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-w[y] input[y] for log-probabilities ``input`` (N, C, ...) and class indices ``target`` (N, ...);
    'mean' divides by sum of w[y] over non-ignored elements (the weighted mean, as PyTorch)."""
    _check_reduction(reduction, "F.nll_loss")
    weight = _weight(weight, input, "F.nll_loss")
    loss, wy, _ = _nll_parts(input, target, weight, ignore_index, "F.nll_loss")
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return _weighted_mean(loss.sum(), wy.sum())


def _weighted_mean(total, denom):
    """total / denom for the 'mean' reduction; when every target is ignored (denom = 0) the loss is nan and
    the gradient 0, as PyTorch (a plain division would send 1/0 * 0 = nan into every gradient)."""
    be = denom.backend
    xp = be.xp
    d = denom._data
    empty = d == 0
    if not denom.requires_grad:  # the usual case (no weight, or a constant one): constants, no host sync
        inv = xp.where(empty, xp.zeros_like(d), 1.0 / xp.where(empty, xp.ones_like(d), d))
        nan_if_empty = xp.where(empty, xp.full_like(d, math.nan), xp.zeros_like(d))
        return total * _wrap(inv, be) + _wrap(nan_if_empty, be)
    e = _wrap(empty, be)
    return where(e, math.nan, total / where(e, 1.0, denom))


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` (N, C, d1, ...) or (C,):

    * class indices ``target`` (N, d1, ...): -w[y] log softmax(x)[y], with label smoothing eps:
      (1 - eps) * nll + eps/C * sum_c -w_c log softmax(x)_c; 'mean' is the weighted mean over
      non-ignored elements (divided by sum of w[y]);
    * class probabilities ``target`` (input's shape, float): -sum_c w_c y'_c log softmax(x)_c with
      y' = (1 - eps) y + eps / C; 'mean' divides by the number of elements N * d1 * ....
    """
    _check_reduction(reduction, "F.cross_entropy")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"F.cross_entropy: expected Tensors, got {type(input).__name__} and {type(target).__name__}")
    check_float("F.cross_entropy", input, "input (logits)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"F.cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    weight = _weight(weight, input, "F.cross_entropy")
    cdim = 1 if input.ndim >= 2 else 0
    logp = input.log_softmax(cdim)
    C = input.shape[cdim]
    wshape = (C,) + (1,) * (input.ndim - cdim - 1)
    if target.dtype.is_floating_point:  # class probabilities
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"F.cross_entropy: probability target of shape {tuple(target.shape)} must have the input's "
                             f"shape {tuple(input.shape)}; for class indices pass an int64 target of shape "
                             f"{tuple(input.shape[:1]) + tuple(input.shape[2:]) if input.ndim >= 2 else ()}")
        if target.backend is not input.backend:
            check_same_device("F.cross_entropy", input=input, target=target)
        if target.dtype is not input.dtype:
            target = target.to(input.dtype)
        if label_smoothing > 0:
            target = target * (1.0 - label_smoothing) + label_smoothing / C
        terms = logp * target
        if weight is not None:
            terms = terms * weight.reshape(wshape)
        loss = -terms.sum(cdim)
        if reduction == "mean":
            n = input.numel() // C
            return loss.sum() / max(n, 1) if input.ndim >= 2 else loss
        return _reduce(loss, reduction, "F.cross_entropy")
    nll, wy, valid = _nll_parts(logp, target, weight, ignore_index, "F.cross_entropy")
    if label_smoothing > 0:
        terms = logp if weight is None else logp * weight.reshape(wshape)
        smooth = -terms.sum(cdim) * _wrap(input.backend.xp.astype(valid, input._data.dtype), input.backend)
        eps = label_smoothing
        if reduction == "none":
            return (1.0 - eps) * nll + (eps / C) * smooth
        if reduction == "sum":
            return (1.0 - eps) * nll.sum() + (eps / C) * smooth.sum()
        denom = wy.sum()
        return (1.0 - eps) * _weighted_mean(nll.sum(), denom) + (eps / C) * _weighted_mean(smooth.sum(), denom)
    if reduction == "none":
        return nll
    if reduction == "sum":
        return nll.sum()
    return _weighted_mean(nll.sum(), wy.sum())


def kl_div(input, target, reduction="mean", log_target=False):
    """KL(target || q) pointwise with ``input`` = log q: y (log y - x), 0 where y = 0;
    ``log_target``: e^y (y - x). 'batchmean' divides the sum by the batch size (the true KL);
    'mean' divides by the number of elements (PyTorch's default)."""
    _check_reduction(reduction, "F.kl_div", ("batchmean",))
    input, target = _check_pair(input, target, "F.kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        pos = _wrap(target._data > 0, target.backend)
        safe = where(pos, target, 1.0)
        loss = where(pos, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "F.kl_div")


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (targets in {1, -1})."""
    _check_reduction(reduction, "F.hinge_embedding_loss")
    input, target = _check_pair(input, target, "F.hinge_embedding_loss")
    not_pos = _wrap(target._data != 1, input.backend)
    not_neg = _wrap(target._data != -1, input.backend)
    loss = where(not_pos, (margin - input).clamp(min=0.0), 0.0) + where(not_neg, input, 0.0)
    return _reduce(loss, reduction, "F.hinge_embedding_loss")


def soft_margin_loss(input, target, reduction="mean"):
    """log(1 + exp(-y x)) (targets in {1, -1}), stable."""
    _check_reduction(reduction, "F.soft_margin_loss")
    input, target = _check_pair(input, target, "F.soft_margin_loss")
    return _reduce(Act.Softplus.apply(-target * input, 1.0, math.inf), reduction, "F.soft_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """Multi-class hinge: (1/C) sum_{j != y} w[y] max(0, margin - x_y + x_j)^p for (N, C) or (C,) input."""
    _check_reduction(reduction, "F.multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"F.multi_margin_loss: only p = 1 and p = 2 are supported, got {p}")
    if input.ndim not in (1, 2):
        raise ValueError(f"F.multi_margin_loss: input must be (N, C) or (C,), got shape {tuple(input.shape)}")
    C, _, safe = _class_targets(input, target, "F.multi_margin_loss", ignore_index=-(10 ** 18))
    x = input.reshape(1, -1) if input.ndim == 1 else input
    be = input.backend
    xp = be.xp
    onehot = xp.astype(xp.expand_dims(xp.reshape(safe, (-1,)), axis=-1) == xp.arange(C, device=be.device),
                       input._data.dtype)
    oh = _wrap(onehot, be)
    xy = (x * oh).sum(-1, keepdim=True)
    h = (margin - xy + x).clamp(min=0.0)
    if p == 2:
        h = h * h
    h = h * (1.0 - oh)
    weight = _weight(weight, input, "F.multi_margin_loss")
    if weight is not None:
        h = h * (weight * oh).sum(-1, keepdim=True)
    loss = h.sum(-1) / C
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "F.multi_margin_loss")
