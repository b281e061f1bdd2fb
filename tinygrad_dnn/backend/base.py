"""The backend seam: one small object per device kind.

Ops never import numpy or cupy. They ask a tensor for ``tensor.backend`` and use
``backend.xp``, an Array API namespace, plus the few kernels the Array API lacks
(scatter-add, strided windows, erf, random numbers), which live here.
"""
from __future__ import annotations

import functools

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
    deferred_checks = False  # True: value checks are queued on the device and raised at the next sync
    _pending: dict = {}

    @functools.cached_property
    def float_dtypes(self):
        """The array dtype objects of the floating types (float32, float64, float16 where it exists).

        ``arr.dtype in backend.float_dtypes`` is the hot-path test "is this array floating point": the
        objects are the ones arrays carry, so the test is an identity hit for the common case.
        """
        xp, out = self.xp, []
        for name in ("float32", "float64", "float16"):
            d = getattr(xp, name, None)
            if d is not None:
                try:
                    out.append(xp.empty((0,), dtype=d, device=self.device).dtype)
                except (TypeError, ValueError):  # a namespace without this dtype on its arrays
                    pass
        return tuple(out)

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

    def argsort(self, x, axis, descending=False):
        """int64 indices that sort ``x`` along ``axis``; stable (ties keep their order), nan last ascending
        and first descending (as torch's sort)."""
        xp = self.xp
        return xp.astype(xp.argsort(x, axis=axis, descending=descending, stable=True), xp.int64)

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

    def writable(self, arr) -> bool:
        """True if ``arr[...] = value`` writes into ``arr``'s memory (False for broadcast/read-only arrays)."""
        return True

    def index_put_(self, arr, key, values):
        """In place ``arr[key] = values`` (``key`` a normalized indexing tuple, may hold index arrays)."""
        arr[key] = values

    def copy_c(self, arr):
        """A row-major (C order) copy of ``arr``."""
        out = self.xp.empty(arr.shape, dtype=arr.dtype, device=self.device)
        out[...] = arr
        return out

    def overlap(self, a, b) -> int:
        """0: ``a`` and ``b`` share no memory; 1: exactly the same elements (same start, shape, strides);
        2: a partial overlap (an in-place op reading ``b`` while writing ``a`` would see its own writes)."""
        return 0

    def is_contiguous(self, arr) -> bool:
        """True if ``arr`` is laid out row-major (C order); default: True."""
        return True

    def may_share_memory(self, a, b) -> bool:
        """True if ``a`` and ``b`` may alias (used to tell a reshape view from a copy); default: False."""
        return False

    # ---------------------------------------------------------- linear algebra
    # The Array API ``linalg`` extension (NumPy, array-api-strict and CuPy all have it). A singular
    # matrix raises :class:`LinAlgError` (a RuntimeError, as torch's) naming the op.
    def linalg_inv(self, a):
        """A^-1 for (..., n, n) ``a``."""
        return _linalg(self.xp, "inv", a)

    def linalg_solve(self, a, b):
        """X with A X = B for (..., n, n) ``a`` and (..., n, k) ``b`` (same batch shape)."""
        return _linalg(self.xp, "solve", a, b)

    def linalg_det(self, a):
        """det A for (..., n, n) ``a``."""
        return _linalg(self.xp, "det", a)

    def owns(self, arr) -> bool:
        """True if ``arr`` owns its writable memory (is not a view); conservative default: False."""
        return False

    def synchronize(self):
        """Block until queued device work is done (no-op on the CPU)."""

    # ------------------------------------------------------- deferred value checks
    def defer_check(self, key, bad, value, message, exc=IndexError):
        """Queue a value check made on the device: ``bad`` a 0-d bool array (True = error), ``value`` a 0-d
        array (the offending value, e.g. the first bad index), ``message(value) -> str``. Nothing is read
        back now; :meth:`raise_deferred` (called by ``to_host`` and ``synchronize``) raises ``exc``
        with the message of the first failed check. Checks of the same ``key`` are merged on the device
        (the earliest failing value is kept), so the queue does not grow between syncs."""
        xp = self.xp
        if not self._pending:
            self._pending = {}
        old = self._pending.get(key)
        if old is not None:
            obad, ovalue, message, exc = old
            value = xp.where(obad, ovalue, value)
            bad = obad | bad
        self._pending[key] = (bad, value, message, exc)

    def check_index(self, idx, n, op, allow_negative=True):
        """Queue the check ``-n <= idx < n`` (``0 <= idx < n`` without ``allow_negative``) of an integer index
        array into a dim of size ``n`` (for ``op``)."""
        xp = self.xp
        badm = ((idx < -n) if allow_negative else (idx < 0)) | (idx >= n)
        bad = xp.any(badm)
        first = xp.max(xp.where(badm, idx, xp.zeros_like(idx)))  # the largest bad index (or a negative one)
        low = xp.min(xp.where(badm, idx, xp.zeros_like(idx)))
        value = xp.where(first != 0, first, low)
        self.defer_check(op, bad, value, lambda v: f"{op}: index {v} is out of bounds for a dimension of size {n} "
                                                   f"(valid: {-n if allow_negative else 0} ... {n - 1})")

    def raise_deferred(self):
        """Raise the first failed queued check (see :meth:`defer_check`); clears the queue."""
        pending, self._pending = self._pending, {}
        for bad, value, message, exc in pending.values():
            if bool(self.to_host(bad)):
                raise exc(message(self.to_host(value).item()) + " (checked on the device and reported at "
                                 "this synchronization, not where the op ran)")

    # ---------------------------------------------------------------- random
    def keep_mask(self, shape, q, dtype):
        """Dropout keep-mask of ``shape`` in ``dtype``: 1/q where a U[0,1) draw is < q (kept), else 0.

        Drawn in float64 from the host generator (the CPU stream); CuPy draws on the device in ``dtype``."""
        xp = self.xp
        u = self.uniform(shape, xp.float64)
        m = xp.where(u < q, xp.asarray(1.0 / q, dtype=xp.float64, device=self.device),
                     xp.asarray(0.0, dtype=xp.float64, device=self.device))
        return xp.astype(m, dtype)

    def uniform(self, shape, dtype, low=0.0, high=1.0, generator=None):
        """U[low, high) samples drawn from the host generator (``cpu``/``strict``; CuPy overrides it)."""
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


class LinAlgError(RuntimeError):
    """A linear-algebra kernel failed (singular matrix), as ``torch.linalg.LinAlgError``."""


def _linalg(xp, name, *args):
    try:
        return getattr(xp.linalg, name)(*args)
    except _np.linalg.LinAlgError as e:
        raise LinAlgError(f"linalg.{name}: the input matrix is singular ({e}), shape {tuple(args[0].shape)}; "
                          "the inverse/solution does not exist (check the matrix, or use a least-squares "
                          "method)") from None


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


def is_host_scalar(obj) -> bool:
    """A NumPy scalar (``np.float32(1.5)``, ``np.int64(3)``): promotes like a Python scalar."""
    return isinstance(obj, _np.generic)
