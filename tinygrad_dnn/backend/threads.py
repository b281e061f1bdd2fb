"""``set_num_threads`` / ``get_num_threads``: the BLAS/OpenMP thread pools NumPy's matmul uses.

With ``threadpoolctl`` installed the limit is applied to every native thread pool loaded in the
process (OpenBLAS, MKL, OpenMP) and stays until changed. Without it the number is only recorded
(set ``OMP_NUM_THREADS`` before starting Python instead).
"""
from __future__ import annotations

import os

_state = {"n": None, "limiter": None}


def set_num_threads(n):
    """Limit the CPU kernels to ``n`` threads (``torch.set_num_threads``); ``n`` must be a positive int."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n!r}")
    import numpy  # noqa: F401  (load the BLAS before limiting it)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        _state["limiter"] = threadpool_limits(limits=n)
    _state["n"] = n


def get_num_threads() -> int:
    """The limit set with :func:`set_num_threads`, else what the BLAS pool uses, else the CPU count."""
    if _state["n"] is not None:
        return _state["n"]
    import numpy  # noqa: F401

    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return int(max(counts))
    except ImportError:
        pass
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
