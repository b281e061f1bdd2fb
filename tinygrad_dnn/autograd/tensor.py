"""``Tensor``: an array on some backend plus the autograd bookkeeping.

Slots: ``_data`` (the backend array), ``backend``, ``requires_grad``, ``grad`` (a Tensor or None),
``grad_fn`` (the Context that produced it; None for leaves), ``_vc`` (the version counter bumped by
in-place ops: an int, or a ``views.Storage`` shared with views; read it as ``_version``) and ``_view``
(None, or ``(base, view_fn)`` for a view; see ``views.py``).
Methods are thin: each one calls a ``Function`` from ``ops``.
"""
from __future__ import annotations

import builtins
import math
import weakref

from . import dtype as _dt
from . import views as _views
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
    t._vc = 0
    t._view = None
    return t


def _dims(dim, axis):
    return axis if dim is None and axis is not None else dim


def _kd(keepdim, keepdims):
    return bool(keepdims) if keepdims is not None else keepdim


class Tensor:
    # _route (views.alias): set only on a detach() of a view, never read on the hot path
    __slots__ = ("_data", "backend", "requires_grad", "grad", "grad_fn", "_vc", "_view", "_route", "__weakref__")
    __array_priority__ = 1000  # so numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """``torch.Tensor`` as a constructor: ``Tensor([1, 2])`` -> float32 data, ``Tensor(2, 3)`` -> a
        (2, 3) float32 tensor (zeros; torch leaves it uninitialized), ``Tensor()`` -> empty.

        Data always gets the default float dtype unless ``dtype`` is given (``FloatTensor``,
        ``LongTensor``... pass it). ``tensor(data)`` is the function that infers the dtype.
        """
        from .creation import tensor, zeros

        dtype = _dt.get_dtype(dtype) or _dt.get_default_dtype()
        if not args or (builtins.all(isinstance(a, builtins.int) and not isinstance(a, builtins.bool) for a in args)) \
                or (len(args) == 1 and isinstance(args[0], Size)):
            t = zeros(*(args or (0,)), dtype=dtype, device=device, requires_grad=requires_grad)
        elif len(args) == 1 and (isinstance(args[0], (list, tuple, Tensor)) or hasattr(args[0], "shape")):
            t = tensor(args[0], dtype=dtype, device=device, requires_grad=requires_grad)
        else:
            raise TypeError(f"Tensor(): expected a sequence of data or integer sizes, got "
                            f"{', '.join(type(a).__name__ for a in args)}; use tensor(x) for a scalar")
        self._data, self.backend = t._data, t.backend
        self.requires_grad, self.grad, self.grad_fn, self._vc, self._view = t.requires_grad, None, None, 0, None

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

    def __getstate__(self):
        """Pickle the array and flags; a view is pickled as a plain tensor (its view function is a closure)."""
        return (None, {"_data": self._data, "backend": self.backend, "requires_grad": self.requires_grad,
                       "grad": self.grad, "grad_fn": self.grad_fn, "_vc": self._version, "_view": None})

    # ------------------------------------------------------------ attributes
    @property
    def _version(self):
        """How many in-place changes this tensor's memory has seen (shared by all its views)."""
        vc = self._vc
        return vc if vc.__class__ is builtins.int else vc.version

    @_version.setter
    def _version(self, value):
        _views.storage(self).version = value

    @property
    def _base(self):
        """The tensor whose memory this view shares (None if this is not a view)."""
        return None if self._view is None else self._view[0]

    def _is_view(self):
        return self._view is not None

    @property
    def data(self):
        """A tensor sharing this one's array but detached from the graph and from its version counter
        (as ``torch.Tensor.data``: changes through it are invisible to autograd)."""
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

    nelement = numel  # torch's older name

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a 0-d tensor's value (as torch); other tensors take only ``""``."""
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        return _dt.dtype_of(self._data.dtype)

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

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False, memory_format=None):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``. Differentiable.

        ``non_blocking`` and ``memory_format`` are accepted for torch compatibility; copies are synchronous.
        """
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
                if dtype.is_floating_point:
                    out = E.Cast.apply(out, getattr(self.backend.xp, dtype.name))
                else:  # integer and bool values have no gradient: the cast cuts the graph (as PyTorch)
                    out = _wrap(self.backend.xp.astype(self._data, getattr(self.backend.xp, dtype.name)), self.backend)
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
        """Same array (and version counter), cut from the graph."""
        return _views.alias(self, _wrap(self._data, self.backend))

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
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    # ------------------------------------------------------------ arithmetic
    def _coerce(self, other, op):
        """Make ``other`` usable in a binary op: same backend, and both converted to the promoted dtype.

        The dtype comes from PyTorch's promotion rules in ``autograd/dtype.py`` (0-d tensors and
        scalars count by category only). A scalar stays a Python scalar of the result's category;
        a NumPy/Array-API array becomes a tensor on this device and promotes as a dimensioned tensor.
        """
        if isinstance(other, Tensor):
            if other.backend is not self.backend:
                from .function import _device_mismatch

                _device_mismatch(type(_OPNAMES.get(op, op), (), {}), (self, other))
            if other._data.shape != self._data.shape:
                _check_broadcast(op, self._data.shape, other._data.shape)
            if other._data.dtype != self._data.dtype:
                d = _dt.result_dtype_tensors(self.dtype, self._data.ndim, other.dtype, other._data.ndim)
                a = self if self.dtype is d else self.to(d)
                b = other if other.dtype is d else other.to(d)
                return a, b
            return self, other
        t = type(other)
        if (t is builtins.float or t is builtins.int) and self.dtype.is_floating_point:
            return self, other  # fast path: a float tensor absorbs Python ints and floats
        if _dt.is_scalar(other):
            d = self.dtype
            r = _dt.result_dtype_scalar(d, other)
            return (self if r is d else self.to(r)), _dt.scalar_as(other, r)
        if hasattr(other, "__array_namespace__") or hasattr(other, "dtype"):
            from .creation import tensor

            o = tensor(other, device=self.device)
            d = _dt.promote_types(self.dtype, o.dtype)  # arrays promote as dimensioned operands
            return (self if self.dtype is d else self.to(d))._coerce(o if o.dtype is d else o.to(d), op)
        raise TypeError(f"{op}: unsupported operand of type {type(other).__name__}")

    def __add__(self, o):
        a, b = self._coerce(o, "add")
        try:
            return E.Add.apply(a, b)
        except TypeError as e:  # bool + bool is logical or (as torch)
            return _bool_arith("add", a, b, e)

    def __radd__(self, o):
        a, b = self._coerce(o, "add")
        try:
            return E.Add.apply(b, a)
        except TypeError as e:
            return _bool_arith("add", a, b, e)

    def __sub__(self, o):
        _check_sub(self, o)
        a, b = self._coerce(o, "sub")
        return E.Sub.apply(a, b)

    def __rsub__(self, o):
        _check_sub(self, o)
        a, b = self._coerce(o, "sub")
        return E.Sub.apply(b, a)

    def __mul__(self, o):
        a, b = self._coerce(o, "mul")
        try:
            return E.Mul.apply(a, b)
        except TypeError as e:  # bool * bool is logical and (as torch)
            return _bool_arith("mul", a, b, e)

    def __rmul__(self, o):
        a, b = self._coerce(o, "mul")
        try:
            return E.Mul.apply(b, a)
        except TypeError as e:
            return _bool_arith("mul", a, b, e)

    def __truediv__(self, o):
        """True division: integer and bool operands divide in the default float dtype (as torch)."""
        a, b = _to_float_pair(*self._coerce(o, "div"))
        return E.Div.apply(a, b)

    def __rtruediv__(self, o):
        a, b = _to_float_pair(*self._coerce(o, "div"))
        return E.Div.apply(b, a)

    def __neg__(self):
        try:
            return E.Neg.apply(self)
        except TypeError:
            if self.dtype is not _dt.bool_:
                raise
            raise RuntimeError("neg: negation, the `-` operator, on a bool tensor is not supported (as torch); "
                               "to invert a mask use `~` or logical_not()") from None

    def __pos__(self):
        return self

    def __pow__(self, o):
        """x ** p with the promoted dtype: int ** int stays int (p >= 0), int ** float is float32."""
        a, b = self._coerce(o, "pow")
        if isinstance(b, Tensor):
            if a.dtype is _dt.bool_:
                raise NotImplementedError("pow: not implemented for two bool tensors (as torch); convert with .long()")
            return E.Pow.apply(a, b)
        d = a.dtype
        if not d.is_floating_point:
            if d is _dt.bool_:  # bool ** bool stays bool: x ** True = x, x ** False = True
                return a if b else _wrap(a.backend.xp.ones_like(a._data), a.backend)
            if b < 0:
                raise RuntimeError(f"pow: integers to negative integer powers are not allowed ({d} ** {b}, "
                                   "as torch); use a float tensor (x.float() ** p)")
        return E.PowScalar.apply(a, b)

    def __rpow__(self, o):
        a, b = self._coerce(o, "pow")
        return E.Pow.apply(b, a)

    def __mod__(self, o):
        """Remainder with the sign of the divisor (Python's %, torch.remainder)."""
        a, b = self._coerce(o, "remainder")
        return _div_mod("remainder", a, b)

    def __rmod__(self, o):
        a, b = self._coerce(o, "remainder")
        return _div_mod("remainder", b, a)

    def __floordiv__(self, o):
        """floor(a / b) computed as Python's float // (from fmod: 1.0 // 0.1 is 9.0, as torch)."""
        a, b = self._coerce(o, "floor_divide")
        return _div_mod("floor_divide", a, b)

    def __rfloordiv__(self, o):
        a, b = self._coerce(o, "floor_divide")
        return _div_mod("floor_divide", b, a)

    remainder = __mod__
    floor_divide = __floordiv__

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

    def add(self, other, alpha=1):
        """self + alpha * other (alpha must not be a float when both operands are integers, as torch)."""
        return self + (_scaled(self, other, alpha, "add") if alpha != 1 else other)

    def sub(self, other, alpha=1):
        return self - (_scaled(self, other, alpha, "sub") if alpha != 1 else other)
    mul = __mul__
    div = __truediv__
    neg = __neg__
    matmul = __matmul__

    def pow(self, exponent):
        return self ** exponent

    # comparisons: no gradient, boolean results
    def _cmp(self, o, f):
        a, b = self._coerce(o, "compare")
        bd = b._data if isinstance(b, Tensor) else b
        try:
            return _wrap(f(a._data, bd), self.backend)
        except TypeError:  # the Array API orders no bools: compare them as 0/1
            if a.dtype is not _dt.bool_:
                raise
            xp = self.backend.xp
            return _wrap(f(xp.astype(a._data, xp.uint8), xp.astype(bd, xp.uint8) if isinstance(b, Tensor) else int(bd)),
                         self.backend)

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

    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    # bitwise (integers) / logical (bools): no gradient, as torch
    def _bitwise(self, o, name, f):
        a, b = self._coerce(o, name)
        if a.dtype.is_floating_point:
            raise NotImplementedError(f"{name}: not implemented for {a.dtype} operands (as torch); bitwise ops "
                                      "need integer or bool tensors (convert with .long() or .bool())")
        return _wrap(f(a._data, b._data if isinstance(b, Tensor) else b), self.backend)

    def bitwise_and(self, o):
        """Bitwise AND on integers (6 & 3 = 2), logical AND on bools."""
        return self._bitwise(o, "bitwise_and", lambda x, y: x & y)

    def bitwise_or(self, o):
        return self._bitwise(o, "bitwise_or", lambda x, y: x | y)

    def bitwise_xor(self, o):
        return self._bitwise(o, "bitwise_xor", lambda x, y: x ^ y)

    def bitwise_not(self):
        """~x: bitwise NOT on integers (~6 = -7), logical NOT on bools."""
        d = self.dtype
        if d is _dt.bool_:
            return _wrap(self.backend.xp.logical_not(self._data), self.backend)
        if d.is_floating_point:
            raise TypeError(f"~ (bitwise_not) is only implemented on integer and bool tensors, got {d} (as torch)")
        return _wrap(~self._data, self.backend)

    __and__ = __rand__ = bitwise_and
    __or__ = __ror__ = bitwise_or
    __xor__ = __rxor__ = bitwise_xor
    __invert__ = bitwise_not

    def _logical(self, o, f):
        if not isinstance(o, Tensor):
            raise TypeError(f"logical op: expected a Tensor as the other operand, got {type(o).__name__}")
        self._coerce(o, "logical")  # device and broadcast checks
        return _wrap(f(_truth(self), _truth(o)), self.backend)

    def logical_and(self, other):
        """Elementwise ``bool(a) and bool(b)`` for any dtypes (bool result)."""
        return self._logical(other, self.backend.xp.logical_and)

    def logical_or(self, other):
        return self._logical(other, self.backend.xp.logical_or)

    def logical_xor(self, other):
        return self._logical(other, self.backend.xp.logical_xor)

    def equal(self, other):
        return tuple(self.shape) == tuple(other.shape) and bool(self.backend.xp.all(self._data == other._data))

    def logical_not(self):
        return _wrap(self.backend.xp.logical_not(_truth(self)), self.backend)

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

    def relu_(self):
        return self._inplace("relu_", lambda s: s.relu())

    def sigmoid_(self):
        return self._inplace("sigmoid_", lambda s: s.sigmoid())

    def tanh_(self):
        return self._inplace("tanh_", lambda s: s.tanh())

    def exp_(self):
        return self._inplace("exp_", lambda s: s.exp())

    def log_(self):
        return self._inplace("log_", lambda s: s.log())

    def sqrt_(self):
        return self._inplace("sqrt_", lambda s: s.sqrt())

    def abs_(self):
        return self._inplace("abs_", lambda s: s.abs())

    def sin_(self):
        return self._inplace("sin_", lambda s: s.sin())

    def cos_(self):
        return self._inplace("cos_", lambda s: s.cos())

    def reciprocal_(self):
        return self._inplace("reciprocal_", lambda s: s.reciprocal())

    def square_(self):
        return self._inplace("square_", lambda s: s.square())

    def floor_(self):
        return self._inplace("floor_", lambda s: s.floor())

    def ceil_(self):
        return self._inplace("ceil_", lambda s: s.ceil())

    def round_(self):
        return self._inplace("round_", lambda s: s.round())

    def trunc_(self):
        return self._inplace("trunc_", lambda s: s.trunc())

    def clamp(self, min=None, max=None):
        """y = min(max(x, min), max);  gradient 1 inside [min, max] (inclusive), 0 outside."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        bounds = [v for v in (min, max) if v is not None]
        if builtins.all(_dt.is_scalar(v) for v in bounds):  # the result dtype as torch: int.clamp(0.5) is float
            d = _dt.result_type(self, *bounds)
            x = self if d is self.dtype else self.to(d)
            lo = None if min is None else _dt.scalar_as(min, d)
            hi = None if max is None else _dt.scalar_as(max, d)
            return E.Clamp.apply(x, lo, hi)
        return E.Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other):
        a, b = self._coerce(other, "maximum")
        if not isinstance(b, Tensor):
            from .creation import full_like

            b = full_like(a, b)
        if a.dtype is _dt.bool_:  # max of bools is or, min is and (no gradient)
            return a.logical_or(b)
        return E.Maximum.apply(a, b)

    def minimum(self, other):
        a, b = self._coerce(other, "minimum")
        if not isinstance(b, Tensor):
            from .creation import full_like

            b = full_like(a, b)
        if a.dtype is _dt.bool_:  # max of bools is or, min is and (no gradient)
            return a.logical_and(b)
        return E.Minimum.apply(a, b)

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
        _views.ensure_array(self)  # a NumPy scalar (0-d reduction result): give it memory to view
        out = S.Reshape.apply(self, shape)
        if self.backend.may_share_memory(out._data, self._data):  # a view when the layout allows it
            _views.make_view(self, out, lambda b: b.reshape(shape))
        return out

    def view(self, *shape):
        """Like ``reshape`` but always a view: raises if the memory layout does not allow one (as PyTorch)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
        out = self.reshape(*shape)
        if out is not self and out._view is None and out.numel() > 1:
            raise RuntimeError(
                f"view: view size {tuple(out.shape)} is not compatible with input tensor's size "
                f"{tuple(self.shape)} and stride (at least one dimension spans across two contiguous subspaces). "
                "Use .reshape(...) instead (or .contiguous().view(...)).")
        return out

    def narrow(self, dim, start, length):
        """The view ``x[..., start:start + length, ...]`` along ``dim``."""
        dim = dim % builtins.max(self.ndim, 1)
        n = self._data.shape[dim]
        if start < 0:
            start += n
        if not (0 <= start <= n and 0 <= length <= n - start):
            raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {dim}")
        return self[(slice(None),) * dim + (slice(start, start + length),)]

    def is_contiguous(self):
        return self.backend.is_contiguous(self._data)

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
        return _views.make_view(self, S.Permute.apply(self, dims), lambda b: b.permute(dims))

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
        for i in range(lead):
            if shape[i] == -1:
                raise RuntimeError(f"expand: the expanded size of the tensor (-1) isn't allowed in a leading, "
                                   f"non-existing dimension {i} (shape {tuple(shp)} to {tuple(shape)})")
        full = tuple(shp[i - lead] if s == -1 else s for i, s in enumerate(shape))
        for i, s in enumerate(shp):
            if s != 1 and s != full[i + lead]:
                raise RuntimeError(f"expand: cannot expand shape {tuple(shp)} to {tuple(shape)}: "
                                   f"dim {i} has size {s}, expected 1 or {full[i + lead]}")
        if full == shp:
            return self
        _views.ensure_array(self)
        return _views.make_view(self, S.Expand.apply(self, full), lambda b: b.expand(full))

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
        return tuple(_views.mark_multi(out))

    def chunk(self, chunks, dim=0):
        n = self._data.shape[dim]
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim=0):
        return tuple(t.squeeze(dim) for t in self.split(1, dim))

    def __getitem__(self, key):
        key, advanced, inserts = _normalize_key(self, key)
        if advanced:  # integer-array / mask indexing copies
            out = I.GetItem.apply(self, key, True)
        elif key != ():  # basic indexing is a view (x[1, 2] too: a 0-d view, not a copied scalar)
            if len(key) == self._data.ndim and builtins.all(k.__class__ is builtins.int for k in key):
                key = key + (Ellipsis,)
            out = _select(self, key)
        else:
            out = self
        if inserts:
            shp = list(out._data.shape)
            for pos in inserts:
                shp.insert(pos, 1)
            out = out.reshape(tuple(shp))
        return out

    def __setitem__(self, key, value):
        """``x[key] = value``: in place, recorded in the graph when ``x`` or ``value`` requires grad."""
        key, advanced, _ = _normalize_key(self, key)
        if not advanced and len(key) == self._data.ndim and builtins.all(k.__class__ is builtins.int for k in key):
            key = key + (Ellipsis,)
        if isinstance(value, Tensor):
            if value.backend is not self.backend:
                from .function import _device_mismatch

                _device_mismatch(type("SetItem", (), {}), (self, value))
        elif not isinstance(value, (builtins.int, builtins.float, builtins.bool)):
            from .creation import tensor

            value = tensor(value, dtype=self.dtype, device=self.device)
        if isinstance(value, Tensor) and not advanced:
            _views.check_overlap("__setitem__", self, value, self._data[key])
        vreq = isinstance(value, Tensor) and value.requires_grad
        if not (_grad_enabled[0] and (self.requires_grad or vreq)) and self.backend.writable(self._data):
            # nothing to record: write straight into memory (no copy of the whole tensor)
            v = value._data if isinstance(value, Tensor) else value
            if isinstance(value, Tensor) and v.dtype != self._data.dtype:
                if value.dtype.is_floating_point and not self.dtype.is_floating_point:
                    raise RuntimeError(f"__setitem__: value of type {value.dtype} can't be cast to the tensor's "
                                       f"type {self.dtype}; convert one of them first")
                v = self.backend.xp.astype(v, self._data.dtype)
            self.backend.index_put_(self._data, key, v)
            _views.bump(self)
            return
        _views.apply_inplace(self, "__setitem__", lambda s: _views.IndexPut.apply(s, key, advanced, value))

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


