"""dtypes (named objects every backend maps to its own array dtype) and PyTorch's promotion rules.

``getattr(xp, dtype.name)`` is the backend's dtype. The second half of this module is the one place
that decides the dtype of ``a + b``, ``a / b``, ``where(c, a, b)``... : a promotion table a student can
read, the three priority levels (dimensioned tensors, 0-d tensors, scalars) and the helpers that
``Tensor``'s binary ops call. ``result_type`` and ``promote_types`` behave as torch's.
"""
from __future__ import annotations


class DType:
    __slots__ = ("name", "is_floating_point", "itemsize")

    def __init__(self, name, is_floating_point, itemsize):
        self.name = name
        self.is_floating_point = is_floating_point
        self.itemsize = itemsize

    def __repr__(self):
        return f"tinygrad_dnn.{self.name}"

    def __reduce__(self):
        return (get_dtype, (self.name,))


float16 = DType("float16", True, 2)
float32 = DType("float32", True, 4)
float64 = DType("float64", True, 8)
int8 = DType("int8", False, 1)
int16 = DType("int16", False, 2)
int32 = DType("int32", False, 4)
int64 = DType("int64", False, 8)
uint8 = DType("uint8", False, 1)
bool_ = DType("bool", False, 1)

_BY_NAME = {d.name: d for d in (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)}
_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32}
_default = [float32]


_CACHE: dict = {}


def get_dtype(dtype) -> DType | None:
    """Normalize a dtype given as DType, name, Python type or any backend dtype object."""
    if dtype is None or isinstance(dtype, DType):
        return dtype
    key = (type(dtype), dtype)  # the type first: never compare one library's dtype with another's
    try:
        return _CACHE[key]
    except (KeyError, TypeError):
        pass
    d = _lookup(dtype)
    try:
        _CACHE[key] = d
    except TypeError:
        pass
    return d


_BY_ID: dict = {}  # id(backend dtype object) -> (the object, DType): the hot path of Tensor.dtype


def dtype_of(arr_dtype) -> DType:
    """``get_dtype`` for an array's own dtype object, memoized by identity (backends reuse these objects).

    The cache holds a reference to each object, so an id is never reused while it is a key.
    """
    e = _BY_ID.get(id(arr_dtype))
    if e is not None:
        return e[1]
    d = get_dtype(arr_dtype)
    if len(_BY_ID) < 256:
        _BY_ID[id(arr_dtype)] = (arr_dtype, d)
    return d


def _lookup(dtype):
    if dtype is float:
        return _default[0]
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    name = dtype if isinstance(dtype, str) else getattr(dtype, "__name__", None) or str(dtype)
    name = name.rsplit(".", 1)[-1]
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name in _ALIASES:
        return _ALIASES[name]
    raise TypeError(f"unsupported dtype {dtype!r}; use one of {sorted(_BY_NAME)}")


def set_default_dtype(dtype):
    """Set the floating dtype used by creation functions (float32 unless changed)."""
    d = get_dtype(dtype)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default[0] = d


def get_default_dtype() -> DType:
    return _default[0]


