"""SyncBatchNorm: batch normalization with the statistics of the global batch across processes.

In training mode with N > 1 processes, each process holds a slice x_r of the global batch. With
M = sum_r M_r values per channel (all-reduced),

    mean = (1/M) sum_r sum x_r,   var = (1/M) sum_r sum (x_r - mean)^2   (biased),
    y_r  = (x_r - mean) / sqrt(var + eps) * w + b,

which is BatchNorm applied to the concatenated batch. The two sums are all-reduced by a
differentiable all-reduce: its backward all-reduces the incoming gradient sums (each rank's sum
feeds every rank's output), so input, weight and bias gradients are those of BatchNorm over the
global batch too (weight/bias gradients stay per-rank partial sums, which DistributedDataParallel
then averages, as torch). Running statistics use the global mean and the unbiased global variance
var * M / (M - 1), so they are the same on every rank. In eval mode, or with one process, it is
BatchNorm. ``convert_sync_batchnorm`` swaps every BatchNorm*d of a model for one (sharing its
parameters and buffers).
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


def _all_reduce_sum_array(t):
    """The sum over ranks of Tensor ``t``'s values, as a new backend array (MPI via the host, or NCCL)."""
    from ..distributed import _mpi
    from ..distributed.process_group import ReduceOp, _S

    be = t.backend
    if _S.backend == "nccl":
        buf = be.xp.reshape(be.copy_c(t._data), (-1,))
        _S.nccl.all_reduce_(buf, ReduceOp.SUM)
        return be.xp.reshape(buf, tuple(t.shape))
    host = be.to_host(t._data).copy(order="C")
    _mpi.all_reduce_(host, ReduceOp.SUM)
    return be.from_host(host)


class AllReduceSum(Function):
    """y = sum_r x_r on every rank; dL/dx_r = sum_r' dL_r'/dy (the gradient all-reduced)."""

    @staticmethod
    def forward(ctx, x):
        return _all_reduce_sum_array(x)

    @staticmethod
    def backward(ctx, g):
        return AllReduceSum.apply(g)


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, *) with statistics over the global batch of all processes (see module doc)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        if process_group is not None:
            raise NotImplementedError("SyncBatchNorm: only the default process group is supported (process_group=None)")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype)
        self.process_group = None

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm({self.num_features}): input of shape {tuple(input.shape)} has "
                             f"{input.shape[1]} channels in dim 1, expected {self.num_features}")

    def forward(self, input):
        from .. import distributed as dist

        self._check_input_dim(input)
        if not self.training or not dist.is_initialized() or dist.get_world_size() == 1:
            return super().forward(input)
        from ..distributed.process_group import _S

        x = input
        c = x.shape[1]
        dims = (0,) + tuple(range(2, x.ndim))
        m = _S.comm.allreduce(x.numel() // c if c else 0)  # values per channel in the global batch
        if m <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when training, got {m} over "
                             f"all ranks (input of shape {tuple(x.shape)} on this rank)")
        shape = (1, c) + (1,) * (x.ndim - 2)
        mean = AllReduceSum.apply(x.sum(dim=dims)) / m
        xc = x - mean.reshape(shape)
        var = AllReduceSum.apply((xc * xc).sum(dim=dims)) / m
        y = xc * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        if self.track_running_stats and self.running_mean is not None:
            factor = 0.0 if self.momentum is None else self.momentum
            if self.num_batches_tracked is not None:
                nbt = self.num_batches_tracked
                nbt._data = nbt._data + 1
                if self.momentum is None:
                    factor = 1.0 / float(nbt.item())
            with no_grad():
                self.running_mean.mul_(1 - factor).add_(mean.detach().to(self.running_mean.dtype) * factor)
                self.running_var.mul_(1 - factor).add_(var.detach().to(self.running_var.dtype) * (factor * m / (m - 1)))
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d/3d replaced by a SyncBatchNorm sharing its parameters and buffers."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            out.running_mean, out.running_var = module.running_mean, module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
