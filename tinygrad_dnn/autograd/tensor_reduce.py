"""``Tensor``'s reductions: ``sum``, ``mean``, ``var``/``std``, ``max``/``min`` (with indices), ``prod``,
``logsumexp``, ``norm``, ``softmax``..., with PyTorch's ``dim``/``keepdim`` (``axis``/``keepdims`` accepted).
"""
from __future__ import annotations

import builtins
import math

from . import dtype as _dt
from .ops import reduce as R
from .ops import softmax as SM

Tensor = _wrap = None  # bound by tensor.py once the class exists (this module is imported first)


def _bind(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


class ReduceMethods:
    """Reductions of ``Tensor`` (a mixin)."""

    __slots__ = ()

    # ------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        t = self if dtype is None else self.to(dtype)
        if not t.dtype.is_floating_point and t.dtype is not _dt.int64:
            t = t.to(_dt.int64)  # integer and bool sums accumulate in int64 (as torch)
        return R.Sum.apply(t, R.norm_dims(_dims(dim, axis), self.ndim, "sum"), _kd(keepdim, keepdims))

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        t = self if dtype is None else self.to(dtype)
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"mean: expected a floating point tensor, got {t.dtype}; use .float() first")
        return R.Mean.apply(t, R.norm_dims(_dims(dim, axis), self.ndim, "mean"), _kd(keepdim, keepdims))

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """sum((x - mean)^2) / (N - correction) over ``dim``; PyTorch's signature ``var(dim, unbiased, keepdim)``
        (``unbiased=False`` is ``correction=0``) or ``var(dim, correction=c, keepdim=...)``; Bessel's
        ``correction=1`` by default. float16 is accumulated in float32 and rounded once."""
        dims, correction, keepdim = _var_args("var", self, dim, unbiased, keepdim, correction, axis, keepdims)
        x = self.float() if self.dtype is _dt.float16 else self
        v = R.Var.apply(x, dims, correction, keepdim, _dims(dim, axis) is None or isinstance(dim, builtins.bool))
        return v if x is self else v.to(self.dtype)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """sqrt(var(x)) with var's signature. At a zero variance (a constant input) the gradient is 0,
        not 1/0 (PyTorch's convention for this kink)."""
        dims, correction, keepdim = _var_args("std", self, dim, unbiased, keepdim, correction, axis, keepdims)
        x = self.float() if self.dtype is _dt.float16 else self
        s = _sqrt0(x.var(dims, keepdim=keepdim, correction=correction))
        return s if x is self else s.to(self.dtype)

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return R.Amax.apply(self, R.norm_dims(_dims(dim, axis), self.ndim, "amax"), _kd(keepdim, keepdims))

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return R.Amin.apply(self, R.norm_dims(_dims(dim, axis), self.ndim, "amin"), _kd(keepdim, keepdims))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """``max()`` -> the largest value (ties share the gradient evenly, as PyTorch);
        ``max(dim)`` -> (values, indices), the gradient going to the returned index only, as PyTorch.

        With ``max(other_tensor)`` it is the elementwise maximum.
        """
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        dim = _dims(dim, axis)
        if dim is None:  # as amax(), but a nan maximum sends its gradient to the nans (torch.max)
            return R.Amax.apply(self, R.norm_dims(None, self.ndim), False, True)
        return self._minmax_dim(self.backend.xp.argmax, dim, _kd(keepdim, keepdims), "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """``min()`` (ties share the gradient) or ``min(dim)`` -> (values, indices); see :meth:`max`."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        dim = _dims(dim, axis)
        if dim is None:
            return R.Amin.apply(self, R.norm_dims(None, self.ndim), False, True)
        return self._minmax_dim(self.backend.xp.argmin, dim, _kd(keepdim, keepdims), "min")

    def _minmax_dim(self, f, dim, keepdim, op):
        (d,) = R.norm_dims(dim, self.ndim, op)
        xp = self.backend.xp
        if self.ndim == 0:
            return MinMax(self, _wrap(xp.zeros((), dtype=xp.int64, device=self.backend.device), self.backend))
        if self._data.shape[d] == 0:
            raise IndexError(f"{op}(): cannot take the {op} over dim {dim} of size 0 (input shape {tuple(self.shape)})")
        idx = xp.astype(f(self._data, axis=d, keepdims=True), xp.int64)
        vals = R.MaxDim.apply(self, d, keepdim, idx)
        return MinMax(vals, _wrap(idx if keepdim else xp.squeeze(idx, axis=d), self.backend))

    def prod(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Product over dims. The gradient is the product of the other factors (exact with zeros)."""
        dim = _dims(dim, axis)
        return R.Prod.apply(self, R.norm_dims(dim, self.ndim, "prod"), _kd(keepdim, keepdims), dim is None)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """log sum exp(x), computed as m + log sum exp(x - m) with m = max(x) (stable, infinities as PyTorch)."""
        return R.LogSumExp.apply(self, R.norm_dims(_dims(dim, axis), self.ndim, "logsumexp"), _kd(keepdim, keepdims))

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return self._arg(self.backend.xp.argmax, _dims(dim, axis), _kd(keepdim, keepdims))

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return self._arg(self.backend.xp.argmin, _dims(dim, axis), _kd(keepdim, keepdims))

    def _arg(self, f, dim, keepdim):
        xp = self.backend.xp
        if dim is None:
            r = f(xp.reshape(self._data, (-1,)))
            return _wrap(xp.astype(r, xp.int64), self.backend)
        return _wrap(xp.astype(f(self._data, axis=dim, keepdims=keepdim), xp.int64), self.backend)

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """True where every element over ``dim`` is nonzero (bool; uint8 for uint8 input, as torch)."""
        return self._all_any(self.backend.xp.all, "all", _dims(dim, axis), _kd(keepdim, keepdims))

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return self._all_any(self.backend.xp.any, "any", _dims(dim, axis), _kd(keepdim, keepdims))

    def _all_any(self, f, op, dim, keepdim):
        xp = self.backend.xp
        dims = None if dim is None else R.norm_dims(dim, self.ndim, op)
        out = f(self._data, axis=dims, keepdims=keepdim) if dims != () else self._data != 0
        if self.dtype is _dt.uint8:
            out = xp.astype(out, xp.uint8)
        return _wrap(out, self.backend)

    def norm(self, p=2, dim=None, keepdim=False):
        """Vector p-norm (sum |x|^p)^(1/p) over ``dim`` (all elements by default); p = inf: max |x|.

        At a zero vector the gradient is 0 (PyTorch's subgradient), not 0/0. float16 accumulates in float32.
        """
        x = self.float() if self.dtype is _dt.float16 else self
        if p == 0:  # the number of nonzeros (gradient 0, as torch)
            out = x.abs().sign().sum(dim=dim, keepdim=keepdim)
        elif p == 2 or p == "fro":
            out = R.Norm2.apply(x, R.norm_dims(dim, x.ndim, "norm"), keepdim)
        elif p == 1:
            out = x.abs().sum(dim=dim, keepdim=keepdim)
        elif p == math.inf:  # amax of |x|, a nan sharing the gradient among the nans (PyTorch's norm_backward)
            out = R.Amax.apply(x.abs(), R.norm_dims(dim, x.ndim, "norm"), keepdim, "product")
        else:
            s = (x.abs() ** p).sum(dim=dim, keepdim=keepdim)
            zero = _wrap(s._data == 0, s.backend)
            from .creation import where

            out = where(zero, 0.0, where(zero, 1.0, s) ** (1.0 / p))
        return out if x is self else out.to(self.dtype)

    def softmax(self, dim):
        return SM.Softmax.apply(self, _softmax_dim(self, dim, "softmax"))

    def log_softmax(self, dim):
        return SM.LogSoftmax.apply(self, _softmax_dim(self, dim, "log_softmax"))


def _dims(dim, axis):
    return axis if dim is None and axis is not None else dim


def _kd(keepdim, keepdims):
    return bool(keepdims) if keepdims is not None else keepdim


# ---------------------------------------------------------------- helpers and small ops
def _var_args(op, t, dim, unbiased, keepdim, correction, axis, keepdims):
    """Resolve var/std's PyTorch signatures to (dims, correction, keepdim)."""
    if isinstance(dim, builtins.bool):  # var(unbiased): a bool first argument is not a dim
        if unbiased is not None:
            raise TypeError(f"{op}(): got a bool dim ({dim}) and unbiased={unbiased}; use {op}(dim, unbiased, keepdim)")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either unbiased or correction, not both (unbiased=False is correction=0)")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = R.norm_dims(_dims(dim, axis), t.ndim, op)
    return dims, correction, _kd(keepdim, keepdims)


def _sqrt0(v):
    """sqrt(v) whose gradient at v = 0 is 0 instead of 1/0 (norm at a zero vector, std of a constant: as PyTorch)."""
    from .creation import where

    zero = _wrap(v._data == 0, v.backend)
    return where(zero, 0.0, where(zero, 1.0, v).sqrt())


class MinMax(tuple):
    """(values, indices) result of ``max(dim)`` / ``min(dim)``."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def _softmax_dim(t, dim, op):
    """The non-negative dim of a (log_)softmax; raises for integer tensors (as PyTorch) and bad dims."""
    if t._data.dtype not in t.backend.float_dtypes:
        raise RuntimeError(f"{op}: expected a floating point tensor, got {t.dtype} (shape {tuple(t.shape)}), "
                           "as torch; convert with .float()")
    nd = t._data.ndim
    if nd and dim.__class__ is int and -nd <= dim < nd:
        return dim % nd
    return R.norm_dims(dim, nd, op)[0]
