"""CuPy backend: device ``cuda`` (GPU 0). Loaded only when CuPy, array-api-compat and a GPU are present.

* The Array API names (``permute_dims``, ``concat``, ``zeros(..., device=)``, ``clip(min=, max=)``,
  ``vecdot``...) come from ``array_api_compat.cupy``: it is a hard requirement (bare CuPy rejects
  ``device=`` in ~30 places), see :func:`load_namespace`.
* Only GPU 0 is supported (``cuda:N`` with N >= 1 is refused in ``get_backend``): every kernel runs on
  the current CUDA device, which is GPU 0 unless the user changes it.
* Random numbers come from CuPy's device generator (``cupy.random.RandomState``) seeded by
  ``manual_seed`` (see ``backend/random.py``), not the host generator: CPU and GPU streams differ.
* Value checks that would need a host synchronization (class targets out of range, integer indices
  out of range) are made on the device and reported at the next synchronization
  (:meth:`Backend.defer_check`): ``.item()``, ``.numpy()``, ``.cpu()``, ``synchronize()``.
"""
from __future__ import annotations

import types

import numpy as np

from .base import Backend

COMPAT_MISSING = ("device 'cuda' needs the array-api-compat package (the Array API wrapper of CuPy: "
                  "zeros(..., device=), clip(min=, max=), vecdot...), which is not installed; "
                  "install it with `pip install array-api-compat`, or install the extra matching your "
                  "driver: `pip install 'tinygrad-dnn[cuda12]'` or `'tinygrad-dnn[cuda13]'` "
                  "(nvidia-smi shows the driver's CUDA version)")
CUPY_MISSING = ("device 'cuda' needs CuPy, which is not installed: `pip install 'tinygrad-dnn[cuda12]'` or "
                "`'tinygrad-dnn[cuda13]'` (pick the CUDA major version nvidia-smi shows)")


def load_namespace():
    """``(cupy, array_api_compat.cupy)``; a clear ImportError naming the missing package otherwise."""
    try:
        import cupy
    except ImportError as e:
        raise ImportError(CUPY_MISSING) from e
    try:
        import array_api_compat.cupy as compat
    except ImportError as e:
        raise ImportError(COMPAT_MISSING) from e
    return cupy, compat


def make_namespace(cupy, compat):
    """array-api-compat's CuPy namespace with a few names swapped for CuPy's own kernels.

    compat's ``clip`` and ``sign`` use boolean-mask indexing (which reads the mask count back to the
    host: a synchronization per call); CuPy's ufuncs do not.
    """
    ns = types.ModuleType("tinygrad_dnn.backend.cupy_xp", "array_api_compat.cupy with CuPy's own clip/sign")
    for name in dir(compat):
        if not name.startswith("__"):
            setattr(ns, name, getattr(compat, name))
    ns.__array_namespace_info__ = getattr(compat, "__array_namespace_info__", None)

    def clip(x, /, min=None, max=None):
        if min is None and max is None:
            return cupy.array(x, copy=True)
        if max is None:
            out = cupy.maximum(x, min)
        elif min is None:
            out = cupy.minimum(x, max)
        else:
            out = cupy.minimum(cupy.maximum(x, min), max)
        return out if out.dtype == x.dtype else out.astype(x.dtype, copy=False)

    def sign(x, /):
        return cupy.sign(x)

    ns.clip, ns.sign = clip, sign
    ns.maximum, ns.minimum = cupy.maximum, cupy.minimum
    ns.take = _checked_take(cupy, compat)
    return ns


def _checked_take(cupy, compat):
    take = getattr(compat, "take", None) or cupy.take

    def checked_take(x, indices, /, *, axis=None):
        be = _CURRENT.get("backend")
        if be is not None and indices.size:
            n = x.shape[axis] if axis is not None else x.size
            be.check_index(indices, n, "take (integer-array indexing)")
        return take(x, indices, axis=axis)

    return checked_take


_CURRENT: dict = {}  # the (single, GPU 0) CupyBackend, for the checked namespace functions