from . import function as _function  # noqa: E402

_function._bind(Tensor, _wrap)
_views._bind(Tensor, _wrap)


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
        return _wrap(backend.from_host(x.backend.to_host(x._data)), backend)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.src.dev), None


# ---------------------------------------------------------------- dtype-aware helpers of the binary ops
def _bool_arith(op, a, b, err):
    """bool + bool is logical or, bool * bool logical and (as torch; ``-`` is refused by ``_check_sub``).

    Called only when the backend refused the op on bool arrays (the Array API has no bool +).
    """
    if a.dtype is not _dt.bool_:
        raise err
    xp = a.backend.xp
    f = xp.logical_or if op == "add" else xp.logical_and
    return _wrap(f(a._data, b._data if isinstance(b, Tensor) else b), a.backend)


def _scaled(t, other, alpha, op):
    """``alpha * other`` for add/sub(alpha=...): torch refuses a float alpha with integer operands."""
    if isinstance(alpha, builtins.float) and not (t.dtype.is_floating_point or (
            isinstance(other, Tensor) and other.dtype.is_floating_point) or isinstance(other, builtins.float)):
        raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a floating point number "
                           f"(got alpha={alpha}, as torch)")
    return other * alpha


def _check_sub(t, o):
    """torch refuses ``-`` whenever an operand is bool (even ``bool_tensor - 1``)."""
    if type(o) is builtins.bool or _dt.dtype_of(t._data.dtype) is _dt.bool_ or \
            (isinstance(o, Tensor) and _dt.dtype_of(o._data.dtype) is _dt.bool_):
        raise RuntimeError("sub: subtraction, the `-` operator, with a bool tensor is not supported (as torch); "
                           "to invert a mask use `~` or logical_not(), for xor use `^`")


