"""dtypes: named objects that every backend maps to its own array dtype (``getattr(xp, name)``)."""
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


def promote(a: DType, b: DType) -> DType:
    """PyTorch-style promotion for two tensors: float beats int; wider float beats narrower."""
    if a is b:
        return a
    if a.is_floating_point and b.is_floating_point:
        return a if a.itemsize >= b.itemsize else b
    if a.is_floating_point:
        return a
    if b.is_floating_point:
        return b
    if a is bool_:
        return b
    if b is bool_:
        return a
    return a if a.itemsize >= b.itemsize else b
