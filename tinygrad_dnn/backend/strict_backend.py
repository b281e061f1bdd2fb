"""Strict Array API backend (array-api-strict on its non-CPU device ``device1``).

Used by the test suite: an op that calls a NumPy-only function, or converts an array to
the host without saying so, fails here, as it would on CuPy. The kernels the Array API lacks
are implemented by *explicit* conversion through the CPU device and DLPack.
"""
from __future__ import annotations

import numpy as np

from .base import Backend, host_index_add


class StrictBackend(Backend):
    name = "strict"
    device_name = "strict"

    def __init__(self):
        import array_api_strict as xp

        self.xp = xp
        self.device = xp.Device("device1")
        self._cpu = xp.Device("CPU_DEVICE")

    def from_host(self, arr, dtype=None):
        arr = np.array(arr, copy=True, order="C")
        if dtype is not None:
            arr = arr.astype(self._np_dtype(dtype), copy=False)
        return self.xp.asarray(arr, device=self.device)

    def asarray(self, obj, dtype=None):
        if isinstance(obj, (np.ndarray, np.generic)):
            return self.from_host(np.asarray(obj), dtype)
        return self.xp.asarray(obj, dtype=dtype, device=self.device)

    def to_host(self, arr):
        if self._pending:  # deferred checks (only when a test turns them on to mimic the GPU path)
            self.raise_deferred()
        return np.from_dlpack(arr.to_device(self._cpu)).copy()

    def is_array(self, obj):
        return isinstance(obj, self.xp.__array_namespace_info__().__class__) or type(obj).__name__ == "Array"

    def _np_dtype(self, dtype):
        if isinstance(dtype, np.dtype) or (isinstance(dtype, type) and issubclass(dtype, np.generic)):
            return dtype
        return np.dtype(str(dtype).split(".")[-1])

    # array-api-strict wraps a NumPy array (``._array``); reading its flags is not a host transfer
    def writable(self, arr):
        inner = getattr(arr, "_array", None)
        return isinstance(inner, np.ndarray) and inner.flags.writeable

    def index_put_(self, arr, key, values):
        if not any(self.is_array(k) for k in key):
            arr[key] = values
            return
        # the Array API has no integer-array __setitem__: assign on the host, then copy back, explicitly
        host = self.to_host(arr)
        host[tuple(self.to_host(k) if self.is_array(k) else k for k in key)] = \
            self.to_host(values) if self.is_array(values) else values
        arr[...] = self.from_host(host)

    def overlap(self, a, b):
        from .numpy_backend import _overlap

        return _overlap(getattr(a, "_array", None), getattr(b, "_array", None))

    def is_contiguous(self, arr):
        return arr._array.flags.c_contiguous

    def may_share_memory(self, a, b):
        return np.may_share_memory(a._array, b._array)

    def index_add(self, shape, dtype, key, values):
        host_key = tuple(self.to_host(k) if self.is_array(k) else k for k in key)
        out = host_index_add(shape, self._np_dtype(dtype), host_key, self.to_host(values))
        return self.from_host(out)

    def sliding_windows(self, x, window_shape, axes):
        from numpy.lib.stride_tricks import sliding_window_view

        view = sliding_window_view(self.to_host(x), window_shape, axis=axes)
        return self.from_host(view)

    def erf(self, x):
        from .numpy_backend import _erf_np

        return self.from_host(_erf_np(self.to_host(x)))
