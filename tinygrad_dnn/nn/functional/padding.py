"""Padding (``torch.nn.functional.pad``): constant, reflect, replicate and circular, negative padding crops.

Constant padding is the ``Pad`` op; the other modes are one integer-array take per padded dim (the
index list says which input element each output element copies), so their gradients sum the copies
back into the source elements (the backward of indexing), to any order.
"""
from __future__ import annotations

from ...autograd import creation as C
from ...autograd.tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _pairs(pad, ndim):
    """[(dim, lo, hi), ...] from torch's flat (last_lo, last_hi, prev_lo, prev_hi, ...) list."""
    try:
        pad = [int(p) for p in pad]
    except TypeError:
        raise TypeError(f"F.pad: pad must be a sequence of ints, got {pad!r}") from None
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")
    return [(ndim - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]


def _index(n, lo, hi, mode, dim, shape, pad):
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {dim} of input {list(shape)}")
        out = []
        for i in range(-lo, n + hi):
            j = abs(i)
            out.append(2 * (n - 1) - j if j >= n else j)
        return out
    if mode == "replicate":
        if n == 0:
            raise RuntimeError(f"F.pad: replicate padding of an empty dimension {dim} (input {list(shape)})")
        return [min(max(i, 0), n - 1) for i in range(-lo, n + hi)]
    # circular: negative padding crops first, the positive part wraps around the cropped range
    start, end = max(0, -lo), n - max(0, -hi)
    m = end - start
    plo, phi = max(lo, 0), max(hi, 0)
    if plo > m or phi > m:
        raise RuntimeError("Padding value causes wrapping around more than once.")
    return [start + (i % m) for i in range(-plo, m + phi)]


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative sizes, crop) the last ``len(pad) // 2`` dims: ``pad`` = (left, right) for the
    last dim, then (top, bottom) for the one before, ...

    ``mode``: 'constant' (``value``, default 0; any number of dims), 'reflect' (mirror without repeating
    the edge; pads must be smaller than the dim), 'replicate' (repeat the edge) or 'circular' (wrap
    around). The non-constant modes pad the last 1, 2 or 3 dims of a 2-3, 3-4 or 4-5 dim input, as PyTorch.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"F.pad: expected a Tensor input, got {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = _pairs(pad, input.ndim)
    shape = tuple(input.shape)
    if mode == "constant":
        crop = [slice(None)] * input.ndim
        pos = [(0, 0)] * input.ndim
        for d, lo, hi in pairs:
            n = shape[d]
            if n + lo + hi < 0:
                raise RuntimeError(f"F.pad: padding ({lo}, {hi}) of dimension {d} (size {n}) gives a negative size")
            crop[d] = slice(max(0, -lo), n - max(0, -hi))
            pos[d] = (max(lo, 0), max(hi, 0))
        x = input
        if any(s != slice(None) for s in crop):
            x = input[tuple(crop)]
        if not any(lo or hi for lo, hi in pos):
            return x if x is not input else input[...]
        flat = []
        for d in range(input.ndim - 1, -1, -1):
            flat += list(pos[d])
        return C.pad(x, flat, "constant", 0.0 if value is None else value)
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pairs)
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {2 * k} is not supported for {input.ndim}D input tensor. "
                                  "Supported combinations for non-constant padding: 2D or 3D input with padding "
                                  "size 2, 3D or 4D input with size 4, 4D or 5D input with size 6")
    x = input
    for d, lo, hi in pairs:
        if lo == 0 and hi == 0:
            continue
        idx = _index(shape[d], lo, hi, mode, d, shape, pad)
        x = x[(slice(None),) * d + (C.tensor(idx, device=input.device),)]
    return x
