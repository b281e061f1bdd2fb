"""NumPy backend: device ``cpu``."""
from __future__ import annotations

import math
import types

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import Backend, host_index_add


class _FastReductions(types.ModuleType):
    """NumPy's namespace with ``sum``/``max``/``min``/``mean``/``prod`` called as ufunc reductions.

    ``np.sum`` and friends spend ~1 us in Python wrappers before reaching ``np.add.reduce``; on the
    tiny tensors of a teaching model that is most of an op's cost. Same results and dtypes.
    Every other name is NumPy's own (looked up once, then cached on this object).
    """

    def __getattr__(self, name):
        value = getattr(np, name)
        setattr(self, name, value)
        return value

    @staticmethod
    def sum(x, /, *, axis=None, dtype=None, keepdims=False):
        return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)

    @staticmethod
    def prod(x, /, *, axis=None, dtype=None, keepdims=False):
        return np.multiply.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)

    @staticmethod
    def max(x, /, *, axis=None, keepdims=False):
        return np.maximum.reduce(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def min(x, /, *, axis=None, keepdims=False):
        return np.minimum.reduce(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def mean(x, /, *, axis=None, keepdims=False):
        if x.dtype.kind not in "fc":
            return np.mean(x, axis=axis, keepdims=keepdims)
        n = x.size if axis is None else math.prod(x.shape[a] for a in ((axis,) if isinstance(axis, int) else axis))
        out = np.add.reduce(x, axis=axis, keepdims=keepdims)
        return np.true_divide(out, n, out=out, casting="unsafe") if isinstance(out, np.ndarray) else out / x.dtype.type(n)


_AXPY_CHUNK = 1 << 15  # elements: 128 KiB of float32

_xp = _FastReductions("tinygrad_dnn.backend.numpy_xp", "NumPy with fast reductions")


class NumpyBackend(Backend):
    name = "numpy"
    xp = _xp
    device = "cpu"

    def from_host(self, arr, dtype=None):
        return np.asarray(arr, dtype=dtype)

    def asarray(self, obj, dtype=None):
        return np.asarray(obj, dtype=dtype)

    def to_host(self, arr):
        return np.asarray(arr)

    def is_array(self, obj):
        return isinstance(obj, np.ndarray)

    def axpy_(self, y, alpha, x):
        n = y.size
        if n <= _AXPY_CHUNK or x.dtype != y.dtype or not (y.flags.c_contiguous and x.flags.c_contiguous) \
                or x.shape != y.shape:
            y += alpha * x
            return y
        # cache-sized chunks: no parameter-sized temporary, and each chunk stays in L2
        yf, xf = y.reshape(-1), x.reshape(-1)
        tmp = np.empty(_AXPY_CHUNK, dtype=y.dtype)
        for start in range(0, n, _AXPY_CHUNK):
            stop = min(start + _AXPY_CHUNK, n)
            t = tmp[:stop - start]
            np.multiply(xf[start:stop], alpha, out=t)
            yf[start:stop] += t
        return y

    def masked(self, x, cond):
        # float * bool keeps x's dtype, one pass and no float mask temporary (np.where is ~5x slower);
        # only when that product holds an inf or nan (an inf * 0 outside cond) is the exact select needed
        out = x * cond
        if not np.isfinite(out).all():
            out = np.where(cond, x, np.zeros((), dtype=x.dtype))
        return out

    def writable(self, arr):
        return isinstance(arr, np.ndarray) and arr.flags.writeable

    def copy_c(self, arr):
        return np.array(arr, order="C", copy=True)

    def overlap(self, a, b):
        return _overlap(a, b)

    def is_contiguous(self, arr):
        return not isinstance(arr, np.ndarray) or arr.flags.c_contiguous

    def may_share_memory(self, a, b):
        return np.may_share_memory(a, b)

    def owns(self, arr):
        return arr.flags.owndata and arr.flags.writeable

    def index_add(self, shape, dtype, key, values):
        return host_index_add(shape, dtype, key, values)

    def argsort(self, x, axis, descending=False):
        # np.argsort has no ``descending``: a stable sort of the reversed array, reversed back
        if not descending:
            return np.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)
        n = x.shape[axis]
        r = np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)
        return (n - 1 - r).astype(np.int64, copy=False)

    def sliding_windows(self, x, window_shape, axes):
        return sliding_window_view(x, window_shape, axis=axes)

    def erf(self, x):
        # NumPy has no erf: apply math.erf (the C library's, correctly rounded in double
        # precision) elementwise. Exact but slow (~50 ns per element); only GELU(exact) uses it.
        return _erf_np(x)

    def uniform(self, shape, dtype, low=0.0, high=1.0, generator=None):
        from .random import generator_rng
        gen = generator_rng(generator)
        if dtype == np.float32 and low == 0.0 and high == 1.0:
            return gen.random(size=shape, dtype=np.float32)
        return np.asarray(gen.uniform(low, high, size=shape), dtype=dtype)


def _overlap(a, b):
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or not np.may_share_memory(a, b):
        return 0
    if a.__array_interface__["data"][0] != b.__array_interface__["data"][0]:
        return 2
    # the same elements in the same order (size-1 dims aside: x[None, 0] is x[0])
    la = [(n, s) for n, s in zip(a.shape, a.strides) if n != 1]
    lb = [(n, s) for n, s in zip(b.shape, b.strides) if n != 1]
    return 1 if la == lb else 2


_vec_erf = np.frompyfunc(math.erf, 1, 1)


def _tune_malloc():
    """Keep freed large buffers in glibc's heap instead of returning them to the OS.

    A training step allocates and frees the same few multi-hundred-KB arrays every step. With
    glibc's defaults each of them is a fresh ``mmap`` (page faults on first touch) and ``munmap``
    on free, which cost ~25% of the MLP step (benchmarks/: 6.1 -> 4.7 ms). Raising the mmap and
    trim thresholds makes the heap act as a caching allocator (at most 256 MiB of free memory is
    retained). Linux/glibc only; set ``TINYGRAD_DNN_MALLOC_TUNE=0`` to leave malloc alone.
    """
    import os
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("TINYGRAD_DNN_MALLOC_TUNE", "1") == "0":
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, 32 * 2**20)) and bool(mallopt(M_TRIM_THRESHOLD, 256 * 2**20))


MALLOC_TUNED = _tune_malloc()


def _erf_np(x):
    return np.asarray(_vec_erf(x), dtype=x.dtype)  # a 0-d input gives a Python float