def _to_float_pair(a, b):
    """Operands of true division / float math: integers and bools go to the default float dtype."""
    if a.dtype.is_floating_point:
        return a, b
    f = _dt.get_default_dtype()
    return a.to(f), (b.to(f) if isinstance(b, Tensor) else builtins.float(b))


def _div_mod(op, a, b):
    """``a // b`` or ``a % b`` (one of them a tensor, both of the promoted dtype), as torch.

    Integers: Python's floor semantics, and a zero divisor raises (torch: "ZeroDivisionError").
    Floats: ``//`` as Python's float ``//`` (fmod based), ``%`` the differentiable ``Remainder``.
    """
    ref = a if isinstance(a, Tensor) else b
    d = ref.dtype
    if d is _dt.bool_:
        raise NotImplementedError(f"{op}: not implemented for bool tensors (as torch); convert with .long()")
    if not d.is_floating_point:
        if isinstance(b, Tensor):
            zero = builtins.bool(b.backend.xp.any(b._data == 0))
        else:
            zero = b == 0
        if zero:
            raise RuntimeError(f"ZeroDivisionError: {op} of {d} values by zero (as torch). "
                               "Integer division by zero has no value; mask the zeros or use floats.")
        if op == "floor_divide":
            return _wrap(E._d(a) // E._d(b), ref.backend)
    if op == "remainder":
        return E.Remainder.apply(a, b)
    return FloorDivide.apply(a, b)


def _truth(t):
    """A tensor's elements as bools (x != 0), for the logical_* ops."""
    return t._data if t.dtype is _dt.bool_ else t._data != 0


class FloorDivide(Function):
    """z = floor(a / b) as Python's float ``//`` (1.0 // 0.1 = 9.0, as torch).

    Piecewise constant; PyTorch defines no derivative for floor_divide and raises in backward,
    so this op does the same rather than silently returning 0.
    """

    @staticmethod
    def forward(ctx, a, b):
        return E._d(a) // E._d(b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: the derivative of floor_divide is not implemented (as torch). "
                           "Use (a / b).floor() for a zero gradient, or detach() the operands.")


