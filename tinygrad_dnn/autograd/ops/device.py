"""Ops that copy: ``Clone`` (``x.clone()``, ``x.contiguous()``) and ``ToDevice`` (``x.to(device)``)."""
from __future__ import annotations

from .. import function as _function
from ..function import Function


class Clone(Function):
    """y = a copy of x (row-major with ``c_order``, e.g. for ``contiguous()``);  dy/dx = 1."""

    @staticmethod
    def forward(ctx, x, c_order=False):
        if c_order:
            return x.backend.copy_c(x._data)
        return x.backend.xp.asarray(x._data, copy=True)

    @staticmethod
    def backward(ctx, g):
        return g, None


class ToDevice(Function):
    """y = x copied to another device (explicit, through the host);  the gradient goes back."""

    @staticmethod
    def forward(ctx, x, backend):
        ctx.src = x.backend
        return _function._wrap(backend.from_host(x.backend.to_host(x._data)), backend)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.src.dev), None
