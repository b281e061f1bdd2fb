"""Convolution layers: Conv1d, Conv2d (and Conv3d), as ``torch.nn``.

Weight (out_channels, in_channels / groups, *kernel_size), bias (out_channels,). Default init as
PyTorch: ``kaiming_uniform_(weight, a=sqrt(5))`` = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
fan_in = in_channels / groups * prod(kernel_size), and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Draws come from the host generator (``manual_seed``), so the same seed gives the same weights on
every device. The math is ``nn.functional.conv*d`` (im2col + one matmul per group).
"""
from __future__ import annotations

import math

from ..autograd import creation as C
from . import init
from .functional import conv as _F
from .functional.conv import _ntuple
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


def _reset_conv_parameters(m):
    """PyTorch's default init of a (transposed) convolution: kaiming-uniform weight (a = sqrt 5), bias
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * prod(kernel)."""
    init.kaiming_uniform_(m.weight, a=math.sqrt(5))
    if m.bias is not None:
        fan_in = m.weight.shape[1] * math.prod(m.kernel_size)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(m.bias, -bound, bound)


def _conv_repr(m, output_padding=None):
    """PyTorch's repr of a convolution module: the non-default options only."""
    s = f"{m.in_channels}, {m.out_channels}, kernel_size={m.kernel_size}, stride={m.stride}"
    if m.padding != (0,) * m._nd:
        s += f", padding={m.padding!r}"
    if m.dilation != (1,) * m._nd:
        s += f", dilation={m.dilation}"
    if output_padding is not None and output_padding != (0,) * m._nd:
        s += f", output_padding={output_padding}"
    if m.groups != 1:
        s += f", groups={m.groups}"
    if m.bias is None:
        s += ", bias=False"
    return s


class _ConvNd(Module):
    _nd = 2
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        nd = self._nd
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} must be divisible by groups={groups}")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels={out_channels} must be divisible by groups={groups}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r} is not supported; only 'zeros'")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = _ntuple(stride, nd, "stride", name)
        self.dilation = _ntuple(dilation, nd, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, expected 'valid' or 'same'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, nd, "padding", name)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.weight = Parameter(C.empty(out_channels, in_channels // groups, *self.kernel_size,
                                        device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(C.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_conv_parameters(self)

    def forward(self, input):
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        return _conv_repr(self)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) (or unbatched (C_in, L)) -> (N, C_out, L_out)."""

    _nd = 1
    _fn = staticmethod(_F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) (or unbatched (C_in, H, W)) -> (N, C_out, H_out, W_out).

    H_out = floor((H + 2 padding - dilation (k - 1) - 1) / stride) + 1; padding may be 'same'/'valid'.
    """

    _nd = 2
    _fn = staticmethod(_F.conv2d)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W)."""

    _nd = 3
    _fn = staticmethod(_F.conv3d)


class _ConvTransposeNd(Module):
    """Transposed convolution: weight (in_channels, out_channels / groups, *kernel_size), bias (out_channels,).

    Default init as PyTorch: ``kaiming_uniform_(weight, a=sqrt(5))`` (its fan_in is computed from the weight
    shape: out_channels / groups * prod(kernel_size)) and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    ``forward(input, output_size=None)``: ``output_size`` picks the output_padding that gives that size.
    """

    _nd = 2
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        nd = self._nd
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = _ntuple(stride, nd, "stride", name)
        self.padding = _ntuple(padding, nd, "padding", name)
        self.output_padding = _ntuple(output_padding, nd, "output_padding", name)
        self.dilation = _ntuple(dilation, nd, "dilation", name)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.transposed = True
        self.weight = Parameter(C.empty(in_channels, out_channels // groups, *self.kernel_size,
                                        device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(C.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_conv_parameters(self)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        nd = self._nd
        output_size = [int(v) for v in output_size]
        if len(output_size) in (nd + 1, nd + 2):
            output_size = output_size[-nd:]
        if len(output_size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.ndim}D input, output_size must have {nd} or "
                             f"{nd + 2} elements (got {len(output_size)})")
        out_pad = []
        for d in range(nd):
            lo = ((input.shape[input.ndim - nd + d] - 1) * self.stride[d] - 2 * self.padding[d]
                  + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            hi = lo + self.stride[d] - 1
            if not lo <= output_size[d] <= hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                                 f"{lo} to {hi} (for an input of {list(input.shape[-nd:])})")
            out_pad.append(output_size[d] - lo)
        return tuple(out_pad)

    def forward(self, input, output_size=None):
        out_pad = self._output_padding(input, output_size)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding, out_pad, self.groups,
                              self.dilation)

    def extra_repr(self):
        return _conv_repr(self, output_padding=self.output_padding)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L) (or (C_in, L)) -> (N, C_out, L_out)."""

    _nd = 1
    _fn = staticmethod(_F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) (or (C_in, H, W)) -> (N, C_out, H_out, W_out),
    H_out = (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1 (upsampling in decoders/GANs)."""

    _nd = 2
    _fn = staticmethod(_F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C_in, D, H, W)."""

    _nd = 3
    _fn = staticmethod(_F.conv_transpose3d)
