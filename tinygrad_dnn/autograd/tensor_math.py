"""``Tensor``'s arithmetic: operators (``+ - * / // % ** @``), comparisons, bitwise and logical ops, and
elementwise math (``exp``, ``log``, ``sigmoid``, ``clamp``...), with PyTorch's dtype promotion
(``dtype.py``) applied in ``_coerce``. Each method calls a ``Function`` from ``ops/``.
"""
from __future__ import annotations

import builtins

from . import dtype as _dt
from .errors import check_broadcast, raise_device_mismatch
from .ops import activation as Act
from .ops import arith as A
from .ops import elementwise as E
from .ops import linalg as L

Tensor = _wrap = None  # bound by tensor.py once the class exists (this module is imported first)


def _bind(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


def _float_unary(fn, name, doc):
    """A method ``t.name()`` = ``fn.apply(t)``, computed in the default float dtype for int/bool ``t``
    (as PyTorch). The dtype test is inline: ``float_dtypes`` holds the arrays' own dtype objects."""
    def method(self):
        if self._data.dtype not in self.backend.float_dtypes:
            self = _as_float(self)
        return fn.apply(self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc + " Integer and bool tensors are computed in the default float dtype."
    return method


class MathMethods:
    """Operators and elementwise math of ``Tensor`` (a mixin: ``Tensor`` inherits these methods)."""

    __slots__ = ()

    # ------------------------------------------------------------ arithmetic
    def _coerce(self, other, op):
        """Make ``other`` usable in a binary op: same backend, and both converted to the promoted dtype.

        The dtype comes from PyTorch's promotion rules in ``autograd/dtype.py`` (0-d tensors and
        scalars count by category only). A scalar stays a Python scalar of the result's category;
        a NumPy/Array-API array becomes a tensor on this device and promotes as a dimensioned tensor.
        """
        if isinstance(other, Tensor):
            if other.backend is not self.backend:
                raise_device_mismatch(_OPNAMES.get(op, op), [("", tuple(a.shape), a.device) for a in (self, other)])
            if other._data.shape != self._data.shape and op != "matmul":
                check_broadcast(_OPNAMES.get(op, op), self._data.shape, other._data.shape)
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
            return A.Add.apply(a, b)
        except TypeError as e:  # bool + bool is logical or (as torch)
            return _bool_arith("add", a, b, e)

    def __radd__(self, o):
        a, b = self._coerce(o, "add")
        try:
            return A.Add.apply(b, a)
        except TypeError as e:
            return _bool_arith("add", a, b, e)

    def __sub__(self, o):
        _check_sub(self, o)
        a, b = self._coerce(o, "sub")
        return A.Sub.apply(a, b)

    def __rsub__(self, o):
        _check_sub(self, o)
        a, b = self._coerce(o, "sub")
        return A.Sub.apply(b, a)

    def __mul__(self, o):
        a, b = self._coerce(o, "mul")
        try:
            return A.Mul.apply(a, b)
        except TypeError as e:  # bool * bool is logical and (as torch)
            return _bool_arith("mul", a, b, e)

    def __rmul__(self, o):
        a, b = self._coerce(o, "mul")
        try:
            return A.Mul.apply(b, a)
        except TypeError as e:
            return _bool_arith("mul", a, b, e)

    def __truediv__(self, o):
        """True division: integer and bool operands divide in the default float dtype (as torch)."""
        a, b = _to_float_pair(*self._coerce(o, "div"))
        return A.Div.apply(a, b)

    def __rtruediv__(self, o):
        a, b = _to_float_pair(*self._coerce(o, "div"))
        return A.Div.apply(b, a)

    def __neg__(self):
        try:
            return A.Neg.apply(self)
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
            return A.Pow.apply(a, b)
        d = a.dtype
        if not d.is_floating_point:
            if d is _dt.bool_:  # bool ** bool stays bool: x ** True = x, x ** False = True
                return a if b else _wrap(a.backend.xp.ones_like(a._data), a.backend)
            if b < 0:
                raise RuntimeError(f"pow: integers to negative integer powers are not allowed ({d} ** {b}, "
                                   "as torch); use a float tensor (x.float() ** p)")
        return A.PowScalar.apply(a, b)

    def __rpow__(self, o):
        a, b = self._coerce(o, "pow")
        return A.Pow.apply(b, a)

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
    exp = _float_unary(E.Exp, "exp", "e^x.")

    log = _float_unary(E.Log, "log", "Natural logarithm.")

    sqrt = _float_unary(E.Sqrt, "sqrt", "Square root.")

    def rsqrt(self):
        return 1.0 / E.Sqrt.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    __abs__ = abs

    def sign(self):
        return E.Sign.apply(self)

    sin = _float_unary(E.Sin, "sin", "Sine.")

    cos = _float_unary(E.Cos, "cos", "Cosine.")

    tanh = _float_unary(Act.Tanh, "tanh", "Hyperbolic tangent.")

    sigmoid = _float_unary(Act.Sigmoid, "sigmoid", "1 / (1 + e^-x), computed stably.")

    def relu(self):
        return Act.Relu.apply(self)

    def square(self):
        return A.PowScalar.apply(self, 2)

    def reciprocal(self):
        return 1.0 / self

    log1p = _float_unary(E.Log1p, "log1p", "ln(1 + x), exact for tiny x.")

    expm1 = _float_unary(E.Expm1, "expm1", "e^x - 1, exact for tiny x.")

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
        return _clamp_tensor(self, min, max)

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


# Operators (+, -, *, /, **, @, comparisons) have no name the user typed: their errors name the Function
# (as grad_fn does: AddBackward). See autograd/errors.py for the naming convention.
_OPNAMES = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "matmul": "MatMul",
             "maximum": "Maximum", "minimum": "Minimum", "compare": "Compare", "where": "Where"}


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
        return A.Remainder.apply(a, b)
    return A.FloorDivide.apply(a, b)


def _clamp_tensor(x, lo, hi):
    """``clamp`` with tensor bounds, as a select with torch's gradient masks (clamp_backward_min_max):
    x gets the gradient where lo <= x <= hi, lo where x < lo < hi, hi where x > hi or hi < lo (min > max
    gives max); where x < lo == hi the value is lo and no input gets a gradient."""
    from .creation import where

    ref = [v for v in (lo, hi) if isinstance(v, Tensor)][0]
    d = _dt.result_type(x, *(v for v in (lo, hi) if v is not None))
    x = x if x.dtype is d else x.to(d)
    lo = None if lo is None else (lo.to(d) if isinstance(lo, Tensor) and lo.dtype is not d else lo)
    hi = None if hi is None else (hi.to(d) if isinstance(hi, Tensor) and hi.dtype is not d else hi)
    if lo is None:
        return where(x > hi, hi, x)
    if hi is None:
        return where(x < lo, lo, x)
    del ref
    below, above = x < lo, x > hi
    inverted = hi < lo
    y = where(below, lo.detach() if isinstance(lo, Tensor) else lo, x)  # x < lo == hi: lo, no gradient
    y = where(below & (lo < hi), lo, y)
    return where(above | inverted, hi, y)


def _truth(t):
    """A tensor's elements as bools (x != 0), for the logical_* ops."""
    return t._data if t.dtype is _dt.bool_ else t._data != 0


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


# methods that test the dtype inline (cheaper than a wrapper on the hot path)
_INLINE = frozenset(("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "log1p", "expm1", "softmax", "log_softmax"))


def _as_float(t):
    """``t`` in the default float dtype (float math on integer or bool tensors, as PyTorch)."""
    return t.to(_dt.get_default_dtype())


def install_dtype_wrappers(tensor_cls):
    """Wrap the FLOAT_MATH methods (int/bool inputs computed in the default float dtype) and the
    FLOAT_ONLY ones (integer inputs refused), by name, once the class is assembled."""
    for name in FLOAT_MATH:
        if hasattr(tensor_cls, name) and name not in _INLINE:
            setattr(tensor_cls, name, _float_math(getattr(tensor_cls, name)))
    for name in FLOAT_ONLY:
        if hasattr(tensor_cls, name) and name not in _INLINE:
            setattr(tensor_cls, name, _float_only(getattr(tensor_cls, name)))