# ====================================================================== type promotion
# PyTorch's rules, in one place. Read this section top to bottom.
#
# 1. Every dtype has a CATEGORY:   bool  <  integer  <  floating.
#
# 2. Two *tensors* of the same kind of participation promote by this table (row x column),
#    exactly ``torch.promote_types``. It is symmetric; read it like a multiplication table.
#    (b = bool, u1 = uint8, i1..i8 = int8..int64 by bytes, f2..f8 = float16..float64.)
PROMOTION_TABLE = """
        b    u1   i1   i2   i4   i8   f2   f4   f8
  b     b    u1   i1   i2   i4   i8   f2   f4   f8
  u1    u1   u1   i2   i2   i4   i8   f2   f4   f8
  i1    i1   i2   i1   i2   i4   i8   f2   f4   f8
  i2    i2   i2   i2   i2   i4   i8   f2   f4   f8
  i4    i4   i4   i4   i4   i4   i8   f2   f4   f8
  i8    i8   i8   i8   i8   i8   i8   f2   f4   f8
  f2    f2   f2   f2   f2   f2   f2   f2   f4   f8
  f4    f4   f4   f4   f4   f4   f4   f4   f4   f8
  f8    f8   f8   f8   f8   f8   f8   f8   f8   f8
"""
#    Note the two surprises: uint8 with int8 needs int16 (neither holds the other's range), and
#    any integer with float16 gives float16 (a float beats every integer, whatever its width).
#
# 3. Operands take part at three priority levels:
#      dimensioned tensors (ndim >= 1)  >  0-d tensors  >  Python scalars (bool, int, float;
#      NumPy scalars such as ``np.float32(1.5)`` count as Python scalars, as in torch).
#    A lower level changes the result only if its CATEGORY is higher; then it is promoted in:
#      f32[2,3] * tensor(2., dtype=float64)   -> float32  (0-d float cannot beat a float tensor)
#      i64[3]   * tensor(2., dtype=float64)   -> float64  (0-d float beats an int tensor)
#      f16[3]   * np.float32(1.5)             -> float16
#      i32[3]   * 2.5                          -> float32  (a Python float is the default float dtype)
#      u8[3]    + 1000                         -> uint8    (a Python int is int64 but same category)
#      bool[3]  + 1                            -> int64
#    NumPy *arrays* (even 0-d ones) are ordinary dimensioned operands (NumPy's own rule, which is
#    what torch ends up applying to them too).
#
# 4. Ops decide what to do with the promoted dtype:
#      true division ``/`` and float math (exp, log, sqrt, sin, tanh, sigmoid, ...) on integer or
#      bool inputs give the default float dtype (float32); comparisons give bool; ``//`` and ``%``
#      keep integers; bitwise ops need integers or bools.

_CODES = {"b": bool_, "u1": uint8, "i1": int8, "i2": int16, "i4": int32, "i8": int64,
          "f2": float16, "f4": float32, "f8": float64}


def _parse_table(text):
    rows = [line.split() for line in text.strip().splitlines()]
    cols = rows[0]
    return {(_CODES[r[0]], _CODES[c]): _CODES[v] for r in rows[1:] for c, v in zip(cols, r[1:])}


_PROMOTE = _parse_table(PROMOTION_TABLE)

BOOL, INTEGER, FLOATING = 0, 1, 2


def category(d: DType) -> int:
    """0 for bool, 1 for integers, 2 for floating dtypes (the order used by promotion)."""
    return FLOATING if d.is_floating_point else BOOL if d is bool_ else INTEGER


def promote_types(a: DType, b: DType) -> DType:
    """The table above: the smallest dtype both ``a`` and ``b`` convert to (``torch.promote_types``)."""
    return a if a is b else _PROMOTE[a, b]


promote = promote_types  # older name


def is_scalar(x) -> bool:
    """Python bool/int/float or a NumPy scalar such as ``np.float32(1.5)`` (both promote as scalars)."""
    if isinstance(x, (bool, int, float)):
        return True
    from ..backend.base import is_host_scalar  # NumPy stays behind the backend seam

    return is_host_scalar(x)


def scalar_dtype(x) -> DType:
    """The dtype a scalar stands for: bool -> bool, int -> int64, float -> the default float dtype.

    NumPy scalars count by category: ``np.int8(3)`` like an int, ``np.float32(1.5)`` like a float.
    ``np.bool_`` counts as a float, because that is what torch 2.x does with it.
    """
    t = type(x)
    if t is float:
        return _default[0]
    if t is int:
        return int64
    if t is bool:
        return bool_
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    name = getattr(getattr(x, "dtype", None), "kind", None)
    if name in ("i", "u"):
        return int64
    if name in ("f", "b"):
        return _default[0]
    if isinstance(x, float):
        return _default[0]
    raise TypeError(f"unsupported scalar of type {t.__name__}")


def _combine(higher: DType | None, lower: DType | None) -> DType | None:
    """Rule 3: a lower-priority operand counts only if its category is higher."""
    if higher is None:
        return lower
    if lower is None or category(lower) <= category(higher):
        return higher
    return promote_types(higher, lower)


