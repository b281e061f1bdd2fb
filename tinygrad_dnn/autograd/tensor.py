"""``Tensor``: an array on some backend plus the autograd bookkeeping.

Slots: ``_data`` (the backend array), ``backend``, ``requires_grad``, ``grad`` (a Tensor or None),
``grad_fn`` (the Context that produced it; None for leaves), ``_version`` (bumped by in-place ops).
Methods are thin: each one calls a ``Function`` from ``ops``.
"""
from __future__ import annotations

import builtins
import math
import weakref

from . import dtype as _dt
from .function import Function, backward as _backward
from .grad_mode import _grad_enabled
from .ops import elementwise as E
from .ops import index as I
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S
from .ops import softmax as SM


def _wrap(data, backend, requires_grad=False, grad_fn=None):
    t = Tensor.__new__(Tensor)
    t._data = data
    t.backend = backend
    t.requires_grad = requires_grad
    t.grad = None
    t.grad_fn = grad_fn
    t._version = 0
    return t


def _dims(dim, axis):
    return axis if dim is None and axis is not None else dim


def _kd(keepdim, keepdims):
    return bool(keepdims) if keepdims is not None else keepdim


class Tensor:
    __slots__ = ("_data", "backend", "requires_grad", "grad", "grad_fn", "_version", "__weakref__")
    __array_priority__ = 1000  # so numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        from .creation import tensor

        t = tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        self._data, self.backend = t._data, t.backend
        self.requires_grad, self.grad, self.grad_fn, self._version = t.requires_grad, None, None, 0

    _from_array = staticmethod(_wrap)

    def __deepcopy__(self, memo):
        """Copy the array but share the backend (backends are singletons compared by identity)."""
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only leaf tensors support the deepcopy protocol; detach() first")
        t = _wrap(self.backend.xp.asarray(self._data, copy=True), self.backend, self.requires_grad)
        memo[id(self)] = t
        if self.grad is not None:
            import copy

            t.grad = copy.deepcopy(self.grad, memo)
        return t

    # ------------------------------------------------------------ attributes
    @property
    def data(self):
        """A tensor sharing this one's array but detached from the graph (as ``torch.Tensor.data``)."""
        return _wrap(self._data, self.backend)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else self.backend.asarray(value)

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self._data.shape[dim]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        return _dt.get_dtype(self._data.dtype)

    @property
    def device(self):
        return self.backend.dev

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_cuda(self):
        return self.backend.dev.type == "cuda"

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def is_floating_point(self):
        return self.dtype.is_floating_point

    # ------------------------------------------------------------ conversion
    def numpy(self):
        """Host NumPy array (a copy for non-CPU devices; shares memory on the CPU, as PyTorch)."""
        return self.backend.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        if self.backend.dev.type != "cpu":
            raise TypeError(f"cannot convert a tensor on {self.device} to a NumPy array implicitly; "
                            "call .cpu() or .numpy() explicitly")
        arr = self._data
        return arr if dtype is None else arr.astype(dtype)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to Python scalars, got shape {tuple(self.shape)}")
        d = self.backend.xp.reshape(self._data, ())
        kind = self.dtype
        if kind is _dt.bool_:
            return bool(d)
        return float(d) if kind.is_floating_point else int(d)

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __index__(self):
        if self.dtype.is_floating_point:
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def to(self, *args, dtype=None, device=None, copy=False):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``. Differentiable."""
        from ..backend import Device, get_backend

        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (str, Device)) and not (isinstance(a, str) and a in _dt._BY_NAME):
                device = a
            else:
                dtype = a
        out = self
        if dtype is not None:
            dtype = _dt.get_dtype(dtype)
            if dtype is not self.dtype:
                out = E.Cast.apply(out, getattr(self.backend.xp, dtype.name))
        if device is not None:
            b = get_backend(device)
            if b is not self.backend:
                out = ToDevice.apply(out, b)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def long(self):
        return self.to(_dt.int64)

    def int(self):
        return self.to(_dt.int32)

    def bool(self):
        return self.to(_dt.bool_)

    def type(self, dtype=None):
        return self.dtype if dtype is None else self.to(dtype)

    # ------------------------------------------------------------ autograd
    def detach(self):
        """Same array, cut from the graph."""
        return _wrap(self._data, self.backend)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def clone(self):
        return Clone.apply(self)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(f"only floating point tensors can require gradients, got {self.dtype}; "
                               "convert with .float() first")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaves; use .detach() for a non-leaf")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever this tensor's gradient is computed; a returned Tensor replaces it.

        Works on leaves (before accumulation into ``.grad``) and on non-leaves. Returns a handle
        with ``remove()``.
        """
        from .function import RemovableHook, leaf_hooks_for

        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            hooks = leaf_hooks_for(self, create=True)
        else:
            if not self.grad_fn._hooks:
                self.grad_fn._hooks = []
            hooks = self.grad_fn._hooks
        hooks.append(hook)
        return RemovableHook(hooks, hook)

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self.grad_fn._retained is not None

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (gradient needed for non-scalars)."""
        _backward(self, gradient, retain_graph, create_graph, inputs)

    # ------------------------------------------------------------ repr
    def __repr__(self):
        from ..backend.base import format_array

        body = format_array(self.backend.to_host(self._data))
        extra = []
        if self.backend.dev.type != "cpu":
            extra.append(f"device='{self.device}'")
        if self.dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_):
            extra.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    def __hash__(self):
        return id(self)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------------ arithmetic
    def _coerce(self, other, op):
        """Make ``other`` usable in a binary op: same backend, PyTorch-style dtype promotion."""
        if isinstance(other, Tensor):
            if other.backend is not self.backend:
                from .function import _device_mismatch

                _device_mismatch(type(_OPNAMES.get(op, op), (), {}), (self, other))
            if other._data.shape != self._data.shape:
                _check_broadcast(op, self._data.shape, other._data.shape)
            if other._data.dtype != self._data.dtype:
                d = _dt.promote(self.dtype, other.dtype)
                a = self if self.dtype is d else self.to(d)
                b = other if other.dtype is d else other.to(d)
                return a, b
            return self, other
        if isinstance(other, (builtins.int, builtins.float, builtins.bool)):
            if type(other) not in (builtins.int, builtins.float, builtins.bool):  # numpy.float64 subclasses float
                other = builtins.float(other) if isinstance(other, builtins.float) else builtins.int(other)
            if type(other) is builtins.float and not _dt.get_dtype(self._data.dtype).is_floating_point:
                return self.to(_dt.get_default_dtype()), other
            return self, other
        if hasattr(other, "__array_namespace__") or hasattr(other, "dtype"):
            from .creation import tensor

            return self._coerce(tensor(other, device=self.device), op)
        raise TypeError(f"{op}: unsupported operand of type {type(other).__name__}")

    def __add__(self, o):
        a, b = self._coerce(o, "add")
        return E.Add.apply(a, b)

    def __radd__(self, o):
        a, b = self._coerce(o, "add")
        return E.Add.apply(b, a)

    def __sub__(self, o):
        a, b = self._coerce(o, "sub")
        return E.Sub.apply(a, b)

    def __rsub__(self, o):
        a, b = self._coerce(o, "sub")
        return E.Sub.apply(b, a)

    def __mul__(self, o):
        a, b = self._coerce(o, "mul")
        return E.Mul.apply(a, b)

    def __rmul__(self, o):
        a, b = self._coerce(o, "mul")
        return E.Mul.apply(b, a)

    def __truediv__(self, o):
        a, b = self._coerce(o, "div")
        if not a.dtype.is_floating_point:
            a = a.to(_dt.get_default_dtype())
            a, b = a._coerce(b, "div")
        return E.Div.apply(a, b)

    def __rtruediv__(self, o):
        a, b = self._coerce(o, "div")
        if not a.dtype.is_floating_point:
            a = a.to(_dt.get_default_dtype())
        return E.Div.apply(b, a)

    def __neg__(self):
        return E.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, o):
        if isinstance(o, (builtins.int, builtins.float)) and not isinstance(o, builtins.bool):
            # a NumPy scalar (np.float64 subclasses float) would promote float32 to float64
            return E.PowScalar.apply(self, builtins.float(o) if isinstance(o, builtins.float) else builtins.int(o))
        a, b = self._coerce(o, "pow")
        return E.Pow.apply(a, b)

    def __rpow__(self, o):
        a, b = self._coerce(o, "pow")
        return E.Pow.apply(b, a)

    def __mod__(self, o):
        a, b = self._coerce(o, "remainder")
        return E.Remainder.apply(a, b)

    def __rmod__(self, o):
        a, b = self._coerce(o, "remainder")
        return E.Remainder.apply(b, a)

    def __floordiv__(self, o):
        a, b = self._coerce(o, "floor_divide")
        if not a.dtype.is_floating_point and not (isinstance(b, Tensor) and b.dtype.is_floating_point) \
                and not isinstance(b, builtins.float):
            bd = b._data if isinstance(b, Tensor) else b
            return _wrap(self.backend.xp.floor_divide(a._data, bd), self.backend)
        return (a / b).floor()

    remainder = __mod__

    def floor(self):
        return E.Rounding.apply(self, "floor")

    def ceil(self):
        return E.Rounding.apply(self, "ceil")

    def round(self):
        return E.Rounding.apply(self, "round")

    def trunc(self):
        return E.Rounding.apply(self, "trunc")

    def __matmul__(self, o):
        if not isinstance(o, Tensor):
            raise TypeError(f"matmul: expected a Tensor, got {type(o).__name__}")
        return matmul(self, o)

    def __rmatmul__(self, o):
        from .creation import tensor

        return matmul(tensor(o, device=self.device), self)

    add = lambda self, other, alpha=1: self + (other * alpha if alpha != 1 else other)  # noqa: E731
    sub = lambda self, other, alpha=1: self - (other * alpha if alpha != 1 else other)  # noqa: E731
    mul = __mul__
    div = __truediv__
    neg = __neg__
    matmul = __matmul__

    def pow(self, exponent):
        return self ** exponent

    # comparisons: no gradient, boolean results
    def _cmp(self, o, f):
        a, b = self._coerce(o, "compare")
        return _wrap(f(a._data, b._data if isinstance(b, Tensor) else b), self.backend)

    def __lt__(self, o):
        return self._cmp(o, lambda x, y: x < y)

    def __le__(self, o):
        return self._cmp(o, lambda x, y: x <= y)

    def __gt__(self, o):
        return self._cmp(o, lambda x, y: x > y)

    def __ge__(self, o):
        return self._cmp(o, lambda x, y: x >= y)

    def __eq__(self, o):
        return self._cmp(o, lambda x, y: x == y)

    def __ne__(self, o):
        return self._cmp(o, lambda x, y: x != y)

    def __invert__(self):
        return _wrap(self.backend.xp.logical_not(self._data), self.backend)

    def __and__(self, o):
        return _wrap(self.backend.xp.logical_and(self._data, o._data), self.backend)

    def __or__(self, o):
        return _wrap(self.backend.xp.logical_or(self._data, o._data), self.backend)

    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    def equal(self, other):
        return tuple(self.shape) == tuple(other.shape) and bool(self.backend.xp.all(self._data == other._data))

    def logical_not(self):
        return ~self

    # ------------------------------------------------------------ unary math
    def exp(self):
        return E.Exp.apply(self)

    def log(self):
        return E.Log.apply(self)

    def sqrt(self):
        return E.Sqrt.apply(self)

    def rsqrt(self):
        return 1.0 / E.Sqrt.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    __abs__ = abs

    def sign(self):
        return E.Sign.apply(self)

    def sin(self):
        return E.Sin.apply(self)

    def cos(self):
        return E.Cos.apply(self)

    def tanh(self):
        return E.Tanh.apply(self)

    def sigmoid(self):
        return E.Sigmoid.apply(self)

    def relu(self):
        return E.Relu.apply(self)

    def square(self):
        return E.PowScalar.apply(self, 2)

    def reciprocal(self):
        return 1.0 / self

    def log1p(self):
        return E.Log1p.apply(self)

    def expm1(self):
        return E.Expm1.apply(self)

    def clamp(self, min=None, max=None):
        """y = min(max(x, min), max);  gradient 1 inside [min, max] (inclusive), 0 outside."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return E.Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other):
        a, b = self._coerce(other, "maximum")
        if not isinstance(b, Tensor):
            from .creation import full_like

            b = full_like(a, b)
        return E.Maximum.apply(a, b)

    def minimum(self, other):
        a, b = self._coerce(other, "minimum")
        if not isinstance(b, Tensor):
            from .creation import full_like

            b = full_like(a, b)
        return E.Minimum.apply(a, b)

    # ------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        t = self if dtype is None else self.to(dtype)
        if t.dtype is _dt.bool_:
            t = t.to(_dt.int64)
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

    def all(self, dim=None):
        return _wrap(self.backend.xp.all(self._data, axis=dim), self.backend)

    def any(self, dim=None):
        return _wrap(self.backend.xp.any(self._data, axis=dim), self.backend)

    def norm(self, p=2, dim=None, keepdim=False):
        """Vector p-norm (sum |x|^p)^(1/p) over ``dim`` (all elements by default); p = inf: max |x|.

        At a zero vector the gradient is 0 (PyTorch's subgradient), not 0/0. float16 accumulates in float32.
        """
        x = self.float() if self.dtype is _dt.float16 else self
        if p == 2 or p == "fro":
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
        return SM.Softmax.apply(self, R.norm_dims(dim, self.ndim, "softmax")[0])

    def log_softmax(self, dim):
        return SM.LogSoftmax.apply(self, R.norm_dims(dim, self.ndim, "log_softmax")[0])

    # ------------------------------------------------------------ shape
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
        shape = _infer_shape(shape, self.numel(), "reshape", self._data.shape)
        if shape == self._data.shape:
            return self
        return S.Reshape.apply(self, shape)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self.ndim
        if nd == 0:
            return self.reshape(1)
        s, e = start_dim % nd, end_dim % nd
        shp = self._data.shape
        n = 1
        for d in shp[s:e + 1]:
            n *= d
        return self.reshape(shp[:s] + (n,) + shp[e + 1:])

    def unflatten(self, dim, sizes):
        dim = dim % self.ndim
        shp = self._data.shape
        return self.reshape(shp[:dim] + tuple(sizes) + shp[dim + 1:])

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        nd = self.ndim
        dims = tuple(d % nd for d in dims)
        if sorted(dims) != list(range(nd)):
            raise ValueError(f"permute: dims {dims} are not a permutation of a {nd}-d tensor's dims")
        if dims == tuple(range(nd)):
            return self
        return S.Permute.apply(self, dims)

    def transpose(self, dim0, dim1):
        nd = self.ndim
        p = list(range(nd))
        d0, d1 = dim0 % nd, dim1 % nd
        p[d0], p[d1] = p[d1], p[d0]
        return self.permute(*p)

    swapaxes = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t(): expects a tensor with <= 2 dims, got {self.ndim}; use transpose(dim0, dim1)")
        return self.transpose(0, 1) if self.ndim == 2 else self

    def squeeze(self, dim=None):
        shp = self._data.shape
        if dim is None:
            new = tuple(s for s in shp if s != 1)
        else:
            dims = R.norm_dims(dim, self.ndim, "squeeze")
            new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
        return self.reshape(new)

    def unsqueeze(self, dim):
        nd = self.ndim + 1
        if not -nd <= dim < nd:
            raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor with {self.ndim} dims")
        dim = dim % nd
        shp = self._data.shape
        return self.reshape(shp[:dim] + (1,) + shp[dim:])

    def expand(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
        shp = self._data.shape
        lead = len(shape) - len(shp)
        if lead < 0:
            raise RuntimeError(f"expand: cannot expand shape {tuple(shp)} to {tuple(shape)} (fewer dims)")
        full = tuple(shp[i - lead] if s == -1 else s for i, s in enumerate(shape))
        for i, s in enumerate(shp):
            if s != 1 and s != full[i + lead]:
                raise RuntimeError(f"expand: cannot expand shape {tuple(shp)} to {tuple(shape)}: "
                                   f"dim {i} has size {s}, expected 1 or {full[i + lead]}")
        if full == shp:
            return self
        return S.Expand.apply(self, full)

    broadcast_to = expand

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        t = self.reshape((1,) * (len(sizes) - self.ndim) + tuple(self._data.shape))
        shp = t._data.shape
        inter = []
        for r, s in zip(sizes, shp):
            inter += [r, s]
        t = t.reshape(tuple(x for s in shp for x in (1, s))).expand(tuple(inter))
        return t.reshape(tuple(r * s for r, s in zip(sizes, shp)))

    def split(self, split_size_or_sections, dim=0):
        n = self._data.shape[dim]
        if isinstance(split_size_or_sections, int):
            sizes = [split_size_or_sections] * (n // split_size_or_sections)
            if n % split_size_or_sections:
                sizes.append(n % split_size_or_sections)
        else:
            sizes = list(split_size_or_sections)
            if builtins.sum(sizes) != n:
                raise ValueError(f"split: sections {sizes} do not add up to size {n} of dim {dim}")
        out, start = [], 0
        idx = [slice(None)] * self.ndim
        for s in sizes:
            idx[dim] = slice(start, start + s)
            out.append(self[tuple(idx)])
            start += s
        return tuple(out)

    def chunk(self, chunks, dim=0):
        n = self._data.shape[dim]
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim=0):
        return tuple(t.squeeze(dim) for t in self.split(1, dim))

    def __getitem__(self, key):
        key, advanced, inserts = _normalize_key(self, key)
        out = I.GetItem.apply(self, key, advanced) if key != () else self
        if inserts:
            shp = list(out._data.shape)
            for pos in inserts:
                shp.insert(pos, 1)
            out = out.reshape(tuple(shp))
        return out

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__")
        key, _, inserts = _normalize_key(self, key)
        v = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and value._data.dtype != self._data.dtype:
            v = self.backend.xp.astype(v, self._data.dtype)
        self._data[key] = v
        self._version += 1

    # ------------------------------------------------------------ in-place (no graph)
    def _check_inplace(self, op):
        if self.requires_grad and _grad_enabled[0]:
            what = "a leaf tensor that requires grad" if self.grad_fn is None else "a tensor that is part of a graph"
            raise RuntimeError(
                f"{op}: in-place operation on {what} (shape {tuple(self.shape)}). Wrap parameter updates in "
                "'with torch.no_grad():', or use the out-of-place form (x = x + y).")

    def _inplace(self, op, f, other=None):
        self._check_inplace(op)
        if isinstance(other, Tensor):
            if other.backend is not self.backend:
                from .function import _device_mismatch

                _device_mismatch(type(op, (), {}), (self, other))
            o = other._data
            if o.dtype != self._data.dtype:
                o = self.backend.xp.astype(o, self._data.dtype)
        else:
            o = other
        res = f(self._data, o)
        if res is not None:
            self._data = res
        self._version += 1
        return self

    def add_(self, other, alpha=1):
        """self += alpha * other, in place (no graph; see ``_check_inplace``)."""
        return self._inplace("add_", _iadd, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", _isub, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace("mul_", _imul, other)

    def div_(self, other):
        return self._inplace("div_", _idiv, other)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def addcmul_(self, t1, t2, value=1.0):
        return self.add_(_wrap(t1._data * t2._data * value, self.backend))

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        def f(a, v):
            a[...] = v
        return self._inplace("fill_", f, value)

    def copy_(self, src):
        if tuple(src.shape) != tuple(self.shape):
            src = src.expand(self.shape)

        def f(a, v):
            a[...] = v
        return self._inplace("copy_", f, src)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda a, _: self.backend.xp.clip(a, min=min, max=max))

    def uniform_(self, a=0.0, b=1.0):
        return self.copy_(_wrap(self.backend.uniform(self._data.shape, self._data.dtype, a, b), self.backend))

    def normal_(self, mean=0.0, std=1.0):
        return self.copy_(_wrap(self.backend.normal(self._data.shape, self._data.dtype, mean, std), self.backend))

    def contiguous(self):
        return self

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


from . import function as _function  # noqa: E402

_function._bind(Tensor, _wrap)


# ---------------------------------------------------------------- helpers and small ops
def _iadd(a, b):
    a += b


def _isub(a, b):
    a -= b


def _imul(a, b):
    a *= b


def _idiv(a, b):
    a /= b


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


class Size(tuple):
    """``tensor.shape``: a tuple (as ``torch.Size``)."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"torch.Size({list(self)})"


class MinMax(tuple):
    """(values, indices) result of ``max(dim)`` / ``min(dim)``."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


class Clone(Function):
    """y = a copy of x;  dy/dx = 1."""

    @staticmethod
    def forward(ctx, x):
        return x.backend.xp.asarray(x._data, copy=True)

    @staticmethod
    def backward(ctx, g):
        return g


class ToDevice(Function):
    """y = x copied to another device (explicit, through the host);  the gradient goes back."""

    @staticmethod
    def forward(ctx, x, backend):
        ctx.src = x.backend
        return _wrap(backend.from_host(x.backend.to_host(x._data)), backend)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.src.dev), None


