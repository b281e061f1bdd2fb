"""The MPI transport: collectives on contiguous host (NumPy) arrays through mpi4py's buffer interface.

The arrays come from the backend (``backend.to_host``), so this module only calls array methods on
them (``astype``, ``view``, ``reshape``) and never imports NumPy itself. MPI reduces the arithmetic
types natively; bool is reduced as uint8 (SUM = max = logical or, PRODUCT = min = logical and, as
torch) and float16 as float32 (MPI has no standard half type), the result cast back.
"""
from __future__ import annotations

from .process_group import _S, ReduceOp

_NO_BOOL_AVG = "ReduceOp.AVG is not supported on bool tensors (as torch): convert to an integer or float dtype"


def _mpi_op(op, dtype_name):
    MPI = _S.MPI
    if dtype_name == "bool":
        if op is ReduceOp.AVG:
            raise ValueError(_NO_BOOL_AVG)
        return MPI.MAX if op in (ReduceOp.SUM, ReduceOp.MAX) else MPI.MIN
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX}[op]


def _work(buf):
    """A buffer MPI can reduce: bool -> a uint8 view, float16 -> a float32 copy, else ``buf`` itself."""
    name = buf.dtype.name
    if name == "bool":
        return buf.reshape(-1).view("uint8")
    if name == "float16":
        return buf.reshape(-1).astype("float32")
    return buf.reshape(-1)


def _finish(buf, work, op, n):
    """Apply AVG's division by n, and copy ``work`` back into ``buf`` when it is a float32 copy."""
    if op is ReduceOp.AVG:
        if work.dtype.kind == "f":
            work /= n
        else:  # integers: truncated toward zero (NCCL's integer average)
            work[...] = work / n
    if buf.dtype.name == "float16":
        buf.reshape(-1)[...] = work


def all_reduce_(buf, op):
    """``buf`` (contiguous host array) <- op over the ranks' ``buf``, in place."""
    work = _work(buf)
    _S.comm.Allreduce(_S.MPI.IN_PLACE, work, op=_mpi_op(op, buf.dtype.name))
    _finish(buf, work, op, _S.size)


def iall_reduce_sum_(buf):
    """Start a non-blocking sum all-reduce of a contiguous float host array in place; returns the request."""
    return _S.comm.Iallreduce(_S.MPI.IN_PLACE, _work(buf), op=_S.MPI.SUM)


def broadcast_(buf, src):
    """``buf`` <- rank ``src``'s ``buf`` (any dtype: sent as bytes)."""
    _S.comm.Bcast(buf.reshape(-1).view("uint8"), root=src)


def all_gather(buf):
    """A (world_size * buf.size,) array: the ranks' ``buf`` one after the other (rank order)."""
    send = buf.reshape(-1)
    recv = send.repeat(_S.size)  # any array of world_size * size elements of buf's dtype; overwritten
    _S.comm.Allgather(send.view("uint8"), recv.view("uint8"))
    return recv


def reduce_scatter(send, recv, op):
    """``recv`` <- op over the ranks of their ``send[rank * k:(rank + 1) * k]`` (k = recv.size)."""
    w_send, w_recv = _work(send), _work(recv)
    _S.comm.Reduce_scatter_block(w_send, w_recv, op=_mpi_op(op, send.dtype.name))
    _finish(recv, w_recv, op, _S.size)
