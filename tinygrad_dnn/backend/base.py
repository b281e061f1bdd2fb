"""The backend seam: one small object per device kind.

Ops never import numpy or cupy. They ask a tensor for ``tensor.backend`` and use
``backend.xp``, an Array API namespace, plus the few kernels the Array API lacks
(scatter-add, strided windows, erf, random numbers), which live here.
"""
from __future__ import annotations

import numpy as _np

from . import random as _random


class Backend:
    """Base class. Subclasses set ``name``, ``xp`` and implement the kernels.

    Attributes:
        name: backend name, e.g. ``"numpy"``.
        xp: the Array API namespace used for all array math.
    """

    name = "base"
    xp = None

    # ---------------------------------------------------------------- arrays
    def asarray(self, obj, dtype=None):
        """Array on this backend from a Python scalar/list or a host (NumPy) array."""
        if isinstance(obj, _np.ndarray) or isinstance(obj, _np.generic):
            return self.from_host(_np.asarray(obj), dtype)
        return self.xp.asarray(obj, dtype=dtype, device=self.device)

    def from_host(self, arr, dtype=None):
        """Explicit host -> device copy of a NumPy array."""
        raise NotImplementedError

    def to_host(self, arr):
        """Explicit device -> host copy, returns a NumPy array."""
        raise NotImplementedError

    def is_array(self, obj) -> bool:
        raise NotImplementedError

    # --------------------------------------------------------------- kernels
    def index_add(self, shape, dtype, key, values):
        """``out = zeros(shape); out[key] += values`` with repeated indices accumulating.

        The backward of advanced indexing. ``key`` is a normalized indexing tuple.
        """
        raise NotImplementedError

    def sliding_windows(self, x, window_shape, axes):
        """Read-only view of all windows of ``window_shape`` over ``axes`` (stride 1).

        The window dimensions are appended at the end, as ``numpy.lib.stride_tricks.sliding_window_view``.
        """
        raise NotImplementedError

    def erf(self, x):
        raise NotImplementedError

    def axpy_(self, y, alpha, x):
        """In place ``y += alpha * x`` (an optimizer update); returns ``y``.

        Backends may avoid the full-size temporary ``alpha * x`` (the NumPy one works in chunks).
        """
        y += alpha * x
        return y

    def masked(self, x, cond):
        """``x`` where ``cond`` else 0 (a ReLU-style gradient mask): a select, so an inf or nan of ``x``
        outside ``cond`` gives 0 (as PyTorch's threshold_backward), not inf * 0 = nan."""
        return self.xp.where(cond, x, self.xp.zeros_like(x))

    def owns(self, arr) -> bool:
        """True if ``arr`` owns its writable memory (is not a view); conservative default: False."""
        return False

    def synchronize(self):
        """Block until queued device work is done (no-op on the CPU)."""

    # ---------------------------------------------------------------- random
    def uniform(self, shape, dtype, low=0.0, high=1.0, generator=None):
        """U[low, high) samples drawn from the host generator (same numbers on every device)."""
        return self.from_host(_random.generator_rng(generator).uniform(low, high, size=shape), dtype)

    def normal(self, shape, dtype, mean=0.0, std=1.0, generator=None):
        """N(mean, std^2) samples drawn from the host generator."""
        return self.from_host(_random.generator_rng(generator).normal(mean, std, size=shape), dtype)

    def randint(self, low, high, shape, dtype, generator=None):
        return self.from_host(_random.generator_rng(generator).integers(low, high, size=shape), dtype)

    def permutation(self, n, dtype, generator=None):
        return self.from_host(_random.generator_rng(generator).permutation(n), dtype)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"


def host_index_add(shape, np_dtype, key, values):
    """NumPy implementation of :meth:`Backend.index_add` (``numpy.add.at``)."""
    out = _np.zeros(shape, dtype=np_dtype)
    _np.add.at(out, key, values)
    return out


def format_array(host_arr) -> str:
    """Text of a host array for ``Tensor.__repr__`` (NumPy's formatting, without 'array(...)')."""
    return _np.array2string(_np.asarray(host_arr), separator=", ", precision=4, threshold=200,
                            prefix="tensor(")


def is_host_array(obj) -> bool:
    return isinstance(obj, (_np.ndarray, _np.generic))
