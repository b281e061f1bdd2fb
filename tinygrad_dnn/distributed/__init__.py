"""Data-parallel training across processes: ``torch.distributed``'s core, over MPI (CPU) and NCCL (GPU).

Start N processes with an MPI launcher and join them::

    mpiexec -n 2 python train.py          # (pip install "tinygrad-dnn[distributed]" gives mpiexec)

    import tinygrad_dnn.distributed as dist
    dist.init_process_group("mpi")       # rank/world size from the launcher
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

``nn.parallel.DistributedDataParallel`` averages gradients with these collectives,
``data.DistributedSampler`` splits the data, ``nn.SyncBatchNorm`` shares batch statistics.
mpi4py is imported only by ``init_process_group``, so importing this package never needs it.
"""
from .collectives import all_gather, all_reduce, broadcast, reduce_scatter
from .process_group import (
                            INSTALL_HINT,
                            GroupMember,
                            ReduceOp,
                            all_gather_object,
                            barrier,
                            broadcast_object_list,
                            destroy_process_group,
                            get_backend,
                            get_rank,
                            get_world_size,
                            init_process_group,
                            is_available,
                            is_initialized,
                            is_mpi_available,
                            is_nccl_available,
)

__all__ = [
                            "INSTALL_HINT",
                            "GroupMember",
                            "ReduceOp",
                            "all_gather",
                            "all_gather_object",
                            "all_reduce",
                            "barrier",
                            "broadcast",
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
                            "reduce_scatter",
]
