"""Joining and selecting tensors: ``cat`` (``concat``, ``concatenate``), ``stack``, ``where``, and constant
``pad`` (``F.pad`` calls it), with PyTorch's argument checks and dtype promotion."""
from __future__ import annotations

from . import dtype as _dt
from .creation import tensor
from .errors import broadcast_shape
from .ops.elementwise import Where
from .ops.shape import Cat, Pad
from .tensor import Tensor, _wrap

__all__ = ["cat", "concat", "concatenate", "stack", "where"]


def cat(tensors, dim=0, *, axis=None):
    """Concatenate along ``dim``; all tensors must share device, dtype and the other dims."""
    if axis is not None:
        dim = axis
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    nd = ref.ndim
    d = dim % nd
    for i, t in enumerate(tensors):
        if t.ndim != nd or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != d):
            raise RuntimeError(f"cat: tensor {i} has shape {tuple(t.shape)}, incompatible with {tuple(ref.shape)} "
                               f"(all dims except dim {dim} must match)")
    dts = {t.dtype for t in tensors}
    if len(dts) > 1:
        target = ref.dtype
        for t in tensors:
            target = _dt.promote(target, t.dtype)
        tensors = [t.to(target) for t in tensors]
    return Cat.apply(d, *tensors)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    d = dim % (tensors[0].ndim + 1)
    return cat([t.unsqueeze(d) for t in tensors], d)


def where(condition, input, other):
    """Elementwise ``input if condition else other`` (differentiable in input and other).

    ``condition`` must be bool. ``input``/``other`` may be tensors or scalars; the result dtype follows
    the promotion table (``autograd/dtype.py``): ``where(c, tensor([1, 2]), 0.5)`` is float32.
    """
    if not isinstance(condition, Tensor):
        condition = tensor(condition, device=input.device if isinstance(input, Tensor)
                           else other.device if isinstance(other, Tensor) else None)
    if condition.dtype is not _dt.bool_:
        raise RuntimeError(f"where: expected condition to be a bool tensor, got {condition.dtype} (as torch); "
                           "compare first, e.g. where(x > 0, ...)")
    d = _dt.result_type(*(v for v in (input, other)))
    b = condition.backend

    def operand(v):
        if isinstance(v, Tensor):
            return v if v.dtype is d else v.to(d)
        if _dt.is_scalar(v):
            return _wrap(b.xp.asarray(_dt.scalar_as(v, d), dtype=getattr(b.xp, d.name), device=b.device), b)
        return tensor(v, dtype=d, device=condition.device)

    input, other = operand(input), operand(other)
    input, other = input._coerce(other, "where")
    shape = broadcast_shape(condition.shape, input.shape, other.shape, op="where")
    return Where.apply(condition.expand(shape), input.expand(shape), other.expand(shape))


def pad(x, pad, mode="constant", value=0.0):
    """Constant padding as ``torch.nn.functional.pad``: ``pad`` lists (left, right) pairs from the last dim."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (only 'constant')")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected pairs for at most {x.ndim} dims, got {pad}")
    pads = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        pads[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if any(a < 0 or b < 0 for a, b in pads):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    return Pad.apply(x, tuple(pads), value)


