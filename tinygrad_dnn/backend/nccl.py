"""CuPy's NCCL bindings (``cupy.cuda.nccl``) for ``tinygrad_dnn.distributed``'s "nccl" backend.

Kept in the backend package because it imports CuPy; the distributed package gets the module and
the current CUDA stream from here and never imports CuPy itself.
"""
from __future__ import annotations


def load():
    """(cupy, cupy.cuda.nccl); raises ImportError (or CuPy's own error) when either is unusable."""
    import cupy
    from cupy.cuda import nccl

    return cupy, nccl


def available() -> bool:
    try:
        load()
    except Exception:  # noqa: BLE001  (ImportError, or CuPy failing to load its CUDA/NCCL libraries)
        return False
    return True


def current_stream_ptr(cupy):
    """The raw pointer of CuPy's current stream (NCCL calls are queued on it)."""
    return cupy.cuda.get_current_stream().ptr
