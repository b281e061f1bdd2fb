"""``Tensor``'s in-place methods (``add_``, ``mul_``, ``clamp_``, ``relu_``, ``fill_``, ``copy_``...): each is
recorded in the graph by ``views.apply_inplace`` (see ``views.py`` and docs/architecture.md).
"""
from __future__ import annotations


from . import dtype as _dt
from . import views as _views
from .ops.device import Clone
from .ops import elementwise as E

Tensor = _wrap = None  # bound by tensor.py once the class exists (this module is imported first)


def _bind(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


class InplaceMethods:
    """In-place methods of ``Tensor`` (a mixin)."""

    __slots__ = ()

    # ------------------------------------------------------------ in-place (recorded in the graph; views.py)
    def _inplace(self, op, f, *others):
        """``self <- f(self)`` in memory, recorded in the graph as PyTorch does (see ``views.apply_inplace``)."""
        return _views.apply_inplace(self, op, f, others)

    def add_(self, other, alpha=1):
        """self += alpha * other, in place."""
        o = other if alpha == 1 else other * alpha
        return self._inplace("add_", lambda s: s + o, other)

    def sub_(self, other, alpha=1):
        o = other if alpha == 1 else other * alpha
        return self._inplace("sub_", lambda s: s - o, other)

    def mul_(self, other):
        return self._inplace("mul_", lambda s: s * other, other)

    def div_(self, other):
        return self._inplace("div_", lambda s: s / other, other)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda s: s ** exponent, exponent)

    __iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_

    def addcmul_(self, t1, t2, value=1.0):
        return self._inplace("addcmul_", lambda s: s + t1 * t2 * value, t1, t2)

    def addcdiv_(self, t1, t2, value=1.0):
        return self._inplace("addcdiv_", lambda s: s + t1 / t2 * value, t1, t2)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise RuntimeError(f"fill_: only supports 0-dimension value tensor but got tensor with "
                                   f"{value.ndim} dimensions")
            return self.copy_(value)
        return self._inplace("fill_", lambda s: _views.Fill.apply(s, value))

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape, converted to this dtype/device) into this tensor."""
        if not isinstance(src, Tensor):
            from .creation import tensor

            src = tensor(src, dtype=self.dtype, device=self.device)
        if src.backend is not self.backend:
            src = src.to(self.device)
        if tuple(src.shape) != tuple(self.shape):
            from .creation import _broadcast_shape

            if _broadcast_shape(src.shape, self.shape, op="copy_") != tuple(self.shape):
                raise RuntimeError(f"copy_: source of shape {tuple(src.shape)} is not broadcastable to "
                                   f"{tuple(self.shape)}")
        return self._inplace("copy_", lambda s: _views.CopyFrom.apply(s, src), src)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda s: s.clamp(min, max))

    clip_ = clamp_

    def clamp_min_(self, min):
        return self._inplace("clamp_min_", lambda s: s.clamp(min=min))

    def clamp_max_(self, max):
        return self._inplace("clamp_max_", lambda s: s.clamp(max=max))

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is True, else ``self`` (mask broadcasts to this shape)."""
        if not isinstance(mask, Tensor) or mask.dtype is not _dt.bool_:
            raise RuntimeError(f"masked_fill: expected a bool mask tensor, got {getattr(mask, 'dtype', type(mask))}")
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, got {value.ndim} dims")
            v = value if value.dtype is self.dtype else value.to(self.dtype)
        else:
            from .creation import full_like

            v = full_like(self, value)
        return E.Where.apply(mask.expand(self.shape), v.expand(self.shape), self)

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda s: s.masked_fill(mask, value))

    def neg_(self):
        return self._inplace("neg_", lambda s: -s)

    negative_ = neg_

    def uniform_(self, a=0.0, b=1.0):
        return self.copy_(_wrap(self.backend.uniform(self._data.shape, self._data.dtype, a, b), self.backend))

    def normal_(self, mean=0.0, std=1.0):
        return self.copy_(_wrap(self.backend.normal(self._data.shape, self._data.dtype, mean, std), self.backend))

    def contiguous(self):
        """``self`` if its memory is laid out row-major, else a row-major copy (so ``view`` works on it)."""
        return self if self.backend.is_contiguous(self._data) else Clone.apply(self, True)

    def type_as(self, other):
        return self.to(other.dtype)

    def new_zeros(self, *size, dtype=None):
        from .creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, device=self.device)

    def new_ones(self, *size, dtype=None):
        from .creation import ones

        return ones(*size, dtype=dtype or self.dtype, device=self.device)

    def new_tensor(self, data, dtype=None):
        from .creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=self.device)
