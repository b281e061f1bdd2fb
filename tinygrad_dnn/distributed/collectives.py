"""Collectives on Tensors, in place, with ``torch.distributed``'s names and arguments.

Every rank calls the same collective in the same order. The result is written into the given
tensor(s) as an in-place op (version counter bumped, views and non-contiguous tensors written
through, 0-d tensors fine), outside autograd (as torch's c10d ops on ``.data``).

- ``all_reduce(t, op)``:      t <- op_r t_r                  (SUM, AVG, PRODUCT, MIN, MAX)
- ``broadcast(t, src)``:      t <- t_src
- ``all_gather(ts, t)``:      ts[r] <- t_r for every rank r
- ``reduce_scatter(o, ins)``: o <- op_r ins_r[rank]

Transport: backend "mpi" sends host arrays (``backend.to_host``; CUDA tensors are staged through the
host); backend "nccl" sends CUDA arrays with NCCL and refuses CPU tensors, as torch.
"""
from __future__ import annotations

from ..autograd import views as _views
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from . import _mpi
from .process_group import _S, ReduceOp, _check_group, _require, _Work

__all__ = ["all_gather", "all_reduce", "broadcast", "reduce_scatter"]


def _check(who, tensors, group):
    _check_group(who, group)
    _require(who)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: expected Tensors, got {type(t).__name__}")
    devs = sorted({str(t.device) for t in tensors})
    if len(devs) > 1:
        raise RuntimeError(f"{who}: all tensors must be on one device, got {', '.join(devs)}; move them with .to()")
    cuda = devs[0].startswith("cuda")
    if _S.backend == "nccl" and not cuda:
        raise RuntimeError(f"{who}: the NCCL backend only supports CUDA tensors, got a tensor on {devs[0]}; "
                           "move it with .cuda(), or use init_process_group(backend='mpi') for CPU tensors")
    return _S.backend == "nccl"


def _op(who, op):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{who}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")
    return op


def _host(t):
    """A contiguous host copy of ``t``'s values (this process may write into it)."""
    return t.backend.to_host(t._data).copy(order="C")


def _host_inplace(t):
    """``t``'s own memory when it is already a contiguous, writable host array (NumPy backend), else None:
    the collective then works in place, without the two copies."""
    arr = t._data
    host = t.backend.to_host(arr)
    if host is arr and getattr(host, "ndim", 0) > 0 and host.flags.c_contiguous and host.flags.writeable:
        return host
    return None


def _written(t):
    """Record that a collective wrote ``t``'s memory directly (an in-place op: version bumped)."""
    _views.bump(t)


def _device(t):
    """A contiguous 1-d device copy of ``t``'s values (for NCCL)."""
    return t.backend.xp.reshape(t.backend.copy_c(t._data), (-1,))


def _write(t, value, on_device):
    """t <- value (host or device array of t.numel() elements) as an in-place op (bumps t's version)."""
    arr = value if on_device else t.backend.from_host(value)
    src = Tensor._from_array(t.backend.xp.reshape(arr, tuple(t.shape)), t.backend)
    with no_grad():
        t.copy_(src)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """``tensor`` <- op over all ranks' ``tensor``, in place, on every rank."""
    op = _op("all_reduce", op)
    nccl = _check("all_reduce", [tensor], group)
    if nccl:
        buf = _device(tensor)
        _S.nccl.all_reduce_(buf, op)
    else:
        buf = _host_inplace(tensor)
        if buf is not None:
            _mpi.all_reduce_(buf, op)
            _written(tensor)
            return _Work() if async_op else None
        buf = _host(tensor)
        _mpi.all_reduce_(buf, op)
    _write(tensor, buf, nccl)
    return _Work() if async_op else None


def broadcast(tensor, src, group=None, async_op=False, group_src=None):
    """``tensor`` <- rank ``src``'s ``tensor``, on every rank."""
    nccl = _check("broadcast", [tensor], group)
    if not 0 <= int(src) < _S.size:
        raise ValueError(f"broadcast: src={src} is not a rank of this world of size {_S.size}")
    if nccl:
        buf = _device(tensor)
        _S.nccl.broadcast_(buf, int(src))
    else:
        buf = _host_inplace(tensor)
        if buf is not None:
            _mpi.broadcast_(buf, int(src))
            if _S.rank != int(src):
                _written(tensor)
            return _Work() if async_op else None
        buf = _host(tensor)
        _mpi.broadcast_(buf, int(src))
    if _S.rank != int(src):
        _write(tensor, buf, nccl)
    return _Work() if async_op else None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` <- rank r's ``tensor`` for every rank r (each entry of ``tensor``'s shape and dtype)."""
    who = "all_gather"
    nccl = _check(who, [tensor, *tensor_list], group)
    if len(tensor_list) != _S.size:
        raise ValueError(f"{who}: tensor_list has {len(tensor_list)} tensors, expected world size {_S.size}")
    for i, o in enumerate(tensor_list):
        if tuple(o.shape) != tuple(tensor.shape) or o.dtype != tensor.dtype:
            raise ValueError(f"{who}: tensor_list[{i}] is {tuple(o.shape)} {o.dtype}, expected the input's "
                             f"{tuple(tensor.shape)} {tensor.dtype}")
    recv = _S.nccl.all_gather(_device(tensor)) if nccl else _mpi.all_gather(_host(tensor))
    k = tensor.numel()
    for r, o in enumerate(tensor_list):
        _write(o, recv[r * k:(r + 1) * k], nccl)
    return _Work() if async_op else None


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` <- op over the ranks of their ``input_list[rank]`` (this rank's share of the reduction)."""
    who = "reduce_scatter"
    op = _op(who, op)
    nccl = _check(who, [output, *input_list], group)
    if len(input_list) != _S.size:
        raise ValueError(f"{who}: input_list has {len(input_list)} tensors, expected world size {_S.size}")
    for i, t in enumerate(input_list):
        if tuple(t.shape) != tuple(output.shape) or t.dtype != output.dtype:
            raise ValueError(f"{who}: input_list[{i}] is {tuple(t.shape)} {t.dtype}, expected the output's "
                             f"{tuple(output.shape)} {output.dtype}")
    if nccl:
        xp = output.backend.xp
        send = xp.concat([_device(t) for t in input_list])
        recv = _device(output)
        _S.nccl.reduce_scatter(send, recv, op)
    else:
        parts = [_host(t).reshape(-1) for t in input_list]
        k = output.numel()
        send = parts[0].repeat(_S.size)  # a host array of world_size * k elements; filled below
        for r, p in enumerate(parts):
            send[r * k:(r + 1) * k] = p
        recv = _host(output).reshape(-1)
        _mpi.reduce_scatter(send, recv, op)
    _write(output, recv, nccl)
    return _Work() if async_op else None
