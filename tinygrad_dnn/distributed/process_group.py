"""The process group: who am I (rank), how many are we (world size), and the communicator behind them.

``init_process_group`` takes rank and world size from the MPI launcher (``mpiexec -n N python ...``:
``MPI.COMM_WORLD``), as ``torch.distributed.init_process_group(backend="mpi")`` does. Backends:

- ``"mpi"``: every collective over MPI (mpi4py's buffer interface on host arrays); CPU tensors, and
  CUDA tensors staged through the host.
- ``"nccl"``: CUDA tensors over NCCL (``cupy.cuda.nccl``); MPI is used only to hand the NCCL unique
  id from rank 0 to the others (and for ``barrier`` and the object collectives).

Only the default (world) group exists: ``group=`` must be None. On a multi-rank job an uncaught
exception on any rank prints that rank's traceback and calls ``MPI.COMM_WORLD.Abort``, so the other
ranks end too instead of waiting forever in their next collective.
"""
from __future__ import annotations

import enum
import os
import sys
import traceback

__all__ = [
    "GroupMember",
    "ReduceOp",
    "all_gather_object",
    "barrier",
    "broadcast_object_list",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
]

INSTALL_HINT = 'pip install "tinygrad-dnn[distributed]"  (installs mpi4py and MPICH, which gives mpiexec)'


class ReduceOp(enum.Enum):
    """How ``all_reduce``/``reduce_scatter`` combine the ranks' values (``torch.distributed.ReduceOp``).

    AVG = SUM / world_size (floating point: true division; integers: truncated toward zero, as NCCL).
    On bool tensors SUM is logical or and PRODUCT logical and (as torch); AVG is refused.
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class GroupMember:
    WORLD = None  # the default group; the only one supported


class _State:
    backend = None  # "mpi" or "nccl" while initialized
    comm = None  # mpi4py communicator (COMM_WORLD)
    MPI = None  # the mpi4py.MPI module
    nccl = None  # _nccl.NcclGroup for backend "nccl"
    rank = 0
    size = 1
    prev_excepthook = None


_S = _State()


def _import_mpi(who):
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(f"{who}: the distributed package needs mpi4py and an MPI library, which are not "
                           f"installed ({e}). Install them with: {INSTALL_HINT}") from None
    return MPI


def is_available() -> bool:
    """True if ``tinygrad_dnn.distributed`` can be used here (mpi4py importable)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    return is_available()


def is_nccl_available() -> bool:
    """True if CuPy with its NCCL bindings is importable (a GPU is still needed to use it)."""
    from ..backend import nccl

    return nccl.available()


def is_initialized() -> bool:
    return _S.backend is not None


def _require(who):
    if _S.backend is None:
        raise RuntimeError(f"{who}: the default process group has not been initialized. Call "
                           "tinygrad_dnn.distributed.init_process_group(backend='mpi') first, in a program "
                           "started with `mpiexec -n N python prog.py` (or `tinygrad-dnn train --nproc N`).")


def _check_group(who, group):
    if group is not None:
        raise NotImplementedError(f"{who}: only the default group (group=None) is supported, got {group!r}")


def _excepthook(exc_type, exc, tb):
    """Print this rank's traceback, then abort every rank (so none waits forever in a collective)."""
    msg = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(f"[rank {_S.rank}/{_S.size}] uncaught {exc_type.__name__}: {exc}\n{msg}"
                     f"[rank {_S.rank}] aborting all {_S.size} ranks (MPI_Abort)\n")
    sys.stderr.flush()
    if sys.stdout is not None and not sys.stdout.closed:
        sys.stdout.flush()
    if _S.comm is not None:
        _S.comm.Abort(1)
    (_S.prev_excepthook or sys.__excepthook__)(exc_type, exc, tb)


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the job started by the MPI launcher: rank and world size come from ``MPI.COMM_WORLD``.

    ``backend``: "mpi" (default) or "nccl" (CUDA tensors; needs CuPy). ``world_size``/``rank``, if
    given, must equal the launcher's. ``init_method``, ``store`` and ``timeout`` are accepted for
    torch compatibility; MPI's launcher does the rendezvous, so they are not used.
    """
    who = "init_process_group"
    backend = "mpi" if backend is None else str(backend).lower()
    if backend not in ("mpi", "nccl"):
        raise ValueError(f"{who}: backend {backend!r} is not supported; use 'mpi' (CPU tensors, any MPI) or "
                         "'nccl' (CUDA tensors through CuPy)")
    if _S.backend is not None:
        raise RuntimeError(f"{who}: trying to initialize the default process group twice (it is already "
                           f"initialized with backend {_S.backend!r}); call destroy_process_group() first")
    MPI = _import_mpi(who)
    comm = MPI.COMM_WORLD
    r, n = comm.Get_rank(), comm.Get_size()
    if world_size not in (-1, None) and int(world_size) != n:
        raise ValueError(f"{who}: world_size={world_size} but the MPI launcher started {n} processes "
                         f"(mpiexec -n {n}); pass world_size=-1 to take it from the launcher")
    if rank not in (-1, None) and int(rank) != r:
        raise ValueError(f"{who}: rank={rank} but MPI says this process is rank {r}; pass rank=-1")
    nccl = None
    if backend == "nccl":
        from . import _nccl

        _nccl.pin_local_gpu(comm, MPI)
        nccl = _nccl.NcclGroup(comm, r, n)
    _S.backend, _S.comm, _S.MPI, _S.nccl, _S.rank, _S.size = backend, comm, MPI, nccl, r, n
    if n > 1 and os.environ.get("TINYGRAD_DNN_NO_ABORT_ON_ERROR") != "1":
        _S.prev_excepthook = sys.excepthook
        sys.excepthook = _excepthook


def destroy_process_group(group=None):
    """Leave the process group (MPI itself is finalized by mpi4py at interpreter exit)."""
    _check_group("destroy_process_group", group)
    _require("destroy_process_group")
    if sys.excepthook is _excepthook:
        sys.excepthook = _S.prev_excepthook or sys.__excepthook__
    _S.backend = _S.comm = _S.MPI = _S.nccl = _S.prev_excepthook = None
    _S.rank, _S.size = 0, 1


def get_rank(group=None) -> int:
    """This process's rank in 0 .. world_size - 1."""
    _check_group("get_rank", group)
    _require("get_rank")
    return _S.rank


def get_world_size(group=None) -> int:
    """The number of processes in the job."""
    _check_group("get_world_size", group)
    _require("get_world_size")
    return _S.size


def get_backend(group=None) -> str:
    _check_group("get_backend", group)
    _require("get_backend")
    return _S.backend


class _Work:
    """Returned for ``async_op=True``: the collectives here complete before returning."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has reached this call."""
    _check_group("barrier", group)
    _require("barrier")
    _S.comm.Barrier()
    return _Work() if async_op else None


def all_gather_object(object_list, obj, group=None):
    """``object_list[i]`` <- rank i's ``obj`` (pickled; any picklable object)."""
    _check_group("all_gather_object", group)
    _require("all_gather_object")
    if len(object_list) != _S.size:
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries, expected world size "
                         f"{_S.size}")
    object_list[:] = _S.comm.allgather(obj)


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Every rank's ``object_list`` <- rank ``src``'s (pickled)."""
    _check_group("broadcast_object_list", group)
    _require("broadcast_object_list")
    object_list[:] = _S.comm.bcast(list(object_list) if _S.rank == src else None, root=src)