class CupyBackend(Backend):
    name = "cupy"
    deferred_checks = True  # value checks are queued on the device (no host sync per op)

    def __init__(self, index: int = 0):
        if index != 0:
            raise ValueError(f"cuda:{index}: only GPU 0 is supported (see get_backend)")
        cupy, compat = load_namespace()
        self.cupy = cupy
        self.xp = make_namespace(cupy, compat)
        self.index = index
        self.device = cupy.cuda.Device(index)
        self._pending = {}
        _CURRENT["backend"] = self

    def from_host(self, arr, dtype=None):
        return self.cupy.asarray(np.asarray(arr), dtype=dtype)

    def asarray(self, obj, dtype=None):
        return self.cupy.asarray(obj, dtype=dtype)

    def to_host(self, arr):
        if self._pending:
            self.raise_deferred()
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

    def _check_key(self, shape, key, op):
        dim = 0
        for k in key:
            if isinstance(k, self.cupy.ndarray) and k.dtype.kind in "iu" and k.size:
                self.check_index(k, shape[dim], op)
            if k is not None and k is not Ellipsis:
                dim += 1

    def index_add(self, shape, dtype, key, values):
        import cupyx

        self._check_key(shape, key, "index_add (backward of integer-array indexing)")
        out = self.cupy.zeros(shape, dtype=dtype)
        cupyx.scatter_add(out, key, values)
        return out

    def index_put_(self, arr, key, values):
        self._check_key(arr.shape, key, "index_put_ (x[idx] = v)")
        arr[key] = values

    def sliding_windows(self, x, window_shape, axes):
        from cupy.lib.stride_tricks import sliding_window_view

        return sliding_window_view(x, window_shape, axis=axes)

    def erf(self, x):
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(x)

    def synchronize(self):
        self.cupy.cuda.Device(self.index).synchronize()
        if self._pending:
            self.raise_deferred()

    def sync_guard(self):
        """``(context manager, exception)``: CuPy's detector of device synchronizations
        (``cupyx.allow_synchronize(False)``, raising ``cupyx.DeviceSynchronized``), or None where
        this CuPy has no such API (it is deprecated)."""
        import cupyx

        allow = getattr(cupyx, "allow_synchronize", None)
        if allow is None:
            return None
        return allow(False), getattr(cupyx, "DeviceSynchronized", RuntimeError)

    # ------------------------------------------------------------- random (device generator)
    def _rng(self, generator):
        from . import random as _random

        return None if generator is not None else _random.device_generator(self)

    @staticmethod
    def _rng_dtype(dtype):
        return dtype if np.dtype(dtype) in (np.float32, np.float64) else np.float32

    def uniform(self, shape, dtype, low=0.0, high=1.0, generator=None):
        rs = self._rng(generator)
        if rs is None:  # an explicit Generator: its host stream, copied (same numbers as on the CPU)
            return super().uniform(shape, dtype, low, high, generator)
        out = rs.uniform(low, high, size=shape, dtype=self._rng_dtype(dtype))
        return out if out.dtype == dtype else out.astype(dtype)

    def normal(self, shape, dtype, mean=0.0, std=1.0, generator=None):
        rs = self._rng(generator)
        if rs is None:
            return super().normal(shape, dtype, mean, std, generator)
        out = rs.normal(mean, std, size=shape, dtype=self._rng_dtype(dtype))
        return out if out.dtype == dtype else out.astype(dtype)

    def randint(self, low, high, shape, dtype, generator=None):
        rs = self._rng(generator)
        if rs is None:
            return super().randint(low, high, shape, dtype, generator)
        return rs.randint(low, high, size=shape, dtype=np.int64).astype(dtype, copy=False)

    def permutation(self, n, dtype, generator=None):
        rs = self._rng(generator)
        if rs is None:
            return super().permutation(n, dtype, generator)
        return rs.permutation(n).astype(dtype, copy=False)

    def keep_mask(self, shape, q, dtype):
        rs = self._rng(None)
        u = rs.random_sample(size=shape, dtype=self._rng_dtype(dtype))
        return self.cupy.where(u < q, self.cupy.asarray(1.0 / q, dtype=dtype), self.cupy.asarray(0.0, dtype=dtype))

    # ------------------------------------------------------------- fused optimizer update
    def adam_update_(self, p, g, m, v, vmax, b1, b2, step_size, bc2_sqrt, eps):
        """One elementwise kernel for Adam/AdamW's moment and parameter update (in place); False when
        the arrays do not fit the kernel (then the caller takes the generic path)."""
        cp = self.cupy
        if p.dtype not in (cp.float32, cp.float64) or not (g.dtype == m.dtype == v.dtype == p.dtype) \
                or not (g.shape == p.shape) or not all(a.flags.c_contiguous for a in (p, g, m, v)):
            return False
        if vmax is None:
            _adam_kernel(cp)(g, b1, b2, step_size, bc2_sqrt, eps, p, m, v)
        else:
            if vmax.dtype != p.dtype or not vmax.flags.c_contiguous:
                return False
            _adam_ams_kernel(cp)(g, b1, b2, step_size, bc2_sqrt, eps, p, m, v, vmax)
        return True


_KERNELS: dict = {}

# The same operation order as the generic path (optim/adaptive.py Adam._update), in the parameter's dtype.
_ADAM_BODY = """
    T mm = m * (T)b1 + (T)(1.0 - b1) * g;
    T vv = v * (T)b2 + (g * g) * (T)(1.0 - b2);
    m = mm;
    v = vv;
    {vmax}
    T denom = sqrt({vhat}) / (T)bc2 + (T)eps;
    p = p - (mm / denom) * (T)step_size;
"""


def _adam_kernel(cp):
    k = _KERNELS.get("adam")
    if k is None:
        k = _KERNELS["adam"] = cp.ElementwiseKernel(
            "T g, float64 b1, float64 b2, float64 step_size, float64 bc2, float64 eps", "T p, T m, T v",
            _ADAM_BODY.format(vmax="", vhat="vv"), "tinygrad_dnn_adam")
    return k


def _adam_ams_kernel(cp):
    k = _KERNELS.get("adam_ams")
    if k is None:
        k = _KERNELS["adam_ams"] = cp.ElementwiseKernel(
            "T g, float64 b1, float64 b2, float64 step_size, float64 bc2, float64 eps", "T p, T m, T v, T vmax",
            _ADAM_BODY.format(vmax="vmax = vmax > vv ? vmax : vv;", vhat="vmax"), "tinygrad_dnn_adam_amsgrad")
    return k


def cuda_available() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def cuda_usable() -> tuple[bool, str]:
    """``(True, '')`` if device 'cuda' can be created here, else ``(False, reason)``."""
    try:
        load_namespace()
    except ImportError as e:
        return False, str(e)
    if not cuda_available():
        return False, "CuPy is installed but sees no CUDA GPU (driver missing or no device)"
    return True, ""


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


def memory_pool_peak() -> int | None:
    """Bytes held by CuPy's default memory pool (its total, the peak proxy CuPy exposes), or None."""
    try:
        import cupy

        return int(cupy.get_default_memory_pool().total_bytes())
    except Exception:
        return None