_OPNAMES = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "matmul": "MatMul",
             "maximum": "Maximum", "minimum": "Minimum", "compare": "Compare", "where": "Where"}


def _check_broadcast(op, a, b):
    if op == "matmul":
        return
    for x, y in zip(reversed(a), reversed(b)):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"{_OPNAMES.get(op, op)}: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together "
                             f"(sizes {x} and {y} differ and neither is 1). Reshape or unsqueeze one operand.")


def _infer_shape(shape, numel, op, old):
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if shape.count(-1) > 1 or known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {shape} is invalid for input of shape {tuple(old)} ({numel} elements)")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"{op}: shape {shape} is invalid for input of shape {tuple(old)} ({numel} elements)")
    return shape


def _normalize_key(t, key):
    """Turn a user index into (backend key, is_advanced, positions of inserted None dims)."""
    if not isinstance(key, tuple):
        key = (key,)
    xp = t.backend.xp
    out, advanced, inserts = [], False, []
    # expand Ellipsis so None positions can be computed
    n_index = builtins.sum(1 for k in key if k is not None and k is not Ellipsis
                           and not (isinstance(k, Tensor) and k.dtype is _dt.bool_))
    n_index += builtins.sum(k.ndim for k in key if isinstance(k, Tensor) and k.dtype is _dt.bool_)
    if builtins.sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded += [slice(None)] * (t.ndim - n_index)
        else:
            expanded.append(k)
    if n_index > t.ndim:
        raise IndexError(f"too many indices for a tensor of dimension {t.ndim} (got {n_index})")
    out_dim = 0
    for k in expanded:
        if k is None:
            inserts.append(out_dim)
            out_dim += 1
            continue
        if isinstance(k, (list, tuple)) or (hasattr(k, "shape") and not isinstance(k, Tensor)):
            from .creation import tensor

            k = tensor(k, device=t.device)
        if isinstance(k, Tensor):
            if k.backend is not t.backend:
                raise RuntimeError(f"getitem: index on {k.device} but tensor on {t.device}")
            advanced = True
            if k.dtype is _dt.bool_:
                out.extend(xp.nonzero(k._data))
            elif k.dtype.is_floating_point:
                raise IndexError(f"tensors used as indices must be integer or bool, got {k.dtype}")
            else:
                out.append(k._data)
            out_dim += 1
            continue
        if isinstance(k, slice):
            out.append(k)
            out_dim += 1
        elif isinstance(k, (builtins.int,)) or hasattr(k, "__index__"):
            out.append(builtins.int(k))
        else:
            raise IndexError(f"unsupported index of type {type(k).__name__}")
    if len(out) < t.ndim:  # the Array API wants every dim indexed (bool masks already expanded)
        out += [slice(None)] * (t.ndim - len(out))
    if inserts and advanced:
        raise IndexError("combining None with integer-array or boolean indexing is not supported; "
                         "index first, then unsqueeze()")
    return tuple(out), advanced, inserts


def matmul(a, b):
    """Matrix product with NumPy/PyTorch rules; errors name both shapes."""
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dim, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    ka = a._data.shape[-1]
    kb = b._data.shape[-2] if b.ndim > 1 else b._data.shape[0]
    if ka != kb:
        raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                           f"({ka} != {kb}): the last dim of the first must equal the "
                           f"{'second-to-last' if b.ndim > 1 else 'only'} dim of the second")
    if a.backend is not b.backend or a._data.dtype != b._data.dtype:
        a, b = a._coerce(b, "matmul")
    return L.MatMul.apply(a, b)
