"""The NCCL transport for CUDA tensors: ``cupy.cuda.nccl`` on contiguous CuPy arrays, on the current stream.

MPI is used only once, to hand rank 0's NCCL unique id to the other ranks. CuPy's NCCL module and
the current stream come from ``backend/nccl.py`` (the arrays from the CUDA backend). One GPU per process: the CUDA backend uses device 0, so give each rank its own GPU with
``CUDA_VISIBLE_DEVICES`` (``init_process_group(backend="nccl")`` sets it to the node-local rank when it
is unset and CuPy has not been loaded yet).

NCCL reduces float16/32/64, int8, uint8, int32, int64; bool goes as uint8 (SUM -> MAX, PRODUCT -> MIN),
int16 as int32.
"""
from __future__ import annotations

import os
import sys

from .process_group import ReduceOp


def pin_local_gpu(comm, MPI):
    """Before CuPy loads: one GPU per rank on a node, by node-local rank, unless the user chose already."""
    if "CUDA_VISIBLE_DEVICES" in os.environ or "cupy" in sys.modules:
        return
    local = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_rank()
    os.environ["CUDA_VISIBLE_DEVICES"] = str(local)


class NcclGroup:
    """An ``NcclCommunicator`` over all ranks (unique id from rank 0, sent over MPI)."""

    def __init__(self, comm, rank, size):
        from ..backend import nccl as _bindings

        try:
            cupy, nccl = _bindings.load()
        except Exception as e:  # noqa: BLE001  (ImportError, or CuPy failing to load CUDA/NCCL)
            raise RuntimeError(f"init_process_group(backend='nccl'): CuPy with NCCL is needed ({e}); install the "
                               "CUDA extra (pip install \"tinygrad-dnn[cuda12]\") or use backend='mpi'") from None
        self.cupy, self.nccl, self.size = cupy, nccl, size
        uid = comm.bcast(nccl.get_unique_id() if rank == 0 else None, root=0)
        self.comm = nccl.NcclCommunicator(size, uid, rank)
        self.types = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
                      "int8": nccl.NCCL_INT8, "uint8": nccl.NCCL_UINT8, "int32": nccl.NCCL_INT32,
                      "int64": nccl.NCCL_INT64}
        self.ops = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD, ReduceOp.MIN: nccl.NCCL_MIN,
                    ReduceOp.MAX: nccl.NCCL_MAX, ReduceOp.AVG: getattr(nccl, "NCCL_AVG", None)}

    def _stream(self):
        from ..backend.nccl import current_stream_ptr

        return current_stream_ptr(self.cupy)

    def _typed(self, arr, op):
        """(array NCCL can reduce, nccl type, nccl op, needs copy back)."""
        name = arr.dtype.name
        if name == "bool":
            if op is ReduceOp.AVG:
                raise ValueError("ReduceOp.AVG is not supported on bool tensors (as torch)")
            op = ReduceOp.MAX if op in (ReduceOp.SUM, ReduceOp.MAX) else ReduceOp.MIN
            return arr.view("uint8"), self.types["uint8"], self.ops[op], False
        if name == "int16":
            return arr.astype("int32"), self.types["int32"], self.ops[op], True
        return arr, self.types[name], self.ops[op], False

    def all_reduce_(self, arr, op):
        """``arr`` (contiguous, 1-d) <- op over the ranks, in place."""
        avg_by_hand = op is ReduceOp.AVG and self.ops[op] is None  # NCCL < 2.10 has no ncclAvg
        work, t, o, back = self._typed(arr, ReduceOp.SUM if avg_by_hand else op)
        self.comm.allReduce(work.data.ptr, work.data.ptr, work.size, t, o, self._stream())
        if avg_by_hand:
            work[...] = work / self.size
        if back:
            arr[...] = work

    def broadcast_(self, arr, src):
        b = arr.view("uint8")
        self.comm.bcast(b.data.ptr, b.size, self.types["uint8"], src, self._stream())

    def all_gather(self, arr):
        recv = self.cupy.empty(arr.size * self.size, dtype=arr.dtype)
        s, r = arr.view("uint8"), recv.view("uint8")
        self.comm.allGather(s.data.ptr, r.data.ptr, s.size, self.types["uint8"], self._stream())
        return recv

    def reduce_scatter(self, send, recv, op):
        avg_by_hand = op is ReduceOp.AVG and self.ops[op] is None
        ws, t, o, _ = self._typed(send, ReduceOp.SUM if avg_by_hand else op)
        wr, _, _, back = self._typed(recv, ReduceOp.SUM if avg_by_hand else op)
        self.comm.reduceScatter(ws.data.ptr, wr.data.ptr, wr.size, t, o, self._stream())
        if avg_by_hand:
            wr[...] = wr / self.size
        if back:
            recv[...] = wr
