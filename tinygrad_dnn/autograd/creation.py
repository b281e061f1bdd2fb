"""Creation functions (``tensor``, ``zeros``, ``randn``...), PyTorch names and defaults.

Random tensors come from the generator of their device, seeded by ``manual_seed``: the host
generator on ``cpu`` and ``strict`` (same numbers on both), CuPy's device generator on ``cuda``
(a different stream, as in torch; see ``backend/random.py``).
"""
from __future__ import annotations

from ..backend import get_backend
from ..backend.base import is_host_array
from . import dtype as _dt
from .errors import broadcast_shape
from .tensor import Tensor, _wrap

_default_device = [None]


def set_default_device(device):
    """Device used when a creation function gets ``device=None`` (``'cpu'`` unless changed)."""
    _default_device[0] = None if device is None else str(device)


def get_default_device():
    from ..backend import Device

    return Device(_default_device[0] or "cpu")


def _backend(device):
    return get_backend(device if device is not None else _default_device[0])


def _xp_dtype(backend, dtype):
    return getattr(backend.xp, (_dt.get_dtype(dtype) or _dt.get_default_dtype()).name)


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of ``data`` (scalar, nested list, NumPy array or Tensor).

    Python floats become the default dtype (float32); ints become int64; NumPy arrays keep their dtype.
    """
    if isinstance(data, Tensor):
        src = data.detach()
        if device is not None and get_backend(device) is not src.backend:
            src = src.to(device)
        arr = src.backend.xp.asarray(src._data, copy=True)
        out = _wrap(arr, src.backend)
        if dtype is not None:
            out = _wrap(out.backend.xp.astype(arr, _xp_dtype(out.backend, dtype)), out.backend)
        return _finish(out, requires_grad)
    b = _backend(device)
    dt = _dt.get_dtype(dtype)
    if is_host_array(data) or b.is_array(data):
        if not is_host_array(data) and b.is_array(data):
            arr = b.xp.asarray(data, copy=True)
        else:
            arr = b.from_host(data.copy() if hasattr(data, "copy") else data)
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        from .joining import (
            stack,  # joining builds on creation; this rare path goes the other way
        )

        return _finish(stack([tensor(x, dtype=dtype, device=device) for x in data]), requires_grad)
    else:
        from ..backend.numpy_backend import np  # host staging for Python data

        host = np.asarray(data)
        if dt is None and host.dtype == np.float64:
            host = host.astype(_dt.get_default_dtype().name)
        arr = b.from_host(host)
    if dt is not None:
        arr = b.xp.astype(arr, getattr(b.xp, dt.name))
    return _finish(_wrap(arr, b), requires_grad)


def _flat(x):
    for v in x:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but without a copy where none is needed (as ``torch.as_tensor``).

    A Tensor with the requested dtype/device is returned as is; a NumPy array of a supported dtype
    going to the CPU with its own dtype shares memory (``from_numpy``). Anything else is converted.
    """
    dt = _dt.get_dtype(dtype)
    if isinstance(data, Tensor):
        if (dt is None or dt is data.dtype) and (device is None or get_backend(device) is data.backend):
            return data
        return data.to(dtype=dt, device=device)
    if is_host_array(data) and getattr(data, "ndim", None) is not None and type(data).__name__ == "ndarray" \
            and _backend(device).dev.type == "cpu":
        try:
            own = _dt.get_dtype(data.dtype)
        except TypeError:
            own = None
        if own is not None and (dt is None or dt is own):
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(arr):
    """A CPU tensor that shares memory with the NumPy array ``arr`` (writes show through both ways).

    Same dtype as ``arr``; no copy is made (as ``torch.from_numpy``). Move it with ``.to(device)``.
    """
    b = get_backend("cpu")
    if not b.is_array(arr):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(arr).__name__})")
    try:
        _dt.get_dtype(arr.dtype)
    except TypeError:
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {arr.dtype}; the supported types are "
                        f"{sorted(_dt._BY_NAME)}") from None
    return _wrap(arr, b)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    b = _backend(device)
    return _finish(_wrap(b.xp.zeros(_size(size), dtype=_xp_dtype(b, dtype), device=b.device), b), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    b = _backend(device)
    return _finish(_wrap(b.xp.ones(_size(size), dtype=_xp_dtype(b, dtype), device=b.device), b), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    b = _backend(device)
    return _finish(_wrap(b.xp.empty(_size(size), dtype=_xp_dtype(b, dtype), device=b.device), b), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    b = _backend(device)
    if dtype is None and isinstance(fill_value, bool):
        dtype = _dt.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = _dt.int64
    return _finish(_wrap(b.xp.full(_size((size,)) if isinstance(size, int) else tuple(size), fill_value,
                                   dtype=_xp_dtype(b, dtype), device=b.device), b), requires_grad)


def _like(t, dtype, device):
    return (dtype or t.dtype), (device if device is not None else t.device)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return zeros(tuple(t.shape), dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return ones(tuple(t.shape), dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(t, dtype, device)
    return full(tuple(t.shape), fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return zeros_like(t, dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values in [start, end) spaced by step; int64 if all arguments are ints, else float32."""
    if end is None:
        start, end = 0, start
    b = _backend(device)
    if dtype is None:
        dtype = _dt.int64 if all(isinstance(v, int) for v in (start, end, step)) else _dt.get_default_dtype()
    return _finish(_wrap(b.xp.arange(start, end, step, dtype=_xp_dtype(b, dtype), device=b.device), b), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    b = _backend(device)
    return _finish(_wrap(b.xp.linspace(start, end, steps, dtype=_xp_dtype(b, dtype), device=b.device), b), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    b = _backend(device)
    return _finish(_wrap(b.xp.eye(n, m, dtype=_xp_dtype(b, dtype), device=b.device), b), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """U[0, 1) samples from the global generator."""
    b = _backend(device)
    return _finish(_wrap(b.uniform(_size(size), _xp_dtype(b, dtype), generator=generator), b), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """N(0, 1) samples from the global generator."""
    b = _backend(device)
    return _finish(_wrap(b.normal(_size(size), _xp_dtype(b, dtype), generator=generator), b), requires_grad)


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high) (int64 unless ``dtype``), torch's argument forms:
    ``randint(high, size)``, ``randint(low, high, size)`` and keywords (``randint(high=10, size=(3,))``).

    Raises as torch: ``size`` must be a tuple of ints, ``low < high``, no gradient for integer dtypes.
    """
    if len(args) == 3:
        names = ("low", "high", "size")
    elif len(args) == 2:
        names = ("low", "high") if size is not None else ("high", "size")
    elif len(args) == 1:
        names = ("low",) if high is not None else ("high",) if size is not None else ("?",)
    else:
        names = ()
    if len(args) > 3 or "?" in names:
        raise TypeError(f"randint() received an invalid combination of arguments: {len(args)} positional "
                        "argument(s); expected randint(high, size), randint(low, high, size) or keywords "
                        "low=, high=, size=")
    given = dict(zip(names, args))
    low = given.get("low", low)
    high = given.get("high", high)
    size = given.get("size", size)
    low = 0 if low is None else low
    if high is None or size is None:
        raise TypeError("randint() missing required argument(s): " + ", ".join(
            n for n, v in (("high", high), ("size", size)) if v is None))
    for n, v in (("low", low), ("high", high)):
        if isinstance(v, Tensor):
            v = v.item()
        if isinstance(v, float) or not hasattr(v, "__index__"):
            raise TypeError(f"randint(): argument '{n}' must be int, not {type(v).__name__}")
    low, high = int(low), int(high)
    if isinstance(size, int) or not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    d = _dt.get_dtype(dtype) or _dt.int64
    if requires_grad and not d.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    b = _backend(device)
    out = _wrap(b.randint(low, high, tuple(int(s) for s in size), _xp_dtype(b, _dt.int64), generator=generator), b)
    if d is not _dt.int64:
        out = _wrap(b.xp.astype(out._data, _xp_dtype(b, d)), b)
    return _finish(out, requires_grad)


def randperm(n, dtype=None, device=None, generator=None):
    b = _backend(device)
    return _wrap(b.permutation(n, _xp_dtype(b, dtype or _dt.int64), generator=generator), b)


def rand_like(t, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return rand(tuple(t.shape), dtype=dtype, device=device)


def randn_like(t, dtype=None, device=None):
    dtype, device = _like(t, dtype, device)
    return randn(tuple(t.shape), dtype=dtype, device=device)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of N(mean, std^2): ``normal(mean, std, size)`` with numbers, or ``normal(mean, std)`` with
    tensors (their broadcast shape). Drawn from ``generator`` or the global generator; no gradient."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        shape = broadcast_shape(*(tuple(v.shape) for v in (mean, std) if isinstance(v, Tensor)), op="normal")
        z = randn(shape, dtype=dtype or ref.dtype, device=device or ref.device, generator=generator)
        m = mean.detach() if isinstance(mean, Tensor) else mean
        sd = std.detach() if isinstance(std, Tensor) else std
        return _finish(z * sd + m, requires_grad)
    if size is None:
        raise TypeError("normal(): with float mean and std, the size argument is required")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    z = randn(*((size,) if isinstance(size, int) else (tuple(size),)), dtype=dtype, device=device, generator=generator)
    return _finish((z * std + mean).detach(), requires_grad)

def one_hot(labels, num_classes=-1):
    """int64 one-hot encoding of integer labels (no gradient), as ``torch.nn.functional.one_hot``."""
    if labels.dtype.is_floating_point:
        raise TypeError(f"one_hot: labels must be an integer tensor, got {labels.dtype}")
    xp = labels.backend.xp
    if num_classes < 0:
        num_classes = int(xp.max(labels._data)) + 1
    classes = xp.arange(num_classes, device=labels.backend.device)
    return _wrap(xp.astype(xp.expand_dims(labels._data, axis=-1) == classes, xp.int64), labels.backend)


def manual_seed(seed):
    """Seed the global generator used for random tensors, initialization and dropout."""
    from ..backend import random

    random.manual_seed(seed)
    return seed


def numel(t):
    return t.numel()


def is_tensor(obj):
    return isinstance(obj, Tensor)


# ------------------------------------------------------------------ legacy typed constructors
class _TypedTensorMeta(type):
    """``FloatTensor([1, 2])``, ``LongTensor(2, 3)``... and ``isinstance(t, FloatTensor)`` (a CPU tensor of that dtype)."""

    def __call__(cls, *args, device=None):
        return Tensor(*args, dtype=cls.dtype, device=device)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"


class FloatTensor(metaclass=_TypedTensorMeta):
    """Legacy constructor: data (``FloatTensor([1, 2])``) or a shape (``FloatTensor(2, 3)``, zeros) -> float32."""
    dtype = _dt.float32


class DoubleTensor(metaclass=_TypedTensorMeta):
    dtype = _dt.float64


class HalfTensor(metaclass=_TypedTensorMeta):
    dtype = _dt.float16


class LongTensor(metaclass=_TypedTensorMeta):
    dtype = _dt.int64


class IntTensor(metaclass=_TypedTensorMeta):
    dtype = _dt.int32


class ShortTensor(metaclass=_TypedTensorMeta):
    dtype = _dt.int16


class CharTensor(metaclass=_TypedTensorMeta):
    dtype = _dt.int8


class ByteTensor(metaclass=_TypedTensorMeta):
    dtype = _dt.uint8


class BoolTensor(metaclass=_TypedTensorMeta):
    dtype = _dt.bool_


# cat / stack / where / pad moved to joining.py; the old import path keeps working
_MOVED = ("cat", "concat", "concatenate", "stack", "where", "pad")
_broadcast_shape = broadcast_shape


def __getattr__(name):
    if name in _MOVED:
        from . import joining

        return getattr(joining, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
