"""Window geometry shared by convolution and pooling: padding, the strided window view of every
output position, im2col (windows copied into a column matrix) and its adjoint col2im.

``_Geom`` holds one op's geometry (kernel, stride, padding, dilation, output size); the helpers take
a backend ``be`` and work on its arrays (Array API calls plus ``be.sliding_windows``).
"""
from __future__ import annotations

import itertools


class _Geom:
    """Everything about a convolution/pooling window except the arrays.

    ``in_shape`` (N, C, *S) of the unpadded input; ``ksize``, ``stride``, ``dilation`` per spatial dim;
    ``pads`` ((lo, hi), ...) per spatial dim; ``out`` the output spatial size; ``groups``.
    """

    __slots__ = ("nd", "in_shape", "ksize", "stride", "dilation", "pads", "groups", "out")

    def __init__(self, in_shape, ksize, stride, dilation, pads, groups=1, out=None):
        self.nd = len(ksize)
        self.in_shape = tuple(in_shape)
        self.ksize, self.stride, self.dilation = tuple(ksize), tuple(stride), tuple(dilation)
        self.pads, self.groups = tuple(pads), groups
        if out is None:
            sp = self.in_shape[-self.nd:]
            out = tuple((s + lo + hi - self.extent(i)) // st + 1
                        for i, (s, (lo, hi), st) in enumerate(zip(sp, self.pads, self.stride)))
        self.out = tuple(out)

    def extent(self, i):
        """Span of the dilated kernel along spatial dim ``i``."""
        return self.dilation[i] * (self.ksize[i] - 1) + 1

    def padded(self):
        sp = self.in_shape[-self.nd:]
        return tuple(s + lo + hi for s, (lo, hi) in zip(sp, self.pads))

    def with_shape(self, in_shape):
        return _Geom(in_shape, self.ksize, self.stride, self.dilation, self.pads, self.groups, self.out)

    def has_pad(self):
        return any(lo or hi for lo, hi in self.pads)


def _pad(be, a, pads, value=0.0):
    """Constant-pad the last len(pads) dims of array ``a`` (no graph: used inside ops)."""
    if not any(lo or hi for lo, hi in pads):
        return a
    xp = be.xp
    lead = a.shape[:a.ndim - len(pads)]
    shape = lead + tuple(s + lo + hi for s, (lo, hi) in zip(a.shape[len(lead):], pads))
    out = xp.full(shape, value, dtype=a.dtype, device=be.device)
    out[(slice(None),) * len(lead) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(a.shape[len(lead):], pads))] = a
    return out


def _crop(a, geom):
    """Inverse of ``_pad`` for the gradient: the unpadded region of the last nd dims."""
    if not geom.has_pad():
        return a
    sp = geom.in_shape[-geom.nd:]
    lead = a.ndim - geom.nd
    return a[(slice(None),) * lead + tuple(slice(lo, lo + s) for s, (lo, _) in zip(sp, geom.pads))]


def _windows(be, xpad, geom):
    """View (..., *out, *k) of the window of every output position over the last nd dims of ``xpad``."""
    nd = geom.nd
    ext = tuple(geom.extent(i) for i in range(nd))
    axes = tuple(range(xpad.ndim - nd, xpad.ndim))
    w = be.sliding_windows(xpad, ext, axes)
    lead = xpad.ndim - nd
    key = (slice(None),) * lead
    # stride-1 window count P - ext + 1, every stride-th one: exactly `out` (P may hold ceil-mode extra)
    key += tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(geom.out, geom.stride))
    key += tuple(slice(None, None, d) for d in geom.dilation)
    if key == (slice(None),) * len(key):
        return w
    return w[key]


def _col2im_add(be, out_pad, gwin, geom):
    """out_pad[..., window positions] += gwin for every kernel offset (the adjoint of ``_windows``).

    ``gwin``: (..., *k, *out) with the same leading dims as ``out_pad`` (..., *padded). One strided add
    per kernel offset (a loop over the K kernel positions, never over pixels).
    """
    nd = geom.nd
    lead = out_pad.ndim - nd
    head = (slice(None),) * lead
    for kidx in itertools.product(*(range(k) for k in geom.ksize)):
        key = head + tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                           for i, d, s, o in zip(kidx, geom.dilation, geom.stride, geom.out))
        out_pad[key] += gwin[head + kidx + (Ellipsis,)]
    return out_pad


# ------------------------------------------------------------------ im2col / col2im for convolution
def _im2col(be, x, geom):
    """Column matrix (G, Cg*K, N*L) of input array ``x`` (N, C, *S): one copy of the window view."""
    xp = be.xp
    nd = geom.nd
    n, c = x.shape[0], x.shape[1]
    win = _windows(be, _pad(be, x, geom.pads), geom)  # (N, C, *out, *k)
    perm = (1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,) + tuple(range(2, 2 + nd))  # (C, *k, N, *out)
    k = _prod(geom.ksize)
    return xp.reshape(xp.permute_dims(win, perm), (geom.groups, (c // geom.groups) * k, n * _prod(geom.out)))


def _g_matrix(xp, g, groups):
    """Output gradient (N, O, *out) as (G, Og, N*L) (a transposing copy)."""
    o = g.shape[1]
    perm = (1, 0) + tuple(range(2, g.ndim))
    return xp.reshape(xp.permute_dims(g, perm), (groups, o // groups, -1))


def _prod(t):
    p = 1
    for v in t:
        p *= v
    return p
