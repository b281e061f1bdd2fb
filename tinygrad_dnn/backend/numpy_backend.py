"""NumPy backend: device ``cpu``."""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import Backend, host_index_add


class NumpyBackend(Backend):
    name = "numpy"
    xp = np
    device = "cpu"

    def from_host(self, arr, dtype=None):
        return np.asarray(arr, dtype=dtype)

    def asarray(self, obj, dtype=None):
        return np.asarray(obj, dtype=dtype)

    def to_host(self, arr):
        return np.asarray(arr)

    def is_array(self, obj):
        return isinstance(obj, np.ndarray)

    def owns(self, arr):
        return arr.flags.owndata and arr.flags.writeable

    def index_add(self, shape, dtype, key, values):
        return host_index_add(shape, dtype, key, values)

    def sliding_windows(self, x, window_shape, axes):
        return sliding_window_view(x, window_shape, axis=axes)

    def erf(self, x):
        # No erf in NumPy: vectorised math.erf is slow, so use the Abramowitz-Stegun free
        # route via the error function of the standard normal CDF from math, elementwise.
        return _erf_np(x)

    def uniform(self, shape, dtype, low=0.0, high=1.0):
        from .random import host_generator
        gen = host_generator()
        if dtype == np.float32 and low == 0.0 and high == 1.0:
            return gen.random(size=shape, dtype=np.float32)
        return np.asarray(gen.uniform(low, high, size=shape), dtype=dtype)


_vec_erf = np.frompyfunc(math.erf, 1, 1)


def _erf_np(x):
    return _vec_erf(x).astype(x.dtype)