# Float math (exp, log, sqrt, sin, tanh, sigmoid, ...) on integer or bool tensors computes in the
# default float dtype, as torch. One wrapper, applied to the methods by name at the end of this module
# (the functional forms ``torch.exp(x)`` call the methods).
FLOAT_MATH = ("exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan",
              "tanh", "sigmoid", "reciprocal", "erf", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
              "atanh", "logit", "erfinv", "lgamma", "digamma", "logsumexp")


# Ops torch only defines for floating inputs (it raises for integers rather than converting).
FLOAT_ONLY = ("softmax", "log_softmax", "norm")


def _float_only(method):
    def f(self, *args, **kwargs):
        if not self.dtype.is_floating_point:
            raise RuntimeError(f"{method.__name__}: expected a floating point tensor, got {self.dtype} "
                               f"(shape {tuple(self.shape)}), as torch; convert with .float()")
        return method(self, *args, **kwargs)

    f.__name__, f.__qualname__, f.__doc__, f.__wrapped__ = method.__name__, method.__qualname__, method.__doc__, method
    return f


def _float_math(method):
    import inspect

    if len(inspect.signature(method).parameters) == 1:  # exp(self), sigmoid(self)...: the cheaper call
        def f(self):
            if not _dt.dtype_of(self._data.dtype).is_floating_point:
                self = self.to(_dt.get_default_dtype())
            return method(self)
    else:
        def f(self, *args, **kwargs):
            if not _dt.dtype_of(self._data.dtype).is_floating_point:
                self = self.to(_dt.get_default_dtype())
            return method(self, *args, **kwargs)

    f.__name__ = method.__name__
    f.__qualname__ = method.__qualname__
    f.__doc__ = method.__doc__
    f.__wrapped__ = method
    return f


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


def _select(t, key):
    """Basic indexing (a normalized key of ints and slices): a view of ``t``."""
    return _views.make_view(t, I.GetItem.apply(t, key, False), lambda b: _select(b, key))


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
    if a.backend is not b.backend:
        a, b = a._coerce(b, "matmul")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype} "
                           f"(shapes {tuple(a.shape)} and {tuple(b.shape)}); torch does not promote in matmul: "
                           "convert one with .to(other.dtype)")
    return L.MatMul.apply(a, b)


for _n in FLOAT_MATH:
    if hasattr(Tensor, _n):
        setattr(Tensor, _n, _float_math(getattr(Tensor, _n)))
for _n in FLOAT_ONLY:
    if hasattr(Tensor, _n):
        setattr(Tensor, _n, _float_only(getattr(Tensor, _n)))