def result_dtype_scalar(d: DType, scalar) -> DType:
    """dtype of ``tensor(d) <op> scalar`` (a tensor with any ndim against a scalar)."""
    s = scalar_dtype(scalar)
    return d if category(s) <= category(d) else promote_types(d, s)


def result_dtype_tensors(a: DType, a_ndim: int, b: DType, b_ndim: int) -> DType:
    """dtype of ``a <op> b`` for two tensors: 0-d tensors count only by category (rule 3)."""
    if a is b:
        return a
    if (a_ndim == 0) == (b_ndim == 0):
        return promote_types(a, b)
    return _combine(a, b) if b_ndim == 0 else _combine(b, a)


def _is_host_array(x):
    from ..backend.base import is_host_array

    return is_host_array(x)


def result_type(*operands) -> DType:
    """``torch.result_type`` for any mix of tensors and scalars (rules 1-3 above)."""
    dim = zero = wrapped = None
    for x in operands:
        if is_scalar(x):
            s = scalar_dtype(x)
            wrapped = s if wrapped is None else promote_types(wrapped, s)
            continue
        d = get_dtype(x.dtype)
        if x.ndim == 0 and not _is_host_array(x):
            zero = d if zero is None else promote_types(zero, d)
        else:
            dim = d if dim is None else promote_types(dim, d)
    out = _combine(dim, _combine(zero, wrapped))
    if out is None:
        raise TypeError("result_type: expected at least one operand")
    return out


_INT_RANGE = {uint8: (0, 256), int8: (-128, 256), int16: (-2**15, 2**16), int32: (-2**31, 2**32),
              int64: (-2**63, 2**64)}


def scalar_as(x, d: DType):
    """The scalar converted to the Python type of ``d``'s category (as torch converts it to ``d``).

    Integers out of ``d``'s range wrap around, as a cast in C does (``int8 + 1000`` as torch).
    """
    if d.is_floating_point:
        return float(x)
    if d is bool_:
        return bool(x)
    v = int(x)
    lo, span = _INT_RANGE[d]
    if not lo <= v < lo + span:
        v = (v - lo) % span + lo
    return v


def as_float_dtype(d: DType) -> DType:
    """Float math (exp, /, sqrt...) on integer or bool inputs computes in the default float dtype."""
    return d if d.is_floating_point else _default[0]


# ====================================================================== finfo / iinfo
# The numbers of the IEEE formats (binary16/32/64): eps = 2^-(mantissa bits), tiny = the smallest
# normal number 2^(1 - bias), max = (2 - eps) 2^bias, resolution = 10^-(decimal digits).
_FINFO = {
    "float16": dict(bits=16, eps=2.0 ** -10, max=65504.0, tiny=2.0 ** -14, resolution=1e-3),
    "float32": dict(bits=32, eps=2.0 ** -23, max=(2 - 2.0 ** -23) * 2.0 ** 127, tiny=2.0 ** -126, resolution=1e-6),
    "float64": dict(bits=64, eps=2.0 ** -52, max=(2 - 2.0 ** -52) * 2.0 ** 1023, tiny=2.0 ** -1022,
                    resolution=1e-15),
}


class finfo:
    """Machine limits of a floating dtype (``torch.finfo``): ``bits``, ``eps``, ``max``, ``min``, ``tiny``
    (= ``smallest_normal``), ``resolution``, ``dtype`` (its name). ``finfo()`` is the default dtype's."""

    def __init__(self, type=None):
        d = get_default_dtype() if type is None else get_dtype(type)
        if not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'torch.finfo' (got {d})")
        v = _FINFO[d.name]
        self.bits, self.eps, self.max, self.tiny, self.resolution = (v["bits"], v["eps"], v["max"], v["tiny"],
                                                                     v["resolution"])
        self.min = -self.max
        self.smallest_normal = self.tiny
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (``torch.iinfo``): ``bits``, ``min``, ``max``, ``dtype``."""

    def __init__(self, type):
        d = get_dtype(type)
        if d is bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.is_floating_point:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            f"'torch.iinfo' (got {d})")
        self.bits = 8 * d.itemsize
        if d is uint8:
            self.min, self.max = 0, 255
        else:
            self.min, self.max = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        self.dtype = d.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
