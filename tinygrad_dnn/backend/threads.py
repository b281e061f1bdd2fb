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


# --------------------------------------------------------------------------- the default at import
# Measured on the project's 2-core Xeon (docs/results.md, "BLAS threads"): on an idle machine one
# thread is up to 1.55x slower than two for the 784-512-512 MLP step; on a machine where another
# process keeps one core busy, two threads are 1.5-1.9x slower than one (OpenBLAS's threads wait for
# each other). No fixed count is within 1.2x of the best in both cases, so the default follows the
# load: the cores not already busy (os.getloadavg), at least one.
_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def default_num_threads(cores=None, load=None):
    """The BLAS thread count ``import tinygrad_dnn`` sets: idle cores = cores - round(1-minute load)."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # no load average (Windows): keep every core
            load = 0.0
    return max(1, min(cores, cores - int(round(load))))


def apply_default_threads():
    """Set the BLAS pool to :func:`default_num_threads` unless the user chose (an ``*_NUM_THREADS``
    variable, or ``TINYGRAD_DNN_THREADS``: a count, or 0 to leave the BLAS default alone). Returns the
    count set, or None when nothing was changed."""
    choice = os.environ.get("TINYGRAD_DNN_THREADS")
    if choice is not None:
        n = int(choice) if choice.strip().isdigit() else 0
        if n <= 0:
            return None
    elif any(os.environ.get(v) for v in _ENV_VARS):
        return None
    else:
        n = default_num_threads()
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:  # the limit needs threadpoolctl (installed with scikit-learn, the train/test extras)
        return None
    set_num_threads(n)
    return n
