"""CuPy backend: devices ``cuda`` / ``cuda:N``. Loaded only when cupy imports and a GPU answers."""
from __future__ import annotations

import numpy as np

from .base import Backend


class CupyBackend(Backend):
    name = "cupy"

    def __init__(self, index: int = 0):
        import cupy

        try:  # the Array API names (permute_dims, concat, astype...) on older CuPy
            import array_api_compat.cupy as xp
        except ImportError:  # pragma: no cover - depends on the install
            xp = cupy
        self.cupy = cupy
        self.xp = xp
        self.index = index
        self.device = cupy.cuda.Device(index)

    def _on(self):
        return self.cupy.cuda.Device(self.index)

    def from_host(self, arr, dtype=None):
        with self._on():
            return self.cupy.asarray(np.asarray(arr), dtype=dtype)

    def asarray(self, obj, dtype=None):
        with self._on():
            return self.cupy.asarray(obj, dtype=dtype)

    def to_host(self, arr):
        return self.cupy.asnumpy(arr)

    def is_array(self, obj):
        return isinstance(obj, self.cupy.ndarray)

    def masked(self, x, cond):
        return self.cupy.where(cond, x, self.cupy.zeros((), dtype=x.dtype))  # a select: inf/nan outside cond -> 0

    def owns(self, arr):
        return arr.base is None

    def writable(self, arr):
        # CuPy has no read-only flag; a broadcast (expand) view has a zero stride
        return isinstance(arr, self.cupy.ndarray) and (arr.ndim == 0 or 0 not in arr.strides or arr.size <= 1)

    def overlap(self, a, b):
        cp = self.cupy
        if not (isinstance(a, cp.ndarray) and isinstance(b, cp.ndarray)) or not cp.may_share_memory(a, b):
            return 0
        la = [(n, s) for n, s in zip(a.shape, a.strides) if n != 1]
        lb = [(n, s) for n, s in zip(b.shape, b.strides) if n != 1]
        return 1 if a.data.ptr == b.data.ptr and la == lb else 2

    def is_contiguous(self, arr):
        return arr.flags.c_contiguous

    def may_share_memory(self, a, b):
        return self.cupy.may_share_memory(a, b)

    def index_add(self, shape, dtype, key, values):
        import cupyx

        with self._on():
            out = self.cupy.zeros(shape, dtype=dtype)
            cupyx.scatter_add(out, key, values)
            return out

    def sliding_windows(self, x, window_shape, axes):
        from cupy.lib.stride_tricks import sliding_window_view

        return sliding_window_view(x, window_shape, axis=axes)

    def erf(self, x):
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(x)

    def synchronize(self):
        self.cupy.cuda.Device(self.index).synchronize()


def cuda_available() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def device_count() -> int:
    """Number of CUDA GPUs CuPy sees (0 without cupy or a GPU)."""
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


def device_name(index: int = 0) -> str:
    import cupy

    name = cupy.cuda.runtime.getDeviceProperties(int(index))["name"]
    return name.decode() if isinstance(name, bytes) else str(name)
