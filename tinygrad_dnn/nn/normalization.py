"""Normalization layers: BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm1d/2d, as ``torch.nn``.

Parameter and buffer names are PyTorch's (``weight``, ``bias``, ``running_mean``, ``running_var``,
``num_batches_tracked``), so ``state_dict`` keys match.

BatchNorm in training mode normalizes with the batch mean and the biased batch variance and updates
the running statistics outside the autograd graph:

    running_mean <- (1 - m) running_mean + m mean_B,   running_var <- (1 - m) running_var + m var_B * M/(M-1)

with m = ``momentum`` (0.1), or m = 1 / num_batches_tracked when ``momentum=None`` (the cumulative
average of all batches seen). In eval mode (``model.eval()``) it uses the running statistics, so each
sample's output is independent of the rest of the batch. A training batch with a single value per
channel raises ``ValueError`` (its variance is undefined), as PyTorch.
"""
from __future__ import annotations

from ..autograd import creation as C
from ..autograd import dtype as _dt
from .functional import normalization as _F
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d"]


class _NormBase(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None):
        super().__init__()
        self.num_features = int(num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(C.ones(num_features, device=device, dtype=dtype))
            self.bias = Parameter(C.zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", C.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", C.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", C.tensor(0, dtype=_dt.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            xp = self.running_mean.backend.xp
            self.running_mean._data = xp.zeros_like(self.running_mean._data)
            self.running_var._data = xp.ones_like(self.running_var._data)
            self.num_batches_tracked._data = xp.zeros_like(self.num_batches_tracked._data)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            xp = self.weight.backend.xp
            self.weight._data = xp.ones_like(self.weight._data)
            self.bias._data = xp.zeros_like(self.bias._data)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _dims = ()

    def _check_input_dim(self, input):
        name = type(self).__name__
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}-D" for d in self._dims)
            raise ValueError(f"{name}: expected {want} input, got shape {tuple(input.shape)}"
                             + (" (use BatchNorm2d for (N, C, H, W) images)" if input.ndim == 4 else ""))
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): input of shape {tuple(input.shape)} has "
                             f"{input.shape[1]} channels in dim 1, expected {self.num_features}")

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            nbt = self.num_batches_tracked
            nbt._data = nbt._data + 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(nbt.item())
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return _F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                             self.weight, self.bias, use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L), statistics per channel over N (and L)."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W), statistics per channel over N, H, W."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W)."""

    _dims = (5,)


class _InstanceNorm(_NormBase):
    _nd = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        name = type(self).__name__
        nd = self._nd
        if input.ndim not in (nd + 1, nd + 2):
            raise ValueError(f"{name}: expected {nd + 1}-D (unbatched) or {nd + 2}-D input, got shape "
                             f"{tuple(input.shape)}")
        unbatched = input.ndim == nd + 1
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features and (self.affine or self.track_running_stats):
            raise ValueError(f"{name}({self.num_features}): input of shape {tuple(input.shape)} has "
                             f"{x.shape[1]} channels, expected {self.num_features}")
        y = _F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             self.training or not self.track_running_stats,
                             self.momentum if self.momentum is not None else 0.0, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) per sample and channel (affine and running stats off by default)."""

    _nd = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) per sample and channel (affine and running stats off by default)."""

    _nd = 2


class LayerNorm(Module):
    """Normalize over the last dims given by ``normalized_shape``, per sample (no running statistics, works
    at batch size 1); elementwise affine ``weight`` (ones) and ``bias`` (zeros) of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(C.ones(*self.normalized_shape, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(C.zeros(*self.normalized_shape, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return _F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Split the C channels into ``num_groups`` groups and normalize each over (its channels, space) per
    sample; per-channel affine ``weight``/``bias`` (C,)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = int(num_groups), int(num_channels), eps, affine
        if affine:
            self.weight = Parameter(C.ones(num_channels, device=device, dtype=dtype))
            self.bias = Parameter(C.zeros(num_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected input (N, "
                             f"{self.num_channels}, *), got shape {tuple(input.shape)}")
        return _F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
